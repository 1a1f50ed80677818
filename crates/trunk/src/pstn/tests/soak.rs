//! Many seeded random calls between a caller built on the SIP crate (its transaction layer and
//! a `DialogSet` per call) and the simulator, over a network that delays, reorders and (in one
//! run) drops messages, in virtual time. Callers cancel, hang up, race the far end's hangup
//! and the answer. At the end every call has its final response, the counts agree, and
//! neither side holds anything.

use super::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use tether_sip::dialog::{
    DialogSet, Inbound, Output as DialogOut, SeededRandom, SessionConfig, SessionTimerConfig,
};
use tether_sip::transaction::{Config, Output, TransactionLayer, TuEvent, TxnId};

struct Rng(SeededRandom);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        ms(lo + self.below(hi - lo + 1))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// A datagram arrives (true: at the simulator).
    Deliver(bool, Vec<u8>),
    Start(usize),
    Cancel(usize),
    Bye(usize),
    FarHangup(usize),
}

struct Call {
    set: DialogSet,
    invite_txn: Option<TxnId>,
    outcome: Option<u16>,
    cancelled: bool,
    bye_after: Duration,
}

struct Soak {
    rng: Rng,
    loss: u64,
    now: Instant,
    t0: Instant,
    seq: u64,
    events: BinaryHeap<Reverse<(Instant, u64, Ev)>>,
    sim: PstnSimulator,
    uac: TransactionLayer,
    /// By index, as they start (in random order).
    calls: BTreeMap<usize, Call>,
    /// Calls whose dialog set may still have something to say (the rest are not scanned).
    live: std::collections::BTreeSet<usize>,
    by_call_id: HashMap<String, usize>,
    invite_txns: HashMap<TxnId, usize>,
    dropped: u64,
    /// The most calls the simulator held at once.
    peak: usize,
}

fn uac_cfg() -> SessionConfig {
    SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: None,
            ..SessionTimerConfig::default()
        },
        ..SessionConfig::default()
    }
}

const NUMBERS: [&str; 10] = ["01", "02", "03", "04", "05", "06", "07", "09", "08", "55"];

impl Soak {
    fn new(seed: u64, calls: usize, loss: u64) -> Soak {
        let t0 = Instant::now();
        let cfg = PstnConfig {
            // Under loss a caller may give up before its CANCEL can leave (no 180 ever came
            // back): the network's own timer ends such calls.
            no_answer_ms: (loss > 0).then_some(180_000),
            ..PstnConfig::default()
        };
        let mut s = Soak {
            rng: Rng(SeededRandom::new(seed)),
            loss,
            now: t0,
            t0,
            seq: 0,
            events: BinaryHeap::new(),
            sim: PstnSimulator::new(cfg, local(), seed ^ 1).unwrap(),
            uac: TransactionLayer::new(Config::default(), seed ^ 2),
            calls: BTreeMap::new(),
            live: Default::default(),
            by_call_id: HashMap::new(),
            invite_txns: HashMap::new(),
            dropped: 0,
            peak: 0,
        };
        for i in 0..calls {
            let at = t0 + s.rng.millis(0, 600_000);
            s.at(at, Ev::Start(i));
        }
        s
    }

