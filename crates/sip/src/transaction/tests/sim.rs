//! A seeded simulation: thousands of client/server transaction pairs between two layers over a
//! network that drops, duplicates and reorders, in virtual time. Every transaction must end,
//! the client must see the server's final response unless every copy of it was lost (then it
//! times out), and neither layer may keep anything at the end.

use super::*;
use crate::transaction::branch::BranchGenerator;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;

struct Rng(BranchGenerator);

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Final(u16),
    Timeout,
}

#[derive(Default)]
struct Call {
    invite: bool,
    tcp: bool,
    /// Every packet from server to client is lost.
    blackhole: bool,
    request: Option<Message>,
    client_txn: Option<TxnId>,
    outcome: Option<Outcome>,
    client_terminated: bool,
    /// A final response for this call reached the client layer while its transaction lived.
    final_delivered: bool,
    server_txn: Option<TxnId>,
    server_final: Option<u16>,
    server_terminated: bool,
    acked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Start(usize),
    ServerProvisional(usize),
    ServerFinal(usize, u16),
    Retransmit2xx(usize, Duration),
    Cancel(usize),
    /// Like timer C: give up on an INVITE that got no final response.
    Guard(usize),
}

/// (delivery time, sequence, to server, transport is TCP, bytes)
type Packet = (Instant, u64, bool, bool, Vec<u8>);

struct Sim {
    rng: Rng,
    now: Instant,
    client: TransactionLayer,
    server: TransactionLayer,
    net: BinaryHeap<Reverse<Packet>>,
    actions: BinaryHeap<Reverse<(Instant, u64, Action)>>,
    seq: u64,
    calls: Vec<Call>,
    client_ids: HashMap<TxnId, usize>,
    server_ids: HashMap<TxnId, usize>,
    cancel_ids: HashMap<TxnId, usize>,
    terminated: HashMap<(bool, TxnId), u32>,
    stats: Stats,
}

#[derive(Default, Debug)]
struct Stats {
    dropped: u64,
    duplicated: u64,
    delivered: u64,
    timeouts: u64,
    finals: u64,
    cancelled_487: u64,
    acks_for_2xx: u64,
    strays: u64,
    auto_trying: u64,
}

const CLIENT_ADDR: [u8; 4] = [10, 0, 0, 1];
const SERVER_ADDR: [u8; 4] = [10, 0, 0, 2];

fn peer(ip: [u8; 4], tcp: bool) -> Peer {
    let a = SocketAddr::from((ip, 5060));
    if tcp {
        Peer::tcp(a)
    } else {
        Peer::udp(a)
    }
}

fn call_index(m: &Message) -> Option<usize> {
    m.call_id()?.strip_prefix("call")?.parse().ok()
}

impl Sim {
    fn new(seed: u64, calls: usize) -> Sim {
        let mut sim = Sim {
            rng: Rng(BranchGenerator::new(seed ^ 0x5151)),
            now: Instant::now(),
            client: TransactionLayer::new(Config::default(), seed),
            server: TransactionLayer::new(Config::default(), seed.wrapping_add(1)),
            net: BinaryHeap::new(),
            actions: BinaryHeap::new(),
            seq: 0,
            calls: Vec::new(),
            client_ids: HashMap::new(),
            server_ids: HashMap::new(),
            cancel_ids: HashMap::new(),
            terminated: HashMap::new(),
            stats: Stats::default(),
        };
        for i in 0..calls {
            let tcp = sim.rng.chance(10);
            let call = Call {
                invite: sim.rng.chance(60),
                tcp,
                blackhole: !tcp && sim.rng.chance(3),
                ..Call::default()
            };
            sim.calls.push(call);
            let at = sim.now + ms(15 * i as u64);
            sim.schedule(at, Action::Start(i));
        }
        sim
    }

    fn schedule(&mut self, at: Instant, a: Action) {
        self.seq += 1;
        self.actions.push(Reverse((at, self.seq, a)));
    }

