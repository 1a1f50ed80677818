//! The lookup structures of a [`crate::DialPlan`] and the closest-match search over them.
//!
//! Per partition, literal patterns (one string each — every directory number) sit in a
//! `HashMap` keyed by the digits they match: a literal is the most specific match possible, so
//! the first partition in CSS order with a literal hit wins without looking further. Wildcard
//! patterns are bucketed by the symbols a match can start with, and each carries cheap
//! filters (length range, leading literal prefix) and its precomputed rank for every dialable
//! length, so a candidate is only run through the matcher when it could beat the best so far.
//!
//! Ties between equally specific matches go to the earlier partition in the CSS, then (within
//! one partition) to the pattern whose text sorts first, so the result never depends on the
//! order the store listed the patterns in.

use crate::alphabet::{Class, SYMBOLS, SYMBOL_COUNT};
use crate::analysis::ResolvedRoute;
use crate::matcher::{Input, MAX_DIALED_LEN};
use crate::pattern::{PatternMatch, Repeat};
use crate::plan::{Entry, Inner};
use crate::specificity::{self, Specificity};
use std::cmp::Ordering;
use std::collections::HashMap;

/// An entry with everything analysis needs precomputed.
pub(crate) struct Compiled {
    pub(crate) entry: Entry,
    /// Some for [`crate::Target::Route`], resolved at build time.
    pub(crate) route: Option<ResolvedRoute>,
    rank: Rank,
    min_len: usize,
    max_len: usize,
    /// The leading characters every match starts with.
    prefix: String,
    /// Symbols a match can start with.
    first: Class,
    literal: Option<(String, PatternMatch)>,
}

enum Rank {
    Finite(u128),
    /// Strings matched of each length `0..=MAX_DIALED_LEN`.
    Infinite(Box<[u128]>),
}

impl Compiled {
    pub(crate) fn new(entry: Entry, route: Option<ResolvedRoute>) -> Compiled {
        let elements = entry.pattern.elements();
        let rank = match specificity::finite_count(elements) {
            Some(n) => Rank::Finite(n),
            None => Rank::Infinite(
                specificity::counts_by_length(elements, MAX_DIALED_LEN).into_boxed_slice(),
            ),
        };
        let min_len = elements
            .iter()
            .filter(|e| e.repeat != Repeat::ZeroOrMore)
            .count();
        let max_len = match rank {
            Rank::Finite(_) => elements.len(),
            Rank::Infinite(_) => usize::MAX,
        };
        let prefix = elements
            .iter()
            .map_while(|e| e.literal())
            .map(|s| SYMBOLS[usize::from(s)])
            .collect();
        let mut first = Class::EMPTY;
        for e in elements {
            first = first.union(e.class);
            if e.repeat != Repeat::ZeroOrMore {
                break;
            }
        }
        let literal = entry.pattern.literal_digits();
        Compiled {
            entry,
            route,
            rank,
            min_len,
            max_len,
            prefix,
            first,
            literal,
        }
    }

    fn specificity(&self, len: usize) -> Specificity {
        match &self.rank {
            Rank::Finite(n) => Specificity::finite(*n),
            Rank::Infinite(by_len) => {
                Specificity::infinite(by_len.get(len).copied().unwrap_or(u128::MAX))
            }
        }
    }

    fn admits(&self, digits: &str) -> bool {
        (self.min_len..=self.max_len).contains(&digits.len()) && digits.starts_with(&self.prefix)
    }
}

/// One partition's patterns.
pub(crate) struct PartitionIndex {
    pub(crate) name: String,
    literals: HashMap<String, (u32, PatternMatch)>,
    /// Wildcard entries by the symbol a match starts with.
    buckets: [Vec<u32>; SYMBOL_COUNT],
    /// Wildcard pattern texts, for duplicate detection while building.
    wildcard_texts: HashMap<String, u32>,
}

impl PartitionIndex {
    pub(crate) fn new(name: String) -> PartitionIndex {
        PartitionIndex {
            name,
            literals: HashMap::new(),
            buckets: Default::default(),
            wildcard_texts: HashMap::new(),
        }
    }

    /// Indexes entry `id`; on a duplicate, returns the pattern text it duplicates.
    pub(crate) fn insert(&mut self, id: u32, c: &Compiled, entries: &[Compiled]) -> Option<String> {
        let existing = |other: u32| {
            entries
                .get(other as usize)
                .map(|e| e.entry.pattern.as_str().to_owned())
        };
        match &c.literal {
            Some((digits, m)) => match self.literals.get(digits) {
                Some(&(other, _)) => return existing(other),
                None => {
                    self.literals.insert(digits.clone(), (id, *m));
                }
            },
            None => {
                let text = c.entry.pattern.as_str();
                if let Some(&other) = self.wildcard_texts.get(text) {
                    return existing(other);
                }
                self.wildcard_texts.insert(text.to_owned(), id);
                for s in c.first.symbols() {
                    self.buckets[usize::from(s)].push(id);
                }
            }
        }
        None
    }

    /// Drops build-only state.
    pub(crate) fn finish(&mut self) {
        self.wildcard_texts = HashMap::new();
        self.literals.shrink_to_fit();
    }
}

impl Inner {
    /// The closest match for `digits` among the partitions `css` (ids, in search order).
    pub(crate) fn closest(
        &self,
        css: &[u32],
        digits: &str,
        input: &Input,
    ) -> Option<(u32, PatternMatch)> {
        for &pid in css {
            if let Some(&hit) = self.partitions[pid as usize].literals.get(digits) {
                return Some(hit);
            }
        }
        let len = input.len();
        let mut best: Option<(Specificity, usize, u32, PatternMatch)> = None;
        for (pos, &pid) in css.iter().enumerate() {
            let bucket = &self.partitions[pid as usize].buckets[usize::from(input.first())];
            for &id in bucket {
                let c = &self.entries[id as usize];
                if !c.admits(digits) {
                    continue;
                }
                let spec = c.specificity(len);
                if let Some((best_spec, best_pos, best_id, _)) = best {
                    let order = (spec, pos).cmp(&(best_spec, best_pos)).then_with(|| {
                        let best_text = self.entries[best_id as usize].entry.pattern.as_str();
                        c.entry.pattern.as_str().cmp(best_text)
                    });
                    if order != Ordering::Less {
                        continue;
                    }
                }
                if let Some(m) = c.entry.pattern.match_input(input) {
                    best = Some((spec, pos, id, m));
                }
            }
        }
        best.map(|(_, _, id, m)| (id, m))
    }
}
