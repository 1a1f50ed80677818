//! Reception statistics of the one source a leg hears, the way RFC 3550 Appendix A computes them:
//! sequence tracking with cycles and restarts (A.1), expected and lost packets and the fraction
//! lost per report interval (A.3), and the interarrival jitter estimator (A.8).
//!
//! One deliberate difference from A.1: there is no probation. Latching already decided that the
//! packets come from the peer, so the first packet initializes the source and is counted; the
//! loss figure is then exactly the number of sequence numbers between the first and the highest
//! received that never arrived.

use crate::Ssrc;

const SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;

/// What a receiver reports about one source (the RFC 3550 §6.4.1 report block, before the LSR and
/// DLSR fields that depend on sender reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceptionSummary {
    pub ssrc: Ssrc,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (negative with duplicates), clamped to 24 bits signed.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units (samples at 8 kHz).
    pub jitter: u32,
}

/// Sequence and jitter state of one source.
#[derive(Debug, Clone)]
pub struct Reception {
    ssrc: Ssrc,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    transit: Option<u32>,
    /// Jitter × 16 (A.8's integer form).
    jitter16: u32,
}

/// How a packet's sequence number related to the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqVerdict {
    /// In order, or a gap of fewer than 3,000 (lost packets in between).
    Forward,
    /// Late (reordered) or duplicated: within 100 behind the highest seen.
    Late,
    /// A jump too large to believe; dropped until a second packet confirms a restart.
    Jump,
    /// The second packet after a jump: the sender restarted its sequence; stats restart too.
    Restarted,
}

impl Reception {
    /// Starts tracking `ssrc` from its first packet, `seq`.
    pub fn new(ssrc: Ssrc, seq: u16) -> Reception {
        let mut r = Reception {
            ssrc,
            max_seq: seq,
            cycles: 0,
            base_seq: u32::from(seq),
            bad_seq: SEQ_MOD + 1,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter16: 0,
        };
        r.init_seq(seq);
        r
    }

    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// A.1's `update_seq` (without probation). Call for every packet of this source; the first
    /// packet, given to `new`, must be passed here too.
    pub fn update_seq(&mut self, seq: u16) -> SeqVerdict {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        let verdict = if self.received == 0 && seq == self.max_seq {
            SeqVerdict::Forward
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
            if udelta == 0 {
                SeqVerdict::Late
            } else {
                SeqVerdict::Forward
            }
        } else if udelta <= SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.transit = None;
                SeqVerdict::Restarted
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return SeqVerdict::Jump;
            }
        } else {
            SeqVerdict::Late
        };
        self.received = self.received.wrapping_add(1);
        verdict
    }

    /// A.8: updates the jitter estimate with a packet of RTP timestamp `ts` that arrived at
    /// `arrival`, both in 8 kHz units (the arrival clock's origin does not matter).
    pub fn update_jitter(&mut self, ts: u32, arrival: u32) {
        let transit = arrival.wrapping_sub(ts);
        if let Some(prev) = self.transit {
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            // J += (|D| - J) / 16, kept as 16·J in integers.
            self.jitter16 = self
                .jitter16
                .wrapping_add(d)
                .wrapping_sub((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u32 {
        self.extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets received (duplicates included, as A.3 counts them).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative lost (A.3), unclamped.
    pub fn cumulative_lost(&self) -> i64 {
        i64::from(self.expected()) - i64::from(self.received)
    }

    /// Jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter16 >> 4
    }

    /// The report block figures; closes the report interval (fraction lost is measured from the
    /// previous call).
    pub fn summarize(&mut self) -> ReceptionSummary {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        ReceptionSummary {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(r: &mut Reception, seqs: impl IntoIterator<Item = u16>) {
        for s in seqs {
            r.update_seq(s);
        }
    }

    #[test]
    fn loss_counts_missing_sequence_numbers_across_a_wrap() {
        let mut r = Reception::new(Ssrc(1), 65530);
        // 65530..=65535 then 0..=9, missing 65533 and 4.
        feed(
            &mut r,
            (65530..=65535u16)
                .chain(0..10)
                .filter(|&s| s != 65533 && s != 4),
        );
        assert_eq!(r.extended_highest_seq(), 65536 + 9);
        assert_eq!(r.cumulative_lost(), 2);
        let s = r.summarize();
        assert_eq!(s.cumulative_lost, 2);
        assert_eq!(s.fraction_lost, (2 * 256 / 16) as u8);
        // Next interval: no loss.
        feed(&mut r, 10..20);
        assert_eq!(r.summarize().fraction_lost, 0);
    }

    #[test]
    fn late_and_duplicate_packets_are_counted_as_received() {
        let mut r = Reception::new(Ssrc(1), 100);
        assert_eq!(r.update_seq(100), SeqVerdict::Forward);
        assert_eq!(r.update_seq(102), SeqVerdict::Forward);
        assert_eq!(r.update_seq(101), SeqVerdict::Late);
        assert_eq!(r.update_seq(101), SeqVerdict::Late);
        assert_eq!(r.cumulative_lost(), -1);
    }

    #[test]
    fn a_big_jump_needs_confirmation_then_restarts() {
        let mut r = Reception::new(Ssrc(1), 10);
        feed(&mut r, 10..20);
        assert_eq!(r.update_seq(30_000), SeqVerdict::Jump);
        assert_eq!(r.update_seq(30_001), SeqVerdict::Restarted);
        assert_eq!(r.update_seq(30_002), SeqVerdict::Forward);
        assert_eq!(r.cumulative_lost(), 0);
        assert_eq!(r.extended_highest_seq(), 30_002);
    }

    #[test]
    fn jitter_of_constant_transit_is_zero_and_of_alternating_transit_converges() {
        let mut r = Reception::new(Ssrc(1), 0);
        for i in 0..100u32 {
            r.update_jitter(i * 160, 5_000 + i * 160);
        }
        assert_eq!(r.jitter(), 0);
        // Transit alternating by 80 samples: |D| = 80 every packet, J converges to 80.
        for i in 100..1_000u32 {
            r.update_jitter(i * 160, 5_000 + i * 160 + (i % 2) * 80);
        }
        assert!((78..=80).contains(&r.jitter()), "{}", r.jitter());
    }
}
