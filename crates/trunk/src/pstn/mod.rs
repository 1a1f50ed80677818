//! The PSTN simulator: the public network behind Tether's trunks, as a sans-IO SIP UAS.
//!
//! It owns a [`TransactionLayer`] and one UAS dialog [`Session`](tether_sip::dialog::Session)
//! per call, and answers each new INVITE by the rule its dialed number matches
//! ([`config`] documents the rules and the default plan): at once, after ringing, busy,
//! unallocated, congested, never (until the caller's CANCEL), as voicemail or as an echo
//! line. Answers carry an SDP answer (PCMU/PCMA/telephone-event) on the simulator's address and
//! a per-call port, or an offer when the INVITE had none. It answers ACK, BYE, CANCEL (the
//! transaction layer answers the CANCEL; the INVITE gets 487), re-INVITE and UPDATE (with SDP),
//! OPTIONS, and 481 to in-dialog requests of dialogs it does not have. [`PstnSimulator::hangup`]
//! and a rule's `hangup_after` make the far end hang up first.
//!
//! Driving it: feed received messages to [`PstnSimulator::handle_message`] with `now`, call
//! [`PstnSimulator::handle_timeout`] at the instant [`PstnSimulator::poll_timeout`] names, and
//! send everything [`PstnSimulator::poll_output`] returns. In-dialog requests of its own (BYE)
//! go back to where the call's INVITE came from, over the same transport: the simulator's only
//! neighbor is the trunk. Nothing here reads a socket or a clock; no media flows from here.
//!
//! When a call ends its dialog and timers go at once; its transactions finish on their own
//! timers, and then nothing of the call is left ([`PstnSimulator::footprint`]).

pub mod call;
pub mod config;
pub mod error;
mod inbound;
pub mod media;
pub mod plan;
mod pump;
mod script;
pub mod stats;

#[cfg(test)]
mod tests;

pub use call::{CallId, CallInfo, CallState};
pub use config::{default_rules, Behavior, PstnConfig, Rule};
pub use error::{PstnConfigError, PstnError};
pub use media::MediaInfo;
pub use plan::{dialed_number, CallKind};
pub use stats::{Footprint, PstnStats};

use call::Call;
use media::PortAllocator;
use plan::Plan;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;
use tether_sip::dialog::{DialogId, SeededRandom, SessionConfig, SessionTimerConfig};
use tether_sip::headers::NameAddr;
use tether_sip::transaction::{Config, TransactionLayer, TxnId};
use tether_sip::{Message, Peer, Transport, Uri};

/// A message for the driver to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub to: Peer,
    pub message: Message,
}

/// The methods the simulator answers (the Allow header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, PRACK, INFO";
/// The extensions it supports: a `Require` naming anything else gets 420.
pub const SUPPORTED: [&str; 2] = ["100rel", "timer"];

/// See the module documentation.
pub struct PstnSimulator {
    plan: Plan,
    local: Peer,
    txns: TransactionLayer,
    rng: SeededRandom,
    /// Counts tags and SDP sessions, so both stay unique whatever the random draws.
    serial: u64,
    next_call: u64,
    ports: PortAllocator,
    session_cfg: SessionConfig,
    calls: BTreeMap<CallId, Call>,
    dialogs: HashMap<DialogId, CallId>,
    /// Server transactions of live calls' requests (the INVITE, in-dialog requests).
    server_txns: HashMap<TxnId, CallId>,
    /// Our own in-dialog requests (BYE, session refreshes).
    client_txns: HashMap<TxnId, CallId>,
    /// Calls by the next instant they need the clock.
    timers: BTreeSet<(Instant, CallId)>,
    out: VecDeque<Transmit>,
    stats: PstnStats,
}

impl std::fmt::Debug for PstnSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PstnSimulator")
            .field("local", &self.local)
            .field("footprint", &self.footprint())
            .finish_non_exhaustive()
    }
}

impl PstnSimulator {
    /// A simulator answering by `config`, at `local` (its Contact, Via and SDP address), with
    /// tags, branches and SDP session ids drawn from `seed`.
    pub fn new(
        config: PstnConfig,
        local: Peer,
        seed: u64,
    ) -> Result<PstnSimulator, PstnConfigError> {
        let plan = Plan::new(&config)?;
        let ports = PortAllocator::new(plan.first_rtp_port);
        Ok(PstnSimulator {
            plan,
            local,
            txns: TransactionLayer::new(Config::default(), seed),
            rng: SeededRandom::new(seed ^ 0x5057_4e53_494d),
            serial: 0,
            next_call: 1,
            ports,
            session_cfg: SessionConfig {
                // Reliable 1xx only when the caller requires them; no session timer of our own
                // (the caller's is honored).
                reliable_provisionals: false,
                session_timer: SessionTimerConfig {
                    session_expires: None,
                    ..SessionTimerConfig::default()
                },
                ..SessionConfig::default()
            },
            calls: BTreeMap::new(),
            dialogs: HashMap::new(),
            server_txns: HashMap::new(),
            client_txns: HashMap::new(),
            timers: BTreeSet::new(),
            out: VecDeque::new(),
            stats: PstnStats::default(),
        })
    }

