//! Every error this crate returns, grouped by the input at fault: a malformed pattern
//! ([`PatternError`]), a malformed transformation ([`TransformError`]), an inconsistent
//! provisioning snapshot ([`PlanError`]), digits that reach no usable pattern
//! ([`AnalysisError`]), a malformed application dial rule ([`DialRuleError`]) and a number that
//! is not a phone number ([`NumberError`]). Each `Display` says what is wrong and where, so the
//! admin API can show it verbatim.

use serde::Serialize;
use std::fmt;

/// Why a route pattern was rejected, with the offending character and its 0-based position
/// (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// Character index of the problem.
    pub position: usize,
    /// The character at `position`, if there is one.
    pub character: Option<char>,
    /// What is wrong.
    pub kind: PatternErrorKind,
}

/// The kinds of [`PatternError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// A character outside the pattern syntax (or a `\` not followed by `+`).
    InvalidCharacter,
    /// A `[` without its `]`.
    UnclosedBracket,
    /// A bracket that admits no digit: `[]`, `[^0-9]`.
    EmptyRange,
    /// A range that runs backwards (`[9-1]`) or lacks an end (`[5-]`, `[-5]`).
    BadRange,
    /// A `?` or `+` with no single element before it to repeat.
    DanglingRepeat,
    /// More than one `.` PreDot marker.
    MultipleDots,
    /// Nothing to match.
    Empty,
    /// Longer than [`crate::MAX_PATTERN_LEN`] characters.
    TooLong,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, pat) = (self.position, &self.pattern);
        let c = self.character.unwrap_or('?');
        match self.kind {
            PatternErrorKind::InvalidCharacter => {
                write!(f, "invalid character {c:?} at position {p} in pattern {pat:?}")?;
                if c == '\\' {
                    write!(f, " (only \\+ may be escaped)")?;
                }
                Ok(())
            }
            PatternErrorKind::UnclosedBracket => {
                write!(f, "unclosed '[' at position {p} in pattern {pat:?}")
            }
            PatternErrorKind::EmptyRange => write!(
                f,
                "empty digit range at position {p} in pattern {pat:?}: it admits no digit"
            ),
            PatternErrorKind::BadRange if c == '-' => write!(
                f,
                "bad range: '-' at position {p} in pattern {pat:?} needs a digit on each side, like [1-5]"
            ),
            PatternErrorKind::BadRange => write!(
                f,
                "bad range: {c:?} at position {p} in pattern {pat:?} is below the start of its range"
            ),
            PatternErrorKind::DanglingRepeat => {
                write!(
                    f,
                    "{c:?} at position {p} in pattern {pat:?} has no single element before it to repeat"
                )?;
                if c == '+' {
                    write!(f, " (write \\+ for a literal plus)")?;
                }
                Ok(())
            }
            PatternErrorKind::MultipleDots => write!(
                f,
                "second '.' at position {p} in pattern {pat:?}: a pattern has at most one PreDot marker"
            ),
            PatternErrorKind::Empty => write!(f, "pattern {pat:?} has nothing to match"),
            PatternErrorKind::TooLong => write!(
                f,
                "pattern {pat:?} is {} characters long, more than the {} allowed",
                pat.chars().count(),
                crate::MAX_PATTERN_LEN
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// Which part of a [`crate::Transform`] is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransformField {
    Prefix,
    Mask,
}

impl fmt::Display for TransformField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransformField::Prefix => "prefix",
            TransformField::Mask => "mask",
        })
    }
}

