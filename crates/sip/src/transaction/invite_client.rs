//! The INVITE client transaction (RFC 3261 §17.1.1 with the Accepted state of RFC 6026).
//!
//! Calling → Proceeding → Completed (non-2xx: ACK sent here, timer D) or Accepted (2xx: timer M,
//! every further 2xx goes to the TU) → Terminated. Timer A retransmits over unreliable
//! transports, timer B ends a silent transaction. The ACK for a 2xx is the dialog's, not ours.
//! This room is a pure state machine: it is fed `now` and messages and says what to send.

use super::ack_cancel::ack_for_non_2xx;
use super::kept::Kept;
use std::sync::Arc;

use super::timers::{Timer, TimerConfig};
use super::Step;
use crate::message::Message;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub struct InviteClient {
    state: State,
    /// Whole until a final response (it is retransmitted, cancelled, acknowledged); then its
    /// To tag.
    request: Kept,
    reliable: bool,
    /// Shared by every transaction of the layer.
    timers: Arc<TimerConfig>,
    /// Timer A: next retransmission and the interval that led to it.
    a: Option<(Instant, Duration)>,
    b: Option<Instant>,
    /// §9.1: 64*T1 after a CANCEL was sent, the INVITE is given up if no final came.
    cancel_wait: Option<Instant>,
    d: Option<Instant>,
    m: Option<Instant>,
    ack: Option<Message>,
}

impl InviteClient {
    /// Starts the transaction: the INVITE is sent at once.
    pub fn start(
        now: Instant,
        request: Message,
        reliable: bool,
        timers: Arc<TimerConfig>,
        out: &mut Vec<Step>,
    ) -> InviteClient {
        out.push(Step::Send(request.clone()));
        InviteClient {
            state: State::Calling,
            a: timers.a(reliable).map(|d| (now + d, d)),
            b: Some(now + timers.b()),
            cancel_wait: None,
            d: None,
            m: None,
            ack: None,
            request: Kept::Whole(request),
            reliable,
            timers,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    /// The INVITE, until a final response arrived.
    pub fn request(&self) -> Option<&Message> {
        self.request.message()
    }
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.a.map(|a| a.0),
            self.b,
            self.cancel_wait,
            self.d,
            self.m,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.a = None;
        self.b = None;
        self.cancel_wait = None;
        self.d = None;
        self.m = None;
    }

    /// A response whose branch and CSeq method matched this transaction.
    pub fn on_response(&mut self, now: Instant, resp: Message, out: &mut Vec<Step>) {
        let Some(code) = resp.status() else { return };
        match (self.state, code) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.a = None;
                self.b = None;
                out.push(Step::Response(resp));
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.a = None;
                self.b = None;
                self.cancel_wait = None;
                self.m = Some(now + self.timers.m());
                // Accepted passes 2xx retransmissions up: the request is not needed any more.
                self.request.forget();
                out.push(Step::Response(resp));
            }
            (State::Calling | State::Proceeding, _) => {
                self.a = None;
                self.b = None;
                self.cancel_wait = None;
                // A response whose headers cannot make an ACK still ends the transaction.
                self.ack = self
                    .request
                    .message()
                    .and_then(|r| ack_for_non_2xx(r, &resp).ok());
                if let Some(ack) = &self.ack {
                    out.push(Step::Send(ack.clone()));
                }
                out.push(Step::Response(resp));
                let d = self.timers.d(self.reliable);
                if d.is_zero() {
                    self.terminate();
                } else {
                    self.state = State::Completed;
                    self.d = Some(now + d);
                    // Completed resends the ACK it keeps: the request is not needed any more.
                    self.request.forget();
                }
            }
            (State::Completed, 300..=699) => {
                if let Some(ack) = &self.ack {
                    out.push(Step::Send(ack.clone()));
                }
            }
            (State::Accepted, 200..=299) => out.push(Step::Response(resp)),
            _ => {}
        }
    }

    /// The CANCEL for this INVITE went out: start the §9.1 wait for the final response.
    pub fn on_cancel_sent(&mut self, now: Instant) {
        if matches!(self.state, State::Calling | State::Proceeding) && self.cancel_wait.is_none() {
            self.cancel_wait = Some(now + self.timers.t1x64());
        }
    }

    /// Fires every timer due at `now`.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Step>) {
        if self.b.is_some_and(|t| t <= now) {
            self.terminate();
            out.push(Step::Timeout(Timer::B));
            return;
        }
        if self.cancel_wait.is_some_and(|t| t <= now) {
            self.terminate();
            out.push(Step::Timeout(Timer::CancelWait));
            return;
        }
        if self.d.is_some_and(|t| t <= now) || self.m.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if let Some((at, interval)) = self.a {
            if at <= now && self.state == State::Calling {
                if let Some(r) = self.request.message() {
                    out.push(Step::Send(r.clone()));
                }
                // §17.1.1.2: intervals T1, 2*T1, 4*T1, ... until timer B (no T2 cap for INVITE).
                let next = interval.saturating_mul(2);
                self.a = Some((now + next, next));
            }
        }
    }

    /// The transport failed to deliver (§17.1.1.2): the TU hears of it unless it already had a
    /// final response.
    pub fn on_transport_error(&mut self, out: &mut Vec<Step>) {
        let report = matches!(self.state, State::Calling | State::Proceeding);
        self.terminate();
        if report {
            out.push(Step::TransportError);
        }
    }
}
