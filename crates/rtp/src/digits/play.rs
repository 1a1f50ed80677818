//! Playing keys out on a leg's stream, on the engine's timer: the RFC 4733 packets of the leg's
//! sender and the tone frames of its key player, stamped on the same continuous stream as relayed
//! media.

use std::time::{Duration, Instant};

use super::{digits_of, MAX_FRAME};
use crate::dtmf::sender::EventPacket;
use crate::engine::{MediaEngine, Transmit};
use crate::packet::{write_header, Stamp};
use crate::stream::LocalTiming;

impl MediaEngine {
    /// Sends the RFC 4733 packets of leg `slot` due at `now`.
    pub(super) fn send_events_due(&mut self, now: Instant, slot: u32) {
        loop {
            let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
                return;
            };
            let media_ts = leg.out.clock_at(now);
            let Some(packet) = leg
                .digits
                .as_mut()
                .and_then(|d| d.sender.poll(now, media_ts))
            else {
                return;
            };
            self.send_event(now, slot, &packet);
        }
    }

    /// Stamps one event packet on leg `slot`'s stream: the sender's marker bit, the stream's
    /// sequence number and a timestamp that stays the event's own for every packet of it.
    fn send_event(&mut self, now: Instant, slot: u32, packet: &EventPacket) {
        let mut buf = self.take_buf();
        let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
            self.recycle(buf);
            return;
        };
        let pt = leg.codecs.and_then(|c| c.telephone_event);
        let (Some(pt), Some(to)) = (pt, leg.destination()) else {
            leg.counters.not_sent += 1;
            self.recycle(buf);
            return;
        };
        let d = digits_of(leg);
        let start = packet.marker || d.sending_ts != Some(packet.timestamp);
        d.sending_ts = Some(packet.timestamp);
        let duration = u32::from(u16::from_be_bytes([packet.payload[2], packet.payload[3]]));
        let timing = if start {
            LocalTiming::EventStart { duration }
        } else {
            LocalTiming::EventUpdate { duration }
        };
        let stamped = leg.out.stamp_local(now, timing, packet.payload.len());
        buf.clear();
        write_header(
            &mut buf,
            &Stamp {
                marker: packet.marker,
                pt,
                seq: stamped.seq,
                ts: stamped.ts,
                ssrc: leg.out.ssrc(),
            },
        );
        buf.extend_from_slice(&packet.payload);
        leg.counters.packets_out += 1;
        leg.counters.octets_out += packet.payload.len() as u64;
        self.transmits.push_back(Transmit {
            from_port: leg.ports.rtp,
            to,
            contents: buf,
        });
    }

    /// Sends the tone frames of leg `slot` due at `now`, in the leg's law and packetization.
    pub(super) fn send_tones_due(&mut self, now: Instant, slot: u32) {
        loop {
            let Some(Some(leg)) = self.slots.get_mut(slot as usize) else {
                return;
            };
            let id = leg.id;
            let codecs = leg.codecs;
            let Some(d) = leg.digits.as_mut() else {
                return;
            };
            let Some(due) = d.tones.next_due().filter(|due| *due <= now) else {
                return;
            };
            let Some(codecs) = codecs else {
                d.tones.clear();
                return;
            };
            let samples = (codecs.frame_samples() as usize).min(MAX_FRAME);
            let interval = Duration::from_millis(u64::from(codecs.ptime_ms));
            let mut pcm = [0i16; MAX_FRAME];
            if !d.tones.render(due, interval, &mut pcm[..samples]) {
                continue;
            }
            let mut codes = [0u8; MAX_FRAME];
            for (c, &s) in codes.iter_mut().zip(&pcm[..samples]) {
                *c = codecs.send.encode(s);
            }
            let frame = crate::relay::Frame::Audio {
                law: codecs.send,
                codes: &codes[..samples],
            };
            // A leg with no destination yet counts the frame as not sent; the keys go on.
            let _ = self.feed_frame(now, id, frame);
        }
    }
}
