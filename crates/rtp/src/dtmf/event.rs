//! The RFC 4733 §2.3 telephone-event payload: four bytes of event code, end bit, volume and
//! duration. Pure encode/decode; which packets to send and how to read a stream of them live in
//! `sender` and `receiver`.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::fmt;

/// Length of one telephone-event block.
pub const PAYLOAD_LEN: usize = 4;

/// One telephone-event report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0–15 for DTMF, RFC 4733 §3.2).
    pub event: u8,
    /// The E bit: this report ends the event.
    pub end: bool,
    /// Power level of the tone in −dBm0 (0–63; 10 means −10 dBm0). Only the low six bits are sent.
    pub volume: u8,
    /// Duration so far, in units of the RTP clock (8 kHz for `telephone-event/8000`).
    pub duration: u16,
}

/// A telephone-event payload that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// The peer sent fewer than four bytes.
    TooShort { len: usize },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::TooShort { len } => {
                write!(
                    f,
                    "telephone-event payload of {len} bytes, at least 4 needed"
                )
            }
        }
    }
}

impl std::error::Error for EventError {}

impl TelephoneEvent {
    /// The four payload bytes. The R bit is sent as zero (§2.3.3); a volume above 63 is cut to
    /// its low six bits.
    pub fn encode(&self) -> [u8; PAYLOAD_LEN] {
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        let [hi, lo] = self.duration.to_be_bytes();
        [self.event, flags, hi, lo]
    }

    /// Reads the first event block of a payload. The R bit is ignored (§2.3.3). A longer payload
    /// is accepted and only its first block read (RFC 4733 §2.5.1.5 lets a sender pack more than
    /// one event in a packet; Tether neither sends nor unpacks those).
    pub fn decode(payload: &[u8]) -> Result<TelephoneEvent, EventError> {
        match payload {
            [event, flags, hi, lo, ..] => Ok(TelephoneEvent {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3F,
                duration: u16::from_be_bytes([*hi, *lo]),
            }),
            _ => Err(EventError::TooShort { len: payload.len() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_rfc_layout() {
        let ev = TelephoneEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(ev.encode(), [5, 0x8A, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::decode(&ev.encode()), Ok(ev));
        let start = TelephoneEvent {
            event: 11,
            end: false,
            volume: 63,
            duration: 0xFFFF,
        };
        assert_eq!(start.encode(), [11, 0x3F, 0xFF, 0xFF]);
        assert_eq!(TelephoneEvent::decode(&start.encode()), Ok(start));
    }

    #[test]
    fn reserved_bit_is_ignored_and_extra_blocks_tolerated() {
        let ev = TelephoneEvent::decode(&[1, 0x40 | 0x80 | 7, 0, 160, 9, 9, 9, 9]).unwrap();
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 1,
                end: true,
                volume: 7,
                duration: 160
            }
        );
    }

    #[test]
    fn short_payloads_are_errors() {
        for len in 0..4 {
            assert_eq!(
                TelephoneEvent::decode(&[0u8; 4][..len]),
                Err(EventError::TooShort { len })
            );
        }
    }

    #[test]
    fn every_field_value_round_trips() {
        for event in [0u8, 9, 15, 16, 255] {
            for volume in 0..64u8 {
                for duration in [0u16, 1, 160, 0x7FFF, 0xFFFF] {
                    for end in [false, true] {
                        let ev = TelephoneEvent {
                            event,
                            end,
                            volume,
                            duration,
                        };
                        assert_eq!(TelephoneEvent::decode(&ev.encode()), Ok(ev));
                    }
                }
            }
        }
    }
}
