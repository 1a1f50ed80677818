//! TransferCall (SPEC §2.8, consult transfer's last step): the device's held party X and the
//! party it consulted, Y, are joined and the device leaves both calls.
//!
//! X is retrieved (a `sendrecv` re-INVITE, the music stops), the device's leg is hung up
//! (`Reason: Q.850;cause=16`) and X's leg moves into the consultation call in place of the
//! borrowed device leg ([`super::handover`]), where its media is relayed to Y's. Neither X nor Y
//! gets a new INVITE; each keeps its dialog.
//!
//! Records: the held call ends at the transfer with its own CDR (the device's side released,
//! cause 16) and its call id is gone; the joined call goes on under the consultation call's
//! global call id, and its CDR — written when X or Y hangs up — names X as the calling party
//! (number, device, leg, span) and the device's DN as the last redirecting number, keeps Y as
//! the called party and the consultation's origination and connect times.

use super::handover::Slot;
use super::*;
use crate::call::Lent;
use crate::control::{ControlError, ControlOk, DeviceEventKind, Party};
use crate::media::MediaCommand;

/// Q.850 16: normal call clearing.
const NORMAL: u8 = 16;

/// What joining a held call's far party with its consultation's needs, checked.
pub(super) struct Join {
    /// The device's connections to the held call and to the consultation.
    pub hconn: Connection,
    pub cconn: Connection,
    /// The device's leg in the held call.
    pub lent: Lent,
    /// The held party's side in the held call, and whether Tether holds it.
    pub x_side: Side,
    pub x_held: bool,
    /// The consulted party's B leg and port.
    pub y: usize,
    pub y_port: Option<u16>,
    /// The two parties as the device saw them.
    pub x_number: String,
    pub y_number: String,
    pub x_display: Option<String>,
    /// The held party's leg id and span (its CDR identity).
    pub x_leg_id: String,
    pub x_span: String,
    /// The other devices: the held party's (now calling the joined call) and the consulted
    /// party's.
    pub x_conns: Vec<Connection>,
    pub y_conns: Vec<Connection>,
}

impl Engine {
    /// Checks that `active` is the answered, active consultation over `held`'s device leg.
    pub(super) fn joinable(
        &self,
        held: u64,
        active: u64,
        device: &str,
    ) -> Result<Join, ControlError> {
        let h = self.calls.get(&held).ok_or(ControlError::InvalidCallId)?;
        let hconn = h
            .connection(device)
            .ok_or(ControlError::InvalidCallId)?
            .clone();
        let c = self.calls.get(&active).ok_or(ControlError::InvalidCallId)?;
        let cconn = c
            .connection(device)
            .ok_or(ControlError::InvalidCallId)?
            .clone();
        let lent = h
            .lent
            .filter(|l| l.to == active)
            .ok_or(ControlError::InvalidCallState)?;
        if c.state != CallState::Answered
            || c.a.borrowed() != Some((held, lent.side))
            || h.conference.is_some()
        {
            return Err(ControlError::InvalidCallState);
        }
        let x_side = h
            .other_side(lent.side)
            .ok_or(ControlError::InvalidCallState)?;
        let y = c.winner.ok_or(ControlError::InvalidCallState)?;
        let hm = h.media.as_ref().ok_or(ControlError::MediaNotAnchored)?;
        let cm = c.media.as_ref().ok_or(ControlError::MediaNotAnchored)?;
        if hm.pending_offer.is_some() || cm.pending_offer.is_some() {
            return Err(ControlError::RequestInProgress);
        }
        if cm.held_party.is_some() || cm.held_by.is_some() {
            // The consultation must be the active call.
            return Err(ControlError::InvalidCallState);
        }
        let (x_leg_id, x_span) = match x_side {
            Side::A => (
                h.cdr.orig_leg_call_identifier.clone(),
                h.cdr.orig_span.clone(),
            ),
            Side::B(_) => (h.cdr.dest_leg_identifier.clone(), h.cdr.dest_span.clone()),
        };
        Ok(Join {
            x_held: hm.held_party == Some((x_side, false)),
            y_port: cm.b.get(y).and_then(Option::as_ref).map(|b| b.port),
            x_number: h.other_number(&hconn),
            y_number: c.other_number(&cconn),
            x_display: if x_side == Side::A {
                h.presented_display.clone()
            } else {
                None
            },
            x_conns: h
                .conns
                .iter()
                .filter(|k| k.device != device)
                .map(|k| Connection {
                    role: Role::Calling,
                    ..k.clone()
                })
                .collect(),
            y_conns: c
                .conns
                .iter()
                .filter(|k| k.device != device)
                .cloned()
                .collect(),
            hconn,
            cconn,
            lent,
            x_side,
            y,
            x_leg_id,
            x_span,
        })
    }

