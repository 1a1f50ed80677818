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
use std::task::{Context, Poll};
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

/// What one datagram turned out to be.
enum Datagram {
    /// A message for the consumer (a request already carries `received`/`rport`).
    Message(Inbound),
    /// An unparsable request: this error response goes back to the sender.
    Answer(Bytes),
    /// A keep-alive, or an unparsable response: nothing to do.
    Nothing,
}

/// Parses one datagram from `src` (RFC 3261 §18.2.1, RFC 5626 §4.4.1 keep-alives).
fn datagram(data: &[u8], src: SocketAddr, opts: &ParseOptions) -> Datagram {
    if data
        .iter()
        .all(|&b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
    {
        trace!(%src, "UDP keep-alive ignored");
        return Datagram::Nothing;
    }
    let bytes = Bytes::copy_from_slice(data);
    let from = Peer::new(Transport::Udp, src);
    match Message::parse_with(bytes.clone(), opts) {
        Ok(mut message) => {
            if message.is_request() {
                if let Err(e) = stamp_received(&mut message, src) {
                    debug!(%from, error = %e, "cannot stamp received");
                }
            }
            Datagram::Message(Inbound {
                message,
                from,
                conn: None,
            })
        }
        Err(e) => {
            debug!(%from, error = %e, "unparsable datagram");
            e.response_status()
                .and_then(|(code, reason)| error_response_for_raw(&bytes, code, &reason))
                .map_or(Datagram::Nothing, Datagram::Answer)
        }
    }
}

fn parse_options(max_message_size: usize) -> ParseOptions {
    ParseOptions {
        max_size: max_message_size,
        stream: false,
    }
}

/// A receive buffer one byte larger than the limit, so an oversize datagram is seen as such,
/// not cut.
fn receive_buffer(max_message_size: usize) -> Vec<u8> {
    vec![0u8; max_message_size.saturating_add(1).min(65_536)]
}

/// Receives datagrams until shutdown.
pub(super) async fn recv_loop(ctx: TaskCtx, socket: Arc<UdpSocket>) {
    let max = ctx.shared.settings.max_message_size;
    let opts = parse_options(max);
    let mut buf = receive_buffer(max);
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
        match datagram(data, src, &opts) {
            Datagram::Message(inbound) => {
                let permit = tokio::select! {
                    _ = signalled(&mut shutdown) => break,
                    p = ctx.inbound.reserve() => p,
                };
                match permit {
                    Ok(p) => p.send(inbound),
                    Err(_) => debug!("inbound receiver dropped; message discarded"),
                }
            }
            Datagram::Answer(resp) => {
                if let Err(e) = socket.send_to(&resp, src).await {
                    debug!(%src, error = %e, "cannot send error response");
                }
            }
            Datagram::Nothing => {}
        }
    }
}

/// The UDP sockets of a layer bound with [`UdpReceive::Consumer`](super::UdpReceive), read by
/// the consumer in its own task: wait with [`ready`](Self::ready) (or
/// [`poll_ready`](Self::poll_ready)), then take what is waiting with
/// [`try_recv`](Self::try_recv) until it says there is nothing more. Datagrams are handled as
/// the receive tasks handle them: keep-alives ignored, unparsable requests answered, requests
/// stamped with `received`/`rport`. Shutting the layer down does not stop it: the consumer
/// stops reading.
pub struct UdpReceiver {
    sockets: Vec<Arc<UdpSocket>>,
    buf: Vec<u8>,
    opts: ParseOptions,
    /// The socket read first next time, so one busy socket cannot starve another.
    next: usize,
}

/// Most datagrams one [`UdpReceiver::try_recv`] call looks at before it returns, when none of
/// them is a message (a flood of keep-alives or garbage must not hold the consumer's task).
const SKIP_LIMIT: usize = 64;

impl std::fmt::Debug for UdpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpReceiver")
            .field("sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

impl UdpReceiver {
    pub(super) fn new(sockets: Vec<Arc<UdpSocket>>, max_message_size: usize) -> UdpReceiver {
        UdpReceiver {
            sockets,
            buf: receive_buffer(max_message_size),
            opts: parse_options(max_message_size),
            next: 0,
        }
    }

    /// Ready when some socket may have a datagram waiting (it may turn out to have none:
    /// [`try_recv`](Self::try_recv) then returns `None` and readiness is cleared). Pending
    /// forever without sockets.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for socket in &self.sockets {
            // An error (the socket is broken) counts as ready: try_recv reports and skips it.
            if socket.poll_recv_ready(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }

    /// Waits until some socket may have a datagram waiting.
    pub async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// The next message waiting on any socket, without waiting; `None` when every socket is
    /// empty (or after [`SKIP_LIMIT`] datagrams that were not messages; readiness then stays
    /// set, so the next wait returns at once).
    pub fn try_recv(&mut self) -> Option<Inbound> {
        let count = self.sockets.len();
        let mut skipped = 0;
        let mut empty = 0;
        while empty < count && skipped < SKIP_LIMIT {
            // count > 0 here: the loop does not run without sockets.
            let socket = self.sockets.get(self.next % count)?;
            let (n, src) = match socket.try_recv_from(&mut self.buf) {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    empty += 1;
                    self.next = self.next.wrapping_add(1);
                    continue;
                }
                Err(e) => {
                    // ICMP errors for earlier sends surface here on some systems; keep going.
                    debug!(error = %e, "UDP receive error");
                    skipped += 1;
                    continue;
                }
            };
            empty = 0;
            let Some(data) = self.buf.get(..n) else {
                skipped += 1;
                continue;
            };
            match datagram(data, src, &self.opts) {
                Datagram::Message(inbound) => return Some(inbound),
                Datagram::Answer(resp) => {
                    // Best effort, like any datagram: a full send buffer drops it.
                    if let Err(e) = socket.try_send_to(&resp, src) {
                        debug!(%src, error = %e, "cannot send error response");
                    }
                }
                Datagram::Nothing => {}
            }
            skipped += 1;
        }
        None
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
