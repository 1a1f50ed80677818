//! Calls driven over the CTI WebSocket, through the real binary: a scripted client on `/cti`
//! and SIPp standing in for the PSTN behind the demo's trunks (the remote phone and the far
//! parties), so the SIP each party receives can be read back from SIPp's message trace.
//!
//! - Make Call (Dial Via Office reverse) with its event sequence, what each SIP party was
//!   shown, the two call attempts, ClearConnection and the CDR;
//! - an incoming call's events; DND and forward all set over CTI acting on the next call;
//!   remote destinations a user adds verified;
//! - hold and retrieve (re-INVITEs to the far party only); consultation over the same RD leg,
//!   then transfer (the RD hung up, the parties joined) or a conference of three with a party
//!   dropped;
//! - GenerateDigits coming back from an echo as DigitsDetected; AnswerCall by remote answer.

mod support;

use std::time::Duration;

use serde_json::json;
use support::cti::CtiClient;
use support::sipp;
use support::trace::{parse, trace};
use support::{metric, Backend, Env};

const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Make Call over CTI: SIPp's UAS is the PSTN, so it answers both the remote phone (alice's
/// active RD, +14157777777) and the called party.
#[test]
fn make_call_is_dial_via_office_reverse_with_its_events_and_sip() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let uas = sipp::start_uas(env.path(), port, 2);
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");
    let r = c.request(
        "MakeCall",
        json!({"device": "CTRIDalice", "calledDirectoryNumber": "+14155550123"}),
    );
    assert_eq!(r["type"], "MakeCallResponse", "{r}");
    let call = r["callId"].clone();
    assert!(call.is_u64(), "{r}");
    let ev = c.events_until("Established", EVENT_WAIT);
    let t = CtiClient::types(&ev);
    assert_eq!(
        t,
        [
            "ServiceInitiated",
            "Originated",
            "NetworkReached",
            "Delivered",
            "Established"
        ],
        "{ev:#?}"
    );
    assert!(
        ev.iter().all(|e| e["connection"]["callId"] == call),
        "{ev:#?}"
    );
    // An RD number never reaches a called party, nor any event.
    assert!(
        ev.iter().all(|e| !e.to_string().contains("4157777777")),
        "{ev:#?}"
    );
    assert!(uas.wait_for("INVITE sip:", 2, EVENT_WAIT));
    let trace = uas.messages();
    let invite_to = |number: &str| {
        parse(&trace)
            .into_iter()
            .find(|m| m.received && m.start().starts_with(&format!("INVITE sip:{number}@")))
            .unwrap_or_else(|| panic!("no INVITE to {number} in\n{trace}"))
            .text
    };
    let rd_leg = invite_to("+14157777777");
    assert!(rd_leg.contains("\"Voice Connect\""), "{rd_leg}");
    let target_leg = invite_to("+14155550123");
    assert!(target_leg.contains("\"Alice Example\""), "{target_leg}");
    assert!(!target_leg.contains("4157777777"), "{target_leg}");

    let r = c.request(
        "ClearConnection",
        json!({"connection": {"callId": call, "deviceId": "CTRIDalice"}}),
    );
    assert_eq!(r["type"], "ClearConnectionResponse", "{r}");
    let ev = c.events_until("CallCleared", EVENT_WAIT);
    assert_eq!(
        CtiClient::types(&ev),
        ["ConnectionCleared", "ConnectionCleared", "CallCleared"],
        "{ev:#?}"
    );
    let outcome = uas.wait(EVENT_WAIT);
    outcome.assert_clean(2);
    // Two call attempts (the seed's rule for Dial Via Office) and one record for the call.
    let m = server.metrics();
    assert_eq!(metric(&m, "tether_outbound_calls_total"), 2.0);
    let cdrs = server.wait_cdrs("", 1, EVENT_WAIT);
    assert_eq!(cdrs[0]["calling_party_number"], "2000", "{}", cdrs[0]);
    assert_eq!(
        cdrs[0]["original_called_party_number"], "+14155550123",
        "{}",
        cdrs[0]
    );
}

