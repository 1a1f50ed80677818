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
mod edit;
mod header;
mod lines;
mod parse;
mod typed;
mod write;

pub use build::error_response_for_raw;
pub use header::Header;
pub use lines::HeaderLines;
pub use parse::{ParseOptions, DEFAULT_MAX_MESSAGE};

use crate::header_name::HeaderName;
use crate::headers::{CSeq, NameAddr, Via};
use crate::method::Method;
use crate::uri::Uri;
use bytes::Bytes;
use core::Core;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, uri: Uri },
    Response { code: u16, reason: Box<str> },
}

/// A message is shared, not copied: cloning one (a transaction keeping what it sent, a TU keeping
/// the request it answers) only counts a reference, and the first edit of a shared message
/// copies its parts.
#[derive(Clone)]
pub struct Message {
    p: Arc<Parts>,
}

#[derive(Clone)]
struct Parts {
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
        let (a, b) = (&*self.p, &*other.p);
        Arc::ptr_eq(&self.p, &other.p)
            || (a.start == b.start
                && a.start_raw == b.start_raw
                && a.headers == b.headers
                && a.body == b.body
                && a.original == b.original)
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &*self.p;
        f.debug_struct("Message")
            .field("start", &p.start)
            .field("start_raw", &p.start_raw)
            .field("headers", &p.headers)
            .field("body", &p.body)
            .field("original", &p.original)
            .field("core", &p.core)
            .finish()
    }
}
impl Eq for Message {}

impl Message {
    fn from_parts(p: Parts) -> Message {
        Message { p: Arc::new(p) }
    }

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
        &self.p.start
    }
    pub fn is_request(&self) -> bool {
        matches!(self.p.start, StartLine::Request { .. })
    }
    pub fn is_response(&self) -> bool {
        !self.is_request()
    }
    /// The request method, or `None` for a response.
    pub fn method(&self) -> Option<&Method> {
        match &self.p.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }
    pub fn request_uri(&self) -> Option<&Uri> {
        match &self.p.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }
    /// The status code, or `None` for a request.
    pub fn status(&self) -> Option<u16> {
        match &self.p.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }
    pub fn reason_phrase(&self) -> Option<&str> {
        match &self.p.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    pub fn headers(&self) -> &[Header] {
        &self.p.headers
    }
    /// The first header of that name.
    pub fn header(&self, name: &HeaderName) -> Option<&Header> {
        self.p.headers.iter().find(|h| h.name() == name)
    }
    pub fn header_value(&self, name: &HeaderName) -> Option<&str> {
        self.header(name).map(Header::value)
    }
    /// Every header line of that name, in order.
    pub fn headers_named<'a>(
        &'a self,
        name: &'a HeaderName,
    ) -> impl Iterator<Item = &'a Header> + 'a {
        self.p.headers.iter().filter(move |h| h.name() == name)
    }
    pub fn body(&self) -> &Bytes {
        &self.p.body
    }

    pub fn top_via(&self) -> Option<&Via> {
        self.p.core.top_via(&self.p.headers)
    }
    /// The top Via's branch, read from the text when its parts were located at parse time
    /// (no typed Via is built); what `top_via()?.branch()` gives.
    pub fn top_via_branch(&self) -> Option<&str> {
        match self.top_via_text() {
            Some((v, spans)) => spans.branch(v),
            None => self.top_via()?.branch(),
        }
    }
    /// The top Via's sent-by host (as written) and port, as `top_via()?.sent_by()` gives them.
    pub fn top_via_sent_by(&self) -> Option<(&str, Option<u16>)> {
        match self.top_via_text() {
            Some((v, spans)) => spans.sent_by(v),
            None => self.top_via().map(Via::sent_by),
        }
    }
    /// The first Via line's value and where its top via-parm's parts are, when known.
    fn top_via_text(&self) -> Option<(&str, &crate::headers::via::ViaSpans)> {
        let spans = self.p.core.via_spans.as_ref()?;
        Some((self.p.headers.get(self.p.core.via?)?.value(), spans))
    }
    /// Whether the message has a (valid) Via, From and To: what `top_via()`, `from_hdr()` and
    /// `to_hdr()` being `Some` says, without building them.
    pub fn has_via(&self) -> bool {
        self.p.core.via.is_some()
    }
    pub fn has_from(&self) -> bool {
        self.p.core.from.is_some()
    }
    pub fn has_to(&self) -> bool {
        self.p.core.to.is_some()
    }
    pub fn from_hdr(&self) -> Option<&NameAddr> {
        self.p.core.from(&self.p.headers)
    }
    pub fn to_hdr(&self) -> Option<&NameAddr> {
        self.p.core.to(&self.p.headers)
    }
    pub fn cseq(&self) -> Option<&CSeq> {
        self.p.core.cseq.as_ref()
    }
    pub fn call_id(&self) -> Option<&str> {
        self.p.headers.get(self.p.core.call_id?).map(Header::value)
    }
    pub fn from_tag(&self) -> Option<&str> {
        self.tag(self.p.core.from, || self.from_hdr())
    }
    pub fn to_tag(&self) -> Option<&str> {
        self.tag(self.p.core.to, || self.to_hdr())
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
                .p
                .headers
                .get(at.index)?
                .value()
                .get(a as usize..b as usize),
            core::Tag::Unknown => typed().and_then(NameAddr::tag),
        }
    }
}

#[cfg(test)]
mod tests;
