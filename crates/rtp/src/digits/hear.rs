//! Hearing keys on a leg and passing them on: the hook the engine calls on every accepted packet
//! before the relay (RFC 4733 packets to the leg's receiver, G.711 audio of a leg without
//! telephone-event to its detector), the reports that come out of both, and the in-band replay of
//! an RFC 4733 key on a connected leg that carries no events. Must not allocate on the relay path
//! once a leg's DTMF state exists.

use std::time::{Duration, Instant};

use super::{digits_of, sample_duration, Cross, DigitSource, CONVERTED_GAP_MS};
use crate::codec::PayloadKind;
use crate::dtmf::detect::{DetectorEvent, DtmfDetector};
use crate::dtmf::receiver::{DtmfReceiver, ReceivedDtmf, ReceiverConfig};
use crate::engine::MediaEngine;
use crate::events::MediaEvent;
use crate::leg::{Accepted, OutputSource};

impl MediaEngine {
    /// Looks at a packet leg `slot` accepted, before the relay: feeds the leg's DTMF receiver or
    /// detector, and says whether to relay the packet (not when it is a malformed event, nor
    /// while the connected leg plays keys of its own).
    #[inline]
    pub(crate) fn digits_inspect(
        &mut self,
        now: Instant,
        slot: u32,
        accepted: &Accepted,
        datagram: &[u8],
    ) -> bool {
        let Some(Some(leg)) = self.slots.get(slot as usize) else {
            return false;
        };
        let peer = leg.peer;
        let listen_in_band = leg.codecs.is_some_and(|c| c.telephone_event.is_none());
        let readable = match accepted.kind {
            PayloadKind::TelephoneEvent => self.event_in(now, slot, accepted, datagram),
            PayloadKind::Audio(law) if listen_in_band => {
                self.audio_in(now, slot, law, accepted.header.payload(datagram));
                true
            }
            _ => true,
        };
        if !readable {
            return false;
        }
        let Some(peer) = peer else {
            return true;
        };
        match self.slots.get_mut(peer as usize) {
            Some(Some(p)) if p.digits.as_ref().is_some_and(|d| d.mutes_relay(now)) => {
                p.counters.not_sent += 1;
                false
            }
            _ => true,
        }
    }

    /// An RFC 4733 packet on leg `slot`. False when its payload cannot be read.
    fn event_in(&mut self, now: Instant, slot: u32, accepted: &Accepted, datagram: &[u8]) -> bool {
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return false;
        };
        let header = &accepted.header;
        let d = digits_of(leg);
        let previous = d.event_ssrc.replace(header.ssrc);
        if previous.is_some_and(|ssrc| ssrc != header.ssrc) {
            // A new source: the key in progress ends, and the new source's timestamps cannot be
            // compared with the old one's.
            d.receiver.supersede();
            self.drain_receiver(now, slot);
        }
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return false;
        };
        let d = digits_of(leg);
        if previous.is_some_and(|ssrc| ssrc != header.ssrc) {
            d.receiver = DtmfReceiver::new(ReceiverConfig::default());
        }
        let read =
            d.receiver
                .handle_packet(now, header.ts, header.marker, header.payload(datagram));
        if read.is_err() {
            leg.counters.malformed += 1;
            return false;
        }
        let down = d.receiver.key_down().is_some();
        self.drain_receiver(now, slot);
        if down {
            self.cross(now, slot, Cross::Hold);
        }
        self.schedule(slot);
        true
    }

    /// G.711 audio on leg `slot`, a leg without telephone-event: through the detector.
    fn audio_in(&mut self, now: Instant, slot: u32, law: crate::g711::Law, payload: &[u8]) {
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let d = digits_of(leg);
        let detector = d.detector.get_or_insert_with(DtmfDetector::default);
        let mut pcm = [0i16; 160];
        for chunk in payload.chunks(pcm.len()) {
            for (s, &code) in pcm.iter_mut().zip(chunk) {
                *s = law.decode(code);
            }
            detector.process(&pcm[..chunk.len()]);
        }
        d.audio_heard = Some(now);
        let down = detector.key_down().is_some();
        self.drain_detector(slot);
        if down {
            self.schedule(slot);
        }
    }

    /// Reports what leg `slot`'s RFC 4733 receiver found and passes it on to the connected leg.
    pub(super) fn drain_receiver(&mut self, now: Instant, slot: u32) {
        loop {
            let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
                return;
            };
            let id = leg.id;
            let Some(ev) = leg.digits.as_mut().and_then(|d| d.receiver.poll_event()) else {
                return;
            };
            match ev {
                ReceivedDtmf::DigitStarted { digit, .. } => {
                    self.events.push_back(MediaEvent::DigitStarted {
                        leg: id,
                        digit,
                        how: DigitSource::Rfc4733,
                    });
                    self.cross(now, slot, Cross::Start(digit));
                }
                ReceivedDtmf::DigitEnded {
                    digit, duration_ms, ..
                } => {
                    self.events.push_back(MediaEvent::Digit {
                        leg: id,
                        digit,
                        duration: Duration::from_millis(u64::from(duration_ms)),
                        how: DigitSource::Rfc4733,
                    });
                    self.cross(now, slot, Cross::End(digit, duration_ms));
                }
                // A hook flash has no tone to play; between legs with telephone-event it is
                // relayed like any event.
                ReceivedDtmf::Flash { .. } => {}
            }
        }
    }

    /// Reports what leg `slot`'s in-band detector found.
    pub(super) fn drain_detector(&mut self, slot: u32) {
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let id = leg.id;
        let Some(det) = leg.digits.as_mut().and_then(|d| d.detector.as_mut()) else {
            return;
        };
        while let Some(ev) = det.poll_event() {
            self.events.push_back(match ev {
                DetectorEvent::DigitOn { digit, .. } => MediaEvent::DigitStarted {
                    leg: id,
                    digit,
                    how: DigitSource::InBand,
                },
                DetectorEvent::DigitDetected {
                    digit, duration, ..
                } => MediaEvent::Digit {
                    leg: id,
                    digit,
                    duration: sample_duration(duration),
                    how: DigitSource::InBand,
                },
            });
        }
    }

    /// Plays an RFC 4733 key from leg `from` in band on the leg it is connected to, when that leg
    /// relays, has no telephone-event and converts.
    fn cross(&mut self, now: Instant, from: u32, what: Cross) {
        let Some(peer) = self
            .slots
            .get(from as usize)
            .and_then(Option::as_ref)
            .and_then(|leg| leg.peer)
        else {
            return;
        };
        let Some(Some(leg)) = self.slots.get_mut(peer as usize) else {
            return;
        };
        let carries_events = leg.codecs.is_none_or(|c| c.telephone_event.is_some());
        if carries_events || leg.source != OutputSource::Relay {
            return;
        }
        let d = digits_of(leg);
        if !d.convert {
            return;
        }
        match what {
            Cross::Start(digit) => d.tones.start_live(now, digit, CONVERTED_GAP_MS),
            Cross::Hold => d.tones.hold(now),
            Cross::End(digit, ms) => d.tones.end_live(digit, ms),
        }
        self.schedule(peer);
    }
}
