//! Every playback of a media engine, paced by one timer wheel.
//!
//! Each running [`Player`] has one timer in the wheel, at its next due time. `handle_timeout(now)`
//! takes the expired timers, lets each player hand out its due frames, and schedules it again; the
//! frames and the Started/Ended events wait in an output queue for `poll_output`. The caller (the
//! media driver) sends each frame into the playback's target leg, which stamps SSRC, sequence
//! number and timestamp. Cost per frame is O(1) plus the wheel's walk over the slots passed.
//!
//! `T` names the target: the leg (or leg direction) the audio goes into, and only that one.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::announce::Announcement;
use crate::frame::G711Frame;
use crate::g711::Law;
use crate::player::{PlayEvent, Player, Repeat};
use crate::wheel::{TimerId, TimerWheel};

/// A playback in a [`Playbacks`] set. Stale ids (ended playbacks) are recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaybackId {
    index: u32,
    generation: u32,
}

/// A frame due for sending into `target`.
#[derive(Debug, Clone)]
pub struct DueFrame<T> {
    pub id: PlaybackId,
    pub target: T,
    pub law: Law,
    /// Frame number since the playback started (across loops).
    pub seq: u64,
    /// When it was due (`start + seq × 20 ms`); the sender's lateness is `now - due`.
    pub due: Instant,
    audio: Arc<Announcement>,
    index: usize,
}

impl<T> DueFrame<T> {
    /// The 160 bytes of G.711 to send.
    pub fn payload(&self) -> &G711Frame {
        static SILENT_ULAW: G711Frame = [0xFF; 160];
        static SILENT_ALAW: G711Frame = [0xD5; 160];
        match (self.audio.frame(self.law, self.index), self.law) {
            (Some(frame), _) => frame,
            // Not reached: the index came from this announcement.
            (None, Law::Ulaw) => &SILENT_ULAW,
            (None, Law::Alaw) => &SILENT_ALAW,
        }
    }

    /// Index of the frame within its announcement.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The announcement it comes from.
    pub fn announcement(&self) -> &Arc<Announcement> {
        &self.audio
    }
}

/// A playback's Started or Ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybackEvent<T> {
    pub id: PlaybackId,
    pub target: T,
    pub event: PlayEvent,
}

/// What [`Playbacks::poll_output`] hands out, in order.
#[derive(Debug, Clone)]
pub enum PlayOutput<T> {
    Frame(DueFrame<T>),
    Event(PlaybackEvent<T>),
}

#[derive(Debug)]
struct Active<T> {
    target: T,
    player: Player,
    timer: Option<TimerId>,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    active: Option<Active<T>>,
}

/// The set of running playbacks.
#[derive(Debug)]
pub struct Playbacks<T> {
    wheel: TimerWheel<PlaybackId>,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    out: VecDeque<PlayOutput<T>>,
    expired: Vec<PlaybackId>,
}

impl<T: Clone> Playbacks<T> {
    /// An empty set; `origin` anchors the wheel's ticks (any instant up to the first start).
    pub fn new(origin: Instant) -> Self {
        Playbacks {
            wheel: TimerWheel::new(origin),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            out: VecDeque::new(),
            expired: Vec::new(),
        }
    }

