//! One trunk's Q.850 <-> SIP table: the RFC 3398 defaults with the rows of the trunk's
//! `cause_map` on top, and the rejection (status + Reason) a cause turns into.
//!
//! A row `{ q850, sip }` says the two correspond on this trunk, in both directions: the cause
//! is sent as that status, and that status is received as that cause. When several rows name
//! the same status, the first one decides the reverse direction; when several name the same
//! cause, the first one decides the forward direction.

use super::reason::Q850Reason;
use super::rfc3398;
use super::Q850Cause;
use std::collections::BTreeMap;
use std::fmt;
use tether_store::model::CauseMapping;

/// A row of a cause-mapping table that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CauseMapError {
    /// The cause is not 1..=127.
    BadCause(u8),
    /// The status is not a final failure (300..=699).
    BadStatus(u16),
}

impl fmt::Display for CauseMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CauseMapError::BadCause(c) => write!(f, "Q.850 cause {c} is not in 1..=127"),
            CauseMapError::BadStatus(s) => write!(f, "SIP status {s} is not in 300..=699"),
        }
    }
}

impl std::error::Error for CauseMapError {}

/// A failure response: the status and the Q.850 cause carried in its Reason header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub reason: Q850Reason,
}

impl Rejection {
    /// The status with the cause's default text in the Reason.
    pub fn new(status: u16, cause: Q850Cause) -> Rejection {
        Rejection {
            status,
            reason: Q850Reason::new(cause),
        }
    }

    /// The value of the `Reason` header (`Q.850;cause=34;text="..."`).
    pub fn reason_header(&self) -> String {
        self.reason.to_string()
    }
}

/// The cause table of one trunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseMap {
    to_sip: BTreeMap<Q850Cause, u16>,
    to_q850: BTreeMap<u16, Q850Cause>,
}

impl CauseMap {
    /// The RFC 3398 defaults, no overrides.
    pub fn rfc3398() -> CauseMap {
        CauseMap::default()
    }

    /// The defaults with these rows on top (see the module documentation).
    pub fn with_overrides(rows: &[CauseMapping]) -> Result<CauseMap, CauseMapError> {
        let mut map = CauseMap::default();
        for row in rows {
            let cause = Q850Cause::new(row.q850).ok_or(CauseMapError::BadCause(row.q850))?;
            if !(300..=699).contains(&row.sip) {
                return Err(CauseMapError::BadStatus(row.sip));
            }
            map.to_sip.entry(cause).or_insert(row.sip);
            map.to_q850.entry(row.sip).or_insert(cause);
        }
        Ok(map)
    }

    /// Whether the table has any override.
    pub fn is_default(&self) -> bool {
        self.to_sip.is_empty()
    }

    /// The status a release with `cause` is answered with; `None` for normal clearing (16)
    /// unless a row maps it.
    pub fn to_sip(&self, cause: Q850Cause) -> Option<u16> {
        match self.to_sip.get(&cause) {
            Some(s) => Some(*s),
            None => rfc3398::q850_to_sip(cause),
        }
    }

    /// The cause a received `status` releases the call with; `None` for 1xx and 2xx.
    pub fn to_q850(&self, status: u16) -> Option<Q850Cause> {
        match self.to_q850.get(&status) {
            Some(c) => Some(*c),
            None => rfc3398::sip_to_q850(status),
        }
    }

    /// The response for a release with `cause`: its status (480 for normal clearing, which
    /// has no status of its own, as for 31 normal unspecified) and the cause in the Reason.
    pub fn rejection(&self, cause: Q850Cause) -> Rejection {
        Rejection::new(self.to_sip(cause).unwrap_or(480), cause)
    }
}
