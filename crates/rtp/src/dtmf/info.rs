//! DTMF in SIP INFO bodies, for legs that signal keys that way instead of RFC 4733:
//!
//! * `application/dtmf-relay` (the de-facto format from Cisco):
//!   `Signal=5\r\nDuration=160\r\n`, duration in milliseconds;
//! * `application/dtmf`: the key alone, e.g. `5`.
//!
//! Parsing is tolerant of what peers send: field names in any case, spaces around `=` and
//! values, LF or CRLF line ends, blank lines, unknown fields, lower-case `a-d`, the event-code
//! numbers `10`–`15` for `* # A-D`, and `!`, `16` or `hf` for a hook flash. A body without a
//! usable signal is an error naming what is wrong. Formatting writes the canonical form.

use std::fmt;

use super::digit::{Digit, Key, FLASH_EVENT};

pub const DTMF_RELAY: &str = "application/dtmf-relay";
pub const DTMF: &str = "application/dtmf";

/// A key carried in an INFO body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDtmf {
    pub key: Key,
    /// Tone length in ms when the body gives one (`Duration=`); `application/dtmf` has none.
    pub duration_ms: Option<u32>,
}

/// An INFO body that carries no readable key; each is the peer's fault (answer 400 or 415).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfoError {
    /// The body is not text.
    NotText,
    /// No `Signal=` line.
    MissingSignal,
    /// The signal names no key.
    BadSignal(String),
    /// `Duration=` is not a number of milliseconds.
    BadDuration(String),
    /// A field appears twice.
    DuplicateField(&'static str),
    /// A line that is not `name=value`.
    MalformedLine(String),
    /// The content type is neither of the two DTMF types.
    UnsupportedContentType(String),
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfoError::NotText => write!(f, "DTMF INFO body is not UTF-8 text"),
            InfoError::MissingSignal => write!(f, "DTMF INFO body has no Signal"),
            InfoError::BadSignal(s) => write!(f, "DTMF INFO signal {s:?} is no key"),
            InfoError::BadDuration(s) => write!(f, "DTMF INFO duration {s:?} is not a number"),
            InfoError::DuplicateField(name) => write!(f, "DTMF INFO body repeats {name}"),
            InfoError::MalformedLine(l) => write!(f, "DTMF INFO line {l:?} is not name=value"),
            InfoError::UnsupportedContentType(t) => write!(f, "{t:?} is not a DTMF INFO type"),
        }
    }
}

impl std::error::Error for InfoError {}

/// Longest piece of peer text an error keeps.
const ERROR_TEXT_MAX: usize = 40;

fn excerpt(s: &str) -> String {
    s.chars().take(ERROR_TEXT_MAX).collect()
}

/// Reads a signal value: one key character, an event-code number (0–16) or a flash spelling.
fn parse_signal(value: &str) -> Result<Key, InfoError> {
    let v = value.trim();
    let mut chars = v.chars();
    if let (Some(c), None) = (chars.next(), chars.clone().next()) {
        if let Some(d) = Digit::from_char(c) {
            return Ok(Key::Digit(d));
        }
        if c == '!' {
            return Ok(Key::Flash);
        }
    }
    if v.eq_ignore_ascii_case("hf") || v.eq_ignore_ascii_case("flash") {
        return Ok(Key::Flash);
    }
    if !v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(code) = v.parse::<u8>() {
            if let Some(d) = Digit::from_event(code) {
                return Ok(Key::Digit(d));
            }
            if code == FLASH_EVENT {
                return Ok(Key::Flash);
            }
        }
    }
    Err(InfoError::BadSignal(excerpt(v)))
}

fn text(body: &[u8]) -> Result<&str, InfoError> {
    std::str::from_utf8(body).map_err(|_| InfoError::NotText)
}

/// Parses an `application/dtmf-relay` body.
pub fn parse_dtmf_relay(body: &[u8]) -> Result<InfoDtmf, InfoError> {
    let mut key = None;
    let mut duration_ms = None;
    for line in text(body)?.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(InfoError::MalformedLine(excerpt(line)));
        };
        let name = name.trim();
        let value = value.trim();
        if name.eq_ignore_ascii_case("signal") {
            if key.is_some() {
                return Err(InfoError::DuplicateField("Signal"));
            }
            key = Some(parse_signal(value)?);
        } else if name.eq_ignore_ascii_case("duration") {
            if duration_ms.is_some() {
                return Err(InfoError::DuplicateField("Duration"));
            }
            let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            let ms = ok.then(|| value.parse::<u32>().ok()).flatten();
            duration_ms = Some(ms.ok_or_else(|| InfoError::BadDuration(excerpt(value)))?);
        }
    }
    Ok(InfoDtmf {
        key: key.ok_or(InfoError::MissingSignal)?,
        duration_ms,
    })
}

/// Parses an `application/dtmf` body (the key alone).
pub fn parse_dtmf(body: &[u8]) -> Result<InfoDtmf, InfoError> {
    let t = text(body)?.trim();
    if t.is_empty() {
        return Err(InfoError::MissingSignal);
    }
    Ok(InfoDtmf {
        key: parse_signal(t)?,
        duration_ms: None,
    })
}

/// Parses an INFO body by its content type (`application/dtmf-relay` or `application/dtmf`, in
/// any case, parameters ignored).
pub fn parse_body(content_type: &str, body: &[u8]) -> Result<InfoDtmf, InfoError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(DTMF_RELAY) {
        parse_dtmf_relay(body)
    } else if media.eq_ignore_ascii_case(DTMF) {
        parse_dtmf(body)
    } else {
        Err(InfoError::UnsupportedContentType(excerpt(media)))
    }
}

