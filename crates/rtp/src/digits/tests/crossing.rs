//! Keys crossing a connected pair of legs in the form each leg carries: events renumbered between
//! two telephone-event legs, events turned into tones for a leg without, tones passed through as
//! audio, and the key reported once, on the leg it came in on.

use super::*;
use crate::dtmf::inband::{InbandConfig, InbandGenerator};
use crate::g711::transcode;

/// A phone that talks, and from `key_at` sends `keys` as RFC 4733 events (with or without
/// audio alongside).
fn rfc4733_phone(
    t0: Instant,
    key_at: Instant,
    keys: &[(Digit, u32)],
    audio_during_events: bool,
) -> impl FnMut(u32, Instant) -> Vec<Vec<u8>> {
    let mut phone = Phone::new(0xA, 0, 101);
    let mut sender = DtmfSender::new(SenderConfig::default());
    for (d, ms) in keys {
        sender.queue(key_at, *d, *ms);
    }
    move |k, now| {
        let mut out = Vec::new();
        let media_ts = phone.ts_at(t0, now);
        while let Some(ev) = sender.poll(now, media_ts) {
            out.push(phone.event(&ev));
        }
        if out.is_empty() || audio_during_events {
            out.push(phone.audio(t0, now, &speech_frame(Law::Ulaw, k)));
        }
        out
    }
}

#[test]
fn events_between_two_telephone_event_legs_are_renumbered_and_reported_once() {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Ulaw, Some(96)));
    let plan = rfc4733_phone(c.t0, c.t0 + MS20 * 10, &[(Digit::Seven, 100)], false);
    let out = c.run(40, plan);
    let evs = events(&mut c.e);
    assert_eq!(
        digits(&evs),
        [(c.a, Digit::Seven, 100, DigitSource::Rfc4733)]
    );
    let pts: Vec<u8> = out.iter().map(|o| o.header.pt.get()).collect();
    assert!(pts.iter().all(|&pt| pt == 0 || pt == 96), "{pts:?}");
    let ev: Vec<&Out> = out.iter().filter(|o| o.header.pt.get() == 96).collect();
    assert_eq!(ev.len(), 7, "every event packet reaches B");
    assert!(ev[0].header.marker && ev[1..].iter().all(|o| !o.header.marker));
    assert!(ev.iter().all(|o| o.header.ts == ev[0].header.ts));
    let durations: Vec<u16> = ev.iter().map(|o| o.event().duration).collect();
    assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
    assert_eq!(ev.iter().filter(|o| o.event().end).count(), 3);
    assert!(ev.iter().all(|o| o.event().event == 7));
    assert_eq!(out.len() - ev.len(), 40 - 7, "the audio is relayed too");
    assert_one_stream(&out);
}

#[test]
fn events_toward_a_leg_without_telephone_event_become_tones_on_one_stream() {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Alaw, None));
    let keys = [(Digit::Nine, 200), (Digit::Pound, 100)];
    let plan = rfc4733_phone(c.t0, c.t0 + MS20 * 10, &keys, true);
    let out = c.run(60, plan);
    let evs = events(&mut c.e);
    assert_eq!(
        digits(&evs),
        [
            (c.a, Digit::Nine, 200, DigitSource::Rfc4733),
            (c.a, Digit::Pound, 100, DigitSource::Rfc4733)
        ]
    );
    // No event packet reaches B: everything is PCMA, on one continuous stream.
    assert!(out.iter().all(|o| o.header.pt == Pt::PCMA), "{out:?}");
    assert_eq!(out.len(), 60, "one frame every 20 ms, relayed or tone");
    assert_one_stream(&out);
    // The tones B hears are the keys, about as long as A held them.
    let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
    let heard = detect(Law::Alaw, &payloads);
    assert_eq!(
        heard.iter().map(|h| h.0).collect::<Vec<_>>(),
        [Digit::Nine, Digit::Pound],
        "{heard:?}"
    );
    for ((_, got), (_, want)) in heard.iter().zip(keys) {
        assert!(
            got.abs_diff(u64::from(want)) <= 25,
            "{got} ms for {want} ms"
        );
    }
    // A's speech is relayed before the first key and again after the last one, transcoded.
    let relayed = |k: u32| -> Vec<u8> {
        speech_frame(Law::Ulaw, k)
            .iter()
            .map(|&c| transcode(Law::Ulaw, Law::Alaw, c))
            .collect()
    };
    for k in 0..10 {
        assert_eq!(out[k as usize].payload, relayed(k), "frame {k}");
    }
    for k in 40..60 {
        assert_eq!(out[k as usize].payload, relayed(k), "frame {k}");
    }
    // While the tones played, A's audio toward B was muted.
    let b = c.e.stats(c.b).unwrap();
    assert!(b.counters.not_sent >= 15, "{:?}", b.counters);
}

