//! How many calls a trunk carries at once: the configured `channels`, else the default of its
//! kind (PRI T1 23, PRI E1 30, BRI 2, FXO 1 port); SIP and MGCP trunks without a configured
//! number are unlimited.

use tether_store::model::TrunkKind;

/// A trunk's channel capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    Channels(u32),
    Unlimited,
}

impl Capacity {
    /// The capacity of a trunk of `kind` with `configured` channels (ports, for FXO).
    pub fn of(kind: TrunkKind, configured: Option<u32>) -> Capacity {
        match configured.or(kind.default_channels()) {
            Some(n) => Capacity::Channels(n),
            None => Capacity::Unlimited,
        }
    }

    /// The channel count, or `None` when unlimited.
    pub fn channels(self) -> Option<u32> {
        match self {
            Capacity::Channels(n) => Some(n),
            Capacity::Unlimited => None,
        }
    }

    /// The highest channel number the trunk hands out.
    pub(crate) fn highest(self) -> u32 {
        self.channels().unwrap_or(u32::MAX)
    }
}
