//! Test helpers for the DTMF rooms: a seeded PRNG (the crate's SplitMix64, so tests replay
//! from their seed), Gaussian noise, and a tiny deterministic packet shuffler that drops,
//! duplicates and reorders telephone-event packets. A shared network emulator for whole media
//! legs lives elsewhere; this one only serves the DTMF tests.

use std::time::{Duration, Instant};

use super::sender::{DtmfSender, EventPacket};

/// The crate's SplitMix64 with the distributions test signals and loss patterns need.
pub struct Rng(crate::rng::SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(crate::rng::SplitMix64::new(seed))
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.next_f64()
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// A packet as the network hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: Instant,
    pub packet: EventPacket,
    /// Index of the packet in send order (duplicates share it).
    pub index: usize,
}

/// What the shuffler does to packets.
#[derive(Debug, Clone, Copy)]
pub struct NetProfile {
    pub loss: f64,
    pub duplicate: f64,
    /// Each copy is delayed by `base + uniform(0, jitter)`, which reorders close packets.
    pub base: Duration,
    pub jitter: Duration,
}

/// Runs a sender to completion in virtual time: every packet with its send time. The media clock
/// starts at `ts0` and runs at 8 kHz.
pub fn run_sender(sender: &mut DtmfSender, t0: Instant, ts0: u32) -> Vec<(Instant, EventPacket)> {
    let mut out = Vec::new();
    while let Some(due) = sender.poll_timeout() {
        let media_ts = ts0.wrapping_add(((due - t0).as_micros() * 8 / 1000) as u32);
        while let Some(p) = sender.poll(due, media_ts) {
            out.push((due, p));
        }
    }
    out
}

/// Drops, duplicates and delays packets; returns them in arrival order.
pub fn shuffle(sent: &[(Instant, EventPacket)], net: NetProfile, rng: &mut Rng) -> Vec<Arrival> {
    let mut out = Vec::new();
    for (index, (at, packet)) in sent.iter().enumerate() {
        let copies = if rng.unit() < net.loss {
            0
        } else if rng.unit() < net.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = net.base + net.jitter.mul_f64(rng.unit());
            out.push(Arrival {
                at: *at + delay,
                packet: *packet,
                index,
            });
        }
    }
    out.sort_by_key(|a| a.at);
    out
}
