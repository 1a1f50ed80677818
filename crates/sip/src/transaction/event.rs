//! What the transaction layer hands its caller: messages to transmit, events for the TU, and
//! the errors of its API.
//!
//! This room only defines the shapes; the layer in `mod.rs` produces them.

use super::timers::Timer;
use crate::message::Message;
use crate::peer::Peer;
use std::fmt;

/// A transaction's handle. Ids are never reused within one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId(pub u64);

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn#{}", self.0)
    }
}

/// One thing for the caller to do, polled with `TransactionLayer::poll_output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this message to that peer.
    Transmit { to: Peer, message: Message },
    /// Tell the transaction user.
    Event(TuEvent),
}

/// Events for the transaction user (the dialog layer and the call engine above it).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TuEvent {
    /// A new request (never ACK or CANCEL) with the server transaction to answer it through.
    Request {
        txn: TxnId,
        request: Message,
        from: Peer,
    },
    /// A response for a client transaction: provisionals, the final, and with RFC 6026 every
    /// further 2xx of an INVITE (other forks, retransmissions the TU must ACK).
    Response { txn: TxnId, response: Message },
    /// An ACK for the 2xx an INVITE server transaction sent (state Accepted, RFC 6026).
    AckFor2xx {
        txn: TxnId,
        ack: Message,
        from: Peer,
    },
    /// A CANCEL matched an INVITE server transaction that has not answered finally; the layer
    /// already answered the CANCEL with 200; the TU should answer 487 to `invite`.
    Cancelled {
        invite: TxnId,
        cancel: Message,
        from: Peer,
    },
    /// A response no client transaction matches (for example a 2xx retransmission after the
    /// INVITE transaction ended: the dialog layer re-sends its ACK).
    StrayResponse { response: Message, from: Peer },
    /// An ACK no server transaction matches (the usual ACK for a 2xx, with its own branch).
    StrayAck { ack: Message, from: Peer },
    /// A timer ended the transaction: B, F or CancelWait on a client (treat as 408), H on an
    /// INVITE server (the ACK never came).
    Timeout { txn: TxnId, timer: Timer },
    /// The transport could not deliver (treat as 503 on a client transaction).
    TransportError { txn: TxnId },
    /// The transaction is gone; its id will not appear again.
    Terminated { txn: TxnId },
}

/// Errors of the transaction layer's API and of messages it drops.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnError {
    /// A header the layer needs is missing (the message is dropped).
    Missing(&'static str),
    /// A response was given where a request belongs.
    NotARequest,
    /// A request was given where a response belongs.
    NotAResponse,
    /// ACK is not sent through a client transaction (the ACK for a 2xx belongs to the dialog).
    AckIsNotATransaction,
    /// No live transaction has this id (it may have terminated).
    UnknownTransaction(TxnId),
    /// The id names a transaction of the wrong kind for this call.
    WrongKind(TxnId),
    /// A client transaction with this branch and method exists already.
    BranchInUse,
    /// The server transaction cannot send this response in its state (for example a second
    /// final response).
    InvalidResponse(&'static str),
    /// CANCEL applies only to an INVITE client transaction that has no final response yet.
    NotCancellable(TxnId),
}

impl fmt::Display for TxnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnError::Missing(what) => write!(f, "missing {what}"),
            TxnError::NotARequest => f.write_str("not a request"),
            TxnError::NotAResponse => f.write_str("not a response"),
            TxnError::AckIsNotATransaction => f.write_str("ACK does not start a transaction"),
            TxnError::UnknownTransaction(id) => write!(f, "no transaction {id}"),
            TxnError::WrongKind(id) => write!(f, "{id} is not of the kind this call needs"),
            TxnError::BranchInUse => f.write_str("branch already used by a client transaction"),
            TxnError::InvalidResponse(why) => write!(f, "invalid response: {why}"),
            TxnError::NotCancellable(id) => write!(f, "{id} cannot be cancelled"),
        }
    }
}

impl std::error::Error for TxnError {}
