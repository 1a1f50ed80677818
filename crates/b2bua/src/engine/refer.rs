//! REFER from phones (RFC 3515, transfer flows of RFC 5589), carried out by Tether itself and
//! never relayed: the phone that sends it (the transferor) is in a call through Tether with the
//! transferee, and Tether moves the transferee's leg ([`super::handover`]) — the transferee
//! keeps its dialog and gets no new INVITE.
//!
//! - Blind (Refer-To without Replaces): the number is routed through the transferor's device's
//!   calling search space (after the application dial rules), and a new call — its own global
//!   call id and CDR, the transferee as its caller and the transferor's DN as last redirecting
//!   number — takes the transferee's leg as its A side and rings the target. The transferee is
//!   relayed to the target once it answers. The transferor hears how it went in NOTIFYs
//!   (`message/sipfrag`: `100 Trying` at once, then the target's `200 OK` or its failure), after
//!   which Tether hangs the transferor up (`Reason: Q.850;cause=16`) unless it did first; a
//!   transferor hanging up early does not stop the transfer. A target that cannot be reached
//!   ends the transferee's call (it has left the transferor's).
//! - Attended (Refer-To with `?Replaces=` naming the transferor's other call at Tether, RFC
//!   3891): the two far parties are joined at once, as TransferCall joins them: the transferee's
//!   leg takes the place of the transferor's leg in the other call (or the other way round when
//!   only that fits: a call has at most one inbound leg, its A side), the transferor's two legs
//!   are hung up, the transferor gets `NOTIFY 200 OK`.
//!
//! A REFER Tether cannot carry out is refused with its reason: 400 (no or bad Refer-To), 403
//! (not an answered two-party call, no device to route for, a transfer to itself, a Replaces
//! naming a dialog that is not the transferor's own: another device's, or for a party with no
//! device another address's), 481 (the dialog to replace does not exist here), 488 (two
//! inbound legs cannot be joined), 491 (a re-INVITE is under way), 501 (media not anchored),
//! or the routing refusal's status.
//!
//! CTI: the transferor's device sees `Transferred` (the transferee's and the target's numbers,
//! the call they talk on) on the REFER's call.

use tether_sip::headers::Replaces;
use tether_sip::text::percent_decode;

use super::handover::Slot;
use super::place::Targets;
use super::*;
use crate::control::{DeviceEventKind, Party};
use crate::media::{CallMedia, MediaCommand};
use crate::route::Forwarded;

/// Q.850 16: normal call clearing.
const NORMAL: u8 = 16;

/// What a REFER asks, checked.
enum Plan {
    Blind {
        to: String,
        targets: Targets,
        forwarded: Option<Forwarded>,
        line: bool,
    },
    /// Join with the far party of `call` (whose leg `side` is the transferor's).
    Attended { call: u64, side: Side },
}

/// The number the party on `side` of `c` is known by.
fn side_number(c: &Call, side: Side) -> String {
    match side {
        Side::A => c.presented_calling.clone(),
        Side::B(_) => c
            .shown_called
            .clone()
            .unwrap_or_else(|| c.cdr.final_called_party_number.clone()),
    }
}

/// The device whose leg is on `side` of `c`, if any.
pub(super) fn side_device(c: &Call, side: Side) -> Option<&str> {
    c.conns
        .iter()
        .find(|k| c.own_side(k) == side)
        .map(|k| k.device.as_str())
}

/// Whether the party on `side` of `c` is the one on `r` of `o`: the same device, or, for
/// parties with no device (trunk peers), the same address.
fn same_party(c: &Call, side: Side, o: &Call, r: Side) -> bool {
    let peer = |c: &Call, s: Side| match s {
        Side::A => c.a.peer(),
        Side::B(i) => c.b.get(i).and_then(|l| l.peer),
    };
    match (side_device(c, side), side_device(o, r)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => {
            matches!((peer(c, side), peer(o, r)), (Some(a), Some(b)) if a.addr == b.addr)
        }
        _ => false,
    }
}

/// Whether `c` is an answered two-party call whose legs are all its own, with anchored media
/// and no re-INVITE under way.
fn plain_answered(c: &Call) -> Result<(), u16> {
    let m = c.media.as_ref().ok_or(501u16)?;
    if c.state != CallState::Answered || !c.a.is_own() || c.lent.is_some() || c.conference.is_some()
    {
        return Err(403);
    }
    if m.pending_offer.is_some() {
        return Err(491);
    }
    Ok(())
}

