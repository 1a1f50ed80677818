//! Transfers and redirection with real processes: the real `tether serve` on its demo
//! provisioning, real SIPp as bob's SIP phone (SIPbob, DN 2001, registered with digest) and as
//! the PSTN behind the demo's trunks (`sip-scenarios/uas-by-number.xml`: `04xx` rings until
//! cancelled, `08xx` rings 2 s, answers and hangs up 2 s later, any other number answers), and
//! a scripted CTI client watching the devices. Each test reads back what every SIPp received
//! (its `-trace_msg` file) and the exact CTI events.
//!
//! - blind transfer by REFER (RFC 3515, RFC 5589 §6): 202, `NOTIFY` with `message/sipfrag`
//!   (`100 Trying`, then `200 OK`), the transferee put through to the target in its own dialog,
//!   the transferor hung up by Tether; and the same with the transferor hanging up before the
//!   target answers, which does not stop it;
//! - attended transfer by REFER with Replaces (RFC 5589 §7) naming the phone's other call,
//!   and refused (403, nothing changes) when it names someone else's;
//! - INVITE with Replaces (RFC 3891) from the phone naming a PSTN caller's dialog: refused, as
//!   only the party itself may have its dialog replaced;
//! - DeflectCall over CTI of a call ringing at alice's remote destination: the RD cancelled,
//!   the new party called with a Diversion naming the DN, never the RD.
//!
//! Every wait polls a file, a socket or `/metrics` with a deadline; the only pauses are the
//! scenarios' own. Without `sipp` the tests skip (they fail when `CI` is set).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::cti::CtiClient;
use support::sipp::{self, Outcome, Run, Running};
use support::trace::{parse, tag, trace, wait_trace, Msg};
use support::{Env, Server};

const WAIT: Duration = Duration::from_secs(15);
const SIPP_LIMIT: Duration = Duration::from_secs(30);
/// X, the party bob's phone calls (answers at once).
const X: &str = "+14155550123";
/// Y, a transfer target that rings 2 s, answers and hangs up 2 s later (`08xx`).
const Y_SLOW: &str = "+14155550801";

/// A server whose trunks point at a SIPp UAS playing `uas-by-number.xml` for `calls` calls.
fn lab(calls: u32) -> Option<(Env, Server, Running)> {
    if !sipp::available() {
        return None;
    }
    let (env, server, port) = support::sipp_pstn();
    let uas = sipp::start_uas_scenario(env.path(), port, calls, "uas-by-number");
    Some((env, server, uas))
}

/// SIPp as bob's phone: `scenario` from `127.0.0.1:port`, calling `service`, with `keys`
/// (`-key name value` pairs).
fn phone(
    env: &Env,
    server: &Server,
    scenario: &str,
    port: u16,
    service: &str,
    keys: &[(&str, &str)],
) -> Outcome {
    let port = port.to_string();
    let mut extra: Vec<&str> = vec!["-p", &port];
    for (k, v) in keys {
        extra.extend(["-key", k, v]);
    }
    Run {
        scenario,
        service,
        target: server.sip_udp.expect("tether printed its UDP address"),
        local_ip: "127.0.0.1",
        calls: 1,
        extra: &extra,
        limit: SIPP_LIMIT,
    }
    .run(env.path())
}

/// Registers bob's phone (SIPbob) from `127.0.0.1:port`, digest and all, for SIPp to be.
fn register_bob(server: &Server, port: u16) {
    let target = server.sip_udp.expect("tether printed its UDP address");
    support::phone::register(target, port, "bob", "bob-sip");
}

