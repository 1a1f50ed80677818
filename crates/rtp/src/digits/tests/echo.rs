//! A far party that echoes: every RTP packet a leg sends comes straight back to it as the far
//! party's own (the PSTN simulator's 07xx numbers). Keys played on the leg come back and are heard
//! once each, whatever else is played on the leg and whenever it is asked for.

use super::*;

/// Runs every timer up to `until`. Each RTP packet B sends comes back into B `rtt` later
/// (the echo); timers fire `late` after their deadline, as on a real host. `hook` is called
/// after each step with the engine and the events of that step, and may command the engine.
/// Returns what B sent, in order, and every event.
fn run_echo(
    c: &mut Call,
    until: Instant,
    late: Duration,
    rtt: Duration,
    mut hook: impl FnMut(&mut MediaEngine, Instant, &[MediaEvent]),
) -> (Vec<Out>, Vec<MediaEvent>) {
    let mut sent = Vec::new();
    let mut evs = Vec::new();
    let mut echoes: std::collections::VecDeque<(Instant, Vec<u8>)> = Default::default();
    let mut now = c.t0;
    loop {
        let timer = c.e.poll_timeout().map(|t| t.max(now) + late);
        let echo = echoes.front().map(|p| p.0);
        let Some(next) = [timer, echo].into_iter().flatten().min() else {
            break;
        };
        if next > until {
            break;
        }
        now = next;
        if echo == Some(next) {
            while echoes.front().is_some_and(|p| p.0 <= now) {
                if let Some((_, d)) = echoes.pop_front() {
                    c.e.handle_datagram(now, c.pb.rtp, addr(PHONE_B), &d);
                }
            }
        } else {
            c.e.handle_timeout(now);
        }
        let step = events(&mut c.e);
        hook(&mut c.e, now, &step);
        evs.extend(step);
        while let Some(tx) = c.e.poll_transmit() {
            if tx.from_port == c.pb.rtp
                && crate::packet::demux(&tx.contents) == crate::packet::Demux::Rtp
            {
                let header = RtpHeader::parse(&tx.contents).unwrap();
                sent.push(Out {
                    header,
                    payload: header.payload(&tx.contents).to_vec(),
                });
                echoes.push_back((now + rtt, tx.contents.clone()));
            }
            c.e.recycle(tx.contents);
        }
    }
    (sent, evs)
}

/// Checks B's stream: one stream; every RFC 4733 event (told apart by its timestamp) has one key,
/// the marker on its first packet only, three end packets last, and starts after the previous
/// event's end; `keys` are the events in order. Returns the audio payloads sent after the last
/// event packet (none may come between event packets).
fn check_stream(sent: &[Out], keys: &str) -> Vec<Vec<u8>> {
    assert_one_stream(sent);
    let first_audio = sent.iter().position(|o| o.header.pt.get() != 101);
    let last_event = sent.iter().rposition(|o| o.header.pt.get() == 101);
    if let (Some(a), Some(e)) = (first_audio, last_event) {
        assert!(
            a > e,
            "tones in band only after the last event packet: audio at {a}, event at {e}"
        );
    }
    let events: Vec<&Out> = sent.iter().filter(|o| o.header.pt.get() == 101).collect();
    let mut runs: Vec<Vec<&Out>> = Vec::new();
    for o in events {
        match runs.last_mut() {
            Some(run) if run[0].header.ts == o.header.ts => run.push(o),
            _ => runs.push(vec![o]),
        }
    }
    let heard: String = runs
        .iter()
        .map(|r| Digit::from_event(r[0].event().event).unwrap().to_char())
        .collect();
    assert_eq!(heard, keys, "one event per key, in order");
    let mut end_of_previous: Option<u32> = None;
    for run in &runs {
        let ts = run[0].header.ts;
        assert!(run[0].header.marker, "an event starts with the marker bit");
        assert!(run[1..].iter().all(|o| !o.header.marker));
        assert!(run.iter().all(|o| o.event().event == run[0].event().event));
        let ends: Vec<bool> = run.iter().map(|o| o.event().end).collect();
        assert_eq!(ends.iter().filter(|e| **e).count(), 3, "three end packets");
        assert!(ends.iter().skip_while(|e| !**e).all(|e| *e), "ends last");
        if let Some(prev) = end_of_previous {
            assert!((ts.wrapping_sub(prev) as i32) >= 0, "events do not overlap");
        }
        let longest = run.iter().map(|o| o.event().duration).max().unwrap();
        end_of_previous = Some(ts.wrapping_add(u32::from(longest)));
    }
    let audio: Vec<Vec<u8>> = sent
        .iter()
        .filter(|o| o.header.pt.get() != 101)
        .map(|o| o.payload.clone())
        .collect();
    if let (Some(a), Some(end)) = (first_audio, end_of_previous) {
        let ts = sent[a].header.ts;
        assert!(
            (ts.wrapping_sub(end) as i32) >= 0,
            "the tones start after the last event's end"
        );
    }
    audio
}

