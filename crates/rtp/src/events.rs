//! What the media engine tells the call engine: leg identities and the events it polls
//! (latching, a far end that vanished, RTCP reports, a peer's BYE, DTMF keys heard).

use std::net::SocketAddr;
use std::time::Duration;

use crate::digits::DigitSource;
use crate::dtmf::Digit;
use crate::rtcp::{ReportBlock, SenderInfo};
use crate::Ssrc;

/// One media leg of the engine. A released leg's id is never valid again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl std::fmt::Display for LegId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "leg-{}.{}", self.slot, self.generation)
    }
}

/// Why the engine considers a leg's far end gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InactivityReason {
    /// No RTP or RTCP from the peer for `silent_for` (the configured media timeout).
    MediaTimeout { silent_for: Duration },
}

impl InactivityReason {
    /// A short name for logs, CDRs and the SIP Reason header text.
    pub fn as_str(&self) -> &'static str {
        match self {
            InactivityReason::MediaTimeout { .. } => "media-timeout",
        }
    }
}

/// What the peer's RTCP said about our stream, and the round trip it let us measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerReport {
    /// The peer's SSRC (sender of the report).
    pub ssrc: Option<Ssrc>,
    /// Present when the report was an SR.
    pub sender_info: Option<SenderInfo>,
    /// The block about Tether's stream on this leg, if the report had one.
    pub block: Option<ReportBlock>,
    /// Round-trip time from that block's LSR/DLSR (RFC 3550 §6.4.1), when it referenced our SR.
    pub rtt: Option<Duration>,
}

/// Something the call engine may want to know or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The first acceptable packet fixed the peer's address.
    Latched { leg: LegId, peer: SocketAddr },
    /// The latched address fell silent and another took over.
    Relatched {
        leg: LegId,
        previous: SocketAddr,
        peer: SocketAddr,
    },
    /// The far end has sent nothing for the configured time: end the call with this reason.
    /// Reported once per silence; it may come again if media resumes and stops again.
    Inactive {
        leg: LegId,
        reason: InactivityReason,
    },
    /// An SR or RR arrived from the peer.
    RtcpReport { leg: LegId, report: PeerReport },
    /// The peer sent RTCP BYE for `ssrc`.
    PeerBye { leg: LegId, ssrc: Ssrc },
    /// A DTMF key went down on the leg (its `Digit` follows when it comes up).
    DigitStarted {
        leg: LegId,
        digit: Digit,
        how: DigitSource,
    },
    /// A DTMF key heard on the leg, reported once, when it ended, with how long it lasted.
    Digit {
        leg: LegId,
        digit: Digit,
        duration: Duration,
        how: DigitSource,
    },
}
