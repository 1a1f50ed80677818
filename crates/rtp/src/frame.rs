//! The 20 ms narrowband frame every media room of this crate speaks in: 160 samples at 8 kHz,
//! which is 160 bytes of G.711 — one RTP packet's payload (RFC 3551 §4.5, the default `ptime`).
//!
//! Only sizes and durations live here; who stamps sequence numbers and timestamps is the leg's job.

use std::time::Duration;

/// Samples (and G.711 bytes) in one frame.
pub const FRAME_SAMPLES: usize = 160;

/// The play-out time of one frame.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);

/// One frame of linear 16-bit samples.
pub type LinearFrame = [i16; FRAME_SAMPLES];

/// One frame of G.711 code words.
pub type G711Frame = [u8; FRAME_SAMPLES];

/// A frame of linear silence.
pub const SILENT_LINEAR: LinearFrame = [0; FRAME_SAMPLES];
