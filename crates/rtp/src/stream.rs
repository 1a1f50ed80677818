//! The outgoing RTP stream of one leg: Tether's own SSRC, and sequence numbers and timestamps that
//! stay continuous whatever feeds the stream — the relayed far end (whose SSRC may change), an
//! announcement or mixer frame, an RFC 4733 event — so the receiver's jitter buffer never resets.
//!
//! Rules:
//! - While one relayed source keeps speaking, its packets map through fixed offsets
//!   (`seq + Δseq`, `ts + Δts`): its gaps, reordering and silence suppression pass through as
//!   they are, and its marker bits are kept.
//! - When the source changes (another relayed SSRC, a local frame after relayed packets, relayed
//!   packets after local frames, or a sequence jump of more than 100 within one SSRC), the stream
//!   re-anchors: the next sequence number follows the highest sent, and the timestamp follows the
//!   media clock, which runs on from the end of the last packet sent by the wall-clock time elapsed
//!   since (so a 2 s pause advances it by 16,000 samples), never backwards. Audio packets that
//!   start a new source carry the marker bit.
//! - Local audio frames follow each other sample-exact while they come on time; a frame that comes
//!   more than a frame late starts a new talkspurt (timestamp jump by the elapsed time, marker).
//! - RFC 4733 events keep the timestamp of their first packet for every later packet of the event,
//!   whatever else (audio frames) goes out on the stream between them: only a new event's start
//!   gives a new timestamp; their duration field moves the media clock.
//! - A relayed packet older than the current source's first packet (reordered across a source
//!   change) is not sent: its sequence number would fall among the previous source's.

use std::time::{Duration, Instant};

use crate::codec::PayloadKind;
use crate::Ssrc;

/// Samples at 8 kHz in `d`, rounded to the nearest.
pub(crate) fn samples_in(d: Duration) -> u64 {
    ((d.as_nanos() * 8 + 500_000) / 1_000_000) as u64
}

/// Where the packets of a stream come from; a change re-anchors sequence and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Relay(Ssrc),
    Local,
}

/// The header fields chosen for one outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamped {
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
}

/// How a locally produced payload relates to the stream's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTiming {
    /// An audio frame of this many samples.
    Audio { samples: u32 },
    /// The first packet of a new RFC 4733 event whose duration field says `duration`.
    EventStart { duration: u32 },
    /// A later packet (update or end) of the current event.
    EventUpdate { duration: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Relay {
    seq_offset: u16,
    ts_offset: u32,
    /// Highest sequence number received from the source.
    last_in_seq: u16,
    /// How far `last_in_seq` is ahead of the source's first packet (saturating): a late packet
    /// further behind than this predates the source change.
    span: u16,
}

/// Sequence and timestamp state of one outgoing stream.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: Ssrc,
    /// Highest sequence number sent (modulo 2^16); the initial value is one before the first.
    highest_seq: u16,
    /// The media clock: at `clock_at` the stream's timestamp had reached `clock_ts` (the end of the
    /// last packet sent).
    clock_at: Option<Instant>,
    clock_ts: u32,
    source: Option<Source>,
    relay: Option<Relay>,
    /// Timestamp of the current local event and its last duration.
    event: Option<(u32, u32)>,
    /// Packets and payload octets sent (for the sender report).
    packets: u32,
    octets: u32,
    last_sent: Option<Instant>,
}

impl OutStream {
    /// A stream with `ssrc` whose first packet gets `first_seq` and whose clock starts at `first_ts`
    /// (RFC 3550 wants both random).
    pub fn new(ssrc: Ssrc, first_seq: u16, first_ts: u32) -> OutStream {
        OutStream {
            ssrc,
            highest_seq: first_seq.wrapping_sub(1),
            clock_at: None,
            clock_ts: first_ts,
            source: None,
            relay: None,
            event: None,
            packets: 0,
            octets: 0,
            last_sent: None,
        }
    }

    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The stream's media clock at `now`: where the next packet's media ends if it were sampled
    /// up to `now`.
    pub fn clock_at(&self, now: Instant) -> u32 {
        match self.clock_at {
            Some(at) => self
                .clock_ts
                .wrapping_add(samples_in(now.saturating_duration_since(at)) as u32),
            None => self.clock_ts,
        }
    }

