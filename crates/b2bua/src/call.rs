//! The state of one call: the A leg that arrived, the B legs Tether started for it, and what
//! the CDR needs. Plain data; `engine.rs` moves it along.

use std::time::{Duration, Instant};

use tether_sip::dialog::{DialogSet, Session};
use tether_sip::peer::Peer;
use tether_sip::transaction::TxnId;
use tether_sip::Message;

use crate::cdr::Cdr;

/// Which side of a call a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B(usize),
}

/// The leg that arrived (Tether is its UAS).
#[derive(Debug)]
pub struct ALeg {
    pub txn: TxnId,
    pub invite: Message,
    pub from: Peer,
    pub tag: String,
    pub session: Option<Session>,
    /// A final response went out (so CANCEL/B failures must not answer again).
    pub final_sent: bool,
    /// The trunk the call came in on (a channel is held on it).
    pub trunk: Option<String>,
    /// The provisional codes already relayed (each once).
    pub relayed_18x: Vec<u16>,
    /// The caller sends DTMF in SIP INFO: keys from the far end reach it the same way.
    pub uses_info: bool,
}

/// Where a B leg goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegTarget {
    /// The digits or user part to put in the Request-URI.
    pub user: String,
    /// Trunks to hunt, in order; empty for a registered phone binding.
    pub trunks: Vec<String>,
    /// A registered phone's contact and address, instead of a trunk.
    pub contact: Option<(tether_sip::Uri, Peer)>,
    /// The RD this leg rings (for answer timing and the CDR).
    pub rd: Option<String>,
    pub rd_number: Option<String>,
    pub delay: Duration,
    pub answer_too_soon: Duration,
    pub answer_too_late: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegState {
    /// Waiting for its delay-before-ringing.
    Waiting,
    /// INVITE sent, no provisional yet.
    Calling,
    /// A provisional (18x) arrived.
    Early,
    Answered,
    /// CANCEL or BYE sent because another leg won or timing rules dropped it.
    Dropping,
    /// Ended with this status (487 for cancelled).
    Failed(u16),
}

impl LegState {
    pub fn is_live(self) -> bool {
        matches!(
            self,
            LegState::Waiting | LegState::Calling | LegState::Early
        )
    }
}

/// A leg Tether started (Tether is its UAC).
#[derive(Debug)]
pub struct BLeg {
    pub target: LegTarget,
    pub state: LegState,
    pub peer: Option<Peer>,
    pub txn: Option<TxnId>,
    pub set: Option<DialogSet>,
    /// The trunk whose channel this leg holds.
    pub trunk: Option<String>,
    pub started_at: Option<Instant>,
    /// The Q.850 cause from the far end's Reason header, if it sent one.
    pub cause: Option<u8>,
    /// Cancelled because it rang longer than answer-too-late: its 487 means "no answer".
    pub no_answer: bool,
    /// The far end sends DTMF in SIP INFO: keys from the caller reach it the same way.
    pub uses_info: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// B legs are being set up.
    Proceeding,
    Answered,
    Ended,
}

#[derive(Debug)]
pub struct Call {
    pub id: u64,
    pub a: ALeg,
    pub b: Vec<BLeg>,
    pub state: CallState,
    pub winner: Option<usize>,
    pub fork: bool,
    pub started: Instant,
    pub answered_at: Option<Instant>,
    /// What the other party sees as the caller (never an RD number).
    pub presented_calling: String,
    pub presented_display: Option<String>,
    pub cdr: Cdr,
    /// Ports and negotiation of anchored media.
    pub media: Option<crate::media::CallMedia>,
}

/// What is shown of a call in progress (the admin API's call list, CTI snapshots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSummary {
    pub id: u64,
    pub answered: bool,
    /// The caller as presented (never an RD number).
    pub calling: String,
    pub called: String,
    /// The device the call is for, when it is for one.
    pub device: String,
    /// Origination and answer times, UNIX epoch milliseconds.
    pub started_ms: u64,
    pub answered_ms: Option<u64>,
    /// Anchored media: the caller's leg and the far end's (the leg put through), by RTP port.
    pub caller_rtp_port: Option<u16>,
    pub far_rtp_port: Option<u16>,
    /// The party holding the call, if one does.
    pub held_by: Option<&'static str>,
}

impl Call {
    /// The summary of this call; `epoch` turns engine instants into epoch milliseconds.
    pub fn summary(&self, epoch: impl Fn(Instant) -> u64) -> CallSummary {
        let m = self.media.as_ref();
        CallSummary {
            id: self.id,
            answered: self.state == CallState::Answered,
            calling: self.presented_calling.clone(),
            called: self.cdr.original_called_party_number.clone(),
            device: self.cdr.dest_device_name.clone(),
            started_ms: self.cdr.date_time_origination,
            answered_ms: self.answered_at.map(epoch),
            caller_rtp_port: m.map(|m| m.a_port),
            far_rtp_port: m.and_then(|m| {
                m.connected
                    .and_then(|i| m.b.get(i))
                    .and_then(Option::as_ref)
                    .map(|b| b.port)
            }),
            held_by: m.and_then(|m| m.held_by).map(|s| match s {
                Side::A => "caller",
                Side::B(_) => "far end",
            }),
        }
    }

    pub fn live_legs(&self) -> usize {
        self.b.iter().filter(|l| l.state.is_live()).count()
    }
}
