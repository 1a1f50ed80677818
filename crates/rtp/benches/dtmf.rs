//! DTMF benchmarks, per 20 ms frame of one channel (160 samples at 8 kHz): the Goertzel detector
//! on keys in noise, on silence and on noise alone; the in-band generator; and the RFC 4733 sender
//! and receiver per packet. Realtime budget for one channel is 20 ms per frame.
//!
//! Run: `cargo bench -p tether-rtp --bench dtmf -- --measurement-time 3`

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tether_rtp::dtmf::detect::DtmfDetector;
use tether_rtp::dtmf::inband::{InbandConfig, InbandGenerator, FRAME_SAMPLES};
use tether_rtp::dtmf::receiver::{DtmfReceiver, ReceiverConfig};
use tether_rtp::dtmf::sender::{DtmfSender, SenderConfig};

/// Deterministic noise (xorshift), uniform, peak `amp`.
fn noise(len: usize, amp: f64, seed: u64) -> Vec<f64> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * amp
        })
        .collect()
}

/// Two seconds of keys (100 ms on, 100 ms off) with noise 20 dB down.
fn keys_in_noise() -> Vec<i16> {
    let mut gen = InbandGenerator::new(InbandConfig::default());
    gen.queue_str("0123456789").expect("keys");
    let mut out = Vec::new();
    while let Some(frame) = gen.next_frame() {
        out.extend(frame);
    }
    let n = noise(out.len(), 1500.0, 7);
    out.iter()
        .zip(n)
        .map(|(&s, v)| (f64::from(s) + v).clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dtmf_per_20ms_frame");
    g.throughput(Throughput::Elements(FRAME_SAMPLES as u64));
    let signals = [
        ("detect_keys_in_noise", keys_in_noise()),
        ("detect_silence", vec![0i16; 16_000]),
        (
            "detect_noise",
            noise(16_000, 8000.0, 3).iter().map(|&v| v as i16).collect(),
        ),
    ];
    for (name, signal) in &signals {
        let frames: Vec<&[i16]> = signal.chunks(FRAME_SAMPLES).collect();
        let mut det = DtmfDetector::default();
        let mut i = 0;
        g.bench_function(*name, |b| {
            b.iter(|| {
                det.process(black_box(frames[i % frames.len()]));
                i += 1;
                while det.poll_event().is_some() {}
            })
        });
    }
    g.bench_function("inband_generate", |b| {
        let mut gen = InbandGenerator::new(InbandConfig {
            gap_ms: 0,
            ..InbandConfig::default()
        });
        b.iter(|| {
            if !gen.is_active() {
                gen.queue_str("5555555555").expect("keys");
            }
            gen.next_frame()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rfc4733_per_packet");
    g.throughput(Throughput::Elements(1));
    let t0 = Instant::now();
    let mut sender = DtmfSender::new(SenderConfig::default());
    let mut now = t0;
    let mut packets = Vec::new();
    g.bench_function("sender_poll", |b| {
        b.iter(|| {
            if sender.poll_timeout().is_none() {
                sender.queue_str(now, "123").expect("keys");
            }
            now = sender.poll_timeout().unwrap_or(now);
            let p = sender.poll(now, 0);
            if packets.len() < 10_000 {
                packets.extend(p.map(|p| (now, p)));
            }
            p
        })
    });
    let mut rx = DtmfReceiver::new(ReceiverConfig::default());
    let mut i = 0;
    let lap = packets.last().map(|(t, _)| *t - t0).unwrap_or_default() + Duration::from_secs(1);
    g.bench_function("receiver_packet", |b| {
        b.iter(|| {
            let (at, p) = packets[i % packets.len()];
            let at = at + lap * (i / packets.len()) as u32;
            let ts = p
                .timestamp
                .wrapping_add((i / packets.len()) as u32 * 8_000_000);
            i += 1;
            rx.handle_packet(at, ts, p.marker, black_box(&p.payload))
                .expect("well formed");
            while rx.poll_event().is_some() {}
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