    pub fn local(&self) -> Peer {
        self.local
    }

    // ---- inputs --------------------------------------------------------------------------

    /// A message received from `from`. A message that lacks what transaction matching needs is
    /// dropped and reported.
    pub fn handle_message(
        &mut self,
        now: Instant,
        message: Message,
        from: Peer,
    ) -> Result<(), PstnError> {
        let r = self
            .txns
            .handle_message(now, message, from)
            .map_err(PstnError::Message);
        self.drain(now);
        r
    }

    /// Runs every timer due at `now`: transaction timers, scheduled answers and hangups,
    /// 2xx retransmissions.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.txns.handle_timeout(now);
        self.drain(now);
        let due: Vec<CallId> = self
            .timers
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect();
        for id in due {
            self.run_call_timers(now, id);
            self.drain(now);
        }
    }

    /// The transport lost its connection to `peer` (or could not send to it): its transactions
    /// end, and so do the calls that came from it (no BYE can reach it).
    pub fn handle_transport_error(&mut self, now: Instant, peer: Peer) {
        self.txns
            .handle_transport_error(now, tether_sip::transaction::TransportFailure::Peer(peer));
        self.drain(now);
        let lost: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| c.peer == peer)
            .map(|c| c.id)
            .collect();
        for id in lost {
            if let Some(call) = self.calls.get_mut(&id) {
                if call.state != CallState::Ringing {
                    self.stats.ended_by_network += 1;
                }
                call.session.end_early();
            }
            self.pump(now, id);
        }
        self.drain(now);
    }

    /// The called party hangs up: before answer the INVITE gets 603 (Q.850 21, call rejected);
    /// after answer a BYE (Q.850 16) goes out, once the caller's ACK has arrived.
    pub fn hangup(&mut self, now: Instant, call: CallId) -> Result<(), PstnError> {
        if !self.calls.contains_key(&call) {
            return Err(PstnError::UnknownCall(call));
        }
        self.hang_up(now, call);
        self.pump(now, call);
        self.drain(now);
        Ok(())
    }

    // ---- outputs -------------------------------------------------------------------------

    pub fn poll_output(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// When [`PstnSimulator::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.timers.first().map(|(t, _)| *t);
        match (self.txns.poll_timeout(), calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- inspection ----------------------------------------------------------------------

    /// The live calls, oldest first.
    pub fn calls(&self) -> Vec<CallInfo> {
        self.calls.values().map(Call::info).collect()
    }

    pub fn call(&self, id: CallId) -> Option<CallInfo> {
        self.calls.get(&id).map(Call::info)
    }

    /// The live call with this SIP Call-ID.
    pub fn find_call(&self, sip_call_id: &str) -> Option<CallId> {
        self.calls
            .values()
            .find(|c| c.invite.call_id() == Some(sip_call_id))
            .map(|c| c.id)
    }

    pub fn stats(&self) -> PstnStats {
        PstnStats {
            active: self.calls.len(),
            ..self.stats.clone()
        }
    }

    pub fn footprint(&self) -> Footprint {
        Footprint {
            calls: self.calls.len(),
            dialogs: self.dialogs.len(),
            transactions: self.txns.len(),
            transaction_index: self.server_txns.len() + self.client_txns.len(),
            timers: self.timers.len(),
            queued: self.out.len(),
        }
    }

    /// No call, no transaction, nothing queued.
    pub fn is_idle(&self) -> bool {
        self.footprint().is_empty()
    }

    // ---- helpers -------------------------------------------------------------------------

    fn new_tag(&mut self) -> String {
        use tether_sip::dialog::RandomSource;
        self.serial += 1;
        format!("{:x}{:08x}", self.serial, self.rng.next_u32())
    }

    fn host(&self) -> String {
        match self.local.addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }
    }

    /// Our Contact for a call that arrived over `transport`.
    fn contact(&self, transport: Transport) -> NameAddr {
        let uri = Uri::sip(Some("pstn"), &self.host(), Some(self.local.addr.port()));
        let uri = match transport {
            Transport::Udp => uri,
            t => uri.with_param("transport", Some(t.uri_param())),
        };
        NameAddr::new(uri)
    }

    /// The Via of a request we send towards `to`, without branch (the transaction layer adds
    /// one; an ACK for a 2xx gets `;branch=` appended by the caller).
    fn via(&self, to: Peer) -> String {
        format!(
            "SIP/2.0/{} {}:{};rport",
            to.transport.via_token(),
            self.host(),
            self.local.addr.port()
        )
    }
}
