//! Whatever the far ends send — event payloads of any length and content, keys that never end,
//! noise, tones cut short, sources that change — the DTMF rooms never panic, the timer loop always
//! moves on, and local keys still play out.

use super::*;
use crate::rng::SplitMix64;

#[test]
fn random_events_and_audio_never_wedge_the_engine() {
    for seed in 0..8u64 {
        let mut rng = SplitMix64::new(seed);
        let mut c = call(codecs(Law::Ulaw, Some(101)), codecs(Law::Alaw, None));
        // B also gets keys of its own now and then.
        let (t0, b) = (c.t0, c.b);
        let mut phone = Phone::new(0xA, 0, 101);
        let mut sender = DtmfSender::new(SenderConfig::default());
        let mut plan = |k: u32, now: Instant| {
            let mut out = Vec::new();
            match rng.next_u32() % 8 {
                // Garbage after a valid header, any length, either payload type.
                0 => {
                    let len = (rng.next_u32() % 12) as usize;
                    let body: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
                    let pt = if rng.chance(0.5) { 101 } else { 0 };
                    let ts = rng.next_u32();
                    out.push(packet(
                        pt,
                        phone.seq,
                        ts,
                        phone.ssrc,
                        rng.chance(0.3),
                        &body,
                    ));
                    phone.seq = phone.seq.wrapping_add(1);
                }
                // A new source now and then.
                1 if rng.chance(0.1) => phone.ssrc = rng.next_u32(),
                // Keys of any length, some with every packet lost after the first.
                2 => sender.queue(now, Digit::ALL[(k % 16) as usize], rng.next_u32() % 300),
                _ => {}
            }
            let media_ts = phone.ts_at(t0, now);
            while let Some(ev) = sender.poll(now, media_ts) {
                if !rng.chance(0.2) {
                    out.push(phone.event(&ev));
                }
            }
            out.push(phone.audio(t0, now, &speech_frame(Law::Ulaw, k)));
            out
        };
        let mut out = c.run_hooked(1500, &mut plan, |e, k, now| {
            if k % 200 == 100 {
                e.send_digits(now, b, "*9", 60, SendHow::Auto).unwrap();
            }
        });
        // Junk events may announce keys seconds long, which B then plays in full: let every key
        // queued on B finish.
        let end = c.t0 + MS20 * 1500 + Duration::from_secs(60);
        run_timers(&mut c.e, end);
        out.extend(sent_from(&mut c.e, c.pb.rtp));
        // One stream: the relay passes A's gaps on (its lost packets, its events B cannot take),
        // so sequence numbers may skip, never go back or restart.
        assert!(out.iter().all(|o| o.header.ssrc == out[0].header.ssrc));
        for w in out.windows(2) {
            let step = w[1].header.seq.wrapping_sub(w[0].header.seq);
            assert!(
                (1..=100).contains(&step),
                "{:?} then {:?}",
                w[0].header,
                w[1].header
            );
        }
        assert!(out.iter().all(|o| o.header.pt == Pt::PCMA));
        // Every timer was run at its instant and none is left due in the past.
        assert!(c.e.poll_timeout().is_none_or(|t| t > end));
        // B's own keys were played: its far end hears "*9" seven times among the crossed keys.
        let payloads: Vec<Vec<u8>> = out.iter().map(|o| o.payload.clone()).collect();
        let heard: String = detect(Law::Alaw, &payloads)
            .iter()
            .map(|h| h.0.to_char())
            .collect();
        assert!(heard.matches("*9").count() >= 7, "seed {seed}: {heard}");
        let evs = events(&mut c.e);
        assert!(!digits(&evs).is_empty());
    }
}
