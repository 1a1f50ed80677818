//! A deadline queue: the engine's own timers (delay before ringing, answer too late, dialog
//! timers of its sessions). Entries are never removed early; a popped entry whose owner has
//! moved on is ignored by the engine, which keeps arming and cancelling O(log n).

use std::collections::BTreeSet;
use std::time::Instant;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKind {
    /// Start the B leg `leg` of `call` (delay-before-ringing elapsed).
    StartLeg { call: u64, leg: usize },
    /// The leg Tether placed on `side` of `call` rang too long: cancel it.
    AnswerTooLate { call: u64, side: crate::call::Side },
    /// The dialogs of `call` asked to be woken.
    Dialogs { call: u64 },
    /// Registrations may have expired.
    Bindings,
}

#[derive(Debug, Default)]
pub struct TimerQueue {
    set: BTreeSet<(Instant, u64, TimerKind)>,
    seq: u64,
}

impl TimerQueue {
    pub fn arm(&mut self, at: Instant, kind: TimerKind) {
        self.seq += 1;
        self.set.insert((at, self.seq, kind));
    }

    pub fn next(&self) -> Option<Instant> {
        self.set.first().map(|(at, _, _)| *at)
    }

    /// The next timer due at `now`, removed from the queue.
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerKind> {
        let first = *self.set.first()?;
        if first.0 <= now {
            self.set.remove(&first);
            Some(first.2)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}
