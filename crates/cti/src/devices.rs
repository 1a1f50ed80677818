//! A device as CTI clients see it, read from the provisioning snapshot: its lines (DND, call
//! forward all), its remote destinations, and whether it is in service — and the difference
//! between two such views, which becomes DoNotDisturb, Forwarding, RemoteDestinationChanged,
//! BackInService and OutOfService events.
//!
//! In service (T-Server contract): the device exists, it is *up* — its active RD routes
//! through its reroute calling search space (after the application dial rules) — and it is
//! *extended* to that RD. Who extended it (the controller) is [`crate::tserver`]'s business;
//! this room only takes the REMOTE_DEST/REMOTE_NAME to report.

use serde_json::{json, Value};
use tether_store::model::{DeviceKind, RemoteDestination};
use tether_store::rules::check_reachable;
use tether_store::Snapshot;

use crate::protocol::event::Event;

/// What BackInService carries: the remote destination the device is extended to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub remote_dest: String,
    pub remote_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineView {
    pub partition: String,
    pub dn: String,
    pub position: u32,
    pub dnd: bool,
    pub forward: Option<String>,
}

/// One device as the last snapshot showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceView {
    pub exists: bool,
    pub remote_device: bool,
    pub display_name: String,
    pub lines: Vec<LineView>,
    /// By name.
    pub rds: Vec<RemoteDestination>,
    /// In service: extended to this destination. None: out of service.
    pub dest: Option<Dest>,
    /// Why it is out of service.
    pub reason: String,
}

impl DeviceView {
    /// Reads `device` from `snap`. `registered` is the controller's REMOTE_DEST/REMOTE_NAME,
    /// reported instead of the RD's own number and name while the controller holds it.
    pub fn read(snap: &Snapshot, device: &str, registered: Option<&Dest>) -> DeviceView {
        let Some(d) = snap.device(device) else {
            return DeviceView {
                exists: false,
                remote_device: false,
                display_name: String::new(),
                lines: Vec::new(),
                rds: Vec::new(),
                dest: None,
                reason: format!("device {device} does not exist"),
            };
        };
        let lines = snap
            .lines_of(device)
            .map(|l| LineView {
                partition: l.partition.clone(),
                dn: l.dn.clone(),
                position: l.position,
                dnd: l.dnd,
                forward: l.call_forward_all.clone(),
            })
            .collect();
        let rds: Vec<RemoteDestination> = snap.remote_destinations_of(device).cloned().collect();
        let remote_device = d.kind == DeviceKind::CtiRemoteDevice;
        let (dest, reason) = match rds.iter().find(|r| r.active) {
            _ if !remote_device => (None, "not a CTI remote device".to_owned()),
            None => (
                None,
                "not extended: no active remote destination".to_owned(),
            ),
            Some(rd) => match check_reachable(snap, rd) {
                Ok(()) => (
                    Some(registered.cloned().unwrap_or_else(|| Dest {
                        remote_dest: rd.number.clone(),
                        remote_name: rd.name.clone(),
                    })),
                    String::new(),
                ),
                Err(v) => (None, format!("not up: {}", v.message)),
            },
        };
        DeviceView {
            exists: true,
            remote_device,
            display_name: d.display_name.clone(),
            lines,
            rds,
            dest,
            reason,
        }
    }

    pub fn active_rd(&self) -> Option<&RemoteDestination> {
        self.rds.iter().find(|r| r.active)
    }

    /// `inService` as snapshots show it: null for devices without the notion (SIP phones).
    pub fn in_service(&self) -> Value {
        if self.remote_device {
            Value::Bool(self.dest.is_some())
        } else {
            Value::Null
        }
    }

    pub fn lines_json(&self) -> Value {
        Value::Array(
            self.lines
                .iter()
                .map(|l| {
                    json!({ "dn": l.dn, "partition": l.partition, "position": l.position,
                            "doNotDisturbOn": l.dnd,
                            "forwarding": [forwarding_json(l)] })
                })
                .collect(),
        )
    }

    pub fn rds_json(&self) -> Value {
        Value::Array(self.rds.iter().map(rd_json).collect())
    }
}

fn forwarding_json(l: &LineView) -> Value {
    json!({ "forwardingType": "forwardImmediate", "forwardStatus": l.forward.is_some(),
            "forwardDN": l.forward })
}

/// A remote destination as clients see it.
pub fn rd_json(rd: &RemoteDestination) -> Value {
    json!({ "name": rd.name, "number": rd.number, "active": rd.active,
            "ringSchedule": rd.ring_schedule,
            "answerTooSoonMs": rd.answer_too_soon_ms, "answerTooLateMs": rd.answer_too_late_ms,
            "delayBeforeRingingMs": rd.delay_before_ringing_ms })
}

/// One difference between two views of a device, before it is addressed to sessions.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceChange {
    /// A plain event, the same for every monitor.
    Plain(Event),
    /// RemoteDestinationChanged: `isMine` is filled in per session.
    Rd(Event),
    /// BackInService: `controller` is filled in per session.
    BackInService(Event),
}

/// What changed from `old` to `new` for monitors of `device`.
pub fn diff(device: &str, old: &DeviceView, new: &DeviceView) -> Vec<DeviceChange> {
    let mut out = Vec::new();
    for l in &new.lines {
        let before = old
            .lines
            .iter()
            .find(|o| o.partition == l.partition && o.dn == l.dn);
        if before.map_or(l.dnd, |o| o.dnd != l.dnd) {
            out.push(DeviceChange::Plain(Event::new(
                "DoNotDisturb",
                json!({ "device": device, "dn": l.dn, "partition": l.partition,
                        "doNotDisturbOn": l.dnd }),
            )));
        }
        if before.map_or(l.forward.is_some(), |o| o.forward != l.forward) {
            let mut fields = json!({ "device": device, "dn": l.dn, "partition": l.partition });
            if let (Value::Object(m), Value::Object(f)) = (&mut fields, forwarding_json(l)) {
                m.extend(f);
            }
            out.push(DeviceChange::Plain(Event::new("Forwarding", fields)));
        }
    }
    let active = new.active_rd().map(|r| r.name.clone());
    let rd_event = |change: &str, rd: &RemoteDestination| {
        DeviceChange::Rd(Event::new(
            "RemoteDestinationChanged",
            json!({ "device": device, "change": change, "remoteDestination": rd_json(rd),
                    "activeRemoteDestination": active }),
        ))
    };
    for rd in &new.rds {
        match old.rds.iter().find(|o| o.name == rd.name) {
            None => out.push(rd_event("added", rd)),
            Some(o) if o != rd => out.push(rd_event("updated", rd)),
            Some(_) => {}
        }
    }
    for rd in &old.rds {
        if !new.rds.iter().any(|n| n.name == rd.name) {
            let mut gone = rd.clone();
            gone.active = false;
            out.push(rd_event("removed", &gone));
        }
    }
    match (&old.dest, &new.dest) {
        (_, Some(d)) if old.dest.as_ref() != Some(d) => {
            out.push(DeviceChange::BackInService(back_in_service(device, d)))
        }
        (Some(_), None) => out.push(DeviceChange::Plain(out_of_service(device, &new.reason))),
        _ => {}
    }
    out
}

pub fn back_in_service(device: &str, d: &Dest) -> Event {
    Event::new(
        "BackInService",
        json!({ "device": device, "REMOTE_DEST": d.remote_dest, "REMOTE_NAME": d.remote_name }),
    )
}

pub fn out_of_service(device: &str, reason: &str) -> Event {
    Event::new(
        "OutOfService",
        json!({ "device": device, "reason": reason }),
    )
}