/// The `application/dtmf-relay` body for a key: `Signal=5\r\nDuration=160\r\n`.
pub fn format_dtmf_relay(digit: Digit, duration_ms: u32) -> String {
    format!("Signal={}\r\nDuration={duration_ms}\r\n", digit.to_char())
}

/// The `application/dtmf` body for a key: `5`.
pub fn format_dtmf(digit: Digit) -> String {
    digit.to_char().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(body: &str) -> Result<InfoDtmf, InfoError> {
        parse_dtmf_relay(body.as_bytes())
    }

    fn digit(d: Digit, ms: Option<u32>) -> InfoDtmf {
        InfoDtmf {
            key: Key::Digit(d),
            duration_ms: ms,
        }
    }

    #[test]
    fn every_key_and_duration_round_trips() {
        for d in Digit::ALL {
            for ms in [40, 160, 250, 2000] {
                let body = format_dtmf_relay(d, ms);
                assert_eq!(relay(&body), Ok(digit(d, Some(ms))), "{body:?}");
                assert_eq!(
                    parse_body("application/dtmf-relay", body.as_bytes()),
                    Ok(digit(d, Some(ms)))
                );
            }
            assert_eq!(parse_dtmf(format_dtmf(d).as_bytes()), Ok(digit(d, None)));
        }
        assert_eq!(
            format_dtmf_relay(Digit::Five, 160),
            "Signal=5\r\nDuration=160\r\n"
        );
        assert_eq!(format_dtmf(Digit::Pound), "#");
    }

    #[test]
    fn what_peers_send_is_tolerated() {
        assert_eq!(
            relay("signal= 5 \nDURATION =160"),
            Ok(digit(Digit::Five, Some(160)))
        );
        assert_eq!(relay("\r\nSignal=a\r\n\r\n"), Ok(digit(Digit::A, None)));
        assert_eq!(
            relay("Signal=10\r\nDuration=100\r\n"),
            Ok(digit(Digit::Star, Some(100)))
        );
        assert_eq!(relay("Signal=11\r\n"), Ok(digit(Digit::Pound, None)));
        assert_eq!(relay("Signal=15\r\n"), Ok(digit(Digit::D, None)));
        assert_eq!(
            relay("Signal=#\r\nVolume=10\r\n"),
            Ok(digit(Digit::Pound, None))
        );
        for flash in ["!", "16", "hf", "Flash"] {
            let got = relay(&format!("Signal={flash}\r\nDuration=500\r\n")).unwrap();
            assert_eq!(got.key, Key::Flash, "{flash}");
        }
        assert_eq!(parse_dtmf(b" 7\r\n"), Ok(digit(Digit::Seven, None)));
        assert_eq!(parse_dtmf(b"11"), Ok(digit(Digit::Pound, None)));
        assert_eq!(
            parse_body("Application/DTMF; charset=utf-8", b"*"),
            Ok(digit(Digit::Star, None))
        );
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert_eq!(relay(""), Err(InfoError::MissingSignal));
        assert_eq!(relay("Duration=100\r\n"), Err(InfoError::MissingSignal));
        assert_eq!(
            relay("Signal=\r\n"),
            Err(InfoError::BadSignal(String::new()))
        );
        assert_eq!(
            relay("Signal=55\r\n"),
            Err(InfoError::BadSignal("55".into()))
        );
        assert_eq!(relay("Signal=x\r\n"), Err(InfoError::BadSignal("x".into())));
        assert_eq!(
            relay("Signal=12a\r\n"),
            Err(InfoError::BadSignal("12a".into()))
        );
        assert_eq!(
            relay("Signal=1\r\nDuration=-5\r\n"),
            Err(InfoError::BadDuration("-5".into()))
        );
        assert_eq!(
            relay("Signal=1\r\nDuration=99999999999\r\n"),
            Err(InfoError::BadDuration("99999999999".into()))
        );
        assert_eq!(
            relay("Signal=1\r\nDuration=\r\n"),
            Err(InfoError::BadDuration(String::new()))
        );
        assert_eq!(
            relay("Signal=1\r\nSignal=2\r\n"),
            Err(InfoError::DuplicateField("Signal"))
        );
        assert_eq!(
            relay("Signal=1\r\nDuration=1\r\nduration=2"),
            Err(InfoError::DuplicateField("Duration"))
        );
        assert_eq!(
            relay("Signal 1\r\n"),
            Err(InfoError::MalformedLine("Signal 1".into()))
        );
        assert_eq!(parse_dtmf_relay(&[0xFF, 0xFE]), Err(InfoError::NotText));
        assert_eq!(parse_dtmf(b"  "), Err(InfoError::MissingSignal));
        assert_eq!(
            parse_dtmf(b"12 3"),
            Err(InfoError::BadSignal("12 3".into()))
        );
        assert_eq!(
            parse_body("text/plain", b"5"),
            Err(InfoError::UnsupportedContentType("text/plain".into()))
        );
        let long = format!("Signal={}", "9".repeat(500));
        match relay(&long) {
            Err(InfoError::BadSignal(s)) => assert_eq!(s.len(), ERROR_TEXT_MAX),
            other => panic!("{other:?}"),
        }
    }
}
