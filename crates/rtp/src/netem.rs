//! A seeded network emulator in virtual time, for media scenarios: each datagram sent is lost,
//! delayed (a fixed delay plus uniform jitter), held back (reordering) or duplicated by the roll
//! of a seeded die, and comes out when the caller's virtual clock reaches its delivery time.
//!
//! Test support (behind `cfg(test)` or the `netem` feature); no clock, no threads, no sockets.
//! Every `send` says what became of the datagram, so a test can compare what a receiver computed
//! against what the network really did.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use crate::rng::SplitMix64;

/// What the network does to each datagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetemConfig {
    /// Probability of loss, 0..=1.
    pub loss: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter`.
    pub jitter: Duration,
    /// Probability that a datagram is held back by `reorder_by` on top of its delay.
    pub reorder: f64,
    pub reorder_by: Duration,
    /// Probability that a datagram is delivered twice (the copy with its own delay).
    pub duplicate: f64,
}

impl Default for NetemConfig {
    /// A perfect network: 10 ms one way, nothing else.
    fn default() -> NetemConfig {
        NetemConfig {
            loss: 0.0,
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            reorder: 0.0,
            reorder_by: Duration::ZERO,
            duplicate: 0.0,
        }
    }
}

/// What became of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Lost,
    Delivered { at: Instant },
    Duplicated { at: Instant, copy_at: Instant },
}

/// Counts of what the network did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetemStats {
    pub sent: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub delivered: u64,
}

struct InFlight<T> {
    at: Instant,
    order: u64,
    item: T,
}

impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl<T> Eq for InFlight<T> {}
impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for InFlight<T> {
    /// Reversed, so the max-heap pops the earliest (then the first sent).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// One direction of an emulated network carrying `T`s.
pub struct Netem<T> {
    config: NetemConfig,
    rng: SplitMix64,
    queue: BinaryHeap<InFlight<T>>,
    order: u64,
    stats: NetemStats,
}

impl<T: Clone> Netem<T> {
    pub fn new(config: NetemConfig, seed: u64) -> Netem<T> {
        Netem {
            config,
            rng: SplitMix64::new(seed),
            queue: BinaryHeap::new(),
            order: 0,
            stats: NetemStats::default(),
        }
    }

    pub fn set_config(&mut self, config: NetemConfig) {
        self.config = config;
    }

    fn delay(&mut self) -> Duration {
        let mut d = self.config.delay + self.config.jitter.mul_f64(self.rng.next_f64());
        if self.rng.chance(self.config.reorder) {
            self.stats.reordered += 1;
            d += self.config.reorder_by;
        }
        d
    }

    fn push(&mut self, at: Instant, item: T) {
        self.order += 1;
        self.queue.push(InFlight {
            at,
            order: self.order,
            item,
        });
    }

    /// Sends `item` at `now`; says whether and when it will arrive.
    pub fn send(&mut self, now: Instant, item: T) -> Fate {
        self.stats.sent += 1;
        if self.rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return Fate::Lost;
        }
        let at = now + self.delay();
        if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            let copy_at = now + self.delay();
            self.push(at, item.clone());
            self.push(copy_at, item);
            return Fate::Duplicated { at, copy_at };
        }
        self.push(at, item);
        Fate::Delivered { at }
    }

    /// The next datagram due at or before `now`, earliest first.
    pub fn poll(&mut self, now: Instant) -> Option<T> {
        if self.queue.peek()?.at > now {
            return None;
        }
        self.stats.delivered += 1;
        self.queue.pop().map(|f| f.item)
    }

    /// When the next datagram arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|f| f.at)
    }

    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    pub fn stats(&self) -> NetemStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_fates_and_loss_near_the_rate() {
        let t0 = Instant::now();
        let config = NetemConfig {
            loss: 0.1,
            jitter: Duration::from_millis(30),
            reorder: 0.05,
            reorder_by: Duration::from_millis(50),
            duplicate: 0.01,
            ..NetemConfig::default()
        };
        let mut a = Netem::new(config, 42);
        let mut b = Netem::new(config, 42);
        let mut lost = 0;
        for i in 0..10_000u32 {
            let now = t0 + Duration::from_millis(20) * i;
            let fa = a.send(now, i);
            assert_eq!(fa, b.send(now, i));
            lost += u32::from(fa == Fate::Lost);
            if let Fate::Delivered { at } = fa {
                assert!(at >= now + config.delay);
                assert!(at <= now + config.delay + config.jitter + config.reorder_by);
            }
        }
        assert!((900..1100).contains(&lost), "{lost}");
        let end = t0 + Duration::from_secs(1_000);
        let mut out = Vec::new();
        while let Some(x) = a.poll(end) {
            out.push(x);
        }
        let s = a.stats();
        assert_eq!(s.sent, 10_000);
        assert_eq!(out.len() as u64, s.sent - s.lost + s.duplicated);
        assert_eq!(s.delivered, out.len() as u64);
        // Jitter above the 20 ms spacing reorders some.
        assert!(out.windows(2).any(|w| w[1] < w[0]));
    }

    #[test]
    fn nothing_comes_out_before_its_time() {
        let t0 = Instant::now();
        let mut n = Netem::new(NetemConfig::default(), 1);
        n.send(t0, "x");
        assert_eq!(n.poll(t0 + Duration::from_millis(9)), None);
        assert_eq!(n.next_delivery(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(n.poll(t0 + Duration::from_millis(10)), Some("x"));
        assert_eq!(n.in_flight(), 0);
    }
}
