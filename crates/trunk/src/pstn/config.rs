//! The PSTN simulator's dial plan as an operator writes it (serde: TOML in the binary's
//! configuration), and the default plan.
//!
//! A rule's `pattern` is matched against the **end** of the dialed number: `"01xx"` matches
//! every number whose last four digits are `01` and any two digits; `"4085550100"` matches
//! that number (and any longer one ending so). `x`/`X` is any digit 0-9; digits, `*` and `#`
//! match themselves. Rules are tried in order; the first match decides, `otherwise` decides for
//! the rest.
//!
//! The default plan (numbers by their last four digits):
//!
//! | pattern | behavior |
//! |---|---|
//! | `01xx` | answers at once |
//! | `02xx` | rings (180), answers after 2 s |
//! | `03xx` | busy: 486, Q.850 cause 17 |
//! | `04xx` | rings forever (the caller's CANCEL gets 487) |
//! | `05xx` | unallocated: 404, Q.850 cause 1 |
//! | `06xx` | voicemail: rings, answers after 0.5 s |
//! | `07xx` | echo: answers at once; marked echo (the media engine will loop the audio) |
//! | `09xx` | congestion: 503, Q.850 cause 34 |
//! | anything else | rings, answers after 1 s |
//!
//! ```toml
//! first_rtp_port = 20000
//! otherwise = { kind = "answer", after_ms = 1000 }
//! no_answer_ms = 180000            # optional: release calls still ringing after 3 min (480, cause 19)
//!
//! [[rules]]
//! pattern = "02xx"
//! behavior = { kind = "answer", after_ms = 2000 }
//! hangup_after_ms = 30000          # the far end hangs up 30 s after answering
//!
//! [[rules]]
//! pattern = "03xx"
//! behavior = { kind = "reject", status = 486, cause = 17 }
//! ```

use serde::{Deserialize, Serialize};

/// What a number does when called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Behavior {
    /// Answers with 200 after `after_ms` (0: at once, no 180; otherwise 180 first).
    Answer {
        #[serde(default)]
        after_ms: u64,
    },
    /// A voicemail: like `answer`, and the call is marked voicemail.
    Voicemail {
        #[serde(default)]
        after_ms: u64,
    },
    /// Answers at once; the call is marked echo (the media engine loops its audio back).
    /// (Braces, so that a stray field in the configuration is refused rather than ignored.)
    Echo {},
    /// Rings (180) and never answers.
    Ring {},
    /// Answers with a failure `status` (300..=699) and `Reason: Q.850;cause=N`; without a
    /// `cause`, the RFC 3398 cause of the status.
    Reject {
        status: u16,
        #[serde(default)]
        cause: Option<u8>,
    },
}

/// One line of the dial plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Digits (and `*`, `#`) with `x` wildcards, matched against the end of the dialed number.
    pub pattern: String,
    pub behavior: Behavior,
    /// For answering behaviors: the far end hangs up (BYE) this long after answering.
    #[serde(default)]
    pub hangup_after_ms: Option<u64>,
}

impl Rule {
    pub fn new(pattern: &str, behavior: Behavior) -> Rule {
        Rule {
            pattern: pattern.into(),
            behavior,
            hangup_after_ms: None,
        }
    }
}

/// The simulator's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PstnConfig {
    /// Tried in order; the first match decides.
    #[serde(default = "default_rules")]
    pub rules: Vec<Rule>,
    /// What every other number does.
    #[serde(default = "default_otherwise")]
    pub otherwise: Behavior,
    /// The RTP port of the first call's SDP; each call takes the next even port, wrapping
    /// back here after 65534. Must be even.
    #[serde(default = "default_first_rtp_port")]
    pub first_rtp_port: u16,
    /// The network's no-answer timer: a call still ringing this long after its INVITE is
    /// released with 480 and Q.850 cause 19 (no answer from user). None (the default): ringing
    /// numbers ring until the caller gives up.
    #[serde(default)]
    pub no_answer_ms: Option<u64>,
}

impl Default for PstnConfig {
    fn default() -> Self {
        PstnConfig {
            rules: default_rules(),
            otherwise: default_otherwise(),
            first_rtp_port: default_first_rtp_port(),
            no_answer_ms: None,
        }
    }
}

fn default_first_rtp_port() -> u16 {
    20000
}

fn default_otherwise() -> Behavior {
    Behavior::Answer { after_ms: 1000 }
}

/// The default plan (see the module documentation).
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule::new("01xx", Behavior::Answer { after_ms: 0 }),
        Rule::new("02xx", Behavior::Answer { after_ms: 2000 }),
        Rule::new(
            "03xx",
            Behavior::Reject {
                status: 486,
                cause: Some(17),
            },
        ),
        Rule::new("04xx", Behavior::Ring {}),
        Rule::new(
            "05xx",
            Behavior::Reject {
                status: 404,
                cause: Some(1),
            },
        ),
        Rule::new("06xx", Behavior::Voicemail { after_ms: 500 }),
        Rule::new("07xx", Behavior::Echo {}),
        Rule::new(
            "09xx",
            Behavior::Reject {
                status: 503,
                cause: Some(34),
            },
        ),
    ]
}
