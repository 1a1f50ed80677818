//! Reception statistics over the emulated network (loss, jitter, reordering, duplicates) and the
//! RTCP reports: their schedule, SR vs RR, LSR/DLSR and the round-trip time.

use std::collections::BTreeSet;

use super::*;
use crate::netem::{Fate, Netem, NetemConfig};
use crate::rtcp::{self, ReportBlock};

const PHONE: &str = "10.0.0.5:4000";

/// Sends `n` packets, one every 20 ms, from a phone through `net` into leg `a`'s RTP port,
/// delivering as virtual time passes. Returns the seqs delivered (in order, duplicates included)
/// and the seqs lost.
fn stream_through(
    e: &mut MediaEngine,
    t0: Instant,
    rtp_port: u16,
    net: &mut Netem<Vec<u8>>,
    n: u32,
) -> (Vec<u16>, Vec<u16>) {
    let mut phone = Phone::new(0xA, 60_000, 0, 0);
    let mut delivered = Vec::new();
    let mut lost = Vec::new();
    let from = addr(PHONE);
    let mut deliver_until = |e: &mut MediaEngine, net: &mut Netem<Vec<u8>>, until: Instant| {
        while let Some(at) = net.next_delivery() {
            if at > until {
                break;
            }
            run_timers(e, at);
            let p = net.poll(at).unwrap();
            delivered.push(RtpHeader::parse(&p).unwrap().seq);
            e.handle_datagram(at, rtp_port, from, &p);
        }
    };
    for i in 0..n {
        let now = t0 + MS20 * i;
        deliver_until(e, net, now);
        let seq = phone.seq;
        if net.send(now, phone.next(&[0xFF; 160])) == Fate::Lost {
            lost.push(seq);
        }
    }
    deliver_until(e, net, t0 + MS20 * n + Duration::from_secs(5));
    (delivered, lost)
}

/// Seqs in `lost` that lie between the first and the highest delivered (wrapping order).
fn lost_within(delivered: &[u16], lost: &[u16]) -> usize {
    let first = delivered[0];
    let highest = delivered
        .iter()
        .copied()
        .max_by_key(|s| s.wrapping_sub(first))
        .unwrap();
    let span = highest.wrapping_sub(first);
    lost.iter()
        .filter(|s| s.wrapping_sub(first) <= span)
        .count()
}

#[test]
fn loss_equals_the_emulators_drops_exactly() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
    let mut net = Netem::new(
        NetemConfig {
            loss: 0.05,
            delay: Duration::from_millis(30),
            ..NetemConfig::default()
        },
        11,
    );
    let (delivered, lost) = stream_through(&mut e, t0, pa.rtp, &mut net, 10_000);
    let s = e.stats(a).unwrap();
    let dropped = lost_within(&delivered, &lost);
    assert_eq!(s.lost, dropped as i64);
    assert_eq!(e.totals().lost, dropped as i64);
    e.release_leg(t0 + Duration::from_secs(300), a).unwrap();
    assert_eq!(e.totals().lost, dropped as i64, "kept after release");
    let share = s.lost as f64 / 10_000.0;
    assert!((0.04..=0.06).contains(&share), "{share}");
    assert_eq!(s.counters.packets_in, delivered.len() as u64);
    assert_eq!(net.stats().lost, lost.len() as u64);
}

#[test]
fn duplicates_count_as_received_and_reordering_is_not_loss() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa, lb, pb) = {
        let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
        let (b, pb) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
        e.connect(a, b).unwrap();
        (a, pa, b, pb)
    };
    let mut net = Netem::new(
        NetemConfig {
            delay: Duration::from_millis(30),
            reorder: 0.05,
            reorder_by: Duration::from_millis(50),
            duplicate: 0.02,
            ..NetemConfig::default()
        },
        5,
    );
    let (delivered, lost) = stream_through(&mut e, t0, pa.rtp, &mut net, 5_000);
    assert!(lost.is_empty());
    let dups = net.stats().duplicated as i64;
    assert!(dups > 50, "{dups}");
    assert!(net.stats().reordered > 100);
    assert_eq!(e.stats(a).unwrap().lost, -dups);
    // B got every packet, reordered as they came, with seqs that map one to one.
    let out = rtp_from(&transmits(&mut e), pb.rtp);
    assert_eq!(out.len(), delivered.len());
    let distinct: BTreeSet<u16> = out.iter().map(|(h, _)| h.seq).collect();
    assert_eq!(distinct.len(), 5_000);
    let first = out[0].0.seq;
    assert!(distinct.iter().all(|s| s.wrapping_sub(first) < 5_000));
    assert!(out
        .windows(2)
        .any(|w| (w[1].0.seq.wrapping_sub(w[0].0.seq) as i16) < 0));
    assert_eq!(e.stats(lb).unwrap().counters.not_sent, 0);
}

