//! Scenario tests of the engine in virtual time: two legs, phones that send 20 ms packets, and
//! the seeded network emulator between them. Shared helpers here; the scenarios in the rooms
//! below.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::codec::{CodecMap, PayloadKind};
use crate::events::InactivityReason;
use crate::packet::{write_header, RtpHeader, Stamp};
use crate::{Pt, Ssrc};

mod latching;
mod relay;
mod robustness;
mod rtcp_stats;
mod tap;

pub(super) const MS20: Duration = Duration::from_millis(20);

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) fn config() -> EngineConfig {
    EngineConfig {
        port_min: 20_000,
        port_max: 20_099,
        leg: LegConfig::default(),
        seed: 7,
    }
}

pub(super) fn engine_at(t0: Instant) -> MediaEngine {
    MediaEngine::new(config(), t0, Duration::from_secs(1_700_000_000)).unwrap()
}

/// A leg with `codecs`, whose peer's SDP says `sdp`.
pub(super) fn leg(
    e: &mut MediaEngine,
    now: Instant,
    codecs: CodecMap,
    sdp: &str,
) -> (LegId, RtpPorts) {
    let (id, ports) = e.create_leg().unwrap();
    e.set_codecs(id, codecs).unwrap();
    e.set_remote(
        now,
        id,
        Remote {
            rtp: addr(sdp),
            rtcp: None,
            rtcp_mux: false,
        },
    )
    .unwrap();
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

/// A phone sending 20 ms packets of one payload type.
pub(super) struct Phone {
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub pt: u8,
    pub first: bool,
}

impl Phone {
    pub fn new(ssrc: u32, seq: u16, ts: u32, pt: u8) -> Phone {
        Phone {
            ssrc,
            seq,
            ts,
            pt,
            first: true,
        }
    }

    pub fn next(&mut self, payload: &[u8]) -> Vec<u8> {
        let p = packet(self.pt, self.seq, self.ts, self.ssrc, self.first, payload);
        self.first = false;
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(payload.len() as u32);
        p
    }
}

pub(super) fn transmits(e: &mut MediaEngine) -> Vec<Transmit> {
    std::iter::from_fn(|| e.poll_transmit()).collect()
}

pub(super) fn events(e: &mut MediaEngine) -> Vec<MediaEvent> {
    std::iter::from_fn(|| e.poll_event()).collect()
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

/// The RTP transmits among `out` (from `port`), parsed.
pub(super) fn rtp_from(out: &[Transmit], port: u16) -> Vec<(RtpHeader, Vec<u8>)> {
    out.iter()
        .filter(|t| {
            t.from_port == port && crate::packet::demux(&t.contents) == crate::packet::Demux::Rtp
        })
        .map(|t| {
            let h = RtpHeader::parse(&t.contents).unwrap();
            (h, h.payload(&t.contents).to_vec())
        })
        .collect()
}

/// Runs every timer due up to `until`, tagging what each sent with the timer's time.
pub(super) fn run_timers_tagged(e: &mut MediaEngine, until: Instant) -> Vec<(Instant, Transmit)> {
    let mut out = Vec::new();
    while let Some(t) = e.poll_timeout() {
        if t > until {
            break;
        }
        e.handle_timeout(t);
        out.extend(transmits(e).into_iter().map(|x| (t, x)));
    }
    out
}
