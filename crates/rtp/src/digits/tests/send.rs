//! `send_digits`: RFC 4733 packets on a leg with telephone-event, tones on a leg without, paced by
//! the engine's timer on the leg's one stream, relayed audio muted meanwhile; and the commands it
//! refuses.

use super::*;

/// Runs every timer up to `until`; the RTP sent from `port` with the instant of the timer.
fn play_out(e: &mut MediaEngine, port: u16, until: Instant) -> Vec<(Instant, Out)> {
    let mut out = Vec::new();
    while let Some(t) = e.poll_timeout() {
        if t > until {
            break;
        }
        e.handle_timeout(t);
        out.extend(sent_from(e, port).into_iter().map(|o| (t, o)));
    }
    out
}

#[test]
fn keys_go_out_as_rfc4733_on_a_leg_with_telephone_event() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    e.send_digits(t0, a, "1#", 100, SendHow::Auto).unwrap();
    let out = play_out(&mut e, pa.rtp, t0 + Duration::from_secs(2));
    assert_eq!(out.len(), 14, "seven packets per key");
    assert!(out.iter().all(|(_, o)| o.header.pt.get() == 101));
    let packets: Vec<Out> = out.iter().map(|(_, o)| o.clone()).collect();
    assert_one_stream(&packets);
    for (key, chunk) in [(1u8, &out[..7]), (11, &out[7..])] {
        let (start, first) = &chunk[0];
        assert!(
            first.header.marker,
            "the first packet of a key has the marker bit"
        );
        assert!(chunk[1..].iter().all(|(_, o)| !o.header.marker));
        assert!(chunk.iter().all(|(_, o)| o.header.ts == first.header.ts));
        assert!(chunk.iter().all(|(_, o)| o.event().event == key));
        let durations: Vec<u16> = chunk.iter().map(|(_, o)| o.event().duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = chunk.iter().map(|(_, o)| o.event().end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        for (i, (at, _)) in chunk.iter().enumerate() {
            assert_eq!(*at, *start + MS20 * i as u32, "paced 20 ms apart");
        }
    }
    // The second key starts 100 ms after the first one's tone ended.
    assert_eq!(out[7].0 - out[0].0, Duration::from_millis(200));
    assert_ne!(out[0].1.header.ts, out[7].1.header.ts);
    assert!(e
        .poll_timeout()
        .is_none_or(|t| t > t0 + Duration::from_secs(2)));
}

#[test]
fn keys_go_out_as_tones_on_a_leg_without_telephone_event() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Alaw, None), PHONE_A);
    e.send_digits(t0, a, "1#", 100, SendHow::Auto).unwrap();
    let out = play_out(&mut e, pa.rtp, t0 + Duration::from_secs(2));
    // 100 ms of tone and 100 ms of silence per key, in 20 ms frames.
    assert_eq!(out.len(), 20);
    assert!(out
        .iter()
        .all(|(_, o)| o.header.pt == Pt::PCMA && o.payload.len() == 160));
    for (i, (at, _)) in out.iter().enumerate() {
        assert_eq!(*at, t0 + MS20 * i as u32);
    }
    let packets: Vec<Out> = out.iter().map(|(_, o)| o.clone()).collect();
    assert_one_stream(&packets);
    assert!(packets
        .windows(2)
        .all(|w| w[1].header.ts == w[0].header.ts.wrapping_add(160)));
    let payloads: Vec<Vec<u8>> = packets.iter().map(|o| o.payload.clone()).collect();
    let heard = detect(Law::Alaw, &payloads);
    assert_eq!(
        heard.iter().map(|h| h.0).collect::<Vec<_>>(),
        [Digit::One, Digit::Pound]
    );
    assert!(heard.iter().all(|h| h.1.abs_diff(100) <= 8), "{heard:?}");
}

#[test]
fn tones_follow_the_leg_packetization_and_can_be_asked_for_on_any_leg() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let mut map = codecs(Law::Ulaw, Some(101));
    map.ptime_ms = 30;
    let (a, pa) = leg(&mut e, t0, map, PHONE_A);
    e.send_digits(t0, a, "D", 150, SendHow::InBand).unwrap();
    let out = play_out(&mut e, pa.rtp, t0 + Duration::from_secs(2));
    assert_eq!(
        out.len(),
        9,
        "(150 + 100) ms in 30 ms frames, the last partly silent"
    );
    assert!(out
        .iter()
        .all(|(_, o)| o.header.pt == Pt::PCMU && o.payload.len() == 240));
    assert_eq!(out[1].0 - out[0].0, Duration::from_millis(30));
    let payloads: Vec<Vec<u8>> = out.iter().map(|(_, o)| o.payload.clone()).collect();
    assert_eq!(detect(Law::Ulaw, &payloads)[0].0, Digit::D);
}

