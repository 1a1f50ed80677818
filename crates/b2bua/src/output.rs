//! What the engine hands back to its driver.

use tether_sip::peer::Peer;
use tether_sip::Message;

use crate::cdr::Cdr;

#[derive(Debug)]
#[non_exhaustive]
// Transmit is by far the most frequent output; boxing its message would allocate per send.
#[allow(clippy::large_enum_variant)]
pub enum Output {
    /// Send `message` to `to`.
    Transmit { to: Peer, message: Message },
    /// A call (leg pair) ended: store its record.
    Cdr(Box<Cdr>),
    /// Something happened that metrics and CTI care about.
    Event(CallEvent),
    /// A command for the media engine (anchored media only).
    Media(crate::media::MediaCommand),
    /// A call event at a device, for the CTI sessions that monitor it.
    Device(crate::control::DeviceEvent),
}

/// Call-level events, in the order they happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// A call arrived and was accepted for routing.
    Offered { call: u64 },
    /// Tether placed an outbound call (a B leg's INVITE went out), on `trunk` if it took one.
    /// The seed's BHCA rule counts these.
    LegStarted { call: u64, trunk: Option<String> },
    /// A leg towards a destination started ringing.
    Alerting { call: u64 },
    /// The call was answered; `setup` is from the first INVITE to the answer.
    Answered {
        call: u64,
        setup: std::time::Duration,
    },
    /// The call ended (answered or not).
    Released { call: u64, answered: bool },
    /// A DTMF key from one party of the call.
    Digit {
        call: u64,
        /// From the caller (A side), else from the far end.
        from_caller: bool,
        digit: char,
        method: DigitMethod,
    },
}

/// How a DTMF key arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigitMethod {
    /// RFC 4733 telephone-event packets.
    Rfc4733,
    /// Tones in the audio (ITU-T Q.23), found by the media engine's detector.
    InBand,
    /// SIP INFO with `application/dtmf-relay` or `application/dtmf`.
    Info,
}

impl DigitMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DigitMethod::Rfc4733 => "rfc4733",
            DigitMethod::InBand => "inband",
            DigitMethod::Info => "info",
        }
    }
}
