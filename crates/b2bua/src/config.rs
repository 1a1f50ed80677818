//! Settings of one engine.

use std::time::Duration;

use crate::media::MediaConfig;
use tether_sip::dialog::SessionConfig;
use tether_sip::peer::Peer;
use tether_sip::transaction::Config as TxnConfig;

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The address Tether puts in its Via and Contact headers.
    pub advertised: Peer,
    /// The domain of Tether's own URIs and the digest realm of phone registration.
    pub domain: String,
    pub transactions: TxnConfig,
    pub sessions: SessionConfig,
    /// Registration expiry bounds (seconds): shorter requests get 423, longer are cut.
    pub min_expires: u32,
    pub max_expires: u32,
    pub default_expires: u32,
    /// Key for the stateless digest nonces (any random bytes; the same on every restart keeps
    /// outstanding nonces valid).
    pub nonce_secret: Vec<u8>,
    /// How long a nonce stays fresh.
    pub nonce_lifetime: Duration,
    /// Calls beyond this many at once are refused 503.
    pub max_calls: usize,
    /// The global call id of the first call (CDR `globalCallID_callId`); a driver that keeps
    /// CDRs across restarts starts past the highest one stored. 0 counts as 1.
    pub first_call_id: u64,
    /// The `Retry-After` of the 503 that refuses new calls while draining.
    pub drain_retry_after: Duration,
    /// Anchor media (Tether's address and ports in every SDP); `None` passes SDP through.
    pub media: Option<MediaConfig>,
}

impl EngineConfig {
    pub fn new(advertised: Peer, domain: impl Into<String>) -> EngineConfig {
        let mut sessions = SessionConfig::default();
        // A B2BUA relays what its peers negotiate: it asks for no session timer and sends
        // no reliable provisionals of its own.
        sessions.session_timer.session_expires = None;
        sessions.reliable_provisionals = false;
        EngineConfig {
            advertised,
            domain: domain.into(),
            transactions: TxnConfig::default(),
            sessions,
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            nonce_secret: b"tether-default-nonce-key".to_vec(),
            nonce_lifetime: Duration::from_secs(300),
            max_calls: 100_000,
            first_call_id: 1,
            drain_retry_after: Duration::from_secs(30),
            media: None,
        }
    }
}
