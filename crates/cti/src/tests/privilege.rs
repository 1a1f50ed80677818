//! Who may touch what: own devices, associated devices, the admin token; PRIVILEGE_VIOLATION
//! and INVALID_DEVICE; rights revoked while connected.

use serde_json::json;
use tether_store::model::Object;
use tether_store::{Change, Key, Kind};

use super::World;

#[test]
fn a_user_controls_only_own_and_associated_devices() {
    let mut w = World::new();
    let a = w.login("alice");
    w.monitor(a, "CTRIDalice");
    let not_mine = [
        json!({"type": "MonitorStart", "device": "CTRIDbob"}),
        json!({"type": "MonitorStart", "dn": "2001"}),
        json!({"type": "SnapshotDevice", "device": "SEPbob"}),
        json!({"type": "MakeCall", "device": "CTRIDbob", "calledDirectoryNumber": "2000"}),
        json!({"type": "HoldCall", "connection": {"callId": 9, "deviceId": "2001"}}),
        json!({"type": "TransferCall", "heldCall": {"callId": 9, "deviceId": "CTRIDbob"},
               "activeCall": {"callId": 8, "deviceId": "CTRIDalice"}}),
        json!({"type": "SetDoNotDisturb", "device": "CTRIDbob", "doNotDisturbOn": true}),
        json!({"type": "GetForwarding", "device": "CTRIDbob"}),
        json!({"type": "AddRemoteDestination", "device": "CTRIDbob", "name": "x", "number": "914085550001"}),
        json!({"type": "RegisterAddress", "device": "CTRIDbob", "REMOTE_DEST": "914085550001"}),
        json!({"type": "UnregisterAddress", "device": "CTRIDbob"}),
    ];
    for req in not_mine {
        w.err(a, req, "PRIVILEGE_VIOLATION");
    }
    assert!(w.engine.requests.is_empty(), "nothing reached the engine");
    assert!(w.writes.is_empty(), "nothing was written");

    // carol is associated with CTRIDalice: she may monitor it and manage its RDs.
    let c = w.login("carol");
    w.monitor(c, "CTRIDalice");
    w.ok(
        c,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Desk",
               "number": "914085553333"}),
    );
    assert!(w.rd("CTRIDalice", "Desk").is_some());
    w.err(
        c,
        json!({"type": "MonitorStart", "device": "CTRIDbob"}),
        "PRIVILEGE_VIOLATION",
    );
}

#[test]
fn unknown_devices_are_invalid_device() {
    let mut w = World::new();
    let a = w.login("alice");
    w.err(
        a,
        json!({"type": "MonitorStart", "device": "CTRIDnobody"}),
        "INVALID_DEVICE",
    );
    w.err(
        a,
        json!({"type": "MonitorStart", "dn": "9999"}),
        "INVALID_DEVICE",
    );
    w.err(
        a,
        json!({"type": "ClearConnection", "connection": {"callId": 1, "deviceId": "nobody"}}),
        "INVALID_DEVICE",
    );
    let admin = w.login_admin();
    w.err(
        admin,
        json!({"type": "SnapshotDevice", "device": "CTRIDnobody"}),
        "INVALID_DEVICE",
    );
    // RD requests need a CTI remote device.
    w.err(
        admin,
        json!({"type": "GetRemoteDestinations", "device": "SEPbob"}),
        "INVALID_DEVICE",
    );
}

#[test]
fn losing_cti_enabled_closes_the_session() {
    let mut w = World::new();
    let a = w.login("alice");
    w.monitor(a, "CTRIDalice");
    let Some(mut alice) = w.snap.user("alice").cloned() else {
        panic!("alice");
    };
    alice.cti_enabled = false;
    w.admin_write(vec![Change::Update(Object::User(alice))]);
    assert_eq!(w.closed.len(), 1);
    assert_eq!(w.closed[0].0, a);
    assert_eq!(w.cti.session_count(), 0);
}

#[test]
fn losing_an_association_ends_the_monitor() {
    let mut w = World::new();
    let c = w.login("carol");
    let xref = w.monitor(c, "CTRIDalice");
    let Some(mut carol) = w.snap.user("carol").cloned() else {
        panic!("carol");
    };
    carol.associated_devices.clear();
    w.admin_write(vec![Change::Update(Object::User(carol))]);
    let ended = w.events(c, "MonitorEnded");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["monitorCrossRefId"], xref);
    assert_eq!(ended[0]["cause"], "PRIVILEGE_VIOLATION");
    w.err(
        c,
        json!({"type": "MonitorStop", "monitorCrossRefId": xref}),
        "INVALID_MONITOR",
    );
    // A device that is deleted ends its monitors too (after OutOfService, if it was in service).
    let admin = w.login_admin();
    let x = w.monitor(admin, "SEPbob");
    w.admin_write(vec![
        Change::Delete(Kind::Line, Key::Two("Internal".into(), "2002".into())),
        Change::Delete(Kind::Device, Key::One("SEPbob".into())),
    ]);
    let ended = w.events(admin, "MonitorEnded");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (&ended[0]["monitorCrossRefId"], &ended[0]["cause"]),
        (&json!(x), &json!("INVALID_DEVICE"))
    );
}
