//! The lookup structures of a [`crate::DialPlan`] and the closest-match search over them.
//!
//! Per partition, literal patterns (one string each — every directory number) sit in a
//! `HashMap` keyed by the digits they match: a literal is the most specific match possible, so
//! the first partition in CSS order with a literal hit wins without looking further. Wildcard
//! patterns sit in a trie keyed by their leading literal characters (`8123.XXXX` under
//! `8123`, `9.1[2-9]XX…` under `91`): walking the dialed digits down the trie visits only the
//! patterns whose literal prefix the digits start with. Wildcards with no literal prefix
//! (`[2-9]XXX`, `*?69`) are bucketed by the symbols a match can start with. Each candidate
//! carries its length range and its precomputed rank for every dialable length, so it is only
//! run through the matcher when it could beat the best so far.
//!
//! Ties between equally specific matches go to the earlier partition in the CSS, then (within
//! one partition) to the pattern whose text sorts first, so the result never depends on the
//! order the store listed the patterns in.

use crate::alphabet::{symbol, Class, SYMBOLS, SYMBOL_COUNT};
use crate::analysis::ResolvedRoute;
use crate::fast_hash::FastMap;
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

    fn admits(&self, len: usize) -> bool {
        (self.min_len..=self.max_len).contains(&len)
    }
}

/// One partition's patterns.
pub(crate) struct PartitionIndex {
    pub(crate) name: String,
    literals: FastMap<String, (u32, PatternMatch)>,
    /// Wildcard entries with no literal prefix, by the symbol a match starts with.
    buckets: [Vec<u32>; SYMBOL_COUNT],
    /// Wildcard entries with a literal prefix, by that prefix.
    trie: Trie,
    /// Wildcard pattern texts, for duplicate detection while building.
    wildcard_texts: HashMap<String, u32>,
}

impl PartitionIndex {
    pub(crate) fn new(name: String) -> PartitionIndex {
        PartitionIndex {
            name,
            literals: FastMap::default(),
            buckets: Default::default(),
            trie: Trie::default(),
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
                if c.prefix.is_empty() {
                    for s in c.first.symbols() {
                        self.buckets[usize::from(s)].push(id);
                    }
                } else {
                    self.trie.insert(&c.prefix, id);
                }
            }
        }
        None
    }

    /// Drops build-only state.
    pub(crate) fn finish(&mut self) {
        self.wildcard_texts = HashMap::new();
        self.literals.shrink_to_fit();
        self.trie.nodes.shrink_to_fit();
    }

    /// Every wildcard entry whose literal prefix `input` starts with, or that has none and can
    /// start with its first symbol.
    fn candidates<'a>(&'a self, input: &'a Input) -> impl Iterator<Item = u32> + 'a {
        let unprefixed = self.buckets[usize::from(input.first())].iter().copied();
        unprefixed.chain(self.trie.walk(input).flat_map(|here| here.iter().copied()))
    }
}

/// Wildcard entries by leading literal prefix. Node 0 is the root; a child index of 0 means
/// "no child" (the root is nobody's child).
#[derive(Default)]
struct Trie {
    nodes: Vec<Node>,
}

#[derive(Default)]
struct Node {
    next: [u32; SYMBOL_COUNT],
    /// Entries whose literal prefix ends here.
    here: Vec<u32>,
}

impl Trie {
    fn insert(&mut self, prefix: &str, id: u32) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut at = 0usize;
        for c in prefix.chars() {
            let Some(s) = symbol(c) else { return };
            let child = self.nodes[at].next[usize::from(s)];
            at = if child == 0 {
                self.nodes.push(Node::default());
                let new = self.nodes.len() - 1;
                self.nodes[at].next[usize::from(s)] = new as u32;
                new
            } else {
                child as usize
            };
        }
        self.nodes[at].here.push(id);
    }

    /// The entry lists of the nodes along the dialed digits, shortest prefix first.
    fn walk<'a>(&'a self, input: &'a Input) -> impl Iterator<Item = &'a [u32]> + 'a {
        let mut at = 0usize;
        (0..input.len()).map_while(move |p| {
            let node = self.nodes.get(at)?;
            at = node.next[usize::from(input.symbol(p))] as usize;
            if at == 0 {
                return None;
            }
            self.nodes.get(at).map(|n| n.here.as_slice())
        })
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
            for id in self.partitions[pid as usize].candidates(input) {
                let c = &self.entries[id as usize];
                if !c.admits(len) {
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
