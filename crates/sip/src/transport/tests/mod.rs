//! Loopback integration tests of the tokio driver (127.0.0.1, ephemeral ports). They wait on
//! events — channel receives, read results — with a timeout only as a safety net; none sleeps.

mod lifecycle;
mod tcp;
mod tls;
mod udp;

use super::*;
use crate::Message;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// Safety net for every wait: a test that reaches it has failed.
const SAFETY: Duration = Duration::from_secs(10);

async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(SAFETY, f)
        .await
        .expect("timed out waiting for an event")
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn config() -> TransportConfig {
    TransportConfig::default()
}

async fn next(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    within(rx.recv()).await.expect("inbound channel closed")
}

fn request_text(method: &str, via: &str, call_id: &str, body: &str) -> String {
    format!(
        "{method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
         To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=a1\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn request(via: &str, call_id: &str) -> Message {
    Message::parse(request_text("OPTIONS", via, call_id, "").into_bytes()).unwrap()
}

/// Reads the next frame from a raw stream; `None` when the peer closed (or reset).
async fn read_frame<S: AsyncRead + Unpin>(s: &mut S, framer: &mut StreamFramer) -> Option<Frame> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(f) = framer.poll().expect("framing error from the transport") {
            return Some(f);
        }
        let room = framer.room().min(buf.len());
        match within(s.read(&mut buf[..room])).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => assert_eq!(framer.push(&buf[..n]), n),
        }
    }
}

async fn read_message<S: AsyncRead + Unpin>(s: &mut S, framer: &mut StreamFramer) -> Message {
    match read_frame(s, framer).await {
        Some(Frame::Message(b)) => Message::parse(b).unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Reads until the peer closes; returns what was read.
async fn read_to_close<S: AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match within(s.read(&mut buf)).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}
