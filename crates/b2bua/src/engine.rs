//! The engine: dispatch of transaction events to calls, legs and the registrar.
//!
//! Inputs: `handle_message(now, msg, from)` for everything the transports receive,
//! `handle_timeout(now)` at `poll_timeout()`, `handle_transport_error(now, failure)`, and
//! `set_snapshot` when provisioning changes. Outputs: `poll_output()`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_sip::dialog::{
    DialogId, DialogSet, Inbound, Output as DialogOut, SeededRandom, Session,
};
use tether_sip::headers::NameAddr;
use tether_sip::peer::{Peer, Transport};
use tether_sip::transaction::{
    Output as TxnOut, TransactionLayer, TransportFailure, TuEvent, TxnId,
};
use tether_sip::{HeaderName, Message, Method, Uri};
use tether_store::Snapshot;

use crate::call::{ALeg, BLeg, Call, CallState, LegState, LegTarget, Side};
use crate::callerid;
use crate::cdr::Cdr;
use crate::channels::{self, Channels};
use crate::config::EngineConfig;
use crate::output::{CallEvent, Output};
use crate::registrar::Registrar;
use crate::route::{self, Destination, Refusal};
use crate::timers::{TimerKind, TimerQueue};

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
    /// Call attempts accepted for routing (the BHCA numerator).
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
    /// call, so an extended call counts 1, a fork to two remote destinations 2.
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
    out: VecDeque<Output>,
    next_call: u64,
    seed: u64,
    counter: u64,
    /// Wall clock (epoch ms) at `epoch_instant`, for CDR times.
    epoch_instant: Instant,
    epoch_ms: u64,
    stats: Stats,
    contact: NameAddr,
    /// New calls are refused (503 with Retry-After); everything else goes on.
    draining: bool,
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
        Ok(Engine {
            txn: TransactionLayer::new(cfg.transactions, seed),
            cfg,
            snap,
            registrar,
            channels: Channels::default(),
            calls: HashMap::new(),
            by_txn: HashMap::new(),
            by_dialog: HashMap::new(),
            server_txns: HashMap::new(),
            server_keys: HashMap::new(),
            timers: TimerQueue::default(),
            out: VecDeque::new(),
            seed,
            counter: 0,
            epoch_instant: now,
            epoch_ms,
            stats: Stats::default(),
            contact,
            draining: false,
            next_call: cfg_first_call_id,
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
        format!("{prefix}{:x}{:x}", self.seed & 0xffff_ffff, self.counter)
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
                TimerKind::AnswerTooLate { call, leg } => self.answer_too_late(now, call, leg),
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
                let _ = r.push_header(
                    HeaderName::Allow,
                    "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE",
                );
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
                let _ = r.push_header(
                    HeaderName::Allow,
                    "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER",
                );
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
                .next()
                .map(|l| l.dn.clone())
                .unwrap_or(received_calling.clone());
            (css, dn, None, dev)
        } else if let Some(t) = channels::identify(&snap, from.addr) {
            let css = t.inbound_css.clone().unwrap_or_default();
            (
                css,
                received_calling.clone(),
                Some(t.clone()),
                String::new(),
            )
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

        let presented = callerid::present(&snap, &calling);
        let (dest, redirected_from) = match route::route(&snap, &css, &presented.number, &called) {
            Ok(d) => d,
            Err(r) => {
                release_inbound(self);
                let span = source_trunk.as_ref().map(|t| t.name.as_str());
                let who = Attempt {
                    calling: &presented.number,
                    called: &called,
                    span,
                    device: &orig_device,
                };
                return self.refuse_attempt(now, txn, &invite, &r, &who);
            }
        };

        let mut targets = Vec::new();
        let mut fork = false;
        let mut dest_device = String::new();
        let final_called;
        match &dest {
            Destination::RemoteDestinations {
                device,
                line,
                targets: rds,
                fork: f,
            } => {
                fork = *f;
                dest_device = device.clone();
                final_called = line.dn.clone();
                for t in rds {
                    targets.push(LegTarget {
                        user: t.dialed.clone(),
                        trunks: t.trunks.clone(),
                        contact: None,
                        rd: Some(t.rd.clone()),
                        rd_number: Some(t.number.clone()),
                        delay: t.delay_before_ringing,
                        answer_too_soon: if *f {
                            t.answer_too_soon
                        } else {
                            Duration::ZERO
                        },
                        answer_too_late: Some(t.answer_too_late),
                    });
                }
            }
            Destination::Phone { device, line } => {
                dest_device = device.clone();
                final_called = line.dn.clone();
                for b in self.registrar.bindings(device, now) {
                    targets.push(LegTarget {
                        user: b.contact.user().unwrap_or(&line.dn).to_owned(),
                        trunks: Vec::new(),
                        contact: Some((b.contact.clone(), b.peer)),
                        rd: None,
                        rd_number: None,
                        delay: Duration::ZERO,
                        answer_too_soon: Duration::ZERO,
                        answer_too_late: None,
                    });
                }
                if targets.is_empty() {
                    release_inbound(self);
                    let r = Refusal::new(
                        480,
                        "Temporarily Unavailable",
                        20,
                        format!("{device} is not registered"),
                    );
                    let span = source_trunk.as_ref().map(|t| t.name.as_str());
                    let who = Attempt {
                        calling: &presented.number,
                        called: &called,
                        span,
                        device: &orig_device,
                    };
                    return self.refuse_attempt(now, txn, &invite, &r, &who);
                }
                fork = targets.len() > 1;
            }
            Destination::Trunk { called: c, trunks } => {
                final_called = c.clone();
                targets.push(LegTarget {
                    user: c.clone(),
                    trunks: trunks.clone(),
                    contact: None,
                    rd: None,
                    rd_number: None,
                    delay: Duration::ZERO,
                    answer_too_soon: Duration::ZERO,
                    answer_too_late: None,
                });
            }
        }

        let id = self.next_call;
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
            last_redirect_dn: redirected_from.unwrap_or_default(),
            orig_device_name: orig_device,
            dest_device_name: dest_device,
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
        let call = Call {
            id,
            a: ALeg {
                txn,
                invite,
                from,
                tag,
                session: None,
                final_sent: false,
                trunk: source_trunk.map(|t| t.name),
                relayed_18x: Vec::new(),
            },
            b: targets
                .into_iter()
                .map(|target| BLeg {
                    target,
                    state: LegState::Waiting,
                    peer: None,
                    txn: None,
                    set: None,
                    trunk: None,
                    started_at: None,
                    cause: None,
                    no_answer: false,
                })
                .collect(),
            state: CallState::Proceeding,
            winner: None,
            fork,
            started: now,
            answered_at: None,
            presented_calling: presented.number,
            presented_display: presented.display,
            cdr,
        };
        let delays: Vec<Duration> = call.b.iter().map(|l| l.target.delay).collect();
        self.by_txn.insert(txn, (id, Side::A));
        self.calls.insert(id, call);
        self.out
            .push_back(Output::Event(CallEvent::Offered { call: id }));
        // 100 Trying at once: the B side may take a while.
        if let Some(c) = self.calls.get(&id) {
            let trying = Message::response_to(&c.a.invite, 100, "Trying", None);
            self.respond(now, txn, trying);
        }
        for (i, d) in delays.into_iter().enumerate() {
            if d.is_zero() {
                self.start_leg(now, id, i);
            } else {
                self.timers
                    .arm(now + d, TimerKind::StartLeg { call: id, leg: i });
            }
        }
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

    /// Sends the INVITE of B leg `leg`: seizes a trunk channel and builds the request.
    fn start_leg(&mut self, now: Instant, call: u64, leg: usize) {
        let snap = self.snap.clone();
        let adv = self.cfg.advertised;
        let domain = self.cfg.domain.clone();
        let call_id = self.unique("b");
        let from_tag = self.unique("f");
        let rng = self.rng();
        let contact = self.contact.to_string();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        if l.state != LegState::Waiting || c.state != CallState::Proceeding {
            return;
        }
        // Where to: a registered contact, or the first trunk with a free channel.
        let (uri, peer, trunk) = if let Some((uri, peer)) = &l.target.contact {
            (uri.clone(), *peer, None)
        } else {
            let mut chosen = None;
            let mut full = false;
            for name in &l.target.trunks {
                let Some(t) = snap.data().trunks.get(name) else {
                    continue;
                };
                let Some((ip, port)) = channels::peer_addr(t) else {
                    continue;
                };
                if !self.channels.seize(t) {
                    full = true;
                    continue;
                }
                let port = port.unwrap_or(5060);
                chosen = Some((
                    Uri::sip(Some(&l.target.user), &ip.to_string(), Some(port)),
                    Peer::new(Transport::Udp, std::net::SocketAddr::new(ip, port)),
                    Some(name.clone()),
                ));
                break;
            }
            match chosen {
                Some(x) => x,
                None => {
                    l.state = LegState::Failed(503);
                    l.cause = Some(if full { 34 } else { 38 });
                    self.check_all_failed(now, call);
                    return;
                }
            }
        };
        let mf =
            c.a.invite
                .max_forwards()
                .ok()
                .flatten()
                .unwrap_or(70)
                .saturating_sub(1);
        let mut inv = Message::new_request(Method::Invite, uri.clone());
        let display = c
            .presented_display
            .as_deref()
            .map(|d| format!("\"{}\" ", d.replace('"', "")))
            .unwrap_or_default();
        let from = format!(
            "{display}<sip:{}@{domain}>;tag={from_tag}",
            c.presented_calling
        );
        let to = format!(
            "<{}>",
            Uri::sip(Some(&l.target.user), uri.host().unwrap_or(&domain), None)
        );
        let via = format!(
            "SIP/2.0/{} {}:{};rport",
            transport_token(peer.transport),
            adv.addr.ip(),
            adv.addr.port()
        );
        let ok = inv.push_header(HeaderName::Via, &via).is_ok()
            && inv
                .push_header(HeaderName::MaxForwards, &mf.to_string())
                .is_ok()
            && inv.push_header(HeaderName::From, &from).is_ok()
            && inv.push_header(HeaderName::To, &to).is_ok()
            && inv.push_header(HeaderName::CallId, &call_id).is_ok()
            && inv.push_header(HeaderName::CSeq, "1 INVITE").is_ok()
            && inv.push_header(HeaderName::Contact, &contact).is_ok()
            && inv
                .push_header(
                    HeaderName::Allow,
                    "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE",
                )
                .is_ok();
        let body = c.a.invite.body().clone();
        let ct =
            c.a.invite
                .header_value(&HeaderName::ContentType)
                .map(str::to_owned);
        let ok = ok && (body.is_empty() || inv.set_body(ct.as_deref(), body).is_ok());
        if !ok {
            l.state = LegState::Failed(500);
            if let Some(t) = trunk {
                self.channels.release(&t);
            }
            self.check_all_failed(now, call);
            return;
        }
        match self.txn.start_client(now, inv.clone(), peer) {
            Ok(t) => {
                let sent = self.txn.request(t).cloned().unwrap_or(inv);
                l.set = Some(DialogSet::new(sent, self.cfg.sessions.clone(), rng));
                l.txn = Some(t);
                l.peer = Some(peer);
                l.trunk = trunk;
                l.state = LegState::Calling;
                l.started_at = Some(now);
                self.stats.outbound_attempts += 1;
                self.out.push_back(Output::Event(CallEvent::LegStarted {
                    call,
                    trunk: l.trunk.clone(),
                }));
                if let Some(late) = l.target.answer_too_late {
                    self.timers
                        .arm(now + late, TimerKind::AnswerTooLate { call, leg });
                }
                self.by_txn.insert(t, (call, Side::B(leg)));
            }
            Err(_) => {
                l.state = LegState::Failed(500);
                if let Some(t) = trunk {
                    self.channels.release(&t);
                }
                self.check_all_failed(now, call);
            }
        }
        self.drain(now);
    }

    // ---- responses on B legs -------------------------------------------------------------

    fn on_response(&mut self, now: Instant, txn: TxnId, resp: Message) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        let Side::B(leg) = side else { return };
        let Some(code) = resp.status() else { return };
        let inbound = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            let Some(l) = c.b.get_mut(leg) else { return };
            let Some(set) = l.set.as_mut() else { return };
            let r = set.handle_response(now, &resp);
            if let Some(s) = set.sessions().last() {
                let id = s.id().clone();
                self.by_dialog.entry(id).or_insert((call, Side::B(leg)));
            }
            r
        };
        self.pump(now, call);
        if !matches!(inbound, Ok(Inbound::Deliver)) {
            return;
        }
        match code {
            100 => {}
            101..=199 => self.b_provisional(now, call, leg, &resp),
            200..=299 => self.b_answered(now, call, leg, &resp),
            _ => {
                let cause = reason_cause(&resp);
                self.b_failed(now, call, leg, code, cause);
            }
        }
    }

    fn on_stray_response(&mut self, now: Instant, resp: Message) {
        // A 2xx retransmission after the INVITE transaction ended: the dialog re-ACKs it.
        let Some(id) = DialogId::of_received(&resp) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&call) {
            if let Side::B(leg) = side {
                if let Some(set) = c.b.get_mut(leg).and_then(|l| l.set.as_mut()) {
                    let _ = set.handle_response(now, &resp);
                }
            }
        }
        self.pump(now, call);
    }

    fn on_client_failure(&mut self, now: Instant, txn: TxnId, code: u16) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        match side {
            Side::B(leg) => {
                let live = self
                    .calls
                    .get(&call)
                    .and_then(|c| c.b.get(leg))
                    .is_some_and(|l| l.state.is_live() || l.state == LegState::Dropping);
                if live {
                    self.b_failed(now, call, leg, code, None);
                }
            }
            Side::A => self.end_call(now, call, Some(Side::A), 41),
        }
    }

    /// Makes sure A has a dialog (created with the first provisional or answer relayed).
    fn ensure_a_session(&mut self, call: u64) {
        let rng = self.rng();
        let cfg = self.cfg.sessions.clone();
        let contact = self.contact.clone();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.a.session.is_some() {
            return;
        }
        if let Ok(s) = Session::uas(cfg, &c.a.invite, &c.a.tag, contact, rng) {
            self.by_dialog.insert(s.id().clone(), (call, Side::A));
            c.a.session = Some(s);
        }
    }

    fn b_provisional(&mut self, now: Instant, call: u64, leg: usize, resp: &Message) {
        let code = resp.status().unwrap_or(180);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(l) = c.b.get_mut(leg) {
            if l.state == LegState::Calling {
                l.state = LegState::Early;
            }
        }
        if c.state != CallState::Proceeding || c.a.final_sent {
            return;
        }
        // Relay each provisional code once; with several legs ringing, relay 180 without media.
        let relay_code = if c.fork { 180 } else { code };
        if c.a.relayed_18x.contains(&relay_code) && resp.body().is_empty() {
            return;
        }
        c.a.relayed_18x.push(relay_code);
        let body = (!c.fork && !resp.body().is_empty()).then(|| {
            (
                resp.header_value(&HeaderName::ContentType)
                    .map(str::to_owned),
                resp.body().clone(),
            )
        });
        self.out
            .push_back(Output::Event(CallEvent::Alerting { call }));
        self.ensure_a_session(call);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let invite = c.a.invite.clone();
        if let Some(s) = c.a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&invite, relay_code) {
                if let Some((ct, b)) = body {
                    let _ = r.set_body(ct.as_deref(), b);
                }
                let _ = s.send_response(now, r);
            }
        }
        self.pump(now, call);
    }

    fn b_answered(&mut self, now: Instant, call: u64, leg: usize, resp: &Message) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        let elapsed = l
            .started_at
            .map(|t| now.saturating_duration_since(t))
            .unwrap_or_default();
        let too_soon = c.fork && elapsed < l.target.answer_too_soon;
        if c.state != CallState::Proceeding || too_soon || !l.state.is_live() {
            // Another leg won, the call ended, or this answer came too soon to be a person
            // (a voicemail): hang this leg up and keep ringing the others.
            l.state = if too_soon {
                LegState::Failed(480)
            } else {
                LegState::Dropping
            };
            if let Some(s) = l.set.as_mut().and_then(|s| s.accepted_mut()) {
                let _ = s.bye(now);
            }
            if let Some(t) = l.trunk.take() {
                self.channels.release(&t);
            }
            self.pump(now, call);
            self.check_all_failed(now, call);
            return;
        }
        l.state = LegState::Answered;
        c.state = CallState::Answered;
        c.winner = Some(leg);
        c.answered_at = Some(now);
        c.cdr.date_time_connect = 0; // set below with the epoch conversion
        c.cdr.dest_span = l.trunk.clone().unwrap_or_default();
        c.cdr.final_mobile_called_party_number = l.target.rd_number.clone().unwrap_or_default();
        c.cdr.dest_leg_identifier = l
            .set
            .as_ref()
            .and_then(|s| s.invite().call_id().map(str::to_owned))
            .unwrap_or_default();
        let setup = now.saturating_duration_since(c.started);
        // The other legs lose: CANCEL the ringing ones (their 487 closes them).
        let losers: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .filter(|(i, o)| *i != leg && o.state.is_live())
                .map(|(i, o)| (i, o.txn, o.state))
                .collect();
        let ct = resp
            .header_value(&HeaderName::ContentType)
            .map(str::to_owned);
        let body = resp.body().clone();
        let connect = self.epoch(now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.cdr.date_time_connect = connect;
        }
        for (i, txn, state) in losers {
            self.drop_leg(now, call, i, txn, state);
        }
        self.stats.answered += 1;
        self.out
            .push_back(Output::Event(CallEvent::Answered { call, setup }));
        self.ensure_a_session(call);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let invite = c.a.invite.clone();
        if let Some(s) = c.a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&invite, 200) {
                if !body.is_empty() {
                    let _ = r.set_body(ct.as_deref(), body);
                }
                let _ = s.send_response(now, r);
                c.a.final_sent = true;
            }
        }
        self.pump(now, call);
    }

    /// Stops a leg that lost or timed out: CANCEL if it is ringing, forget it if not started.
    fn drop_leg(
        &mut self,
        now: Instant,
        call: u64,
        leg: usize,
        txn: Option<TxnId>,
        state: LegState,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        match state {
            LegState::Waiting => l.state = LegState::Failed(487),
            LegState::Calling | LegState::Early => {
                l.state = LegState::Dropping;
                if let Some(t) = txn {
                    // A leg that lost to another answer says so (RFC 3326), so the far end's
                    // phone shows no missed call.
                    let reason = (c.state == CallState::Answered)
                        .then_some("SIP;cause=200;text=\"Call completed elsewhere\"");
                    let _ = self.txn.cancel_with_reason(now, t, reason);
                }
            }
            _ => {}
        }
        self.drain(now);
    }

    fn b_failed(&mut self, now: Instant, call: u64, leg: usize, code: u16, cause: Option<u8>) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        let was_winner = c.winner == Some(leg);
        let (code, cause) = if l.no_answer && code == 487 {
            (480, Some(19)) // Q.850 19: no answer from user (user alerted)
        } else {
            (code, cause)
        };
        l.state = LegState::Failed(code);
        l.cause = cause;
        if let Some(t) = l.trunk.take() {
            self.channels.release(&t);
        }
        if was_winner {
            // The answered leg's INVITE transaction failed after the answer (rare): end it.
            self.end_call(
                now,
                call,
                Some(Side::B(leg)),
                cause.unwrap_or_else(|| sip_to_q850(code)),
            );
            return;
        }
        self.check_all_failed(now, call);
    }

    /// When no leg can answer any more, the caller gets the failure.
    fn check_all_failed(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        if c.state != CallState::Proceeding || c.b.iter().any(|l| l.state.is_live()) {
            return;
        }
        if c.b.iter().any(|l| l.state == LegState::Dropping) && !c.a.final_sent {
            // Legs being cancelled for timing reasons: their 487 comes next.
            if c.b
                .iter()
                .any(|l| l.state == LegState::Dropping && l.txn.is_some())
            {
                return;
            }
        }
        let failures: Vec<(u16, Option<u8>)> =
            c.b.iter()
                .filter_map(|l| match l.state {
                    LegState::Failed(code) => Some((code, l.cause)),
                    _ => None,
                })
                .collect();
        let (status, cause) = pick_failure(&failures, c.fork);
        let reason = Message::default_reason(status);
        let q850 = cause.unwrap_or_else(|| sip_to_q850(status));
        let a_txn = c.a.txn;
        let final_sent = c.a.final_sent;
        let invite = c.a.invite.clone();
        let tag = c.a.tag.clone();
        if !final_sent {
            let mut r = Message::response_to(&invite, status, reason, Some(&tag));
            let _ = r.push_header(HeaderName::Reason, &format!("Q.850;cause={q850}"));
            self.respond(now, a_txn, r);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.a.final_sent = true;
            c.cdr.dest_cause_value = q850;
        }
        self.finish(now, call, q850);
    }

    fn answer_too_late(&mut self, now: Instant, call: u64, leg: usize) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(l) = c.b.get(leg) else { return };
        if c.state != CallState::Proceeding
            || !matches!(l.state, LegState::Calling | LegState::Early)
        {
            return;
        }
        let txn = l.txn;
        let state = l.state;
        if let Some(l) = self.calls.get_mut(&call).and_then(|c| c.b.get_mut(leg)) {
            l.no_answer = true;
        }
        self.drop_leg(now, call, leg, txn, state);
    }

    // ---- in-dialog -----------------------------------------------------------------------

    fn in_dialog_request(&mut self, now: Instant, txn: TxnId, req: Message, method: Method) {
        let Some(id) = DialogId::of_received(&req) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            if method != Method::Ack {
                let r = Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                self.respond(now, txn, r);
            }
            return;
        };
        let handled = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            let session = match side {
                Side::A => c.a.session.as_mut(),
                Side::B(i) => {
                    c.b.get_mut(i)
                        .and_then(|l| l.set.as_mut())
                        .and_then(|s| s.session_mut(&id))
                }
            };
            let Some(s) = session else { return };
            s.handle_request(now, &req)
        };
        self.pump(now, call);
        match handled {
            Ok(Inbound::Deliver) => {}
            Ok(_) => return, // the dialog layer answered or absorbed it
            Err(_) => {
                // The dialog cannot take it (ended, out of order): answer so the peer's
                // transaction ends and ours does too.
                if method != Method::Ack {
                    let r =
                        Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                    self.respond(now, txn, r);
                }
                return;
            }
        }
        match method {
            Method::Bye => {
                self.answer_in_dialog(now, call, side, &id, &req, 200);
                let cause = reason_cause(&req).unwrap_or(16);
                self.end_call(now, call, Some(side), cause);
            }
            // Mid-call changes (re-INVITE, UPDATE, INFO) are relayed in a later issue with the
            // media engine; until then they are accepted without changing anything (200 with
            // the current SDP is what the dialog layer builds) — refuse offers honestly.
            Method::Invite | Method::Update => {
                self.answer_in_dialog(now, call, side, &id, &req, 488);
            }
            Method::Info | Method::Notify | Method::Options => {
                self.answer_in_dialog(now, call, side, &id, &req, 200);
            }
            _ => {
                self.answer_in_dialog(now, call, side, &id, &req, 501);
            }
        }
    }

    fn answer_in_dialog(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        id: &DialogId,
        req: &Message,
        code: u16,
    ) {
        if let Some(c) = self.calls.get_mut(&call) {
            let session = match side {
                Side::A => c.a.session.as_mut(),
                Side::B(i) => {
                    c.b.get_mut(i)
                        .and_then(|l| l.set.as_mut())
                        .and_then(|s| s.session_mut(id))
                }
            };
            if let Some(s) = session {
                if let Ok(r) = s.create_response(req, code) {
                    let _ = s.send_response(now, r);
                }
            }
        }
        self.pump(now, call);
    }

    fn on_ack(&mut self, now: Instant, ack: Message) {
        let Some(id) = DialogId::of_received(&ack) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&call) {
            let session = match side {
                Side::A => c.a.session.as_mut(),
                Side::B(i) => {
                    c.b.get_mut(i)
                        .and_then(|l| l.set.as_mut())
                        .and_then(|s| s.session_mut(&id))
                }
            };
            if let Some(s) = session {
                let _ = s.handle_request(now, &ack);
            }
        }
        self.pump(now, call);
    }

    fn on_cancel(&mut self, now: Instant, invite_txn: TxnId) {
        let Some(&(call, Side::A)) = self.by_txn.get(&invite_txn) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.a.final_sent {
            return;
        }
        c.a.final_sent = true;
        let mut r = Message::response_to(&c.a.invite, 487, "Request Terminated", Some(&c.a.tag));
        let _ = r.push_header(HeaderName::Reason, "Q.850;cause=16");
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        self.respond(now, invite_txn, r);
        for (i, txn, state) in legs {
            self.drop_leg(now, call, i, txn, state);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.cdr.orig_cause_value = 16;
        }
        self.finish(now, call, 16);
    }

    fn a_txn_ended(&mut self, now: Instant, call: u64) {
        // The INVITE server transaction is gone; a call still waiting for A's ACK never gets it.
        let waiting = self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == CallState::Proceeding && c.a.final_sent);
        if waiting {
            self.finish(now, call, 16);
        }
    }

    /// One side hung up (or failed after the answer): BYE the other side and finish.
    fn end_call(&mut self, now: Instant, call: u64, by: Option<Side>, cause: u8) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state == CallState::Ended {
            return;
        }
        match by {
            Some(Side::A) => c.cdr.orig_cause_value = cause,
            _ => c.cdr.dest_cause_value = cause,
        }
        if by != Some(Side::A) {
            if let Some(s) = c.a.session.as_mut() {
                if !s.is_terminated() {
                    let _ = s.bye(now);
                }
            }
        }
        if let Some(w) = c.winner {
            if by != Some(Side::B(w)) {
                if let Some(s) =
                    c.b.get_mut(w)
                        .and_then(|l| l.set.as_mut())
                        .and_then(|s| s.accepted_mut())
                {
                    if !s.is_terminated() {
                        let _ = s.bye(now);
                    }
                }
            }
        }
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        self.pump(now, call);
        for (i, txn, state) in legs {
            self.drop_leg(now, call, i, txn, state);
        }
        self.finish(now, call, cause);
    }

    /// The call is over for good: release channels, write the CDR, forget it.
    fn finish(&mut self, now: Instant, call: u64, cause: u8) {
        self.pump(now, call);
        let Some(mut c) = self.calls.remove(&call) else {
            return;
        };
        c.state = CallState::Ended;
        if let Some(t) = c.a.trunk.take() {
            self.channels.release(&t);
        }
        for l in &mut c.b {
            if let Some(t) = l.trunk.take() {
                self.channels.release(&t);
            }
        }
        let answered = c.answered_at.is_some();
        if answered {
            self.stats.completed += 1;
        } else if c.cdr.orig_cause_value == 16 {
            self.stats.abandoned += 1;
        } else {
            self.stats.failed += 1;
        }
        c.cdr.date_time_disconnect = self.epoch(now);
        if let Some(at) = c.answered_at {
            c.cdr.duration = now.saturating_duration_since(at).as_secs();
        }
        if c.cdr.orig_cause_value == 0 && c.cdr.dest_cause_value == 0 {
            c.cdr.dest_cause_value = cause;
        }
        // Forget the call's dialogs and transactions; in-flight BYEs/CANCELs finish in the
        // transaction layer on their own and their responses are ignored.
        self.by_dialog.retain(|_, v| v.0 != call);
        self.by_txn.retain(|_, v| v.0 != call);
        self.out
            .push_back(Output::Event(CallEvent::Released { call, answered }));
        self.out.push_back(Output::Cdr(Box::new(c.cdr)));
    }

    // ---- dialog plumbing -----------------------------------------------------------------

    /// Moves every output of the call's dialogs to the transaction layer or the transport,
    /// and arms the call's next dialog timer.
    fn pump(&mut self, now: Instant, call: u64) {
        let adv = self.cfg.advertised;
        let mut sends: Vec<(Side, DialogOut)> = Vec::new();
        let mut next: Option<Instant> = None;
        let (a_peer, b_peers): (Peer, Vec<Option<Peer>>) = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            if let Some(s) = c.a.session.as_mut() {
                while let Some(o) = s.poll_output() {
                    sends.push((Side::A, o));
                }
                next = min_opt(next, s.poll_timeout());
            }
            for (i, l) in c.b.iter_mut().enumerate() {
                if let Some(set) = l.set.as_mut() {
                    while let Some(o) = set.poll_output() {
                        sends.push((Side::B(i), o));
                    }
                    next = min_opt(next, set.poll_timeout());
                }
            }
            (c.a.from, c.b.iter().map(|l| l.peer).collect())
        };
        for (side, o) in sends {
            let peer = match side {
                Side::A => Some(a_peer),
                Side::B(i) => b_peers.get(i).copied().flatten(),
            };
            let Some(peer) = peer else { continue };
            match o {
                DialogOut::Response(r) => {
                    let txn = key_of(&r).and_then(|k| self.server_txns.get(&k).copied());
                    let a_invite = match side {
                        Side::A => self.calls.get(&call).map(|c| c.a.txn),
                        Side::B(_) => None,
                    };
                    let is_invite = r.cseq().is_some_and(|c| c.method == Method::Invite);
                    let target = if is_invite { a_invite.or(txn) } else { txn };
                    if let Some(t) = target {
                        self.respond(now, t, r);
                    }
                }
                DialogOut::Request(mut req) => {
                    let via = format!(
                        "SIP/2.0/{} {}:{};rport",
                        transport_token(peer.transport),
                        adv.addr.ip(),
                        adv.addr.port()
                    );
                    if req.prepend_header(HeaderName::Via, &via).is_ok() {
                        if let Ok(t) = self.txn.start_client(now, req, peer) {
                            self.by_txn.insert(t, (call, side));
                        }
                    }
                }
                DialogOut::Ack(mut ack) => {
                    let branch = self.txn.new_branch();
                    let via = format!(
                        "SIP/2.0/{} {}:{};branch={branch};rport",
                        transport_token(peer.transport),
                        adv.addr.ip(),
                        adv.addr.port()
                    );
                    if ack.prepend_header(HeaderName::Via, &via).is_ok() {
                        self.out.push_back(Output::Transmit {
                            to: peer,
                            message: ack,
                        });
                    }
                }
                DialogOut::Event(ev) => {
                    use tether_sip::dialog::Event;
                    match ev {
                        Event::AckTimeout { .. } | Event::SessionExpired => {
                            self.end_call(now, call, Some(side), 102);
                            return;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        self.drain(now);
        if let Some(at) = next {
            self.timers.arm(at, TimerKind::Dialogs { call });
        }
    }

    fn dialog_timers(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(s) = c.a.session.as_mut() {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                let _ = s.handle_timeout(now);
            }
        }
        for l in &mut c.b {
            if let Some(set) = l.set.as_mut() {
                if set.poll_timeout().is_some_and(|t| t <= now) {
                    let _ = set.handle_timeout(now);
                }
            }
        }
        self.pump(now, call);
    }
}

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The failure the caller hears when no leg answered (RFC 3261 §16.7 in spirit): a 6xx wins;
/// one leg's own status is passed on; several legs give busy if any was busy, else 480.
fn pick_failure(failures: &[(u16, Option<u8>)], fork: bool) -> (u16, Option<u8>) {
    if let Some(f) = failures.iter().find(|(c, _)| *c >= 600) {
        return *f;
    }
    if !fork {
        if let Some(&(code, cause)) = failures.iter().find(|(c, _)| *c != 487) {
            return (normalize(code), cause);
        }
        return failures
            .first()
            .map(|&(c, x)| (normalize(c), x))
            .unwrap_or((480, None));
    }
    if let Some(f) = failures.iter().find(|(c, _)| *c == 486) {
        return *f;
    }
    (480, Some(18))
}

/// Statuses a caller should not see from a B2BUA are mapped to what they mean to it.
fn normalize(code: u16) -> u16 {
    match code {
        401 | 407 => 403,
        408 => 480,
        _ => code,
    }
}