/// `(type, callId)` of each event.
fn kinds(ev: &[Value]) -> Vec<(String, u64)> {
    ev.iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or("?").to_owned(),
                e["connection"]["callId"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// What bob's phone saw of a REFER Tether carried out: 202, the NOTIFYs' sipfrags in order,
/// each with `Event: refer` and `message/sipfrag`; returns the sipfrag status lines.
fn notifies(msgs: &[Msg<'_>]) -> Vec<String> {
    let accepted = msgs
        .iter()
        .position(|m| m.received && m.status(202) && m.has("CSeq", "REFER"));
    let accepted = accepted.unwrap_or_else(|| panic!("no 202 to the REFER: {msgs:#?}"));
    msgs.iter()
        .enumerate()
        .filter(|(_, m)| m.received && m.is("NOTIFY"))
        .map(|(i, m)| {
            assert!(i > accepted, "NOTIFY before the 202: {msgs:#?}");
            assert_eq!(m.header("Event"), Some("refer"), "{}", m.text);
            assert!(m.has("Content-Type", "message/sipfrag"), "{}", m.text);
            m.body().to_owned()
        })
        .collect()
}

/// The Subscription-State of each NOTIFY bob received.
fn subscription_states<'a>(msgs: &[Msg<'a>]) -> Vec<&'a str> {
    msgs.iter()
        .filter(|m| m.received && m.is("NOTIFY"))
        .map(|m| m.header("Subscription-State").unwrap_or_default())
        .collect()
}

/// Tether's 200s to a phone's INVITE advertise REFER, NOTIFY and Replaces (`Allow`,
/// `Supported`), so the phone knows it may transfer.
fn assert_answer_advertises(msgs: &[Msg<'_>]) {
    let oks: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.received && m.status(200) && m.has("CSeq", "INVITE"))
        .collect();
    assert!(!oks.is_empty(), "{msgs:#?}");
    for ok in oks {
        let allow = ok.header("Allow").unwrap_or_default();
        assert!(
            allow.contains("REFER") && allow.contains("NOTIFY"),
            "{}",
            ok.text
        );
        assert!(ok.has("Supported", "replaces"), "{}", ok.text);
    }
}

/// Tether's INVITEs advertise REFER, NOTIFY and Replaces (`Allow`, `Supported`).
fn assert_advertises(msgs: &[Msg<'_>]) {
    let invites: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.received && m.is("INVITE"))
        .collect();
    assert!(!invites.is_empty(), "{msgs:#?}");
    for inv in invites {
        let allow = inv.header("Allow").unwrap_or_default();
        assert!(
            allow.contains("REFER") && allow.contains("NOTIFY"),
            "{}",
            inv.text
        );
        assert!(inv.has("Supported", "replaces"), "{}", inv.text);
    }
}

