//! The deterministic simulation (issue 4): the engine, the PSTN simulator behind its outbound
//! trunk and a scripted caller behind its inbound trunk, joined by a network that drops,
//! duplicates and reorders datagrams, in virtual time. Thousands of seeded random calls; each
//! run is reproducible from its seed; one in ten is a CTI MakeCall (Dial Via Office reverse)
//! that a CTI client clears after a while, and half of those consult a third party (which hangs
//! up after a while) over the same RD leg, then transfer to it, conference it (and leave the
//! conference later) or clear the consultation. One call ringing at a device in five gets a
//! CTI AnswerCall, which the PSTN's phones (no `Allow-Events: talk`) cannot honour.
//! Checks: every call ends for the caller, every CTI call (MakeCall or consultation) ends for its
//! device exactly once (one CallCleared, or its part in one Transfer), nothing leaks in any node
//! (calls, legs, transactions, dialogs, channels, timers, RTP ports), one CDR per call attempt,
//! no RD number in any CTI event, and the counters of the three nodes agree. The scripted CTI
//! client lives in [`cti_client`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_sip::peer::{Peer, Transport};
use tether_sip::Message;
use tether_store::model::*;
use tether_store::provisioning::Provisioning;
use tether_store::{NumberingPlan, Snapshot};
use tether_trunk::pstn::{PstnConfig, PstnSimulator};

use super::caller::{Caller, Outcome};

mod cti_client;
use crate::media::MediaCommand;
use crate::output::Output;
use crate::{Cdr, Engine, EngineConfig};
use cti_client::CtiClient;

const TETHER: &str = "10.1.0.1:5060";
const CALLER: &str = "10.1.0.2:5060";
const PSTN: &str = "10.1.0.3:5060";

fn peer(s: &str) -> Peer {
    Peer::new(Transport::Udp, s.parse::<SocketAddr>().expect("address"))
}

/// SplitMix64: small, seedable, good enough for fault injection.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// DNs of the simulation's devices and what the PSTN simulator does for their RD.
const TARGETS: &[(&str, &str)] = &[
    ("3001", "+14155550100"), // 01xx answers at once
    ("3002", "+14155550200"), // 02xx answers after 2 s
    ("3003", "+14155550300"), // 03xx busy
    ("3004", "+14155550400"), // 04xx never answers (answer-too-late cancels it)
    ("3005", "+14155550500"), // 05xx unallocated
    ("3006", "+14155550600"), // 06xx voicemail after 0.5 s
    ("3009", "+14155550900"), // 09xx congested
    ("3010", "+14155551234"), // other: rings 1 s, answers
    ("3011", "+14155550800"), // 08xx (added below): answers, hangs up after 3 s
];

fn provisioning() -> Provisioning {
    let mut p = Provisioning::default();
    for o in [
        Object::Partition(Partition {
            name: "Internal".into(),
            description: String::new(),
        }),
        Object::Partition(Partition {
            name: "PSTN".into(),
            description: String::new(),
        }),
        Object::Css(Css {
            name: "Reroute-CSS".into(),
            description: String::new(),
            partitions: vec!["PSTN".into()],
        }),
        Object::Css(Css {
            name: "Inbound-CSS".into(),
            description: String::new(),
            partitions: vec!["Internal".into()],
        }),
        Object::Trunk(Trunk {
            name: "in".into(),
            kind: TrunkKind::PriE1,
            peer: CALLER.into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: Some(10_000),
            inbound_css: Some("Inbound-CSS".into()),
            cause_map: vec![],
        }),
        Object::Trunk(Trunk {
            name: "out".into(),
            kind: TrunkKind::Sip,
            peer: PSTN.into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        }),
        Object::RouteGroup(RouteGroup {
            name: "rg".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["out".into()],
        }),
        Object::RouteList(RouteList {
            name: "rl".into(),
            description: String::new(),
            groups: vec!["rg".into()],
        }),
        Object::Pattern(Pattern {
            partition: "PSTN".into(),
            pattern: "\\+1!".into(),
            kind: PatternKind::Route,
            description: String::new(),
            route_list: Some("rl".into()),
            css: None,
            called: Transformation::default(),
            calling: Transformation::default(),
        }),
    ] {
        p.put(o);
    }
    let add = |p: &mut Provisioning, dn: &str, rds: &[(&str, &str, bool)], fork: bool| {
        let user = format!("u{dn}");
        let dev = format!("CTRID{user}");
        p.put(Object::User(User {
            id: user.clone(),
            name: user.clone(),
            mobility_enabled: true,
            cti_enabled: true,
            max_remote_destinations: 4,
            admin: false,
            associated_devices: Vec::new(),
            password: None,
        }));
        p.put(Object::Device(Device {
            name: dev.clone(),
            kind: DeviceKind::CtiRemoteDevice,
            owner: Some(user),
            description: String::new(),
            display_name: String::new(),
            // MakeCall dials out through the PSTN route.
            css: Some("Reroute-CSS".into()),
            reroute_css: Some("Reroute-CSS".into()),
            route_to_all_rds_when_none_active: fork,
            sip_username: None,
            sip_password: None,
        }));
        p.put(Object::Line(Line {
            partition: "Internal".into(),
            dn: dn.into(),
            device: dev.clone(),
            position: 1,
            e164: None,
            directory_uri: None,
            display_name: String::new(),
            call_forward_all: None,
            dnd: false,
        }));
        for (name, number, active) in rds {
            p.put(Object::RemoteDestination(RemoteDestination {
                device: dev.clone(),
                name: (*name).into(),
                number: (*number).into(),
                active: *active,
                ring_schedule: None,
                answer_too_soon_ms: 1500,
                answer_too_late_ms: 19000,
                delay_before_ringing_ms: 4000,
            }));
        }
    };
    for (dn, number) in TARGETS {
        add(&mut p, dn, &[("RD", number, true)], false);
    }
    // Fork: a voicemail that answers too soon and a person who answers after 2 s.
    add(
        &mut p,
        "3020",
        &[
            ("Voicemail", "+14155550650", false),
            ("Mobile", "+14155550250", false),
        ],
        true,
    );
    // No active RD and no fork: 486.
    add(&mut p, "3030", &[("Idle", "+14155551999", false)], false);
    p
}

