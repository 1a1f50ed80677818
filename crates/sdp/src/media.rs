//! One media section: the `m=` line and every line after it up to the next `m=`.
//!
//! Typed access to what offer/answer needs (port, proto, formats, `c=`, `a=rtpmap`, `a=fmtp`,
//! `a=ptime`, direction) sits on top of the verbatim lines; mutators rewrite only the lines they
//! touch. This room does not decide anything about negotiation.

use std::fmt;

use crate::codec::{parse_decimal, parse_fmtp, Codec, Pt, Rtpmap};
use crate::direction::Direction;
use crate::error::Malformed;
use crate::line::{Attribute, Line};
use crate::line_values::Connection;

/// The typed fields of an `m=` line: `<media> <port>[/<count>] <proto> <fmt> ...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaLine {
    /// Media type: `audio`, `video`, `image`, `application`, ...
    pub media: String,
    /// Transport port; 0 means the stream is disabled or rejected.
    pub port: u16,
    /// Number of ports (`/2`), when written.
    pub port_count: Option<u16>,
    /// Transport protocol: `RTP/AVP`, `udptl`, ...
    pub proto: String,
    /// Formats as written (payload type numbers for RTP, `t38` for udptl).
    pub formats: Vec<String>,
}

impl MediaLine {
    pub(crate) fn parse(value: &str) -> Result<MediaLine, Malformed> {
        let mut f = value.split_ascii_whitespace();
        let (Some(media), Some(port), Some(proto)) = (f.next(), f.next(), f.next()) else {
            return Err(Malformed::MediaFieldCount);
        };
        let formats: Vec<String> = f.map(str::to_owned).collect();
        if formats.is_empty() {
            return Err(Malformed::MediaFieldCount);
        }
        let (port, port_count) = match port.split_once('/') {
            Some((p, n)) => (
                p,
                Some(parse_decimal::<u16>(n).ok_or(Malformed::MediaPort)?),
            ),
            None => (port, None),
        };
        let port = parse_decimal::<u16>(port).ok_or(Malformed::MediaPort)?;
        Ok(MediaLine {
            media: media.to_owned(),
            port,
            port_count,
            proto: proto.to_owned(),
            formats,
        })
    }
}

impl fmt::Display for MediaLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.media, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        Ok(())
    }
}

/// A media section: its `m=` line, its optional `c=`, and all its other lines in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    m: MediaLine,
    m_line: Line,
    connection: Option<Connection>,
    lines: Vec<Line>,
}

impl MediaDescription {
    /// A new media section with only its `m=` line.
    pub fn new(m: MediaLine) -> MediaDescription {
        let m_line = Line::generated(b'm', m.to_string());
        MediaDescription {
            m,
            m_line,
            connection: None,
            lines: Vec::new(),
        }
    }

    /// Build from parsed parts (the parser has already checked them).
    pub(crate) fn from_parsed(m: MediaLine, m_line: Line) -> MediaDescription {
        MediaDescription {
            m,
            m_line,
            connection: None,
            lines: Vec::new(),
        }
    }

    /// Append a parsed line (the parser has already typed `c=` into `connection`).
    pub(crate) fn push_parsed(&mut self, line: Line, connection: Option<Connection>) {
        if connection.is_some() {
            self.connection = connection;
        }
        self.lines.push(line);
    }

    /// The typed `m=` line.
    pub fn media_line(&self) -> &MediaLine {
        &self.m
    }

    /// Media type (`audio`, `video`, `image`, ...).
    pub fn media(&self) -> &str {
        &self.m.media
    }

    /// Transport port; 0 when disabled or rejected.
    pub fn port(&self) -> u16 {
        self.m.port
    }

    /// Transport protocol.
    pub fn proto(&self) -> &str {
        &self.m.proto
    }

    /// Formats in the order written.
    pub fn formats(&self) -> &[String] {
        &self.m.formats
    }

    /// Whether the port is 0 (disabled in an offer, rejected in an answer).
    pub fn is_disabled(&self) -> bool {
        self.m.port == 0
    }

