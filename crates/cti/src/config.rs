//! What the binary configures: heartbeat timing, the admin token, and the bounds on what one
//! client may hold (monitors, waiting requests, message size).

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct CtiConfig {
    /// A session idle this long is pinged (any frame from the client counts as activity).
    pub heartbeat_interval: Duration,
    /// A session idle this long is closed as dead; if it was a device's controller the
    /// device's extend and connect is deactivated (T-Server contract).
    pub heartbeat_timeout: Duration,
    /// A session that has not authenticated by then is closed.
    pub auth_timeout: Duration,
    /// The admin API's bearer token; `Authenticate{token}` with it may control every device.
    /// None: token authentication is refused.
    pub admin_token: Option<String>,
    /// Longer texts are refused with `MESSAGE_TOO_LARGE` without being parsed.
    pub max_message_bytes: usize,
    /// Devices one session may monitor at once.
    pub max_monitors_per_session: usize,
    /// Sessions that may monitor one device at once (SPEC §7: five CTI applications).
    pub max_clients_per_device: usize,
    /// Requests of one session waiting for the store (queued or being written).
    pub max_pending_per_session: usize,
    /// Failed authentications after which the session is closed.
    pub max_auth_failures: u32,
}

impl Default for CtiConfig {
    fn default() -> Self {
        CtiConfig {
            heartbeat_interval: Duration::from_secs(30),
            heartbeat_timeout: Duration::from_secs(90),
            auth_timeout: Duration::from_secs(30),
            admin_token: None,
            max_message_bytes: 64 * 1024,
            max_monitors_per_session: 256,
            max_clients_per_device: 5,
            max_pending_per_session: 32,
            max_auth_failures: 3,
        }
    }
}
