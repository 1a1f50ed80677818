//! INVITE with Replaces (RFC 3891) arriving at Tether: a phone or a trunk peer asks that its
//! new call take the place of a dialog it has with Tether — call pull from another
//! registration of the same phone, a transfer completed behind a trunk. Tether itself carries it out, never relays it: the
//! replaced leg is hung up (`Reason: Q.850;cause=16`) and let go (its port and channel), the
//! new leg takes the A side of that call — Tether's own answer on a fresh port — and is relayed
//! to the party that stays, which keeps its dialog and learns nothing. When the replaced leg
//! was the B side, the party on the A side moves to the B side first (only a leg Tether placed
//! can be a B leg; two inbound legs cannot share a call: 603).
//!
//! Refusals (RFC 3891 §3): 400 for a Replaces that does not parse, 481 when no answered dialog
//! matches, 486 for `early-only` on an answered one, 603 for a call Tether will not rearrange
//! (a conference, a consultation, media not anchored, two inbound legs), 403 for an unknown
//! source or a dialog that is not the requester's own (another device's, another peer's), 488 without an offer Tether can take, 503 when no port or channel is left.

use tether_sdp::{answer_offer, Origin};

use super::handover::Slot;
use super::*;
use crate::control::{DeviceEventKind, Party};
use crate::media::{capabilities, codec_map, offered_codecs, peer_holds, MediaCommand};

/// Q.850 16: normal call clearing.
const NORMAL: u8 = 16;

impl Engine {
    /// A new INVITE with a Replaces header.
    pub(super) fn invite_replaces(
        &mut self,
        now: Instant,
        txn: TxnId,
        invite: Message,
        from: Peer,
    ) {
        match self.replace_leg(now, txn, &invite, from) {
            Ok(()) => {}
            Err((code, text)) => {
                let r = Message::response_to(&invite, code, text, Some(&self.unique("x")));
                self.respond(now, txn, r);
            }
        }
    }

