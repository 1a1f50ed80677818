//! Media anchoring in the call flow: checking the caller's offer, Tether's own offer on every
//! leg it places, the answer it gives the caller once a leg answers, mid-call offers (hold,
//! resume, re-INVITE and UPDATE) answered locally, and the media notices that end a call.
//! Only active when `EngineConfig::media` is set; the plain data lives in [`crate::media`].

use bytes::Bytes;
use tether_sdp::{answer_offer, create_offer, process_answer, Origin, SessionDescription};

use super::*;
use crate::media::{
    capabilities, codec_map, offer_is_carriable, offered_codecs, peer_holds, BMedia, CallMedia,
    MediaCommand, MediaNotice,
};

/// The content type of every body Tether writes for media.
const SDP: &str = "application/sdp";

/// Why a caller's INVITE cannot be taken for its body.
pub(super) struct BadOffer {
    pub status: u16,
    pub reason: &'static str,
    pub warning: Option<String>,
}

/// Is this body SDP (by its Content-Type, parameters ignored)?
fn is_sdp(m: &Message) -> bool {
    m.header_value(&HeaderName::ContentType)
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(SDP)
        })
        .unwrap_or(false)
}

/// The SDP of a message, if it has one that parses.
fn sdp_of(m: &Message) -> Option<SessionDescription> {
    if m.body().is_empty() || !is_sdp(m) {
        return None;
    }
    SessionDescription::parse(m.body()).ok()
}

impl Engine {
    pub(super) fn media_on(&self) -> bool {
        self.ports.is_some()
    }

    /// Checks the caller's offer before the call is routed: `Ok(None)` for no body (a late
    /// offer), the parsed offer, or the response that refuses it (RFC 3261 §21.4.16 415,
    /// 400 for SDP that does not parse, 488 with a 305 warning when no stream is usable).
    pub(super) fn check_offer(
        &self,
        invite: &Message,
    ) -> Result<Option<SessionDescription>, BadOffer> {
        if !self.media_on() || invite.body().is_empty() {
            return Ok(None);
        }
        if !is_sdp(invite) {
            return Err(BadOffer {
                status: 415,
                reason: "Unsupported Media Type",
                warning: None,
            });
        }
        let offer = SessionDescription::parse(invite.body()).map_err(|e| BadOffer {
            status: e.sip_status(),
            reason: if e.sip_status() == 400 {
                "Bad Request (SDP)"
            } else {
                "Not Acceptable Here"
            },
            warning: Some(format!("399 tether \"{e}\"")),
        })?;
        if !offer_is_carriable(&offer) {
            return Err(BadOffer {
                status: 488,
                reason: "Not Acceptable Here",
                warning: Some(
                    "305 tether \"Incompatible media format: G.711 audio over RTP/AVP only\""
                        .into(),
                ),
            });
        }
        Ok(Some(offer))
    }

    /// Answers the caller with `bad`.
    pub(super) fn refuse_offer(
        &mut self,
        now: Instant,
        txn: TxnId,
        invite: &Message,
        bad: &BadOffer,
    ) {
        let mut r = Message::response_to(invite, bad.status, bad.reason, Some(&self.unique("x")));
        if bad.status == 415 {
            let _ = r.push_header(HeaderName::Accept, SDP);
        }
        if let Some(w) = &bad.warning {
            let _ = r.push_header(HeaderName::Warning, w);
        }
        self.respond(now, txn, r);
    }

    /// Takes the caller's RTP port for a new call and opens it; `None` when media is not
    /// anchored. `Err(())` when the port range is exhausted.
    pub(super) fn open_call_media(
        &mut self,
        call: u64,
        offer: Option<SessionDescription>,
    ) -> Result<Option<CallMedia>, ()> {
        let Some(ports) = self.ports.as_mut() else {
            return Ok(None);
        };
        let port = ports.allocate().ok_or(())?;
        self.by_port.insert(port, call);
        self.out
            .push_back(Output::Media(MediaCommand::Open { port }));
        self.counter += 1;
        Ok(Some(CallMedia {
            a_port: port,
            a_offer: offer,
            a_local: None,
            a_negotiated: None,
            b: Vec::new(),
            connected: None,
            session_id: (self.seed & 0xffff_ffff) << 20 ^ self.counter,
            held_by: None,
            held_party: None,
            pending_offer: None,
            pending_quiet: false,
            a_elsewhere: false,
            relay_broken: false,
        }))
    }

    pub(super) fn media_address(&self) -> Option<std::net::IpAddr> {
        self.cfg.media.as_ref().map(|m| m.address)
    }

