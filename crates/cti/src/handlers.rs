//! One request from one session: parse, authenticate, resolve and authorize the device, then
//! answer at once (monitors, snapshots, reads, call control) or queue a store write whose
//! result answers later (`publish.rs`). Every path answers exactly once.

use std::time::Instant;

use serde_json::{json, Map, Value};
use tether_store::rules::rd_number_key;
use tether_store::Origin;

use crate::auth::{authorize, authorize_remote, resolve, resolve_name, Principal, Target};
use crate::calls::{engine_request, json_map, ok_fields};
use crate::core::{CallControl, Cti};
use crate::devices::DeviceView;
use crate::ids::SessionId;
use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::event::Event;
use crate::protocol::request::{parse, ConnRef, DeviceRef, Parsed, Request};
use crate::session::AuthState;
use crate::writes::{Job, Op};

/// The answer now, or later (a write is queued, or the handler answered itself).
type Answer = Result<Option<Map<String, Value>>, CtiError>;

impl Cti {
    /// A text frame from a client.
    pub fn handle_text<C: CallControl>(
        &mut self,
        now: Instant,
        session: SessionId,
        text: &str,
        engine: &mut C,
    ) {
        if !self.sessions.contains_key(&session) {
            return;
        }
        self.activity(now, session);
        if text.len() > self.cfg.max_message_bytes {
            let e = CtiError::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "a message may be at most {} bytes",
                    self.cfg.max_message_bytes
                ),
            );
            self.respond_err(session, None, &Value::Null, &e);
            return;
        }
        let parsed = match parse(text) {
            Ok(p) => p,
            Err(r) => {
                self.respond_err(session, r.name, &r.invoke_id, &r.error);
                return;
            }
        };
        let Some(auth) = self.sessions.get(&session).map(|s| s.auth.clone()) else {
            return;
        };
        let Parsed {
            invoke_id,
            name,
            request,
        } = parsed;
        let (who, request) = match (auth, request) {
            (AuthState::Anonymous { checking: None }, Request::Authenticate(c)) => {
                self.authenticate(now, session, invoke_id, c, engine);
                return;
            }
            (AuthState::Anonymous { checking: Some(_) }, Request::Authenticate(_)) => {
                let e = CtiError::new(
                    ErrorCode::RequestInProgress,
                    "an authentication is being checked",
                );
                self.respond_err(session, Some(name), &invoke_id, &e);
                return;
            }
            (AuthState::Anonymous { .. }, _) => {
                let e = CtiError::new(
                    ErrorCode::NotAuthenticated,
                    "authenticate first: {\"type\":\"Authenticate\",\"invokeId\":1,\"user\":…,\"password\":…}",
                );
                self.respond_err(session, Some(name), &invoke_id, &e);
                return;
            }
            (AuthState::Authenticated(_), Request::Authenticate(_)) => {
                let e = CtiError::new(
                    ErrorCode::AlreadyAuthenticated,
                    "this session has authenticated already; open another to change user",
                );
                self.respond_err(session, Some(name), &invoke_id, &e);
                return;
            }
            (AuthState::Authenticated(who), request) => (who, request),
        };
        match self.request(now, session, &who, name, &invoke_id, request, engine) {
            Ok(Some(fields)) => self.respond_ok(session, name, &invoke_id, fields),
            Ok(None) => {}
            Err(e) => self.respond_err(session, Some(name), &invoke_id, &e),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request<C: CallControl>(
        &mut self,
        now: Instant,
        session: SessionId,
        who: &Principal,
        name: &'static str,
        invoke_id: &Value,
        request: Request,
        engine: &mut C,
    ) -> Answer {
        let snap = self.snap.clone();
        let target = |r: &DeviceRef| -> Result<Target, CtiError> {
            let t = resolve(&snap, r)?;
            authorize(&snap, who, &t.device)?;
            Ok(t)
        };
        let remote = |r: &DeviceRef| -> Result<Target, CtiError> {
            let t = resolve(&snap, r)?;
            authorize_remote(&snap, who, &t.device)?;
            Ok(t)
        };
        let conn = |c: &ConnRef| -> Result<String, CtiError> {
            let device = resolve_name(&snap, &c.device)?;
            authorize(&snap, who, &device)?;
            Ok(device)
        };
        let origin = match who {
            Principal::User(u) => Origin::EndUser(u.clone()),
            Principal::Admin => Origin::Admin,
        };
        let job = |op| Job {
            session: Some(session),
            invoke_id: invoke_id.clone(),
            name,
            origin: origin.clone(),
            op,
        };
        match &request {
            Request::Authenticate(_) => Ok(None), // handled before
            Request::MonitorStart(r) => {
                let t = target(r)?;
                let xref = self.monitor(session, &t.device)?;
                let snapshot = self.device_snapshot(session, &t.device, engine);
                Ok(Some(json_map(
                    json!({ "monitorCrossRefId": xref, "device": snapshot }),
                )))
            }
            Request::MonitorStop { xref } => {
                match self.monitors.get(*xref) {
                    Some((s, _)) if *s == session => {}
                    _ => {
                        return Err(CtiError::new(
                            ErrorCode::InvalidMonitor,
                            format!("this session has no monitor {xref}"),
                        ))
                    }
                }
                self.unmonitor(*xref);
                Ok(Some(Map::new()))
            }
            Request::SnapshotDevice(r) => {
                let t = target(r)?;
                let snapshot = self.device_snapshot(session, &t.device, engine);
                Ok(Some(json_map(json!({ "device": snapshot }))))
            }
            Request::MakeCall { from, .. } => {
                let t = target(from)?;
                let device = t.device;
                let ctrl = engine_request(&request, device.clone())?;
                let ok = engine
                    .control(now, ctrl)
                    .map_err(|e| CtiError::engine(&e))?;
                Ok(Some(ok_fields(ok, &device)))
            }
            Request::AnswerCall(c)
            | Request::ClearConnection(c)
            | Request::HoldCall(c)
            | Request::RetrieveCall(c)
            | Request::DeflectCall { conn: c, .. }
            | Request::GenerateDigits { conn: c, .. }
            | Request::ConsultationCall { conn: c, .. } => {
                let device = conn(c)?;
                let ctrl = engine_request(&request, device.clone())?;
                let ok = engine
                    .control(now, ctrl)
                    .map_err(|e| CtiError::engine(&e))?;
                Ok(Some(ok_fields(ok, &device)))
            }
            Request::DropParty { device, .. } => {
                let device = resolve_name(&snap, device)?;
                authorize(&snap, who, &device)?;
                let ctrl = engine_request(&request, device.clone())?;
                let ok = engine
                    .control(now, ctrl)
                    .map_err(|e| CtiError::engine(&e))?;
                Ok(Some(ok_fields(ok, &device)))
            }
            Request::TransferCall { held, active } | Request::ConferenceCall { held, active } => {
                conn(held)?;
                let device = conn(active)?;
                let ctrl = engine_request(&request, device.clone())?;
                let ok = engine
                    .control(now, ctrl)
                    .map_err(|e| CtiError::engine(&e))?;
                Ok(Some(ok_fields(ok, &device)))
            }
            Request::GetForwarding(r) | Request::GetDoNotDisturb(r) => {
                let t = target(r)?;
                let view = DeviceView::read(&snap, &t.device, None);
                let lines: Vec<Value> = view
                    .lines
                    .iter()
                    .filter(|l| {
                        t.line
                            .as_ref()
                            .is_none_or(|(p, dn)| l.partition == *p && l.dn == *dn)
                    })
                    .map(|l| match request {
                        Request::GetDoNotDisturb(_) => json!({
                            "dn": l.dn, "partition": l.partition, "doNotDisturbOn": l.dnd }),
                        _ => json!({
                            "dn": l.dn, "partition": l.partition,
                            "forwarding": [{ "forwardingType": "forwardImmediate",
                                "forwardStatus": l.forward.is_some(), "forwardDN": l.forward }] }),
                    })
                    .collect();
                Ok(Some(json_map(
                    json!({ "device": t.device, "lines": lines }),
                )))
            }
            Request::GetRemoteDestinations(r) => {
                let t = remote(r)?;
                let view = DeviceView::read(&snap, &t.device, None);
                Ok(Some(json_map(json!({
                    "device": t.device,
                    "remoteDestinations": view.rds_json(),
                    "activeRemoteDestination": view.active_rd().map(|r| r.name.clone()),
                }))))
            }
            Request::SetForwarding { target: r, to, .. } => {
                let t = target(r)?;
                let mut j = job(Op::Forwarding {
                    line: t.line,
                    to: to.clone(),
                });
                j.origin = Origin::Admin; // lines are not end-user objects; authorized above
                self.enqueue(now, &t.device, j)
            }
            Request::SetDoNotDisturb { target: r, on } => {
                let t = target(r)?;
                let mut j = job(Op::Dnd {
                    line: t.line,
                    on: *on,
                });
                j.origin = Origin::Admin;
                self.enqueue(now, &t.device, j)
            }
            Request::AddRemoteDestination { target: r, rd } => {
                let t = remote(r)?;
                self.enqueue(now, &t.device, job(Op::AddRd(rd.clone())))
            }
            Request::UpdateRemoteDestination {
                target: r,
                name: n,
                patch,
            } => {
                let t = remote(r)?;
                let op = Op::UpdateRd {
                    name: n.clone(),
                    patch: patch.clone(),
                };
                self.enqueue(now, &t.device, job(op))
            }
            Request::RemoveRemoteDestination { target: r, name: n } => {
                let t = remote(r)?;
                self.enqueue(now, &t.device, job(Op::RemoveRd { name: n.clone() }))
            }
            Request::SetActiveRemoteDestination { target: r, name: n } => {
                let t = remote(r)?;
                self.enqueue(now, &t.device, job(Op::SetActive { name: n.clone() }))
            }
            Request::RegisterAddress {
                target: r,
                dest,
                name: remote_name,
            } => {
                let t = remote(r)?;
                rd_number_key(snap.numbering(), dest)
                    .map_err(|v| CtiError::param("REMOTE_DEST", v.message))?;
                self.check_pending(session)?;
                let xref = self.monitor(session, &t.device)?;
                let remote_name = remote_name.clone().unwrap_or_else(|| dest.clone());
                let fields = json!({ "device": t.device, "monitorCrossRefId": xref,
                                     "REMOTE_DEST": dest, "REMOTE_NAME": remote_name });
                self.respond_ok(session, name, invoke_id, json_map(fields.clone()));
                self.emit(now, session, Some(xref), &Event::new("Registered", fields));
                let op = Op::Register {
                    dest: dest.clone(),
                    name: remote_name,
                };
                self.enqueue(now, &t.device, job(op))?;
                Ok(None)
            }
            Request::UnregisterAddress(r) => {
                let t = remote(r)?;
                if !self.controllers.is_controller(&t.device, session) {
                    return Err(CtiError::new(
                        ErrorCode::NotController,
                        format!(
                            "only the client that registered {} last (its controller) can deactivate it",
                            t.device
                        ),
                    ));
                }
                self.enqueue(now, &t.device, job(Op::Unregister))
            }
        }
    }

    fn check_pending(&self, session: SessionId) -> Result<(), CtiError> {
        let pending = self.sessions.get(&session).map_or(0, |s| s.pending);
        if pending >= self.cfg.max_pending_per_session {
            return Err(CtiError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "{pending} requests of this session are waiting for the store; wait for their answers"
                ),
            ));
        }
        Ok(())
    }

    /// Queues a write; the answer comes with its result.
    fn enqueue(&mut self, now: Instant, device: &str, job: Job) -> Answer {
        if let Some(s) = job.session {
            self.check_pending(s)?;
            if let Some(sess) = self.sessions.get_mut(&s) {
                sess.pending += 1;
            }
        }
        self.queues.push(device, job);
        self.pump(now, device);
        Ok(None)
    }

    /// The session's monitor of `device`, started if it has none.
    pub(crate) fn monitor(&mut self, session: SessionId, device: &str) -> Result<u64, CtiError> {
        let Some(s) = self.sessions.get(&session) else {
            return Err(CtiError::new(ErrorCode::InvalidMonitor, "no such session"));
        };
        if let Some(x) = s.monitors.get(device) {
            return Ok(*x);
        }
        if s.monitors.len() >= self.cfg.max_monitors_per_session {
            return Err(CtiError::new(
                ErrorCode::MonitorLimitExceeded,
                format!(
                    "a session may monitor at most {} devices",
                    self.cfg.max_monitors_per_session
                ),
            ));
        }
        if self.monitors.of(device).len() >= self.cfg.max_clients_per_device {
            return Err(CtiError::new(
                ErrorCode::ClientLimitExceeded,
                format!(
                    "{} clients monitor device {device} already, the most allowed",
                    self.cfg.max_clients_per_device
                ),
            ));
        }
        if !self.views.contains_key(device) {
            let ctrl = self.controllers.get(device).map(|c| c.dest.clone());
            let view = DeviceView::read(&self.snap, device, ctrl.as_ref());
            self.views.insert(device.to_owned(), view);
        }
        let xref = self.monitors.add(session, device);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.monitors.insert(device.to_owned(), xref);
        }
        Ok(xref)
    }

    pub(crate) fn unmonitor(&mut self, xref: u64) {
        let Some((session, device)) = self.monitors.remove(xref) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&session) {
            s.monitors.remove(&device);
        }
        if !self.monitors.is_monitored(&device) {
            self.views.remove(&device);
        }
    }
}
