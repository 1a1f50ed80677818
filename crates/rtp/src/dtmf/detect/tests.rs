//! Q.24 conformance of the detector: frequencies, timing, twist, levels, noise and talk-off.

use super::*;
use crate::dtmf::inband::{InbandConfig, InbandGenerator};
use crate::dtmf::testkit::Rng;
use crate::g711::Law;
use crate::tone::{Component, Tone};

const MS: usize = 8;

/// A two-tone burst at arbitrary frequencies and levels.
fn pair(low: (f64, f64), high: (f64, f64), ms: u32) -> Vec<i16> {
    let tone = Tone {
        components: vec![
            Component {
                hz: low.0,
                dbm0: low.1,
            },
            Component {
                hz: high.0,
                dbm0: high.1,
            },
        ],
        on_ms: ms,
        off_ms: 0,
        repeat: Some(1),
    };
    let mut out = vec![0i16; ms as usize * MS];
    tone.render(0, &mut out);
    out
}

/// A key's nominal pair at the generator's levels, scaled in frequency.
fn key(d: Digit, low_dev: f64, high_dev: f64, ms: u32) -> Vec<i16> {
    let (l, h) = d.frequencies();
    pair(
        (l * (1.0 + low_dev), -9.0),
        (h * (1.0 + high_dev), -7.0),
        ms,
    )
}

fn silence(ms: usize) -> Vec<i16> {
    vec![0; ms * MS]
}

/// Runs a detector over the signal (then flushes) and returns the finished keys.
fn detect(signal: &[i16]) -> Vec<(Digit, u64, u64)> {
    let mut det = DtmfDetector::default();
    det.process(signal);
    det.flush();
    finished(&mut det)
}

fn finished(det: &mut DtmfDetector) -> Vec<(Digit, u64, u64)> {
    std::iter::from_fn(|| det.poll_event())
        .filter_map(|e| match e {
            DetectorEvent::DigitDetected {
                digit,
                start,
                duration,
            } => Some((digit, start, duration)),
            DetectorEvent::DigitOn { .. } => None,
        })
        .collect()
}

fn keys_of(found: &[(Digit, u64, u64)]) -> String {
    found.iter().map(|(d, ..)| d.to_char()).collect()
}

fn add_noise(signal: &mut [i16], rms: f64, rng: &mut Rng) {
    for s in signal.iter_mut() {
        let v = f64::from(*s) + rms * rng.gauss();
        *s = v.round().clamp(-32768.0, 32767.0) as i16;
    }
}

fn rms(signal: &[i16]) -> f64 {
    (signal.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / signal.len() as f64).sqrt()
}

#[test]
fn every_key_is_detected_with_its_start_and_length() {
    for d in Digit::ALL {
        for lead in [0usize, 13, 29, 50] {
            let mut sig = vec![0i16; 80 * MS + lead];
            sig.extend(key(d, 0.0, 0.0, 100));
            sig.extend(silence(100));
            let found = detect(&sig);
            assert_eq!(found.len(), 1, "{d} lead {lead}: {found:?}");
            let (got, start, duration) = found[0];
            assert_eq!(got, d);
            let true_start = (80 * MS + lead) as i64;
            assert!(
                (start as i64 - true_start).abs() <= 26,
                "{d}: start {start} vs {true_start}"
            );
            assert!(
                (duration as i64 - 800).abs() <= 52,
                "{d}: duration {duration}"
            );
        }
    }
}

#[test]
fn keys_survive_both_g711_laws() {
    for law in [Law::Ulaw, Law::Alaw] {
        let mut gen = InbandGenerator::new(InbandConfig::default());
        gen.queue_str("0123456789*#ABCD").unwrap();
        let mut det = DtmfDetector::default();
        while let Some(frame) = gen.next_frame() {
            let coded: Vec<i16> = frame.iter().map(|&s| law.decode(law.encode(s))).collect();
            det.process(&coded);
        }
        det.flush();
        assert_eq!(keys_of(&finished(&mut det)), "0123456789*#ABCD", "{law:?}");
    }
}