    fn send(&mut self, to_server: bool, m: &Message) {
        let Some(i) = call_index(m) else { return };
        let (tcp, blackhole) = (self.calls[i].tcp, self.calls[i].blackhole);
        if tcp {
            // Reliable and in order: one fixed delay, FIFO by sequence.
            self.seq += 1;
            self.net.push(Reverse((
                self.now + ms(20),
                self.seq,
                to_server,
                true,
                m.to_bytes().to_vec(),
            )));
            return;
        }
        if (blackhole && !to_server) || self.rng.chance(15) {
            self.stats.dropped += 1;
            return;
        }
        let copies = if self.rng.chance(8) { 2 } else { 1 };
        self.stats.duplicated += copies - 1;
        for _ in 0..copies {
            let delay = self.rng.millis(1, 300);
            self.seq += 1;
            self.net.push(Reverse((
                self.now + delay,
                self.seq,
                to_server,
                false,
                m.to_bytes().to_vec(),
            )));
        }
    }

    fn next_time(&self) -> Option<Instant> {
        [
            self.client.poll_timeout(),
            self.server.poll_timeout(),
            self.net.peek().map(|Reverse(p)| p.0),
            self.actions.peek().map(|Reverse(a)| a.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn run(&mut self) {
        while let Some(t) = self.next_time() {
            assert!(t >= self.now, "time goes forward");
            self.now = t;
            self.client.handle_timeout(t);
            self.server.handle_timeout(t);
            self.pump();
            while self.net.peek().is_some_and(|Reverse(p)| p.0 <= t) {
                let Some(Reverse((_, _, to_server, tcp, bytes))) = self.net.pop() else {
                    break;
                };
                self.deliver(to_server, tcp, bytes);
                self.pump();
            }
            while self.actions.peek().is_some_and(|Reverse(a)| a.0 <= t) {
                let Some(Reverse((_, _, action))) = self.actions.pop() else {
                    break;
                };
                self.act(action);
                self.pump();
            }
        }
    }

    fn deliver(&mut self, to_server: bool, tcp: bool, bytes: Vec<u8>) {
        self.stats.delivered += 1;
        let m = Message::parse(bytes).expect("the layers send what parses");
        if to_server {
            let _ = self
                .server
                .handle_message(self.now, m, peer(CLIENT_ADDR, tcp));
            return;
        }
        if let (Some(i), Some(code)) = (call_index(&m), m.status()) {
            let c = &mut self.calls[i];
            let for_request = m
                .cseq()
                .map(|s| s.method != Method::Cancel)
                .unwrap_or(false);
            if code >= 200 && for_request && c.client_txn.is_some() && !c.client_terminated {
                c.final_delivered = true;
            }
        }
        let _ = self
            .client
            .handle_message(self.now, m, peer(SERVER_ADDR, tcp));
    }

    fn act(&mut self, action: Action) {
        let now = self.now;
        match action {
            Action::Start(i) => {
                let c = &self.calls[i];
                let (method, tcp) = (if c.invite { "INVITE" } else { "MESSAGE" }, c.tcp);
                let branch = self.client.new_branch();
                let req = request(method, &branch, &format!("call{i}"), 1, "");
                let id = self
                    .client
                    .start_client(now, req.clone(), peer(SERVER_ADDR, tcp))
                    .expect("start");
                self.client_ids.insert(id, i);
                let c = &mut self.calls[i];
                c.client_txn = Some(id);
                c.request = Some(req);
                if c.invite {
                    if self.rng.chance(10) {
                        let at = now + self.rng.millis(0, 2500);
                        self.schedule(at, Action::Cancel(i));
                    }
                    self.schedule(now + Duration::from_secs(40), Action::Guard(i));
                }
            }
            Action::Cancel(i) | Action::Guard(i) => {
                let c = &self.calls[i];
                let guard = matches!(action, Action::Guard(_));
                if guard && c.outcome.is_some() {
                    return;
                }
                if let Some(id) = c.client_txn.filter(|_| !c.client_terminated) {
                    if let Ok(cid) = self.client.cancel(now, id) {
                        self.cancel_ids.insert(cid, i);
                    }
                }
            }
            Action::ServerProvisional(i) => {
                let (Some(id), Some(req)) =
                    (self.calls[i].server_txn, self.calls[i].request.clone())
                else {
                    return;
                };
                let _ = self.server.respond(now, id, reply(&req, 180));
            }
            Action::ServerFinal(i, code) => {
                let c = &self.calls[i];
                if c.server_final.is_some() {
                    return;
                }
                let (Some(id), Some(req), invite) = (c.server_txn, c.request.clone(), c.invite)
                else {
                    return;
                };
                if self.server.respond(now, id, reply(&req, code)).is_ok() {
                    self.calls[i].server_final = Some(code);
                    if invite && code == 200 {
                        let t1 = self.server.config().timers.t1;
                        self.schedule(now + t1, Action::Retransmit2xx(i, t1));
                    }
                }
            }
            Action::Retransmit2xx(i, interval) => {
                let c = &self.calls[i];
                if c.acked || c.server_terminated {
                    return;
                }
                let (Some(id), Some(req)) = (c.server_txn, c.request.clone()) else {
                    return;
                };
                let _ = self.server.respond(now, id, reply(&req, 200));
                let next = self.server.config().timers.backoff_capped(interval);
                self.schedule(now + next, Action::Retransmit2xx(i, next));
            }
        }
    }

    /// Drains both layers until neither has anything to say.
    fn pump(&mut self) {
        loop {
            let mut any = false;
            while let Some(o) = self.client.poll_output() {
                any = true;
                match o {
                    Output::Transmit { to, message } => {
                        assert_eq!(to.addr, SocketAddr::from((SERVER_ADDR, 5060)));
                        self.send(true, &message);
                    }
                    Output::Event(e) => self.client_event(e),
                }
            }
            while let Some(o) = self.server.poll_output() {
                any = true;
                match o {
                    Output::Transmit { to, message } => {
                        assert_eq!(to.addr, SocketAddr::from((CLIENT_ADDR, 5060)));
                        if message.status() == Some(100) {
                            self.stats.auto_trying += 1;
                        }
                        self.send(false, &message);
                    }
                    Output::Event(e) => self.server_event(e),
                }
            }
            if !any {
                break;
            }
        }
    }

    /// The client TU: records outcomes, ACKs every 2xx (a dialog's job, done here by hand).
    fn client_event(&mut self, e: TuEvent) {
        match e {
            TuEvent::Response { txn, response } => {
                let Some(&i) = self.client_ids.get(&txn) else {
                    return;
                };
                let code = response.status().unwrap_or(0);
                let c = &mut self.calls[i];
                if code >= 200 && c.outcome.is_none() {
                    c.outcome = Some(Outcome::Final(code));
                    self.stats.finals += 1;
                    if code == 487 {
                        self.stats.cancelled_487 += 1;
                    }
                }
                if c.invite && (200..300).contains(&code) {
                    self.ack_2xx(i, &response);
                }
            }
            TuEvent::StrayResponse { response, .. } => {
                self.stats.strays += 1;
                let code = response.status().unwrap_or(0);
                let is_invite = response.cseq().is_some_and(|c| c.method == Method::Invite);
                if let (Some(i), true, true) =
                    (call_index(&response), is_invite, (200..300).contains(&code))
                {
                    self.ack_2xx(i, &response);
                }
            }
            TuEvent::Timeout { txn, .. } => {
                if let Some(&i) = self.client_ids.get(&txn) {
                    let c = &mut self.calls[i];
                    assert!(c.outcome.is_none(), "a timeout after a final response");
                    c.outcome = Some(Outcome::Timeout);
                    self.stats.timeouts += 1;
                }
            }
            TuEvent::Terminated { txn } => {
                *self.terminated.entry((false, txn)).or_default() += 1;
                if let Some(&i) = self.client_ids.get(&txn) {
                    self.calls[i].client_terminated = true;
                }
            }
            other => panic!("unexpected client event {other:?}"),
        }
    }

    fn ack_2xx(&mut self, i: usize, response: &Message) {
        let Some(req) = self.calls[i].request.clone() else {
            return;
        };
        let Ok(mut ack) = ack_for_non_2xx(&req, response) else {
            return;
        };
        let via = format!(
            "SIP/2.0/UDP client.example.com:5060;branch={}",
            self.client.new_branch()
        );
        ack.set_header(HeaderName::Via, &via).expect("via");
        self.send(true, &ack);
    }

    /// The server TU: answers each request with a provisional (sometimes) and a final after a
    /// random delay, 487 on CANCEL, retransmits its 2xx until the ACK.
    fn server_event(&mut self, e: TuEvent) {
        let now = self.now;
        match e {
            TuEvent::Request { txn, request, .. } => {
                let i = call_index(&request).expect("call id");
                assert!(
                    self.calls[i].server_txn.is_none(),
                    "one server transaction per request"
                );
                self.server_ids.insert(txn, i);
                self.calls[i].server_txn = Some(txn);
                if self.calls[i].invite {
                    if self.rng.chance(70) {
                        let at = now + self.rng.millis(0, 400);
                        self.schedule(at, Action::ServerProvisional(i));
                    }
                    let code = [200, 200, 486, 603][self.rng.below(4) as usize];
                    let at = now + self.rng.millis(0, 3000);
                    self.schedule(at, Action::ServerFinal(i, code));
                } else {
                    let code = if self.rng.chance(80) { 200 } else { 404 };
                    let at = now + self.rng.millis(0, 1000);
                    self.schedule(at, Action::ServerFinal(i, code));
                }
            }
            TuEvent::Cancelled { invite, .. } => {
                let i = self.server_ids[&invite];
                self.act(Action::ServerFinal(i, 487));
            }
            TuEvent::AckFor2xx { txn, .. } => {
                self.stats.acks_for_2xx += 1;
                let i = self.server_ids[&txn];
                self.calls[i].acked = true;
            }
            TuEvent::StrayAck { .. } | TuEvent::Timeout { .. } => {}
            TuEvent::Terminated { txn } => {
                *self.terminated.entry((true, txn)).or_default() += 1;
                if let Some(&i) = self.server_ids.get(&txn) {
                    self.calls[i].server_terminated = true;
                }
            }
            other => panic!("unexpected server event {other:?}"),
        }
    }
}

fn simulate(seed: u64, calls: usize) -> Stats {
    let mut sim = Sim::new(seed, calls);
    sim.run();
    assert!(
        sim.client.is_empty(),
        "client layer leaks {} transactions",
        sim.client.len()
    );
    assert!(
        sim.server.is_empty(),
        "server layer leaks {} transactions",
        sim.server.len()
    );
    assert_eq!(sim.client.poll_timeout(), None);
    assert_eq!(sim.server.poll_timeout(), None);
    for (i, c) in sim.calls.iter().enumerate() {
        let outcome = c
            .outcome
            .unwrap_or_else(|| panic!("seed {seed} call {i}: no outcome"));
        assert!(
            c.client_terminated,
            "seed {seed} call {i}: client transaction alive"
        );
        if c.server_txn.is_some() {
            assert!(
                c.server_terminated,
                "seed {seed} call {i}: server transaction alive"
            );
        }
        match outcome {
            Outcome::Final(code) => {
                assert!(c.final_delivered, "seed {seed} call {i}");
                assert_eq!(
                    Some(code),
                    c.server_final,
                    "seed {seed} call {i}: the server's final"
                );
            }
            Outcome::Timeout => {
                assert!(
                    !c.final_delivered,
                    "seed {seed} call {i}: final delivered yet timeout"
                );
                assert!(!c.tcp, "seed {seed} call {i}: nothing is lost over TCP");
            }
        }
        if c.blackhole {
            assert_eq!(outcome, Outcome::Timeout, "seed {seed} call {i}");
        }
    }
    for ((_, id), n) in &sim.terminated {
        assert_eq!(*n, 1, "seed {seed}: {id} terminated {n} times");
    }
    let client_ids = sim.client_ids.keys().chain(sim.cancel_ids.keys());
    for id in client_ids {
        assert_eq!(
            sim.terminated.get(&(false, *id)),
            Some(&1),
            "seed {seed}: client {id} never terminated"
        );
    }
    sim.stats
}

#[test]
fn thousands_of_transactions_over_a_lossy_network_all_end() {
    for seed in [1, 2] {
        let s = simulate(seed, 2500);
        // The run exercised what it claims to.
        assert!(s.dropped > 1000 && s.duplicated > 300, "{s:?}");
        assert!(s.timeouts > 20 && s.finals > 2000, "{s:?}");
        assert!(
            s.cancelled_487 > 5 && s.acks_for_2xx > 300 && s.auto_trying > 100,
            "{s:?}"
        );
        assert!(s.delivered > 10_000, "{s:?}");
    }
}

#[test]
fn the_simulation_replays_from_its_seed() {
    let a = simulate(7, 200);
    let b = simulate(7, 200);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}
