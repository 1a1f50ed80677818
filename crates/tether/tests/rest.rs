//! The admin REST API against a running `tether serve`, on SQLite and on PostgreSQL: auth, CRUD
//! with paging and filters on every kind, the SPEC §1 remote-destination rules and seed vectors
//! on the end-user path, the demo seed, the Dialed Number Analyzer and bulk CSV.

mod support;

use serde_json::{json, Value};
use support::{basic, enc, Auth, Backend, Env};

both!(
    anonymous_is_refused_except_health_and_openapi,
    demo_seed_token_file_and_restart,
    crud_on_every_kind_with_paging_and_filters,
    seed_vectors_on_the_end_user_path,
    end_users_see_and_touch_only_their_own,
    device_remote_destinations,
    remote_destination_rules,
    dialed_number_analyzer,
    bulk_csv_round_trip,
);

const ALICE: fn() -> Auth = || basic("alice", "alice");

fn error_of(r: &support::Resp) -> (u16, String, Option<String>) {
    let v = r.json();
    (
        r.status,
        v["code"].as_str().unwrap_or_default().to_owned(),
        v["field"].as_str().map(str::to_owned),
    )
}

fn anonymous_is_refused_except_health_and_openapi(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let doc = s.get("/api/v1/openapi.json", &Auth::None);
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("item").keys() {
            let method = method.to_ascii_uppercase();
            let body = matches!(method.as_str(), "POST" | "PUT").then_some("{}");
            let r = s.call(&method, &concrete, &Auth::None, body);
            if path.ends_with("/health") || path.ends_with("/openapi.json") || path == "/metrics" {
                assert_eq!(r.status, 200, "{method} {path} is public");
                continue;
            }
            assert_eq!(r.status, 401, "{method} {concrete}: {}", r.body);
            assert_eq!(r.code(), "UNAUTHORIZED");
            let challenges = r.headers_named("www-authenticate").join(" | ");
            assert!(
                challenges.contains("Bearer") && challenges.contains("Basic"),
                "{challenges}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12 * 5 + 5 + 4 * 2 + 1 + 3);
    for auth in [
        Auth::Bearer("not-the-token-at-all".into()),
        basic("alice", "wrong"),
        basic("nobody", "alice"),
    ] {
        let r = s.get("/api/v1/users", &auth);
        assert_eq!(r.status, 401, "{auth:?}");
    }
    let r = s.send(
        "GET",
        "/api/v1/users",
        &Auth::None,
        None,
        "application/json",
    );
    assert_eq!(r.map(|r| r.status).ok(), Some(401));
    let h = s.get("/api/v1/health", &Auth::None).json();
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["database"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    // Unknown endpoints answer in JSON too.
    let r = s.get("/api/v1/gadgets", &Auth::Admin);
    assert_eq!((r.status, r.code().as_str()), (404, "NOT_FOUND"));
    let r = s.call("PATCH", "/api/v1/users", &Auth::Admin, Some("{}"));
    assert_eq!((r.status, r.code().as_str()), (405, "METHOD_NOT_ALLOWED"));
}

fn demo_seed_token_file_and_restart(backend: Backend) {
    let Some(env) = Env::new(backend, false, true) else {
        return;
    };
    let s = env.start();
    let token = std::fs::read_to_string(env.token_file()).expect("token file");
    let token = token.trim().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.token_file())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(s.log().contains("tether-admin.token"), "{}", s.log());
    let admin = Auth::Bearer(token.clone());
    let get = |path: &str| {
        let r = s.get(path, &admin);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    };
    let alice = get("/api/v1/users/alice");
    assert_eq!(alice["mobility_enabled"], true);
    assert_eq!(alice["cti_enabled"], true);
    assert!(
        alice.get("password").is_none(),
        "passwords are never returned"
    );
    let dev = get("/api/v1/devices/CTRIDalice");
    assert_eq!(dev["kind"], "cti_remote_device");
    assert_eq!(dev["owner"], "alice");
    assert_eq!(dev["reroute_css"], "Reroute-CSS");
    let line = get("/api/v1/lines/Internal/2000");
    assert_eq!(line["device"], "CTRIDalice");
    assert_eq!(line["e164"], "+14082002000");
    let jabber = get("/api/v1/remote-destinations/CTRIDalice/JabberRD");
    assert_eq!(
        (jabber["number"].as_str(), jabber["active"].as_bool()),
        (Some("+14157777777"), Some(true))
    );
    let mobile = get("/api/v1/remote-destinations/CTRIDalice/Mobile");
    assert_eq!(
        (mobile["number"].as_str(), mobile["active"].as_bool()),
        (Some("+14155550100"), Some(false))
    );
    let bob_phone = get("/api/v1/devices?owner=bob")["items"][0].clone();
    assert_eq!(bob_phone["kind"], "sip_phone");
    assert!(bob_phone["sip_username"].is_string() && bob_phone["sip_password"].is_string());
    let bob_line = get("/api/v1/lines/Internal/2001");
    assert_eq!(bob_line["device"], bob_phone["name"]);
    for p in ["9.!", "\\+1!"] {
        let pat = get(&format!("/api/v1/patterns/PSTN/{}", enc(p)));
        assert_eq!(pat["kind"], "route");
        let rl = get(&format!(
            "/api/v1/route-lists/{}",
            pat["route_list"].as_str().expect("route list")
        ));
        let rg = get(&format!(
            "/api/v1/route-groups/{}",
            rl["groups"][0].as_str().expect("group")
        ));
        let trunk = get(&format!(
            "/api/v1/trunks/{}",
            rg["trunks"][0].as_str().expect("trunk")
        ));
        assert_eq!(trunk["peer"], "127.0.0.1:5070");
    }
    let inbound = get("/api/v1/trunks?limit=10")["items"]
        .as_array()
        .expect("trunks")
        .iter()
        .filter(|t| t["inbound_css"].is_string())
        .count();
    assert_eq!(inbound, 1, "one inbound trunk");
    let reroute = get("/api/v1/css/Reroute-CSS");
    assert_eq!(reroute["partitions"], json!(["PSTN"]));
    assert_eq!(
        s.get("/api/v1/users/bob", &basic("bob", "bob")).status,
        200,
        "bob's API password"
    );
    let counts = |s: &support::Server| -> Vec<u64> {
        [
            "users",
            "devices",
            "lines",
            "remote-destinations",
            "patterns",
            "trunks",
            "css",
            "partitions",
        ]
        .iter()
        .map(|c| {
            s.get(&format!("/api/v1/{c}"), &admin).json()["total"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect()
    };
    let before = counts(&s);
    // Users, devices, lines, RDs: alice's and bob's, and the SIPp scenario devices (owned
    // by user `scenarios`: eight devices and lines, nine RDs).
    assert_eq!(&before[..4], &[3, 10, 10, 11]);
    let version = s.get("/api/v1/health", &Auth::None).json()["snapshot_version"].clone();
    let status = s.stop();
    assert!(status.success(), "graceful stop on SIGTERM: {status}");

    let s = env.start();
    assert_eq!(counts(&s), before, "the seed is not written twice");
    let again = s.get("/api/v1/health", &Auth::None).json()["snapshot_version"].clone();
    // The snapshot version counts committed writes in the database: a restart that seeds
    // nothing leaves it where it was.
    assert_eq!(again, version, "no write at the second start");
    assert_eq!(
        std::fs::read_to_string(env.token_file())
            .expect("token")
            .trim(),
        token,
        "the token is reused"
    );
    assert_eq!(s.get("/api/v1/users", &admin).status, 200);
}

/// Partitions, CSSs, a trunk behind a route group and list, alice with a password and her CTI
/// remote device on line 2000, and the given route patterns (in PSTN).
fn provision_base(s: &support::Server, patterns: &[&str]) {
    s.create("partitions", json!({"name": "Internal"}));
    s.create("partitions", json!({"name": "PSTN"}));
    s.create(
        "css",
        json!({"name": "Internal-CSS", "partitions": ["Internal", "PSTN"]}),
    );
    s.create(
        "css",
        json!({"name": "Reroute-CSS", "partitions": ["PSTN"]}),
    );
    s.create(
        "trunks",
        json!({"name": "pstn-out", "kind": "pri-t1", "peer": "127.0.0.1:5070"}),
    );
    s.create(
        "route-groups",
        json!({"name": "PSTN-RG", "trunks": ["pstn-out"]}),
    );
    s.create(
        "route-lists",
        json!({"name": "PSTN-RL", "groups": ["PSTN-RG"]}),
    );
    s.create(
        "users",
        json!({"id": "alice", "mobility_enabled": true, "cti_enabled": true, "password": "alice"}),
    );
    s.create(
        "devices",
        json!({"name": "CTRIDalice", "kind": "cti_remote_device", "owner": "alice",
               "css": "Internal-CSS", "reroute_css": "Reroute-CSS"}),
    );
    s.create(
        "lines",
        json!({"partition": "Internal", "dn": "2000", "device": "CTRIDalice", "e164": "+14082002000"}),
    );
    for p in patterns {
        s.create("patterns", route_pattern(p));
    }
}

fn route_pattern(p: &str) -> Value {
    json!({"partition": "PSTN", "pattern": p, "kind": "route", "route_list": "PSTN-RL",
           "called": {"discard_predot": true}})
}

fn rd(device: &str, name: &str, number: &str) -> Value {
    json!({"device": device, "name": name, "number": number})
}

fn crud_on_every_kind_with_paging_and_filters(backend: Backend) {
    let Some(env) = Env::new(backend, true, false) else {
        return;
    };
    let s = env.start();
    let a = Auth::Admin;
    assert_eq!(s.list("users", "").len(), 0, "seed disabled");
    provision_base(&s, &["9.!", "\\+1!"]);
    s.create(
        "dial-rules",
        json!({"name": "ten-digit", "begins_with": "4", "num_digits": 10, "prefix": "91", "priority": 1}),
    );
    s.create(
        "announcements",
        json!({"id": "sales", "name": "Customer Sales - English", "file": "sales.wav"}),
    );
    let r = s.post(
        "/api/v1/remote-destinations",
        &a,
        &rd("CTRIDalice", "Mobile", "+14155550100"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/api/v1/remote-destinations/CTRIDalice/Mobile")
    );
    let r = s.post("/api/v1/patterns", &a, &route_pattern("8.[2-9]XX"));
    assert_eq!(
        r.header("location"),
        Some("/api/v1/patterns/PSTN/8.%5B2-9%5DXX")
    );

    // One object of each kind: get, update a field, get again.
    let items: Vec<(&str, String, &str, Value)> = vec![
        ("users", "alice".into(), "name", json!("Alice A.")),
        ("partitions", "PSTN".into(), "description", json!("out")),
        ("css", "Reroute-CSS".into(), "description", json!("rr")),
        (
            "devices",
            "CTRIDalice".into(),
            "display_name",
            json!("Alice"),
        ),
        ("lines", "Internal/2000".into(), "dnd", json!(true)),
        (
            "remote-destinations",
            "CTRIDalice/Mobile".into(),
            "active",
            json!(true),
        ),
        ("trunks", "pstn-out".into(), "channels", json!(12)),
        (
            "route-groups",
            "PSTN-RG".into(),
            "distribution",
            json!("circular"),
        ),
        (
            "route-lists",
            "PSTN-RL".into(),
            "description",
            json!("to the PSTN"),
        ),
        (
            "patterns",
            format!("PSTN/{}", enc("\\+1!")),
            "description",
            json!("E.164"),
        ),
        ("dial-rules", "ten-digit".into(), "priority", json!(7)),
        ("announcements", "sales".into(), "name", json!("Sales")),
    ];
    for (collection, key, field, value) in &items {
        let path = format!("/api/v1/{collection}/{key}");
        let r = s.get(&path, &a);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let mut obj = r.json();
        obj[*field] = value.clone();
        let r = s.put(&path, &a, &obj);
        assert_eq!(r.status, 200, "PUT {path}: {}", r.body);
        assert_eq!(r.json()[*field], *value);
        assert_eq!(s.get(&path, &a).json()[*field], *value, "{path}");
        let total = s.get(&format!("/api/v1/{collection}"), &a).json()["total"].clone();
        assert!(total.as_u64() >= Some(1), "{collection}");
    }
    // Alice's password survived the update without one.
    assert_eq!(s.get("/api/v1/users/alice", &ALICE()).status, 200);

    // Paging and filtering.
    for i in 0..25 {
        let d = if i % 2 == 0 { "even" } else { "odd" };
        s.create(
            "partitions",
            json!({"name": format!("P{i:02}"), "description": d}),
        );
    }
    let page = s.get("/api/v1/partitions?offset=20&limit=5", &a).json();
    assert_eq!(page["total"], 27);
    assert_eq!(
        (page["offset"].as_u64(), page["limit"].as_u64()),
        (Some(20), Some(5))
    );
    let names: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    // Key order: Internal, P00…P24, PSTN.
    assert_eq!(names, ["P19", "P20", "P21", "P22", "P23"], "key order");
    let odd = s
        .get("/api/v1/partitions?description=odd&limit=3", &a)
        .json();
    assert_eq!(
        (odd["total"].as_u64(), odd["items"].as_array().map(Vec::len)),
        (Some(12), Some(3))
    );
    assert_eq!(s.get("/api/v1/partitions", &a).json()["limit"], 100);
    let active = s.get("/api/v1/remote-destinations?active=true", &a).json();
    assert_eq!(active["total"], 1);
    assert_eq!(
        s.get("/api/v1/remote-destinations?active=false", &a).json()["total"],
        0
    );
    assert_eq!(
        s.get("/api/v1/css?partitions=Internal", &a).json()["total"],
        1
    );
    assert_eq!(s.get("/api/v1/trunks?channels=12", &a).json()["total"], 1);
    assert_eq!(s.get("/api/v1/lines?e164=", &a).json()["total"], 0);
    for (q, field) in [
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("password=x", "password"),
    ] {
        let r = s.get(&format!("/api/v1/users?{q}"), &a);
        assert_eq!(
            error_of(&r),
            (400, "INVALID_FIELD".into(), Some(field.into())),
            "{q}"
        );
    }

    // Errors.
    let r = s.post("/api/v1/users", &a, &json!({"id": "alice"}));
    assert_eq!(error_of(&r).0, 409);
    assert_eq!(r.code(), "ALREADY_EXISTS");
    let r = s.put("/api/v1/users/alice", &a, &json!({"id": "bob"}));
    assert_eq!(
        error_of(&r),
        (400, "INVALID_FIELD".into(), Some("id".into()))
    );
    let r = s.put("/api/v1/users/zed", &a, &json!({"id": "zed"}));
    assert_eq!(error_of(&r).0, 404);
    let r = s.put(
        "/api/v1/lines/Internal/2000",
        &a,
        &json!({"partition": "Internal", "dn": "2999", "device": "CTRIDalice"}),
    );
    assert_eq!(
        error_of(&r),
        (400, "INVALID_FIELD".into(), Some("dn".into()))
    );
    let r = s.call(
        "POST",
        "/api/v1/users",
        &a,
        Some("{\n  \"id\": \"x\",\n  oops\n}"),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("line 3"),
        "{}",
        r.body
    );
    let r = s.post(
        "/api/v1/users",
        &a,
        &json!({"id": "x", "max_remote_destinations": "four"}),
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "INVALID_FIELD".into(),
            Some("max_remote_destinations".into())
        )
    );
    let r = s.post("/api/v1/users", &a, &json!({"id": "x", "mobile": true}));
    assert_eq!(
        error_of(&r),
        (400, "INVALID_FIELD".into(), Some("mobile".into()))
    );
    let r = s.post(
        "/api/v1/devices",
        &a,
        &json!({"name": "d1", "kind": "sip_phone", "css": "Nope-CSS"}),
    );
    assert_eq!(
        error_of(&r),
        (422, "UNKNOWN_REFERENCE".into(), Some("css".into()))
    );
    let r = s.post("/api/v1/patterns", &a, &route_pattern("9.@"));
    assert_eq!(error_of(&r).1, "INVALID_FIELD");
    let r = s.delete("/api/v1/partitions/Internal", &a);
    assert_eq!((r.status, r.code().as_str()), (409, "IN_USE"));
    // One byte over the 1 MiB JSON limit, so the server reads the whole body before it answers
    // (a larger body would be cut off mid-send, a connection reset rather than a response).
    let frame = "{\"id\":\"x\",\"name\":\"\"}".len();
    let big = format!(
        "{{\"id\":\"x\",\"name\":\"{}\"}}",
        "n".repeat((1 << 20) + 1 - frame)
    );
    assert_eq!(big.len(), (1 << 20) + 1);
    let r = s.call("POST", "/api/v1/users", &a, Some(&big));
    assert_eq!((r.status, r.code().as_str()), (413, "PAYLOAD_TOO_LARGE"));

    // Delete everything, in dependency order, and see it gone.
    for (collection, key, _, _) in [
        (
            "remote-destinations",
            "CTRIDalice/Mobile".to_string(),
            "",
            json!(null),
        ),
        ("lines", "Internal/2000".into(), "", json!(null)),
        ("devices", "CTRIDalice".into(), "", json!(null)),
        ("users", "alice".into(), "", json!(null)),
        (
            "patterns",
            format!("PSTN/{}", enc("\\+1!")),
            "",
            json!(null),
        ),
        ("patterns", format!("PSTN/{}", enc("9.!")), "", json!(null)),
        (
            "patterns",
            format!("PSTN/{}", enc("8.[2-9]XX")),
            "",
            json!(null),
        ),
        ("route-lists", "PSTN-RL".into(), "", json!(null)),
        ("route-groups", "PSTN-RG".into(), "", json!(null)),
        ("trunks", "pstn-out".into(), "", json!(null)),
        ("css", "Reroute-CSS".into(), "", json!(null)),
        ("dial-rules", "ten-digit".into(), "", json!(null)),
        ("announcements", "sales".into(), "", json!(null)),
    ] {
        let path = format!("/api/v1/{collection}/{key}");
        let r = s.delete(&path, &a);
        assert_eq!(r.status, 204, "DELETE {path}: {}", r.body);
        assert_eq!(s.get(&path, &a).status, 404, "{path}");
        assert_eq!(s.delete(&path, &a).status, 404, "{path}");
    }
    assert_eq!(s.list("users", "").len(), 0);
    assert_eq!(s.list("patterns", "").len(), 0);
}

fn seed_vectors_on_the_end_user_path(backend: Backend) {
    let Some(env) = Env::new(backend, true, false) else {
        return;
    };
    let s = env.start();
    provision_base(&s, &["9.XXXX"]);
    let post = |name: &str, number: &str| {
        s.post(
            "/api/v1/remote-destinations",
            &ALICE(),
            &rd("CTRIDalice", name, number),
        )
    };
    // With route pattern 9.XXXX, adding 91000 succeeds.
    let r = post("Home", "91000");
    assert_eq!(r.status, 201, "{}", r.body);
    // A typo 91100 is accepted: verification is by pattern, not by number.
    assert_eq!(post("Typo", "91100").status, 201);
    // Updating 92000 -> 91000 succeeds (once the first 91000 is gone).
    assert_eq!(
        s.delete("/api/v1/remote-destinations/CTRIDalice/Home", &ALICE())
            .status,
        204
    );
    assert_eq!(post("Office", "92000").status, 201);
    let r = s.put(
        "/api/v1/remote-destinations/CTRIDalice/Office",
        &ALICE(),
        &rd("CTRIDalice", "Office", "91000"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["number"], "91000");

    // With only 8.XXXX, adding 91000 fails RD_NOT_REACHABLE.
    assert_eq!(
        s.delete(
            &format!("/api/v1/patterns/PSTN/{}", enc("9.XXXX")),
            &Auth::Admin
        )
        .status,
        204
    );
    s.create("patterns", route_pattern("8.XXXX"));
    assert_eq!(
        s.delete("/api/v1/remote-destinations/CTRIDalice/Office", &ALICE())
            .status,
        204
    );
    let r = post("Home", "91000");
    assert_eq!(
        error_of(&r),
        (422, "RD_NOT_REACHABLE".into(), Some("number".into()))
    );
    assert_eq!(
        s.get("/api/v1/remote-destinations/CTRIDalice/Home", &Auth::Admin)
            .status,
        404,
        "nothing was written"
    );
    // An update to an unreachable number is refused the same way.
    let r = s.put(
        "/api/v1/remote-destinations/CTRIDalice/Typo",
        &ALICE(),
        &rd("CTRIDalice", "Typo", "91101"),
    );
    assert_eq!(error_of(&r).1, "RD_NOT_REACHABLE");
    // 8.XXXX routes: a number that dials through it is accepted.
    assert_eq!(post("Desk", "81000").status, 201);
    // The administrator path is not verified.
    let r = s.post(
        "/api/v1/remote-destinations",
        &Auth::Admin,
        &rd("CTRIDalice", "Home", "91000"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn end_users_see_and_touch_only_their_own(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let alice = ALICE();
    let ids = |path: &str, auth: &Auth, field: &str| -> Vec<String> {
        let r = s.get(path, auth);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|o| o[field].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(ids("/api/v1/users", &alice, "id"), ["alice"]);
    assert_eq!(ids("/api/v1/devices", &alice, "name"), ["CTRIDalice"]);
    assert_eq!(ids("/api/v1/lines", &alice, "dn"), ["2000"]);
    assert_eq!(
        ids("/api/v1/remote-destinations", &alice, "name"),
        ["JabberRD", "Mobile"]
    );
    assert_eq!(s.get("/api/v1/users/alice", &alice).status, 200);
    assert_eq!(s.get("/api/v1/lines/Internal/2000", &alice).status, 200);
    for path in [
        "/api/v1/users/bob",
        "/api/v1/lines/Internal/2001",
        "/api/v1/patterns",
        "/api/v1/trunks",
        "/api/v1/bulk/users",
    ] {
        let r = s.get(path, &alice);
        assert_eq!((r.status, r.code().as_str()), (403, "FORBIDDEN"), "{path}");
    }
    let bob = basic("bob", "bob");
    let bob_devices = ids("/api/v1/devices", &bob, "name");
    assert_eq!(bob_devices.len(), 1);
    let r = s.get(&format!("/api/v1/devices/{}", bob_devices[0]), &alice);
    assert_eq!(r.status, 403);
    // Writes: only remote destinations, only on her own CTI remote device.
    let r = s.post("/api/v1/users", &alice, &json!({"id": "eve"}));
    assert_eq!((r.status, r.code().as_str()), (403, "FORBIDDEN"));
    let r = s.put(
        "/api/v1/users/alice",
        &alice,
        &json!({"id": "alice", "admin": true}),
    );
    assert_eq!(r.status, 403);
    let r = s.post(
        "/api/v1/remote-destinations",
        &alice,
        &rd(&bob_devices[0], "x", "914085550009"),
    );
    assert_eq!((r.status, r.code().as_str()), (403, "FORBIDDEN"));
    let r = s.post(
        "/api/v1/analyze",
        &alice,
        &json!({"device": "CTRIDalice", "digits": "91234"}),
    );
    assert_eq!(r.status, 403);
    let r = s.post(
        "/api/v1/remote-destinations",
        &alice,
        &rd("CTRIDalice", "Desk", "914085550009"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        s.delete("/api/v1/remote-destinations/CTRIDalice/Mobile", &alice)
            .status,
        204
    );
    // A user with the admin role acts as the administrator.
    s.create(
        "users",
        json!({"id": "carol", "admin": true, "password": "carol-pw"}),
    );
    let carol = basic("carol", "carol-pw");
    assert_eq!(s.get("/api/v1/patterns", &carol).status, 200);
    let r = s.post("/api/v1/partitions", &carol, &json!({"name": "Lab"}));
    assert_eq!(r.status, 201);
    // Repeated Basic requests are answered from the verification cache, and a new password
    // takes effect at once.
    for _ in 0..20 {
        assert_eq!(s.get("/api/v1/users/alice", &alice).status, 200);
    }
    let r = s.put(
        "/api/v1/users/carol",
        &Auth::Admin,
        &json!({"id": "carol", "admin": true, "password": "new-pw"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(s.get("/api/v1/patterns", &carol).status, 401);
    assert_eq!(
        s.get("/api/v1/patterns", &basic("carol", "new-pw")).status,
        200
    );
}

fn device_remote_destinations(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let alice = ALICE();
    let base = "/api/v1/devices/CTRIDalice/remote-destinations";
    let page = s.get(base, &alice).json();
    assert_eq!(page["total"], 2);
    assert_eq!(
        s.get(&format!("{base}?active=true"), &alice).json()["total"],
        1
    );
    // The device comes from the path; an end user's addition is verified.
    let r = s.post(
        base,
        &alice,
        &json!({"name": "Desk", "number": "914085550042"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["device"], "CTRIDalice");
    assert_eq!(
        r.header("location"),
        Some("/api/v1/remote-destinations/CTRIDalice/Desk")
    );
    let r = s.post(base, &alice, &json!({"name": "Lab", "number": "81000"}));
    assert_eq!(
        error_of(&r),
        (422, "RD_NOT_REACHABLE".into(), Some("number".into()))
    );
    let r = s.post(
        base,
        &alice,
        &json!({"device": "SIPbob", "name": "X", "number": "914085550043"}),
    );
    assert_eq!(
        error_of(&r),
        (400, "INVALID_FIELD".into(), Some("device".into()))
    );
    let item = format!("{base}/Desk");
    assert_eq!(s.get(&item, &alice).json()["number"], "914085550042");
    let r = s.put(
        &item,
        &alice,
        &json!({"device": "CTRIDalice", "name": "Desk", "number": "914085550044", "active": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        s.get("/api/v1/remote-destinations/CTRIDalice/Desk", &alice)
            .json()["number"],
        "914085550044"
    );
    assert_eq!(s.delete(&item, &alice).status, 204);
    assert_eq!(s.get(&item, &alice).status, 404);
    // Other people's devices and missing devices.
    let r = s.get("/api/v1/devices/SIPbob/remote-destinations", &alice);
    assert_eq!(r.status, 403);
    let r = s.get("/api/v1/devices/nope/remote-destinations", &Auth::Admin);
    assert_eq!((r.status, r.code().as_str()), (404, "NOT_FOUND"));
    let r = s.get(&format!("{base}?device=SIPbob"), &Auth::Admin);
    assert_eq!(r.status, 400);
}

fn remote_destination_rules(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let a = Auth::Admin;
    s.create("users", json!({"id": "dave", "mobility_enabled": true}));
    s.create(
        "devices",
        json!({"name": "CTRIDdave", "kind": "cti_remote_device", "owner": "dave",
               "reroute_css": "Reroute-CSS"}),
    );
    let r = s.post(
        "/api/v1/remote-destinations",
        &a,
        &rd("CTRIDdave", "Mobile", "+1-408-555-5555"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // Numbers that differ only by dialing prefix are the same number.
    for (auth, same) in [(a.clone(), "91-4085555555"), (ALICE(), "+14085555555")] {
        let r = s.post(
            "/api/v1/remote-destinations",
            &auth,
            &rd("CTRIDalice", "Dup", same),
        );
        assert_eq!(
            error_of(&r),
            (
                409,
                "DUPLICATE_REMOTE_DESTINATION".into(),
                Some("number".into())
            ),
            "{same}"
        );
    }
    // A directory number is never a remote destination.
    for dn in ["2000", "+14082002000", "2001"] {
        let r = s.post(
            "/api/v1/remote-destinations",
            &a,
            &rd("CTRIDalice", "DN", dn),
        );
        assert_eq!(error_of(&r).1, "RD_IS_DIRECTORY_NUMBER", "{dn}");
        assert_eq!(r.status, 409);
    }
    // At most max_remote_destinations (4) per device; alice has 2 from the demo.
    for (n, number) in [(3, "914085550003"), (4, "914085550004")] {
        let r = s.post(
            "/api/v1/remote-destinations",
            &ALICE(),
            &rd("CTRIDalice", &format!("rd{n}"), number),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = s.post(
        "/api/v1/remote-destinations",
        &a,
        &rd("CTRIDalice", "rd5", "914085550005"),
    );
    assert_eq!(error_of(&r).0, 422);
    assert_eq!(r.code(), "REMOTE_DESTINATION_LIMIT_EXCEEDED");
    let r = s.put(
        "/api/v1/users/alice",
        &a,
        &json!({"id": "alice", "mobility_enabled": true, "cti_enabled": true,
                "max_remote_destinations": 11}),
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "INVALID_FIELD".into(),
            Some("max_remote_destinations".into())
        )
    );
    // Only users with mobility may own a CTI remote device.
    let r = s.post(
        "/api/v1/devices",
        &a,
        &json!({"name": "CTRIDbob", "kind": "cti_remote_device", "owner": "bob"}),
    );
    assert_eq!(
        error_of(&r),
        (422, "MOBILITY_NOT_ENABLED".into(), Some("owner".into()))
    );
    // Five lines per device.
    for p in 2..=5 {
        s.create(
            "lines",
            json!({"partition": "Internal", "dn": format!("200{}", p + 5), "device": "CTRIDalice", "position": p}),
        );
    }
    let r = s.post(
        "/api/v1/lines",
        &a,
        &json!({"partition": "Internal", "dn": "2099", "device": "CTRIDalice", "position": 5}),
    );
    assert_eq!(error_of(&r).0, 422);
    let codes: Vec<String> = std::iter::once(r.code())
        .chain(
            r.json()["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["code"].as_str().map(str::to_owned)),
        )
        .collect();
    assert!(
        codes.iter().any(|c| c == "LINE_LIMIT_EXCEEDED"),
        "{}",
        r.body
    );
}

fn dialed_number_analyzer(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let a = Auth::Admin;
    let analyze = |body: Value| {
        let r = s.post("/api/v1/analyze", &a, &body);
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        r.json()
    };
    let v = analyze(json!({"device": "CTRIDalice", "digits": "91234"}));
    assert_eq!(v["matched"], true);
    assert_eq!(v["css"], "Internal-CSS");
    assert_eq!(v["pattern"], "9.!");
    assert_eq!(v["partition"], "PSTN");
    assert_eq!(v["called"], "1234");
    assert_eq!(v["calling"], "2000");
    assert_eq!(
        v["target"],
        json!({"kind": "route", "route_list": "PSTN-RL"})
    );
    assert_eq!(v["route"]["route_list"], "PSTN-RL");
    assert_eq!(v["route"]["groups"][0]["name"], "PSTN-RG");
    assert_eq!(v["trunks"], json!(["pstn-sim-out"]));
    assert_eq!(v["translations"], json!([]));
    assert_eq!(v["reachable"], true);

    let v = analyze(json!({"css": "Internal-CSS", "digits": "2001", "calling": "2000"}));
    assert_eq!(v["target"]["kind"], "line");
    assert_eq!(v["partition"], "Internal");
    assert_eq!(v["reachable"], false);

    let v = analyze(json!({"css": "Reroute-CSS", "digits": "2000"}));
    assert_eq!(v["matched"], false);
    assert_eq!(v["reason"]["error"], "no_match");
    assert!(v["message"].as_str().unwrap_or("").contains("Reroute-CSS"));
    let v = analyze(json!({"css": "Nope", "digits": "2000"}));
    assert_eq!(v["reason"]["error"], "unknown_css");

    // The remote-destination path: reroute CSS, after dial rules.
    let v =
        analyze(json!({"device": "CTRIDalice", "reroute": true, "digits": "+1 (415) 555-0100"}));
    assert_eq!(
        (v["css"].as_str(), v["pattern"].as_str()),
        (Some("Reroute-CSS"), Some("\\+1!"))
    );
    let v = analyze(json!({"device": "CTRIDalice", "reroute": true, "digits": "4155550123"}));
    assert_eq!(v["matched"], false);
    s.create(
        "dial-rules",
        json!({"name": "national", "begins_with": "4", "num_digits": 10, "prefix": "91"}),
    );
    let v = analyze(json!({"device": "CTRIDalice", "reroute": true, "digits": "4155550123"}));
    assert_eq!(v["digits"], "914155550123");
    assert_eq!(
        (v["matched"].as_bool(), v["pattern"].as_str()),
        (Some(true), Some("9.!"))
    );
    assert_eq!(v["called"], "14155550123");

    // Translation patterns are reported step by step.
    s.create("partitions", json!({"name": "Xlate"}));
    s.create("css", json!({"name": "Xlate-CSS", "partitions": ["Xlate"]}));
    s.create(
        "patterns",
        json!({"partition": "Xlate", "pattern": "5XXX", "kind": "translation", "css": "Internal-CSS",
               "called": {"mask": "2XXX"}}),
    );
    let v = analyze(json!({"css": "Xlate-CSS", "digits": "5000"}));
    assert_eq!(v["translations"][0]["called_after"], "2000");
    assert_eq!(v["target"], json!({"kind": "line", "device": "CTRIDalice"}));

    for (body, status, field) in [
        (json!({"digits": "91234"}), 400, "css"),
        (
            json!({"css": "Internal-CSS", "device": "CTRIDalice", "digits": "1"}),
            400,
            "css",
        ),
        (
            json!({"css": "Internal-CSS", "reroute": true, "digits": "1"}),
            400,
            "reroute",
        ),
        (json!({"device": "nope", "digits": "1"}), 422, "device"),
        (json!({"css": "Internal-CSS"}), 400, "digits"),
    ] {
        let r = s.post("/api/v1/analyze", &a, &body);
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (status, Some(field)),
            "{body}: {}",
            r.body
        );
    }
}

fn bulk_csv_round_trip(backend: Backend) {
    let Some(env) = Env::new(backend, true, true) else {
        return;
    };
    let s = env.start();
    let a = Auth::Admin;
    let csv = |method: &str, path: &str, body: Option<&str>| {
        s.send(method, path, &a, body, "text/csv")
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    };

    let users = csv("GET", "/api/v1/bulk/users", None);
    assert_eq!(users.status, 200);
    assert!(users
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/csv"));
    let mut lines = users.body.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,mobility_enabled,cti_enabled,max_remote_destinations,admin,password,associated_devices")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "alice, bob and the scenario devices' owner");
    assert!(rows[0].starts_with("alice,Alice Example,true,true,4,false,"));
    assert!(
        rows.iter().all(|r| r.ends_with(',')),
        "passwords are never exported"
    );

    // Dry run: reports, writes nothing.
    let import = "id,name,mobility_enabled,password\nerin,Erin,true,erin-pw\nbob,Robert,false,\n";
    let r = csv("POST", "/api/v1/bulk/users?dry_run=true", Some(import));
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["created"].as_u64(),
            report["updated"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (report["dry_run"].as_bool(), report["committed"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(s.get("/api/v1/users/erin", &a).status, 404);
    // Commit.
    let r = csv("POST", "/api/v1/bulk/users", Some(import));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["committed"], true);
    assert_eq!(s.get("/api/v1/users/bob", &a).json()["name"], "Robert");
    assert_eq!(
        s.get("/api/v1/users/erin", &basic("erin", "erin-pw"))
            .status,
        200
    );

    // Per-row errors: every bad row is reported, and nothing is written.
    let bad =
        "id,mobility_enabled,max_remote_destinations\nfrank,true,4\ngina,maybe,4\nhal,false,x\n";
    let r = csv("POST", "/api/v1/bulk/users", Some(bad));
    assert_eq!(r.status, 422, "{}", r.body);
    let report = r.json();
    let errors = report["errors"].as_array().expect("errors");
    let rows: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [(3, "mobility_enabled"), (4, "max_remote_destinations")]
    );
    assert_eq!(report["committed"], false);
    assert_eq!(s.get("/api/v1/users/frank", &a).status, 404);
    // Rule violations are reported against their rows too.
    let rds = "device,name,number\nCTRIDalice,Desk,+14085550111\nCTRIDalice,Line,2000\n";
    let r = csv("POST", "/api/v1/bulk/remote-destinations", Some(rds));
    assert_eq!(r.status, 422, "{}", r.body);
    let e = &r.json()["errors"][0];
    assert_eq!(
        (e["row"].as_u64(), e["code"].as_str()),
        (Some(3), Some("RD_IS_DIRECTORY_NUMBER"))
    );
    let r = csv("POST", "/api/v1/bulk/users", Some("id,shoe_size\nx,9\n"));
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["row"], 1);

    // Round trip: export remote destinations, delete them, import the file, same objects.
    let before = s.list("remote-destinations", "");
    let exported = csv("GET", "/api/v1/bulk/remote-destinations", None);
    assert_eq!(exported.body.lines().count(), 1 + before.len());
    for rd in &before {
        let path = format!(
            "/api/v1/remote-destinations/{}/{}",
            enc(rd["device"].as_str().unwrap_or("")),
            enc(rd["name"].as_str().unwrap_or(""))
        );
        assert_eq!(s.delete(&path, &a).status, 204);
    }
    assert!(s.list("remote-destinations", "").is_empty());
    let r = csv(
        "POST",
        "/api/v1/bulk/remote-destinations",
        Some(&exported.body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["created"], before.len());
    assert_eq!(s.list("remote-destinations", ""), before);
    // Lines and devices export and re-import unchanged (all updates).
    for kind in ["devices", "lines"] {
        let out = csv("GET", &format!("/api/v1/bulk/{kind}"), None);
        let r = csv("POST", &format!("/api/v1/bulk/{kind}"), Some(&out.body));
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        // alice's, bob's and the eight scenario devices (and their lines).
        assert_eq!(
            (r.json()["created"].as_u64(), r.json()["updated"].as_u64()),
            (Some(0), Some(10))
        );
        assert_eq!(
            csv("GET", &format!("/api/v1/bulk/{kind}"), None).body,
            out.body
        );
    }
    assert_eq!(csv("GET", "/api/v1/bulk/patterns", None).status, 404);
}
