//! The state of one call: its A side (the INVITE that arrived, or the leg Tether placed first for
//! a CTI request), the B legs Tether started for it, the devices connected to it, and what the
//! CDR needs. Plain data; the engine moves it along.
//!
//! Ownership of a device's leg shared by two calls (consult transfer, SPEC §2.8): a leg — its
//! dialog, its transaction, its trunk channel and its RTP port — always belongs to exactly one
//! call. When a device consults from call H, H keeps its device leg and *lends* it
//! ([`Call::lent`]) to the consultation call C, whose A side is [`ALeg::Borrowed`]: C uses the
//! leg's RTP port for media (relayed to the consultation target) and owns nothing of it. The
//! loan ends when C ends (the leg stays with H, still holding its far party), or when H ends
//! first: if the device's leg is what went away, C ends too; otherwise the leg is *handed over*
//! to C, which owns it from then on. A leg moved out of a call (a hand-over, a transfer joining
//! two far parties) leaves [`ALeg::Moved`] or a placeholder B leg behind.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tether_sip::dialog::{DialogId, DialogSet, Session};
use tether_sip::peer::Peer;
use tether_sip::transaction::TxnId;
use tether_sip::Message;

use crate::cdr::Cdr;

/// Which side of a call a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    A,
    B(usize),
}

/// The leg that arrived (Tether is its UAS).
#[derive(Debug)]
pub struct InboundLeg {
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
    /// The `Diversion` header (RFC 5806) the INVITE carries when the call was forwarded or
    /// deflected on its way here: it names the DN the call left, never an RD.
    pub diversion: Option<String>,
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

/// A leg Tether started (Tether is its UAC): every B leg, and the A side of a call Tether
/// placed itself (MakeCall's leg to the device's remote destination).
#[derive(Debug)]
pub struct PlacedLeg {
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
    /// The far end offered remote answer (`Allow-Events: talk` in a provisional response):
    /// CTI's AnswerCall can ask it to go off hook.
    pub talk: Option<Talk>,
}

/// Remote answer on a ringing leg (BroadWorks' `talk` event package, as Polycom, Yealink and
/// Cisco SPA phones offer it): the early dialog whose provisional response carried
/// `Allow-Events: talk`, and the NOTIFY (`Event: talk`) AnswerCall sent in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Talk {
    /// The early dialog that offered it (the first one, when the leg forked downstream).
    pub dialog: DialogId,
    /// When it was offered: of several ringing legs, the first to offer it is asked.
    pub since: Instant,
    /// The NOTIFY's client transaction, until its final response (or its timeout).
    pub notify: Option<TxnId>,
    /// A NOTIFY went out: the far end's answer comes at Tether's request, never too soon to
    /// be a person.
    pub asked: bool,
}

impl PlacedLeg {
    /// A leg to `target`, not started yet.
    pub fn new(target: LegTarget) -> PlacedLeg {
        PlacedLeg {
            target,
            state: LegState::Waiting,
            peer: None,
            txn: None,
            set: None,
            trunk: None,
            started_at: None,
            cause: None,
            no_answer: false,
            uses_info: false,
            talk: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// B legs are being set up.
    Proceeding,
    Answered,
    Ended,
}

/// The side a call began with.
#[derive(Debug)]
// Inbound is the common case by far; boxing it would allocate once more per call.
#[allow(clippy::large_enum_variant)]
pub enum ALeg {
    /// An INVITE that arrived from a trunk or a phone.
    Inbound(InboundLeg),
    /// A leg Tether placed for a CTI request: MakeCall (Dial Via Office reverse) calls the
    /// device's active remote destination first, and the B legs once it answers.
    Placed(PlacedLeg),
    /// A consultation call: the device's leg of call `owner` (its side `side`), lent to this
    /// call for media only. The owner keeps the dialog, the trunk channel and the RTP port.
    Borrowed { owner: u64, side: Side },
    /// The leg moved to another call (handed over, or joined to another party by a transfer):
    /// nothing of it is left here.
    Moved,
}

impl ALeg {
    pub fn inbound(&self) -> Option<&InboundLeg> {
        match self {
            ALeg::Inbound(a) => Some(a),
            _ => None,
        }
    }
    pub fn inbound_mut(&mut self) -> Option<&mut InboundLeg> {
        match self {
            ALeg::Inbound(a) => Some(a),
            _ => None,
        }
    }
    pub fn placed(&self) -> Option<&PlacedLeg> {
        match self {
            ALeg::Placed(l) => Some(l),
            _ => None,
        }
    }
    pub fn placed_mut(&mut self) -> Option<&mut PlacedLeg> {
        match self {
            ALeg::Placed(l) => Some(l),
            _ => None,
        }
    }
    /// Where the A party's messages go.
    pub fn peer(&self) -> Option<Peer> {
        match self {
            ALeg::Inbound(a) => Some(a.from),
            ALeg::Placed(l) => l.peer,
            ALeg::Borrowed { .. } | ALeg::Moved => None,
        }
    }
    /// The trunk whose channel the A side holds, handed back once.
    pub fn take_trunk(&mut self) -> Option<String> {
        match self {
            ALeg::Inbound(a) => a.trunk.take(),
            ALeg::Placed(l) => l.trunk.take(),
            ALeg::Borrowed { .. } | ALeg::Moved => None,
        }
    }
    /// This call owns its A leg (it is neither borrowed nor moved away).
    pub fn is_own(&self) -> bool {
        matches!(self, ALeg::Inbound(_) | ALeg::Placed(_))
    }
    /// The call and side whose leg this consultation call borrows.
    pub fn borrowed(&self) -> Option<(u64, Side)> {
        match self {
            ALeg::Borrowed { owner, side } => Some((*owner, *side)),
            _ => None,
        }
    }
}

/// A conference (SPEC §2.8): three or more parties of one call, mixed by the media engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conference {
    /// The parties, in joining order.
    pub members: Vec<Member>,
}

/// One party of a conference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its leg in the call.
    pub side: Side,
    /// The number it is presented as (a device's DN, never an RD number).
    pub number: String,
    /// The device whose leg it is, if it is one.
    pub device: Option<String>,
}