/// A call from the PSTN (SIPp's UAC on the inbound trunk) to alice's DN rings her active RD
/// (SIPp's UAS): the monitoring client sees Delivered, Established and the clearing; then Do
/// Not Disturb set over CTI turns the next call away busy.
#[test]
fn an_incoming_call_is_reported_and_dnd_set_over_cti_busies_the_next() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let uas = sipp::start_uas(env.path(), port, 1);
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = c.request("MonitorStart", json!({"dn": "2000"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");

    let target = server.sip_udp.expect("tether printed its UDP address");
    sipp::Run {
        scenario: "call-answered",
        service: "2000",
        target,
        local_ip: "127.0.0.1",
        calls: 1,
        extra: &[],
        limit: Duration::from_secs(20),
    }
    .run(env.path())
    .assert_clean(1);
    uas.wait(EVENT_WAIT).assert_clean(1);
    let ev = c.events_until("CallCleared", EVENT_WAIT);
    assert_eq!(
        CtiClient::types(&ev),
        [
            "Delivered",
            "Established",
            "ConnectionCleared",
            "ConnectionCleared",
            "CallCleared"
        ],
        "{ev:#?}"
    );
    assert_eq!(ev[0]["party"], "device", "{}", ev[0]);
    assert_eq!(ev[0]["calledDevice"], "2000", "{}", ev[0]);
    assert_eq!(ev[0]["device"], "CTRIDalice", "{}", ev[0]);
    let call = ev[0]["connection"]["callId"].clone();
    assert!(
        ev.iter().all(|e| e["connection"]["callId"] == call),
        "{ev:#?}"
    );
    assert!(
        ev.iter().all(|e| !e.to_string().contains("4157777777")),
        "no RD number in any event: {ev:#?}"
    );
    // The caller hung up first (SIPp's BYE): its clearing comes first, normal clearing.
    assert_eq!(ev[2]["party"], "far", "{}", ev[2]);
    assert_eq!(ev[4]["q850Cause"], 16, "{}", ev[4]);

    // Do Not Disturb over CTI: written, announced, and the next call is refused busy.
    let r = c.request(
        "SetDoNotDisturb",
        json!({"dn": "2000", "doNotDisturbOn": true}),
    );
    assert_eq!(r["type"], "SetDoNotDisturbResponse", "{r}");
    let ev = c.events_until("DoNotDisturb", EVENT_WAIT);
    assert_eq!(
        ev.last().map(|e| e["doNotDisturbOn"].clone()),
        Some(json!(true))
    );
    sipp::Run {
        scenario: "busy",
        service: "2000",
        target,
        local_ip: "127.0.0.1",
        calls: 1,
        extra: &[],
        limit: Duration::from_secs(20),
    }
    .run(env.path())
    .assert_clean(1);
}

/// Hold and retrieve over CTI on a Make Call: Tether re-INVITEs the far party (SIPp playing
/// `sip-scenarios/uas-far-party.xml`) `sendonly`, then `sendrecv`; the client sees Held and
/// Retrieved; the RD leg gets no re-INVITE at all.
#[test]
fn hold_and_retrieve_over_cti_reinvite_the_far_party() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let uas = sipp::start_uas_scenario(env.path(), port, 2, "uas-far-party");
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    let r = c.request(
        "MakeCall",
        json!({"device": "CTRIDalice", "calledDirectoryNumber": "+14155550123"}),
    );
    let call = r["callId"].clone();
    c.events_until("Established", EVENT_WAIT);
    let conn = json!({"callId": call, "deviceId": "CTRIDalice"});

    let r = c.request("HoldCall", json!({ "connection": conn }));
    assert_eq!(r["type"], "HoldCallResponse", "{r}");
    let ev = c.events_until("Held", EVENT_WAIT);
    assert_eq!(CtiClient::types(&ev), ["Held"], "{ev:#?}");
    // Holding twice is a state error, named.
    let r = c.request("HoldCall", json!({ "connection": conn }));
    assert_eq!(r["code"], "INVALID_CALL_STATE", "{r}");
    let r = c.request("SnapshotDevice", json!({"device": "CTRIDalice"}));
    assert_eq!(r["device"]["calls"][0]["state"], "held", "{r}");

    let r = c.request("RetrieveCall", json!({ "connection": conn }));
    assert_eq!(r["type"], "RetrieveCallResponse", "{r}");
    c.events_until("Retrieved", EVENT_WAIT);
    c.request("ClearConnection", json!({ "connection": conn }));
    c.events_until("CallCleared", EVENT_WAIT);
    let outcome = uas.wait(EVENT_WAIT);
    outcome.assert_clean(2);

    // The trace: two re-INVITEs, both to the target's dialog, sendonly then sendrecv.
    let trace = trace(env.path(), "uas");
    let reinvites: Vec<&str> = parse(&trace)
        .into_iter()
        .filter(|m| m.received && m.is("INVITE") && !m.has("CSeq", "1 INVITE"))
        .map(|m| m.text)
        .collect();
    assert_eq!(reinvites.len(), 2, "{trace}");
    assert!(reinvites[0].contains("a=sendonly"), "{}", reinvites[0]);
    assert!(reinvites[1].contains("a=sendrecv"), "{}", reinvites[1]);
    assert!(
        reinvites.iter().all(|m| m.contains("+14155550123")),
        "only the far party is re-INVITEd: {reinvites:#?}"
    );
}

/// Call Forward All set over CTI: announced as Forwarding, and the next call to the DN goes
/// to the forward number (with a Diversion header naming the DN, never the RD) while the
/// device sees Diverted; the RD is not called. Remote destinations a user adds over CTI are
/// verified against the device's reroute CSS.
#[test]
fn forward_all_over_cti_diverts_the_next_call_and_user_rds_are_verified() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let uas = sipp::start_uas(env.path(), port, 1);
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    c.request("MonitorStart", json!({"device": "CTRIDalice"}));

    // RDs added by the user are verified: the reroute CSS routes \+1! and 9.! only.
    let r = c.request(
        "AddRemoteDestination",
        json!({"device": "CTRIDalice", "name": "Lab", "number": "81000"}),
    );
    assert_eq!(r["code"], "RD_NOT_REACHABLE", "{r}");
    let r = c.request(
        "AddRemoteDestination",
        json!({"device": "CTRIDalice", "name": "Desk", "number": "914085550111"}),
    );
    assert_eq!(r["type"], "AddRemoteDestinationResponse", "{r}");
    let ev = c.events_until("RemoteDestinationChanged", EVENT_WAIT);
    let changed = ev.last().expect("RemoteDestinationChanged");
    assert_eq!(changed["change"], "added", "{changed}");
    assert_eq!(changed["isMine"], true, "{changed}");

    let r = c.request(
        "SetForwarding",
        json!({"dn": "2000", "activateForward": true, "forwardDN": "+14155550199"}),
    );
    assert_eq!(r["type"], "SetForwardingResponse", "{r}");
    let ev = c.events_until("Forwarding", EVENT_WAIT);
    let fwd = ev.last().expect("Forwarding");
    assert_eq!(fwd["forwardStatus"], true, "{fwd}");
    assert_eq!(fwd["forwardDN"], "+14155550199", "{fwd}");

    let target = server.sip_udp.expect("tether printed its UDP address");
    sipp::Run {
        scenario: "call-answered",
        service: "2000",
        target,
        local_ip: "127.0.0.1",
        calls: 1,
        extra: &[],
        limit: Duration::from_secs(20),
    }
    .run(env.path())
    .assert_clean(1);
    let ev = c.events_until("Diverted", EVENT_WAIT);
    let div = ev.last().expect("Diverted");
    assert_eq!(div["newDestination"], "+14155550199", "{div}");
    assert_eq!(div["cause"], "callForwardImmediate", "{div}");
    let outcome = uas.wait(EVENT_WAIT);
    outcome.assert_clean(1);
    let trace = trace(env.path(), "uas");
    let invite = parse(&trace)
        .into_iter()
        .find(|m| m.received && m.is("INVITE"))
        .unwrap_or_else(|| panic!("no INVITE reached the PSTN side\n{trace}"))
        .text;
    assert!(invite.contains("INVITE sip:+14155550199@"), "{invite}");
    assert!(invite.contains("Diversion: <sip:2000@"), "{invite}");
    assert!(!invite.contains("4157777777"), "{invite}");
}

