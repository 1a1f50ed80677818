//! `tether-bench`: load against a running Tether, measured from the outside.
//!
//! `tether-bench cti` drives Make Call (Dial Via Office reverse) over the CTI WebSocket: it
//! logs in, monitors the device, sends MakeCall at a fixed rate for a number of calls, and for
//! each call measures the time from sending MakeCall to the `Established` event (the remote
//! phone answered, then the target answered: both SIP legs set up), then clears it. The far
//! ends are whatever the server's trunks reach — `scripts/bench-cti.sh` puts SIPp's UAS there.
//! It prints one line of `key=value` figures: calls asked and sent, the rate achieved,
//! established, failed (an error response, a Failed or CallCleared event before Established,
//! or no Established within the timeout) and the latency percentiles in microseconds.
//!
//! One thread, one socket; every wait is bounded by the run's deadline.

use std::collections::HashMap;
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

#[derive(Parser)]
#[command(name = "tether-bench", about = "Load runner for Tether")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make Call over CTI at a fixed rate; MakeCall-to-Established latency.
    Cti(CtiArgs),
}

#[derive(clap::Args)]
struct CtiArgs {
    /// Base URL of Tether's HTTP listener (plain http://).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The admin token (or use --user/--password).
    #[arg(long, env = "TETHER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// The CTI remote device that places the calls (it needs an active RD).
    #[arg(long, default_value = "CTRIDalice")]
    device: String,
    /// The number each call reaches.
    #[arg(long, default_value = "+14155550123")]
    to: String,
    /// MakeCall requests per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Calls to place.
    #[arg(long, default_value_t = 1000)]
    calls: u64,
    /// Longest wait for one call's Established, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// How long a call stays up before it is cleared, in milliseconds.
    #[arg(long, default_value_t = 0)]
    hold_ms: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Cti(a) => run_cti(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether-bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// One call in flight.
struct Pending {
    sent: Instant,
    call: Option<u64>,
}

struct Ws {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_invoke: u64,
}

impl Ws {
    fn send(&mut self, mut v: Value) -> Result<u64, String> {
        let id = self.next_invoke;
        self.next_invoke += 1;
        v["invokeId"] = json!(id);
        self.ws
            .send(Message::text(v.to_string()))
            .map_err(|e| format!("send: {e}"))?;
        Ok(id)
    }

    /// One JSON message if one arrives within the socket's read timeout.
    fn read(&mut self) -> Result<Option<Value>, String> {
        match self.ws.read() {
            Ok(Message::Text(t)) => serde_json::from_str(t.as_str())
                .map(Some)
                .map_err(|e| format!("bad JSON from the server: {e}")),
            Ok(Message::Close(_)) => Err("the server closed the connection".into()),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("connection lost: {e}")),
        }
    }

    /// The response to `invoke`, skipping events; bounded by `limit`.
    fn response(&mut self, invoke: u64, limit: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(v) = self.read()? {
                if v["invokeId"].as_u64() == Some(invoke) {
                    return Ok(v);
                }
            }
        }
        Err(format!("no response to request {invoke}"))
    }
}

