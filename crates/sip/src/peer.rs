//! Who is at the other end: the transport protocol and the socket address, plus the identifier
//! of one stream connection. Plain data shared by the transaction and transport layers; it opens
//! no sockets and resolves no names.

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport protocol (RFC 3261 §18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// Whether the transport is reliable (no retransmissions, RFC 3261 §17.1.1.2).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Whether the transport is a stream (messages need framing).
    pub fn is_stream(self) -> bool {
        self.is_reliable()
    }

    /// The transport token written in a Via (`SIP/2.0/UDP`).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The lowercase `transport=` URI parameter value.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// The port used when none is given: 5060, or 5061 for TLS (RFC 3261 §19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tls => 5061,
            Transport::Udp | Transport::Tcp => 5060,
        }
    }

    /// The transport a Via token (or `transport=` parameter) names, case-insensitively.
    pub fn from_token(token: &str) -> Option<Transport> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|t| t.via_token().eq_ignore_ascii_case(token))
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// The far end of a message: transport and socket address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl Peer {
    pub fn new(transport: Transport, addr: SocketAddr) -> Peer {
        Peer { transport, addr }
    }
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer::new(Transport::Udp, addr)
    }
    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer::new(Transport::Tcp, addr)
    }
    pub fn tls(addr: SocketAddr) -> Peer {
        Peer::new(Transport::Tls, addr)
    }
    pub fn is_reliable(&self) -> bool {
        self.transport.is_reliable()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport.uri_param(), self.addr)
    }
}

/// Identifies one TCP or TLS connection for as long as the transport layer lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ports() {
        assert_eq!(Transport::from_token("tls"), Some(Transport::Tls));
        assert_eq!(Transport::from_token("SCTP"), None);
        assert_eq!(Transport::Tls.default_port(), 5061);
        assert!(!Transport::Udp.is_reliable());
        assert!(Transport::Tcp.is_reliable());
        let p = Peer::new(Transport::Tcp, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(p.to_string(), "tcp:127.0.0.1:5060");
    }
}
