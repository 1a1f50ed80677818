//! The parser: start line, header lines (folding, compact names, odd spacing), body framing,
//! and validation of the headers every element relies on. It never panics and never indexes
//! past what it has checked; every failure says which header was at fault.

use super::{Core, Header, Message, StartLine};
use crate::error::{Error, InvalidMessage as IM, ParseError, PeerIncompatible};
use crate::header_name::HeaderName;
use crate::headers::{misc, CSeq, ContactValue, NameAddr, Via};
use crate::method::Method;
use crate::uri::Uri;
use bytes::Bytes;

/// Default largest message accepted (RFC 3261 does not bound it; 64 KiB covers any real one).
pub const DEFAULT_MAX_MESSAGE: usize = 65_535;

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
        .ok_or(err(None, IM::Empty))?;
    let buf = buf.slice(skip..);
    let is_response = buf.starts_with(b"SIP/");
    let kind = Some(!is_response);
    if buf.len() > opts.max_size {
        return Err(err(kind, IM::TooLarge));
    }

    // ---- start line ------------------------------------------------------------------
    let nl = memchr::memchr(b'\n', &buf).ok_or(err(kind, IM::Unterminated))?;
    let line = trim_cr(&buf[..nl]);
    let line_str = std::str::from_utf8(line).map_err(|_| err(kind, IM::NotUtf8))?;
    let start = if is_response {
        parse_status_line(line_str)?
    } else {
        parse_request_line(line_str)?
    };

    // ---- header lines ----------------------------------------------------------------
    let mut headers: Vec<Header> = Vec::with_capacity(16);
    let mut pos = nl + 1;
    // (line start, name, value offset) of the header being collected.
    let mut cur: Option<(usize, HeaderName, usize)> = None;
    let mut cur_end = 0usize;
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
        } else {
            if let Some((s, name, vs)) = cur.take() {
                headers.push(make_header(&buf, s, cur_end, name, vs));
            }
            let colon = memchr::memchr(b':', line).ok_or(err(kind, IM::HeaderLine))?;
            let name_bytes = trim_ws_end(&line[..colon]);
            if name_bytes.is_empty() || !name_bytes.iter().all(|&c| crate::text::is_token(c)) {
                return Err(err(kind, IM::HeaderLine));
            }
            // Token characters are ASCII.
            let name = HeaderName::from_wire(std::str::from_utf8(name_bytes).unwrap_or(""));
            cur = Some((pos, name, colon + 1));
            cur_end = pos + line.len();
        }
        pos = end + 1;
    };
    if let Some((s, name, vs)) = cur.take() {
        headers.push(make_header(&buf, s, cur_end, name, vs));
    }
    if std::str::from_utf8(&buf[..body_start]).is_err() {
        return Err(err(kind, IM::NotUtf8));
    }

    // ---- validation of what every element relies on ----------------------------------
    let mut core = Core::default();
    let mut content_length: Option<usize> = None;
    let (mut n_call_id, mut n_max_fwd, mut n_expires) = (0, 0, 0);
    for h in &headers {
        let bad = |why: &'static str| err(kind, IM::Header(h.name().clone(), why));
        match h.name() {
            HeaderName::Via => {
                let vias = Via::parse_list(h.value()).map_err(bad)?;
                if core.top_via.is_none() {
                    core.top_via = vias.into_iter().next();
                }
            }
            HeaderName::From | HeaderName::To => {
                let slot = if *h.name() == HeaderName::From {
                    &mut core.from
                } else {
                    &mut core.to
                };
                if slot.is_some() {
                    return Err(err(kind, IM::Duplicate(h.name().clone())));
                }
                *slot = Some(NameAddr::parse(h.value()).map_err(bad)?);
            }
            HeaderName::CSeq => {
                if core.cseq.is_some() {
                    return Err(err(kind, IM::Duplicate(HeaderName::CSeq)));
                }
                core.cseq = Some(CSeq::parse(h.value()).map_err(bad)?);
            }
            HeaderName::CallId => {
                n_call_id += 1;
                let v = h.value();
                if v.is_empty() || !v.bytes().all(|c| crate::text::is_word(c) || c == b'@') {
                    return Err(bad("not a word[@word]"));
                }
            }
            HeaderName::MaxForwards => {
                n_max_fwd += 1;
                misc::parse_max_forwards(h.value()).map_err(bad)?;
            }
            HeaderName::Expires => {
                n_expires += 1;
                misc::parse_number(h.value()).map_err(bad)?;
            }
            HeaderName::ContentLength => {
                if content_length.is_some() {
                    return Err(err(kind, IM::Duplicate(HeaderName::ContentLength)));
                }
                let n = misc::parse_number(h.value()).map_err(bad)?;
                content_length = Some(n as usize);
            }
            HeaderName::Contact => {
                ContactValue::parse(h.value()).map_err(bad)?;
            }
            _ => {}
        }
    }
    for (n, name) in [
        (n_call_id, HeaderName::CallId),
        (n_max_fwd, HeaderName::MaxForwards),
        (n_expires, HeaderName::Expires),
    ] {
        if n > 1 {
            return Err(err(kind, IM::Duplicate(name)));
        }
    }
    if n_call_id == 0 {
        return Err(err(kind, IM::Missing(HeaderName::CallId)));
    }
    for (present, name) in [
        (core.from.is_some(), HeaderName::From),
        (core.to.is_some(), HeaderName::To),
        (core.cseq.is_some(), HeaderName::CSeq),
        (core.top_via.is_some(), HeaderName::Via),
    ] {
        if !present {
            return Err(err(kind, IM::Missing(name)));
        }
    }
    if let (StartLine::Request { method, .. }, Some(cseq)) = (&start, &core.cseq) {
        // An unknown method with a mismatched CSeq is left to admission, which answers 501
        // first (RFC 4475 §3.1.2.18); a known one is malformed.
        if cseq.method != *method && !method.is_extension() {
            return Err(err(kind, IM::CSeqMismatch));
        }
    }

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
    Ok(Message {
        start,
        start_raw: Some(start_raw),
        headers,
        body,
        original: Some(original),
        core,
    })
}

fn trim_ws_end(b: &[u8]) -> &[u8] {
    let mut e = b.len();
    while e > 0 && (b[e - 1] == b' ' || b[e - 1] == b'\t') {
        e -= 1;
    }
    &b[..e]
}

fn make_header(
    buf: &Bytes,
    start: usize,
    end: usize,
    name: HeaderName,
    value_start: usize,
) -> Header {
    Header::from_wire(
        name,
        buf.slice(start..end),
        u16::try_from(value_start).unwrap_or(u16::MAX),
    )
}

fn parse_request_line(line: &str) -> Result<StartLine, ParseError> {
    let e = |why| err(Some(true), IM::StartLine(why));
    let mut parts = line.split(' ');
    let (Some(m), Some(u), Some(v), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(e("expected Method SP Request-URI SP SIP-Version"));
    };
    let method = Method::parse(m).ok_or(e("method is not a token"))?;
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
