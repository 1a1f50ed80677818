//! The CTI test bench: a provisioning snapshot, a fake store that applies writes through the
//! store's own rules ([`Snapshot::build`], RD verification), a fake call engine, and scripted
//! clients, all in virtual time. [`World::run`] plays the binary: it carries out every output
//! (password checks, writes) until none is left.

mod auth;
mod events;
mod privilege;
mod protocol;
mod rds;
mod requests;
mod tserver;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tether_b2bua::control::DeviceCall;
use tether_b2bua::{Control, ControlError, ControlOk};
use tether_store::model::*;
use tether_store::provisioning::Provisioning;
use tether_store::rules::check_reachable;
use tether_store::{Change, Code, NumberingPlan, Origin, Snapshot, StoreError, Violation};

use crate::{CallControl, Cti, CtiConfig, CtiOutput, SessionId, Ticket};

pub const TOKEN: &str = "admin-token-0123456789";

/// The engine as CTI sees it: records requests, answers what the test scripted.
#[derive(Default)]
pub struct FakeEngine {
    pub requests: Vec<Control>,
    /// The next answers, in order; `Ok(Done)` when none is scripted.
    pub answers: Vec<Result<ControlOk, ControlError>>,
    pub calls: HashMap<String, Vec<DeviceCall>>,
}

impl CallControl for FakeEngine {
    fn control(&mut self, _now: Instant, req: Control) -> Result<ControlOk, ControlError> {
        self.requests.push(req);
        if self.answers.is_empty() {
            Ok(ControlOk::Done)
        } else {
            self.answers.remove(0)
        }
    }
    fn device_calls(&self, device: &str) -> Vec<DeviceCall> {
        self.calls.get(device).cloned().unwrap_or_default()
    }
}

fn rd(device: &str, name: &str, number: &str, active: bool) -> RemoteDestination {
    RemoteDestination {
        device: device.into(),
        name: name.into(),
        number: number.into(),
        active,
        ring_schedule: None,
        answer_too_soon_ms: 1500,
        answer_too_late_ms: 19000,
        delay_before_ringing_ms: 4000,
    }
}

fn user(id: &str, cti: bool, associated: &[&str]) -> Object {
    Object::User(User {
        id: id.into(),
        name: id.into(),
        mobility_enabled: true,
        cti_enabled: cti,
        max_remote_destinations: 4,
        admin: false,
        associated_devices: associated.iter().map(|d| d.to_string()).collect(),
        password: None,
    })
}

fn device(name: &str, owner: &str, kind: DeviceKind) -> Object {
    Object::Device(Device {
        name: name.into(),
        kind,
        owner: Some(owner.into()),
        description: String::new(),
        display_name: format!("{owner} display"),
        css: Some("Internal-CSS".into()),
        reroute_css: (kind == DeviceKind::CtiRemoteDevice).then(|| "Reroute-CSS".into()),
        route_to_all_rds_when_none_active: false,
        sip_username: (kind == DeviceKind::SipPhone).then(|| format!("{name}-sip")),
        sip_password: (kind == DeviceKind::SipPhone).then(|| "pw".into()),
    })
}

fn line(dn: &str, device: &str, position: u32) -> Object {
    Object::Line(Line {
        partition: "Internal".into(),
        dn: dn.into(),
        device: device.into(),
        position,
        e164: Some(format!("+1408555{dn}")),
        directory_uri: None,
        display_name: String::new(),
        call_forward_all: None,
        dnd: false,
    })
}