    /// The media-level `c=`, if any (see [`crate::SessionDescription::media_connection`] for the
    /// effective one).
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Every line of the section, the `m=` line first, verbatim.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        std::iter::once(&self.m_line).chain(self.lines.iter())
    }

    /// All media-level attributes in order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> {
        crate::line::attributes_of(&self.lines)
    }

    /// The first media-level attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<Attribute<'_>> {
        self.attributes().find(|a| a.name == name)
    }

    /// The media-level direction attribute, if any (the last one wins if a peer repeats it).
    pub fn direction(&self) -> Option<Direction> {
        crate::line::direction_of(&self.lines)
    }

    /// Values of the `a=rtpmap` lines whose payload type token is `pt` (cheap prefix filter, no
    /// allocation).
    fn rtpmap_values(&self, pt: Pt) -> impl Iterator<Item = &str> {
        self.attributes()
            .filter(|a| a.name == "rtpmap")
            .filter_map(|a| a.value)
            .filter(move |v| v.split_ascii_whitespace().next().and_then(Pt::parse) == Some(pt))
    }

    /// The `a=rtpmap` for payload type `pt`, if present and well-formed.
    pub fn rtpmap(&self, pt: Pt) -> Option<Rtpmap> {
        self.rtpmap_values(pt).find_map(Rtpmap::parse)
    }

    /// The parameter text of the `a=fmtp` for payload type `pt`.
    pub fn fmtp(&self, pt: Pt) -> Option<&str> {
        self.attributes()
            .filter(|a| a.name == "fmtp")
            .filter_map(|a| a.value.and_then(parse_fmtp))
            .find(|(p, _)| *p == pt)
            .map(|(_, params)| params)
    }

    /// `a=ptime` in milliseconds, if present and a whole number.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime")
            .and_then(|a| a.value)
            .and_then(|v| parse_decimal(v.trim()))
    }

    /// The distinct payload type numbers among the formats, in order (at most 128, however long
    /// the `m=` line; non-numeric formats such as `t38` are skipped).
    pub fn payload_types(&self) -> Vec<Pt> {
        let mut seen = [false; 128];
        let mut out = Vec::new();
        for pt in self.m.formats.iter().filter_map(|f| Pt::parse(f)) {
            if let Some(slot) = seen.get_mut(usize::from(pt.get())) {
                if !*slot {
                    *slot = true;
                    out.push(pt);
                }
            }
        }
        out
    }

    /// The codec payload type `pt` means in this section: an `a=rtpmap` decides if present (a
    /// malformed one makes it unknown), otherwise the static assignment.
    pub fn codec_of_pt(&self, pt: Pt) -> Option<Codec> {
        let mut maps = self.rtpmap_values(pt).peekable();
        if maps.peek().is_none() {
            Codec::from_static_pt(pt)
        } else {
            maps.find_map(Rtpmap::parse)
                .and_then(|m| Codec::from_rtpmap(&m))
        }
    }

    /// The codec a format token means in this section (see [`MediaDescription::codec_of_pt`]).
    pub fn codec_of(&self, format: &str) -> Option<(Pt, Codec)> {
        let pt = Pt::parse(format)?;
        Some((pt, self.codec_of_pt(pt)?))
    }

    /// Every payload type of this section that maps to a codec Tether handles, in format order.
    pub fn codecs(&self) -> Vec<(Pt, Codec)> {
        self.payload_types()
            .into_iter()
            .filter_map(|pt| Some((pt, self.codec_of_pt(pt)?)))
            .collect()
    }

    /// The payload types of this section's formats that map telephone-event at `rate` Hz.
    pub fn telephone_event_pts(&self, rate: u32) -> Vec<Pt> {
        self.payload_types()
            .into_iter()
            .filter(|pt| self.rtpmap(*pt).is_some_and(|m| m.is_telephone_event(rate)))
            .collect()
    }

    /// Set the port (e.g. 0 to disable, or a relay port), rewriting only the `m=` line.
    pub fn set_port(&mut self, port: u16) {
        if self.m.port != port {
            self.m.port = port;
            self.m_line = Line::generated(b'm', self.m.to_string());
        }
    }

    /// Set or replace the media-level `c=` line, keeping its position or inserting it where
    /// RFC 8866 puts it (after `i=`, before `b=`/`k=`/`a=`).
    pub fn set_connection(&mut self, connection: Connection) {
        let line = Line::generated(b'c', connection.to_string());
        if let Some(existing) = self.lines.iter_mut().find(|l| l.kind_byte() == b'c') {
            *existing = line;
        } else {
            let at = self
                .lines
                .iter()
                .position(|l| l.kind_byte() != b'i')
                .unwrap_or(self.lines.len());
            self.lines.insert(at, line);
        }
        self.connection = Some(connection);
    }

    /// Replace every direction attribute with one `a=<direction>` (at the first one's position, or
    /// at the end).
    pub fn set_direction(&mut self, direction: Direction) {
        let is_dir = |l: &Line| {
            l.as_attribute()
                .is_some_and(|a| a.value.is_none() && Direction::from_attribute(a.name).is_some())
        };
        let at = self.lines.iter().position(is_dir);
        self.lines.retain(|l| !is_dir(l));
        let line = Line::attribute(direction.as_str(), None);
        match at {
            Some(i) if i <= self.lines.len() => self.lines.insert(i, line),
            _ => self.lines.push(line),
        }
    }

    /// Append an `a=name[:value]` line.
    pub fn push_attribute(&mut self, name: &str, value: Option<&str>) {
        self.lines.push(Line::attribute(name, value));
    }

    /// Remove every attribute called `name`; returns how many were removed.
    pub fn remove_attributes(&mut self, name: &str) -> usize {
        let before = self.lines.len();
        self.lines
            .retain(|l| l.as_attribute().is_none_or(|a| a.name != name));
        before - self.lines.len()
    }

    /// Append any line (unknown types included). `c=` lines must go through
    /// [`MediaDescription::set_connection`], so they are refused here (returns `false`).
    pub fn push_line(&mut self, line: Line) -> bool {
        if matches!(line.kind_byte(), b'c' | b'm') {
            return false;
        }
        self.lines.push(line);
        true
    }
}

