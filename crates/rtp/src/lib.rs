//! Tether's media engine, sans-IO in the manner of str0m.
//!
//! Everything here is a state machine or a pure function: a media leg takes `(now, packet)` and
//! timer ticks and hands back packets to send and events. Sockets, the clock and the tasks live in
//! the `tether` binary; nothing in this crate reads a socket, calls `Instant::now()` or sleeps, so
//! every media flow runs in virtual time in the tests, over an emulated lossy network.
//!
//! The one exception is loading announcement files (`announce`), which reads a WAV file once, at
//! provisioning time, never on the media path.

pub mod announce;
pub mod frame;
pub mod g711;
pub mod mixer;
pub mod player;
pub mod players;
pub mod tone;
mod types;
pub mod wheel;

pub use types::{Pt, Ssrc};
