//! ConsultationCall (SPEC §2.8, consult transfer's first step): the device's far party is held
//! and Tether calls a new number over the device's *same* leg, which the held call lends to the
//! consultation call (ownership rules in [`crate::call`]).
//!
//! The consultation call is a call of its own (its global call id, its CDR, one call attempt
//! and one outbound call in the counters) whose A side is [`ALeg::Borrowed`]: its media is the
//! device leg's RTP port, taken off the relay to the held party and relayed to the target once
//! the target sends media. When it ends — cleared by the device, by the target, or failed — the
//! loan ends with it: the device's leg stays in the held call, unconnected, until the device
//! retrieves the held party. When the held call ends first, [`Engine::end_loan`] decides: the
//! device's leg gone means the consultation ends too; the held party gone means the device's
//! leg is handed over to the consultation call, which goes on as an ordinary call.

use super::handover::Slot;
use super::*;
use crate::call::Lent;
use crate::control::{ControlError, ControlOk};
use crate::media::{CallMedia, MediaCommand};

impl Engine {
    pub(super) fn consultation_call(
        &mut self,
        now: Instant,
        call: u64,
        device: &str,
        to: &str,
    ) -> Result<ControlOk, ControlError> {
        let snap = self.snap.clone();
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        let conn = c
            .connection(device)
            .ok_or(ControlError::InvalidCallId)?
            .clone();
        let m = c.media.as_ref().ok_or(ControlError::MediaNotAnchored)?;
        // Only an answered call that owns both its legs and lends nothing yet.
        if c.state != CallState::Answered || !c.a.is_own() || c.lent.is_some() {
            return Err(ControlError::InvalidCallState);
        }
        if m.pending_offer.is_some() {
            return Err(ControlError::RequestInProgress);
        }
        // In a conference the device's leg just leaves the mix (the others go on talking);
        // in a two-party call its far party is held.
        let conference = c.conference.as_ref();
        let (own, hold) = match conference {
            Some(k) => {
                let own = k
                    .members
                    .iter()
                    .find(|m| m.device.as_deref() == Some(device))
                    .map(|m| m.side)
                    .ok_or(ControlError::InvalidCallId)?;
                (own, None)
            }
            None => {
                let own = c.own_side(&conn);
                let far = c.other_side(own).ok_or(ControlError::InvalidCallState)?;
                let hold = match m.held_party {
                    None => Some(far),
                    Some((s, false)) if s == far => None,
                    Some((_, true)) => return Err(ControlError::RequestInProgress),
                    Some(_) => return Err(ControlError::InvalidCallState),
                };
                (own, hold)
            }
        };
        let in_conference = conference.is_some();
        let (port, local, negotiated) = match own {
            Side::A => (m.a_port, m.a_local.clone(), m.a_negotiated),
            Side::B(i) => {
                let b =
                    m.b.get(i)
                        .and_then(Option::as_ref)
                        .ok_or(ControlError::InvalidCallState)?;
                (b.port, Some(b.offer.clone()), b.negotiated)
            }
        };
        // The device leg's identity for the consultation's CDR.
        let (leg_id, span, mobile) = match own {
            Side::A => (
                c.cdr.orig_leg_call_identifier.clone(),
                c.cdr.orig_span.clone(),
                c.cdr.mobile_calling_party_number.clone(),
            ),
            Side::B(_) => (
                c.cdr.dest_leg_identifier.clone(),
                c.cdr.dest_span.clone(),
                c.cdr.final_mobile_called_party_number.clone(),
            ),
        };

        // The target, as MakeCall's: refused now if it cannot be routed.
        let dialed = route::dialable(&snap.apply_dial_rules(to.trim()));
        if dialed.is_empty() {
            return Err(ControlError::InvalidDestination("no number to call".into()));
        }
        let css = snap
            .device(device)
            .and_then(|d| d.css.clone())
            .unwrap_or_default();
        let (dest, fwd) = route::route(&snap, &css, &conn.dn, &dialed)
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;
        let t = self
            .targets_for(now, &dest, fwd.as_ref())
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;
        let line = matches!(
            dest,
            Destination::RemoteDestinations { .. } | Destination::Phone { .. }
        );
        if self.draining || self.calls.len() >= self.cfg.max_calls {
            return Err(ControlError::ResourceBusy);
        }

        // 1. The far party is held; the device's leg leaves the relay (or the mix).
        if let Some(far) = hold {
            self.hold(now, call, far)
                .map_err(super::control::hold_error)?;
        }
        self.out.push_back(Output::Media(if in_conference {
            MediaCommand::Unmix { port }
        } else {
            MediaCommand::Disconnect { port }
        }));
        let id = self.next_call;
        self.next_call += 1;
        self.stats.attempts += 1;
        self.counter += 1;
        let session_id = (self.seed & 0xffff_ffff) << 20 ^ self.counter;
        if let Some(c) = self.calls.get_mut(&call) {
            c.lent = Some(Lent { to: id, side: own });
            if let Some(m) = c.media.as_mut() {
                m.relay_broken = true;
            }
        }
        // The device leg's keys and media notices now concern the consultation.
        self.by_port.insert(port, id);

        // 2. The consultation call, over the borrowed leg.
        let cdr = Cdr {
            global_call_id: id,
            orig_leg_call_identifier: leg_id,
            date_time_origination: self.epoch(now),
            calling_party_number: conn.dn.clone(),
            original_called_party_number: to.to_owned(),
            final_called_party_number: t.final_called.clone(),
            last_redirect_dn: fwd.as_ref().map(|f| f.dn.clone()).unwrap_or_default(),
            orig_device_name: device.to_owned(),
            dest_device_name: t.dest_device.clone(),
            orig_span: span,
            mobile_calling_party_number: mobile,
            ..Cdr::default()
        };
        let mut conns = vec![Connection {
            device: device.to_owned(),
            dn: conn.dn.clone(),
            role: Role::Calling,
        }];
        if line {
            conns.push(Connection {
                device: t.dest_device.clone(),
                dn: t.final_called.clone(),
                role: Role::Called,
            });
        }
        let consult = Call {
            id,
            a: ALeg::Borrowed {
                owner: call,
                side: own,
            },
            b: t.targets.into_iter().map(PlacedLeg::new).collect(),
            state: CallState::Proceeding,
            winner: None,
            fork: t.fork,
            started: now,
            answered_at: None,
            presented_calling: conn.dn.clone(),
            presented_display: callerid::device_display(&snap, device),
            cdr,
            media: Some(CallMedia {
                a_port: port,
                a_offer: None,
                a_local: local,
                a_negotiated: negotiated,
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
            refer: None,
            keys: crate::call::CallKeys::default(),
            dialog_timer: None,
        };
        self.calls.insert(id, consult);
        self.out
            .push_back(Output::Event(CallEvent::Offered { call: id }));
        self.service_initiated(id);
        self.call_originated(id);
        if let Some(f) = &fwd {
            self.forwarded(id, f);
        }
        self.start_legs(now, id, 0);
        Ok(ControlOk::Call(id))
    }

    /// `call` is ending (or its device clears it) while it lends its device leg; `by` is the
    /// side that went away, if one did. The device's leg itself gone: nothing to do here (the
    /// consultation ends with the call, see [`Engine::finish`]). Otherwise the leg is handed
    /// over to the consultation call, which owns it from now on.
    pub(super) fn end_loan(&mut self, now: Instant, call: u64, by: Option<Side>) {
        let Some(lent) = self.calls.get(&call).and_then(|c| c.lent) else {
            return;
        };
        if by == Some(lent.side) {
            return;
        }
        let borrower_ok = self
            .calls
            .get(&lent.to)
            .is_some_and(|c| c.a.borrowed() == Some((call, lent.side)));
        if !borrower_ok {
            return;
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.lent = None;
        }
        let Some(d) = self.detach(call, lent.side) else {
            return;
        };
        // The borrower was checked above: it takes the leg.
        let _ = self.attach(now, lent.to, Slot::A, d);
    }

    /// `c` (being finished) borrowed its device leg: the leg stays with its owner, whose
    /// media notices and keys are its own again.
    pub(super) fn return_loan(&mut self, c: &Call) {
        let Some((owner, _)) = c.a.borrowed() else {
            return;
        };
        let Some(o) = self.calls.get_mut(&owner) else {
            return;
        };
        if o.lent.is_some_and(|l| l.to == c.id) {
            o.lent = None;
            if let Some(m) = &c.media {
                self.by_port.insert(m.a_port, owner);
            }
        }
    }

    /// The call and side that use the leg on `side` of `call` now: the consultation call's A
    /// side while the leg is lent, else the leg's own.
    pub(super) fn user_of(&self, call: u64, side: Side) -> (u64, Side) {
        match self.calls.get(&call).and_then(|c| c.lent) {
            Some(l) if l.side == side => (l.to, Side::A),
            _ => (call, side),
        }
    }
}
