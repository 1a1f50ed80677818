//! The CTI WebSocket through the real binary, its sessions and provisioning side: scripted
//! clients on `/cti` (tungstenite). Calls driven over CTI are in `cti_calls.rs`.
//!
//! - the T-Server contract with two clients: the last to register decides and controls; a
//!   non-controller cannot deactivate; the controller disconnecting takes the device out of
//!   service for everyone, and the provisioning shows it;
//! - a dead client found by the heartbeat is treated as a disconnect;
//! - errors: unreadable JSON, requests before login, someone else's device;
//! - `tether ctl cti` driven by a script on its standard input.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::cti::CtiClient;
use support::{metric, Auth, Backend, Env};

const EVENT_WAIT: Duration = Duration::from_secs(10);

/// The demo's remote destinations of CTRIDalice as the admin API shows them: (name, active).
fn rds(server: &support::Server) -> Vec<(String, bool)> {
    let r = server.get(
        "/api/v1/devices/CTRIDalice/remote-destinations",
        &Auth::Admin,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let items = v["items"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<(String, bool)> = items
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_owned(),
                i["active"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn t_server_contract_last_client_wins_and_the_controller_leaving_takes_the_device_out() {
    let env = Env::new(Backend::Sqlite, true, true).expect("SQLite needs no setup");
    let server = env.start();
    let (mut a, login) = CtiClient::login(&server.base, "alice", "alice");
    assert_eq!(login["type"], "AuthenticateResponse", "{login}");
    // The demo extends alice's device to JabberRD: in service, nobody controls it yet.
    let dev = &login["devices"][0];
    assert_eq!(dev["device"], "CTRIDalice", "{login}");
    assert_eq!(dev["inService"], true, "{login}");
    assert_eq!(dev["controlled"], false, "{login}");

    // Client A registers the device to a new remote destination: Registered at once, then
    // BackInService with REMOTE_DEST and REMOTE_NAME (defaulting to REMOTE_DEST).
    let r = a.request(
        "RegisterAddress",
        json!({"dn": "2000", "REMOTE_DEST": "+14085551111"}),
    );
    assert_eq!(r["type"], "RegisterAddressResponse", "{r}");
    let ev = a.events_until("BackInService", EVENT_WAIT);
    let t = CtiClient::types(&ev);
    assert_eq!(t.first().map(String::as_str), Some("Registered"), "{ev:#?}");
    let back = ev.last().expect("BackInService");
    assert_eq!(back["REMOTE_DEST"], "+14085551111", "{back}");
    assert_eq!(back["REMOTE_NAME"], "+14085551111", "{back}");
    assert_eq!(back["controller"], true, "{back}");
    let seqs: Vec<u64> = ev.iter().filter_map(|e| e["sequence"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let active: Vec<String> = rds(&server)
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        active,
        vec!["+14085551111".to_owned()],
        "the new RD is the only active one"
    );

    // Client B registers last, to the Mobile RD: it decides and controls; A sees the change.
    let (mut b, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = b.request(
        "RegisterAddress",
        json!({"device": "CTRIDalice", "REMOTE_DEST": "+14155550100", "REMOTE_NAME": "Mobile"}),
    );
    assert_eq!(r["type"], "RegisterAddressResponse", "{r}");
    let ev = b.events_until("BackInService", EVENT_WAIT);
    let back = ev.last().expect("BackInService");
    assert_eq!(back["REMOTE_DEST"], "+14155550100", "{back}");
    assert_eq!(back["REMOTE_NAME"], "Mobile", "{back}");
    assert_eq!(back["controller"], true, "{back}");
    let ev = a.events_until("BackInService", EVENT_WAIT);
    let seen = ev.last().expect("BackInService");
    assert_eq!(
        seen["REMOTE_DEST"], "+14155550100",
        "A sees B's choice: {seen}"
    );
    assert_eq!(seen["controller"], false, "A no longer controls: {seen}");

    // Only the controller deactivates.
    let r = a.request("UnregisterAddress", json!({"dn": "2000"}));
    assert_eq!(r["code"], "NOT_CONTROLLER", "{r}");

    // The controller disconnects: everyone still monitoring gets OutOfService, and no RD is
    // active any more.
    b.close();
    let ev = a.events_until("OutOfService", EVENT_WAIT);
    assert!(ev.iter().all(|e| e["type"] != "BackInService"), "{ev:#?}");
    assert!(rds(&server).iter().all(|(_, on)| !on), "{:?}", rds(&server));
    let r = a.request("SnapshotDevice", json!({"device": "CTRIDalice"}));
    assert_eq!(r["device"]["inService"], false, "{r}");
    assert_eq!(r["device"]["controlled"], false, "{r}");
    a.close();
}

#[test]
fn a_silent_controller_is_found_by_the_heartbeat_and_deactivated() {
    let env = Env::with_config(
        Backend::Sqlite,
        true,
        true,
        "[cti]\nheartbeat_seconds = 1\n",
    )
    .expect("SQLite needs no setup");
    let server = env.start();
    let (mut watcher, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = watcher.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");

    let (mut ctl, _) = CtiClient::login(&server.base, "alice", "alice");
    let r = ctl.request(
        "RegisterAddress",
        json!({"device": "CTRIDalice", "REMOTE_DEST": "+14155550100"}),
    );
    assert_eq!(r["type"], "RegisterAddressResponse", "{r}");
    ctl.events_until("BackInService", EVENT_WAIT);
    watcher.events_until("BackInService", EVENT_WAIT);
    // The controller stops reading: pings go unanswered, the socket stays open.
    let _silent = ctl.go_silent();
    let ev = watcher.events_until("OutOfService", EVENT_WAIT);
    assert!(!ev.is_empty());
    assert!(rds(&server).iter().all(|(_, on)| !on), "{:?}", rds(&server));
    // The watcher, which answers pings, is still served.
    let r = watcher.request("GetRemoteDestinations", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "GetRemoteDestinationsResponse", "{r}");
    assert!(r["activeRemoteDestination"].is_null(), "{r}");
}

#[test]
fn bad_requests_get_named_errors_and_the_session_goes_on() {
    let env = Env::new(Backend::Sqlite, true, true).expect("SQLite needs no setup");
    let server = env.start();
    let mut c = CtiClient::connect(&server.base);
    let r = c.request("SnapshotDevice", json!({"device": "CTRIDalice"}));
    assert_eq!(r["code"], "NOT_AUTHENTICATED", "{r}");
    c.send_text("{not json");
    let r = c.next_event(EVENT_WAIT).expect("an answer to bad JSON");
    assert_eq!(r["code"], "INVALID_JSON", "{r}");
    assert!(r["invokeId"].is_null(), "{r}");
    let r = c.request(
        "Authenticate",
        json!({"user": "alice", "password": "wrong"}),
    );
    assert_eq!(r["code"], "AUTHENTICATION_FAILED", "{r}");
    // bob may use CTI but CTRIDalice is neither his nor associated with him.
    let r = c.request("Authenticate", json!({"user": "bob", "password": "bob"}));
    assert_eq!(r["type"], "AuthenticateResponse", "{r}");
    let r = c.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["code"], "PRIVILEGE_VIOLATION", "{r}");
    let r = c.request("NoSuchRequest", json!({}));
    assert_eq!(r["code"], "UNKNOWN_REQUEST", "{r}");
    let r = c.request("MakeCall", json!({"device": "CTRIDalice"}));
    assert_eq!(r["code"], "INVALID_PARAMETER", "{r}");
    assert_eq!(r["field"], "calledDirectoryNumber", "{r}");
    let r = c.request(
        "MakeCall",
        json!({"device": "CTRIDalice", "calledDirectoryNumber": "2001"}),
    );
    assert_eq!(r["code"], "PRIVILEGE_VIOLATION", "{r}");
    let r = c.request("MonitorStart", json!({"device": "NoSuchDevice"}));
    assert_eq!(r["code"], "INVALID_DEVICE", "{r}");
    // The admin token may watch any device.
    let mut admin = CtiClient::connect(&server.base);
    let r = admin.request("Authenticate", json!({"token": support::ADMIN_TOKEN}));
    assert_eq!(r["type"], "AuthenticateResponse", "{r}");
    let r = admin.request("MonitorStart", json!({"device": "CTRIDalice"}));
    assert_eq!(r["type"], "MonitorStartResponse", "{r}");
    server.wait_metrics("two CTI sessions", EVENT_WAIT, |m| {
        metric(m, "tether_cti_sessions") == 2.0
    });
}

#[test]
fn ctl_cti_runs_a_script_and_prints_responses_and_events() {
    let env = Env::new(Backend::Sqlite, true, true).expect("SQLite needs no setup");
    let server = env.start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "ctl",
            "--url",
            &server.base,
            "--user",
            "alice",
            "--password",
            "alice",
        ])
        .arg("cti")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tether ctl cti");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "MonitorStart device=CTRIDalice").expect("write");
        writeln!(stdin, "SetDoNotDisturb dn=2000 doNotDisturbOn:=true").expect("write");
        writeln!(stdin, "MakeCall device").expect("write");
        writeln!(
            stdin,
            r#"{{"type":"GetDoNotDisturb","device":"CTRIDalice"}}"#
        )
        .expect("write");
    }
    let out = child
        .wait_with_output()
        .expect("ctl cti ends at the end of its input");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kinds = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|j| serde_json::from_str::<Value>(j).ok())
            .map(|v| v["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // A Set is answered once its write commits, so the Get may overtake it.
    let mut responses = kinds("<< ");
    responses.sort();
    assert_eq!(
        responses,
        [
            "AuthenticateResponse",
            "GetDoNotDisturbResponse",
            "MonitorStartResponse",
            "SetDoNotDisturbResponse"
        ],
        "{text}"
    );
    assert!(kinds("<- ").contains(&"DoNotDisturb".to_owned()), "{text}");
    assert!(
        text.contains("?? \"device\": expected field=value"),
        "{text}"
    );
    let r = server.get("/api/v1/lines/Internal/2000", &Auth::Admin);
    assert_eq!(r.json()["dnd"], true, "{}", r.body);
}
