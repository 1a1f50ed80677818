//! What the trunk policy refuses: building a trunk set from provisioning that cannot work
//! ([`TrunkConfigError`]) and seizing or releasing what cannot be ([`TrunkError`]).

use super::id::{Channel, TrunkId};
use crate::cause::{CauseMapError, Q850Cause, Rejection};
use std::fmt;

/// Provisioning a trunk set cannot be built from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrunkConfigError {
    /// Two trunks have the same name.
    DuplicateName(String),
    /// `channels = 0`: the trunk could never carry a call.
    ZeroChannels(String),
    /// A row of the trunk's cause map is unusable.
    CauseMap { trunk: String, error: CauseMapError },
}

impl fmt::Display for TrunkConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrunkConfigError::DuplicateName(n) => write!(f, "trunk {n} is defined twice"),
            TrunkConfigError::ZeroChannels(n) => write!(f, "trunk {n} has 0 channels"),
            TrunkConfigError::CauseMap { trunk, error } => {
                write!(f, "trunk {trunk}: cause map: {error}")
            }
        }
    }
}

impl std::error::Error for TrunkConfigError {}

/// A seizure or release the policy refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrunkError {
    /// Every channel of the trunk is busy (the caller gets 503, Q.850 cause 34).
    Full { trunk: TrunkId, capacity: u32 },
    /// No trunk has this name (API misuse: the caller asked for a trunk it never configured).
    UnknownTrunk(TrunkId),
    /// The channel is not seized: released twice, or never handed out (API misuse).
    NotSeized(Channel),
}

impl TrunkError {
    /// The response a call refused for this reason gets: for [`TrunkError::Full`], 503 with
    /// `Reason: Q.850;cause=34`. `None` for API misuse, which is no caller's fault.
    pub fn rejection(&self) -> Option<Rejection> {
        match self {
            TrunkError::Full { .. } => Some(Rejection::new(503, Q850Cause::NO_CIRCUIT_AVAILABLE)),
            TrunkError::UnknownTrunk(_) | TrunkError::NotSeized(_) => None,
        }
    }
}

impl fmt::Display for TrunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrunkError::Full { trunk, capacity } => {
                write!(f, "all {capacity} channels of trunk {trunk} are busy")
            }
            TrunkError::UnknownTrunk(t) => write!(f, "no trunk named {t}"),
            TrunkError::NotSeized(c) => write!(f, "channel {c} is not seized"),
        }
    }
}

impl std::error::Error for TrunkError {}
