//! Trunk policy: capacity by kind, hunting orders, a full trunk, idempotent release, the inbound
//! access list and the usage counters, in virtual time.

use super::pool::ChannelPool;
use super::*;
use std::time::Duration;
use tether_store::model::{CauseMapping, Hunting, Trunk, TrunkKind};

fn trunk(name: &str, kind: TrunkKind, peer: &str) -> Trunk {
    Trunk {
        name: name.into(),
        kind,
        peer: peer.into(),
        did: None,
        hunting: Hunting::Ascending,
        channels: None,
        inbound_css: None,
        cause_map: vec![],
    }
}

fn with(mut t: Trunk, f: impl FnOnce(&mut Trunk)) -> Trunk {
    f(&mut t);
    t
}

fn id(name: &str) -> TrunkId {
    TrunkId::new(name)
}

fn seize_n(set: &mut TrunkSet, now: Instant, name: &str, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| set.seize(now, &id(name)).unwrap().number)
        .collect()
}

fn ch(name: &str, number: u32) -> Channel {
    Channel {
        trunk: id(name),
        number,
    }
}

#[test]
fn capacity_defaults_by_kind() {
    let set = TrunkSet::from_store(&[
        trunk("t1", TrunkKind::PriT1, "192.0.2.1"),
        trunk("e1", TrunkKind::PriE1, "192.0.2.2"),
        trunk("bri", TrunkKind::Bri, "192.0.2.3"),
        trunk("fxo", TrunkKind::Fxo, "192.0.2.4"),
        with(trunk("fxo4", TrunkKind::Fxo, "192.0.2.4"), |t| {
            t.channels = Some(4)
        }),
        trunk("sip", TrunkKind::Sip, "192.0.2.5:5060"),
        trunk("mgcp", TrunkKind::Mgcp, "192.0.2.6"),
        with(trunk("sip10", TrunkKind::Sip, "192.0.2.7"), |t| {
            t.channels = Some(10)
        }),
        with(trunk("t1-half", TrunkKind::PriT1, "192.0.2.8"), |t| {
            t.channels = Some(12)
        }),
    ])
    .unwrap();
    let cap = |n: &str| set.get(&id(n)).unwrap().capacity();
    assert_eq!(cap("t1"), Capacity::Channels(23));
    assert_eq!(cap("e1"), Capacity::Channels(30));
    assert_eq!(cap("bri"), Capacity::Channels(2));
    assert_eq!(cap("fxo"), Capacity::Channels(1));
    assert_eq!(cap("fxo4"), Capacity::Channels(4));
    assert_eq!(cap("sip"), Capacity::Unlimited);
    assert_eq!(cap("mgcp"), Capacity::Unlimited);
    assert_eq!(cap("sip10"), Capacity::Channels(10));
    assert_eq!(cap("t1-half"), Capacity::Channels(12));
}

#[test]
fn a_pri_t1_carries_23_calls_then_503_cause_34() {
    let t0 = Instant::now();
    let mut set = TrunkSet::from_store(&[trunk("t1", TrunkKind::PriT1, "192.0.2.1")]).unwrap();
    let got = seize_n(&mut set, t0, "t1", 23);
    assert_eq!(got, (1..=23).collect::<Vec<_>>());
    let err = set.seize(t0, &id("t1")).unwrap_err();
    assert_eq!(
        err,
        TrunkError::Full {
            trunk: id("t1"),
            capacity: 23
        }
    );
    let r = err.rejection().unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.reason.cause.value(), 34);
    assert!(r.reason_header().starts_with("Q.850;cause=34"));
    // A freed channel is taken again.
    set.release(t0, &ch("t1", 7), CallOutcome::Answered)
        .unwrap();
    assert_eq!(set.seize(t0, &id("t1")).unwrap().number, 7);
    let u = set.usage(t0, &id("t1")).unwrap();
    assert_eq!((u.attempts, u.seized, u.blocked), (25, 24, 1));
    assert_eq!((u.in_use, u.peak_in_use, u.capacity), (23, 23, Some(23)));
}

