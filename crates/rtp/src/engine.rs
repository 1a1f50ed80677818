//! The media engine, sans-IO: it owns every media leg, keyed by [`LegId`], and the port range
//! they come from. The call engine commands it (create a leg, set its peer and codecs, connect
//! two legs, release); the binary feeds it datagrams and timer ticks and polls what to send, what
//! happened and when to call again. It never touches a socket or a clock.
//!
//! Outputs are queued: [`MediaEngine::poll_transmit`] hands out datagrams in owned buffers taken
//! from a pool; give them back with [`MediaEngine::recycle`] once sent, and the relay path
//! allocates nothing. Forwarding itself (relay, transcoding, fed frames) lives in `relay.rs`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::codec::{CodecError, CodecMap, PayloadKind};
use crate::events::{LegId, MediaEvent};
use crate::leg::{Clock, LegConfig, LegCounters, LegStats, MediaLeg, OutputSource, Remote};
use crate::ports::{PortPool, PortRangeError, RtpPorts};
use crate::rng::SplitMix64;
use crate::rtcp;

#[cfg(test)]
mod tests;

/// Buffers kept for reuse beyond this many are dropped.
const POOL_LIMIT: usize = 4096;
/// Shortest RTCP interval accepted (keeps the timer loop finite whatever the configuration).
const MIN_RTCP_INTERVAL: Duration = Duration::from_millis(100);

/// How the engine is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Lowest RTP port (even).
    pub port_min: u16,
    /// Highest port of the range (inclusive).
    pub port_max: u16,
    /// What new legs get unless created with their own.
    pub leg: LegConfig,
    /// Seeds SSRCs, initial sequence numbers and timestamps and RTCP interval randomization.
    /// The binary passes fresh randomness; tests pass a constant to replay.
    pub seed: u64,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            port_min: 16_384,
            port_max: 32_767,
            leg: LegConfig::default(),
            seed: 0,
        }
    }
}

/// A command the engine refused. The caller (the call engine) is at fault, except for
/// `PortsExhausted`, a resource limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineError {
    /// No free RTP port pair.
    PortsExhausted,
    /// The leg was released or never existed.
    UnknownLeg(LegId),
    /// A leg cannot be connected to itself.
    SameLeg(LegId),
    /// The leg is already connected; disconnect it first.
    AlreadyConnected(LegId),
    /// The codec map does not work.
    Codec(CodecError),
    /// The leg has no codec map yet.
    NoCodecs(LegId),
    /// The leg did not negotiate this kind of payload.
    NotNegotiated { leg: LegId, kind: PayloadKind },
    /// The leg has no peer address yet (no SDP, nothing latched).
    NoDestination(LegId),
    /// A fed telephone-event payload shorter than its 4-byte event block.
    ShortEvent,
    /// The pair asked for by number cannot be taken.
    Port(crate::ports::PortError),
    /// A key string held this character, which is no DTMF key (`0-9 * # A-D`).
    NotADtmfKey(char),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::PortsExhausted => write!(f, "no free RTP port pair"),
            EngineError::Port(e) => write!(f, "{e}"),
            EngineError::UnknownLeg(leg) => write!(f, "unknown media leg {leg}"),
            EngineError::SameLeg(leg) => write!(f, "cannot connect {leg} to itself"),
            EngineError::AlreadyConnected(leg) => write!(f, "{leg} is already connected"),
            EngineError::Codec(e) => write!(f, "codec map: {e}"),
            EngineError::NoCodecs(leg) => write!(f, "{leg} has no codecs"),
            EngineError::NotNegotiated { leg, kind } => {
                write!(f, "{leg} did not negotiate {kind:?}")
            }
            EngineError::NoDestination(leg) => write!(f, "{leg} has no peer address"),
            EngineError::ShortEvent => write!(f, "telephone-event payload under 4 bytes"),
            EngineError::NotADtmfKey(c) => write!(f, "{c:?} is not a DTMF key (0-9 * # A-D)"),
        }
    }
}

impl std::error::Error for EngineError {}

