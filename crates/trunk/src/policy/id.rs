//! Names of trunks and of the channels seized on them. Plain data.

use std::fmt;
use std::sync::Arc;

/// A trunk, by its provisioned name. Cheap to clone: channels and counters carry it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrunkId(Arc<str>);

impl TrunkId {
    pub fn new(name: &str) -> TrunkId {
        TrunkId(name.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for TrunkId {
    fn from(name: &str) -> TrunkId {
        TrunkId::new(name)
    }
}

impl fmt::Display for TrunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One seized bearer channel: the trunk and the channel number on it (B-channel 1..=23 on a
/// T1 PRI, the port on an FXO group, a counter on a SIP trunk). Numbers start at 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    pub trunk: TrunkId,
    pub number: u32,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.trunk, self.number)
    }
}
