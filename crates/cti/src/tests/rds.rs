//! The remote-destination requests: added RDs are verified for users (not for the admin
//! token), every SPEC §1 limit comes back with the store's code, and the active RD is guarded
//! by the T-Server controller.

use serde_json::json;
use tether_store::Origin;

use super::World;

#[test]
fn add_remote_destination_is_verified_for_users() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Desk",
               "number": "914085553333", "answerTooSoonMs": 1000, "ringSchedule": "weekdays"}),
    );
    let desk = w.rd("CTRIDalice", "Desk").expect("added");
    assert_eq!(
        (
            desk.answer_too_soon_ms,
            desk.answer_too_late_ms,
            desk.active
        ),
        (1000, 19000, false)
    );
    assert_eq!(desk.ring_schedule.as_deref(), Some("weekdays"));
    assert_eq!(
        w.writes.last().map(|(o, _)| o.clone()),
        Some(Origin::EndUser("alice".into()))
    );
    // No route through the reroute CSS (only 9.! exists): refused.
    let r = w.err(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Bad", "number": "4085550000"}),
        "RD_NOT_REACHABLE",
    );
    assert_eq!(r["request"], "AddRemoteDestination");
    assert!(w.rd("CTRIDalice", "Bad").is_none());
    // The administrator's token is not verified (SPEC §1).
    let admin = w.login_admin();
    w.ok(
        admin,
        json!({"type": "AddRemoteDestination", "device": "CTRIDbob", "name": "Odd", "number": "4085550000"}),
    );
    assert_eq!(w.writes.last().map(|(o, _)| o.clone()), Some(Origin::Admin));
}

#[test]
fn the_limits_of_spec_1_come_back_with_their_codes() {
    let mut w = World::new();
    let a = w.login("alice");
    // Same number in another dialing form as bob's... first give bob one.
    let b = w.login("bob");
    w.ok(
        b,
        json!({"type": "AddRemoteDestination", "device": "CTRIDbob", "name": "Cell", "number": "914085557777"}),
    );
    w.err(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Twin", "number": "+1 408 555 7777"}),
        "DUPLICATE_REMOTE_DESTINATION",
    );
    w.err(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Mine", "number": "2001"}),
        "RD_IS_DIRECTORY_NUMBER",
    );
    w.err(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Home", "number": "914085554444"}),
        "ALREADY_EXISTS",
    );
    for (i, name) in ["Three", "Four"].iter().enumerate() {
        w.ok(
            a,
            json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": name,
                   "number": format!("91408555800{i}")}),
        );
    }
    w.err(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Five", "number": "914085558009"}),
        "REMOTE_DESTINATION_LIMIT_EXCEEDED",
    );
}

#[test]
fn update_remote_destination() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Home",
               "number": "914085552223", "delayBeforeRingingMs": 2500}),
    );
    let home = w.rd("CTRIDalice", "Home").expect("home");
    assert_eq!(
        (home.number.as_str(), home.delay_before_ringing_ms),
        ("914085552223", 2500)
    );
    w.err(
        a,
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Home", "number": "4085550000"}),
        "RD_NOT_REACHABLE",
    );
    w.err(
        a,
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Nope", "number": "914085550000"}),
        "NOT_FOUND",
    );
}

#[test]
fn remove_remote_destination() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "RemoveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
    );
    assert!(w.rd("CTRIDalice", "Home").is_none());
    w.err(
        a,
        json!({"type": "RemoveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
        "NOT_FOUND",
    );
}

#[test]
fn set_active_remote_destination() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
    );
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Home"));
    w.ok(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Mobile"}),
    );
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Mobile"));
    let active: Vec<_> = w
        .snap
        .remote_destinations_of("CTRIDalice")
        .filter(|r| r.active)
        .collect();
    assert_eq!(active.len(), 1, "one write made Mobile the only active RD");
    w.ok(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": null}),
    );
    assert_eq!(w.active_rd("CTRIDalice"), None);
    w.err(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Nope"}),
        "NOT_FOUND",
    );
}

#[test]
fn get_remote_destinations() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
    );
    let r = w.ok(a, json!({"type": "GetRemoteDestinations", "dn": "2000"}));
    assert_eq!(r["activeRemoteDestination"], "Home");
    assert_eq!(
        r["remoteDestinations"][0],
        json!({"name": "Home", "number": "914085552222", "active": true, "ringSchedule": null,
               "answerTooSoonMs": 1500, "answerTooLateMs": 19000, "delayBeforeRingingMs": 4000})
    );
    assert_eq!(r["remoteDestinations"][1]["name"], "Mobile");
}

/// While a client controls the device (registered last), others may not change or clear its
/// active RD by these requests: they register to take over.
#[test]
fn the_active_rd_belongs_to_the_controller() {
    let mut w = World::new();
    let a = w.login("alice");
    w.ok(
        a,
        json!({"type": "RegisterAddress", "device": "CTRIDalice", "REMOTE_DEST": "914085551111"}),
    );
    let c = w.login("carol");
    for req in [
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": null}),
        json!({"type": "RemoveRemoteDestination", "device": "CTRIDalice", "name": "Mobile"}),
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Mobile", "number": "914085551112"}),
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "X", "number": "914085551113", "active": true}),
    ] {
        w.err(c, req, "NOT_CONTROLLER");
    }
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Mobile"));
    // What does not touch the active RD is fine.
    w.ok(
        c,
        json!({"type": "UpdateRemoteDestination", "device": "CTRIDalice", "name": "Home", "answerTooLateMs": 15000}),
    );
    // The controller itself may.
    w.ok(
        a,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
    );
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Home"));
    assert_eq!(
        w.cti.controller("CTRIDalice"),
        None,
        "it gave up the RD it registered"
    );
}

#[test]
fn waiting_writes_are_bounded_per_session() {
    let mut w = World::with(
        crate::CtiConfig {
            max_pending_per_session: 2,
            ..super::config()
        },
        super::provisioning(),
    );
    let a = w.login("alice");
    w.hold_writes = true;
    for on in [true, false] {
        w.send_text(
            a,
            &json!({"type": "SetDoNotDisturb", "invokeId": 90 + u64::from(on), "dn": "2000", "doNotDisturbOn": on})
                .to_string(),
        );
    }
    w.err(
        a,
        json!({"type": "SetDoNotDisturb", "dn": "2010", "doNotDisturbOn": true}),
        "TOO_MANY_REQUESTS",
    );
    w.release_writes();
    let answers: Vec<_> = w
        .inbox(a)
        .iter()
        .filter(|m| m["type"] == "SetDoNotDisturbResponse")
        .map(|m| m["invokeId"].clone())
        .collect();
    assert_eq!(
        answers,
        [json!(91), json!(90)],
        "answered in the order asked"
    );
    assert!(!w.line("2000").dnd, "the last one asked wins");
}
