//! Where a transaction sends: the transport kind and the socket address of the next hop.
//!
//! This room only names destinations; it opens no sockets and resolves no names. The transport
//! layer owns the connections a `Peer` stands for.

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport (RFC 3261 §18, RFC 7118 for WebSocket).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TransportKind {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl TransportKind {
    /// Whether the transport delivers reliably, so that the transaction layer does not
    /// retransmit and zeroes timers D, I, J and K (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        !matches!(self, TransportKind::Udp)
    }

    /// The transport token as written in a Via header.
    pub fn via_token(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            TransportKind::Tls => "TLS",
            TransportKind::Sctp => "SCTP",
            TransportKind::Ws => "WS",
            TransportKind::Wss => "WSS",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// The other end of a hop: a transport and a socket address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    pub transport: TransportKind,
    pub addr: SocketAddr,
}

impl Peer {
    pub fn new(transport: TransportKind, addr: SocketAddr) -> Peer {
        Peer { transport, addr }
    }
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer::new(TransportKind::Udp, addr)
    }
    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer::new(TransportKind::Tcp, addr)
    }
    pub fn is_reliable(&self) -> bool {
        self.transport.is_reliable()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport, self.addr)
    }
}
