//! Conference rooms for the media task: which legs mix together, what each leg hears cut into
//! 20 ms frames, and the mixing tick every 20 ms on the task's clock. Sans-IO: the task feeds
//! what the legs received and the time, and sends the frames it polls; `tether_rtp::mixer` does
//! the sums (each party hears the others, never itself). No socket, no clock read here.
//!
//! A party's received audio may come in any packet size: it is decoded and cut into frames,
//! of which a few wait for the tick (jitter, bursts); older ones are dropped beyond that, and a
//! party with nothing waiting contributes silence. A clock that fell far behind skips ahead
//! rather than sending a burst.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Instant;

use tether_rtp::frame::{LinearFrame, FRAME_DURATION, FRAME_SAMPLES};
use tether_rtp::g711::Law;
use tether_rtp::mixer::{MixError, Mixer};

/// Frames a party may have waiting for the tick.
const DEPTH: usize = 3;
/// Ticks run at once when the clock is late, before it skips ahead instead.
const MAX_CATCH_UP: u32 = 5;

struct Party {
    room: u64,
    law: Law,
    /// Decoded samples not yet a whole frame.
    partial: Vec<i16>,
    frames: VecDeque<LinearFrame>,
}

/// One 20 ms frame of the mix for a party, in its law.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mixed<P> {
    pub to: P,
    pub law: Law,
    pub codes: [u8; FRAME_SAMPLES],
}

/// Every conference of the media task, its parties named by `P` (the legs' RTP ports).
pub struct Rooms<P> {
    rooms: HashMap<u64, Mixer<P>>,
    parties: HashMap<P, Party>,
    next: Option<Instant>,
    out: VecDeque<Mixed<P>>,
    scratch: Vec<P>,
}

impl<P: Copy + Eq + Hash> Default for Rooms<P> {
    fn default() -> Self {
        Rooms {
            rooms: HashMap::new(),
            parties: HashMap::new(),
            next: None,
            out: VecDeque::new(),
            scratch: Vec::new(),
        }
    }
}

impl<P: Copy + Eq + Hash> Rooms<P> {
    /// `id` joins `room` (leaving any other first), its mix sent in `law`. The first party of
    /// any room starts the clock: the first tick is 20 ms from `now`.
    pub fn join(&mut self, now: Instant, room: u64, id: P, law: Law) -> Result<(), MixError> {
        if self.parties.get(&id).is_some_and(|p| p.room == room) {
            return Err(MixError::AlreadyJoined);
        }
        self.leave(id);
        self.rooms.entry(room).or_default().join(id, law)?;
        self.parties.insert(
            id,
            Party {
                room,
                law,
                partial: Vec::with_capacity(FRAME_SAMPLES),
                frames: VecDeque::with_capacity(DEPTH),
            },
        );
        self.next.get_or_insert(now + FRAME_DURATION);
        Ok(())
    }

    /// `id` leaves its room (a room left empty is gone; with no room left the clock stops).
    /// False when it was in none.
    pub fn leave(&mut self, id: P) -> bool {
        let Some(p) = self.parties.remove(&id) else {
            return false;
        };
        if let Some(m) = self.rooms.get_mut(&p.room) {
            m.leave(id);
            if m.is_empty() {
                self.rooms.remove(&p.room);
            }
        }
        if self.rooms.is_empty() {
            self.next = None;
        }
        true
    }

    /// The room `id` is in.
    #[cfg(test)]
    pub fn room_of(&self, id: P) -> Option<u64> {
        self.parties.get(&id).map(|p| p.room)
    }

    /// `id`'s mix is now sent in `law` (its leg was renegotiated).
    pub fn set_law(&mut self, now: Instant, id: P, law: Law) {
        let Some(p) = self.parties.get(&id) else {
            return;
        };
        if p.law != law {
            let room = p.room;
            self.leave(id);
            let _ = self.join(now, room, id, law);
        }
    }

    /// What `id`'s leg received: G.711 in `law`, any length.
    pub fn hear(&mut self, id: P, law: Law, payload: &[u8]) {
        let Some(p) = self.parties.get_mut(&id) else {
            return;
        };
        for &code in payload {
            p.partial.push(law.decode(code));
            if p.partial.len() == FRAME_SAMPLES {
                let mut frame = [0i16; FRAME_SAMPLES];
                frame.copy_from_slice(&p.partial);
                p.partial.clear();
                if p.frames.len() == DEPTH {
                    p.frames.pop_front();
                }
                p.frames.push_back(frame);
            }
        }
    }