/// alice owns CTRIDalice (lines 2000 and 2010; RDs Mobile 914085551111 and Home 914085552222,
/// none active); bob owns CTRIDbob (2001) and the SIP phone SEPbob (2002); carol is associated
/// with CTRIDalice; dave is not CTI-enabled. Route pattern `9.!` through Reroute-CSS.
pub fn provisioning() -> Provisioning {
    let mut p = Provisioning::default();
    let objects = vec![
        Object::Partition(Partition {
            name: "Internal".into(),
            description: String::new(),
        }),
        Object::Partition(Partition {
            name: "PSTN".into(),
            description: String::new(),
        }),
        Object::Css(Css {
            name: "Internal-CSS".into(),
            description: String::new(),
            partitions: vec!["Internal".into(), "PSTN".into()],
        }),
        Object::Css(Css {
            name: "Reroute-CSS".into(),
            description: String::new(),
            partitions: vec!["PSTN".into()],
        }),
        Object::Trunk(Trunk {
            name: "pstn".into(),
            kind: TrunkKind::PriT1,
            peer: "10.0.0.2:5060".into(),
            did: None,
            hunting: Hunting::Ascending,
            channels: None,
            inbound_css: None,
            cause_map: vec![],
        }),
        Object::RouteGroup(RouteGroup {
            name: "RG".into(),
            distribution: Distribution::TopDown,
            trunks: vec!["pstn".into()],
        }),
        Object::RouteList(RouteList {
            name: "RL".into(),
            description: String::new(),
            groups: vec!["RG".into()],
        }),
        Object::Pattern(Pattern {
            partition: "PSTN".into(),
            pattern: "9.!".into(),
            kind: PatternKind::Route,
            description: String::new(),
            route_list: Some("RL".into()),
            css: None,
            called: Transformation {
                discard_predot: true,
                prefix: String::new(),
                mask: None,
            },
            calling: Transformation::default(),
        }),
        user("alice", true, &[]),
        user("bob", true, &[]),
        user("dave", false, &[]),
        device("CTRIDalice", "alice", DeviceKind::CtiRemoteDevice),
        device("CTRIDbob", "bob", DeviceKind::CtiRemoteDevice),
        device("SEPbob", "bob", DeviceKind::SipPhone),
        user("carol", true, &["CTRIDalice"]),
        line("2000", "CTRIDalice", 1),
        line("2010", "CTRIDalice", 2),
        line("2001", "CTRIDbob", 1),
        line("2002", "SEPbob", 1),
        Object::RemoteDestination(rd("CTRIDalice", "Mobile", "914085551111", false)),
        Object::RemoteDestination(rd("CTRIDalice", "Home", "914085552222", false)),
    ];
    for o in objects {
        p.put(o);
    }
    p
}

/// Applies writes the way `tether_store::Store` checks them: end users only touch RDs of
/// devices they own or are associated with, every rule of [`Snapshot::build`], and RDs with a
/// new number are verified on the end-user path.
pub fn apply(
    before: &Snapshot,
    origin: &Origin,
    changes: &[Change],
) -> Result<Snapshot, StoreError> {
    let mut data = before.data().clone();
    let mut v = Vec::new();
    for c in changes {
        if let Origin::EndUser(uid) = origin {
            let device = match c {
                Change::Create(Object::RemoteDestination(r))
                | Change::Update(Object::RemoteDestination(r))
                | Change::Upsert(Object::RemoteDestination(r)) => Some(r.device.clone()),
                Change::Delete(Kind::RemoteDestination, Key::Two(d, _)) => Some(d.clone()),
                _ => None,
            };
            let mine = device
                .as_deref()
                .and_then(|d| before.device(d))
                .is_some_and(|d| {
                    d.owner.as_deref() == Some(uid.as_str())
                        || before
                            .user(uid)
                            .is_some_and(|u| u.associated_devices.contains(&d.name))
                });
            if !mine {
                v.push(Violation::new(Code::Forbidden, None, "not yours"));
                continue;
            }
        }
        let exists = data.contains(c.kind(), &c.key());
        match c {
            Change::Create(_) if exists => {
                v.push(Violation::new(Code::AlreadyExists, None, "exists"))
            }
            Change::Update(_) | Change::Delete(..) if !exists => {
                v.push(Violation::new(Code::NotFound, None, "missing"))
            }
            Change::Create(o) | Change::Update(o) | Change::Upsert(o) => {
                data.put(o.clone());
            }
            Change::Delete(k, key) => {
                data.remove(*k, key);
            }
        }
    }
    if !v.is_empty() {
        return Err(StoreError::Rejected(v));
    }
    let after = Snapshot::build(data, before.numbering().clone(), before.version() + 1)
        .map_err(StoreError::Rejected)?;
    if matches!(origin, Origin::EndUser(_)) {
        for c in changes {
            if let Change::Create(Object::RemoteDestination(r))
            | Change::Update(Object::RemoteDestination(r)) = c
            {
                let same = before
                    .remote_destinations_of(&r.device)
                    .any(|o| o.name == r.name && o.number == r.number);
                if !same {
                    check_reachable(&after, r).map_err(StoreError::one)?;
                }
            }
        }
    }
    Ok(after)
}

