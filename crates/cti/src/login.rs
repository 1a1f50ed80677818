//! Authentication: `Authenticate{user, password}` (checked by the binary, off the event loop)
//! or `Authenticate{token}` (the admin token, checked here). The positive response carries the
//! snapshot of the user's devices and their calls: what a reconnecting client needs.

use std::time::Instant;

use serde_json::{json, Value};
use tether_store::model::User;

use crate::auth::{devices_of, token_matches, Principal};
use crate::calls::{call_json, json_map};
use crate::core::{CallControl, Cti, CtiOutput};
use crate::devices::DeviceView;
use crate::ids::{SessionId, Ticket};
use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::request::Credentials;
use crate::session::AuthState;

impl Cti {
    pub(crate) fn authenticate<C: CallControl>(
        &mut self,
        now: Instant,
        session: SessionId,
        invoke_id: Value,
        creds: Credentials,
        engine: &C,
    ) {
        match creds {
            Credentials::Token(t) => {
                if token_matches(self.cfg.admin_token.as_deref(), &t) {
                    self.logged_in(session, invoke_id, Principal::Admin, engine);
                } else {
                    let why = if self.cfg.admin_token.is_some() {
                        "the token is not valid"
                    } else {
                        "token authentication is not configured"
                    };
                    self.auth_failed(
                        now,
                        session,
                        &invoke_id,
                        CtiError::new(ErrorCode::AuthenticationFailed, why),
                    );
                }
            }
            Credentials::Password { user, password } => {
                let ticket = self.ticket();
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.auth = AuthState::Anonymous {
                        checking: Some((ticket, invoke_id)),
                    };
                }
                self.auth_tickets.insert(ticket, session);
                self.push(CtiOutput::Authenticate {
                    ticket,
                    user,
                    password,
                });
            }
        }
    }

    /// The binary's answer to [`CtiOutput::Authenticate`]: the user if the password is
    /// theirs. `engine` gives the calls for the response's snapshot.
    pub fn auth_result<C: CallControl>(
        &mut self,
        now: Instant,
        ticket: Ticket,
        user: Option<User>,
        engine: &C,
    ) {
        let Some(session) = self.auth_tickets.remove(&ticket) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let invoke_id = match &s.auth {
            AuthState::Anonymous {
                checking: Some((t, invoke_id)),
            } if *t == ticket => invoke_id.clone(),
            _ => return,
        };
        s.auth = AuthState::Anonymous { checking: None };
        let Some(user) = user else {
            let e = CtiError::new(
                ErrorCode::AuthenticationFailed,
                "wrong user name or password",
            );
            self.auth_failed(now, session, &invoke_id, e);
            return;
        };
        // The newest provisioning decides, not the copy the password check read.
        let snap = self.latest();
        let enabled = snap.user(&user.id).is_some_and(|u| u.cti_enabled);
        if !enabled {
            let e = CtiError::new(
                ErrorCode::CtiNotEnabled,
                format!("user {} may not use the CTI interface", user.id),
            );
            self.auth_failed(now, session, &invoke_id, e);
            return;
        }
        tracing::info!(session = %session, user = user.id, "CTI user authenticated");
        self.logged_in(session, invoke_id, Principal::User(user.id), engine);
    }

    fn logged_in<C: CallControl>(
        &mut self,
        session: SessionId,
        invoke_id: Value,
        who: Principal,
        engine: &C,
    ) {
        let devices = match &who {
            Principal::User(uid) => devices_of(&self.snap, uid),
            Principal::Admin => Vec::new(),
        };
        let snapshots: Vec<Value> = devices
            .iter()
            .map(|d| self.device_snapshot(session, d, engine))
            .collect();
        let fields = json!({
            "user": match &who { Principal::User(u) => Value::from(u.as_str()), Principal::Admin => Value::Null },
            "allDevices": who == Principal::Admin,
            "heartbeatIntervalMs": u64::try_from(self.cfg.heartbeat_interval.as_millis()).unwrap_or(u64::MAX),
            "devices": snapshots,
        });
        if let Some(s) = self.sessions.get_mut(&session) {
            s.auth = AuthState::Authenticated(who);
        }
        self.respond_ok(session, "Authenticate", &invoke_id, json_map(fields));
    }

    fn auth_failed(&mut self, now: Instant, session: SessionId, invoke_id: &Value, e: CtiError) {
        self.respond_err(session, Some("Authenticate"), invoke_id, &e);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        s.failures += 1;
        if s.failures >= self.cfg.max_auth_failures {
            self.close(now, session, "too many failed authentications");
        }
    }

    /// One device as SnapshotDevice, MonitorStart and Authenticate show it.
    pub(crate) fn device_snapshot<C: CallControl>(
        &self,
        session: SessionId,
        device: &str,
        engine: &C,
    ) -> Value {
        let ctrl = self.controllers.get(device);
        let view = DeviceView::read(&self.snap, device, ctrl.map(|c| &c.dest));
        let kind = self.snap.device(device).map(|d| d.kind.as_str());
        let xref = self
            .sessions
            .get(&session)
            .and_then(|s| s.monitors.get(device).copied());
        let calls: Vec<Value> = engine
            .device_calls(device)
            .iter()
            .map(|c| call_json(device, c))
            .collect();
        json!({
            "device": device,
            "kind": kind,
            "displayName": view.display_name,
            "monitorCrossRefId": xref,
            "inService": view.in_service(),
            "REMOTE_DEST": view.dest.as_ref().map(|d| d.remote_dest.clone()),
            "REMOTE_NAME": view.dest.as_ref().map(|d| d.remote_name.clone()),
            "outOfServiceReason": if view.dest.is_none() && view.remote_device { Value::from(view.reason.as_str()) } else { Value::Null },
            "controlled": ctrl.is_some(),
            "controller": ctrl.is_some_and(|c| c.session == session),
            "activeRemoteDestination": view.active_rd().map(|r| r.name.clone()),
            "remoteDestinations": view.rds_json(),
            "lines": view.lines_json(),
            "calls": calls,
        })
    }
}
