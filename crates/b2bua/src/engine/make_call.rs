//! MakeCall = Dial Via Office reverse (SPEC §2.3): third-party call control after RFC 3725
//! with media anchored on Tether.
//!
//! Tether calls the device's active remote destination first — routed exactly as an inbound
//! call is extended to it (the device's reroute CSS after the application dial rules), showing
//! `Voice Connect` and the trunk's DID — with its own offer on the call's A port. When the
//! remote destination answers, Tether calls the target through the device's CSS, showing the
//! device's display name and DN, with its own offer on a B port; when the target answers (or
//! sends early media) the two ports are relayed. Because Tether terminates media on each leg,
//! every offer and answer stays on its own leg: no re-INVITE is needed, the remote destination
//! never waits for the target's SDP (the weakness of RFC 3725's flow I), and the target's codec
//! may differ from the remote destination's (the media engine transcodes G.711).
//!
//! The call is one call attempt (one CDR, `Stats::attempts`) and two outbound calls
//! (`Stats::outbound_attempts`, the seed's BHCA rule). Without anchored media MakeCall is
//! refused (`MediaNotAnchored`).

use super::*;
use crate::call::{LegTarget, MakeCallTarget};
use crate::control::{ControlError, ControlOk};
use tether_store::model::DeviceKind;

impl Engine {
    /// Starts a MakeCall for `device` to `to`.
    pub(super) fn make_call(
        &mut self,
        now: Instant,
        device: &str,
        to: &str,
    ) -> Result<ControlOk, ControlError> {
        let snap = self.snap.clone();
        let dev = snap
            .device(device)
            .filter(|d| d.kind == DeviceKind::CtiRemoteDevice)
            .ok_or(ControlError::InvalidDevice)?;
        let line = snap
            .lines_of(device)
            .min_by_key(|l| l.position)
            .ok_or(ControlError::InvalidDevice)?;
        let rd = snap
            .remote_destinations_of(device)
            .find(|r| r.active)
            .ok_or(ControlError::ActiveRdNotSet)?;
        if !self.media_on() {
            return Err(ControlError::MediaNotAnchored);
        }
        if self.draining || self.calls.len() >= self.cfg.max_calls {
            return Err(ControlError::ResourceBusy);
        }
        let reroute = dev.reroute_css.as_deref().ok_or_else(|| {
            ControlError::InvalidDestination(
                "the device has no reroute calling search space".into(),
            )
        })?;
        let rd_target = route::rd_target(&snap, reroute, rd, &line.dn, false)
            .map_err(ControlError::InvalidDestination)?;
        // The target: through the device's CSS after the application dial rules, checked now
        // so that an unroutable number is refused before the remote destination rings.
        let dialed = route::dialable(&snap.apply_dial_rules(to.trim()));
        if dialed.is_empty() {
            return Err(ControlError::InvalidDestination("no number to call".into()));
        }
        let css = dev.css.clone().unwrap_or_default();
        let (dest, fwd) = route::route(&snap, &css, &line.dn, &dialed)
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;
        self.targets_for(now, &dest, fwd.as_ref())
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;

        let id = self.next_call;
        let media = self
            .open_call_media(id, None)
            .map_err(|()| ControlError::ResourceBusy)?;
        self.next_call += 1;
        self.stats.attempts += 1;
        let display = callerid::device_display(&snap, device);
        let cdr = Cdr {
            global_call_id: id,
            date_time_origination: self.epoch(now),
            calling_party_number: line.dn.clone(),
            original_called_party_number: to.to_owned(),
            final_called_party_number: dialed.clone(),
            orig_device_name: device.to_owned(),
            mobile_calling_party_number: rd.number.clone(),
            ..Cdr::default()
        };
        let rd_leg = PlacedLeg::new(LegTarget {
            user: rd_target.dialed,
            trunks: rd_target.trunks,
            contact: None,
            rd: Some(rd_target.rd),
            rd_number: Some(rd_target.number),
            delay: std::time::Duration::ZERO,
            answer_too_soon: std::time::Duration::ZERO,
            answer_too_late: Some(rd_target.answer_too_late),
            diversion: None,
        });
        let call = Call {
            id,
            a: ALeg::Placed(rd_leg),
            b: Vec::new(),
            state: CallState::Proceeding,
            winner: None,
            fork: false,
            started: now,
            answered_at: None,
            presented_calling: line.dn.clone(),
            presented_display: display,
            cdr,
            media,
            conns: vec![Connection {
                device: device.to_owned(),
                dn: line.dn.clone(),
                role: Role::Calling,
            }],
            delivered: false,
            network_reached: false,
            released_by: None,
            make_call: Some(MakeCallTarget {
                to: to.to_owned(),
                dialed,
                css,
            }),
            info_queue: VecDeque::new(),
            info_pending: None,
            lent: None,
            conference: None,
            shown_called: None,
            refer: None,
            keys: crate::call::CallKeys::default(),
            dialog_timer: None,
        };
        self.calls.insert(id, call);
        self.out
            .push_back(Output::Event(CallEvent::Offered { call: id }));
        self.service_initiated(id);
        self.place_leg(now, id, Side::A);
        Ok(ControlOk::Call(id))
    }