struct Packet {
    from: Peer,
    to: Peer,
    bytes: bytes::Bytes,
}

/// The lossy network: each datagram is lost (5 %), duplicated (2 %) and delayed 1–40 ms, so
/// later datagrams may overtake earlier ones.
struct Net {
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    packets: HashMap<u64, Packet>,
    seq: u64,
    rng: Rng,
    pub sent: u64,
    pub lost: u64,
}

impl Net {
    fn send(&mut self, now: Instant, from: Peer, to: Peer, msg: &Message) {
        self.sent += 1;
        if self.rng.chance(5) {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.chance(2) { 2 } else { 1 };
        for _ in 0..copies {
            self.seq += 1;
            let at = now + Duration::from_millis(1 + self.rng.below(40));
            self.queue.push(Reverse((at, self.seq)));
            self.packets.insert(
                self.seq,
                Packet {
                    from,
                    to,
                    bytes: msg.to_bytes(),
                },
            );
        }
    }
    fn next(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((t, _))| *t)
    }
    fn pop_due(&mut self, now: Instant) -> Option<Packet> {
        let Reverse((t, seq)) = *self.queue.peek()?;
        if t > now {
            return None;
        }
        self.queue.pop();
        self.packets.remove(&seq)
    }
}

struct Report {
    attempts: usize,
    /// MakeCalls and those whose target answered.
    make_calls: usize,
    dvo_answered: usize,
    /// Consultations placed, and those transferred.
    consults: usize,
    transfers: usize,
    conferences: usize,
    /// AnswerCalls refused ANSWER_NOT_SUPPORTED while the call rang.
    answers_refused: usize,
    outcomes: HashMap<Outcome, usize>,
    cdrs: Vec<Cdr>,
    lost: u64,
    sent: u64,
}

