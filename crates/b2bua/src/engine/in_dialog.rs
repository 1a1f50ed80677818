//! Requests inside calls (BYE, ACK, mid-call requests), CANCEL, and the end of a call with
//! its CDR.

use super::*;

impl Engine {
    // ---- in-dialog -----------------------------------------------------------------------

    pub(super) fn in_dialog_request(
        &mut self,
        now: Instant,
        txn: TxnId,
        req: Message,
        method: Method,
    ) {
        let Some(id) = DialogId::of_received(&req) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            if method != Method::Ack {
                let r = Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                self.respond(now, txn, r);
            }
            return;
        };
        let handled = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            let Some(s) = c.session_mut(side, Some(&id)) else {
                return;
            };
            s.handle_request(now, &req)
        };
        self.pump(now, call);
        match handled {
            Ok(Inbound::Deliver) => {}
            Ok(_) => return, // the dialog layer answered or absorbed it
            Err(_) => {
                // The dialog cannot take it (ended, out of order): answer so the peer's
                // transaction ends and ours does too.
                if method != Method::Ack {
                    let r =
                        Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                    self.respond(now, txn, r);
                }
                return;
            }
        }
        match method {
            Method::Bye => {
                self.answer_in_dialog(now, call, side, &id, &req, 200);
                let cause = reason_cause(&req).unwrap_or(16);
                self.end_call(now, call, Some(side), cause);
            }
            // Mid-call offers: with anchored media Tether answers them itself (hold, resume, a
            // new address or codec on that leg only); without, it cannot carry them.
            Method::Invite | Method::Update => match self.mid_call_offer(call, side, &req) {
                Ok(Some(sdp)) => {
                    self.answer_in_dialog_with(now, call, side, &id, &req, 200, Some(sdp))
                }
                Ok(None) if req.body().is_empty() && method == Method::Update => {
                    self.answer_in_dialog(now, call, side, &id, &req, 200)
                }
                Ok(None) => self.answer_in_dialog(now, call, side, &id, &req, 488),
                Err(code) => self.answer_in_dialog(now, call, side, &id, &req, code),
            },
            Method::Info if !req.body().is_empty() => {
                let code = self.info_digit(now, call, side, &req);
                self.answer_in_dialog(now, call, side, &id, &req, code);
            }
            // Transfers from phones are Tether's own business (RFC 3515, 5589).
            Method::Refer => self.on_refer(now, call, side, &id, &req),
            Method::Info | Method::Notify | Method::Options => {
                self.answer_in_dialog(now, call, side, &id, &req, 200);
            }
            _ => {
                self.answer_in_dialog(now, call, side, &id, &req, 501);
            }
        }
    }

    pub(super) fn answer_in_dialog(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        id: &DialogId,
        req: &Message,
        code: u16,
    ) {
        self.answer_in_dialog_with(now, call, side, id, req, code, None)
    }

    /// [`Engine::answer_in_dialog`] with an SDP body.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn answer_in_dialog_with(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        id: &DialogId,
        req: &Message,
        code: u16,
        sdp: Option<bytes::Bytes>,
    ) {
        if let Some(c) = self.calls.get_mut(&call) {
            if let Some(s) = c.session_mut(side, Some(id)) {
                if let Ok(mut r) = s.create_response(req, code) {
                    if let Some(body) = sdp {
                        let _ = r.set_body(Some("application/sdp"), body);
                    }
                    let _ = s.send_response(now, r);
                }
            }
        }
        self.pump(now, call);
    }

    pub(super) fn on_ack(&mut self, now: Instant, ack: Message) {
        let Some(id) = DialogId::of_received(&ack) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            return;
        };
        let inbound_a = side == Side::A
            && self
                .calls
                .get(&call)
                .is_some_and(|c| c.a.inbound().is_some());
        if inbound_a && !ack.body().is_empty() {
            self.a_media_ack(call, &ack);
        }
        if let Some(s) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.session_mut(side, Some(&id)))
        {
            let _ = s.handle_request(now, &ack);
        }
        self.pump(now, call);
    }

    pub(super) fn on_cancel(&mut self, now: Instant, invite_txn: TxnId) {
        let Some(&(call, Side::A)) = self.by_txn.get(&invite_txn) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(a) = c.a.inbound_mut() else { return };
        if a.final_sent {
            return;
        }
        a.final_sent = true;
        let mut r = Message::response_to(&a.invite, 487, "Request Terminated", Some(&a.tag));
        let _ = r.push_header(HeaderName::Reason, "Q.850;cause=16");
        c.released_by.get_or_insert(Side::A);
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        self.respond(now, invite_txn, r);
        for (i, txn, state) in legs {
            self.drop_leg(now, call, i, txn, state);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.cdr.orig_cause_value = 16;
        }
        self.finish(now, call, 16);
    }

    pub(super) fn a_txn_ended(&mut self, now: Instant, call: u64) {
        // The INVITE server transaction is gone; a call still waiting for A's ACK never gets it.
        let waiting = self.calls.get(&call).is_some_and(|c| {
            c.state == CallState::Proceeding && c.a.inbound().is_some_and(|a| a.final_sent)
        });
        if waiting {
            self.finish(now, call, 16);
        }
    }

    /// One side hung up (or failed after the answer): BYE the other side and finish.
    pub(super) fn end_call(&mut self, now: Instant, call: u64, by: Option<Side>, cause: u8) {
        // In a conference the party that went leaves; the others go on.
        let member = by.filter(|s| {
            self.calls
                .get(&call)
                .is_some_and(|c| c.member(*s).is_some())
        });
        if let Some(side) = member {
            return self.leave_conference(now, call, side, cause, false);
        }
        // A device leg lent to a consultation outlives the call when its far party went.
        self.end_loan(now, call, by);
        if self.conference_ended_by(now, call, by, cause) {
            return;
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state == CallState::Ended {
            return;
        }
        match by {
            Some(Side::A) => c.cdr.orig_cause_value = cause,
            _ => c.cdr.dest_cause_value = cause,
        }
        if let Some(by) = by {
            c.released_by.get_or_insert(by);
        }
        let winner = c.winner;
        let legs: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .map(|(i, l)| (i, l.txn, l.state))
                .collect();
        if by != Some(Side::A) {
            self.release_a(now, call, cause);
        }
        if let Some(w) = winner {
            if by != Some(Side::B(w)) {
                self.release_b(now, call, w, cause);
            }
        }
        self.pump(now, call);
        // Legs still ringing (MakeCall's target when the remote destination hangs up) are
        // cancelled saying why.
        let reason = q850_reason(cause);
        for (i, txn, state) in legs {
            self.drop_placed(now, call, Side::B(i), txn, state, Some(&reason));
        }
        self.finish(now, call, cause);
    }

    /// Hangs the A party up, saying why (RFC 3326): BYE once its dialog exists; a MakeCall leg
    /// still ringing is cancelled.
    pub(super) fn release_a(&mut self, now: Instant, call: u64, cause: u8) {
        let reason = q850_reason(cause);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let ringing = match &mut c.a {
            ALeg::Inbound(a) => {
                if let Some(s) = a.session.as_mut() {
                    bye_with_reason(s, now, &reason);
                }
                None
            }
            ALeg::Placed(l) if l.state.is_live() => Some((l.txn, l.state)),
            ALeg::Placed(l) => {
                if let Some(s) = l.set.as_mut().and_then(|s| s.accepted_mut()) {
                    bye_with_reason(s, now, &reason);
                }
                None
            }

            // A borrowed leg is its owner's to hang up; a moved one is gone from here.
            ALeg::Borrowed { .. } | ALeg::Moved => None,
        };
        if let Some((txn, state)) = ringing {
            self.drop_placed(now, call, Side::A, txn, state, Some(&reason));
        }
        self.pump(now, call);
    }

    /// Hangs up B leg `leg`, which answered, saying why.
    pub(super) fn release_b(&mut self, now: Instant, call: u64, leg: usize, cause: u8) {
        let reason = q850_reason(cause);
        if let Some(s) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.session_mut(Side::B(leg), None))
        {
            bye_with_reason(s, now, &reason);
        }
        self.pump(now, call);
    }

    /// The call is over for good: release channels, write the CDR, forget it.
    pub(super) fn finish(&mut self, now: Instant, call: u64, cause: u8) {
        self.pump(now, call);
        let Some(mut c) = self.calls.remove(&call) else {
            return;
        };
        c.state = CallState::Ended;
        self.return_loan(&c);
        // A transfer a REFER started that never reached its target: the transferor is told.
        let refer = c.refer.take().filter(|_| c.answered_at.is_none());
        if let Some(t) = c.a.take_trunk() {
            self.channels.release(&t);
        }
        for l in &mut c.b {
            if let Some(t) = l.trunk.take() {
                self.channels.release(&t);
            }
        }
        let media = c.media.take();
        self.close_call_media(media);
        let answered = c.answered_at.is_some();
        if answered {
            self.stats.completed += 1;
        } else if c.cdr.orig_cause_value == 16 {
            self.stats.abandoned += 1;
        } else {
            self.stats.failed += 1;
        }
        c.cdr.date_time_disconnect = self.epoch(now);
        if let Some(at) = c.answered_at {
            c.cdr.duration = now.saturating_duration_since(at).as_secs();
        }
        if c.cdr.orig_cause_value == 0 && c.cdr.dest_cause_value == 0 {
            c.cdr.dest_cause_value = cause;
        }
        // Forget the call's dialogs and transactions; in-flight BYEs/CANCELs finish in the
        // transaction layer on their own and their responses are ignored.
        for id in std::mem::take(&mut c.keys.dialogs) {
            if self.by_dialog.get(&id).is_some_and(|v| v.0 == call) {
                self.by_dialog.remove(&id);
            }
        }
        for t in std::mem::take(&mut c.keys.txns) {
            if self.by_txn.get(&t).is_some_and(|v| v.0 == call) {
                self.by_txn.remove(&t);
            }
        }
        self.call_cleared(&c, cause);
        self.out
            .push_back(Output::Event(CallEvent::Released { call, answered }));
        let lent = c.lent.take();
        self.out.push_back(Output::Cdr(Box::new(c.cdr)));
        if let Some(l) = lent {
            // The device's leg ended with this call: so does the consultation over it.
            self.end_call(now, l.to, Some(Side::A), cause);
        }
        if let Some(r) = refer {
            let status = tether_trunk::cause::Q850Cause::new(cause)
                .and_then(tether_trunk::cause::rfc3398::q850_to_sip)
                .unwrap_or(487);
            self.refer_outcome(now, r, status);
        }
    }
}

/// A Reason header value (RFC 3326) for a Q.850 cause.
pub(super) fn q850_reason(cause: u8) -> String {
    let mut v = String::with_capacity(16);
    v.push_str("Q.850;cause=");
    push_decimal(&mut v, u64::from(cause));
    v
}

/// Sends BYE on `s` with a Reason header, unless the dialog is over.
pub(super) fn bye_with_reason(s: &mut Session, now: Instant, reason: &str) {
    if s.is_terminated() {
        return;
    }
    match s.create_request(Method::Bye) {
        Ok(mut bye) => {
            let _ = bye.push_header(HeaderName::Reason, reason);
            let _ = s.send_request(now, bye);
        }
        Err(_) => {
            let _ = s.bye(now);
        }
    }
}
