//! UDP: one receive loop per socket, and sending datagrams (RFC 3261 §18.1.1, §18.2.1).
//! A datagram that does not parse is answered with the error response for it when it is a
//! request (to the packet's source) and dropped when it is a response; bare CRLF keep-alives
//! are ignored. Parsing and stamping are the message layer's and `received`'s work.

use super::layer::{signalled, Inbound, TaskCtx};
use super::received::stamp_received;
use crate::message::{error_response_for_raw, ParseOptions};
use crate::peer::{Peer, Transport};
use crate::Message;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;
use tracing::{debug, trace};

/// Receives datagrams until shutdown.
pub(super) async fn recv_loop(ctx: TaskCtx, socket: Arc<UdpSocket>) {
    let max = ctx.shared.settings.max_message_size;
    let opts = ParseOptions {
        max_size: max,
        stream: false,
    };
    // One byte more than the limit, so an oversize datagram is seen as such, not cut.
    let mut buf = vec![0u8; max.saturating_add(1).min(65_536)];
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let received = tokio::select! {
            _ = signalled(&mut shutdown) => break,
            r = socket.recv_from(&mut buf) => r,
        };
        let (n, src) = match received {
            Ok(x) => x,
            Err(e) => {
                // ICMP errors for earlier sends surface here on some systems; keep going.
                debug!(error = %e, "UDP receive error");
                continue;
            }
        };
        let Some(data) = buf.get(..n) else { continue };
        if data
            .iter()
            .all(|&b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        {
            trace!(%src, "UDP keep-alive ignored");
            continue;
        }
        let bytes = Bytes::copy_from_slice(data);
        let from = Peer::new(Transport::Udp, src);
        match Message::parse_with(bytes.clone(), &opts) {
            Ok(mut message) => {
                if message.is_request() {
                    if let Err(e) = stamp_received(&mut message, src) {
                        debug!(%from, error = %e, "cannot stamp received");
                    }
                }
                let permit = tokio::select! {
                    _ = signalled(&mut shutdown) => break,
                    p = ctx.inbound.reserve() => p,
                };
                match permit {
                    Ok(p) => p.send(Inbound {
                        message,
                        from,
                        conn: None,
                    }),
                    Err(_) => debug!("inbound receiver dropped; message discarded"),
                }
            }
            Err(e) => {
                debug!(%from, error = %e, "unparsable datagram");
                if let Some((code, reason)) = e.response_status() {
                    if let Some(resp) = error_response_for_raw(&bytes, code, &reason) {
                        if let Err(e) = socket.send_to(&resp, src).await {
                            debug!(%from, error = %e, "cannot send error response");
                        }
                    }
                }
            }
        }
    }
}

/// The socket to send to `to` from: the first bound socket of the same address family.
pub(super) fn pick(
    sockets: &[(SocketAddr, Arc<UdpSocket>)],
    to: SocketAddr,
) -> Option<Arc<UdpSocket>> {
    sockets
        .iter()
        .find(|(local, _)| local.is_ipv4() == to.is_ipv4())
        .map(|(_, s)| s.clone())
}
