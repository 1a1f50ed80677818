//! A small multiply-rotate hasher for the plan's lookup maps (digits → literal pattern, name →
//! calling search space). Their keys are provisioned numbers and names, chosen by the
//! administrator rather than by a peer, so SipHash's flooding resistance buys nothing here
//! while its cost was a quarter of a whole analysis. Maps built from peer input must keep the
//! standard hasher.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// 2^64 divided by the golden ratio: an odd constant whose product spreads every input bit.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SPREAD);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// Folds the well-mixed high bits down: the map picks buckets by the low bits, which a
    /// product alone leaves dependent on the low input bits only.
    fn finish(&self) -> u64 {
        let h = (self.0 ^ (self.0 >> 32)).wrapping_mul(SPREAD);
        h ^ (h >> 29)
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn distinct_numbers_spread_over_buckets() {
        let build = BuildHasherDefault::<FastHasher>::default();
        // Low bits pick the bucket: 100,000 consecutive DNs must not pile up in a few of them.
        let buckets: HashSet<u64> = (200_000..300_000u32)
            .map(|n| build.hash_one(n.to_string()) & 0xffff)
            .collect();
        assert!(
            buckets.len() > 50_000,
            "{} of 65536 buckets used",
            buckets.len()
        );
        let top: HashSet<u64> = (200_000..201_000u32)
            .map(|n| build.hash_one(n.to_string()) >> 57)
            .collect();
        assert_eq!(top.len(), 128, "the top 7 bits (the map's tag) vary too");
        assert_ne!(build.hash_one("12345678"), build.hash_one("123456780"));
    }
}
