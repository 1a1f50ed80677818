//! One playback of an announcement into one leg: a state machine that says which frame is due when.
//!
//! Frame `n` of a playback started at `t0` is due at exactly `t0 + n × 20 ms`, however late the
//! driver polls: lateness never accumulates into drift. A late poll gets every overdue frame at
//! once, each stamped with its own due time (the leg's RTP timestamps follow the frame number, so
//! the far end's jitter buffer sees a burst, not a gap). `stop` is immediate: no frame after it.
//! A playback ends `Completed` when its last frame has played out (the due time of the frame
//! after it), or `Stopped`.
//!
//! Sans-IO: `now` is always given; payloads are borrowed from the shared [`Announcement`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::announce::Announcement;
use crate::frame::{G711Frame, FRAME_DURATION};
use crate::g711::Law;

/// How many times to play the announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// This many times back to back (1 = once).
    Times(NonZeroU32),
    /// Until stopped (music on hold).
    Forever,
}

impl Repeat {
    /// Play once.
    pub const ONCE: Repeat = Repeat::Times(NonZeroU32::MIN);
}

/// Why a playback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Every frame was played out.
    Completed,
    /// [`Player::stop`] was called.
    Stopped,
}

/// What a playback reports (mapped to CTI `AnnouncementStarted` / `AnnouncementEnded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlayEvent {
    Started,
    Ended(EndReason),
}

/// A frame to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Frame number since the start, counting across loops (0, 1, 2, …).
    pub seq: u64,
    /// Index of the frame within the announcement.
    pub index: usize,
    /// When it was due: `start + seq × 20 ms`.
    pub due: Instant,
    /// 160 bytes of G.711 in the playback's law.
    pub payload: &'a G711Frame,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Playing { start: Instant },
    Ended(EndReason),
}

/// One playback of an announcement.
#[derive(Debug, Clone)]
pub struct Player {
    audio: Arc<Announcement>,
    law: Law,
    /// Frames to send in all, `None` for forever.
    total: Option<u64>,
    state: State,
    /// Number of the next frame to send.
    next: u64,
    started_pending: bool,
    ended_pending: Option<EndReason>,
}

impl Player {
    /// A playback of `audio` in `law`, not started yet.
    pub fn new(audio: Arc<Announcement>, law: Law, repeat: Repeat) -> Player {
        let frames = audio.frame_count() as u64;
        let total = match repeat {
            Repeat::Times(n) => Some(frames * u64::from(n.get())),
            Repeat::Forever => None,
        };
        Player {
            audio,
            law,
            total,
            state: State::Idle,
            next: 0,
            started_pending: false,
            ended_pending: None,
        }
    }

    /// The announcement being played.
    pub fn audio(&self) -> &Arc<Announcement> {
        &self.audio
    }

    pub fn law(&self) -> Law {
        self.law
    }

    /// Frames to send in all; `None` when looping forever.
    pub fn total_frames(&self) -> Option<u64> {
        self.total
    }

    /// Frames sent so far.
    pub fn frames_sent(&self) -> u64 {
        self.next
    }

    pub fn is_playing(&self) -> bool {
        matches!(self.state, State::Playing { .. })
    }

    /// `Some` once ended.
    pub fn ended(&self) -> Option<EndReason> {
        match self.state {
            State::Ended(reason) => Some(reason),
            _ => None,
        }
    }

    /// Starts playing at `now`: frame 0 is due at once. Returns false (and does nothing) unless
    /// the playback is new.
    pub fn start(&mut self, now: Instant) -> bool {
        if self.state != State::Idle {
            return false;
        }
        self.state = State::Playing { start: now };
        self.started_pending = true;
        true
    }

    /// Stops at once: no further frame. Returns false if it had already ended. A playback stopped
    /// before it started ends without any event.
    pub fn stop(&mut self) -> bool {
        match self.state {
            State::Ended(_) => false,
            State::Idle => {
                self.state = State::Ended(EndReason::Stopped);
                true
            }
            State::Playing { .. } => {
                self.end(EndReason::Stopped);
                true
            }
        }
    }

    fn end(&mut self, reason: EndReason) {
        self.state = State::Ended(reason);
        self.ended_pending = Some(reason);
    }

    /// When frame `seq` is due.
    fn due(start: Instant, seq: u64) -> Instant {
        let nanos = (FRAME_DURATION.as_nanos() as u64).saturating_mul(seq);
        start + Duration::from_nanos(nanos)
    }

    /// When the player next needs `poll_frame`: the next frame's due time, or the end of the last
    /// frame's play-out; `None` when not playing.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Playing { start } => Some(Self::due(start, self.next)),
            _ => None,
        }
    }

    /// The next frame if it is due at `now`; call until `None`. Past the last frame, ends the
    /// playback (`Completed`) once its play-out time is over.
    pub fn poll_frame(&mut self, now: Instant) -> Option<Frame<'_>> {
        let State::Playing { start } = self.state else {
            return None;
        };
        let due = Self::due(start, self.next);
        if due > now {
            return None;
        }
        if self.total.is_some_and(|total| self.next >= total) {
            self.end(EndReason::Completed);
            return None;
        }
        let seq = self.next;
        self.next += 1;
        let frames = self.audio.frames(self.law);
        let index = (seq % frames.len() as u64) as usize;
        let payload = frames.get(index)?;
        Some(Frame {
            seq,
            index,
            due,
            payload,
        })
    }

    /// The next event: `Started` after `start`, then `Ended` when it ends.
    pub fn poll_event(&mut self) -> Option<PlayEvent> {
        if self.started_pending {
            self.started_pending = false;
            return Some(PlayEvent::Started);
        }
        self.ended_pending.take().map(PlayEvent::Ended)
    }
}

#[cfg(test)]
mod tests;
