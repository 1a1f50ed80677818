//! One header field as it travels: its name, and the exact bytes of its line(s) so that an
//! untouched header is relayed byte for byte, folding and odd spacing included.

use crate::header_name::HeaderName;
use crate::text::is_ws;
use bytes::Bytes;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    name: HeaderName,
    /// `name: value` as received (continuation lines included, final CRLF excluded).
    raw: Bytes,
    /// Offset of the first byte after the colon.
    value_start: u16,
}

impl Header {
    /// A new header written in canonical form: `Name: value`.
    pub fn new(name: HeaderName, value: &str) -> Header {
        let n = name.as_str();
        let mut raw = Vec::with_capacity(n.len() + 2 + value.len());
        raw.extend_from_slice(n.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        let value_start = u16::try_from(n.len() + 1).unwrap_or(u16::MAX);
        Header {
            name,
            raw: raw.into(),
            value_start,
        }
    }

    pub(crate) fn from_wire(name: HeaderName, raw: Bytes, value_start: u16) -> Header {
        Header {
            name,
            raw,
            value_start,
        }
    }

    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The value with surrounding white space removed (folding inside is kept; typed parsers
    /// treat it as white space).
    pub fn value(&self) -> &str {
        let bytes = self.raw.get(self.value_start as usize..).unwrap_or(&[]);
        // Header sections are checked to be UTF-8 when parsed and built from `&str`.
        trim_value(std::str::from_utf8(bytes).unwrap_or(""))
    }

    /// The header line exactly as it will be written (without the final CRLF).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&self.raw))
    }
}

/// A header value without the white space around it (folding inside is kept).
pub(super) fn trim_value(v: &str) -> &str {
    let b = v.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or("")
}
