//! The transport layer (RFC 3261 §18, RFC 3581, RFC 5626 keep-alives): UDP, TCP and TLS.
//!
//! The protocol logic is sans-IO and tested alone: [`framing`] cuts a byte stream into
//! messages, [`received`] stamps `received`/`rport` and routes responses. The rest is a thin
//! tokio driver: [`TransportLayer`] owns the sockets and tasks, delivers [`Inbound`] messages on
//! a bounded channel and sends with connection reuse. It knows nothing of transactions: it
//! neither retransmits nor matches responses to requests.
//!
//! Driving it:
//!
//! ```no_run
//! use tether_sip::transport::{TransportConfig, TransportLayer};
//! use tether_sip::Message;
//!
//! # async fn run() -> Result<(), tether_sip::transport::TransportError> {
//! let config = TransportConfig {
//!     udp: vec!["0.0.0.0:5060".parse().unwrap()],
//!     tcp: vec!["0.0.0.0:5060".parse().unwrap()],
//!     ..TransportConfig::default()
//! };
//! let (transport, mut inbound) = TransportLayer::bind(config).await?;
//! while let Some(inb) = inbound.recv().await {
//!     if inb.message.is_request() {
//!         // `received`/`rport` are already in the top Via; answer where RFC 3261 §18.2.2 says.
//!         let ok = Message::response_to(&inb.message, 200, "OK", Some("tag1"));
//!         transport.send_response(&ok, inb.conn).await?;
//!     }
//! }
//! transport.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod batch;
pub mod config;
mod connection;
pub mod error;
pub mod framing;
mod layer;
pub mod received;
mod table;
mod tcp;
mod tls;
mod udp;

pub use crate::peer::{ConnectionId, Peer, Transport};
pub use batch::DatagramBatch;
pub use config::{TlsClient, TlsServer, TransportConfig, UdpReceive};
pub use error::TransportError;
pub use framing::{Frame, FramingError, StreamFramer};
pub use layer::{Inbound, Outgoing, TransportLayer};
pub use received::{response_route, stamp_received, Destination, ResponseRoute, RouteError};
pub use udp::UdpReceiver;

#[cfg(test)]
mod tests;
