//! One media leg: a local RTP/RTCP port pair facing one peer. It judges every datagram that
//! arrives (malformed, from a stranger, of a payload type not negotiated, or valid audio /
//! telephone-event / RTCP), keeps the reception statistics, owns the outgoing stream's continuity,
//! watches for a far end that fell silent and writes its RTCP reports on the RFC 3550 schedule.
//!
//! Sans-IO: it never sends anything itself. The engine hands it datagrams and timer ticks and
//! takes back what to relay, what to send and what to report.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::codec::{CodecMap, PayloadKind};
pub use crate::counters::{LegCounters, LegStats};
use crate::events::{InactivityReason, LegId, MediaEvent, PeerReport};
use crate::latch::{Latch, LatchVerdict, Latching};
use crate::packet::{demux, Demux, RtpHeader};
use crate::ports::RtpPorts;
use crate::reception::{Reception, SeqVerdict};
use crate::rng::SplitMix64;
use crate::rtcp::{self, ReportBlock, SenderInfo};
use crate::stream::{samples_in, OutStream};
use crate::Ssrc;

/// RFC 3550 §6.3.1: the randomized interval is divided by e − 3/2 to make up for the timer
/// reconsideration bias.
const RTCP_COMPENSATION: f64 = 1.218_28;

/// How a leg treats its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegConfig {
    pub latching: Latching,
    /// End the call when the peer sends no RTP or RTCP for this long; `None` never.
    pub inactivity_timeout: Option<Duration>,
    /// How long the latched address must be silent before another address may take over.
    pub relatch_after: Duration,
    /// RTCP report interval before randomization (RFC 3550's minimum is 5 s); `None`: no RTCP.
    pub rtcp_interval: Option<Duration>,
}

impl Default for LegConfig {
    fn default() -> LegConfig {
        LegConfig {
            latching: Latching::AnyAddress,
            inactivity_timeout: Some(Duration::from_secs(30)),
            relatch_after: Duration::from_secs(2),
            rtcp_interval: Some(Duration::from_secs(5)),
        }
    }
}

/// Where the peer wants media, from its SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    pub rtp: SocketAddr,
    /// From `a=rtcp`; `None` means the RTP port + 1.
    pub rtcp: Option<SocketAddr>,
    /// `a=rtcp-mux` negotiated: RTCP shares the RTP port both ways.
    pub rtcp_mux: bool,
}

/// Who feeds a leg's outgoing stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputSource {
    /// Packets relayed from the connected leg.
    Relay,
    /// Frames fed through `MediaEngine::feed_frame` only (announcement, mixer, tones); relayed
    /// packets toward this leg are counted and not sent.
    Fed,
}

/// A datagram the leg accepted as media.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepted {
    pub header: RtpHeader,
    pub kind: PayloadKind,
}

pub(crate) struct MediaLeg {
    pub id: LegId,
    pub ports: RtpPorts,
    pub config: LegConfig,
    pub codecs: Option<CodecMap>,
    pub out: OutStream,
    pub peer: Option<u32>,
    pub source: OutputSource,
    pub counters: LegCounters,
    /// The earliest deadline this leg has in the engine's timer heap.
    pub queued_at: Option<Instant>,
    /// DTMF receivers and generators (`digits.rs`), made on first use.
    pub digits: Option<Box<crate::digits::LegDigits>>,
    /// What the leg receives is also handed out (`tap.rs`).
    pub tap: bool,
    remote: Option<Remote>,
    latch: Latch,
    active_since: Option<Instant>,
    last_heard: Option<Instant>,
    inactive_reported: bool,
    reception: Option<Reception>,
    lost_before: i64,
    rng: SplitMix64,
    next_rtcp: Option<Instant>,
    last_report: Option<Instant>,
    peer_sr: Option<(u32, Instant)>,
    rtt: Option<Duration>,
    peer_report: Option<ReportBlock>,
}