#[test]
fn a_leg_that_gets_its_keys_otherwise_can_turn_the_tones_off() {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Ulaw, None));
    c.e.set_inband_conversion(c.b, false).unwrap();
    let plan = rfc4733_phone(c.t0, c.t0 + MS20 * 5, &[(Digit::Two, 100)], true);
    let out = c.run(30, plan);
    assert_eq!(keys(&events(&mut c.e)), "2", "still reported");
    assert_eq!(out.len(), 30);
    assert!(out.iter().all(|o| o.header.pt == Pt::PCMU));
    let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
    assert!(detect(Law::Ulaw, &payloads).is_empty());
}

/// What A's phone sends at each tick.
trait Plan: FnMut(u32, Instant) -> Vec<Vec<u8>> {}
impl<F: FnMut(u32, Instant) -> Vec<Vec<u8>>> Plan for F {}

/// A phone without telephone-event: speech, then the keys in band, then speech. Also returns
/// every frame it sends.
fn inband_phone(t0: Instant, keys: &str, speech_after: bool) -> (impl Plan, Vec<Vec<u8>>) {
    let mut phone = Phone::new(0xA, 0, 101);
    let mut generator = InbandGenerator::new(InbandConfig::default());
    generator.queue_str(keys).unwrap();
    let mut frames: Vec<Vec<u8>> = (0..10).map(|k| speech_frame(Law::Ulaw, k)).collect();
    while let Some(f) = generator.next_frame() {
        frames.push(f.iter().map(|&s| Law::Ulaw.encode(s)).collect());
    }
    if speech_after {
        for k in 0..10 {
            frames.push(speech_frame(Law::Ulaw, 100 + k));
        }
    }
    let sent = frames.clone();
    let plan = move |k: u32, now| match frames.get(k as usize) {
        Some(f) => vec![phone.audio(t0, now, f)],
        None => Vec::new(),
    };
    (plan, sent)
}

#[test]
fn tones_from_a_leg_without_telephone_event_are_reported_and_pass_through_unchanged() {
    let mut c = call(codecs(Law::Ulaw, None), codecs(Law::Ulaw, Some(101)));
    let (plan, sent) = inband_phone(c.t0, "42", true);
    let out = c.run(sent.len() as u32, plan);
    let evs = events(&mut c.e);
    let got = digits(&evs);
    assert_eq!(keys(&evs), "42", "{evs:?}");
    for (leg, _, ms, how) in &got {
        assert_eq!((*leg, *how), (c.a, DigitSource::InBand));
        assert!(ms.abs_diff(100) <= 8, "{got:?}");
    }
    let started = evs
        .iter()
        .filter(|ev| {
            matches!(ev, MediaEvent::DigitStarted { leg, how: DigitSource::InBand, .. } if *leg == c.a)
        })
        .count();
    assert_eq!(started, 2);
    // B gets A's audio byte for byte and no events: the tones carry the keys.
    assert!(out.iter().all(|o| o.header.pt == Pt::PCMU));
    let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
    assert_eq!(payloads, sent);
    assert_eq!(
        detect(Law::Ulaw, &payloads)
            .iter()
            .map(|h| h.0)
            .collect::<Vec<_>>(),
        [Digit::Four, Digit::Two]
    );
}

#[test]
fn a_key_whose_audio_stops_is_released_by_the_engine_timer() {
    let mut c = call(codecs(Law::Alaw, None), codecs(Law::Alaw, None));
    let mut phone = Phone::new(0xA, 8, 101);
    let mut generator = InbandGenerator::new(InbandConfig::default());
    generator.queue(Digit::Eight, 100);
    let t0 = c.t0;
    // Five frames of tone, then the phone falls silent.
    for k in 0..5u32 {
        let now = t0 + MS20 * k;
        let frame: Vec<u8> = generator
            .next_frame()
            .unwrap()
            .iter()
            .map(|&s| Law::Alaw.encode(s))
            .collect();
        c.e.handle_datagram(now, c.pa.rtp, addr(PHONE_A), &phone.audio(t0, now, &frame));
        run_timers(&mut c.e, now);
    }
    let last = t0 + MS20 * 4;
    assert_eq!(keys(&events(&mut c.e)), "", "still down");
    run_timers(&mut c.e, last + AUDIO_SILENCE - Duration::from_millis(1));
    assert_eq!(keys(&events(&mut c.e)), "");
    run_timers(&mut c.e, last + AUDIO_SILENCE);
    let evs = events(&mut c.e);
    assert_eq!(keys(&evs), "8");
    assert!(digits(&evs)[0].2.abs_diff(100) <= 8, "{evs:?}");
}

#[test]
fn legs_with_telephone_event_are_not_listened_to_in_band() {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Ulaw, None));
    let (plan, sent) = inband_phone(c.t0, "1", false);
    let out = c.run(sent.len() as u32, plan);
    assert_eq!(keys(&events(&mut c.e)), "");
    assert_eq!(out.len(), sent.len(), "the audio is relayed");
}
