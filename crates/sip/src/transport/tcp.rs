//! TCP and TLS: one accept loop per listener, and opening outbound connections. Each connection,
//! accepted or opened, is registered in the connection table (which enforces the connection
//! limit: an accepted connection past it is closed at once) and handed to its own task.

use super::connection;
use super::layer::{signalled, TaskCtx};
use super::table::Outbound;
use super::tls;
use super::TransportError;
use crate::peer::{Peer, Transport};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, warn};

/// Pause after an accept error (such as running out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections until shutdown. `acceptor` is set for a TLS listener.
pub(super) async fn accept_loop(
    ctx: TaskCtx,
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
) {
    let transport = if acceptor.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = signalled(&mut shutdown) => break,
            r = listener.accept() => r,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::select! {
                    _ = signalled(&mut shutdown) => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let peer = Peer::new(transport, addr);
        let (tx, rx) = mpsc::channel(ctx.shared.settings.outbound_queue.max(1));
        let reg = match ctx.shared.conns.register(peer, tx) {
            Ok(reg) => reg,
            Err(_) => {
                debug!(%peer, "connection limit reached; refusing");
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(task) = ctx.shared.task() else { break };
        debug!(%peer, conn = %reg.id, "accepted");
        match acceptor.clone() {
            None => {
                tokio::spawn(connection::run(task, reg, stream, rx));
            }
            Some(acceptor) => {
                let limit = ctx.shared.settings.connect_timeout;
                tokio::spawn(async move {
                    let mut shutdown = task.shutdown.clone();
                    let handshake = tokio::select! {
                        _ = signalled(&mut shutdown) => return,
                        r = timeout(limit, acceptor.accept(stream)) => r,
                    };
                    match handshake {
                        Ok(Ok(tls)) => connection::run(task, reg, tls, rx).await,
                        Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// Opens a connection to `peer` (TCP, or TLS with `server_name` for SNI and certificate
/// checking) and starts its task; returns the sender into its outbound queue.
pub(super) async fn connect(
    ctx: TaskCtx,
    peer: Peer,
    connector: Option<&TlsConnector>,
    server_name: Option<&str>,
) -> Result<mpsc::Sender<Outbound>, TransportError> {
    let settings = ctx.shared.settings.clone();
    if ctx.shared.conns.is_full() {
        return Err(TransportError::ConnectionLimit);
    }
    // Check what TLS needs before opening anything.
    let tls = match peer.transport {
        Transport::Udp => return Err(TransportError::NoSocket(Transport::Udp)),
        Transport::Tcp => None,
        Transport::Tls => {
            let connector = connector.ok_or(TransportError::NoTlsClient)?;
            Some((connector, tls::server_name(server_name, peer.addr)?))
        }
    };
    let open = async {
        let tcp = match timeout(settings.connect_timeout, TcpStream::connect(peer.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(TransportError::Connect { peer, source }),
            Err(_) => return Err(TransportError::ConnectTimeout(peer)),
        };
        let _ = tcp.set_nodelay(true);
        let Some((connector, name)) = tls else {
            return Ok(Stream::Tcp(tcp));
        };
        match timeout(settings.connect_timeout, connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Ok(Stream::Tls(Box::new(s))),
            Ok(Err(source)) => Err(TransportError::TlsHandshake { peer, source }),
            Err(_) => Err(TransportError::ConnectTimeout(peer)),
        }
    };
    let mut shutdown = ctx.shutdown.clone();
    let stream = tokio::select! {
        _ = signalled(&mut shutdown) => return Err(TransportError::ShuttingDown),
        r = open => r?,
    };
    let (tx, rx) = mpsc::channel(settings.outbound_queue.max(1));
    let reg = ctx
        .shared
        .conns
        .register(peer, tx.clone())
        .map_err(|_| TransportError::ConnectionLimit)?;
    debug!(%peer, conn = %reg.id, "connected");
    match stream {
        Stream::Tcp(s) => tokio::spawn(connection::run(ctx, reg, s, rx)),
        Stream::Tls(s) => tokio::spawn(connection::run(ctx, reg, *s, rx)),
    };
    Ok(tx)
}

/// A freshly opened outbound stream.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}
