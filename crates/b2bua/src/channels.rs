//! Trunk channel accounting for the engine: which trunk an address belongs to (the inbound
//! access list), and how many channels each trunk has in use against its capacity.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use tether_store::model::Trunk;
use tether_store::Snapshot;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrunkUsage {
    pub in_use: u32,
    pub peak: u32,
    pub attempts: u64,
    pub refused_full: u64,
}

/// Channel counts per trunk name; capacities come from the snapshot at each seizure.
#[derive(Debug, Default)]
pub struct Channels {
    usage: HashMap<String, TrunkUsage>,
}

/// A trunk's capacity: its configured channels, else its kind's default; None = unlimited.
pub fn capacity(t: &Trunk) -> Option<u32> {
    t.channels.or_else(|| t.kind.default_channels())
}

/// The peer address of a trunk, if it is an IP literal with an optional port.
pub fn peer_addr(t: &Trunk) -> Option<(IpAddr, Option<u16>)> {
    let p = t.peer.trim();
    if let Ok(sa) = p.parse::<SocketAddr>() {
        return Some((sa.ip(), Some(sa.port())));
    }
    p.parse::<IpAddr>().ok().map(|ip| (ip, None))
}

/// The trunk `from` belongs to: the one whose peer IP and port match, else the one whose IP
/// matches (a trunk peer may send from another port than it listens on).
pub fn identify(snap: &Snapshot, from: SocketAddr) -> Option<&Trunk> {
    let mut ip_only = None;
    for t in snap.data().trunks.values() {
        if let Some((ip, port)) = peer_addr(t) {
            if ip == from.ip() {
                if port == Some(from.port()) {
                    return Some(t);
                }
                ip_only.get_or_insert(t);
            }
        }
    }
    ip_only
}

impl Channels {
    /// Takes a channel on `trunk`; false when it is full.
    pub fn seize(&mut self, trunk: &Trunk) -> bool {
        // The name is copied only the first time the trunk is used.
        if !self.usage.contains_key(&trunk.name) {
            self.usage.insert(trunk.name.clone(), TrunkUsage::default());
        }
        let Some(u) = self.usage.get_mut(&trunk.name) else {
            return false;
        };
        u.attempts += 1;
        if capacity(trunk).is_some_and(|c| u.in_use >= c) {
            u.refused_full += 1;
            return false;
        }
        u.in_use += 1;
        u.peak = u.peak.max(u.in_use);
        true
    }

    /// Gives a channel back (never below zero).
    pub fn release(&mut self, trunk: &str) {
        if let Some(u) = self.usage.get_mut(trunk) {
            u.in_use = u.in_use.saturating_sub(1);
        }
    }

    pub fn usage(&self) -> &HashMap<String, TrunkUsage> {
        &self.usage
    }

    pub fn in_use(&self) -> u32 {
        self.usage.values().map(|u| u.in_use).sum()
    }
}