/// Sets up a Make Call from alice's device to X and a consultation to Y over CTI, with SIPp's
/// `uas-far-party.xml` playing the remote phone, X and Y; returns the client, the server's
/// SIPp and the two call ids (held, consultation).
fn consult(env: &Env, server: &support::Server, port: u16) -> (CtiClient, sipp::Running, u64, u64) {
    let uas = sipp::start_uas_scenario(env.path(), port, 3, "uas-far-party");
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    let r = c.request(
        "MakeCall",
        json!({"device": "CTRIDalice", "calledDirectoryNumber": "+14155550123"}),
    );
    let held = r["callId"].as_u64().unwrap_or_else(|| panic!("{r}"));
    c.events_until("Established", EVENT_WAIT);
    let r = c.request(
        "ConsultationCall",
        json!({"connection": {"callId": held, "deviceId": "2000"}, "consultedDevice": "+14155550124"}),
    );
    assert_eq!(r["type"], "ConsultationCallResponse", "{r}");
    let active = r["callId"].as_u64().unwrap_or_else(|| panic!("{r}"));
    assert_ne!(active, held);
    let ev = c.events_until("Established", EVENT_WAIT);
    let t = CtiClient::types(&ev);
    assert!(t.contains(&"Held".to_owned()), "{ev:#?}");
    let est = ev.last().expect("Established");
    assert_eq!(est["connection"]["callId"], active, "{est}");
    (c, uas, held, active)
}

