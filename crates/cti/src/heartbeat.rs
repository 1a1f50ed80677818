//! Liveness timers: one due time per session in a min-heap. Entries are not removed when a
//! session's due time moves; an entry is live only while it equals the session's `check_at`,
//! so stale ones are skipped when they surface (at worst an early wake-up).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::ids::SessionId;

#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, SessionId)>>,
}

impl Timers {
    pub fn schedule(&mut self, at: Instant, session: SessionId) {
        self.heap.push(Reverse((at, session)));
    }

    /// The earliest entry, live or stale.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes the next entry due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, SessionId)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }
}
