//! The parser: start line, header lines (folding, compact names, odd spacing), body framing,
//! and validation of the headers every element relies on. It never panics and never indexes
//! past what it has checked; every failure says which header was at fault.

use super::core::{scan_addr, AddrAt, Core};
use super::{Header, Message, Parts, StartLine};
use crate::error::{Error, InvalidMessage as IM, ParseError, PeerIncompatible};
use crate::header_name::HeaderName;
use crate::headers::via::ViaSpans;
use crate::headers::{misc, CSeq, ContactValue, Via};
use crate::method::Method;
use crate::text::unfold;
use crate::uri::Uri;
use bytes::Bytes;
use std::borrow::Cow;
use std::sync::Arc;

/// Default largest message accepted (RFC 3261 does not bound it; 64 KiB covers any real one).
pub const DEFAULT_MAX_MESSAGE: usize = 65_535;

/// Header lines room is made for at first: most messages have fewer, and 16 of them (1 KiB)
/// is the largest block the allocator hands out from its per-thread cache; a larger first
/// block cost ~1,500 instructions to allocate and free again.
const HEADERS_CAPACITY: usize = 16;

/// How much of a message is checked as UTF-8 in one go (the header section and usually the
/// body); text past it is checked line by line.
const HEAD_CHECK: usize = 4096;

#[derive(Clone, Debug)]
pub struct ParseOptions {
    pub max_size: usize,
    /// Stream framing already cut the message at Content-Length: a missing Content-Length means
    /// an empty body rather than "to the end of the datagram".
    pub stream: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_size: DEFAULT_MAX_MESSAGE,
            stream: false,
        }
    }
}

