//! ClearConnection (SPEC §2.4): a CTI application ends a device's connection, and with it the
//! call (every call here has two parties). Before an answer the legs Tether placed are
//! cancelled; an inbound caller still waiting gets a final response — 487 when it is the
//! device's own call being abandoned, 480 when the called device refuses it; after an answer
//! both parties get a BYE. Every CANCEL and BYE says why: `Reason: Q.850;cause=16`.

use super::in_dialog::q850_reason;
use super::*;
use crate::control::{ControlError, ControlOk};

/// Q.850 16: normal call clearing.
const NORMAL: u8 = 16;

impl Engine {
    pub(super) fn clear_connection(
        &mut self,
        now: Instant,
        call: u64,
        device: &str,
    ) -> Result<ControlOk, ControlError> {
        let c = self.calls.get(&call).ok_or(ControlError::InvalidCallId)?;
        let conn = c.connection(device).ok_or(ControlError::InvalidCallId)?;
        if c.conference.is_some() {
            // The device's party leaves the conference; the others go on.
            let side = c
                .conference
                .iter()
                .flat_map(|k| &k.members)
                .find(|m| m.device.as_deref() == Some(device))
                .map(|m| m.side)
                .ok_or(ControlError::InvalidCallId)?;
            self.leave_conference(now, call, side, NORMAL, true);
            return Ok(ControlOk::Done);
        }
        let own = match conn.role {
            Role::Calling => Side::A,
            Role::Called => c.winner.map_or(Side::B(0), Side::B),
        };
        if c.state == CallState::Answered {
            // A held call whose device leg serves a consultation: that leg goes on in the
            // consultation, the held party is hung up.
            self.end_loan(now, call, None);
            // Both parties hang up: the device's own leg first, then the other one.
            match own {
                Side::A => self.release_a(now, call, NORMAL),
                Side::B(w) => self.release_b(now, call, w, NORMAL),
            }
            self.end_call(now, call, Some(own), NORMAL);
            return Ok(ControlOk::Done);
        }
        self.clear_unanswered(now, call, own);
        Ok(ControlOk::Done)
    }

    /// Ends a call before its answer on behalf of the device on side `by`: every ringing leg
    /// is cancelled, an inbound caller still waiting is answered (487 if it is the one
    /// clearing, else 480), MakeCall's remote destination is cancelled or hung up.
    fn clear_unanswered(&mut self, now: Instant, call: u64, by: Side) {
        let reason = q850_reason(NORMAL);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.released_by.get_or_insert(by);
        match by {
            Side::A => c.cdr.orig_cause_value = NORMAL,
            Side::B(_) => c.cdr.dest_cause_value = NORMAL,
        }
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        match c.a.inbound_mut() {
            Some(a) if !a.final_sent => {
                a.final_sent = true;
                let (status, text) = match by {
                    Side::A => (487, "Request Terminated"),
                    Side::B(_) => (480, "Temporarily Unavailable"),
                };
                let mut r = Message::response_to(&a.invite, status, text, Some(&a.tag));
                let _ = r.push_header(HeaderName::Reason, &reason);
                let txn = a.txn;
                self.respond(now, txn, r);
            }
            Some(_) => {}
            None => self.release_a(now, call, NORMAL),
        }
        for (i, txn, state) in legs {
            self.drop_placed(now, call, Side::B(i), txn, state, Some(&reason));
        }
        self.finish(now, call, NORMAL);
    }
}
