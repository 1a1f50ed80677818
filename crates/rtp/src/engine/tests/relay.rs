//! Relay continuity across source changes, payload type renumbering, transcoding, fed frames.

use super::*;
use crate::g711::{self, Law};
use crate::relay::Frame;

/// Every consecutive pair of `out` has seq + 1 and ts + `step`; returns the indices with the
/// marker bit.
fn assert_continuous(out: &[(RtpHeader, Vec<u8>)], step: u32) -> Vec<usize> {
    let ssrc = out[0].0.ssrc;
    for (i, w) in out.windows(2).enumerate() {
        let (a, b) = (&w[0].0, &w[1].0);
        assert_eq!(b.ssrc, ssrc, "SSRC changed at {}", i + 1);
        assert_eq!(b.seq, a.seq.wrapping_add(1), "seq gap at {}", i + 1);
        assert_eq!(b.ts.wrapping_sub(a.ts), step, "ts step at {}", i + 1);
    }
    out.iter()
        .enumerate()
        .filter(|(_, (h, _))| h.marker)
        .map(|(i, _)| i)
        .collect()
}

fn pair(
    e: &mut MediaEngine,
    t0: Instant,
    a: CodecMap,
    b: CodecMap,
) -> (LegId, RtpPorts, LegId, RtpPorts) {
    let (la, pa) = leg(e, t0, a, "10.0.0.5:4000");
    let (lb, pb) = leg(e, t0, b, "192.0.2.20:5000");
    e.connect(la, lb).unwrap();
    (la, pa, lb, pb)
}

#[test]
fn b_keeps_its_ssrc_and_continuity_when_a_changes_ssrc() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (la, pa, _, pb) = pair(&mut e, t0, CodecMap::pcmu(), CodecMap::pcmu());
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1000, 5000, 0);
    let mut now = t0;
    for i in 0..100 {
        if i == 50 {
            // The far end restarts its stream (a transfer behind it, a new device).
            phone = Phone::new(0xA2, 30_000, 999_999, 0);
        }
        e.handle_datagram(now, pa.rtp, from, &phone.next(&[0x55; 160]));
        now += MS20;
    }
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 100);
    assert_eq!(assert_continuous(&out, 160), vec![0, 50]);
    assert_eq!(e.stats(la).unwrap().counters.ssrc_changes, 1);
}

#[test]
fn announcement_for_two_seconds_then_relay_resumes_without_a_seam() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (_, pa, lb, pb) = pair(&mut e, t0, CodecMap::pcmu(), CodecMap::pcmu());
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 0, 0);
    let tone: Vec<u8> = (0..160).map(|i| i as u8).collect();
    for i in 0..200u32 {
        let now = t0 + MS20 * i;
        if i == 50 {
            e.set_output(lb, OutputSource::Fed).unwrap();
        }
        if i == 150 {
            e.set_output(lb, OutputSource::Relay).unwrap();
        }
        // A keeps talking throughout; while B hears the announcement A is not relayed.
        e.handle_datagram(now, pa.rtp, from, &phone.next(&[0x55; 160]));
        if (50..150).contains(&i) {
            e.feed_frame(
                now,
                lb,
                Frame::Audio {
                    law: Law::Ulaw,
                    codes: &tone,
                },
            )
            .unwrap();
        }
    }
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 200);
    assert_eq!(assert_continuous(&out, 160), vec![0, 50, 150]);
    assert!(out[50..150]
        .iter()
        .all(|(h, p)| p == &tone && h.pt == Pt::PCMU));
    assert!(out[150..].iter().all(|(_, p)| p == &[0x55; 160]));
    assert_eq!(e.stats(lb).unwrap().counters.not_sent, 100);
    assert_eq!(e.stats(lb).unwrap().counters.packets_out, 200);
}

#[test]
fn a_pause_between_sources_advances_the_timestamp_by_the_elapsed_time() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (_, pa, lb, pb) = pair(&mut e, t0, CodecMap::pcmu(), CodecMap::pcmu());
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 0, 0);
    e.set_output(lb, OutputSource::Fed).unwrap();
    let frame = [0xFFu8; 160];
    for k in 0..100u32 {
        e.feed_frame(
            t0 + MS20 * k,
            lb,
            Frame::Audio {
                law: Law::Ulaw,
                codes: &frame,
            },
        )
        .unwrap();
    }
    e.set_output(lb, OutputSource::Relay).unwrap();
    // The last frame went at 1.98 s; A's first relayed packet comes at 2.5 s.
    let resume = t0 + Duration::from_millis(2_500);
    e.handle_datagram(resume, pa.rtp, from, &phone.next(&[0x55; 160]));
    e.handle_datagram(resume + MS20, pa.rtp, from, &phone.next(&[0x55; 160]));
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 102);
    assert_continuous(&out[..100], 160);
    let (last_frame, first_relay, second) = (&out[99].0, &out[100].0, &out[101].0);
    assert_eq!(first_relay.seq, last_frame.seq.wrapping_add(1));
    // 520 ms later = 4,160 samples.
    assert_eq!(first_relay.ts.wrapping_sub(last_frame.ts), 4_160);
    assert!(first_relay.marker);
    assert_eq!(second.ts.wrapping_sub(first_relay.ts), 160);
    assert!(!second.marker);
}