/// The binary's side: sockets become inboxes, the store is [`apply`], passwords are
/// `<user>-pw`.
pub struct World {
    pub cti: Cti,
    pub now: Instant,
    pub snap: Arc<Snapshot>,
    pub engine: FakeEngine,
    /// JSON texts each session received, in order.
    pub inbox: HashMap<SessionId, Vec<Value>>,
    pub closed: Vec<(SessionId, String)>,
    pub pings: Vec<SessionId>,
    /// Hold writes instead of carrying them out (to test races).
    pub hold_writes: bool,
    pub held: Vec<(Ticket, Origin, Vec<Change>)>,
    pub writes: Vec<(Origin, Vec<Change>)>,
    next_invoke: u64,
}

pub fn config() -> CtiConfig {
    CtiConfig {
        admin_token: Some(TOKEN.into()),
        ..CtiConfig::default()
    }
}

impl World {
    pub fn new() -> World {
        World::with(config(), provisioning())
    }

    pub fn with(cfg: CtiConfig, p: Provisioning) -> World {
        let now = Instant::now();
        let snap = Arc::new(
            Snapshot::build(p, NumberingPlan::north_american(), 1).expect("test provisioning"),
        );
        World {
            cti: Cti::new(cfg, snap.clone(), now, 1_700_000_000_000),
            now,
            snap,
            engine: FakeEngine::default(),
            inbox: HashMap::new(),
            closed: Vec::new(),
            pings: Vec::new(),
            hold_writes: false,
            held: Vec::new(),
            writes: Vec::new(),
            next_invoke: 0,
        }
    }

    /// Carries out every output.
    pub fn run(&mut self) {
        while let Some(o) = self.cti.poll_output() {
            match o {
                CtiOutput::Send { session, text } => {
                    let v: Value = serde_json::from_str(&text).expect("the core sends JSON");
                    self.inbox.entry(session).or_default().push(v);
                }
                CtiOutput::Ping { session } => self.pings.push(session),
                CtiOutput::Close { session, reason } => self.closed.push((session, reason)),
                CtiOutput::Authenticate {
                    ticket,
                    user,
                    password,
                } => {
                    let ok = password == format!("{user}-pw");
                    let u = ok.then(|| self.snap.user(&user).cloned()).flatten();
                    self.cti.auth_result(self.now, ticket, u, &self.engine);
                }
                CtiOutput::Write {
                    ticket,
                    origin,
                    changes,
                } => {
                    self.writes.push((origin.clone(), changes.clone()));
                    if self.hold_writes {
                        self.held.push((ticket, origin, changes));
                    } else {
                        self.finish_write(ticket, origin, changes);
                    }
                }
            }
        }
    }

    fn finish_write(&mut self, ticket: Ticket, origin: Origin, changes: Vec<Change>) {
        match apply(&self.snap, &origin, &changes) {
            Ok(after) => {
                self.snap = Arc::new(after);
                self.cti
                    .write_result(self.now, ticket, Ok(()), self.snap.clone());
                // The store's subscription fires too: the same version, ignored.
                self.cti.set_snapshot(self.now, self.snap.clone());
            }
            Err(e) => self
                .cti
                .write_result(self.now, ticket, Err(e), self.snap.clone()),
        }
    }

    /// Carries out the held writes, oldest first.
    pub fn release_writes(&mut self) {
        self.hold_writes = false;
        for (t, o, c) in std::mem::take(&mut self.held) {
            self.finish_write(t, o, c);
            self.run();
        }
    }

    /// An administrator's write (REST): the store publishes, the core hears of it.
    pub fn admin_write(&mut self, changes: Vec<Change>) {
        let after = apply(&self.snap, &Origin::Admin, &changes).expect("admin write");
        self.snap = Arc::new(after);
        self.cti.set_snapshot(self.now, self.snap.clone());
        self.run();
    }