impl fmt::Display for MediaDescription {
    /// The section's lines, each ended by CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.lines() {
            write!(f, "{line}\r\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(lines: &[&str]) -> MediaDescription {
        let mut it = lines.iter();
        let first = it
            .next()
            .and_then(|l| l.strip_prefix("m="))
            .expect("m= first");
        let mut m = MediaDescription::from_parsed(
            MediaLine::parse(first).expect("valid m="),
            Line::parsed(b'm', first),
        );
        for l in it {
            let (k, v) = l.split_once('=').expect("type=value");
            let conn = (k == "c").then(|| Connection::parse(v).expect("valid c="));
            m.push_parsed(Line::parsed(k.as_bytes()[0], v), conn);
        }
        m
    }

    #[test]
    fn media_line_parse() {
        let m = MediaLine::parse("audio 49170/2 RTP/AVP 0 8 101").expect("valid");
        assert_eq!(m.port, 49170);
        assert_eq!(m.port_count, Some(2));
        assert_eq!(m.formats, ["0", "8", "101"]);
        assert_eq!(m.to_string(), "audio 49170/2 RTP/AVP 0 8 101");
        let m = MediaLine::parse("image 0 udptl t38").expect("valid");
        assert_eq!(m.formats, ["t38"]);
        assert_eq!(
            MediaLine::parse("audio x RTP/AVP 0"),
            Err(Malformed::MediaPort)
        );
        assert_eq!(
            MediaLine::parse("audio 70000 RTP/AVP 0"),
            Err(Malformed::MediaPort)
        );
        assert_eq!(
            MediaLine::parse("audio 1/x RTP/AVP 0"),
            Err(Malformed::MediaPort)
        );
        assert_eq!(
            MediaLine::parse("audio 1 RTP/AVP"),
            Err(Malformed::MediaFieldCount)
        );
        assert_eq!(MediaLine::parse("audio"), Err(Malformed::MediaFieldCount));
    }

    #[test]
    fn attributes_are_typed_on_demand() {
        let m = section(&[
            "m=audio 4000 RTP/AVP 8 0 96 18",
            "c=IN IP4 192.0.2.5",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:96 telephone-event/8000",
            "a=fmtp:96 0-16",
            "a=rtpmap:18 G729/8000",
            "a=ptime:30",
            "a=sendonly",
        ]);
        assert_eq!(m.codec_of("8"), Some((Pt::PCMA, Codec::Pcma)));
        assert_eq!(m.codec_of("0"), Some((Pt::PCMU, Codec::Pcmu)));
        assert_eq!(m.codec_of("18"), None);
        assert_eq!(m.codec_of("t38"), None);
        let te = m.telephone_event_pts(8000);
        assert_eq!(te, [Pt::new(96).expect("pt")]);
        assert_eq!(
            m.codecs(),
            [(Pt::PCMA, Codec::Pcma), (Pt::PCMU, Codec::Pcmu)]
        );
        assert_eq!(m.fmtp(Pt::new(96).expect("pt")), Some("0-16"));
        assert_eq!(m.ptime(), Some(30));
        assert_eq!(m.direction(), Some(Direction::SendOnly));
        assert_eq!(
            m.connection().and_then(Connection::ip),
            Some("192.0.2.5".parse().expect("ip"))
        );
    }

    #[test]
    fn rtpmap_overrides_static_meaning() {
        let m = section(&["m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMA/8000"]);
        assert_eq!(m.codec_of("0"), Some((Pt::PCMU, Codec::Pcma)));
        let m = section(&["m=audio 4000 RTP/AVP 0", "a=rtpmap:0 garbage"]);
        assert_eq!(m.codec_of("0"), None);
    }

    #[test]
    fn mutators_touch_only_their_lines() {
        let mut m = section(&[
            "m=audio 4000 RTP/AVP 0",
            "i=main  audio",
            "a=x-unknown:keep  me",
            "a=sendrecv",
            "a=ptime:20",
        ]);
        m.set_port(5000);
        m.set_direction(Direction::SendOnly);
        m.set_connection(Connection::new("198.51.100.1".parse().expect("ip")));
        assert_eq!(
            m.to_string(),
            "m=audio 5000 RTP/AVP 0\r\ni=main  audio\r\nc=IN IP4 198.51.100.1\r\n\
             a=x-unknown:keep  me\r\na=sendonly\r\na=ptime:20\r\n"
        );
        assert_eq!(m.remove_attributes("ptime"), 1);
        m.set_connection(Connection::new("198.51.100.2".parse().expect("ip")));
        assert_eq!(m.lines().filter(|l| l.kind() == 'c').count(), 1);
        assert!(!m.push_line(Line::new('c', "IN IP4 1.1.1.1").expect("line")));
        assert!(m.push_line(Line::new('k', "prompt").expect("line")));
        m.set_direction(Direction::SendRecv);
        assert_eq!(m.direction(), Some(Direction::SendRecv));
    }
}
