//! The envelope: bad JSON, unknown types, bad parameters, size limits, and no panic on any
//! input.

use serde_json::{json, Value};

use super::World;
use crate::CtiConfig;

fn last(w: &World, s: crate::SessionId) -> Value {
    w.inbox(s).last().cloned().expect("a response")
}

#[test]
fn unreadable_json_is_invalid_json_with_null_invoke_id() {
    let mut w = World::new();
    let s = w.login("alice");
    w.send_text(s, "{\"type\": \"MonitorStart\", \"invokeId\": 3,");
    let r = last(&w, s);
    assert_eq!(
        (&r["type"], &r["code"], &r["invokeId"]),
        (&json!("Error"), &json!("INVALID_JSON"), &Value::Null),
        "{r}"
    );
    w.send_text(s, "[1, 2]");
    assert_eq!(last(&w, s)["code"], "INVALID_JSON");
    w.send_text(s, "\"just a string\"");
    assert_eq!(last(&w, s)["code"], "INVALID_JSON");
}

#[test]
fn invoke_id_is_required_and_echoed() {
    let mut w = World::new();
    let s = w.login("alice");
    w.send_text(s, r#"{"type":"MonitorStart","device":"CTRIDalice"}"#);
    let r = last(&w, s);
    assert_eq!(r["code"], "INVALID_PARAMETER");
    assert_eq!(r["field"], "invokeId");
    w.send_text(
        s,
        r#"{"type":"MonitorStart","invokeId":-1,"device":"CTRIDalice"}"#,
    );
    assert_eq!(last(&w, s)["field"], "invokeId");
    // A string invokeId is echoed as it is.
    w.send_text(
        s,
        r#"{"type":"MonitorStart","invokeId":"a-7","device":"CTRIDalice"}"#,
    );
    let r = last(&w, s);
    assert_eq!(
        (&r["type"], &r["invokeId"]),
        (&json!("MonitorStartResponse"), &json!("a-7"))
    );
}

#[test]
fn unknown_type_is_unknown_request() {
    let mut w = World::new();
    let s = w.login("alice");
    let r = w.err(s, json!({"type": "SelfDestruct"}), "UNKNOWN_REQUEST");
    assert_eq!(r["request"], Value::Null);
    let r = w.err(s, json!({"type": 5}), "INVALID_PARAMETER");
    assert_eq!(r["field"], "type");
}

#[test]
fn bad_parameters_name_the_field() {
    let mut w = World::new();
    let s = w.login("alice");
    let cases = [
        (json!({"type": "MonitorStart"}), "device"),
        (json!({"type": "MonitorStart", "device": 7}), "device"),
        (json!({"type": "MonitorStart", "device": ""}), "device"),
        (json!({"type": "MonitorStop"}), "monitorCrossRefId"),
        (
            json!({"type": "MakeCall", "device": "CTRIDalice"}),
            "calledDirectoryNumber",
        ),
        (json!({"type": "HoldCall"}), "connection"),
        (
            json!({"type": "HoldCall", "connection": {"callId": "x", "deviceId": "CTRIDalice"}}),
            "connection",
        ),
        (
            json!({"type": "GenerateDigits", "connection": {"callId": 1, "deviceId": "CTRIDalice"},
                   "charactersToSend": "12", "mode": "loud"}),
            "mode",
        ),
        (
            json!({"type": "SetForwarding", "device": "CTRIDalice", "activateForward": true}),
            "forwardDN",
        ),
        (
            json!({"type": "SetForwarding", "device": "CTRIDalice", "activateForward": "yes"}),
            "activateForward",
        ),
        (
            json!({"type": "SetDoNotDisturb", "device": "CTRIDalice"}),
            "doNotDisturbOn",
        ),
        (
            json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "x"}),
            "number",
        ),
        (
            json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "x",
                   "number": "914085550000", "answerTooSoonMs": -5}),
            "answerTooSoonMs",
        ),
        (
            json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice"}),
            "name",
        ),
        (
            json!({"type": "RegisterAddress", "device": "CTRIDalice"}),
            "REMOTE_DEST",
        ),
        (
            json!({"type": "RegisterAddress", "device": "CTRIDalice", "REMOTE_DEST": "no digits"}),
            "REMOTE_DEST",
        ),
        (
            json!({"type": "MonitorStart", "device": "CTRIDalice", "dn": "2001"}),
            "dn",
        ),
        (
            json!({"type": "MonitorStart", "device": "x".repeat(300)}),
            "device",
        ),
    ];
    for (req, field) in cases {
        let r = w.err(s, req.clone(), "INVALID_PARAMETER");
        assert_eq!(r["field"], field, "{req} → {r}");
        assert_eq!(r["request"], req["type"], "{r}");
    }
}