    fn replace_leg(
        &mut self,
        now: Instant,
        txn: TxnId,
        invite: &Message,
        from: Peer,
    ) -> Result<(), (u16, &'static str)> {
        const GONE: (u16, &str) = (481, "Call/Transaction Does Not Exist");
        const DECLINE: (u16, &str) = (603, "Decline");
        let rep = match invite.replaces() {
            Ok(Some(r)) => r,
            _ => return Err((400, "Bad Request (Replaces)")),
        };
        let id = DialogId::new(&rep.call_id, &rep.to_tag, &rep.from_tag);
        let &(k, r) = self.by_dialog.get(&id).ok_or(GONE)?;
        let c = self.calls.get(&k).ok_or(GONE)?;
        if c.state != CallState::Answered {
            return Err(GONE);
        }
        if rep.early_only {
            return Err((486, "Busy Here"));
        }
        if !c.a.is_own() || c.lent.is_some() || c.conference.is_some() || c.media.is_none() {
            return Err(DECLINE);
        }
        // The party that stays must be able to sit on the B side.
        if r != Side::A && c.a.placed().is_none() {
            return Err(DECLINE);
        }
        let stay = c.other_side(r).ok_or(DECLINE)?;
        let offer = match self.check_offer(invite) {
            Ok(Some(o)) => o,
            _ => return Err((488, "Not Acceptable Here")),
        };
        let addr = self.media_address().ok_or(DECLINE)?;
        let snap = self.snap.clone();
        let phone = self.registrar.device_at(from, now).map(str::to_owned);
        let trunk = match phone {
            Some(_) => None,
            None => Some(
                channels::identify(&snap, from.addr)
                    .ok_or((403, "Forbidden"))?
                    .clone(),
            ),
        };
        // Only the party itself may have its dialog replaced (RFC 3891 §3: the UAS must
        // authorize it): a phone takes over a leg of its own device (call pull between its
        // registrations), a trunk peer a leg it carries (a transfer completed behind it).
        // Anyone else who learnt the dialog's identifiers would take over a stranger's call.
        let c = self.calls.get(&k).ok_or(GONE)?;
        let owner = super::refer::side_device(c, r);
        let replaced_peer = match r {
            Side::A => c.a.peer(),
            Side::B(i) => c.b.get(i).and_then(|l| l.peer),
        };
        let allowed = match (&phone, owner) {
            (Some(dev), Some(o)) => dev == o,
            (None, None) => replaced_peer.is_some_and(|p| p.addr.ip() == from.addr.ip()),
            _ => false,
        };
        if !allowed {
            return Err((403, "Forbidden (Replaces names another party's dialog)"));
        }
        // The new caller as it is presented.
        let received = invite
            .from_hdr()
            .and_then(|f| f.uri.user().map(str::to_owned))
            .unwrap_or_default();
        let number = match &phone {
            Some(dev) => snap
                .lines_of(dev)
                .min_by_key(|l| l.position)
                .map(|l| l.dn.clone())
                .unwrap_or(received),
            None => callerid::present(&snap, &received).number,
        };
        if let Some(t) = &trunk {
            if !self.channels.seize(t) {
                return Err((503, "Service Unavailable"));
            }
        }
        let Some(port) = self.ports.as_mut().and_then(|p| p.allocate()) else {
            if let Some(t) = &trunk {
                self.channels.release(&t.name);
            }
            return Err((503, "Service Unavailable"));
        };

        // 1. The replaced leg is hung up and let go; the party staying is on the B side.
        let c = self.calls.get(&k).ok_or(GONE)?;
        let old_conns: Vec<Connection> = c
            .conns
            .iter()
            .filter(|x| c.own_side(x) == r)
            .cloned()
            .collect();
        let stay_held_by_old = c.media.as_ref().is_some_and(|m| m.held_by == Some(r));
        let stay_number = match stay {
            Side::A => c.presented_calling.clone(),
            Side::B(_) => c
                .shown_called
                .clone()
                .unwrap_or_else(|| c.cdr.final_called_party_number.clone()),
        };
        self.release(now, k, r, NORMAL);
        if let Some(d) = self.detach(k, r) {
            self.discard(d);
        }
        if stay == Side::A {
            if let Some(d) = self.detach(k, Side::A) {
                if let Ok(Side::B(n)) = self.attach(now, k, Slot::NewB, d) {
                    if let Some(c) = self.calls.get_mut(&k) {
                        c.winner = Some(n);
                    }
                }
            }
        }

        // 2. The new leg on the A side, answered by Tether on a port of its own.
        let tag = self.unique("t");
        let rng = self.rng();
        let session = Session::uas(
            self.cfg.sessions.clone(),
            invite,
            &tag,
            self.contact.clone(),
            rng,
        )
        .ok();
        let Some(c) = self.calls.get_mut(&k) else {
            return Ok(());
        };
        let Some(w) = c.winner else { return Ok(()) };
        let Some(m) = c.media.as_mut() else {
            return Ok(());
        };
        let b_port = m.b.get(w).and_then(Option::as_ref).map(|b| b.port);
        let mut codecs: Vec<tether_sdp::Codec> =
            m.b.get(w)
                .and_then(Option::as_ref)
                .and_then(|b| b.negotiated)
                .map(|n| n.codec)
                .into_iter()
                .collect();
        for x in offered_codecs(Some(&offer)) {
            if !codecs.contains(&x) {
                codecs.push(x);
            }
        }
        let caps = capabilities(addr, port, codecs);
        let Ok(answer) = answer_offer(&offer, &caps, Origin::new(m.session_id, addr)) else {
            return Ok(());
        };
        let Some(n) = answer.audio().copied() else {
            return Ok(());
        };
        let body = bytes::Bytes::from(answer.sdp.to_bytes());
        m.a_port = port;
        m.a_elsewhere = false;
        m.a_offer = Some(offer);
        m.a_local = Some(answer.sdp);
        m.a_negotiated = Some(n);
        m.held_by = None;
        m.held_party = None;
        m.pending_offer = None;
        m.connected = Some(w);
        c.a = ALeg::Inbound(InboundLeg {
            txn,
            invite: invite.clone(),
            from,
            tag,
            session,
            final_sent: true,
            trunk: trunk.map(|t| t.name),
            relayed_18x: Vec::new(),
            uses_info: false,
        });
        c.presented_calling = number.clone();
        c.shown_called = Some(stay_number.clone());
        c.conns.retain(|x| !old_conns.contains(x));
        for x in &mut c.conns {
            x.role = Role::Called;
        }
        let new_conn = phone.map(|device| Connection {
            device,
            dn: number.clone(),
            role: Role::Calling,
        });
        if let Some(x) = &new_conn {
            c.conns.push(x.clone());
        }
        let a_session = match &c.a {
            ALeg::Inbound(a) => a.session.as_ref().map(|s| s.id().clone()),
            _ => None,
        };
        self.by_dialog.retain(|_, v| *v != (k, Side::A));
        self.by_txn.retain(|_, v| *v != (k, Side::A));
        if let Some(id) = a_session {
            self.track_dialog(id, k, Side::A);
        }
        self.track_txn(txn, k, Side::A);
        self.by_port.insert(port, k);
        for cmd in [
            MediaCommand::Open { port },
            MediaCommand::Configure {
                port,
                remote: n.remote_rtp,
                codecs: codec_map(&n),
                hold: peer_holds(&n),
            },
        ] {
            self.out.push_back(Output::Media(cmd));
        }
        if let Some(b) = b_port {
            if stay_held_by_old {
                self.out
                    .push_back(Output::Media(MediaCommand::StopPlaying { port: b }));
            }
            self.out
                .push_back(Output::Media(MediaCommand::Connect { a: port, b }));
        }
        // 3. The new caller gets Tether's answer.
        if let Some(a) = self.calls.get_mut(&k).and_then(|c| c.a.inbound_mut()) {
            if let Some(s) = a.session.as_mut() {
                if let Ok(mut ok) = s.create_response(&a.invite, 200) {
                    let _ = ok.set_body(Some("application/sdp"), body);
                    let _ = ok.push_header(HeaderName::Allow, super::ALLOW);
                    let _ = ok.push_header(HeaderName::Supported, super::SUPPORTED);
                    let _ = s.send_response(now, ok);
                }
            }
        }
        self.pump(now, k);

        // 4. Devices: the replaced one left, the new one is connected.
        for x in &old_conns {
            let kind = DeviceEventKind::ConnectionCleared {
                party: Party::Device,
                cause: NORMAL,
            };
            self.emit(x, k, kind);
        }
        if let Some(x) = &new_conn {
            let kind = DeviceEventKind::Established {
                calling: number,
                called: stay_number,
            };
            self.emit(x, k, kind);
        }
        Ok(())
    }
}
