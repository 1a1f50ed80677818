//! RFC 4733 sender: turns queued keys into the telephone-event packets of one RTP stream, paced
//! in virtual time. Sans-IO: no socket, no clock, no SSRC and no sequence numbers.
//!
//! # How a leg drives it
//!
//! * [`DtmfSender::queue`] (or [`DtmfSender::queue_str`]) adds keys at `now`.
//! * At every [`DtmfSender::poll_timeout`] instant the leg calls [`DtmfSender::poll`] with `now`
//!   and `media_ts`, the RTP timestamp an audio packet sent at `now` would carry on this stream,
//!   and drains it until it returns `None`. Each [`EventPacket`] carries the marker bit, the
//!   absolute RTP timestamp and the four payload bytes; the leg adds its SSRC, its next sequence
//!   number and the telephone-event payload type the peer negotiated.
//! * The sender reads `media_ts` only when an event starts: that value (minus however late the
//!   poll is) becomes the event's timestamp, shared by every packet of the event (§2.5.1.2). An
//!   event longer than 0xFFFF clock ticks is cut into segments whose timestamps follow on
//!   (§2.5.1.3); only the event's first packet has the marker bit.
//! * While [`DtmfSender::is_playing`] is true the leg sends no audio on the stream.
//!
//! Packets go out every `packet_interval` from the event start; packet *k* reports the duration
//! up to the end of its interval, `(k + 1) × interval`, capped at the key's length. The packet
//! that reaches the length has the E bit and is sent `end_repeats` times in all, one interval
//! apart (§2.5.1.4). The next key starts `gap_ms` after the tone ends, and never before the last
//! end packet is out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::digit::{Digit, DigitError};
use super::event::{TelephoneEvent, PAYLOAD_LEN};

/// Largest duration one segment of an event can report (§2.5.1.3).
const SEGMENT_MAX: u64 = 0xFFFF;

/// How the sender paces and shapes events.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderConfig {
    /// RTP clock rate of the negotiated `telephone-event` format (8000 unless the SDP says else).
    pub clock_rate: u32,
    /// Spacing of the packets of an event: 20 ms, like the audio packets of a G.711 leg.
    pub packet_interval: Duration,
    /// Volume field, −dBm0 (10 = −10 dBm0, a typical DTMF level).
    pub volume: u8,
    /// How many times the final (E) packet is sent: 3, as RFC 4733 §2.5.1.4 recommends.
    pub end_repeats: u8,
    /// Tone length of keys queued without one: 100 ms.
    pub default_duration_ms: u32,
    /// Silence between the end of one tone and the start of the next: 100 ms.
    pub gap_ms: u32,
}

impl Default for SenderConfig {
    fn default() -> SenderConfig {
        SenderConfig {
            clock_rate: 8000,
            packet_interval: Duration::from_millis(20),
            volume: 10,
            end_repeats: 3,
            default_duration_ms: 100,
            gap_ms: 100,
        }
    }
}

/// One telephone-event packet for the leg to stamp with SSRC, sequence number and payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// RTP marker bit: set on the first packet of an event only.
    pub marker: bool,
    /// RTP timestamp: the start of the event (or of its current segment).
    pub timestamp: u32,
    /// The telephone-event payload.
    pub payload: [u8; PAYLOAD_LEN],
    /// The key this packet reports.
    pub digit: Digit,
    /// Whether this is an end packet (E bit set), original or repeat.
    pub end: bool,
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    digit: Digit,
    duration_ms: u32,
    queued_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Playing {
    digit: Digit,
    started: Instant,
    /// Length of the tone in clock ticks.
    total: u64,
    /// Timestamp of the current segment.
    segment_ts: u32,
    /// Ticks reported by earlier segments.
    segment_base: u64,
    /// Index of the next packet (its due time is `started + next × interval`).
    next: u32,
    /// End packets sent so far.
    ends_sent: u8,
}

/// The RFC 4733 sender of one stream.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    config: SenderConfig,
    queue: VecDeque<Queued>,
    playing: Option<Playing>,
    /// Earliest start of the next event.
    ready_at: Option<Instant>,
}

impl DtmfSender {
    pub fn new(config: SenderConfig) -> DtmfSender {
        DtmfSender {
            config,
            queue: VecDeque::new(),
            playing: None,
            ready_at: None,
        }
    }

    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// Queues a key with a tone length in ms (at least one packet interval is sent).
    pub fn queue(&mut self, now: Instant, digit: Digit, duration_ms: u32) {
        self.queue.push_back(Queued {
            digit,
            duration_ms,
            queued_at: now,
        });
    }

    /// Queues a string of keys (`"123#"`) with the default tone length; nothing is queued when a
    /// character is no key.
    pub fn queue_str(&mut self, now: Instant, keys: &str) -> Result<(), DigitError> {
        let digits = super::digit::parse_digits(keys)?;
        for d in digits {
            self.queue(now, d, self.config.default_duration_ms);
        }
        Ok(())
    }

