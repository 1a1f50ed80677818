//! The T-Server extend-and-connect contract (seed 001, SPEC §3): who controls a device and what
//! RegisterAddress, UnregisterAddress and a controller's disconnect write.
//!
//! The last client to register decides the remote destination and becomes the controller;
//! only the controller deactivates (UnregisterAddress or disconnecting). A controller holds
//! only while the device's active RD is still the one it registered: when someone else (an
//! administrator, SetActiveRemoteDestination) changes it, the controller is dropped and
//! BackInService/OutOfService tell every client who has the device now.

use std::collections::HashMap;

use tether_store::model::{Object, RemoteDestination};
use tether_store::rules::rd_number_key;
use tether_store::{Change, Snapshot};

use crate::devices::Dest;
use crate::ids::SessionId;
use crate::protocol::error::CtiError;

/// The session that decided a device's remote destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub session: SessionId,
    /// The RD it activated, by name and number as stored.
    pub rd_name: String,
    pub rd_number: String,
    /// REMOTE_DEST and REMOTE_NAME as the client gave them.
    pub dest: Dest,
}

#[derive(Debug, Default)]
pub struct Controllers {
    by_device: HashMap<String, Controller>,
}

impl Controllers {
    pub fn get(&self, device: &str) -> Option<&Controller> {
        self.by_device.get(device)
    }

    pub fn set(&mut self, device: &str, c: Controller) {
        self.by_device.insert(device.to_owned(), c);
    }

    pub fn remove(&mut self, device: &str) -> Option<Controller> {
        self.by_device.remove(device)
    }

    pub fn is_controller(&self, device: &str, session: SessionId) -> bool {
        self.get(device).is_some_and(|c| c.session == session)
    }

    /// The devices `session` controls.
    pub fn of_session(&self, session: SessionId) -> Vec<String> {
        let mut v: Vec<String> = self
            .by_device
            .iter()
            .filter(|(_, c)| c.session == session)
            .map(|(d, _)| d.clone())
            .collect();
        v.sort();
        v
    }

    /// Drops every controller whose RD is no longer the device's active one.
    pub fn retain_valid(&mut self, snap: &Snapshot) {
        self.by_device.retain(|device, c| {
            snap.remote_destinations_of(device)
                .any(|r| r.active && r.name == c.rd_name && r.number == c.rd_number)
        });
    }
}

/// What a RegisterAddress writes: the RD it activates, by name and number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterPlan {
    pub changes: Vec<Change>,
    pub rd_name: String,
    pub rd_number: String,
}

/// RegisterAddress: reuse the device's RD whose number is equivalent to `dest` (any dialing
/// form), else the RD named `name` with its number changed to `dest` (how Jabber-style
/// clients keep one `JabberRD`), else a new RD `name`; make it the only active one.
pub fn plan_register(
    snap: &Snapshot,
    device: &str,
    dest: &str,
    name: &str,
) -> Result<RegisterPlan, CtiError> {
    let key = rd_number_key(snap.numbering(), dest)
        .map_err(|v| CtiError::param("REMOTE_DEST", v.message))?;
    let same_number = snap
        .remote_destinations_of(device)
        .find(|r| rd_number_key(snap.numbering(), &r.number).ok().as_ref() == Some(&key));
    let mut changes = Vec::new();
    let chosen = match same_number {
        Some(r) => r.clone(),
        None => {
            let named = snap.remote_destinations_of(device).find(|r| r.name == name);
            let mut rd = named.cloned().unwrap_or_else(|| new_rd(device, name, dest));
            rd.number = dest.to_owned();
            rd.active = true;
            changes.push(if named.is_some() {
                Change::Update(Object::RemoteDestination(rd.clone()))
            } else {
                Change::Create(Object::RemoteDestination(rd.clone()))
            });
            rd
        }
    };
    changes.extend(set_active(snap, device, Some(&chosen.name)));
    // The RD just written is already active in `changes`.
    let mut seen = std::collections::HashSet::new();
    changes.retain(|c| seen.insert(c.key()));
    Ok(RegisterPlan {
        changes,
        rd_name: chosen.name,
        rd_number: chosen.number,
    })
}

/// Updates that make `name` the device's only active RD (None: no active RD).
pub fn set_active(snap: &Snapshot, device: &str, name: Option<&str>) -> Vec<Change> {
    snap.remote_destinations_of(device)
        .filter(|r| r.active != (Some(r.name.as_str()) == name))
        .map(|r| {
            let mut r = r.clone();
            r.active = !r.active;
            Change::Update(Object::RemoteDestination(r))
        })
        .collect()
}

/// Deactivation by a controller that leaves: only if the RD it activated is still active.
pub fn plan_deactivate(
    snap: &Snapshot,
    device: &str,
    rd_name: &str,
    rd_number: &str,
) -> Vec<Change> {
    let still = snap
        .remote_destinations_of(device)
        .any(|r| r.active && r.name == rd_name && r.number == rd_number);
    if still {
        set_active(snap, device, None)
    } else {
        Vec::new()
    }
}

pub fn new_rd(device: &str, name: &str, number: &str) -> RemoteDestination {
    RemoteDestination {
        device: device.to_owned(),
        name: name.to_owned(),
        number: number.to_owned(),
        active: false,
        ring_schedule: None,
        answer_too_soon_ms: 1500,
        answer_too_late_ms: 19000,
        delay_before_ringing_ms: 4000,
    }
}
