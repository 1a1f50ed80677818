//! Provisioning and CDR persistence for Tether (SPEC.md §1, §6).
//!
//! [`Store`] is the one way in: it owns the database ([`db`], SQLite by default, PostgreSQL for
//! clusters) and the current [`Snapshot`], the read-only in-memory view the call path uses. A
//! write is checked against every rule on a copy of the data set, committed to the database in
//! one transaction, and only then swapped in as the new snapshot; a failed write changes nothing.
//! Call detail records ([`cdr`]) are written in batches beside the provisioning and read back
//! with filters.

pub mod bulk;
pub mod cdr;
pub mod db;
pub mod error;
pub mod model;
pub mod provisioning;
pub mod rules;
pub mod snapshot;
mod store;

pub use cdr::{CdrFilter, CdrPage, CdrRow};
pub use error::{Code, StoreError, Violation};
pub use model::{Change, Key, Kind, Object, Origin};
pub use snapshot::Snapshot;
pub use store::{Store, WriteOutcome};
pub use tether_dialplan::NumberingPlan;
