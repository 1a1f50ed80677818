//! The random source the dialog layer draws from (RSeq start values, glare back-off, Retry-After),
//! injected so tests and simulations are reproducible from a seed. Not for secrets: tags,
//! branches and Call-IDs are made elsewhere.

/// A source of uniformly distributed 32-bit values.
pub trait RandomSource {
    fn next_u32(&mut self) -> u32;

    /// A value in `lo..=hi` (`lo` when the range is empty).
    fn in_range(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi - lo) + 1;
        lo + ((u64::from(self.next_u32()) * span) >> 32) as u32
    }
}

/// SplitMix64: small, fast, and fully determined by its seed.
#[derive(Clone, Debug)]
pub struct SeededRandom(u64);

impl SeededRandom {
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl RandomSource for SeededRandom {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_inclusive_and_reproducible() {
        let mut a = SeededRandom::new(7);
        let mut b = SeededRandom::new(7);
        let mut seen = [false; 3];
        for _ in 0..200 {
            let v = a.in_range(1, 3);
            assert_eq!(v, b.in_range(1, 3));
            seen[(v - 1) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(a.in_range(5, 5), 5);
    }
}
