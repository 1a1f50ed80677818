//! Real SIPp for the scenario tests: runs one scenario of `sip-scenarios/` as a UAC against a
//! server, bounded in time, and reads its outcome — exit code and the cumulative counters of
//! its statistics file (`-trace_stat`) — keeping its output, errors and message trace to show
//! when something is off.
//!
//! Without `sipp` on the PATH the tests skip with a message, unless `CI` is set: then they fail
//! (`scripts/install-test-deps.sh` installs it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT_RUN: AtomicU32 = AtomicU32::new(0);

/// Whether SIPp can run here; false (with a message) when it is missing outside CI.
pub fn available() -> bool {
    match Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => true,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but sipp cannot run ({e}): run scripts/install-test-deps.sh")
        }
        Err(e) => {
            eprintln!(
                "skipping: sipp cannot run ({e}); install it with scripts/install-test-deps.sh"
            );
            false
        }
    }
}

/// The path of a scenario file of `sip-scenarios/`.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sip-scenarios")
        .join(format!("{name}.xml"))
}

/// One SIPp run: a scenario, the number it calls, where, and from which address.
pub struct Run<'a> {
    pub scenario: &'a str,
    /// `-s`: the user part of the Request-URI.
    pub service: &'a str,
    pub target: SocketAddr,
    /// `-i`: the address SIPp binds and names itself by.
    pub local_ip: &'a str,
    /// `-m`: calls to place.
    pub calls: u32,
    /// More arguments (`-r 1`, `-l 2`, …).
    pub extra: &'a [&'a str],
    /// Longest the run may take; it is killed after that.
    pub limit: Duration,
}

/// What a SIPp run left.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (None: killed at the time limit, or by a signal).
    pub exit: Option<i32>,
    pub timed_out: bool,
    /// Cumulative counters of the last line of the statistics file, by column name.
    pub counters: HashMap<String, String>,
    pub wall: Duration,
    stdout: PathBuf,
    errors: PathBuf,
    messages: PathBuf,
}

impl Run<'_> {
    /// Runs SIPp in `dir` (its files stay there) and waits for it, polling, up to the limit.
    pub fn run(&self, dir: &Path) -> Outcome {
        let n = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}-{n}", self.scenario);
        let stats = dir.join(format!("sipp-{tag}-stats.csv"));
        let stdout = dir.join(format!("sipp-{tag}.out"));
        let errors = dir.join(format!("sipp-{tag}-errors.log"));
        let messages = dir.join(format!("sipp-{tag}-messages.log"));
        let out = std::fs::File::create(&stdout).expect("SIPp output file");
        let err = out.try_clone().expect("SIPp output file");
        let started = Instant::now();
        let mut child = Command::new("sipp")
            .arg("-sf")
            .arg(scenario(self.scenario))
            .args(["-s", self.service])
            .arg(self.target.to_string())
            // -p 0: SIPp takes the first free port from 5060 up.
            .args(["-i", self.local_ip, "-p", "0", "-t", "u1"])
            .args(["-m", &self.calls.to_string()])
            .args(self.extra)
            .args(["-nostdin", "-trace_stat", "-stf"])
            .arg(&stats)
            .args(["-trace_err", "-error_file"])
            .arg(&errors)
            .args(["-trace_msg", "-message_file"])
            .arg(&messages)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start sipp");
        let mut exit = None;
        let ended = super::poll_until(self.limit, || {
            exit = child.try_wait().expect("wait for sipp");
            exit.is_some()
        });
        if !ended {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (exit, timed_out) = (exit.and_then(|s| s.code()), !ended);
        Outcome {
            exit,
            timed_out,
            counters: last_counters(&stats),
            wall: started.elapsed(),
            stdout,
            errors,
            messages,
        }
    }
}

