//! Counters of the PSTN simulator and a measure of what it holds, for tests, the lab and
//! /metrics. Plain data.

use serde::Serialize;
use std::collections::BTreeMap;

/// What the simulator did so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PstnStats {
    /// New INVITEs received (retransmissions are absorbed by the transaction layer).
    pub offered: u64,
    /// Calls answered with 200.
    pub answered: u64,
    /// Final failure responses to new INVITEs, by status (487 for cancelled calls included).
    pub rejected: BTreeMap<u16, u64>,
    /// Calls the caller cancelled before answer.
    pub cancelled: u64,
    /// Answered calls the caller ended with BYE.
    pub ended_by_caller: u64,
    /// Answered calls the simulated network ended: with BYE (hangup, `hangup_after`, no ACK),
    /// or without one when the transport to the caller failed.
    pub ended_by_network: u64,
    /// 2xx never acknowledged (the dialog layer gave up and sent BYE).
    pub ack_timeouts: u64,
    /// Calls alive now.
    pub active: usize,
}

impl PstnStats {
    /// Failure responses with this status.
    pub fn rejected_with(&self, status: u16) -> u64 {
        self.rejected.get(&status).copied().unwrap_or(0)
    }
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// How much state the simulator holds; all zero once every call and transaction has ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub calls: usize,
    pub dialogs: usize,
    pub transactions: usize,
    /// Transactions mapped to calls.
    pub transaction_index: usize,
    pub timers: usize,
    /// Messages waiting to be polled.
    pub queued: usize,
}

impl Footprint {
    pub fn is_empty(&self) -> bool {
        *self == Footprint::default()
    }
}