impl Engine {
    /// A REFER in `call` from the party on `side`: refused with its reason, or accepted (202),
    /// notified (`100 Trying`) and carried out.
    pub(super) fn on_refer(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        id: &DialogId,
        req: &Message,
    ) {
        let plan = match self.refer_plan(now, call, side, req) {
            Ok(p) => p,
            Err(code) => return self.answer_in_dialog(now, call, side, id, req, code),
        };
        self.answer_in_dialog(now, call, side, id, req, 202);
        self.refer_notify(now, call, side, 100, false);
        match plan {
            Plan::Blind {
                to,
                targets,
                forwarded,
                line,
            } => self.blind_transfer(now, call, side, &to, targets, forwarded, line),
            Plan::Attended {
                call: other,
                side: r,
            } => self.attended_transfer(now, call, side, other, r),
        }
    }

    fn refer_plan(&self, now: Instant, call: u64, side: Side, req: &Message) -> Result<Plan, u16> {
        let c = self.calls.get(&call).ok_or(481u16)?;
        plain_answered(c)?;
        let x = c.other_side(side).ok_or(403u16)?;
        let refer_to = match req.refer_to() {
            Ok(Some(na)) => na,
            _ => return Err(400),
        };
        let replaces = refer_to
            .uri
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case("replaces"))
            .map(|(_, v)| String::from_utf8_lossy(&percent_decode(v)).into_owned());
        if let Some(text) = replaces {
            let rep = Replaces::parse(&text).map_err(|_| 400u16)?;
            let id = DialogId::new(&rep.call_id, &rep.to_tag, &rep.from_tag);
            let &(k, r) = self.by_dialog.get(&id).ok_or(481u16)?;
            if k == call {
                return Err(403);
            }
            let o = self.calls.get(&k).ok_or(481u16)?;
            // Only the transferor's own other call: a phone cannot join someone else's.
            if !same_party(c, side, o, r) {
                return Err(403);
            }
            plain_answered(o)?;
            let y = o.other_side(r).ok_or(403u16)?;
            // A call has one inbound leg at most, on its A side: one far party must be able to
            // take the transferor's place in the other's call.
            let x_placed = c.placed(x).is_some();
            let y_placed = o.placed(y).is_some();
            if !(r == Side::A || x_placed || side == Side::A || y_placed) {
                return Err(488);
            }
            return Ok(Plan::Attended { call: k, side: r });
        }
        // Blind: routed for the transferor's device.
        let snap = self.snap.clone();
        let conn = c
            .conns
            .iter()
            .find(|k| c.own_side(k) == side)
            .ok_or(403u16)?;
        let to = refer_to.uri.user().unwrap_or_default().to_owned();
        let dialed = route::dialable(&snap.apply_dial_rules(to.trim()));
        if dialed.is_empty() {
            return Err(404);
        }
        let css = snap
            .device(&conn.device)
            .and_then(|d| d.css.clone())
            .unwrap_or_default();
        let (dest, forwarded) =
            route::route(&snap, &css, &conn.dn, &dialed).map_err(|r| r.status)?;
        let targets = self
            .targets_for(now, &dest, forwarded.as_ref())
            .map_err(|r| r.status)?;
        if self.draining || self.calls.len() >= self.cfg.max_calls {
            return Err(503);
        }
        let line = matches!(
            dest,
            Destination::RemoteDestinations { .. } | Destination::Phone { .. }
        );
        Ok(Plan::Blind {
            to,
            targets,
            forwarded,
            line,
        })
    }

    /// A NOTIFY of the REFER subscription in the dialog of `side` of `call` (RFC 3515 §2.4.5):
    /// `status` as a `message/sipfrag` status line; the subscription ends with a final one.
    pub(super) fn refer_notify(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        status: u16,
        last: bool,
    ) {
        let body = format!("SIP/2.0 {status} {}\r\n", Message::default_reason(status));
        let state = if last {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let Some(s) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.session_mut(side, None))
        else {
            return;
        };
        let Ok(mut notify) = s.create_request(Method::Notify) else {
            return;
        };
        let ok = notify.push_header(HeaderName::Event, "refer").is_ok()
            && notify
                .push_header(HeaderName::SubscriptionState, state)
                .is_ok()
            && notify
                .set_body(Some("message/sipfrag;version=2.0"), body.into_bytes())
                .is_ok();
        if ok {
            let _ = s.send_request(now, notify);
        }
        self.pump(now, call);
    }

    /// The far party of the transferor's leg leaves the party it was relayed to: Tether's
    /// hold of it is lifted (a `sendrecv` re-INVITE), the music the transferor's own hold put
    /// on it stops, and it is taken off the relay.
    fn free_from_hold(&mut self, now: Instant, call: u64, transferor: Side, party: Side) {
        let Some(m) = self.calls.get(&call).and_then(|c| c.media.as_ref()) else {
            return;
        };
        let tether_holds = m.held_party == Some((party, false));
        let held_by_transferor = m.held_by == Some(transferor);
        if tether_holds {
            let _ = self.retrieve(now, call, party);
        }
        let port = self.side_port(call, party);
        if let (true, Some(port)) = (held_by_transferor, port) {
            self.out
                .push_back(Output::Media(MediaCommand::StopPlaying { port }));
        }
        if let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) {
            if held_by_transferor {
                m.held_by = None;
            }
        }
        if let Some(port) = port {
            self.out
                .push_back(Output::Media(MediaCommand::Disconnect { port }));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn blind_transfer(
        &mut self,
        now: Instant,
        call: u64,
        t: Side,
        to: &str,
        targets: Targets,
        forwarded: Option<Forwarded>,
        line: bool,
    ) {
        let Some(h) = self.calls.get(&call) else {
            return;
        };
        let Some(x) = h.other_side(t) else {
            return;
        };
        let tconn = h.conns.iter().find(|k| h.own_side(k) == t).cloned();
        let x_number = side_number(h, x);
        let x_display = if x == Side::A {
            h.presented_display.clone()
        } else {
            None
        };
        let x_conns: Vec<Connection> = h
            .conns
            .iter()
            .filter(|k| h.own_side(k) == x)
            .map(|k| Connection {
                role: Role::Calling,
                ..k.clone()
            })
            .collect();
        let (x_leg_id, x_span) = match x {
            Side::A => (
                h.cdr.orig_leg_call_identifier.clone(),
                h.cdr.orig_span.clone(),
            ),
            Side::B(_) => (h.cdr.dest_leg_identifier.clone(), h.cdr.dest_span.clone()),
        };
        let redirect = tconn.as_ref().map(|k| k.dn.clone()).unwrap_or_default();
        self.free_from_hold(now, call, t, x);

        // The new call: the transferee's leg on its A side, the target's legs.
        let id = self.next_call;
        self.next_call += 1;
        self.stats.attempts += 1;
        self.counter += 1;
        let session_id = (self.seed & 0xffff_ffff) << 20 ^ self.counter;
        let mut conns = x_conns;
        if line {
            conns.push(Connection {
                device: targets.dest_device.clone(),
                dn: targets.final_called.clone(),
                role: Role::Called,
            });
        }
        let cdr = Cdr {
            global_call_id: id,
            orig_leg_call_identifier: x_leg_id,
            date_time_origination: self.epoch(now),
            calling_party_number: x_number.clone(),
            original_called_party_number: to.to_owned(),
            final_called_party_number: targets.final_called.clone(),
            last_redirect_dn: redirect,
            orig_device_name: conns
                .iter()
                .find(|k| k.role == Role::Calling)
                .map(|k| k.device.clone())
                .unwrap_or_default(),
            dest_device_name: targets.dest_device.clone(),
            orig_span: x_span,
            ..Cdr::default()
        };
        let new = Call {
            id,
            a: ALeg::Moved,
            b: targets.targets.into_iter().map(PlacedLeg::new).collect(),
            state: CallState::Proceeding,
            winner: None,
            fork: targets.fork,
            started: now,
            answered_at: None,
            presented_calling: x_number.clone(),
            presented_display: x_display,
            cdr,
            media: Some(CallMedia {
                a_port: 0,
                a_offer: None,
                a_local: None,
                a_negotiated: None,
                b: Vec::new(),
                connected: None,
                session_id,
                held_by: None,
                held_party: None,
                pending_offer: None,
                pending_quiet: false,
                a_elsewhere: true,
                relay_broken: false,
            }),
            conns,
            delivered: false,
            network_reached: false,
            released_by: None,
            make_call: None,
            info_queue: VecDeque::new(),
            info_pending: None,
            lent: None,
            conference: None,
            shown_called: None,
            refer: Some((call, t)),
            keys: crate::call::CallKeys::default(),
            dialog_timer: None,
        };
        self.calls.insert(id, new);
        if let Some(h) = self.calls.get_mut(&call) {
            h.conns.retain(|k| h_keeps(k, t, h.winner));
        }
        let Some(d) = self.detach(call, x) else {
            return;
        };
        // The new call's A side is free: it takes the leg.
        let _ = self.attach(now, id, Slot::A, d);
        self.out
            .push_back(Output::Event(CallEvent::Offered { call: id }));
        if let Some(k) = &tconn {
            let kind = DeviceEventKind::Transferred {
                transferred: x_number,
                to: to.to_owned(),
                resulting_call: id,
            };
            self.emit(k, call, kind);
        }
        if let Some(f) = &forwarded {
            self.forwarded(id, f);
        }
        self.start_legs(now, id, 0);
    }

    /// A call a REFER started has its outcome (`status`: the target's answer, or its failure):
    /// the transferor is told, its subscription ends, and it is hung up.
    pub(super) fn refer_outcome(&mut self, now: Instant, refer: (u64, Side), status: u16) {
        let (call, t) = refer;
        self.refer_notify(now, call, t, status, true);
        let other = self.calls.get(&call).and_then(|c| c.other_side(t));
        self.end_call(now, call, other, NORMAL);
    }

    fn attended_transfer(&mut self, now: Instant, h: u64, t: Side, k: u64, r: Side) {
        let (Some(hc), Some(kc)) = (self.calls.get(&h), self.calls.get(&k)) else {
            return;
        };
        let (Some(x), Some(y)) = (hc.other_side(t), kc.other_side(r)) else {
            return;
        };
        let x_number = side_number(hc, x);
        let y_number = side_number(kc, y);
        let tconn = hc.conns.iter().find(|c| hc.own_side(c) == t).cloned();
        let rconn = kc.conns.iter().find(|c| kc.own_side(c) == r).cloned();
        let x_placed = hc.placed(x).is_some();
        // The survivor keeps one far party; the other party's leg takes the transferor's place.
        let (s, rep, o, mover, stay) = if r == Side::A || x_placed {
            (k, r, h, x, y)
        } else {
            (h, t, k, y, x)
        };
        let o_transferor = if o == h { t } else { r };
        let movers_conns: Vec<Connection> = self
            .calls
            .get(&o)
            .map(|c| {
                c.conns
                    .iter()
                    .filter(|k| c.own_side(k) == mover)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        self.free_from_hold(now, o, o_transferor, mover);
        self.free_from_hold(now, s, rep, stay);

        // The transferor hears it worked, and both its legs are hung up.
        self.refer_notify(now, h, t, 200, true);
        self.release(now, h, t, NORMAL);
        self.release(now, k, r, NORMAL);
        if let Some(d) = self.detach(s, rep) {
            self.discard(d);
        }
        let slot = if rep == Side::A { Slot::A } else { Slot::NewB };
        let Some(d) = self.detach(o, mover) else {
            return;
        };
        let mover_port = d.port();
        let Ok(side) = self.attach(now, s, slot, d) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&s) else {
            return;
        };
        if let Side::B(n) = side {
            c.winner = Some(n);
            if let Some(m) = c.media.as_mut() {
                m.connected = Some(n);
            }
        }
        let stay_port = self.side_port(s, stay);
        if let (Some(a), Some(b)) = (mover_port, stay_port) {
            let (a, b) = if side == Side::A { (a, b) } else { (b, a) };
            self.out
                .push_back(Output::Media(MediaCommand::Connect { a, b }));
        }

        // Devices: the transferor's learns it and leaves both calls; the far parties' devices
        // are on the survivor, each by where its leg is.
        let cleared = DeviceEventKind::ConnectionCleared {
            party: Party::Device,
            cause: NORMAL,
        };
        if let Some(tc) = &tconn {
            let kind = DeviceEventKind::Transferred {
                transferred: x_number.clone(),
                to: y_number.clone(),
                resulting_call: s,
            };
            self.emit(tc, h, kind);
            self.emit(tc, h, cleared.clone());
        }
        if let Some(rc) = &rconn {
            self.emit(rc, k, cleared);
        }
        let (x_number, y_number) = if s == k {
            (x_number, y_number)
        } else {
            (y_number, x_number)
        };
        if let Some(c) = self.calls.get_mut(&s) {
            c.conns
                .retain(|k| Some(k) != rconn.as_ref() && Some(k) != tconn.as_ref());
            for mut k in movers_conns {
                k.role = if side == Side::A {
                    Role::Calling
                } else {
                    Role::Called
                };
                c.conns.push(k);
            }
            // Who calls whom now.
            let (a_number, b_number) = if side == Side::A {
                (x_number, y_number)
            } else {
                (y_number, x_number)
            };
            c.presented_calling = a_number;
            c.shown_called = Some(b_number);
            if let Some(tc) = &tconn {
                c.cdr.last_redirect_dn = tc.dn.clone();
            }
        }
        if let Some(c) = self.calls.get_mut(&o) {
            c.conns.clear();
            c.released_by = Some(o_transferor);
        }
        self.finish(now, o, NORMAL);
    }
}

/// The transferor's own connection stays on the REFER's call (the transferee's devices moved).
fn h_keeps(k: &Connection, t: Side, winner: Option<usize>) -> bool {
    match (k.role, t) {
        (Role::Calling, Side::A) => true,
        (Role::Called, Side::B(i)) => winner.unwrap_or(0) == i,
        _ => false,
    }
}