    /// Keys queued and not yet started.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Whether an event is on the wire (from its first packet to its last end packet).
    pub fn is_playing(&self) -> bool {
        self.playing.is_some()
    }

    /// When the stream is free of this sender's events: `None` while an event is on the wire or
    /// keys are queued; else the end of the gap after the last event (which may be past), or
    /// `now` when nothing was ever sent. Other content (tones in band) starts no earlier.
    pub fn idle_from(&self, now: Instant) -> Option<Instant> {
        if self.playing.is_some() || !self.queue.is_empty() {
            return None;
        }
        Some(self.ready_at.map_or(now, |r| r.max(now)))
    }

    /// When [`DtmfSender::poll`] next has something to send; `None` when idle with nothing queued.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.playing {
            Some(p) => Some(self.due(p)),
            None => self.queue.front().map(|q| self.start_of(q)),
        }
    }

    /// The next packet due at `now`, if any; call until `None`. `media_ts` is the RTP timestamp of
    /// this stream at `now` (see the module comment).
    pub fn poll(&mut self, now: Instant, media_ts: u32) -> Option<EventPacket> {
        if self.playing.is_none() {
            let head = *self.queue.front()?;
            let start = self.start_of(&head);
            if now < start {
                return None;
            }
            self.queue.pop_front();
            let late = self.ticks(now.saturating_duration_since(start));
            let interval = self.interval_ticks();
            let total = (u64::from(head.duration_ms) * u64::from(self.config.clock_rate) / 1000)
                .max(interval);
            self.playing = Some(Playing {
                digit: head.digit,
                started: start,
                total,
                segment_ts: media_ts.wrapping_sub(late as u32),
                segment_base: 0,
                next: 0,
                ends_sent: 0,
            });
        }
        let mut p = self.playing?;
        if now < self.due(&p) {
            return None;
        }
        let interval = self.interval_ticks();
        let marker = p.next == 0;
        let packet_ts = p.segment_ts;
        let (duration, end) = if p.ends_sent > 0 {
            (p.total - p.segment_base, true)
        } else {
            let reached = (u64::from(p.next) + 1)
                .saturating_mul(interval)
                .min(p.total);
            if reached - p.segment_base > SEGMENT_MAX {
                // Close this segment at its largest duration and start the next one where it
                // ends (§2.5.1.3).
                p.segment_base += SEGMENT_MAX;
                p.segment_ts = p.segment_ts.wrapping_add(SEGMENT_MAX as u32);
                (SEGMENT_MAX, false)
            } else {
                (reached - p.segment_base, reached == p.total)
            }
        };
        if end {
            p.ends_sent += 1;
        }
        p.next += 1;
        let payload = TelephoneEvent {
            event: p.digit.event(),
            end,
            volume: self.config.volume,
            duration: duration as u16,
        }
        .encode();
        if end && p.ends_sent >= self.config.end_repeats.max(1) {
            let tone_end = p.started + self.duration_of(p.total);
            let after_last = self.due(&p);
            let gap = Duration::from_millis(u64::from(self.config.gap_ms));
            self.ready_at = Some((tone_end + gap).max(after_last));
            self.playing = None;
        } else {
            self.playing = Some(p);
        }
        Some(EventPacket {
            marker,
            timestamp: packet_ts,
            payload,
            digit: p.digit,
            end,
        })
    }

    fn start_of(&self, q: &Queued) -> Instant {
        match self.ready_at {
            Some(ready) => ready.max(q.queued_at),
            None => q.queued_at,
        }
    }

    fn due(&self, p: &Playing) -> Instant {
        p.started + self.config.packet_interval * p.next
    }

    fn interval_ticks(&self) -> u64 {
        self.ticks(self.config.packet_interval).max(1)
    }

    fn ticks(&self, d: Duration) -> u64 {
        (d.as_nanos() * u128::from(self.config.clock_rate) / 1_000_000_000) as u64
    }

    fn duration_of(&self, ticks: u64) -> Duration {
        let rate = u64::from(self.config.clock_rate.max(1));
        Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut DtmfSender, t0: Instant, until_ms: u64) -> Vec<(u64, EventPacket)> {
        let mut out = Vec::new();
        let mut now = t0;
        while let Some(due) = s.poll_timeout() {
            if due > t0 + Duration::from_millis(until_ms) {
                break;
            }
            now = now.max(due);
            let media_ts = 1000 + ((now - t0).as_millis() as u32) * 8;
            while let Some(p) = s.poll(now, media_ts) {
                out.push(((now - t0).as_millis() as u64, p));
            }
        }
        out
    }

    fn ev(p: &EventPacket) -> TelephoneEvent {
        TelephoneEvent::decode(&p.payload).unwrap()
    }

    #[test]
    fn one_key_is_paced_marked_and_ended_three_times() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        s.queue(t0, Digit::Five, 100);
        assert_eq!(s.poll_timeout(), Some(t0));
        let pkts = drain(&mut s, t0, 10_000);
        let times: Vec<u64> = pkts.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 20, 40, 60, 80, 100, 120]);
        let durations: Vec<u16> = pkts.iter().map(|(_, p)| ev(p).duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = pkts.iter().map(|(_, p)| ev(p).end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        assert!(pkts[0].1.marker && pkts[1..].iter().all(|(_, p)| !p.marker));
        assert!(pkts
            .iter()
            .all(|(_, p)| p.timestamp == 1000 && ev(p).event == 5));
        assert!(pkts.iter().all(|(_, p)| ev(p).volume == 10));
        assert!(!s.is_playing());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn keys_follow_each_other_after_the_gap_with_their_own_timestamps() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        s.queue_str(t0, "12").unwrap();
        s.queue(t0, Digit::Pound, 50);
        let pkts = drain(&mut s, t0, 10_000);
        let starts: Vec<(u64, u32, u8)> = pkts
            .iter()
            .filter(|(_, p)| p.marker)
            .map(|(t, p)| (*t, p.timestamp, ev(p).event))
            .collect();
        // Tone 100 ms + gap 100 ms per key; timestamps follow the media clock.
        assert_eq!(starts, [(0, 1000, 1), (200, 2600, 2), (400, 4200, 11)]);
        let last: Vec<u16> = pkts[pkts.len() - 3..]
            .iter()
            .map(|(_, p)| ev(p).duration)
            .collect();
        // 50 ms is not a whole number of packets: the end packet reports exactly 400 ticks.
        assert_eq!(last, [400, 400, 400]);
        assert_eq!(pkts.iter().filter(|(_, p)| p.end).count(), 9);
    }

    #[test]
    fn a_late_poll_backdates_the_event_timestamp_and_catches_up() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        s.queue(t0, Digit::Nine, 60);
        // Polled 45 ms late: the event started at t0, so its timestamp is media_ts − 360.
        let now = t0 + Duration::from_millis(45);
        let mut got = Vec::new();
        while let Some(p) = s.poll(now, 5360) {
            got.push(p);
        }
        assert_eq!(got.len(), 3, "packets due at 0, 20 and 40 ms");
        assert!(got.iter().all(|p| p.timestamp == 5000));
        assert_eq!(ev(&got[2]).duration, 480);
        assert!(ev(&got[2]).end);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(60)));
    }

    #[test]
    fn long_events_are_cut_into_segments() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        // 20 s = 160,000 ticks: segments of 65,535 + 65,535 + 28,930.
        s.queue(t0, Digit::Zero, 20_000);
        let pkts = drain(&mut s, t0, 100_000);
        let mut segs: Vec<(u32, u16)> = Vec::new();
        for (_, p) in &pkts {
            let d = ev(p).duration;
            match segs.last_mut() {
                Some((ts, max)) if *ts == p.timestamp => *max = (*max).max(d),
                _ => segs.push((p.timestamp, d)),
            }
        }
        assert_eq!(
            segs,
            [
                (1000, 0xFFFF),
                (1000 + 0xFFFF, 0xFFFF),
                (1000 + 2 * 0xFFFF, 28_930)
            ]
        );
        assert_eq!(pkts.iter().filter(|(_, p)| p.marker).count(), 1);
        assert_eq!(pkts.iter().filter(|(_, p)| p.end).count(), 3);
        assert!(pkts
            .iter()
            .filter(|(_, p)| p.end)
            .all(|(_, p)| ev(p).duration == 28_930));
    }

    #[test]
    fn timestamps_wrap() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        s.queue(t0, Digit::One, 40);
        let p = s.poll(t0 + Duration::from_millis(10), 40).unwrap();
        assert_eq!(p.timestamp, 40u32.wrapping_sub(80));
    }

    #[test]
    fn tiny_durations_still_send_one_packet_interval() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        s.queue(t0, Digit::A, 0);
        let pkts = drain(&mut s, t0, 1000);
        assert_eq!(pkts.len(), 3);
        assert!(pkts.iter().all(|(_, p)| p.end && ev(p).duration == 160));
        assert!(pkts[0].1.marker);
    }

    #[test]
    fn the_stream_is_free_after_the_last_end_packet_and_the_gap() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        assert_eq!(s.idle_from(t0), Some(t0), "nothing ever sent");
        s.queue(t0, Digit::Pound, 100);
        assert_eq!(s.idle_from(t0), None, "a key waits");
        let mut at = t0;
        let mut last_packet = t0;
        while let Some(due) = s.poll_timeout() {
            assert_eq!(s.idle_from(due), None, "a key is on the wire");
            at = due;
            while s.poll(at, 0).is_some() {
                last_packet = at;
            }
        }
        assert_eq!(last_packet, t0 + Duration::from_millis(120));
        // Tone 100 ms, then the 100 ms gap (the last end packet went out at 120 ms).
        let free = t0 + Duration::from_millis(200);
        assert_eq!(s.idle_from(at), Some(free));
        assert_eq!(s.idle_from(free + MS), Some(free + MS));
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_bad_key_string_queues_nothing() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(SenderConfig::default());
        assert!(s.queue_str(t0, "12x").is_err());
        assert_eq!(s.pending(), 0);
    }
}
