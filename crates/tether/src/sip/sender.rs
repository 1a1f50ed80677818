//! Transmits what the engine hands out without ever making the engine's task wait on a peer.
//!
//! A UDP datagram goes out at once (one `send_to`, it cannot block): every response, and every
//! request that stays on UDP — no larger than the transport's UDP-to-TCP threshold — when
//! nothing is queued for its peer. Everything else — TCP and TLS, and UDP requests large enough
//! for the transport to move them to TCP — goes through a small task per peer with a bounded
//! queue: messages to one peer keep their order, a slow or unreachable peer delays only itself,
//! and a failed send is reported back so the engine can end the transactions towards that peer.
//! A peer's task ends after a while without traffic. [`Sender::close`] lets every queue empty
//! before the transports are shut.
//!
//! Sending a datagram directly, serialized here into one buffer kept for every message, spares
//! the common case a hand-over to another task (a wake-up, often on the other core) per
//! request, and an allocation per message.

use std::collections::HashMap;
use std::time::Duration;

use bytes::BytesMut;
use tether_sip::transport::TransportLayer;
use tether_sip::{Message, Peer, Transport};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// The direct-send buffer's first size; it grows to the largest message sent.
const SCRATCH: usize = 4096;
/// Messages waiting per peer.
const PEER_QUEUE: usize = 256;
/// A peer's task ends after this long without a message.
const PEER_IDLE: Duration = Duration::from_secs(30);
/// Past this many peers, the map is swept of tasks that ended.
const SWEEP_AT: usize = 1024;

pub struct Sender {
    transport: TransportLayer,
    queues: HashMap<Peer, mpsc::Sender<Message>>,
    failures: mpsc::Sender<Peer>,
    tasks: tokio::task::JoinSet<()>,
    /// The transport's UDP-to-TCP threshold (`TransportConfig::udp_tcp_threshold`): UDP
    /// requests up to this size are sent here; None: all of them.
    udp_tcp_threshold: Option<usize>,
    /// Where a datagram sent directly is written: one buffer for all of them, so sending
    /// allocates nothing per message.
    scratch: BytesMut,
}

impl Sender {
    /// Failed sends are reported on `failures`; `udp_tcp_threshold` is the one `transport`
    /// was configured with.
    pub fn new(
        transport: TransportLayer,
        failures: mpsc::Sender<Peer>,
        udp_tcp_threshold: Option<usize>,
    ) -> Sender {
        Sender {
            transport,
            queues: HashMap::new(),
            failures,
            tasks: tokio::task::JoinSet::new(),
            udp_tcp_threshold,
            scratch: BytesMut::with_capacity(SCRATCH),
        }
    }

    /// Lets every peer's task send what it has queued (for `limit` at most) and end.
    pub async fn close(mut self, limit: Duration) {
        self.queues.clear();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!(
                peers = self.tasks.len(),
                "SIP messages still queued after {limit:?}; dropped"
            );
            self.tasks.abort_all();
        }
    }

    /// Sends or queues `message` for `to`; `Err` when it can be neither (the caller reports a
    /// transport failure for `to` to the engine).
    pub async fn send(&mut self, to: Peer, message: Message) -> Result<(), String> {
        if to.transport == Transport::Udp {
            let queued = self
                .queues
                .get(&to)
                .is_some_and(|q| q.capacity() < q.max_capacity());
            let direct = !message.is_request() || !queued;
            if direct {
                self.scratch.clear();
                message.write_to(&mut self.scratch);
                let stays_udp = !message.is_request()
                    || self
                        .udp_tcp_threshold
                        .is_none_or(|limit| self.scratch.len() <= limit);
                if stays_udp {
                    return self
                        .transport
                        .send_datagram(&self.scratch, to)
                        .await
                        .map_err(|e| e.to_string());
                }
            }
        }
        let Some(queue) = self.queues.get(&to) else {
            return self.spawn(to).try_send_first(message);
        };
        match queue.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err(format!("{PEER_QUEUE} messages already waiting for {to}"))
            }
            // The peer's task ended (idle) just now: start another.
            Err(TrySendError::Closed(m)) => self.spawn(to).try_send_first(m),
        }
    }

    fn spawn(&mut self, to: Peer) -> Queue<'_> {
        if self.queues.len() >= SWEEP_AT {
            self.queues.retain(|_, q| !q.is_closed());
        }
        // Reap the tasks that ended (idle).
        while self.tasks.try_join_next().is_some() {}
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        self.tasks.spawn(peer_task(
            self.transport.clone(),
            to,
            rx,
            self.failures.clone(),
        ));
        Queue(self.queues.entry(to).insert_entry(tx).into_mut())
    }
}

/// A peer's fresh queue.
struct Queue<'a>(&'a mut mpsc::Sender<Message>);

impl Queue<'_> {
    fn try_send_first(self, message: Message) -> Result<(), String> {
        self.0
            .try_send(message)
            .map_err(|e| format!("cannot queue a message: {e}"))
    }
}

async fn peer_task(
    transport: TransportLayer,
    peer: Peer,
    mut rx: mpsc::Receiver<Message>,
    failures: mpsc::Sender<Peer>,
) {
    while let Ok(Some(message)) = tokio::time::timeout(PEER_IDLE, rx.recv()).await {
        if let Err(e) = transport.send(message, peer).await {
            tracing::debug!(%peer, error = %e, "SIP send failed");
            if failures.send(peer).await.is_err() {
                return;
            }
        }
    }
}
