//! The T-Server extend-and-connect contract (seed 001), exactly: Registered at once, then
//! BackInService with REMOTE_DEST/REMOTE_NAME or HardwareError; the last client to register
//! decides; only it deactivates, by UnregisterAddress or by leaving, and then every client
//! sees OutOfService.

use std::time::Duration;

use serde_json::json;

use super::World;

fn register(
    w: &mut World,
    s: crate::SessionId,
    dest: &str,
    name: Option<&str>,
) -> serde_json::Value {
    let mut req = json!({"type": "RegisterAddress", "dn": "2000", "REMOTE_DEST": dest});
    if let Some(n) = name {
        req["REMOTE_NAME"] = json!(n);
    }
    w.ok(s, req)
}

#[test]
fn register_answers_registered_at_once_then_back_in_service() {
    let mut w = World::new();
    let a = w.login("alice");
    w.clear(a);
    w.hold_writes = true;
    let r = register(&mut w, a, "+1 408 555 1111", None);
    assert_eq!(
        r["REMOTE_NAME"], "+1 408 555 1111",
        "REMOTE_NAME defaults to REMOTE_DEST"
    );
    let xref = r["monitorCrossRefId"].clone();
    // Registered goes out before anything is written.
    assert_eq!(w.event_types(a), ["Registered"]);
    let reg = &w.events(a, "Registered")[0];
    assert_eq!(
        (
            &reg["REMOTE_DEST"],
            &reg["monitorCrossRefId"],
            &reg["device"]
        ),
        (&json!("+1 408 555 1111"), &xref, &json!("CTRIDalice"))
    );
    w.release_writes();
    assert_eq!(
        w.event_types(a),
        ["Registered", "RemoteDestinationChanged", "BackInService"]
    );
    let back = &w.events(a, "BackInService")[0];
    assert_eq!(
        (
            &back["REMOTE_DEST"],
            &back["REMOTE_NAME"],
            &back["controller"]
        ),
        (
            &json!("+1 408 555 1111"),
            &json!("+1 408 555 1111"),
            &json!(true)
        )
    );
    // The equivalent existing RD was reused, not duplicated.
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Mobile"));
    assert_eq!(w.snap.remote_destinations_of("CTRIDalice").count(), 2);
    assert_eq!(w.cti.controller("CTRIDalice"), Some(a));
}

#[test]
fn register_creates_or_renumbers_the_named_rd() {
    let mut w = World::new();
    let a = w.login("alice");
    register(&mut w, a, "914085556666", Some("JabberRD"));
    let j = w.rd("CTRIDalice", "JabberRD").expect("created");
    assert!(j.active);
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("JabberRD"));
    // The same name with another number renumbers it (as Jabber does with its one RD).
    register(&mut w, a, "914085556667", Some("JabberRD"));
    assert_eq!(
        w.rd("CTRIDalice", "JabberRD").map(|r| r.number),
        Some("914085556667".to_string())
    );
    assert_eq!(w.snap.remote_destinations_of("CTRIDalice").count(), 3);
}

#[test]
fn an_unreachable_destination_is_a_hardware_error() {
    let mut w = World::new();
    let a = w.login("alice");
    w.clear(a);
    register(&mut w, a, "4085550000", Some("Desk"));
    assert_eq!(w.event_types(a), ["Registered", "HardwareError"]);
    let e = &w.events(a, "HardwareError")[0];
    assert_eq!(e["code"], "RD_NOT_REACHABLE");
    assert!(
        e["reason"]
            .as_str()
            .is_some_and(|r| r.contains("4085550000")),
        "{e}"
    );
    assert_eq!(w.cti.controller("CTRIDalice"), None);
    // With the admin token the RD is written unverified, but the device is not up: the
    // client still hears why it is not in service.
    let admin = w.login_admin();
    w.clear(admin);
    register(&mut w, admin, "4085550000", Some("Desk"));
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Desk"));
    let e = &w.events(admin, "HardwareError")[0];
    assert_eq!(e["code"], "RD_NOT_REACHABLE");
    assert!(w.events(admin, "BackInService").is_empty());
    // And a store refusal (the limit) is one too.
    let mut w = World::new();
    let a = w.login("alice");
    for n in 0..2 {
        register(
            &mut w,
            a,
            &format!("91408555900{n}"),
            Some(&format!("R{n}")),
        );
    }
    w.clear(a);
    register(&mut w, a, "914085559009", Some("R9"));
    assert_eq!(
        w.events(a, "HardwareError")[0]["code"],
        "REMOTE_DESTINATION_LIMIT_EXCEEDED"
    );
}

