//! Real-process harness for the REST tests: a database (SQLite file in a temporary directory, or
//! a fresh PostgreSQL database), the built `tether` binary started on port 0, readiness read
//! from its stdout and confirmed on /api/v1/health, and a small blocking HTTP client.
//!
//! PostgreSQL: `TETHER_TEST_POSTGRES_URL` names an account that may create databases (see
//! `scripts/postgres-test-server.sh`); each test gets its own database. With `CI` set, a missing
//! URL fails instead of skipping.

#![allow(dead_code)] // each test crate uses a different part

pub mod capture;
pub mod cti;
pub mod phone;
pub mod sipp;
pub mod trace;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
const START_DEADLINE: Duration = Duration::from_secs(60);

static NEXT_DB: AtomicU32 = AtomicU32::new(0);
/// Media port ranges handed to servers, one per server of this test binary.
static NEXT_MEDIA: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's database and working directory; servers started from it share both.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub backend: Backend,
    config: PathBuf,
}

impl Env {
    /// A fresh database of `backend` (None: PostgreSQL is not configured and this is not CI).
    /// `admin_token`: whether the config file sets one; `seed`: `[demo] seed`.
    pub fn new(backend: Backend, admin_token: bool, seed: bool) -> Option<Env> {
        Env::with_config(backend, admin_token, seed, "")
    }

    /// As [`Env::new`], with `extra` appended to the config file (whole sections).
    pub fn with_config(
        backend: Backend,
        admin_token: bool,
        seed: bool,
        extra: &str,
    ) -> Option<Env> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("tether.db").display()),
            Backend::Postgres => postgres_url()?,
        };
        // No PSTN simulator by default (several servers run at once on one machine).
        let mut config = format!("[demo]\nseed = {seed}\n");
        if !extra.contains("[pstn]") {
            config.push_str("[pstn]\nenabled = false\n");
        }
        if admin_token {
            config.push_str(&format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n"));
        }
        if !extra.contains("[media]") {
            // Servers of one test binary run at once: each gets RTP ports of its own.
            // Below the kernel's ephemeral ports (32768 up, where SIPp's and every `:0`
            // socket's come from) and above the PSTN simulator's RTP (20000 up): 21000-32199.
            let n = NEXT_MEDIA.fetch_add(1, Ordering::Relaxed) % 56;
            let min = 21_000 + n * 200;
            config.push_str(&format!(
                "[media]\nport_min = {min}\nport_max = {}\n",
                min + 199
            ));
        }
        config.push_str(extra);
        let path = dir.path().join("tether.toml");
        std::fs::write(&path, config).expect("write config");
        Some(Env {
            dir,
            url,
            backend,
            config: path,
        })
    }

    /// Starts `tether serve` (SIP on loopback, free ports) and waits until it answers.
    pub fn start(&self) -> Server {
        self.start_with(&["--sip", "127.0.0.1:0"])
    }

    /// Starts `tether serve` with `args` added and waits until it answers.
    pub fn start_with(&self, args: &[&str]) -> Server {
        let log = self.dir.path().join(format!(
            "stderr-{}.log",
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        ));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .args(["--http", "127.0.0.1:0", "--database", &self.url])
            .args(args)
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info,tether=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start tether");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("tether: ") {
                    let _ = tx.send(rest.trim().to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            sip_udp: None,
            sip_tcp: None,
            log,
            client: client(),
        };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => panic!(
                    "tether did not start; its log:\n{}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                ),
            };
            let addr = |s: &str| s.trim().parse::<SocketAddr>().ok();
            if let Some(a) = line.strip_prefix("sip UDP listening on ") {
                server.sip_udp = addr(a);
            } else if let Some(a) = line.strip_prefix("sip TCP listening on ") {
                server.sip_tcp = addr(a);
            } else if let Some(a) = line.strip_prefix("http listening on ") {
                server.base = format!("http://{}", a.trim());
                break;
            }
        }
        loop {
            if let Ok(r) = server.try_call("GET", "/api/v1/health", &Auth::None, None) {
                if r.status == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "tether never became healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn token_file(&self) -> PathBuf {
        self.dir.path().join("tether-admin.token")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A fresh PostgreSQL database URL, or None when not configured (and not CI).
fn postgres_url() -> Option<String> {
    let admin = match std::env::var("TETHER_TEST_POSTGRES_URL") {
        Ok(u) => u,
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but TETHER_TEST_POSTGRES_URL is not: run scripts/postgres-test-server.sh")
        }
        Err(_) => {
            eprintln!("skipping the PostgreSQL half: TETHER_TEST_POSTGRES_URL is not set");
            return None;
        }
    };
    let name = format!(
        "tether_rest_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut conn)
            .await
            .expect("drop");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
    });
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Credentials for one request.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Admin,
    Bearer(String),
    Basic(String, String),
}