    /// The start timestamp for a new source's packet of `samples` at `now`: the clock minus the
    /// packet's own length, but never before the end of the last packet sent.
    fn anchored_ts(&self, now: Instant, samples: u32) -> u32 {
        let elapsed = match self.clock_at {
            Some(at) => samples_in(now.saturating_duration_since(at)),
            None => u64::from(samples),
        };
        let ahead = elapsed.saturating_sub(u64::from(samples)) as u32;
        self.clock_ts.wrapping_add(ahead)
    }

    fn next_seq(&mut self) -> u16 {
        self.highest_seq = self.highest_seq.wrapping_add(1);
        self.highest_seq
    }

    fn advance_clock(&mut self, now: Instant, end_ts: u32) {
        // The clock never runs backwards (a late relayed packet does not pull it back).
        if self.clock_at.is_none() || (end_ts.wrapping_sub(self.clock_ts) as i32) > 0 {
            self.clock_ts = end_ts;
        }
        self.clock_at = Some(now);
    }

    fn account(&mut self, now: Instant, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last_sent = Some(now);
    }

    /// Stamps a relayed packet of source `ssrc` (`seq`, `ts`, `marker` as received). `media` is
    /// its length in samples (audio) or its event duration (telephone-event). `None`: too old to
    /// send (from before the current source's start).
    #[allow(clippy::too_many_arguments)]
    pub fn stamp_relay(
        &mut self,
        now: Instant,
        ssrc: Ssrc,
        seq: u16,
        ts: u32,
        marker: bool,
        kind: PayloadKind,
        media: u32,
        payload_len: usize,
    ) -> Option<Stamped> {
        let continuing = match (self.source, self.relay) {
            (Some(Source::Relay(current)), Some(r)) if current == ssrc => {
                let jump = (seq.wrapping_sub(r.last_in_seq) as i16).unsigned_abs();
                jump <= 100
            }
            _ => false,
        };
        let stamped = if let (true, Some(mut r)) = (continuing, self.relay) {
            let ahead = seq.wrapping_sub(r.last_in_seq) as i16;
            if ahead > 0 {
                r.last_in_seq = seq;
                r.span = r.span.saturating_add(ahead.unsigned_abs());
            } else if ahead.unsigned_abs() > r.span {
                return None;
            }
            self.relay = Some(r);
            let out_seq = seq.wrapping_add(r.seq_offset);
            if (out_seq.wrapping_sub(self.highest_seq) as i16) > 0 {
                self.highest_seq = out_seq;
            }
            Stamped {
                seq: out_seq,
                ts: ts.wrapping_add(r.ts_offset),
                marker,
            }
        } else {
            let out_ts = self.anchored_ts(now, media);
            let out_seq = self.next_seq();
            self.relay = Some(Relay {
                seq_offset: out_seq.wrapping_sub(seq),
                ts_offset: out_ts.wrapping_sub(ts),
                last_in_seq: seq,
                span: 0,
            });
            self.source = Some(Source::Relay(ssrc));
            Stamped {
                seq: out_seq,
                ts: out_ts,
                marker: marker || matches!(kind, PayloadKind::Audio(_)),
            }
        };
        self.advance_clock(now, stamped.ts.wrapping_add(media));
        self.account(now, payload_len);
        Some(stamped)
    }