/// Two clients: the last to register decides the RD and becomes the controller; the first
/// learns it lost control from BackInService's REMOTE_DEST/REMOTE_NAME.
#[test]
fn the_last_client_to_register_wins() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    register(&mut w, a, "914085551111", Some("alice-cell"));
    w.clear(a);
    w.clear(c);
    register(&mut w, c, "914085552222", Some("carol-home"));
    assert_eq!(w.cti.controller("CTRIDalice"), Some(c));
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Home"));
    for s in [a, c] {
        let back = w.events(s, "BackInService");
        assert_eq!(back.len(), 1, "{:?}", w.inbox(s));
        assert_eq!(
            (&back[0]["REMOTE_DEST"], &back[0]["REMOTE_NAME"]),
            (&json!("914085552222"), &json!("carol-home"))
        );
        assert_eq!(back[0]["controller"], s == c);
    }
    // Only the controller deactivates: alice's UnregisterAddress is refused.
    w.err(
        a,
        json!({"type": "UnregisterAddress", "dn": "2000"}),
        "NOT_CONTROLLER",
    );
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Home"));
    // Registering the same RD again (same number) also makes the newcomer the controller.
    w.clear(a);
    register(&mut w, a, "+14085552222", Some("alice-again"));
    assert_eq!(w.cti.controller("CTRIDalice"), Some(a));
    assert_eq!(
        w.events(c, "BackInService")
            .last()
            .map(|e| e["REMOTE_NAME"].clone()),
        Some(json!("alice-again"))
    );
}

#[test]
fn the_controller_unregisters() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(c, "CTRIDalice");
    register(&mut w, a, "914085551111", None);
    w.clear(a);
    w.clear(c);
    w.ok(
        a,
        json!({"type": "UnregisterAddress", "device": "CTRIDalice"}),
    );
    assert_eq!(
        w.event_types(a),
        ["Unregistered", "RemoteDestinationChanged", "OutOfService"]
    );
    assert_eq!(
        w.event_types(c),
        ["RemoteDestinationChanged", "OutOfService"]
    );
    assert_eq!(w.active_rd("CTRIDalice"), None);
    assert_eq!(w.cti.controller("CTRIDalice"), None);
    // Not the controller any more.
    w.err(
        a,
        json!({"type": "UnregisterAddress", "device": "CTRIDalice"}),
        "NOT_CONTROLLER",
    );
}

/// The controller leaving deactivates: every remaining client gets OutOfService. A client
/// that is not the controller leaving changes nothing.
#[test]
fn the_controller_disconnecting_deactivates() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    let admin = w.login_admin();
    w.monitor(c, "CTRIDalice");
    w.monitor(admin, "CTRIDalice");
    register(&mut w, c, "914085552222", None);
    register(&mut w, a, "914085551111", None);
    // carol is not the controller: her leaving changes nothing.
    w.clear(admin);
    w.cti.disconnect(w.now, c);
    w.run();
    assert!(w.event_types(admin).is_empty());
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Mobile"));
    // alice is: her leaving deactivates.
    w.cti.disconnect(w.now, a);
    w.run();
    assert_eq!(w.active_rd("CTRIDalice"), None);
    let out = w.events(admin, "OutOfService");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["device"], "CTRIDalice");
    assert!(
        w.events(admin, "Unregistered").is_empty(),
        "Unregistered goes to the controller"
    );
}

