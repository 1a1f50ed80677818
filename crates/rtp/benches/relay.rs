//! Relayed packets per second on one core through `MediaEngine`: 172-byte PCMU packets (20 ms,
//! 160 samples) in on one leg and out on the other, header rewritten, buffers recycled, RTCP
//! timers run as virtual time passes. Variants: same law both sides, PCMU→PCMA transcoding,
//! 500 connected pairs served round robin (a working set bigger than the caches' hot lines), and a
//! source leg without telephone-event, whose audio also goes through the in-band DTMF detector.
//!
//! `cargo bench -p tether-rtp --bench relay -- --measurement-time 3`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tether_rtp::{CodecMap, EngineConfig, MediaEngine, Remote};

const MS20: Duration = Duration::from_millis(20);

struct Bench {
    engine: MediaEngine,
    /// (A's RTP port, A's phone address, the packet A's phone sends next).
    inputs: Vec<(u16, SocketAddr, [u8; 172])>,
    now: Instant,
    step: Duration,
    next: usize,
}

impl Bench {
    fn new(pairs: usize, a_codecs: CodecMap, b_codecs: CodecMap) -> Bench {
        let t0 = Instant::now();
        let mut engine = MediaEngine::new(
            EngineConfig {
                port_min: 10_000,
                port_max: 60_000,
                seed: 1,
                ..EngineConfig::default()
            },
            t0,
            Duration::from_secs(1_700_000_000),
        )
        .unwrap();
        let mut inputs = Vec::new();
        for i in 0..pairs {
            let phone: SocketAddr = format!("10.0.{}.{}:4000", i / 250, i % 250 + 1)
                .parse()
                .unwrap();
            let (a, pa) = engine.create_leg().unwrap();
            let (b, _) = engine.create_leg().unwrap();
            engine.set_codecs(a, a_codecs).unwrap();
            engine.set_codecs(b, b_codecs).unwrap();
            for (leg, rtp) in [(a, phone), (b, "192.0.2.20:5000".parse().unwrap())] {
                let remote = Remote {
                    rtp,
                    rtcp: None,
                    rtcp_mux: false,
                };
                engine.set_remote(t0, leg, remote).unwrap();
            }
            engine.connect(a, b).unwrap();
            let mut packet = [0u8; 172];
            packet[0] = 0x80;
            packet[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            for (j, byte) in packet[12..].iter_mut().enumerate() {
                *byte = j as u8;
            }
            inputs.push((pa.rtp, phone, packet));
        }
        Bench {
            engine,
            inputs,
            now: t0,
            step: MS20 / pairs as u32,
            next: 0,
        }
    }

    /// One packet in, one packet out.
    #[inline]
    fn relay_one(&mut self) {
        self.now += self.step;
        let len = self.inputs.len();
        let (port, from, packet) = &mut self.inputs[self.next];
        self.next = (self.next + 1) % len;
        let seq = u16::from_be_bytes([packet[2], packet[3]]).wrapping_add(1);
        let ts = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]).wrapping_add(160);
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet[4..8].copy_from_slice(&ts.to_be_bytes());
        self.engine.handle_datagram(self.now, *port, *from, packet);
        if self.engine.poll_timeout().is_some_and(|t| t <= self.now) {
            self.engine.handle_timeout(self.now);
        }
        let mut relayed = 0;
        while let Some(t) = self.engine.poll_transmit() {
            relayed += usize::from(t.contents.len() == 172);
            self.engine.recycle(t.contents);
        }
        if relayed == 0 {
            let stats: Vec<_> = self.engine.legs().collect();
            panic!("the packet was not relayed: {stats:#?}");
        }
    }
}

fn relay(c: &mut Criterion) {
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(1));
    let pcmu = CodecMap::pcmu();
    let no_events = CodecMap {
        telephone_event: None,
        ..pcmu
    };
    let cases = [
        ("pcmu_to_pcmu", 1, pcmu, pcmu),
        ("pcmu_to_pcma_transcoded", 1, pcmu, CodecMap::pcma()),
        ("pcmu_to_pcmu_500_pairs", 500, pcmu, pcmu),
        ("pcmu_to_pcmu_inband_listening", 1, no_events, pcmu),
    ];
    for (name, pairs, a_codecs, b_codecs) in cases {
        let mut bench = Bench::new(pairs, a_codecs, b_codecs);
        group.bench_function(name, |b| b.iter(|| bench.relay_one()));
    }
    group.finish();
}

criterion_group!(benches, relay);
criterion_main!(benches);
