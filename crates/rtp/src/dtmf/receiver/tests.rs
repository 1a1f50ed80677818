//! Tests of the RFC 4733 receiver: clean streams, duplicates, lost start and end packets, stale
//! packets, long segmented keys, timestamp wrap, flash, and a seeded lossy network.

use std::time::{Duration, Instant};

use super::*;
use crate::dtmf::sender::{DtmfSender, EventPacket, SenderConfig};
use crate::dtmf::testkit::{run_sender, shuffle, Arrival, NetProfile, Rng};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Feeds arrivals to a receiver, firing its timeouts in between, then lets it time out.
fn receive(arrivals: &[(Instant, EventPacket)]) -> (Vec<ReceivedDtmf>, DtmfReceiver) {
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    let mut out = Vec::new();
    for (at, p) in arrivals {
        while let Some(t) = rx.poll_timeout().filter(|t| t <= at) {
            rx.handle_timeout(t);
        }
        rx.handle_packet(*at, p.timestamp, p.marker, &p.payload)
            .unwrap();
        out.extend(std::iter::from_fn(|| rx.poll_event()));
    }
    while let Some(t) = rx.poll_timeout() {
        rx.handle_timeout(t);
    }
    out.extend(std::iter::from_fn(|| rx.poll_event()));
    (out, rx)
}

fn sent(keys: &[(Digit, u32)]) -> (Instant, Vec<(Instant, EventPacket)>) {
    let t0 = Instant::now();
    let mut s = DtmfSender::new(SenderConfig::default());
    for (d, dur) in keys {
        s.queue(t0, *d, *dur);
    }
    (t0, run_sender(&mut s, t0, 7_000))
}