/// A call's device leg lent to a consultation call (see the module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lent {
    /// The consultation call using the leg.
    pub to: u64,
    /// The side of the lending call the leg is on.
    pub side: Side,
}

/// Which end of a call a device's connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The device placed the call (a phone dialing, a remote destination recognised by its
    /// number, a CTI MakeCall): its connection is the A side.
    Calling,
    /// The call is for the device: its connection is the B side.
    Called,
}

/// A device's connection to a call (CSTA's connection: call and device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub device: String,
    /// The device's DN on this call.
    pub dn: String,
    pub role: Role,
}

impl Connection {
    /// The device's own side of the call.
    pub fn side_is_own(&self, side: Side) -> bool {
        matches!(
            (self.role, side),
            (Role::Calling, Side::A) | (Role::Called, Side::B(_))
        )
    }
}

/// What a MakeCall call dials once the remote destination answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MakeCallTarget {
    /// The number as the application gave it.
    pub to: String,
    /// The digits analysed (after application dial rules).
    pub dialed: String,
    /// The device's calling search space.
    pub css: String,
}

#[derive(Debug)]
pub struct Call {
    pub id: u64,
    pub a: ALeg,
    pub b: Vec<PlacedLeg>,
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
    /// The devices connected to the call (at most one per end), for CTI events.
    pub conns: Vec<Connection>,
    /// The B side alerted (Delivered was reported).
    pub delivered: bool,
    /// A leg left on a trunk (NetworkReached was reported).
    pub network_reached: bool,
    /// The side that released first (ConnectionCleared order).
    pub released_by: Option<Side>,
    /// MakeCall: where to call once the remote destination answered.
    pub make_call: Option<MakeCallTarget>,
    /// DTMF keys waiting to go to a party in SIP INFO, one INFO at a time.
    pub info_queue: VecDeque<(Side, char, u32)>,
    /// An INFO with a key is waiting for its response, per side.
    pub info_pending: Option<Side>,
    /// The device's leg is lent to a consultation call (see the module comment).
    pub lent: Option<Lent>,
    /// The call is a conference: its parties are mixed rather than relayed in pairs.
    pub conference: Option<Conference>,
    /// The number the B party is shown as when it is not the one dialed (what is left of a
    /// conference after the others left).
    pub shown_called: Option<String>,
    /// A call a phone's REFER started (blind transfer): the call and side of the REFER's
    /// dialog, told of this call's outcome in NOTIFYs (RFC 3515).
    pub refer: Option<(u64, Side)>,
    /// What names this call in the engine's dialog and transaction tables.
    pub keys: CallKeys,
    /// When the engine's timer queue next wakes this call's dialogs: a later deadline is not
    /// armed again (each message would otherwise leave an entry in the queue until it falls
    /// due).
    pub dialog_timer: Option<Instant>,
}

