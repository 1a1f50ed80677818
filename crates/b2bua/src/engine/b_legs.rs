//! The legs Tether starts: the INVITE over the first trunk with a free channel, then the
//! responses: provisionals relayed, the first real answer wins,
//! failures collected until the caller can be told.

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
    /// Sends the INVITE of B leg `leg`: seizes a trunk channel and builds the request.
    pub(super) fn start_leg(&mut self, now: Instant, call: u64, leg: usize) {
        let snap = self.snap.clone();
        let call_id = self.unique("b");
        let from_tag = self.unique("f");
        let rng = self.rng();
        let domain = self.cfg.domain.as_str();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        if l.state != LegState::Waiting || c.state != CallState::Proceeding {
            return;
        }
        // Where to: a registered contact, or the first trunk with a free channel.
        let (uri, peer, trunk) = if let Some((uri, peer)) = &l.target.contact {
            (uri.clone(), *peer, None)
        } else {
            let mut chosen = None;
            let mut full = false;
            for name in &l.target.trunks {
                let Some(t) = snap.data().trunks.get(name) else {
                    continue;
                };
                let Some((ip, port)) = channels::peer_addr(t) else {
                    continue;
                };
                if !self.channels.seize(t) {
                    full = true;
                    continue;
                }
                let port = port.unwrap_or(5060);
                chosen = Some((
                    Uri::sip(Some(&l.target.user), &ip.to_string(), Some(port)),
                    Peer::new(Transport::Udp, std::net::SocketAddr::new(ip, port)),
                    Some(name.clone()),
                ));
                break;
            }
            match chosen {
                Some(x) => x,
                None => {
                    l.state = LegState::Failed(503);
                    l.cause = Some(if full { 34 } else { 38 });
                    self.check_all_failed(now, call);
                    return;
                }
            }
        };
        let mf =
            c.a.invite
                .max_forwards()
                .ok()
                .flatten()
                .unwrap_or(70)
                .saturating_sub(1);
        let mut inv = Message::new_request(Method::Invite, uri.clone());
        let display = c
            .presented_display
            .as_deref()
            .map(|d| format!("\"{}\" ", d.replace('"', "")))
            .unwrap_or_default();
        let from = [
            display.as_str(),
            "<sip:",
            &c.presented_calling,
            "@",
            domain,
            ">;tag=",
            &from_tag,
        ]
        .concat();
        let to_uri = Uri::sip(Some(&l.target.user), uri.host().unwrap_or(domain), None);
        let to = ["<", to_uri.as_str(), ">"].concat();
        let via = via_value(&self.sent_by, peer.transport, None);
        let mut max_forwards = String::with_capacity(3);
        push_decimal(&mut max_forwards, u64::from(mf));
        let ok = inv.push_header(HeaderName::Via, &via).is_ok()
            && inv
                .push_header(HeaderName::MaxForwards, &max_forwards)
                .is_ok()
            && inv.push_header(HeaderName::From, &from).is_ok()
            && inv.push_header(HeaderName::To, &to).is_ok()
            && inv.push_header(HeaderName::CallId, &call_id).is_ok()
            && inv.push_header(HeaderName::CSeq, "1 INVITE").is_ok()
            && inv
                .push_header(HeaderName::Contact, &self.contact_text)
                .is_ok()
            && inv
                .push_header(
                    HeaderName::Allow,
                    "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE",
                )
                .is_ok();
        let mut body = c.a.invite.body().clone();
        let mut ct =
            c.a.invite
                .header_value(&HeaderName::ContentType)
                .map(str::to_owned);
        // Anchored media: Tether's own offer on a port of its own instead of the caller's.
        let mut no_port = false;
        match self.b_offer(call, leg) {
            None => {}
            Some(Some(offer)) => {
                body = offer;
                ct = Some("application/sdp".to_owned());
            }
            Some(None) => no_port = true,
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        if no_port {
            // Q.850 47: resource unavailable (no RTP port left for this leg).
            l.state = LegState::Failed(503);
            l.cause = Some(47);
            if let Some(t) = trunk {
                self.channels.release(&t);
            }
            self.check_all_failed(now, call);
            return;
        }
        let ok = ok && (body.is_empty() || inv.set_body(ct.as_deref(), body).is_ok());
        if !ok {
            l.state = LegState::Failed(500);
            if let Some(t) = trunk {
                self.channels.release(&t);
            }
            self.check_all_failed(now, call);
            return;
        }
        match self.txn.start_client(now, inv.clone(), peer) {
            Ok(t) => {
                let sent = self.txn.request(t).cloned().unwrap_or(inv);
                l.set = Some(DialogSet::new(sent, self.cfg.sessions.clone(), rng));
                l.txn = Some(t);
                l.peer = Some(peer);
                l.trunk = trunk;
                l.state = LegState::Calling;
                l.started_at = Some(now);
                self.stats.outbound_attempts += 1;
                self.out.push_back(Output::Event(CallEvent::LegStarted {
                    call,
                    trunk: l.trunk.clone(),
                }));
                if let Some(late) = l.target.answer_too_late {
                    self.timers
                        .arm(now + late, TimerKind::AnswerTooLate { call, leg });
                }
                self.by_txn.insert(t, (call, Side::B(leg)));
            }
            Err(_) => {
                l.state = LegState::Failed(500);
                if let Some(t) = trunk {
                    self.channels.release(&t);
                }
                self.check_all_failed(now, call);
            }
        }
        self.drain(now);
    }
    // ---- responses on B legs -------------------------------------------------------------

    pub(super) fn on_response(&mut self, now: Instant, txn: TxnId, resp: Message) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        // Responses to requests Tether sent inside an established dialog (re-INVITEs to hold
        // or retrieve, INFO, BYE) belong to that dialog, not to the leg's setup.
        let in_dialog = match side {
            Side::A => true,
            Side::B(leg) => self.calls.get(&call).is_some_and(|c| {
                c.b.get(leg)
                    .and_then(|l| l.set.as_ref())
                    .is_some_and(|s| resp.cseq().map(|q| q.seq) != s.invite().cseq().map(|q| q.seq))
            }),
        };
        if in_dialog {
            return self.on_party_response(now, call, side, &resp);
        }
        let Side::B(leg) = side else { return };
        let Some(code) = resp.status() else { return };
        let inbound = {
            let Some(c) = self.calls.get_mut(&call) else {
                return;
            };
            let Some(l) = c.b.get_mut(leg) else { return };
            let Some(set) = l.set.as_mut() else { return };
            let r = set.handle_response(now, &resp);
            if let Some(s) = set.sessions().last() {
                let id = s.id().clone();
                self.by_dialog.entry(id).or_insert((call, Side::B(leg)));
            }
            r
        };
        self.pump(now, call);
        if !matches!(inbound, Ok(Inbound::Deliver)) {
            return;
        }
        match code {
            100 => {}
            101..=199 => self.b_provisional(now, call, leg, &resp),
            200..=299 => self.b_answered(now, call, leg, &resp),
            _ => {
                let cause = reason_cause(&resp);
                self.b_failed(now, call, leg, code, cause);
            }
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
        if let Some(c) = self.calls.get_mut(&call) {
            if let Side::B(leg) = side {
                if let Some(set) = c.b.get_mut(leg).and_then(|l| l.set.as_mut()) {
                    let _ = set.handle_response(now, &resp);
                }
            }
        }
        self.pump(now, call);
    }

    pub(super) fn on_client_failure(&mut self, now: Instant, txn: TxnId, code: u16) {
        let Some(&(call, side)) = self.by_txn.get(&txn) else {
            return;
        };
        match side {
            Side::B(leg) => {
                let live = self
                    .calls
                    .get(&call)
                    .and_then(|c| c.b.get(leg))
                    .is_some_and(|l| l.state.is_live() || l.state == LegState::Dropping);
                if live {
                    self.b_failed(now, call, leg, code, None);
                }
            }
            Side::A => self.end_call(now, call, Some(Side::A), 41),
        }
    }

    /// Makes sure A has a dialog (created with the first provisional or answer relayed).
    pub(super) fn ensure_a_session(&mut self, call: u64) {
        let rng = self.rng();
        let cfg = self.cfg.sessions.clone();
        let contact = self.contact.clone();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.a.session.is_some() {
            return;
        }
        if let Ok(s) = Session::uas(cfg, &c.a.invite, &c.a.tag, contact, rng) {
            self.by_dialog.insert(s.id().clone(), (call, Side::A));
            c.a.session = Some(s);
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
        if c.state != CallState::Proceeding || c.a.final_sent {
            return;
        }
        // Relay each provisional code once; with several legs ringing, relay 180 without media.
        let relay_code = if c.fork { 180 } else { code };
        if c.a.relayed_18x.contains(&relay_code) && resp.body().is_empty() {
            return;
        }
        c.a.relayed_18x.push(relay_code);
        let anchored = c.media.is_some();
        let mut body = (!anchored && !c.fork && !resp.body().is_empty()).then(|| {
            (
                resp.header_value(&HeaderName::ContentType)
                    .map(str::to_owned),
                resp.body().clone(),
            )
        });
        if anchored && b_media && !c.fork {
            // Early media: the caller hears this leg through Tether.
            body = self
                .a_media_body(call, leg)
                .map(|b| (Some("application/sdp".to_owned()), b));
        }
        self.out
            .push_back(Output::Event(CallEvent::Alerting { call }));
        self.ensure_a_session(call);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let invite = c.a.invite.clone();
        if let Some(s) = c.a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&invite, relay_code) {
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
        let too_soon = c.fork && elapsed < l.target.answer_too_soon;
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
            // The caller gets Tether's answer (or offer), never the far end's addresses.
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
        self.ensure_a_session(call);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let invite = c.a.invite.clone();
        if let Some(s) = c.a.session.as_mut() {
            if let Ok(mut r) = s.create_response(&invite, 200) {
                if !body.is_empty() {
                    let _ = r.set_body(ct.as_deref(), body);
                }
                let _ = s.send_response(now, r);
                c.a.final_sent = true;
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
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(l) = c.b.get_mut(leg) else { return };
        match state {
            LegState::Waiting => l.state = LegState::Failed(487),
            LegState::Calling | LegState::Early => {
                l.state = LegState::Dropping;
                if let Some(t) = txn {
                    // A leg that lost to another answer says so (RFC 3326), so the far end's
                    // phone shows no missed call.
                    let reason = (c.state == CallState::Answered)
                        .then_some("SIP;cause=200;text=\"Call completed elsewhere\"");
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

    /// When no leg can answer any more, the caller gets the failure.
    pub(super) fn check_all_failed(&mut self, now: Instant, call: u64) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        if c.state != CallState::Proceeding || c.b.iter().any(|l| l.state.is_live()) {
            return;
        }
        if c.b.iter().any(|l| l.state == LegState::Dropping) && !c.a.final_sent {
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
        let reason = Message::default_reason(status);
        let q850 = cause.unwrap_or_else(|| sip_to_q850(status));
        let a_txn = c.a.txn;
        let final_sent = c.a.final_sent;
        let invite = c.a.invite.clone();
        let tag = c.a.tag.clone();
        if !final_sent {
            let mut r = Message::response_to(&invite, status, reason, Some(&tag));
            let _ = r.push_header(HeaderName::Reason, &format!("Q.850;cause={q850}"));
            self.respond(now, a_txn, r);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.a.final_sent = true;
            c.cdr.dest_cause_value = q850;
        }
        self.finish(now, call, q850);
    }

    pub(super) fn answer_too_late(&mut self, now: Instant, call: u64, leg: usize) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(l) = c.b.get(leg) else { return };
        if c.state != CallState::Proceeding
            || !matches!(l.state, LegState::Calling | LegState::Early)
        {
            return;
        }
        let txn = l.txn;
        let state = l.state;
        if let Some(l) = self.calls.get_mut(&call).and_then(|c| c.b.get_mut(leg)) {
            l.no_answer = true;
        }
        self.drop_leg(now, call, leg, txn, state);
    }
}
