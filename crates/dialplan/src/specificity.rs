//! Closest-match ranking: how many strings a pattern matches, counted exactly.
//!
//! CUCM routes to the pattern that matches the fewest strings. Here:
//!
//! - a *finite* pattern (no `!`, `?`, `+`) matches strings of one length only; its rank is the
//!   total number of strings, the product of its element set sizes (`2XXX` → 1000);
//! - an *infinite* pattern ranks after every finite one; between two infinite patterns the one
//!   that matches fewer strings **of the dialed length** is closer (`\+1!` beats `\+!` for
//!   `+14085551234`: 10¹⁰ against 10¹¹ strings of 12 characters).
//!
//! Counts are of distinct strings, not of ways to parse them: `[1-5]?[3-7]?` matches 7 strings
//! of length 1, not 10. They come from a subset construction over the pattern's NFA, run over
//! the handful of symbol groups the pattern distinguishes. Counts saturate at `u128::MAX`. A
//! pathological pattern whose subset construction would exceed [`MAX_SUBSETS`] states ranks as
//! `u128::MAX` (the least specific of its kind) instead of taking unbounded time; so do lengths
//! beyond [`crate::MAX_DIALED_LEN`], which never match anyway.

use crate::alphabet::SYMBOL_COUNT;
use crate::matcher::MAX_DIALED_LEN;
use crate::pattern::{Element, Repeat};
use std::collections::HashMap;

/// Bound on the distinct NFA state sets explored when counting an infinite pattern.
pub(crate) const MAX_SUBSETS: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Reach {
    Finite,
    Infinite,
}

/// A closest-match rank: smaller is closer. Finite patterns order before infinite ones; within
/// each kind, fewer matched strings is closer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Specificity(Reach, u128);

impl Specificity {
    pub(crate) fn finite(count: u128) -> Specificity {
        Specificity(Reach::Finite, count)
    }

    pub(crate) fn infinite(count_of_length: u128) -> Specificity {
        Specificity(Reach::Infinite, count_of_length)
    }

    /// Whether the pattern matches finitely many strings.
    pub fn is_finite(&self) -> bool {
        self.0 == Reach::Finite
    }

    /// For a finite pattern, how many strings it matches; for an infinite one, how many of the
    /// dialed length. Saturates at `u128::MAX`.
    pub fn count(&self) -> u128 {
        self.1
    }
}

/// Total strings matched by a pattern without repeats; `None` if it has any.
pub(crate) fn finite_count(elements: &[Element]) -> Option<u128> {
    elements.iter().try_fold(1u128, |acc, e| match e.repeat {
        Repeat::Once => Some(acc.saturating_mul(u128::from(e.class.len()))),
        Repeat::ZeroOrMore | Repeat::OneOrMore => None,
    })
}

/// Distinct strings of exactly `len` characters that `elements` match (dot ignored).
pub(crate) fn count_of_length(elements: &[Element], len: usize) -> u128 {
    if len > MAX_DIALED_LEN {
        return u128::MAX;
    }
    counts_by_length(elements, len)[len]
}

/// Distinct strings matched of each length `0..=max_len`.
pub(crate) fn counts_by_length(elements: &[Element], max_len: usize) -> Vec<u128> {
    let nfa = Nfa::new(elements);
    let mut counts = Vec::with_capacity(max_len + 1);
    let mut sets: HashMap<u128, u128> = HashMap::new();
    sets.insert(nfa.close(1), 1);
    for len in 0..=max_len {
        counts.push(
            sets.iter()
                .filter(|(set, _)| nfa.accepts(**set))
                .fold(0u128, |acc, (_, n)| acc.saturating_add(*n)),
        );
        if len == max_len {
            break;
        }
        let mut next: HashMap<u128, u128> = HashMap::with_capacity(sets.len());
        for (&set, &n) in &sets {
            for &(signature, weight) in &nfa.groups {
                let to = nfa.step(set, signature);
                if to != 0 {
                    let slot = next.entry(to).or_insert(0);
                    *slot = slot.saturating_add(n.saturating_mul(weight));
                }
            }
        }
        if next.len() > MAX_SUBSETS {
            counts.resize(max_len + 1, u128::MAX);
            return counts;
        }
        sets = next;
    }
    counts
}

