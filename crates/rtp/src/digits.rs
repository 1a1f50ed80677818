//! DTMF inside the media engine: every leg listens for keys, keys cross between connected legs in
//! the form each leg can carry, and the call engine can play keys on any leg.
//!
//! # Hearing keys
//!
//! * A leg that negotiated telephone-event feeds every packet of that payload type to its own
//!   RFC 4733 receiver ([`crate::dtmf::receiver`]): duplicates, the three end packets, reordering
//!   and lost ends are taken care of there; its end timeout runs on the engine's timer.
//! * A leg without telephone-event decodes the G.711 audio it receives and runs the Q.24 Goertzel
//!   detector ([`crate::dtmf::detect`]) on it. Legs with telephone-event are not listened to in
//!   band (their peers signal keys as events; why, below), which keeps the relay of ordinary
//!   calls free of any signal processing. A key still down when the audio stops is released
//!   [`AUDIO_SILENCE`] after the last packet.
//!
//! Either way the engine reports [`MediaEvent::DigitStarted`] when the key goes down and
//! [`MediaEvent::Digit`], once, with its duration, when it comes up.
//!
//! # Keys crossing from leg A to leg B
//!
//! The rule is the usual B2BUA one: a key passes in the form it came in whenever B can carry that
//! form, and is translated only when it cannot.
//!
//! | A sends         | B has telephone-event     | B has none                                    |
//! |-----------------|---------------------------|-----------------------------------------------|
//! | RFC 4733 events | relayed, PT renumbered    | events dropped; the key is played in band     |
//! | in-band tones   | audio relayed as it is    | audio relayed as it is                        |
//!
//! In-band tones are never turned into events on top: B's far end hears the tones in the audio
//! already, and sending events as well would make every key count twice (a far end that mutes
//! in-band tones when it decodes events is not the rule). Keys played in band on B start as soon
//! as A's event starts and last as long as A's event says (at least 40 ms, then 50 ms of
//! silence); while they play, the audio relayed from A to B is replaced by the tone frames, on
//! B's one continuous stream (same SSRC, sequence numbers following on), and relaying resumes
//! after. A leg that gets its keys some other way (SIP INFO, sent by the call engine from the
//! `Digit` events) turns the translation off with [`MediaEngine::set_inband_conversion`].
//!
//! # Playing keys
//!
//! [`MediaEngine::send_digits`] queues keys on a leg: as RFC 4733 events (20 ms apart, the first
//! with the marker bit, the end packet three times, 100 ms between keys) when the leg negotiated
//! telephone-event, else as tones in frames of the leg's packetization. While they play, audio
//! relayed into the leg is muted.
//!
//! Keys play in the order they were asked for, one form at a time, on the leg's one stream:
//! events and tones never interleave. Keys asked for in the other form than the one playing wait
//! in the leg's queue until the playing ones are done — tones until the last end packet of the
//! last event is out and the 100 ms gap after its tone has passed, events until the last tone
//! frame (its gap included) has covered its period. Interleaved, a tone frame sent between an
//! event's end packets would make those packets look like a new event to the far end (and,
//! from a far end that echoes, bring the key back as a new key).
//!
//! # Keys in band on a leg with telephone-event are not listened for
//!
//! The Goertzel detector runs only on legs that negotiated no telephone-event. A phone that
//! negotiated it signals its keys as events, which are reported; listening to its audio as well
//! would cost every ordinary relayed call the detector (2.4 µs per packet against 0.12 µs for
//! the relay alone, `docs/benchmarks.md`, on both legs of every call), would expose every call to
//! talk-off (speech or music taken for a key) and would report twice every key of the many
//! phones and gateways that send the event and leave the tone in the audio, unless a
//! time-window match paired them — which fails for events that come late or are lost, the very
//! cases where two reports reach the CTI application. Tones that reach a telephone-event leg
//! (including Tether's own in-band keys coming back from a far end that echoes) are therefore
//! relayed as audio and not reported.

