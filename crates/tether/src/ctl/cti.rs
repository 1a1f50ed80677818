//! `tether ctl cti`: an interactive console on the CTI WebSocket, so a person can drive Tether
//! by hand — log in, monitor a device, make, answer, hold, transfer, set the active RD — and
//! watch the events arrive. Each input line is one request:
//!
//! - `TYPE field=value field:=json …` sends `{"type": TYPE, "invokeId": n, …}` (httpie's
//!   convention: `=` gives a string, `:=` raw JSON such as `inband:=true`);
//! - a line starting with `{` is sent as it is (an `invokeId` is added when missing);
//! - `login USER PASSWORD`, `token TOKEN` authenticate; `help`; `quit` (or end of input).
//!
//! Everything the server sends is printed as it arrives, one JSON object per line, after
//! `<<` (responses) or `<-` (events). At the end of input the console waits for the
//! responses still due (10 s at most), so `tether ctl cti < script` runs a script.
//!
//! The console only frames requests; the server checks them.

use std::io::BufRead;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::args::Connection;
use super::client::Credentials;
use super::emit;
use super::error::CtlError;

const HELP: &str = "\
requests:  TYPE field=value field:=json ...    (docs/cti.md has every request) e.g.
  MonitorStart device=CTRIDalice
  RegisterAddress dn=2000 REMOTE_DEST=+14085551234 REMOTE_NAME=Mobile
  MakeCall device=CTRIDalice calledDirectoryNumber=+14155550100
  HoldCall connection:={\"callId\":42,\"deviceId\":\"CTRIDalice\"}
  GenerateDigits connection:={\"callId\":42,\"deviceId\":\"2000\"} charactersToSend=12# mode=inBand
  {\"type\":\"SnapshotDevice\",\"device\":\"CTRIDalice\"}
console:   login USER PASSWORD | token TOKEN | help | quit";

/// How long the end of input waits for the responses still due.
const DRAIN: Duration = Duration::from_secs(10);
/// How long one read of the socket waits before looking at the input again.
const POLL: Duration = Duration::from_millis(50);

/// Runs the console until `quit`, the end of input, or the server closing.
pub fn run(connection: &Connection, credentials: &Credentials) -> Result<(), CtlError> {
    let url = ws_url(&connection.url)?;
    let (mut ws, _) = tungstenite::connect(url.as_str()).map_err(|e| CtlError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(POLL))
            .map_err(|e| CtlError::Failed(format!("socket: {e}")))?;
    }
    let mut console = Console {
        ws: &mut ws,
        next_invoke: 1,
        pending: 0,
    };
    match credentials {
        Credentials::Basic { user, password } => {
            console.send(json!({"type": "Authenticate", "user": user, "password": password}))?
        }
        Credentials::Bearer(token) => {
            console.send(json!({"type": "Authenticate", "token": token}))?
        }
        Credentials::Anonymous => {}
    }
    // Requests sent before the login is answered would be refused NOT_AUTHENTICATED (the
    // password check takes a moment): the input waits for the answer.
    let login_until = Instant::now() + DRAIN;
    while console.pending > 0 && Instant::now() < login_until {
        if console.read_one()? == Read::Closed {
            return Ok(());
        }
    }
    let lines = stdin_lines();
    let mut input_done = false;
    let mut drain_until: Option<Instant> = None;
    loop {
        loop {
            match lines.try_recv() {
                Ok(line) => match parse_line(&line) {
                    Ok(Line::Empty) => {}
                    Ok(Line::Help) => emit(&format!("{HELP}\n")),
                    Ok(Line::Quit) => return console.close(),
                    Ok(Line::Send(v)) => console.send(v)?,
                    Err(e) => emit(&format!("?? {e}\n")),
                },
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    input_done = true;
                    break;
                }
            }
        }
        let read = console.read_one()?;
        if read == Read::Closed {
            return Ok(());
        }
        if input_done {
            // Every response in, and nothing more already on its way (events sent with the
            // last response arrive with it): done.
            let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN);
            if (console.pending == 0 && read == Read::Nothing) || Instant::now() >= until {
                return console.close();
            }
        }
    }
}

/// What one read of the socket gave.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Message,
    Nothing,
    Closed,
}

struct Console<'a> {
    ws: &'a mut WebSocket<MaybeTlsStream<TcpStream>>,
    next_invoke: u64,
    /// Requests sent and not yet answered.
    pending: usize,
}