pub fn basic(user: &str, password: &str) -> Auth {
    Auth::Basic(user.into(), password.into())
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

pub struct Server {
    child: Child,
    pub base: String,
    /// The SIP addresses it printed.
    pub sip_udp: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    log: PathBuf,
    client: ureq::Agent,
}

impl Server {
    pub fn call(&self, method: &str, path: &str, auth: &Auth, body: Option<&str>) -> Resp {
        self.try_call(method, path, auth, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Option<&str>,
    ) -> Result<Resp, ureq::Error> {
        self.send(method, path, auth, body, "application/json")
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Option<&str>,
        content_type: &str,
    ) -> Result<Resp, ureq::Error> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Admin => req = req.header("Authorization", format!("Bearer {ADMIN_TOKEN}")),
            Auth::Bearer(t) => req = req.header("Authorization", format!("Bearer {t}")),
            Auth::Basic(u, p) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                req = req.header("Authorization", format!("Basic {b64}"));
            }
        }
        let response = match body {
            Some(b) => {
                let req = req
                    .header("Content-Type", content_type)
                    .body(b.to_owned())
                    .map_err(ureq::Error::Http)?;
                self.client.run(req)?
            }
            None => {
                let req = req.body(()).map_err(ureq::Error::Http)?;
                self.client.run(req)?
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response.into_body().read_to_string()?;
        Ok(Resp {
            status,
            body,
            headers,
        })
    }

    pub fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.call("GET", path, auth, None)
    }

    pub fn post(&self, path: &str, auth: &Auth, body: &Value) -> Resp {
        self.call("POST", path, auth, Some(&body.to_string()))
    }

    pub fn put(&self, path: &str, auth: &Auth, body: &Value) -> Resp {
        self.call("PUT", path, auth, Some(&body.to_string()))
    }

    pub fn delete(&self, path: &str, auth: &Auth) -> Resp {
        self.call("DELETE", path, auth, None)
    }

    /// POST as admin and insist on 201.
    pub fn create(&self, collection: &str, body: Value) -> Value {
        let r = self.post(&format!("/api/v1/{collection}"), &Auth::Admin, &body);
        assert_eq!(r.status, 201, "create {collection} {body}: {}", r.body);
        r.json()
    }

    /// Every item of a collection as admin (first page of up to 1000).
    pub fn list(&self, collection: &str, query: &str) -> Vec<Value> {
        let r = self.get(
            &format!("/api/v1/{collection}?limit=1000{query}"),
            &Auth::Admin,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["items"].as_array().cloned().unwrap_or_default()
    }

    /// SIGTERM, then wait (bounded) for a graceful exit.
    pub fn stop(mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(30))
    }

    /// Sends a signal (`TERM`, `INT`) to the server.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// Its exit status once it has exited (within `limit`), polling.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tether did not stop; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it has exited already.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_some()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `/metrics` as (name with labels, value) pairs.
    pub fn metrics(&self) -> Vec<(String, f64)> {
        let r = self.get("/metrics", &Auth::None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect()
    }

    /// Polls `/metrics` until `check` holds (panics at `limit`, showing them).
    pub fn wait_metrics(
        &self,
        what: &str,
        limit: Duration,
        check: impl Fn(&[(String, f64)]) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let m = self.metrics();
            if check(&m) {
                return;
            }
            assert!(Instant::now() < deadline, "{what}: /metrics says {m:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until no call and no media leg is left.
    pub fn wait_settled(&self, limit: Duration) {
        self.wait_metrics("every call over", limit, |m| {
            metric(m, "tether_calls_active") == 0.0 && metric(m, "tether_media_legs") == 0.0
        });
    }

    /// Polls the CDR list (admin) with `query` until it holds `n` records (panics at `limit`);
    /// returns them, oldest first.
    pub fn wait_cdrs(&self, query: &str, n: u64, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let r = self.get(&format!("/api/v1/cdrs?{query}"), &Auth::Admin);
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            if v["total"].as_u64() == Some(n) {
                return v["items"].as_array().cloned().unwrap_or_default();
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} CDRs for {query:?}, have {v}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The value of metric `name` (with its labels) in `m`; panics when it is missing.
pub fn metric(m: &[(String, f64)], name: &str) -> f64 {
    m.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("{name} missing from /metrics: {m:?}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- tether's log ----\n{}\n---- end of log ----",
                self.log()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes one path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs each named test twice: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(super::support::Backend::Sqlite);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name(super::support::Backend::Postgres);
            })*
        }
    };
}

/// A UDP port free on loopback now (for SIPp to take).
pub fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

/// A server on the demo (SQLite, admin token) whose trunks point at a port free for SIPp to
/// play the PSTN on, the built-in simulator off: the environment, the server and that port.
pub fn sipp_pstn() -> (Env, Server, u16) {
    let port = free_udp_port();
    let env = Env::with_config(
        Backend::Sqlite,
        true,
        true,
        &format!("[pstn]\nenabled = false\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .expect("SQLite needs no setup");
    let server = env.start();
    (env, server, port)
}

/// Waits until `done` holds, checking it again every few milliseconds: the way to wait for
/// what another process writes (a file, an HTTP answer, its exit). False if `limit` passed.
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
