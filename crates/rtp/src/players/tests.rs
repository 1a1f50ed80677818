//! The playback set driven as the media driver will drive it, in virtual time.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use super::*;
use crate::announce::{music_on_hold, zip_tone};
use crate::player::EndReason;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn audio(frames: usize) -> Arc<Announcement> {
    let pcm: Vec<i16> = (0..frames * 160)
        .map(|s| 500 * (s / 160 + 1) as i16)
        .collect();
    Arc::new(Announcement::from_pcm("test", &pcm).unwrap())
}

/// Runs the set as a perfect driver would (waking exactly at each deadline) until `until`,
/// returning (poll time, output) pairs.
fn run(p: &mut Playbacks<u32>, until: Instant) -> Vec<(Instant, PlayOutput<u32>)> {
    let mut out = Vec::new();
    while let Some(at) = p.poll_timeout() {
        if at > until {
            break;
        }
        p.handle_timeout(at);
        while let Some(o) = p.poll_output() {
            out.push((at, o));
        }
    }
    out
}

#[test]
fn each_target_gets_its_frames_on_its_own_grid() {
    let t0 = Instant::now();
    let mut p = Playbacks::new(t0);
    let a = audio(4);
    let zip = Arc::new(zip_tone());
    let starts = [t0, t0 + Duration::from_micros(7_300), t0 + ms(13)];
    let ids = [
        p.play(starts[0], 1, a.clone(), Law::Ulaw, Repeat::ONCE),
        p.play(starts[1], 2, zip.clone(), Law::Alaw, Repeat::ONCE),
        p.play(
            starts[2],
            3,
            a.clone(),
            Law::Alaw,
            Repeat::Times(NonZeroU32::new(2).unwrap()),
        ),
    ];
    assert_eq!(p.len(), 3);
    assert_eq!(p.poll_timeout(), Some(t0));
    // Started events are queued by play().
    for (k, id) in ids.iter().enumerate() {
        match p.poll_output() {
            Some(PlayOutput::Event(e)) => {
                assert_eq!(
                    (e.id, e.target, e.event),
                    (*id, k as u32 + 1, PlayEvent::Started)
                )
            }
            other => panic!("{other:?}"),
        }
    }
    let out = run(&mut p, t0 + ms(10_000));
    let mut frames: HashMap<u32, Vec<DueFrame<u32>>> = HashMap::new();
    let mut ended = HashMap::new();
    for (at, o) in out {
        match o {
            PlayOutput::Frame(f) => {
                assert_eq!(f.due, at, "a perfect driver sends every frame on time");
                frames.entry(f.target).or_default().push(f);
            }
            PlayOutput::Event(e) => {
                assert!(ended.insert(e.target, (at, e.event)).is_none());
            }
        }
    }
    let expect = [
        (1u32, &a, Law::Ulaw, 4usize),
        (2, &zip, Law::Alaw, 20),
        (3, &a, Law::Alaw, 8),
    ];
    for (k, (target, audio, law, count)) in expect.into_iter().enumerate() {
        let got = &frames[&target];
        assert_eq!(got.len(), count, "target {target}");
        for (n, f) in got.iter().enumerate() {
            assert_eq!(f.seq, n as u64);
            assert_eq!(f.due, starts[k] + ms(20 * n as u64));
            assert_eq!(f.law, law);
            assert_eq!(f.payload(), &audio.frames(law)[n % audio.frame_count()]);
        }
        let end = starts[k] + ms(20 * count as u64);
        assert_eq!(
            ended[&target],
            (end, PlayEvent::Ended(EndReason::Completed))
        );
    }
    assert!(p.is_empty());
    assert!(!p.is_playing(ids[0]));
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn stop_is_immediate_and_leaves_the_others_playing() {
    let t0 = Instant::now();
    let mut p = Playbacks::new(t0);
    let moh = Arc::new(music_on_hold());
    let a = p.play(t0, 1, moh.clone(), Law::Ulaw, Repeat::Forever);
    let b = p.play(t0, 2, moh.clone(), Law::Ulaw, Repeat::Forever);
    run(&mut p, t0 + ms(100));
    assert_eq!(p.frames_sent(a), Some(6));
    // Frames of `a` queued by a late poll and not yet sent are withdrawn by stop.
    p.handle_timeout(t0 + ms(150));
    assert!(p.stop(a));
    assert!(!p.stop(a));
    assert!(!p.is_playing(a));
    let mut out = Vec::new();
    while let Some(o) = p.poll_output() {
        out.push(o);
    }
    assert!(out
        .iter()
        .all(|o| !matches!(o, PlayOutput::Frame(f) if f.target == 1)));
    assert!(out
        .iter()
        .any(|o| matches!(o, PlayOutput::Frame(f) if f.target == 2)));
    assert!(matches!(
        out.last(),
        Some(PlayOutput::Event(PlaybackEvent {
            target: 1,
            event: PlayEvent::Ended(EndReason::Stopped),
            ..
        }))
    ));
    for (_, o) in run(&mut p, t0 + ms(1000)) {
        match o {
            PlayOutput::Frame(f) => assert_eq!(f.target, 2),
            PlayOutput::Event(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(p.frames_sent(b), Some(51));
    // A reused slot does not answer to the old id.
    let c = p.play(t0 + ms(1000), 3, moh, Law::Alaw, Repeat::Forever);
    assert_ne!(a, c);
    assert!(!p.stop(a) && p.is_playing(c));
    assert_eq!(p.stop_target(&2), 1);
    assert_eq!(p.stop_target(&2), 0);
    assert_eq!(p.len(), 1);
}

#[test]
fn a_late_poll_sends_the_backlog_with_each_frame_s_own_due_time() {
    let t0 = Instant::now();
    let mut p = Playbacks::new(t0);
    p.play(t0, 9, audio(50), Law::Ulaw, Repeat::ONCE);
    p.handle_timeout(t0 + ms(105));
    let dues: Vec<Instant> = std::iter::from_fn(|| p.poll_output())
        .filter_map(|o| match o {
            PlayOutput::Frame(f) => Some(f.due),
            PlayOutput::Event(_) => None,
        })
        .collect();
    assert_eq!(dues, (0..6).map(|n| t0 + ms(20 * n)).collect::<Vec<_>>());
    assert_eq!(p.poll_timeout(), Some(t0 + ms(120)));
}

#[test]
fn two_thousand_playbacks_each_send_fifty_frames_a_second() {
    let t0 = Instant::now();
    let mut p = Playbacks::new(t0);
    let moh = Arc::new(music_on_hold());
    for k in 0..2000u32 {
        // Starts spread over the 20 ms period, 10 µs apart.
        let start = t0 + Duration::from_micros(10 * u64::from(k));
        p.play(start, k, moh.clone(), Law::Ulaw, Repeat::Forever);
    }
    let mut per_target = vec![0u32; 2000];
    for (at, o) in run(&mut p, t0 + ms(1000)) {
        if let PlayOutput::Frame(f) = o {
            assert_eq!(f.due, at);
            per_target[f.target as usize] += 1;
        }
    }
    // Frames at 0, 20, …, 980 ms after each start (the 1,000 ms one is past `until` for most).
    assert!(
        per_target.iter().all(|&n| n == 50 || n == 51),
        "{per_target:?}"
    );
}