fn err(is_request: Option<bool>, e: IM) -> ParseError {
    ParseError::req(is_request, e)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(super) fn parse(buf: Bytes, opts: &ParseOptions) -> Result<Message, ParseError> {
    // Leading CRLFs (keep-alives, RFC 3261 §7.5) are skipped.
    let skip = buf
        .iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .ok_or_else(|| err(None, IM::Empty))?;
    let buf = buf.slice(skip..);
    let is_response = buf.starts_with(b"SIP/");
    let kind = Some(!is_response);
    if buf.len() > opts.max_size {
        return Err(err(kind, IM::TooLarge));
    }

    // ---- UTF-8 ---------------------------------------------------------------------------
    // The text is checked once, from the start up to the first byte that is not UTF-8 (a binary
    // body) or a bound that a header section rarely passes; a line outside `head` is checked
    // on its own.
    let bound = buf.len().min(HEAD_CHECK);
    let head = match std::str::from_utf8(&buf[..bound]) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or_default(),
    };
    let text = |from: usize, to: usize| {
        head.get(from..to)
            .or_else(|| std::str::from_utf8(&buf[from..to]).ok())
    };

    // ---- start line ------------------------------------------------------------------
    let nl = memchr::memchr(b'\n', &buf).ok_or_else(|| err(kind, IM::Unterminated))?;
    let line_str = text(0, trim_cr(&buf[..nl]).len()).ok_or_else(|| err(kind, IM::NotUtf8))?;
    let start = if is_response {
        parse_status_line(line_str)?
    } else {
        parse_request_line(line_str)?
    };

    // ---- header lines ----------------------------------------------------------------
    // The header section as one shared text that every header line points into, so that
    // reading a value later needs no UTF-8 check. Text that is not UTF-8 fails the parse
    // below (the checker sees each line); the lines then point into nothing.
    let section: Arc<str> = Arc::from(text(0, section_end(&buf, nl + 1)).unwrap_or(""));
    let mut headers: Vec<Header> = Vec::with_capacity(HEADERS_CAPACITY);
    let mut check = Checker::new(kind);
    let mut pos = nl + 1;
    // (line start, name, value offset) of the header being collected.
    let mut cur: Option<(usize, HeaderName, usize)> = None;
    let mut cur_end = 0usize;
    // Whether it has continuation lines.
    let mut folded = false;
    let body_start = loop {
        let Some(rel) = memchr::memchr(b'\n', &buf[pos..]) else {
            return Err(err(kind, IM::Unterminated));
        };
        let end = pos + rel;
        let line = trim_cr(&buf[pos..end]);
        if line.is_empty() {
            break end + 1;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // Continuation of the previous header (folding).
            if cur.is_none() {
                return Err(err(kind, IM::HeaderLine));
            }
            cur_end = pos + line.len();
            folded = true;
        } else {
            if let Some((s, name, vs)) = cur.take() {
                check.header(text(s, cur_end), vs, folded, &name, headers.len());
                headers.push(make_header(&section, s, cur_end, name, vs));
            }
            // `token *(SP / HTAB) ":"`
            let name_len = line
                .iter()
                .position(|&c| !crate::text::is_token(c))
                .unwrap_or(line.len());
            let colon = line[name_len..]
                .iter()
                .position(|&c| c != b' ' && c != b'\t')
                .map(|i| name_len + i);
            let colon = match colon {
                Some(colon) if name_len > 0 && line[colon] == b':' => colon,
                _ => return Err(err(kind, IM::HeaderLine)),
            };
            let name = HeaderName::from_token(&line[..name_len]);
            cur = Some((pos, name, colon + 1));
            cur_end = pos + line.len();
            folded = false;
        }
        pos = end + 1;
    };
    if let Some((s, name, vs)) = cur.take() {
        check.header(text(s, cur_end), vs, folded, &name, headers.len());
        headers.push(make_header(&section, s, cur_end, name, vs));
    }
    let (core, content_length) = check.finish(&start)?;

    // ---- body --------------------------------------------------------------------------
    let available = buf.len() - body_start;
    let body_len = match content_length {
        Some(n) if n > available => return Err(err(kind, IM::BodyTruncated)),
        Some(n) => n,
        None if opts.stream => 0,
        None => available,
    };
    let end = body_start + body_len;
    let body = buf.slice(body_start..end);
    let original = buf.slice(..end);
    let start_raw = buf.slice(..trim_cr(&buf[..nl]).len());
    Ok(Message::from_parts(Parts {
        start,
        start_raw: Some(start_raw),
        headers,
        body,
        original: Some(original),
        core,
    }))
}

fn make_header(
    section: &Arc<str>,
    start: usize,
    end: usize,
    name: HeaderName,
    value_start: usize,
) -> Header {
    Header::in_section(
        name,
        section,
        start,
        end,
        u16::try_from(value_start).unwrap_or(u16::MAX),
    )
}

