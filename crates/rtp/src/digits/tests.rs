//! Scenario tests of DTMF in the engine, in virtual time: phones that send audio and RFC 4733
//! packets into a leg, what comes out on the connected leg, and the `Digit` events. Shared helpers
//! here; the scenarios in the rooms below.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::codec::CodecMap;
use crate::dtmf::detect::{DetectorEvent, DtmfDetector};
use crate::dtmf::event::TelephoneEvent;
use crate::dtmf::sender::{DtmfSender, EventPacket, SenderConfig};
use crate::engine::EngineConfig;
use crate::events::MediaEvent;
use crate::g711::Law;
use crate::leg::{LegConfig, Remote};
use crate::packet::{write_header, RtpHeader, Stamp};
use crate::ports::RtpPorts;
use crate::{Pt, Ssrc};

mod crossing;
mod echo;
mod pcap;
mod receive;
mod robustness;
mod send;

pub(super) const MS20: Duration = Duration::from_millis(20);
pub(super) const PHONE_A: &str = "192.0.2.10:4000";
pub(super) const PHONE_B: &str = "192.0.2.20:5000";

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) fn engine_at(t0: Instant) -> MediaEngine {
    let config = EngineConfig {
        port_min: 20_000,
        port_max: 20_099,
        leg: LegConfig::default(),
        seed: 11,
    };
    MediaEngine::new(config, t0, Duration::from_secs(1_700_000_000)).unwrap()
}

/// PCMU (or PCMA) with telephone-event at `te`, or none.
pub(super) fn codecs(law: Law, te: Option<u8>) -> CodecMap {
    let mut map = match law {
        Law::Ulaw => CodecMap::pcmu(),
        Law::Alaw => CodecMap::pcma(),
    };
    map.telephone_event = te.map(|pt| Pt::new(pt).unwrap());
    map
}

/// A leg with `codecs` whose phone is at `phone`.
pub(super) fn leg(
    e: &mut MediaEngine,
    now: Instant,
    codecs: CodecMap,
    phone: &str,
) -> (LegId, RtpPorts) {
    let (id, ports) = e.create_leg().unwrap();
    e.set_codecs(id, codecs).unwrap();
    let remote = Remote {
        rtp: addr(phone),
        rtcp: None,
        rtcp_mux: false,
    };
    e.set_remote(now, id, remote).unwrap();
    (id, ports)
}

pub(super) fn packet(
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    marker: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(
        &mut out,
        &Stamp {
            marker,
            pt: Pt::new(pt).unwrap(),
            seq,
            ts,
            ssrc: Ssrc(ssrc),
        },
    );
    out.extend_from_slice(payload);
    out
}

pub(super) fn events(e: &mut MediaEngine) -> Vec<MediaEvent> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// The `Digit` events among `evs`: leg, key, duration in ms, source.
pub(super) fn digits(evs: &[MediaEvent]) -> Vec<(LegId, Digit, u128, DigitSource)> {
    evs.iter()
        .filter_map(|ev| match ev {
            MediaEvent::Digit {
                leg,
                digit,
                duration,
                how,
            } => Some((*leg, *digit, duration.as_millis(), *how)),
            _ => None,
        })
        .collect()
}

/// The keys of `evs`' `Digit` events as a string.
pub(super) fn keys(evs: &[MediaEvent]) -> String {
    digits(evs).iter().map(|d| d.1.to_char()).collect()
}

/// Runs every timer due up to and including `until`.
pub(super) fn run_timers(e: &mut MediaEngine, until: Instant) {
    while let Some(t) = e.poll_timeout() {
        if t > until {
            break;
        }
        e.handle_timeout(t);
    }
}

/// One RTP packet a leg sent to its phone.
#[derive(Debug, Clone)]
pub(super) struct Out {
    pub header: RtpHeader,
    pub payload: Vec<u8>,
}

impl Out {
    pub fn event(&self) -> TelephoneEvent {
        TelephoneEvent::decode(&self.payload).unwrap()
    }
}

/// Takes every transmit queued; returns the RTP ones sent from `port`.
pub(super) fn sent_from(e: &mut MediaEngine, port: u16) -> Vec<Out> {
    let mut out = Vec::new();
    while let Some(t) = e.poll_transmit() {
        if t.from_port == port && crate::packet::demux(&t.contents) == crate::packet::Demux::Rtp {
            let header = RtpHeader::parse(&t.contents).unwrap();
            out.push(Out {
                header,
                payload: header.payload(&t.contents).to_vec(),
            });
        }
        e.recycle(t.contents);
    }
    out
}

/// A phone sending on one leg: audio every 20 ms with its own sequence and timestamps, and the
/// RFC 4733 packets of a [`DtmfSender`] when asked.
pub(super) struct Phone {
    pub ssrc: u32,
    pub seq: u16,
    pub ts0: u32,
    pub audio_pt: u8,
    pub event_pt: u8,
    pub first: bool,
}

impl Phone {
    pub fn new(ssrc: u32, audio_pt: u8, event_pt: u8) -> Phone {
        Phone {
            ssrc,
            seq: 40_000,
            ts0: 7_000,
            audio_pt,
            event_pt,
            first: true,
        }
    }

