//! Usage counters of one trunk, for /metrics and the CDR side: attempts, seizures, blocked
//! attempts, completed and failed calls, channels in use now and at peak, and channel time
//! (the integral of channels in use over time, from the `now` of each change).

use serde::Serialize;
use std::time::{Duration, Instant};

/// How a call that held a channel ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call was answered.
    Answered,
    /// It ended before answer (rejected, cancelled, timed out).
    Unanswered,
}

/// A snapshot of one trunk's usage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TrunkUsage {
    /// Channels the trunk has; `None` when unlimited.
    pub capacity: Option<u32>,
    /// Seizure attempts, blocked ones included.
    pub attempts: u64,
    /// Attempts that got a channel.
    pub seized: u64,
    /// Attempts refused because every channel was busy.
    pub blocked: u64,
    /// Channels released after an answered call.
    pub completed: u64,
    /// Channels released after a call that was never answered.
    pub failed: u64,
    pub in_use: u32,
    pub peak_in_use: u32,
    /// Channel time used so far, in seconds.
    pub channel_seconds: f64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct UsageCounter {
    usage: TrunkUsage,
    /// Channel time up to `since`.
    accumulated: Duration,
    since: Option<Instant>,
}

impl UsageCounter {
    pub(crate) fn new(capacity: Option<u32>) -> UsageCounter {
        UsageCounter {
            usage: TrunkUsage {
                capacity,
                ..TrunkUsage::default()
            },
            accumulated: Duration::ZERO,
            since: None,
        }
    }

    /// Channel time up to `now` (an earlier `now` than the last change counts as no time).
    fn channel_time(&self, now: Instant) -> Duration {
        let open = match self.since {
            Some(since) => now
                .saturating_duration_since(since)
                .checked_mul(self.usage.in_use)
                .unwrap_or(Duration::MAX),
            None => Duration::ZERO,
        };
        self.accumulated.saturating_add(open)
    }

    /// Closes the current stretch at `now` before the number in use changes.
    fn advance(&mut self, now: Instant) {
        self.accumulated = self.channel_time(now);
        self.since = Some(match self.since {
            Some(since) if since > now => since,
            _ => now,
        });
    }

    pub(crate) fn blocked(&mut self) {
        self.usage.attempts += 1;
        self.usage.blocked += 1;
    }

    pub(crate) fn seized(&mut self, now: Instant) {
        self.advance(now);
        self.usage.attempts += 1;
        self.usage.seized += 1;
        self.usage.in_use += 1;
        self.usage.peak_in_use = self.usage.peak_in_use.max(self.usage.in_use);
    }

    pub(crate) fn released(&mut self, now: Instant, outcome: CallOutcome) {
        self.advance(now);
        self.usage.in_use = self.usage.in_use.saturating_sub(1);
        match outcome {
            CallOutcome::Answered => self.usage.completed += 1,
            CallOutcome::Unanswered => self.usage.failed += 1,
        }
    }

    pub(crate) fn snapshot(&self, now: Instant) -> TrunkUsage {
        TrunkUsage {
            channel_seconds: self.channel_time(now).as_secs_f64(),
            ..self.usage
        }
    }
}