/// The last line of SIPp's `;`-separated statistics file, keyed by the header's names.
fn last_counters(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .zip(last.split(';'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

impl Outcome {
    /// A cumulative counter (`SuccessfulCall`, `FailedCall`, …); panics when it is missing.
    pub fn counter(&self, name: &str) -> u64 {
        let key = format!("{name}(C)");
        self.counters
            .get(&key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("SIPp statistics have no {key}\n{}", self.report()))
    }

    /// SIPp exited 0 with `calls` successful calls, none failed, no unexpected message.
    pub fn assert_clean(&self, calls: u64) {
        let ok = !self.timed_out
            && self.exit == Some(0)
            && !self.counters.is_empty()
            && self.counter("SuccessfulCall") == calls
            && self.counter("FailedCall") == 0
            && self.counter("FailedUnexpectedMessage") == 0;
        assert!(
            ok,
            "SIPp: expected {calls} successful calls, 0 failed, 0 unexpected, exit 0\n{}",
            self.report()
        );
    }

    /// Exit code, counters, output, errors and the message trace, for a failure message.
    pub fn report(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let mut keys: Vec<&String> = self
            .counters
            .keys()
            .filter(|k| k.ends_with("(C)"))
            .collect();
        keys.sort();
        let counters: Vec<String> = keys
            .into_iter()
            .filter(|k| self.counters.get(*k).is_some_and(|v| v != "0"))
            .map(|k| format!("{k}={}", self.counters[k]))
            .collect();
        format!(
            "exit {:?}{} after {:?}; counters {}\n---- SIPp output (tail) ----\n{}\n\
             ---- SIPp errors ----\n{}\n---- SIPp messages ----\n{}",
            self.exit,
            if self.timed_out {
                " (killed at the time limit)"
            } else {
                ""
            },
            self.wall,
            counters.join(" "),
            tail(&read(&self.stdout), 60),
            read(&self.errors),
            read(&self.messages),
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A SIPp running in the background (a UAS playing the far parties while a test drives
/// Tether over CTI).
pub struct Running {
    child: std::process::Child,
    started: Instant,
    stats: PathBuf,
    stdout: PathBuf,
    errors: PathBuf,
    messages: PathBuf,
}

/// Starts SIPp's built-in UAS (`-sn uas`: 180, 200 with SDP, then waits for the ACK and the
/// BYE) on `127.0.0.1:port`, to take `calls` calls, in `dir`.
pub fn start_uas(dir: &Path, port: u16, calls: u32) -> Running {
    start_server(dir, port, calls, None)
}

/// Starts `scenario` of `sip-scenarios/` as a UAS on `127.0.0.1:port` (see [`start_uas`]).
pub fn start_uas_scenario(dir: &Path, port: u16, calls: u32, scenario: &str) -> Running {
    start_server(dir, port, calls, Some(scenario))
}

fn start_server(dir: &Path, port: u16, calls: u32, file: Option<&str>) -> Running {
    let mut args: Vec<String> = match file {
        Some(f) => vec!["-sf".into(), scenario(f).display().to_string()],
        None => vec!["-sn".into(), "uas".into()],
    };
    args.extend([
        "-p".into(),
        port.to_string(),
        "-m".into(),
        calls.to_string(),
    ]);
    spawn(dir, "uas", &args)
}

/// Starts SIPp in `dir` with `args` (on 127.0.0.1 over UDP, no keyboard, statistics, errors
/// and the message trace in files named after `tag`) and leaves it running.
fn spawn(dir: &Path, tag: &str, args: &[String]) -> Running {
    let n = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
    let tag = format!("{tag}-{n}");
    let stats = dir.join(format!("sipp-{tag}-stats.csv"));
    let stdout = dir.join(format!("sipp-{tag}.out"));
    let errors = dir.join(format!("sipp-{tag}-errors.log"));
    let messages = dir.join(format!("sipp-{tag}-messages.log"));
    let out = std::fs::File::create(&stdout).expect("SIPp output file");
    let err = out.try_clone().expect("SIPp output file");
    let child = Command::new("sipp")
        .args(args)
        .args(["-i", "127.0.0.1", "-t", "u1"])
        .args(["-nostdin", "-trace_stat", "-stf"])
        .arg(&stats)
        .args(["-trace_err", "-error_file"])
        .arg(&errors)
        .args(["-trace_msg", "-message_file"])
        .arg(&messages)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start sipp");
    Running {
        child,
        started: Instant::now(),
        stats,
        stdout,
        errors,
        messages,
    }
}

impl Running {
    /// The message trace so far (every message SIPp sent and received).
    pub fn messages(&self) -> String {
        std::fs::read_to_string(&self.messages).unwrap_or_default()
    }

    /// Polls the message trace until `needle` shows up `count` times or `limit` passes.
    pub fn wait_for(&self, needle: &str, count: usize, limit: Duration) -> bool {
        super::poll_until(limit, || self.messages().matches(needle).count() >= count)
    }

    /// Waits for SIPp to end (killed at `limit`) and reads its outcome.
    pub fn wait(mut self, limit: Duration) -> Outcome {
        let mut exit = None;
        let ended = super::poll_until(limit, || {
            exit = self.child.try_wait().expect("wait for sipp");
            exit.is_some()
        });
        if !ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let (exit, timed_out) = (exit.and_then(|s| s.code()), !ended);
        Outcome {
            exit,
            timed_out,
            counters: last_counters(&self.stats),
            wall: self.started.elapsed(),
            stdout: self.stdout.clone(),
            errors: self.errors.clone(),
            messages: self.messages.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `scenario` of `sip-scenarios/` as a UAC calling `service` at `target`, in the
/// background (a caller that waits while a test drives Tether over CTI), from 127.0.0.1.
pub fn start_uac(dir: &Path, scenario_name: &str, service: &str, target: SocketAddr) -> Running {
    let args: Vec<String> = vec![
        "-sf".into(),
        scenario(scenario_name).display().to_string(),
        "-s".into(),
        service.into(),
        target.to_string(),
        "-p".into(),
        "0".into(),
        "-m".into(),
        "1".into(),
    ];
    spawn(dir, &format!("uac-{scenario_name}"), &args)
}