#[test]
fn jitter_follows_the_injected_jitter() {
    // Transit uniform over [0, J]: the A.8 estimator converges to E|D| = J/3.
    for (jitter_ms, low, high) in [(0u64, 0.0, 0.0), (15, 3.5, 6.5), (30, 7.5, 12.5)] {
        let t0 = Instant::now();
        let mut e = engine_at(t0);
        let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
        let mut net = Netem::new(
            NetemConfig {
                delay: Duration::from_millis(30),
                jitter: Duration::from_millis(jitter_ms),
                ..NetemConfig::default()
            },
            3,
        );
        stream_through(&mut e, t0, pa.rtp, &mut net, 3_000);
        let j = e.stats(a).unwrap().jitter.as_secs_f64() * 1_000.0;
        assert!(
            (low..=high).contains(&j),
            "injected {jitter_ms} ms, estimated {j} ms"
        );
    }
}

#[test]
fn reports_follow_the_rfc_3550_schedule_sr_when_sending_rr_when_not() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
    let (b, pb) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
    e.connect(a, b).unwrap();
    let mut phone = Phone::new(0xA, 1, 0, 0);
    let mut report_times = Vec::new();
    let mut reports_a = Vec::new();
    // 120 s: A's phone talks all along; B's phone is silent, so A sends nothing for 60 s, then
    // B's phone talks too.
    let mut pb_phone = Phone::new(0xB, 1, 0, 0);
    for i in 0..6_000u32 {
        let now = t0 + MS20 * i;
        run_timers(&mut e, now);
        e.handle_datagram(now, pa.rtp, addr(PHONE), &phone.next(&[0xFF; 160]));
        if i >= 3_000 {
            e.handle_datagram(
                now,
                pb.rtp,
                addr("192.0.2.20:5000"),
                &pb_phone.next(&[0xFF; 160]),
            );
        }
        for t in transmits(&mut e) {
            if t.from_port == pa.rtcp {
                assert_eq!(t.to, addr("10.0.0.5:4001"));
                report_times.push(now);
                reports_a.push(rtcp::parse_compound(&t.contents).unwrap());
            }
        }
    }
    assert!((18..=32).contains(&reports_a.len()), "{}", reports_a.len());
    let first = report_times[0] - t0;
    assert!(
        first >= Duration::from_millis(1_000) && first <= Duration::from_millis(3_100),
        "{first:?}"
    );
    for w in report_times.windows(2) {
        let gap = w[1] - w[0];
        // 5 s × [0.5, 1.5] / 1.21828, to the 20 ms tick.
        assert!(
            gap >= Duration::from_millis(2_040) && gap <= Duration::from_millis(6_180),
            "{gap:?}"
        );
    }
    let local = e.stats(a).unwrap().local_ssrc;
    for (at, r) in report_times.iter().zip(&reports_a) {
        assert_eq!(r.sender, Some(local));
        let block = r.blocks[0];
        assert_eq!(block.ssrc, Ssrc(0xA));
        assert_eq!(block.cumulative_lost, 0);
        let sending = *at - t0 > Duration::from_secs(60) + Duration::from_millis(6_200);
        let silent = *at - t0 < Duration::from_secs(60);
        if silent {
            assert!(r.sender_info.is_none(), "RR while A sends nothing");
        }
        if sending {
            let info = r.sender_info.expect("SR while A sends");
            assert_eq!(info.octets, info.packets * 160);
        }
    }
    // Two engines with the same seed keep the same schedule.
    let mut e2 = engine_at(t0);
    let (_, p2) = leg(&mut e2, t0, CodecMap::pcmu(), PHONE);
    let mut times2 = Vec::new();
    for i in 0..6_000u32 {
        let now = t0 + MS20 * i;
        run_timers(&mut e2, now);
        if transmits(&mut e2).iter().any(|t| t.from_port == p2.rtcp) {
            times2.push(now);
        }
    }
    assert_eq!(times2[..5], report_times[..5]);
}

#[test]
fn round_trip_time_from_lsr_and_dlsr_and_our_lsr_echo() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
    // A sends RTP (fed frames) so its reports are SRs.
    let mut sr = None;
    let mut now = t0;
    while sr.is_none() {
        sr = run_timers_tagged(&mut e, now)
            .into_iter()
            .find(|(_, t)| t.from_port == pa.rtcp)
            .map(|(at, t)| (at, rtcp::parse_compound(&t.contents).unwrap()));
        e.feed_frame(
            now,
            a,
            crate::relay::Frame::Audio {
                law: crate::g711::Law::Ulaw,
                codes: &[0xFF; 160],
            },
        )
        .unwrap();
        transmits(&mut e);
        now += MS20;
    }
    let (sent_at, sr) = sr.unwrap();
    let info = sr.sender_info.expect("an SR");
    // 40 ms one way, the phone holds it 100 ms, 40 ms back: RTT 80 ms.
    let block = ReportBlock {
        ssrc: e.stats(a).unwrap().local_ssrc,
        fraction_lost: 0,
        cumulative_lost: 0,
        extended_highest_seq: 0,
        jitter: 0,
        lsr: rtcp::ntp_middle(info.ntp),
        dlsr: rtcp::to_dlsr(Duration::from_millis(100)),
    };
    let phone_ntp = 0xE000_0000_4000_0000u64;
    let phone_info = rtcp::SenderInfo {
        ntp: phone_ntp,
        rtp_ts: 0,
        packets: 0,
        octets: 0,
    };
    let mut rr = Vec::new();
    rtcp::write_report(&mut rr, Ssrc(0xA), Some(&phone_info), Some(&block), "phone");
    let back = sent_at + Duration::from_millis(180);
    e.handle_datagram(back, pa.rtcp, addr("10.0.0.5:4001"), &rr);
    let ev = events(&mut e);
    let rtt = ev
        .iter()
        .find_map(|ev| match ev {
            MediaEvent::RtcpReport { leg, report } if *leg == a => report.rtt,
            _ => None,
        })
        .expect("a report with an RTT");
    let ms = rtt.as_secs_f64() * 1_000.0;
    assert!((79.0..=81.0).contains(&ms), "{ms}");
    let s = e.stats(a).unwrap();
    assert_eq!(s.rtt, Some(rtt));
    assert_eq!(s.peer_report, Some(block));
    assert_eq!(s.counters.rtcp_in, 1);
    // A heard no RTP from the phone, so its next report has no block (nothing to echo LSR on).
    let next = run_timers_tagged(&mut e, now + Duration::from_secs(10));
    let r = next
        .iter()
        .find(|(_, t)| t.from_port == pa.rtcp)
        .map(|(_, t)| rtcp::parse_compound(&t.contents).unwrap())
        .unwrap();
    assert!(r.blocks.is_empty());
}

