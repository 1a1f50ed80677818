//! Datagrams gathered over one turn of a consumer's loop and handed to the kernel together:
//! one `sendmmsg` for the run of datagrams that leave from the same socket.
//!
//! Why: on loopback (and on a busy host) each datagram wakes its receiver, and a woken peer
//! process may take the core back when the system call returns. Datagrams sent one by one give
//! it that chance after each; sent together, once. The bytes are written back to back into one
//! buffer the batch keeps, so gathering allocates nothing once the buffer has grown.
//!
//! This room only moves bytes: which messages go in, and what a failure means for them, is
//! the consumer's business.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::net::UdpSocket;

use crate::peer::Peer;

/// Datagrams waiting to be sent, in order.
#[derive(Debug, Default)]
pub struct DatagramBatch {
    buf: BytesMut,
    /// Each datagram's end in `buf` and its destination.
    items: Vec<(usize, Peer)>,
}

impl DatagramBatch {
    pub fn new() -> DatagramBatch {
        DatagramBatch::default()
    }

    /// Adds a datagram to `to` that `write` appends to the batch's buffer; returns its length.
    pub fn push_with(&mut self, to: Peer, write: impl FnOnce(&mut BytesMut)) -> usize {
        let start = self.buf.len();
        write(&mut self.buf);
        self.items.push((self.buf.len(), to));
        self.buf.len() - start
    }

    /// Takes the last datagram added back out (it is to go another way after all).
    pub fn pop(&mut self) {
        if self.items.pop().is_some() {
            let end = self.items.last().map_or(0, |(end, _)| *end);
            self.buf.truncate(end);
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The datagrams, in order, with their destinations.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Peer)> + '_ {
        let mut start = 0;
        self.items.iter().map(move |(end, to)| {
            let bytes = self.buf.get(start..*end).unwrap_or_default();
            start = *end;
            (bytes, *to)
        })
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.items.clear();
    }
}

/// Most datagrams in one `sendmmsg` (the kernel's UIO_MAXIOV is 1024; batches are far smaller).
const PER_CALL: usize = 64;

/// Sends `datagrams` (a run leaving from `socket`) in as few system calls as the kernel takes
/// them; calls `failed` for each one that could not be sent, with the error, and goes on with
/// the next. Waits only when the socket's send buffer is full.
pub(super) async fn send_run(
    socket: &Arc<UdpSocket>,
    datagrams: &[(&[u8], Peer)],
    failed: &mut impl FnMut(usize, std::io::Error),
) {
    let mut next = 0;
    while next < datagrams.len() {
        let end = datagrams.len().min(next + PER_CALL);
        let Some(chunk) = datagrams.get(next..end) else {
            return;
        };
        match sent(socket, chunk).await {
            Ok(n) if n > 0 => next += n.min(chunk.len()),
            Ok(_) => {
                failed(next, std::io::Error::other("the kernel took no datagram"));
                next += 1;
            }
            Err(e) => {
                // The first datagram of the chunk is the one the kernel refused.
                failed(next, e);
                next += 1;
            }
        }
    }
}

/// How many of `chunk`'s datagrams the kernel took, or why it took none.
#[cfg(target_os = "linux")]
async fn sent(socket: &UdpSocket, chunk: &[(&[u8], Peer)]) -> std::io::Result<usize> {
    if let [(bytes, to)] = chunk {
        return socket.send_to(bytes, to.addr).await.map(|_| 1);
    }
    loop {
        let tried = socket.try_io(tokio::io::Interest::WRITABLE, || sendmmsg(socket, chunk));
        match tried {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => socket.writable().await?,
            other => return other,
        }
    }
}

/// One `sendmmsg` of `chunk` on `socket` (no waiting: a full send buffer is `WouldBlock`).
#[cfg(target_os = "linux")]
fn sendmmsg(socket: &UdpSocket, chunk: &[(&[u8], Peer)]) -> std::io::Result<usize> {
    use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny};
    use std::io::IoSlice;

    let addrs: Vec<SocketAddrAny> = chunk.iter().map(|(_, to)| to.addr.into()).collect();
    let iovs: Vec<[IoSlice<'_>; 1]> = chunk.iter().map(|(b, _)| [IoSlice::new(b)]).collect();
    let mut controls: Vec<SendAncillaryBuffer<'_, '_, '_>> = chunk
        .iter()
        .map(|_| SendAncillaryBuffer::default())
        .collect();
    let mut headers: Vec<MMsgHdr<'_>> = addrs
        .iter()
        .zip(&iovs)
        .zip(controls.iter_mut())
        .map(|((addr, iov), control)| MMsgHdr::new_with_addr(addr, iov, control))
        .collect();
    rustix::net::sendmmsg(socket, &mut headers, SendFlags::empty()).map_err(std::io::Error::from)
}

/// Elsewhere, one system call per datagram.
#[cfg(not(target_os = "linux"))]
async fn sent(socket: &UdpSocket, chunk: &[(&[u8], Peer)]) -> std::io::Result<usize> {
    match chunk.first() {
        Some((bytes, to)) => socket.send_to(bytes, to.addr).await.map(|_| 1),
        None => Ok(0),
    }
}
