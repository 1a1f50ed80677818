//! Transmits what the engine hands out without ever making the engine's task wait on a peer.
//!
//! A UDP datagram goes out from here: every response, and every request that stays on UDP —
//! no larger than the transport's UDP-to-TCP threshold — when nothing is queued for its peer.
//! Those of one flush of the engine's outputs are gathered and sent together at its end
//! ([`Sender::send_batch`]: one `sendmmsg` where the kernel has it, so the peers they wake
//! can take the core once, not after each datagram). Everything else — TCP and TLS, and UDP requests large enough
//! for the transport to move them to TCP — goes through a small task per peer with a bounded
//! queue: messages to one peer keep their order, a slow or unreachable peer delays only itself,
//! and a failed send is reported back so the engine can end the transactions towards that peer.
//! A peer's task ends after a while without traffic. [`Sender::close`] lets every queue empty
//! before the transports are shut.
//!
//! Sending a datagram from here, serialized into one buffer kept for every message, spares the
//! common case a hand-over to another task (a wake-up, often on the other core) per request,
//! and an allocation per message.

use std::collections::HashMap;
use std::time::Duration;

use tether_sip::transport::{DatagramBatch, TransportLayer};
use tether_sip::{Message, Peer, Transport};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

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
    /// The datagrams sent directly since the last [`Sender::send_batch`], back to back in one
    /// buffer: gathering allocates nothing per message, and they leave together.
    batch: DatagramBatch,
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
            batch: DatagramBatch::new(),
        }
    }

    /// Sends what is gathered, lets every peer's task send what it has queued (for `limit` at
    /// most) and end.
    pub async fn close(mut self, limit: Duration) {
        let unsent = self.send_batch().await;
        if !unsent.is_empty() {
            tracing::debug!(
                datagrams = unsent.len(),
                "SIP datagrams not sent on closing"
            );
        }
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

    /// Sends what [`Sender::send`] gathered for sending directly, in order (one system call
    /// per socket where the kernel allows); returns the peers whose datagram could not be
    /// sent (the caller reports a transport failure for each to the engine).
    pub async fn send_batch(&mut self) -> Vec<Peer> {
        let failed = self.transport.send_batch(&mut self.batch).await;
        failed
            .into_iter()
            .map(|(peer, e)| {
                tracing::debug!(%peer, error = %e, "SIP send failed");
                peer
            })
            .collect()
    }

    /// Gathers `message` for `to` (a datagram sent with the others by
    /// [`Sender::send_batch`]) or queues it; `Err` when it can be neither (the caller reports
    /// a transport failure for `to` to the engine).
    pub async fn send(&mut self, to: Peer, message: Message) -> Result<(), String> {
        if to.transport == Transport::Udp {
            let queued = self
                .queues
                .get(&to)
                .is_some_and(|q| q.capacity() < q.max_capacity());
            let direct = !message.is_request() || !queued;
            if direct {
                let len = self.batch.push_with(to, |b| message.write_to(b));
                let stays_udp = !message.is_request()
                    || self.udp_tcp_threshold.is_none_or(|limit| len <= limit);
                if stays_udp {
                    return Ok(());
                }
                self.batch.pop();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use tether_sip::transport::TransportConfig;
    use tokio::net::UdpSocket;

    fn response(call_id: &str) -> Message {
        let text = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK{call_id}\r\n\
             From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>;tag=t\r\nCall-ID: {call_id}\r\n\
             CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(text.into_bytes()).expect("parses")
    }

    /// What `send` gathers leaves only with `send_batch`, in order, each datagram to its peer;
    /// a peer no socket reaches is handed back as failed, and the others still go.
    #[tokio::test]
    async fn datagrams_leave_together_and_failures_come_back() {
        let (transport, _inbound) = TransportLayer::bind(TransportConfig {
            udp: vec!["127.0.0.1:0".parse().expect("addr")],
            ..TransportConfig::default()
        })
        .await
        .expect("binds");
        let (failures, _rx) = mpsc::channel(4);
        let mut sender = Sender::new(transport.clone(), failures, None);
        let a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let peer = |s: &UdpSocket| Peer::new(Transport::Udp, s.local_addr().expect("addr"));
        let v6: SocketAddr = "[::1]:5060".parse().expect("addr");
        let unreachable = Peer::new(Transport::Udp, v6);
        for (to, id) in [
            (peer(&a), "c1"),
            (unreachable, "c2"),
            (peer(&b), "c3"),
            (peer(&a), "c4"),
        ] {
            sender.send(to, response(id)).await.expect("gathered");
        }
        let mut buf = vec![0u8; 4096];
        assert!(
            a.try_recv_from(&mut buf).is_err(),
            "nothing left before the flush"
        );
        assert_eq!(sender.send_batch().await, vec![unreachable]);
        for (socket, ids) in [(&a, &["c1", "c4"][..]), (&b, &["c3"][..])] {
            for id in ids {
                let (n, _) =
                    tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
                        .await
                        .expect("in time")
                        .expect("received");
                let got = Message::parse(buf[..n].to_vec()).expect("parses");
                assert_eq!(got.call_id(), Some(*id));
                assert_eq!(&buf[..n], &response(id).to_bytes()[..]);
            }
        }
        assert!(
            sender.send_batch().await.is_empty(),
            "the batch was emptied"
        );
        // Closing sends what is still gathered.
        sender
            .send(peer(&b), response("c5"))
            .await
            .expect("gathered");
        sender.close(Duration::from_secs(1)).await;
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), b.recv_from(&mut buf))
            .await
            .expect("in time")
            .expect("received");
        assert_eq!(&buf[..n], &response("c5").to_bytes()[..]);
        transport.shutdown().await;
    }
}
