//! Which sessions monitor which devices, by monitorCrossRefId (CSTA MonitorStart). The index
//! both ways: a device's events go to every monitor of it; a session's monitors end with it.

use std::collections::HashMap;

use crate::ids::SessionId;

#[derive(Debug, Default)]
pub struct Monitors {
    by_xref: HashMap<u64, (SessionId, String)>,
    by_device: HashMap<String, Vec<(SessionId, u64)>>,
    next: u64,
}

impl Monitors {
    /// A new monitor of `device` by `session`; its cross-reference id.
    pub fn add(&mut self, session: SessionId, device: &str) -> u64 {
        self.next += 1;
        let xref = self.next;
        self.by_xref.insert(xref, (session, device.to_owned()));
        self.by_device
            .entry(device.to_owned())
            .or_default()
            .push((session, xref));
        xref
    }

    /// Ends a monitor; its session and device. The device is left unmonitored when this was
    /// its last monitor ([`Monitors::is_monitored`]).
    pub fn remove(&mut self, xref: u64) -> Option<(SessionId, String)> {
        let (session, device) = self.by_xref.remove(&xref)?;
        if let Some(list) = self.by_device.get_mut(&device) {
            list.retain(|(_, x)| *x != xref);
            if list.is_empty() {
                self.by_device.remove(&device);
            }
        }
        Some((session, device))
    }

    pub fn get(&self, xref: u64) -> Option<&(SessionId, String)> {
        self.by_xref.get(&xref)
    }

    /// The monitors of `device`: (session, monitorCrossRefId).
    pub fn of(&self, device: &str) -> &[(SessionId, u64)] {
        self.by_device.get(device).map_or(&[], Vec::as_slice)
    }

    pub fn is_monitored(&self, device: &str) -> bool {
        self.by_device.contains_key(device)
    }

    /// Every monitored device.
    pub fn devices(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_device.keys().cloned().collect();
        v.sort();
        v
    }

    /// Every monitor: (monitorCrossRefId, session, device).
    pub fn all(&self) -> Vec<(u64, SessionId, String)> {
        let mut v: Vec<_> = self
            .by_xref
            .iter()
            .map(|(x, (s, d))| (*x, *s, d.clone()))
            .collect();
        v.sort_by_key(|(x, _, _)| *x);
        v
    }
}
