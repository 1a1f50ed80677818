//! The proof of issue 5: SIPp's `dtmf_2833_1.pcap` (key '1' as RFC 4733, PT 101) played into a
//! call is reported as the right digit, once, and reaches the other leg — as events where that
//! leg has telephone-event, as tones where it has not.
//!
//! The capture is read with a tiny pcap parser when the sip-tester package installed it; a
//! synthetic copy, packet for packet, always runs.

use super::*;

const SIPP_PCAP: &str = "/usr/share/sip-tester/dtmf_2833_1.pcap";

/// The RTP packets of a classic little-endian pcap of Ethernet/IPv4/UDP frames, with their
/// capture times relative to the first.
fn rtp_of_pcap(file: &[u8]) -> Vec<(Duration, Vec<u8>)> {
    let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
    assert_eq!(
        u32_at(0),
        0xA1B2_C3D4,
        "classic pcap, microseconds, little-endian"
    );
    assert_eq!(u32_at(20), 1, "Ethernet link type");
    let mut out = Vec::new();
    let mut first = None;
    let mut at = 24;
    while at + 16 <= file.len() {
        let micros = u64::from(u32_at(at)) * 1_000_000 + u64::from(u32_at(at + 4));
        let len = u32_at(at + 8) as usize;
        let frame = &file[at + 16..at + 16 + len];
        at += 16 + len;
        assert_eq!(&frame[12..14], &[0x08, 0x00], "IPv4");
        let ip = &frame[14..];
        assert_eq!(ip[9], 17, "UDP");
        let udp = &ip[usize::from(ip[0] & 0x0F) * 4..];
        let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        let first = *first.get_or_insert(micros);
        out.push((
            Duration::from_micros(micros - first),
            udp[8..udp_len].to_vec(),
        ));
    }
    out
}

/// The same ten packets built by hand: SSRC 0x0e05384e, sequence 0x1f30 on, timestamp 0x33e0,
/// key 1 at volume 10, durations 0 to 1920 every 20 ms, then the end packet (2240 ticks, 280 ms)
/// three times with one sequence number, as SIPp's capture has them.
fn synthetic() -> Vec<(Duration, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..10u16 {
        let step = i.min(7);
        let end = i >= 7;
        let ev = TelephoneEvent {
            event: 1,
            end,
            volume: 10,
            duration: 320 * step,
        };
        let at = Duration::from_millis(20 * u64::from(step))
            + Duration::from_micros(40) * u32::from(i.saturating_sub(7));
        out.push((
            at,
            packet(
                101,
                0x1F30 + step,
                0x33E0,
                0x0E05_384E,
                i == 0,
                &ev.encode(),
            ),
        ));
    }
    out
}

/// Plays `packets` into leg A of a call whose B leg has `b_codecs`; returns the events and what
/// B's phone received.
fn replay(
    packets: &[(Duration, Vec<u8>)],
    b_codecs: CodecMap,
) -> (Call, Vec<MediaEvent>, Vec<Out>) {
    let mut c = call(codecs(Law::Ulaw, Some(101)), b_codecs);
    for (offset, pkt) in packets {
        let now = c.t0 + *offset;
        run_timers(&mut c.e, now);
        c.e.handle_datagram(now, c.pa.rtp, addr(PHONE_A), pkt);
        run_timers(&mut c.e, now);
    }
    run_timers(&mut c.e, c.t0 + Duration::from_secs(2));
    let evs = events(&mut c.e);
    let out = sent_from(&mut c.e, c.pb.rtp);
    (c, evs, out)
}

fn check(packets: &[(Duration, Vec<u8>)]) {
    assert_eq!(packets.len(), 10);
    // B with telephone-event (96): the events reach it, renumbered.
    let (c, evs, out) = replay(packets, codecs(Law::Alaw, Some(96)));
    assert_eq!(
        digits(&evs),
        [(c.a, Digit::One, 280, DigitSource::Rfc4733)],
        "{evs:?}"
    );
    assert_eq!(
        out.len(),
        10,
        "every packet is relayed, duplicates included"
    );
    assert!(out
        .iter()
        .all(|o| o.header.pt.get() == 96 && o.event().event == 1));
    assert_eq!(out.iter().filter(|o| o.event().end).count(), 3);
    assert!(out[0].header.marker);
    // B without telephone-event: it hears the key as a 280 ms tone.
    let (c, evs, out) = replay(packets, codecs(Law::Alaw, None));
    assert_eq!(keys(&evs), "1");
    assert!(digits(&evs).iter().all(|d| d.0 == c.a));
    assert!(out.iter().all(|o| o.header.pt == Pt::PCMA));
    let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
    let heard = detect(Law::Alaw, &payloads);
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].0, Digit::One);
    assert!(heard[0].1.abs_diff(280) <= 25, "{heard:?}");
}

#[test]
fn sipp_dtmf_2833_1_capture_is_reported_once_and_reaches_the_other_leg() {
    let Ok(file) = std::fs::read(SIPP_PCAP) else {
        eprintln!(
            "{SIPP_PCAP} is not installed (package sip-tester): only the synthetic copy runs"
        );
        return;
    };
    let packets = rtp_of_pcap(&file);
    // The capture is what the synthetic copy says it is.
    let synthetic = synthetic();
    assert_eq!(
        packets.iter().map(|p| &p.1).collect::<Vec<_>>(),
        synthetic.iter().map(|p| &p.1).collect::<Vec<_>>()
    );
    check(&packets);
}

#[test]
fn a_synthetic_copy_of_sipp_dtmf_2833_1_is_reported_once_and_reaches_the_other_leg() {
    check(&synthetic());
}
