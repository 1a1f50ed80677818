//! The `[cti]` section: the CTI WebSocket's heartbeat.

use serde::Deserialize;

/// The CTI interface (`GET /cti` on the HTTP port).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cti {
    /// Seconds between the pings Tether sends each client; a client that has sent nothing
    /// (not even a pong) for three of them is taken as gone, and its session ends as if it had
    /// disconnected.
    #[serde(default = "default_heartbeat_seconds")]
    pub heartbeat_seconds: u64,
}

impl Default for Cti {
    fn default() -> Self {
        Cti {
            heartbeat_seconds: default_heartbeat_seconds(),
        }
    }
}

fn default_heartbeat_seconds() -> u64 {
    15
}

impl Cti {
    /// Why the heartbeat cannot work, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.heartbeat_seconds == 0 || self.heartbeat_seconds > 3600 {
            return Err(format!(
                "heartbeat_seconds must be 1 to 3600, not {}",
                self.heartbeat_seconds
            ));
        }
        Ok(())
    }
}