    /// When to call [`Rooms::handle_timeout`] next: every 20 ms while a room exists.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// Mixes every room for each tick due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(mut at) = self.next else {
            return;
        };
        let mut ran = 0;
        while at <= now {
            if ran == MAX_CATCH_UP {
                at = now + FRAME_DURATION;
                break;
            }
            self.tick();
            ran += 1;
            at += FRAME_DURATION;
        }
        self.next = Some(at);
    }

    /// The next frame to send.
    pub fn poll_output(&mut self) -> Option<Mixed<P>> {
        self.out.pop_front()
    }

    fn tick(&mut self) {
        let Rooms {
            rooms,
            parties,
            out,
            scratch,
            ..
        } = self;
        for mixer in rooms.values_mut() {
            scratch.clear();
            scratch.extend(mixer.parties());
            for id in scratch.iter() {
                if let Some(frame) = parties.get_mut(id).and_then(|p| p.frames.pop_front()) {
                    let _ = mixer.put_linear(*id, &frame);
                }
            }
            mixer.mix();
            for id in scratch.iter() {
                let (Some(p), Some(codes)) = (parties.get(id), mixer.output(*id)) else {
                    continue;
                };
                out.push_back(Mixed {
                    to: *id,
                    law: p.law,
                    codes: *codes,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tone(law: Law, value: i16, len: usize) -> Vec<u8> {
        vec![law.encode(value); len]
    }

    fn heard(m: &Mixed<u16>) -> i16 {
        m.law.decode(m.codes[FRAME_SAMPLES / 2])
    }

    fn outputs(r: &mut Rooms<u16>) -> Vec<Mixed<u16>> {
        std::iter::from_fn(|| r.poll_output()).collect()
    }

    /// Within G.711's step at that level.
    fn near(got: i16, want: i16) -> bool {
        (i32::from(got) - i32::from(want)).abs() <= i32::from(want.unsigned_abs() / 16 + 8)
    }

    #[test]
    fn each_party_hears_the_others_and_not_itself() {
        let t0 = Instant::now();
        let mut r = Rooms::default();
        r.join(t0, 7, 30_000, Law::Ulaw).unwrap();
        r.join(t0, 7, 30_002, Law::Alaw).unwrap();
        r.join(t0, 7, 30_004, Law::Ulaw).unwrap();
        assert_eq!(r.poll_timeout(), Some(t0 + FRAME_DURATION));
        r.hear(30_000, Law::Ulaw, &tone(Law::Ulaw, 1000, 160));
        r.hear(30_002, Law::Alaw, &tone(Law::Alaw, 2000, 160));
        // 30,004 sends nothing: it contributes silence.
        r.handle_timeout(t0 + FRAME_DURATION);
        let out = outputs(&mut r);
        assert_eq!(out.len(), 3);
        let of = |port: u16| out.iter().find(|m| m.to == port).unwrap();
        assert!(near(heard(of(30_000)), 2000), "{}", heard(of(30_000)));
        assert!(near(heard(of(30_002)), 1000), "{}", heard(of(30_002)));
        assert!(near(heard(of(30_004)), 3000), "{}", heard(of(30_004)));
        assert_eq!(of(30_002).law, Law::Alaw, "each in its own law");
        assert_eq!(r.poll_timeout(), Some(t0 + FRAME_DURATION * 2));
    }

    #[test]
    fn packets_of_any_size_are_cut_into_frames_and_bursts_are_bounded() {
        let t0 = Instant::now();
        let mut r = Rooms::default();
        r.join(t0, 1, 1, Law::Ulaw).unwrap();
        r.join(t0, 1, 2, Law::Ulaw).unwrap();
        // Two 10 ms packets make a frame; 30 ms leaves half a frame over.
        r.hear(1, Law::Ulaw, &tone(Law::Ulaw, 500, 80));
        r.hear(1, Law::Ulaw, &tone(Law::Ulaw, 500, 80));
        r.hear(1, Law::Ulaw, &tone(Law::Ulaw, 700, 240));
        r.handle_timeout(t0 + FRAME_DURATION);
        r.handle_timeout(t0 + FRAME_DURATION * 2);
        r.handle_timeout(t0 + FRAME_DURATION * 3);
        let to2: Vec<i16> = outputs(&mut r)
            .iter()
            .filter(|m| m.to == 2)
            .map(heard)
            .collect();
        assert_eq!(to2.len(), 3);
        assert!(
            near(to2[0], 500) && near(to2[1], 700) && to2[2] == 0,
            "{to2:?}"
        );
        // A burst of ten frames keeps only the newest few.
        r.hear(1, Law::Ulaw, &tone(Law::Ulaw, 900, 160 * 10));
        for i in 4..=10 {
            r.handle_timeout(t0 + FRAME_DURATION * i);
        }
        let loud = outputs(&mut r)
            .iter()
            .filter(|m| m.to == 2 && heard(m) != 0)
            .count();
        assert_eq!(loud, DEPTH);
    }

    #[test]
    fn a_late_clock_catches_up_a_little_then_skips_ahead() {
        let t0 = Instant::now();
        let mut r = Rooms::default();
        r.join(t0, 1, 1, Law::Ulaw).unwrap();
        r.handle_timeout(t0 + Duration::from_millis(50));
        assert_eq!(outputs(&mut r).len(), 2, "two ticks were due");
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_millis(60)));
        let late = t0 + Duration::from_secs(2);
        r.handle_timeout(late);
        assert_eq!(outputs(&mut r).len(), MAX_CATCH_UP as usize);
        assert_eq!(r.poll_timeout(), Some(late + FRAME_DURATION));
    }

    #[test]
    fn leaving_empties_rooms_and_stops_the_clock() {
        let t0 = Instant::now();
        let mut r = Rooms::default();
        r.join(t0, 1, 1, Law::Ulaw).unwrap();
        r.join(t0, 2, 2, Law::Ulaw).unwrap();
        assert_eq!(r.join(t0, 1, 1, Law::Ulaw), Err(MixError::AlreadyJoined));
        // Joining another room leaves the first.
        r.join(t0, 2, 1, Law::Ulaw).unwrap();
        assert_eq!(r.room_of(1), Some(2));
        r.set_law(t0, 1, Law::Alaw);
        r.handle_timeout(t0 + FRAME_DURATION);
        let out = outputs(&mut r);
        assert!(out.iter().any(|m| m.to == 1 && m.law == Law::Alaw));
        assert!(r.leave(1));
        assert!(!r.leave(1));
        assert!(r.poll_timeout().is_some());
        assert!(r.leave(2));
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.room_of(2), None);
        r.hear(2, Law::Ulaw, &[0; 160]);
        r.handle_timeout(t0 + FRAME_DURATION * 5);
        assert!(outputs(&mut r).is_empty());
    }
}
