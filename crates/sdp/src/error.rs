//! Errors: what went wrong with an SDP body, grouped by who is at fault, and which SIP response the
//! caller should send for it.
//!
//! This room only names failures; it must not decide policy (whether to answer 488 or tear the
//! call down is the engine's job). Every variant that comes from a specific line carries that line's
//! 1-based number so logs point straight at the culprit.

use std::fmt;

/// Everything that can go wrong when parsing SDP or negotiating media.
///
/// Modeled on rustls' taxonomy: the variants say *who* is at fault —
/// the peer sent something that is not SDP ([`SdpError::TooLarge`], [`SdpError::TooManyLines`],
/// [`SdpError::Malformed`]: answer **400**), the peer sent valid SDP we cannot or will not use
/// ([`SdpError::Unsupported`], [`SdpError::NoCommonCodec`], [`SdpError::NoAcceptableMedia`],
/// [`SdpError::InvalidAnswer`]: answer **488**), or the caller misused the API
/// ([`SdpError::ApiMisuse`]: **500**, it is our bug). [`SdpError::sip_status`] encodes that mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is larger than [`crate::MAX_SDP_LEN`] bytes.
    TooLarge {
        /// Size of the rejected body in bytes.
        len: usize,
    },
    /// The body has more than [`crate::MAX_SDP_LINES`] lines.
    TooManyLines,
    /// A line breaks the SDP grammar (RFC 8866 §9) or a required line is missing or misplaced.
    Malformed {
        /// 1-based line number of the offending line (for a missing line, where it was expected).
        line: usize,
        /// What was wrong with it.
        problem: Malformed,
    },
    /// The line is valid SDP but uses something Tether cannot use (for example `c=` with a
    /// network type other than `IN`).
    Unsupported {
        /// 1-based line number of the offending line.
        line: usize,
        /// What we cannot use.
        what: Unsupported,
    },
    /// The offer (or the answer to our offer) has audio, but no audio stream shares a codec with us.
    NoCommonCodec,
    /// The offer has no stream Tether could accept at all (only video, T.38, disabled streams, ...).
    NoAcceptableMedia,
    /// The peer's answer to our offer breaks RFC 3264 §6.
    InvalidAnswer(InvalidAnswer),
    /// The caller passed inconsistent input (a bug on our side, never caused by the network).
    ApiMisuse(ApiMisuse),
}

impl SdpError {
    /// The SIP status code to send when this error comes from a peer's offer.
    ///
    /// - 400 Bad Request: the body is not well-formed SDP (or exceeds our size limits).
    /// - 488 Not Acceptable Here: well-formed, but nothing in it is acceptable.
    /// - 500 Server Internal Error: [`SdpError::ApiMisuse`], a bug in Tether.
    pub fn sip_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::TooManyLines | Self::Malformed { .. } => 400,
            Self::Unsupported { .. }
            | Self::NoCommonCodec
            | Self::NoAcceptableMedia
            | Self::InvalidAnswer(_) => 488,
            Self::ApiMisuse(_) => 500,
        }
    }

    /// The 1-based line number this error points at, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. } | Self::Unsupported { line, .. } => Some(*line),
            _ => None,
        }
    }
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(
                f,
                "SDP body of {len} bytes exceeds the {} byte limit",
                crate::MAX_SDP_LEN
            ),
            Self::TooManyLines => {
                write!(
                    f,
                    "SDP body exceeds the {} line limit",
                    crate::MAX_SDP_LINES
                )
            }
            Self::Malformed { line, problem } => write!(f, "line {line}: {problem}"),
            Self::Unsupported { line, what } => write!(f, "line {line}: {what}"),
            Self::NoCommonCodec => f.write_str("no audio stream shares a codec with us"),
            Self::NoAcceptableMedia => f.write_str("no media stream in the offer is acceptable"),
            Self::InvalidAnswer(problem) => write!(f, "invalid SDP answer: {problem}"),
            Self::ApiMisuse(problem) => write!(f, "SDP API misuse: {problem}"),
        }
    }
}

impl std::error::Error for SdpError {}

