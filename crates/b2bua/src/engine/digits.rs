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
        // A device leg lent to a consultation: its keys are for the consulted party.
        let (call, side) = self.user_of(call, side);
        let first = self
            .calls
            .get_mut(&call)
            .is_some_and(|c| c.set_uses_info(side));
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
        self.digits_detected(call, side, digit, method);
    }

    /// The party across the call from `side`: the caller, or the leg that answered.
    /// In a conference keys are reported only: nobody is across from a party.
    fn other_side(&self, call: u64, side: Side) -> Option<Side> {
        let c = self.calls.get(&call)?;
        if c.conference.is_some() {
            return None;
        }
        c.other_side(side)
    }

    /// Plays `digits` (checked keys) to the party on `to` for a CTI request: INFO when that
    /// party uses INFO, else through the media engine — RFC 4733 where its leg negotiated
    /// telephone-event, tones where not, tones whatever it negotiated when `inband`.
    pub(super) fn generate_digits(
        &mut self,
        now: Instant,
        call: u64,
        to: Side,
        digits: &str,
        inband: bool,
    ) -> Result<(), crate::control::ControlError> {
        let uses_info = self.calls.get(&call).is_some_and(|c| c.uses_info(to));
        if uses_info && !inband {
            if let Some(c) = self.calls.get_mut(&call) {
                c.info_queue
                    .extend(digits.chars().map(|d| (to, d, DEFAULT_MS)));
            }
            self.next_info_digit(now, call);
            return Ok(());
        }
        let port = self
            .side_port(call, to)
            .ok_or(crate::control::ControlError::MediaNotAnchored)?;
        self.out.push_back(Output::Media(MediaCommand::SendDigits {
            port,
            digits: digits.to_ascii_uppercase(),
            duration_ms: DEFAULT_MS,
            inband,
        }));
        Ok(())
    }

    /// Sends the next key waiting for an INFO, unless one is still waiting for its response
    /// (keys go one INFO at a time, so they arrive in order).
    fn next_info_digit(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        while c.info_pending.is_none() {
            let Some((to, key, ms)) = c.info_queue.pop_front() else {
                break;
            };
            let Some(digit) = Digit::from_char(key) else {
                continue;
            };
            let Some(s) = c.session_mut(to, None) else {
                continue;
            };
            let Ok(mut info) = s.create_request(Method::Info) else {
                continue;
            };
            let body = format_dtmf_relay(digit, ms).into_bytes();
            if info.set_body(Some(DTMF_RELAY), body).is_ok() && s.send_request(now, info).is_ok() {
                c.info_pending = Some(to);
            }
        }
        self.pump(now, call);
    }

    /// A final response to a request Tether sent the party on `side` (or its transaction
    /// failed): the next INFO key, if any, may go.
    pub(super) fn info_answered(&mut self, now: Instant, call: u64, side: Side) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.info_pending == Some(side) {
            c.info_pending = None;
            self.next_info_digit(now, call);
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
        if c.uses_info(to) {
            c.info_queue.push_back((to, digit.to_char(), ms));
            self.next_info_digit(now, call);
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
                inband: false,
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

    pub(super) fn side_port(&self, call: u64, side: Side) -> Option<u16> {
        let m = self.calls.get(&call)?.media.as_ref()?;
        match side {
            Side::A => Some(m.a_port),
            Side::B(i) => m.b.get(i).and_then(Option::as_ref).map(|b| b.port),
        }
    }

    pub(super) fn side_of_port(&self, call: u64, port: u16) -> Option<Side> {
        let m = self.calls.get(&call)?.media.as_ref()?;
        if m.a_port == port {
            return Some(Side::A);
        }
        m.b.iter()
            .position(|b| b.as_ref().is_some_and(|b| b.port == port))
            .map(Side::B)
    }
}
