//! The tokio driver's front: [`TransportLayer`] binds the configured sockets, starts one task
//! per listener and per connection, delivers inbound messages on a bounded channel, sends
//! messages (reusing connections, switching large UDP requests to TCP) and shuts everything
//! down. Every task holds a completion token; shutdown signals them and waits for the last
//! token to drop (mini-redis). Protocol decisions are made by `framing` and `received`.

use super::batch::{self, DatagramBatch};
use super::config::{TransportConfig, UdpReceive};
use super::received::{replace_top_via, response_route, Destination};
use super::table::{ConnTable, Outbound};
use super::{tcp, tls, udp, TransportError};
use crate::peer::{ConnectionId, Peer, Transport};
use crate::Message;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::debug;

/// A message received, with where it came from. Requests carry `received`/`rport` in their top
/// Via already; `conn` is the TCP/TLS connection it arrived on (answer on it).
#[derive(Clone, Debug)]
pub struct Inbound {
    pub message: Message,
    pub from: Peer,
    pub conn: Option<ConnectionId>,
}

/// What [`TransportLayer::send`] takes: a message, or bytes already serialized.
#[derive(Clone, Debug)]
pub enum Outgoing {
    Message(Box<Message>),
    Bytes(Bytes),
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Self {
        Outgoing::Message(Box::new(m))
    }
}

impl From<&Message> for Outgoing {
    fn from(m: &Message) -> Self {
        Outgoing::Message(Box::new(m.clone()))
    }
}

impl From<Bytes> for Outgoing {
    fn from(b: Bytes) -> Self {
        Outgoing::Bytes(b)
    }
}

impl Outgoing {
    fn to_bytes(&self) -> Bytes {
        match self {
            Outgoing::Message(m) => m.to_bytes(),
            Outgoing::Bytes(b) => b.clone(),
        }
    }
}

/// The limits the tasks read.
#[derive(Clone, Debug)]
pub(super) struct Settings {
    pub max_message_size: usize,
    pub outbound_queue: usize,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    pub udp_tcp_threshold: Option<usize>,
}

/// What a task needs to start: the inbound sender and a completion token.
struct Seed {
    inbound: mpsc::Sender<Inbound>,
    done: mpsc::Sender<()>,
}

/// State shared by the handle and the tasks.
pub(super) struct Shared {
    pub settings: Settings,
    pub conns: Arc<ConnTable>,
    udp: Mutex<Vec<(SocketAddr, Arc<UdpSocket>)>>,
    tls_connector: Option<TlsConnector>,
    shutdown: watch::Sender<bool>,
    seed: Mutex<Option<Seed>>,
}

/// What one task holds for its life. Dropping it gives back the task's completion token.
pub(super) struct TaskCtx {
    pub shared: Arc<Shared>,
    pub inbound: mpsc::Sender<Inbound>,
    pub shutdown: watch::Receiver<bool>,
    _done: mpsc::Sender<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// A context for a new task, or an error once shutdown has begun.
    pub fn task(self: &Arc<Self>) -> Result<TaskCtx, TransportError> {
        let seed = lock(&self.seed);
        let seed = seed.as_ref().ok_or(TransportError::ShuttingDown)?;
        Ok(TaskCtx {
            shared: self.clone(),
            inbound: seed.inbound.clone(),
            shutdown: self.shutdown.subscribe(),
            _done: seed.done.clone(),
        })
    }

    /// Signals every task to stop and refuses new ones.
    fn begin_shutdown(&self) {
        drop(lock(&self.seed).take());
        self.shutdown.send_replace(true);
        lock(&self.udp).clear();
    }
}

/// Resolves when shutdown is signalled.
pub(super) async fn signalled(rx: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens when everything is being dropped.
    let _ = rx.wait_for(|&s| s).await;
}

/// Signals shutdown when the last handle is dropped without [`TransportLayer::shutdown`].
struct Owner {
    shared: Arc<Shared>,
    done: Mutex<Option<mpsc::Receiver<()>>>,
    /// The UDP sockets for the consumer to read ([`UdpReceive::Consumer`]), until taken.
    udp_receiver: Mutex<Option<udp::UdpReceiver>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.begin_shutdown();
    }
}