/// Why a line is not valid SDP. The text of each names the line type, e.g. "m= port is not a number".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The body is empty.
    Empty,
    /// The line is not valid UTF-8.
    NotUtf8,
    /// The line is not `<type>=<value>` with a single lowercase letter as type.
    NotTypeValue,
    /// An empty line in the middle of the body.
    EmptyLine,
    /// A bare CR or a NUL inside a line (only CRLF or LF may end a line).
    ForbiddenCharacter,
    /// The first line is not `v=`.
    VersionNotFirst,
    /// `v=` is not `0`.
    UnsupportedVersion,
    /// `o=` missing from the session section.
    MissingOrigin,
    /// `s=` missing from the session section.
    MissingSessionName,
    /// A line that may appear only once in the session section (`v=`, `o=`, `s=`) appears again.
    Duplicate(char),
    /// A session-only line type (`v=`, `o=`, `s=`, `t=`, `r=`, `z=`) inside a media section.
    SessionLineInMedia(char),
    /// `o=` does not have six fields.
    OriginFieldCount,
    /// `o=` session version is not a number.
    OriginVersion,
    /// `o=` session id is not a number.
    OriginSessionId,
    /// `c=` does not have three fields.
    ConnectionFieldCount,
    /// `c=` appears twice in the same section.
    DuplicateConnection,
    /// `t=` is not two numbers.
    Timing,
    /// `b=` is not `<bwtype>:<bandwidth>`.
    Bandwidth,
    /// `m=` has fewer than four fields (media, port, proto, at least one format).
    MediaFieldCount,
    /// `m=` port (or port count) is not a number in 0..=65535.
    MediaPort,
    /// `a=` has an empty attribute name.
    AttributeName,
    /// A stream in use has no `c=` at session or media level.
    MissingConnection,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("SDP body is empty"),
            Self::NotUtf8 => f.write_str("line is not valid UTF-8"),
            Self::NotTypeValue => f.write_str("line is not <type>=<value>"),
            Self::EmptyLine => f.write_str("empty line inside SDP"),
            Self::ForbiddenCharacter => f.write_str("line contains a bare CR or a NUL"),
            Self::VersionNotFirst => f.write_str("v= must be the first line"),
            Self::UnsupportedVersion => f.write_str("v= is not 0"),
            Self::MissingOrigin => f.write_str("o= line missing from session section"),
            Self::MissingSessionName => f.write_str("s= line missing from session section"),
            Self::Duplicate(t) => write!(f, "{t}= appears more than once"),
            Self::SessionLineInMedia(t) => write!(f, "{t}= is not allowed in a media section"),
            Self::OriginFieldCount => f.write_str("o= does not have 6 fields"),
            Self::OriginVersion => f.write_str("o= session version is not a number"),
            Self::OriginSessionId => f.write_str("o= session id is not a number"),
            Self::ConnectionFieldCount => f.write_str("c= does not have 3 fields"),
            Self::DuplicateConnection => f.write_str("c= appears twice in one section"),
            Self::Timing => f.write_str("t= is not two numbers"),
            Self::Bandwidth => f.write_str("b= is not <bwtype>:<bandwidth>"),
            Self::MediaFieldCount => f.write_str("m= needs media, port, proto and a format"),
            Self::MediaPort => f.write_str("m= port is not a number"),
            Self::AttributeName => f.write_str("a= has an empty attribute name"),
            Self::MissingConnection => {
                f.write_str("m= stream has no c= line at session or media level")
            }
        }
    }
}

/// Valid SDP that Tether cannot use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// `c=` network type is not `IN`.
    NetworkType,
    /// `c=` address type is neither `IP4` nor `IP6`.
    AddressType,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NetworkType => f.write_str("c= network type is not IN"),
            Self::AddressType => f.write_str("c= address type is not IP4 or IP6"),
        }
    }
}

/// How a peer's answer to our offer breaks RFC 3264 §6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidAnswer {
    /// The answer does not have as many `m=` lines as our offer.
    MediaCount {
        /// `m=` lines in our offer.
        offered: usize,
        /// `m=` lines in the answer.
        answered: usize,
    },
    /// An `m=` line's media type differs from the offer's at the same position.
    MediaType {
        /// 0-based index of the `m=` line.
        index: usize,
    },
    /// A stream we disabled (port 0) came back with a non-zero port.
    DisabledStreamAccepted {
        /// 0-based index of the `m=` line.
        index: usize,
    },
}

impl fmt::Display for InvalidAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MediaCount { offered, answered } => {
                write!(f, "offer has {offered} m= lines, answer has {answered}")
            }
            Self::MediaType { index } => write!(f, "m= line {index} changed media type"),
            Self::DisabledStreamAccepted { index } => {
                write!(
                    f,
                    "m= line {index} was offered with port 0 but answered with a port"
                )
            }
        }
    }
}

/// The caller handed us something inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// [`crate::Capabilities::codecs`] is empty.
    NoCodecs,
    /// [`crate::Capabilities::rtp_endpoints`] is empty, so no stream can be offered.
    NoEndpoint,
    /// [`crate::Capabilities::telephone_event`] uses a payload type a listed codec already uses.
    PayloadTypeClash,
}

impl fmt::Display for ApiMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCodecs => f.write_str("capabilities list no codec"),
            Self::NoEndpoint => f.write_str("capabilities list no RTP endpoint"),
            Self::PayloadTypeClash => {
                f.write_str("telephone-event payload type clashes with a codec's")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_map_to_400() {
        let e = SdpError::Malformed {
            line: 5,
            problem: Malformed::MediaPort,
        };
        assert_eq!(e.sip_status(), 400);
        assert_eq!(e.to_string(), "line 5: m= port is not a number");
        assert_eq!(e.line(), Some(5));
        assert_eq!(SdpError::TooLarge { len: 1 << 20 }.sip_status(), 400);
        assert_eq!(SdpError::TooManyLines.sip_status(), 400);
    }

    #[test]
    fn unacceptable_maps_to_488() {
        assert_eq!(SdpError::NoCommonCodec.sip_status(), 488);
        assert_eq!(SdpError::NoAcceptableMedia.sip_status(), 488);
        let e = SdpError::Unsupported {
            line: 4,
            what: Unsupported::NetworkType,
        };
        assert_eq!(e.sip_status(), 488);
        assert_eq!(e.to_string(), "line 4: c= network type is not IN");
        assert_eq!(
            SdpError::InvalidAnswer(InvalidAnswer::MediaType { index: 0 }).sip_status(),
            488
        );
    }

    #[test]
    fn misuse_is_our_bug() {
        let e = SdpError::ApiMisuse(ApiMisuse::NoCodecs);
        assert_eq!(e.sip_status(), 500);
        assert_eq!(e.line(), None);
    }
}