/// Blind transfer by REFER from bob's phone: bob calls X, transfers it to Y; Tether says 202,
/// NOTIFYs 100 then 200, puts X through to Y in X's own dialog (X gets no new INVITE), hangs
/// bob up; Y hangs up later and X gets the BYE. Bob's monitor sees Transferred.
#[test]
fn blind_transfer_by_refer_from_a_phone() {
    let Some((env, server, uas)) = lab(2) else {
        return;
    };
    let mut cti = CtiClient::admin_monitor(&server.base, "SIPbob");
    let port = support::free_udp_port();
    register_bob(&server, port);
    phone(
        &env,
        &server,
        "refer-blind",
        port,
        X,
        &[("transfer_to", Y_SLOW)],
    )
    .assert_clean(1);
    uas.wait(WAIT).assert_clean(2);
    server.wait_settled(WAIT);

    // Bob's phone: 200 advertising REFER, 202, NOTIFY 100 then 200, then Tether's BYE.
    let t = trace(env.path(), "refer-blind");
    let bob = parse(&t);
    assert_answer_advertises(&bob);
    assert_eq!(
        notifies(&bob),
        ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"],
        "{t}"
    );
    assert_eq!(
        subscription_states(&bob),
        ["active;expires=60", "terminated;reason=noresource"],
        "{t}"
    );
    let last_notify = bob.iter().rposition(|m| m.received && m.is("NOTIFY"));
    let bye = bob.iter().position(|m| m.received && m.is("BYE"));
    assert!(
        bye > last_notify,
        "the BYE comes after the final NOTIFY: {t}"
    );
    let bye = bob[bye.unwrap_or_default()];
    assert!(bye.has("Reason", "Q.850;cause=16"), "{}", bye.text);

    // The PSTN: X's INVITE, then Y's with X as the caller; X gets nothing new but the BYE
    // once Y hangs up.
    let t = trace(env.path(), "uas");
    let pstn = parse(&t);
    assert_advertises(&pstn);
    let got: Vec<&Msg> = pstn.iter().filter(|m| m.received).collect();
    let invites: Vec<&&Msg> = got.iter().filter(|m| m.is("INVITE")).collect();
    assert_eq!(invites.len(), 2, "{t}");
    assert!(
        invites[0].start().starts_with(&format!("INVITE sip:{X}@")),
        "{t}"
    );
    assert!(
        invites[1]
            .start()
            .starts_with(&format!("INVITE sip:{Y_SLOW}@")),
        "{t}"
    );
    let (x_call, y_call) = (invites[0].call_id(), invites[1].call_id());
    assert_ne!(x_call, y_call);
    let to_y = invites[1];
    assert!(to_y.has("From", X), "Y sees the transferee: {}", to_y.text);
    assert!(!to_y.has("From", "2001"), "{}", to_y.text);
    let x_msgs: Vec<&str> = got
        .iter()
        .filter(|m| m.call_id() == x_call)
        .map(|m| m.start())
        .collect();
    assert_eq!(
        x_msgs.len(),
        3,
        "X: INVITE, ACK, BYE and nothing else: {x_msgs:#?}"
    );
    assert!(
        x_msgs[1].starts_with("ACK ") && x_msgs[2].starts_with("BYE "),
        "{x_msgs:#?}"
    );
    let y_bye = pstn
        .iter()
        .position(|m| !m.received && m.is("BYE") && m.call_id() == y_call);
    let x_bye = pstn
        .iter()
        .position(|m| m.received && m.is("BYE") && m.call_id() == x_call);
    assert!(
        y_bye.is_some() && x_bye > y_bye,
        "Y hangs up, then X is hung up: {t}"
    );

    // CTI: bob's call, Transferred, then bob leaves it.
    let ev = cti.drain("SIPbob");
    let k = kinds(&ev);
    let call = k.first().map(|(_, c)| *c).unwrap_or_default();
    let names: Vec<&str> = k.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Originated",
            "NetworkReached",
            "Delivered",
            "Established",
            "Transferred",
            "ConnectionCleared",
            "ConnectionCleared",
            "CallCleared"
        ],
        "{ev:#?}"
    );
    assert!(k.iter().all(|(_, c)| *c == call), "{ev:#?}");
    assert_eq!(ev[3]["answeringDevice"], X, "{}", ev[3]);
    assert_eq!(ev[5]["party"], "far", "{}", ev[5]);
    assert_eq!(ev[6]["party"], "device", "{}", ev[6]);
    assert!(ev[5..].iter().all(|e| e["q850Cause"] == 16), "{ev:#?}");
    let tr = &ev[4];
    assert_eq!(tr["transferringDevice"], "2001", "{tr}");
    assert_eq!(tr["transferredDevice"], X, "{tr}");
    assert_eq!(tr["transferredToDevice"], Y_SLOW, "{tr}");
    assert_ne!(tr["resultingCall"].as_u64(), Some(call), "{tr}");
}