    pub(super) fn transfer_call(
        &mut self,
        now: Instant,
        held: u64,
        active: u64,
        device: &str,
    ) -> Result<ControlOk, ControlError> {
        let Join {
            hconn,
            cconn,
            lent,
            x_side,
            x_held,
            y: _,
            y_port,
            x_number: transferred,
            y_number: to,
            x_display,
            x_leg_id,
            x_span,
            x_conns,
            y_conns,
        } = self.joinable(held, active, device)?;

        // 1. X is retrieved: sendrecv re-INVITE, the music stops.
        if x_held {
            self.retrieve(now, held, x_side)
                .map_err(super::control::hold_error)?;
        }
        // 2. X's leg leaves the held call for the consultation call, in place of the device's
        //    borrowed leg, and is relayed to Y.
        if let Some(h) = self.calls.get_mut(&held) {
            h.lent = None;
        }
        let d = self
            .detach(held, x_side)
            .ok_or(ControlError::InvalidCallState)?;
        let x_port = d.port();
        // The consultation call was checked above: it takes the leg.
        let _ = self.attach(now, active, Slot::A, d);
        if let (Some(a), Some(b)) = (x_port, y_port) {
            self.out
                .push_back(Output::Media(MediaCommand::Connect { a, b }));
        }
        // 3. The device's leg is hung up.
        match lent.side {
            Side::A => self.release_a(now, held, NORMAL),
            Side::B(w) => self.release_b(now, held, w, NORMAL),
        }

        // 4. Every device on the two calls learns it; the transferring one leaves both.
        let kind = DeviceEventKind::Transferred {
            transferred: transferred.clone(),
            to,
            resulting_call: active,
        };
        self.emit(&hconn, held, kind.clone());
        for k in &x_conns {
            self.emit(k, held, kind.clone());
        }
        for k in &y_conns {
            self.emit(k, active, kind.clone());
        }
        let cleared = DeviceEventKind::ConnectionCleared {
            party: Party::Device,
            cause: NORMAL,
        };
        self.emit(&hconn, held, cleared.clone());
        self.emit(&cconn, active, cleared);

        // 5. The joined call names X as its caller; the held call ends.
        if let Some(c) = self.calls.get_mut(&active) {
            c.conns = x_conns;
            c.conns.extend(y_conns);
            c.presented_calling = transferred.clone();
            c.presented_display = x_display;
            c.cdr.calling_party_number = transferred;
            c.cdr.orig_device_name = c
                .conns
                .iter()
                .find(|k| k.role == Role::Calling)
                .map(|k| k.device.clone())
                .unwrap_or_default();
            c.cdr.orig_leg_call_identifier = x_leg_id;
            c.cdr.orig_span = x_span;
            c.cdr.last_redirect_dn = hconn.dn.clone();
            c.cdr.mobile_calling_party_number.clear();
        }
        if let Some(h) = self.calls.get_mut(&held) {
            h.conns.clear();
            h.released_by = Some(lent.side);
            match lent.side {
                Side::A => h.cdr.orig_cause_value = NORMAL,
                Side::B(_) => h.cdr.dest_cause_value = NORMAL,
            }
        }
        self.finish(now, held, NORMAL);
        Ok(ControlOk::Done)
    }
}