impl MediaLeg {
    pub fn new(id: LegId, ports: RtpPorts, config: LegConfig, mut rng: SplitMix64) -> MediaLeg {
        let ssrc = Ssrc(rng.next_u32());
        let seq = rng.next_u32() as u16;
        let ts = rng.next_u32();
        MediaLeg {
            id,
            ports,
            config,
            codecs: None,
            out: OutStream::new(ssrc, seq, ts),
            peer: None,
            source: OutputSource::Relay,
            counters: LegCounters::default(),
            queued_at: None,
            digits: None,
            tap: false,
            remote: None,
            latch: Latch::new(config.latching, config.relatch_after),
            active_since: None,
            last_heard: None,
            inactive_reported: false,
            reception: None,
            lost_before: 0,
            rng,
            next_rtcp: None,
            last_report: None,
            peer_sr: None,
            rtt: None,
            peer_report: None,
        }
    }

    /// The peer's SDP address. Starts the inactivity watch and the RTCP schedule the first time.
    pub fn set_remote(&mut self, now: Instant, remote: Remote) {
        self.latch.set_expected(remote.rtp);
        self.remote = Some(remote);
        if self.active_since.is_none() {
            self.active_since = Some(now);
            if let Some(interval) = self.config.rtcp_interval {
                // The first report comes after half the minimum interval (RFC 3550 §6.2).
                self.next_rtcp = Some(now + self.rtcp_delay(interval / 2));
            }
        }
    }