fn run_cti(a: &CtiArgs) -> Result<(), String> {
    if !(a.rate > 0.0 && a.rate.is_finite()) {
        return Err("--rate must be a positive number".into());
    }
    let rest = a
        .url
        .strip_prefix("http://")
        .ok_or("--url must be a plain http:// URL")?;
    let url = format!("ws://{}/cti", rest.trim_end_matches('/'));
    let (ws, _) = tungstenite::connect(url.as_str()).map_err(|e| format!("{url}: {e}"))?;
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(1)))
            .map_err(|e| format!("socket: {e}"))?;
        let _ = s.set_nodelay(true);
    }
    let mut ws = Ws { ws, next_invoke: 1 };
    let login = match (&a.token, &a.user, &a.password) {
        (Some(t), _, _) => json!({"type": "Authenticate", "token": t}),
        (None, Some(u), Some(p)) => json!({"type": "Authenticate", "user": u, "password": p}),
        _ => return Err("give --token, or --user and --password".into()),
    };
    let wait = Duration::from_secs(10);
    let id = ws.send(login)?;
    let r = ws.response(id, wait)?;
    if r["type"] != "AuthenticateResponse" {
        return Err(format!("login refused: {r}"));
    }
    let id = ws.send(json!({"type": "MonitorStart", "device": a.device}))?;
    let r = ws.response(id, wait)?;
    if r["type"] != "MonitorStartResponse" {
        return Err(format!("MonitorStart refused: {r}"));
    }

    let interval = Duration::from_secs_f64(1.0 / a.rate);
    let timeout = Duration::from_millis(a.timeout_ms);
    let hold = Duration::from_millis(a.hold_ms);
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
        .map_err(|e| format!("histogram: {e}"))?;
    let mut by_invoke: HashMap<u64, Pending> = HashMap::new();
    let mut invoke_of_call: HashMap<u64, u64> = HashMap::new();
    let mut to_clear: Vec<(Instant, u64)> = Vec::new();
    let (mut sent, mut established, mut failed, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut first_error: Option<String> = None;
    let start = Instant::now();
    let mut next_send = start;
    let mut last_send = start;
    let deadline_after_last = timeout + hold + Duration::from_secs(2);
    loop {
        let now = Instant::now();
        while sent < a.calls && now >= next_send {
            let id = ws.send(json!({
                "type": "MakeCall", "device": a.device, "calledDirectoryNumber": a.to
            }))?;
            by_invoke.insert(
                id,
                Pending {
                    sent: Instant::now(),
                    call: None,
                },
            );
            sent += 1;
            last_send = Instant::now();
            next_send += interval;
        }
        // Calls held long enough are cleared.
        let mut i = 0;
        while i < to_clear.len() {
            if to_clear[i].0 <= now {
                let (_, call) = to_clear.swap_remove(i);
                ws.send(json!({
                    "type": "ClearConnection",
                    "connection": {"callId": call, "deviceId": a.device}
                }))?;
            } else {
                i += 1;
            }
        }
        // Calls that never got established are failures.
        by_invoke.retain(|_, p| {
            if now.duration_since(p.sent) > timeout {
                failed += 1;
                if let Some(c) = p.call {
                    invoke_of_call.remove(&c);
                }
                false
            } else {
                true
            }
        });
        if sent == a.calls && by_invoke.is_empty() && to_clear.is_empty() {
            break;
        }
        if now.duration_since(last_send) > deadline_after_last && sent == a.calls {
            break;
        }
        let Some(v) = ws.read()? else { continue };
        let kind = v["type"].as_str().unwrap_or_default();
        if let Some(invoke) = v["invokeId"].as_u64() {
            if kind == "MakeCallResponse" {
                if let (Some(p), Some(call)) = (by_invoke.get_mut(&invoke), v["callId"].as_u64()) {
                    p.call = Some(call);
                    invoke_of_call.insert(call, invoke);
                }
            } else if kind == "Error" {
                errors += 1;
                first_error.get_or_insert_with(|| v.to_string());
                if by_invoke.remove(&invoke).is_some() {
                    failed += 1;
                }
            }
            continue;
        }
        let Some(call) = v["connection"]["callId"].as_u64() else {
            continue;
        };
        match kind {
            "Established" => {
                if let Some(invoke) = invoke_of_call.remove(&call) {
                    if let Some(p) = by_invoke.remove(&invoke) {
                        let us = p.sent.elapsed().as_micros() as u64;
                        let _ = hist.record(us.max(1));
                        established += 1;
                        to_clear.push((Instant::now() + hold, call));
                    }
                }
            }
            "Failed" | "CallCleared" => {
                if let Some(invoke) = invoke_of_call.remove(&call) {
                    if by_invoke.remove(&invoke).is_some() {
                        failed += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let send_secs = last_send.duration_since(start).as_secs_f64();
    let achieved = if sent > 1 && send_secs > 0.0 {
        (sent - 1) as f64 / send_secs
    } else {
        0.0
    };
    println!(
        "asked_rate={:.0} calls={} sent={} achieved_rate={:.1} established={} failed={} errors={} \
         p50_us={} p90_us={} p99_us={} max_us={}",
        a.rate,
        a.calls,
        sent,
        achieved,
        established,
        failed,
        errors,
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.9),
        hist.value_at_quantile(0.99),
        hist.max(),
    );
    if let Some(e) = first_error {
        eprintln!("first error: {e}");
    }
    let _ = ws.ws.close(None);
    Ok(())
}