#[test]
fn telephone_event_payload_type_is_renumbered_per_leg_not_transcoded() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let mut b_map = CodecMap::pcma();
    b_map.telephone_event = Pt::new(96);
    let (la, pa, _, pb) = pair(&mut e, t0, CodecMap::pcmu(), b_map);
    let event = [5u8, 0x0A, 0x00, 0xA0];
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(101, 7, 800, 0xA, true, &event),
    );
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.pt.get(), 96);
    assert_eq!(out[0].1, event);
    assert!(out[0].0.marker);
    // And back: 96 on B becomes 101 on A.
    e.handle_datagram(
        t0,
        pb.rtp,
        addr("192.0.2.20:5000"),
        &packet(96, 1, 0, 0xB, true, &event),
    );
    let out = rtp_from(&transmits(&mut e), pa.rtp);
    assert_eq!(out[0].0.pt.get(), 101);
    assert_eq!(out[0].1, event);
    // 96 means nothing on A.
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(96, 8, 800, 0xA, false, &event),
    );
    assert!(transmits(&mut e).is_empty());
    assert_eq!(e.stats(la).unwrap().counters.unknown_pt, 1);
}

#[test]
fn events_toward_a_leg_without_telephone_event_are_not_sent() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let mut b_map = CodecMap::pcmu();
    b_map.telephone_event = None;
    let (_, pa, lb, _) = pair(&mut e, t0, CodecMap::pcmu(), b_map);
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(101, 7, 800, 0xA, true, &[1, 0, 0, 160]),
    );
    assert!(transmits(&mut e).is_empty());
    assert_eq!(e.stats(lb).unwrap().counters.not_sent, 1);
}

#[test]
fn pcmu_and_pcma_legs_are_transcoded_both_ways() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (_, pa, _, pb) = pair(&mut e, t0, CodecMap::pcmu(), CodecMap::pcma());
    // A 1 kHz tone in µ-law from A, then every code word.
    let tone = crate::tone::Tone::dual(
        crate::tone::Component {
            hz: 1000.0,
            dbm0: -10.0,
        },
        crate::tone::Component {
            hz: 1400.0,
            dbm0: -10.0,
        },
        20,
    );
    let mut samples = [0i16; 160];
    tone.render(0, &mut samples);
    let mut ulaw = Vec::new();
    g711::encode_frame(Law::Ulaw, &samples, &mut ulaw);
    let every: Vec<u8> = (0..=255).collect();
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(0, 1, 0, 0xA, true, &ulaw),
    );
    e.handle_datagram(
        t0 + MS20,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(0, 2, 160, 0xA, false, &every),
    );
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 2);
    for ((h, got), sent) in out.iter().zip([&ulaw, &every]) {
        assert_eq!(h.pt, Pt::PCMA);
        let expect: Vec<u8> = sent
            .iter()
            .map(|&c| g711::transcode(Law::Ulaw, Law::Alaw, c))
            .collect();
        assert_eq!(got, &expect);
    }
    // B to A: A-law becomes µ-law.
    e.handle_datagram(
        t0,
        pb.rtp,
        addr("192.0.2.20:5000"),
        &packet(8, 1, 0, 0xB, true, &every),
    );
    let out = rtp_from(&transmits(&mut e), pa.rtp);
    assert_eq!(out[0].0.pt, Pt::PCMU);
    let expect: Vec<u8> = every
        .iter()
        .map(|&c| g711::transcode(Law::Alaw, Law::Ulaw, c))
        .collect();
    assert_eq!(out[0].1, expect);
}

#[test]
fn a_leg_that_negotiated_both_laws_gets_the_source_law_untouched() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let mut both = CodecMap::pcma();
    both.pcmu = Some(Pt::PCMU);
    let (_, pa, _, pb) = pair(&mut e, t0, CodecMap::pcmu(), both);
    let every: Vec<u8> = (0..=255).collect();
    e.handle_datagram(
        t0,
        pa.rtp,
        addr("10.0.0.5:4000"),
        &packet(0, 1, 0, 0xA, true, &every),
    );
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out[0].0.pt, Pt::PCMU);
    assert_eq!(out[0].1, every);
}

