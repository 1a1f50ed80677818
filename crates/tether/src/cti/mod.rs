//! The CTI WebSocket of `tether serve` (`GET /cti` on the HTTP port): the sockets side of
//! `tether-cti`. [`socket`] runs one task per client connection and only moves frames;
//! [`runner`] feeds the sans-IO CTI core inside the SIP driver's task — the one that owns the
//! call engine, so CTI requests reach the engine synchronously and its device events reach the
//! CTI sessions in the order they happened — and carries out what the core asks for that
//! takes time (password checks, provisioning writes) on other tasks.

pub mod runner;
pub mod socket;

use tether_cti::SessionId;
use tokio::sync::{mpsc, oneshot};

/// Most frames queued towards one client (about 800 calls' worth of events); a client that
/// does not read them is dropped (a slow consumer must not hold up the call engine).
pub const CLIENT_QUEUE: usize = 8192;
/// Most client frames queued towards the driver.
pub const DRIVER_QUEUE: usize = 4096;
/// Largest text frame a client may send.
pub const MAX_FRAME: usize = 64 * 1024;

/// What a client connection tells the driver.
#[derive(Debug)]
pub enum FromClient {
    /// A client connected; the driver answers with its session id.
    Open {
        outbound: mpsc::Sender<ToClient>,
        reply: oneshot::Sender<SessionId>,
    },
    Text {
        session: SessionId,
        text: String,
    },
    /// Any other frame (pong, ping, binary): the client is alive.
    Activity {
        session: SessionId,
    },
    /// The connection ended.
    Closed {
        session: SessionId,
    },
}

/// What the driver sends a client connection.
#[derive(Debug, Clone)]
pub enum ToClient {
    Text(String),
    Ping,
    /// Close the connection, with a reason for the close frame.
    Close(String),
}

/// How the HTTP side reaches the CTI core in the driver.
#[derive(Clone, Debug)]
pub struct CtiHandle {
    pub(crate) to_driver: mpsc::Sender<FromClient>,
}

impl CtiHandle {
    pub fn new() -> (CtiHandle, mpsc::Receiver<FromClient>) {
        let (tx, rx) = mpsc::channel(DRIVER_QUEUE);
        (CtiHandle { to_driver: tx }, rx)
    }
}
