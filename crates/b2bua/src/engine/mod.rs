//! The engine: dispatch of transaction events to calls, legs and the registrar.
//!
//! Inputs: `handle_message(now, msg, from)` for everything the transports receive,
//! `handle_timeout(now)` at `poll_timeout()`, `handle_transport_error(now, failure)`, and
//! `set_snapshot` when provisioning changes. Outputs: `poll_output()`.
//!
//! Rooms: this file (inputs, dispatch, new calls), [`place`] (where legs go and the INVITEs
//! Tether sends), [`b_legs`] (the responses of the legs Tether placed), [`in_dialog`] (requests
//! inside calls, CANCEL, the end of a call and its CDR), [`plumbing`] (moving dialog output to
//! the transaction layer), [`anchor`] and [`hold`] (anchored media), [`digits`] (DTMF), and the
//! CTI side: [`control`] (requests and snapshots), [`make_call`], [`answer`] (AnswerCall by the
//! `talk` event), [`clear`], [`deflect`], [`consult`], [`transfer`] and [`conference`] (consult
//! transfer and conference, over [`handover`], which moves a leg from one call to another),
//! [`refer`] and [`replaces`] (transfers and replacements phones ask for) and
//! [`device_events`] (the events each device sees).

use foldhash::HashMap;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use tether_sip::dialog::{
    DialogId, DialogSet, Inbound, Output as DialogOut, SeededRandom, Session,
};
use tether_sip::digits::{push_decimal, push_hex};
use tether_sip::headers::NameAddr;
use tether_sip::peer::{Peer, Transport};
use tether_sip::transaction::{
    Output as TxnOut, TransactionLayer, TransportFailure, TuEvent, TxnId,
};
use tether_sip::{HeaderName, Message, Method, Uri};
use tether_store::Snapshot;

use crate::call::{ALeg, Call, CallState, Connection, InboundLeg, LegState, PlacedLeg, Role, Side};
use crate::callerid;
use crate::cdr::Cdr;
use crate::channels::{self, Channels};
use crate::config::EngineConfig;
use crate::control::DivertCause;
use crate::output::{CallEvent, Output};
use crate::registrar::Registrar;
use crate::route::{self, Destination, Refusal};
use crate::timers::{TimerKind, TimerQueue};

mod anchor;
mod answer;
mod b_legs;
mod clear;
mod conference;
mod consult;
mod control;
mod deflect;
mod device_events;
mod digits;
mod handover;
mod hold;
mod in_dialog;
mod make_call;
mod place;
mod plumbing;
mod refer;
mod replaces;
mod transfer;

pub use hold::HoldError;
use place::Targets;

/// The methods Tether takes (REFER and NOTIFY: transfers phones ask for, `refer.rs`).
pub(crate) const ALLOW: &str =
    "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE, REFER, NOTIFY";
/// The extensions Tether supports beyond the session timer its dialogs add (`Replaces` in a
/// REFER's Refer-To, RFC 3891).
pub(crate) const SUPPORTED: &str = "replaces";

/// Who made a call attempt and what they dialed, for the CDR of a refused attempt.
struct Attempt<'a> {
    calling: &'a str,
    called: &'a str,
    span: Option<&'a str>,
    device: &'a str,
}

/// Counters for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Call attempts accepted for routing, and MakeCalls accepted (one CDR each).
    pub attempts: u64,
    pub answered: u64,
    /// Calls refused or failed before an answer.
    pub failed: u64,
    pub completed: u64,
    /// Calls the caller gave up on (CANCEL) before an answer.
    pub abandoned: u64,
    /// Requests refused because the source is not a trunk or a registered phone.
    pub refused_unknown_source: u64,
    /// New INVITEs refused 503 while draining (see [`Engine::set_draining`]).
    pub refused_draining: u64,
    /// Calls Tether placed (B-leg INVITEs sent): the seed's BHCA rule adds 1 for each outbound
    /// call, so an extended call counts 1, a fork to two remote destinations 2, a MakeCall 2
    /// (its leg to the remote destination and the leg to the target).
    pub outbound_attempts: u64,
}

