//! Provisioning writes CTI requests make (RDs, the active RD, DND, call forward all), one
//! device at a time.
//!
//! Each device has a queue; only its head is being written. A job's changes are computed when
//! it reaches the head, against the newest snapshot, so two clients racing on one device are
//! applied in the order they asked (the T-Server "last one wins") and a controller's
//! deactivation never undoes a registration that came after it.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;
use tether_store::model::{Object, RemoteDestination};
use tether_store::{Change, Code, Origin, Snapshot};

use crate::ids::{SessionId, Ticket};
use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::request::{NewRd, RdPatch};
use crate::tserver::{self, Controllers, RegisterPlan};

/// What a job does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// RegisterAddress (its response and Registered are out already).
    Register {
        dest: String,
        name: String,
    },
    /// UnregisterAddress by the controller.
    Unregister,
    /// A controller left: deactivate the RD it activated, if still active.
    Deactivate {
        rd_name: String,
        rd_number: String,
    },
    AddRd(NewRd),
    UpdateRd {
        name: String,
        patch: RdPatch,
    },
    RemoveRd {
        name: String,
    },
    SetActive {
        name: Option<String>,
    },
    /// DND on one line (partition, dn) or all of the device's lines.
    Dnd {
        line: Option<(String, String)>,
        on: bool,
    },
    Forwarding {
        line: Option<(String, String)>,
        to: Option<String>,
    },
}

/// A queued write and whom to answer.
#[derive(Clone, Debug)]
pub struct Job {
    /// None for jobs the core makes itself (deactivation after a controller left).
    pub session: Option<SessionId>,
    pub invoke_id: Value,
    pub name: &'static str,
    pub origin: Origin,
    pub op: Op,
}

/// A job's changes, computed at the head of its queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Register: the RD it activates.
    pub register: Option<(String, String)>,
}

/// A job being written.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub device: String,
    pub job: Job,
    pub plan: Plan,
}

#[derive(Debug, Default)]
pub struct Queues {
    waiting: HashMap<String, VecDeque<Job>>,
    busy: HashMap<String, Ticket>,
    in_flight: HashMap<Ticket, InFlight>,
}

impl Queues {
    pub fn push(&mut self, device: &str, job: Job) {
        self.waiting
            .entry(device.to_owned())
            .or_default()
            .push_back(job);
    }

    /// The next job of `device` if none is being written.
    pub fn next(&mut self, device: &str) -> Option<Job> {
        if self.busy.contains_key(device) {
            return None;
        }
        let q = self.waiting.get_mut(device)?;
        let job = q.pop_front();
        if q.is_empty() {
            self.waiting.remove(device);
        }
        job
    }

    pub fn start(&mut self, ticket: Ticket, flight: InFlight) {
        self.busy.insert(flight.device.clone(), ticket);
        self.in_flight.insert(ticket, flight);
    }

    pub fn finish(&mut self, ticket: Ticket) -> Option<InFlight> {
        let f = self.in_flight.remove(&ticket)?;
        self.busy.remove(&f.device);
        Some(f)
    }

    pub fn writing(&self) -> bool {
        !self.in_flight.is_empty()
    }
}

fn not_controller() -> CtiError {
    CtiError::new(
        ErrorCode::NotController,
        "another client registered this device last and controls its remote destination",
    )
}

fn no_rd(device: &str, name: &str) -> CtiError {
    CtiError {
        code: ErrorCode::Store(Code::NotFound),
        message: format!("device {device} has no remote destination {name}"),
        field: Some("name".into()),
    }
}