#[test]
fn hunting_orders() {
    let t0 = Instant::now();
    let e1 = |h: Hunting| {
        with(trunk("e1", TrunkKind::PriE1, "192.0.2.1"), |t| {
            t.hunting = h;
            t.channels = Some(5);
        })
    };
    // Ascending: always the lowest free.
    let mut set = TrunkSet::from_store(&[e1(Hunting::Ascending)]).unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 3), [1, 2, 3]);
    set.release(t0, &ch("e1", 2), CallOutcome::Unanswered)
        .unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 3), [2, 4, 5]);

    // Descending: always the highest free.
    let mut set = TrunkSet::from_store(&[e1(Hunting::Descending)]).unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 3), [5, 4, 3]);
    set.release(t0, &ch("e1", 4), CallOutcome::Unanswered)
        .unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 3), [4, 2, 1]);

    // Cyclic: the next free after the last seized, wrapping.
    let mut set = TrunkSet::from_store(&[e1(Hunting::Cyclic)]).unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 3), [1, 2, 3]);
    set.release(t0, &ch("e1", 1), CallOutcome::Unanswered)
        .unwrap();
    set.release(t0, &ch("e1", 2), CallOutcome::Unanswered)
        .unwrap();
    assert_eq!(seize_n(&mut set, t0, "e1", 4), [4, 5, 1, 2]);
    set.release(t0, &ch("e1", 4), CallOutcome::Unanswered)
        .unwrap();
    set.release(t0, &ch("e1", 1), CallOutcome::Unanswered)
        .unwrap();
    // Last was 2: 3 is busy, 4 is free.
    assert_eq!(seize_n(&mut set, t0, "e1", 2), [4, 1]);
    assert!(set.seize(t0, &id("e1")).is_err());
}

#[test]
fn unlimited_trunks_number_calls_from_one() {
    let t0 = Instant::now();
    let sip = with(trunk("sip", TrunkKind::Sip, "192.0.2.1"), |t| {
        t.hunting = Hunting::Descending
    });
    let mut set = TrunkSet::from_store(&[sip]).unwrap();
    assert_eq!(seize_n(&mut set, t0, "sip", 3), [1, 2, 3]);
    set.release(t0, &ch("sip", 2), CallOutcome::Answered)
        .unwrap();
    assert_eq!(seize_n(&mut set, t0, "sip", 2), [2, 4]);
    assert_eq!(set.usage(t0, &id("sip")).unwrap().capacity, None);
    // The configured hunting is still reported.
    assert_eq!(set.get(&id("sip")).unwrap().hunting(), Hunting::Descending);
}

#[test]
fn release_is_idempotent_and_never_underflows() {
    let t0 = Instant::now();
    let mut set = TrunkSet::from_store(&[trunk("bri", TrunkKind::Bri, "192.0.2.1")]).unwrap();
    let c = set.seize(t0, &id("bri")).unwrap();
    assert!(set.is_seized(&c));
    set.release(t0, &c, CallOutcome::Answered).unwrap();
    assert!(!set.is_seized(&c));
    assert_eq!(
        set.release(t0, &c, CallOutcome::Answered),
        Err(TrunkError::NotSeized(c.clone()))
    );
    // Never handed out, or out of range.
    for n in [0, 2, 3, u32::MAX] {
        assert_eq!(
            set.release(t0, &ch("bri", n), CallOutcome::Unanswered),
            Err(TrunkError::NotSeized(ch("bri", n)))
        );
    }
    assert_eq!(
        set.release(t0, &ch("nope", 1), CallOutcome::Unanswered),
        Err(TrunkError::UnknownTrunk(id("nope")))
    );
    assert_eq!(
        set.seize(t0, &id("nope")),
        Err(TrunkError::UnknownTrunk(id("nope")))
    );
    let u = set.usage(t0, &id("bri")).unwrap();
    assert_eq!((u.in_use, u.completed, u.failed), (0, 1, 0));
    assert_eq!(set.get(&id("bri")).unwrap().in_use(), 0);
    // Both channels are still there.
    assert_eq!(seize_n(&mut set, t0, "bri", 2), [1, 2]);
}