#[test]
fn consult_then_transfer_over_the_same_rd_leg() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let (mut c, uas, held, active) = consult(&env, &server, port);
    let r = c.request(
        "TransferCall",
        json!({"heldCall": {"callId": held, "deviceId": "2000"},
               "activeCall": {"callId": active, "deviceId": "2000"}}),
    );
    assert_eq!(r["type"], "TransferCallResponse", "{r}");
    let ev = c.events_until("Transferred", EVENT_WAIT);
    let tr = ev.last().expect("Transferred");
    assert_eq!(tr["transferredDevice"], "+14155550123", "{tr}");
    assert_eq!(tr["transferredToDevice"], "+14155550124", "{tr}");
    // The device leaves both calls.
    let mut cleared = Vec::new();
    while cleared.len() < 2 {
        let e = c
            .next_event(EVENT_WAIT)
            .unwrap_or_else(|| panic!("the device's connections were not cleared: {cleared:?}"));
        if e["type"] == "ConnectionCleared" {
            assert_eq!(e["party"], "device", "{e}");
            cleared.push(e["connection"]["callId"].as_u64().unwrap_or(0));
        }
    }
    cleared.sort_unstable();
    let mut want = vec![held, active];
    want.sort_unstable();
    assert_eq!(cleared, want);
    // SIP: one INVITE ever reached the RD, which got the BYE; X was re-INVITEd sendonly
    // (hold for the consultation) and sendrecv (joined to Y).
    assert!(uas.wait_for("BYE sip:", 1, EVENT_WAIT));
    let trace = trace(env.path(), "uas");
    // What SIPp received.
    let msgs: Vec<&str> = parse(&trace)
        .into_iter()
        .filter(|m| m.received)
        .map(|m| m.text)
        .collect();
    let to_rd = msgs
        .iter()
        .filter(|m| m.starts_with("INVITE sip:+14157777777"))
        .count();
    assert_eq!(to_rd, 1, "{trace}");
    let bye: Vec<&&str> = msgs.iter().filter(|m| m.starts_with("BYE sip:")).collect();
    assert_eq!(bye.len(), 1, "only the RD is hung up: {trace}");
    assert!(bye[0].contains("To: <sip:+14157777777@"), "{}", bye[0]);
    assert!(bye[0].contains("Reason: Q.850;cause=16"), "{}", bye[0]);
    let reinvites: Vec<&&str> = msgs
        .iter()
        .filter(|m| m.starts_with("INVITE sip:") && !m.contains("CSeq: 1 INVITE"))
        .collect();
    assert_eq!(reinvites.len(), 2, "{trace}");
    assert!(
        reinvites
            .iter()
            .all(|m| m.contains("To: <sip:+14155550123@")),
        "{reinvites:#?}"
    );
    assert!(reinvites[0].contains("a=sendonly"), "{}", reinvites[0]);
    assert!(reinvites[1].contains("a=sendrecv"), "{}", reinvites[1]);
    drop(uas);
}

