//! RFC 4733 receiver: reads the telephone-event packets of one RTP stream and reports each key
//! once, with its duration, whatever the network did to the packets. Sans-IO: the leg hands in
//! the RTP timestamp, marker bit and payload of every packet of the negotiated telephone-event
//! payload type, with `now`; timeouts come back through `poll_timeout` / `handle_timeout`.
//!
//! What it copes with:
//! * duplicates and retransmissions (the three end packets, §2.5.1.4): an event is identified by
//!   its RTP timestamp (§2.5.2.1), so every packet of an event already reported ended is dropped,
//!   as is any packet of an event older than the newest one seen (reordering);
//! * a lost start packet: the first packet seen for a new timestamp starts the event, whatever
//!   its duration and marker bit;
//! * lost end packets: with no packet for `end_timeout` the event ends with the longest duration
//!   heard; an event with a newer timestamp also ends the current one;
//! * long events cut into segments (§2.5.1.3): a packet for the same key, without marker, whose
//!   timestamp falls where the current segment's reported duration ends (give or take
//!   `segment_slack` for lost packets) continues the event rather than starting a new one, so a
//!   long key is reported once with its whole duration;
//! * the hook flash (event 16, RFC 2833) is reported once; other event codes (RFC 4734 modem and
//!   fax tones, …) are ignored.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::digit::{Digit, FLASH_EVENT};
use super::event::{EventError, TelephoneEvent};

/// How the receiver waits and matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverConfig {
    /// RTP clock rate of the negotiated `telephone-event` format.
    pub clock_rate: u32,
    /// Silence after which an event whose end packets were all lost is ended: 250 ms, more than
    /// the 50 ms at most between the packets of an event (§2.5.1.2) plus a few lost ones.
    pub end_timeout: Duration,
    /// How far (clock ticks) a following segment may start past the reported end of the current
    /// one and still continue it: 800 (100 ms), enough for a few lost packets.
    pub segment_slack: u32,
}

impl Default for ReceiverConfig {
    fn default() -> ReceiverConfig {
        ReceiverConfig {
            clock_rate: 8000,
            end_timeout: Duration::from_millis(250),
            segment_slack: 800,
        }
    }
}

/// How an event came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// An end packet (E bit) arrived.
    EndPacket,
    /// No packet for the configured timeout.
    Timeout,
    /// An event with a newer timestamp arrived first.
    Superseded,
}

/// What the receiver reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedDtmf {
    /// A key went down; `timestamp` is the RTP timestamp of the event.
    DigitStarted { digit: Digit, timestamp: u32 },
    /// The key came up after `duration_ms` (from the duration fields, all segments included).
    DigitEnded {
        digit: Digit,
        timestamp: u32,
        duration_ms: u32,
        cause: EndCause,
    },
    /// A hook flash (event 16).
    Flash { timestamp: u32 },
}

#[derive(Debug, Clone, Copy)]
enum Tone {
    Digit(Digit),
    Flash,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    tone: Tone,
    /// Timestamp of the event (its first segment).
    event_ts: u32,
    /// Timestamp of the segment being received.
    segment_ts: u32,
    /// Ticks of the earlier segments.
    segment_base: u64,
    /// Longest duration heard in the current segment.
    duration: u16,
    ended: bool,
    last_heard: Instant,
}

/// The RFC 4733 receiver of one stream.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    config: ReceiverConfig,
    current: Option<Current>,
    events: VecDeque<ReceivedDtmf>,
    ignored: u64,
}

/// Serial-number comparison of RTP timestamps (RFC 1982): whether `a` is after `b`.
fn ts_after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

impl DtmfReceiver {
    pub fn new(config: ReceiverConfig) -> DtmfReceiver {
        DtmfReceiver {
            config,
            current: None,
            events: VecDeque::new(),
            ignored: 0,
        }
    }