/// "12#" as RFC 4733 to an echo, then "5" in band asked for when `when` says (given the
/// instant and the events of each step), with real-world timing. The echo's keys are heard once
/// each as RFC 4733, the tones are in the audio after the events, the stream stays one stream.
fn events_then_tones(late: Duration, rtt: Duration, when: impl Fn(Instant, &[MediaEvent]) -> bool) {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Ulaw, Some(101)));
    let (t0, b) = (c.t0, c.b);
    c.e.send_digits(t0, b, "12#", 100, SendHow::Auto).unwrap();
    let mut asked = false;
    let (sent, evs) = run_echo(
        &mut c,
        t0 + Duration::from_secs(4),
        late,
        rtt,
        |e, now, step| {
            if !asked && when(now, step) {
                asked = true;
                e.send_digits(now, b, "5", 100, SendHow::InBand).unwrap();
            }
        },
    );
    assert!(asked);
    let got: Vec<(LegId, char, DigitSource)> = digits(&evs)
        .into_iter()
        .map(|(leg, d, _, how)| (leg, d.to_char(), how))
        .collect();
    let want: Vec<(LegId, char, DigitSource)> = "12#"
        .chars()
        .map(|k| (b, k, DigitSource::Rfc4733))
        .collect();
    assert_eq!(
        got, want,
        "each key of the echo heard once, nothing for the tones"
    );
    let audio = check_stream(&sent, "12#");
    let tones: Vec<Digit> = detect(Law::Ulaw, &audio).iter().map(|k| k.0).collect();
    assert_eq!(
        tones,
        [Digit::Five],
        "the key played in band is in the audio"
    );
}

#[test]
fn tones_asked_for_as_the_echo_reports_the_last_event_do_not_bring_it_back() {
    // The first end packet of '#' comes back: its two repeats are still to be sent.
    for (late_us, rtt_us) in [(0, 0), (1000, 200), (1500, 3000), (5000, 25_000)] {
        events_then_tones(
            Duration::from_micros(late_us),
            Duration::from_micros(rtt_us),
            |_, step| keys(step) == "#",
        );
    }
}

#[test]
fn tones_asked_for_at_any_moment_of_the_events_wait_for_them() {
    let t0 = Instant::now();
    for ms in [0u64, 30, 150, 290, 410, 500, 519, 521, 560, 700, 1500] {
        events_then_tones(
            Duration::from_micros(700),
            Duration::from_micros(300),
            |now, _| now >= t0 + Duration::from_millis(ms),
        );
    }
}

#[test]
fn events_asked_for_while_tones_play_wait_for_them() {
    let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Ulaw, Some(101)));
    let (t0, b) = (c.t0, c.b);
    c.e.send_digits(t0, b, "5", 100, SendHow::InBand).unwrap();
    c.e.send_digits(t0 + MS20, b, "7", 100, SendHow::Auto)
        .unwrap();
    let (sent, evs) = run_echo(
        &mut c,
        t0 + Duration::from_secs(2),
        Duration::ZERO,
        Duration::ZERO,
        |_, _, _| {},
    );
    assert_eq!(keys(&evs), "7");
    assert_one_stream(&sent);
    let first_event = sent.iter().position(|o| o.header.pt.get() == 101).unwrap();
    assert!(sent[first_event..].iter().all(|o| o.header.pt.get() == 101));
    let audio: Vec<Vec<u8>> = sent[..first_event]
        .iter()
        .map(|o| o.payload.clone())
        .collect();
    assert_eq!(
        audio.len(),
        10,
        "100 ms of tone and 100 ms of silence, then the event"
    );
    let tones: Vec<Digit> = detect(Law::Ulaw, &audio).iter().map(|k| k.0).collect();
    assert_eq!(tones, [Digit::Five]);
}