/// Why a [`crate::Transform`] was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransformError {
    /// A character that cannot be dialed (masks also allow `X`).
    InvalidCharacter {
        field: TransformField,
        character: char,
        position: usize,
    },
    /// `mask: Some("")` would erase every number.
    EmptyMask,
    /// A calling-party transformation asks to discard PreDot digits; the PreDot split belongs
    /// to the called number (reported by [`crate::DialPlanBuilder::build`]).
    DiscardPredotOnCallingParty,
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransformError::InvalidCharacter {
                field,
                character,
                position,
            } => write!(
                f,
                "invalid character {character:?} at position {position} in the {field}: \
                 only 0-9, *, #, +{} are allowed",
                if *field == TransformField::Mask {
                    " and X"
                } else {
                    ""
                }
            ),
            TransformError::EmptyMask => write!(f, "empty mask: use no mask to keep the number"),
            TransformError::DiscardPredotOnCallingParty => {
                write!(f, "only the called party can discard PreDot digits")
            }
        }
    }
}

impl std::error::Error for TransformError {}

/// Which party a transformation applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Party {
    Called,
    Calling,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Called => "called",
            Party::Calling => "calling",
        })
    }
}

/// Why a provisioning snapshot could not be compiled into a [`crate::DialPlan`]. Each variant
/// names the object at fault and the name it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    DuplicatePartition(String),
    DuplicateCss(String),
    DuplicateRouteGroup(String),
    DuplicateRouteList(String),
    /// A calling search space lists a partition that does not exist.
    UnknownPartition {
        css: String,
        partition: String,
    },
    /// A pattern is placed in a partition that does not exist.
    EntryInUnknownPartition {
        pattern: String,
        partition: String,
    },
    /// A translation pattern re-routes through a calling search space that does not exist.
    UnknownCss {
        pattern: String,
        partition: String,
        css: String,
    },
    /// A route pattern points to a route list that does not exist.
    UnknownRouteList {
        pattern: String,
        partition: String,
        route_list: String,
    },
    /// A route list names a route group that does not exist.
    UnknownRouteGroup {
        route_list: String,
        group: String,
    },
    /// Two patterns in one partition match the same strings (`existing` came first). Exact
    /// textual duplicates and literal patterns that spell the same digits (`91000`, `9.1000`)
    /// are both caught.
    DuplicatePattern {
        pattern: String,
        partition: String,
        existing: String,
    },
    /// A transformation is malformed (see [`TransformError`]).
    InvalidTransform {
        pattern: String,
        partition: String,
        party: Party,
        error: TransformError,
    },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::DuplicatePartition(n) => write!(f, "partition {n:?} is defined twice"),
            PlanError::DuplicateCss(n) => {
                write!(f, "calling search space {n:?} is defined twice")
            }
            PlanError::DuplicateRouteGroup(n) => write!(f, "route group {n:?} is defined twice"),
            PlanError::DuplicateRouteList(n) => write!(f, "route list {n:?} is defined twice"),
            PlanError::UnknownPartition { css, partition } => write!(
                f,
                "calling search space {css:?} lists unknown partition {partition:?}"
            ),
            PlanError::EntryInUnknownPartition { pattern, partition } => write!(
                f,
                "pattern {pattern:?} is in unknown partition {partition:?}"
            ),
            PlanError::UnknownCss {
                pattern,
                partition,
                css,
            } => write!(
                f,
                "translation pattern {pattern:?} in partition {partition:?} uses unknown \
                 calling search space {css:?}"
            ),
            PlanError::UnknownRouteList {
                pattern,
                partition,
                route_list,
            } => write!(
                f,
                "route pattern {pattern:?} in partition {partition:?} points to unknown \
                 route list {route_list:?}"
            ),
            PlanError::UnknownRouteGroup { route_list, group } => write!(
                f,
                "route list {route_list:?} names unknown route group {group:?}"
            ),
            PlanError::DuplicatePattern {
                pattern,
                partition,
                existing,
            } => write!(
                f,
                "pattern {pattern:?} duplicates {existing:?} in partition {partition:?}"
            ),
            PlanError::InvalidTransform {
                pattern,
                partition,
                party,
                error,
            } => write!(
                f,
                "{party}-party transformation of pattern {pattern:?} in partition \
                 {partition:?}: {error}"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// Why digit analysis found no usable destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnalysisError {
    /// The calling search space does not exist.
    UnknownCss(String),
    /// No pattern visible through the calling search space matches the digits.
    NoMatch { css: String, digits: String },
    /// The closest match is a blocking pattern.
    Blocked { pattern: String, partition: String },
    /// More than [`crate::MAX_TRANSLATIONS`] translation patterns chained; `pattern` is the one
    /// that would have been one too many.
    TranslationLoop { pattern: String },
    /// The digits are empty, too long, or hold a character that cannot be dialed.
    InvalidDigits(String),
}

