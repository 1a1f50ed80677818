//! The INVITE server transaction (RFC 3261 §17.2.1 with the Accepted state of RFC 6026).
//!
//! Proceeding → Completed (non-2xx final: timer G retransmits it, timer H waits for the ACK) →
//! Confirmed (timer I absorbs ACKs) → Terminated; or Proceeding → Accepted (2xx: timer L absorbs
//! INVITE retransmissions and hands ACKs to the TU) → Terminated. A 100 Trying goes out by
//! itself when the TU has said nothing for 200 ms. Retransmitting a 2xx is the TU's job: it
//! passes each retransmission through `respond` while Accepted.
//! This room is a pure state machine: it is fed `now` and messages and says what to send.

use super::kept::Kept;
use std::sync::Arc;

use super::timers::{Timer, TimerConfig};
use super::{Step, TxnError};
use crate::message::Message;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub struct InviteServer {
    state: State,
    /// Whole until a final response; then its To tag (RFC 2543 matching).
    request: Kept,
    reliable: bool,
    /// Shared by every transaction of the layer.
    timers: Arc<TimerConfig>,
    /// Whole while it may be retransmitted (Proceeding, Completed); then its To tag (the tag
    /// an ACK for it carries).
    last_response: Option<Kept>,
    trying: Option<Instant>,
    g: Option<(Instant, Duration)>,
    h: Option<Instant>,
    i: Option<Instant>,
    l: Option<Instant>,
}

impl InviteServer {
    pub fn new(
        now: Instant,
        request: Message,
        reliable: bool,
        timers: Arc<TimerConfig>,
    ) -> InviteServer {
        InviteServer {
            state: State::Proceeding,
            trying: Some(now + timers.trying_delay),
            last_response: None,
            g: None,
            h: None,
            i: None,
            l: None,
            request: Kept::Whole(request),
            reliable,
            timers,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    /// The INVITE, until a final response was sent.
    pub fn request(&self) -> Option<&Message> {
        self.request.message()
    }
    pub fn request_to_tag(&self) -> Option<&str> {
        self.request.to_tag()
    }
    /// The To tag of the last response sent.
    pub fn response_to_tag(&self) -> Option<&str> {
        self.last_response.as_ref().and_then(Kept::to_tag)
    }
    fn response_to_resend(&self) -> Option<&Message> {
        self.last_response.as_ref().and_then(Kept::message)
    }
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [self.trying, self.g.map(|g| g.0), self.h, self.i, self.l]
            .into_iter()
            .flatten()
            .min()
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.trying = None;
        self.g = None;
        self.h = None;
        self.i = None;
        self.l = None;
    }

    /// A retransmission of the INVITE.
    pub fn on_request(&mut self, out: &mut Vec<Step>) {
        match self.state {
            State::Proceeding | State::Completed => {
                if let Some(r) = self.response_to_resend() {
                    out.push(Step::Send(r.clone()));
                }
            }
            // Confirmed and Accepted absorb it (RFC 6026 §7.1 for Accepted).
            _ => {}
        }
    }

    /// An ACK that matched this transaction.
    pub fn on_ack(&mut self, now: Instant, ack: Message, out: &mut Vec<Step>) {
        match self.state {
            State::Completed => {
                self.g = None;
                self.h = None;
                let i = self.timers.i(self.reliable);
                if i.is_zero() {
                    self.terminate();
                } else {
                    self.state = State::Confirmed;
                    self.i = Some(now + i);
                    // Confirmed sends nothing more: only the response's To tag matters now.
                    if let Some(r) = &mut self.last_response {
                        r.forget();
                    }
                }
            }
            State::Accepted => out.push(Step::Ack(ack)),
            _ => {}
        }
    }

    /// The TU's response.
    pub fn respond(
        &mut self,
        now: Instant,
        resp: Message,
        out: &mut Vec<Step>,
    ) -> Result<(), TxnError> {
        let code = resp.status().ok_or(TxnError::NotAResponse)?;
        match (self.state, code) {
            (State::Proceeding, 100..=199) => {
                self.trying = None;
                out.push(Step::Send(resp.clone()));
                self.last_response = Some(Kept::Whole(resp));
            }
            (State::Proceeding, 200..=299) => {
                self.trying = None;
                // Accepted only absorbs INVITE retransmissions and matches ACKs by the To tag.
                self.last_response = Some(Kept::tag_of(&resp));
                self.request.forget();
                out.push(Step::Send(resp));
                self.state = State::Accepted;
                self.l = Some(now + self.timers.l());
            }
            (State::Proceeding, _) => {
                self.trying = None;
                out.push(Step::Send(resp.clone()));
                // Completed retransmits the response whole; of the request, its To tag is enough.
                self.last_response = Some(Kept::Whole(resp));
                self.request.forget();
                self.state = State::Completed;
                self.g = self.timers.g(self.reliable).map(|g| (now + g, g));
                self.h = Some(now + self.timers.h());
            }
            // RFC 6026: the TU's 2xx retransmissions go out through the transaction.
            (State::Accepted, 200..=299) => out.push(Step::Send(resp)),
            (State::Terminated, _) => {
                return Err(TxnError::InvalidResponse("transaction terminated"))
            }
            _ => {
                return Err(TxnError::InvalidResponse(
                    "a final response was sent already",
                ))
            }
        }
        Ok(())
    }

    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Step>) {
        if self.h.is_some_and(|t| t <= now) {
            self.terminate();
            out.push(Step::Timeout(Timer::H));
            return;
        }
        if self.i.is_some_and(|t| t <= now) || self.l.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if self.trying.is_some_and(|t| t <= now) {
            self.trying = None;
            if self.state == State::Proceeding && self.last_response.is_none() {
                if let Some(request) = self.request.message() {
                    let trying = Message::response_to(request, 100, "Trying", None);
                    out.push(Step::Send(trying.clone()));
                    self.last_response = Some(Kept::Whole(trying));
                }
            }
        }
        if let Some((at, interval)) = self.g {
            if at <= now && self.state == State::Completed {
                if let Some(r) = self.response_to_resend() {
                    out.push(Step::Send(r.clone()));
                }
                let next = self.timers.backoff_capped(interval);
                self.g = Some((now + next, next));
            }
        }
    }

    pub fn on_transport_error(&mut self, out: &mut Vec<Step>) {
        self.terminate();
        out.push(Step::TransportError);
    }
}
