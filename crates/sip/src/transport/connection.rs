//! One TCP or TLS connection's task (mini-redis style): read bytes into the sans-IO
//! [`StreamFramer`], parse each framed message, stamp `received`/`rport` on requests and deliver
//! them; write queued messages and keep-alive pongs; close on a framing error (after answering a
//! request), on idle timeout, on a write failure and on shutdown (after writing what was
//! queued). Protocol decisions live in the framer and in `received`; this room only moves bytes.

use super::framing::{Frame, FramingError, StreamFramer};
use super::layer::{signalled, Inbound, TaskCtx};
use super::received::stamp_received;
use super::table::{Outbound, Registration};
use super::TransportError;
use crate::message::{error_response_for_raw, ParseOptions};
use crate::Message;
use bytes::Bytes;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Instant};
use tracing::debug;

/// Largest single read.
const READ_CHUNK: usize = 16 * 1024;
/// How long a connection closed for a framing error keeps reading (and discarding) so that the
/// error response is not lost to a reset.
const LINGER: Duration = Duration::from_secs(2);
/// How long closing the write side may take.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Runs a connection until it closes. `stream` is connected (and TLS-established).
pub(super) async fn run<S>(ctx: TaskCtx, reg: Registration, stream: S, rx: mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let settings = ctx.shared.settings.clone();
    let mut conn = Conn {
        framer: StreamFramer::new(settings.max_message_size),
        buf: vec![0; READ_CHUNK.min(settings.max_message_size.max(1))],
        rd,
        w: Writer {
            wr,
            timeout: settings.write_timeout,
        },
        rx,
        shutdown: ctx.shutdown.clone(),
        idle: settings.idle_timeout,
        opts: ParseOptions {
            max_size: settings.max_message_size,
            stream: true,
        },
        reg,
        ctx,
    };
    let why = conn.serve().await;
    debug!(conn = %conn.reg.id, peer = %conn.reg.peer, why, "connection closed");
    conn.rx.close();
    // Leave the table before closing, so nothing new is sent to a closing connection.
    let Conn {
        w: mut writer, reg, ..
    } = conn;
    drop(reg);
    let _ = timeout(CLOSE_WAIT, writer.wr.shutdown()).await;
}

struct Writer<W> {
    wr: W,
    timeout: Duration,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let wr = &mut self.wr;
        let write = async {
            wr.write_all(bytes).await?;
            wr.flush().await
        };
        match timeout(self.timeout, write).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
    }

    /// Writes one queued message and reports the outcome; `false` when the connection is broken.
    async fn serve(&mut self, o: Outbound) -> bool {
        let res = self.write(&o.bytes).await;
        let ok = res.is_ok();
        if let Some(done) = o.done {
            let _ = done.send(res.map_err(TransportError::Write));
        }
        ok
    }
}

struct Conn<S> {
    framer: StreamFramer,
    buf: Vec<u8>,
    rd: ReadHalf<S>,
    w: Writer<WriteHalf<S>>,
    rx: mpsc::Receiver<Outbound>,
    shutdown: watch::Receiver<bool>,
    idle: Duration,
    opts: ParseOptions,
    reg: Registration,
    /// Held for the task's life: its inbound sender and its share of the completion signal.
    ctx: TaskCtx,
}

enum Flow {
    Continue,
    Close(&'static str),
}

impl<S: AsyncRead + AsyncWrite> Conn<S> {
    /// The connection's life; returns why it ended.
    async fn serve(&mut self) -> &'static str {
        let idle = tokio::time::sleep(self.idle);
        tokio::pin!(idle);
        loop {
            let room = self.framer.room().min(self.buf.len());
            if room == 0 {
                // The framer always yields a frame or an error once full.
                return "framer stalled";
            }
            tokio::select! {
                _ = signalled(&mut self.shutdown) => {
                    self.rx.close();
                    while let Ok(o) = self.rx.try_recv() {
                        if !self.w.serve(o).await {
                            break;
                        }
                    }
                    return "shutdown";
                }
                o = self.rx.recv() => match o {
                    Some(o) => {
                        if !self.w.serve(o).await {
                            return "write failed";
                        }
                        idle.as_mut().reset(Instant::now() + self.idle);
                    }
                    None => return "removed",
                },
                r = self.rd.read(&mut self.buf[..room]) => match r {
                    Ok(0) => return "closed by peer",
                    Err(e) => {
                        debug!(conn = %self.reg.id, error = %e, "read failed");
                        return "read error";
                    }
                    Ok(n) => {
                        idle.as_mut().reset(Instant::now() + self.idle);
                        if let Flow::Close(why) = self.on_bytes(n).await {
                            return why;
                        }
                    }
                },
                () = &mut idle => return "idle timeout",
            }
        }
    }