fn ended(events: &[ReceivedDtmf]) -> Vec<(Digit, u32, EndCause)> {
    events
        .iter()
        .filter_map(|e| match e {
            ReceivedDtmf::DigitEnded {
                digit,
                duration_ms,
                cause,
                ..
            } => Some((*digit, *duration_ms, *cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_clean_stream_gives_one_start_and_one_end_per_key() {
    let (_, pkts) = sent(&[(Digit::Five, 100), (Digit::Pound, 250)]);
    let (events, rx) = receive(&pkts);
    assert_eq!(
        events,
        [
            ReceivedDtmf::DigitStarted {
                digit: Digit::Five,
                timestamp: 7_000
            },
            ReceivedDtmf::DigitEnded {
                digit: Digit::Five,
                timestamp: 7_000,
                duration_ms: 100,
                cause: EndCause::EndPacket
            },
            ReceivedDtmf::DigitStarted {
                digit: Digit::Pound,
                timestamp: 7_000 + 1_600
            },
            ReceivedDtmf::DigitEnded {
                digit: Digit::Pound,
                timestamp: 7_000 + 1_600,
                duration_ms: 250,
                cause: EndCause::EndPacket
            },
        ]
    );
    // The two repeats of each end packet were recognized as such.
    assert_eq!(rx.ignored(), 4);
}

#[test]
fn duplicates_change_nothing() {
    let (_, pkts) = sent(&[(Digit::One, 100), (Digit::Two, 100)]);
    let doubled: Vec<_> = pkts.iter().flat_map(|p| [*p, *p]).collect();
    let (events, _) = receive(&doubled);
    assert_eq!(events, receive(&pkts).0);
}

#[test]
fn a_lost_start_packet_still_starts_the_key() {
    let (_, pkts) = sent(&[(Digit::Seven, 100)]);
    let (events, _) = receive(&pkts[1..]);
    assert_eq!(
        events[0],
        ReceivedDtmf::DigitStarted {
            digit: Digit::Seven,
            timestamp: 7_000
        }
    );
    assert_eq!(ended(&events), [(Digit::Seven, 100, EndCause::EndPacket)]);
}

#[test]
fn lost_end_packets_end_the_key_after_the_timeout() {
    let (t0, pkts) = sent(&[(Digit::Eight, 100)]);
    let no_end: Vec<_> = pkts.iter().filter(|(_, p)| !p.end).copied().collect();
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    for (at, p) in &no_end {
        rx.handle_packet(*at, p.timestamp, p.marker, &p.payload)
            .unwrap();
    }
    assert_eq!(rx.key_down(), Some(Digit::Eight));
    // Last packet at 60 ms: the key is released 250 ms later, not before.
    assert_eq!(rx.poll_timeout(), Some(t0 + ms(310)));
    rx.handle_timeout(t0 + ms(309));
    assert_eq!(rx.key_down(), Some(Digit::Eight));
    rx.handle_timeout(t0 + ms(310));
    assert_eq!(rx.key_down(), None);
    assert_eq!(rx.poll_timeout(), None);
    let events: Vec<_> = std::iter::from_fn(|| rx.poll_event()).collect();
    // The longest duration heard: four packets of 20 ms.
    assert_eq!(ended(&events), [(Digit::Eight, 80, EndCause::Timeout)]);
}

#[test]
fn a_newer_event_ends_one_whose_end_was_lost() {
    let (_, pkts) = sent(&[(Digit::Three, 100), (Digit::Four, 100)]);
    let first_ts = pkts[0].1.timestamp;
    let kept: Vec<_> = pkts
        .iter()
        .filter(|(_, p)| !(p.end && p.timestamp == first_ts))
        .copied()
        .collect();
    let (events, _) = receive(&kept);
    assert_eq!(
        ended(&events),
        [
            (Digit::Three, 80, EndCause::Superseded),
            (Digit::Four, 100, EndCause::EndPacket)
        ]
    );
}

#[test]
fn stale_packets_of_an_older_event_are_dropped() {
    let (_, pkts) = sent(&[(Digit::Six, 100), (Digit::Nine, 100)]);
    let mut late = pkts.clone();
    // The first event's first packet turns up during the second event.
    let first = late.remove(0);
    let pos = late
        .iter()
        .position(|(_, p)| p.digit == Digit::Nine)
        .unwrap()
        + 1;
    late.insert(pos, (late[pos].0, first.1));
    let (events, rx) = receive(&late);
    let starts = events
        .iter()
        .filter(|e| matches!(e, ReceivedDtmf::DigitStarted { .. }))
        .count();
    assert_eq!(starts, 2);
    assert_eq!(
        ended(&events),
        [
            (Digit::Six, 100, EndCause::EndPacket),
            (Digit::Nine, 100, EndCause::EndPacket)
        ]
    );
    assert_eq!(rx.ignored(), 5);
}

#[test]
fn a_long_key_cut_in_segments_is_reported_once_with_its_whole_length() {
    let (_, pkts) = sent(&[(Digit::Zero, 20_000), (Digit::Zero, 100)]);
    assert!(
        pkts.iter()
            .map(|(_, p)| p.timestamp)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == 4
    );
    let (events, _) = receive(&pkts);
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(
        ended(&events),
        [
            (Digit::Zero, 20_000, EndCause::EndPacket),
            (Digit::Zero, 100, EndCause::EndPacket)
        ]
    );
    // The same with the packet that closes each segment lost, and every fifth packet lost.
    let lossy: Vec<_> = pkts
        .iter()
        .enumerate()
        .filter(|(i, (_, p))| {
            let ev = TelephoneEvent::decode(&p.payload).unwrap();
            ev.duration != 0xFFFF && (i % 5 != 3 || p.end)
        })
        .map(|(_, p)| *p)
        .collect();
    let (events, _) = receive(&lossy);
    assert_eq!(
        ended(&events),
        [
            (Digit::Zero, 20_000, EndCause::EndPacket),
            (Digit::Zero, 100, EndCause::EndPacket)
        ]
    );
}

#[test]
fn timestamps_that_wrap_are_still_newer() {
    let t0 = Instant::now();
    let mut s = DtmfSender::new(SenderConfig::default());
    s.queue_str(t0, "12").unwrap();
    let pkts = run_sender(&mut s, t0, u32::MAX - 800);
    assert!(pkts.last().unwrap().1.timestamp < 1_000);
    let (events, _) = receive(&pkts);
    assert_eq!(
        ended(&events),
        [
            (Digit::One, 100, EndCause::EndPacket),
            (Digit::Two, 100, EndCause::EndPacket)
        ]
    );
}

#[test]
fn flash_is_reported_once_and_other_events_ignored() {
    let t0 = Instant::now();
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    let flash = |d: u16, end: bool| {
        TelephoneEvent {
            event: FLASH_EVENT,
            end,
            volume: 10,
            duration: d,
        }
        .encode()
    };
    rx.handle_packet(t0, 100, true, &flash(160, false)).unwrap();
    rx.handle_packet(t0 + ms(20), 100, false, &flash(320, true))
        .unwrap();
    rx.handle_packet(t0 + ms(40), 100, false, &flash(320, true))
        .unwrap();
    let modem = TelephoneEvent {
        event: 32,
        end: false,
        volume: 10,
        duration: 160,
    };
    rx.handle_packet(t0 + ms(60), 900, true, &modem.encode())
        .unwrap();
    let events: Vec<_> = std::iter::from_fn(|| rx.poll_event()).collect();
    assert_eq!(events, [ReceivedDtmf::Flash { timestamp: 100 }]);
    assert_eq!(rx.ignored(), 2);
    assert_eq!(rx.poll_timeout(), None);
}

#[test]
fn short_payloads_are_refused() {
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    assert_eq!(
        rx.handle_packet(Instant::now(), 0, true, &[1, 2, 3]),
        Err(EventError::TooShort { len: 3 })
    );
    assert_eq!(rx.poll_event(), None);
}

/// What a receiver can know of an event from the packets that reached it: the key, and its full
/// length when an end packet arrived, else the longest duration delivered.
fn expected(sent: &[(Instant, EventPacket)], arrivals: &[Arrival]) -> Vec<(Digit, u32)> {
    let mut out: Vec<(u32, Digit, u32, bool)> = Vec::new();
    let mut delivered: Vec<usize> = arrivals.iter().map(|a| a.index).collect();
    delivered.sort_unstable();
    delivered.dedup();
    for i in delivered {
        let p = sent[i].1;
        let ev = TelephoneEvent::decode(&p.payload).unwrap();
        let ticks = u32::from(ev.duration);
        match out.iter_mut().find(|(ts, ..)| *ts == p.timestamp) {
            Some((_, _, max, end)) => {
                *max = (*max).max(ticks);
                *end |= ev.end;
            }
            None => out.push((p.timestamp, p.digit, ticks, ev.end)),
        }
    }
    out.sort_by_key(|(ts, ..)| *ts);
    out.iter().map(|(_, d, ticks, _)| (*d, ticks / 8)).collect()
}

#[test]
fn a_lossy_duplicating_reordering_network_delivers_the_same_keys_and_durations() {
    let keys: Vec<(Digit, u32)> = "0123456789*#ABCD"
        .chars()
        .enumerate()
        .map(|(i, c)| {
            (
                Digit::from_char(c).unwrap(),
                40 + 20 * (i as u32 % 7) + i as u32,
            )
        })
        .collect();
    let (_, pkts) = sent(&keys);
    let net = NetProfile {
        loss: 0.15,
        duplicate: 0.2,
        base: ms(30),
        jitter: ms(45),
    };
    let mut exact = 0;
    let mut reordered_runs = 0;
    for seed in 0..200 {
        let mut rng = Rng::new(seed);
        let arrivals = shuffle(&pkts, net, &mut rng);
        let reordered = arrivals.windows(2).any(|w| w[0].index > w[1].index);
        let timed: Vec<_> = arrivals.iter().map(|a| (a.at, a.packet)).collect();
        let (events, _) = receive(&timed);
        let got: Vec<(Digit, u32)> = ended(&events).iter().map(|(d, ms, _)| (*d, *ms)).collect();
        let want = expected(&pkts, &arrivals);
        assert_eq!(got, want, "seed {seed}");
        let starts = events
            .iter()
            .filter(|e| matches!(e, ReceivedDtmf::DigitStarted { .. }))
            .count();
        assert_eq!(starts, want.len(), "seed {seed}");
        if got == keys {
            exact += 1;
        }
        reordered_runs += usize::from(reordered);
    }
    assert!(reordered_runs > 150, "the profile must reorder packets");
    // Almost always some end packet survives, so the receiver reports the sent durations.
    assert!(exact > 150, "only {exact} of 200 runs exact");
}
