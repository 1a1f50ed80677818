//! Why the dialog layer refused a message or a call, grouped by who is at fault, and the response
//! status a refused request is answered with. This room holds no state.

use crate::error::InvalidMessage;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog layer reads does not parse.
    InvalidMessage(InvalidMessage),
    /// A message that must carry a header lacks it (Contact in a dialog-creating message, a tag).
    Missing(&'static str),
    /// The message belongs to another dialog (Call-ID or tags differ).
    WrongDialog,
    /// A request whose CSeq is not above the last one the peer sent (RFC 3261 §12.2.2: 500).
    CSeqOutOfOrder { got: u32, last: u32 },
    /// The dialog is terminated.
    Terminated,
    /// An offer arrived while one is outstanding (491, RFC 3261 §14.1 / RFC 3311 §5.2).
    RequestPending,
    /// A re-INVITE arrived while the peer's previous one is unanswered (500 + Retry-After, §14.2).
    PreviousPending,
    /// The caller asked for something impossible (a bug on our side, never input).
    ApiMisuse(&'static str),
}

impl DialogError {
    /// The status a request refused for this reason is answered with.
    pub fn status(&self) -> u16 {
        match self {
            DialogError::InvalidMessage(_) | DialogError::Missing(_) => 400,
            DialogError::WrongDialog | DialogError::Terminated => 481,
            DialogError::RequestPending => 491,
            DialogError::CSeqOutOfOrder { .. }
            | DialogError::PreviousPending
            | DialogError::ApiMisuse(_) => 500,
        }
    }
}

impl From<InvalidMessage> for DialogError {
    fn from(e: InvalidMessage) -> Self {
        DialogError::InvalidMessage(e)
    }
}

impl From<crate::error::Error> for DialogError {
    fn from(e: crate::error::Error) -> Self {
        match e {
            crate::error::Error::InvalidMessage(m) => DialogError::InvalidMessage(m),
            _ => DialogError::ApiMisuse("message builder refused a value"),
        }
    }
}

impl fmt::Display for DialogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialogError::InvalidMessage(m) => m.fmt(f),
            DialogError::Missing(what) => write!(f, "missing {what}"),
            DialogError::WrongDialog => f.write_str("message belongs to another dialog"),
            DialogError::CSeqOutOfOrder { got, last } => write!(f, "CSeq {got} not above {last}"),
            DialogError::Terminated => f.write_str("dialog terminated"),
            DialogError::RequestPending => f.write_str("an offer or re-INVITE is pending"),
            DialogError::PreviousPending => {
                f.write_str("the previous re-INVITE is still in progress")
            }
            DialogError::ApiMisuse(why) => write!(f, "API misuse: {why}"),
        }
    }
}

impl std::error::Error for DialogError {}
