//! # tether-trunk
//!
//! Trunk emulation (SPEC.md §4): what a circuit does that a plain SIP leg does not, and the
//! public network behind the trunks.
//!
//! - [`policy`]: per-trunk channel pools sized by kind, hunting order, the inbound access list,
//!   usage counters; [`policy::TrunkSet`] is built from the provisioned trunks.
//! - [`cause`]: Q.850 <-> SIP cause mapping (RFC 3398 defaults, per-trunk overrides) and the
//!   `Reason: Q.850;cause=N` header value.
//! - [`pstn`]: the PSTN simulator, a sans-IO SIP UAS that answers calls by rules on the dialed
//!   number.
//!
//! Everything here is sans-IO: inputs carry `now`, outputs are polled, nothing reads a socket
//! or a clock.

pub mod cause;
pub mod policy;
pub mod pstn;