/// One datagram to send: from the socket bound to `from_port`, to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub from_port: u16,
    pub to: SocketAddr,
    pub contents: Vec<u8>,
}

/// Engine-wide figures for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineTotals {
    /// Legs alive now.
    pub legs: usize,
    /// Legs created since start.
    pub legs_created: u64,
    pub port_pairs_free: usize,
    pub port_pairs_total: usize,
    /// Counters of every leg, alive and released.
    pub counters: LegCounters,
    /// Packets lost from peers (RFC 3550 A.3), every leg alive and released.
    pub lost: i64,
    /// Datagrams on a port of the range that no leg holds.
    pub unknown_port: u64,
}

/// The sans-IO media engine.
pub struct MediaEngine {
    pub(crate) ports: PortPool,
    defaults: LegConfig,
    rng: SplitMix64,
    pub(crate) clock: Clock,
    pub(crate) slots: Vec<Option<MediaLeg>>,
    generations: Vec<u32>,
    free_slots: Vec<u32>,
    by_pair: Vec<Option<u32>>,
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) pool: Vec<Vec<u8>>,
    pub(crate) events: VecDeque<MediaEvent>,
    /// Audio of tapped legs, waiting for the driver (`tap.rs`).
    pub(crate) heard: VecDeque<crate::tap::Heard>,
    released: LegCounters,
    released_lost: i64,
    legs_created: u64,
    unknown_port: u64,
}

impl MediaEngine {
    /// An engine over `config`'s port range. `now` and `unix_time` (the wall-clock time at `now`,
    /// as the duration since the Unix epoch) anchor the NTP timestamps of sender reports.
    pub fn new(
        config: EngineConfig,
        now: Instant,
        unix_time: Duration,
    ) -> Result<MediaEngine, PortRangeError> {
        let ports = PortPool::new(config.port_min, config.port_max)?;
        let pairs = ports.capacity();
        Ok(MediaEngine {
            ports,
            defaults: config.leg,
            rng: SplitMix64::new(config.seed),
            clock: Clock {
                epoch: now,
                ntp_at_epoch: rtcp::ntp_from_unix(unix_time),
            },
            slots: Vec::new(),
            generations: Vec::new(),
            free_slots: Vec::new(),
            by_pair: vec![None; pairs],
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            pool: Vec::new(),
            events: VecDeque::new(),
            heard: VecDeque::new(),
            released: LegCounters::default(),
            released_lost: 0,
            legs_created: 0,
            unknown_port: 0,
        })
    }

    // ----- commands -----

    /// Allocates a port pair and a leg with the engine's default configuration.
    pub fn create_leg(&mut self) -> Result<(LegId, RtpPorts), EngineError> {
        self.create_leg_with(self.defaults)
    }

    /// Allocates a port pair and a leg with its own configuration.
    pub fn create_leg_with(&mut self, config: LegConfig) -> Result<(LegId, RtpPorts), EngineError> {
        // Allocation fails only when the range is used up.
        let ports = self
            .ports
            .allocate()
            .map_err(|_| EngineError::PortsExhausted)?;
        Ok((self.insert_leg(ports, config), ports))
    }

    /// A leg on the pair whose RTP port is `rtp`, chosen by the caller (the call engine owns
    /// the port plan and writes the port into SDP before the leg exists here).
    pub fn create_leg_at(&mut self, rtp: u16) -> Result<LegId, EngineError> {
        let ports = self.ports.take(rtp).map_err(EngineError::Port)?;
        Ok(self.insert_leg(ports, self.defaults))
    }

    fn insert_leg(&mut self, ports: RtpPorts, mut config: LegConfig) -> LegId {
        config.rtcp_interval = config.rtcp_interval.map(|i| i.max(MIN_RTCP_INTERVAL));
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        let generation = self.generations.get(slot as usize).copied().unwrap_or(0);
        let id = LegId { slot, generation };
        let rng = SplitMix64::new(self.rng.next_u64());
        if let Some(entry) = self.slots.get_mut(slot as usize) {
            *entry = Some(MediaLeg::new(id, ports, config, rng));
        }
        if let Some(pair) = self
            .ports
            .pair_index(ports.rtp)
            .and_then(|i| self.by_pair.get_mut(i))
        {
            *pair = Some(slot);
        }
        self.legs_created += 1;
        id
    }

