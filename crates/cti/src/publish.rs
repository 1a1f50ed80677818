//! Provisioning changes reaching clients: queued writes go out ([`Cti::pump`]), their results
//! come back ([`Cti::write_result`]) and answer the request, and every new snapshot
//! ([`Cti::set_snapshot`]) is compared with the last one for each monitored device, giving
//! DoNotDisturb, Forwarding, RemoteDestinationChanged (`isMine` for the session whose write
//! made it), BackInService and OutOfService. Also here: the T-Server outcome of a
//! registration (BackInService or HardwareError) and the re-check of who may still monitor
//! what after provisioning changed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};
use tether_store::{Code, Snapshot, StoreError};

use crate::auth::{authorize, Principal};
use crate::core::{Cti, CtiOutput};
use crate::devices::{back_in_service, diff, DeviceChange, DeviceView};
use crate::ids::{SessionId, Ticket};
use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::event::Event;
use crate::tserver::Controller;
use crate::writes::{plan, InFlight, Job, Op, Plan};

/// Whose write a snapshot change came from: (session, device).
type Attribution<'a> = Option<(Option<SessionId>, &'a str)>;

impl Cti {
    /// A new provisioning snapshot (any writer). The same or an older version is ignored.
    pub fn set_snapshot(&mut self, now: Instant, snap: Arc<Snapshot>) {
        self.offer(now, snap, None);
        self.flush_newer(now);
    }

    /// The binary's answer to [`CtiOutput::Write`]: the store's result and the snapshot
    /// right after it (the current one if the write failed).
    pub fn write_result(
        &mut self,
        now: Instant,
        ticket: Ticket,
        result: Result<(), StoreError>,
        snap_after: Arc<Snapshot>,
    ) {
        let Some(InFlight { device, job, plan }) = self.queues.finish(ticket) else {
            return;
        };
        let result = result.map_err(|e| CtiError::store(&e));
        self.complete(now, &device, job, plan, result, Some(snap_after));
        self.pump(now, &device);
        self.flush_newer(now);
    }

    /// Starts the next write of `device`, answering at once the jobs that need none or
    /// cannot be planned.
    pub(crate) fn pump(&mut self, now: Instant, device: &str) {
        while let Some(job) = self.queues.next(device) {
            if job.session.is_some_and(|s| !self.sessions.contains_key(&s)) {
                continue; // its client left; nobody to answer
            }
            let snap = self.latest();
            match plan(&snap, &self.controllers, device, &job) {
                Err(e) => self.complete(now, device, job, Plan::default(), Err(e), None),
                Ok(p) if p.changes.is_empty() => self.complete(now, device, job, p, Ok(()), None),
                Ok(p) => {
                    let ticket = self.ticket();
                    self.push(CtiOutput::Write {
                        ticket,
                        origin: job.origin.clone(),
                        changes: p.changes.clone(),
                    });
                    let flight = InFlight {
                        device: device.to_owned(),
                        job,
                        plan: p,
                    };
                    self.queues.start(ticket, flight);
                    return;
                }
            }
        }
    }

    /// A job is done: answer its client, then show the new snapshot to every monitor.
    fn complete(
        &mut self,
        now: Instant,
        device: &str,
        job: Job,
        plan: Plan,
        result: Result<(), CtiError>,
        snap_after: Option<Arc<Snapshot>>,
    ) {
        let alive = job.session.filter(|s| self.sessions.contains_key(s));
        if let Some(s) = alive.and_then(|s| self.sessions.get_mut(&s)) {
            s.pending = s.pending.saturating_sub(1);
        }
        let mut registered = None;
        match (&job.op, &result, alive) {
            (Op::Register { dest, name }, Ok(()), Some(s)) => {
                let (rd_name, rd_number) = plan.register.unwrap_or_default();
                let dest = crate::devices::Dest {
                    remote_dest: dest.clone(),
                    remote_name: name.clone(),
                };
                self.controllers.set(
                    device,
                    Controller {
                        session: s,
                        rd_name,
                        rd_number,
                        dest,
                    },
                );
                registered = Some(s);
            }
            (Op::Register { .. }, Ok(()), None) => {
                // Its client left while the write was under way: it was the last to
                // register, so its leaving deactivates.
                if let Some((rd_name, rd_number)) = plan.register {
                    self.queues.push(
                        device,
                        Job {
                            session: None,
                            op: Op::Deactivate { rd_name, rd_number },
                            origin: tether_store::Origin::Admin,
                            ..job.clone()
                        },
                    );
                }
            }
            (Op::Register { .. }, Err(e), Some(s)) => self.hardware_error(now, s, device, e),
            (Op::Unregister, Ok(()), Some(s)) => {
                if self.controllers.is_controller(device, s) {
                    self.controllers.remove(device);
                }
                self.respond_ok(s, job.name, &job.invoke_id, Map::new());
                let xref = self.xref(s, device);
                let e = Event::new("Unregistered", json!({ "device": device }));
                self.emit(now, s, xref, &e);
            }
            (_, Ok(()), Some(s)) => self.respond_ok(s, job.name, &job.invoke_id, Map::new()),
            (_, Err(e), Some(s)) => self.respond_err(s, Some(job.name), &job.invoke_id, e),
            (_, _, None) => {}
        }
        let mut backs = HashSet::new();
        if let Some(snap) = snap_after {
            backs = self.offer(now, snap, Some((job.session, device)));
        }
        if let Some(s) = registered {
            self.registration_outcome(now, s, device, &backs);
        }
    }