/// The transferor hangs up right after `NOTIFY 100`, while the target still rings: Tether
/// answers its BYE and goes on — X is not hung up, Y rings on, answers and is put through to
/// X; bob gets no further NOTIFY.
#[test]
fn a_transferor_hanging_up_early_does_not_stop_the_transfer() {
    let Some((env, server, uas)) = lab(2) else {
        return;
    };
    let mut cti = CtiClient::admin_monitor(&server.base, "SIPbob");
    let port = support::free_udp_port();
    register_bob(&server, port);
    phone(
        &env,
        &server,
        "refer-blind-early-bye",
        port,
        X,
        &[("transfer_to", Y_SLOW)],
    )
    .assert_clean(1);
    uas.wait(WAIT).assert_clean(2);
    server.wait_settled(WAIT);

    let t = trace(env.path(), "refer-blind-early-bye");
    let bob = parse(&t);
    assert_eq!(notifies(&bob), ["SIP/2.0 100 Trying"], "{t}");
    assert!(
        !bob.iter().any(|m| m.received && m.is("BYE")),
        "bob hung up himself: {t}"
    );
    let bye_ok = bob
        .iter()
        .find(|m| m.received && m.status(200) && m.has("CSeq", "BYE"));
    assert!(bye_ok.is_some(), "Tether answers bob's BYE: {t}");

    // The PSTN: Y was not cancelled; it answered, hung up, and only then was X hung up.
    let t = trace(env.path(), "uas");
    let pstn = parse(&t);
    let invites: Vec<&Msg> = pstn
        .iter()
        .filter(|m| m.received && m.is("INVITE"))
        .collect();
    assert_eq!(invites.len(), 2, "{t}");
    let (x_call, y_call) = (invites[0].call_id(), invites[1].call_id());
    assert!(
        invites[1]
            .start()
            .starts_with(&format!("INVITE sip:{Y_SLOW}@")),
        "{t}"
    );
    assert!(!pstn.iter().any(|m| m.received && m.is("CANCEL")), "{t}");
    let y_ok = pstn
        .iter()
        .position(|m| !m.received && m.status(200) && m.call_id() == y_call);
    let y_bye = pstn
        .iter()
        .position(|m| !m.received && m.is("BYE") && m.call_id() == y_call);
    let x_bye = pstn
        .iter()
        .position(|m| m.received && m.is("BYE") && m.call_id() == x_call);
    assert!(y_ok.is_some() && y_bye > y_ok && x_bye > y_bye, "{t}");

    // CTI: Transferred at once; then bob's own hang-up clears his call.
    let ev = cti.drain("SIPbob");
    let names: Vec<String> = kinds(&ev).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Originated",
            "NetworkReached",
            "Delivered",
            "Established",
            "Transferred",
            "ConnectionCleared",
            "ConnectionCleared",
            "CallCleared"
        ],
        "{ev:#?}"
    );
    assert_eq!(ev[4]["transferredToDevice"], Y_SLOW, "{}", ev[4]);
    assert_eq!(ev[5]["party"], "device", "bob hung up first: {}", ev[5]);
    assert_eq!(ev[6]["party"], "far", "{}", ev[6]);
}

/// Y, bob's consultation party (answers at once).
const Y: &str = "+14155550124";
/// X for the attended transfer: rings 2 s, answers, hangs up 2 s later (`08xx`).
const X_SLOW: &str = "+14155550802";

