//! The error taxonomy of the SIP stack, grouped by who is at fault (after rustls):
//! the peer sent something malformed (`InvalidMessage`), the peer asked for something we do not
//! speak (`PeerIncompatible`), or our own caller misused the API (`ApiMisuse`).
//! Each error that a request can cause maps to the response an element sends for it; errors in
//! responses map to nothing, because malformed responses are dropped, never answered.

use crate::header_name::HeaderName;
use std::fmt;

/// What was wrong with a message's syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidMessage {
    /// Nothing but white space.
    Empty,
    /// The start line is not `Method SP Request-URI SP SIP-Version` or `SIP-Version SP Status SP Reason`.
    StartLine(&'static str),
    /// The Request-URI does not parse.
    RequestUri(&'static str),
    /// Status code outside 100..=699.
    StatusCode,
    /// A header line is not `name: value`.
    HeaderLine,
    /// Header text is not UTF-8.
    NotUtf8,
    /// The header section never ends (no empty line).
    Unterminated,
    /// A header's value does not parse.
    Header(HeaderName, &'static str),
    /// A header that must appear once is missing.
    Missing(HeaderName),
    /// A header that must appear once appears more than once.
    Duplicate(HeaderName),
    /// Content-Length says more bytes than the datagram holds.
    BodyTruncated,
    /// The message is larger than the configured limit.
    TooLarge,
    /// The CSeq method differs from the request method.
    CSeqMismatch,
}

/// What a well-formed message asks for that this element does not support.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerIncompatible {
    /// `SIP/x.y` other than 2.0 (505).
    Version,
    /// A method this UAS does not implement (501).
    Method,
    /// A Request-URI scheme this element does not serve (416).
    UriScheme,
    /// `Require` lists option tags we do not support (420; the tags go in `Unsupported`).
    Extension(Vec<String>),
    /// A body type we cannot handle (415).
    MediaType,
    /// `Accept` lists nothing we could send (406).
    NotAcceptable,
}

/// Errors from parsing or admitting a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    InvalidMessage(InvalidMessage),
    PeerIncompatible(PeerIncompatible),
    /// The caller of this library asked for something impossible (a bug on our side, never input).
    ApiMisuse(&'static str),
}

/// An error found while parsing, remembering whether the message was a request (which gets an
/// error response) or a response (which is dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub error: Error,
    /// `Some(true)` for a request, `Some(false)` for a response, `None` when the start line was
    /// unreadable.
    pub is_request: Option<bool>,
}

impl ParseError {
    pub(crate) fn req(is_request: Option<bool>, e: InvalidMessage) -> Self {
        ParseError {
            error: Error::InvalidMessage(e),
            is_request,
        }
    }

    /// The status code and reason phrase to answer with, or `None` when the message must be
    /// dropped silently (responses, unreadable start lines).
    pub fn response_status(&self) -> Option<(u16, String)> {
        if self.is_request != Some(true) {
            return None;
        }
        Some(self.error.status())
    }
}

impl Error {
    /// The response status and a reason phrase that names what was wrong.
    pub fn status(&self) -> (u16, String) {
        match self {
            Error::InvalidMessage(m) => (400, format!("Bad Request ({m})")),
            Error::PeerIncompatible(p) => match p {
                PeerIncompatible::Version => (505, "Version Not Supported".into()),
                PeerIncompatible::Method => (501, "Not Implemented".into()),
                PeerIncompatible::UriScheme => (416, "Unsupported URI Scheme".into()),
                PeerIncompatible::Extension(_) => (420, "Bad Extension".into()),
                PeerIncompatible::MediaType => (415, "Unsupported Media Type".into()),
                PeerIncompatible::NotAcceptable => (406, "Not Acceptable".into()),
            },
            Error::ApiMisuse(_) => (500, "Server Internal Error".into()),
        }
    }
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidMessage::Empty => f.write_str("empty message"),
            InvalidMessage::StartLine(why) => write!(f, "malformed start line: {why}"),
            InvalidMessage::RequestUri(why) => write!(f, "malformed Request-URI: {why}"),
            InvalidMessage::StatusCode => f.write_str("status code out of range"),
            InvalidMessage::HeaderLine => f.write_str("malformed header line"),
            InvalidMessage::NotUtf8 => f.write_str("header text is not UTF-8"),
            InvalidMessage::Unterminated => f.write_str("header section not terminated"),
            InvalidMessage::Header(name, why) => write!(f, "malformed {name}: {why}"),
            InvalidMessage::Missing(name) => write!(f, "missing {name}"),
            InvalidMessage::Duplicate(name) => write!(f, "more than one {name}"),
            InvalidMessage::BodyTruncated => f.write_str("Content-Length larger than message"),
            InvalidMessage::TooLarge => f.write_str("message too large"),
            InvalidMessage::CSeqMismatch => f.write_str("CSeq method does not match request"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidMessage(m) => m.fmt(f),
            Error::PeerIncompatible(p) => write!(f, "peer incompatible: {p:?}"),
            Error::ApiMisuse(why) => write!(f, "API misuse: {why}"),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Error {}
impl std::error::Error for ParseError {}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Self {
        Error::InvalidMessage(e)
    }
}
