//! `tether ctl` against a running `tether serve` (SQLite; the REST suite covers PostgreSQL):
//! the real binary as a child process, its tables, `--json`, error lines and exit codes.

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{basic, Auth, Backend, Env, Server};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `tether ctl --url URL ARGS…` in `dir`, with no TETHER_* variables from outside.
fn ctl_at(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.arg("ctl")
        .args(["--url", url])
        .args(args)
        .current_dir(dir);
    for var in [
        "TETHER_URL",
        "TETHER_TOKEN",
        "TETHER_USER",
        "TETHER_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tether ctl");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ctl(env: &Env, s: &Server, args: &[&str]) -> Run {
    ctl_at(env.path(), &s.base, args, &[])
}

/// Runs and insists on exit 0.
fn ok(env: &Env, s: &Server, args: &[&str]) -> String {
    let r = ctl(env, s, args);
    assert_eq!(r.code, Some(0), "{args:?}: {r}");
    r.stdout
}

/// The whitespace-separated cells of every line.
fn rows(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

/// Remote destinations in the demo: alice's two and the scenario devices' nine.
const DEMO_RDS: usize = 11;
/// Users in the demo: alice, bob and the owner of the scenario devices.
const DEMO_USERS: usize = 3;

/// A demo server whose admin token is generated into the working directory.
fn demo() -> (Env, Server) {
    let env = Env::new(Backend::Sqlite, false, true).expect("sqlite env");
    let s = env.start();
    (env, s)
}

#[test]
fn tables_and_json_with_the_token_file() {
    let (env, s) = demo();
    // No credentials given: the token file serve wrote in the working directory is used.
    let users = ok(&env, &s, &["users", "list"]);
    let table = rows(&users);
    assert_eq!(
        table[0],
        ["ID", "NAME", "MOBILITY", "CTI", "MAX_RDS", "ADMIN"]
    );
    assert!(table.iter().any(|r| r.first() == Some(&"alice")), "{users}");
    let rds = ok(&env, &s, &["remote-destinations", "list"]);
    assert_eq!(
        rows(&rds)[..3],
        [
            vec!["DEVICE", "NAME", "NUMBER", "ACTIVE"],
            vec!["CTRIDalice", "JabberRD", "+14157777777", "true"],
            vec!["CTRIDalice", "Mobile", "+14155550100", "false"],
        ]
    );
    // Alice's two, then the scenario devices' nine.
    assert_eq!(rows(&rds).len(), 1 + DEMO_RDS, "{rds}");
    let lines = ok(
        &env,
        &s,
        &["lines", "list", "--filter", "device=CTRIDalice"],
    );
    assert_eq!(
        rows(&lines)[0][..5],
        ["PARTITION", "DN", "DEVICE", "POS", "E164"]
    );
    assert_eq!(
        rows(&lines)[1][..5],
        ["Internal", "2000", "CTRIDalice", "1", "+14082002000"]
    );
    assert_eq!(rows(&lines).len(), 2, "filtered to alice's line: {lines}");

    // --json is the server's JSON.
    let json: Value = serde_json::from_str(&ok(&env, &s, &["users", "list", "--json"]))
        .expect("users list --json parses");
    assert_eq!(json["total"], DEMO_USERS);
    assert_eq!(json["items"][0]["id"], "alice");
    let line: Value = serde_json::from_str(&ok(
        &env,
        &s,
        &["--json", "lines", "get", "Internal", "2000"],
    ))
    .expect("get --json parses");
    assert_eq!(line["e164"], "+14082002000");

    // Paging: a partial page says so on stderr, --all fetches everything.
    let r = ctl(&env, &s, &["users", "list", "--limit", "1"]);
    assert_eq!(rows(&r.stdout).len(), 2, "{r}");
    assert!(
        r.stderr.contains(&format!("rows 1-1 of {DEMO_USERS}")) && r.stderr.contains("--offset 1"),
        "{r}"
    );
    let all: Value =
        serde_json::from_str(&ok(&env, &s, &["users", "list", "--all", "--json"])).expect("json");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(DEMO_USERS));

    // create, update (typed by the field: the number stays a string), get, delete.
    ok(
        &env,
        &s,
        &[
            "partitions",
            "create",
            "--set",
            "name=Lab",
            "--set",
            "description=test lab",
        ],
    );
    let out = ok(
        &env,
        &s,
        &[
            "users",
            "update",
            "alice",
            "--set",
            "max_remote_destinations=6",
            "--set",
            "name=Alice A.",
        ],
    );
    assert!(
        rows(&out).contains(&vec!["max_remote_destinations", "6"]),
        "{out}"
    );
    assert_eq!(
        s.get("/api/v1/users/alice", &Auth::Bearer(token(&env)))
            .json()["name"],
        "Alice A."
    );
    ok(
        &env,
        &s,
        &[
            "rds",
            "update",
            "CTRIDalice",
            "Mobile",
            "--set",
            "number=914085550199",
        ],
    );
    let rd: Value = serde_json::from_str(&ok(
        &env,
        &s,
        &["rds", "get", "CTRIDalice", "Mobile", "--json"],
    ))
    .expect("json");
    assert_eq!(rd["number"], "914085550199");
    assert!(ok(&env, &s, &["partitions", "delete", "Lab"]).contains("deleted partition Lab"));
    let r = ctl(&env, &s, &["partitions", "get", "Lab"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: NOT_FOUND: "), "{r}");

    // API errors: the code, message and field on stderr, exit 1.
    let r = ctl(&env, &s, &["partitions", "delete", "Internal"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: IN_USE: "), "{r}");
    let r = ctl(&env, &s, &["users", "list", "--filter", "colour=red"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(
        r.stderr.contains("INVALID_FIELD") && r.stderr.contains("(field: colour)"),
        "{r}"
    );
    // Usage errors: exit 2, nothing sent.
    let r = ctl(&env, &s, &["lines", "get", "2000"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("PARTITION DN"), "{r}");
    let r = ctl(&env, &s, &["users", "list", "--all", "--limit", "3"]);
    assert_eq!(r.code, Some(2), "{r}");

    // Health needs no credentials; a wrong token is refused.
    let r = ctl_at(Path::new("/"), &s.base, &["health"], &[]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(rows(&r.stdout).contains(&vec!["status", "ok"]), "{r}");
    let r = ctl(
        &env,
        &s,
        &["--token", "not-the-token-at-all", "users", "list"],
    );
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: UNAUTHORIZED: "), "{r}");
}

fn token(env: &Env) -> String {
    std::fs::read_to_string(env.token_file())
        .expect("token file")
        .trim()
        .to_owned()
}

#[test]
fn remote_destinations_as_alice() {
    let (env, s) = demo();
    let alice = ["--user", "alice", "--password", "alice"];
    let args = |rest: &[&'static str]| -> Vec<&'static str> {
        alice.iter().copied().chain(rest.iter().copied()).collect()
    };
    // Reachable through her reroute CSS (9.! in PSTN): added.
    let out = ok(
        &env,
        &s,
        &args(&["rd", "add", "CTRIDalice", "Desk", "914085550100"]),
    );
    assert_eq!(
        rows(&out),
        [
            vec!["DEVICE", "NAME", "NUMBER", "ACTIVE"],
            vec!["CTRIDalice", "Desk", "914085550100", "false"],
        ]
    );
    // Not reachable: refused by the server, nothing written.
    let r = ctl(
        &env,
        &s,
        &args(&["rd", "add", "CTRIDalice", "Lab", "81000"]),
    );
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: RD_NOT_REACHABLE: "), "{r}");
    assert!(r.stderr.contains("(field: number)"), "{r}");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(
        s.get(
            "/api/v1/remote-destinations/CTRIDalice/Lab",
            &basic("alice", "alice")
        )
        .status,
        404
    );
    // Credentials from the environment; a wrong password is refused.
    let r = ctl_at(
        env.path(),
        &s.base,
        &["rds", "list"],
        &[("TETHER_USER", "alice"), ("TETHER_PASSWORD", "alice")],
    );
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(rows(&r.stdout).len(), 4, "{r}");
    let r = ctl(
        &env,
        &s,
        &["--user", "alice", "--password", "wrong", "rds", "list"],
    );
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: UNAUTHORIZED: "), "{r}");
    // Not hers.
    let r = ctl(
        &env,
        &s,
        &args(&["rd", "add", "SIPbob", "X", "914085550101"]),
    );
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: FORBIDDEN: "), "{r}");

    // activate: Mobile on, every other one off.
    let out = ok(&env, &s, &args(&["rd", "activate", "CTRIDalice", "Mobile"]));
    let active: Vec<(String, String)> = rows(&out)
        .iter()
        .skip(1)
        .map(|r| (r[1].to_owned(), r[3].to_owned()))
        .collect();
    assert_eq!(
        active,
        [
            ("Desk".to_owned(), "false".to_owned()),
            ("JabberRD".to_owned(), "false".to_owned()),
            ("Mobile".to_owned(), "true".to_owned()),
        ]
    );
    let page = s.get(
        "/api/v1/remote-destinations?active=true",
        &basic("alice", "alice"),
    );
    assert_eq!(page.json()["total"], 1);
    assert_eq!(page.json()["items"][0]["name"], "Mobile");
    let r = ctl(&env, &s, &args(&["rd", "activate", "CTRIDalice", "Nope"]));
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.starts_with("error: NOT_FOUND: "), "{r}");

    // Only new or changed numbers are verified: the administrator's unverified, unreachable
    // Lab can still be switched off by alice when she activates another RD.
    ok(
        &env,
        &s,
        &["rd", "add", "CTRIDalice", "Lab", "81000", "--active"],
    );
    let out = ok(
        &env,
        &s,
        &args(&["rd", "activate", "CTRIDalice", "JabberRD"]),
    );
    let active: Vec<(String, String)> = rows(&out)
        .iter()
        .skip(1)
        .map(|r| (r[1].to_owned(), r[3].to_owned()))
        .collect();
    assert!(
        active.contains(&("JabberRD".to_owned(), "true".to_owned()))
            && active.contains(&("Lab".to_owned(), "false".to_owned())),
        "{out}"
    );
    // Changing Lab's number is verified, and refused.
    let r = ctl(
        &env,
        &s,
        &args(&[
            "remote-destinations",
            "update",
            "CTRIDalice",
            "Lab",
            "--set",
            "number=81001",
        ]),
    );
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.contains("RD_NOT_REACHABLE"), "{r}");
}

#[test]
fn import_reports_failed_rows_and_export_writes_csv() {
    let (env, s) = demo();
    let bad = env.path().join("users.csv");
    std::fs::write(
        &bad,
        "id,name,mobility_enabled\nerin,Erin,true\ngina,Gina,maybe\n",
    )
    .expect("write csv");
    let file = bad.to_str().expect("utf-8 path");
    for dry in [true, false] {
        let mut args = vec!["import", "users", file];
        if dry {
            args.push("--dry-run");
        }
        let r = ctl(&env, &s, &args);
        assert_eq!(r.code, Some(1), "{args:?}: {r}");
        let table = rows(&r.stdout);
        assert_eq!(table[0], ["ROW", "CODE", "FIELD", "MESSAGE"], "{r}");
        assert_eq!(
            table[1][..3],
            ["3", "INVALID_FIELD", "mobility_enabled"],
            "{r}"
        );
        assert_eq!(table.len(), 2, "only the bad row: {r}");
        assert!(r.stderr.contains("1 of 2 rows failed (row 3)"), "{r}");
        assert!(r.stderr.contains("nothing was written"), "{r}");
        let report: Value =
            serde_json::from_str(&ctl(&env, &s, &[&args[..], &["--json"]].concat()).stdout)
                .expect("--json report");
        assert_eq!(report["errors"][0]["row"], 3);
        assert_eq!(report["dry_run"], dry);
    }
    let admin = Auth::Bearer(token(&env));
    assert_eq!(
        s.get("/api/v1/users/erin", &admin).status,
        404,
        "all or nothing"
    );

    std::fs::write(&bad, "id,name,mobility_enabled\nerin,Erin,true\n").expect("write csv");
    let out = ok(&env, &s, &["import", "users", file, "--dry-run"]);
    assert!(out.contains("1 row checked: 1 would be created"), "{out}");
    assert_eq!(s.get("/api/v1/users/erin", &admin).status, 404, "dry run");
    let out = ok(&env, &s, &["import", "users", file]);
    assert!(
        out.contains("1 row committed: 1 created, 0 updated"),
        "{out}"
    );
    assert_eq!(s.get("/api/v1/users/erin", &admin).json()["name"], "Erin");

    let csv = ok(&env, &s, &["export", "users"]);
    assert!(csv.starts_with("id,name,mobility_enabled,"), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("erin,Erin,true,")),
        "{csv}"
    );
    let out_file = env.path().join("rds.csv");
    let r = ctl(
        &env,
        &s,
        &[
            "export",
            "remote-destinations",
            "-o",
            out_file.to_str().expect("path"),
        ],
    );
    assert_eq!(r.code, Some(0), "{r}");
    assert!(
        r.stderr
            .contains(&format!("wrote {DEMO_RDS} remote-destinations")),
        "{r}"
    );
    let written = std::fs::read_to_string(&out_file).expect("exported file");
    assert_eq!(written.lines().count(), 1 + DEMO_RDS, "{written}");
    let r = ctl(&env, &s, &["import", "users", "missing.csv"]);
    assert_eq!(r.code, Some(2), "{r}");
}

#[test]
fn analyze_prints_pattern_route_and_trunk() {
    let (env, s) = demo();
    let out = ok(&env, &s, &["analyze", "--device", "CTRIDalice", "91234"]);
    let table = rows(&out);
    for want in [
        vec!["css", "Internal-CSS"],
        vec!["matched", "yes"],
        vec!["pattern", "9.!"],
        vec!["partition", "PSTN"],
        vec!["called", "1234"],
        vec!["route", "list", "PSTN-RL"],
        vec!["trunks", "pstn-sim-out"],
    ] {
        assert!(table.contains(&want), "{want:?} missing from:\n{out}");
    }
    let out = ok(
        &env,
        &s,
        &[
            "analyze",
            "--device",
            "CTRIDalice",
            "--reroute",
            "+1 (415) 555-0100",
        ],
    );
    assert!(rows(&out).contains(&vec!["css", "Reroute-CSS"]), "{out}");
    assert!(rows(&out).contains(&vec!["pattern", "\\+1!"]), "{out}");
    let out = ok(&env, &s, &["analyze", "--css", "Reroute-CSS", "2000"]);
    assert!(rows(&out).contains(&vec!["matched", "no"]), "{out}");
    assert!(out.contains("Reroute-CSS"), "{out}");
    let v: Value = serde_json::from_str(&ok(
        &env,
        &s,
        &["analyze", "--css", "Internal-CSS", "91234", "--json"],
    ))
    .expect("json");
    assert_eq!(v["trunks"][0], "pstn-sim-out");
    let r = ctl(&env, &s, &["analyze", "--device", "nope", "1"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(
        r.stderr.contains("UNKNOWN_REFERENCE") && r.stderr.contains("(field: device)"),
        "{r}"
    );
    let r = ctl(&env, &s, &["analyze", "1"]);
    assert_eq!(r.code, Some(2), "css or device is required: {r}");
}

#[test]
fn no_server_no_credentials_no_tls() {
    // A port nothing listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = ctl_at(
        dir.path(),
        &url,
        &["--token", "0123456789abcdef", "users", "list"],
        &[],
    );
    assert_eq!(r.code, Some(3), "{r}");
    assert!(
        r.stderr.contains(&format!("cannot reach Tether at {url}")),
        "{r}"
    );
    assert!(r.stderr.contains("tether serve"), "{r}");
    let r = ctl_at(dir.path(), &url, &["health"], &[]);
    assert_eq!(r.code, Some(3), "{r}");
    // From TETHER_URL too.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    let out = cmd
        .args(["ctl", "health"])
        .env("TETHER_URL", &url)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&url));

    // No credentials anywhere: a usage error that says where they come from.
    let r = ctl_at(dir.path(), &url, &["users", "list"], &[]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("--token") && r.stderr.contains("tether-admin.token"),
        "{r}"
    );
    let r = ctl_at(dir.path(), "https://127.0.0.1:8443", &["health"], &[]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("plain http://"), "{r}");
}