pub struct Engine {
    cfg: EngineConfig,
    txn: TransactionLayer,
    snap: Arc<Snapshot>,
    registrar: Registrar,
    channels: Channels,
    calls: HashMap<u64, Call>,
    by_txn: HashMap<TxnId, (u64, Side)>,
    by_dialog: HashMap<DialogId, (u64, Side)>,
    /// Server transactions of requests received in dialogs, by (Call-ID, CSeq, method), so the
    /// responses sessions produce go out through them.
    server_txns: HashMap<(String, u32, Method), TxnId>,
    server_keys: HashMap<TxnId, (String, u32, Method)>,
    timers: TimerQueue,
    /// `pump`'s buffers, kept between pumps.
    pump_sends: Vec<(Side, DialogOut)>,
    pump_peers: Vec<Option<Peer>>,
    out: VecDeque<Output>,
    next_call: u64,
    seed: u64,
    counter: u64,
    /// Wall clock (epoch ms) at `epoch_instant`, for CDR times.
    epoch_instant: Instant,
    epoch_ms: u64,
    stats: Stats,
    contact: NameAddr,
    /// `contact` as header text.
    contact_text: String,
    /// `host:port` of the advertised address, as our Via headers carry it.
    sent_by: String,
    /// New calls are refused (503 with Retry-After); everything else goes on.
    draining: bool,
    /// RTP ports of anchored media, and which call holds each.
    ports: Option<crate::media::Ports>,
    by_port: HashMap<u16, u64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("calls", &self.calls.len())
            .field("transactions", &self.txn.len())
            .finish_non_exhaustive()
    }
}

fn key_of(m: &Message) -> Option<(String, u32, Method)> {
    let c = m.cseq()?;
    Some((m.call_id()?.to_owned(), c.seq, c.method.clone()))
}

fn transport_token(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
        Transport::Tls => "TLS",
    }
}

/// A Via value for a request of ours from `sent_by` (`host:port`) over `transport`, with a
/// branch when given (the transaction layer adds one to the requests it sends).
fn via_value(sent_by: &str, transport: Transport, branch: Option<&str>) -> String {
    let t = transport_token(transport);
    let b = branch.map_or(0, |b| b.len() + 8);
    let mut v = String::with_capacity(8 + t.len() + 1 + sent_by.len() + b + 6);
    v.push_str("SIP/2.0/");
    v.push_str(t);
    v.push(' ');
    v.push_str(sent_by);
    if let Some(b) = branch {
        v.push_str(";branch=");
        v.push_str(b);
    }
    v.push_str(";rport");
    v
}

/// The Q.850 cause of a Reason header (`Q.850;cause=17`), if any.
fn reason_cause(m: &Message) -> Option<u8> {
    m.headers_named(&HeaderName::Reason).find_map(|h| {
        let v = h.value();
        if !v.trim_start().to_ascii_uppercase().starts_with("Q.850") {
            return None;
        }
        v.split(';')
            .find_map(|p| p.trim().strip_prefix("cause="))
            .and_then(|c| c.trim().parse().ok())
    })
}

/// RFC 3398: the Q.850 cause a SIP failure status stands for (31, normal unspecified, when the
/// table has none).
pub fn sip_to_q850(status: u16) -> u8 {
    tether_trunk::cause::rfc3398::sip_to_q850(status)
        .map(|c| c.value())
        .unwrap_or(31)
}

impl Engine {
    /// A new engine. `now` and `epoch_ms` pin the wall clock used in CDRs to the virtual clock.
    pub fn new(
        cfg: EngineConfig,
        snap: Arc<Snapshot>,
        seed: u64,
        now: Instant,
        epoch_ms: u64,
    ) -> Result<Engine, tether_sip::auth::AuthError> {
        let registrar = Registrar::new(
            &cfg.domain,
            &cfg.nonce_secret,
            cfg.nonce_lifetime,
            (cfg.min_expires, cfg.max_expires, cfg.default_expires),
            now,
        )?;
        let a = cfg.advertised.addr;
        let contact = NameAddr::new(Uri::sip(
            Some("tether"),
            &a.ip().to_string(),
            Some(a.port()),
        ));
        let cfg_first_call_id = cfg.first_call_id.max(1);
        let ports = cfg.media.as_ref().and_then(crate::media::Ports::new);
        let contact_text = contact.to_text();
        let sent_by = format!("{}:{}", a.ip(), a.port());
        Ok(Engine {
            txn: TransactionLayer::new(cfg.transactions, seed),
            cfg,
            snap,
            registrar,
            channels: Channels::default(),
            calls: HashMap::default(),
            by_txn: HashMap::default(),
            by_dialog: HashMap::default(),
            server_txns: HashMap::default(),
            server_keys: HashMap::default(),
            timers: TimerQueue::default(),
            pump_sends: Vec::new(),
            pump_peers: Vec::new(),
            out: VecDeque::new(),
            seed,
            counter: 0,
            epoch_instant: now,
            epoch_ms,
            stats: Stats::default(),
            contact,
            contact_text,
            sent_by,
            draining: false,
            next_call: cfg_first_call_id,
            ports,
            by_port: HashMap::default(),
        })
    }