    pub(crate) fn leg_mut(&mut self, id: LegId) -> Result<&mut MediaLeg, EngineError> {
        match self.slots.get_mut(id.slot as usize) {
            Some(Some(leg)) if leg.id == id => Ok(leg),
            _ => Err(EngineError::UnknownLeg(id)),
        }
    }

    fn leg(&self, id: LegId) -> Result<&MediaLeg, EngineError> {
        match self.slots.get(id.slot as usize) {
            Some(Some(leg)) if leg.id == id => Ok(leg),
            _ => Err(EngineError::UnknownLeg(id)),
        }
    }

    /// The peer's address from its SDP (offer or answer). The first call starts the inactivity
    /// watch and RTCP; a later call with a new address clears the latch.
    pub fn set_remote(
        &mut self,
        now: Instant,
        id: LegId,
        remote: Remote,
    ) -> Result<(), EngineError> {
        self.leg_mut(id)?.set_remote(now, remote);
        self.schedule(id.slot);
        Ok(())
    }

    /// The leg's negotiated payload types (from SDP).
    pub fn set_codecs(&mut self, id: LegId, codecs: CodecMap) -> Result<(), EngineError> {
        codecs.validate().map_err(EngineError::Codec)?;
        self.leg_mut(id)?.codecs = Some(codecs);
        Ok(())
    }

    /// Changes the leg's media timeout (e.g. off while the call is on hold); counting restarts.
    pub fn set_inactivity_timeout(
        &mut self,
        now: Instant,
        id: LegId,
        timeout: Option<Duration>,
    ) -> Result<(), EngineError> {
        self.leg_mut(id)?.set_inactivity_timeout(now, timeout);
        self.schedule(id.slot);
        Ok(())
    }

    /// Who feeds the leg's outgoing stream: the relay, or fed frames only.
    pub fn set_output(&mut self, id: LegId, source: OutputSource) -> Result<(), EngineError> {
        self.leg_mut(id)?.source = source;
        Ok(())
    }

    /// Relays media both ways between `a` and `b` (transcoding µ-law/A-law where their codecs
    /// differ, remapping telephone-event).
    pub fn connect(&mut self, a: LegId, b: LegId) -> Result<(), EngineError> {
        if a == b {
            return Err(EngineError::SameLeg(a));
        }
        if self.leg(a)?.peer.is_some() {
            return Err(EngineError::AlreadyConnected(a));
        }
        if self.leg(b)?.peer.is_some() {
            return Err(EngineError::AlreadyConnected(b));
        }
        self.leg_mut(a)?.peer = Some(b.slot);
        self.leg_mut(b)?.peer = Some(a.slot);
        Ok(())
    }

    /// Stops relaying between `id` and whatever it is connected to.
    pub fn disconnect(&mut self, id: LegId) -> Result<(), EngineError> {
        if let Some(peer) = self.leg_mut(id)?.peer.take() {
            if let Some(Some(other)) = self.slots.get_mut(peer as usize) {
                other.peer = None;
            }
        }
        Ok(())
    }

    /// Ends the leg: sends RTCP BYE (when RTCP is on and the peer is known), disconnects it,
    /// returns its ports to the pool. Returns its final figures.
    pub fn release_leg(&mut self, now: Instant, id: LegId) -> Result<LegStats, EngineError> {
        self.disconnect(id)?;
        let ntp = self.clock.ntp(now);
        let mut buf = self.take_buf();
        let leg = self.leg_mut(id)?;
        let route = leg.write_bye(now, ntp, &mut buf);
        let stats = leg.stats();
        match route {
            Some((from_port, to)) => self.transmits.push_back(Transmit {
                from_port,
                to,
                contents: buf,
            }),
            None => self.recycle(buf),
        }
        self.released.add(&stats.counters);
        self.released_lost += stats.lost;
        if let Some(pair) = self
            .ports
            .pair_index(stats.ports.rtp)
            .and_then(|i| self.by_pair.get_mut(i))
        {
            *pair = None;
        }
        // The pair came from this pool, so giving it back cannot fail.
        let _ = self.ports.release(stats.ports.rtp);
        if let Some(slot) = self.slots.get_mut(id.slot as usize) {
            *slot = None;
        }
        if let Some(g) = self.generations.get_mut(id.slot as usize) {
            *g = g.wrapping_add(1);
        }
        self.free_slots.push(id.slot);
        Ok(stats)
    }

