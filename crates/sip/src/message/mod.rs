//! A SIP message parsed once into a structure that keeps the original bytes.
//!
//! The start line, every header line and the body keep the bytes they arrived with; a message
//! nobody changed serializes to exactly the bytes that were parsed, and a header nobody changed
//! is written back byte for byte. The headers every layer needs on every message (top Via,
//! From, To, Call-ID, CSeq) are validated at parse time and located; their typed values are
//! built on first read (`core`), and everything else is parsed on demand from its text. This
//! room owns no I/O and knows nothing of transactions.

mod build;
mod core;
mod header;
mod parse;
mod typed;
mod write;

pub use build::error_response_for_raw;
pub use header::Header;
pub use parse::{ParseOptions, DEFAULT_MAX_MESSAGE};

use crate::error::Error;
use crate::header_name::HeaderName;
use crate::headers::{CSeq, NameAddr, Via};
use crate::method::Method;
use crate::uri::Uri;
use bytes::Bytes;
use core::Core;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, uri: Uri },
    Response { code: u16, reason: Box<str> },
}

#[derive(Clone, Debug)]
pub struct Message {
    start: StartLine,
    /// The start line as received, while the start line is unchanged.
    start_raw: Option<Bytes>,
    headers: Vec<Header>,
    body: Bytes,
    /// The whole message as received, while nothing is changed.
    original: Option<Bytes>,
    /// Where the core headers are in `headers`, and their typed values once read.
    core: Core,
}

/// Two messages are equal when their start lines, header lines and bodies are (`core` is found
/// from the header lines, so comparing it would add nothing).
impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start
            && self.start_raw == other.start_raw
            && self.headers == other.headers
            && self.body == other.body
            && self.original == other.original
    }
}
impl Eq for Message {}

impl Message {
    /// Parses one message from a datagram (RFC 3261 §18.3: extra bytes after the body that
    /// Content-Length declares are ignored; without Content-Length the body runs to the end).
    pub fn parse(buf: impl Into<Bytes>) -> Result<Message, crate::error::ParseError> {
        parse::parse(buf.into(), &ParseOptions::default())
    }

    pub fn parse_with(
        buf: impl Into<Bytes>,
        opts: &ParseOptions,
    ) -> Result<Message, crate::error::ParseError> {
        parse::parse(buf.into(), opts)
    }