mod hear;
mod keytones;
mod play;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::codec::PayloadKind;
use crate::dtmf::detect::DtmfDetector;
use crate::dtmf::inband::InbandConfig;
use crate::dtmf::receiver::{DtmfReceiver, ReceiverConfig};
use crate::dtmf::sender::{DtmfSender, SenderConfig};
use crate::dtmf::Digit;
use crate::engine::{EngineError, MediaEngine};
use crate::events::LegId;
use crate::leg::MediaLeg;
use crate::Ssrc;
use keytones::KeyTones;

/// A key still down in the detector is released this long after the last audio packet.
pub const AUDIO_SILENCE: Duration = Duration::from_millis(100);
/// Silence after a key translated into tones (Q.24 asks receivers to accept 40 ms pauses).
const CONVERTED_GAP_MS: u32 = 50;
/// Largest frame generated: 120 ms at 8 kHz (the largest ptime a codec map accepts).
const MAX_FRAME: usize = 960;

/// How a key reached Tether on a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigitSource {
    /// RFC 4733 telephone-event packets.
    Rfc4733,
    /// Tones in the audio, found by the Goertzel detector.
    InBand,
}

/// How [`MediaEngine::send_digits`] plays keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendHow {
    /// RFC 4733 when the leg negotiated telephone-event, else in band.
    #[default]
    Auto,
    /// RFC 4733 only; refused on a leg without telephone-event.
    Rfc4733,
    /// Tones in the audio, whatever the leg negotiated.
    InBand,
}

/// A key asked for by `send_digits`, waiting for the other form's keys to finish.
#[derive(Debug, Clone, Copy)]
struct Asked {
    digit: Digit,
    duration_ms: u32,
    /// As RFC 4733 events (else tones in band).
    events: bool,
}

/// The DTMF state of one leg, made on first use.
pub(crate) struct LegDigits {
    receiver: DtmfReceiver,
    /// The SSRC whose events the receiver reads.
    event_ssrc: Option<Ssrc>,
    /// The in-band detector, on legs without telephone-event only.
    detector: Option<DtmfDetector>,
    /// When the last audio packet reached the detector.
    audio_heard: Option<Instant>,
    sender: DtmfSender,
    /// RTP timestamp the sender gave the event on the wire (a new one starts an event).
    sending_ts: Option<u32>,
    tones: KeyTones,
    /// Keys asked for in order, not yet handed to `sender` or `tones` because keys of the other
    /// form are still playing.
    asked: VecDeque<Asked>,
    /// Whether RFC 4733 keys from the connected leg are played in band here (when this leg has
    /// no telephone-event).
    convert: bool,
}

impl LegDigits {
    fn new() -> LegDigits {
        LegDigits {
            receiver: DtmfReceiver::new(ReceiverConfig::default()),
            event_ssrc: None,
            detector: None,
            audio_heard: None,
            sender: DtmfSender::new(SenderConfig::default()),
            sending_ts: None,
            tones: KeyTones::new(&InbandConfig::default()),
            asked: VecDeque::new(),
            convert: true,
        }
    }