    /// Packets dropped as duplicates, stale, or of events other than keys and flash.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// One telephone-event packet: its RTP timestamp, marker bit and payload.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), EventError> {
        let ev = TelephoneEvent::decode(payload)?;
        let tone = match Digit::from_event(ev.event) {
            Some(d) => Tone::Digit(d),
            None if ev.event == FLASH_EVENT => Tone::Flash,
            None => {
                self.ignored += 1;
                return Ok(());
            }
        };
        let Some(mut cur) = self.current else {
            self.start(now, timestamp, tone, ev);
            return Ok(());
        };
        if timestamp == cur.segment_ts {
            if cur.ended {
                self.ignored += 1;
                return Ok(());
            }
            cur.duration = cur.duration.max(ev.duration);
            cur.last_heard = now;
            self.current = Some(cur);
            if ev.end {
                self.end(EndCause::EndPacket);
            }
            return Ok(());
        }
        if !ts_after(timestamp, cur.segment_ts) {
            // An older event, or an older segment of this one: already accounted for.
            self.ignored += 1;
            return Ok(());
        }
        let offset = timestamp.wrapping_sub(cur.segment_ts);
        let continues = !cur.ended
            && !marker
            && same_tone(cur.tone, tone)
            && offset <= 0xFFFF
            && offset >= u32::from(cur.duration)
            && offset - u32::from(cur.duration) <= self.config.segment_slack;
        if continues {
            cur.segment_base += u64::from(offset);
            cur.segment_ts = timestamp;
            cur.duration = ev.duration;
            cur.last_heard = now;
            self.current = Some(cur);
            if ev.end {
                self.end(EndCause::EndPacket);
            }
            return Ok(());
        }
        if !cur.ended {
            self.end(EndCause::Superseded);
        }
        self.start(now, timestamp, tone, ev);
        Ok(())
    }

    /// When an event still open will be ended for silence.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current
            .filter(|c| !c.ended)
            .map(|c| c.last_heard + self.config.end_timeout)
    }

    /// Ends an event whose end packets did not come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.end(EndCause::Timeout);
        }
    }

    /// Ends the event in progress now, as an event with a newer timestamp would (the stream it
    /// came on changed source, so later timestamps cannot be compared with it).
    pub fn supersede(&mut self) {
        self.end(EndCause::Superseded);
    }

    /// The next report, oldest first.
    pub fn poll_event(&mut self) -> Option<ReceivedDtmf> {
        self.events.pop_front()
    }

    /// Whether a key is down right now (started, not ended).
    pub fn key_down(&self) -> Option<Digit> {
        match self.current {
            Some(Current {
                tone: Tone::Digit(d),
                ended: false,
                ..
            }) => Some(d),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant, timestamp: u32, tone: Tone, ev: TelephoneEvent) {
        self.events.push_back(match tone {
            Tone::Digit(digit) => ReceivedDtmf::DigitStarted { digit, timestamp },
            Tone::Flash => ReceivedDtmf::Flash { timestamp },
        });
        self.current = Some(Current {
            tone,
            event_ts: timestamp,
            segment_ts: timestamp,
            segment_base: 0,
            duration: ev.duration,
            ended: false,
            last_heard: now,
        });
        if ev.end {
            self.end(EndCause::EndPacket);
        }
    }

    fn end(&mut self, cause: EndCause) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        if cur.ended {
            return;
        }
        cur.ended = true;
        if let Tone::Digit(digit) = cur.tone {
            let ticks = cur.segment_base + u64::from(cur.duration);
            let rate = u64::from(self.config.clock_rate.max(1));
            self.events.push_back(ReceivedDtmf::DigitEnded {
                digit,
                timestamp: cur.event_ts,
                duration_ms: u32::try_from(ticks * 1000 / rate).unwrap_or(u32::MAX),
                cause,
            });
        }
    }
}

fn same_tone(a: Tone, b: Tone) -> bool {
    match (a, b) {
        (Tone::Digit(x), Tone::Digit(y)) => x == y,
        (Tone::Flash, Tone::Flash) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
