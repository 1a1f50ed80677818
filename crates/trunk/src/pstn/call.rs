//! One simulated call: its dialog (a UAS [`Session`]), the INVITE it answers, its script's
//! pending step, its media, and the server transactions its responses go through. Plus the
//! read-only view tests and the lab see ([`CallInfo`]).

use super::media::{CallMedia, MediaInfo};
use super::plan::CallKind;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use tether_sip::dialog::Session;
use tether_sip::transaction::TxnId;
use tether_sip::{Message, Method, Peer};

/// A call's handle within one simulator. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pstn-call#{}", self.0)
    }
}

/// Where a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Not answered yet (180 sent, or the answer is due at once).
    Ringing,
    /// 200 sent, ACK not yet received.
    Answered,
    /// ACK received.
    Confirmed,
}

/// A scheduled step of a call's script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Answer,
    Hangup,
    /// The network's no-answer timer.
    NoAnswer,
}

/// What the simulator shows of a live call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInfo {
    pub id: CallId,
    /// The SIP Call-ID.
    pub sip_call_id: String,
    pub dialed: String,
    /// The rule that matched; `None` for the plan's `otherwise`.
    pub rule: Option<String>,
    pub kind: CallKind,
    pub state: CallState,
    /// Where the INVITE came from; in-dialog requests of ours go back there.
    pub peer: Peer,
    pub media: MediaInfo,
    pub answered_at: Option<Instant>,
}

pub(crate) struct Call {
    pub id: CallId,
    pub dialed: String,
    pub rule: Option<String>,
    pub kind: CallKind,
    pub state: CallState,
    pub peer: Peer,
    pub invite: Message,
    pub session: Session,
    pub media: CallMedia,
    /// The SDP our 200 will carry.
    pub answer_body: Vec<u8>,
    pub step: Option<(Instant, Step)>,
    pub hangup_after: Option<Duration>,
    /// A hangup asked for between our 200 and the caller's ACK: sent on the ACK.
    pub hangup_pending: bool,
    pub answered_at: Option<Instant>,
    /// The server transaction of each request of this call we may still answer, by CSeq.
    pub server_txns: HashMap<(u32, Method), TxnId>,
    /// The instant this call is filed under in the simulator's timer index.
    pub deadline: Option<Instant>,
}

impl Call {
    pub(crate) fn info(&self) -> CallInfo {
        CallInfo {
            id: self.id,
            sip_call_id: self.invite.call_id().unwrap_or_default().to_owned(),
            dialed: self.dialed.clone(),
            rule: self.rule.clone(),
            kind: self.kind,
            state: self.state,
            peer: self.peer,
            media: self.media.info(),
            answered_at: self.answered_at,
        }
    }

    /// The next instant this call needs the clock: its script's step or its dialog's timers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let step = self.step.map(|(t, _)| t);
        match (step, self.session.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
