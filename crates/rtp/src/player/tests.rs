//! Player pacing in virtual time: frame n is due at start + 20n ms whenever it is polled; stop is
//! immediate; loops repeat the frames; events come in order.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An announcement of `frames` frames, frame i filled with sample value 1000·(i+1).
fn audio(frames: usize) -> Arc<Announcement> {
    let pcm: Vec<i16> = (0..frames * 160)
        .map(|s| 1000 * (s / 160 + 1) as i16)
        .collect();
    Arc::new(Announcement::from_pcm("test", &pcm).unwrap())
}

fn drain(p: &mut Player, now: Instant) -> Vec<(u64, usize, Instant)> {
    let mut out = Vec::new();
    while let Some(f) = p.poll_frame(now) {
        out.push((f.seq, f.index, f.due));
    }
    out
}

#[test]
fn frames_are_due_every_20_ms_from_the_start_even_when_polled_late() {
    let t0 = Instant::now();
    let a = audio(5);
    let mut p = Player::new(a.clone(), Law::Alaw, Repeat::ONCE);
    assert_eq!(p.poll_timeout(), None);
    assert!(p.start(t0));
    assert!(!p.start(t0 + ms(1)));
    assert_eq!(p.poll_event(), Some(PlayEvent::Started));
    assert_eq!(p.poll_event(), None);
    assert_eq!(p.poll_timeout(), Some(t0));
    let f = p.poll_frame(t0).unwrap();
    assert_eq!((f.seq, f.index, f.due), (0, 0, t0));
    assert_eq!(f.payload, &a.frames(Law::Alaw)[0]);
    assert_eq!(f.payload[0], Law::Alaw.encode(1000));
    assert!(p.poll_frame(t0).is_none());
    assert_eq!(p.poll_timeout(), Some(t0 + ms(20)));
    assert!(p
        .poll_frame(t0 + ms(20) - Duration::from_nanos(1))
        .is_none());
    assert_eq!(drain(&mut p, t0 + ms(20)), vec![(1, 1, t0 + ms(20))]);
    // Polled 35 ms late: frames 2 and 3 come out together, each with its own due time.
    assert_eq!(
        drain(&mut p, t0 + ms(75)),
        vec![(2, 2, t0 + ms(40)), (3, 3, t0 + ms(60))]
    );
    // The late poll did not shift the schedule.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(80)));
    assert_eq!(drain(&mut p, t0 + ms(80)), vec![(4, 4, t0 + ms(80))]);
    // The last frame plays out until 100 ms; the end is reported then.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(100)));
    assert!(drain(&mut p, t0 + ms(99)).is_empty());
    assert!(p.is_playing());
    assert!(drain(&mut p, t0 + ms(100)).is_empty());
    assert_eq!(p.ended(), Some(EndReason::Completed));
    assert_eq!(p.poll_event(), Some(PlayEvent::Ended(EndReason::Completed)));
    assert_eq!(p.poll_event(), None);
    assert_eq!(p.poll_timeout(), None);
    assert_eq!(p.frames_sent(), 5);
}

#[test]
fn stop_midway_ends_at_once_with_no_more_frames() {
    let t0 = Instant::now();
    let mut p = Player::new(audio(10), Law::Ulaw, Repeat::ONCE);
    p.start(t0);
    assert_eq!(drain(&mut p, t0 + ms(40)).len(), 3);
    assert!(p.stop());
    assert!(!p.stop());
    assert_eq!(p.ended(), Some(EndReason::Stopped));
    assert_eq!(p.poll_timeout(), None);
    assert!(drain(&mut p, t0 + ms(10_000)).is_empty());
    assert_eq!(p.poll_event(), Some(PlayEvent::Started));
    assert_eq!(p.poll_event(), Some(PlayEvent::Ended(EndReason::Stopped)));
    assert_eq!(p.poll_event(), None);
}

#[test]
fn stop_before_start_reports_nothing() {
    let t0 = Instant::now();
    let mut p = Player::new(audio(1), Law::Ulaw, Repeat::ONCE);
    assert!(p.stop());
    assert!(!p.start(t0));
    assert_eq!(p.poll_event(), None);
    assert!(p.poll_frame(t0).is_none());
}

#[test]
fn loops_repeat_the_frames_on_the_same_grid() {
    let t0 = Instant::now();
    let three = Repeat::Times(NonZeroU32::new(3).unwrap());
    let mut p = Player::new(audio(2), Law::Ulaw, three);
    assert_eq!(p.total_frames(), Some(6));
    p.start(t0);
    let out = drain(&mut p, t0 + ms(1000));
    let seqs: Vec<_> = out.iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(seqs, [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0), (5, 1)]);
    assert!(out.iter().all(|&(seq, _, due)| due == t0 + ms(20 * seq)));
    // Played out at 120 ms; polled at 1 s, it is over.
    assert_eq!(p.ended(), Some(EndReason::Completed));
}

#[test]
fn forever_loops_until_stopped() {
    let t0 = Instant::now();
    let mut p = Player::new(audio(3), Law::Alaw, Repeat::Forever);
    assert_eq!(p.total_frames(), None);
    p.start(t0);
    // An hour of music on hold.
    let out = drain(&mut p, t0 + Duration::from_secs(3600));
    assert_eq!(out.len(), 180_001);
    let last = out.last().unwrap();
    assert_eq!(
        (last.0, last.1, last.2),
        (180_000, 0, t0 + Duration::from_secs(3600))
    );
    assert!(p.is_playing());
    p.stop();
    assert_eq!(p.ended(), Some(EndReason::Stopped));
}

proptest! {
    /// Whatever the polling pattern, each frame comes out exactly once, in order, at the first
    /// poll at or after start + 20·seq ms, never before.
    #[test]
    fn no_drift_under_any_polling(gaps in proptest::collection::vec(0u64..70_000, 1..300)) {
        let t0 = Instant::now();
        let mut p = Player::new(audio(7), Law::Ulaw, Repeat::Times(NonZeroU32::new(4).unwrap()));
        p.start(t0);
        let mut now = t0;
        let mut prev_poll = None;
        let mut expect = 0u64;
        for gap in gaps {
            now += Duration::from_micros(gap);
            for (seq, index, due) in drain(&mut p, now) {
                prop_assert_eq!(seq, expect);
                prop_assert_eq!(index, (seq % 7) as usize);
                prop_assert_eq!(due, t0 + ms(20 * seq));
                prop_assert!(due <= now);
                // Not already due at the previous poll.
                prop_assert!(prev_poll.is_none_or(|prev| due > prev));
                expect += 1;
            }
            prev_poll = Some(now);
        }
        prop_assert!(expect <= 28);
        let done = now >= t0 + ms(20 * 28);
        prop_assert_eq!(p.ended() == Some(EndReason::Completed), done);
    }
}
