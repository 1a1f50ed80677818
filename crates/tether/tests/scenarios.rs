//! Every SIPp scenario of `sip-scenarios/` with real SIPp against the real binary on its demo
//! provisioning and built-in PSTN simulator (the README of `sip-scenarios/` gives the same
//! commands for a person). Each test starts its own server (SQLite in a temporary directory,
//! SIP, HTTP and the simulator on free ports), runs one scenario, and checks SIPp's outcome —
//! exit code 0, the successful calls, no failed call, no unexpected message; the scenarios
//! themselves check the status and the Q.850 cause of each answer — and then the call detail
//! record over `GET /api/v1/cdrs` and the counters of `/metrics`. Every wait polls with a
//! deadline; the only pauses are the scenarios' own.
//!
//! Without `sipp` the tests skip (they fail when `CI` is set).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::sipp::{self, Outcome, Run};
use support::{metric, Backend, Env, Server};

/// Longest a scenario may run (the no-answer one takes 19 s by design).
const SIPP_LIMIT: Duration = Duration::from_secs(90);
/// Longest wait for a CDR or a metric after SIPp is done.
const DEADLINE: Duration = Duration::from_secs(20);
/// SIPp's caller number in every scenario.
const CALLER: &str = "4085551234";

/// A demo server with its built-in PSTN simulator, all on free loopback ports.
struct Demo {
    env: Env,
    server: Server,
}

impl Demo {
    /// None when SIPp is missing (and this is not CI).
    fn start() -> Option<Demo> {
        if !sipp::available() {
            return None;
        }
        let env = Env::with_config(Backend::Sqlite, true, true, "[pstn]\nenabled = true\n")
            .expect("SQLite needs no setup");
        let server = env.start_with(&["--sip", "127.0.0.1:0", "--pstn", "127.0.0.1:0"]);
        Some(Demo { env, server })
    }

    /// Runs `scenario` calling `dn` from SIPp at `local_ip`.
    fn sipp(
        &self,
        scenario: &str,
        dn: &str,
        local_ip: &str,
        calls: u32,
        extra: &[&str],
    ) -> Outcome {
        Run {
            scenario,
            service: dn,
            target: self.server.sip_udp.expect("tether printed its UDP address"),
            local_ip,
            calls,
            extra,
            limit: SIPP_LIMIT,
        }
        .run(self.env.path())
    }

    /// The one CDR of the call to `dn`.
    fn cdr(&self, dn: &str) -> Value {
        let mut all = self.cdrs(dn, 1);
        all.remove(0)
    }

    fn cdrs(&self, dn: &str, n: u64) -> Vec<Value> {
        self.server.wait_cdrs(&format!("called={dn}"), n, DEADLINE)
    }

    /// Waits until no call is up and no trunk channel is held, then stops the server, which
    /// must exit 0.
    fn finish(self) {
        self.server
            .wait_metrics("every call over, every channel free", DEADLINE, |m| {
                metric(m, "tether_calls_active") == 0.0
                    && m.iter()
                        .filter(|(n, _)| n.starts_with("tether_trunk_channels_in_use"))
                        .all(|(_, v)| *v == 0.0)
            });
        let status = self.server.stop();
        assert!(status.success(), "tether exits 0: {status}");
    }
}

