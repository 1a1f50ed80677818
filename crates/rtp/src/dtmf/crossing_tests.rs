//! A key string carried across every form a leg may use: RFC 4733 over a lossy network, then
//! SIP INFO, then in-band tones over G.711 with line noise, then RFC 4733 again. The string and
//! the key lengths must come out as they went in.

use std::time::{Duration, Instant};

use super::detect::{DetectorEvent, DtmfDetector};
use super::inband::{InbandConfig, InbandGenerator};
use super::info::{format_dtmf_relay, parse_body, InfoDtmf, DTMF_RELAY};
use super::receiver::{DtmfReceiver, ReceivedDtmf, ReceiverConfig};
use super::sender::{DtmfSender, SenderConfig};
use super::testkit::{run_sender, shuffle, NetProfile, Rng};
use super::{digits_to_string, Digit, Key};
use crate::g711::Law;

/// Receives a packet stream (with timeouts fired in between); returns the keys that ended.
fn receive(arrivals: &[(Instant, crate::dtmf::sender::EventPacket)]) -> Vec<(Digit, u32)> {
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    let mut out = Vec::new();
    let mut take = |rx: &mut DtmfReceiver| {
        while let Some(e) = rx.poll_event() {
            if let ReceivedDtmf::DigitEnded {
                digit, duration_ms, ..
            } = e
            {
                out.push((digit, duration_ms));
            }
        }
    };
    for (at, p) in arrivals {
        while let Some(t) = rx.poll_timeout().filter(|t| t <= at) {
            rx.handle_timeout(t);
        }
        rx.handle_packet(*at, p.timestamp, p.marker, &p.payload)
            .expect("sender payloads are well formed");
        take(&mut rx);
    }
    while let Some(t) = rx.poll_timeout() {
        rx.handle_timeout(t);
    }
    take(&mut rx);
    out
}

#[test]
fn a_key_string_crosses_4733_info_inband_and_back_to_4733() {
    let keys = "159*#0DA2";
    let lengths = [60u32, 120, 80, 200, 100, 50, 150, 90, 70];
    let t0 = Instant::now();

    // Leg 1 sends RFC 4733 over a network that loses, duplicates and reorders.
    let mut sender = DtmfSender::new(SenderConfig::default());
    for (c, ms) in keys.chars().zip(lengths) {
        sender.queue(t0, Digit::from_char(c).unwrap(), ms);
    }
    let sent = run_sender(&mut sender, t0, 48_000);
    let net = NetProfile {
        loss: 0.1,
        duplicate: 0.1,
        base: Duration::from_millis(20),
        jitter: Duration::from_millis(30),
    };
    let arrivals: Vec<_> = shuffle(&sent, net, &mut Rng::new(4733))
        .iter()
        .map(|a| (a.at, a.packet))
        .collect();
    let from_rtp = receive(&arrivals);
    assert_eq!(
        from_rtp
            .iter()
            .map(|(d, _)| d.to_char())
            .collect::<String>(),
        keys
    );

    // Leg 2 takes SIP INFO: each key becomes an application/dtmf-relay body and is read back.
    let from_info: Vec<InfoDtmf> = from_rtp
        .iter()
        .map(|&(d, ms)| parse_body(DTMF_RELAY, format_dtmf_relay(d, ms).as_bytes()).unwrap())
        .collect();

    // Leg 3 is an FXO line: tones in µ-law, with line noise 30 dB down.
    let mut generator = InbandGenerator::new(InbandConfig::default());
    for info in &from_info {
        match (info.key, info.duration_ms) {
            (Key::Digit(d), Some(ms)) => generator.queue(d, ms),
            other => panic!("unexpected INFO content {other:?}"),
        }
    }
    let mut detector = DtmfDetector::default();
    let mut rng = Rng::new(711);
    while let Some(frame) = generator.next_frame() {
        let line: Vec<i16> = frame
            .iter()
            .map(|&s| {
                let noisy = f64::from(s) + 250.0 * rng.gauss();
                let s = noisy.round().clamp(-32768.0, 32767.0) as i16;
                Law::Ulaw.decode(Law::Ulaw.encode(s))
            })
            .collect();
        detector.process(&line);
    }
    detector.flush();

    // What the detector hears goes out again as RFC 4733 on a fourth leg.
    let t1 = t0 + Duration::from_secs(60);
    let mut resender = DtmfSender::new(SenderConfig::default());
    while let Some(e) = detector.poll_event() {
        if let DetectorEvent::DigitDetected {
            digit, duration, ..
        } = e
        {
            resender.queue(t1, digit, (duration / 8) as u32);
        }
    }
    let back = receive(&run_sender(&mut resender, t1, 1));
    let digits: Vec<Digit> = back.iter().map(|(d, _)| *d).collect();
    assert_eq!(digits_to_string(&digits), keys);
    for ((_, got), want) in back.iter().zip(lengths) {
        assert!(
            got.abs_diff(want) <= 8,
            "a {want} ms key came back as {got} ms: {back:?}"
        );
    }
}