/// Computes a job's changes against `snap`. `controllers` guards the active RD: while a
/// controller holds a device, only it may change or clear the active RD by these requests
/// (others take control by RegisterAddress).
pub fn plan(
    snap: &Snapshot,
    controllers: &Controllers,
    device: &str,
    job: &Job,
) -> Result<Plan, CtiError> {
    let guard = || match (controllers.get(device), job.session) {
        (Some(c), Some(s)) if c.session != s => Err(not_controller()),
        _ => Ok(()),
    };
    let find = |name: &str| snap.remote_destinations_of(device).find(|r| r.name == name);
    let plain = |changes| {
        Ok(Plan {
            changes,
            register: None,
        })
    };
    match &job.op {
        Op::Register { dest, name } => {
            let RegisterPlan {
                changes,
                rd_name,
                rd_number,
            } = tserver::plan_register(snap, device, dest, name)?;
            Ok(Plan {
                changes,
                register: Some((rd_name, rd_number)),
            })
        }
        Op::Unregister => match (controllers.get(device), job.session) {
            (Some(c), Some(s)) if c.session == s => plain(tserver::plan_deactivate(
                snap,
                device,
                &c.rd_name,
                &c.rd_number,
            )),
            _ => Err(not_controller()),
        },
        Op::Deactivate { rd_name, rd_number } => {
            plain(tserver::plan_deactivate(snap, device, rd_name, rd_number))
        }
        Op::AddRd(new) => {
            let mut rd = tserver::new_rd(device, &new.name, &new.number);
            rd.active = new.active;
            rd.ring_schedule = new.ring_schedule.clone();
            apply_timers(&mut rd, &new.timers);
            let mut changes = vec![Change::Create(Object::RemoteDestination(rd))];
            if new.active {
                guard()?;
                changes.extend(tserver::set_active(snap, device, Some(&new.name)));
                // The new RD is not in `snap`, so set_active only turned the others off.
            }
            plain(changes)
        }
        Op::UpdateRd { name, patch } => {
            let old = find(name).ok_or_else(|| no_rd(device, name))?;
            let mut rd = old.clone();
            if let Some(n) = &patch.number {
                rd.number = n.clone();
            }
            if let Some(s) = &patch.ring_schedule {
                rd.ring_schedule = s.clone();
            }
            apply_timers(&mut rd, &patch.timers);
            if rd.active && rd.number != old.number {
                guard()?;
            }
            plain(if &rd == old {
                Vec::new()
            } else {
                vec![Change::Update(Object::RemoteDestination(rd))]
            })
        }
        Op::RemoveRd { name } => {
            let rd = find(name).ok_or_else(|| no_rd(device, name))?;
            if rd.active {
                guard()?;
            }
            plain(vec![Change::Delete(
                tether_store::Kind::RemoteDestination,
                tether_store::Key::Two(device.to_owned(), name.clone()),
            )])
        }
        Op::SetActive { name } => {
            if let Some(n) = name {
                find(n).ok_or_else(|| no_rd(device, n))?;
            }
            let changes = tserver::set_active(snap, device, name.as_deref());
            if !changes.is_empty() {
                guard()?;
            }
            plain(changes)
        }
        Op::Dnd { line, on } => plain(line_changes(snap, device, line, |l| {
            (l.dnd != *on).then(|| {
                let mut l = l.clone();
                l.dnd = *on;
                l
            })
        })),
        Op::Forwarding { line, to } => plain(line_changes(snap, device, line, |l| {
            (l.call_forward_all != *to).then(|| {
                let mut l = l.clone();
                l.call_forward_all = to.clone();
                l
            })
        })),
    }
}

fn apply_timers(rd: &mut RemoteDestination, t: &crate::protocol::request::RdTimers) {
    if let Some(v) = t.answer_too_soon_ms {
        rd.answer_too_soon_ms = v;
    }
    if let Some(v) = t.answer_too_late_ms {
        rd.answer_too_late_ms = v;
    }
    if let Some(v) = t.delay_before_ringing_ms {
        rd.delay_before_ringing_ms = v;
    }
}

fn line_changes(
    snap: &Snapshot,
    device: &str,
    line: &Option<(String, String)>,
    edit: impl Fn(&tether_store::model::Line) -> Option<tether_store::model::Line>,
) -> Vec<Change> {
    snap.lines_of(device)
        .filter(|l| {
            line.as_ref()
                .is_none_or(|(p, dn)| l.partition == *p && l.dn == *dn)
        })
        .filter_map(edit)
        .map(|l| Change::Update(Object::Line(l)))
        .collect()
}
