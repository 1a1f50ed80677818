//! Typed values of the session-shape lines: `c=` connection data, `o=` origin, `t=` timing and
//! `b=` bandwidth.
//!
//! These are plain values with a canonical `Display`; the exact received text stays in the
//! [`crate::Line`] they came from, so parsing here may be liberal about whitespace without losing
//! bytes. Nothing here knows about offer/answer.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::codec::parse_decimal;
use crate::error::{Malformed, Unsupported};

/// The address type of a `c=` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrType {
    /// `IP4`
    Ip4,
    /// `IP6`
    Ip6,
}

impl AddrType {
    /// As written in SDP.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ip4 => "IP4",
            Self::Ip6 => "IP6",
        }
    }

    /// The address type of an IP address.
    pub const fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self::Ip4,
            IpAddr::V6(_) => Self::Ip6,
        }
    }
}

/// Why a `c=` value could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionError {
    Malformed(Malformed),
    Unsupported(Unsupported),
}

/// `c=IN <IP4|IP6> <address>[/<ttl>][/<count>]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Connection {
    /// Address type.
    pub addr_type: AddrType,
    /// The address as written: an IP literal or (rarely) a host name.
    pub address: String,
    /// Multicast TTL / address count text after the first `/`, kept verbatim (`127/3`).
    pub suffix: Option<String>,
}

impl Connection {
    /// Connection data for a unicast IP address.
    pub fn new(ip: IpAddr) -> Connection {
        Connection {
            addr_type: AddrType::of(ip),
            address: ip.to_string(),
            suffix: None,
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Connection, ConnectionError> {
        let mut fields = value.split_ascii_whitespace();
        let (Some(net), Some(addr_type), Some(addr), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(ConnectionError::Malformed(Malformed::ConnectionFieldCount));
        };
        if net != "IN" {
            return Err(ConnectionError::Unsupported(Unsupported::NetworkType));
        }
        let addr_type = match addr_type {
            "IP4" => AddrType::Ip4,
            "IP6" => AddrType::Ip6,
            _ => return Err(ConnectionError::Unsupported(Unsupported::AddressType)),
        };
        let (address, suffix) = match addr.split_once('/') {
            Some((a, s)) => (a, Some(s.to_owned())),
            None => (addr, None),
        };
        Ok(Connection {
            addr_type,
            address: address.to_owned(),
            suffix,
        })
    }

    /// The address as an IP, when it is an IP literal of the declared type.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.addr_type {
            AddrType::Ip4 => self.address.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
            AddrType::Ip6 => self.address.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        }
    }

