//! Authentication: passwords (checked by the binary), the admin token, CTI_NOT_ENABLED,
//! failures, the authentication deadline, and the snapshot a reconnecting client receives.

use std::time::Duration;

use serde_json::json;
use tether_b2bua::control::{ConnectionState, DeviceCall};

use super::{World, TOKEN};
use crate::CtiOutput;

#[test]
fn password_login_answers_with_the_users_devices() {
    let mut w = World::new();
    let s = w.connect();
    let r = w.ok(
        s,
        json!({"type": "Authenticate", "user": "bob", "password": "bob-pw"}),
    );
    assert_eq!(r["user"], "bob");
    assert_eq!(r["allDevices"], false);
    assert_eq!(r["heartbeatIntervalMs"], 30_000);
    let names: Vec<&str> = r["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["device"].as_str())
        .collect();
    assert_eq!(names, ["CTRIDbob", "SEPbob"]);
    let phone = &r["devices"][1];
    assert_eq!(phone["kind"], "sip_phone");
    assert_eq!(phone["inService"], serde_json::Value::Null);
}

#[test]
fn the_password_never_appears_in_debug_output() {
    let o = CtiOutput::Authenticate {
        ticket: crate::Ticket(1),
        user: "alice".into(),
        password: "s3cret".into(),
    };
    assert!(!format!("{o:?}").contains("s3cret"));
}

#[test]
fn wrong_password_and_disabled_users_are_refused() {
    let mut w = World::new();
    let s = w.connect();
    w.err(
        s,
        json!({"type": "Authenticate", "user": "alice", "password": "nope"}),
        "AUTHENTICATION_FAILED",
    );
    w.err(
        s,
        json!({"type": "Authenticate", "user": "dave", "password": "dave-pw"}),
        "CTI_NOT_ENABLED",
    );
    // Still anonymous.
    w.err(
        s,
        json!({"type": "MonitorStart", "device": "CTRIDalice"}),
        "NOT_AUTHENTICATED",
    );
    // The third failure closes the session.
    w.err(
        s,
        json!({"type": "Authenticate", "token": "guess-guess-guess"}),
        "AUTHENTICATION_FAILED",
    );
    assert_eq!(w.closed.len(), 1);
    assert_eq!(w.closed[0].0, s);
    assert_eq!(w.cti.session_count(), 0);
}

#[test]
fn a_password_check_under_way_refuses_a_second_one() {
    let mut w = World::new();
    let s = w.connect();
    w.cti.handle_text(
        w.now,
        s,
        r#"{"type":"Authenticate","invokeId":1001,"user":"alice","password":"alice-pw"}"#,
        &mut w.engine,
    );
    let Some(CtiOutput::Authenticate { ticket, .. }) = w.cti.poll_output() else {
        panic!("a password check");
    };
    w.send_text(
        s,
        r#"{"type":"Authenticate","invokeId":1002,"user":"alice","password":"alice-pw"}"#,
    );
    assert_eq!(w.inbox(s)[0]["code"], "REQUEST_IN_PROGRESS");
    let alice = w.snap.user("alice").cloned();
    w.cti.auth_result(w.now, ticket, alice, &w.engine);
    w.run();
    assert_eq!(w.inbox(s)[1]["type"], "AuthenticateResponse");
    assert_eq!(w.inbox(s)[1]["invokeId"], 1001);
    w.err(
        s,
        json!({"type": "Authenticate", "token": TOKEN}),
        "ALREADY_AUTHENTICATED",
    );
}

#[test]
fn the_admin_token_controls_every_device() {
    let mut w = World::new();
    let s = w.connect();
    let r = w.ok(s, json!({"type": "Authenticate", "token": TOKEN}));
    assert_eq!((&r["user"], &r["allDevices"]), (&json!(null), &json!(true)));
    w.monitor(s, "CTRIDalice");
    w.monitor(s, "CTRIDbob");
}

#[test]
fn without_a_configured_token_token_login_fails() {
    let mut w = World::with(
        crate::CtiConfig {
            admin_token: None,
            ..super::config()
        },
        super::provisioning(),
    );
    let s = w.connect();
    let r = w.err(
        s,
        json!({"type": "Authenticate", "token": ""}),
        "INVALID_PARAMETER",
    );
    assert_eq!(r["field"], "token");
    w.err(
        s,
        json!({"type": "Authenticate", "token": TOKEN}),
        "AUTHENTICATION_FAILED",
    );
}

#[test]
fn a_session_that_does_not_authenticate_in_time_is_closed() {
    let mut w = World::new();
    let s = w.connect();
    w.advance(Duration::from_secs(29));
    assert!(w.closed.is_empty());
    w.advance(Duration::from_secs(1));
    assert_eq!(w.closed, vec![(s, "not authenticated in time".to_string())]);
}

/// A client that reconnects authenticates again and finds its devices as they are: in
/// service or not, extended where, who controls them, their lines and their calls.
#[test]
fn reconnecting_clients_get_a_snapshot() {
    let mut w = World::new();
    let monitor = w.login("carol");
    w.monitor(monitor, "CTRIDalice");
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "RegisterAddress", "device": "CTRIDalice", "REMOTE_DEST": "914085551111",
               "REMOTE_NAME": "cell"}),
    );
    w.ok(
        a,
        json!({"type": "SetDoNotDisturb", "dn": "2010", "doNotDisturbOn": true}),
    );
    w.engine.calls.insert(
        "CTRIDalice".into(),
        vec![DeviceCall {
            call: 41,
            dn: "2000".into(),
            state: ConnectionState::Held,
            other: "+14155550100".into(),
            outgoing: false,
        }],
    );
    // carol drops and comes back; alice (the controller) is still there.
    w.cti.disconnect(w.now, monitor);
    let again = w.connect();
    let r = w.ok(
        again,
        json!({"type": "Authenticate", "user": "carol", "password": "carol-pw"}),
    );
    let d = &r["devices"][0];
    assert_eq!(d["device"], "CTRIDalice");
    assert_eq!(d["inService"], true);
    assert_eq!(
        (&d["REMOTE_DEST"], &d["REMOTE_NAME"]),
        (&json!("914085551111"), &json!("cell"))
    );
    assert_eq!(
        (&d["controlled"], &d["controller"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(d["activeRemoteDestination"], "Mobile");
    assert_eq!(d["monitorCrossRefId"], json!(null));
    assert_eq!(d["lines"][1]["dn"], "2010");
    assert_eq!(d["lines"][1]["doNotDisturbOn"], true);
    assert_eq!(d["lines"][0]["doNotDisturbOn"], false);
    assert_eq!(
        d["calls"],
        json!([{"connection": {"callId": 41, "deviceId": "CTRIDalice"}, "callId": 41,
                "dn": "2000", "state": "held", "otherParty": "+14155550100",
                "direction": "incoming"}])
    );
    assert_eq!(d["remoteDestinations"].as_array().map(Vec::len), Some(2));
    // The controller's own snapshot says it is the controller.
    let r = w.ok(a, json!({"type": "SnapshotDevice", "device": "CTRIDalice"}));
    assert_eq!(r["device"]["controller"], true);
}
