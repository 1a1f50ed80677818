//! The responses on the legs Tether placed: provisionals relayed to the caller, the first real
//! answer wins, failures collected until the caller can be told. On a MakeCall call there is no
//! caller to relay to: the remote destination's leg is already up and the target's progress
//! becomes CTI events (`make_call.rs` handles the remote destination's own leg).

use super::*;
use bytes::Bytes;

/// The failure the caller hears when no leg answered (RFC 3261 §16.7 in spirit): a 6xx wins;
/// one leg's own status is passed on; several legs give busy if any was busy, else 480.
pub(super) fn pick_failure(failures: &[(u16, Option<u8>)], fork: bool) -> (u16, Option<u8>) {
    if let Some(f) = failures.iter().find(|(c, _)| *c >= 600) {
        return *f;
    }
    if !fork {
        if let Some(&(code, cause)) = failures.iter().find(|(c, _)| *c != 487) {
            return (normalize(code), cause);
        }
        return failures
            .first()
            .map(|&(c, x)| (normalize(c), x))
            .unwrap_or((480, None));
    }
    if let Some(f) = failures.iter().find(|(c, _)| *c == 486) {
        return *f;
    }
    (480, Some(18))
}

/// Statuses a caller should not see from a B2BUA are mapped to what they mean to it.
fn normalize(code: u16) -> u16 {
    match code {
        401 | 407 => 403,
        408 => 480,
        _ => code,
    }
}