#[test]
fn bad_commands_are_refused_and_queue_nothing() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    assert_eq!(
        e.send_digits(t0, a, "12x3", 100, SendHow::Auto),
        Err(EngineError::NotADtmfKey('x'))
    );
    let (no_te, _) = leg(&mut e, t0, codecs(Law::Alaw, None), PHONE_B);
    assert_eq!(
        e.send_digits(t0, no_te, "1", 100, SendHow::Rfc4733),
        Err(EngineError::NotNegotiated {
            leg: no_te,
            kind: PayloadKind::TelephoneEvent
        })
    );
    let (bare, _) = e.create_leg().unwrap();
    assert_eq!(
        e.send_digits(t0, bare, "1", 100, SendHow::Auto),
        Err(EngineError::NoCodecs(bare))
    );
    e.release_leg(t0, bare).unwrap();
    assert_eq!(
        e.send_digits(t0, bare, "1", 100, SendHow::Auto),
        Err(EngineError::UnknownLeg(bare))
    );
    assert_eq!(
        e.set_inband_conversion(bare, false),
        Err(EngineError::UnknownLeg(bare))
    );
    assert_eq!(
        EngineError::NotADtmfKey('x').to_string(),
        "'x' is not a DTMF key (0-9 * # A-D)"
    );
    // Nothing was queued: no RTP ever leaves.
    let out = play_out(&mut e, pa.rtp, t0 + Duration::from_secs(1));
    assert!(out.is_empty());
    // An empty string is nothing to do.
    e.send_digits(t0, a, "", 100, SendHow::Auto).unwrap();
    assert!(play_out(&mut e, pa.rtp, t0 + Duration::from_secs(1)).is_empty());
}

#[test]
fn relayed_audio_is_muted_while_local_keys_play_then_resumes_on_the_same_stream() {
    for (b_codecs, how) in [
        (codecs(Law::Ulaw, Some(101)), SendHow::Auto),
        (codecs(Law::Ulaw, None), SendHow::Auto),
        (codecs(Law::Ulaw, Some(101)), SendHow::InBand),
    ] {
        let mut c = call(codecs(Law::Ulaw, Some(101)), b_codecs);
        let t0 = c.t0;
        let b = c.b;
        let mut phone = Phone::new(0xA, 0, 101);
        let out = c.run_hooked(
            50,
            |k, now| vec![phone.audio(t0, now, &speech_frame(Law::Ulaw, k))],
            |e, k, now| {
                if k == 10 {
                    e.send_digits(now, b, "5", 100, how).unwrap();
                }
            },
        );
        assert_one_stream(&out);
        let speech: Vec<Vec<u8>> = (0..50).map(|k| speech_frame(Law::Ulaw, k)).collect();
        let relayed: Vec<usize> = out
            .iter()
            .filter_map(|o| speech.iter().position(|s| *s == o.payload))
            .collect();
        let local = out.len() - relayed.len();
        match how {
            // Seven event packets, at 200..320 ms; the audio is muted until the last one is out
            // (at 320 ms the timer runs first).
            SendHow::Rfc4733 | SendHow::Auto if b_codecs.telephone_event.is_some() => {
                assert_eq!(local, 7);
                assert_eq!(relayed, (0..10).chain(16..50).collect::<Vec<_>>());
            }
            // Ten tone frames (100 ms of tone, 100 ms of silence).
            _ => {
                assert_eq!(local, 10);
                assert_eq!(relayed, (0..10).chain(20..50).collect::<Vec<_>>());
                let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
                assert_eq!(detect(Law::Ulaw, &payloads)[0].0, Digit::Five);
            }
        }
        // The audio and events before and after are one stream; the first packet after the keys
        // marks the new talkspurt.
        let resumed = out
            .iter()
            .position(|o| o.payload == speech[relayed[10]])
            .unwrap();
        assert!(out[resumed].header.marker);
        assert!(c.e.stats(b).unwrap().counters.not_sent >= local as u64 - 1);
    }
}
