//! The non-INVITE server transaction (RFC 3261 §17.2.2).
//!
//! Trying → Proceeding → Completed → Terminated. Request retransmissions are absorbed in Trying
//! and answered with the last response afterwards; timer J keeps the transaction in Completed
//! long enough to absorb them over unreliable transports.
//! This room is a pure state machine: it is fed `now` and messages and says what to send.

use super::kept::Kept;
use std::sync::Arc;

use super::timers::TimerConfig;
use super::{Step, TxnError};
use crate::message::Message;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct NonInviteServer {
    state: State,
    /// Whole until a final response; then its To tag (RFC 2543 matching).
    request: Kept,
    reliable: bool,
    /// Shared by every transaction of the layer.
    timers: Arc<TimerConfig>,
    last_response: Option<Message>,
    j: Option<Instant>,
}

impl NonInviteServer {
    pub fn new(request: Message, reliable: bool, timers: Arc<TimerConfig>) -> NonInviteServer {
        NonInviteServer {
            state: State::Trying,
            request: Kept::Whole(request),
            reliable,
            timers,
            last_response: None,
            j: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    /// The request, until a final response was sent.
    pub fn request(&self) -> Option<&Message> {
        self.request.message()
    }
    pub fn request_to_tag(&self) -> Option<&str> {
        self.request.to_tag()
    }
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }
    pub fn next_deadline(&self) -> Option<Instant> {
        self.j
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.j = None;
    }

    /// A retransmission of the request.
    pub fn on_request(&mut self, out: &mut Vec<Step>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(r) = &self.last_response {
                out.push(Step::Send(r.clone()));
            }
        }
    }

    pub fn respond(
        &mut self,
        now: Instant,
        resp: Message,
        out: &mut Vec<Step>,
    ) -> Result<(), TxnError> {
        let code = resp.status().ok_or(TxnError::NotAResponse)?;
        match self.state {
            State::Trying | State::Proceeding => {
                out.push(Step::Send(resp.clone()));
                self.last_response = Some(resp);
                if code < 200 {
                    self.state = State::Proceeding;
                } else {
                    let j = self.timers.j(self.reliable);
                    if j.is_zero() {
                        self.terminate();
                    } else {
                        self.state = State::Completed;
                        self.j = Some(now + j);
                        // Completed retransmits the response; of the request, its To tag is
                        // enough.
                        self.request.forget();
                    }
                }
                Ok(())
            }
            State::Completed => Err(TxnError::InvalidResponse(
                "a final response was sent already",
            )),
            State::Terminated => Err(TxnError::InvalidResponse("transaction terminated")),
        }
    }

    pub fn on_timeout(&mut self, now: Instant) {
        if self.j.is_some_and(|t| t <= now) {
            self.terminate();
        }
    }

    pub fn on_transport_error(&mut self, out: &mut Vec<Step>) {
        self.terminate();
        out.push(Step::TransportError);
    }
}