#[test]
fn rr_block_echoes_the_peers_sr() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, CodecMap::pcmu(), PHONE);
    let mut phone = Phone::new(0xA, 1, 0, 0);
    let phone_ntp = 0xE000_0000_4000_0000u64;
    let mut sr_at = None;
    let mut report = None;
    for i in 0..1_000u32 {
        let now = t0 + MS20 * i;
        let fired = run_timers_tagged(&mut e, now);
        if let Some((at, t)) = fired.into_iter().find(|(_, t)| t.from_port == pa.rtcp) {
            let r = rtcp::parse_compound(&t.contents).unwrap();
            if sr_at.is_some() {
                report = Some((at, r));
                break;
            }
        }
        e.handle_datagram(now, pa.rtp, addr(PHONE), &phone.next(&[0xFF; 160]));
        if i == 10 {
            let info = rtcp::SenderInfo {
                ntp: phone_ntp,
                rtp_ts: 1600,
                packets: 11,
                octets: 1760,
            };
            let mut sr = Vec::new();
            rtcp::write_report(&mut sr, Ssrc(0xA), Some(&info), None, "phone");
            e.handle_datagram(now, pa.rtcp, addr("10.0.0.5:4001"), &sr);
            sr_at = Some(now);
        }
    }
    let (at, r) = report.expect("a report");
    assert!(r.sender_info.is_none(), "A sent no RTP: RR");
    let block = r.blocks[0];
    assert_eq!(block.ssrc, Ssrc(0xA));
    assert_eq!(block.lsr, rtcp::ntp_middle(phone_ntp));
    let dlsr = rtcp::from_dlsr(block.dlsr);
    let expect = at - sr_at.unwrap();
    assert!(
        dlsr.abs_diff(expect) < Duration::from_millis(1),
        "{dlsr:?} vs {expect:?}"
    );
    // Every packet sent before the report was generated is counted (seqs 1..).
    let sent_before = (at - t0).as_millis() as u32 / 20 + 1;
    assert_eq!(block.extended_highest_seq, sent_before);
    assert_eq!(block.cumulative_lost, 0);
    assert!(events(&mut e).iter().any(|ev| matches!(ev, MediaEvent::RtcpReport { leg, report } if *leg == a && report.sender_info.is_some())));
}

#[test]
fn rtcp_mux_shares_the_rtp_port_both_ways() {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = e.create_leg().unwrap();
    let (b, _) = leg(&mut e, t0, CodecMap::pcmu(), "192.0.2.20:5000");
    e.set_codecs(a, CodecMap::pcmu()).unwrap();
    e.set_remote(
        t0,
        a,
        Remote {
            rtp: addr(PHONE),
            rtcp: None,
            rtcp_mux: true,
        },
    )
    .unwrap();
    e.connect(a, b).unwrap();
    let mut phone = Phone::new(0xA, 1, 0, 0);
    e.handle_datagram(t0, pa.rtp, addr(PHONE), &phone.next(&[0xFF; 160]));
    let mut rr = Vec::new();
    rtcp::write_report(&mut rr, Ssrc(0xA), None, None, "phone");
    e.handle_datagram(t0, pa.rtp, addr(PHONE), &rr);
    let out = transmits(&mut e);
    assert_eq!(out.len(), 1, "RTCP is not relayed");
    assert_eq!(e.stats(a).unwrap().counters.rtcp_in, 1);
    run_timers(&mut e, t0 + Duration::from_secs(4));
    let out = transmits(&mut e);
    let mine: Vec<_> = out.iter().filter(|t| t.to == addr(PHONE)).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].from_port, pa.rtp);
    assert_eq!(
        crate::packet::demux(&mine[0].contents),
        crate::packet::Demux::Rtcp
    );
}