    /// Frames the `n` bytes just read into `buf` and handles every complete frame.
    async fn on_bytes(&mut self, n: usize) -> Flow {
        let mut off = 0;
        while off < n {
            off += self.framer.push(&self.buf[off..n]);
            loop {
                match self.framer.poll() {
                    Ok(None) => break,
                    Ok(Some(Frame::Message(bytes))) => {
                        if let Flow::Close(why) = self.on_message(bytes).await {
                            return Flow::Close(why);
                        }
                    }
                    Ok(Some(Frame::Ping)) => {
                        if self.w.write(b"\r\n").await.is_err() {
                            return Flow::Close("write failed");
                        }
                    }
                    Ok(Some(Frame::Pong)) => {}
                    Err(e) => {
                        self.reject(&e).await;
                        return Flow::Close("framing error");
                    }
                }
            }
        }
        Flow::Continue
    }

    async fn on_message(&mut self, bytes: Bytes) -> Flow {
        let peer = self.reg.peer;
        match Message::parse_with(bytes.clone(), &self.opts) {
            Ok(mut message) => {
                if message.is_request() {
                    if let Err(e) = stamp_received(&mut message, peer.addr) {
                        debug!(%peer, error = %e, "cannot stamp received");
                    }
                }
                self.deliver(Inbound {
                    message,
                    from: peer,
                    conn: Some(self.reg.id),
                })
                .await
            }
            Err(e) => {
                debug!(%peer, error = %e, "unparsable message");
                if let Some((code, reason)) = e.response_status() {
                    if let Some(resp) = error_response_for_raw(&bytes, code, &reason) {
                        if self.w.write(&resp).await.is_err() {
                            return Flow::Close("write failed");
                        }
                    }
                }
                Flow::Continue
            }
        }
    }

    /// Hands a message to the consumer, writing queued messages while the consumer is busy so
    /// that a consumer waiting on a send to this connection cannot deadlock with it.
    async fn deliver(&mut self, item: Inbound) -> Flow {
        loop {
            tokio::select! {
                permit = self.ctx.inbound.reserve() => {
                    match permit {
                        Ok(p) => p.send(item),
                        Err(_) => debug!("inbound receiver dropped; message discarded"),
                    }
                    return Flow::Continue;
                }
                o = self.rx.recv() => match o {
                    Some(o) => {
                        if !self.w.serve(o).await {
                            return Flow::Close("write failed");
                        }
                    }
                    None => return Flow::Close("removed"),
                },
                _ = signalled(&mut self.shutdown) => return Flow::Close("shutdown"),
            }
        }
    }

    /// Answers a request whose framing failed, then reads and discards for a while so the
    /// answer is not destroyed by a reset, before the connection closes.
    async fn reject(&mut self, e: &FramingError) {
        debug!(conn = %self.reg.id, peer = %self.reg.peer, error = %e, "framing error; closing");
        let (code, reason) = e.status();
        if let Some(resp) = error_response_for_raw(self.framer.buffered(), code, reason) {
            if self.w.write(&resp).await.is_err() {
                return;
            }
        }
        let _ = timeout(CLOSE_WAIT, self.w.wr.shutdown()).await;
        let rd = &mut self.rd;
        let buf = &mut self.buf;
        let drain = async {
            while let Ok(n) = rd.read(buf).await {
                if n == 0 {
                    break;
                }
            }
        };
        tokio::select! {
            _ = timeout(LINGER, drain) => {}
            _ = signalled(&mut self.shutdown) => {}
        }
    }
}
