//! Sans-IO stream framing for SIP over TCP and TLS (RFC 3261 §18.3, RFC 5626 §3.5.1).
//!
//! Bytes go in as they arrive, in chunks of any size; complete messages come out, cut exactly at
//! the end that Content-Length declares, together with the CRLF keep-alives seen between them
//! (a double-CRLF "ping" the driver answers with a single-CRLF "pong"). The framer never holds
//! more than the configured maximum message size: it takes only what fits and reports a
//! [`FramingError`] as soon as a message cannot fit, after which the connection must be closed.
//!
//! This room does no I/O and does not parse messages beyond finding Content-Length; the driver
//! hands each cut message to [`crate::Message::parse_with`] with `stream: true`.

use bytes::{Bytes, BytesMut};
use std::fmt;

/// One thing found in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The exact bytes of one message (start line, headers and Content-Length bytes of body).
    Message(Bytes),
    /// A double-CRLF keep-alive ping: answer with a single CRLF (RFC 5626 §3.5.1).
    Ping,
    /// A single-CRLF keep-alive pong (the answer to a ping we sent).
    Pong,
}

/// Framing that cannot be recovered from: the stream has lost its message boundaries (or a
/// message cannot fit), so the connection must be closed, after answering a request with
/// [`FramingError::status`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// Content-Length is negative.
    NegativeContentLength,
    /// Content-Length is not a decimal number (or does not fit in memory).
    InvalidContentLength,
    /// More than one Content-Length header.
    DuplicateContentLength,
    /// The header section did not end within the size limit.
    HeaderTooLarge,
    /// The header section plus the declared body exceed the size limit.
    MessageTooLarge { declared: usize },
}

impl FramingError {
    /// The status and reason phrase a request that caused this error is answered with:
    /// 400 for a broken Content-Length, 513 (RFC 3261 §21.5.14) for a message too large.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            FramingError::NegativeContentLength => (400, "Bad Request (negative Content-Length)"),
            FramingError::InvalidContentLength => (400, "Bad Request (malformed Content-Length)"),
            FramingError::DuplicateContentLength => {
                (400, "Bad Request (more than one Content-Length)")
            }
            FramingError::HeaderTooLarge | FramingError::MessageTooLarge { .. } => {
                (513, "Message Too Large")
            }
        }
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::NegativeContentLength => f.write_str("negative Content-Length"),
            FramingError::InvalidContentLength => f.write_str("malformed Content-Length"),
            FramingError::DuplicateContentLength => f.write_str("more than one Content-Length"),
            FramingError::HeaderTooLarge => f.write_str("header section larger than the limit"),
            FramingError::MessageTooLarge { declared } => {
                write!(
                    f,
                    "message with a body of {declared} bytes is larger than the limit"
                )
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Where the framer is within the current message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between messages: CRLFs here are keep-alives.
    Between,
    /// Inside a header section; `scanned` bytes were already searched for its end.
    Head { scanned: usize },
    /// The header section is known; the message is `total` bytes long.
    Body { total: usize },
    /// A framing error was reported; nothing more comes out.
    Failed,
}

/// The stream framer of one connection.
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    max: usize,
    state: State,
}

impl StreamFramer {
    /// A framer that accepts messages of at most `max_message` bytes (header section included).
    pub fn new(max_message: usize) -> Self {
        let max = max_message.max(1);
        StreamFramer {
            buf: BytesMut::with_capacity(max.min(8192)),
            max,
            state: State::Between,
        }
    }

    /// How many more bytes [`push`](Self::push) would take now.
    pub fn room(&self) -> usize {
        if self.state == State::Failed {
            return 0;
        }
        self.max.saturating_sub(self.buf.len())
    }

