//! Symmetric RTP latching: which address a leg's media comes from and goes back to.
//!
//! The SDP names where the peer wants media; a phone behind NAT names its private address, but
//! its packets arrive from the NAT's public one. So the first acceptable RTP packet *latches* the
//! peer: from then on media is sent back to the address it came from, and packets from any other
//! address are dropped and counted.
//!
//! Which first packet is acceptable:
//! - [`Latching::ExpectedIp`]: only one from the IP address the SDP named (any port — the port
//!   may be remapped even when the address is not).
//! - [`Latching::AnyAddress`]: the first valid RTP packet from anywhere (peers behind NAT).
//!
//! Re-latching: a new SSRC on the latched address is a new source (statistics restart, the relay
//! re-anchors) but never moves the latch. Another address takes over only after the latched one
//! has sent no RTP for `relatch_after` (a NAT binding that changed, a phone that roamed), and only
//! if it would have been acceptable as a first packet. New SDP naming a different address starts
//! over (the latch is cleared); new SDP naming the same address keeps the latch, so a re-INVITE
//! from a NAT'd phone does not break its media.
//!
//! RTCP on its own port latches separately, to the first RTCP packet from the latched RTP IP.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Which first packet fixes the peer's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latching {
    /// Only a packet from the IP address the SDP names.
    ExpectedIp,
    /// The first valid RTP packet from any address (symmetric RTP for peers behind NAT).
    AnyAddress,
}

/// What the latch made of a packet's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchVerdict {
    /// From the latched address.
    Accept,
    /// The first acceptable packet: the peer is now this address.
    Latched,
    /// The latched address was silent long enough; this address took over.
    Relatched { previous: SocketAddr },
    /// From another address while the latched one is alive, or not acceptable at all.
    Stranger,
}

/// The latch of one leg.
#[derive(Debug, Clone)]
pub struct Latch {
    mode: Latching,
    relatch_after: Duration,
    expected: Option<SocketAddr>,
    rtp: Option<SocketAddr>,
    rtcp: Option<SocketAddr>,
    last_rtp: Option<Instant>,
}

impl Latch {
    pub fn new(mode: Latching, relatch_after: Duration) -> Latch {
        Latch {
            mode,
            relatch_after,
            expected: None,
            rtp: None,
            rtcp: None,
            last_rtp: None,
        }
    }

    /// The address the SDP names. A different address than before clears the latch.
    pub fn set_expected(&mut self, addr: SocketAddr) {
        if self.expected != Some(addr) {
            self.expected = Some(addr);
            self.rtp = None;
            self.rtcp = None;
            self.last_rtp = None;
        }
    }

    pub fn expected(&self) -> Option<SocketAddr> {
        self.expected
    }