impl Engine {
    pub(super) fn on_response(&mut self, now: Instant, txn: TxnId, resp: Message) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        // AnswerCall's NOTIFY in the early dialog (`answer.rs`).
        if self.is_talk_notify(call, side, txn) {
            return self.talk_notify_done(call, side, resp.status().unwrap_or(0));
        }
        // Responses to requests Tether sent inside an established dialog (re-INVITEs to hold
        // or retrieve, INFO, BYE) belong to that dialog, not to the leg's setup.
        let setup = self.calls.get(&call).is_some_and(|c| {
            c.placed(side)
                .and_then(|l| l.set.as_ref())
                .is_some_and(|s| resp.cseq().map(|q| q.seq) == s.invite().cseq().map(|q| q.seq))
        });
        if !setup {
            return self.on_party_response(now, call, side, &resp);
        }
        let Some(code) = resp.status() else { return };
        let inbound = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            let Some(set) = c.placed_mut(side).and_then(|l| l.set.as_mut()) else {
                return;
            };
            let r = set.handle_response(now, &resp);
            let dialog = set.sessions().last().map(|s| s.id().clone());
            if let Some(id) = dialog {
                if !self.by_dialog.contains_key(&id) {
                    self.by_dialog.insert(id.clone(), (call, side));
                    c.keys.dialogs.push(id);
                }
            }
            r
        };
        if matches!(side, Side::B(_)) && (101..200).contains(&code) && inbound.is_ok() {
            self.note_talk(now, call, side, &resp);
        }
        self.pump(now, call);
        if !matches!(inbound, Ok(Inbound::Deliver)) {
            return;
        }
        let cause = reason_cause(&resp);
        match (side, code) {
            (_, 100) => {}
            (Side::A, 101..=199) => self.rd_leg_progress(now, call, &resp),
            (Side::A, 200..=299) => self.rd_leg_answered(now, call, &resp),
            (Side::A, _) => self.placed_a_failed(now, call, code, cause),
            (Side::B(leg), 101..=199) => self.b_provisional(now, call, leg, &resp),
            (Side::B(leg), 200..=299) => self.b_answered(now, call, leg, &resp),
            (Side::B(leg), _) => self.b_failed(now, call, leg, code, cause),
        }
    }

    pub(super) fn on_stray_response(&mut self, now: Instant, resp: Message) {
        // A 2xx retransmission after the INVITE transaction ended: the dialog re-ACKs it.
        let Some(id) = DialogId::of_received(&resp) else {
            return;
        };
        let Some(&(call, side)) = self.by_dialog.get(&id) else {
            return;
        };
        if let Some(set) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.placed_mut(side))
            .and_then(|l| l.set.as_mut())
        {
            let _ = set.handle_response(now, &resp);
        }
        self.pump(now, call);
    }

    pub(super) fn on_client_failure(&mut self, now: Instant, txn: TxnId, code: u16) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        if self.is_talk_notify(call, side, txn) {
            return self.talk_notify_done(call, side, code);
        }
        // The INVITE of a leg Tether placed timed out or could not be sent: that leg failed.
        let setup_live = self
            .calls
            .get(&call)
            .and_then(|c| c.placed(side))
            .is_some_and(|l| {
                l.txn == Some(txn) && (l.state.is_live() || l.state == LegState::Dropping)
            });
        match side {
            Side::B(leg) if setup_live => self.b_failed(now, call, leg, code, None),
            Side::A if setup_live => self.placed_a_failed(now, call, code, None),
            // A request inside the dialog got no answer: keys waiting for INFO go on.
            Side::B(_) => self.info_answered(now, call, side),
            Side::A => {
                self.info_answered(now, call, side);
                self.end_call(now, call, Some(Side::A), 41);
            }
        }
    }

    /// Makes sure an inbound A leg has a dialog (created with the first provisional or answer
    /// relayed).
    pub(super) fn ensure_a_session(&mut self, call: u64) {
        let rng = self.rng();
        let cfg = self.cfg.sessions.clone();
        let contact = self.contact.clone();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(a) = c.a.inbound_mut() else {
            return;
        };
        if a.session.is_some() {
            return;
        }
        if let Ok(s) = Session::uas(cfg, &a.invite, &a.tag, contact, rng) {
            let id = s.id().clone();
            a.session = Some(s);
            self.by_dialog.insert(id.clone(), (call, Side::A));
            c.keys.dialogs.push(id);
        }
    }

    pub(super) fn b_provisional(&mut self, now: Instant, call: u64, leg: usize, resp: &Message) {
        let code = resp.status().unwrap_or(180);
        let b_media = self.b_media_answer(call, leg, resp);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(l) = c.b.get_mut(leg) {
            if l.state == LegState::Calling {
                l.state = LegState::Early;
            }
        }
        if c.state != CallState::Proceeding {
            return;
        }
        let anchored = c.media.is_some();
        let fork = c.fork;
        let Some(a) = c.a.inbound_mut() else {
            // MakeCall: the remote destination's party hears the target's early media.
            if anchored && b_media && !fork {
                self.a_media_body(call, leg);
            }
            self.out
                .push_back(Output::Event(CallEvent::Alerting { call }));
            self.delivered(call);
            return;
        };
        if a.final_sent {
            return;
        }
        // Relay each provisional code once; with several legs ringing, relay 180 without media.
        let relay_code = if fork { 180 } else { code };
        if a.relayed_18x.contains(&relay_code) && resp.body().is_empty() {
            // The caller heard it already (from this destination or one before a deflection);
            // the device ringing now may not have been told.
            self.delivered(call);
            return;
        }
        a.relayed_18x.push(relay_code);
        let mut body = (!anchored && !fork && !resp.body().is_empty()).then(|| {
            (
                resp.header_value(&HeaderName::ContentType)
                    .map(str::to_owned),
                resp.body().clone(),
            )
        });
        if anchored && b_media && !fork {
            // Early media: the caller hears this leg through Tether.
            body = self
                .a_media_body(call, leg)
                .map(|b| (Some("application/sdp".to_owned()), b));
        }
        self.out
            .push_back(Output::Event(CallEvent::Alerting { call }));
        self.delivered(call);
        self.ensure_a_session(call);
        let Some(a) = self.calls.get_mut(&call).and_then(|c| c.a.inbound_mut()) else {
            return;
        };
        if let Some(s) = a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&a.invite, relay_code) {
                if let Some((ct, b)) = body {
                    let _ = r.set_body(ct.as_deref(), b);
                }
                let _ = s.send_response(now, r);
            }
        }
        self.pump(now, call);
    }

    pub(super) fn b_answered(&mut self, now: Instant, call: u64, leg: usize, resp: &Message) {
        let b_media = self.b_media_answer(call, leg, resp);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        let elapsed = l
            .started_at
            .map(|t| now.saturating_duration_since(t))
            .unwrap_or_default();
        // An answer AnswerCall asked for is a person's, however fast it comes.
        let asked = l.talk.as_ref().is_some_and(|t| t.asked);
        let too_soon = c.fork && elapsed < l.target.answer_too_soon && !asked;
        if c.state != CallState::Proceeding || too_soon || !l.state.is_live() {
            // Another leg won, the call ended, or this answer came too soon to be a person
            // (a voicemail): hang this leg up and keep ringing the others.
            l.state = if too_soon {
                LegState::Failed(480)
            } else {
                LegState::Dropping
            };
            if let Some(s) = l.set.as_mut().and_then(|s| s.accepted_mut()) {
                let _ = s.bye(now);
            }
            if let Some(t) = l.trunk.take() {
                self.channels.release(&t);
            }
            self.pump(now, call);
            self.check_all_failed(now, call);
            return;
        }
        l.state = LegState::Answered;
        c.state = CallState::Answered;
        c.winner = Some(leg);
        c.answered_at = Some(now);
        c.cdr.date_time_connect = 0; // set below with the epoch conversion
        c.cdr.dest_span = l.trunk.clone().unwrap_or_default();
        c.cdr.final_mobile_called_party_number = l.target.rd_number.clone().unwrap_or_default();
        c.cdr.dest_leg_identifier = l
            .set
            .as_ref()
            .and_then(|s| s.invite().call_id().map(str::to_owned))
            .unwrap_or_default();
        let setup = now.saturating_duration_since(c.started);
        // The other legs lose: CANCEL the ringing ones (their 487 closes them).
        let losers: Vec<(usize, Option<TxnId>, LegState)> =
            c.b.iter()
                .enumerate()
                .filter(|(i, o)| *i != leg && o.state.is_live())
                .map(|(i, o)| (i, o.txn, o.state))
                .collect();
        let mut ct = resp
            .header_value(&HeaderName::ContentType)
            .map(str::to_owned);
        let mut body = resp.body().clone();
        if c.media.is_some() {
            // The caller gets Tether's answer (or offer), never the far end's addresses. On a
            // MakeCall call the remote destination's leg is up already and is connected now.
            body = Bytes::new();
            if b_media {
                if let Some(b) = self.a_media_body(call, leg) {
                    body = b;
                    ct = Some("application/sdp".to_owned());
                }
            }
        }
        let connect = self.epoch(now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.cdr.date_time_connect = connect;
        }
        for (i, txn, state) in losers {
            self.drop_leg(now, call, i, txn, state);
        }
        self.stats.answered += 1;
        self.out
            .push_back(Output::Event(CallEvent::Answered { call, setup }));
        self.established(call);
        // A transfer a REFER started reached its target: the transferor is told.
        if let Some(r) = self.calls.get_mut(&call).and_then(|c| c.refer.take()) {
            self.refer_outcome(now, r, 200);
        }
        self.ensure_a_session(call);
        let Some(a) = self.calls.get_mut(&call).and_then(|c| c.a.inbound_mut()) else {
            self.pump(now, call);
            return;
        };
        // An inbound leg answered already (a device leg handed over to a consultation call)
        // has nothing more to hear.
        if a.final_sent {
            self.pump(now, call);
            return;
        }
        if let Some(s) = a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&a.invite, 200) {
                if !body.is_empty() {
                    let _ = r.set_body(ct.as_deref(), body);
                }
                // What the caller may do in the dialog (RFC 3261 §13.3.1.4): REFER, NOTIFY
                // and Replaces among them (transfers Tether carries out itself).
                let _ = r.push_header(HeaderName::Allow, super::ALLOW);
                let _ = r.push_header(HeaderName::Supported, super::SUPPORTED);
                let _ = s.send_response(now, r);
                a.final_sent = true;
            }
        }
        self.pump(now, call);
    }

    /// Stops a leg that lost or timed out: CANCEL if it is ringing, forget it if not started.
    pub(super) fn drop_leg(
        &mut self,
        now: Instant,
        call: u64,
        leg: usize,
        txn: Option<TxnId>,
        state: LegState,
    ) {
        // A leg that lost to another answer says so (RFC 3326), so the far end's phone shows
        // no missed call.
        let answered = self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == CallState::Answered);
        let reason = answered.then_some("SIP;cause=200;text=\"Call completed elsewhere\"");
        self.drop_placed(now, call, Side::B(leg), txn, state, reason);
    }

    /// Stops the leg Tether placed on `side`: CANCEL (with `reason`) if it is ringing, forget it
    /// if it was not started.
    pub(super) fn drop_placed(
        &mut self,
        now: Instant,
        call: u64,
        side: Side,
        txn: Option<TxnId>,
        state: LegState,
        reason: Option<&str>,
    ) {
        let Some(l) = self.calls.get_mut(&call).and_then(|c| c.placed_mut(side)) else {
            return;
        };
        match state {
            LegState::Waiting => l.state = LegState::Failed(487),
            LegState::Calling | LegState::Early => {
                l.state = LegState::Dropping;
                if let Some(t) = txn {
                    let _ = self.txn.cancel_with_reason(now, t, reason);
                }
            }
            _ => {}
        }
        self.drain(now);
    }

    pub(super) fn b_failed(
        &mut self,
        now: Instant,
        call: u64,
        leg: usize,
        code: u16,
        cause: Option<u8>,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        let was_winner = c.winner == Some(leg);
        let (code, cause) = if l.no_answer && code == 487 {
            (480, Some(19)) // Q.850 19: no answer from user (user alerted)
        } else {
            (code, cause)
        };
        l.state = LegState::Failed(code);
        l.cause = cause;
        if let Some(t) = l.trunk.take() {
            self.channels.release(&t);
        }
        if was_winner {
            // The answered leg's INVITE transaction failed after the answer (rare): end it.
            self.end_call(
                now,
                call,
                Some(Side::B(leg)),
                cause.unwrap_or_else(|| sip_to_q850(code)),
            );
            return;
        }
        self.check_all_failed(now, call);
    }

    /// When no leg can answer any more, the caller gets the failure (on a MakeCall call, the
    /// remote destination's leg is hung up).
    pub(super) fn check_all_failed(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        if c.state != CallState::Proceeding
            || c.b.is_empty()
            || c.b.iter().any(|l| l.state.is_live())
        {
            return;
        }
        let final_sent = c.a.inbound().is_some_and(|a| a.final_sent);
        if c.b.iter().any(|l| l.state == LegState::Dropping) && !final_sent {
            // Legs being cancelled for timing reasons: their 487 comes next.
            if c.b
                .iter()
                .any(|l| l.state == LegState::Dropping && l.txn.is_some())
            {
                return;
            }
        }
        let failures: Vec<(u16, Option<u8>)> =
            c.b.iter()
                .filter_map(|l| match l.state {
                    LegState::Failed(code) => Some((code, l.cause)),
                    _ => None,
                })
                .collect();
        let (status, cause) = pick_failure(&failures, c.fork);
        let q850 = cause.unwrap_or_else(|| sip_to_q850(status));
        let refusal = c.a.inbound().filter(|a| !a.final_sent).map(|a| {
            let reason = Message::default_reason(status);
            let mut r = Message::response_to(&a.invite, status, reason, Some(&a.tag));
            let _ = r.push_header(HeaderName::Reason, &format!("Q.850;cause={q850}"));
            (a.txn, r)
        });
        // MakeCall's remote destination, or a device leg a consultation call took over: the
        // leg is up and is hung up.
        let placed = c.a.placed().is_some()
            || c.a.inbound().is_some_and(|a| {
                a.final_sent
                    && a.session.as_ref().is_some_and(|s| {
                        s.dialog().state() == tether_sip::dialog::DialogState::Confirmed
                    })
            });
        self.extension_failed(call, q850);
        if let Some((txn, r)) = refusal {
            self.respond(now, txn, r);
        }
        if placed {
            // MakeCall: the target cannot be reached; the remote destination is hung up.
            self.release_a(now, call, q850);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            if let Some(a) = c.a.inbound_mut() {
                a.final_sent = true;
            }
            c.cdr.dest_cause_value = q850;
        }
        self.finish(now, call, q850);
    }

    pub(super) fn answer_too_late(&mut self, now: Instant, call: u64, side: Side) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(l) = c.placed(side) else { return };
        if c.state != CallState::Proceeding
            || !matches!(l.state, LegState::Calling | LegState::Early)
        {
            return;
        }
        let txn = l.txn;
        let state = l.state;
        if let Some(l) = self.calls.get_mut(&call).and_then(|c| c.placed_mut(side)) {
            l.no_answer = true;
        }
        match side {
            Side::B(leg) => self.drop_leg(now, call, leg, txn, state),
            Side::A => self.drop_placed(now, call, side, txn, state, None),
        }
    }
}