    pub fn set_snapshot(&mut self, snap: Arc<Snapshot>) {
        self.snap = snap;
    }

    /// While draining, new INVITEs (outside a dialog) are refused `503 Service Unavailable`
    /// with `Retry-After` ([`EngineConfig::drain_retry_after`]); calls in progress, in-dialog
    /// requests, CANCEL, REGISTER and OPTIONS go on as before. A node being stopped drains
    /// until its calls have ended.
    pub fn set_draining(&mut self, draining: bool) {
        self.draining = draining;
    }

    pub fn is_draining(&self) -> bool {
        self.draining
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }
    /// Every call in progress, oldest first.
    pub fn calls(&self) -> Vec<crate::call::CallSummary> {
        let mut out: Vec<_> = self
            .calls
            .values()
            .map(|c| c.summary(|t| self.epoch(t)))
            .collect();
        out.sort_by_key(|c| c.id);
        out
    }
    pub fn transactions(&self) -> usize {
        self.txn.len()
    }
    /// Transactions still waiting for a final response (or to send one): a draining node
    /// stops once no call is left and this is 0, so its last BYEs are answered.
    pub fn pending_transactions(&self) -> usize {
        self.txn.pending()
    }
    pub fn channels(&self) -> &Channels {
        &self.channels
    }
    pub fn registrations(&self) -> usize {
        self.registrar.count()
    }
    /// Internal bookkeeping entries (for leak checks): transaction and dialog maps.
    pub fn bookkeeping(&self) -> (usize, usize, usize) {
        (
            self.by_txn.len(),
            self.by_dialog.len(),
            self.server_txns.len(),
        )
    }

    /// Wake-ups waiting in the engine's own timer queue (for leak checks).
    pub fn timers_queued(&self) -> usize {
        self.timers.len()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest instant `handle_timeout` must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.txn.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn epoch(&self, t: Instant) -> u64 {
        self.epoch_ms + t.saturating_duration_since(self.epoch_instant).as_millis() as u64
    }

    fn unique(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let mut s = String::with_capacity(prefix.len() + 24);
        s.push_str(prefix);
        push_hex(&mut s, self.seed & 0xffff_ffff, 0);
        push_hex(&mut s, self.counter, 0);
        s
    }

    /// A Via value for a request of ours towards a peer over `transport`.
    fn via(&self, transport: Transport, branch: Option<&str>) -> String {
        via_value(&self.sent_by, transport, branch)
    }

    fn rng(&mut self) -> Box<SeededRandom> {
        self.counter += 1;
        Box::new(SeededRandom::new(
            self.seed ^ self.counter.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ))
    }

    // ---- inputs ------------------------------------------------------------------------

    /// A message the transports received from `from`.
    pub fn handle_message(&mut self, now: Instant, msg: Message, from: Peer) {
        // Malformed requests are answered and malformed responses dropped by the layer.
        let _ = self.txn.handle_message(now, msg, from);
        self.drain(now);
    }

    pub fn handle_transport_error(&mut self, now: Instant, failure: TransportFailure) {
        self.txn.handle_transport_error(now, failure);
        self.drain(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.txn.handle_timeout(now);
        self.drain(now);
        while let Some(kind) = self.timers.pop_due(now) {
            match kind {
                TimerKind::StartLeg { call, leg } => self.start_leg(now, call, leg),
                TimerKind::AnswerTooLate { call, side } => self.answer_too_late(now, call, side),
                TimerKind::Dialogs { call } => self.dialog_timers(now, call),
                TimerKind::Bindings => {
                    if let Some(next) = self.registrar.expire(now) {
                        self.timers.arm(next, TimerKind::Bindings);
                    }
                }
            }
            self.drain(now);
        }
    }

    /// Moves the transaction layer's outputs out and its events into the engine.
    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.txn.poll_output() {
            match o {
                TxnOut::Transmit { to, message } => {
                    self.out.push_back(Output::Transmit { to, message })
                }
                TxnOut::Event(ev) => self.on_event(now, ev),
            }
        }
    }

    fn on_event(&mut self, now: Instant, ev: TuEvent) {
        match ev {
            TuEvent::Request { txn, request, from } => self.on_request(now, txn, request, from),
            TuEvent::Response { txn, response } => self.on_response(now, txn, response),
            TuEvent::AckFor2xx { ack, .. } | TuEvent::StrayAck { ack, .. } => self.on_ack(now, ack),
            TuEvent::Cancelled { invite, .. } => self.on_cancel(now, invite),
            TuEvent::StrayResponse { response, .. } => self.on_stray_response(now, response),
            TuEvent::Timeout { txn, .. } => self.on_client_failure(now, txn, 408),
            TuEvent::TransportError { txn } => self.on_client_failure(now, txn, 503),
            TuEvent::Terminated { txn } => {
                if let Some(k) = self.server_keys.remove(&txn) {
                    self.server_txns.remove(&k);
                }
                if let Some((call, side)) = self.by_txn.remove(&txn) {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.keys.txns.retain(|t| *t != txn);
                    }
                    // An A-leg INVITE transaction ending before the ACK came (timer H) ends
                    // the call; others just stop being tracked.
                    if side == Side::A {
                        self.a_txn_ended(now, call);
                    }
                }
            }
            _ => {}
        }
    }

