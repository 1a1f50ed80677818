//! Cisco route-pattern syntax: parsing a pattern into a sequence of elements, and the public
//! [`Pattern`] type that matches dialed digits and ranks itself for closest match.
//!
//! | syntax | meaning |
//! |---|---|
//! | `0`–`9`, `*`, `#` | that symbol |
//! | `\+` | a literal `+` (accepted anywhere, meaningful at the start) |
//! | `X` | any digit 0–9 |
//! | `[129]`, `[1-5]`, `[^0]` | one digit from the set, range, or the digits 0–9 not listed |
//! | `!` | one or more digits |
//! | `?` | zero or more of the preceding element |
//! | `+` | one or more of the preceding element |
//! | `.` | the PreDot marker: the digits matched before it may be discarded (at most one) |
//!
//! `?` and `+` repeat the single element just before them (a symbol, `X`, a bracket or `\+`);
//! after `!`, another repeat, `.`, or at the start they are rejected. Inside brackets only digits,
//! `-` and a leading `^` are allowed. Patterns are at most [`MAX_PATTERN_LEN`] characters.
//! Matching lives in `matcher.rs`, ranking in `specificity.rs`; this room must not know about
//! partitions or plans.

use crate::alphabet::{symbol, Class};
use crate::error::{PatternError, PatternErrorKind};
use crate::matcher::{self, Input};
use crate::specificity::{self, Specificity};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest pattern accepted, in characters.
pub const MAX_PATTERN_LEN: usize = 64;

/// How many times an element may occur.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Repeat {
    Once,
    ZeroOrMore,
    OneOrMore,
}

/// One position of a pattern: which symbols it accepts and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Element {
    pub(crate) class: Class,
    pub(crate) repeat: Repeat,
}

impl Element {
    fn once(class: Class) -> Element {
        Element {
            class,
            repeat: Repeat::Once,
        }
    }

    /// The symbol this element always matches, if it is a plain literal.
    pub(crate) fn literal(self) -> Option<u8> {
        match self.repeat {
            Repeat::Once => self.class.only(),
            _ => None,
        }
    }
}

/// A parsed route pattern. Two patterns are equal when they are spelled the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    text: String,
    elements: Vec<Element>,
    /// Number of elements before the `.`, if there is one.
    dot: Option<usize>,
    /// No `!`, `?` or `+`: one element per character.
    fixed: bool,
}

/// A successful whole-string match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternMatch {
    /// Characters of the dialed string consumed by the elements before the `.` (0 when the
    /// pattern has no `.`). When several splits are possible (`9?.9!` against `999`), this is
    /// the shortest one.
    pub predot: usize,
}

impl PatternMatch {
    /// The dialed string without its PreDot digits. Returns `""` if `dialed` is shorter than
    /// the split (a string other than the matched one was passed).
    pub fn strip_predot<'a>(&self, dialed: &'a str) -> &'a str {
        dialed.get(self.predot..).unwrap_or("")
    }
}