#[test]
fn oversized_messages_are_refused_unread() {
    let mut w = World::with(
        CtiConfig {
            max_message_bytes: 100,
            ..super::config()
        },
        super::provisioning(),
    );
    let s = w.login("alice");
    let big = format!(
        r#"{{"type":"MonitorStart","invokeId":1,"device":"{}"}}"#,
        "x".repeat(200)
    );
    w.send_text(s, &big);
    let r = last(&w, s);
    assert_eq!(
        (&r["code"], &r["invokeId"]),
        (&json!("MESSAGE_TOO_LARGE"), &Value::Null)
    );
}

#[test]
fn requests_before_authentication_are_refused() {
    let mut w = World::new();
    let s = w.connect();
    let r = w.err(
        s,
        json!({"type": "MonitorStart", "device": "CTRIDalice"}),
        "NOT_AUTHENTICATED",
    );
    assert_eq!(r["request"], "MonitorStart");
    // Protocol errors still come first.
    w.send_text(s, "nonsense");
    assert_eq!(last(&w, s)["code"], "INVALID_JSON");
}

/// Every request type, mutated at random (fields dropped, retyped, replaced by odd values),
/// always gets exactly one answer and never panics the core.
#[test]
fn garbage_never_panics_and_is_always_answered() {
    let mut w = World::new();
    let s = w.login("alice");
    let admin = w.login_admin();
    let base = [
        json!({"type": "MonitorStart", "device": "CTRIDalice"}),
        json!({"type": "MonitorStop", "monitorCrossRefId": 1}),
        json!({"type": "SnapshotDevice", "dn": "2000"}),
        json!({"type": "MakeCall", "device": "CTRIDalice", "calledDirectoryNumber": "2001"}),
        json!({"type": "ClearConnection", "connection": {"callId": 1, "deviceId": "CTRIDalice"}}),
        json!({"type": "GenerateDigits", "connection": {"callId": 1, "deviceId": "2000"}, "charactersToSend": "1#"}),
        json!({"type": "TransferCall", "heldCall": {"callId": 1, "deviceId": "2000"}, "activeCall": {"callId": 2, "deviceId": "2000"}}),
        json!({"type": "SetForwarding", "device": "CTRIDalice", "activateForward": true, "forwardDN": "2001"}),
        json!({"type": "SetDoNotDisturb", "dn": "2010", "doNotDisturbOn": true}),
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "n", "number": "914085559999"}),
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Home", "ringSchedule": null}),
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": null}),
        json!({"type": "RegisterAddress", "dn": "2000", "REMOTE_DEST": "914085551111"}),
        json!({"type": "UnregisterAddress", "dn": "2000"}),
    ];
    let odd = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!("\u{0}\u{7}"),
        json!("日本語"),
        json!([]),
        json!({}),
        json!({"callId": -3}),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..3000 {
        let mut req = base[(next() % base.len() as u64) as usize].clone();
        let keys: Vec<String> = req
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let key = keys[(next() % keys.len() as u64) as usize].clone();
        match next() % 3 {
            0 => {
                if let Some(m) = req.as_object_mut() {
                    m.remove(&key);
                }
            }
            _ => req[&key] = odd[(next() % odd.len() as u64) as usize].clone(),
        }
        let who = if i % 2 == 0 { s } else { admin };
        let before = w
            .inbox(who)
            .iter()
            .filter(|m| m.get("sequence").is_none())
            .count();
        req["invokeId"] = json!(100_000 + i);
        w.send_text(who, &req.to_string());
        let after = w
            .inbox(who)
            .iter()
            .filter(|m| m.get("sequence").is_none())
            .count();
        assert_eq!(after, before + 1, "one answer to {req}");
    }
    // And raw byte soup.
    for n in 0..500u64 {
        let text: String = (0..(n % 40))
            .map(|_| char::from_u32((next() % 128) as u32).unwrap_or('x'))
            .collect();
        w.send_text(s, &text);
    }
    assert!(w.closed.is_empty(), "{:?}", w.closed);
}