    /// The earliest DTMF deadline of the leg.
    pub fn next_deadline(&self) -> Option<Instant> {
        let flush = match (&self.detector, self.audio_heard) {
            (Some(d), Some(at)) if d.key_down().is_some() => Some(at + AUDIO_SILENCE),
            _ => None,
        };
        [
            self.receiver.poll_timeout(),
            flush,
            self.sender.poll_timeout(),
            self.tones.next_due(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether local keys are playing or queued at `now`: audio relayed into the leg is muted.
    #[inline]
    fn mutes_relay(&self, now: Instant) -> bool {
        self.tones.mutes(now)
            || self.sender.is_playing()
            || self.sender.pending() > 0
            || !self.asked.is_empty()
    }

    /// Hands the keys asked for, in order, to the sender or the tone player, as far as the form
    /// playing allows: events once the tones are done, tones once the events are done (see the
    /// module comment). Called after each command and each time either plays.
    fn dispatch(&mut self, now: Instant) {
        let gap_ms = self.sender.config().gap_ms;
        while let Some(next) = self.asked.front().copied() {
            if next.events {
                let Some(from) = self.tones.idle_from(now) else {
                    return;
                };
                self.sender.queue(from, next.digit, next.duration_ms);
            } else {
                let Some(from) = self.sender.idle_from(now) else {
                    return;
                };
                self.tones
                    .queue_fixed(from, next.digit, next.duration_ms, gap_ms);
            }
            self.asked.pop_front();
        }
    }
}

fn digits_of(leg: &mut MediaLeg) -> &mut LegDigits {
    leg.digits.get_or_insert_with(|| Box::new(LegDigits::new()))
}

/// What a key received on one leg does to the leg it is connected to.
#[derive(Debug, Clone, Copy)]
enum Cross {
    Start(Digit),
    Hold,
    End(Digit, u32),
}

/// Duration of `samples` at 8 kHz.
fn sample_duration(samples: u64) -> Duration {
    Duration::from_micros(samples.saturating_mul(125))
}

impl MediaEngine {
    // ----- commands -----

    /// Plays `digits` (`0-9 * # A-D`, letters in either case) on leg `id`, each key lasting
    /// `duration_ms` (at least 40) with 100 ms between keys, after any keys still queued. `how`
    /// chooses RFC 4733 or in-band tones (see [`SendHow`]). Audio relayed into the leg is muted
    /// while the keys play. Nothing is queued when a character is no key.
    pub fn send_digits(
        &mut self,
        now: Instant,
        id: LegId,
        digits: &str,
        duration_ms: u32,
        how: SendHow,
    ) -> Result<(), EngineError> {
        let leg = self.leg_mut(id)?;
        let codecs = leg.codecs.ok_or(EngineError::NoCodecs(id))?;
        if let Some(c) = digits.chars().find(|c| Digit::from_char(*c).is_none()) {
            return Err(EngineError::NotADtmfKey(c));
        }
        let events = match how {
            SendHow::Auto => codecs.telephone_event.is_some(),
            SendHow::Rfc4733 if codecs.telephone_event.is_none() => {
                return Err(EngineError::NotNegotiated {
                    leg: id,
                    kind: PayloadKind::TelephoneEvent,
                });
            }
            SendHow::Rfc4733 => true,
            SendHow::InBand => false,
        };
        let duration_ms = duration_ms.max(keytones::MIN_TONE_MS);
        let d = digits_of(leg);
        d.asked.extend(
            digits
                .chars()
                .filter_map(Digit::from_char)
                .map(|digit| Asked {
                    digit,
                    duration_ms,
                    events,
                }),
        );
        d.dispatch(now);
        self.schedule(id.slot);
        Ok(())
    }

    /// Whether keys arriving as RFC 4733 on the leg connected to `id` are played in band on `id`
    /// when `id` negotiated no telephone-event (on by default). Turn it off for a leg that gets
    /// its keys as SIP INFO from the call engine.
    pub fn set_inband_conversion(&mut self, id: LegId, enabled: bool) -> Result<(), EngineError> {
        digits_of(self.leg_mut(id)?).convert = enabled;
        Ok(())
    }

    // ----- timers, called by the engine -----

    /// Runs the DTMF timers of leg `slot` due at `now`: the receiver's end timeout, the release of
    /// a key whose audio stopped, the event packets and tone frames due.
    pub(crate) fn digits_timeout(&mut self, now: Instant, slot: u32) {
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let Some(d) = leg.digits.as_mut() else {
            return;
        };
        d.receiver.handle_timeout(now);
        let silent = match (&mut d.detector, d.audio_heard) {
            (Some(det), Some(at)) if det.key_down().is_some() && now >= at + AUDIO_SILENCE => {
                det.flush();
                true
            }
            _ => false,
        };
        if silent {
            d.audio_heard = None;
        }
        self.drain_receiver(now, slot);
        self.drain_detector(slot);
        self.send_events_due(now, slot);
        self.send_tones_due(now, slot);
        // Keys of one form that were waiting for the other's to finish go on now.
        if let Some(Some(leg)) = self.slots.get_mut(slot as usize) {
            if let Some(d) = leg.digits.as_mut() {
                d.dispatch(now);
            }
        }
        // Keys handed over now may be due at once (the timer fired after the gap had passed).
        self.send_events_due(now, slot);
        self.send_tones_due(now, slot);
    }
}
