//! The Q.850 entry of a `Reason` header (RFC 3326; in responses too, RFC 6432):
//! `Q.850;cause=34;text="No circuit/channel available"`. Rendering and reading go through the
//! SIP crate's `Reason` value, so quoting and escaping follow its grammar.

use super::Q850Cause;
use std::fmt;
use tether_sip::headers::Reason;
use tether_sip::{HeaderName, Message};

/// The protocol token of a Q.850 Reason.
pub const PROTOCOL: &str = "Q.850";

/// A Q.850 cause with its optional text, as a Reason header carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Q850Reason {
    pub cause: Q850Cause,
    pub text: Option<String>,
}

impl Q850Reason {
    /// The cause with its Q.850 name as text (no text for causes without a known name).
    pub fn new(cause: Q850Cause) -> Q850Reason {
        Q850Reason {
            cause,
            text: cause.name().map(str::to_owned),
        }
    }

    /// The cause without text.
    pub fn bare(cause: Q850Cause) -> Q850Reason {
        Q850Reason { cause, text: None }
    }

    /// The first Q.850 entry of a Reason header value (which may list several protocols).
    /// `None` when there is none or the value does not parse.
    pub fn parse(value: &str) -> Option<Q850Reason> {
        Reason::parse_list(value)
            .ok()?
            .into_iter()
            .find_map(|r| Q850Reason::from_reason(&r))
    }

    /// The first Q.850 entry among a message's Reason headers.
    pub fn of_message(msg: &Message) -> Option<Q850Reason> {
        msg.headers_named(&HeaderName::Reason)
            .find_map(|h| Q850Reason::parse(h.value()))
    }

    fn from_reason(r: &Reason) -> Option<Q850Reason> {
        if !r.protocol.eq_ignore_ascii_case(PROTOCOL) {
            return None;
        }
        Some(Q850Reason {
            cause: Q850Cause::from_u16(r.cause?)?,
            text: r.text.clone(),
        })
    }

    fn to_reason(&self) -> Reason {
        let mut r = Reason::q850(u16::from(self.cause.value()));
        r.text.clone_from(&self.text);
        r
    }
}

impl fmt::Display for Q850Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_reason())
    }
}