#[test]
fn a_dead_controller_is_found_by_the_heartbeat_and_deactivated() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(c, "CTRIDalice");
    register(&mut w, a, "914085551111", None);
    w.clear(c);
    // carol answers every ping; alice has gone silent.
    for _ in 0..4 {
        w.advance(Duration::from_secs(30));
        w.cti.activity(w.now, c);
    }
    assert!(w.pings.contains(&a), "alice was pinged");
    assert_eq!(w.closed.len(), 1);
    assert_eq!(w.closed[0].0, a);
    assert!(
        w.closed[0].1.starts_with("heartbeat timeout"),
        "{:?}",
        w.closed
    );
    assert_eq!(w.active_rd("CTRIDalice"), None);
    assert_eq!(w.events(c, "OutOfService").len(), 1);
    assert_eq!(w.cti.session_count(), 1, "carol is left");
}

#[test]
fn heartbeat_pings_idle_sessions_only() {
    let mut w = World::new();
    let a = w.login("alice");
    w.advance(Duration::from_secs(29));
    w.cti.activity(w.now, a);
    w.advance(Duration::from_secs(29));
    assert!(w.pings.is_empty());
    w.advance(Duration::from_secs(1));
    assert_eq!(w.pings, vec![a]);
    w.advance(Duration::from_secs(59));
    assert_eq!(w.pings, vec![a], "one ping per silence");
    assert!(w.closed.is_empty());
    w.advance(Duration::from_secs(1));
    assert_eq!(w.closed.len(), 1);
}

/// A controller that leaves while its registration is being written still deactivates once
/// the write lands (it was the last to register, and it is gone).
#[test]
fn leaving_while_registering_deactivates_after_the_write() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(c, "CTRIDalice");
    w.hold_writes = true;
    register(&mut w, a, "914085551111", None);
    w.cti.disconnect(w.now, a);
    w.run();
    w.release_writes();
    assert_eq!(w.active_rd("CTRIDalice"), None);
    assert_eq!(w.cti.controller("CTRIDalice"), None);
    assert_eq!(w.events(c, "BackInService").len(), 1);
    assert_eq!(w.events(c, "OutOfService").len(), 1);
}

/// Registrations are applied in the order clients made them, even with writes in flight:
/// the old controller's deactivation never undoes a later registration.
#[test]
fn a_deactivation_never_undoes_a_later_registration() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    register(&mut w, a, "914085551111", None);
    w.hold_writes = true;
    w.cti.disconnect(w.now, a); // deactivation queued (and written first)
    w.run();
    register(&mut w, c, "914085551111", Some("carol"));
    w.release_writes();
    assert_eq!(w.active_rd("CTRIDalice").as_deref(), Some("Mobile"));
    assert_eq!(w.cti.controller("CTRIDalice"), Some(c));
    let back = w.events(c, "BackInService");
    assert_eq!(
        back.last().map(|e| e["REMOTE_NAME"].clone()),
        Some(json!("carol"))
    );
}

/// An administrator changing the active RD ends the controller's hold on it; the clients see
/// BackInService with the new destination.
#[test]
fn an_admin_change_of_the_active_rd_drops_the_controller() {
    let mut w = World::new();
    let a = w.login("alice");
    register(&mut w, a, "914085551111", None);
    w.clear(a);
    let mut home = w.rd("CTRIDalice", "Home").expect("home");
    let mut mobile = w.rd("CTRIDalice", "Mobile").expect("mobile");
    home.active = true;
    mobile.active = false;
    w.admin_write(vec![
        tether_store::Change::Update(tether_store::model::Object::RemoteDestination(home)),
        tether_store::Change::Update(tether_store::model::Object::RemoteDestination(mobile)),
    ]);
    assert_eq!(w.cti.controller("CTRIDalice"), None);
    let back = w.events(a, "BackInService");
    assert_eq!(
        (
            &back[0]["REMOTE_DEST"],
            &back[0]["REMOTE_NAME"],
            &back[0]["controller"]
        ),
        (&json!("914085552222"), &json!("Home"), &json!(false))
    );
}
