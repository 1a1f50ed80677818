//! In-band keys for one leg's outgoing stream: Q.23 tone pairs (the levels of
//! [`InbandConfig`](crate::dtmf::inband::InbandConfig)) cut into frames of the leg's packetization,
//! one frame per engine timer tick.
//!
//! Two kinds of key share one queue, played one after the other with a silent gap after each:
//! * **fixed**: a key of known length (`send_digits`);
//! * **live**: a key crossing from a leg that carries RFC 4733. Its tone starts when the far end's
//!   key goes down and lasts until the event's end gives its length, so the tone follows the key
//!   with no more delay than a frame. The receiving side keeps it alive with [`KeyTones::hold`] as
//!   event packets arrive; a live key that is no longer held (its leg was disconnected, or every
//!   packet stopped) ends by itself after [`LIVE_HOLD`].
//!
//! Pure and sans-IO: the engine asks [`KeyTones::next_due`], then [`KeyTones::render`] fills one
//! frame of linear samples, which the engine encodes and stamps on the leg's stream.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::dtmf::inband::InbandConfig;
use crate::dtmf::Digit;
use crate::tone::{Component, Tone, SAMPLE_RATE};

/// The shortest tone played: Q.24's 40 ms, which every receiver must accept.
pub const MIN_TONE_MS: u32 = 40;
/// A live key nobody has held for this long ends (more than the RFC 4733 receiver's 250 ms end
/// timeout, so a normal key is always ended by its event first).
pub const LIVE_HOLD: Duration = Duration::from_millis(300);
/// A tone long enough never to run out by itself (a day).
const OPEN_MS: u32 = 86_400_000;

fn samples(ms: u32) -> u64 {
    u64::from(ms) * u64::from(SAMPLE_RATE) / 1000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// Tone length in samples.
    Fixed(u64),
    /// Until the event's end is known, or nobody holds it after `held_until`.
    Live { held_until: Instant },
}

#[derive(Debug, Clone, Copy)]
struct Key {
    digit: Digit,
    length: Length,
    /// Silence after the tone, samples.
    gap: u64,
}

struct Playing {
    key: Key,
    tone: Tone,
    /// Next sample of the key (tone, then gap).
    pos: u64,
}

/// The in-band keys of one leg.
pub(crate) struct KeyTones {
    low_dbm0: f64,
    high_dbm0: f64,
    queue: VecDeque<Key>,
    playing: Option<Playing>,
    next_due: Option<Instant>,
    /// The end of the last frame sent: the leg's own audio stays muted until then.
    busy_until: Option<Instant>,
}

impl KeyTones {
    pub fn new(config: &InbandConfig) -> KeyTones {
        KeyTones {
            low_dbm0: config.low_dbm0,
            high_dbm0: config.high_dbm0,
            queue: VecDeque::new(),
            playing: None,
            next_due: None,
            busy_until: None,
        }
    }

    /// Whether a key is playing (tone or gap) or waiting.
    pub fn is_active(&self) -> bool {
        self.playing.is_some() || !self.queue.is_empty()
    }

    /// Whether the leg's own (relayed) audio is muted at `now`: while keys play, and until the
    /// end of the period the last frame covers.
    pub fn mutes(&self, now: Instant) -> bool {
        self.is_active() || self.busy_until.is_some_and(|t| now < t)
    }

    /// When the stream is free of these keys: `None` while a key plays (tone or gap) or waits;
    /// else the end of the period the last frame covered, or `now` if that is past.
    pub fn idle_from(&self, now: Instant) -> Option<Instant> {
        if self.is_active() {
            return None;
        }
        Some(self.busy_until.map_or(now, |t| t.max(now)))
    }

