//! A hashed timer wheel: the pacing clock of thousands of 20 ms media streams.
//!
//! Time is cut into ticks of [`TICK`] (250 µs) counted from an origin; a deadline lives in slot
//! `tick mod SLOTS` ([`SLOTS`] = 1024, so one turn of the wheel spans 256 ms). Insert and cancel
//! are O(1): a timer is an index into a slab plus its place in its slot's list (cancel is a
//! swap-remove). Polling walks the slots from the last polled tick up to `now`'s and takes out the
//! entries whose deadline has passed — compared exactly, so the tick only decides where an entry is
//! kept, never when it fires: nothing fires early and nothing is rounded. Deadlines more than one
//! turn ahead share a slot with nearer ones and are skipped until their turn comes.
//!
//! Entries come out in deadline order (ties in insertion order). Sans-IO: the wheel is given
//! `now`; it never reads a clock.

use std::time::{Duration, Instant};

/// Width of one slot.
pub const TICK: Duration = Duration::from_micros(250);

/// Number of slots (a power of two); one turn of the wheel is `TICK * SLOTS`.
pub const SLOTS: usize = 1024;

/// A handle to a scheduled timer, for [`TimerWheel::cancel`]. Stale handles (the timer fired or
/// was cancelled) are recognized and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    index: u32,
    generation: u32,
}

#[derive(Debug)]
enum Node<K> {
    Vacant {
        generation: u32,
    },
    Occupied {
        generation: u32,
        deadline: Instant,
        tick: u64,
        seq: u64,
        pos: u32,
        key: K,
    },
}

/// A hashed timer wheel holding keys `K` until their deadline.
#[derive(Debug)]
pub struct TimerWheel<K> {
    origin: Instant,
    slots: Vec<Vec<u32>>,
    nodes: Vec<Node<K>>,
    free: Vec<u32>,
    /// Every entry's tick is at least this; poll walks from here.
    cursor: u64,
    len: usize,
    seq: u64,
    expired: Vec<(Instant, u64, K)>,
}

impl<K> TimerWheel<K> {
    /// An empty wheel whose tick 0 starts at `origin` (any instant not after the first deadline
    /// works; deadlines before it are due at once).
    pub fn new(origin: Instant) -> Self {
        TimerWheel {
            origin,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            nodes: Vec::new(),
            free: Vec::new(),
            cursor: 0,
            len: 0,
            seq: 0,
            expired: Vec::new(),
        }
    }

    /// Number of scheduled timers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn tick_of(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin).as_nanos();
        (since / TICK.as_nanos()) as u64
    }

    fn slot_of(tick: u64) -> usize {
        (tick as usize) & (SLOTS - 1)
    }

    /// Schedules `key` at `deadline`. A deadline already past fires at the next poll.
    pub fn insert(&mut self, deadline: Instant, key: K) -> TimerId {
        let tick = self.tick_of(deadline).max(self.cursor);
        let slot = Self::slot_of(tick);
        let seq = self.seq;
        self.seq += 1;
        let pos = self.slots[slot].len() as u32;
        let (index, generation) = match self.free.pop() {
            Some(index) => {
                let generation = match self.nodes[index as usize] {
                    Node::Vacant { generation } => generation,
                    Node::Occupied { .. } => unreachable!("free list holds an occupied node"),
                };
                (index, generation)
            }
            None => {
                self.nodes.push(Node::Vacant { generation: 0 });
                ((self.nodes.len() - 1) as u32, 0)
            }
        };
        self.nodes[index as usize] = Node::Occupied {
            generation,
            deadline,
            tick,
            seq,
            pos,
            key,
        };
        self.slots[slot].push(index);
        self.len += 1;
        TimerId { index, generation }
    }

    /// The deadline of a scheduled timer.
    pub fn deadline(&self, id: TimerId) -> Option<Instant> {
        match self.nodes.get(id.index as usize) {
            Some(Node::Occupied {
                generation,
                deadline,
                ..
            }) if *generation == id.generation => Some(*deadline),
            _ => None,
        }
    }

    /// Removes a timer before it fires, returning its key; `None` if it already fired or was
    /// cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<K> {
        match self.nodes.get(id.index as usize) {
            Some(Node::Occupied { generation, .. }) if *generation == id.generation => {}
            _ => return None,
        }
        let (_, _, key) = self.remove(id.index);
        Some(key)
    }

    /// Takes node `index` (occupied) out of its slot and the slab.
    fn remove(&mut self, index: u32) -> (Instant, u64, K) {
        let vacant = Node::Vacant { generation: 0 };
        let node = std::mem::replace(&mut self.nodes[index as usize], vacant);
        let Node::Occupied {
            generation,
            deadline,
            tick,
            seq,
            pos,
            key,
        } = node
        else {
            unreachable!("remove of a vacant node");
        };
        self.nodes[index as usize] = Node::Vacant {
            generation: generation.wrapping_add(1),
        };
        let slot = &mut self.slots[Self::slot_of(tick)];
        slot.swap_remove(pos as usize);
        if let Some(&moved) = slot.get(pos as usize) {
            if let Node::Occupied { pos: p, .. } = &mut self.nodes[moved as usize] {
                *p = pos;
            }
        }
        self.free.push(index);
        self.len -= 1;
        (deadline, seq, key)
    }

    /// Takes out of slot `slot` every entry due at `now` into `self.expired`.
    fn drain_slot(&mut self, slot: usize, now: Instant) {
        let mut i = 0;
        while let Some(&index) = self.slots[slot].get(i) {
            let due = matches!(
                &self.nodes[index as usize],
                Node::Occupied { deadline, .. } if *deadline <= now
            );
            if due {
                // swap_remove brings the slot's last entry to `i`: look at `i` again.
                let entry = self.remove(index);
                self.expired.push(entry);
            } else {
                i += 1;
            }
        }
    }

    /// Removes and yields, in deadline order, every timer whose deadline is at or before `now`.
    pub fn poll_expired(&mut self, now: Instant) -> impl Iterator<Item = (Instant, K)> + '_ {
        self.expired.clear();
        let now_tick = self.tick_of(now).max(self.cursor);
        if now_tick - self.cursor >= SLOTS as u64 {
            for slot in 0..SLOTS {
                self.drain_slot(slot, now);
            }
        } else {
            for tick in self.cursor..=now_tick {
                self.drain_slot(Self::slot_of(tick), now);
            }
        }
        self.cursor = now_tick;
        self.expired
            .sort_unstable_by_key(|&(deadline, seq, _)| (deadline, seq));
        self.expired
            .drain(..)
            .map(|(deadline, _, key)| (deadline, key))
    }

    /// The earliest deadline, exact. Looks at the slots of the coming turn first (the nearest
    /// non-empty one holds the answer), and only when every timer is more than a turn away at all
    /// of them.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        for tick in self.cursor..self.cursor + SLOTS as u64 {
            let earliest = self.slots[Self::slot_of(tick)]
                .iter()
                .filter_map(|&index| match &self.nodes[index as usize] {
                    Node::Occupied {
                        tick: t, deadline, ..
                    } if *t == tick => Some(*deadline),
                    _ => None,
                })
                .min();
            if earliest.is_some() {
                return earliest;
            }
        }
        self.nodes
            .iter()
            .filter_map(|node| match node {
                Node::Occupied { deadline, .. } => Some(*deadline),
                Node::Vacant { .. } => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests;
