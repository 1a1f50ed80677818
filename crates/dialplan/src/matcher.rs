//! Whole-string matching of dialed digits against pattern elements, without backtracking.
//!
//! For a pattern with repeats, the dialed string is turned into `Masks`: for each symbol, a
//! bit set of the positions that hold it. A set of positions (bit `p` = "the first `p` characters are
//! consumed") then flows through the elements as one `u128`, so each element costs a few
//! word operations, repeats included (one carry-propagating addition fills a run). This is an
//! NFA simulation over positions: time O(elements) word operations, never exponential.
//!
//! PreDot split: positions reachable after the elements before the `.` (forward) are
//! intersected with positions from which the elements after it reach the end (backward); the
//! smallest common position is the split, so the PreDot part is the shortest consistent one.

use crate::alphabet::{byte_symbol, Class, SYMBOL_COUNT};
use crate::pattern::{Element, PatternMatch, Repeat};

/// The longest dialed string that can match (positions 0..=127 fit one `u128`).
pub const MAX_DIALED_LEN: usize = 127;

/// A dialed string checked against the dialing alphabet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// `None` for an empty string, one longer than [`MAX_DIALED_LEN`], or one holding a
    /// character outside the dialing alphabet.
    pub(crate) fn new(dialed: &'a str) -> Option<Input<'a>> {
        let bytes = dialed.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= MAX_DIALED_LEN
            && bytes.iter().all(|&b| byte_symbol(b).is_some());
        valid.then_some(Input { bytes })
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The symbol of the first character.
    pub(crate) fn first(&self) -> u8 {
        self.symbol(0)
    }

    /// The symbol of character `p` (`p < len`; the alphabet was checked in [`Input::new`]).
    pub(crate) fn symbol(&self, p: usize) -> u8 {
        self.bytes
            .get(p)
            .and_then(|&b| byte_symbol(b))
            .unwrap_or(u8::MAX)
    }

    fn symbols(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.len()).map(|p| self.symbol(p))
    }
}

/// For each symbol, the positions of the input that hold it: what the NFA simulation steps
/// over. Built only for patterns with repeats.
struct Masks {
    len: usize,
    /// Bit `p` of `at[s]` is set when character `p` is symbol `s`.
    at: [u128; SYMBOL_COUNT],
    /// Positions holding a digit 0–9.
    digits: u128,
}

impl Masks {
    fn new(input: &Input) -> Masks {
        let mut at = [0u128; SYMBOL_COUNT];
        let mut bit = 1u128;
        for s in input.symbols() {
            if let Some(mask) = at.get_mut(usize::from(s)) {
                *mask |= bit;
            }
            bit <<= 1;
        }
        let digits = at[..10].iter().fold(0, |acc, m| acc | m);
        Masks {
            len: input.len(),
            at,
            digits,
        }
    }

    /// Positions whose character is in `class`. Wide digit classes (`X`, `[2-9]`, `[^0]`) are
    /// computed from the digits they leave out.
    fn positions(&self, class: Class) -> u128 {
        if let Some(s) = class.only() {
            return self.at[usize::from(s)];
        }
        let missing = class.digit_complement();
        if class.is_digits_only() && missing.len() < 5 {
            missing
                .symbols()
                .fold(self.digits, |acc, s| acc & !self.at[usize::from(s)])
        } else {
            class
                .symbols()
                .fold(0, |acc, s| acc | self.at[usize::from(s)])
        }
    }
}

/// Positions reachable from `from` after one element.
fn forward(e: Element, from: u128, input: &Masks) -> u128 {
    let m = input.positions(e.class);
    match e.repeat {
        Repeat::Once => (from & m) << 1,
        Repeat::OneOrMore => fill_up(m, from & m) << 1,
        Repeat::ZeroOrMore => from | (fill_up(m, from & m) << 1),
    }
}

/// Positions from which one element leads into `to`.
fn backward(e: Element, to: u128, input: &Masks) -> u128 {
    let m = input.positions(e.class);
    match e.repeat {
        Repeat::Once => m & (to >> 1),
        Repeat::OneOrMore => fill_down(m, m & (to >> 1)),
        Repeat::ZeroOrMore => to | fill_down(m, m & (to >> 1)),
    }
}

/// For each bit of `x` (a subset of `m`): that bit and every higher bit up to the end of its
/// run of ones in `m`. Adding `x` to `m` carries from each `x` bit to the end of its run; the
/// bits the carry changed (plus `x` itself) are the run tail. One addition instead of a loop
/// per character, so a `!` over a long number costs the same as over a short one.
fn fill_up(m: u128, x: u128) -> u128 {
    ((m.wrapping_add(x) ^ m) | x) & m
}

/// [`fill_up`] towards lower bits: each bit of `x` and every lower bit down to the start of
/// its run of ones in `m`.
fn fill_down(m: u128, x: u128) -> u128 {
    fill_up(m.reverse_bits(), x.reverse_bits()).reverse_bits()
}

/// Matches `input` against a pattern without repeats: one element per character.
pub(crate) fn match_fixed(
    elements: &[Element],
    dot: Option<usize>,
    input: &Input,
) -> Option<PatternMatch> {
    if elements.len() != input.len() {
        return None;
    }
    let all = elements
        .iter()
        .zip(input.symbols())
        .all(|(e, s)| e.class.contains(s));
    all.then_some(PatternMatch {
        predot: dot.unwrap_or(0),
    })
}

/// Matches `input` in full against `elements`, with the `.` after `dot` elements.
pub(crate) fn match_elements(
    elements: &[Element],
    dot: Option<usize>,
    input: &Input,
) -> Option<PatternMatch> {
    let input = &Masks::new(input);
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
    fn run_filling() {
        use super::{fill_down, fill_up};
        assert_eq!(fill_up(0b1111, 0b0101), 0b1111);
        assert_eq!(fill_up(0b0110, 0b0100), 0b0100);
        assert_eq!(fill_up(0b11011, 0b01001), 0b11011);
        assert_eq!(fill_up(0b11011, 0b01000), 0b11000);
        assert_eq!(fill_down(0b11011, 0b10010), 0b11011);
        assert_eq!(fill_down(0b11011, 0b10000), 0b11000);
        assert_eq!(
            fill_up(u128::MAX, 1 << 127),
            1 << 127,
            "no carry out of the top"
        );
        assert_eq!(fill_down(u128::MAX, 1), 1);
        assert_eq!(fill_down(u128::MAX, 1 << 127), u128::MAX);
    }

    #[test]
    fn rejects_non_dialable_and_oversized_input() {
        assert_eq!(predot("!", ""), None);
        assert_eq!(predot("!", "12a"), None);
        assert_eq!(predot("!", "１"), None);
        assert_eq!(predot("!", &"1".repeat(127)), Some(0));
        assert_eq!(predot("!", &"1".repeat(128)), None);
        // Runs that touch both ends of the position set.
        assert_eq!(predot("X+.X+", &"1".repeat(127)), Some(1));
        assert_eq!(predot("X?.X+#", &format!("{}#", "1".repeat(126))), Some(0));
        assert_eq!(predot("1+.2+", &format!("{}2", "1".repeat(126))), Some(126));
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