    fn at(&mut self, t: Instant, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((t, self.seq, ev)));
    }

    /// Puts a message on the wire: delayed 5..60 ms (so reordered), maybe lost.
    fn wire(&mut self, to_sim: bool, m: &Message) {
        if self.rng.chance(self.loss) {
            self.dropped += 1;
            return;
        }
        let t = self.now + self.rng.millis(5, 60);
        self.at(t, Ev::Deliver(to_sim, m.to_bytes().to_vec()));
    }

    fn next_instant(&self) -> Option<Instant> {
        let calls = self
            .live
            .iter()
            .filter_map(|i| self.calls.get(i)?.set.poll_timeout())
            .min();
        [
            self.events.peek().map(|Reverse((t, _, _))| *t),
            self.sim.poll_timeout(),
            self.uac.poll_timeout(),
            calls,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn run(&mut self) {
        while let Some(t) = self.next_instant() {
            assert!(t >= self.now, "time went back");
            self.now = t;
            while let Some(Reverse((at, _, _))) = self.events.peek() {
                if *at > t {
                    break;
                }
                let Some(Reverse((_, _, ev))) = self.events.pop() else {
                    break;
                };
                self.on(ev);
                self.pump();
            }
            if self.sim.poll_timeout().is_some_and(|d| d <= t) {
                self.sim.handle_timeout(t);
            }
            if self.uac.poll_timeout().is_some_and(|d| d <= t) {
                self.uac.handle_timeout(t);
            }
            for i in &self.live {
                let Some(c) = self.calls.get_mut(i) else {
                    continue;
                };
                if c.set.poll_timeout().is_some_and(|d| d <= t) {
                    let _ = c.set.handle_timeout(t);
                }
            }
            self.pump();
        }
    }

    fn on(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Deliver(true, bytes) => {
                let m = Message::parse(bytes).unwrap();
                self.sim.handle_message(now, m, caller()).unwrap();
            }
            Ev::Deliver(false, bytes) => {
                let m = Message::parse(bytes).unwrap();
                self.uac.handle_message(now, m, local()).unwrap();
            }
            Ev::Start(i) => self.start(i),
            Ev::Cancel(i) => {
                let Some(c) = self.calls.get_mut(&i) else {
                    return;
                };
                if c.outcome.is_none() {
                    c.cancelled = true;
                    if let Some(txn) = c.invite_txn {
                        // Not cancellable any more: the final response is on its way.
                        let _ = self.uac.cancel(now, txn);
                    }
                }
            }
            Ev::Bye(i) => {
                self.live.insert(i);
                if let Some(s) = self.calls.get_mut(&i).and_then(|c| c.set.accepted_mut()) {
                    if !s.is_terminated() {
                        s.bye(now).unwrap();
                    }
                }
            }
            Ev::FarHangup(i) => {
                let id = format!("soak-{i}");
                if let Some(call) = self.sim.find_call(&id) {
                    self.sim.hangup(now, call).unwrap();
                }
            }
        }
    }

    fn start(&mut self, i: usize) {
        let prefix = NUMBERS[self.rng.below(NUMBERS.len() as u64) as usize];
        let number = format!("+1408555{prefix}{:02}", self.rng.below(100));
        let call_id = format!("soak-{i}");
        let sdp = self.rng.chance(80).then_some(OFFER);
        let mut inv = invite(&format!("sip:{number}@198.51.100.7"), &call_id, sdp);
        // Our own branch, so that the DialogSet knows the INVITE exactly as sent.
        let branch = self.uac.new_branch();
        inv.set_header(
            HeaderName::Via,
            &format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
        )
        .unwrap();
        let set = DialogSet::new(
            inv.clone(),
            uac_cfg(),
            Box::new(SeededRandom::new(self.rng.0.next_u64())),
        );
        let txn = self.uac.start_client(self.now, inv, local()).unwrap();
        self.invite_txns.insert(txn, i);
        self.by_call_id.insert(call_id, i);
        let bye_after = self.rng.millis(200, 30_000);
        let call = Call {
            set,
            invite_txn: Some(txn),
            outcome: None,
            cancelled: false,
            bye_after,
        };
        assert!(self.calls.insert(i, call).is_none());
        self.live.insert(i);
        let now = self.now;
        // The caller gives up on ringing-forever numbers, and sometimes on others (racing
        // their answer).
        if prefix == "04" || self.rng.chance(15) {
            let t = now + self.rng.millis(100, 8000);
            self.at(t, Ev::Cancel(i));
        }
        // Sometimes the far end hangs up first (before or after answer).
        if self.rng.chance(35) {
            let t = now + self.rng.millis(300, 25_000);
            self.at(t, Ev::FarHangup(i));
        }
    }

    /// Moves everything both sides want to send onto the wire and feeds the caller's TU.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.sim.poll_output() {
                busy = true;
                assert_eq!(t.to, caller());
                self.wire(false, &t.message);
            }
            while let Some(o) = self.uac.poll_output() {
                busy = true;
                match o {
                    Output::Transmit { message, .. } => self.wire(true, &message),
                    Output::Event(e) => self.on_uac_event(e),
                }
            }
            let mut outs: Vec<DialogOut> = Vec::new();
            let mut done = Vec::new();
            for i in &self.live {
                let Some(c) = self.calls.get_mut(i) else {
                    continue;
                };
                outs.extend(std::iter::from_fn(|| c.set.poll_output()));
                let over = c.set.accepted().is_none_or(|s| s.is_terminated());
                if c.outcome.is_some() && over && c.set.poll_timeout().is_none() {
                    done.push(*i);
                }
            }
            for i in done {
                self.live.remove(&i);
            }
            for o in outs {
                busy = true;
                self.on_dialog_output(o);
            }
            if !busy {
                break;
            }
            self.peak = self.peak.max(self.sim.footprint().calls);
        }
    }

    fn on_dialog_output(&mut self, o: DialogOut) {
        match o {
            DialogOut::Request(mut r) => {
                r.prepend_header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.10:5060")
                    .unwrap();
                self.uac.start_client(self.now, r, local()).unwrap();
            }
            DialogOut::Ack(mut a) => {
                let branch = self.uac.new_branch();
                a.prepend_header(
                    HeaderName::Via,
                    &format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
                )
                .unwrap();
                self.wire(true, &a);
            }
            DialogOut::Response(_) => unreachable!("responses are routed where they are made"),
            _ => {}
        }
    }

    /// The call a message belongs to; it is scanned again from now on.
    fn call_of(&mut self, m: &Message) -> Option<usize> {
        let i = self.by_call_id.get(m.call_id()?).copied()?;
        self.live.insert(i);
        Some(i)
    }

    fn on_uac_event(&mut self, e: TuEvent) {
        let now = self.now;
        match e {
            TuEvent::Response { txn, response } => {
                let Some(&i) = self.invite_txns.get(&txn) else {
                    return; // BYE and CANCEL answers
                };
                self.live.insert(i);
                self.on_invite_response(i, &response);
            }
            // A 2xx retransmission after the INVITE transaction ended: re-ACK.
            TuEvent::StrayResponse { response, .. } => {
                if let Some(c) = self.call_of(&response).and_then(|i| self.calls.get_mut(&i)) {
                    let _ = c.set.handle_response(now, &response);
                }
            }
            TuEvent::Request { txn, request, .. } => {
                assert_eq!(request.method(), Some(&Method::Bye), "{request:?}");
                let mut answered = false;
                let session = self
                    .call_of(&request)
                    .and_then(|i| self.calls.get_mut(&i))
                    .and_then(|c| c.set.accepted_mut());
                if let Some(session) = session {
                    if let Ok(Inbound::Deliver) = session.handle_request(now, &request) {
                        let r = session.create_response(&request, 200).unwrap();
                        self.uac.respond(now, txn, r).unwrap();
                        answered = true;
                    }
                    // Our own BYE crossed theirs: the dialog layer answers 481 itself.
                    while let Some(o) = session.poll_output() {
                        if let DialogOut::Response(r) = o {
                            self.uac.respond(now, txn, r).unwrap();
                            answered = true;
                        }
                    }
                }
                if !answered {
                    let r = Message::response_to(
                        &request,
                        481,
                        "Call/Transaction Does Not Exist",
                        None,
                    );
                    self.uac.respond(now, txn, r).unwrap();
                }
            }
            TuEvent::Timeout { txn, .. } | TuEvent::TransportError { txn } => {
                if let Some(c) = self
                    .invite_txns
                    .get(&txn)
                    .and_then(|i| self.calls.get_mut(i))
                {
                    c.outcome.get_or_insert(408);
                }
            }
            TuEvent::Terminated { txn } => {
                if let Some(c) = self
                    .invite_txns
                    .remove(&txn)
                    .and_then(|i| self.calls.get_mut(&i))
                {
                    c.invite_txn = None;
                }
            }
            _ => {}
        }
    }

    fn on_invite_response(&mut self, i: usize, resp: &Message) {
        let now = self.now;
        let code = resp.status().unwrap();
        let Some(c) = self.calls.get_mut(&i) else {
            return;
        };
        let _ = c.set.handle_response(now, resp);
        if code < 200 {
            return;
        }
        // Our INVITE had no offer: the 2xx carries the simulator's, the ACK our answer (refused
        // by the dialog layer for a retransmission, whose ACK it repeats itself).
        if (200..300).contains(&code) && c.set.invite().body().is_empty() {
            let offer = tether_sdp::SessionDescription::parse(resp.body().as_ref()).unwrap();
            let caps = tether_sdp::Capabilities::new("192.0.2.10:41000".parse().unwrap());
            let origin = tether_sdp::Origin::new(i as u64, "192.0.2.10".parse().unwrap());
            let answer = tether_sdp::answer_offer(&offer, &caps, origin).unwrap();
            if let Some(session) = c.set.accepted_mut() {
                let body = answer.sdp.to_bytes();
                let _ = session.send_ack(now, Some(("application/sdp", body.into())));
            }
        }
        let first = c.outcome.is_none();
        if first {
            c.outcome = Some(code);
        }
        if (200..300).contains(&code) && first {
            // Answered: hang up after a while, or at once when we had cancelled (the 200
            // crossed our CANCEL).
            let after = if c.cancelled {
                Duration::ZERO
            } else {
                c.bye_after
            };
            self.at(now + after, Ev::Bye(i));
        }
    }
}

