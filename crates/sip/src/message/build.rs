//! Building messages: new requests, responses to a request (RFC 3261 §8.2.6), and the best-effort
//! error response for a request that did not parse.

use super::{Core, Header, Message, Parts, StartLine};
use crate::header_name::HeaderName;
use crate::method::Method;
use crate::uri::Uri;
use bytes::{BufMut, Bytes, BytesMut};

impl Message {
    /// An empty request; add Via, From, To, Call-ID, CSeq, Max-Forwards with `push_header`.
    pub fn new_request(method: Method, uri: Uri) -> Message {
        Message::from_parts(Parts {
            start: StartLine::Request { method, uri },
            start_raw: None,
            headers: Vec::with_capacity(12),
            body: Bytes::new(),
            original: None,
            core: Core::default(),
        })
    }

    /// An empty response.
    pub fn new_response(code: u16, reason: &str) -> Message {
        Message::from_parts(Parts {
            start: StartLine::Response {
                code,
                reason: reason.into(),
            },
            start_raw: None,
            headers: Vec::with_capacity(10),
            body: Bytes::new(),
            original: None,
            core: Core::default(),
        })
    }

    /// A response to `req` per RFC 3261 §8.2.6.2: Via, From, To, Call-ID and CSeq copied byte for
    /// byte (and Timestamp for 100), the To tag added when `to_tag` is given and To has none.
    pub fn response_to(req: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Message {
        let mut headers = Vec::with_capacity(10);
        for h in req.headers() {
            let keep = match h.name() {
                HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq => true,
                HeaderName::Timestamp => code == 100,
                _ => false,
            };
            if keep {
                headers.push(h.clone());
            }
        }
        // The same core lines in the same order: what is known of them carries over.
        let mut core = req.p.core.positions();
        core.reindex(&headers);
        let mut r = Message::from_parts(Parts {
            start: StartLine::Response {
                code,
                reason: reason.into(),
            },
            start_raw: None,
            headers,
            body: Bytes::new(),
            original: None,
            core,
        });
        if let (Some(tag), None) = (to_tag, req.to_tag()) {
            if r.set_to_tag(tag).is_err() {
                // A request without To never parses; nothing to add the tag to.
            }
        }
        r
    }

    /// The reason phrase a status code is usually sent with.
    pub fn default_reason(code: u16) -> &'static str {
        match code {
            100 => "Trying",
            180 => "Ringing",
            181 => "Call Is Being Forwarded",
            182 => "Queued",
            183 => "Session Progress",
            200 => "OK",
            202 => "Accepted",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            415 => "Unsupported Media Type",
            416 => "Unsupported URI Scheme",
            420 => "Bad Extension",
            421 => "Extension Required",
            422 => "Session Interval Too Small",
            423 => "Interval Too Brief",
            480 => "Temporarily Unavailable",
            481 => "Call/Transaction Does Not Exist",
            482 => "Loop Detected",
            483 => "Too Many Hops",
            484 => "Address Incomplete",
            486 => "Busy Here",
            487 => "Request Terminated",
            488 => "Not Acceptable Here",
            491 => "Request Pending",
            500 => "Server Internal Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Server Time-out",
            505 => "Version Not Supported",
            600 => "Busy Everywhere",
            603 => "Decline",
            604 => "Does Not Exist Anywhere",
            606 => "Not Acceptable",
            _ => match code / 100 {
                1 => "Session Progress",
                2 => "OK",
                3 => "Redirect",
                4 => "Client Error",
                5 => "Server Error",
                _ => "Global Failure",
            },
        }
    }
}

/// Builds an error response for a request that failed to parse, from its raw header lines:
/// the Via, From, To, Call-ID and CSeq lines are copied as they are. Returns `None` when the
/// bytes are not a request or lack a Via (a response could not be routed).
pub fn error_response_for_raw(raw: &[u8], code: u16, reason: &str) -> Option<Bytes> {
    let start = raw.iter().position(|&c| c != b'\r' && c != b'\n')?;
    let raw = &raw[start..];
    if raw.starts_with(b"SIP/") {
        return None;
    }
    let head_end = memchr::memmem::find(raw, b"\r\n\r\n").map_or(raw.len(), |i| i + 2);
    let head = &raw[..head_end];
    let mut out = BytesMut::with_capacity(512);
    out.put_slice(b"SIP/2.0 ");
    out.put_slice(code.to_string().as_bytes());
    out.put_u8(b' ');
    out.put_slice(reason.replace(['\r', '\n'], " ").as_bytes());
    out.put_slice(b"\r\n");
    let mut have_via = false;
    for h in crate::text::raw_header_lines(head) {
        let hn = HeaderName::from_wire(std::str::from_utf8(h.name).unwrap_or(""));
        if matches!(
            hn,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
        ) {
            have_via |= hn == HeaderName::Via;
            out.put_slice(h.raw);
            out.put_slice(b"\r\n");
        }
    }
    if !have_via {
        return None;
    }
    out.put_slice(b"Content-Length: 0\r\n\r\n");
    Some(out.freeze())
}

impl Header {
    /// Convenience for building: `Header::text("X-Foo", "bar")`.
    pub fn text(name: &str, value: &str) -> Header {
        Header::new(HeaderName::from_wire(name), value)
    }
}
