//! [`Cti`]: the sans-IO core the binary pumps. Inputs are `handle_*`/`*_result` calls with the
//! time; outputs are polled ([`Cti::poll_output`]) until empty, then [`Cti::poll_timeout`] says
//! when to call [`Cti::handle_timeout`]. No sockets, no clock, no threads here.
//!
//! This room holds the state and the session lifecycle (connect, heartbeat, close); requests
//! are handled in `handlers.rs`, authentication in `login.rs`, snapshots and write results in
//! `publish.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use tether_b2bua::control::DeviceCall;
use tether_b2bua::{Control, ControlError, ControlOk, DeviceEvent};
use tether_store::{Change, Origin, Snapshot};

use crate::config::CtiConfig;
use crate::devices::DeviceView;
use crate::heartbeat::Timers;
use crate::ids::{SessionId, Ticket};
use crate::monitor::Monitors;
use crate::protocol::error::CtiError;
use crate::protocol::event::{call_event, envelope, Event};
use crate::protocol::{response, time};
use crate::session::Session;
use crate::tserver::Controllers;
use crate::writes::{Job, Op, Queues};

/// The call engine as CTI drives it. The binary implements it for the engine it owns.
pub trait CallControl {
    /// Carries out an authorized request at once (its progress follows as device events).
    fn control(&mut self, now: Instant, req: Control) -> Result<ControlOk, ControlError>;
    /// The device's calls now, for snapshots.
    fn device_calls(&self, device: &str) -> Vec<DeviceCall>;
}

/// What the binary must do.
#[derive(Clone, PartialEq)]
pub enum CtiOutput {
    /// Send a text frame.
    Send { session: SessionId, text: String },
    /// Send a WebSocket ping; any frame back counts as [`Cti::activity`].
    Ping { session: SessionId },
    /// Close the connection (the core has already forgotten the session).
    Close { session: SessionId, reason: String },
    /// Check a password off the event loop (Argon2 is slow on purpose) and answer with
    /// [`Cti::auth_result`].
    Authenticate {
        ticket: Ticket,
        user: String,
        password: String,
    },
    /// Write to the store and answer with [`Cti::write_result`].
    Write {
        ticket: Ticket,
        origin: Origin,
        changes: Vec<Change>,
    },
}

impl std::fmt::Debug for CtiOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CtiOutput::Send { session, text } => write!(f, "Send({session}, {text})"),
            CtiOutput::Ping { session } => write!(f, "Ping({session})"),
            CtiOutput::Close { session, reason } => write!(f, "Close({session}, {reason})"),
            CtiOutput::Authenticate { ticket, user, .. } => {
                write!(f, "Authenticate({ticket:?}, {user}, <password>)")
            }
            CtiOutput::Write {
                ticket,
                origin,
                changes,
            } => write!(f, "Write({ticket:?}, {origin:?}, {changes:?})"),
        }
    }
}

/// The CTI interface's state: sessions, monitors, controllers, queued writes.
pub struct Cti {
    pub(crate) cfg: CtiConfig,
    /// The snapshot events and snapshots were last computed from.
    pub(crate) snap: Arc<Snapshot>,
    /// A newer snapshot held back while a write is in flight (its result attributes changes).
    pub(crate) newer: Option<Arc<Snapshot>>,
    start: Instant,
    epoch_ms: u64,
    pub(crate) sessions: HashMap<SessionId, Session>,
    next_id: u64,
    pub(crate) auth_tickets: HashMap<Ticket, SessionId>,
    pub(crate) monitors: Monitors,
    /// The last view of every monitored device.
    pub(crate) views: HashMap<String, DeviceView>,
    pub(crate) controllers: Controllers,
    pub(crate) queues: Queues,
    timers: Timers,
    out: VecDeque<CtiOutput>,
}

impl Cti {
    /// `now` and `epoch_ms` are the same instant on the monotonic and the wall clock; event
    /// timestamps are `epoch_ms + (now - start)`.
    pub fn new(cfg: CtiConfig, snap: Arc<Snapshot>, now: Instant, epoch_ms: u64) -> Cti {
        Cti {
            cfg,
            snap,
            newer: None,
            start: now,
            epoch_ms,
            sessions: HashMap::new(),
            next_id: 0,
            auth_tickets: HashMap::new(),
            monitors: Monitors::default(),
            views: HashMap::new(),
            controllers: Controllers::default(),
            queues: Queues::default(),
            timers: Timers::default(),
            out: VecDeque::new(),
        }
    }

    /// A new connection. It must authenticate within the configured time.
    pub fn connect(&mut self, now: Instant) -> SessionId {
        let id = SessionId(self.fresh());
        self.sessions.insert(id, Session::new(now));
        self.check_liveness(now, id);
        tracing::debug!(session = %id, "CTI session connected");
        id
    }