#[test]
fn bad_provisioning_is_refused() {
    let dup = [
        trunk("a", TrunkKind::Sip, "192.0.2.1"),
        trunk("a", TrunkKind::Bri, "192.0.2.2"),
    ];
    assert_eq!(
        TrunkSet::from_store(&dup).unwrap_err(),
        TrunkConfigError::DuplicateName("a".into())
    );
    let zero = [with(trunk("z", TrunkKind::Sip, "192.0.2.1"), |t| {
        t.channels = Some(0)
    })];
    assert_eq!(
        TrunkSet::from_store(&zero).unwrap_err(),
        TrunkConfigError::ZeroChannels("z".into())
    );
    let causes = [with(trunk("c", TrunkKind::Sip, "192.0.2.1"), |t| {
        t.cause_map = vec![CauseMapping { q850: 34, sip: 100 }]
    })];
    assert!(matches!(
        TrunkSet::from_store(&causes).unwrap_err(),
        TrunkConfigError::CauseMap { .. }
    ));
}

#[test]
fn trunk_cause_map_overrides() {
    let t = with(trunk("c", TrunkKind::PriE1, "192.0.2.1"), |t| {
        t.cause_map = vec![CauseMapping { q850: 34, sip: 486 }]
    });
    let set = TrunkSet::from_store(&[t, trunk("d", TrunkKind::PriE1, "192.0.2.2")]).unwrap();
    let cause34 = crate::cause::Q850Cause::NO_CIRCUIT_AVAILABLE;
    assert_eq!(set.causes(&id("c")).unwrap().to_sip(cause34), Some(486));
    assert_eq!(set.causes(&id("d")).unwrap().to_sip(cause34), Some(503));
}

#[test]
fn peer_spec_parsing() {
    use std::net::Ipv4Addr;
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(
        PeerSpec::parse("192.0.2.1:5070"),
        PeerSpec::Addr {
            ip: v4,
            port: Some(5070)
        }
    );
    assert_eq!(
        PeerSpec::parse(" sip:192.0.2.1;transport=tcp "),
        PeerSpec::Addr { ip: v4, port: None }
    );
    assert_eq!(
        PeerSpec::parse("[2001:db8::1]:5061"),
        PeerSpec::Addr {
            ip: "2001:db8::1".parse().unwrap(),
            port: Some(5061)
        }
    );
    assert_eq!(
        PeerSpec::parse("[2001:db8::1]"),
        PeerSpec::Addr {
            ip: "2001:db8::1".parse().unwrap(),
            port: None
        }
    );
    assert_eq!(
        PeerSpec::parse("2001:db8::1"),
        PeerSpec::Addr {
            ip: "2001:db8::1".parse().unwrap(),
            port: None
        }
    );
    // An IPv4-mapped IPv6 peer is the IPv4 address.
    assert_eq!(PeerSpec::parse("::ffff:192.0.2.1").ip(), Some(v4));
    assert_eq!(
        PeerSpec::parse("GW.example.com:5060"),
        PeerSpec::Name {
            host: "gw.example.com".into(),
            port: Some(5060)
        }
    );
    assert_eq!(
        PeerSpec::parse("gw.example.com:x"),
        PeerSpec::Name {
            host: "gw.example.com:x".into(),
            port: None
        }
    );
    assert_eq!(
        PeerSpec::parse(""),
        PeerSpec::Name {
            host: String::new(),
            port: None
        }
    );
}

