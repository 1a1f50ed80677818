//! The transaction timers of RFC 3261 §17 (table 4 of appendix A) and RFC 6026, derived from
//! T1, T2 and T4.
//!
//! This room only computes durations; it keeps no deadlines and reads no clock. Each state
//! machine turns these durations into deadlines from the `now` it is given.

use std::time::Duration;

/// The named timers, as reported in timeout events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// INVITE client: retransmission.
    A,
    /// INVITE client: no response at all.
    B,
    /// INVITE client: the 64*T1 wait after a CANCEL was sent without a final response (§9.1).
    CancelWait,
    /// INVITE client: wait for retransmitted non-2xx finals.
    D,
    /// Non-INVITE client: retransmission.
    E,
    /// Non-INVITE client: no final response.
    F,
    /// INVITE server: final response retransmission.
    G,
    /// INVITE server: no ACK for a non-2xx final.
    H,
    /// INVITE server: absorbing ACK retransmissions.
    I,
    /// Non-INVITE server: absorbing request retransmissions.
    J,
    /// Non-INVITE client: absorbing final response retransmissions.
    K,
    /// INVITE server (RFC 6026): lingering in Accepted.
    L,
    /// INVITE client (RFC 6026): lingering in Accepted.
    M,
    /// INVITE server: the automatic 100 Trying.
    Trying,
}

/// T1, T2, T4 and the other configurable durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, 5 s.
    pub t4: Duration,
    /// Timer D over unreliable transports: at least 32 s.
    pub d_unreliable: Duration,
    /// How long an INVITE server transaction waits for the TU before it sends 100 Trying itself
    /// (RFC 3261 §17.2.1: 200 ms).
    pub trying_delay: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            d_unreliable: Duration::from_secs(32),
            trying_delay: Duration::from_millis(200),
        }
    }
}

impl TimerConfig {
    /// 64*T1: timers B, F, H, L, M and J over unreliable transports.
    pub fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
    /// Initial timer A (INVITE retransmission); `None` over reliable transports.
    pub fn a(&self, reliable: bool) -> Option<Duration> {
        (!reliable).then_some(self.t1)
    }
    pub fn b(&self) -> Duration {
        self.t1x64()
    }
    pub fn d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.d_unreliable
        }
    }
    /// Initial timer E (non-INVITE retransmission); `None` over reliable transports.
    pub fn e(&self, reliable: bool) -> Option<Duration> {
        (!reliable).then_some(self.t1)
    }
    pub fn f(&self) -> Duration {
        self.t1x64()
    }
    /// Initial timer G (final response retransmission); `None` over reliable transports.
    pub fn g(&self, reliable: bool) -> Option<Duration> {
        (!reliable).then_some(self.t1)
    }
    pub fn h(&self) -> Duration {
        self.t1x64()
    }
    pub fn i(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t4
        }
    }
    pub fn j(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t1x64()
        }
    }
    pub fn k(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t4
        }
    }
    pub fn l(&self) -> Duration {
        self.t1x64()
    }
    pub fn m(&self) -> Duration {
        self.t1x64()
    }
    /// The next non-INVITE / INVITE-response retransmission interval: doubled, capped at T2.
    pub fn backoff_capped(&self, current: Duration) -> Duration {
        current.saturating_mul(2).min(self.t2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_values() {
        let t = TimerConfig::default();
        assert_eq!(t.b(), Duration::from_secs(32));
        assert_eq!(t.a(false), Some(Duration::from_millis(500)));
        assert_eq!(t.a(true), None);
        assert_eq!(t.d(false), Duration::from_secs(32));
        assert_eq!(t.d(true), Duration::ZERO);
        assert_eq!(t.i(false), Duration::from_secs(5));
        assert_eq!(t.i(true), Duration::ZERO);
        assert_eq!(t.j(false), Duration::from_secs(32));
        assert_eq!(t.j(true), Duration::ZERO);
        assert_eq!(t.k(false), Duration::from_secs(5));
        assert_eq!(t.k(true), Duration::ZERO);
        assert_eq!(
            t.backoff_capped(Duration::from_secs(2)),
            Duration::from_secs(4)
        );
        assert_eq!(
            t.backoff_capped(Duration::from_secs(4)),
            Duration::from_secs(4)
        );
    }
}
