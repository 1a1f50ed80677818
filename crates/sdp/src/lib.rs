//! `tether-sdp`: a line-preserving SDP model (RFC 8866) and RFC 3264 offer/answer for Tether's
//! call legs, with RFC 6337 hold directions.
//!
//! This crate is the room where session descriptions are read, negotiated and written. It is pure:
//! no I/O, no clock, no randomness, and no panics on any input. It must not know about SIP
//! dialogs or the media engine; the caller maps [`SdpError::sip_status`] to a response and feeds
//! [`Negotiated`] to the media engine.
//!
//! - [`SessionDescription::parse`] keeps every line — unknown types and attributes included — in
//!   order, so serializing an untouched description gives back the same bytes (for CRLF input).
//! - [`answer_offer`] answers a peer's offer: one `m=` line per offered line, in order; what Tether
//!   cannot carry (video, T.38 `m=image`, SRTP, no common codec) is rejected with port 0, never
//!   dropped; payload type numbers stay the offerer's (kept per leg, never renumbered).
//! - [`create_offer`], [`process_answer`], [`reoffer`], [`hold_reoffer`] and [`resume_reoffer`]
//!   cover our side of the exchange, with `o=` version management (RFC 3264 §8).
//!
//! ```
//! use tether_sdp::{answer_offer, Capabilities, Codec, Direction, Origin, SessionDescription};
//!
//! let offer = SessionDescription::parse(
//!     "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!      m=audio 49170 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
//!      a=fmtp:101 0-15\r\nm=video 51372 RTP/AVP 31\r\n",
//! )?;
//! let caps = Capabilities::new("198.51.100.7:20000".parse().expect("literal address"));
//! let answer = answer_offer(&offer, &caps, Origin::new(42, "198.51.100.7".parse().expect("ip")))?;
//! let audio = answer.audio().expect("audio accepted");
//! assert_eq!(audio.codec, Codec::Pcma);
//! assert_eq!(audio.direction, Direction::SendRecv);
//! assert_eq!(answer.sdp.media()[1].port(), 0); // video rejected, not dropped
//! # Ok::<(), tether_sdp::SdpError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod codec;
mod direction;
mod error;
mod line;
mod line_values;
mod media;
mod offer_answer;
mod session;

pub use codec::{parse_fmtp, Codec, EventSet, Pt, Rtpmap, DYNAMIC_PT, TELEPHONE_EVENT};
pub use direction::{answer_direction, hold_offer, resume_offer, Direction};
pub use error::{ApiMisuse, InvalidAnswer, Malformed, SdpError, Unsupported};
pub use line::{Attribute, Line};
pub use line_values::{AddrType, Bandwidth, Connection, Origin, Timing};
pub use media::{MediaDescription, MediaLine};
pub use offer_answer::{
    answer_offer, create_offer, first_accepted, hold_reoffer, process_answer, reoffer,
    resume_reoffer, Answer, Capabilities, MediaOutcome, Negotiated, RejectReason, TelephoneEvent,
    RTP_AVP, SESSION_NAME,
};
pub use session::{SessionDescription, MAX_SDP_LEN, MAX_SDP_LINES};
