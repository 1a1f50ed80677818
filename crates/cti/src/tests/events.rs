//! Events: every engine event kind as its CSTA event, sequence numbers and timestamps, and the
//! provisioning changes monitors see (DND, forwarding, RD changes with isMine).

use std::time::Duration;

use serde_json::{json, Value};
use tether_b2bua::control::{DivertCause, Party};
use tether_b2bua::output::DigitMethod;
use tether_b2bua::{DeviceEvent, DeviceEventKind};
use tether_store::model::Object;
use tether_store::Change;

use super::World;

fn ev(kind: DeviceEventKind) -> DeviceEvent {
    DeviceEvent {
        device: "CTRIDalice".into(),
        dn: "2000".into(),
        call: 12,
        kind,
    }
}

/// What alice's monitor receives for one engine event.
fn one(w: &mut World, s: crate::SessionId, kind: DeviceEventKind) -> Value {
    w.clear(s);
    w.cti.handle_device_event(w.now, ev(kind));
    w.run();
    let got = w.inbox(s).to_vec();
    assert_eq!(got.len(), 1, "{got:?}");
    got[0].clone()
}

#[test]
fn every_engine_event_maps_to_its_csta_event() {
    let mut w = World::new();
    let a = w.login("alice");
    let xref = w.monitor(a, "CTRIDalice");
    let conn = json!({"callId": 12, "deviceId": "CTRIDalice"});
    let cases = vec![
        (
            DeviceEventKind::ServiceInitiated,
            json!({"type": "ServiceInitiated", "initiatingDevice": "2000", "cause": "makeCall"}),
        ),
        (
            DeviceEventKind::Originated {
                called: "2001".into(),
            },
            json!({"type": "Originated", "callingDevice": "2000", "calledDevice": "2001"}),
        ),
        (
            DeviceEventKind::NetworkReached {
                called: "914155550100".into(),
            },
            json!({"type": "NetworkReached", "calledDevice": "914155550100"}),
        ),
        (
            DeviceEventKind::Delivered {
                party: Party::Device,
                calling: "+14155550100".into(),
                called: "2000".into(),
            },
            json!({"type": "Delivered", "party": "device", "alertingDevice": "2000", "callingDevice": "+14155550100",
                   "calledDevice": "2000", "localConnectionInfo": "alerting", "cause": "newCall"}),
        ),
        (
            DeviceEventKind::Delivered {
                party: Party::Far,
                calling: "2000".into(),
                called: "2001".into(),
            },
            json!({"type": "Delivered", "party": "far", "alertingDevice": "2001", "localConnectionInfo": "connected"}),
        ),
        (
            DeviceEventKind::Established {
                calling: "+14155550100".into(),
                called: "2000".into(),
            },
            json!({"type": "Established", "answeringDevice": "2000", "callingDevice": "+14155550100", "calledDevice": "2000"}),
        ),
        (
            DeviceEventKind::Established {
                calling: "2000".into(),
                called: "2001".into(),
            },
            json!({"type": "Established", "answeringDevice": "2001"}),
        ),
        (
            DeviceEventKind::Held,
            json!({"type": "Held", "holdingDevice": "2000", "localConnectionInfo": "hold"}),
        ),
        (
            DeviceEventKind::Retrieved,
            json!({"type": "Retrieved", "retrievingDevice": "2000"}),
        ),
        (
            DeviceEventKind::Diverted {
                from: "2000".into(),
                to: "2001".into(),
                cause: DivertCause::ForwardAll,
            },
            json!({"type": "Diverted", "divertingDevice": "2000", "newDestination": "2001", "cause": "callForwardImmediate"}),
        ),
        (
            DeviceEventKind::Diverted {
                from: "2000".into(),
                to: "2001".into(),
                cause: DivertCause::Deflect,
            },
            json!({"type": "Diverted", "cause": "redirected"}),
        ),
        (
            DeviceEventKind::Failed {
                party: Party::Far,
                cause: 17,
            },
            json!({"type": "Failed", "party": "far", "failingDevice": null, "cause": "busy", "q850Cause": 17}),
        ),
        (
            DeviceEventKind::Failed {
                party: Party::Device,
                cause: 19,
            },
            json!({"type": "Failed", "failingDevice": "2000", "cause": "callNotAnswered", "q850Cause": 19}),
        ),
        (
            DeviceEventKind::ConnectionCleared {
                party: Party::Device,
                cause: 16,
            },
            json!({"type": "ConnectionCleared", "releasingDevice": "2000", "cause": "normalClearing", "q850Cause": 16}),
        ),
        (
            DeviceEventKind::ConnectionCleared {
                party: Party::Far,
                cause: 34,
            },
            json!({"type": "ConnectionCleared", "party": "far", "cause": "trunksBusy", "q850Cause": 34}),
        ),
        (
            DeviceEventKind::CallCleared { cause: 1 },
            json!({"type": "CallCleared", "clearedCall": 12, "cause": "numberUnallocated", "q850Cause": 1}),
        ),
        (
            DeviceEventKind::DigitsDetected {
                party: Party::Far,
                digit: '#',
                method: DigitMethod::Rfc4733,
            },
            json!({"type": "DigitsDetected", "party": "far", "digits": "#", "method": "rfc4733"}),
        ),
        (
            DeviceEventKind::Transferred {
                transferred: "+14155550100".into(),
                to: "2001".into(),
                resulting_call: 13,
            },
            json!({"type": "Transferred", "transferringDevice": "2000",
                   "transferredDevice": "+14155550100", "transferredToDevice": "2001",
                   "resultingCall": 13, "cause": "transfer"}),
        ),
        (
            DeviceEventKind::Conferenced {
                parties: vec!["2000".into(), "+14155550100".into(), "2001".into()],
                resulting_call: 13,
            },
            json!({"type": "Conferenced", "conferencingDevice": "2000",
                   "parties": ["2000", "+14155550100", "2001"], "resultingCall": 13,
                   "cause": "conference"}),
        ),
    ];
    for (kind, want) in cases {
        let got = one(&mut w, a, kind.clone());
        assert_eq!(got["connection"], conn, "{got}");
        assert_eq!(got["monitorCrossRefId"], xref, "{got}");
        assert_eq!(
            (&got["device"], &got["dn"]),
            (&json!("CTRIDalice"), &json!("2000"))
        );
        for (k, v) in want.as_object().into_iter().flatten() {
            assert_eq!(&got[k], v, "{kind:?}: {k} in {got}");
        }
    }
    // Devices nobody monitors produce nothing.
    w.clear(a);
    w.cti.handle_device_event(
        w.now,
        DeviceEvent {
            device: "CTRIDbob".into(),
            dn: "2001".into(),
            call: 3,
            kind: DeviceEventKind::Held,
        },
    );
    w.run();
    assert!(w.inbox(a).is_empty());
}

