//! One client connection's state: who it is, its event sequence, its monitors, its liveness.
//! Bounded: monitors and waiting requests are capped by [`crate::CtiConfig`].

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;

use crate::auth::Principal;
use crate::ids::Ticket;

/// Where a session stands with authentication.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// Nothing but `Authenticate` is accepted. `checking`: the password check the binary runs,
    /// with the request's invokeId.
    Anonymous {
        checking: Option<(Ticket, Value)>,
    },
    Authenticated(Principal),
}

#[derive(Clone, Debug)]
pub struct Session {
    pub auth: AuthState,
    pub failures: u32,
    /// The last event sequence number sent (the first event is 1).
    pub sequence: u64,
    pub connected_at: Instant,
    pub last_activity: Instant,
    /// A ping went out since the last activity.
    pub pinged: bool,
    /// When its liveness check is due (the live entry in the timer heap).
    pub check_at: Instant,
    /// Device → monitorCrossRefId: one monitor per device.
    pub monitors: BTreeMap<String, u64>,
    /// Requests waiting for the store (queued or being written).
    pub pending: usize,
}

impl Session {
    pub fn new(now: Instant) -> Session {
        Session {
            auth: AuthState::Anonymous { checking: None },
            failures: 0,
            sequence: 0,
            connected_at: now,
            last_activity: now,
            pinged: false,
            check_at: now,
            monitors: BTreeMap::new(),
            pending: 0,
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        match &self.auth {
            AuthState::Authenticated(p) => Some(p),
            AuthState::Anonymous { .. } => None,
        }
    }
}