    /// Stamps a locally produced payload (announcement, mixer, tone or event generator).
    pub fn stamp_local(
        &mut self,
        now: Instant,
        timing: LocalTiming,
        payload_len: usize,
    ) -> Stamped {
        let fresh = self.source != Some(Source::Local);
        self.source = Some(Source::Local);
        self.relay = None;
        let stamped = match timing {
            LocalTiming::Audio { samples } => {
                // The current event, if any, keeps its timestamp: an audio frame between two of
                // its packets must not turn the next one into the start of a new event.
                let late = match self.clock_at {
                    Some(at) => {
                        samples_in(now.saturating_duration_since(at)) > 2 * u64::from(samples)
                    }
                    None => false,
                };
                let (ts, marker) = if fresh || late {
                    (self.anchored_ts(now, samples), true)
                } else {
                    (self.clock_ts, false)
                };
                self.advance_clock(now, ts.wrapping_add(samples));
                Stamped {
                    seq: self.next_seq(),
                    ts,
                    marker,
                }
            }
            LocalTiming::EventStart { duration } => {
                let ts = self.anchored_ts(now, duration);
                self.event = Some((ts, duration));
                self.advance_clock(now, ts.wrapping_add(duration));
                Stamped {
                    seq: self.next_seq(),
                    ts,
                    marker: true,
                }
            }
            LocalTiming::EventUpdate { duration } => {
                let ts = match self.event {
                    Some((ts, _)) => ts,
                    // An update without a start: treat it as the start of an event.
                    None => self.anchored_ts(now, duration),
                };
                let marker = self.event.is_none();
                self.event = Some((ts, duration));
                self.advance_clock(now, ts.wrapping_add(duration));
                Stamped {
                    seq: self.next_seq(),
                    ts,
                    marker,
                }
            }
        };
        self.account(now, payload_len);
        stamped
    }

    /// Packets and payload octets sent so far (RFC 3550 sender info counters).
    pub fn sent(&self) -> (u32, u32) {
        (self.packets, self.octets)
    }