    /// Any frame from the client (text, ping, pong): it is alive.
    pub fn activity(&mut self, now: Instant, session: SessionId) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.last_activity = now;
            s.pinged = false;
        }
    }

    /// The connection is gone. If the session controlled devices, their extend and connect is
    /// deactivated and every monitor of them sees OutOfService (T-Server contract).
    pub fn disconnect(&mut self, now: Instant, session: SessionId) {
        tracing::debug!(session = %session, "CTI session disconnected");
        self.drop_session(now, session);
    }

    /// A call event from the engine, for every session monitoring its device.
    pub fn handle_device_event(&mut self, now: Instant, ev: DeviceEvent) {
        if !self.monitors.is_monitored(&ev.device) {
            return;
        }
        let Some(event) = call_event(&ev) else {
            tracing::debug!(?ev, "device event of a kind CTI does not map");
            return;
        };
        for (s, xref) in self.monitors.of(&ev.device).to_vec() {
            self.emit(now, s, Some(xref), &event);
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, id)) = self.timers.pop_due(now) {
            if self.sessions.get(&id).is_some_and(|s| s.check_at == at) {
                self.check_liveness(now, id);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    pub fn poll_output(&mut self) -> Option<CtiOutput> {
        self.out.pop_front()
    }

    /// The session controlling `device`'s remote destination (the admin console shows it).
    pub fn controller(&self, device: &str) -> Option<SessionId> {
        self.controllers.get(device).map(|c| c.session)
    }

    /// Sessions connected now.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    // ---- internals shared by the other rooms ----

    pub(crate) fn fresh(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn ticket(&mut self) -> Ticket {
        Ticket(self.fresh())
    }

    /// The newest snapshot known (writes are planned against it).
    pub(crate) fn latest(&self) -> Arc<Snapshot> {
        self.newer.clone().unwrap_or_else(|| self.snap.clone())
    }

    pub(crate) fn push(&mut self, o: CtiOutput) {
        self.out.push_back(o);
    }

    fn timestamp(&self, now: Instant) -> String {
        let since = now.saturating_duration_since(self.start).as_millis();
        let ms = self
            .epoch_ms
            .saturating_add(u64::try_from(since).unwrap_or(u64::MAX));
        time::iso8601(ms)
    }

    pub(crate) fn respond_ok(
        &mut self,
        session: SessionId,
        name: &str,
        invoke_id: &Value,
        fields: Map<String, Value>,
    ) {
        let text = response::ok(name, invoke_id, fields);
        self.push(CtiOutput::Send { session, text });
    }

    pub(crate) fn respond_err(
        &mut self,
        session: SessionId,
        name: Option<&str>,
        invoke_id: &Value,
        e: &CtiError,
    ) {
        let text = response::error(name, invoke_id, e);
        self.push(CtiOutput::Send { session, text });
    }

    /// Numbers and sends one event to one session.
    pub(crate) fn emit(&mut self, now: Instant, session: SessionId, xref: Option<u64>, e: &Event) {
        let stamp = self.timestamp(now);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        s.sequence += 1;
        let text = envelope(e, xref, s.sequence, &stamp);
        self.push(CtiOutput::Send { session, text });
    }

    /// Closes a session from this side.
    pub(crate) fn close(&mut self, now: Instant, session: SessionId, reason: &str) {
        if !self.sessions.contains_key(&session) {
            return;
        }
        tracing::info!(session = %session, reason, "closing CTI session");
        self.push(CtiOutput::Close {
            session,
            reason: reason.to_owned(),
        });
        self.drop_session(now, session);
    }

    fn drop_session(&mut self, now: Instant, session: SessionId) {
        let Some(s) = self.sessions.remove(&session) else {
            return;
        };
        self.auth_tickets.retain(|_, id| *id != session);
        for (device, xref) in s.monitors {
            self.monitors.remove(xref);
            if !self.monitors.is_monitored(&device) {
                self.views.remove(&device);
            }
        }
        for device in self.controllers.of_session(session) {
            let Some(c) = self.controllers.remove(&device) else {
                continue;
            };
            tracing::info!(session = %session, device, "controller left: deactivating");
            self.queues.push(
                &device,
                Job {
                    session: None,
                    invoke_id: Value::Null,
                    name: "UnregisterAddress",
                    origin: Origin::Admin,
                    op: Op::Deactivate {
                        rd_name: c.rd_name,
                        rd_number: c.rd_number,
                    },
                },
            );
            self.pump(now, &device);
        }
    }

    /// Pings an idle session, closes a dead or unauthenticated one, and schedules the next
    /// check.
    fn check_liveness(&mut self, now: Instant, id: SessionId) {
        let (interval, timeout, auth) = (
            self.cfg.heartbeat_interval,
            self.cfg.heartbeat_timeout,
            self.cfg.auth_timeout,
        );
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let anonymous = s.principal().is_none();
        if anonymous && now >= s.connected_at + auth {
            self.close(now, id, "not authenticated in time");
            return;
        }
        let idle = now.saturating_duration_since(s.last_activity);
        if idle >= timeout {
            let reason = format!(
                "heartbeat timeout: nothing received for {} s",
                idle.as_secs()
            );
            self.close(now, id, &reason);
            return;
        }
        let mut ping = false;
        if idle >= interval && !s.pinged {
            s.pinged = true;
            ping = true;
        }
        let mut next = s.last_activity + if s.pinged { timeout } else { interval };
        if anonymous {
            next = next.min(s.connected_at + auth);
        }
        s.check_at = next;
        self.timers.schedule(next, id);
        if ping {
            self.push(CtiOutput::Ping { session: id });
        }
    }
}
