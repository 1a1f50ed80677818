//! Overlapping INVITEs in one dialog (RFC 3261 §14): a re-INVITE (or an offer in an UPDATE,
//! RFC 3311 §5.2) arriving while ours is pending is answered 491; one arriving while the peer's
//! previous INVITE is unanswered gets 500 with a random Retry-After of 0-10 s (§14.2); when ours
//! gets 491 we wait — 2.1-4 s in 10 ms steps if we generated the Call-ID, 0-2 s otherwise
//! (§14.1) — and send it again. This room tracks and schedules; it builds no messages.

use super::random::RandomSource;
use crate::message::Message;
use std::time::{Duration, Instant};

/// What to do with a re-INVITE that arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncomingInvite {
    Accept,
    /// Ours is pending: 491 Request Pending.
    Glare,
    /// The peer's previous INVITE is unanswered: 500 with this Retry-After (seconds).
    Overlap {
        retry_after: u32,
    },
}

/// The §14.1 wait before sending again a request that got 491.
pub fn glare_backoff(owns_call_id: bool, rng: &mut dyn RandomSource) -> Duration {
    let units = if owns_call_id {
        rng.in_range(210, 400)
    } else {
        rng.in_range(0, 200)
    };
    Duration::from_millis(u64::from(units) * 10)
}

#[derive(Clone, Debug, Default)]
pub struct Reinvite {
    /// CSeq number of our INVITE awaiting its final response.
    ours: Option<u32>,
    /// CSeq number of the peer's INVITE we have not answered finally.
    theirs: Option<u32>,
    /// A request to send again after a 491, and when.
    retry: Option<(Instant, Message)>,
}

impl Reinvite {
    pub fn ours_pending(&self) -> bool {
        self.ours.is_some()
    }
    pub fn theirs_pending(&self) -> bool {
        self.theirs.is_some()
    }
    pub fn on_invite_sent(&mut self, seq: u32) {
        self.ours = Some(seq);
        self.retry = None;
    }
    /// A final response to our INVITE arrived.
    pub fn on_final_received(&mut self, seq: u32) {
        if self.ours == Some(seq) {
            self.ours = None;
        }
    }
    /// We sent a final response to the peer's INVITE.
    pub fn on_final_sent(&mut self, seq: u32) {
        if self.theirs == Some(seq) {
            self.theirs = None;
        }
    }

    /// Decides on an INVITE from the peer numbered `seq` and, when accepted, records it.
    pub fn on_invite_received(&mut self, seq: u32, rng: &mut dyn RandomSource) -> IncomingInvite {
        if self.theirs.is_some_and(|t| t < seq) {
            return IncomingInvite::Overlap {
                retry_after: rng.in_range(0, 10),
            };
        }
        if self.ours.is_some() {
            return IncomingInvite::Glare;
        }
        self.theirs = Some(seq);
        IncomingInvite::Accept
    }

    /// Our request got 491: keep it to send again after the back-off; returns when.
    pub fn schedule_retry(
        &mut self,
        now: Instant,
        req: Message,
        owns_call_id: bool,
        rng: &mut dyn RandomSource,
    ) -> Instant {
        let at = now + glare_backoff(owns_call_id, rng);
        self.retry = Some((at, req));
        at
    }

    /// Forgets a scheduled retry (the dialog ended).
    pub fn cancel_retry(&mut self) {
        self.retry = None;
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retry.as_ref().map(|(at, _)| *at)
    }

    /// The request to send again, once its back-off has passed.
    pub fn take_due(&mut self, now: Instant) -> Option<Message> {
        match &self.retry {
            Some((at, _)) if now >= *at => self.retry.take().map(|(_, m)| m),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::random::SeededRandom;
    use super::*;

    #[test]
    fn backoff_ranges_for_owner_and_non_owner() {
        let mut rng = SeededRandom::new(42);
        let (mut lo, mut hi) = (u128::MAX, 0);
        for _ in 0..2000 {
            let d = glare_backoff(true, &mut rng).as_millis();
            assert!((2100..=4000).contains(&d) && d.is_multiple_of(10), "{d}");
            lo = lo.min(d);
            hi = hi.max(d);
        }
        assert!(lo < 2200 && hi > 3900);
        for _ in 0..2000 {
            let d = glare_backoff(false, &mut rng).as_millis();
            assert!(d <= 2000 && d.is_multiple_of(10), "{d}");
        }
    }

    #[test]
    fn glare_and_overlap() {
        let mut rng = SeededRandom::new(1);
        let mut r = Reinvite::default();
        r.on_invite_sent(5);
        assert_eq!(r.on_invite_received(3, &mut rng), IncomingInvite::Glare);
        r.on_final_received(5);
        assert_eq!(r.on_invite_received(3, &mut rng), IncomingInvite::Accept);
        match r.on_invite_received(4, &mut rng) {
            IncomingInvite::Overlap { retry_after } => assert!(retry_after <= 10),
            other => panic!("{other:?}"),
        }
        r.on_final_sent(3);
        assert_eq!(r.on_invite_received(4, &mut rng), IncomingInvite::Accept);
    }
}
