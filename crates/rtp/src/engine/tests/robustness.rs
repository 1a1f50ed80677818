//! Hostile input: malformed packets are counted and dropped, random bytes never panic, and the
//! port range runs out and refills.

use proptest::prelude::*;

use super::*;

#[test]
fn malformed_packets_are_counted_and_dropped() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
    let (b, _) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
    e.connect(a, b).unwrap();
    let from = addr("10.0.0.5:4000");
    let good = packet(0, 1, 0, 0xA, false, &[0; 160]);
    let mut v1 = good.clone();
    v1[0] = 0x40;
    let mut zero_pad = good.clone();
    zero_pad[0] |= 0x20;
    *zero_pad.last_mut().unwrap() = 0;
    let mut long_pad = good.clone();
    long_pad[0] |= 0x20;
    *long_pad.last_mut().unwrap() = 200;
    let mut csrc = good[..20].to_vec();
    csrc[0] |= 0x0F;
    let mut ext = good[..16].to_vec();
    ext[0] |= 0x10;
    ext[14] = 0xFF;
    let bad: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x80],
        good[..11].to_vec(),
        v1,
        zero_pad,
        long_pad,
        csrc,
        ext,
        vec![0x00, 0x01, 0x00, 0x00], // STUN
        vec![0x80, 0xC9, 0xFF, 0xFF], // RTCP with a length past the end
    ];
    for p in &bad {
        e.handle_datagram(t0, pa.rtp, from, p);
    }
    // RTP on the RTCP port, garbage on the RTCP port.
    e.handle_datagram(t0, pa.rtcp, from, &good);
    e.handle_datagram(t0, pa.rtcp, from, &[0x81, 0xC8, 0, 0]);
    assert!(transmits(&mut e).is_empty());
    let s = e.stats(a).unwrap();
    assert_eq!(s.counters.malformed, bad.len() as u64 + 2);
    assert_eq!(s.counters.packets_in, 0);
    assert_eq!(s.latched, None, "junk does not latch");
    // The good one still goes through afterwards.
    e.handle_datagram(t0, pa.rtp, from, &good);
    assert_eq!(transmits(&mut e).len(), 1);
}

#[test]
fn the_port_range_runs_out_and_refills() {
    let t0 = Instant::now();
    let mut e = MediaEngine::new(
        EngineConfig {
            port_min: 30_000,
            port_max: 30_007,
            ..config()
        },
        t0,
        Duration::ZERO,
    )
    .unwrap();
    let legs: Vec<_> = (0..4).map(|_| e.create_leg().unwrap()).collect();
    assert_eq!(e.create_leg(), Err(EngineError::PortsExhausted));
    assert_eq!(e.totals().port_pairs_free, 0);
    e.release_leg(t0, legs[1].0).unwrap();
    let (again, ports) = e.create_leg().unwrap();
    assert_eq!(ports, legs[1].1);
    assert_ne!(again, legs[1].0, "a reused slot gets a new id");
    assert_eq!(e.totals().legs, 4);
    assert_eq!(e.totals().legs_created, 5);
    // Outside the range: counted, nothing else.
    e.handle_datagram(t0, 40_000, addr("10.0.0.5:4000"), &[0x80; 20]);
    assert_eq!(e.totals().unknown_port, 1);
    assert!(MediaEngine::new(
        EngineConfig {
            port_min: 30_001,
            ..config()
        },
        t0,
        Duration::ZERO
    )
    .is_err());
}

fn valid_rtp() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(pt, seq, ts, payload)| packet(pt & 0x7F, seq, ts, 0xA, false, &payload))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_datagrams_never_panic(
        datagrams in prop::collection::vec(
            (prop_oneof![
                prop::collection::vec(any::<u8>(), 0..300),
                valid_rtp(),
                // Valid packets with a few bytes flipped.
                (valid_rtp(), prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)).prop_map(|(mut p, flips)| {
                    for (at, v) in flips {
                        let n = p.len();
                        p[at % n] = v;
                    }
                    p
                }),
            ], 0u16..12, any::<bool>()),
            1..40,
        )
    ) {
        let t0 = Instant::now();
        let mut e = engine_at(t0);
        let (a, _) = leg(&mut e, t0, CodecMap::pcmu(), "10.0.0.5:4000");
        let mut b_map = CodecMap::pcma();
        b_map.telephone_event = Pt::new(96);
        let (b, _) = leg(&mut e, t0, b_map, "192.0.2.20:5000");
        e.connect(a, b).unwrap();
        let mut now = t0;
        for (d, port_offset, stranger) in &datagrams {
            let from = if *stranger { addr("198.51.100.7:9") } else { addr("10.0.0.5:4000") };
            e.handle_datagram(now, 20_000 + port_offset, from, d);
            now += Duration::from_millis(7);
            e.handle_timeout(now);
            while let Some(t) = e.poll_transmit() {
                e.recycle(t.contents);
            }
        }
        run_timers(&mut e, now + Duration::from_secs(60));
        let totals = e.totals();
        prop_assert!(totals.counters.packets_in <= datagrams.len() as u64);
    }
}