    /// Whether this is the RFC 2543 hold address `0.0.0.0` (RFC 3264 §8.4 still asks answerers to
    /// understand it).
    pub fn is_legacy_hold(&self) -> bool {
        self.addr_type == AddrType::Ip4 && self.ip() == Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IN {} {}", self.addr_type.as_str(), self.address)?;
        if let Some(s) = &self.suffix {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// User name (`-` when the host has no user ids).
    pub username: String,
    /// Session id: digits, kept as text because it is only ever compared.
    pub session_id: String,
    /// Session version; incremented on every changed description in the session (RFC 3264 §8).
    pub session_version: u64,
    /// Network type, normally `IN`.
    pub net_type: String,
    /// Address type, normally `IP4` or `IP6`.
    pub addr_type: String,
    /// Address of the originating host.
    pub address: String,
}

impl Origin {
    /// Tether's origin for a new session: user name `tether`, the given id, version 0.
    pub fn new(session_id: u64, address: IpAddr) -> Origin {
        Origin {
            username: "tether".to_owned(),
            session_id: session_id.to_string(),
            session_version: 0,
            net_type: "IN".to_owned(),
            addr_type: AddrType::of(address).as_str().to_owned(),
            address: address.to_string(),
        }
    }

    /// The same origin with the version incremented by one, for the next description we send in
    /// this session (RFC 3264 §8). Wraps instead of overflowing.
    pub fn next_version(&self) -> Origin {
        Origin {
            session_version: self.session_version.wrapping_add(1),
            ..self.clone()
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Origin, Malformed> {
        let mut f = value.split_ascii_whitespace();
        let (Some(user), Some(id), Some(version), Some(net), Some(at), Some(addr), None) = (
            f.next(),
            f.next(),
            f.next(),
            f.next(),
            f.next(),
            f.next(),
            f.next(),
        ) else {
            return Err(Malformed::OriginFieldCount);
        };
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Malformed::OriginSessionId);
        }
        let session_version = parse_decimal::<u64>(version).ok_or(Malformed::OriginVersion)?;
        Ok(Origin {
            username: user.to_owned(),
            session_id: id.to_owned(),
            session_version,
            net_type: net.to_owned(),
            addr_type: at.to_owned(),
            address: addr.to_owned(),
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

/// `t=<start> <stop>` (NTP seconds; `0 0` for an unbounded session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Timing {
    /// Start time.
    pub start: u64,
    /// Stop time.
    pub stop: u64,
}

impl Timing {
    pub(crate) fn parse(value: &str) -> Option<Timing> {
        let mut f = value.split_ascii_whitespace();
        let (Some(start), Some(stop), None) = (f.next(), f.next(), f.next()) else {
            return None;
        };
        Some(Timing {
            start: parse_decimal(start)?,
            stop: parse_decimal(stop)?,
        })
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.start, self.stop)
    }
}

/// `b=<bwtype>:<bandwidth>` (kbit/s for `AS`/`CT`, bit/s for `TIAS`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bandwidth {
    /// Bandwidth type (`AS`, `CT`, `TIAS`, ...).
    pub bw_type: String,
    /// The number.
    pub value: u64,
}

impl Bandwidth {
    pub(crate) fn parse(value: &str) -> Option<Bandwidth> {
        let (t, v) = value.split_once(':')?;
        if t.is_empty() {
            return None;
        }
        Some(Bandwidth {
            bw_type: t.to_owned(),
            value: parse_decimal(v.trim())?,
        })
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bw_type, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_parse() {
        let c = Connection::parse("IN IP4 192.0.2.10").expect("valid");
        assert_eq!(c.ip(), Some("192.0.2.10".parse().expect("ip")));
        assert_eq!(c.to_string(), "IN IP4 192.0.2.10");
        assert!(!c.is_legacy_hold());

        let c = Connection::parse("IN IP4 224.2.1.1/127/3").expect("valid");
        assert_eq!(c.suffix.as_deref(), Some("127/3"));
        assert_eq!(c.to_string(), "IN IP4 224.2.1.1/127/3");

        let c = Connection::parse("IN IP6 2001:db8::1").expect("valid");
        assert_eq!(c.ip(), Some("2001:db8::1".parse().expect("ip")));

        let c = Connection::parse("IN IP4 0.0.0.0").expect("valid");
        assert!(c.is_legacy_hold());

        let c = Connection::parse("IN IP4 media.example.com").expect("valid");
        assert_eq!(c.ip(), None);

        assert_eq!(
            Connection::parse("IN IP4"),
            Err(ConnectionError::Malformed(Malformed::ConnectionFieldCount))
        );
        assert_eq!(
            Connection::parse("ATM NSAP 47.0091"),
            Err(ConnectionError::Unsupported(Unsupported::NetworkType))
        );
        assert_eq!(
            Connection::parse("IN IPX 1.2.3.4"),
            Err(ConnectionError::Unsupported(Unsupported::AddressType))
        );
    }

    #[test]
    fn origin_parse_and_version() {
        let o = Origin::parse("- 3834 3834 IN IP4 10.0.0.1").expect("valid");
        assert_eq!(o.session_version, 3834);
        let n = o.next_version();
        assert_eq!(n.session_version, 3835);
        assert_eq!(n.session_id, "3834");
        assert_eq!(n.to_string(), "- 3834 3835 IN IP4 10.0.0.1");
        assert_eq!(
            Origin::parse("- 1 2 IN IP4"),
            Err(Malformed::OriginFieldCount)
        );
        assert_eq!(
            Origin::parse("- 1 x IN IP4 a"),
            Err(Malformed::OriginVersion)
        );
        assert_eq!(
            Origin::parse("- a 1 IN IP4 a"),
            Err(Malformed::OriginSessionId)
        );
        let max = Origin {
            session_version: u64::MAX,
            ..o
        };
        assert_eq!(max.next_version().session_version, 0);
        let ours = Origin::new(42, "192.0.2.1".parse().expect("ip"));
        assert_eq!(ours.to_string(), "tether 42 0 IN IP4 192.0.2.1");
    }

    #[test]
    fn timing_and_bandwidth() {
        assert_eq!(Timing::parse("0 0"), Some(Timing::default()));
        assert_eq!(Timing::parse("0"), None);
        assert_eq!(Timing::parse("a b"), None);
        let b = Bandwidth::parse("AS:64").expect("valid");
        assert_eq!(b.value, 64);
        assert_eq!(b.to_string(), "AS:64");
        assert_eq!(Bandwidth::parse("AS"), None);
        assert_eq!(Bandwidth::parse(":64"), None);
    }
}
