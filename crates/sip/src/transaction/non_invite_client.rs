//! The non-INVITE client transaction (RFC 3261 §17.1.2).
//!
//! Trying → Proceeding → Completed → Terminated. Timer E retransmits over unreliable transports
//! (doubling from T1, capped at T2; T2 flat once a provisional came), timer F ends the
//! transaction without a final response, timer K absorbs retransmitted finals.
//! This room is a pure state machine: it is fed `now` and messages and says what to send.

use super::kept::Kept;
use std::sync::Arc;

use super::timers::{Timer, TimerConfig};
use super::Step;
use crate::message::Message;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct NonInviteClient {
    state: State,
    /// Whole until a final response (it is retransmitted); then its To tag.
    request: Kept,
    reliable: bool,
    /// Shared by every transaction of the layer.
    timers: Arc<TimerConfig>,
    e: Option<(Instant, Duration)>,
    f: Option<Instant>,
    k: Option<Instant>,
}

impl NonInviteClient {
    /// Starts the transaction: the request is sent at once.
    pub fn start(
        now: Instant,
        request: Message,
        reliable: bool,
        timers: Arc<TimerConfig>,
        out: &mut Vec<Step>,
    ) -> NonInviteClient {
        out.push(Step::Send(request.clone()));
        NonInviteClient {
            state: State::Trying,
            e: timers.e(reliable).map(|d| (now + d, d)),
            f: Some(now + timers.f()),
            k: None,
            request: Kept::Whole(request),
            reliable,
            timers,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    /// The request, until a final response arrived.
    pub fn request(&self) -> Option<&Message> {
        self.request.message()
    }
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [self.e.map(|e| e.0), self.f, self.k]
            .into_iter()
            .flatten()
            .min()
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.e = None;
        self.f = None;
        self.k = None;
    }

    pub fn on_response(&mut self, now: Instant, resp: Message, out: &mut Vec<Step>) {
        let Some(code) = resp.status() else { return };
        match (self.state, code) {
            (State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                out.push(Step::Response(resp));
            }
            (State::Trying | State::Proceeding, _) => {
                out.push(Step::Response(resp));
                self.e = None;
                self.f = None;
                let k = self.timers.k(self.reliable);
                if k.is_zero() {
                    self.terminate();
                } else {
                    self.state = State::Completed;
                    self.k = Some(now + k);
                    // Completed absorbs retransmissions: the request is not needed any more.
                    self.request.forget();
                }
            }
            // Completed absorbs retransmitted responses.
            _ => {}
        }
    }

    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Step>) {
        if self.f.is_some_and(|t| t <= now) {
            self.terminate();
            out.push(Step::Timeout(Timer::F));
            return;
        }
        if self.k.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if let Some((at, interval)) = self.e {
            if at <= now {
                if let Some(r) = self.request.message() {
                    out.push(Step::Send(r.clone()));
                }
                let next = match self.state {
                    State::Proceeding => self.timers.t2,
                    _ => self.timers.backoff_capped(interval),
                };
                self.e = Some((now + next, next));
            }
        }
    }

    pub fn on_transport_error(&mut self, out: &mut Vec<Step>) {
        let report = matches!(self.state, State::Trying | State::Proceeding);
        self.terminate();
        if report {
            out.push(Step::TransportError);
        }
    }
}
