//! Tests of the transaction layer in virtual time: one base `Instant`, Durations added to it,
//! no sockets and no sleeping. Shared helpers live here; each file tests one part.

mod client;
mod layer;
mod server;
mod sim;

use super::*;
use std::net::SocketAddr;
use std::time::Duration;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}
pub(super) fn udp(port: u16) -> Peer {
    Peer::udp(addr(port))
}
pub(super) fn tcp(port: u16) -> Peer {
    Peer::tcp(addr(port))
}

pub(super) fn layer() -> TransactionLayer {
    TransactionLayer::new(Config::default(), 1)
}

/// A request as text: `to_tag` is `""` or `;tag=x`.
pub(super) fn request(
    method: &str,
    branch: &str,
    call_id: &str,
    seq: u32,
    to_tag: &str,
) -> Message {
    let cseq_method = method;
    let text = format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP client.example.com:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:proxy.example.com;lr>\r\n\
         From: Alice <sip:alice@example.com>;tag=from-{call_id}\r\n\
         To: Bob <sip:bob@example.com>{to_tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {cseq_method}\r\n\
         Contact: <sip:alice@client.example.com>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    Message::parse(text.into_bytes()).unwrap()
}

pub(super) fn invite(branch: &str, call_id: &str) -> Message {
    request("INVITE", branch, call_id, 1, "")
}

pub(super) fn reply(req: &Message, code: u16) -> Message {
    let tag = if code > 100 { Some("srv") } else { None };
    Message::response_to(req, code, Message::default_reason(code), tag)
}

/// Everything the layer has to say, split in transmissions and events.
pub(super) fn drain(l: &mut TransactionLayer) -> (Vec<(Peer, Message)>, Vec<TuEvent>) {
    let mut tx = Vec::new();
    let mut ev = Vec::new();
    while let Some(o) = l.poll_output() {
        match o {
            Output::Transmit { to, message } => tx.push((to, message)),
            Output::Event(e) => ev.push(e),
        }
    }
    (tx, ev)
}

/// Outputs with the virtual time they came out at.
pub(super) type Timed = Vec<(Instant, Output)>;

/// Runs every timer up to and including `end`, collecting outputs with their time.
pub(super) fn run_until(l: &mut TransactionLayer, end: Instant) -> Timed {
    run_from(l, end, end)
}

/// Like `run_until`, with outputs already waiting stamped as produced at `start`.
pub(super) fn run_from(l: &mut TransactionLayer, start: Instant, end: Instant) -> Timed {
    let mut got = Vec::new();
    while let Some(o) = l.poll_output() {
        got.push((start, o));
    }
    while let Some(t) = l.poll_timeout() {
        if t > end {
            break;
        }
        l.handle_timeout(t);
        while let Some(o) = l.poll_output() {
            got.push((t, o));
        }
    }
    got
}

/// The instants (as offsets from `base`) at which messages were transmitted.
pub(super) fn transmit_offsets(base: Instant, got: &Timed) -> Vec<Duration> {
    got.iter()
        .filter(|(_, o)| matches!(o, Output::Transmit { .. }))
        .map(|(t, _)| *t - base)
        .collect()
}

pub(super) fn events(got: &Timed) -> Vec<(Instant, TuEvent)> {
    got.iter()
        .filter_map(|(t, o)| match o {
            Output::Event(e) => Some((*t, e.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn secs_f(offsets: &[Duration]) -> Vec<f64> {
    offsets.iter().map(Duration::as_secs_f64).collect()
}
