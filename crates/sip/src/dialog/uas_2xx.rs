//! The UAS core's retransmission of its 2xx to an INVITE (RFC 3261 §13.3.1.4): again after T1,
//! then at intervals doubling up to T2, until the ACK arrives; after 64*T1 without one the
//! session is to be ended with a BYE. This room only schedules; the session sends.

use super::config::Timers;
use crate::message::Message;
use std::time::{Duration, Instant};

/// What a due timer asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uas2xxAction {
    Retransmit(Box<Message>),
    /// 64*T1 passed without an ACK.
    GiveUp,
}

#[derive(Clone, Debug)]
pub struct Uas2xx {
    resp: Message,
    seq: u32,
    next: Instant,
    interval: Duration,
    deadline: Instant,
    t2: Duration,
}

impl Uas2xx {
    /// Starts retransmitting `resp` (a 2xx to INVITE) that was first sent at `now`.
    pub fn start(now: Instant, resp: Message, timers: &Timers) -> Uas2xx {
        let seq = resp.cseq().map_or(0, |c| c.seq);
        Uas2xx {
            resp,
            seq,
            next: now + timers.t1,
            interval: timers.t1,
            deadline: now + timers.timeout(),
            t2: timers.t2,
        }
    }

    /// The CSeq number of the INVITE this 2xx answers (the ACK carries the same).
    pub fn seq(&self) -> u32 {
        self.seq
    }

    pub fn poll_timeout(&self) -> Instant {
        self.next.min(self.deadline)
    }

    /// The action due at `now`, if any. Call again until it returns `None`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Uas2xxAction> {
        if now >= self.deadline {
            return Some(Uas2xxAction::GiveUp);
        }
        if now < self.next {
            return None;
        }
        self.interval = (self.interval * 2).min(self.t2);
        self.next += self.interval;
        Some(Uas2xxAction::Retransmit(Box::new(self.resp.clone())))
    }
}