#[test]
fn every_monitor_of_a_device_gets_its_events() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    let xa = w.monitor(a, "CTRIDalice");
    let xc = w.monitor(c, "CTRIDalice");
    w.cti.handle_device_event(w.now, ev(DeviceEventKind::Held));
    w.run();
    assert_eq!(w.events(a, "Held")[0]["monitorCrossRefId"], xa);
    assert_eq!(w.events(c, "Held")[0]["monitorCrossRefId"], xc);
}

#[test]
fn sequence_numbers_increase_strictly_per_session_and_times_are_utc() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(a, "CTRIDalice");
    w.monitor(c, "CTRIDalice");
    w.ok(
        a,
        json!({"type": "RegisterAddress", "dn": "2000", "REMOTE_DEST": "914085551111"}),
    );
    w.advance(Duration::from_millis(1500));
    for kind in [DeviceEventKind::Held, DeviceEventKind::Retrieved] {
        w.cti.handle_device_event(w.now, ev(kind));
        w.run();
    }
    w.ok(
        c,
        json!({"type": "SetDoNotDisturb", "dn": "2000", "doNotDisturbOn": true}),
    );
    for s in [a, c] {
        let seqs: Vec<u64> = w
            .inbox(s)
            .iter()
            .filter_map(|m| m["sequence"].as_u64())
            .collect();
        assert!(seqs.len() >= 4, "{seqs:?}");
        assert_eq!(seqs[0], 1);
        assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "{seqs:?}");
    }
    // 1_700_000_000_000 ms is 2023-11-14T22:13:20Z; the events came 1.5 s later.
    let held = &w.events(a, "Held")[0];
    assert_eq!(held["timestamp"], "2023-11-14T22:13:21.500Z");
}

#[test]
fn dnd_and_forwarding_changes_reach_every_monitor() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(a, "CTRIDalice");
    w.monitor(c, "CTRIDalice");
    w.ok(
        c,
        json!({"type": "SetDoNotDisturb", "dn": "2010", "doNotDisturbOn": true}),
    );
    for s in [a, c] {
        let e = w.events(s, "DoNotDisturb");
        assert_eq!(e.len(), 1);
        assert_eq!(
            (&e[0]["device"], &e[0]["dn"], &e[0]["doNotDisturbOn"]),
            (&json!("CTRIDalice"), &json!("2010"), &json!(true))
        );
    }
    // An administrator's change (REST) too.
    let mut l = w.line("2000");
    l.call_forward_all = Some("2001".into());
    w.admin_write(vec![Change::Update(Object::Line(l))]);
    for s in [a, c] {
        let e = w.events(s, "Forwarding");
        assert_eq!(e.len(), 1);
        assert_eq!(
            (
                &e[0]["dn"],
                &e[0]["forwardStatus"],
                &e[0]["forwardDN"],
                &e[0]["forwardingType"]
            ),
            (
                &json!("2000"),
                &json!(true),
                &json!("2001"),
                &json!("forwardImmediate")
            )
        );
    }
}

