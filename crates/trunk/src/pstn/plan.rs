//! The dial plan compiled from [`PstnConfig`]: patterns parsed once, statuses and causes
//! checked, durations typed; and the dialed number read from a Request-URI.

use super::config::{Behavior, PstnConfig};
use super::error::PstnConfigError;
use crate::cause::{rfc3398, Q850Cause, Rejection};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tether_sip::{Scheme, Uri};

/// What the simulator marks an answered call as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Normal,
    Voicemail,
    /// The media engine is to loop the caller's audio back; no media flows from here.
    Echo,
}

/// A behavior, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Script {
    Answer { after: Duration, kind: CallKind },
    Ring,
    Reject(Rejection),
}

/// What the plan says about one number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Action {
    pub script: Script,
    pub hangup_after: Option<Duration>,
    /// The pattern of the rule that matched; `None` for `otherwise`.
    pub pattern: Option<String>,
}

/// One pattern symbol: a literal or `x` (any digit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym {
    Lit(u8),
    AnyDigit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern(Vec<Sym>);

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, PstnConfigError> {
        let bad = |why: &'static str| PstnConfigError::BadPattern {
            pattern: text.to_owned(),
            why,
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        text.bytes()
            .map(|b| match b {
                b'0'..=b'9' | b'*' | b'#' => Ok(Sym::Lit(b)),
                b'x' | b'X' => Ok(Sym::AnyDigit),
                _ => Err(bad("only digits, *, # and x")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Pattern)
    }

    /// Whether the number ends with something this pattern matches.
    fn matches_end_of(&self, number: &[u8]) -> bool {
        let Some(start) = number.len().checked_sub(self.0.len()) else {
            return false;
        };
        number[start..].iter().zip(&self.0).all(|(c, s)| match s {
            Sym::Lit(l) => c == l,
            Sym::AnyDigit => c.is_ascii_digit(),
        })
    }
}

fn script_of(pattern: &str, b: &Behavior) -> Result<Script, PstnConfigError> {
    Ok(match b {
        Behavior::Answer { after_ms } => Script::Answer {
            after: Duration::from_millis(*after_ms),
            kind: CallKind::Normal,
        },
        Behavior::Voicemail { after_ms } => Script::Answer {
            after: Duration::from_millis(*after_ms),
            kind: CallKind::Voicemail,
        },
        Behavior::Echo {} => Script::Answer {
            after: Duration::ZERO,
            kind: CallKind::Echo,
        },
        Behavior::Ring {} => Script::Ring,
        Behavior::Reject { status, cause } => {
            if !(300..=699).contains(status) {
                return Err(PstnConfigError::BadStatus {
                    pattern: pattern.to_owned(),
                    status: *status,
                });
            }
            let cause = match cause {
                Some(c) => Q850Cause::new(*c).ok_or(PstnConfigError::BadCause {
                    pattern: pattern.to_owned(),
                    cause: *c,
                })?,
                None => rfc3398::sip_to_q850(*status).unwrap_or(Q850Cause::INTERWORKING),
            };
            Script::Reject(Rejection::new(*status, cause))
        }
    })
}

#[derive(Clone, Debug)]
pub(crate) struct Plan {
    rules: Vec<(Pattern, Action)>,
    otherwise: Action,
    pub first_rtp_port: u16,
    pub no_answer: Option<Duration>,
}

impl Plan {
    pub(crate) fn new(cfg: &PstnConfig) -> Result<Plan, PstnConfigError> {
        if !cfg.first_rtp_port.is_multiple_of(2) || cfg.first_rtp_port == 0 {
            return Err(PstnConfigError::BadRtpPort(cfg.first_rtp_port));
        }
        let mut rules = Vec::with_capacity(cfg.rules.len());
        for r in &cfg.rules {
            let pattern = Pattern::parse(&r.pattern)?;
            let action = Action {
                script: script_of(&r.pattern, &r.behavior)?,
                hangup_after: r.hangup_after_ms.map(Duration::from_millis),
                pattern: Some(r.pattern.clone()),
            };
            rules.push((pattern, action));
        }
        Ok(Plan {
            rules,
            otherwise: Action {
                script: script_of("otherwise", &cfg.otherwise)?,
                hangup_after: None,
                pattern: None,
            },
            first_rtp_port: cfg.first_rtp_port,
            no_answer: cfg.no_answer_ms.map(Duration::from_millis),
        })
    }

    /// The action for a dialed number (as [`dialed_number`] returns it).
    pub(crate) fn lookup(&self, number: &str) -> &Action {
        self.rules
            .iter()
            .find(|(p, _)| p.matches_end_of(number.as_bytes()))
            .map_or(&self.otherwise, |(_, a)| a)
    }
}

/// The number a Request-URI dials: the user part of a `sip:`/`sips:` URI (escapes decoded, up
/// to any `;` parameters) or the number of a `tel:` URI, without a leading `+` and without
/// RFC 3966 visual separators (`-`, `.`, `(`, `)`). `None` unless what is left is one or more
/// digits, `*` and `#`.
pub fn dialed_number(uri: &Uri) -> Option<String> {
    let raw = match uri.scheme() {
        Scheme::Sip | Scheme::Sips | Scheme::Tel => uri.user_decoded()?,
        Scheme::Other => return None,
    };
    let raw = std::str::from_utf8(&raw).ok()?;
    let raw = raw.split(';').next().unwrap_or("");
    let raw = raw.strip_prefix('+').unwrap_or(raw);
    let number: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
        .collect();
    let ok = !number.is_empty()
        && number
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
    ok.then_some(number)
}
