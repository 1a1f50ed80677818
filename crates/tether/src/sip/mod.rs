//! The SIP side of `tether serve`: binding the transports, building the call engine from the
//! configuration, and the task that drives it ([`driver`]) with its non-blocking [`sender`].
//! [`SipHandle`] is how the HTTP side asks the driver for metrics.
//!
//! Protocol decisions are the engine's (`tether-b2bua`) and the SIP stack's; this room only
//! wires sockets, clock and queues to them.

pub mod driver;
pub mod sender;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tether_b2bua::{Engine, EngineConfig};
use tether_sip::transport::{
    Inbound, TransportConfig, TransportError, TransportLayer, UdpReceive, UdpReceiver,
};
use tether_sip::{Peer, Transport};
use tether_store::Snapshot;
use tokio::sync::{mpsc, oneshot};

use crate::config;
use crate::metrics::MetricsSnapshot;
use driver::MetricsRequest;

/// Transports bound for the engine, and the address it names itself by.
pub struct Bound {
    pub transport: TransportLayer,
    pub inbound: mpsc::Receiver<Inbound>,
    /// The UDP sockets, read by the driver itself.
    pub udp: Option<UdpReceiver>,
    pub advertised: SocketAddr,
    /// The transports' UDP-to-TCP threshold, for the [`sender::Sender`].
    pub udp_tcp_threshold: Option<usize>,
}

/// Binds every configured SIP address (nothing is left running on failure).
pub async fn bind(cfg: &config::Sip) -> Result<Bound, SipError> {
    if cfg.listen_udp.is_empty() && cfg.listen_tcp.is_empty() {
        return Err(SipError::NoListener);
    }
    let tc = TransportConfig {
        udp: cfg.listen_udp.clone(),
        tcp: cfg.listen_tcp.clone(),
        // The driver reads datagrams in its own task: no hand-over between tasks per message.
        udp_receive: UdpReceive::Consumer,
        ..TransportConfig::default()
    };
    let udp_tcp_threshold = tc.udp_tcp_threshold;
    let (transport, inbound) = TransportLayer::bind(tc).await.map_err(SipError::Bind)?;
    let udp = transport.take_udp_receiver();
    let mut bound: Vec<SocketAddr> = Vec::new();
    for t in [Transport::Udp, Transport::Tcp] {
        bound.extend(
            transport
                .local_addrs()
                .iter()
                .filter(|p| p.transport == t)
                .map(|p| p.addr),
        );
    }
    let advertised = cfg.advertised_or(&bound).ok_or(SipError::NoListener)?;
    Ok(Bound {
        transport,
        inbound,
        udp,
        advertised,
        udp_tcp_threshold,
    })
}

/// The engine for `cfg`, naming itself `advertised`, with global call ids from `first_call_id`.
pub fn engine(
    cfg: &config::Sip,
    advertised: SocketAddr,
    snapshot: Arc<Snapshot>,
    first_call_id: u64,
    media: Option<tether_b2bua::MediaConfig>,
) -> Result<Engine, SipError> {
    let domain = cfg
        .domain
        .clone()
        .unwrap_or_else(|| advertised.ip().to_string());
    let mut ec = EngineConfig::new(Peer::new(Transport::Udp, advertised), domain);
    ec.max_calls = cfg.max_calls;
    ec.transactions.max_transactions = cfg.max_transactions;
    ec.first_call_id = first_call_id;
    ec.drain_retry_after = Duration::from_secs(cfg.drain_seconds.max(1));
    ec.media = media;
    // Digest nonces are stateless; a key of this process's own means nonces from before a
    // restart are stale (phones re-authenticate) and nobody can mint them.
    ec.nonce_secret = rand::random::<[u8; 32]>().to_vec();
    let now = Instant::now();
    let epoch_ms = tether_b2bua::cdr::epoch_ms(SystemTime::now());
    Engine::new(ec, snapshot, rand::random(), now, epoch_ms)
        .map_err(|e| SipError::Engine(e.to_string()))
}

/// How the HTTP side reaches the running driver.
#[derive(Clone, Debug)]
pub struct SipHandle {
    metrics: mpsc::Sender<MetricsRequest>,
    calls: mpsc::Sender<driver::CallsRequest>,
}

/// How long `/metrics` waits for the driver.
const METRICS_WAIT: Duration = Duration::from_secs(5);

impl SipHandle {
    /// A handle and the receiver the driver answers on.
    pub fn new() -> (
        SipHandle,
        mpsc::Receiver<MetricsRequest>,
        mpsc::Receiver<driver::CallsRequest>,
    ) {
        let (tx, rx) = mpsc::channel(16);
        let (calls_tx, calls_rx) = mpsc::channel(16);
        (
            SipHandle {
                metrics: tx,
                calls: calls_tx,
            },
            rx,
            calls_rx,
        )
    }

    /// Every call in progress, or None when the driver has stopped or does not answer in time.
    pub async fn calls(&self) -> Option<Vec<driver::CallView>> {
        let (tx, rx) = oneshot::channel();
        self.calls.send(tx).await.ok()?;
        tokio::time::timeout(METRICS_WAIT, rx).await.ok()?.ok()
    }

    /// The driver's numbers now, or None when it has stopped or does not answer in time.
    pub async fn metrics(&self) -> Option<MetricsSnapshot> {
        let (tx, rx) = oneshot::channel();
        self.metrics.send(tx).await.ok()?;
        tokio::time::timeout(METRICS_WAIT, rx).await.ok()?.ok()
    }
}

#[non_exhaustive]
#[derive(Debug)]
pub enum SipError {
    /// Neither UDP nor TCP listen addresses are configured.
    NoListener,
    Bind(TransportError),
    Engine(String),
}

impl std::fmt::Display for SipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SipError::NoListener => {
                f.write_str("[sip] listen_udp and listen_tcp are both empty: nothing to listen on")
            }
            SipError::Bind(e) => write!(f, "cannot start the SIP transports: {e}"),
            SipError::Engine(e) => write!(f, "cannot start the call engine: {e}"),
        }
    }
}

impl std::error::Error for SipError {}