    /// When the last packet was sent.
    pub fn last_sent(&self) -> Option<Instant> {
        self.last_sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Law;

    const AUDIO: PayloadKind = PayloadKind::Audio(Law::Ulaw);
    const MS20: Duration = Duration::from_millis(20);

    #[test]
    fn relayed_source_maps_through_offsets_and_keeps_gaps() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 1000, 50_000);
        let a = s
            .stamp_relay(t0, Ssrc(7), 10, 900, false, AUDIO, 160, 160)
            .unwrap();
        assert_eq!((a.seq, a.ts, a.marker), (1000, 50_000, true));
        // seq 12 (11 lost) 40 ms later.
        let b = s
            .stamp_relay(t0 + 2 * MS20, Ssrc(7), 12, 1220, false, AUDIO, 160, 160)
            .unwrap();
        assert_eq!((b.seq, b.ts, b.marker), (1002, 50_320, false));
        // 11 arrives late: still mapped.
        let c = s
            .stamp_relay(t0 + 2 * MS20, Ssrc(7), 11, 1060, false, AUDIO, 160, 160)
            .unwrap();
        assert_eq!((c.seq, c.ts), (1001, 50_160));
        // Older than the source's first packet: refused.
        assert!(s
            .stamp_relay(t0 + 2 * MS20, Ssrc(7), 9, 740, false, AUDIO, 160, 160)
            .is_none());
    }

    #[test]
    fn a_long_relayed_stream_wraps_without_a_seam() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 7, 0);
        let mut prev: Option<Stamped> = None;
        for i in 0..140_000u32 {
            let seq = (i + 100) as u16;
            let now = t0 + MS20 * i;
            let st = s
                .stamp_relay(now, Ssrc(7), seq, i * 160, false, AUDIO, 160, 160)
                .unwrap_or_else(|| panic!("packet {i} refused"));
            if let Some(p) = prev {
                assert_eq!(st.seq, p.seq.wrapping_add(1));
                assert_eq!(st.ts, p.ts.wrapping_add(160));
            }
            prev = Some(st);
        }
        // A late packet from 50 back is still sent.
        let late = (140_000u32 + 100 - 50) as u16;
        assert!(s
            .stamp_relay(t0, Ssrc(7), late, 0, false, AUDIO, 160, 160)
            .is_some());
    }

    #[test]
    fn new_ssrc_continues_sequence_and_clock() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 65535, u32::MAX - 100);
        for i in 0..3u16 {
            s.stamp_relay(
                t0 + MS20 * u32::from(i),
                Ssrc(7),
                i,
                u32::from(i) * 160,
                false,
                AUDIO,
                160,
                160,
            )
            .unwrap();
        }
        // Next source 20 ms after the last packet: exactly one frame later.
        let n = s
            .stamp_relay(t0 + 3 * MS20, Ssrc(8), 40_000, 7, false, AUDIO, 160, 160)
            .unwrap();
        assert_eq!(n.seq, 2);
        assert_eq!(n.ts, (u32::MAX - 100).wrapping_add(3 * 160));
        assert!(n.marker);
    }

    #[test]
    fn local_frames_are_sample_exact_then_jump_after_a_pause() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 0, 0);
        let audio = LocalTiming::Audio { samples: 160 };
        let a = s.stamp_local(t0, audio, 160);
        // A little timer jitter does not move the timestamp off the sample grid.
        let b = s.stamp_local(t0 + Duration::from_millis(23), audio, 160);
        let c = s.stamp_local(t0 + Duration::from_millis(39), audio, 160);
        assert_eq!((a.ts, b.ts, c.ts), (0, 160, 320));
        assert_eq!((a.marker, b.marker, c.marker), (true, false, false));
        // A 1 s pause: new talkspurt, timestamp by elapsed time.
        let d = s.stamp_local(t0 + Duration::from_millis(1039), audio, 160);
        assert_eq!(d.ts, 480 + 8000 - 160);
        assert!(d.marker);
        assert_eq!(d.seq, 3);
    }

    #[test]
    fn events_keep_their_start_timestamp_and_move_the_clock() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 0, 0);
        s.stamp_local(t0, LocalTiming::Audio { samples: 160 }, 160);
        let e1 = s.stamp_local(t0 + MS20, LocalTiming::EventStart { duration: 160 }, 4);
        let e2 = s.stamp_local(t0 + 2 * MS20, LocalTiming::EventUpdate { duration: 320 }, 4);
        let e3 = s.stamp_local(t0 + 3 * MS20, LocalTiming::EventUpdate { duration: 480 }, 4);
        assert_eq!((e1.ts, e2.ts, e3.ts), (160, 160, 160));
        assert_eq!((e1.marker, e2.marker, e3.marker), (true, false, false));
        assert_eq!((e1.seq, e2.seq, e3.seq), (1, 2, 3));
        // Audio after the event continues after the event's duration.
        let a = s.stamp_local(t0 + 4 * MS20, LocalTiming::Audio { samples: 160 }, 160);
        assert_eq!(a.ts, 160 + 480);
        assert_eq!(s.sent(), (5, 332));
    }

    #[test]
    fn an_audio_frame_between_the_packets_of_an_event_does_not_start_a_new_one() {
        let t0 = Instant::now();
        let mut s = OutStream::new(Ssrc(1), 0, 0);
        let e1 = s.stamp_local(t0, LocalTiming::EventStart { duration: 800 }, 4);
        let a = s.stamp_local(t0 + MS20, LocalTiming::Audio { samples: 160 }, 160);
        let e2 = s.stamp_local(t0 + 2 * MS20, LocalTiming::EventUpdate { duration: 800 }, 4);
        assert_eq!(e2.ts, e1.ts, "the end packet repeats the event's timestamp");
        assert!(!e2.marker, "and is no event start");
        assert_eq!((e1.seq, a.seq, e2.seq), (0, 1, 2));
        let e3 = s.stamp_local(t0 + 3 * MS20, LocalTiming::EventStart { duration: 160 }, 4);
        assert_ne!(e3.ts, e1.ts, "a new event gets a timestamp of its own");
        assert!(e3.marker);
    }
}