/// RemoteDestinationChanged says `isMine` to the session whose write made the change, and
/// not to the others (nor for an administrator's change).
#[test]
fn rd_changes_say_whose_they_are() {
    let mut w = World::new();
    let a = w.login("alice");
    let c = w.login("carol");
    w.monitor(a, "CTRIDalice");
    w.monitor(c, "CTRIDalice");
    w.ok(
        a,
        json!({"type": "AddRemoteDestination", "device": "CTRIDalice", "name": "Desk", "number": "914085553333"}),
    );
    let mine = w.events(a, "RemoteDestinationChanged");
    let theirs = w.events(c, "RemoteDestinationChanged");
    assert_eq!((mine.len(), theirs.len()), (1, 1));
    assert_eq!(
        (&mine[0]["change"], &mine[0]["isMine"], &theirs[0]["isMine"]),
        (&json!("added"), &json!(true), &json!(false))
    );
    assert_eq!(mine[0]["remoteDestination"]["number"], "914085553333");
    w.clear(a);
    w.clear(c);
    w.ok(
        c,
        json!({"type": "SetActiveRemoteDestination", "device": "CTRIDalice", "name": "Desk"}),
    );
    let e = w.events(c, "RemoteDestinationChanged");
    assert_eq!(
        (&e[0]["change"], &e[0]["isMine"]),
        (&json!("updated"), &json!(true))
    );
    assert_eq!(e[0]["activeRemoteDestination"], "Desk");
    assert_eq!(w.events(a, "RemoteDestinationChanged")[0]["isMine"], false);
    // Active and routable: both see the device come into service.
    assert_eq!(w.events(a, "BackInService").len(), 1);
    assert_eq!(w.events(a, "BackInService")[0]["REMOTE_NAME"], "Desk");
    w.clear(a);
    w.admin_write(vec![Change::Delete(
        tether_store::Kind::RemoteDestination,
        tether_store::Key::Two("CTRIDalice".into(), "Home".into()),
    )]);
    let e = w.events(a, "RemoteDestinationChanged");
    assert_eq!(
        (
            &e[0]["change"],
            &e[0]["isMine"],
            &e[0]["remoteDestination"]["name"]
        ),
        (&json!("removed"), &json!(false), &json!("Home"))
    );
}

#[test]
fn the_same_snapshot_version_is_ignored() {
    let mut w = World::new();
    let a = w.login("alice");
    w.monitor(a, "CTRIDalice");
    let mut l = w.line("2000");
    l.dnd = true;
    w.admin_write(vec![Change::Update(Object::Line(l))]);
    assert_eq!(w.events(a, "DoNotDisturb").len(), 1);
    // Offered again (a second subscriber wake-up): nothing new.
    w.cti.set_snapshot(w.now, w.snap.clone());
    w.run();
    assert_eq!(w.events(a, "DoNotDisturb").len(), 1);
}

/// A snapshot that arrives while a write is in flight waits for the write's result, so the
/// writer's RemoteDestinationChanged still says isMine.
#[test]
fn a_snapshot_during_a_write_waits_for_its_result() {
    let mut w = World::new();
    let a = w.login("alice");
    w.monitor(a, "CTRIDalice");
    w.hold_writes = true;
    w.send(
        a,
        json!({"type": "RemoveRemoteDestination", "device": "CTRIDalice", "name": "Home"}),
    );
    // The store commits and publishes before the write call returns to the binary.
    let (ticket, origin, changes) = w.held.pop().expect("a held write");
    let after = std::sync::Arc::new(super::apply(&w.snap, &origin, &changes).expect("write"));
    w.snap = after.clone();
    w.cti.set_snapshot(w.now, after.clone());
    w.run();
    assert!(
        w.events(a, "RemoteDestinationChanged").is_empty(),
        "held back"
    );
    w.cti.write_result(w.now, ticket, Ok(()), after);
    w.run();
    let e = w.events(a, "RemoteDestinationChanged");
    assert_eq!(e.len(), 1);
    assert_eq!(
        (&e[0]["change"], &e[0]["isMine"]),
        (&json!("removed"), &json!(true))
    );
}
