//! Reliable provisional responses (RFC 3262). UAS side: stamping a 1xx with `Require: 100rel`
//! and RSeq (random start in 1..2^31, +1 each), retransmitting it with T1 doubling until the
//! matching PRACK or 64*T1, one unacknowledged at a time (later ones wait in a queue). UAC side:
//! telling new reliable 1xx (to PRACK) from retransmissions and out-of-order ones (to ignore).
//! This room schedules and matches; building the PRACK and answering it is the session's job.

use super::config::Timers;
use super::error::DialogError;
use super::random::RandomSource;
use crate::header_name::HeaderName;
use crate::message::Message;
use crate::method::Method;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The largest RSeq a UAS starts from (RFC 3262 §3: less than 2^31).
const RSEQ_MAX_START: u32 = (1 << 31) - 1;

#[derive(Clone, Debug)]
struct Outstanding {
    resp: Message,
    rseq: u32,
    cseq: u32,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

/// What the UAS side asks the session to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrackUasAction {
    /// Send (or send again) this reliable 1xx.
    Send(Box<Message>),
    /// 64*T1 passed without a PRACK for this RSeq; the INVITE should get a 5xx.
    GiveUp { rseq: u32 },
}

/// The UAS side of RFC 3262 for one dialog.
#[derive(Clone, Debug)]
pub struct PrackUas {
    timers: Timers,
    next_rseq: u32,
    outstanding: Option<Outstanding>,
    queue: VecDeque<Message>,
}

impl PrackUas {
    pub fn new(timers: Timers, rng: &mut dyn RandomSource) -> PrackUas {
        PrackUas {
            timers,
            next_rseq: rng.in_range(1, RSEQ_MAX_START),
            outstanding: None,
            queue: VecDeque::new(),
        }
    }

    /// Whether `resp`, our provisional response to `invite`, goes reliably: it already requires
    /// 100rel, or we prefer reliability and the INVITE supports it.
    pub fn wants_reliable(invite_supports_100rel: bool, resp: &Message, prefer: bool) -> bool {
        let code = resp.status().unwrap_or(0);
        (101..200).contains(&code)
            && (resp.requires("100rel") || (prefer && invite_supports_100rel))
    }

    /// Sends a reliable 1xx: stamped and returned at once when none is unacknowledged, queued
    /// otherwise (`None`).
    pub fn send(&mut self, now: Instant, resp: Message) -> Result<Option<Message>, DialogError> {
        if self.outstanding.is_some() {
            self.queue.push_back(resp);
            return Ok(None);
        }
        self.start(now, resp).map(Some)
    }

    fn start(&mut self, now: Instant, mut resp: Message) -> Result<Message, DialogError> {
        let rseq = self.next_rseq;
        self.next_rseq = self.next_rseq.wrapping_add(1);
        if !resp.requires("100rel") {
            resp.push_header(HeaderName::Require, "100rel")?;
        }
        resp.set_header(HeaderName::RSeq, &rseq.to_string())?;
        let cseq = resp.cseq().map_or(0, |c| c.seq);
        self.outstanding = Some(Outstanding {
            resp: resp.clone(),
            rseq,
            cseq,
            next: now + self.timers.t1,
            interval: self.timers.t1,
            deadline: now + self.timers.timeout(),
        });
        Ok(resp)
    }

    /// The RSeq of the unacknowledged reliable 1xx.
    pub fn outstanding_rseq(&self) -> Option<u32> {
        self.outstanding.as_ref().map(|o| o.rseq)
    }

    /// Matches a PRACK against the unacknowledged reliable 1xx (RAck = RSeq, CSeq number and
    /// method). `Ok(Some(next))`: matched, and `next` is the queued 1xx to send now;
    /// `Ok(None)`: matched, nothing queued; `Err(WrongDialog)`: no match (481).
    pub fn on_prack(
        &mut self,
        now: Instant,
        prack: &Message,
    ) -> Result<Option<Message>, DialogError> {
        let rack = prack.rack()?.ok_or(DialogError::Missing("RAck"))?;
        let matched = matches!(&self.outstanding,
            Some(o) if o.rseq == rack.rseq && o.cseq == rack.cseq && rack.method == Method::Invite);
        if !matched {
            return Err(DialogError::WrongDialog);
        }
        self.outstanding = None;
        match self.queue.pop_front() {
            Some(next) => self.start(now, next).map(Some),
            None => Ok(None),
        }
    }

    /// A final response went out: stop retransmitting and drop what waits.
    pub fn stop(&mut self) {
        self.outstanding = None;
        self.queue.clear();
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.next.min(o.deadline))
    }

    /// The action due at `now`, if any. Call again until it returns `None`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<PrackUasAction> {
        let o = self.outstanding.as_mut()?;
        if now >= o.deadline {
            let rseq = o.rseq;
            self.stop();
            return Some(PrackUasAction::GiveUp { rseq });
        }
        if now < o.next {
            return None;
        }
        o.interval *= 2;
        o.next += o.interval;
        Some(PrackUasAction::Send(Box::new(o.resp.clone())))
    }
}

/// How the UAC side sees a provisional response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provisional {
    /// Not reliable (no `Require: 100rel` or no RSeq): nothing to acknowledge.
    Unreliable,
    /// The next reliable 1xx: acknowledge it with a PRACK carrying this RAck.
    New { rseq: u32, cseq: u32 },
    /// A retransmission of one already acknowledged (same or lower RSeq): ignore.
    Duplicate,
    /// RSeq skipped ahead: drop it; the UAS will retransmit in order.
    OutOfOrder,
}

/// The UAC side of RFC 3262 for one dialog: the last RSeq seen per INVITE.
#[derive(Clone, Debug, Default)]
pub struct PrackUac {
    last: Option<(u32, u32)>,
}

impl PrackUac {
    pub fn on_provisional(&mut self, resp: &Message) -> Result<Provisional, DialogError> {
        let code = resp.status().unwrap_or(0);
        let Some(cseq) = resp.cseq().filter(|c| c.method == Method::Invite) else {
            return Ok(Provisional::Unreliable);
        };
        if !(101..200).contains(&code) || !resp.requires("100rel") {
            return Ok(Provisional::Unreliable);
        }
        let Some(rseq) = resp.rseq()? else {
            return Ok(Provisional::Unreliable);
        };
        match self.last {
            Some((seq, last)) if seq == cseq.seq => {
                if rseq <= last {
                    return Ok(Provisional::Duplicate);
                }
                if rseq != last.wrapping_add(1) {
                    return Ok(Provisional::OutOfOrder);
                }
            }
            _ => {}
        }
        self.last = Some((cseq.seq, rseq));
        Ok(Provisional::New {
            rseq,
            cseq: cseq.seq,
        })
    }
}
