//! What arrives from the transaction layer: new requests (a new call, OPTIONS, strays), requests
//! inside a call's dialog, ACKs, CANCELs, responses and failures of our own requests, and
//! transactions ending. This room routes; the script (`script.rs`) decides what a call does.

use super::call::{Call, CallState, Step};
use super::media::CallMedia;
use super::plan::{dialed_number, Script};
use super::{PstnSimulator, Transmit, SUPPORTED};
use crate::cause::{rfc3398, Q850Cause, Rejection};
use std::net::SocketAddr;
use std::time::Instant;
use tether_sip::dialog::{DialogId, Inbound, SeededRandom, Session};
use tether_sip::transaction::{Output, TuEvent, TxnId};
use tether_sip::{HeaderName, Message, Method, Peer};

/// The SDP body of a message, if it has one.
pub(super) fn sdp_body(m: &Message) -> Option<&[u8]> {
    let is_sdp = m.content_type().ok().flatten().is_some_and(|c| c.is_sdp());
    (is_sdp && !m.body().is_empty()).then(|| m.body().as_ref())
}

/// A rejection with the RFC 3398 cause of its status.
pub(super) fn rejection_for(status: u16) -> Rejection {
    Rejection::new(
        status,
        rfc3398::sip_to_q850(status).unwrap_or(Q850Cause::INTERWORKING),
    )
}

impl PstnSimulator {
    /// Moves everything the transaction layer has into the output queue or through the TU.
    pub(super) fn drain(&mut self, now: Instant) {
        while let Some(o) = self.txns.poll_output() {
            match o {
                Output::Transmit { to, message } => self.out.push_back(Transmit { to, message }),
                Output::Event(e) => self.on_event(now, e),
            }
        }
    }

    fn on_event(&mut self, now: Instant, ev: TuEvent) {
        match ev {
            TuEvent::Request { txn, request, from } => self.on_request(now, txn, request, from),
            TuEvent::AckFor2xx { ack, .. } | TuEvent::StrayAck { ack, .. } => {
                self.on_ack(now, &ack)
            }
            TuEvent::Cancelled { invite, .. } => self.on_cancel(now, invite),
            TuEvent::Response { txn, response } => self.on_response(now, txn, &response),
            TuEvent::Timeout { txn, .. } | TuEvent::TransportError { txn } => {
                self.on_request_failed(now, txn)
            }
            TuEvent::Terminated { txn } => self.on_terminated(txn),
            // We send no INVITE, so no 2xx of ours can come back late.
            _ => {}
        }
    }

    fn on_request(&mut self, now: Instant, txn: TxnId, req: Message, from: Peer) {
        let Some(method) = req.method().cloned() else {
            return;
        };
        if req.to_tag().is_some() {
            self.on_dialog_request(now, txn, &req, method);
            return;
        }
        match method {
            Method::Invite => self.on_invite(now, txn, req, from),
            Method::Options => {
                let extra = [
                    (HeaderName::Allow, super::ALLOW.to_owned()),
                    (HeaderName::Accept, "application/sdp".to_owned()),
                    (HeaderName::Supported, SUPPORTED.join(", ")),
                ];
                self.reply(now, txn, &req, 200, &extra);
            }
            Method::Bye
            | Method::Update
            | Method::Prack
            | Method::Info
            | Method::Notify
            | Method::Refer => self.reply(now, txn, &req, 481, &[]),
            _ => {
                let extra = [(HeaderName::Allow, super::ALLOW.to_owned())];
                self.reply(now, txn, &req, 405, &extra);
            }
        }
    }

    /// A response outside any call (a fresh tag when the request has none).
    pub(super) fn reply(
        &mut self,
        now: Instant,
        txn: TxnId,
        req: &Message,
        code: u16,
        extra: &[(HeaderName, String)],
    ) {
        let tag = (code > 100 && req.to_tag().is_none()).then(|| self.new_tag());
        let mut r = Message::response_to(req, code, Message::default_reason(code), tag.as_deref());
        for (name, value) in extra {
            if r.push_header(name.clone(), value).is_err() {
                return;
            }
        }
        // The transaction may be gone (a late TU answer): nothing to send then.
        let _ = self.txns.respond(now, txn, r);
    }