    /// The latched RTP address, if any.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.rtp
    }

    /// The latched RTCP address (separate port), if any.
    pub fn latched_rtcp(&self) -> Option<SocketAddr> {
        self.rtcp
    }

    /// Where RTP goes: the latched address, else the SDP's.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.rtp.or(self.expected)
    }

    fn acceptable_first(&self, from: SocketAddr) -> bool {
        match self.mode {
            Latching::AnyAddress => true,
            Latching::ExpectedIp => self.expected.map(|e| e.ip()) == Some(from.ip()),
        }
    }

    /// Judges a valid RTP packet from `from` at `now` (and records it when accepted).
    pub fn check_rtp(&mut self, now: Instant, from: SocketAddr) -> LatchVerdict {
        let verdict = match self.rtp {
            Some(latched) if latched == from => LatchVerdict::Accept,
            Some(latched) => {
                let silent = self
                    .last_rtp
                    .is_none_or(|t| now.saturating_duration_since(t) >= self.relatch_after);
                if silent && self.acceptable_first(from) {
                    self.rtcp = None;
                    LatchVerdict::Relatched { previous: latched }
                } else {
                    LatchVerdict::Stranger
                }
            }
            None if self.acceptable_first(from) => LatchVerdict::Latched,
            None => LatchVerdict::Stranger,
        };
        if verdict != LatchVerdict::Stranger {
            self.rtp = Some(from);
            self.last_rtp = Some(now);
        }
        verdict
    }

    /// Whether an RTCP packet from `from` belongs to the peer; `muxed` when it came on the RTP port.
    pub fn check_rtcp(&mut self, from: SocketAddr, muxed: bool) -> bool {
        if muxed {
            return match self.rtp {
                Some(latched) => latched == from,
                None => self.acceptable_first(from),
            };
        }
        match (self.rtcp, self.rtp) {
            (Some(latched), _) => latched == from,
            (None, Some(rtp)) if rtp.ip() == from.ip() => {
                self.rtcp = Some(from);
                true
            }
            (None, Some(_)) => false,
            (None, None) => self.acceptable_first(from),
        }
    }

    /// The IP the peer's RTCP is expected from when nothing is latched yet.
    pub fn peer_ip(&self) -> Option<IpAddr> {
        self.rtp.or(self.expected).map(|a| a.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn expected_ip_latches_any_port_of_that_ip_only() {
        let t0 = Instant::now();
        let mut l = Latch::new(Latching::ExpectedIp, Duration::from_secs(1));
        l.set_expected(addr("10.0.0.5:4000"));
        assert_eq!(
            l.check_rtp(t0, addr("203.0.113.9:4000")),
            LatchVerdict::Stranger
        );
        assert_eq!(l.destination(), Some(addr("10.0.0.5:4000")));
        assert_eq!(
            l.check_rtp(t0, addr("10.0.0.5:4010")),
            LatchVerdict::Latched
        );
        assert_eq!(l.destination(), Some(addr("10.0.0.5:4010")));
        assert_eq!(l.check_rtp(t0, addr("10.0.0.5:4010")), LatchVerdict::Accept);
    }

    #[test]
    fn any_address_latches_behind_nat_and_relatches_only_after_silence() {
        let t0 = Instant::now();
        let mut l = Latch::new(Latching::AnyAddress, Duration::from_secs(1));
        l.set_expected(addr("10.0.0.5:4000"));
        let nat = addr("203.0.113.9:61000");
        let other = addr("198.51.100.7:5000");
        assert_eq!(l.check_rtp(t0, nat), LatchVerdict::Latched);
        assert_eq!(l.destination(), Some(nat));
        let t = t0 + Duration::from_millis(500);
        assert_eq!(l.check_rtp(t, other), LatchVerdict::Stranger);
        assert_eq!(l.check_rtp(t, nat), LatchVerdict::Accept);
        // 1 s of silence from the NAT address: another address may take over.
        let later = t + Duration::from_secs(1);
        assert_eq!(
            l.check_rtp(later, other),
            LatchVerdict::Relatched { previous: nat }
        );
        assert_eq!(l.check_rtp(later, nat), LatchVerdict::Stranger);
        // Same SDP again keeps the latch; a new address clears it.
        l.set_expected(addr("10.0.0.5:4000"));
        assert_eq!(l.latched(), Some(other));
        l.set_expected(addr("10.0.0.6:4000"));
        assert_eq!(l.latched(), None);
    }

    #[test]
    fn rtcp_latches_to_the_rtp_peer_ip() {
        let t0 = Instant::now();
        let mut l = Latch::new(Latching::AnyAddress, Duration::from_secs(1));
        let nat = addr("203.0.113.9:61000");
        l.check_rtp(t0, nat);
        assert!(!l.check_rtcp(addr("198.51.100.7:5001"), false));
        assert!(l.check_rtcp(addr("203.0.113.9:61001"), false));
        assert_eq!(l.latched_rtcp(), Some(addr("203.0.113.9:61001")));
        assert!(!l.check_rtcp(addr("203.0.113.9:61003"), false));
        assert!(l.check_rtcp(nat, true));
        assert!(!l.check_rtcp(addr("203.0.113.9:61001"), true));
    }
}
