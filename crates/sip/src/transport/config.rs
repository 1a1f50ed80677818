//! The settings a [`super::TransportLayer`] is built from: what to listen on, TLS material,
//! and the bounds on sizes, queues, connections and time. Plain data with defaults; no I/O.

use crate::message::DEFAULT_MAX_MESSAGE;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the TLS server's certificate and key come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TlsServer {
    /// PEM files: the certificate chain (leaf first) and the private key.
    Pem { cert: PathBuf, key: PathBuf },
    /// A ready rustls configuration.
    Config(Arc<rustls::ServerConfig>),
}

/// How the TLS client verifies servers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TlsClient {
    /// Trust these roots (default verification, no client certificate).
    Roots(rustls::RootCertStore),
    /// A ready rustls configuration.
    Config(Arc<rustls::ClientConfig>),
}

/// Who reads the UDP sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UdpReceive {
    /// A task per socket reads, parses and delivers on the inbound channel.
    #[default]
    Tasks,
    /// The consumer reads them itself through the [`super::UdpReceiver`] it takes from
    /// [`super::TransportLayer::take_udp_receiver`], in its own task: a datagram reaches it
    /// without a hand-over between tasks (a queue, and often a wake-up on the other core).
    /// TCP and TLS still deliver on the inbound channel.
    Consumer,
}

#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// One UDP socket per address (port 0 picks an ephemeral port).
    pub udp: Vec<SocketAddr>,
    /// One TCP listener per address.
    pub tcp: Vec<SocketAddr>,
    /// One TLS listener per address; needs `tls_server`.
    pub tls: Vec<SocketAddr>,
    pub tls_server: Option<TlsServer>,
    /// Needed to open TLS connections.
    pub tls_client: Option<TlsClient>,
    /// Largest message accepted, header section included (default 64 KiB).
    pub max_message_size: usize,
    /// Most TCP and TLS connections open at once, inbound and outbound; past it new inbound
    /// connections are closed at once and new outbound ones fail.
    pub max_connections: usize,
    /// Messages waiting to be written, per connection.
    pub outbound_queue: usize,
    /// Messages delivered but not yet taken by the consumer.
    pub inbound_queue: usize,
    /// A connection with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// Limit on opening a connection (TCP connect, then TLS handshake each).
    pub connect_timeout: Duration,
    /// Limit on writing one message; a connection that cannot take it is closed.
    pub write_timeout: Duration,
    /// A UDP request larger than this goes over TCP (RFC 3261 §18.1.1: 1300 when the path MTU
    /// is unknown); `None` never switches.
    pub udp_tcp_threshold: Option<usize>,
    /// Who reads the UDP sockets.
    pub udp_receive: UdpReceive,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            udp: Vec::new(),
            tcp: Vec::new(),
            tls: Vec::new(),
            tls_server: None,
            tls_client: None,
            max_message_size: DEFAULT_MAX_MESSAGE,
            max_connections: 10_000,
            outbound_queue: 64,
            inbound_queue: 1024,
            idle_timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            udp_tcp_threshold: Some(1300),
            udp_receive: UdpReceive::Tasks,
        }
    }
}
