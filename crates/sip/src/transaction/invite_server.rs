//! The INVITE server transaction (RFC 3261 §17.2.1 with the Accepted state of RFC 6026).
//!
//! Proceeding → Completed (non-2xx final: timer G retransmits it, timer H waits for the ACK) →
//! Confirmed (timer I absorbs ACKs) → Terminated; or Proceeding → Accepted (2xx: timer L absorbs
//! INVITE retransmissions and hands ACKs to the TU) → Terminated. A 100 Trying goes out by
//! itself when the TU has said nothing for 200 ms. Retransmitting a 2xx is the TU's job: it
//! passes each retransmission through `respond` while Accepted.
//! This room is a pure state machine: it is fed `now` and messages and says what to send.

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
    request: Message,
    reliable: bool,
    timers: TimerConfig,
    last_response: Option<Message>,
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
        timers: TimerConfig,
    ) -> InviteServer {
        InviteServer {
            state: State::Proceeding,
            trying: Some(now + timers.trying_delay),
            last_response: None,
            g: None,
            h: None,
            i: None,
            l: None,
            request,
            reliable,
            timers,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn request(&self) -> &Message {
        &self.request
    }
    pub fn last_response(&self) -> Option<&Message> {
        self.last_response.as_ref()
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
                if let Some(r) = &self.last_response {
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
                    // Confirmed sends nothing more: the response only identifies now.
                    self.last_response = self.last_response.as_ref().map(Message::slim);
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
                self.last_response = Some(resp);
            }
            (State::Proceeding, 200..=299) => {
                self.trying = None;
                // Accepted only absorbs INVITE retransmissions and matches ACKs by the To tag.
                self.last_response = Some(resp.slim());
                self.request = self.request.slim();
                out.push(Step::Send(resp));
                self.state = State::Accepted;
                self.l = Some(now + self.timers.l());
            }
            (State::Proceeding, _) => {
                self.trying = None;
                out.push(Step::Send(resp.clone()));
                // Completed retransmits the response whole; the request only identifies.
                self.last_response = Some(resp);
                self.request = self.request.slim();
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
                let trying = Message::response_to(&self.request, 100, "Trying", None);
                out.push(Step::Send(trying.clone()));
                self.last_response = Some(trying);
            }
        }
        if let Some((at, interval)) = self.g {
            if at <= now && self.state == State::Completed {
                if let Some(r) = &self.last_response {
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