    /// A provisional from the remote destination: it rings (its early media, if any, is
    /// taken as its answer to Tether's offer).
    pub(super) fn rd_leg_progress(&mut self, _now: Instant, call: u64, resp: &Message) {
        self.placed_a_media_answer(call, resp);
        if let Some(l) = self.calls.get_mut(&call).and_then(|c| c.a.placed_mut()) {
            if l.state == LegState::Calling {
                l.state = LegState::Early;
            }
        }
    }

    /// The remote destination answered: the device's user is on the line. Tether now calls
    /// the target.
    pub(super) fn rd_leg_answered(&mut self, now: Instant, call: u64, resp: &Message) {
        self.placed_a_media_answer(call, resp);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.a.placed_mut() else { return };
        if !(l.state.is_live() || l.state == LegState::Dropping) {
            return;
        }
        l.state = LegState::Answered;
        let Some(target) = c.make_call.clone() else {
            return;
        };
        self.call_originated(call);
        let snap = self.snap.clone();
        let calling = self
            .calls
            .get(&call)
            .map(|c| c.presented_calling.clone())
            .unwrap_or_default();
        let routed =
            route::route(&snap, &target.css, &calling, &target.dialed).and_then(|(dest, fwd)| {
                let t = self.targets_for(now, &dest, fwd.as_ref())?;
                let line = matches!(
                    dest,
                    Destination::RemoteDestinations { .. } | Destination::Phone { .. }
                );
                Ok((t, fwd, line))
            });
        let (t, fwd, line) = match routed {
            Ok(x) => x,
            Err(r) => {
                // The target cannot be reached any more (provisioning or registrations changed
                // since the request was accepted).
                self.extension_failed(call, r.cause);
                self.release_a(now, call, r.cause);
                if let Some(c) = self.calls.get_mut(&call) {
                    c.cdr.dest_cause_value = r.cause;
                }
                self.finish(now, call, r.cause);
                return;
            }
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.cdr.final_called_party_number = t.final_called.clone();
        c.cdr.dest_device_name = t.dest_device.clone();
        if let Some(f) = &fwd {
            c.cdr.last_redirect_dn = f.dn.clone();
        }
        if line {
            c.conns.push(Connection {
                device: t.dest_device,
                dn: t.final_called,
                role: Role::Called,
            });
        }
        c.fork = t.fork;
        c.b = t.targets.into_iter().map(PlacedLeg::new).collect();
        if let Some(f) = &fwd {
            self.forwarded(call, f);
        }
        self.start_legs(now, call, 0);
    }

    /// MakeCall's leg to the remote destination failed before an answer (busy, no answer,
    /// refused, cancelled for ringing too long): the call fails.
    pub(super) fn placed_a_failed(
        &mut self,
        now: Instant,
        call: u64,
        code: u16,
        cause: Option<u8>,
    ) {
        let Some(l) = self.calls.get_mut(&call).and_then(|c| c.a.placed_mut()) else {
            return;
        };
        if !(l.state.is_live() || l.state == LegState::Dropping) {
            return;
        }
        let (code, cause) = if l.no_answer && code == 487 {
            (480, Some(19)) // Q.850 19: no answer from user (user alerted)
        } else {
            (code, cause)
        };
        l.state = LegState::Failed(code);
        l.cause = cause;
        self.rd_leg_failed(now, call);
    }

    /// The remote destination's leg is in a failed state: report it and end the call.
    pub(super) fn rd_leg_failed(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.a.placed_mut() else { return };
        let LegState::Failed(code) = l.state else {
            return;
        };
        let q850 = l.cause.unwrap_or_else(|| sip_to_q850(code));
        if let Some(t) = l.trunk.take() {
            self.channels.release(&t);
        }
        c.cdr.orig_cause_value = q850;
        self.failed(call, Side::A, q850);
        self.finish(now, call, q850);
    }
}
