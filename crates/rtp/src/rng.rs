//! A tiny seeded generator (SplitMix64) for the media rooms' random choices: SSRCs, initial
//! sequence numbers and timestamps, RTCP interval randomization, the network emulator's dice.
//!
//! Deterministic by construction, so a scenario replays from its seed. Not for secrets: nothing
//! here needs to be unpredictable to an attacker beyond what RFC 3550 asks of an SSRC.

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state, full period, good enough statistics for
/// simulation and identifiers.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform float in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    #[cfg_attr(not(any(test, feature = "netem")), allow(dead_code))]
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_roughly_uniform() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = SplitMix64::new(1);
        let n = 100_000;
        let hits = (0..n).filter(|_| r.chance(0.25)).count();
        let share = hits as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.01, "{share}");
    }
}
