//! The conference mixer: N parties, each hearing everyone but itself, one 20 ms frame at a time.
//!
//! Each tick, every party may put its latest frame (linear, or G.711 in its own law); a party that
//! put nothing — no packet yet, a late one, a muted phone — contributes silence. [`Mixer::mix`]
//! sums all contributions once in `i32`, then gives each party the sum minus its own contribution,
//! clamped to 16 bits (so loud parties saturate, never wrap), encoded in the party's law. That is
//! 2·N·160 additions rather than N²·160, and exact: no party's audio is clipped before the
//! subtraction. Parties join and leave between ticks; inputs are consumed by each `mix`.
//!
//! Sans-IO and clock-free: the media driver calls `mix` every 20 ms.

use crate::frame::{G711Frame, LinearFrame, FRAME_SAMPLES, SILENT_LINEAR};
use crate::g711::Law;

/// The default limit on parties in one conference.
pub const DEFAULT_MAX_PARTIES: usize = 32;

/// The most parties a mixer accepts whatever it is told: the `i32` sum of this many 16-bit
/// samples cannot overflow (and a conference this large is no longer a conference).
pub const MAX_PARTIES: usize = 1024;

/// A mixer request that could not be honored — the caller's mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MixError {
    /// The party is already in this conference.
    AlreadyJoined,
    /// The conference has its maximum number of parties.
    Full { max: usize },
    /// No such party in this conference.
    NotJoined,
    /// A G.711 payload that is not one 20 ms frame (the leg repacketizes other `ptime`s).
    FrameLength { bytes: usize },
}

impl std::fmt::Display for MixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MixError::AlreadyJoined => write!(f, "party already in the conference"),
            MixError::Full { max } => write!(f, "conference full ({max} parties)"),
            MixError::NotJoined => write!(f, "party not in the conference"),
            MixError::FrameLength { bytes } => {
                write!(
                    f,
                    "a {bytes}-byte frame where {FRAME_SAMPLES} were expected"
                )
            }
        }
    }
}

impl std::error::Error for MixError {}

#[derive(Debug, Clone)]
struct Party<P> {
    id: P,
    law: Law,
    input: LinearFrame,
    has_input: bool,
    heard: LinearFrame,
    encoded: G711Frame,
}

/// A conference of parties named by `P`.
#[derive(Debug, Clone)]
pub struct Mixer<P> {
    parties: Vec<Party<P>>,
    max: usize,
    sum: [i32; FRAME_SAMPLES],
}

impl<P: Copy + Eq> Default for Mixer<P> {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PARTIES)
    }
}

impl<P: Copy + Eq> Mixer<P> {
    /// An empty conference of at most `max_parties` (capped at [`MAX_PARTIES`]).
    pub fn new(max_parties: usize) -> Self {
        Mixer {
            parties: Vec::new(),
            max: max_parties.min(MAX_PARTIES),
            sum: [0; FRAME_SAMPLES],
        }
    }

    /// Number of parties.
    pub fn len(&self) -> usize {
        self.parties.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }

    /// The parties, in joining order.
    pub fn parties(&self) -> impl Iterator<Item = P> + '_ {
        self.parties.iter().map(|p| p.id)
    }

    pub fn contains(&self, id: P) -> bool {
        self.find(id).is_some()
    }

    fn find(&self, id: P) -> Option<usize> {
        self.parties.iter().position(|p| p.id == id)
    }

    fn party_mut(&mut self, id: P) -> Result<&mut Party<P>, MixError> {
        self.parties
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or(MixError::NotJoined)
    }

    /// Adds a party whose output is encoded in `law`. It hears the others from the next `mix`
    /// (silence until then).
    pub fn join(&mut self, id: P, law: Law) -> Result<(), MixError> {
        if self.contains(id) {
            return Err(MixError::AlreadyJoined);
        }
        if self.parties.len() >= self.max {
            return Err(MixError::Full { max: self.max });
        }
        self.parties.push(Party {
            id,
            law,
            input: SILENT_LINEAR,
            has_input: false,
            heard: SILENT_LINEAR,
            encoded: [law.silence(); FRAME_SAMPLES],
        });
        Ok(())
    }

    /// Removes a party; the others stop hearing it from the next `mix`. False if it was not there.
    pub fn leave(&mut self, id: P) -> bool {
        match self.find(id) {
            Some(i) => {
                self.parties.remove(i);
                true
            }
            None => false,
        }
    }

    /// The party's contribution to the next `mix` (replacing any earlier one this tick).
    pub fn put_linear(&mut self, id: P, frame: &LinearFrame) -> Result<(), MixError> {
        let party = self.party_mut(id)?;
        party.input = *frame;
        party.has_input = true;
        Ok(())
    }

    /// The party's contribution as a G.711 payload in its own law: exactly one 20 ms frame.
    pub fn put_g711(&mut self, id: P, payload: &[u8]) -> Result<(), MixError> {
        if payload.len() != FRAME_SAMPLES {
            return Err(MixError::FrameLength {
                bytes: payload.len(),
            });
        }
        let party = self.party_mut(id)?;
        for (sample, &code) in party.input.iter_mut().zip(payload) {
            *sample = party.law.decode(code);
        }
        party.has_input = true;
        Ok(())
    }

    /// Mixes one tick: each party's output becomes the sum of every other party's contribution,
    /// saturated to 16 bits and encoded in its law. Contributions are consumed.
    pub fn mix(&mut self) {
        self.sum = [0; FRAME_SAMPLES];
        for party in self.parties.iter().filter(|p| p.has_input) {
            for (acc, &s) in self.sum.iter_mut().zip(&party.input) {
                *acc += i32::from(s);
            }
        }
        for party in &mut self.parties {
            let own = if party.has_input {
                &party.input
            } else {
                &SILENT_LINEAR
            };
            for ((out, &total), &mine) in party.heard.iter_mut().zip(&self.sum).zip(own) {
                *out = (total - i32::from(mine)).clamp(i32::from(i16::MIN), i32::from(i16::MAX))
                    as i16;
            }
            for (code, &s) in party.encoded.iter_mut().zip(&party.heard) {
                *code = party.law.encode(s);
            }
            party.has_input = false;
        }
    }

    /// What `id` hears, from the last `mix`, as G.711 in its law.
    pub fn output(&self, id: P) -> Option<&G711Frame> {
        self.find(id).map(|i| &self.parties[i].encoded)
    }

    /// What `id` hears, from the last `mix`, as linear samples.
    pub fn output_linear(&self, id: P) -> Option<&LinearFrame> {
        self.find(id).map(|i| &self.parties[i].heard)
    }
}

#[cfg(test)]
mod tests;
