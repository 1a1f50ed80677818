//! The CTI application interface of Tether (SPEC §3), sans-IO.
//!
//! One WebSocket per client carries JSON texts named after CSTA (ECMA-269): requests with an
//! `invokeId` and exactly one response each, and events numbered per session. The binary owns
//! the socket, the clock, the password checks and the store; it feeds [`Cti`] what happens
//! and carries out the [`CtiOutput`]s. The call engine is reached through [`CallControl`].
//!
//! Rooms: [`protocol`] (the wire: requests, responses, events, error codes), [`auth`] (who may
//! touch which device), [`session`], [`monitor`], [`devices`] (a device's provisioning view and
//! its changes as events), [`tserver`] (the extend-and-connect contract: controllers,
//! RegisterAddress), [`writes`] (per-device write queues), [`calls`] (call control →
//! engine), [`heartbeat`]; the `Cti` methods live in `core.rs`, `handlers.rs`, `login.rs` and
//! `publish.rs`. `docs/cti.md` is the protocol reference.

pub mod auth;
pub mod calls;
pub mod config;
mod core;
pub mod devices;
mod handlers;
pub mod heartbeat;
pub mod ids;
mod login;
pub mod monitor;
pub mod protocol;
mod publish;
pub mod session;
pub mod tserver;
pub mod writes;

pub use crate::core::{CallControl, Cti, CtiOutput};
pub use config::CtiConfig;
pub use ids::{SessionId, Ticket};
pub use protocol::error::{CtiError, ErrorCode};

#[cfg(test)]
mod tests;
