//! Settings of the dialog layer: the RFC 3261 timer values it schedules with (T1, T2) and the
//! per-session choices (reliable provisionals, session timer). Plain data, no behavior.

use crate::method::Method;
use std::time::Duration;

/// RFC 3261 §17.1.1.1 timer values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// Round-trip estimate (500 ms by default).
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE 2xx (4 s).
    pub t2: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
        }
    }
}

impl Timers {
    /// 64*T1: how long a 2xx or a reliable 1xx is retransmitted before giving up.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// RFC 4028 settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The session interval we ask for (seconds), or `None` to ask for none (we still honor
    /// the peer's).
    pub session_expires: Option<u32>,
    /// The smallest interval we accept (seconds, at least 90).
    pub min_se: u32,
    /// The method a refresher sends: UPDATE (no offer needed) or INVITE (with our last SDP).
    pub refresh_method: Method,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig {
            session_expires: Some(1800),
            min_se: 90,
            refresh_method: Method::Update,
        }
    }
}

/// Per-session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub timers: Timers,
    /// Send our 1xx to INVITE reliably (RFC 3262) when the INVITE supports `100rel`.
    pub reliable_provisionals: bool,
    pub session_timer: SessionTimerConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            timers: Timers::default(),
            reliable_provisionals: true,
            session_timer: SessionTimerConfig::default(),
        }
    }
}