#[test]
fn conference_of_three_then_a_party_dropped() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let (mut c, uas, held, active) = consult(&env, &server, port);
    let r = c.request(
        "ConferenceCall",
        json!({"heldCall": {"callId": held, "deviceId": "2000"},
               "activeCall": {"callId": active, "deviceId": "2000"}}),
    );
    assert_eq!(r["type"], "ConferenceCallResponse", "{r}");
    let ev = c.events_until("Conferenced", EVENT_WAIT);
    let conf = ev.last().expect("Conferenced");
    let mut parties: Vec<String> = conf["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    parties.sort();
    assert_eq!(parties, ["+14155550123", "+14155550124", "2000"], "{conf}");
    let call = conf["resultingCall"].as_u64().unwrap_or(active);
    // No such party in the conference.
    let r = c.request(
        "ClearConnection",
        json!({"connection": {"callId": call, "deviceId": "+14155550999"}, "device": "CTRIDalice"}),
    );
    assert_eq!(r["code"], "INVALID_PARTY", "{r}");
    // Drop Y; the device and X go on as an ordinary call, which the device then clears.
    let r = c.request(
        "ClearConnection",
        json!({"connection": {"callId": call, "deviceId": "+14155550124"}, "device": "CTRIDalice"}),
    );
    assert_eq!(r["type"], "ClearConnectionResponse", "{r}");
    let r = c.request(
        "ClearConnection",
        json!({"connection": {"callId": call, "deviceId": "CTRIDalice"}}),
    );
    assert_eq!(r["type"], "ClearConnectionResponse", "{r}");
    c.events_until("CallCleared", EVENT_WAIT);
    // Every far party was hung up by Tether: SIPp's three calls end cleanly.
    uas.wait(EVENT_WAIT).assert_clean(3);
    server.wait_settled(EVENT_WAIT);
}

