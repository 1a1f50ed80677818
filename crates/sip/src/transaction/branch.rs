//! Via branch generation: `z9hG4bK` followed by 64 random bits and a counter.
//!
//! The random bits come from a SplitMix64 sequence seeded by the caller, so that a simulation is
//! reproducible from its seed; a server seeds it from the operating system. The counter makes
//! branches from one generator unique even if the sequence repeated. This room reads no clock
//! and no entropy source of its own.

use crate::digits::push_hex;
use crate::headers::via::MAGIC_COOKIE;

#[derive(Clone, Debug)]
pub struct BranchGenerator {
    state: u64,
    counter: u64,
}

impl BranchGenerator {
    pub fn new(seed: u64) -> BranchGenerator {
        BranchGenerator {
            state: seed,
            counter: 0,
        }
    }

    /// The next value of the SplitMix64 sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A new RFC 3261 branch.
    pub fn branch(&mut self) -> String {
        self.counter = self.counter.wrapping_add(1);
        let mut b = String::with_capacity(MAGIC_COOKIE.len() + 24);
        b.push_str(MAGIC_COOKIE);
        push_hex(&mut b, self.next_u64(), 16);
        push_hex(&mut b, self.counter, 0);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_are_cookied_unique_and_reproducible() {
        let mut a = BranchGenerator::new(7);
        let mut b = BranchGenerator::new(7);
        let xs: Vec<String> = (0..1000).map(|_| a.branch()).collect();
        let ys: Vec<String> = (0..1000).map(|_| b.branch()).collect();
        assert_eq!(xs, ys);
        assert!(xs
            .iter()
            .all(|x| x.starts_with("z9hG4bK") && x.len() > 7 + 16));
        let set: std::collections::HashSet<_> = xs.iter().collect();
        assert_eq!(set.len(), xs.len());
        assert_ne!(BranchGenerator::new(8).branch(), xs[0]);
    }
}