impl Pattern {
    /// Parses Cisco route-pattern syntax (see the module documentation).
    pub fn parse(s: &str) -> Result<Pattern, PatternError> {
        let chars: Vec<char> = s.chars().collect();
        let err = |position: usize, kind: PatternErrorKind| PatternError {
            pattern: s.to_owned(),
            position,
            character: chars.get(position).copied(),
            kind,
        };
        if chars.len() > MAX_PATTERN_LEN {
            return Err(err(MAX_PATTERN_LEN, PatternErrorKind::TooLong));
        }
        let mut elements: Vec<Element> = Vec::new();
        let mut dot = None;
        // Whether the last token was a single element that `?`/`+` may repeat.
        let mut repeatable = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                'X' => {
                    elements.push(Element::once(Class::DIGITS));
                    repeatable = true;
                }
                '!' => {
                    elements.push(Element {
                        class: Class::DIGITS,
                        repeat: Repeat::OneOrMore,
                    });
                    repeatable = false;
                }
                '[' => {
                    let (class, end) = parse_bracket(&chars, i).map_err(|(p, k)| err(p, k))?;
                    elements.push(Element::once(class));
                    repeatable = true;
                    i = end;
                }
                '\\' => {
                    if chars.get(i + 1) != Some(&'+') {
                        return Err(err(i, PatternErrorKind::InvalidCharacter));
                    }
                    elements.push(Element::once(Class::single(12)));
                    repeatable = true;
                    i += 1;
                }
                '?' | '+' => {
                    let last = match elements.last_mut() {
                        Some(last) if repeatable => last,
                        _ => return Err(err(i, PatternErrorKind::DanglingRepeat)),
                    };
                    last.repeat = if c == '?' {
                        Repeat::ZeroOrMore
                    } else {
                        Repeat::OneOrMore
                    };
                    repeatable = false;
                }
                '.' => {
                    if dot.is_some() {
                        return Err(err(i, PatternErrorKind::MultipleDots));
                    }
                    dot = Some(elements.len());
                    repeatable = false;
                }
                _ => match symbol(c) {
                    Some(sym) => {
                        elements.push(Element::once(Class::single(sym)));
                        repeatable = true;
                    }
                    None => return Err(err(i, PatternErrorKind::InvalidCharacter)),
                },
            }
            i += 1;
        }
        if elements.is_empty() {
            return Err(err(0, PatternErrorKind::Empty));
        }
        let fixed = elements.iter().all(|e| e.repeat == Repeat::Once);
        Ok(Pattern {
            text: s.to_owned(),
            elements,
            dot,
            fixed,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Matches the whole dialed string. Dialed strings hold `0`–`9`, `*`, `#` and `+`; anything
    /// else, or more than [`crate::MAX_DIALED_LEN`] characters, never matches. Runs in time
    /// linear in the pattern length times (at worst) the dialed length: no backtracking.
    pub fn matches(&self, dialed: &str) -> Option<PatternMatch> {
        self.match_input(&Input::new(dialed)?)
    }

    pub(crate) fn match_input(&self, input: &Input) -> Option<PatternMatch> {
        if self.fixed {
            matcher::match_fixed(&self.elements, self.dot, input)
        } else {
            matcher::match_elements(&self.elements, self.dot, input)
        }
    }

    /// Closest-match rank of this pattern for a dialed string of `len` characters: smaller is
    /// closer. See [`Specificity`].
    pub fn specificity(&self, len: usize) -> Specificity {
        match specificity::finite_count(&self.elements) {
            Some(count) => Specificity::finite(count),
            None => Specificity::infinite(specificity::count_of_length(&self.elements, len)),
        }
    }

    /// Whether the pattern matches exactly one string: every element is a single symbol that
    /// occurs once (`2000`, `9.1000`, `\+14085551234`, `[5]00`).
    pub fn is_literal(&self) -> bool {
        self.elements.iter().all(|e| e.literal().is_some())
    }

    /// For a literal pattern, the one string it matches and its PreDot split.
    pub(crate) fn literal_digits(&self) -> Option<(String, PatternMatch)> {
        let digits = self
            .elements
            .iter()
            .map(|e| {
                e.literal()
                    .map(|s| crate::alphabet::SYMBOLS[usize::from(s)])
            })
            .collect::<Option<String>>()?;
        let predot = self.dot.unwrap_or(0);
        Some((digits, PatternMatch { predot }))
    }

    pub(crate) fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// Number of elements before the `.`, if there is one.
    #[cfg(test)]
    pub(crate) fn dot(&self) -> Option<usize> {
        self.dot
    }
}

/// Parses `[...]` starting at `open`; returns the class and the index of the `]`.
fn parse_bracket(chars: &[char], open: usize) -> Result<(Class, usize), (usize, PatternErrorKind)> {
    let mut i = open + 1;
    let negate = chars.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut class = Class::EMPTY;
    let mut listed = false;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err((open, PatternErrorKind::UnclosedBracket));
        };
        match c {
            ']' => break,
            '0'..='9' => {
                let low = c as u8 - b'0';
                if chars.get(i + 1) == Some(&'-') {
                    let high = match chars.get(i + 2) {
                        Some(&h @ '0'..='9') => h as u8 - b'0',
                        None => return Err((open, PatternErrorKind::UnclosedBracket)),
                        Some(_) => return Err((i + 1, PatternErrorKind::BadRange)),
                    };
                    if high < low {
                        return Err((i + 2, PatternErrorKind::BadRange));
                    }
                    for d in low..=high {
                        class = class.with(d);
                    }
                    i += 3;
                } else {
                    class = class.with(low);
                    i += 1;
                }
                listed = true;
            }
            '-' => return Err((i, PatternErrorKind::BadRange)),
            _ => return Err((i, PatternErrorKind::InvalidCharacter)),
        }
    }
    if negate {
        class = class.digit_complement();
    }
    if !listed || class.is_empty() {
        return Err((open, PatternErrorKind::EmptyRange));
    }
    Ok((class, i))
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Pattern, PatternError> {
        Pattern::parse(s)
    }
}

impl TryFrom<String> for Pattern {
    type Error = PatternError;
    fn try_from(s: String) -> Result<Pattern, PatternError> {
        Pattern::parse(&s)
    }
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        p.text
    }
}

#[cfg(test)]
mod tests;