/// The dialog of the first call in a SIPp UAC's trace, as Tether names it in a Replaces:
/// (Call-ID, Tether's tag, the UAC's tag).
fn dialog(msgs: &[Msg<'_>]) -> (String, String, String) {
    let ok = msgs
        .iter()
        .find(|m| m.received && m.status(200) && m.has("CSeq", "INVITE"))
        .unwrap_or_else(|| panic!("no 200 to the INVITE: {msgs:#?}"));
    (
        ok.call_id().to_owned(),
        tag(ok.header("To").unwrap_or_default()).to_owned(),
        tag(ok.header("From").unwrap_or_default()).to_owned(),
    )
}

/// Attended transfer by REFER with Replaces (RFC 5589 §7): bob talks to Y on one call (from
/// one registered port) and to X on another (from a second one), then REFERs X to Y with
/// Replaces naming his call with Y. Tether joins X and Y at once — no INVITE, re-INVITE or BYE
/// to either — and hangs up both of bob's calls; X hangs up later and Y gets the BYE.
#[test]
fn attended_transfer_by_refer_with_replaces_from_a_phone() {
    let Some((env, server, uas)) = lab(2) else {
        return;
    };
    let mut cti = CtiClient::admin_monitor(&server.base, "SIPbob");
    let (p1, p2) = (support::free_udp_port(), support::free_udp_port());
    register_bob(&server, p1);
    register_bob(&server, p2);
    std::thread::scope(|s| {
        // Bob's call with Y: it waits for Tether's BYE.
        let consult = s.spawn(|| phone(&env, &server, "rd-hangs-up", p2, Y, &[]));
        let t = wait_trace(
            env.path(),
            "rd-hangs-up",
            "bob's call with Y answered",
            WAIT,
            |m| {
                m.iter()
                    .any(|m| m.received && m.status(200) && m.has("CSeq", "INVITE"))
            },
        );
        let (call_id, tether_tag, bob_tag) = dialog(&parse(&t));
        let replaces = format!(
            "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
            support::enc(&call_id),
            support::enc(&tether_tag),
            support::enc(&bob_tag)
        );
        phone(
            &env,
            &server,
            "refer-attended",
            p1,
            X_SLOW,
            &[("transfer_to", Y), ("replaces", &replaces)],
        )
        .assert_clean(1);
        consult
            .join()
            .expect("the consultation's SIPp")
            .assert_clean(1);
    });
    uas.wait(WAIT).assert_clean(2);
    server.wait_settled(WAIT);

    let t = trace(env.path(), "refer-attended");
    let bob = parse(&t);
    assert_eq!(
        notifies(&bob),
        ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"],
        "{t}"
    );
    let bye = bob.iter().find(|m| m.received && m.is("BYE"));
    assert!(
        bye.is_some_and(|b| b.has("Reason", "Q.850;cause=16")),
        "{t}"
    );
    let t = trace(env.path(), "rd-hangs-up");
    let bye = parse(&t).into_iter().find(|m| m.received && m.is("BYE"));
    assert!(
        bye.is_some_and(|b| b.has("Reason", "Q.850;cause=16")),
        "{t}"
    );

    // The PSTN: two INVITEs ever; X hung up and Y got the BYE, nothing else in between.
    let t = trace(env.path(), "uas");
    let pstn = parse(&t);
    assert_advertises(&pstn);
    let invites: Vec<&Msg> = pstn
        .iter()
        .filter(|m| m.received && m.is("INVITE"))
        .collect();
    assert_eq!(invites.len(), 2, "no re-INVITE for the join: {t}");
    assert!(
        invites[0].start().starts_with(&format!("INVITE sip:{Y}@")),
        "{t}"
    );
    assert!(
        invites[1]
            .start()
            .starts_with(&format!("INVITE sip:{X_SLOW}@")),
        "{t}"
    );
    let (y_call, x_call) = (invites[0].call_id(), invites[1].call_id());
    let got: Vec<&str> = pstn
        .iter()
        .filter(|m| m.received && m.call_id() == y_call)
        .map(Msg::start)
        .collect();
    assert_eq!(got.len(), 3, "Y: INVITE, ACK, BYE: {got:#?}");
    let x_bye = pstn
        .iter()
        .position(|m| !m.received && m.is("BYE") && m.call_id() == x_call);
    let y_bye = pstn
        .iter()
        .position(|m| m.received && m.is("BYE") && m.call_id() == y_call);
    assert!(
        x_bye.is_some() && y_bye > x_bye,
        "X hangs up, then Y is hung up: {t}"
    );

    // CTI: bob's two calls (Y's first), Transferred on the REFER's call naming the call X and
    // Y go on talking on, then bob leaves both.
    let ev = cti.drain("SIPbob");
    let k = kinds(&ev);
    let y_id = k.first().map(|(_, c)| *c).unwrap_or_default();
    let x_id = k.get(4).map(|(_, c)| *c).unwrap_or_default();
    assert_ne!(x_id, y_id, "{ev:#?}");
    let setup = ["Originated", "NetworkReached", "Delivered", "Established"];
    let mut want: Vec<(String, u64)> = Vec::new();
    for (call, _) in [(y_id, Y), (x_id, X_SLOW)] {
        want.extend(setup.iter().map(|n| ((*n).to_owned(), call)));
    }
    want.push(("Transferred".to_owned(), x_id));
    want.push(("ConnectionCleared".to_owned(), x_id));
    want.push(("ConnectionCleared".to_owned(), y_id));
    assert_eq!(k, want, "{ev:#?}");
    let tr = &ev[8];
    assert_eq!(tr["transferringDevice"], "2001", "{tr}");
    assert_eq!(tr["transferredDevice"], X_SLOW, "{tr}");
    assert_eq!(tr["transferredToDevice"], Y, "{tr}");
    assert_eq!(tr["resultingCall"].as_u64(), Some(y_id), "{tr}");
    assert!(
        ev[9..]
            .iter()
            .all(|e| e["party"] == "device" && e["q850Cause"] == 16),
        "{ev:#?}"
    );
}

/// INVITE with Replaces from bob's phone (RFC 3891) naming a PSTN caller's dialog with alice's
/// remote destination: only the party itself may have its dialog replaced, so Tether refuses
/// 403 and the call goes on untouched until the RD (an 08xx number) hangs up. (A
/// replacement by the party itself — a trunk peer completing a transfer behind it — is proven
/// by the engine's flow tests.)
#[test]
fn invite_with_replaces_naming_someone_elses_dialog_is_refused() {
    let Some((env, server, uas)) = lab(1) else {
        return;
    };
    let (mut alice, _) = CtiClient::login(&server.base, "alice", "alice");
    // Alice's remote phone: an 08xx number, which answers after 2 s and hangs up 2 s later.
    let r = alice.request(
        "RegisterAddress",
        json!({"dn": "2000", "REMOTE_DEST": "+14085550800"}),
    );
    assert_eq!(r["type"], "RegisterAddressResponse", "{r}");
    alice.events_until("BackInService", WAIT);
    let mut bob_cti = CtiClient::admin_monitor(&server.base, "SIPbob");
    let port = support::free_udp_port();
    register_bob(&server, port);
    let target = server.sip_udp.expect("tether printed its UDP address");
    std::thread::scope(|s| {
        let caller = s.spawn(|| {
            Run {
                scenario: "rd-hangs-up",
                service: "2000",
                target,
                local_ip: "127.0.0.1",
                calls: 1,
                extra: &[],
                limit: SIPP_LIMIT,
            }
            .run(env.path())
        });
        let before = alice.events_until("Established", WAIT);
        assert_eq!(
            CtiClient::types(&before),
            ["Delivered", "Established"],
            "{before:#?}"
        );
        let t = wait_trace(
            env.path(),
            "rd-hangs-up",
            "the caller answered",
            WAIT,
            |m| {
                m.iter()
                    .any(|m| m.received && m.status(200) && m.has("CSeq", "INVITE"))
            },
        );
        let (call_id, tether_tag, caller_tag) = dialog(&parse(&t));
        let replaces = format!("{call_id};to-tag={tether_tag};from-tag={caller_tag}");
        phone(
            &env,
            &server,
            "invite-replaces-not-mine",
            port,
            "2000",
            &[("replaces", &replaces)],
        )
        .assert_clean(1);
        // The caller's call goes on until the RD hangs up, as it would have anyway.
        caller.join().expect("the caller's SIPp").assert_clean(1);
    });
    uas.wait(WAIT).assert_clean(1);
    server.wait_settled(WAIT);
    let t = trace(env.path(), "rd-hangs-up");
    let got: Vec<String> = parse(&t)
        .into_iter()
        .filter(|m| m.received && m.start().contains(" sip:"))
        .map(|m| m.start().split(' ').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(got, ["BYE"], "the caller only hears the RD's hang-up: {t}");
    // Alice's call ends when her RD hangs up; bob's phone saw nothing become of its attempt.
    let ev = alice.drain("CTRIDalice");
    assert_eq!(
        CtiClient::types(&ev),
        ["ConnectionCleared", "ConnectionCleared", "CallCleared"],
        "{ev:#?}"
    );
    assert_eq!(ev[0]["party"], "device", "the RD hung up first: {}", ev[0]);
    let ev = bob_cti.drain("SIPbob");
    assert!(ev.is_empty(), "{ev:#?}");
}

/// DeflectCall over CTI of a call ringing at alice's remote destination: the RD (a `04xx`
/// number that rings until cancelled) gets a CANCEL with Q.850 23, the new destination an
/// INVITE with a Diversion naming alice's DN — never her RD — and answers; the caller, who kept
/// ringing, is connected. Alice sees Diverted and nothing more of the call.
#[test]
fn deflect_call_over_cti_sends_a_ringing_call_elsewhere() {
    let Some((env, server, uas)) = lab(2) else {
        return;
    };
    const RD: &str = "+14085550400";
    let (mut alice, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = alice.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");
    let r = alice.request("RegisterAddress", json!({"dn": "2000", "REMOTE_DEST": RD}));
    assert_eq!(r["type"], "RegisterAddressResponse", "{r}");
    alice.events_until("BackInService", WAIT);
    let target = server.sip_udp.expect("tether printed its UDP address");
    std::thread::scope(|s| {
        let caller = s.spawn(|| {
            Run {
                scenario: "call-answered",
                service: "2000",
                target,
                local_ip: "127.0.0.1",
                calls: 1,
                extra: &[],
                limit: SIPP_LIMIT,
            }
            .run(env.path())
        });
        let ev = alice.events_until("Delivered", WAIT);
        let delivered = ev.last().cloned().unwrap_or_default();
        assert_eq!(delivered["party"], "device", "{delivered}");
        assert_eq!(delivered["callingDevice"], "4085551234", "{delivered}");
        assert_eq!(delivered["calledDevice"], "2000", "{delivered}");
        let call = delivered["connection"]["callId"].clone();
        let r = alice.request(
            "DeflectCall",
            json!({"connection": {"callId": call, "deviceId": "CTRIDalice"}, "newDestination": X}),
        );
        assert_eq!(r["type"], "DeflectCallResponse", "{r}");
        let ev = alice.events_until("Diverted", WAIT);
        assert_eq!(CtiClient::types(&ev), ["Diverted"], "{ev:#?}");
        let div = &ev[0];
        assert_eq!(div["connection"]["callId"], call, "{div}");
        assert_eq!(div["divertingDevice"], "2000", "{div}");
        assert_eq!(div["newDestination"], X, "{div}");
        assert_eq!(div["cause"], "redirected", "{div}");
        caller.join().expect("the caller's SIPp").assert_clean(1);
    });
    uas.wait(WAIT).assert_clean(2);
    server.wait_settled(WAIT);
    let ev = alice.drain("CTRIDalice");
    assert!(ev.is_empty(), "alice left the call at Diverted: {ev:#?}");

    let t = trace(env.path(), "uas");
    let pstn = parse(&t);
    let to_rd = pstn
        .iter()
        .find(|m| m.received && m.start().starts_with(&format!("INVITE sip:{RD}@")))
        .unwrap_or_else(|| panic!("no INVITE to the RD: {t}"));
    let cancel = pstn
        .iter()
        .find(|m| m.received && m.is("CANCEL"))
        .unwrap_or_else(|| panic!("no CANCEL: {t}"));
    assert_eq!(cancel.call_id(), to_rd.call_id(), "{t}");
    assert!(cancel.has("Reason", "Q.850;cause=23"), "{}", cancel.text);
    let rd_call = to_rd.call_id();
    let terminated = pstn
        .iter()
        .position(|m| !m.received && m.status(487) && m.call_id() == rd_call);
    let acked = pstn
        .iter()
        .position(|m| m.received && m.is("ACK") && m.call_id() == rd_call);
    assert!(terminated.is_some() && acked > terminated, "{t}");
    let new = pstn
        .iter()
        .find(|m| m.received && m.start().starts_with(&format!("INVITE sip:{X}@")))
        .unwrap_or_else(|| panic!("no INVITE to the new destination: {t}"));
    let diversion = new.header("Diversion").unwrap_or_default();
    assert!(diversion.starts_with("<sip:2000@"), "{}", new.text);
    assert!(diversion.contains("reason=deflection"), "{}", new.text);
    assert!(new.has("From", "4085551234"), "{}", new.text);
    assert!(
        !new.text.contains("4085550400") && !new.text.contains("4157777777"),
        "no RD number: {}",
        new.text
    );
    // The caller only ever heard success: no failure response, one 200.
    let t = trace(env.path(), "call-answered");
    let caller = parse(&t);
    assert!(
        !caller
            .iter()
            .any(|m| m.received && m.start().starts_with("SIP/2.0 4")),
        "{t}"
    );
    let cdrs = server.wait_cdrs("", 1, WAIT);
    assert_eq!(cdrs[0]["last_redirect_dn"], "2000", "{}", cdrs[0]);
    assert_eq!(cdrs[0]["final_called_party_number"], X, "{}", cdrs[0]);
}

/// A phone may only join its own calls: a REFER whose Replaces names another party's dialog
/// at Tether (a PSTN caller talking to alice's remote destination) is refused 403, and
/// nothing changes — alice's call goes on untouched until she clears it over CTI.
#[test]
fn a_refer_naming_someone_elses_dialog_is_refused() {
    let Some((env, server, uas)) = lab(2) else {
        return;
    };
    let (mut alice, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = alice.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");
    let port = support::free_udp_port();
    register_bob(&server, port);
    let target = server.sip_udp.expect("tether printed its UDP address");
    std::thread::scope(|s| {
        let caller = s.spawn(|| {
            Run {
                scenario: "rd-hangs-up",
                service: "2000",
                target,
                local_ip: "127.0.0.1",
                calls: 1,
                extra: &[],
                limit: SIPP_LIMIT,
            }
            .run(env.path())
        });
        let ev = alice.events_until("Established", WAIT);
        let call = ev.last().map(|e| e["connection"]["callId"].clone());
        let t = wait_trace(
            env.path(),
            "rd-hangs-up",
            "the caller answered",
            WAIT,
            |m| {
                m.iter()
                    .any(|m| m.received && m.status(200) && m.has("CSeq", "INVITE"))
            },
        );
        let (call_id, tether_tag, caller_tag) = dialog(&parse(&t));
        let replaces = format!(
            "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
            support::enc(&call_id),
            support::enc(&tether_tag),
            support::enc(&caller_tag)
        );
        phone(
            &env,
            &server,
            "refer-not-mine",
            port,
            X,
            &[("transfer_to", "2000"), ("replaces", &replaces)],
        )
        .assert_clean(1);
        let ev = alice.drain("CTRIDalice");
        assert!(ev.is_empty(), "alice's call is untouched: {ev:#?}");
        let r = alice.request(
            "ClearConnection",
            json!({"connection": {"callId": call, "deviceId": "CTRIDalice"}}),
        );
        assert_eq!(r["type"], "ClearConnectionResponse", "{r}");
        caller.join().expect("the caller's SIPp").assert_clean(1);
    });
    uas.wait(WAIT).assert_clean(2);
    server.wait_settled(WAIT);

    let t = trace(env.path(), "refer-not-mine");
    let bob = parse(&t);
    assert!(!bob.iter().any(|m| m.received && m.is("NOTIFY")), "{t}");
    // The PSTN: alice's RD and X each got INVITE, ACK and BYE, nothing else.
    let t = trace(env.path(), "uas");
    let pstn = parse(&t);
    let mut got: Vec<&str> = pstn
        .iter()
        .filter(|m| m.received)
        .map(|m| m.start().split(' ').next().unwrap_or_default())
        .collect();
    got.sort_unstable();
    assert_eq!(got, ["ACK", "ACK", "BYE", "BYE", "INVITE", "INVITE"], "{t}");
    let ev = alice.drain("CTRIDalice");
    assert_eq!(
        CtiClient::types(&ev),
        ["ConnectionCleared", "ConnectionCleared", "CallCleared"],
        "{ev:#?}"
    );
    assert_eq!(ev[0]["party"], "device", "alice cleared it: {}", ev[0]);
}
