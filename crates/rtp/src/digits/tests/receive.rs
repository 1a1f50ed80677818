//! A leg that negotiated telephone-event hears keys as RFC 4733 events, whatever the network did
//! to the packets: each key is reported once, with the length its events gave.

use super::*;
use crate::netem::{Netem, NetemConfig};

/// The packets of one 120 ms key '5' (960 ticks) at event timestamp 5000, as a phone sends them.
fn five_packets(phone: &mut Phone) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, duration) in [160u16, 320, 480, 640, 800, 960, 960, 960]
        .iter()
        .enumerate()
    {
        let ev = TelephoneEvent {
            event: 5,
            end: i >= 5,
            volume: 10,
            duration: *duration,
        };
        out.push(phone.event(&EventPacket {
            marker: i == 0,
            timestamp: 5000,
            payload: ev.encode(),
            digit: Digit::Five,
            end: ev.end,
        }));
    }
    out
}

#[test]
fn duplicates_reordering_and_a_lost_end_packet_give_one_key() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    let mut phone = Phone::new(0xA, 0, 101);
    let p = five_packets(&mut phone);
    // Start, 320 twice, 640 before 480, 800, then two of the three end packets (one lost) and a
    // duplicate of the first end packet.
    let order = [0usize, 1, 1, 3, 2, 4, 5, 7, 5];
    for (k, &i) in order.iter().enumerate() {
        let now = t0 + MS20 * k as u32;
        run_timers(&mut e, now);
        e.handle_datagram(now, pa.rtp, addr(PHONE_A), &p[i]);
    }
    run_timers(&mut e, t0 + Duration::from_secs(2));
    let evs = events(&mut e);
    assert_eq!(
        digits(&evs),
        [(a, Digit::Five, 120, DigitSource::Rfc4733)],
        "{evs:?}"
    );
    let started: Vec<_> = evs
        .iter()
        .filter(|ev| matches!(ev, MediaEvent::DigitStarted { .. }))
        .collect();
    assert_eq!(started.len(), 1);
    // The Digit is reported when the first end packet arrives, not at a timeout.
    assert!(matches!(evs.last(), Some(MediaEvent::Digit { .. })));
}

#[test]
fn when_every_end_packet_is_lost_the_engine_timer_ends_the_key() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    let mut phone = Phone::new(0xA, 0, 101);
    let p = five_packets(&mut phone);
    let mut last = t0;
    for (k, pkt) in p[..5].iter().enumerate() {
        last = t0 + MS20 * k as u32;
        run_timers(&mut e, last);
        e.handle_datagram(last, pa.rtp, addr(PHONE_A), pkt);
    }
    // Nothing yet: the key is down until the receiver's end timeout, 250 ms after the last packet.
    assert!(digits(&events(&mut e)).is_empty());
    let due = last + Duration::from_millis(250);
    run_timers(&mut e, due - Duration::from_millis(1));
    assert!(digits(&events(&mut e)).is_empty());
    run_timers(&mut e, due);
    assert_eq!(
        digits(&events(&mut e)),
        [(a, Digit::Five, 100, DigitSource::Rfc4733)],
        "ended with the longest duration heard (800 ticks)"
    );
}

#[test]
fn a_key_string_over_a_lossy_reordering_network_is_reported_key_by_key() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    let mut phone = Phone::new(0xA, 0, 101);
    let mut sender = DtmfSender::new(SenderConfig::default());
    let keys_sent = "0123456789*#ABCD";
    let lengths: Vec<u32> = (0..16).map(|i| 60 + 20 * (i % 5)).collect();
    for (c, ms) in keys_sent.chars().zip(&lengths) {
        sender.queue(t0, Digit::from_char(c).unwrap(), *ms);
    }
    let mut net: Netem<Vec<u8>> = Netem::new(
        NetemConfig {
            loss: 0.1,
            delay: Duration::from_millis(30),
            jitter: Duration::from_millis(25),
            reorder: 0.05,
            reorder_by: Duration::from_millis(30),
            duplicate: 0.1,
        },
        4733,
    );
    let end = t0 + Duration::from_secs(10);
    let mut now = t0;
    while now < end {
        // What the phone sends now: audio, or the event packets due.
        let media_ts = phone.ts_at(t0, now);
        let mut any_event = false;
        while let Some(ev) = sender.poll(now, media_ts) {
            net.send(now, phone.event(&ev));
            any_event = true;
        }
        if !any_event {
            net.send(now, phone.audio(t0, now, &speech_frame(Law::Ulaw, 0)));
        }
        // Everything that happens until the next tick, in time order.
        let next = now + MS20;
        loop {
            let arrival = net.next_delivery().filter(|t| *t < next);
            let timer = e.poll_timeout().filter(|t| *t < next);
            match (arrival, timer) {
                (Some(at), t) if t.is_none_or(|t| at <= t) => {
                    while let Some(pkt) = net.poll(at) {
                        e.handle_datagram(at, pa.rtp, addr(PHONE_A), &pkt);
                    }
                }
                (_, Some(t)) => e.handle_timeout(t),
                _ => break,
            }
        }
        now = next;
    }
    run_timers(&mut e, end + Duration::from_secs(1));
    let stats = net.stats();
    assert!(
        stats.lost > 10 && stats.duplicated > 10 && stats.reordered > 3,
        "{stats:?}"
    );
    let evs = events(&mut e);
    let got = digits(&evs);
    assert_eq!(keys(&evs), keys_sent, "{got:?}");
    for ((leg, _, ms, how), want) in got.iter().zip(&lengths) {
        assert_eq!((*leg, *how), (a, DigitSource::Rfc4733));
        // Exact when an end packet got through; else the longest duration heard.
        assert!(
            *ms <= u128::from(*want) && *ms + 60 >= u128::from(*want),
            "{ms} ms for a {want} ms key"
        );
    }
}

#[test]
fn a_new_ssrc_ends_the_key_in_progress_and_its_timestamps_start_afresh() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, codecs(Law::Ulaw, Some(101)), PHONE_A);
    let send =
        |e: &mut MediaEngine, at: Instant, ssrc: u32, seq: u16, ts: u32, key: u8, end: bool| {
            let ev = TelephoneEvent {
                event: key,
                end,
                volume: 10,
                duration: 400,
            };
            let pkt = packet(101, seq, ts, ssrc, !end, &ev.encode());
            e.handle_datagram(at, pa.rtp, addr(PHONE_A), &pkt);
        };
    // Key 1 on the first source, complete; key 3 begun and never ended.
    send(&mut e, t0, 0xA, 10, 900_000, 1, false);
    send(&mut e, t0 + MS20, 0xA, 11, 900_000, 1, true);
    send(&mut e, t0 + MS20 * 10, 0xA, 12, 904_000, 3, false);
    // The phone restarts with another SSRC and timestamps far behind: key 4, then key 2.
    let t1 = t0 + MS20 * 12;
    send(&mut e, t1, 0xB, 500, 1_000, 4, false);
    send(&mut e, t1 + MS20, 0xB, 501, 1_000, 4, true);
    send(&mut e, t1 + MS20 * 10, 0xB, 502, 3_000, 2, false);
    send(&mut e, t1 + MS20 * 11, 0xB, 503, 3_000, 2, true);
    run_timers(&mut e, t1 + Duration::from_secs(2));
    let evs = events(&mut e);
    assert_eq!(keys(&evs), "1342", "{evs:?}");
    assert!(digits(&evs).iter().all(|d| d.0 == a && d.2 == 50));
}