fn soak(seed: u64, calls: usize, loss: u64) -> Soak {
    let mut s = Soak::new(seed, calls, loss);
    s.run();
    assert!(
        s.sim.is_idle(),
        "seed {seed}: the simulator holds {:?}",
        s.sim.footprint()
    );
    assert!(
        s.uac.is_empty(),
        "seed {seed}: the caller holds transactions"
    );
    assert_eq!(s.calls.len(), calls);
    assert!(s.calls.values().all(|c| c.outcome.is_some()), "seed {seed}");
    s
}

#[test]
fn a_thousand_random_calls_leave_nothing_behind() {
    let s = soak(0x7e7e_0001, 1000, 0);
    let st = s.sim.stats();
    // Every INVITE arrived once and got exactly one final response, which the caller saw.
    assert_eq!(st.offered, 1000);
    assert_eq!(st.answered + st.rejected_total(), 1000);
    let mut seen: std::collections::BTreeMap<u16, u64> = Default::default();
    for c in s.calls.values() {
        *seen.entry(c.outcome.unwrap()).or_default() += 1;
    }
    let answered = seen.get(&200).copied().unwrap_or(0);
    assert_eq!(answered, st.answered);
    for (code, n) in &st.rejected {
        assert_eq!(seen.get(code), Some(n), "status {code}");
    }
    // Every answered call was hung up by exactly one side.
    assert_eq!(st.ended_by_caller + st.ended_by_network, st.answered);
    assert_eq!((st.active, st.ack_timeouts), (0, 0));
    // The plan's outcomes all occurred.
    for code in [200, 404, 486, 487, 503, 603] {
        assert!(
            seen.get(&code).copied().unwrap_or(0) > 10,
            "{code}: {seen:?}"
        );
    }
    assert!(st.cancelled > 50);
    assert!(s.peak > 20, "calls overlapped: at most {} at once", s.peak);
    eprintln!(
        "1000 calls over {:?} of virtual time, {} at once at peak: {st:?}",
        s.now - s.t0,
        s.peak
    );
    assert!(s.now - s.t0 < Duration::from_secs(1200));
}

#[test]
fn lossy_network_still_leaves_nothing_behind() {
    for seed in [1, 2, 3] {
        let s = soak(seed, 300, 3);
        assert!(
            s.dropped > 10,
            "seed {seed}: the network dropped {}",
            s.dropped
        );
        assert_eq!(s.sim.stats().active, 0);
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = soak(99, 200, 2);
    let b = soak(99, 200, 2);
    assert_eq!(a.sim.stats(), b.sim.stats());
    assert_eq!(a.now - a.t0, b.now - b.t0);
    assert_eq!(a.dropped, b.dropped);
}