    // ---- requests ----------------------------------------------------------------------

    fn respond(&mut self, now: Instant, txn: TxnId, resp: Message) {
        let _ = self.txn.respond(now, txn, resp);
    }

    fn on_request(&mut self, now: Instant, txn: TxnId, req: Message, from: Peer) {
        if let Some(k) = key_of(&req) {
            self.server_txns.insert(k.clone(), txn);
            self.server_keys.insert(txn, k);
        }
        let Some(method) = req.method().cloned() else {
            return;
        };
        if req.to_tag().is_some() {
            return self.in_dialog_request(now, txn, req, method);
        }
        match method {
            // RFC 3891: a new leg taking the place of one of Tether's dialogs.
            Method::Invite if req.header_value(&HeaderName::Replaces).is_some() => {
                self.invite_replaces(now, txn, req, from)
            }
            Method::Invite => self.new_call(now, txn, req, from),
            Method::Register => {
                let snap = self.snap.clone();
                let mut resp = self.registrar.handle(now, &snap, &req, from);
                resp.set_to_tag(&self.unique("r")).ok();
                if resp.status() == Some(200) {
                    if let Some(next) = self.registrar.expire(now) {
                        self.timers.arm(next, TimerKind::Bindings);
                    }
                }
                self.respond(now, txn, resp);
            }
            Method::Options => {
                let mut r = Message::response_to(&req, 200, "OK", Some(&self.unique("o")));
                let _ = r.push_header(HeaderName::Allow, ALLOW);
                let _ = r.push_header(HeaderName::Supported, SUPPORTED);
                self.respond(now, txn, r);
            }
            Method::Bye
            | Method::Info
            | Method::Update
            | Method::Prack
            | Method::Refer
            | Method::Notify => {
                let r = Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                self.respond(now, txn, r);
            }
            _ => {
                let mut r = Message::response_to(&req, 405, "Method Not Allowed", None);
                let _ = r.push_header(HeaderName::Allow, ALLOW);
                self.respond(now, txn, r);
            }
        }
    }

    fn refuse(&mut self, now: Instant, txn: TxnId, req: &Message, r: &Refusal) {
        let mut resp = Message::response_to(req, r.status, r.reason, Some(&self.unique("x")));
        let _ = resp.push_header(HeaderName::Reason, &format!("Q.850;cause={}", r.cause));
        self.respond(now, txn, resp);
    }