impl Console<'_> {
    fn send(&mut self, mut v: Value) -> Result<(), CtlError> {
        if v.get("invokeId").is_none() {
            v["invokeId"] = json!(self.next_invoke);
            self.next_invoke += 1;
        }
        let text = v.to_string();
        emit(&format!(">> {text}\n"));
        self.ws
            .send(Message::text(text))
            .map_err(|e| CtlError::Failed(format!("send: {e}")))?;
        self.pending += 1;
        Ok(())
    }

    /// Reads and prints one message if one comes within [`POLL`].
    fn read_one(&mut self) -> Result<Read, CtlError> {
        match self.ws.read() {
            Ok(Message::Text(t)) => {
                let is_response = serde_json::from_str::<Value>(t.as_str())
                    .ok()
                    .is_some_and(|v| v.get("invokeId").is_some_and(|i| !i.is_null()));
                if is_response {
                    self.pending = self.pending.saturating_sub(1);
                    emit(&format!("<< {t}\n"));
                } else {
                    emit(&format!("<- {t}\n"));
                }
                Ok(Read::Message)
            }
            Ok(Message::Close(f)) => {
                let reason = f.map(|f| f.reason.to_string()).unwrap_or_default();
                emit(&format!("-- closed by the server {reason}\n"));
                Ok(Read::Closed)
            }
            Ok(_) => Ok(Read::Message),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(Read::Nothing)
            }
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                Ok(Read::Closed)
            }
            Err(e) => Err(CtlError::Failed(format!("connection lost: {e}"))),
        }
    }

    fn close(self) -> Result<(), CtlError> {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        Ok(())
    }
}

/// Standard input, line by line, from a thread of its own (a blocking read must not stop the
/// events from being printed).
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn ws_url(base: &str) -> Result<String, CtlError> {
    let rest = base.strip_prefix("http://").ok_or_else(|| {
        CtlError::Usage(format!("--url must be a plain http:// URL, not {base:?}"))
    })?;
    Ok(format!("ws://{}/cti", rest.trim_end_matches('/')))
}

/// One input line, understood.
#[derive(Debug, PartialEq)]
enum Line {
    Empty,
    Help,
    Quit,
    Send(Value),
}

fn parse_line(line: &str) -> Result<Line, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Empty);
    }
    if line.starts_with('{') {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("bad JSON: {e}"))?;
        if !v.is_object() {
            return Err("a request is a JSON object".into());
        }
        return Ok(Line::Send(v));
    }
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or_default();
    match first {
        "help" | "?" => return Ok(Line::Help),
        "quit" | "exit" => return Ok(Line::Quit),
        "login" => {
            let (Some(user), Some(password), None) = (words.next(), words.next(), words.next())
            else {
                return Err("usage: login USER PASSWORD".into());
            };
            return Ok(Line::Send(
                json!({"type": "Authenticate", "user": user, "password": password}),
            ));
        }
        "token" => {
            let (Some(token), None) = (words.next(), words.next()) else {
                return Err("usage: token TOKEN".into());
            };
            return Ok(Line::Send(json!({"type": "Authenticate", "token": token})));
        }
        _ => {}
    }
    if !first.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{first:?} is not a request type (see help)"));
    }
    let mut obj = Map::new();
    obj.insert("type".into(), json!(first));
    for w in words {
        if let Some((k, v)) = w.split_once(":=") {
            let v: Value =
                serde_json::from_str(v).map_err(|e| format!("{k}:= takes JSON ({e})"))?;
            obj.insert(k.to_owned(), v);
        } else if let Some((k, v)) = w.split_once('=') {
            obj.insert(k.to_owned(), json!(v));
        } else {
            return Err(format!("{w:?}: expected field=value or field:=json"));
        }
    }
    Ok(Line::Send(Value::Object(obj)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_requests() {
        assert_eq!(parse_line("  "), Ok(Line::Empty));
        assert_eq!(parse_line("# note"), Ok(Line::Empty));
        assert_eq!(parse_line("quit"), Ok(Line::Quit));
        assert_eq!(
            parse_line("MakeCall device=CTRIDalice calledDirectoryNumber=+14155550100"),
            Ok(Line::Send(
                json!({"type":"MakeCall","device":"CTRIDalice","calledDirectoryNumber":"+14155550100"})
            ))
        );
        assert_eq!(
            parse_line(
                r#"GenerateDigits connection:={"callId":42,"deviceId":"2000"} charactersToSend=1#"#
            ),
            Ok(Line::Send(
                json!({"type":"GenerateDigits","connection":{"callId":42,"deviceId":"2000"},"charactersToSend":"1#"})
            ))
        );
        assert_eq!(
            parse_line("login alice secret"),
            Ok(Line::Send(
                json!({"type":"Authenticate","user":"alice","password":"secret"})
            ))
        );
        assert_eq!(
            parse_line(r#"{"type":"SnapshotDevice","device":"D"}"#),
            Ok(Line::Send(json!({"type":"SnapshotDevice","device":"D"})))
        );
        assert!(parse_line("login alice").is_err());
        assert!(parse_line("MakeCall device").is_err());
        assert!(parse_line("x:=1").is_err());
        assert!(parse_line("Hold inband:=yes").is_err());
        assert!(parse_line("[1]").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080/").ok().as_deref(),
            Some("ws://127.0.0.1:8080/cti")
        );
        assert!(ws_url("https://x").is_err());
    }
}