#[test]
fn fed_frames_are_transcoded_to_the_leg_and_events_keep_their_timestamp() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (lb, pb) = leg(&mut e, t0, CodecMap::pcma(), "192.0.2.20:5000");
    let ulaw: Vec<u8> = (0..160).map(|i| i as u8).collect();
    e.feed_frame(
        t0,
        lb,
        Frame::Audio {
            law: Law::Ulaw,
            codes: &ulaw,
        },
    )
    .unwrap();
    let ev = |d: u16| [1u8, 0x0A, (d >> 8) as u8, d as u8];
    e.feed_frame(
        t0 + MS20,
        lb,
        Frame::TelephoneEvent {
            payload: &ev(160),
            start: true,
        },
    )
    .unwrap();
    e.feed_frame(
        t0 + 2 * MS20,
        lb,
        Frame::TelephoneEvent {
            payload: &ev(320),
            start: false,
        },
    )
    .unwrap();
    e.feed_frame(
        t0 + 3 * MS20,
        lb,
        Frame::Audio {
            law: Law::Ulaw,
            codes: &ulaw,
        },
    )
    .unwrap();
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].0.pt, Pt::PCMA);
    let expect: Vec<u8> = ulaw
        .iter()
        .map(|&c| g711::transcode(Law::Ulaw, Law::Alaw, c))
        .collect();
    assert_eq!(out[0].1, expect);
    assert_eq!(out[1].0.pt.get(), 101);
    assert_eq!(out[1].0.ts, out[2].0.ts);
    assert!(out[1].0.marker && !out[2].0.marker);
    assert_eq!(out[1].0.ts.wrapping_sub(out[0].0.ts), 160);
    assert_eq!(out[3].0.ts.wrapping_sub(out[1].0.ts), 320);
    for w in out.windows(2) {
        assert_eq!(w[1].0.seq, w[0].0.seq.wrapping_add(1));
        assert_eq!(w[1].0.ssrc, w[0].0.ssrc);
    }
}

#[test]
fn feed_frame_refuses_what_cannot_be_sent() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (bare, _) = e.create_leg().unwrap();
    let frame = Frame::Audio {
        law: Law::Ulaw,
        codes: &[0; 160],
    };
    assert_eq!(
        e.feed_frame(t0, bare, frame),
        Err(EngineError::NoCodecs(bare))
    );
    let mut no_te = CodecMap::pcmu();
    no_te.telephone_event = None;
    e.set_codecs(bare, no_te).unwrap();
    assert_eq!(
        e.feed_frame(t0, bare, frame),
        Err(EngineError::NoDestination(bare))
    );
    assert_eq!(
        e.feed_frame(
            t0,
            bare,
            Frame::TelephoneEvent {
                payload: &[1, 0, 0, 160],
                start: true
            }
        ),
        Err(EngineError::NotNegotiated {
            leg: bare,
            kind: PayloadKind::TelephoneEvent
        })
    );
    assert_eq!(
        e.feed_frame(
            t0,
            bare,
            Frame::TelephoneEvent {
                payload: &[1, 0],
                start: true
            }
        ),
        Err(EngineError::ShortEvent)
    );
    e.release_leg(t0, bare).unwrap();
    assert_eq!(
        e.feed_frame(t0, bare, frame),
        Err(EngineError::UnknownLeg(bare))
    );
}

#[test]
fn connect_disconnect_and_release() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (la, pa, lb, pb) = pair(&mut e, t0, CodecMap::pcmu(), CodecMap::pcmu());
    let (lc, _) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.30:5000");
    assert_eq!(e.connect(la, lc), Err(EngineError::AlreadyConnected(la)));
    assert_eq!(e.connect(lc, lc), Err(EngineError::SameLeg(lc)));
    let from = addr("10.0.0.5:4000");
    let mut phone = Phone::new(0xA, 1, 0, 0);
    e.disconnect(lb).unwrap();
    e.handle_datagram(t0, pa.rtp, from, &phone.next(&[0; 160]));
    assert!(
        transmits(&mut e).is_empty(),
        "nothing relayed once disconnected"
    );
    e.connect(la, lc).unwrap();
    e.handle_datagram(t0 + MS20, pa.rtp, from, &phone.next(&[0; 160]));
    assert_eq!(transmits(&mut e)[0].to, addr("192.0.2.30:5000"));

    // Releasing sends RTCP BYE to the peer's RTCP port and frees the ports.
    let free = e.totals().port_pairs_free;
    let stats = e.release_leg(t0 + MS20, la).unwrap();
    assert_eq!(stats.counters.packets_in, 2);
    let out = transmits(&mut e);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].from_port, pa.rtcp);
    assert_eq!(out[0].to, addr("10.0.0.5:4001"));
    let bye = crate::rtcp::parse_compound(&out[0].contents).unwrap();
    assert_eq!(bye.bye, vec![stats.local_ssrc]);
    assert_eq!(e.totals().port_pairs_free, free + 1);
    assert_eq!(e.stats(la), Err(EngineError::UnknownLeg(la)));
    assert_eq!(e.release_leg(t0, la), Err(EngineError::UnknownLeg(la)));
    // Its ports are no one's now; C is free to connect again.
    e.handle_datagram(t0, pa.rtp, from, &phone.next(&[0; 160]));
    assert_eq!(e.totals().unknown_port, 1);
    e.connect(lc, lb).unwrap();
    let _ = pb;
    assert_eq!(e.totals().counters.packets_in, 2);
}
