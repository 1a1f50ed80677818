//! Call metrics and their Prometheus text exposition (`GET /metrics`).
//!
//! The SIP driver owns a [`CallMetrics`]: it feeds it the engine's events (outbound calls for
//! BHCA, answers for the setup-time histogram) and, when `/metrics` asks, combines it with the
//! engine's counters into a [`MetricsSnapshot`]. [`render`] turns a snapshot into the text
//! format. Nothing here is shared between threads except the CDR writer's [`CdrCounters`].
//!
//! Hand-written rather than the `metrics` + `metrics-exporter-prometheus` crates: the numbers
//! live in the engine's single-threaded task, so a global recorder with atomics would only
//! copy them, and the exporter brings an HTTP stack of its own; the exposition format for a
//! dozen series is a page of code.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the call setup histogram: automatic answers take milliseconds,
/// people take seconds.
pub const SETUP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// A Prometheus histogram with fixed buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last entry is above every bound.
    counts: [u64; SETUP_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; SETUP_BUCKETS.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    pub fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = SETUP_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(SETUP_BUCKETS.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum += secs;
        self.count += 1;
    }
}

/// Events in the last hour, counted per second in a ring (sliding, exact to the second).
#[derive(Clone, Debug)]
pub struct SlidingHour {
    origin: Instant,
    /// For each slot: the second (since `origin`) it counts, and how many events.
    slots: Vec<(u64, u64)>,
}

const HOUR: u64 = 3600;

impl SlidingHour {
    pub fn new(origin: Instant) -> SlidingHour {
        SlidingHour {
            origin,
            slots: vec![(u64::MAX, 0); HOUR as usize],
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs()
    }

    pub fn record(&mut self, now: Instant) {
        let sec = self.second(now);
        if let Some(slot) = self.slots.get_mut((sec % HOUR) as usize) {
            if slot.0 != sec {
                *slot = (sec, 0);
            }
            slot.1 += 1;
        }
    }

    /// Events in the hour ending at `now` (this second included).
    pub fn count(&self, now: Instant) -> u64 {
        let sec = self.second(now);
        self.slots
            .iter()
            .filter(|(s, _)| *s != u64::MAX && *s <= sec && sec - *s < HOUR)
            .map(|(_, n)| n)
            .sum()
    }
}

/// What the driver accumulates from engine events.
#[derive(Clone, Debug)]
pub struct CallMetrics {
    pub bhca: SlidingHour,
    pub setup: Histogram,
    /// DTMF keys reported, by how they arrived: RFC 4733, in-band, INFO.
    pub digits: [u64; 3],
}

impl CallMetrics {
    pub fn new(now: Instant) -> CallMetrics {
        CallMetrics {
            bhca: SlidingHour::new(now),
            setup: Histogram::default(),
            digits: [0; 3],
        }
    }
}

/// The CDR writer's counters, shared with the driver (drops) and `/metrics`.
#[derive(Debug, Default)]
pub struct CdrCounters {
    pub written: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

/// One trunk's line in the exposition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrunkLine {
    pub name: String,
    pub in_use: u32,
    pub attempts: u64,
    pub full: u64,
}

/// Every number `/metrics` shows, taken at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub calls_active: u64,
    pub call_attempts: u64,
    pub calls_answered: u64,
    pub calls_failed: u64,
    pub calls_completed: u64,
    pub outbound_calls: u64,
    pub bhca: u64,
    pub refused_unknown_source: u64,
    pub refused_draining: u64,
    pub draining: bool,
    pub registrations: u64,
    /// CTI WebSocket sessions open.
    pub cti_sessions: u64,
    pub sip_transactions: u64,
    pub trunks: Vec<TrunkLine>,
    pub setup: Histogram,
    pub cdrs_written: u64,
    pub cdrs_failed: u64,
    pub cdrs_dropped: u64,
    /// The media engine's figures and the recordings it can play, when media is anchored.
    pub media: Option<(tether_rtp::EngineTotals, usize)>,
    /// DTMF keys reported: RFC 4733, in-band, INFO.
    pub digits: [u64; 3],
}

fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn one(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

fn per_trunk(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    trunks: &[TrunkLine],
    value: impl Fn(&TrunkLine) -> u64,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for t in trunks {
        let _ = writeln!(
            out,
            "{name}{{trunk=\"{}\"}} {}",
            escape_label(&t.name),
            value(t)
        );
    }
}

/// The Prometheus text exposition (format 0.0.4) of `m`.
pub fn render(m: &MetricsSnapshot) -> String {
    let mut o = String::with_capacity(4096);
    one(
        &mut o,
        "tether_calls_active",
        "gauge",
        "Calls in progress.",
        m.calls_active,
    );
    one(
        &mut o,
        "tether_call_attempts_total",
        "counter",
        "Calls from trunks and registered phones accepted for routing.",
        m.call_attempts,
    );
    one(
        &mut o,
        "tether_calls_answered_total",
        "counter",
        "Calls answered.",
        m.calls_answered,
    );
    one(
        &mut o,
        "tether_calls_failed_total",
        "counter",
        "Calls refused or failed before an answer.",
        m.calls_failed,
    );
    one(
        &mut o,
        "tether_calls_completed_total",
        "counter",
        "Answered calls that ended.",
        m.calls_completed,
    );
    one(
        &mut o,
        "tether_outbound_calls_total",
        "counter",
        "Calls Tether placed (one per outbound leg: the seed's BHCA rule).",
        m.outbound_calls,
    );
    one(
        &mut o,
        "tether_bhca",
        "gauge",
        "Busy hour call attempts: outbound calls placed in the last hour (sliding).",
        m.bhca,
    );
    one(
        &mut o,
        "tether_calls_refused_unknown_source_total",
        "counter",
        "INVITEs refused 403 because the source is neither a trunk nor a registered phone.",
        m.refused_unknown_source,
    );
    one(
        &mut o,
        "tether_calls_refused_draining_total",
        "counter",
        "INVITEs refused 503 while draining for shutdown.",
        m.refused_draining,
    );
    one(
        &mut o,
        "tether_draining",
        "gauge",
        "1 while the node refuses new calls before stopping.",
        u8::from(m.draining),
    );
    one(
        &mut o,
        "tether_registrations",
        "gauge",
        "Registered phone bindings.",
        m.registrations,
    );
    one(
        &mut o,
        "tether_cti_sessions",
        "gauge",
        "CTI WebSocket sessions open.",
        m.cti_sessions,
    );
    one(
        &mut o,
        "tether_sip_transactions",
        "gauge",
        "SIP transactions in progress.",
        m.sip_transactions,
    );
    per_trunk(
        &mut o,
        "tether_trunk_channels_in_use",
        "gauge",
        "Channels in use per trunk (an external call extended to a remote destination uses two trunks).",
        &m.trunks,
        |t| u64::from(t.in_use),
    );
    per_trunk(
        &mut o,
        "tether_trunk_attempts_total",
        "counter",
        "Channel seizures attempted per trunk.",
        &m.trunks,
        |t| t.attempts,
    );
    per_trunk(
        &mut o,
        "tether_trunk_full_total",
        "counter",
        "Seizures refused because every channel was busy (503, Q.850 cause 34).",
        &m.trunks,
        |t| t.full,
    );
    let name = "tether_call_setup_seconds";
    let _ = writeln!(
        o,
        "# HELP {name} Time from the first INVITE to the answer.\n# TYPE {name} histogram"
    );
    let mut cumulative = 0;
    for (le, n) in SETUP_BUCKETS.iter().zip(m.setup.counts.iter()) {
        cumulative += n;
        let _ = writeln!(o, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {}", m.setup.count);
    let _ = writeln!(o, "{name}_sum {}", m.setup.sum);
    let _ = writeln!(o, "{name}_count {}", m.setup.count);
    one(
        &mut o,
        "tether_cdrs_written_total",
        "counter",
        "Call detail records stored.",
        m.cdrs_written,
    );
    one(
        &mut o,
        "tether_cdr_write_errors_total",
        "counter",
        "Call detail records the database refused (logged, then dropped).",
        m.cdrs_failed,
    );
    one(
        &mut o,
        "tether_cdrs_dropped_total",
        "counter",
        "Call detail records dropped because the writer's queue was full.",
        m.cdrs_dropped,
    );
    let _ = writeln!(
        o,
        "# HELP tether_dtmf_digits_total DTMF keys received from call parties, by how they came.\n# TYPE tether_dtmf_digits_total counter"
    );
    for (method, n) in ["rfc4733", "inband", "info"].iter().zip(m.digits) {
        let _ = writeln!(o, "tether_dtmf_digits_total{{method=\"{method}\"}} {n}");
    }
    if let Some((t, recordings)) = &m.media {
        media(&mut o, t);
        one(
            &mut o,
            "tether_media_recordings",
            "gauge",
            "Recordings ready to play: built-in music on hold and zip tone, provisioned announcements.",
            recordings,
        );
    }
    o
}

/// The media engine's figures (anchored media only).
fn media(o: &mut String, t: &tether_rtp::EngineTotals) {
    let c = &t.counters;
    let rows: [(&str, &str, &str, u64); 11] = [
        (
            "tether_media_legs",
            "gauge",
            "Media legs open (one per call leg).",
            t.legs as u64,
        ),
        (
            "tether_media_port_pairs_free",
            "gauge",
            "RTP/RTCP port pairs free in the range.",
            t.port_pairs_free as u64,
        ),
        (
            "tether_media_port_pairs",
            "gauge",
            "RTP/RTCP port pairs in the range.",
            t.port_pairs_total as u64,
        ),
        (
            "tether_media_legs_created_total",
            "counter",
            "Media legs opened since start.",
            t.legs_created,
        ),
        (
            "tether_media_packets_received_total",
            "counter",
            "RTP packets received from peers.",
            c.packets_in,
        ),
        (
            "tether_media_packets_sent_total",
            "counter",
            "RTP packets sent to peers (relayed, transcoded or generated).",
            c.packets_out,
        ),
        (
            "tether_media_octets_received_total",
            "counter",
            "RTP octets received from peers.",
            c.octets_in,
        ),
        (
            "tether_media_octets_sent_total",
            "counter",
            "RTP octets sent to peers.",
            c.octets_out,
        ),
        (
            "tether_media_packets_lost_total",
            "counter",
            "RTP packets peers sent that never arrived (RFC 3550 A.3).",
            t.lost.max(0) as u64,
        ),
        (
            "tether_media_dropped_stranger_total",
            "counter",
            "RTP from addresses other than a leg's latched peer, dropped.",
            c.dropped_stranger,
        ),
        (
            "tether_media_malformed_total",
            "counter",
            "Datagrams on media ports that were not valid RTP or RTCP.",
            c.malformed + t.unknown_port,
        ),
    ];
    for (name, kind, help, value) in rows {
        one(o, name, kind, help, value);
    }
}

impl CdrCounters {
    pub fn load(&self) -> (u64, u64, u64) {
        (
            self.written.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_hour_forgets_after_an_hour() {
        let t0 = Instant::now();
        let mut h = SlidingHour::new(t0);
        h.record(t0);
        h.record(t0 + Duration::from_millis(500));
        h.record(t0 + Duration::from_secs(1800));
        assert_eq!(h.count(t0 + Duration::from_secs(1800)), 3);
        assert_eq!(h.count(t0 + Duration::from_secs(3599)), 3);
        assert_eq!(h.count(t0 + Duration::from_secs(3600)), 1, "second 0 left");
        // The slot of second 0 is reused for second 3600.
        h.record(t0 + Duration::from_secs(3600));
        assert_eq!(h.count(t0 + Duration::from_secs(3600)), 2);
        assert_eq!(h.count(t0 + Duration::from_secs(5400)), 1);
        assert_eq!(h.count(t0 + Duration::from_secs(99_999)), 0);
    }

    #[test]
    fn exposition() {
        let mut setup = Histogram::default();
        setup.observe(Duration::from_millis(40));
        setup.observe(Duration::from_millis(40));
        setup.observe(Duration::from_secs(3));
        setup.observe(Duration::from_secs(600));
        let m = MetricsSnapshot {
            calls_active: 2,
            call_attempts: 10,
            bhca: 7,
            trunks: vec![TrunkLine {
                name: "pstn \"x\"".into(),
                in_use: 2,
                attempts: 9,
                full: 1,
            }],
            setup,
            ..MetricsSnapshot::default()
        };
        let text = render(&m);
        for line in [
            "# TYPE tether_calls_active gauge",
            "tether_calls_active 2",
            "tether_call_attempts_total 10",
            "tether_bhca 7",
            "tether_trunk_channels_in_use{trunk=\"pstn \\\"x\\\"\"} 2",
            "tether_trunk_full_total{trunk=\"pstn \\\"x\\\"\"} 1",
            "# TYPE tether_call_setup_seconds histogram",
            "tether_call_setup_seconds_bucket{le=\"0.025\"} 0",
            "tether_call_setup_seconds_bucket{le=\"0.05\"} 2",
            "tether_call_setup_seconds_bucket{le=\"2.5\"} 2",
            "tether_call_setup_seconds_bucket{le=\"5\"} 3",
            "tether_call_setup_seconds_bucket{le=\"60\"} 3",
            "tether_call_setup_seconds_bucket{le=\"+Inf\"} 4",
            "tether_call_setup_seconds_count 4",
            "tether_registrations 0",
            "tether_cti_sessions 0",
            "tether_sip_transactions 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // Every sample line is `name{labels} value` with a number.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().expect("value");
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }
}