/// Where the header section that starts at `from` ends: the start of the first empty line
/// (`\n\n` or `\n\r\n`), or the end of the buffer when there is none.
fn section_end(buf: &[u8], from: usize) -> usize {
    let rest = buf.get(from.saturating_sub(1)..).unwrap_or_default();
    let at = |needle: &[u8]| memchr::memmem::find(rest, needle);
    let blank = match (at(b"\n\n"), at(b"\n\r\n")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    blank.map_or(buf.len(), |i| from.saturating_sub(1) + i + 1)
}

fn parse_request_line(line: &str) -> Result<StartLine, ParseError> {
    let e = |why| err(Some(true), IM::StartLine(why));
    // Exactly three parts separated by single spaces.
    let b = line.as_bytes();
    let first = memchr::memchr(b' ', b);
    let second = first.and_then(|i| memchr::memchr(b' ', &b[i + 1..]).map(|j| i + 1 + j));
    let (Some(i), Some(j)) = (first, second) else {
        return Err(e("expected Method SP Request-URI SP SIP-Version"));
    };
    if memchr::memchr(b' ', &b[j + 1..]).is_some() {
        return Err(e("expected Method SP Request-URI SP SIP-Version"));
    }
    let (m, u, v) = (&line[..i], &line[i + 1..j], &line[j + 1..]);
    let method = Method::parse(m).ok_or_else(|| e("method is not a token"))?;
    if !v.starts_with("SIP/") {
        return Err(e("missing SIP-Version"));
    }
    if v != "SIP/2.0" {
        return Err(ParseError {
            error: Error::PeerIncompatible(PeerIncompatible::Version),
            is_request: Some(true),
        });
    }
    let uri = Uri::parse(u).map_err(|x| err(Some(true), IM::RequestUri(x.as_str())))?;
    if uri.has_headers() {
        return Err(err(
            Some(true),
            IM::RequestUri("headers are not allowed in a Request-URI"),
        ));
    }
    Ok(StartLine::Request { method, uri })
}

fn parse_status_line(line: &str) -> Result<StartLine, ParseError> {
    let e = |why| err(Some(false), IM::StartLine(why));
    let rest = line.strip_prefix("SIP/2.0 ").ok_or(ParseError {
        error: Error::PeerIncompatible(PeerIncompatible::Version),
        is_request: Some(false),
    })?;
    let (code, reason) = match rest.split_once(' ') {
        Some((c, r)) => (c, r),
        None => (rest, ""),
    };
    if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err(Some(false), IM::StatusCode));
    }
    let code: u16 = code.parse().map_err(|_| e("bad status code"))?;
    if !(100..=699).contains(&code) {
        return Err(err(Some(false), IM::StatusCode));
    }
    Ok(StartLine::Response {
        code,
        reason: reason.into(),
    })
}

/// Checks, header by header as the lines are cut, what every element relies on: the core
/// headers' grammar (building nothing), that single headers are single, the numbers. The first
/// failure is kept and reported after the whole header section was cut, so that a malformed
/// line or non-UTF-8 text later in the section is still the error reported, as it comes first.
struct Checker {
    kind: Option<bool>,
    utf8: bool,
    failed: Option<ParseError>,
    /// The first Via line, and where its first via-parm's parts are when it is not folded.
    via: Option<(usize, Option<ViaSpans>)>,
    from: Option<AddrAt>,
    to: Option<AddrAt>,
    call_id: Option<usize>,
    cseq: Option<CSeq>,
    content_length: Option<usize>,
    n_call_id: u32,
    n_max_fwd: u32,
    n_expires: u32,
}

impl Checker {
    fn new(kind: Option<bool>) -> Checker {
        Checker {
            kind,
            utf8: true,
            failed: None,
            via: None,
            from: None,
            to: None,
            call_id: None,
            cseq: None,
            content_length: None,
            n_call_id: 0,
            n_max_fwd: 0,
            n_expires: 0,
        }
    }

    /// One whole header line (continuation lines included, then `folded`) that will be
    /// `headers[index]`, or `None` when it is not UTF-8.
    fn header(
        &mut self,
        raw: Option<&str>,
        value_start: usize,
        folded: bool,
        name: &HeaderName,
        index: usize,
    ) {
        // Every byte of the header section is in the start line (checked before), in a header
        // line, or a line end: checking each line is checking the section.
        let Some(raw) = raw else {
            self.utf8 = false;
            return;
        };
        if self.failed.is_some() {
            return;
        }
        let value = raw.get(value_start..).unwrap_or("");
        if let Err(e) = self.check(name, value, folded, index) {
            self.failed = Some(e);
        }
    }

