//! The Tether call engine (DESIGN.md: `b2bua`), sans-IO.
//!
//! [`Engine`] takes every SIP message the transports receive (`handle_message(now, …)`) and
//! every timer it asked for (`handle_timeout(now)`), and hands back what to do
//! ([`Engine::poll_output`]): messages to transmit, CDRs to store, events for CTI and metrics.
//! It owns the transaction layer and the dialogs of every call; it never reads a socket or a
//! clock, so whole call flows run in virtual time in tests and in the simulation.
//!
//! Rooms: [`config`], [`output`] (what leaves), [`cdr`] (call records), [`timers`] (deadline
//! queue), [`channels`] (trunk channel accounting), [`route`] (where a call goes: digit
//! analysis over the provisioning snapshot), [`registrar`] (REGISTER and bindings),
//! [`callerid`] (what each party is shown), [`call`] (the state of one call and its legs),
//! [`control`] (what CTI asks and the events each device sees) and [`engine`] (the dispatch
//! that ties them together).

pub mod call;
pub mod callerid;
pub mod cdr;
pub mod channels;
pub mod config;
pub mod control;
pub mod engine;
pub mod media;
pub mod output;
pub mod registrar;
pub mod route;
pub mod timers;

pub use cdr::Cdr;
pub use config::EngineConfig;
pub use control::{Control, ControlError, ControlOk, DeviceEvent, DeviceEventKind};
pub use engine::Engine;
pub use media::{MediaCommand, MediaConfig, MediaNotice, Playable};
pub use output::Output;

#[cfg(test)]
mod tests;