fn num(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

/// The common fields of a call from SIPp on the demo's inbound trunk to `dn` on `device`.
fn assert_inbound(c: &Value, dn: &str, device: &str) {
    assert_eq!(c["calling_party_number"], CALLER, "{c}");
    assert_eq!(c["original_called_party_number"], dn, "{c}");
    assert_eq!(c["final_called_party_number"], dn, "{c}");
    assert_eq!(c["dest_device_name"], device, "{c}");
    assert_eq!(
        c["orig_span"], "pstn-sim-in",
        "SIPp came in on the inbound trunk: {c}"
    );
    assert_eq!(c["last_redirect_dn"], "", "{c}");
    assert!(
        c["orig_leg_call_identifier"]
            .as_str()
            .is_some_and(|id| id.ends_with("@127.0.0.1")),
        "SIPp's Call-ID: {c}"
    );
}

/// A call that was never answered: no connect time, no RD on record, `cause` from the far side.
fn assert_unanswered(c: &Value, cause: u64) {
    assert_eq!(num(&c["date_time_connect"]), 0, "never connected: {c}");
    assert_eq!(c["final_mobile_called_party_number"], "", "{c}");
    assert_eq!(num(&c["dest_cause_value"]), cause, "{c}");
    assert_eq!(num(&c["duration"]), 0, "{c}");
}

/// A call that was answered at `rd` over `trunk`.
fn assert_answered(c: &Value, rd: &str, trunk: &str) {
    let connect = num(&c["date_time_connect"]);
    assert!(
        connect >= num(&c["date_time_origination"]) && connect > 0,
        "{c}"
    );
    assert!(num(&c["date_time_disconnect"]) >= connect, "{c}");
    assert_eq!(c["final_mobile_called_party_number"], rd, "{c}");
    assert_eq!(c["dest_span"], trunk, "{c}");
    assert!(
        c["dest_leg_identifier"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{c}"
    );
}

/// Inbound call extended to alice's active RD (+14157777777: rings 1 s, answers), answered,
/// the caller hangs up after a second.
#[test]
fn call_answered() {
    let Some(d) = Demo::start() else { return };
    let out = d.sipp("call-answered", "2000", "127.0.0.1", 1, &[]);
    out.assert_clean(1);
    let c = d.cdr("2000");
    assert_inbound(&c, "2000", "CTRIDalice");
    assert_answered(&c, "+14157777777", "pstn-sim-out");
    let connect = num(&c["date_time_connect"]);
    assert!(
        connect - num(&c["date_time_origination"]) >= 900,
        "the RD rang a second before answering: {c}"
    );
    assert!(
        num(&c["date_time_disconnect"]) - connect >= 900,
        "a second of conversation: {c}"
    );
    assert_eq!(num(&c["orig_cause_value"]), 16, "the caller hung up: {c}");
    assert_eq!(num(&c["dest_cause_value"]), 0, "{c}");
    let m = d.server.metrics();
    assert_eq!(metric(&m, "tether_calls_answered_total"), 1.0);
    assert_eq!(metric(&m, "tether_call_setup_seconds_count"), 1.0);
    d.finish();
}

/// The RD is busy (03xx): 486 with cause 17 (the scenario checks the Reason).
#[test]
fn busy() {
    let Some(d) = Demo::start() else { return };
    d.sipp("busy", "2100", "127.0.0.1", 1, &[]).assert_clean(1);
    let c = d.cdr("2100");
    assert_inbound(&c, "2100", "CTRIDbusy");
    assert_unanswered(&c, 17);
    let m = d.server.metrics();
    assert_eq!(
        metric(&m, "tether_trunk_attempts_total{trunk=\"pstn-sim-out\"}"),
        1.0,
        "the RD was tried"
    );
    d.finish();
}

/// The RD rings forever (04xx): Tether gives up at answer-too-late (19 s), cancels it, and the
/// caller gets 480 with cause 19.
#[test]
fn no_answer() {
    let Some(d) = Demo::start() else { return };
    d.sipp("no-answer", "2101", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2101");
    assert_inbound(&c, "2101", "CTRIDnoanswer");
    assert_unanswered(&c, 19);
    let rang = num(&c["date_time_disconnect"]) - num(&c["date_time_origination"]);
    assert!(
        (18_900..30_000).contains(&rang),
        "released at answer-too-late (19 s), after {rang} ms: {c}"
    );
    d.finish();
}

/// The caller cancels while the RD rings: 200 for the CANCEL, 487; Tether cancels the RD leg.
#[test]
fn caller_cancels() {
    let Some(d) = Demo::start() else { return };
    d.sipp("caller-cancels", "2101", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2101");
    assert_inbound(&c, "2101", "CTRIDnoanswer");
    assert_unanswered(&c, 0);
    assert_eq!(num(&c["orig_cause_value"]), 16, "the caller ended it: {c}");
    assert!(
        num(&c["date_time_disconnect"]) - num(&c["date_time_origination"]) < 10_000,
        "ended by the CANCEL, not by answer-too-late: {c}"
    );
    // finish() checks that the RD leg's channel was given back.
    d.finish();
}

/// The RD (08xx, the demo's rule) answers at once and hangs up 2 s later: the caller gets a
/// BYE and answers it.
#[test]
fn rd_hangs_up() {
    let Some(d) = Demo::start() else { return };
    d.sipp("rd-hangs-up", "2104", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2104");
    assert_inbound(&c, "2104", "CTRIDhangup");
    assert_answered(&c, "+14155550899", "pstn-sim-out");
    let talked = num(&c["date_time_disconnect"]) - num(&c["date_time_connect"]);
    assert!(
        (1_900..10_000).contains(&talked),
        "the far end hung up 2 s after answering, not {talked} ms: {c}"
    );
    assert_eq!(num(&c["dest_cause_value"]), 16, "cleared by the RD: {c}");
    assert_eq!(num(&c["orig_cause_value"]), 0, "{c}");
    d.finish();
}

/// No RD active, route to all: both ring; the voicemail (06xx) answers after 0.5 s — too soon
/// (1.5 s) — and is hung up; the person (02xx) answers after 2 s and gets the call.
#[test]
fn fork_to_all_rds_with_a_fast_voicemail() {
    let Some(d) = Demo::start() else { return };
    d.sipp("call-answered", "2102", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2102");
    assert_inbound(&c, "2102", "CTRIDfork");
    assert_answered(&c, "+14155550299", "pstn-sim-out");
    assert!(
        num(&c["date_time_connect"]) - num(&c["date_time_origination"]) >= 1_900,
        "answered by the person after 2 s, not by the voicemail: {c}"
    );
    assert_eq!(num(&c["orig_cause_value"]), 16, "{c}");
    let m = d.server.metrics();
    assert_eq!(
        metric(&m, "tether_trunk_attempts_total{trunk=\"pstn-sim-out\"}"),
        2.0,
        "both RDs were called"
    );
    assert_eq!(metric(&m, "tether_calls_answered_total"), 1.0);
    d.finish();
}

/// A device with no active RD and no route to all: 486 (cause 17) without placing a leg.
#[test]
fn no_active_rd() {
    let Some(d) = Demo::start() else { return };
    d.sipp("no-active-rd", "2103", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2103");
    assert_eq!(c["calling_party_number"], CALLER, "{c}");
    assert_eq!(c["final_called_party_number"], "2103", "{c}");
    assert_eq!(c["orig_span"], "pstn-sim-in", "{c}");
    assert_unanswered(&c, 17);
    let m = d.server.metrics();
    assert_eq!(
        metric(&m, "tether_trunk_attempts_total{trunk=\"pstn-sim-out\"}"),
        0.0,
        "no leg was placed"
    );
    assert_eq!(metric(&m, "tether_calls_failed_total"), 1.0);
    d.finish();
}

/// Two calls a second apart to a DN whose RD is reached over a one-channel FXO trunk: the
/// first is answered and holds the channel for 3 s, the second gets 503 with cause 34.
#[test]
fn trunk_full() {
    let Some(d) = Demo::start() else { return };
    d.sipp(
        "trunk-full",
        "2105",
        "127.0.0.1",
        2,
        &["-l", "2", "-r", "1"],
    )
    .assert_clean(2);
    let cdrs = d.cdrs("2105", 2);
    for c in &cdrs {
        assert_inbound(c, "2105", "CTRIDfxo");
    }
    let (answered, refused): (Vec<&Value>, Vec<&Value>) =
        cdrs.iter().partition(|c| num(&c["date_time_connect"]) > 0);
    assert_eq!((answered.len(), refused.len()), (1, 1), "{cdrs:?}");
    assert_answered(answered[0], "+14155550198", "scenario-fxo");
    assert_unanswered(refused[0], 34);
    assert!(
        num(&refused[0]["date_time_origination"]) > num(&answered[0]["date_time_connect"])
            && num(&refused[0]["date_time_origination"])
                < num(&answered[0]["date_time_disconnect"]),
        "refused while the first call held the channel: {cdrs:?}"
    );
    let m = d.server.metrics();
    assert_eq!(
        metric(&m, "tether_trunk_full_total{trunk=\"scenario-fxo\"}"),
        1.0
    );
    d.finish();
}

/// The PSTN says the RD's number is unallocated (05xx): 404 with cause 1.
#[test]
fn unallocated() {
    let Some(d) = Demo::start() else { return };
    d.sipp("unallocated", "2106", "127.0.0.1", 1, &[])
        .assert_clean(1);
    let c = d.cdr("2106");
    assert_inbound(&c, "2106", "CTRIDunallocated");
    assert_unanswered(&c, 1);
    d.finish();
}

/// SIPp bound to 127.0.0.2, an address no trunk trusts and no phone registered from: 403
/// (cause 21). Not a call: no CDR, no attempt.
#[test]
fn stranger() {
    let Some(d) = Demo::start() else { return };
    d.sipp("stranger", "2000", "127.0.0.2", 1, &[])
        .assert_clean(1);
    let m = d.server.metrics();
    assert_eq!(metric(&m, "tether_calls_refused_unknown_source_total"), 1.0);
    assert_eq!(metric(&m, "tether_call_attempts_total"), 0.0);
    // A call from the trusted address next: its CDR is the only one (CDRs are written in
    // order, so one for the stranger would be there by now).
    d.sipp("busy", "2100", "127.0.0.1", 1, &[]).assert_clean(1);
    let all = d.server.wait_cdrs("", 1, DEADLINE);
    assert_eq!(all[0]["original_called_party_number"], "2100", "{all:?}");
    d.finish();
}
