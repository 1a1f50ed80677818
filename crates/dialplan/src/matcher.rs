//! Whole-string matching of dialed digits against pattern elements, without backtracking.
//!
//! The dialed string is turned once into an [`Input`]: for each symbol, a bit set of the
//! positions that hold it. A set of positions (bit `p` = "the first `p` characters are
//! consumed") then flows through the elements as one `u128`, so each element costs a few
//! word operations (a `+`/`?`/`!` element loops once per character of its longest run). This
//! is an NFA simulation over positions: time O(elements × length), never exponential.
//!
//! PreDot split: positions reachable after the elements before the `.` (forward) are
//! intersected with positions from which the elements after it reach the end (backward); the
//! smallest common position is the split, so the PreDot part is the shortest consistent one.

use crate::alphabet::{symbol, Class, SYMBOL_COUNT};
use crate::pattern::{Element, PatternMatch, Repeat};

/// The longest dialed string that can match (positions 0..=127 fit one `u128`).
pub const MAX_DIALED_LEN: usize = 127;

/// A dialed string prepared for matching.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    len: usize,
    first: u8,
    /// Bit `p` of `at[s]` is set when character `p` is symbol `s`.
    at: [u128; SYMBOL_COUNT],
}

impl Input {
    /// `None` for an empty string, one longer than [`MAX_DIALED_LEN`], or one holding a
    /// character outside the dialing alphabet.
    pub(crate) fn new(dialed: &str) -> Option<Input> {
        if dialed.is_empty() || dialed.len() > MAX_DIALED_LEN {
            return None;
        }
        let mut at = [0u128; SYMBOL_COUNT];
        let mut first = 0;
        for (p, b) in dialed.bytes().enumerate() {
            let s = symbol(char::from(b))?;
            if p == 0 {
                first = s;
            }
            at[usize::from(s)] |= 1 << p;
        }
        Some(Input {
            len: dialed.len(),
            first,
            at,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The symbol of the first character.
    pub(crate) fn first(&self) -> u8 {
        self.first
    }

    /// Positions whose character is in `class`.
    fn positions(&self, class: Class) -> u128 {
        class
            .symbols()
            .fold(0, |acc, s| acc | self.at[usize::from(s)])
    }
}

/// Positions reachable from `from` after one element.
fn forward(e: Element, from: u128, input: &Input) -> u128 {
    let m = input.positions(e.class);
    let once = (from & m) << 1;
    match e.repeat {
        Repeat::Once => once,
        Repeat::OneOrMore => extend_forward(once, m),
        Repeat::ZeroOrMore => from | extend_forward(once, m),
    }
}

fn extend_forward(mut reach: u128, m: u128) -> u128 {
    loop {
        let next = reach | ((reach & m) << 1);
        if next == reach {
            return reach;
        }
        reach = next;
    }
}

/// Positions from which one element leads into `to`.
fn backward(e: Element, to: u128, input: &Input) -> u128 {
    let m = input.positions(e.class);
    let once = m & (to >> 1);
    match e.repeat {
        Repeat::Once => once,
        Repeat::OneOrMore => extend_backward(once, m),
        Repeat::ZeroOrMore => to | extend_backward(once, m),
    }
}

fn extend_backward(mut reach: u128, m: u128) -> u128 {
    loop {
        let next = reach | (m & (reach >> 1));
        if next == reach {
            return reach;
        }
        reach = next;
    }
}

/// Matches `input` in full against `elements`, with the `.` after `dot` elements.
pub(crate) fn match_elements(
    elements: &[Element],
    dot: Option<usize>,
    input: &Input,
) -> Option<PatternMatch> {
    let split = dot.unwrap_or(elements.len()).min(elements.len());
    let (before, after) = elements.split_at(split);
    let mut fwd: u128 = 1;
    for &e in before {
        fwd = forward(e, fwd, input);
        if fwd == 0 {
            return None;
        }
    }
    let mut bwd: u128 = 1 << input.len;
    for &e in after.iter().rev() {
        bwd = backward(e, bwd, input);
        if bwd == 0 {
            return None;
        }
    }
    let both = fwd & bwd;
    if both == 0 {
        return None;
    }
    let predot = if dot.is_some() {
        both.trailing_zeros() as usize
    } else {
        0
    };
    Some(PatternMatch { predot })
}

#[cfg(test)]
mod tests {
    use crate::Pattern;

    fn predot(p: &str, d: &str) -> Option<usize> {
        Pattern::parse(p).unwrap().matches(d).map(|m| m.predot)
    }

    #[test]
    fn seed_vectors() {
        assert_eq!(predot("9.XXXX", "91000"), Some(1));
        let m = Pattern::parse("9.XXXX").unwrap().matches("91000").unwrap();
        assert_eq!(m.strip_predot("91000"), "1000");
        assert_eq!(predot("8.XXXX", "91000"), None);
        assert_eq!(
            predot("9.XXXX", "91100"),
            Some(1),
            "verification is by pattern"
        );
    }

    #[test]
    fn whole_string_only() {
        assert_eq!(predot("2XXX", "200"), None);
        assert_eq!(predot("2XXX", "20000"), None);
        assert_eq!(predot("2XXX", "2000"), Some(0));
        assert_eq!(predot("X", "*"), None, "X is a digit, not * or #");
    }

    #[test]
    fn bang_is_one_or_more_digits() {
        assert_eq!(predot("9.!", "9"), None);
        assert_eq!(predot("9.!", "91"), Some(1));
        assert_eq!(predot("9.!", "9011441234567890"), Some(1));
        assert_eq!(predot("9.!", "9*1"), None);
        assert_eq!(predot("9.1!", "914085551234"), Some(1));
        assert_eq!(predot("9.1!", "924085551234"), None);
        assert_eq!(predot(r"\+1!", "+14085551234"), Some(0));
        assert_eq!(predot(r"\+.1!", "+14085551234"), Some(1));
        assert_eq!(predot(r"\+1!", "14085551234"), None);
    }

    #[test]
    fn repeats() {
        assert_eq!(predot("12?3", "13"), Some(0));
        assert_eq!(predot("12?3", "1223"), Some(0));
        assert_eq!(predot("12+3", "13"), None);
        assert_eq!(predot("12+3", "12223"), Some(0));
        assert_eq!(predot("[1-3]+#", "1231#"), Some(0));
        assert_eq!(predot("[1-3]+#", "1241#"), None);
        assert_eq!(predot(r"\+?1X", "+15"), Some(0));
        assert_eq!(predot(r"\+?1X", "15"), Some(0));
        assert_eq!(predot("*X?#", "*#"), Some(0));
    }

    #[test]
    fn shortest_predot_split() {
        // Both "9" and "99" are consistent PreDot parts; the shorter wins.
        assert_eq!(predot("9+.9+", "999"), Some(1));
        assert_eq!(predot("X?.X?", "12"), Some(0));
        assert_eq!(predot("XX.", "12"), Some(2));
        assert_eq!(predot(".XX", "12"), Some(0));
    }

    #[test]
    fn rejects_non_dialable_and_oversized_input() {
        assert_eq!(predot("!", ""), None);
        assert_eq!(predot("!", "12a"), None);
        assert_eq!(predot("!", "１"), None);
        assert_eq!(predot("!", &"1".repeat(127)), Some(0));
        assert_eq!(predot("!", &"1".repeat(128)), None);
    }

    #[test]
    fn long_ambiguous_pattern_is_fast() {
        // A backtracking matcher takes exponential time here; this one is linear.
        // `?` is zero or MORE, so every `X?` can take any share of the digits.
        let p = Pattern::parse(&format!("{}#", "X?".repeat(31))).unwrap();
        let dialed = format!("{}*", "1".repeat(120));
        assert!(p.matches(&dialed).is_none());
        assert!(p.matches(&format!("{}#", "1".repeat(120))).is_some());
        assert!(p.matches("#").is_some());
    }
}