    /// Answers a new INVITE with a failure and counts it.
    pub(super) fn reject(
        &mut self,
        now: Instant,
        txn: TxnId,
        req: &Message,
        rejection: &Rejection,
        extra: &[(HeaderName, String)],
    ) {
        let mut all = vec![(HeaderName::Reason, rejection.reason_header())];
        all.extend(extra.iter().cloned());
        self.reply(now, txn, req, rejection.status, &all);
        *self.stats.rejected.entry(rejection.status).or_default() += 1;
    }

    fn on_invite(&mut self, now: Instant, txn: TxnId, req: Message, from: Peer) {
        self.stats.offered += 1;
        let dialed = req.request_uri().and_then(dialed_number);
        let Some(dialed) = dialed else {
            let r = Rejection::new(484, Q850Cause::INVALID_NUMBER_FORMAT);
            return self.reject(now, txn, &req, &r, &[]);
        };
        let action = self.plan.lookup(&dialed).clone();
        let answer_after = match &action.script {
            Script::Reject(r) => return self.reject(now, txn, &req, r, &[]),
            Script::Ring => None,
            Script::Answer { after, .. } => Some(*after),
        };
        let kind = match action.script {
            Script::Answer { kind, .. } => kind,
            _ => super::CallKind::Normal,
        };
        let unsupported: Vec<String> = req
            .require()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let extra = [(HeaderName::Unsupported, unsupported.join(", "))];
            return self.reject(now, txn, &req, &rejection_for(420), &extra);
        }
        let min_se = self.session_cfg.session_timer.min_se;
        if let Ok(Some(_)) = tether_sip::dialog::session_timer::too_small(&req, min_se) {
            let extra = [(HeaderName::MinSE, min_se.max(90).to_string())];
            return self.reject(now, txn, &req, &rejection_for(422), &extra);
        }

        // The session description our 200 will carry.
        let local_rtp = SocketAddr::new(self.local.addr.ip(), self.ports.take());
        self.serial += 1;
        let mut media = CallMedia::new(local_rtp, self.serial);
        let body = if req.body().is_empty() {
            media.offer()
        } else if let Some(offer) = sdp_body(&req) {
            media.answer(offer)
        } else {
            let extra = [(HeaderName::Accept, "application/sdp".to_owned())];
            return self.reject(now, txn, &req, &rejection_for(415), &extra);
        };
        let answer_body = match body {
            Ok(b) => b,
            Err(e) => return self.reject(now, txn, &req, &rejection_for(e.sip_status()), &[]),
        };

        let tag = self.new_tag();
        let rng = Box::new(SeededRandom::new(self.rng.next_u64()));
        let contact = self.contact(from.transport);
        let session = match Session::uas(self.session_cfg.clone(), &req, &tag, contact, rng) {
            Ok(s) => s,
            // No Contact, no From tag: not a call we can have a dialog with.
            Err(_) => return self.reject(now, txn, &req, &rejection_for(400), &[]),
        };

        let id = super::CallId(self.next_call);
        self.next_call += 1;
        let seq = req.cseq().map_or(0, |c| c.seq);
        let mut call = Call {
            id,
            dialed,
            rule: action.pattern.clone(),
            kind,
            state: CallState::Ringing,
            peer: from,
            invite: req,
            session,
            media,
            answer_body,
            step: None,
            hangup_after: action.hangup_after,
            hangup_pending: false,
            answered_at: None,
            server_txns: Default::default(),
            deadline: None,
        };
        call.server_txns.insert((seq, Method::Invite), txn);
        self.dialogs.insert(call.session.id().clone(), id);
        self.server_txns.insert(txn, id);
        self.calls.insert(id, call);

