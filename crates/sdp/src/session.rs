//! The whole session description: parsing (RFC 8866 line grammar), the session-level lines, the
//! media sections, and serialization back to bytes.
//!
//! Every line is kept in order — unknown types and unknown attributes included — so
//! `parse(x).to_string() == x` for well-formed CRLF input. Parsing checks the structure Tether
//! relies on (`v=0` first, one `o=` and `s=`, typed `o=`/`c=`/`t=`/`b=`/`m=` lines, a connection for
//! every active stream) and refuses hostile sizes; it never panics. Negotiation lives elsewhere.

use std::fmt;
use std::str::FromStr;

use crate::direction::Direction;
use crate::error::{Malformed, SdpError};
use crate::line::{Attribute, Line};
use crate::line_values::{Bandwidth, Connection, ConnectionError, Origin, Timing};
use crate::media::{MediaDescription, MediaLine};

/// Largest SDP body accepted, in bytes (64 KiB; real offers are well under 4 KiB).
pub const MAX_SDP_LEN: usize = 64 * 1024;

/// Largest number of lines accepted.
pub const MAX_SDP_LINES: usize = 2048;

/// A parsed (or built) SDP session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// Session-level lines in order, `v=` first.
    lines: Vec<Line>,
    /// Typed view of the `o=` line.
    origin: Origin,
    /// Typed view of the session-level `c=` line.
    connection: Option<Connection>,
    media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// A minimal description: `v=0`, `o=`, `s=`, `t=0 0`, no media.
    pub fn new(origin: Origin, session_name: &str) -> SessionDescription {
        SessionDescription {
            lines: vec![
                Line::generated(b'v', "0".to_owned()),
                Line::generated(b'o', origin.to_string()),
                Line::generated(b's', session_name.to_owned()),
                Line::generated(b't', Timing::default().to_string()),
            ],
            origin,
            connection: None,
            media: Vec::new(),
        }
    }

    /// Parse an SDP body. Lines may end in CRLF or bare LF; the last line may lack an ending;
    /// trailing empty lines are ignored.
    pub fn parse(input: impl AsRef<[u8]>) -> Result<SessionDescription, SdpError> {
        Parser::default().run(input.as_ref())
    }

    /// The typed `o=` line.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Replace the `o=` line.
    pub fn set_origin(&mut self, origin: Origin) {
        let line = Line::generated(b'o', origin.to_string());
        match self.lines.iter_mut().find(|l| l.kind_byte() == b'o') {
            Some(existing) => *existing = line,
            None => {
                let at = usize::from(!self.lines.is_empty());
                self.lines.insert(at, line);
            }
        }
        self.origin = origin;
    }

    /// The `s=` text, verbatim.
    pub fn session_name(&self) -> &str {
        self.lines
            .iter()
            .find(|l| l.kind_byte() == b's')
            .map_or("", Line::value)
    }

    /// The session-level `c=`.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Set or replace the session-level `c=` line (kept in place, or inserted before the first
    /// `b=`/`t=`/`r=`/`z=`/`k=`/`a=` line as RFC 8866 orders them).
    pub fn set_connection(&mut self, connection: Connection) {
        let line = Line::generated(b'c', connection.to_string());
        if let Some(existing) = self.lines.iter_mut().find(|l| l.kind_byte() == b'c') {
            *existing = line;
        } else {
            let at = self
                .lines
                .iter()
                .position(|l| matches!(l.kind_byte(), b'b' | b't' | b'r' | b'z' | b'k' | b'a'))
                .unwrap_or(self.lines.len());
            self.lines.insert(at, line);
        }
        self.connection = Some(connection);
    }

    /// The first `t=` line.
    pub fn timing(&self) -> Option<Timing> {
        self.lines
            .iter()
            .filter(|l| l.kind_byte() == b't')
            .find_map(|l| Timing::parse(l.value()))
    }

    /// Session-level `b=` lines.
    pub fn bandwidths(&self) -> impl Iterator<Item = Bandwidth> + '_ {
        self.lines
            .iter()
            .filter(|l| l.kind_byte() == b'b')
            .filter_map(|l| Bandwidth::parse(l.value()))
    }

    /// Session-level lines, verbatim and in order (`v=` first; no media lines).
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Session-level attributes in order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> {
        crate::line::attributes_of(&self.lines)
    }

    /// The first session-level attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<Attribute<'_>> {
        self.attributes().find(|a| a.name == name)
    }

    /// The session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        crate::line::direction_of(&self.lines)
    }

    /// Remove every session-level direction attribute (so media-level ones alone decide).
    pub fn clear_direction(&mut self) {
        self.lines.retain(|l| {
            !l.as_attribute()
                .is_some_and(|a| a.value.is_none() && Direction::from_attribute(a.name).is_some())
        });
    }

    /// Append a session-level `a=name[:value]` line (before the media sections).
    pub fn push_attribute(&mut self, name: &str, value: Option<&str>) {
        self.lines.push(Line::attribute(name, value));
    }

    /// Append any session-level line. Lines that carry typed state or structure (`v=`, `o=`, `s=`,
    /// `c=`, `m=`) are refused (returns `false`); use the setters for those.
    pub fn push_line(&mut self, line: Line) -> bool {
        if matches!(line.kind_byte(), b'v' | b'o' | b's' | b'c' | b'm') {
            return false;
        }
        self.lines.push(line);
        true
    }

    /// The media sections in order.
    pub fn media(&self) -> &[MediaDescription] {
        &self.media
    }

    /// The media sections, mutable (each keeps its own invariants through its methods).
    pub fn media_mut(&mut self) -> &mut [MediaDescription] {
        &mut self.media
    }

    /// Append a media section.
    pub fn push_media(&mut self, media: MediaDescription) {
        self.media.push(media);
    }

    /// The effective direction of media section `index`: its own attribute, else the session's,
    /// else `sendrecv`.
    pub fn media_direction(&self, index: usize) -> Direction {
        Direction::effective(
            self.direction(),
            self.media.get(index).and_then(MediaDescription::direction),
        )
    }

    /// The effective connection of media section `index`: its own `c=`, else the session's.
    pub fn media_connection(&self, index: usize) -> Option<&Connection> {
        self.media
            .get(index)
            .and_then(MediaDescription::connection)
            .or(self.connection.as_ref())
    }

    /// Serialize to bytes (same as `to_string().into_bytes()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for SessionDescription {
    /// Every line in order, each ended by CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            write!(f, "{line}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl FromStr for SessionDescription {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parse state: which single-occurrence lines we have seen.
