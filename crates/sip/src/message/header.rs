//! One header field as it travels: its name, and the exact bytes of its line(s) so that an
//! untouched header is relayed byte for byte, folding and odd spacing included.

use crate::header_name::HeaderName;
use crate::text::is_ws;
use std::fmt;
use std::sync::Arc;

#[derive(Clone)]
pub struct Header {
    name: HeaderName,
    /// The text this line is in: the header section of the message it was parsed from, shared
    /// by all its lines, or the line alone. Being `str`, reading a value needs no UTF-8 check.
    text: Arc<str>,
    /// Where `name: value` as received is in `text` (continuation lines included, final
    /// CRLF excluded).
    start: u32,
    end: u32,
    /// Offset of the first byte after the colon, from `start`.
    value_start: u16,
}

/// Two headers are equal when their names and lines are.
impl PartialEq for Header {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.value_start == other.value_start
            && self.line() == other.line()
    }
}
impl Eq for Header {}

impl Header {
    /// A new header written in canonical form: `Name: value`.
    pub fn new(name: HeaderName, value: &str) -> Header {
        Header::joined(name, &[value])
    }

    /// The header `name: ` followed by `parts` put together (a value edited in place — text
    /// before, the change, text after — without a string of its own first).
    pub(crate) fn joined(name: HeaderName, parts: &[&str]) -> Header {
        let n = name.as_str();
        let value_start = u16::try_from(n.len() + 1).unwrap_or(u16::MAX);
        let len = n.len() + 2 + parts.iter().map(|p| p.len()).sum::<usize>();
        // Most lines are short: put them together on the stack, so the line's own text is the
        // only allocation (this runs for every header Tether writes).
        let mut stack = [0u8; 256];
        if let Some(buf) = stack.get_mut(..len) {
            let (head, rest) = buf.split_at_mut(n.len());
            head.copy_from_slice(n.as_bytes());
            let (sep, mut tail) = rest.split_at_mut(2);
            sep.copy_from_slice(b": ");
            for p in parts {
                let (here, more) = tail.split_at_mut(p.len());
                here.copy_from_slice(p.as_bytes());
                tail = more;
            }
            if let Ok(line) = std::str::from_utf8(buf) {
                return Header::alone(name, line, value_start);
            }
        }
        let mut line = String::with_capacity(len);
        line.push_str(n);
        line.push_str(": ");
        for p in parts {
            line.push_str(p);
        }
        Header::alone(name, &line, value_start)
    }

    /// A header whose line is `line`, held on its own.
    fn alone(name: HeaderName, line: &str, value_start: u16) -> Header {
        Header {
            name,
            end: u32::try_from(line.len()).unwrap_or(u32::MAX),
            text: Arc::from(line),
            start: 0,
            value_start,
        }
    }

    /// The header at `text[start..end]` of a parsed header section.
    pub(crate) fn in_section(
        name: HeaderName,
        text: &Arc<str>,
        start: usize,
        end: usize,
        value_start: u16,
    ) -> Header {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(e)) => Header {
                name,
                text: Arc::clone(text),
                start: s,
                end: e,
                value_start,
            },
            // Past 4 GiB: keep the line apart.
            _ => Header::alone(name, text.get(start..end).unwrap_or(""), value_start),
        }
    }

    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The whole line as text.
    fn line(&self) -> &str {
        self.text
            .get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    /// The value with surrounding white space removed (folding inside is kept; typed parsers
    /// treat it as white space).
    pub fn value(&self) -> &str {
        trim_value(self.line().get(self.value_start as usize..).unwrap_or(""))
    }

    /// The header line exactly as it will be written (without the final CRLF).
    pub fn raw(&self) -> &[u8] {
        self.line().as_bytes()
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.line())
    }
}

/// A header value without the white space around it (folding inside is kept).
pub(super) fn trim_value(v: &str) -> &str {
    let b = v.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or("")
}
