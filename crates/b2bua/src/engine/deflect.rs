//! DeflectCall (SPEC §2.6): a call still ringing at a device is sent elsewhere. The device's
//! ringing legs are cancelled (`Reason: Q.850;cause=23`, redirection to a new destination),
//! the number is routed through the device's calling search space as the caller's call would
//! be, and new B legs ring it carrying a `Diversion` (RFC 5806, `reason=deflection`) that names
//! the device's DN — never its remote destination. The caller keeps ringing throughout; the
//! deflecting device sees `Diverted` and leaves the call.

use super::*;
use crate::control::{ControlError, ControlOk};

/// Q.850 23: redirection to a new destination.
const REDIRECTED: &str = "Q.850;cause=23";

impl Engine {
    pub(super) fn deflect(
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
        // Only a call ringing at the device: not its own call, not after the answer, not
        // once the caller has had its final response.
        let caller_waiting = match &c.a {
            ALeg::Inbound(a) => !a.final_sent,
            ALeg::Placed(l) => l.state == LegState::Answered,
            ALeg::Borrowed { .. } => true,
            ALeg::Moved => false,
        };
        if conn.role != Role::Called || c.state != CallState::Proceeding || !caller_waiting {
            return Err(ControlError::InvalidCallState);
        }
        let dialed = route::dialable(to.trim());
        if dialed.is_empty() {
            return Err(ControlError::InvalidDestination("no number to call".into()));
        }
        let css = snap
            .device(device)
            .and_then(|d| d.css.clone())
            .unwrap_or_default();
        let (dest, fwd) = route::route(&snap, &css, &c.presented_calling, &dialed)
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;
        let mut t = self
            .targets_for(now, &dest, fwd.as_ref())
            .map_err(|r| ControlError::InvalidDestination(r.detail))?;
        let line = matches!(
            dest,
            Destination::RemoteDestinations { .. } | Destination::Phone { .. }
        );
        // The newest diversion first (RFC 5806 §2): a forward at the new line, then ours.
        let ours = self.diversion(&conn.dn, "deflection");
        for target in &mut t.targets {
            target.diversion = Some(match target.diversion.take() {
                Some(theirs) => [theirs.as_str(), ", ", &ours].concat(),
                None => ours.clone(),
            });
        }

        // The device's ringing legs stop.
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        for (i, txn, state) in legs {
            self.drop_placed(now, call, Side::B(i), txn, state, Some(REDIRECTED));
        }
        self.deflected(call, &conn.dn, to);

        let Some(c) = self.calls.get_mut(&call) else {
            return Ok(ControlOk::Done);
        };
        c.conns.retain(|x| x.role != Role::Called);
        if line {
            c.conns.push(Connection {
                device: t.dest_device.clone(),
                dn: t.final_called.clone(),
                role: Role::Called,
            });
        }
        c.delivered = false;
        c.fork = t.fork;
        c.cdr.last_redirect_dn = conn.dn.clone();
        c.cdr.final_called_party_number = t.final_called;
        c.cdr.dest_device_name = t.dest_device;
        c.cdr.final_mobile_called_party_number.clear();
        let first = c.b.len();
        c.b.extend(t.targets.into_iter().map(PlacedLeg::new));
        if let Some(f) = &fwd {
            self.forwarded(call, f);
        }
        self.start_legs(now, call, first);
        Ok(ControlOk::Done)
    }
}