    /// Tether's offer for B leg `leg`: a port of its own, the caller's codecs in the caller's
    /// order. `None` when media is not anchored (the caller's body is passed on) and
    /// `Some(None)` when no port is left.
    pub(super) fn b_offer(&mut self, call: u64, leg: usize) -> Option<Option<Bytes>> {
        let addr = self.media_address()?;
        let ports = self.ports.as_mut()?;
        let c = self.calls.get_mut(&call)?;
        let m = c.media.as_mut()?;
        let Some(port) = ports.allocate() else {
            return Some(None);
        };
        // The codec the A side already uses comes first (MakeCall: what the remote destination
        // answered), then the caller's preference.
        let mut codecs: Vec<tether_sdp::Codec> =
            m.a_negotiated.map(|n| n.codec).into_iter().collect();
        for c in offered_codecs(m.a_offer.as_ref()) {
            if !codecs.contains(&c) {
                codecs.push(c);
            }
        }
        let caps = capabilities(addr, port, codecs);
        let Ok(offer) = create_offer(&caps, Origin::new(m.session_id, addr)) else {
            ports.release(port);
            return Some(None);
        };
        let body = Bytes::from(offer.to_bytes());
        if m.b.len() <= leg {
            m.b.resize_with(leg + 1, || None);
        }
        if let Some(slot) = m.b.get_mut(leg) {
            *slot = Some(BMedia {
                port,
                offer,
                negotiated: None,
            });
        }
        self.by_port.insert(port, call);
        self.out
            .push_back(Output::Media(MediaCommand::Open { port }));
        Some(Some(body))
    }

    /// Tether's offer on the leg it places on `side`: [`Engine::b_offer`] for a B leg, and for
    /// MakeCall's leg to the remote destination an offer on the call's A port.
    pub(super) fn leg_offer(&mut self, call: u64, side: Side) -> Option<Option<Bytes>> {
        match side {
            Side::B(leg) => self.b_offer(call, leg),
            Side::A => {
                let addr = self.media_address()?;
                let m = self.calls.get_mut(&call)?.media.as_mut()?;
                let caps = capabilities(addr, m.a_port, offered_codecs(None));
                let Ok(offer) = create_offer(&caps, Origin::new(m.session_id, addr)) else {
                    return Some(None);
                };
                let body = Bytes::from(offer.to_bytes());
                m.a_local = Some(offer);
                Some(Some(body))
            }
        }
    }

