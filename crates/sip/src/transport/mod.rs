//! The transport layer (RFC 3261 §18, RFC 3581, RFC 5626 keep-alives): UDP, TCP and TLS.
//!
//! The protocol logic is sans-IO and tested alone: [`framing`] cuts a byte stream into
//! messages, [`received`] stamps `received`/`rport` and routes responses. The rest is a thin
//! tokio driver: [`TransportLayer`] owns the sockets and tasks, delivers [`Inbound`] messages on
//! a bounded channel and sends with connection reuse. It knows nothing of transactions: it
//! neither retransmits nor matches responses to requests.

pub mod config;
mod connection;
pub mod error;
pub mod framing;
mod layer;
pub mod peer;
pub mod received;
mod table;
mod tcp;
mod tls;
mod udp;

pub use config::{TlsClient, TlsServer, TransportConfig};
pub use error::TransportError;
pub use framing::{Frame, FramingError, StreamFramer};
pub use layer::{Inbound, Outgoing, TransportLayer};
pub use peer::{ConnectionId, Peer, Transport};
pub use received::{response_route, stamp_received, Destination, ResponseRoute, RouteError};

#[cfg(test)]
mod tests;