#[test]
fn on_and_detected_events_pair_up() {
    let mut det = DtmfDetector::default();
    let mut sig = silence(20);
    sig.extend(key(Digit::Nine, 0.0, 0.0, 80));
    det.process(&sig);
    // Recognised about 30 ms into the tone, before it ends.
    assert_eq!(det.key_down(), Some(Digit::Nine));
    let on = det.poll_event().unwrap();
    assert!(matches!(
        on,
        DetectorEvent::DigitOn {
            digit: Digit::Nine,
            ..
        }
    ));
    assert_eq!(det.poll_event(), None);
    det.process(&silence(60));
    assert_eq!(det.key_down(), None);
    let done = det.poll_event().unwrap();
    assert_eq!(done.digit(), Digit::Nine);
    match (on, done) {
        (
            DetectorEvent::DigitOn { start: a, .. },
            DetectorEvent::DigitDetected { start: b, .. },
        ) => {
            assert_eq!(a, b)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn frequency_deviation_of_1_5_percent_is_accepted() {
    for d in Digit::ALL {
        for (lo, hi) in [
            (0.015, 0.015),
            (-0.015, -0.015),
            (0.015, -0.015),
            (-0.015, 0.015),
        ] {
            let mut sig = silence(30);
            sig.extend(key(d, lo, hi, 60));
            sig.extend(silence(60));
            assert_eq!(keys_of(&detect(&sig)), d.to_string(), "{d} {lo} {hi}");
        }
    }
}

#[test]
fn frequency_deviation_of_3_5_percent_is_rejected() {
    for d in Digit::ALL {
        for (lo, hi) in [
            (0.035, 0.0),
            (-0.035, 0.0),
            (0.0, 0.035),
            (0.0, -0.035),
            (0.035, 0.035),
            (-0.035, -0.035),
        ] {
            let mut sig = silence(30);
            sig.extend(key(d, lo, hi, 200));
            sig.extend(silence(60));
            assert_eq!(detect(&sig), [], "{d} {lo} {hi}");
        }
    }
}

/// Tone-on / tone-off sequence of all sixteen keys.
fn sequence(on_ms: u32, off_ms: usize, lead: usize) -> Vec<i16> {
    let mut sig = vec![0i16; lead];
    for d in Digit::ALL {
        sig.extend(key(d, 0.0, 0.0, on_ms));
        sig.extend(silence(off_ms));
    }
    sig.extend(silence(60));
    sig
}

#[test]
fn forty_ms_keys_with_forty_ms_pauses_are_all_detected() {
    for lead in (0..HOP).step_by(5) {
        let found = detect(&sequence(40, 40, lead));
        assert_eq!(keys_of(&found), "0123456789*#ABCD", "lead {lead}");
        for (d, _, duration) in found {
            assert!((duration as i64 - 320).abs() <= 52, "{d} lasted {duration}");
        }
    }
    // The same at −1.5 % and with the weaker levels of a twisted pair.
    for lead in (0..HOP).step_by(10) {
        let mut sig = vec![0i16; lead];
        for d in Digit::ALL {
            let (l, h) = d.frequencies();
            sig.extend(pair((l * 0.985, -20.0), (h * 1.015, -27.0), 40));
            sig.extend(silence(40));
        }
        sig.extend(silence(60));
        assert_eq!(keys_of(&detect(&sig)), "0123456789*#ABCD", "lead {lead}");
    }
}

#[test]
fn twenty_ms_bursts_are_not_keys() {
    for lead in 0..HOP {
        assert_eq!(detect(&sequence(20, 40, lead)), [], "lead {lead}");
    }
}

#[test]
fn a_twenty_ms_break_does_not_split_a_key() {
    for lead in (0..HOP).step_by(3) {
        let mut sig = vec![0i16; lead + 80];
        sig.extend(key(Digit::Four, 0.0, 0.0, 60));
        sig.extend(silence(20));
        sig.extend(key(Digit::Four, 0.0, 0.0, 60));
        sig.extend(silence(60));
        let found = detect(&sig);
        assert_eq!(keys_of(&found), "4", "lead {lead}");
        assert!((found[0].2 as i64 - 1120).abs() <= 52, "{found:?}");
    }
}

#[test]
fn a_key_repeated_after_forty_ms_is_two_keys() {
    for lead in (0..HOP).step_by(3) {
        let mut sig = vec![0i16; lead + 80];
        sig.extend(key(Digit::Four, 0.0, 0.0, 60));
        sig.extend(silence(40));
        sig.extend(key(Digit::Four, 0.0, 0.0, 60));
        sig.extend(silence(60));
        assert_eq!(keys_of(&detect(&sig)), "44", "lead {lead}");
    }
}

#[test]
fn twist_inside_the_limits_is_accepted_and_outside_rejected() {
    for d in Digit::ALL {
        let (l, h) = d.frequencies();
        let run = |low_db: f64, high_db: f64| {
            let mut sig = silence(30);
            sig.extend(pair((l, low_db), (h, high_db), 60));
            sig.extend(silence(60));
            keys_of(&detect(&sig))
        };
        let one = d.to_string();
        // Low group louder ("normal" twist): 8 dB accepted, 11 dB rejected.
        assert_eq!(run(-6.0, -14.0), one, "{d} normal 8 dB");
        assert_eq!(run(-6.0, -17.0), "", "{d} normal 11 dB");
        // High group louder ("reverse" twist): 4 dB accepted, 7 dB rejected.
        assert_eq!(run(-10.0, -6.0), one, "{d} reverse 4 dB");
        assert_eq!(run(-12.0, -5.0), "", "{d} reverse 7 dB");
    }
}

#[test]
fn levels_down_to_minus_25_dbm0_are_detected_and_quiet_pairs_are_not() {
    for d in Digit::ALL {
        let (l, h) = d.frequencies();
        let run = |low: (f64, f64), high: (f64, f64)| {
            let mut sig = silence(30);
            sig.extend(pair(low, high, 60));
            sig.extend(silence(60));
            keys_of(&detect(&sig))
        };
        assert_eq!(
            run((l, -25.0), (h, -25.0)),
            d.to_string(),
            "{d} at -25 dBm0"
        );
        assert_eq!(
            run((l * 1.015, -25.0), (h * 0.985, -27.0)),
            d.to_string(),
            "{d} weak, off"
        );
        assert_eq!(run((l, 0.0), (h, 0.0)), d.to_string(), "{d} at 0 dBm0");
        assert_eq!(run((l, -45.0), (h, -45.0)), "", "{d} at -45 dBm0");
        assert_eq!(run((l, -20.0), (h, -45.0)), "", "{d} one tone quiet");
    }
}

#[test]
fn keys_are_detected_in_white_noise_at_15_db_snr() {
    let mut rng = Rng::new(15);
    let mut clean = silence(50);
    for d in Digit::ALL {
        clean.extend(key(d, 0.0, 0.0, 50));
        clean.extend(silence(50));
    }
    // Noise power 15 dB below the pair's power (−9 and −7 dBm0: −4.9 dBm0 together).
    let pair_rms = rms(&key(Digit::One, 0.0, 0.0, 100));
    let noise_rms = pair_rms * 10f64.powf(-15.0 / 20.0);
    for run in 0..4 {
        let mut sig = clean.clone();
        add_noise(&mut sig, noise_rms, &mut rng);
        let found = detect(&sig);
        assert_eq!(keys_of(&found), "0123456789*#ABCD", "run {run}");
        for (d, _, duration) in found {
            assert!((duration as i64 - 400).abs() <= 60, "{d} lasted {duration}");
        }
    }
}

#[test]
fn white_noise_alone_is_never_a_key() {
    let mut rng = Rng::new(7);
    for dbm0 in [-40.0, -20.0, -10.0, 0.0] {
        let mut sig = silence(10_000);
        add_noise(&mut sig, amplitude(dbm0) / 2f64.sqrt(), &mut rng);
        assert_eq!(detect(&sig), [], "{dbm0} dBm0");
    }
}

#[test]
fn single_tones_and_their_harmonics_are_never_keys() {
    let mut sig = Vec::new();
    let mut hz = 300.0;
    while hz < 3400.0 {
        for dbm0 in [-20.0, -3.0] {
            let tone = Tone {
                components: vec![Component { hz, dbm0 }],
                on_ms: 100,
                off_ms: 0,
                repeat: Some(1),
            };
            let mut out = vec![0i16; 800];
            tone.render(0, &mut out);
            sig.extend(out);
        }
        hz += 7.0;
    }
    assert_eq!(detect(&sig), [], "single tones");
    // A tone with its second and third harmonics, as a clipped or buzzing source makes.
    let mut sig = Vec::new();
    let mut hz = 300.0;
    while hz < 1000.0 {
        let tone = Tone {
            components: vec![
                Component { hz, dbm0: -10.0 },
                Component {
                    hz: 2.0 * hz,
                    dbm0: -14.0,
                },
                Component {
                    hz: 3.0 * hz,
                    dbm0: -18.0,
                },
            ],
            on_ms: 100,
            off_ms: 0,
            repeat: Some(1),
        };
        let mut out = vec![0i16; 800];
        tone.render(0, &mut out);
        sig.extend(out);
        hz += 3.0;
    }
    assert_eq!(detect(&sig), [], "harmonic series");
}

/// Speech-like signal: syllables of a voiced source (a band-limited pulse train whose pitch
/// glides and wobbles, 80–260 Hz) through three gliding formant resonators, with syllabic
/// envelopes, unvoiced (noise) consonants and pauses.
fn speech_like(seconds: usize, rng: &mut Rng) -> Vec<i16> {
    let fs = f64::from(SAMPLE_RATE);
    let total = seconds * SAMPLE_RATE as usize;
    let mut out = Vec::with_capacity(total);
    let mut phase = 0.0f64;
    while out.len() < total {
        let syl = (rng.range(0.12, 0.35) * fs) as usize;
        let voiced = rng.unit() < 0.8;
        let f0_a = rng.range(80.0, 260.0);
        let f0_b = f0_a * rng.range(0.8, 1.25);
        let vib_hz = rng.range(3.0, 7.0);
        let formants: Vec<(f64, f64, f64)> = [(250.0, 950.0), (800.0, 2400.0), (2200.0, 3300.0)]
            .iter()
            .map(|&(lo, hi)| (rng.range(lo, hi), rng.range(lo, hi), rng.range(60.0, 150.0)))
            .collect();
        let level = amplitude(rng.range(-30.0, -8.0));
        let mut state = [[0.0f64; 2]; 3];
        for n in 0..syl {
            let t = n as f64 / syl as f64;
            let env = (PI * t).sin().powf(0.7);
            let src = if voiced {
                let f0 = (f0_a + (f0_b - f0_a) * t)
                    * (1.0 + 0.02 * (2.0 * PI * vib_hz * n as f64 / fs).sin())
                    * (1.0 + 0.005 * rng.gauss());
                phase += 2.0 * PI * f0 / fs;
                let harmonics = (3400.0 / f0) as usize;
                (1..=harmonics)
                    .map(|k| (k as f64 * phase).sin() / k as f64)
                    .sum::<f64>()
            } else {
                rng.gauss()
            };
            // Formants in parallel: two-pole resonators at gliding centre frequencies.
            let mut v = 0.0;
            for (i, &(fa, fb, bw)) in formants.iter().enumerate() {
                let f = fa + (fb - fa) * t;
                let r = (-PI * bw / fs).exp();
                let a1 = 2.0 * r * (2.0 * PI * f / fs).cos();
                let a2 = -r * r;
                let y = (1.0 - r) * src + a1 * state[i][0] + a2 * state[i][1];
                state[i][1] = state[i][0];
                state[i][0] = y;
                v += y / (i + 1) as f64;
            }
            out.push(v * env);
        }
        // Normalize the syllable to its level, then a pause.
        let start = out.len() - syl;
        let peak = out[start..]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-9);
        for v in &mut out[start..] {
            *v *= level / peak;
        }
        let pause = (rng.range(0.02, 0.25) * fs) as usize;
        out.extend(std::iter::repeat_n(0.0, pause));
    }
    out.iter()
        .map(|v| v.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[test]
fn speech_like_signals_do_not_talk_off() {
    let mut rng = Rng::new(2024);
    let speech = speech_like(180, &mut rng);
    let found = detect(&speech);
    assert_eq!(found, [], "false keys in 180 s of speech-like signal");
    // With background noise as well.
    let mut noisy = speech.clone();
    add_noise(&mut noisy, amplitude(-40.0), &mut rng);
    assert_eq!(detect(&noisy), [], "false keys in noisy speech-like signal");
}

#[test]
fn keys_are_heard_over_speech_like_background() {
    let mut rng = Rng::new(99);
    let background = speech_like(4, &mut rng);
    let mut sig: Vec<i16> = background.iter().map(|&s| s / 4).collect();
    let mut at = 2000;
    for d in Digit::ALL {
        for (slot, s) in sig[at..].iter_mut().zip(key(d, 0.0, 0.0, 60)) {
            *slot = slot.saturating_add(s);
        }
        at += 1600;
    }
    assert_eq!(keys_of(&detect(&sig)), "0123456789*#ABCD");
}

#[test]
fn chunking_does_not_change_what_is_heard() {
    let mut rng = Rng::new(3);
    let mut sig = sequence(45, 45, 17);
    add_noise(&mut sig, 300.0, &mut rng);
    let mut whole = DtmfDetector::default();
    whole.process(&sig);
    let expected: Vec<_> = std::iter::from_fn(|| whole.poll_event()).collect();
    assert_eq!(expected.len(), 32);
    for sizes in [
        vec![1usize],
        vec![7, 160, 3],
        vec![160],
        vec![1000, 1, 51, 102],
    ] {
        let mut det = DtmfDetector::default();
        let mut rest = &sig[..];
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let take = (*size).min(rest.len());
            det.process(&rest[..take]);
            rest = &rest[take..];
        }
        let got: Vec<_> = std::iter::from_fn(|| det.poll_event()).collect();
        assert_eq!(got, expected, "chunks {sizes:?}");
        assert_eq!(det.samples_seen(), sig.len() as u64);
    }
}

#[test]
fn the_generator_round_trips_through_the_detector_for_every_key() {
    let mut gen = InbandGenerator::new(InbandConfig {
        default_duration_ms: 40,
        gap_ms: 40,
        ..InbandConfig::default()
    });
    gen.queue_str("0123456789*#ABCD").unwrap();
    let mut det = DtmfDetector::default();
    while let Some(frame) = gen.next_frame() {
        det.process(&frame);
    }
    det.flush();
    let found = finished(&mut det);
    assert_eq!(keys_of(&found), "0123456789*#ABCD");
    for (i, (_, start, _)) in found.iter().enumerate() {
        let true_start = (i * 80 * MS) as i64;
        assert!(
            (*start as i64 - true_start).abs() <= 26,
            "key {i} at {start}"
        );
    }
}

/// How many of the 51 alignments against the window grid detect `signal` as `want` keys.
fn alignments_detecting(signal: &[i16], want: usize) -> usize {
    (0..HOP)
        .filter(|&lead| {
            let mut sig = vec![0i16; 400 + lead];
            sig.extend_from_slice(signal);
            sig.extend(silence(80));
            detect(&sig).len() == want
        })
        .count()
}

#[test]
fn the_tone_and_pause_length_boundaries_sit_between_q24s_limits() {
    // Tones: never a key up to 26 ms, always one from 34 ms (Q.24: reject 20, accept 40).
    for ms in 20..=40u32 {
        let hits = alignments_detecting(&key(Digit::Five, 0.0, 0.0, ms), 1);
        if ms <= 26 {
            assert_eq!(hits, 0, "{ms} ms tone");
        }
        if ms >= 34 {
            assert_eq!(hits, HOP, "{ms} ms tone");
        }
    }
    // Pauses between two tones of the same key: always bridged up to 24 ms, always two keys
    // from 31 ms (Q.24: bridge 20, split 40).
    for ms in 20..=40usize {
        let mut sig = key(Digit::Five, 0.0, 0.0, 60);
        sig.extend(silence(ms));
        sig.extend(key(Digit::Five, 0.0, 0.0, 60));
        let splits = alignments_detecting(&sig, 2);
        if ms <= 24 {
            assert_eq!(splits, 0, "{ms} ms pause");
        }
        if ms >= 31 {
            assert_eq!(splits, HOP, "{ms} ms pause");
        }
    }
}
