//! Forwarding into a leg's outgoing stream, from either kind of source:
//! - the relay: a packet accepted on one leg goes out on the leg it is connected to, copied once
//!   into a pooled buffer and rewritten in place — SSRC, sequence number and timestamp from the
//!   outgoing stream's continuity rules, payload type renumbered for the destination leg, G.711
//!   transcoded byte by byte when the destination did not negotiate the source's law;
//!   telephone-event is renumbered, never transcoded;
//! - fed frames ([`MediaEngine::feed_frame`]): a 20 ms G.711 frame from a player or mixer, or an
//!   RFC 4733 event packet from a DTMF generator, stamped on the same continuous stream.
//!
//! Nothing here allocates once the buffer pool is warm.

use std::time::Instant;

use crate::codec::PayloadKind;
use crate::engine::{EngineError, MediaEngine, Transmit};
use crate::events::LegId;
use crate::g711::Law;
use crate::leg::{Accepted, OutputSource};
use crate::packet::{rewrite_header, write_header, Stamp, RTP_HEADER_LEN};
use crate::stream::LocalTiming;
use crate::transcode::transcode_in_place;

/// A payload produced inside Tether for one leg's outgoing stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// G.711 samples in `law` (one byte per sample; 160 for 20 ms). Transcoded when the leg did
    /// not negotiate `law`.
    Audio { law: Law, codes: &'a [u8] },
    /// One RFC 4733 payload (event, E/R/volume, duration). `start` marks the first packet of an
    /// event: it fixes the timestamp every later packet of the event repeats.
    TelephoneEvent { payload: &'a [u8], start: bool },
}

/// The duration field of an RFC 4733 payload (0 when too short to hold one).
fn event_duration(payload: &[u8]) -> u32 {
    match payload {
        [_, _, hi, lo, ..] => u32::from(u16::from_be_bytes([*hi, *lo])),
        _ => 0,
    }
}

impl MediaEngine {
    /// Sends a packet accepted on leg `from_slot` out on its connected leg, if any.
    pub(crate) fn relay(
        &mut self,
        now: Instant,
        from_slot: u32,
        accepted: &Accepted,
        datagram: &[u8],
    ) {
        let MediaEngine {
            slots,
            pool,
            transmits,
            ..
        } = self;
        let Some(peer_slot) = slots
            .get(from_slot as usize)
            .and_then(Option::as_ref)
            .and_then(|leg| leg.peer)
        else {
            return;
        };
        let Some(Some(peer)) = slots.get_mut(peer_slot as usize) else {
            return;
        };
        let header = &accepted.header;
        let (Some(codecs), Some(to), OutputSource::Relay) =
            (peer.codecs, peer.destination(), peer.source)
        else {
            peer.counters.not_sent += 1;
            return;
        };
        let (kind, convert) = match accepted.kind {
            PayloadKind::Audio(law) if codecs.pt_of(accepted.kind).is_none() => {
                (PayloadKind::Audio(codecs.send), Some((law, codecs.send)))
            }
            kind => (kind, None),
        };
        let Some(pt) = codecs.pt_of(kind) else {
            peer.counters.not_sent += 1;
            return;
        };
        let payload_len = header.payload_len();
        let media = match kind {
            PayloadKind::Audio(_) => payload_len as u32,
            PayloadKind::TelephoneEvent => event_duration(header.payload(datagram)),
            PayloadKind::ComfortNoise => 0,
        };
        let Some(stamped) = peer.out.stamp_relay(
            now,
            header.ssrc,
            header.seq,
            header.ts,
            header.marker,
            kind,
            media,
            payload_len,
        ) else {
            peer.counters.not_sent += 1;
            return;
        };
        let mut buf = pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(datagram);
        rewrite_header(
            &mut buf,
            &Stamp {
                marker: stamped.marker,
                pt,
                seq: stamped.seq,
                ts: stamped.ts,
                ssrc: peer.out.ssrc(),
            },
        );
        if let Some((from, to)) = convert {
            if let Some(payload) = buf.get_mut(header.payload_start..header.payload_end) {
                transcode_in_place(from, to, payload);
            }
        }
        peer.counters.packets_out += 1;
        peer.counters.octets_out += payload_len as u64;
        transmits.push_back(Transmit {
            from_port: peer.ports.rtp,
            to,
            contents: buf,
        });
    }

    /// Sends a locally produced frame on leg `id`'s outgoing stream, with the same SSRC and
    /// continuous sequence numbers and timestamps as relayed packets (see `stream.rs` for the
    /// rules). Works whatever the leg's [`OutputSource`]; set it to `Fed` while a local source
    /// plays, so relayed packets do not interleave with it (each switch of source re-anchors
    /// the timestamps and sets the marker).
    pub fn feed_frame(
        &mut self,
        now: Instant,
        id: LegId,
        frame: Frame<'_>,
    ) -> Result<(), EngineError> {
        let leg = self.leg_mut(id)?;
        let codecs = leg.codecs.ok_or(EngineError::NoCodecs(id))?;
        let (kind, payload, convert, timing) = match frame {
            Frame::Audio { law, codes } => {
                let target = if codecs.pt_of(PayloadKind::Audio(law)).is_some() {
                    law
                } else {
                    codecs.send
                };
                let timing = LocalTiming::Audio {
                    samples: codes.len() as u32,
                };
                (
                    PayloadKind::Audio(target),
                    codes,
                    Some((law, target)),
                    timing,
                )
            }
            Frame::TelephoneEvent { payload, start } => {
                if payload.len() < 4 {
                    return Err(EngineError::ShortEvent);
                }
                let duration = event_duration(payload);
                let timing = if start {
                    LocalTiming::EventStart { duration }
                } else {
                    LocalTiming::EventUpdate { duration }
                };
                (PayloadKind::TelephoneEvent, payload, None, timing)
            }
        };
        let pt = codecs
            .pt_of(kind)
            .ok_or(EngineError::NotNegotiated { leg: id, kind })?;
        let Some(to) = leg.destination() else {
            leg.counters.not_sent += 1;
            return Err(EngineError::NoDestination(id));
        };
        let stamped = leg.out.stamp_local(now, timing, payload.len());
        let stamp = Stamp {
            marker: stamped.marker,
            pt,
            seq: stamped.seq,
            ts: stamped.ts,
            ssrc: leg.out.ssrc(),
        };
        leg.counters.packets_out += 1;
        leg.counters.octets_out += payload.len() as u64;
        let from_port = leg.ports.rtp;
        let mut buf = self.take_buf();
        buf.clear();
        write_header(&mut buf, &stamp);
        buf.extend_from_slice(payload);
        if let Some((from, to)) = convert {
            if let Some(body) = buf.get_mut(RTP_HEADER_LEN..) {
                transcode_in_place(from, to, body);
            }
        }
        self.transmits.push_back(Transmit {
            from_port,
            to,
            contents: buf,
        });
        Ok(())
    }
}