    pub fn connect(&mut self) -> SessionId {
        let s = self.cti.connect(self.now);
        self.run();
        s
    }

    pub fn send_text(&mut self, s: SessionId, text: &str) {
        self.cti.handle_text(self.now, s, text, &mut self.engine);
        self.run();
    }

    /// Sends a request with a fresh `invokeId`; returns the id.
    pub fn send(&mut self, s: SessionId, mut req: Value) -> u64 {
        self.next_invoke += 1;
        let id = self.next_invoke;
        req["invokeId"] = json!(id);
        self.send_text(s, &req.to_string());
        id
    }

    /// Sends a request and returns its one response.
    pub fn request(&mut self, s: SessionId, req: Value) -> Value {
        let id = self.send(s, req.clone());
        let responses: Vec<Value> = self
            .inbox(s)
            .iter()
            .filter(|m| m["invokeId"] == json!(id))
            .cloned()
            .collect();
        assert_eq!(
            responses.len(),
            1,
            "exactly one response to {req}: {responses:?}"
        );
        responses[0].clone()
    }

    /// A request that must succeed.
    pub fn ok(&mut self, s: SessionId, req: Value) -> Value {
        let kind = req["type"].as_str().unwrap_or("").to_owned();
        let r = self.request(s, req);
        assert_eq!(r["type"], json!(format!("{kind}Response")), "{r}");
        r
    }

    /// A request that must fail with `code`.
    pub fn err(&mut self, s: SessionId, req: Value, code: &str) -> Value {
        let r = self.request(s, req);
        assert_eq!(r["type"], "Error", "{r}");
        assert_eq!(r["code"], code, "{r}");
        assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
        r
    }

    pub fn login(&mut self, user: &str) -> SessionId {
        let s = self.connect();
        let pw = format!("{user}-pw");
        self.ok(
            s,
            json!({"type": "Authenticate", "user": user, "password": pw}),
        );
        s
    }

    pub fn login_admin(&mut self) -> SessionId {
        let s = self.connect();
        self.ok(s, json!({"type": "Authenticate", "token": TOKEN}));
        s
    }

    pub fn inbox(&self, s: SessionId) -> &[Value] {
        self.inbox.get(&s).map_or(&[], Vec::as_slice)
    }

    /// Forgets what `s` received so far.
    pub fn clear(&mut self, s: SessionId) {
        self.inbox.remove(&s);
    }

    /// The events of type `kind` `s` received.
    pub fn events(&self, s: SessionId, kind: &str) -> Vec<Value> {
        self.inbox(s)
            .iter()
            .filter(|m| m["type"] == kind && m.get("sequence").is_some())
            .cloned()
            .collect()
    }

    /// The types of every event `s` received, in order.
    pub fn event_types(&self, s: SessionId) -> Vec<String> {
        self.inbox(s)
            .iter()
            .filter(|m| m.get("sequence").is_some())
            .filter_map(|m| m["type"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(t) = self.cti.poll_timeout().filter(|t| *t <= until) {
            self.now = self.now.max(t);
            self.cti.handle_timeout(self.now);
            self.run();
        }
        self.now = until;
        self.cti.handle_timeout(self.now);
        self.run();
    }

    pub fn monitor(&mut self, s: SessionId, device: &str) -> u64 {
        let r = self.ok(s, json!({"type": "MonitorStart", "device": device}));
        r["monitorCrossRefId"].as_u64().expect("xref")
    }

    pub fn rd(&self, device: &str, name: &str) -> Option<RemoteDestination> {
        self.snap
            .remote_destinations_of(device)
            .find(|r| r.name == name)
            .cloned()
    }

    pub fn active_rd(&self, device: &str) -> Option<String> {
        self.snap
            .remote_destinations_of(device)
            .find(|r| r.active)
            .map(|r| r.name.clone())
    }

    pub fn line(&self, dn: &str) -> Line {
        self.snap
            .line("Internal", dn)
            .cloned()
            .expect("test line exists")
    }
}