/// The pattern as an NFA whose state `i` means "next, element `i`" and state `n` accepts.
struct Nfa<'a> {
    elements: &'a [Element],
    /// Symbol groups: (elements whose class holds the symbols, how many symbols). Symbols that
    /// no element accepts are left out: they lead nowhere.
    groups: Vec<(u64, u128)>,
}

impl<'a> Nfa<'a> {
    fn new(elements: &'a [Element]) -> Nfa<'a> {
        let mut groups: Vec<(u64, u128)> = Vec::new();
        for sym in 0..SYMBOL_COUNT as u8 {
            let signature = elements
                .iter()
                .enumerate()
                .filter(|(_, e)| e.class.contains(sym))
                .fold(0u64, |acc, (i, _)| acc | (1 << i));
            if signature == 0 {
                continue;
            }
            match groups.iter_mut().find(|(s, _)| *s == signature) {
                Some((_, weight)) => *weight += 1,
                None => groups.push((signature, 1)),
            }
        }
        Nfa { elements, groups }
    }

    /// Adds the states reachable by skipping `?` elements.
    fn close(&self, mut set: u128) -> u128 {
        for (i, e) in self.elements.iter().enumerate() {
            if e.repeat == Repeat::ZeroOrMore && set & (1 << i) != 0 {
                set |= 1 << (i + 1);
            }
        }
        set
    }

    /// States after reading one symbol whose group holds elements `signature`.
    fn step(&self, set: u128, signature: u64) -> u128 {
        let mut to = 0u128;
        for (i, e) in self.elements.iter().enumerate() {
            if set & (1 << i) != 0 && signature & (1 << i) != 0 {
                to |= 1 << (i + 1);
                if e.repeat != Repeat::Once {
                    to |= 1 << i;
                }
            }
        }
        self.close(to)
    }

    fn accepts(&self, set: u128) -> bool {
        set & (1 << self.elements.len()) != 0
    }
}

#[cfg(test)]
mod tests {
    use crate::Pattern;

    fn spec(p: &str, len: usize) -> super::Specificity {
        Pattern::parse(p).unwrap().specificity(len)
    }

    #[test]
    fn finite_counts() {
        assert_eq!(spec("2000", 4).count(), 1);
        assert_eq!(spec("20XX", 4).count(), 100);
        assert_eq!(spec("2XXX", 4).count(), 1000);
        assert_eq!(spec("[^0]X", 2).count(), 90);
        assert_eq!(spec("9.[2-9]XX", 4).count(), 800);
        assert!(spec("2XXX", 4).is_finite());
        assert_eq!(spec(&"X".repeat(64), 64).count(), u128::MAX, "saturates");
    }

    #[test]
    fn closest_match_order() {
        assert!(spec("2000", 4) < spec("20XX", 4));
        assert!(spec("20XX", 4) < spec("2XXX", 4));
        assert!(spec("2XXX", 4) < spec("2!", 4));
        assert!(spec("9.XXXX", 5) < spec("9.!", 5));
        assert!(spec(r"\+1!", 12) < spec(r"\+!", 12));
        assert_eq!(spec(r"\+1!", 12).count(), 10u128.pow(10));
        assert_eq!(spec(r"\+!", 12).count(), 10u128.pow(11));
        assert!(!spec("2!", 4).is_finite());
    }

    #[test]
    fn infinite_counts_are_of_distinct_strings() {
        assert_eq!(spec("[1-5]?[3-7]?", 1).count(), 7);
        assert_eq!(spec("X?X?", 1).count(), 10);
        assert_eq!(spec("X?X?", 2).count(), 100);
        // 5 x 7 strings starting in [1-5], 2 x 5 starting in [67].
        assert_eq!(spec("[1-5]?[3-7]?", 2).count(), 45);
        assert_eq!(spec("X?X?", 3).count(), 1000, "? is zero or more");
        assert_eq!(spec("1X?", 0).count(), 0);
        assert_eq!(spec("!", 0).count(), 0);
        assert_eq!(spec("1+", 5).count(), 1);
        assert_eq!(
            spec("!", 200).count(),
            u128::MAX,
            "beyond the dialable length"
        );
    }
}
