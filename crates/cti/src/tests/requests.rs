//! One test per request outside the RD and T-Server families: monitors, snapshots, call
//! control (engine requests and their errors), call forward all and do not disturb.

use serde_json::json;
use tether_b2bua::{Control, ControlError, ControlOk};

use super::World;

fn conn(call: u64, device: &str) -> serde_json::Value {
    json!({"callId": call, "deviceId": device})
}

#[test]
fn monitor_start_and_stop() {
    let mut w = World::new();
    let a = w.login("alice");
    let r = w.ok(a, json!({"type": "MonitorStart", "dn": "2010"}));
    let xref = r["monitorCrossRefId"].as_u64().expect("xref");
    assert_eq!(r["device"]["device"], "CTRIDalice");
    assert_eq!(r["device"]["monitorCrossRefId"], xref);
    assert_eq!(r["device"]["inService"], false);
    assert_eq!(
        r["device"]["outOfServiceReason"],
        "not extended: no active remote destination"
    );
    // A second MonitorStart of the same device is the same monitor.
    let again = w.ok(a, json!({"type": "MonitorStart", "device": "CTRIDalice"}));
    assert_eq!(again["monitorCrossRefId"], xref);
    w.ok(a, json!({"type": "MonitorStop", "monitorCrossRefId": xref}));
    w.err(
        a,
        json!({"type": "MonitorStop", "monitorCrossRefId": xref}),
        "INVALID_MONITOR",
    );
    // Another session's monitor is not ours to stop.
    let c = w.login("carol");
    let theirs = w.monitor(c, "CTRIDalice");
    w.err(
        a,
        json!({"type": "MonitorStop", "monitorCrossRefId": theirs}),
        "INVALID_MONITOR",
    );
}

#[test]
fn monitors_are_bounded_per_session_and_per_device() {
    let mut w = World::with(
        crate::CtiConfig {
            max_monitors_per_session: 1,
            max_clients_per_device: 2,
            ..super::config()
        },
        super::provisioning(),
    );
    let a = w.login("alice");
    w.monitor(a, "CTRIDalice");
    let admin = w.login_admin();
    w.monitor(admin, "CTRIDbob");
    w.err(
        admin,
        json!({"type": "MonitorStart", "device": "CTRIDalice"}),
        "MONITOR_LIMIT_EXCEEDED",
    );
    let c = w.login("carol");
    w.monitor(c, "CTRIDalice");
    let admin2 = w.login_admin();
    w.err(
        admin2,
        json!({"type": "MonitorStart", "device": "CTRIDalice"}),
        "CLIENT_LIMIT_EXCEEDED",
    );
    // Five applications per device by default (SPEC §7).
    assert_eq!(crate::CtiConfig::default().max_clients_per_device, 5);
}

#[test]
fn snapshot_device() {
    let mut w = World::new();
    let b = w.login("bob");
    let r = w.ok(b, json!({"type": "SnapshotDevice", "dn": "2002"}));
    let d = &r["device"];
    assert_eq!(
        (&d["device"], &d["kind"]),
        (&json!("SEPbob"), &json!("sip_phone"))
    );
    assert_eq!(d["lines"][0]["dn"], "2002");
    assert_eq!(d["calls"], json!([]));
}

#[test]
fn make_call() {
    let mut w = World::new();
    let a = w.login("alice");
    w.engine.answers.push(Ok(ControlOk::Call(77)));
    let r = w.ok(
        a,
        json!({"type": "MakeCall", "dn": "2000", "calledDirectoryNumber": "914155550100"}),
    );
    assert_eq!(r["callId"], 77);
    assert_eq!(r["connection"], conn(77, "CTRIDalice"));
    assert_eq!(
        w.engine.requests,
        vec![Control::MakeCall {
            device: "CTRIDalice".into(),
            to: "914155550100".into()
        }]
    );
    w.engine.answers.push(Err(ControlError::ActiveRdNotSet));
    w.err(
        a,
        json!({"type": "MakeCall", "device": "CTRIDalice", "calledDirectoryNumber": "2001"}),
        "ACTIVE_RD_NOT_SET",
    );
}

#[test]
fn clear_connection() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "ClearConnection", "connection": conn(5, "2000")}),
    );
    assert_eq!(
        w.engine.requests,
        vec![Control::ClearConnection {
            call: 5,
            device: "CTRIDalice".into()
        }]
    );
    w.engine.answers.push(Err(ControlError::InvalidCallId));
    w.err(
        a,
        json!({"type": "ClearConnection", "connection": conn(6, "CTRIDalice")}),
        "INVALID_CALL_ID",
    );
}

