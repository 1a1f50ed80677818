//! What the dialog layer hands back to its TU: messages to send and events to act on. Plain
//! data; the layer queues these and the TU polls them.

use crate::message::Message;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// A request to send through a new client transaction; the caller prepends the Via.
    Request(Message),
    /// An ACK for a 2xx, sent straight to the transport (no transaction); the caller prepends
    /// a Via with a new branch.
    Ack(Message),
    /// A response to send through the server transaction of its request (2xx and reliable 1xx
    /// retransmissions included).
    Response(Message),
    Event(Event),
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Our 2xx to the INVITE numbered `cseq` got no ACK within 64*T1 (RFC 3261 §13.3.1.4);
    /// a BYE was queued and the dialog is terminated.
    AckTimeout { cseq: u32 },
    /// The reliable 1xx `rseq` got no PRACK within 64*T1 (RFC 3262 §3): the TU should answer
    /// the INVITE with a 5xx.
    PrackTimeout { rseq: u32 },
    /// Our re-INVITE or UPDATE got 491; it will be sent again at `retry_at` (§14.1).
    GlareBackoff { retry_at: Instant },
    /// No session refresh arrived in time (RFC 4028 §10); a BYE was queued.
    SessionExpired,
    /// The peer's message carried an offer whose answer the TU must put in the ACK (offer in a
    /// 2xx, see [`Session::send_ack`](super::Session::send_ack)) or in the PRACK (offer in a
    /// reliable 1xx, see [`Session::create_prack`](super::Session::create_prack)).
    AnswerNeeded,
}
