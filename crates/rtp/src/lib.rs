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
pub mod codec;
pub mod counters;
pub mod digits;
pub mod dtmf;
pub mod engine;
pub mod events;
pub mod frame;
pub mod g711;
pub mod latch;
pub mod leg;
pub mod mixer;
#[cfg(any(test, feature = "netem"))]
pub mod netem;
pub mod packet;
pub mod player;
pub mod players;
pub mod ports;
pub mod reception;
pub mod relay;
pub(crate) mod rng;
pub mod rtcp;
pub mod stream;
pub mod tap;
pub mod tone;
mod transcode;
mod types;
pub mod wheel;

pub use codec::{CodecMap, PayloadKind};
pub use digits::{DigitSource, SendHow};
pub use dtmf::Digit;
pub use engine::{EngineConfig, EngineError, EngineTotals, MediaEngine, Transmit};
pub use events::{InactivityReason, LegId, MediaEvent, PeerReport};
pub use latch::Latching;
pub use leg::{LegConfig, LegCounters, LegStats, OutputSource, Remote};
pub use ports::RtpPorts;
pub use relay::Frame;
pub use tap::Heard;
pub use types::{Pt, Ssrc};