    /// The answer of the remote destination on a MakeCall call (in an 18x or its 200) to
    /// Tether's offer: configure the A port.
    pub(super) fn placed_a_media_answer(&mut self, call: u64, resp: &Message) {
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) else {
            return;
        };
        if m.a_negotiated.is_some() {
            return;
        }
        let (Some(local), Some(answer)) = (m.a_local.as_ref(), sdp_of(resp)) else {
            return;
        };
        let Some(n) = process_answer(local, &answer)
            .ok()
            .and_then(|o| tether_sdp::first_accepted(&o).copied())
        else {
            return;
        };
        m.a_negotiated = Some(n);
        let cmd = MediaCommand::Configure {
            port: m.a_port,
            remote: n.remote_rtp,
            codecs: codec_map(&n),
            hold: peer_holds(&n),
        };
        self.out.push_back(Output::Media(cmd));
    }

    /// A B leg's answer (in an 18x or the 200): configure its media. Returns whether the leg
    /// now has negotiated media.
    pub(super) fn b_media_answer(&mut self, call: u64, leg: usize, resp: &Message) -> bool {
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) else {
            return false;
        };
        let Some(Some(b)) = m.b.get_mut(leg) else {
            return false;
        };
        if b.negotiated.is_some() {
            return true;
        }
        let Some(answer) = sdp_of(resp) else {
            return false;
        };
        let Some(n) = process_answer(&b.offer, &answer)
            .ok()
            .and_then(|o| tether_sdp::first_accepted(&o).copied())
        else {
            return false;
        };
        b.negotiated = Some(n);
        let cmd = MediaCommand::Configure {
            port: b.port,
            remote: n.remote_rtp,
            codecs: codec_map(&n),
            hold: peer_holds(&n),
        };
        self.out.push_back(Output::Media(cmd));
        true
    }

    /// The body for the caller when B leg `leg` is put through to it (its early media or its
    /// answer): Tether's answer to the caller's offer (or, on a late-offer call, Tether's offer),
    /// preferring the codec the leg chose so that no transcoding is needed. Connects the two
    /// legs. `None` when media is not anchored or the leg has no media yet.
    pub(super) fn a_media_body(&mut self, call: u64, leg: usize) -> Option<Bytes> {
        let addr = self.media_address()?;
        let c = self.calls.get_mut(&call)?;
        let m = c.media.as_mut()?;
        let b = m.b.get(leg)?.as_ref()?;
        let bn = b.negotiated?;
        let b_port = b.port;
        if m.a_local.is_none() {
            let mut codecs = vec![bn.codec];
            codecs.extend(
                offered_codecs(m.a_offer.as_ref())
                    .into_iter()
                    .filter(|c| *c != bn.codec),
            );
            let caps = capabilities(addr, m.a_port, codecs);
            let origin = Origin::new(m.session_id, addr);
            match m.a_offer.as_ref() {
                Some(offer) => {
                    let answer = answer_offer(offer, &caps, origin).ok()?;
                    let an = *answer.audio()?;
                    m.a_negotiated = Some(an);
                    m.a_local = Some(answer.sdp);
                    self.out.push_back(Output::Media(MediaCommand::Configure {
                        port: m.a_port,
                        remote: an.remote_rtp,
                        codecs: codec_map(&an),
                        hold: peer_holds(&an),
                    }));
                }
                None => m.a_local = Some(create_offer(&caps, origin).ok()?),
            }
        }
        let body = Bytes::from(m.a_local.as_ref()?.to_bytes());
        if m.connected != Some(leg) {
            m.connected = Some(leg);
            let a = m.a_port;
            self.out
                .push_back(Output::Media(MediaCommand::Connect { a, b: b_port }));
        }
        Some(body)
    }

    /// An ACK from the caller on a late-offer call carries its answer to Tether's offer.
    pub(super) fn a_media_ack(&mut self, call: u64, ack: &Message) {
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) else {
            return;
        };
        if m.a_negotiated.is_some() {
            return;
        }
        let (Some(local), Some(answer)) = (m.a_local.as_ref(), sdp_of(ack)) else {
            return;
        };
        let Some(n) = process_answer(local, &answer)
            .ok()
            .and_then(|o| tether_sdp::first_accepted(&o).copied())
        else {
            return;
        };
        m.a_negotiated = Some(n);
        let cmd = MediaCommand::Configure {
            port: m.a_port,
            remote: n.remote_rtp,
            codecs: codec_map(&n),
            hold: peer_holds(&n),
        };
        self.out.push_back(Output::Media(cmd));
    }

    /// A mid-call offer (re-INVITE or UPDATE with SDP) from `side`, answered by Tether itself:
    /// the leg's peer, codec and direction change (hold, resume, a new address); the other
    /// side is not involved. `Err(status)` when the offer cannot be taken; `Ok(None)` when media
    /// is not anchored.
    pub(super) fn mid_call_offer(
        &mut self,
        call: u64,
        side: Side,
        req: &Message,
    ) -> Result<Option<Bytes>, u16> {
        let Some(addr) = self.media_address() else {
            return Ok(None);
        };
        let conference = self
            .calls
            .get(&call)
            .is_some_and(|c| c.conference.is_some());
        let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) else {
            return Ok(None);
        };
        let (port, current, local) = match side {
            Side::A => (m.a_port, m.a_negotiated, m.a_local.as_ref()),
            Side::B(i) => match m.b.get(i).and_then(Option::as_ref) {
                Some(b) => (b.port, b.negotiated, Some(&b.offer)),
                None => return Ok(None),
            },
        };
        if req.body().is_empty() {
            // No offer: answer with what Tether has (the peer's ACK or PRACK may carry an answer).
            return Ok(local.map(|l| Bytes::from(l.to_bytes())));
        }
        if !is_sdp(req) {
            return Err(415);
        }
        let offer = SessionDescription::parse(req.body()).map_err(|e| e.sip_status())?;
        let mut codecs = Vec::with_capacity(2);
        if let Some(n) = current {
            codecs.push(n.codec);
        }
        for c in offered_codecs(None) {
            if !codecs.contains(&c) {
                codecs.push(c);
            }
        }
        let caps = capabilities(addr, port, codecs);
        let origin = local
            .map(|l| l.origin().next_version())
            .unwrap_or_else(|| Origin::new(m.session_id, addr));
        let answer = answer_offer(&offer, &caps, origin).map_err(|e| e.sip_status())?;
        let n = *answer.audio().ok_or(488u16)?;
        let body = Bytes::from(answer.sdp.to_bytes());
        match side {
            Side::A => {
                m.a_negotiated = Some(n);
                m.a_local = Some(answer.sdp);
            }
            Side::B(i) => {
                if let Some(Some(b)) = m.b.get_mut(i) {
                    b.negotiated = Some(n);
                    // Later offers of ours on this leg continue from this description.
                    b.offer = answer.sdp;
                }
            }
        }
        let holds = peer_holds(&n);
        self.out.push_back(Output::Media(MediaCommand::Configure {
            port,
            remote: n.remote_rtp,
            codecs: codec_map(&n),
            hold: holds,
        }));
        if conference {
            // A conference party holding: the others just stop hearing it.
            return Ok(Some(body));
        }
        // Hold (SPEC §2.5): the party left on hold hears music until the holder resumes.
        let other = match side {
            Side::A => m
                .connected
                .and_then(|i| m.b.get(i))
                .and_then(Option::as_ref)
                .map(|b| b.port),
            Side::B(_) => Some(m.a_port),
        };
        match (holds, m.held_by) {
            (true, None) => {
                m.held_by = Some(side);
                if let Some(port) = other {
                    self.out.push_back(Output::Media(MediaCommand::Play {
                        port,
                        what: crate::media::Playable::MusicOnHold,
                        looped: true,
                    }));
                }
                self.party_held(call, side, true);
            }
            (false, Some(holder)) if holder == side => {
                m.held_by = None;
                if let Some(port) = other {
                    self.out
                        .push_back(Output::Media(MediaCommand::StopPlaying { port }));
                }
                self.party_held(call, side, false);
            }
            _ => {}
        }
        Ok(Some(body))
    }

    /// Releases every port of a call that is over.
    pub(super) fn close_call_media(&mut self, media: Option<CallMedia>) {
        let Some(m) = media else { return };
        let a = (!m.a_elsewhere).then_some(m.a_port);
        let ports = a.into_iter().chain(m.b.iter().flatten().map(|b| b.port));
        for port in ports {
            self.by_port.remove(&port);
            if let Some(pool) = self.ports.as_mut() {
                pool.release(port);
            }
            self.out
                .push_back(Output::Media(MediaCommand::Close { port }));
        }
    }

    /// What the media engine reports: a leg that went silent or could not be opened ends its
    /// call (Q.850 cause 41, temporary failure, and 47, resource unavailable).
    pub fn handle_media_notice(&mut self, now: Instant, notice: MediaNotice) {
        let (port, cause) = match notice {
            MediaNotice::Inactive { port, .. } => (port, 41),
            MediaNotice::OpenFailed { port } => (port, 47),
            MediaNotice::Digit {
                port,
                digit,
                duration,
                inband,
            } => {
                let ms = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
                return self.media_digit(now, port, digit, ms, inband);
            }
        };
        let Some(&call) = self.by_port.get(&port) else {
            return;
        };
        // A consultation's borrowed leg failing is its owner's leg failing: the owner ends
        // for that leg, and the consultation with it.
        let borrowed = self.calls.get(&call).and_then(|c| {
            let m = c.media.as_ref()?;
            c.a.borrowed().filter(|_| m.a_port == port)
        });
        if let Some((owner, side)) = borrowed {
            return self.end_call(now, owner, Some(side), cause);
        }
        // A conference party's leg failing: that party leaves, the others go on.
        let member = self
            .calls
            .get(&call)
            .filter(|c| c.conference.is_some())
            .and_then(|_| self.side_of_port(call, port));
        if let Some(side) = member {
            return self.leave_conference(now, call, side, cause, true);
        }
        let answered = self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == CallState::Answered);
        if answered {
            self.end_call(now, call, None, cause);
        } else {
            self.fail_unanswered(now, call, 503, cause);
        }
    }

    /// Ends a call that has not been answered: the caller gets `status` with the Q.850 cause,
    /// ringing legs are cancelled.
    fn fail_unanswered(&mut self, now: Instant, call: u64, status: u16, cause: u8) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        match c.a.inbound_mut() {
            Some(a) if !a.final_sent => {
                a.final_sent = true;
                let reason = Message::default_reason(status);
                let mut r = Message::response_to(&a.invite, status, reason, Some(&a.tag));
                let _ = r.push_header(HeaderName::Reason, &format!("Q.850;cause={cause}"));
                let txn = a.txn;
                self.respond(now, txn, r);
            }
            Some(_) => {}
            None => self.release_a(now, call, cause),
        }
        for (i, txn, state) in legs {
            self.drop_leg(now, call, i, txn, state);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.cdr.dest_cause_value = cause;
        }
        self.finish(now, call, cause);
    }

    /// Media that is anchored: the free RTP port pairs, for metrics.
    pub fn media_ports_free(&self) -> Option<usize> {
        self.ports.as_ref().map(|p| p.available())
    }
}
