//! What the PSTN simulator refuses: a dial plan that cannot work, and inputs it cannot take.

use super::call::CallId;
use std::fmt;
use tether_sip::transaction::TxnError;

/// A [`PstnConfig`](super::PstnConfig) that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PstnConfigError {
    BadPattern {
        pattern: String,
        why: &'static str,
    },
    /// A reject status outside 300..=699.
    BadStatus {
        pattern: String,
        status: u16,
    },
    /// A reject cause outside 1..=127.
    BadCause {
        pattern: String,
        cause: u8,
    },
    /// The first RTP port must be even and not 0.
    BadRtpPort(u16),
}

impl fmt::Display for PstnConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PstnConfigError::BadPattern { pattern, why } => {
                write!(f, "pattern {pattern:?}: {why}")
            }
            PstnConfigError::BadStatus { pattern, status } => {
                write!(f, "rule {pattern:?}: status {status} is not in 300..=699")
            }
            PstnConfigError::BadCause { pattern, cause } => {
                write!(f, "rule {pattern:?}: Q.850 cause {cause} is not in 1..=127")
            }
            PstnConfigError::BadRtpPort(p) => {
                write!(f, "first_rtp_port {p} must be an even number above 0")
            }
        }
    }
}

impl std::error::Error for PstnConfigError {}

/// An input the simulator cannot take.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PstnError {
    /// The message lacks what transaction matching needs and was dropped.
    Message(TxnError),
    /// No such call (it ended, or never existed).
    UnknownCall(CallId),
}

impl fmt::Display for PstnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PstnError::Message(e) => write!(f, "message dropped: {e}"),
            PstnError::UnknownCall(c) => write!(f, "no call {c}"),
        }
    }
}

impl std::error::Error for PstnError {}