/// The dialog ids and transaction ids a call put in the engine's tables, so that ending it
/// removes exactly those instead of walking every call's entries (a walk per call ended is
/// quadratic in the calls up at once). A transaction that ended is taken off as it ends;
/// what another call took over since is left to it.
#[derive(Debug, Default)]
pub struct CallKeys {
    pub dialogs: Vec<DialogId>,
    pub txns: Vec<TxnId>,
}

/// What is shown of a call in progress (the admin API's call list, CTI snapshots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSummary {
    pub id: u64,
    pub answered: bool,
    /// The caller as presented (never an RD number).
    pub calling: String,
    pub called: String,
    /// The device the call is for, when it is for one (else the device that placed it).
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
            device: if self.cdr.dest_device_name.is_empty() {
                self.cdr.orig_device_name.clone()
            } else {
                self.cdr.dest_device_name.clone()
            },
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

    /// The leg Tether placed on `side` (a B leg, or a placed A side).
    pub fn placed(&self, side: Side) -> Option<&PlacedLeg> {
        match side {
            Side::A => self.a.placed(),
            Side::B(i) => self.b.get(i),
        }
    }
    pub fn placed_mut(&mut self, side: Side) -> Option<&mut PlacedLeg> {
        match side {
            Side::A => self.a.placed_mut(),
            Side::B(i) => self.b.get_mut(i),
        }
    }

    /// The dialog of `side`: the one named `id` when given, else the one that answered.
    pub fn session_mut(&mut self, side: Side, id: Option<&DialogId>) -> Option<&mut Session> {
        let set = match (&mut self.a, side) {
            (ALeg::Inbound(a), Side::A) => return a.session.as_mut(),
            (ALeg::Placed(l), Side::A) => l.set.as_mut(),
            (ALeg::Borrowed { .. } | ALeg::Moved, Side::A) => None,
            (_, Side::B(i)) => self.b.get_mut(i).and_then(|l| l.set.as_mut()),
        }?;
        match id {
            Some(id) => set.session_mut(id),
            None => set.accepted_mut(),
        }
    }

    /// Whether `side`'s party sends and gets DTMF in SIP INFO.
    pub fn uses_info(&self, side: Side) -> bool {
        match (&self.a, side) {
            (ALeg::Inbound(a), Side::A) => a.uses_info,
            _ => self.placed(side).is_some_and(|l| l.uses_info),
        }
    }

    /// Marks `side` as using INFO; true the first time.
    pub fn set_uses_info(&mut self, side: Side) -> bool {
        let flag = match (&mut self.a, side) {
            (ALeg::Inbound(a), Side::A) => Some(&mut a.uses_info),
            (ALeg::Placed(l), Side::A) => Some(&mut l.uses_info),
            (ALeg::Borrowed { .. } | ALeg::Moved, Side::A) => None,
            (_, Side::B(i)) => self.b.get_mut(i).map(|l| &mut l.uses_info),
        };
        match flag {
            Some(f) => !std::mem::replace(f, true),
            None => false,
        }
    }

    /// The party across the call from `side`: the A side, or the B leg that answered.
    pub fn other_side(&self, side: Side) -> Option<Side> {
        match side {
            Side::A => self.winner.map(Side::B),
            Side::B(_) => Some(Side::A),
        }
    }

    /// `device`'s connection, if it has one.
    pub fn connection(&self, device: &str) -> Option<&Connection> {
        self.conns.iter().find(|c| c.device == device)
    }

    /// The side of `conn`'s own leg: the A side for the calling device, the B leg that
    /// answered (else the first) for the called one.
    pub fn own_side(&self, conn: &Connection) -> Side {
        match conn.role {
            Role::Calling => Side::A,
            Role::Called => Side::B(self.winner.unwrap_or(0)),
        }
    }

    /// The far party's number as `conn` sees it: the caller for the device the call is for,
    /// the number called for the device that placed it.
    pub fn other_number(&self, conn: &Connection) -> String {
        match conn.role {
            Role::Called => self.presented_calling.clone(),
            Role::Calling => self
                .shown_called
                .clone()
                .unwrap_or_else(|| self.cdr.original_called_party_number.clone()),
        }
    }

    /// The conference party on `side`, if the call is a conference.
    pub fn member(&self, side: Side) -> Option<&Member> {
        self.conference
            .as_ref()
            .and_then(|c| c.members.iter().find(|m| m.side == side))
    }
}