    /// Buffers as much of `data` as fits and returns how many bytes were taken. Call
    /// [`poll`](Self::poll) until it returns `Ok(None)`, then push the rest.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.room());
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    /// The bytes buffered for the message being framed: after an error, the start of the
    /// offending message, for [`crate::message::error_response_for_raw`].
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Whether a framing error was reported (the connection must be closed).
    pub fn has_failed(&self) -> bool {
        self.state == State::Failed
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn poll(&mut self) -> Result<Option<Frame>, FramingError> {
        loop {
            match self.state {
                State::Failed => return Ok(None),
                State::Between => match self.keep_alive() {
                    KeepAlive::Frame(f) => return Ok(Some(f)),
                    KeepAlive::Skipped => continue,
                    KeepAlive::NeedMore => return Ok(None),
                    KeepAlive::MessageStarts => self.state = State::Head { scanned: 0 },
                },
                State::Head { scanned } => match find_head_end(&self.buf, scanned) {
                    HeadEnd::Found(head_len) => {
                        let body = match content_length(&self.buf[..head_len]) {
                            Ok(n) => n.unwrap_or(0),
                            Err(e) => return Err(self.fail(e)),
                        };
                        let total = head_len.checked_add(body).filter(|&t| t <= self.max);
                        match total {
                            Some(total) => self.state = State::Body { total },
                            None => {
                                return Err(
                                    self.fail(FramingError::MessageTooLarge { declared: body })
                                )
                            }
                        }
                    }
                    HeadEnd::NotYet(scanned) => {
                        if self.buf.len() >= self.max {
                            return Err(self.fail(FramingError::HeaderTooLarge));
                        }
                        self.state = State::Head { scanned };
                        return Ok(None);
                    }
                },
                State::Body { total } => {
                    if self.buf.len() < total {
                        return Ok(None);
                    }
                    self.state = State::Between;
                    return Ok(Some(Frame::Message(self.buf.split_to(total).freeze())));
                }
            }
        }
    }

    fn fail(&mut self, e: FramingError) -> FramingError {
        self.state = State::Failed;
        e
    }

    /// Consumes keep-alive bytes at a message boundary.
    fn keep_alive(&mut self) -> KeepAlive {
        let b = &self.buf[..];
        match b {
            [] => KeepAlive::NeedMore,
            [b'\r', b'\n', b'\r', b'\n', ..] => {
                let _ = self.buf.split_to(4);
                KeepAlive::Frame(Frame::Ping)
            }
            // A CRLF followed by anything but CR is a pong; wait to tell it from a ping.
            [b'\r', b'\n', c, ..] if *c != b'\r' => {
                let _ = self.buf.split_to(2);
                KeepAlive::Frame(Frame::Pong)
            }
            [b'\r', b'\n', b'\r'] | [b'\r', b'\n'] | [b'\r'] => KeepAlive::NeedMore,
            // Stray line ends (a bare LF, a CR not followed by LF) are ignored (RFC 3261 §7.5).
            [b'\n', ..] | [b'\r', ..] => {
                let _ = self.buf.split_to(1);
                KeepAlive::Skipped
            }
            _ => KeepAlive::MessageStarts,
        }
    }
}

enum KeepAlive {
    Frame(Frame),
    Skipped,
    NeedMore,
    MessageStarts,
}

enum HeadEnd {
    /// Length of the header section, the empty line included.
    Found(usize),
    /// Not found; scanning may resume at this offset.
    NotYet(usize),
}

/// Finds the empty line that ends the header section (CRLF CRLF, tolerating bare LFs as the
/// parser does), resuming the scan at `from`.
fn find_head_end(buf: &[u8], from: usize) -> HeadEnd {
    let mut pos = from;
    while let Some(rel) = buf.get(pos..).and_then(|rest| memchr::memchr(b'\n', rest)) {
        let nl = pos + rel;
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return HeadEnd::Found(nl + 2),
            Some([b'\r', b'\n', ..]) => return HeadEnd::Found(nl + 3),
            // The next line has not arrived in full: resume at this line end.
            Some([]) | Some([b'\r']) => return HeadEnd::NotYet(nl),
            _ => pos = nl + 1,
        }
    }
    // Resume a little before the end so a line end split across chunks is found.
    HeadEnd::NotYet(buf.len().saturating_sub(1).max(from))
}

/// Reads Content-Length (long or compact `l`, any case, white space before the colon, folded
/// value) from a header section; `Ok(None)` when there is none.
fn content_length(head: &[u8]) -> Result<Option<usize>, FramingError> {
    let mut found: Option<usize> = None;
    for h in crate::text::raw_header_lines(head) {
        if !(h.name.eq_ignore_ascii_case(b"content-length") || h.name.eq_ignore_ascii_case(b"l")) {
            continue;
        }
        // Folding inside the value is white space; digits split by it are not a number.
        let value = &h.raw[h.value_start..];
        let v = trim(value);
        if found.is_some() {
            return Err(FramingError::DuplicateContentLength);
        }
        if v.first() == Some(&b'-') {
            return Err(FramingError::NegativeContentLength);
        }
        if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
            return Err(FramingError::InvalidContentLength);
        }
        let n = v.iter().try_fold(0usize, |acc, &d| {
            acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        });
        found = Some(n.ok_or(FramingError::InvalidContentLength)?);
    }
    Ok(found)
}

fn trim(b: &[u8]) -> &[u8] {
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