#[test]
fn hold_call() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "HoldCall", "connection": conn(5, "CTRIDalice")}),
    );
    assert_eq!(
        w.engine.requests,
        vec![Control::Hold {
            call: 5,
            device: "CTRIDalice".into()
        }]
    );
    w.engine.answers.push(Err(ControlError::MediaNotAnchored));
    w.err(
        a,
        json!({"type": "HoldCall", "connection": conn(5, "CTRIDalice")}),
        "MEDIA_NOT_ANCHORED",
    );
}

#[test]
fn retrieve_call() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "RetrieveCall", "connection": conn(5, "CTRIDalice")}),
    );
    assert_eq!(
        w.engine.requests,
        vec![Control::Retrieve {
            call: 5,
            device: "CTRIDalice".into()
        }]
    );
    w.engine.answers.push(Err(ControlError::InvalidCallState));
    let r = w.err(
        a,
        json!({"type": "RetrieveCall", "connection": conn(5, "CTRIDalice")}),
        "INVALID_CALL_STATE",
    );
    assert_eq!(r["message"], "not possible in the call's present state");
}

#[test]
fn deflect_call() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "DeflectCall", "connection": conn(5, "CTRIDalice"), "newDestination": "2001"}),
    );
    assert_eq!(
        w.engine.requests,
        vec![Control::Deflect {
            call: 5,
            device: "CTRIDalice".into(),
            to: "2001".into()
        }]
    );
    w.engine
        .answers
        .push(Err(ControlError::InvalidDestination("no route".into())));
    w.err(
        a,
        json!({"type": "DeflectCall", "connection": conn(5, "CTRIDalice"), "newDestination": "0"}),
        "INVALID_DESTINATION",
    );
}

#[test]
fn generate_digits() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "GenerateDigits", "connection": conn(5, "CTRIDalice"), "charactersToSend": "12#"}),
    );
    w.ok(
        a,
        json!({"type": "GenerateDigits", "connection": conn(5, "CTRIDalice"), "charactersToSend": "9",
               "mode": "inBand"}),
    );
    assert_eq!(
        w.engine.requests,
        vec![
            Control::GenerateDigits {
                call: 5,
                device: "CTRIDalice".into(),
                digits: "12#".into(),
                inband: false
            },
            Control::GenerateDigits {
                call: 5,
                device: "CTRIDalice".into(),
                digits: "9".into(),
                inband: true
            }
        ]
    );
    w.engine.answers.push(Err(ControlError::InvalidDigits));
    w.err(
        a,
        json!({"type": "GenerateDigits", "connection": conn(5, "CTRIDalice"), "charactersToSend": "x"}),
        "INVALID_DIGITS",
    );
}

/// AnswerCall reaches the engine as the device's request on its connection (named by DN or
/// device), and the engine's refusal comes back with its code and message.
#[test]
fn answer_call_reaches_the_engine() {
    let mut w = World::new();
    let a = w.login("alice");
    let r = w.ok(
        a,
        json!({"type": "AnswerCall", "connection": conn(5, "2000")}),
    );
    assert_eq!(r["type"], "AnswerCallResponse", "{r}");
    w.engine.answers.push(Err(ControlError::AnswerNotSupported));
    let r = w.err(
        a,
        json!({"type": "AnswerCall", "connection": conn(5, "CTRIDalice")}),
        "ANSWER_NOT_SUPPORTED",
    );
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("answered by hand")),
        "{r}"
    );
    w.engine.answers.push(Err(ControlError::InvalidCallState));
    w.err(
        a,
        json!({"type": "AnswerCall", "connection": conn(6, "CTRIDalice")}),
        "INVALID_CALL_STATE",
    );
    assert_eq!(
        w.engine.requests,
        [5, 5, 6].map(|call| Control::AnswerCall {
            call,
            device: "CTRIDalice".into()
        })
    );
    // Another user's device is refused before the engine hears of it.
    w.err(
        a,
        json!({"type": "AnswerCall", "connection": conn(5, "CTRIDbob")}),
        "PRIVILEGE_VIOLATION",
    );
    assert_eq!(w.engine.requests.len(), 3);
}