        match answer_after {
            Some(after) if after.is_zero() => self.answer(now, id),
            _ => {
                self.ring(now, id);
                let no_answer = self.plan.no_answer;
                // A delay too large for the clock means never.
                let at = |d: std::time::Duration| now.checked_add(d);
                let step = match (answer_after, no_answer) {
                    (Some(a), Some(n)) if n <= a => at(n).map(|t| (t, Step::NoAnswer)),
                    (Some(a), _) => at(a).map(|t| (t, Step::Answer)),
                    (None, Some(n)) => at(n).map(|t| (t, Step::NoAnswer)),
                    (None, None) => None,
                };
                if let Some(c) = self.calls.get_mut(&id) {
                    c.step = step;
                }
            }
        }
        self.pump(now, id);
    }

    fn call_of_dialog(&self, msg: &Message) -> Option<super::CallId> {
        DialogId::of_received(msg).and_then(|d| self.dialogs.get(&d).copied())
    }

    fn on_dialog_request(&mut self, now: Instant, txn: TxnId, req: &Message, method: Method) {
        let Some(id) = self.call_of_dialog(req) else {
            return self.reply(now, txn, req, 481, &[]);
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return self.reply(now, txn, req, 481, &[]);
        };
        let seq = req.cseq().map_or(0, |c| c.seq);
        call.server_txns.insert((seq, method.clone()), txn);
        self.server_txns.insert(txn, id);
        match call.session.handle_request(now, req) {
            Ok(Inbound::Deliver) => self.on_delivered(now, id, req, method),
            Ok(Inbound::Handled) => {}
            Err(e) => self.reply(now, txn, req, e.status(), &[]),
        }
        self.pump(now, id);
    }

    fn on_ack(&mut self, now: Instant, ack: &Message) {
        let Some(id) = self.call_of_dialog(ack) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        // The dialog layer stops the 2xx retransmissions; an ACK it finds out of order or
        // for another dialog changes nothing.
        let _ = call.session.handle_request(now, ack);
        let initial = ack.cseq().map(|c| c.seq) == call.invite.cseq().map(|c| c.seq);
        if initial && call.state == CallState::Answered {
            call.state = CallState::Confirmed;
        }
        if call.media.awaiting_answer() {
            if let Some(answer) = sdp_body(ack) {
                call.media.on_answer(answer);
            }
        }
        if call.hangup_pending && call.state == CallState::Confirmed {
            call.hangup_pending = false;
            self.hang_up(now, id);
        }
        self.pump(now, id);
    }

    fn on_cancel(&mut self, now: Instant, invite: TxnId) {
        let Some(id) = self.server_txns.get(&invite).copied() else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        if let Ok(r) = call.session.create_response(&call.invite, 487) {
            if call.session.send_response(now, r).is_ok() {
                self.stats.cancelled += 1;
                *self.stats.rejected.entry(487).or_default() += 1;
            }
        }
        self.pump(now, id);
    }

    fn on_response(&mut self, now: Instant, txn: TxnId, resp: &Message) {
        let Some(id) = self.client_txns.get(&txn).copied() else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&id) {
            // A 481 or 408 ends the dialog; everything else the dialog layer absorbs.
            let _ = call.session.handle_response(now, resp);
            self.pump(now, id);
        }
    }

    /// One of our in-dialog requests timed out or could not be sent: the call is over.
    fn on_request_failed(&mut self, now: Instant, txn: TxnId) {
        let Some(id) = self.client_txns.get(&txn).copied() else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if !call.session.is_terminated() && call.session.bye(now).is_ok() {
            self.stats.ended_by_network += 1;
        }
        self.pump(now, id);
    }

    fn on_terminated(&mut self, txn: TxnId) {
        self.client_txns.remove(&txn);
        if let Some(id) = self.server_txns.remove(&txn) {
            if let Some(call) = self.calls.get_mut(&id) {
                call.server_txns.retain(|_, t| *t != txn);
            }
        }
    }
}