    pub fn set_inactivity_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.config.inactivity_timeout = timeout;
        // Counting starts again from now, so a timeout shortened mid-call does not fire at once.
        self.last_heard = Some(now);
        self.inactive_reported = false;
    }

    fn rtcp_delay(&mut self, interval: Duration) -> Duration {
        let factor = (0.5 + self.rng.next_f64()) / RTCP_COMPENSATION;
        interval.mul_f64(factor)
    }

    /// Where RTP for the peer goes.
    #[inline]
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latch.destination()
    }

    /// The local port and peer address RTCP goes out on and to.
    fn rtcp_route(&self) -> Option<(u16, SocketAddr)> {
        let remote = self.remote?;
        if remote.rtcp_mux {
            return Some((self.ports.rtp, self.destination()?));
        }
        let to = self.latch.latched_rtcp().or(remote.rtcp).or_else(|| {
            let rtp = self.destination()?;
            Some(SocketAddr::new(rtp.ip(), rtp.port().checked_add(1)?))
        })?;
        Some((self.ports.rtcp, to))
    }

    /// Judges one datagram that arrived on this leg's RTP port (`on_rtcp_port == false`) or RTCP
    /// port. Returns the packet when it is media to pass on.
    pub fn receive(
        &mut self,
        now: Instant,
        clock: &Clock,
        on_rtcp_port: bool,
        from: SocketAddr,
        datagram: &[u8],
        events: &mut impl Extend<MediaEvent>,
    ) -> Option<Accepted> {
        match demux(datagram) {
            Demux::Rtp if !on_rtcp_port => self.receive_rtp(now, clock, from, datagram, events),
            Demux::Rtcp => {
                let ntp_now = clock.ntp(now);
                self.receive_rtcp(now, ntp_now, !on_rtcp_port, from, datagram, events);
                None
            }
            _ => {
                self.counters.malformed += 1;
                None
            }
        }
    }

    fn receive_rtp(
        &mut self,
        now: Instant,
        clock: &Clock,
        from: SocketAddr,
        datagram: &[u8],
        events: &mut impl Extend<MediaEvent>,
    ) -> Option<Accepted> {
        let Ok(header) = RtpHeader::parse(datagram) else {
            self.counters.malformed += 1;
            return None;
        };
        let Some(kind) = self.codecs.as_ref().and_then(|c| c.kind_of(header.pt)) else {
            self.counters.unknown_pt += 1;
            return None;
        };
        match self.latch.check_rtp(now, from) {
            LatchVerdict::Accept => {}
            LatchVerdict::Latched => events.extend([MediaEvent::Latched {
                leg: self.id,
                peer: from,
            }]),
            LatchVerdict::Relatched { previous } => {
                self.counters.relatches += 1;
                events.extend([MediaEvent::Relatched {
                    leg: self.id,
                    previous,
                    peer: from,
                }]);
            }
            LatchVerdict::Stranger => {
                self.counters.dropped_stranger += 1;
                return None;
            }
        }
        self.heard(now);
        let reception = match &mut self.reception {
            Some(r) if r.ssrc() == header.ssrc => r,
            slot => {
                if let Some(old) = slot.as_ref() {
                    self.lost_before += old.cumulative_lost();
                    self.counters.ssrc_changes += 1;
                }
                slot.insert(Reception::new(header.ssrc, header.seq))
            }
        };
        if reception.update_seq(header.seq) == SeqVerdict::Jump {
            self.counters.dropped_seq += 1;
            return None;
        }
        if matches!(kind, PayloadKind::Audio(_)) {
            reception.update_jitter(header.ts, clock.arrival(now));
        }
        self.counters.packets_in += 1;
        self.counters.octets_in += header.payload_len() as u64;
        Some(Accepted { header, kind })
    }

    fn heard(&mut self, now: Instant) {
        self.last_heard = Some(now);
        self.inactive_reported = false;
    }

    fn receive_rtcp(
        &mut self,
        now: Instant,
        ntp_now: u64,
        muxed: bool,
        from: SocketAddr,
        datagram: &[u8],
        events: &mut impl Extend<MediaEvent>,
    ) {
        let Ok(compound) = rtcp::parse_compound(datagram) else {
            self.counters.malformed += 1;
            return;
        };
        if !self.latch.check_rtcp(from, muxed) {
            self.counters.dropped_stranger += 1;
            return;
        }
        self.counters.rtcp_in += 1;
        self.heard(now);
        if let Some(info) = compound.sender_info {
            self.peer_sr = Some((rtcp::ntp_middle(info.ntp), now));
        }
        let block = compound
            .blocks
            .iter()
            .find(|b| b.ssrc == self.out.ssrc())
            .copied();
        let mut rtt = None;
        if let Some(b) = block {
            self.peer_report = Some(b);
            if b.lsr != 0 {
                let units = rtcp::ntp_middle(ntp_now)
                    .wrapping_sub(b.lsr)
                    .wrapping_sub(b.dlsr);
                if (units as i32) >= 0 {
                    rtt = Some(rtcp::from_dlsr(units));
                    self.rtt = rtt;
                }
            }
        }
        if compound.sender.is_some() {
            events.extend([MediaEvent::RtcpReport {
                leg: self.id,
                report: PeerReport {
                    ssrc: compound.sender,
                    sender_info: compound.sender_info,
                    block,
                    rtt,
                },
            }]);
        }
        for ssrc in compound.bye {
            events.extend([MediaEvent::PeerBye { leg: self.id, ssrc }]);
        }
    }

    fn inactivity_deadline(&self) -> Option<Instant> {
        let timeout = self.config.inactivity_timeout?;
        let since = self.active_since?;
        if self.inactive_reported {
            return None;
        }
        let from = self.last_heard.map_or(since, |h| h.max(since));
        Some(from + timeout)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let own = match (self.inactivity_deadline(), self.next_rtcp) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (own, self.digits.as_ref().and_then(|d| d.next_deadline())) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles the leg's timers at `now`. Returns the local port and destination when an RTCP
    /// report was written to `buf`.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        ntp_now: u64,
        buf: &mut Vec<u8>,
        events: &mut impl Extend<MediaEvent>,
    ) -> Option<(u16, SocketAddr)> {
        if let Some(deadline) = self.inactivity_deadline() {
            if now >= deadline {
                self.inactive_reported = true;
                let from = self.last_heard.or(self.active_since).unwrap_or(now);
                events.extend([MediaEvent::Inactive {
                    leg: self.id,
                    reason: InactivityReason::MediaTimeout {
                        silent_for: now.saturating_duration_since(from),
                    },
                }]);
            }
        }
        let due = self.next_rtcp.is_some_and(|t| now >= t);
        if !due {
            return None;
        }
        let Some(interval) = self.config.rtcp_interval else {
            self.next_rtcp = None;
            return None;
        };
        self.next_rtcp = Some(now + self.rtcp_delay(interval));
        let route = self.rtcp_route()?;
        buf.clear();
        self.write_report(now, ntp_now, buf);
        self.counters.rtcp_out += 1;
        Some(route)
    }

    /// Writes an SR (when we sent RTP since the last report) or RR with a block about the peer.
    fn write_report(&mut self, now: Instant, ntp_now: u64, buf: &mut Vec<u8>) {
        let sent_lately = match (self.out.last_sent(), self.last_report) {
            (Some(sent), Some(report)) => sent > report,
            (Some(_), None) => true,
            (None, _) => false,
        };
        self.last_report = Some(now);
        let sender = sent_lately.then(|| {
            let (packets, octets) = self.out.sent();
            SenderInfo {
                ntp: ntp_now,
                rtp_ts: self.out.clock_at(now),
                packets,
                octets,
            }
        });
        let (lsr, dlsr) = match self.peer_sr {
            Some((lsr, at)) => (lsr, rtcp::to_dlsr(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        let block = self.reception.as_mut().map(|r| {
            let s = r.summarize();
            ReportBlock {
                ssrc: s.ssrc,
                fraction_lost: s.fraction_lost,
                cumulative_lost: s.cumulative_lost,
                extended_highest_seq: s.extended_highest_seq,
                jitter: s.jitter,
                lsr,
                dlsr,
            }
        });
        rtcp::write_report(
            buf,
            self.out.ssrc(),
            sender.as_ref(),
            block.as_ref(),
            "tether",
        );
    }

    /// Writes an RTCP BYE compound for the leg's end. Returns where to send it.
    pub fn write_bye(
        &mut self,
        now: Instant,
        ntp_now: u64,
        buf: &mut Vec<u8>,
    ) -> Option<(u16, SocketAddr)> {
        self.config.rtcp_interval?;
        let route = self.rtcp_route()?;
        buf.clear();
        self.write_report(now, ntp_now, buf);
        rtcp::write_bye(buf, self.out.ssrc());
        self.counters.rtcp_out += 1;
        Some(route)
    }

    pub fn stats(&self) -> LegStats {
        let (lost, jitter, remote_ssrc) = match &self.reception {
            Some(r) => (
                self.lost_before + r.cumulative_lost(),
                Duration::from_micros(u64::from(r.jitter()) * 125),
                Some(r.ssrc()),
            ),
            None => (self.lost_before, Duration::ZERO, None),
        };
        LegStats {
            ports: self.ports,
            counters: self.counters,
            lost,
            jitter,
            local_ssrc: self.out.ssrc(),
            remote_ssrc,
            latched: self.latch.latched(),
            rtt: self.rtt,
            peer_report: self.peer_report,
        }
    }
}

/// The engine's two clocks as the legs need them: an arbitrary epoch for arrival times and the
/// wall-clock (NTP) time of that epoch, given by the binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub epoch: Instant,
    pub ntp_at_epoch: u64,
}

impl Clock {
    /// Arrival time in 8 kHz units since the epoch (for the A.8 jitter estimator).
    #[inline]
    pub fn arrival(&self, now: Instant) -> u32 {
        samples_in(now.saturating_duration_since(self.epoch)) as u32
    }

    /// The 64-bit NTP timestamp of `now`.
    pub fn ntp(&self, now: Instant) -> u64 {
        self.ntp_at_epoch.wrapping_add(rtcp::duration_to_ntp(
            now.saturating_duration_since(self.epoch),
        ))
    }
}
