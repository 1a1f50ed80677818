//! DTMF in every form a leg may carry it, as sans-IO pieces the media engine wires together:
//!
//! * [`event`]: the RFC 4733 telephone-event payload;
//! * [`sender`] / [`receiver`]: RFC 4733 event streams out of and into an RTP leg, paced and
//!   de-duplicated in virtual time;
//! * [`info`]: SIP INFO bodies, `application/dtmf-relay` and `application/dtmf`;
//! * [`inband`]: Q.23 tone pairs generated into 20 ms linear frames;
//! * [`detect`]: a Goertzel detector for tones heard in the audio, to ITU-T Q.24.
//!
//! A key crosses between legs as a [`Digit`] (and its length): whatever form one leg received it
//! in, the engine re-emits it in the form the other leg supports. No room here sends, receives or
//! mixes anything itself.

pub mod detect;
mod digit;
pub mod event;
pub mod inband;
pub mod info;
pub mod receiver;
pub mod sender;

pub use digit::{
    digits_to_string, parse_digits, Digit, DigitError, Key, COL_HZ, FLASH_EVENT, ROW_HZ,
};

#[cfg(test)]
mod crossing_tests;
#[cfg(test)]
mod testkit;
