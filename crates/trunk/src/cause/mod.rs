//! Q.850 cause values and their SIP counterparts: the cause newtype and its names (this file),
//! the RFC 3398 default tables ([`rfc3398`]), a trunk's table with its overrides ([`map`]) and
//! the `Reason: Q.850;cause=N` header value of RFC 3326 / RFC 6432 ([`reason`]).
//!
//! Pure data and functions: no I/O, no state beyond the tables.

pub mod map;
pub mod reason;
pub mod rfc3398;

pub use map::{CauseMap, CauseMapError, Rejection};
pub use reason::Q850Reason;

use std::fmt;

/// A Q.850 cause value (1..=127: seven bits, 0 is not a cause).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Q850Cause(u8);

impl Q850Cause {
    pub const UNALLOCATED_NUMBER: Q850Cause = Q850Cause(1);
    pub const NO_ROUTE_TO_NETWORK: Q850Cause = Q850Cause(2);
    pub const NO_ROUTE_TO_DESTINATION: Q850Cause = Q850Cause(3);
    pub const NORMAL_CLEARING: Q850Cause = Q850Cause(16);
    pub const USER_BUSY: Q850Cause = Q850Cause(17);
    pub const NO_USER_RESPONDING: Q850Cause = Q850Cause(18);
    pub const NO_ANSWER: Q850Cause = Q850Cause(19);
    pub const SUBSCRIBER_ABSENT: Q850Cause = Q850Cause(20);
    pub const CALL_REJECTED: Q850Cause = Q850Cause(21);
    pub const NUMBER_CHANGED: Q850Cause = Q850Cause(22);
    pub const DESTINATION_OUT_OF_ORDER: Q850Cause = Q850Cause(27);
    pub const INVALID_NUMBER_FORMAT: Q850Cause = Q850Cause(28);
    pub const FACILITY_REJECTED: Q850Cause = Q850Cause(29);
    pub const NORMAL_UNSPECIFIED: Q850Cause = Q850Cause(31);
    pub const NO_CIRCUIT_AVAILABLE: Q850Cause = Q850Cause(34);
    pub const NETWORK_OUT_OF_ORDER: Q850Cause = Q850Cause(38);
    pub const TEMPORARY_FAILURE: Q850Cause = Q850Cause(41);
    pub const SWITCHING_EQUIPMENT_CONGESTION: Q850Cause = Q850Cause(42);
    pub const RESOURCE_UNAVAILABLE: Q850Cause = Q850Cause(47);
    pub const SERVICE_NOT_AVAILABLE: Q850Cause = Q850Cause(63);
    pub const BEARER_CAPABILITY_NOT_IMPLEMENTED: Q850Cause = Q850Cause(65);
    pub const SERVICE_NOT_IMPLEMENTED: Q850Cause = Q850Cause(79);
    pub const INCOMPATIBLE_DESTINATION: Q850Cause = Q850Cause(88);
    pub const RECOVERY_ON_TIMER_EXPIRY: Q850Cause = Q850Cause(102);
    pub const PROTOCOL_ERROR: Q850Cause = Q850Cause(111);
    pub const INTERWORKING: Q850Cause = Q850Cause(127);

    /// The cause with this value, if it is one (1..=127).
    pub fn new(value: u8) -> Option<Q850Cause> {
        (1..=127).contains(&value).then_some(Q850Cause(value))
    }

    /// Like [`Q850Cause::new`] for a value read from a wider field (a Reason header's cause).
    pub fn from_u16(value: u16) -> Option<Q850Cause> {
        u8::try_from(value).ok().and_then(Q850Cause::new)
    }

    pub fn value(self) -> u8 {
        self.0
    }

    /// The Q.850 name of the cause, for the causes a trunk commonly carries.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Unallocated number",
            2 => "No route to specified transit network",
            3 => "No route to destination",
            6 => "Channel unacceptable",
            16 => "Normal call clearing",
            17 => "User busy",
            18 => "No user responding",
            19 => "No answer from user",
            20 => "Subscriber absent",
            21 => "Call rejected",
            22 => "Number changed",
            26 => "Non-selected user clearing",
            27 => "Destination out of order",
            28 => "Invalid number format",
            29 => "Facility rejected",
            31 => "Normal, unspecified",
            34 => "No circuit/channel available",
            38 => "Network out of order",
            41 => "Temporary failure",
            42 => "Switching equipment congestion",
            44 => "Requested circuit/channel not available",
            47 => "Resource unavailable, unspecified",
            55 => "Incoming calls barred within CUG",
            57 => "Bearer capability not authorized",
            58 => "Bearer capability not presently available",
            63 => "Service or option not available, unspecified",
            65 => "Bearer capability not implemented",
            70 => "Only restricted digital information bearer capability is available",
            79 => "Service or option not implemented, unspecified",
            87 => "User not member of CUG",
            88 => "Incompatible destination",
            102 => "Recovery on timer expiry",
            111 => "Protocol error, unspecified",
            127 => "Interworking, unspecified",
            _ => return None,
        })
    }
}

impl fmt::Display for Q850Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests;
