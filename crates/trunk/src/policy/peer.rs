//! A trunk's peer as provisioned (`host:port`) and how a source address matches it: the inbound
//! access list.
//!
//! Matching is on the IP address; the port only ranks: a trunk whose peer names the exact
//! `IP:port` a message came from beats one whose peer names no port, which beats one whose peer
//! names another port (still a match: a stream connection comes from an ephemeral port). A peer
//! given by host name never matches: this room resolves no names (the binary may resolve them
//! and provision addresses).

use std::net::{IpAddr, SocketAddr};

/// A parsed `peer` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerSpec {
    /// An IP literal, with the port when one was given.
    Addr { ip: IpAddr, port: Option<u16> },
    /// A host name (never matched by address here).
    Name { host: String, port: Option<u16> },
}

/// How well a source address matches a peer, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeerMatch {
    /// Same IP; the peer names another port.
    IpOtherPort,
    /// Same IP; the peer names no port.
    Ip,
    /// Same IP and port.
    IpAndPort,
}

fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl PeerSpec {
    /// Reads `ip`, `ip:port`, `[v6]`, `[v6]:port`, `host` or `host:port`; a leading `sip:` /
    /// `sips:` and trailing `;params` are ignored. Never fails: what is not an IP literal is a
    /// name.
    pub fn parse(text: &str) -> PeerSpec {
        let t = text.trim();
        let t = t
            .strip_prefix("sips:")
            .or_else(|| t.strip_prefix("sip:"))
            .unwrap_or(t);
        let t = t.split(';').next().unwrap_or("");
        if let Ok(sa) = t.parse::<SocketAddr>() {
            return PeerSpec::Addr {
                ip: canonical(sa.ip()),
                port: Some(sa.port()),
            };
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return PeerSpec::Addr {
                ip: canonical(ip),
                port: None,
            };
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if let Ok(ip) = inner.parse::<IpAddr>() {
                return PeerSpec::Addr {
                    ip: canonical(ip),
                    port: None,
                };
            }
        }
        match t.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => match port.parse::<u16>() {
                Ok(p) => PeerSpec::Name {
                    host: host.to_ascii_lowercase(),
                    port: Some(p),
                },
                Err(_) => PeerSpec::Name {
                    host: t.to_ascii_lowercase(),
                    port: None,
                },
            },
            _ => PeerSpec::Name {
                host: t.to_ascii_lowercase(),
                port: None,
            },
        }
    }

    /// The IP address, for an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            PeerSpec::Addr { ip, .. } => Some(*ip),
            PeerSpec::Name { .. } => None,
        }
    }

    /// How `source` matches this peer, if it does.
    pub fn matches(&self, source: SocketAddr) -> Option<PeerMatch> {
        let PeerSpec::Addr { ip, port } = self else {
            return None;
        };
        if *ip != canonical(source.ip()) {
            return None;
        }
        Some(match port {
            Some(p) if *p == source.port() => PeerMatch::IpAndPort,
            Some(_) => PeerMatch::IpOtherPort,
            None => PeerMatch::Ip,
        })
    }
}
