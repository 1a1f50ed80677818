//! Trunk policy: what a circuit does that a SIP leg does not. Each trunk has a channel pool
//! sized by its kind ([`capacity`]) and hunted in its configured order (`pool.rs`), an inbound
//! access list entry ([`peer`]), usage counters ([`usage`]) and a Q.850 <-> SIP cause table
//! ([`crate::cause`]). [`TrunkSet`] holds them all, built from the provisioned trunks.
//!
//! Sans-IO: no sockets, no clock (time comes in as `now`), no name resolution. The call engine
//! asks; this room answers and counts.

pub mod capacity;
pub mod error;
pub mod id;
pub mod peer;
mod pool;
pub mod usage;

pub use capacity::Capacity;
pub use error::{TrunkConfigError, TrunkError};
pub use id::{Channel, TrunkId};
pub use peer::{PeerMatch, PeerSpec};
pub use usage::{CallOutcome, TrunkUsage};

use crate::cause::CauseMap;
use pool::ChannelPool;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tether_store::model::{Hunting, Trunk, TrunkKind};
use usage::UsageCounter;

/// One trunk's configuration and state.
#[derive(Clone, Debug)]
pub struct TrunkState {
    id: TrunkId,
    kind: TrunkKind,
    peer: PeerSpec,
    did: Option<String>,
    inbound_css: Option<String>,
    hunting: Hunting,
    capacity: Capacity,
    causes: CauseMap,
    pool: ChannelPool,
    usage: UsageCounter,
}

impl TrunkState {
    fn from_store(t: &Trunk) -> Result<TrunkState, TrunkConfigError> {
        if t.channels == Some(0) {
            return Err(TrunkConfigError::ZeroChannels(t.name.clone()));
        }
        let causes =
            CauseMap::with_overrides(&t.cause_map).map_err(|error| TrunkConfigError::CauseMap {
                trunk: t.name.clone(),
                error,
            })?;
        let capacity = Capacity::of(t.kind, t.channels);
        // An unlimited trunk has no channel plan to hunt: it numbers its calls from 1 up.
        let hunting = match capacity {
            Capacity::Channels(_) => t.hunting,
            Capacity::Unlimited => Hunting::Ascending,
        };
        Ok(TrunkState {
            id: TrunkId::new(&t.name),
            kind: t.kind,
            peer: PeerSpec::parse(&t.peer),
            did: t.did.clone(),
            inbound_css: t.inbound_css.clone(),
            hunting: t.hunting,
            capacity,
            causes,
            pool: ChannelPool::new(capacity.highest(), hunting),
            usage: UsageCounter::new(capacity.channels()),
        })
    }

    pub fn id(&self) -> &TrunkId {
        &self.id
    }
    pub fn kind(&self) -> TrunkKind {
        self.kind
    }
    pub fn peer(&self) -> &PeerSpec {
        &self.peer
    }
    /// The number shown on Dial-Via-Office legs.
    pub fn did(&self) -> Option<&str> {
        self.did.as_deref()
    }
    pub fn inbound_css(&self) -> Option<&str> {
        self.inbound_css.as_deref()
    }
    pub fn hunting(&self) -> Hunting {
        self.hunting
    }
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }
    pub fn causes(&self) -> &CauseMap {
        &self.causes
    }
    pub fn in_use(&self) -> u32 {
        self.pool.in_use()
    }
}

/// Every trunk, by name, with the inbound access list over their peers.
#[derive(Clone, Debug, Default)]
pub struct TrunkSet {
    trunks: BTreeMap<TrunkId, TrunkState>,
    /// Trunks whose peer is an IP literal, by that IP.
    by_ip: HashMap<IpAddr, Vec<TrunkId>>,
}

impl TrunkSet {
    /// The trunks of a provisioning snapshot.
    pub fn from_store(trunks: &[Trunk]) -> Result<TrunkSet, TrunkConfigError> {
        let mut set = TrunkSet::default();
        for t in trunks {
            let state = TrunkState::from_store(t)?;
            if set.trunks.contains_key(&state.id) {
                return Err(TrunkConfigError::DuplicateName(t.name.clone()));
            }
            if let Some(ip) = state.peer.ip() {
                set.by_ip.entry(ip).or_default().push(state.id.clone());
            }
            set.trunks.insert(state.id.clone(), state);
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.trunks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.trunks.is_empty()
    }
    pub fn get(&self, id: &TrunkId) -> Option<&TrunkState> {
        self.trunks.get(id)
    }
    /// Trunks in name order.
    pub fn iter(&self) -> impl Iterator<Item = &TrunkState> {
        self.trunks.values()
    }

    /// Takes a channel on `trunk`, the one its hunting order picks.
    pub fn seize(&mut self, now: Instant, trunk: &TrunkId) -> Result<Channel, TrunkError> {
        let t = self
            .trunks
            .get_mut(trunk)
            .ok_or_else(|| TrunkError::UnknownTrunk(trunk.clone()))?;
        match t.pool.seize() {
            Some(number) => {
                t.usage.seized(now);
                Ok(Channel {
                    trunk: t.id.clone(),
                    number,
                })
            }
            None => {
                t.usage.blocked();
                Err(TrunkError::Full {
                    trunk: t.id.clone(),
                    capacity: t.capacity.highest(),
                })
            }
        }
    }

    /// Frees a channel when its call ends. Releasing a channel that is not seized (twice, or
    /// never handed out) changes nothing and says so with [`TrunkError::NotSeized`].
    pub fn release(
        &mut self,
        now: Instant,
        channel: &Channel,
        outcome: CallOutcome,
    ) -> Result<(), TrunkError> {
        let t = self
            .trunks
            .get_mut(&channel.trunk)
            .ok_or_else(|| TrunkError::UnknownTrunk(channel.trunk.clone()))?;
        if !t.pool.release(channel.number) {
            return Err(TrunkError::NotSeized(channel.clone()));
        }
        t.usage.released(now, outcome);
        Ok(())
    }

    /// Whether that channel is seized now.
    pub fn is_seized(&self, channel: &Channel) -> bool {
        self.trunks
            .get(&channel.trunk)
            .is_some_and(|t| t.pool.is_seized(channel.number))
    }

    /// The trunk a message from `source` arrived on (see [`peer`] for the matching rule). Among
    /// equally good matches, a trunk with an inbound calling search space (one meant for
    /// inbound calls) wins, then the first by name.
    pub fn identify(&self, source: SocketAddr) -> Option<&TrunkId> {
        let candidates = self.by_ip.get(&source.ip().to_canonical())?;
        candidates
            .iter()
            .filter_map(|id| {
                let t = self.trunks.get(id)?;
                let m = t.peer.matches(source)?;
                Some((m, t.inbound_css.is_some(), id))
            })
            .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| b.2.cmp(a.2)))
            .map(|(_, _, id)| id)
    }

    /// One trunk's counters at `now`.
    pub fn usage(&self, now: Instant, trunk: &TrunkId) -> Option<TrunkUsage> {
        self.trunks.get(trunk).map(|t| t.usage.snapshot(now))
    }

    /// Every trunk's counters at `now`, in name order.
    pub fn usage_all(&self, now: Instant) -> Vec<(TrunkId, TrunkUsage)> {
        self.trunks
            .values()
            .map(|t| (t.id.clone(), t.usage.snapshot(now)))
            .collect()
    }

    /// The cause table of a trunk.
    pub fn causes(&self, trunk: &TrunkId) -> Option<&CauseMap> {
        self.trunks.get(trunk).map(|t| &t.causes)
    }
}

#[cfg(test)]
mod tests;