    /// Number of running playbacks.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn get(&self, id: PlaybackId) -> Option<&Active<T>> {
        match self.slots.get(id.index as usize) {
            Some(slot) if slot.generation == id.generation => slot.active.as_ref(),
            _ => None,
        }
    }

    fn get_mut(&mut self, id: PlaybackId) -> Option<&mut Active<T>> {
        Self::active_mut(&mut self.slots, id)
    }

    /// `get_mut` on the slots alone, so the output queue and the wheel stay borrowable.
    fn active_mut(slots: &mut [Slot<T>], id: PlaybackId) -> Option<&mut Active<T>> {
        match slots.get_mut(id.index as usize) {
            Some(slot) if slot.generation == id.generation => slot.active.as_mut(),
            _ => None,
        }
    }

    /// Starts playing `audio` into `target` at `now` (first frame due at once). Queues `Started`.
    pub fn play(
        &mut self,
        now: Instant,
        target: T,
        audio: Arc<Announcement>,
        law: Law,
        repeat: Repeat,
    ) -> PlaybackId {
        let mut player = Player::new(audio, law, repeat);
        player.start(now);
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    active: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let generation = self.slots[index as usize].generation;
        let id = PlaybackId { index, generation };
        let timer = player.poll_timeout().map(|at| self.wheel.insert(at, id));
        self.slots[index as usize].active = Some(Active {
            target,
            player,
            timer,
        });
        self.len += 1;
        self.flush_events(id);
        id
    }

    /// Whether `id` is still playing.
    pub fn is_playing(&self, id: PlaybackId) -> bool {
        self.get(id).is_some()
    }

    /// The target of a running playback.
    pub fn target(&self, id: PlaybackId) -> Option<&T> {
        self.get(id).map(|a| &a.target)
    }

    /// Frames sent so far by a running playback.
    pub fn frames_sent(&self, id: PlaybackId) -> Option<u64> {
        self.get(id).map(|a| a.player.frames_sent())
    }

    /// Stops a playback at once: no frame of it is queued after this call, and `Ended(Stopped)`
    /// is. Frames it already queued and not yet polled are withdrawn too. False if it had ended.
    pub fn stop(&mut self, id: PlaybackId) -> bool {
        let Some(active) = self.get_mut(id) else {
            return false;
        };
        active.player.stop();
        let timer = active.timer.take();
        if let Some(timer) = timer {
            self.wheel.cancel(timer);
        }
        self.out
            .retain(|o| !matches!(o, PlayOutput::Frame(f) if f.id == id));
        self.flush_events(id);
        true
    }

    /// Stops every playback into `target` (a call state change); returns how many.
    pub fn stop_target(&mut self, target: &T) -> usize
    where
        T: PartialEq,
    {
        let ids: Vec<PlaybackId> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match &slot.active {
                Some(a) if a.target == *target => Some(PlaybackId {
                    index: index as u32,
                    generation: slot.generation,
                }),
                _ => None,
            })
            .collect();
        ids.iter().filter(|&&id| self.stop(id)).count()
    }

    /// Queues every frame due at `now` and the events of playbacks that ended.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut expired = std::mem::take(&mut self.expired);
        expired.extend(self.wheel.poll_expired(now).map(|(_, id)| id));
        for &id in &expired {
            let Some(active) = Self::active_mut(&mut self.slots, id) else {
                continue;
            };
            active.timer = None;
            while let Some(f) = active.player.poll_frame(now) {
                let (seq, index, due) = (f.seq, f.index, f.due);
                self.out.push_back(PlayOutput::Frame(DueFrame {
                    id,
                    target: active.target.clone(),
                    law: active.player.law(),
                    seq,
                    due,
                    audio: Arc::clone(active.player.audio()),
                    index,
                }));
            }
            match active.player.poll_timeout() {
                Some(at) => active.timer = Some(self.wheel.insert(at, id)),
                None => self.flush_events(id),
            }
        }
        expired.clear();
        self.expired = expired;
    }

    /// Moves a playback's pending events to the output queue, and frees it once it has ended.
    fn flush_events(&mut self, id: PlaybackId) {
        let Some(active) = self.get_mut(id) else {
            return;
        };
        let target = active.target.clone();
        // A player holds at most two events: Started and Ended.
        let events = [active.player.poll_event(), active.player.poll_event()];
        let ended = active.player.ended().is_some();
        for event in events.into_iter().flatten() {
            self.out.push_back(PlayOutput::Event(PlaybackEvent {
                id,
                target: target.clone(),
                event,
            }));
        }
        if ended {
            let slot = &mut self.slots[id.index as usize];
            slot.active = None;
            slot.generation = slot.generation.wrapping_add(1);
            self.free.push(id.index);
            self.len -= 1;
        }
    }

    /// When `handle_timeout` is next needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.wheel.next_deadline()
    }

    /// The next frame or event, in the order they became due.
    pub fn poll_output(&mut self) -> Option<PlayOutput<T>> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests;
