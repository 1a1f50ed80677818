//! DTMF across a call: keys the media engine found on a leg (RFC 4733 or in-band), keys that
//! came in SIP INFO (`application/dtmf-relay`, `application/dtmf`), each reported once as a
//! [`CallEvent::Digit`] and carried to the other party in the form it uses — INFO to a party
//! that sends INFO itself, otherwise through the media engine (RFC 4733 where that leg
//! negotiated telephone-event, tones where it did not). Keys in the media stream between two
//! anchored legs are crossed by the media engine itself.

use tether_rtp::dtmf::info::{format_dtmf_relay, parse_body, InfoError, DTMF_RELAY};
use tether_rtp::dtmf::{Digit, Key};

use super::*;
use crate::media::MediaCommand;
use crate::output::DigitMethod;

/// Default tone length of a key whose INFO gave none.
const DEFAULT_MS: u32 = 100;

impl Engine {
    /// An INFO in a call: a DTMF key is reported and passed on (200); another body is refused
    /// (415), a DTMF body without a readable key too (400).
    pub(super) fn info_digit(&mut self, now: Instant, call: u64, side: Side, req: &Message) -> u16 {
        let ct = req.header_value(&HeaderName::ContentType).unwrap_or("");
        let info = match parse_body(ct, req.body()) {
            Ok(i) => i,
            Err(InfoError::UnsupportedContentType(_)) => return 415,
            Err(_) => return 400,
        };
        let Key::Digit(digit) = info.key else {
            // A flash (hook flash) has no meaning across a B2BUA call: taken, not passed on.
            return 200;
        };
        let mut first = false;
        if let Some(c) = self.calls.get_mut(&call) {
            match side {
                Side::A => {
                    first = !c.a.uses_info;
                    c.a.uses_info = true;
                }
                Side::B(i) => {
                    if let Some(l) = c.b.get_mut(i) {
                        first = !l.uses_info;
                        l.uses_info = true;
                    }
                }
            }
        }
        if first {
            if let Some(port) = self.side_port(call, side) {
                self.out
                    .push_back(Output::Media(MediaCommand::DigitsByInfo { port }));
            }
        }
        self.report_digit(call, side, digit.to_char(), DigitMethod::Info);
        let to = self.other_side(call, side);
        if let Some(to) = to {
            let ms = info.duration_ms.unwrap_or(DEFAULT_MS);
            self.send_digit(now, call, to, digit, ms, true);
        }
        200
    }

    fn report_digit(&mut self, call: u64, side: Side, digit: char, method: DigitMethod) {
        self.out.push_back(Output::Event(CallEvent::Digit {
            call,
            from_caller: side == Side::A,
            digit,
            method,
        }));
    }

    /// The party across the call from `side`: the caller, or the leg that answered.
    fn other_side(&self, call: u64, side: Side) -> Option<Side> {
        let c = self.calls.get(&call)?;
        match side {
            Side::A => c.winner.map(Side::B),
            Side::B(_) => Some(Side::A),
        }
    }

    /// Plays `digit` to `to`: INFO when that party uses INFO, else through its media leg (only
    /// when `via_media`: keys found in the media are crossed by the media engine already).
    fn send_digit(
        &mut self,
        now: Instant,
        call: u64,
        to: Side,
        digit: Digit,
        ms: u32,
        via_media: bool,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let uses_info = match to {
            Side::A => c.a.uses_info,
            Side::B(i) => c.b.get(i).is_some_and(|l| l.uses_info),
        };
        if uses_info {
            let session = match to {
                Side::A => c.a.session.as_mut(),
                Side::B(i) => {
                    c.b.get_mut(i)
                        .and_then(|l| l.set.as_mut())
                        .and_then(|s| s.accepted_mut())
                }
            };
            if let Some(s) = session {
                if let Ok(mut info) = s.create_request(Method::Info) {
                    let body = format_dtmf_relay(digit, ms).into_bytes();
                    if info.set_body(Some(DTMF_RELAY), body).is_ok() {
                        let _ = s.send_request(now, info);
                    }
                }
            }
            self.pump(now, call);
            return;
        }
        if !via_media {
            return;
        }
        let port = c.media.as_ref().and_then(|m| match to {
            Side::A => Some(m.a_port),
            Side::B(i) => m.b.get(i).and_then(Option::as_ref).map(|b| b.port),
        });
        if let Some(port) = port {
            self.out.push_back(Output::Media(MediaCommand::SendDigits {
                port,
                digits: digit.to_char().to_string(),
                duration_ms: ms,
            }));
        }
    }

    /// A key the media engine found on the leg at `port`.
    pub(super) fn media_digit(
        &mut self,
        now: Instant,
        port: u16,
        digit: char,
        ms: u32,
        inband: bool,
    ) {
        let Some(&call) = self.by_port.get(&port) else {
            return;
        };
        let Some(side) = self.side_of_port(call, port) else {
            return;
        };
        let method = if inband {
            DigitMethod::InBand
        } else {
            DigitMethod::Rfc4733
        };
        self.report_digit(call, side, digit, method);
        if let (Some(to), Some(d)) = (self.other_side(call, side), Digit::from_char(digit)) {
            self.send_digit(now, call, to, d, ms, false);
        }
    }

    fn side_port(&self, call: u64, side: Side) -> Option<u16> {
        let m = self.calls.get(&call)?.media.as_ref()?;
        match side {
            Side::A => Some(m.a_port),
            Side::B(i) => m.b.get(i).and_then(Option::as_ref).map(|b| b.port),
        }
    }

    fn side_of_port(&self, call: u64, port: u16) -> Option<Side> {
        let m = self.calls.get(&call)?.media.as_ref()?;
        if m.a_port == port {
            return Some(Side::A);
        }
        m.b.iter()
            .position(|b| b.as_ref().is_some_and(|b| b.port == port))
            .map(Side::B)
    }
}
