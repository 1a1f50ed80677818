//! Latching behind NAT, strangers, re-latching, and the media inactivity timeout.

use super::*;
use crate::latch::Latching;

#[test]
fn nat_peer_latches_and_strangers_are_dropped() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    // The SDP says 10.0.0.5; the phone's packets come from its NAT's public address.
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    let (b, pb) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
    e.connect(a, b).unwrap();
    let nat = addr("203.0.113.9:61000");
    let stranger = addr("198.51.100.7:7000");

    // Before anything arrives from A, B's media goes to A's SDP address.
    let mut pb_phone = Phone::new(0xB, 100, 0, 0);
    e.handle_datagram(
        t0,
        pb.rtp,
        addr("192.0.2.20:5000"),
        &pb_phone.next(&[1; 160]),
    );
    let out = transmits(&mut e);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, addr("10.0.0.5:4000"));
    assert_eq!(out[0].from_port, pa.rtp);

    let mut phone = Phone::new(0xA, 1, 0, 0);
    e.handle_datagram(t0, pa.rtp, nat, &phone.next(&[2; 160]));
    let ev = events(&mut e);
    assert!(
        ev.contains(&MediaEvent::Latched { leg: a, peer: nat }),
        "{ev:?}"
    );
    assert_eq!(transmits(&mut e).len(), 1, "relayed to B");

    // A stranger's valid packets are dropped and counted, and not relayed.
    let mut intruder = Phone::new(0x666, 1, 0, 0);
    for i in 0..5 {
        e.handle_datagram(t0 + MS20 * i, pa.rtp, stranger, &intruder.next(&[9; 160]));
    }
    assert!(transmits(&mut e).is_empty());
    assert_eq!(e.stats(a).unwrap().counters.dropped_stranger, 5);
    assert_eq!(e.stats(a).unwrap().latched, Some(nat));

    // B's media now goes back to the NAT address.
    e.handle_datagram(
        t0 + MS20,
        pb.rtp,
        addr("192.0.2.20:5000"),
        &pb_phone.next(&[1; 160]),
    );
    let out = transmits(&mut e);
    assert_eq!(out[0].to, nat);
}

#[test]
fn expected_ip_latching_takes_only_the_sdp_address() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = e
        .create_leg_with(LegConfig {
            latching: Latching::ExpectedIp,
            ..LegConfig::default()
        })
        .unwrap();
    e.set_codecs(a, CodecMap::pcmu()).unwrap();
    e.set_remote(
        t0,
        a,
        Remote {
            rtp: addr("10.0.0.5:4000"),
            rtcp: None,
            rtcp_mux: false,
        },
    )
    .unwrap();
    let mut phone = Phone::new(0xA, 1, 0, 0);
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("203.0.113.9:61000"),
        &phone.next(&[0; 160]),
    );
    assert_eq!(e.stats(a).unwrap().latched, None);
    assert_eq!(e.stats(a).unwrap().counters.dropped_stranger, 1);
    // Same IP, another port: latched.
    e.handle_datagram(
        t0 + MS20,
        pa.rtp,
        addr("10.0.0.5:4002"),
        &phone.next(&[0; 160]),
    );
    assert_eq!(e.stats(a).unwrap().latched, Some(addr("10.0.0.5:4002")));
    assert_eq!(e.stats(a).unwrap().counters.packets_in, 1);
}