impl fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnalysisError::UnknownCss(css) => write!(f, "unknown calling search space {css:?}"),
            AnalysisError::NoMatch { css, digits } => write!(
                f,
                "no pattern in the partitions of calling search space {css:?} matches {digits:?}"
            ),
            AnalysisError::Blocked { pattern, partition } => write!(
                f,
                "blocked: the closest match is blocking pattern {pattern:?} in partition {partition:?}"
            ),
            AnalysisError::TranslationLoop { pattern } => write!(
                f,
                "translation loop: more than {} translation patterns chained, the last was {pattern:?}",
                crate::MAX_TRANSLATIONS
            ),
            AnalysisError::InvalidDigits(digits) => write!(
                f,
                "{digits:?} cannot be dialed: digits are 1 to {} of 0-9, *, # and +",
                crate::MAX_DIALED_LEN
            ),
        }
    }
}

impl std::error::Error for AnalysisError {}

/// Which field of a [`crate::DialRule`] is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DialRuleField {
    BeginsWith,
    Prefix,
}

impl fmt::Display for DialRuleField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DialRuleField::BeginsWith => "begins-with",
            DialRuleField::Prefix => "prefix",
        })
    }
}

/// Why an application dial rule was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialRuleError {
    EmptyName,
    InvalidCharacter {
        field: DialRuleField,
        character: char,
        position: usize,
    },
    /// The rule removes more digits than it knows the number has.
    RemovesTooMany {
        digits_to_remove: u32,
        limit: u32,
    },
    /// `num_digits` is shorter than `begins_with`, so the rule can never match.
    NeverMatches {
        num_digits: u32,
        begins_with_len: u32,
    },
}

impl fmt::Display for DialRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialRuleError::EmptyName => write!(f, "a dial rule needs a name"),
            DialRuleError::InvalidCharacter {
                field,
                character,
                position,
            } => write!(
                f,
                "invalid character {character:?} at position {position} in the {field}: \
                 only 0-9, *, # and + are allowed"
            ),
            DialRuleError::RemovesTooMany {
                digits_to_remove,
                limit,
            } => write!(
                f,
                "removes {digits_to_remove} digits but only {limit} are known \
                 (the longer of begins-with and number-of-digits)"
            ),
            DialRuleError::NeverMatches {
                num_digits,
                begins_with_len,
            } => write!(
                f,
                "number-of-digits {num_digits} is shorter than the {begins_with_len}-digit \
                 begins-with, so the rule never matches"
            ),
        }
    }
}

impl std::error::Error for DialRuleError {}

/// Why a string is not a phone number.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberError {
    /// Nothing but separators (or nothing at all).
    Empty,
    /// A character that is neither dialable nor a visual separator.
    InvalidCharacter {
        number: String,
        character: char,
        position: usize,
    },
    /// A `+` anywhere but first.
    MisplacedPlus { number: String, position: usize },
    /// A `+` with nothing after it.
    NoDigitsAfterPlus { number: String },
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Empty => write!(f, "empty number"),
            NumberError::InvalidCharacter {
                number,
                character,
                position,
            } => write!(
                f,
                "invalid character {character:?} at position {position} in number {number:?}"
            ),
            NumberError::MisplacedPlus { number, position } => write!(
                f,
                "'+' at position {position} in number {number:?}: a plus may only come first"
            ),
            NumberError::NoDigitsAfterPlus { number } => {
                write!(f, "number {number:?} has no digits after the '+'")
            }
        }
    }
}

impl std::error::Error for NumberError {}
