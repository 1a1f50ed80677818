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

/// What a UDP socket's receive and send buffers are asked to hold (the kernel caps it at
/// `net.core.rmem_max` / `wmem_max`; Linux counts bookkeeping in it too). The default, about
/// 200 KiB on Linux, is a few milliseconds of traffic at thousands of calls a second: a short
/// stall of the task reading it (another process on the core, a large table growing) and
/// datagrams are dropped, which SIP only repairs with 500 ms retransmissions.
pub const SOCKET_BUFFER: usize = 8 << 20;

/// Asks for [`SOCKET_BUFFER`]-sized buffers on `socket`; the kernel gives what it allows.
pub(super) fn grow_buffers(socket: &UdpSocket) {
    let s = socket2::SockRef::from(socket);
    for (what, result) in [
        ("receive", s.set_recv_buffer_size(SOCKET_BUFFER)),
        ("send", s.set_send_buffer_size(SOCKET_BUFFER)),
    ] {
        if let Err(e) = result {
            debug!(error = %e, "cannot grow the UDP {what} buffer");
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The receive buffer grows to what the kernel allows (Linux reports twice the size it
    /// was asked for, bookkeeping included, capped by `net.core.rmem_max`).
    #[tokio::test]
    async fn buffers_grow_as_far_as_the_kernel_allows() {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let before = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("size");
        grow_buffers(&socket);
        let after = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("size");
        let max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok());
        match max {
            Some(max) => assert!(
                after >= before.max(max.min(SOCKET_BUFFER)),
                "{before} -> {after} (rmem_max {max})"
            ),
            None => assert!(after >= before, "{before} -> {after}"),
        }
    }
}
