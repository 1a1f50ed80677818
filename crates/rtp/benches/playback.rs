//! CPU cost of pacing 2,000 simultaneous playbacks, per 20 ms of media: the work the media driver
//! does every 20 ms to hand out one frame for each playback (timer wheel walk, player step, output
//! queue), in virtual time so only the CPU is measured. Two driving styles: a wake-up every 1 ms
//! (20 `handle_timeout` calls) and one per 20 ms. Plus a 32-party conference mix per 20 ms.
//!
//! Run: `cargo bench -p tether-rtp --bench playback`
//! (The real-time send-time jitter is measured by `cargo run --release -p tether-rtp --example pacing`.)

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tether_rtp::announce::music_on_hold;
use tether_rtp::frame::FRAME_SAMPLES;
use tether_rtp::g711::Law;
use tether_rtp::mixer::Mixer;
use tether_rtp::player::Repeat;
use tether_rtp::players::{PlayOutput, Playbacks};

const PLAYBACKS: u32 = 2_000;

/// 2,000 music-on-hold playbacks with starts spread evenly over one 20 ms period.
fn playbacks(t0: Instant) -> Playbacks<u32> {
    let moh = Arc::new(music_on_hold());
    let mut p = Playbacks::new(t0);
    for k in 0..PLAYBACKS {
        let start = t0 + Duration::from_micros(u64::from(k) * 20_000 / u64::from(PLAYBACKS));
        let law = if k % 2 == 0 { Law::Ulaw } else { Law::Alaw };
        p.play(start, k, moh.clone(), law, Repeat::Forever);
    }
    while p.poll_output().is_some() {}
    p
}

/// One driver wake-up: queue what is due and take it all, touching each payload as a sender would.
fn wake(p: &mut Playbacks<u32>, now: Instant) -> u64 {
    p.handle_timeout(now);
    let mut sum = 0u64;
    while let Some(o) = p.poll_output() {
        if let PlayOutput::Frame(f) = o {
            sum += u64::from(f.payload()[0]) + u64::from(f.target);
        }
    }
    sum
}

fn pacing(c: &mut Criterion) {
    let mut group = c.benchmark_group("playback");
    group.throughput(Throughput::Elements(u64::from(PLAYBACKS)));

    let t0 = Instant::now();
    let mut p = playbacks(t0);
    let mut now = t0;
    group.bench_function("2000_playbacks_per_20ms_woken_every_1ms", |b| {
        b.iter(|| {
            let mut sum = 0;
            for _ in 0..20 {
                now += Duration::from_millis(1);
                sum += wake(&mut p, now);
            }
            black_box(sum)
        })
    });

    let mut p = playbacks(t0);
    let mut now = t0;
    group.bench_function("2000_playbacks_per_20ms_woken_once", |b| {
        b.iter(|| {
            now += Duration::from_millis(20);
            black_box(wake(&mut p, now))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mixer");
    let mut m = Mixer::new(32);
    for id in 0..32u32 {
        m.join(id, if id % 2 == 0 { Law::Ulaw } else { Law::Alaw })
            .expect("32 parties fit");
    }
    let payload = [0x55u8; FRAME_SAMPLES];
    group.throughput(Throughput::Elements(32));
    group.bench_function("32_parties_per_20ms", |b| {
        b.iter(|| {
            for id in 0..32u32 {
                m.put_g711(id, black_box(&payload)).expect("joined");
            }
            m.mix();
            black_box(m.output(0).map(|f| f[0]))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = pacing
}
criterion_main!(benches);