    /// The phone's media clock at `at` (8 kHz from `t0`).
    pub fn ts_at(&self, t0: Instant, at: Instant) -> u32 {
        self.ts0
            .wrapping_add(((at - t0).as_micros() * 8 / 1000) as u32)
    }

    pub fn audio(&mut self, t0: Instant, at: Instant, payload: &[u8]) -> Vec<u8> {
        let ts = self.ts_at(t0, at);
        let p = packet(self.audio_pt, self.seq, ts, self.ssrc, self.first, payload);
        self.first = false;
        self.seq = self.seq.wrapping_add(1);
        p
    }

    pub fn event(&mut self, ev: &EventPacket) -> Vec<u8> {
        let p = packet(
            self.event_pt,
            self.seq,
            ev.timestamp,
            self.ssrc,
            ev.marker,
            &ev.payload,
        );
        self.seq = self.seq.wrapping_add(1);
        p
    }
}

/// Frame `n` of a low hum whose level rises frame by frame (no two frames alike), a stand-in for
/// speech that no detector takes for a key.
pub(super) fn speech_frame(law: Law, n: u32) -> Vec<u8> {
    let level = 1.0 + f64::from(n % 200) / 100.0;
    (0..160u32)
        .map(|i| {
            let t = f64::from(n * 160 + i) / 8000.0;
            let s = level * 2000.0 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                + level * 1000.0 * (2.0 * std::f64::consts::PI * 330.0 * t).sin();
            law.encode(s as i16)
        })
        .collect()
}

/// Decodes G.711 payloads in order and runs the detector over them: the keys and their lengths
/// in ms.
pub(super) fn detect(law: Law, payloads: &[Vec<u8>]) -> Vec<(Digit, u64)> {
    let mut det = DtmfDetector::default();
    for p in payloads {
        let pcm: Vec<i16> = p.iter().map(|&c| law.decode(c)).collect();
        det.process(&pcm);
    }
    det.flush();
    std::iter::from_fn(|| det.poll_event())
        .filter_map(|e| match e {
            DetectorEvent::DigitDetected {
                digit, duration, ..
            } => Some((digit, duration / 8)),
            _ => None,
        })
        .collect()
}

/// Checks that `out` is one stream: one SSRC, sequence numbers one apart, timestamps moving
/// forward.
pub(super) fn assert_one_stream(out: &[Out]) {
    let ssrc = out[0].header.ssrc;
    for w in out.windows(2) {
        assert_eq!(w[1].header.ssrc, ssrc, "one SSRC");
        assert_eq!(
            w[1].header.seq,
            w[0].header.seq.wrapping_add(1),
            "sequence numbers follow on: {:?} then {:?}",
            w[0].header,
            w[1].header
        );
        let step = w[1].header.ts.wrapping_sub(w[0].header.ts) as i32;
        assert!(
            (0..=16_000).contains(&step),
            "timestamps move forward: {:?} then {:?}",
            w[0].header,
            w[1].header
        );
    }
}

/// Two connected legs: A (whose phone the tests drive) and B.
pub(super) struct Call {
    pub e: MediaEngine,
    pub t0: Instant,
    pub a: LegId,
    pub pa: RtpPorts,
    pub b: LegId,
    pub pb: RtpPorts,
}

pub(super) fn call(a_codecs: CodecMap, b_codecs: CodecMap) -> Call {
    let t0 = Instant::now();
    let mut e = engine_at(t0);
    let (a, pa) = leg(&mut e, t0, a_codecs, PHONE_A);
    let (b, pb) = leg(&mut e, t0, b_codecs, PHONE_B);
    e.connect(a, b).unwrap();
    Call {
        e,
        t0,
        a,
        pa,
        b,
        pb,
    }
}

impl Call {
    /// Runs `ticks` 20 ms ticks; at each, A's phone sends what `plan` gives, and every engine
    /// timer runs at its own instant. Returns what B's phone received, in order.
    pub fn run(&mut self, ticks: u32, plan: impl FnMut(u32, Instant) -> Vec<Vec<u8>>) -> Vec<Out> {
        self.run_hooked(ticks, plan, |_, _, _| {})
    }

    /// [`Call::run`], with `hook` called on the engine at each tick before A's packets.
    pub fn run_hooked(
        &mut self,
        ticks: u32,
        mut plan: impl FnMut(u32, Instant) -> Vec<Vec<u8>>,
        mut hook: impl FnMut(&mut MediaEngine, u32, Instant),
    ) -> Vec<Out> {
        for k in 0..ticks {
            let now = self.t0 + MS20 * k;
            run_timers(&mut self.e, now);
            hook(&mut self.e, k, now);
            for pkt in plan(k, now) {
                self.e
                    .handle_datagram(now, self.pa.rtp, addr(PHONE_A), &pkt);
            }
            run_timers(&mut self.e, now);
        }
        run_timers(&mut self.e, self.t0 + MS20 * ticks + Duration::from_secs(1));
        sent_from(&mut self.e, self.pb.rtp)
    }
}