    // ----- queries -----

    pub fn stats(&self, id: LegId) -> Result<LegStats, EngineError> {
        Ok(self.leg(id)?.stats())
    }

    /// Every live leg and its figures (for per-call views and `/metrics`).
    pub fn legs(&self) -> impl Iterator<Item = (LegId, LegStats)> + '_ {
        self.slots.iter().flatten().map(|leg| (leg.id, leg.stats()))
    }

    pub fn totals(&self) -> EngineTotals {
        let mut counters = self.released;
        let mut lost = self.released_lost;
        for leg in self.slots.iter().flatten() {
            counters.add(&leg.counters);
            lost += leg.stats().lost;
        }
        EngineTotals {
            legs: self.slots.iter().flatten().count(),
            legs_created: self.legs_created,
            port_pairs_free: self.ports.available(),
            port_pairs_total: self.ports.capacity(),
            counters,
            lost,
            unknown_port: self.unknown_port,
        }
    }

    // ----- inputs -----

    /// A datagram arrived on `local_port` from `from` at `now`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local_port: u16,
        from: SocketAddr,
        datagram: &[u8],
    ) {
        let slot = self
            .ports
            .pair_index(local_port)
            .and_then(|pair| self.by_pair.get(pair).copied().flatten());
        let Some(slot) = slot else {
            self.unknown_port += 1;
            return;
        };
        let on_rtcp_port = (local_port - self.ports.min()) % 2 == 1;
        let clock = self.clock;
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            self.unknown_port += 1;
            return;
        };
        let accepted = leg.receive(now, &clock, on_rtcp_port, from, datagram, &mut self.events);
        if leg.queued_at.is_none() {
            self.schedule(slot);
        }
        if let Some(accepted) = accepted {
            self.tap_in(slot, &accepted, datagram);
            if self.digits_inspect(now, slot, &accepted, datagram) {
                self.relay(now, slot, &accepted, datagram);
            }
        }
    }

    /// Runs every timer due at `now` (inactivity, RTCP reports).
    pub fn handle_timeout(&mut self, now: Instant) {
        let ntp = self.clock.ntp(now);
        while let Some(&Reverse((at, slot, generation))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let mut buf = self.take_buf();
            let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
                self.recycle(buf);
                continue;
            };
            if leg.id.generation != generation || leg.queued_at != Some(at) {
                self.recycle(buf);
                continue;
            }
            leg.queued_at = None;
            match leg.handle_timeout(now, ntp, &mut buf, &mut self.events) {
                Some((from_port, to)) => self.transmits.push_back(Transmit {
                    from_port,
                    to,
                    contents: buf,
                }),
                None => self.recycle(buf),
            }
            self.digits_timeout(now, slot);
            self.schedule(slot);
        }
    }

    // ----- outputs -----

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Gives a sent datagram's buffer back for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < POOL_LIMIT {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// The next event. Poll until `None` after every input: the queue is not bounded.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next (it may find nothing to do).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    // ----- internals -----

    pub(crate) fn take_buf(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_else(|| Vec::with_capacity(256))
    }

    /// Makes sure the heap holds an entry no later than the leg's next deadline.
    pub(crate) fn schedule(&mut self, slot: u32) {
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let Some(deadline) = leg.next_deadline() else {
            return;
        };
        if leg.queued_at.is_none_or(|queued| deadline < queued) {
            leg.queued_at = Some(deadline);
            self.timers
                .push(Reverse((deadline, slot, leg.id.generation)));
        }
    }
}
