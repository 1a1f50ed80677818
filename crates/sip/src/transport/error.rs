//! Why a transport operation failed, typed so the transaction layer can tell a refused or reset
//! connection (RFC 3261 §17.1.4: a transport error) from a misconfiguration. No I/O here.

use super::received::RouteError;
use crate::peer::{Peer, Transport};
use std::fmt;
use std::io;
use std::net::SocketAddr;

#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// A listen address could not be bound.
    Bind { addr: SocketAddr, source: io::Error },
    /// The TLS server or client configuration is unusable (bad PEM, no key, no certificate).
    TlsConfig(String),
    /// Opening a TCP connection failed (refused, unreachable, ...).
    Connect { peer: Peer, source: io::Error },
    /// Opening a connection (TCP connect and TLS handshake) took longer than the limit.
    ConnectTimeout(Peer),
    /// The TLS handshake failed.
    TlsHandshake { peer: Peer, source: io::Error },
    /// Sending a datagram failed.
    Datagram { peer: Peer, source: io::Error },
    /// Writing to a connection failed or timed out; the connection is closed.
    Write(io::Error),
    /// The connection closed (reset, idle, shut down) before the message was written.
    ConnectionClosed,
    /// The connection's outbound queue is full (the peer is not reading).
    QueueFull,
    /// The maximum number of TCP/TLS connections is reached.
    ConnectionLimit,
    /// No socket of that transport (UDP) is bound, or the address family has none.
    NoSocket(Transport),
    /// A TLS connection was asked for but no TLS client configuration was given.
    NoTlsClient,
    /// The name given for TLS server name indication is not a valid DNS name.
    InvalidServerName(String),
    /// A host name in a Via could not be resolved.
    Resolve { host: String, source: io::Error },
    /// A response cannot be routed from its Via.
    Route(RouteError),
    /// The transport layer is shutting down.
    ShuttingDown,
}

impl TransportError {
    /// Whether the peer actively refused the connection (TCP reset to a SYN), the case where a
    /// request switched from UDP to TCP for its size goes back to UDP (RFC 3261 §18.1.1).
    pub fn is_connection_refused(&self) -> bool {
        matches!(self, TransportError::Connect { source, .. } if source.kind() == io::ErrorKind::ConnectionRefused)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Bind { addr, source } => write!(f, "cannot bind {addr}: {source}"),
            TransportError::TlsConfig(why) => write!(f, "TLS configuration: {why}"),
            TransportError::Connect { peer, source } => {
                write!(f, "cannot connect to {peer}: {source}")
            }
            TransportError::ConnectTimeout(peer) => write!(f, "connecting to {peer} timed out"),
            TransportError::TlsHandshake { peer, source } => {
                write!(f, "TLS handshake with {peer} failed: {source}")
            }
            TransportError::Datagram { peer, source } => {
                write!(f, "cannot send to {peer}: {source}")
            }
            TransportError::Write(e) => write!(f, "write failed: {e}"),
            TransportError::ConnectionClosed => f.write_str("connection closed"),
            TransportError::QueueFull => f.write_str("connection outbound queue full"),
            TransportError::ConnectionLimit => f.write_str("connection limit reached"),
            TransportError::NoSocket(t) => write!(f, "no {t} socket for this destination"),
            TransportError::NoTlsClient => f.write_str("no TLS client configuration"),
            TransportError::InvalidServerName(n) => write!(f, "invalid TLS server name {n:?}"),
            TransportError::Resolve { host, source } => {
                write!(f, "cannot resolve {host}: {source}")
            }
            TransportError::Route(e) => write!(f, "cannot route response: {e}"),
            TransportError::ShuttingDown => f.write_str("transport layer shutting down"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Bind { source, .. }
            | TransportError::Connect { source, .. }
            | TransportError::TlsHandshake { source, .. }
            | TransportError::Datagram { source, .. }
            | TransportError::Resolve { source, .. }
            | TransportError::Write(source) => Some(source),
            TransportError::Route(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RouteError> for TransportError {
    fn from(e: RouteError) -> Self {
        TransportError::Route(e)
    }
}