/// The transport layer: cheap to clone, all clones drive the same sockets.
#[derive(Clone)]
pub struct TransportLayer {
    owner: Arc<Owner>,
    local: Arc<[Peer]>,
}

impl std::fmt::Debug for TransportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportLayer")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl TransportLayer {
    /// Binds every configured address, starts the listeners and returns the layer with the
    /// receiver of inbound messages. Must be called within a tokio runtime.
    pub async fn bind(
        config: TransportConfig,
    ) -> Result<(TransportLayer, mpsc::Receiver<Inbound>), TransportError> {
        let acceptor: Option<TlsAcceptor> = match (&config.tls_server, config.tls.is_empty()) {
            (_, true) => None,
            (Some(server), false) => Some(tls::acceptor(server)?),
            (None, false) => {
                return Err(TransportError::TlsConfig(
                    "TLS listener without a server certificate".into(),
                ))
            }
        };
        let connector = config.tls_client.as_ref().map(tls::connector).transpose()?;

        // Bind everything before starting any task, so a failure leaves nothing running.
        let mut local = Vec::new();
        let mut udp_sockets = Vec::new();
        for &addr in &config.udp {
            let s = UdpSocket::bind(addr)
                .await
                .map_err(|source| TransportError::Bind { addr, source })?;
            udp::grow_buffers(&s);
            let bound = s
                .local_addr()
                .map_err(|source| TransportError::Bind { addr, source })?;
            local.push(Peer::new(Transport::Udp, bound));
            udp_sockets.push((bound, Arc::new(s)));
        }
        let mut listeners = Vec::new();
        for (addrs, transport) in [(&config.tcp, Transport::Tcp), (&config.tls, Transport::Tls)] {
            for &addr in addrs {
                let l = TcpListener::bind(addr)
                    .await
                    .map_err(|source| TransportError::Bind { addr, source })?;
                let bound = l
                    .local_addr()
                    .map_err(|source| TransportError::Bind { addr, source })?;
                local.push(Peer::new(transport, bound));
                listeners.push((l, transport));
            }
        }

        let (inbound_tx, inbound_rx) = mpsc::channel(config.inbound_queue.max(1));
        let (done_tx, done_rx) = mpsc::channel(1);
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            settings: Settings {
                max_message_size: config.max_message_size,
                outbound_queue: config.outbound_queue,
                idle_timeout: config.idle_timeout,
                connect_timeout: config.connect_timeout,
                write_timeout: config.write_timeout,
                udp_tcp_threshold: config.udp_tcp_threshold,
            },
            conns: Arc::new(ConnTable::new(config.max_connections)),
            udp: Mutex::new(udp_sockets.clone()),
            tls_connector: connector,
            shutdown,
            seed: Mutex::new(Some(Seed {
                inbound: inbound_tx,
                done: done_tx,
            })),
        });
        let receiver = match config.udp_receive {
            UdpReceive::Consumer => Some(udp::UdpReceiver::new(
                udp_sockets.iter().map(|(_, s)| Arc::clone(s)).collect(),
                config.max_message_size,
            )),
            _ => {
                for (_, socket) in udp_sockets {
                    tokio::spawn(udp::recv_loop(shared.task()?, socket));
                }
                None
            }
        };
        for (listener, transport) in listeners {
            let acc = if transport == Transport::Tls {
                acceptor.clone()
            } else {
                None
            };
            tokio::spawn(tcp::accept_loop(shared.task()?, listener, acc));
        }
        let owner = Arc::new(Owner {
            shared,
            done: Mutex::new(Some(done_rx)),
            udp_receiver: Mutex::new(receiver),
        });
        Ok((
            TransportLayer {
                owner,
                local: local.into(),
            },
            inbound_rx,
        ))
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.owner.shared
    }

    /// The UDP sockets to read, for a layer bound with [`UdpReceive::Consumer`]; `None` for
    /// one whose tasks read them, or once taken.
    pub fn take_udp_receiver(&self) -> Option<udp::UdpReceiver> {
        lock(&self.owner.udp_receiver).take()
    }

    /// Every bound address (with the ports actually chosen).
    pub fn local_addrs(&self) -> &[Peer] {
        &self.local
    }

    /// The first bound address of a transport.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.local
            .iter()
            .find(|p| p.transport == transport)
            .map(|p| p.addr)
    }

    /// How many TCP and TLS connections are open.
    pub fn connection_count(&self) -> usize {
        self.shared().conns.len()
    }

    /// The peer of an open connection.
    pub fn connection_peer(&self, conn: ConnectionId) -> Option<Peer> {
        self.shared().conns.peer_of(conn)
    }

    /// Sends to a peer: over UDP from a bound socket (a request larger than the threshold goes
    /// over TCP instead, its top Via rewritten, back to UDP if the connection is refused —
    /// RFC 3261 §18.1.1), over TCP/TLS on an open connection to that peer or a new one.
    /// Returns once the message is written, or the error that stopped it.
    pub async fn send(&self, out: impl Into<Outgoing>, to: Peer) -> Result<(), TransportError> {
        self.send_named(out, to, None).await
    }

    /// As [`send`](Self::send), with the host name a new TLS connection is opened for (SNI and
    /// certificate check); without it, the certificate must name the IP address.
    pub async fn send_named(
        &self,
        out: impl Into<Outgoing>,
        to: Peer,
        server_name: Option<&str>,
    ) -> Result<(), TransportError> {
        let out = out.into();
        let bytes = out.to_bytes();
        if to.transport != Transport::Udp {
            return self.send_stream(bytes, to, server_name).await;
        }
        if let (Some(limit), Outgoing::Message(m)) =
            (self.shared().settings.udp_tcp_threshold, &out)
        {
            if m.is_request() && bytes.len() > limit {
                if let Some(over_tcp) = with_via_transport(m, Transport::Tcp) {
                    let tcp_peer = Peer::new(Transport::Tcp, to.addr);
                    match self
                        .send_stream(over_tcp.to_bytes(), tcp_peer, server_name)
                        .await
                    {
                        Ok(()) => return Ok(()),
                        Err(e) if e.is_connection_refused() => {
                            debug!(peer = %to, "TCP refused for a large request; sending over UDP");
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.send_udp(&bytes, to).await
    }

    /// Sends on one TCP/TLS connection (the one a request arrived on).
    pub async fn send_on(
        &self,
        conn: ConnectionId,
        out: impl Into<Outgoing>,
    ) -> Result<(), TransportError> {
        let tx = self
            .shared()
            .conns
            .by_id(conn)
            .ok_or(TransportError::ConnectionClosed)?;
        enqueue(&tx, out.into().to_bytes()).await
    }

    /// Sends a response where RFC 3261 §18.2.2 and RFC 3581 §4 say: on the request's
    /// connection while it is open, else to the address its top Via names.
    pub async fn send_response(
        &self,
        response: &Message,
        request_conn: Option<ConnectionId>,
    ) -> Result<(), TransportError> {
        let route = response_route(response, request_conn)?;
        let bytes = response.to_bytes();
        if let Some(conn) = route.connection {
            match self.send_on(conn, bytes.clone()).await {
                Err(TransportError::ConnectionClosed) => {
                    debug!(%conn, "request connection gone; routing by Via")
                }
                other => return other,
            }
        }
        let (peer, name) = match route.destination {
            Destination::Addr(peer) => (peer, None),
            Destination::Host {
                transport,
                host,
                port,
            } => {
                let addr = tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|source| TransportError::Resolve {
                        host: host.clone(),
                        source,
                    })?
                    .next()
                    .ok_or_else(|| TransportError::Resolve {
                        host: host.clone(),
                        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
                    })?;
                (Peer::new(transport, addr), Some(host))
            }
        };
        self.send_named(bytes, peer, name.as_deref()).await
    }

    /// Sends every datagram of `batch` over UDP, each to its peer's address, from the socket
    /// [`send`](Self::send) would use: a run of datagrams leaving from one socket goes in one
    /// `sendmmsg` where the kernel has it. Returns each datagram that could not be sent (its
    /// destination and why), in order; the batch is left empty.
    pub async fn send_batch(&self, batch: &mut DatagramBatch) -> Vec<(Peer, TransportError)> {
        let mut failures = Vec::new();
        if batch.is_empty() {
            return failures;
        }
        let sockets = lock(&self.shared().udp).clone();
        let items: Vec<(&[u8], Peer)> = batch.iter().collect();
        let mut start = 0;
        while let Some(&(_, first)) = items.get(start) {
            let socket = udp::pick(&sockets, first.addr);
            // The run: the datagrams from here that leave from the same socket.
            let mut end = start + 1;
            while let Some(&(_, to)) = items.get(end) {
                let same = match (&socket, udp::pick(&sockets, to.addr)) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, &b),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    break;
                }
                end += 1;
            }
            let run = items.get(start..end).unwrap_or_default();
            match &socket {
                None => failures.extend(
                    run.iter()
                        .map(|(_, to)| (*to, TransportError::NoSocket(Transport::Udp))),
                ),
                Some(socket) => {
                    batch::send_run(socket, run, &mut |i, source| {
                        if let Some((_, peer)) = run.get(i) {
                            failures.push((
                                *peer,
                                TransportError::Datagram {
                                    peer: *peer,
                                    source,
                                },
                            ));
                        }
                    })
                    .await;
                }
            }
            start = end;
        }
        drop(items);
        batch.clear();
        failures
    }

    async fn send_udp(&self, bytes: &[u8], to: Peer) -> Result<(), TransportError> {
        let socket = {
            let sockets = lock(&self.shared().udp);
            udp::pick(&sockets, to.addr)
        };
        let socket = socket.ok_or(TransportError::NoSocket(Transport::Udp))?;
        socket
            .send_to(bytes, to.addr)
            .await
            .map_err(|source| TransportError::Datagram { peer: to, source })?;
        Ok(())
    }

    async fn send_stream(
        &self,
        bytes: Bytes,
        to: Peer,
        server_name: Option<&str>,
    ) -> Result<(), TransportError> {
        if let Some(tx) = self.shared().conns.by_peer(&to) {
            match enqueue(&tx, bytes.clone()).await {
                // The connection closed before taking the message: open a new one.
                Err(TransportError::ConnectionClosed) if tx.is_closed() => {}
                other => return other,
            }
        }
        let ctx = self.shared().task()?;
        let tx = tcp::connect(ctx, to, self.shared().tls_connector.as_ref(), server_name).await?;
        enqueue(&tx, bytes).await
    }

    /// Stops accepting, closes the listeners and sockets, lets every connection write what it
    /// has queued and close, and returns when every task has ended. The inbound receiver then
    /// yields `None`. A second call returns at once.
    pub async fn shutdown(&self) {
        self.shared().begin_shutdown();
        let done = lock(&self.owner.done).take();
        if let Some(mut done) = done {
            // Nothing is ever sent: `None` means the last task dropped its token.
            while done.recv().await.is_some() {}
        }
    }
}

/// Queues bytes on a connection and waits for the write's outcome.
async fn enqueue(tx: &mpsc::Sender<Outbound>, bytes: Bytes) -> Result<(), TransportError> {
    let (done, result) = oneshot::channel();
    tx.try_send(Outbound {
        bytes,
        done: Some(done),
    })
    .map_err(|e| match e {
        TrySendError::Full(_) => TransportError::QueueFull,
        TrySendError::Closed(_) => TransportError::ConnectionClosed,
    })?;
    result
        .await
        .unwrap_or(Err(TransportError::ConnectionClosed))
}

/// A copy of a request with its top Via's transport changed.
fn with_via_transport(m: &Message, transport: Transport) -> Option<Message> {
    let mut via = m.top_via()?.clone();
    via.transport = transport.via_token().into();
    let mut copy = m.clone();
    replace_top_via(&mut copy, &via).ok()?;
    Some(copy)
}