/// Runs `calls` random calls from `seed` and checks the invariants; returns what happened.
fn run(seed: u64, calls: usize) -> Report {
    let start = Instant::now();
    let mut now = start;
    let mut rng = Rng(seed);
    let snap = Arc::new(
        Snapshot::build(provisioning(), NumberingPlan::north_american(), 1).expect("valid"),
    );
    // Media anchored, as `tether serve` runs by default: every leg takes RTP ports, and the
    // simulation checks that each one is given back.
    let mut cfg = EngineConfig::new(peer(TETHER), "sim.test");
    cfg.media = Some(crate::media::MediaConfig {
        address: "10.0.0.1".parse().expect("address"),
        port_min: 20_000,
        port_max: 29_999,
    });
    let mut open_ports = std::collections::BTreeSet::new();
    let mut engine = Engine::new(cfg, snap, seed, now, 0).expect("engine");
    // The default plan, plus a far end that answers and hangs up first.
    let mut config = PstnConfig::default();
    let mut hangs_up = tether_trunk::pstn::Rule::new(
        "08xx",
        tether_trunk::pstn::Behavior::Answer { after_ms: 500 },
    );
    hangs_up.hangup_after_ms = Some(3000);
    config.rules.insert(0, hangs_up);
    let mut pstn = PstnSimulator::new(config, peer(PSTN), seed ^ 1).expect("pstn");
    let mut caller = Caller::new(peer(CALLER), peer(TETHER), seed ^ 2);
    let mut net = Net {
        queue: BinaryHeap::new(),
        packets: HashMap::new(),
        seq: 0,
        rng: Rng(seed ^ 3),
        sent: 0,
        lost: 0,
    };
    let mut cdrs = Vec::new();

    // Call i starts at i * 50 ms: a steady load with many calls overlapping.
    let mut starts: Vec<(Instant, usize)> = (0..calls)
        .map(|i| (start + Duration::from_millis(50 * i as u64), i))
        .collect();
    starts.reverse();
    let mut dns: Vec<&str> = TARGETS.iter().map(|(dn, _)| *dn).collect();
    dns.extend(["3020", "3030", "3999"]);
    let mut inbound = 0;
    let mut cti = CtiClient::default();

    let deadline = start + Duration::from_millis(50 * calls as u64) + Duration::from_secs(600);
    loop {
        // Move everything each node emitted onto the network.
        while let Some(o) = engine.poll_output() {
            match o {
                Output::Transmit { to, message } => net.send(now, peer(TETHER), to, &message),
                Output::Cdr(c) => cdrs.push(*c),
                Output::Event(_) => {}
                Output::Device(e) => {
                    let text = format!("{e:?}");
                    assert!(
                        !TARGETS.iter().any(|(_, rd)| text.contains(rd)),
                        "seed {seed}: an RD number in a CTI event: {text}"
                    );
                    cti.on_event(now, e, &mut rng);
                }
                Output::Media(MediaCommand::Open { port }) => {
                    assert!(open_ports.insert(port), "port {port} opened twice");
                }
                Output::Media(MediaCommand::Close { port }) => {
                    assert!(open_ports.remove(&port), "port {port} closed but not open");
                }
                Output::Media(_) => {}
            }
        }
        while let Some(t) = pstn.poll_output() {
            net.send(now, peer(PSTN), t.to, &t.message);
        }
        for (to, m) in caller.out.drain(..) {
            net.send(now, peer(CALLER), to, &m);
        }

        let next = [
            net.next(),
            engine.poll_timeout(),
            pstn.poll_timeout(),
            caller.poll_timeout(),
            starts.last().map(|(t, _)| *t),
            cti.next(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        assert!(next <= deadline, "seed {seed}: still busy at the deadline");
        now = now.max(next);

        if let Some(p) = net.pop_due(now) {
            let Ok(msg) = Message::parse(p.bytes) else {
                continue;
            };
            if p.to == peer(TETHER) {
                engine.handle_message(now, msg, p.from);
            } else if p.to == peer(PSTN) {
                let _ = pstn.handle_message(now, msg, p.from);
            } else if p.to == peer(CALLER) {
                caller.handle_message(now, msg, p.from);
            }
            continue;
        }
        if cti.act(now, &mut engine, &mut rng, seed) {
            continue;
        }
        if starts.last().is_some_and(|(t, _)| *t <= now) {
            let (_, i) = starts.pop().expect("a start");
            if rng.chance(10) {
                cti.make_call(now, &mut engine, &mut rng, seed);
                continue;
            }
            inbound += 1;
            let dn = dns[rng.below(dns.len() as u64) as usize];
            let cancel = rng
                .chance(20)
                .then(|| Duration::from_millis(rng.below(8000)));
            let hangup = Duration::from_millis(500 + rng.below(15_000));
            caller.call(now, &format!("4085{:06}", i), dn, cancel, hangup);
            continue;
        }
        engine.handle_timeout(now);
        pstn.handle_timeout(now);
        caller.handle_timeout(now);
    }

    // Every call ended for the caller and every node is empty.
    assert_eq!(
        caller.outcomes.len(),
        inbound,
        "seed {seed}: every call ends"
    );
    cti.check_ended(&engine, seed);
    assert_eq!(caller.footprint(), (0, 0), "seed {seed}: caller leaks");
    assert_eq!(engine.active_calls(), 0, "seed {seed}: engine calls leak");
    assert_eq!(
        engine.transactions(),
        0,
        "seed {seed}: engine transactions leak"
    );
    assert_eq!(
        engine.bookkeeping(),
        (0, 0, 0),
        "seed {seed}: engine maps leak"
    );
    assert_eq!(
        engine.channels().in_use(),
        0,
        "seed {seed}: trunk channels leak"
    );
    assert!(
        open_ports.is_empty(),
        "seed {seed}: RTP ports leak: {open_ports:?}"
    );
    assert_eq!(
        engine.media_ports_free(),
        Some(5_000),
        "seed {seed}: port pool leaks"
    );
    assert!(
        pstn.is_idle(),
        "seed {seed}: PSTN simulator leaks: {:?}",
        pstn.footprint()
    );

    // One CDR per call attempt, and the counters agree.
    let stats = engine.stats().clone();
    assert_eq!(
        cdrs.len() as u64,
        stats.attempts,
        "seed {seed}: one CDR per attempt"
    );
    let mut ids: Vec<u64> = cdrs.iter().map(|c| c.global_call_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        cdrs.len(),
        "seed {seed}: global call ids are unique"
    );
    let connected = cdrs.iter().filter(|c| c.date_time_connect > 0).count() as u64;
    assert_eq!(
        connected, stats.answered,
        "seed {seed}: answered CDRs = answered calls"
    );
    let mut outcomes: HashMap<Outcome, usize> = HashMap::new();
    for (_, o) in &caller.outcomes {
        *outcomes.entry(*o).or_default() += 1;
    }
    let caller_answered = outcomes
        .get(&Outcome::AnsweredWeHungUp)
        .copied()
        .unwrap_or(0)
        + outcomes
            .get(&Outcome::AnsweredTheyHungUp)
            .copied()
            .unwrap_or(0);
    let cti_calls: std::collections::HashSet<u64> =
        cti.make_calls.iter().map(|(c, _)| *c).collect();
    let dvo_answered = cdrs
        .iter()
        .filter(|c| cti_calls.contains(&c.global_call_id) && c.date_time_connect > 0)
        .count() as u64;
    assert_eq!(
        caller_answered as u64 + dvo_answered,
        stats.answered,
        "seed {seed}: the caller saw every answer: {outcomes:?}"
    );
    assert_eq!(
        stats.answered + stats.failed + stats.abandoned,
        stats.attempts,
        "seed {seed}: every attempt is answered, failed or abandoned: {stats:?}"
    );
    Report {
        attempts: stats.attempts as usize,
        make_calls: cti.make_calls.len(),
        dvo_answered: dvo_answered as usize,
        consults: cti.consults,
        transfers: cti.transfers,
        conferences: cti.conferences,
        answers_refused: cti.answers_refused,
        outcomes,
        cdrs,
        lost: net.lost,
        sent: net.sent,
    }
}

/// 10,000 calls in ten seeded runs of 1,000 (each reproducible from its seed), with 5 % loss,
/// duplication and reordering.
#[test]
fn ten_thousand_random_calls_end_cleanly_on_a_lossy_network() {
    let mut total = 0;
    let mut lost = 0;
    let mut answered = 0;
    let mut all: HashMap<Outcome, usize> = HashMap::new();
    let (mut make_calls, mut dvo_answered) = (0, 0);
    let (mut consults, mut transfers, mut conferences) = (0, 0, 0);
    let mut answers_refused = 0;
    for seed in 1..=10u64 {
        let r = run(seed, 1000);
        total += r.attempts;
        make_calls += r.make_calls;
        dvo_answered += r.dvo_answered;
        consults += r.consults;
        transfers += r.transfers;
        conferences += r.conferences;
        answers_refused += r.answers_refused;
        lost += r.lost;
        answered += r
            .outcomes
            .get(&Outcome::AnsweredWeHungUp)
            .copied()
            .unwrap_or(0)
            + r.outcomes
                .get(&Outcome::AnsweredTheyHungUp)
                .copied()
                .unwrap_or(0);
        assert!(r.lost > 0 && r.sent > r.lost, "the network really drops");
        for (o, n) in &r.outcomes {
            *all.entry(*o).or_default() += n;
        }
        assert!(!r.cdrs.is_empty());
    }
    eprintln!(
        "outcomes of 10,000 calls: {all:?}; CTI calls: {make_calls} ({dvo_answered} \
         answered), of which {consults} consultations, {transfers} transferred, \
         {conferences} conferenced; AnswerCalls refused: {answers_refused}; datagrams lost: \
         {lost}"
    );
    assert!(
        answers_refused > 100,
        "AnswerCall ran on ringing calls: {answers_refused} refused"
    );
    assert!(
        consults > 80 && transfers > 15 && conferences > 10,
        "consultations ran: {consults}, transferred {transfers}, conferenced {conferences}"
    );
    assert!(
        make_calls > 500 && dvo_answered > 100,
        "MakeCalls ran: {make_calls}, answered {dvo_answered}"
    );
    assert_eq!(
        total,
        10_000 + consults,
        "every call (and every consultation) was an attempt with a CDR"
    );
    // Every kind of ending happened.
    for code in [486, 404, 480, 503, 487] {
        assert!(
            all.contains_key(&Outcome::Failed(code)),
            "some calls ended {code}: {all:?}"
        );
    }
    assert!(
        all.contains_key(&Outcome::AnsweredTheyHungUp)
            && all.contains_key(&Outcome::AnsweredWeHungUp)
    );
    assert!(
        answered > 2_000,
        "a good share of calls were answered: {answered}"
    );
    assert!(lost > 1_000, "losses happened: {lost}");
}
