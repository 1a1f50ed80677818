//! The channels of one trunk: which numbers are free, and which one hunting takes next.
//!
//! Free numbers are kept as disjoint ranges, so a pool of any size (an unlimited SIP trunk is
//! `1..=u32::MAX`) costs memory in proportion to how fragmented it is, and every operation is
//! a logarithmic map lookup. Hunting (as a PRI switch picks the B-channel for a new call):
//! ascending takes the lowest free number, descending the highest, cyclic the next free one
//! after the last seized, wrapping around.

use std::collections::BTreeMap;
use tether_store::model::Hunting;

#[derive(Clone, Debug)]
pub(crate) struct ChannelPool {
    highest: u32,
    hunting: Hunting,
    /// Free ranges `start -> end` (inclusive), disjoint and never adjacent.
    free: BTreeMap<u32, u32>,
    in_use: u32,
    /// The number seized last (for cyclic hunting).
    last: Option<u32>,
}

impl ChannelPool {
    /// Channels `1..=highest`, all free.
    pub(crate) fn new(highest: u32, hunting: Hunting) -> ChannelPool {
        let mut free = BTreeMap::new();
        if highest > 0 {
            free.insert(1, highest);
        }
        ChannelPool {
            highest,
            hunting,
            free,
            in_use: 0,
            last: None,
        }
    }

    pub(crate) fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Takes the channel hunting picks; `None` when every channel is busy.
    pub(crate) fn seize(&mut self) -> Option<u32> {
        let n = match self.hunting {
            Hunting::Ascending => self.free.first_key_value().map(|(s, _)| *s)?,
            Hunting::Descending => self.free.last_key_value().map(|(_, e)| *e)?,
            Hunting::Cyclic => self.next_after_last()?,
        };
        self.take(n);
        self.in_use += 1;
        self.last = Some(n);
        Some(n)
    }

    fn next_after_last(&self) -> Option<u32> {
        let after = self.last.and_then(|l| l.checked_add(1)).unwrap_or(1);
        if let Some((_, e)) = self.free.range(..=after).next_back() {
            if *e >= after {
                return Some(after);
            }
        }
        self.free
            .range(after..)
            .next()
            .or_else(|| self.free.first_key_value())
            .map(|(s, _)| *s)
    }

    /// Removes `n` (known free) from its free range.
    fn take(&mut self, n: u32) {
        let Some((&s, &e)) = self.free.range(..=n).next_back() else {
            return;
        };
        if e < n {
            return;
        }
        self.free.remove(&s);
        if s < n {
            self.free.insert(s, n - 1);
        }
        if n < e {
            self.free.insert(n + 1, e);
        }
    }

    /// Whether `n` is a channel of this pool and currently seized.
    pub(crate) fn is_seized(&self, n: u32) -> bool {
        if n == 0 || n > self.highest {
            return false;
        }
        !matches!(self.free.range(..=n).next_back(), Some((_, &e)) if e >= n)
    }

    /// Frees `n`; `false` (and nothing changes) when it was not seized.
    pub(crate) fn release(&mut self, n: u32) -> bool {
        if !self.is_seized(n) {
            return false;
        }
        let mut start = n;
        let mut end = n;
        if let Some((&s, &e)) = self.free.range(..n).next_back() {
            if e.checked_add(1) == Some(n) {
                self.free.remove(&s);
                start = s;
            }
        }
        if let Some(next) = n.checked_add(1) {
            if let Some(e) = self.free.remove(&next) {
                end = e;
            }
        }
        self.free.insert(start, end);
        self.in_use = self.in_use.saturating_sub(1);
        true
    }

    /// How many free ranges the pool keeps (its memory, for tests).
    #[cfg(test)]
    pub(crate) fn fragments(&self) -> usize {
        self.free.len()
    }
}