    /// Checks one header; `value` is everything after the colon.
    fn check(
        &mut self,
        name: &HeaderName,
        value: &str,
        folded: bool,
        index: usize,
    ) -> Result<(), ParseError> {
        // The headers checked here (the match below); no other value is looked at.
        let value = match name {
            HeaderName::Via
            | HeaderName::From
            | HeaderName::To
            | HeaderName::CSeq
            | HeaderName::CallId
            | HeaderName::MaxForwards
            | HeaderName::Expires
            | HeaderName::ContentLength
            | HeaderName::Contact => super::header::trim_value(value),
            _ => return Ok(()),
        };
        let kind = self.kind;
        let bad = |why: &'static str| err(kind, IM::Header(name.clone(), why));
        // Only a value with continuation lines has folding to replace.
        let unfolded = || {
            if folded {
                unfold(value)
            } else {
                Cow::Borrowed(value)
            }
        };
        match name {
            HeaderName::Via => {
                if self.via.is_none() {
                    let spans = Via::check_unfolded_list_spans(&unfolded()).map_err(bad)?;
                    self.via = Some((index, (!folded).then_some(spans)));
                } else {
                    Via::check_unfolded_list(&unfolded()).map_err(bad)?;
                }
            }
            HeaderName::From | HeaderName::To => {
                let slot = if *name == HeaderName::From {
                    &mut self.from
                } else {
                    &mut self.to
                };
                if slot.is_some() {
                    return Err(err(kind, IM::Duplicate(name.clone())));
                }
                let tag = scan_addr(value, folded).map_err(bad)?;
                *slot = Some(AddrAt { index, tag });
            }
            HeaderName::CSeq => {
                if self.cseq.is_some() {
                    return Err(err(kind, IM::Duplicate(HeaderName::CSeq)));
                }
                self.cseq = Some(CSeq::parse(value).map_err(bad)?);
            }
            HeaderName::CallId => {
                self.n_call_id += 1;
                if self.call_id.is_none() {
                    self.call_id = Some(index);
                }
                if value.is_empty() || !value.bytes().all(|c| crate::text::is_word(c) || c == b'@')
                {
                    return Err(bad("not a word[@word]"));
                }
            }
            HeaderName::MaxForwards => {
                self.n_max_fwd += 1;
                misc::parse_max_forwards(value).map_err(bad)?;
            }
            HeaderName::Expires => {
                self.n_expires += 1;
                misc::parse_number(value).map_err(bad)?;
            }
            HeaderName::ContentLength => {
                if self.content_length.is_some() {
                    return Err(err(kind, IM::Duplicate(HeaderName::ContentLength)));
                }
                let n = misc::parse_number(value).map_err(bad)?;
                self.content_length = Some(n as usize);
            }
            HeaderName::Contact => {
                ContactValue::check_unfolded(&unfolded()).map_err(bad)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The verdict once every line is cut: the core found and the declared Content-Length.
    fn finish(self, start: &StartLine) -> Result<(Core, Option<usize>), ParseError> {
        let kind = self.kind;
        if !self.utf8 {
            return Err(err(kind, IM::NotUtf8));
        }
        if let Some(e) = self.failed {
            return Err(e);
        }
        for (n, name) in [
            (self.n_call_id, HeaderName::CallId),
            (self.n_max_fwd, HeaderName::MaxForwards),
            (self.n_expires, HeaderName::Expires),
        ] {
            if n > 1 {
                return Err(err(kind, IM::Duplicate(name)));
            }
        }
        if self.n_call_id == 0 {
            return Err(err(kind, IM::Missing(HeaderName::CallId)));
        }
        for (present, name) in [
            (self.from.is_some(), HeaderName::From),
            (self.to.is_some(), HeaderName::To),
            (self.cseq.is_some(), HeaderName::CSeq),
            (self.via.is_some(), HeaderName::Via),
        ] {
            if !present {
                return Err(err(kind, IM::Missing(name)));
            }
        }
        if let (StartLine::Request { method, .. }, Some(cseq)) = (start, &self.cseq) {
            // An unknown method with a mismatched CSeq is left to admission, which answers 501
            // first (RFC 4475 §3.1.2.18); a known one is malformed.
            if cseq.method != *method && !method.is_extension() {
                return Err(err(kind, IM::CSeqMismatch));
            }
        }
        let core = Core::new(self.via, self.from, self.to, self.call_id, self.cseq);
        Ok((core, self.content_length))
    }
}