    pub fn start_line(&self) -> &StartLine {
        &self.start
    }
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }
    pub fn is_response(&self) -> bool {
        !self.is_request()
    }
    /// The request method, or `None` for a response.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }
    pub fn request_uri(&self) -> Option<&Uri> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }
    /// The status code, or `None` for a request.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }
    pub fn reason_phrase(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    pub fn headers(&self) -> &[Header] {
        &self.headers
    }
    /// The first header of that name.
    pub fn header(&self, name: &HeaderName) -> Option<&Header> {
        self.headers.iter().find(|h| h.name() == name)
    }
    pub fn header_value(&self, name: &HeaderName) -> Option<&str> {
        self.header(name).map(Header::value)
    }
    /// Every header line of that name, in order.
    pub fn headers_named<'a>(
        &'a self,
        name: &'a HeaderName,
    ) -> impl Iterator<Item = &'a Header> + 'a {
        self.headers.iter().filter(move |h| h.name() == name)
    }
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    pub fn top_via(&self) -> Option<&Via> {
        self.core.top_via(&self.headers)
    }
    pub fn from_hdr(&self) -> Option<&NameAddr> {
        self.core.from(&self.headers)
    }
    pub fn to_hdr(&self) -> Option<&NameAddr> {
        self.core.to(&self.headers)
    }
    pub fn cseq(&self) -> Option<&CSeq> {
        self.core.cseq.as_ref()
    }
    pub fn call_id(&self) -> Option<&str> {
        self.headers.get(self.core.call_id?).map(Header::value)
    }
    pub fn from_tag(&self) -> Option<&str> {
        self.tag(self.core.from, || self.from_hdr())
    }
    pub fn to_tag(&self) -> Option<&str> {
        self.tag(self.core.to, || self.to_hdr())
    }

    fn tag<'a>(
        &'a self,
        at: Option<core::AddrAt>,
        typed: impl FnOnce() -> Option<&'a NameAddr>,
    ) -> Option<&'a str> {
        let at = at?;
        match at.tag {
            core::Tag::Absent => None,
            core::Tag::At(a, b) => self
                .headers
                .get(at.index)?
                .value()
                .get(a as usize..b as usize),
            core::Tag::Unknown => typed().and_then(NameAddr::tag),
        }
    }

    // ---- changes ----------------------------------------------------------------------

    fn touched(&mut self) {
        self.original = None;
    }

    /// Finds the core headers again after the lines named `name` changed (lines of other
    /// names may have moved).
    fn lines_changed(&mut self, name: &HeaderName) -> Result<(), Error> {
        if *name == HeaderName::Contact {
            self.core.contacts_checked = false;
        }
        if !Self::is_core(name) {
            self.core.reindex(&self.headers);
            return Ok(());
        }
        if self.core.refresh(&self.headers, name) {
            return Ok(());
        }
        Err(Error::ApiMisuse(match name {
            HeaderName::Via => "invalid Via value",
            HeaderName::From => "invalid From value",
            HeaderName::To => "invalid To value",
            _ => "invalid CSeq value",
        }))
    }

    /// Checks a value for a core header before it goes in.
    fn validate_core(name: &HeaderName, value: &str) -> Result<(), Error> {
        let ok = match name {
            HeaderName::Via => Via::parse_list(value).is_ok(),
            HeaderName::From | HeaderName::To => NameAddr::parse(value).is_ok(),
            HeaderName::CSeq => CSeq::parse(value).is_ok(),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::ApiMisuse("invalid value for a core header"))
        }
    }

    fn is_core(name: &HeaderName) -> bool {
        matches!(
            name,
            HeaderName::Via | HeaderName::From | HeaderName::To | HeaderName::CSeq
        )
    }

    /// Appends a header line. Core headers (Via, From, To, CSeq) are validated.
    pub fn push_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        Self::validate_core(&name, value)?;
        self.touched();
        self.headers.push(Header::new(name.clone(), value));
        self.lines_changed(&name)
    }

    /// Appends an existing header (for example one copied from another message, byte for byte).
    pub fn push_raw_header(&mut self, h: Header) -> Result<(), Error> {
        Self::validate_core(h.name(), h.value())?;
        self.touched();
        let name = h.name().clone();
        self.headers.push(h);
        self.lines_changed(&name)
    }

    /// Inserts a header line before every other header of the same name (for Via, Route,
    /// Record-Route), or at the top when there is none.
    pub fn prepend_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        Self::validate_core(&name, value)?;
        self.touched();
        let at = self
            .headers
            .iter()
            .position(|h| *h.name() == name)
            .unwrap_or(0);
        self.headers.insert(at, Header::new(name.clone(), value));
        self.lines_changed(&name)
    }

    /// Replaces every header of that name by one line holding `value`, at the first one's place.
    pub fn set_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        Self::validate_core(&name, value)?;
        self.touched();
        let new = Header::new(name.clone(), value);
        match self.headers.iter().position(|h| *h.name() == name) {
            Some(i) => {
                self.headers[i] = new;
                let mut k = 0;
                self.headers.retain(|h| {
                    k += 1;
                    k - 1 == i || *h.name() != name
                });
            }
            None => self.headers.push(new),
        }
        self.lines_changed(&name)
    }

    /// Removes every header of that name; returns how many were removed.
    pub fn remove_headers(&mut self, name: &HeaderName) -> usize {
        let before = self.headers.len();
        self.headers.retain(|h| h.name() != name);
        let n = before - self.headers.len();
        if n > 0 {
            self.touched();
            // Removing a core header cannot make it invalid.
            let _ = self.lines_changed(name);
        }
        n
    }

    /// Removes the first header of that name (the top Via when forwarding a response).
    pub fn remove_first(&mut self, name: &HeaderName) -> Option<Header> {
        let i = self.headers.iter().position(|h| h.name() == name)?;
        self.touched();
        let h = self.headers.remove(i);
        let _ = self.lines_changed(name);
        Some(h)
    }

    /// Sets the body and its Content-Type; Content-Length follows the body when written.
    pub fn set_body(
        &mut self,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<(), Error> {
        self.touched();
        self.body = body.into();
        match content_type {
            Some(ct) => self.set_header(HeaderName::ContentType, ct)?,
            None => {
                self.remove_headers(&HeaderName::ContentType);
            }
        }
        Ok(())
    }

    /// Replaces the Request-URI (requests only).
    pub fn set_request_uri(&mut self, new: Uri) -> Result<(), Error> {
        match &mut self.start {
            StartLine::Request { uri, .. } => {
                *uri = new;
                self.start_raw = None;
                self.touched();
                Ok(())
            }
            StartLine::Response { .. } => Err(Error::ApiMisuse("a response has no Request-URI")),
        }
    }

    /// Sets the To tag (a UAS does this on its first non-100 response).
    pub fn set_to_tag(&mut self, tag: &str) -> Result<(), Error> {
        let mut to = self
            .to_hdr()
            .cloned()
            .ok_or(Error::ApiMisuse("no To header"))?;
        to.set_tag(tag);
        self.set_header(HeaderName::To, &to.to_string())
    }
}

#[cfg(test)]
mod tests;