#[derive(Default)]
struct Parser {
    lines: Vec<Line>,
    origin: Option<Origin>,
    seen_session_name: bool,
    connection: Option<Connection>,
    media: Vec<MediaDescription>,
    /// 1-based line number of each media section's `m=` line.
    media_line_numbers: Vec<usize>,
}

fn malformed(line: usize, problem: Malformed) -> SdpError {
    SdpError::Malformed { line, problem }
}

fn connection_error(line: usize, e: ConnectionError) -> SdpError {
    match e {
        ConnectionError::Malformed(problem) => malformed(line, problem),
        ConnectionError::Unsupported(what) => SdpError::Unsupported { line, what },
    }
}

impl Parser {
    fn run(mut self, input: &[u8]) -> Result<SessionDescription, SdpError> {
        if input.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge { len: input.len() });
        }
        let mut raw_lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
        // Trailing empty lines (including the empty piece after the final line ending) carry nothing.
        while raw_lines
            .last()
            .is_some_and(|l| l.is_empty() || *l == b"\r")
        {
            raw_lines.pop();
        }
        if raw_lines.is_empty() {
            return Err(malformed(1, Malformed::Empty));
        }
        if raw_lines.len() > MAX_SDP_LINES {
            return Err(SdpError::TooManyLines);
        }
        for (i, raw) in raw_lines.iter().enumerate() {
            let number = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.is_empty() {
                return Err(malformed(number, Malformed::EmptyLine));
            }
            if raw.iter().any(|b| matches!(b, b'\r' | b'\0')) {
                return Err(malformed(number, Malformed::ForbiddenCharacter));
            }
            let text =
                std::str::from_utf8(raw).map_err(|_| malformed(number, Malformed::NotUtf8))?;
            let (kind, value) = match text.as_bytes() {
                [k, b'=', ..] if k.is_ascii_lowercase() => (*k, text.get(2..).unwrap_or("")),
                _ => return Err(malformed(number, Malformed::NotTypeValue)),
            };
            if number == 1 {
                if kind != b'v' {
                    return Err(malformed(1, Malformed::VersionNotFirst));
                }
                if value.trim() != "0" {
                    return Err(malformed(1, Malformed::UnsupportedVersion));
                }
                self.lines.push(Line::parsed(kind, value));
                continue;
            }
            if self.media.is_empty() && kind != b'm' {
                self.session_line(number, kind, value)?;
            } else {
                self.media_line(number, kind, value)?;
            }
        }
        self.finish(raw_lines.len() + 1)
    }

    fn session_line(&mut self, number: usize, kind: u8, value: &str) -> Result<(), SdpError> {
        match kind {
            b'v' => return Err(malformed(number, Malformed::Duplicate('v'))),
            b'o' => {
                if self.origin.is_some() {
                    return Err(malformed(number, Malformed::Duplicate('o')));
                }
                self.origin = Some(Origin::parse(value).map_err(|p| malformed(number, p))?);
            }
            b's' => {
                if self.seen_session_name {
                    return Err(malformed(number, Malformed::Duplicate('s')));
                }
                self.seen_session_name = true;
            }
            b'c' => {
                if self.connection.is_some() {
                    return Err(malformed(number, Malformed::DuplicateConnection));
                }
                self.connection =
                    Some(Connection::parse(value).map_err(|e| connection_error(number, e))?);
            }
            _ => check_common(number, kind, value)?,
        }
        self.lines.push(Line::parsed(kind, value));
        Ok(())
    }

    fn media_line(&mut self, number: usize, kind: u8, value: &str) -> Result<(), SdpError> {
        match kind {
            b'm' => {
                if self.media.is_empty() {
                    self.check_session_complete(number)?;
                }
                let m = MediaLine::parse(value).map_err(|p| malformed(number, p))?;
                self.media
                    .push(MediaDescription::from_parsed(m, Line::parsed(kind, value)));
                self.media_line_numbers.push(number);
                return Ok(());
            }
            b'v' | b'o' | b's' | b't' | b'r' | b'z' => {
                return Err(malformed(
                    number,
                    Malformed::SessionLineInMedia(char::from(kind)),
                ))
            }
            _ => {}
        }
        let Some(section) = self.media.last_mut() else {
            return Err(malformed(number, Malformed::NotTypeValue));
        };
        let mut connection = None;
        if kind == b'c' {
            if section.connection().is_some() {
                return Err(malformed(number, Malformed::DuplicateConnection));
            }
            connection = Some(Connection::parse(value).map_err(|e| connection_error(number, e))?);
        } else {
            check_common(number, kind, value)?;
        }
        section.push_parsed(Line::parsed(kind, value), connection);
        Ok(())
    }

    fn check_session_complete(&self, number: usize) -> Result<(), SdpError> {
        if self.origin.is_none() {
            return Err(malformed(number, Malformed::MissingOrigin));
        }
        if !self.seen_session_name {
            return Err(malformed(number, Malformed::MissingSessionName));
        }
        Ok(())
    }

    fn finish(self, end_line: usize) -> Result<SessionDescription, SdpError> {
        if self.media.is_empty() {
            self.check_session_complete(end_line)?;
        }
        let Some(origin) = self.origin else {
            return Err(malformed(end_line, Malformed::MissingOrigin));
        };
        if self.connection.is_none() {
            for (m, number) in self.media.iter().zip(&self.media_line_numbers) {
                if !m.is_disabled() && m.connection().is_none() {
                    return Err(malformed(*number, Malformed::MissingConnection));
                }
            }
        }
        Ok(SessionDescription {
            lines: self.lines,
            origin,
            connection: self.connection,
            media: self.media,
        })
    }
}

/// Checks for line types valid at both levels.
fn check_common(number: usize, kind: u8, value: &str) -> Result<(), SdpError> {
    match kind {
        b't' if Timing::parse(value).is_none() => Err(malformed(number, Malformed::Timing)),
        b'b' if Bandwidth::parse(value).is_none() => Err(malformed(number, Malformed::Bandwidth)),
        b'a' if Attribute::split(value).name.is_empty() => {
            Err(malformed(number, Malformed::AttributeName))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