    /// After a successful registration: BackInService to every monitor if the device is in
    /// service (unless the snapshot change just sent it), else HardwareError to the client.
    fn registration_outcome(
        &mut self,
        now: Instant,
        session: SessionId,
        device: &str,
        backs: &HashSet<String>,
    ) {
        let ctrl = self.controllers.get(device).map(|c| c.dest.clone());
        let view = DeviceView::read(&self.snap, device, ctrl.as_ref());
        if self.monitors.is_monitored(device) {
            self.views.insert(device.to_owned(), view.clone());
        }
        match &view.dest {
            Some(d) if !backs.contains(device) => {
                let ch = DeviceChange::BackInService(back_in_service(device, d));
                self.deliver(now, device, &ch, None);
            }
            Some(_) => {}
            None => {
                let e = CtiError::new(ErrorCode::Store(Code::RdNotReachable), view.reason);
                self.hardware_error(now, session, device, &e);
            }
        }
    }

    fn hardware_error(&mut self, now: Instant, session: SessionId, device: &str, e: &CtiError) {
        let xref = self.xref(session, device);
        let ev = Event::new(
            "HardwareError",
            json!({ "device": device, "code": e.code.as_str(), "reason": e.message }),
        );
        self.emit(now, session, xref, &ev);
    }

    fn xref(&self, session: SessionId, device: &str) -> Option<u64> {
        self.sessions
            .get(&session)
            .and_then(|s| s.monitors.get(device).copied())
    }

    /// Applies a newer snapshot now, or holds it while a write is in flight (so the write's
    /// result can say whose change it was). Returns the devices that got BackInService.
    fn offer(&mut self, now: Instant, snap: Arc<Snapshot>, by: Attribution) -> HashSet<String> {
        if snap.version() <= self.snap.version() {
            return HashSet::new();
        }
        if by.is_none() && self.queues.writing() {
            if self
                .newer
                .as_ref()
                .is_none_or(|n| snap.version() > n.version())
            {
                self.newer = Some(snap);
            }
            return HashSet::new();
        }
        self.apply(now, snap, by)
    }

    fn flush_newer(&mut self, now: Instant) {
        if self.queues.writing() {
            return;
        }
        if let Some(n) = self.newer.take() {
            if n.version() > self.snap.version() {
                self.apply(now, n, None);
            }
        }
    }

    fn apply(&mut self, now: Instant, snap: Arc<Snapshot>, by: Attribution) -> HashSet<String> {
        if self
            .newer
            .as_ref()
            .is_some_and(|n| n.version() <= snap.version())
        {
            self.newer = None;
        }
        self.snap = snap.clone();
        self.controllers.retain_valid(&snap);
        let mut backs = HashSet::new();
        for device in self.monitors.devices() {
            let ctrl = self.controllers.get(&device).map(|c| c.dest.clone());
            let new = DeviceView::read(&snap, &device, ctrl.as_ref());
            let Some(old) = self.views.insert(device.clone(), new.clone()) else {
                continue;
            };
            for ch in diff(&device, &old, &new) {
                if matches!(ch, DeviceChange::BackInService(_)) {
                    backs.insert(device.clone());
                }
                self.deliver(now, &device, &ch, by);
            }
        }
        self.reauthorize(now);
        backs
    }

    /// Sends one device change to every monitor of the device.
    fn deliver(&mut self, now: Instant, device: &str, ch: &DeviceChange, by: Attribution) {
        for (s, xref) in self.monitors.of(device).to_vec() {
            let ev = match ch {
                DeviceChange::Plain(e) => e.clone(),
                DeviceChange::Rd(e) => {
                    let mine = by.is_some_and(|(who, d)| who == Some(s) && d == device);
                    with(e, "isMine", Value::Bool(mine))
                }
                DeviceChange::BackInService(e) => {
                    let ctrl = self.controllers.is_controller(device, s);
                    with(e, "controller", Value::Bool(ctrl))
                }
            };
            self.emit(now, s, Some(xref), &ev);
        }
    }

    /// After provisioning changed: close sessions of users who may no longer use CTI, end
    /// monitors of devices that are gone or no longer the user's.
    fn reauthorize(&mut self, now: Instant) {
        let snap = self.snap.clone();
        let mut revoked: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                matches!(s.principal(), Some(Principal::User(u))
                    if !snap.user(u).is_some_and(|u| u.cti_enabled))
            })
            .map(|(id, _)| *id)
            .collect();
        revoked.sort();
        for id in revoked {
            self.close(now, id, "the user may no longer use the CTI interface");
        }
        for (xref, s, device) in self.monitors.all() {
            let Some(who) = self.sessions.get(&s).and_then(|x| x.principal().cloned()) else {
                continue;
            };
            if let Err(e) = authorize(&snap, &who, &device) {
                let ev = Event::new(
                    "MonitorEnded",
                    json!({ "device": device, "cause": e.code.as_str(), "reason": e.message }),
                );
                self.emit(now, s, Some(xref), &ev);
                self.unmonitor(xref);
            }
        }
    }
}

fn with(e: &Event, key: &str, v: Value) -> Event {
    let mut e = e.clone();
    e.fields.insert(key.to_owned(), v);
    e
}