/// GenerateDigits end to end with real RTP: a Make Call to an echo number of the built-in PSTN
/// simulator (07xx); the digits Tether plays towards the far party (RFC 4733) come back from
/// the echo and are reported as DigitsDetected from the far party, in order.
#[test]
fn generated_digits_come_back_from_an_echo_as_digits_detected() {
    let env = Env::with_config(Backend::Sqlite, true, true, "[pstn]\nenabled = true\n")
        .expect("SQLite needs no setup");
    let server = env.start_with(&["--sip", "127.0.0.1:0", "--pstn", "127.0.0.1:0"]);
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    let r = c.request(
        "MakeCall",
        json!({"device": "CTRIDalice", "calledDirectoryNumber": "+14155550799"}),
    );
    let call = r["callId"].clone();
    assert!(call.is_u64(), "{r}");
    // The simulator's remote phone answers after a second, the echo at once.
    c.events_until("Established", Duration::from_secs(20));
    let conn = json!({"callId": call, "deviceId": "CTRIDalice"});
    let r = c.request(
        "GenerateDigits",
        json!({"connection": conn, "charactersToSend": "12#"}),
    );
    assert_eq!(r["type"], "GenerateDigitsResponse", "{r}");
    let mut heard = String::new();
    while heard.len() < 3 {
        let e = c
            .next_event(EVENT_WAIT)
            .unwrap_or_else(|| panic!("only {heard:?} came back"));
        if e["type"] == "DigitsDetected" {
            assert_eq!(e["party"], "far", "{e}");
            heard.push_str(e["digits"].as_str().unwrap_or("?"));
        }
    }
    assert_eq!(heard, "12#");
    // In band, asked the moment '#' was heard (its last end packets still going out): the
    // keys take turns, so nothing is reported again (the tones come back as audio, and a leg
    // that negotiated telephone-event is not searched for tones).
    let r = c.request(
        "GenerateDigits",
        json!({"connection": conn, "charactersToSend": "5", "mode": "inBand"}),
    );
    assert_eq!(r["type"], "GenerateDigitsResponse", "{r}");
    let mut extra = Vec::new();
    while let Some(e) = c.next_event(Duration::from_millis(1500)) {
        extra.push(e);
    }
    assert!(extra.is_empty(), "{extra:#?}");
    let r = c.request(
        "GenerateDigits",
        json!({"connection": conn, "charactersToSend": "12x"}),
    );
    assert_eq!(r["code"], "INVALID_DIGITS", "{r}");
    c.request("ClearConnection", json!({ "connection": conn }));
    c.events_until("CallCleared", EVENT_WAIT);
}

/// AnswerCall by remote answer: alice's remote phone (SIPp, `uas-remote-answer.xml`) rings
/// offering `Allow-Events: talk`; AnswerCall makes Tether send it NOTIFY (Event: talk) in the
/// early dialog, the phone answers, and the caller (SIPp, `call-answered.xml`) is connected.
#[test]
fn answer_call_asks_a_phone_that_offers_remote_answer_to_answer() {
    if !sipp::available() {
        return;
    }
    let (env, server, port) = support::sipp_pstn();
    let phone = sipp::start_uas_scenario(env.path(), port, 1, "uas-remote-answer");
    let (mut c, _) = CtiClient::login(&server.base, "alice", "alice");
    c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    let target = server.sip_udp.expect("tether printed its UDP address");
    let caller = sipp::start_uac(env.path(), "call-answered", "2000", target);
    let ev = c.events_until("Delivered", EVENT_WAIT);
    let call = ev.last().expect("Delivered")["connection"]["callId"].clone();
    // Ringing until asked.
    assert!(c.next_event(Duration::from_millis(300)).is_none());
    let r = c.request(
        "AnswerCall",
        json!({"connection": {"callId": call, "deviceId": "CTRIDalice"}}),
    );
    assert_eq!(r["type"], "AnswerCallResponse", "{r}");
    let ev = c.events_until("Established", EVENT_WAIT);
    assert_eq!(CtiClient::types(&ev), ["Established"], "{ev:#?}");
    caller.wait(Duration::from_secs(20)).assert_clean(1);
    phone.wait(EVENT_WAIT).assert_clean(1);
    let trace = trace(env.path(), "uas");
    let notify = parse(&trace)
        .into_iter()
        .find(|m| m.received && m.is("NOTIFY"))
        .unwrap_or_else(|| panic!("no NOTIFY reached the phone\n{trace}"))
        .text;
    assert!(notify.contains("Event: talk"), "{notify}");
    assert!(notify.contains(";tag="), "{notify}");
}