    /// When the next frame is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.next_due
    }

    /// Queues a key of `duration_ms` (at least [`MIN_TONE_MS`]) followed by `gap_ms` of silence.
    pub fn queue_fixed(&mut self, now: Instant, digit: Digit, duration_ms: u32, gap_ms: u32) {
        self.push(
            now,
            Key {
                digit,
                length: Length::Fixed(samples(duration_ms.max(MIN_TONE_MS))),
                gap: samples(gap_ms),
            },
        );
    }

    /// Starts (or queues) a key whose length is not known yet.
    pub fn start_live(&mut self, now: Instant, digit: Digit, gap_ms: u32) {
        self.push(
            now,
            Key {
                digit,
                length: Length::Live {
                    held_until: now + LIVE_HOLD,
                },
                gap: samples(gap_ms),
            },
        );
    }

    /// The far end's key is still down at `now`.
    pub fn hold(&mut self, now: Instant) {
        if let Some((key, _)) = self.live_mut() {
            if let Length::Live { held_until } = &mut key.length {
                *held_until = (*held_until).max(now + LIVE_HOLD);
            }
        }
    }

    /// The live key `digit` lasted `duration_ms`: its tone ends there (at least [`MIN_TONE_MS`],
    /// and never before what was already played). Nothing happens when no such key is live.
    pub fn end_live(&mut self, digit: Digit, duration_ms: u32) {
        if let Some((key, played)) = self.live_mut() {
            if key.digit == digit {
                key.length = Length::Fixed(samples(duration_ms.max(MIN_TONE_MS)).max(played));
            }
        }
    }

    /// The live key (at most one is open: the far end's next key comes after this one's end)
    /// and how much of it has played: the newest live one queued, else the one playing. Fixed
    /// keys may be queued behind it.
    fn live_mut(&mut self) -> Option<(&mut Key, u64)> {
        let live = |k: &Key| matches!(k.length, Length::Live { .. });
        if let Some(i) = self.queue.iter().rposition(live) {
            return self.queue.get_mut(i).map(|k| (k, 0));
        }
        let p = self.playing.as_mut().filter(|p| live(&p.key))?;
        Some((&mut p.key, p.pos))
    }

    fn push(&mut self, now: Instant, key: Key) {
        if !self.is_active() {
            self.next_due = Some(now);
        }
        self.queue.push_back(key);
    }

    /// Drops every key (the leg can no longer carry them).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.playing = None;
        self.next_due = None;
    }

    /// Fills the frame due at `due` (`out.len()` samples, the leg's packetization) and schedules
    /// the next one `interval` later while keys remain. Samples past the last key are silence.
    /// Returns false when the frame holds nothing of a key (the last one ended on the frame's
    /// edge): there is nothing to send.
    pub fn render(&mut self, due: Instant, interval: Duration, out: &mut [i16]) -> bool {
        let mut done = 0;
        while done < out.len() {
            if self.playing.is_none() {
                let Some(key) = self.queue.pop_front() else {
                    break;
                };
                self.playing = Some(self.start(key));
            }
            let Some(p) = self.playing.as_mut() else {
                break;
            };
            let tone_len = match p.key.length {
                Length::Fixed(n) => n,
                Length::Live { held_until } if due > held_until => {
                    // Nobody holds the key any more: end it here.
                    let n = p.pos.max(samples(MIN_TONE_MS));
                    p.key.length = Length::Fixed(n);
                    n
                }
                Length::Live { .. } => u64::MAX,
            };
            let rest = &mut out[done..];
            let take = if p.pos < tone_len {
                let n = ((tone_len - p.pos).min(rest.len() as u64)) as usize;
                p.tone.render(p.pos, &mut rest[..n]);
                n
            } else {
                let end = tone_len.saturating_add(p.key.gap);
                let n = ((end - p.pos).min(rest.len() as u64)) as usize;
                rest[..n].fill(0);
                n
            };
            p.pos += take as u64;
            done += take;
            if p.pos >= tone_len.saturating_add(p.key.gap) {
                self.playing = None;
            }
        }
        out[done..].fill(0);
        self.next_due = self.is_active().then_some(due + interval);
        if done > 0 {
            self.busy_until = Some(due + interval);
        }
        done > 0
    }

    fn start(&self, key: Key) -> Playing {
        let (low, high) = key.digit.frequencies();
        Playing {
            key,
            tone: Tone::dual(
                Component {
                    hz: low,
                    dbm0: self.low_dbm0,
                },
                Component {
                    hz: high,
                    dbm0: self.high_dbm0,
                },
                OPEN_MS,
            ),
            pos: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::detect::{DetectorEvent, DtmfDetector};

    const MS20: Duration = Duration::from_millis(20);

    /// Plays every frame due until idle; returns the samples and the number of frames.
    fn play(
        k: &mut KeyTones,
        t0: Instant,
        mut on_frame: impl FnMut(Instant, &mut KeyTones),
    ) -> Vec<i16> {
        let mut out = Vec::new();
        let mut frames = 0;
        while let Some(due) = k.next_due() {
            assert_eq!(
                due,
                t0 + MS20 * frames,
                "frames are paced one interval apart"
            );
            on_frame(due, k);
            let mut frame = [0i16; 160];
            if k.render(due, MS20, &mut frame) {
                out.extend_from_slice(&frame);
            }
            frames += 1;
            assert!(frames < 10_000);
        }
        out
    }

    fn detect(samples: &[i16]) -> Vec<(Digit, u64)> {
        let mut d = DtmfDetector::default();
        d.process(samples);
        d.flush();
        std::iter::from_fn(|| d.poll_event())
            .filter_map(|e| match e {
                DetectorEvent::DigitDetected {
                    digit, duration, ..
                } => Some((digit, duration)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fixed_keys_play_tone_then_gap_then_stop() {
        let t0 = Instant::now();
        let mut k = KeyTones::new(&InbandConfig::default());
        assert_eq!(k.next_due(), None);
        k.queue_fixed(t0, Digit::Seven, 100, 100);
        k.queue_fixed(t0, Digit::Pound, 10, 50);
        assert!(k.is_active());
        let s = play(&mut k, t0, |_, _| {});
        // 100 + 100 ms, then 40 ms (raised from 10) + 50 ms: 290 ms, in 15 frames.
        assert_eq!(s.len(), 15 * 160);
        assert!(s[800..1600].iter().all(|&x| x == 0));
        assert!(s[2320..].iter().all(|&x| x == 0));
        let keys = detect(&s);
        assert_eq!(
            keys.iter().map(|k| k.0).collect::<Vec<_>>(),
            [Digit::Seven, Digit::Pound]
        );
        assert!(keys[0].1.abs_diff(800) <= 64, "{keys:?}");
        assert!(!k.is_active());
    }

    #[test]
    fn a_live_key_lasts_until_its_end_is_known() {
        let t0 = Instant::now();
        let mut k = KeyTones::new(&InbandConfig::default());
        k.start_live(t0, Digit::Three, 60);
        let s = play(&mut k, t0, |at, k| {
            if at < t0 + Duration::from_millis(200) {
                k.hold(at);
            }
            if at == t0 + Duration::from_millis(200) {
                k.end_live(Digit::Three, 230);
            }
        });
        let keys = detect(&s);
        assert_eq!(keys.len(), 1);
        assert!(keys[0].1.abs_diff(230 * 8) <= 64, "{keys:?}");
        // 230 ms of tone and 60 ms of gap: 15 frames (the last one partly silent).
        assert_eq!(s.len(), 15 * 160);
    }

    #[test]
    fn an_end_shorter_than_what_played_stops_at_once_and_an_unheld_key_times_out() {
        let t0 = Instant::now();
        let mut k = KeyTones::new(&InbandConfig::default());
        k.start_live(t0, Digit::A, 0);
        let s = play(&mut k, t0, |at, k| {
            if at == t0 + Duration::from_millis(100) {
                k.end_live(Digit::A, 50);
            }
        });
        assert_eq!(
            s.len(),
            5 * 160,
            "the tone ends after what was already played"
        );
        // Never held nor ended: cut after LIVE_HOLD.
        k.start_live(t0, Digit::B, 0);
        let s = play(&mut k, t0, |_, _| {});
        let frames = s.len() / 160;
        assert_eq!(frames as u128, LIVE_HOLD.as_millis() / 20 + 1);
        // An end for another key is not this one's.
        k.start_live(t0, Digit::C, 0);
        k.end_live(Digit::D, 40);
        assert!(matches!(
            k.queue.back().map(|q| q.length),
            Some(Length::Live { .. })
        ));
        k.clear();
        assert!(!k.is_active() && k.next_due().is_none());
    }

    #[test]
    fn a_live_key_ends_even_with_fixed_keys_queued_behind_it() {
        let t0 = Instant::now();
        let mut k = KeyTones::new(&InbandConfig::default());
        k.start_live(t0, Digit::Six, 50);
        let s = play(&mut k, t0, |at, k| {
            if at == t0 + MS20 * 2 {
                k.queue_fixed(at, Digit::Star, 60, 100);
            }
            if at == t0 + MS20 * 4 {
                k.hold(at);
                k.end_live(Digit::Six, 100);
            }
        });
        let keys = detect(&s);
        let found: Vec<Digit> = keys.iter().map(|k| k.0).collect();
        assert_eq!(found, [Digit::Six, Digit::Star]);
        assert!(keys[0].1.abs_diff(800) <= 64, "{keys:?}");
        // 100 + 50 ms, then 60 + 100 ms.
        assert_eq!(s.len(), (150 + 160) / 20 * 160 + 160);
    }
}