#[test]
fn inbound_access_list() {
    let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
    let set = TrunkSet::from_store(&[
        // Two trunks on one gateway IP: one names the port.
        trunk("gw-any", TrunkKind::Sip, "192.0.2.10"),
        trunk("gw-5080", TrunkKind::Sip, "192.0.2.10:5080"),
        // The demo's pair: same IP:port, the inbound one has an inbound CSS.
        trunk("pstn-sim-out", TrunkKind::Sip, "127.0.0.1:5070"),
        with(
            trunk("pstn-sim-in", TrunkKind::Sip, "127.0.0.1:5070"),
            |t| t.inbound_css = Some("Inbound-CSS".into()),
        ),
        // Same IP, same rank, no CSS: the first by name wins.
        trunk("b-pri", TrunkKind::PriT1, "192.0.2.20:5060"),
        trunk("a-pri", TrunkKind::PriT1, "192.0.2.20:5060"),
        trunk("v6", TrunkKind::Sip, "[2001:db8::5]:5060"),
        trunk("named", TrunkKind::Sip, "gw.example.com:5060"),
    ])
    .unwrap();
    let who = |a: &str| set.identify(addr(a)).map(|t| t.as_str().to_owned());
    assert_eq!(who("192.0.2.10:5080").as_deref(), Some("gw-5080"));
    assert_eq!(who("192.0.2.10:5060").as_deref(), Some("gw-any"));
    assert_eq!(who("192.0.2.10:41234").as_deref(), Some("gw-any"));
    assert_eq!(who("127.0.0.1:5070").as_deref(), Some("pstn-sim-in"));
    // A TCP connection from an ephemeral port still matches by IP.
    assert_eq!(who("127.0.0.1:53000").as_deref(), Some("pstn-sim-in"));
    assert_eq!(who("192.0.2.20:5060").as_deref(), Some("a-pri"));
    assert_eq!(who("[2001:db8::5]:5060").as_deref(), Some("v6"));
    // IPv4 traffic seen on a dual-stack socket.
    assert_eq!(who("[::ffff:192.0.2.10]:5080").as_deref(), Some("gw-5080"));
    assert_eq!(who("192.0.2.99:5060"), None);
    assert_eq!(who("127.0.0.2:5070"), None);
}

#[test]
fn usage_counts_channel_time_from_now_inputs() {
    let t0 = Instant::now();
    let s = |n: u64| t0 + Duration::from_secs(n);
    let mut set = TrunkSet::from_store(&[trunk("bri", TrunkKind::Bri, "192.0.2.1")]).unwrap();
    let a = set.seize(s(0), &id("bri")).unwrap();
    let b = set.seize(s(10), &id("bri")).unwrap();
    assert!(set.seize(s(15), &id("bri")).is_err());
    // 0..10 one channel, 10..20 two.
    let u = set.usage(s(20), &id("bri")).unwrap();
    assert_eq!(u.channel_seconds, 30.0);
    set.release(s(30), &a, CallOutcome::Answered).unwrap();
    set.release(s(40), &b, CallOutcome::Unanswered).unwrap();
    let u = set.usage(s(100), &id("bri")).unwrap();
    // 0..10: 1, 10..30: 2, 30..40: 1 = 10 + 40 + 10.
    assert_eq!(u.channel_seconds, 60.0);
    assert_eq!(
        (u.attempts, u.seized, u.blocked, u.completed, u.failed),
        (3, 2, 1, 1, 1)
    );
    assert_eq!((u.in_use, u.peak_in_use), (0, 2));
    // A `now` from the past adds no time and takes none away.
    let _ = set.seize(s(50), &id("bri")).unwrap();
    assert_eq!(set.usage(s(45), &id("bri")).unwrap().channel_seconds, 60.0);
    assert_eq!(set.usage(s(52), &id("bri")).unwrap().channel_seconds, 62.0);
    let all = set.usage_all(s(52));
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, id("bri"));
}

#[test]
fn pool_stays_compact_under_churn() {
    // A pseudo-random seize/release sequence against a model; the pool must agree with it.
    let mut pool = ChannelPool::new(64, Hunting::Cyclic);
    let mut model = std::collections::BTreeSet::new();
    let mut x: u64 = 0x1234_5678;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !x.is_multiple_of(3) {
            match pool.seize() {
                Some(n) => assert!(model.insert(n), "{n} handed out twice"),
                None => assert_eq!(model.len(), 64),
            }
        } else {
            let n = (x >> 8) as u32 % 70;
            assert_eq!(pool.release(n), model.remove(&n));
        }
        assert_eq!(pool.in_use() as usize, model.len());
        assert!(pool.fragments() <= 33);
    }
    for n in model.clone() {
        assert!(pool.release(n));
    }
    assert_eq!(pool.fragments(), 1);
    assert_eq!(pool.in_use(), 0);
}