    /// A new INVITE: identify the source, analyze, and start the B legs.
    fn new_call(&mut self, now: Instant, txn: TxnId, invite: Message, from: Peer) {
        let snap = self.snap.clone();
        if self.draining {
            self.stats.refused_draining += 1;
            let mut r =
                Message::response_to(&invite, 503, "Service Unavailable", Some(&self.unique("x")));
            let _ = r.push_header(
                HeaderName::RetryAfter,
                &self.cfg.drain_retry_after.as_secs().to_string(),
            );
            let _ = r.push_header(HeaderName::Reason, "Q.850;cause=41");
            return self.respond(now, txn, r);
        }
        if self.calls.len() >= self.cfg.max_calls {
            return self.refuse(
                now,
                txn,
                &invite,
                &Refusal::new(503, "Service Unavailable", 42, "call limit"),
            );
        }
        match invite.max_forwards() {
            Ok(Some(0)) => {
                return self.refuse(
                    now,
                    txn,
                    &invite,
                    &Refusal::new(483, "Too Many Hops", 25, "Max-Forwards 0"),
                );
            }
            Err(_) => {
                let r = Message::response_to(&invite, 400, "Bad Request (Max-Forwards)", None);
                return self.respond(now, txn, r);
            }
            _ => {}
        }
        let a_offer = match self.check_offer(&invite) {
            Ok(o) => o,
            Err(bad) => return self.refuse_offer(now, txn, &invite, &bad),
        };
        let called = invite
            .request_uri()
            .and_then(|u| u.user().map(str::to_owned))
            .unwrap_or_default();
        let received_calling = invite
            .from_hdr()
            .and_then(|f| f.uri.user().map(str::to_owned))
            .unwrap_or_default();

        // Who is calling: a registered phone (its exact address, so a softphone on the same
        // host as a trunk peer is still the phone) or a trunk peer; nobody else.
        let phone = self.registrar.device_at(from, now).map(str::to_owned);
        let (css, calling, source_trunk, orig_device) = if let Some(dev) = phone {
            let d = snap.device(&dev);
            let css = d.and_then(|d| d.css.clone()).unwrap_or_default();
            let dn = snap
                .lines_of(&dev)
                .min_by_key(|l| l.position)
                .map(|l| l.dn.clone())
                .unwrap_or(received_calling.clone());
            (css, dn, None, dev)
        } else if let Some(t) = channels::identify(&snap, from.addr) {
            let css = t.inbound_css.clone().unwrap_or_default();
            (css, received_calling.clone(), Some(t), String::new())
        } else {
            self.stats.refused_unknown_source += 1;
            return self.refuse(
                now,
                txn,
                &invite,
                &Refusal::new(
                    403,
                    "Forbidden",
                    21,
                    format!("{} is not a trunk or a registered phone", from.addr),
                ),
            );
        };

        // The inbound trunk's channel.
        if let Some(t) = &source_trunk {
            if !self.channels.seize(t) {
                let r = Refusal::new(503, "Service Unavailable", 34, "trunk full");
                let who = Attempt {
                    calling: &received_calling,
                    called: &called,
                    span: Some(&t.name),
                    device: "",
                };
                return self.refuse_attempt(now, txn, &invite, &r, &who);
            }
        }
        let release_inbound = |this: &mut Engine| {
            if let Some(t) = &source_trunk {
                this.channels.release(&t.name);
            }
        };

        let mut presented = callerid::present(&snap, &calling);
        if !orig_device.is_empty() {
            // A phone's calls show its name.
            presented.display = callerid::device_display(&snap, &orig_device);
        }
        // Who is calling, for the CDR of an attempt refused from here on.
        let who = Attempt {
            calling: &presented.number,
            called: &called,
            span: source_trunk.as_ref().map(|t| t.name.as_str()),
            device: &orig_device,
        };
        let (dest, forwarded) = match route::route(&snap, &css, &presented.number, &called) {
            Ok(d) => d,
            Err(r) => {
                release_inbound(self);
                return self.refuse_attempt(now, txn, &invite, &r, &who);
            }
        };

        let Targets {
            targets,
            fork,
            dest_device,
            final_called,
        } = match self.targets_for(now, &dest, forwarded.as_ref()) {
            Ok(t) => t,
            Err(r) => {
                release_inbound(self);
                return self.refuse_attempt(now, txn, &invite, &r, &who);
            }
        };
        let dest_line = matches!(
            dest,
            Destination::RemoteDestinations { .. } | Destination::Phone { .. }
        );

        let id = self.next_call;
        let Ok(media) = self.open_call_media(id, a_offer) else {
            release_inbound(self);
            let r = Refusal::new(503, "Service Unavailable", 47, "no RTP port left");
            return self.refuse_attempt(now, txn, &invite, &r, &who);
        };
        self.next_call += 1;
        self.stats.attempts += 1;
        let tag = self.unique("t");
        let cdr = Cdr {
            global_call_id: id,
            orig_leg_call_identifier: invite.call_id().unwrap_or_default().to_owned(),
            date_time_origination: self.epoch(now),
            calling_party_number: presented.number.clone(),
            original_called_party_number: called.clone(),
            final_called_party_number: final_called,
            last_redirect_dn: forwarded.as_ref().map(|f| f.dn.clone()).unwrap_or_default(),
            orig_device_name: orig_device.clone(),
            dest_device_name: dest_device.clone(),
            orig_span: source_trunk
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            mobile_calling_party_number: presented
                .device
                .as_ref()
                .map(|_| received_calling.clone())
                .unwrap_or_default(),
            ..Cdr::default()
        };
        // The devices on the call: the one it is for, and the caller when it is a device (a
        // registered phone, or a remote destination recognised by its number).
        let mut conns = Vec::with_capacity(2);
        let calling_device = if orig_device.is_empty() {
            presented.device.clone()
        } else {
            Some(orig_device)
        };
        if let Some(device) = calling_device {
            conns.push(Connection {
                device,
                dn: presented.number.clone(),
                role: Role::Calling,
            });
        }
        if dest_line {
            conns.push(Connection {
                device: dest_device,
                dn: cdr.final_called_party_number.clone(),
                role: Role::Called,
            });
        }
        let call = Call {
            id,
            a: ALeg::Inbound(InboundLeg {
                txn,
                invite,
                from,
                tag,
                session: None,
                final_sent: false,
                trunk: source_trunk.map(|t| t.name.clone()),
                relayed_18x: Vec::new(),
                uses_info: false,
            }),
            b: targets.into_iter().map(PlacedLeg::new).collect(),
            state: CallState::Proceeding,
            winner: None,
            fork,
            started: now,
            answered_at: None,
            presented_calling: presented.number,
            presented_display: presented.display,
            cdr,
            media,
            conns,
            delivered: false,
            network_reached: false,
            released_by: None,
            make_call: None,
            info_queue: VecDeque::new(),
            info_pending: None,
            lent: None,
            conference: None,
            shown_called: None,
            refer: None,
            keys: crate::call::CallKeys::default(),
            dialog_timer: None,
        };
        self.calls.insert(id, call);
        self.track_txn(txn, id, Side::A);
        self.out
            .push_back(Output::Event(CallEvent::Offered { call: id }));
        // No 100 Trying here: the server transaction sends one by itself if nothing else has
        // gone back 200 ms after the INVITE (RFC 3261 §17.2.1), well before the caller's first
        // retransmission (T1, 500 ms). A far end that rings sooner spares the caller a
        // datagram, and both sides the work of it.
        self.call_originated(id);
        if let Some(f) = &forwarded {
            self.forwarded(id, f);
        }
        self.start_legs(now, id, 0);
        self.check_all_failed(now, id);
    }

    /// Refuses a call attempt before any leg started. It still counts as an attempt and
    /// leaves a CDR with the refusal's cause and no connect time.
    fn refuse_attempt(
        &mut self,
        now: Instant,
        txn: TxnId,
        invite: &Message,
        r: &Refusal,
        who: &Attempt<'_>,
    ) {
        let id = self.next_call;
        self.next_call += 1;
        self.stats.attempts += 1;
        self.stats.failed += 1;
        let t = self.epoch(now);
        let cdr = Cdr {
            global_call_id: id,
            orig_leg_call_identifier: invite.call_id().unwrap_or_default().to_owned(),
            date_time_origination: t,
            date_time_disconnect: t,
            calling_party_number: who.calling.to_owned(),
            original_called_party_number: who.called.to_owned(),
            final_called_party_number: who.called.to_owned(),
            orig_device_name: who.device.to_owned(),
            orig_span: who.span.unwrap_or_default().to_owned(),
            dest_cause_value: r.cause,
            ..Cdr::default()
        };
        self.out.push_back(Output::Cdr(Box::new(cdr)));
        self.refuse(now, txn, invite, r);
    }
}
