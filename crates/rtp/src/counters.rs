//! What a leg counts and what it can say about its media quality: packet and octet counters
//! (exposed per call and summed for `/metrics`) and the stats snapshot with loss, jitter and RTT.

use std::net::SocketAddr;
use std::time::Duration;

use crate::ports::RtpPorts;
use crate::rtcp::ReportBlock;
use crate::Ssrc;

/// Per-leg packet counters. Exposed on the call and summed for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegCounters {
    pub packets_in: u64,
    pub octets_in: u64,
    pub packets_out: u64,
    pub octets_out: u64,
    pub rtcp_in: u64,
    pub rtcp_out: u64,
    /// Valid packets from an address other than the latched (or acceptable) peer.
    pub dropped_stranger: u64,
    /// Datagrams that were not RTP or RTCP, or whose headers did not add up.
    pub malformed: u64,
    /// RTP with a payload type not negotiated on this leg.
    pub unknown_pt: u64,
    /// RTP dropped for its sequence number: an unconfirmed jump, or older than a source change.
    pub dropped_seq: u64,
    /// Packets for this leg's output that could not be sent: no peer address yet, a payload kind
    /// this leg did not negotiate, or the output fed by another source.
    pub not_sent: u64,
    pub ssrc_changes: u64,
    pub relatches: u64,
}

impl LegCounters {
    /// Adds `other` field by field (for totals).
    pub fn add(&mut self, other: &LegCounters) {
        self.packets_in += other.packets_in;
        self.octets_in += other.octets_in;
        self.packets_out += other.packets_out;
        self.octets_out += other.octets_out;
        self.rtcp_in += other.rtcp_in;
        self.rtcp_out += other.rtcp_out;
        self.dropped_stranger += other.dropped_stranger;
        self.malformed += other.malformed;
        self.unknown_pt += other.unknown_pt;
        self.dropped_seq += other.dropped_seq;
        self.not_sent += other.not_sent;
        self.ssrc_changes += other.ssrc_changes;
        self.relatches += other.relatches;
    }
}

/// A snapshot of one leg's media quality and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegStats {
    pub ports: RtpPorts,
    pub counters: LegCounters,
    /// Packets lost from the peer (RFC 3550 A.3, summed over its SSRCs; negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter of the peer's current source (RFC 3550 A.8).
    pub jitter: Duration,
    pub local_ssrc: Ssrc,
    pub remote_ssrc: Option<Ssrc>,
    pub latched: Option<SocketAddr>,
    /// Last round-trip time measured from the peer's reports.
    pub rtt: Option<Duration>,
    /// The last report block the peer sent about Tether's stream.
    pub peer_report: Option<ReportBlock>,
}