#[test]
fn consultation_transfer_conference_and_drop_party_reach_the_engine() {
    let mut w = World::new();
    let a = w.login("alice");
    w.engine.answers.push(Ok(ControlOk::Call(6)));
    let r = w.ok(
        a,
        json!({"type": "ConsultationCall", "connection": conn(5, "2000"), "consultedDevice": "2001"}),
    );
    assert_eq!(r["callId"], 6, "{r}");
    w.ok(
        a,
        json!({"type": "TransferCall", "heldCall": conn(5, "CTRIDalice"), "activeCall": conn(6, "CTRIDalice")}),
    );
    w.ok(
        a,
        json!({"type": "ConferenceCall", "heldCall": conn(5, "CTRIDalice"), "activeCall": conn(6, "CTRIDalice")}),
    );
    // ClearConnection of another party's connection, on behalf of the device: drops it.
    w.ok(
        a,
        json!({"type": "ClearConnection", "connection": conn(6, "+14155550123"), "device": "CTRIDalice"}),
    );
    assert_eq!(
        w.engine.requests,
        [
            Control::ConsultationCall {
                call: 5,
                device: "CTRIDalice".into(),
                to: "2001".into()
            },
            Control::TransferCall {
                held_call: 5,
                active_call: 6,
                device: "CTRIDalice".into()
            },
            Control::ConferenceCall {
                held_call: 5,
                active_call: 6,
                device: "CTRIDalice".into()
            },
            Control::DropParty {
                call: 6,
                device: "CTRIDalice".into(),
                party: "+14155550123".into()
            },
        ]
    );
    // On behalf of someone else's device: refused before the engine sees it.
    w.err(
        a,
        json!({"type": "ClearConnection", "connection": conn(6, "+14155550123"), "device": "CTRIDbob"}),
        "PRIVILEGE_VIOLATION",
    );
    assert_eq!(w.engine.requests.len(), 4);
}

#[test]
fn set_and_get_forwarding() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "SetForwarding", "dn": "2000", "activateForward": true, "forwardDN": "914085550199",
               "forwardingType": "forwardImmediate"}),
    );
    assert_eq!(
        w.line("2000").call_forward_all.as_deref(),
        Some("914085550199")
    );
    assert_eq!(w.line("2010").call_forward_all, None, "only the line named");
    // Line changes are authorized here and written as the administrator path.
    assert_eq!(
        w.writes.last().map(|(o, _)| o.clone()),
        Some(tether_store::Origin::Admin)
    );
    let r = w.ok(a, json!({"type": "GetForwarding", "device": "CTRIDalice"}));
    assert_eq!(
        r["lines"][0]["forwarding"],
        json!([{"forwardingType": "forwardImmediate", "forwardStatus": true, "forwardDN": "914085550199"}])
    );
    assert_eq!(r["lines"][1]["forwarding"][0]["forwardStatus"], false);
    // Without a DN: every line of the device.
    w.ok(
        a,
        json!({"type": "SetForwarding", "device": "CTRIDalice", "activateForward": false}),
    );
    assert_eq!(w.line("2000").call_forward_all, None);
    let r = w.ok(a, json!({"type": "GetForwarding", "dn": "2000"}));
    assert_eq!(r["lines"].as_array().map(Vec::len), Some(1));
    w.err(
        a,
        json!({"type": "SetForwarding", "device": "CTRIDalice", "activateForward": true, "forwardDN": "2001",
               "forwardingType": "forwardBusy"}),
        "INVALID_PARAMETER",
    );
}

#[test]
fn set_and_get_do_not_disturb() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "SetDoNotDisturb", "device": "CTRIDalice", "doNotDisturbOn": true}),
    );
    assert!(w.line("2000").dnd && w.line("2010").dnd);
    let r = w.ok(a, json!({"type": "GetDoNotDisturb", "dn": "2010"}));
    assert_eq!(
        r["lines"],
        json!([{"dn": "2010", "partition": "Internal", "doNotDisturbOn": true}])
    );
    let writes = w.writes.len();
    // Setting what is already set writes nothing and still answers.
    w.ok(
        a,
        json!({"type": "SetDoNotDisturb", "dn": "2000", "doNotDisturbOn": true}),
    );
    assert_eq!(w.writes.len(), writes);
    w.ok(
        a,
        json!({"type": "SetDoNotDisturb", "dn": "2000", "doNotDisturbOn": false}),
    );
    assert!(!w.line("2000").dnd && w.line("2010").dnd);
}