#[test]
fn another_address_takes_over_only_after_the_latched_one_fell_silent() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    let first = addr("203.0.113.9:61000");
    let roamed = addr("203.0.113.9:62000");
    let mut phone = Phone::new(0xA, 1, 0, 0);
    for i in 0..10 {
        e.handle_datagram(t0 + MS20 * i, pa.rtp, first, &phone.next(&[0; 160]));
    }
    // While the first address is alive, a new SSRC from another port is a stranger.
    let mut other = Phone::new(0xC, 1, 0, 0);
    e.handle_datagram(t0 + MS20 * 10, pa.rtp, roamed, &other.next(&[0; 160]));
    assert_eq!(e.stats(a).unwrap().counters.dropped_stranger, 1);
    events(&mut e);
    // 2 s (relatch_after) of silence from the first address: the new one takes over.
    let later = t0 + MS20 * 9 + Duration::from_secs(2);
    e.handle_datagram(later, pa.rtp, roamed, &other.next(&[0; 160]));
    assert_eq!(
        events(&mut e),
        vec![MediaEvent::Relatched {
            leg: a,
            previous: first,
            peer: roamed
        }]
    );
    let s = e.stats(a).unwrap();
    assert_eq!(s.latched, Some(roamed));
    assert_eq!(s.counters.relatches, 1);
    assert_eq!(s.counters.ssrc_changes, 1);
    assert_eq!(s.remote_ssrc, Some(Ssrc(0xC)));
}

#[test]
fn inactivity_fires_once_after_the_far_end_vanishes_and_not_while_packets_flow() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = e
        .create_leg_with(LegConfig {
            inactivity_timeout: Some(Duration::from_secs(5)),
            ..LegConfig::default()
        })
        .unwrap();
    e.set_codecs(a, CodecMap::pcmu()).unwrap();
    // Not watched before the peer is known: a minute of ringing passes quietly.
    run_timers(&mut e, t0 + Duration::from_secs(60));
    assert!(events(&mut e).is_empty());
    let t1 = t0 + Duration::from_secs(60);
    e.set_remote(
        t1,
        a,
        Remote {
            rtp: addr("10.0.0.5:4000"),
            rtcp: None,
            rtcp_mux: false,
        },
    )
    .unwrap();
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 0, 0);
    // 20 s of packets every 20 ms: no inactivity.
    let mut now = t1;
    for _ in 0..1_000 {
        run_timers(&mut e, now);
        e.handle_datagram(now, pa.rtp, from, &phone.next(&[0; 160]));
        now += MS20;
    }
    let inactive = |ev: &[MediaEvent]| {
        ev.iter()
            .filter(|e| matches!(e, MediaEvent::Inactive { .. }))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(inactive(&events(&mut e)).is_empty());
    let last = now - MS20;
    // The phone vanishes: the event comes 5 s after its last packet, not before, and once.
    run_timers(&mut e, last + Duration::from_millis(4_999));
    assert!(inactive(&events(&mut e)).is_empty());
    run_timers(&mut e, last + Duration::from_secs(30));
    let fired = inactive(&events(&mut e));
    assert_eq!(
        fired,
        vec![MediaEvent::Inactive {
            leg: a,
            reason: InactivityReason::MediaTimeout {
                silent_for: Duration::from_secs(5)
            }
        }]
    );
    if let MediaEvent::Inactive { reason, .. } = &fired[0] {
        assert_eq!(reason.as_str(), "media-timeout");
    }
    // Media resumes and stops again: it fires again.
    let back = last + Duration::from_secs(31);
    e.handle_datagram(back, pa.rtp, from, &phone.next(&[0; 160]));
    run_timers(&mut e, back + Duration::from_secs(6));
    assert_eq!(inactive(&events(&mut e)).len(), 1);
}

#[test]
fn inactivity_can_be_switched_off_for_hold() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, _) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    e.set_inactivity_timeout(t0, a, None).unwrap();
    run_timers(&mut e, t0 + Duration::from_secs(600));
    assert!(!events(&mut e)
        .iter()
        .any(|ev| matches!(ev, MediaEvent::Inactive { .. })));
    // And on again: counting starts from the command.
    let t1 = t0 + Duration::from_secs(600);
    e.set_inactivity_timeout(t1, a, Some(Duration::from_secs(10)))
        .unwrap();
    run_timers(&mut e, t1 + Duration::from_secs(9));
    assert!(events(&mut e).is_empty());
    run_timers(&mut e, t1 + Duration::from_secs(10));
    assert!(events(&mut e)
        .iter()
        .any(|ev| matches!(ev, MediaEvent::Inactive { .. })));
}
