//! Listening to what a leg receives, for a consumer inside Tether (the conference mixer): a leg
//! whose tap is on hands out every G.711 payload it accepts ([`MediaEngine::poll_heard`]), in
//! pooled buffers to give back with [`MediaEngine::recycle`]. Relaying, DTMF and statistics are
//! not affected. The queue is bounded: a driver that stops polling loses audio, never memory.

use crate::engine::{EngineError, MediaEngine};
use crate::events::LegId;
use crate::g711::Law;
use crate::leg::Accepted;
use crate::PayloadKind;

/// Payloads waiting to be polled beyond which new ones are dropped (about a second of audio
/// for fifty legs).
pub const HEARD_LIMIT: usize = 2_500;

/// One G.711 payload a tapped leg received, as it came (any `ptime`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub leg: LegId,
    pub law: Law,
    pub payload: Vec<u8>,
}

impl MediaEngine {
    /// Turns the leg's tap on or off.
    pub fn set_tap(&mut self, id: LegId, on: bool) -> Result<(), EngineError> {
        self.leg_mut(id)?.tap = on;
        Ok(())
    }

    /// The next payload a tapped leg received.
    pub fn poll_heard(&mut self) -> Option<Heard> {
        self.heard.pop_front()
    }

    /// A packet leg `slot` accepted: its audio is queued when the leg is tapped.
    #[inline]
    pub(crate) fn tap_in(&mut self, slot: u32, accepted: &Accepted, datagram: &[u8]) {
        let PayloadKind::Audio(law) = accepted.kind else {
            return;
        };
        let id = match self.slots.get(slot as usize) {
            Some(Some(leg)) if leg.tap => leg.id,
            _ => return,
        };
        if self.heard.len() >= HEARD_LIMIT {
            return;
        }
        let mut payload = self.take_buf();
        payload.clear();
        payload.extend_from_slice(accepted.header.payload(datagram));
        self.heard.push_back(Heard {
            leg: id,
            law,
            payload,
        });
    }
}
