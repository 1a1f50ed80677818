//! A scripted CTI client for the real-process tests: a blocking WebSocket to `/cti`, requests
//! matched to their responses by `invokeId`, and the events that arrive meanwhile kept in
//! order. Every wait is bounded by a deadline and reads the socket; nothing sleeps.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long a request waits for its response.
pub const RESPONSE_WAIT: Duration = Duration::from_secs(10);

pub struct CtiClient {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_invoke: u64,
    /// Events received and not yet taken, oldest first.
    events: VecDeque<Value>,
    /// The connection was closed by the server (with its reason).
    pub closed: Option<String>,
}

impl CtiClient {
    /// Connects to the server whose HTTP base URL is `base` (`http://127.0.0.1:PORT`).
    pub fn connect(base: &str) -> CtiClient {
        let url = format!("{}/cti", base.replacen("http://", "ws://", 1));
        let (ws, _) = tungstenite::connect(url.as_str()).unwrap_or_else(|e| panic!("{url}: {e}"));
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("read timeout");
        }
        CtiClient {
            ws,
            next_invoke: 1,
            events: VecDeque::new(),
            closed: None,
        }
    }

    /// Connects and logs in with a user's password; panics unless it succeeds.
    pub fn login(base: &str, user: &str, password: &str) -> (CtiClient, Value) {
        let mut c = CtiClient::connect(base);
        let r = c.request(
            "Authenticate",
            json!({ "user": user, "password": password }),
        );
        assert_ne!(r["type"], "Error", "login {user}: {r}");
        (c, r)
    }

    /// Connects with the admin token and monitors `device`.
    pub fn admin_monitor(base: &str, device: &str) -> CtiClient {
        let mut c = CtiClient::connect(base);
        let r = c.request("Authenticate", json!({"token": super::ADMIN_TOKEN}));
        assert_eq!(r["type"], "AuthenticateResponse", "{r}");
        let r = c.request("MonitorStart", json!({ "device": device }));
        assert_eq!(r["type"], "MonitorStartResponse", "{r}");
        c
    }

    /// Every event received up to now: those queued before the response to a SnapshotDevice
    /// of `device` sent now (events are sent in order, so a response closes what came
    /// before it).
    pub fn drain(&mut self, device: &str) -> Vec<Value> {
        let id = self.send("SnapshotDevice", json!({ "device": device }));
        let r = self.response(id);
        assert_eq!(r["type"], "SnapshotDeviceResponse", "{r}");
        let mut out = Vec::new();
        while let Some(e) = self.next_event(Duration::ZERO) {
            out.push(e);
        }
        out
    }

    /// Sends `{type, invokeId, ...fields}` and returns the response with that invokeId.
    pub fn request(&mut self, kind: &str, fields: Value) -> Value {
        let id = self.send(kind, fields);
        self.response(id)
    }

    /// Sends a request and returns its invokeId without waiting.
    pub fn send(&mut self, kind: &str, fields: Value) -> u64 {
        let id = self.next_invoke;
        self.next_invoke += 1;
        let mut msg = fields;
        if !msg.is_object() {
            msg = json!({});
        }
        msg["type"] = json!(kind);
        msg["invokeId"] = json!(id);
        self.send_text(&msg.to_string());
        id
    }

    /// Sends raw text (bad JSON tests).
    pub fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// The response to `invoke`, keeping the events that come first.
    pub fn response(&mut self, invoke: u64) -> Value {
        let deadline = Instant::now() + RESPONSE_WAIT;
        loop {
            let Some(v) = self.read(deadline) else {
                panic!(
                    "no response to invokeId {invoke}; events so far: {:?}",
                    self.events
                );
            };
            if v.get("invokeId").and_then(Value::as_u64) == Some(invoke) {
                return v;
            }
            self.events.push_back(v);
        }
    }

    /// The next message with no invokeId match pending: the oldest kept event, else the next
    /// one read before `limit` passes.
    pub fn next_event(&mut self, limit: Duration) -> Option<Value> {
        if let Some(v) = self.events.pop_front() {
            return Some(v);
        }
        self.read(Instant::now() + limit)
    }

    /// Events up to and including the first of type `kind`; panics if none comes in `limit`.
    pub fn events_until(&mut self, kind: &str, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(v) = self.next_event(left) else {
                panic!("no {kind} event within {limit:?}; got {out:#?}");
            };
            let done = v["type"] == kind;
            out.push(v);
            if done {
                return out;
            }
        }
    }

    /// The types of `events`, in order.
    pub fn types(events: &[Value]) -> Vec<String> {
        events
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// Reads until the server closes the connection (or `limit` passes): whether it did.
    pub fn wait_closed(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.closed.is_none() && Instant::now() < deadline {
            if let Some(v) = self.read(deadline) {
                self.events.push_back(v);
            }
        }
        self.closed.is_some()
    }

    /// Closes the connection cleanly.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.closed.is_none() && Instant::now() < deadline {
            let _ = self.read(deadline);
        }
    }

    /// Stops answering: the socket stays open but nothing is read (pings go unanswered).
    pub fn go_silent(self) -> WebSocket<MaybeTlsStream<TcpStream>> {
        self.ws
    }

    /// One JSON message, or None when `deadline` passes or the connection is closed.
    fn read(&mut self, deadline: Instant) -> Option<Value> {
        while Instant::now() < deadline && self.closed.is_none() {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return Some(
                        serde_json::from_str(t.as_str())
                            .unwrap_or_else(|e| panic!("server sent bad JSON {t}: {e}")),
                    )
                }
                Ok(Message::Close(f)) => {
                    self.closed = Some(f.map(|f| f.reason.to_string()).unwrap_or_default());
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.closed = Some(String::new())
                }
                Err(e) => {
                    self.closed = Some(format!("error: {e}"));
                }
            }
        }
        None
    }
}
