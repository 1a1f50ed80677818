//! One SDP line, `<type>=<value>`, kept exactly as received, and the borrowed view of an `a=`
//! attribute.
//!
//! This room is what makes the model line-preserving: every line of a parsed description lives
//! here verbatim, known or not, so serializing it gives back the same bytes. It must not interpret
//! values beyond splitting `a=name:value`.

use std::fmt;

/// A single `<type>=<value>` line, without its line ending.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    kind: u8,
    value: String,
}

impl Line {
    /// A line of type `kind` (a lowercase ASCII letter) with `value`.
    ///
    /// Returns `None` if `kind` is not a lowercase ASCII letter or `value` contains CR, LF or NUL
    /// (which would smuggle extra lines into the body).
    pub fn new(kind: char, value: impl Into<String>) -> Option<Line> {
        let value = value.into();
        if !kind.is_ascii_lowercase() || value.contains(['\r', '\n', '\0']) {
            return None;
        }
        Some(Line {
            kind: kind as u8,
            value,
        })
    }

    /// A line built by this crate from typed values. Characters that cannot appear inside a line
    /// (CR, LF, NUL) — which only API misuse could put there — are replaced by spaces so a value
    /// can never inject lines.
    pub(crate) fn generated(kind: u8, value: String) -> Line {
        let value = if value.contains(['\r', '\n', '\0']) {
            value.replace(['\r', '\n', '\0'], " ")
        } else {
            value
        };
        Line { kind, value }
    }

    /// A line taken verbatim from parsed input (already checked by the parser).
    pub(crate) fn parsed(kind: u8, value: &str) -> Line {
        Line {
            kind,
            value: value.to_owned(),
        }
    }

    /// An `a=name` or `a=name:value` line.
    pub fn attribute(name: &str, value: Option<&str>) -> Line {
        let text = match value {
            Some(v) => format!("{name}:{v}"),
            None => name.to_owned(),
        };
        Line::generated(b'a', text)
    }

    /// The line type letter (`v`, `o`, `a`, ...).
    pub fn kind(&self) -> char {
        char::from(self.kind)
    }

    /// Everything after `=`, exactly as received.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// This line as an attribute, if it is an `a=` line.
    pub fn as_attribute(&self) -> Option<Attribute<'_>> {
        (self.kind == b'a').then(|| Attribute::split(&self.value))
    }

    pub(crate) fn kind_byte(&self) -> u8 {
        self.kind
    }
}

impl fmt::Display for Line {
    /// `<type>=<value>`, without a line ending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind(), self.value)
    }
}

/// The attributes among `lines`, in order (session or media level alike).
pub(crate) fn attributes_of(lines: &[Line]) -> impl Iterator<Item = Attribute<'_>> {
    lines.iter().filter_map(Line::as_attribute)
}

/// The direction attribute among `lines`; the last one wins if a peer repeats it.
pub(crate) fn direction_of(lines: &[Line]) -> Option<crate::direction::Direction> {
    attributes_of(lines)
        .filter(|a| a.value.is_none())
        .filter_map(|a| crate::direction::Direction::from_attribute(a.name))
        .last()
}

/// A borrowed view of an `a=` line: `name` or `name:value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Attribute name (before the first `:`).
    pub name: &'a str,
    /// Attribute value (after the first `:`), if there is one.
    pub value: Option<&'a str>,
}

impl<'a> Attribute<'a> {
    /// Split an `a=` value at its first colon.
    pub fn split(text: &'a str) -> Attribute<'a> {
        match text.split_once(':') {
            Some((name, value)) => Attribute {
                name,
                value: Some(value),
            },
            None => Attribute {
                name: text,
                value: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_split() {
        assert_eq!(
            Attribute::split("rtpmap:0 PCMU/8000"),
            Attribute {
                name: "rtpmap",
                value: Some("0 PCMU/8000")
            }
        );
        assert_eq!(
            Attribute::split("sendonly"),
            Attribute {
                name: "sendonly",
                value: None
            }
        );
        assert_eq!(
            Attribute::split("x:a:b"),
            Attribute {
                name: "x",
                value: Some("a:b")
            }
        );
    }

    #[test]
    fn lines_cannot_inject() {
        assert!(Line::new('a', "x\r\nm=video 1 RTP/AVP 31").is_none());
        assert!(Line::new('A', "x").is_none());
        assert!(Line::new('=', "x").is_none());
        let l = Line::attribute("tool", Some("evil\r\nv=0"));
        assert_eq!(l.to_string(), "a=tool:evil  v=0");
        let l = Line::new('y', "0123456789").expect("valid");
        assert_eq!(l.to_string(), "y=0123456789");
        assert_eq!(l.as_attribute(), None);
    }
}
