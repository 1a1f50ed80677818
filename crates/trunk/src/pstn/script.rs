//! What a simulated call does: ring, answer (with its SDP, arming `hangup_after`), hang up
//! (603 before answer, BYE after), and answer the requests that arrive in its dialog. Responses
//! go through the call's dialog [`Session`](tether_sip::dialog::Session); `pump.rs` carries
//! them to the transactions.

use super::call::{CallState, Step};
use super::inbound::sdp_body;
use super::{CallId, PstnSimulator};
use crate::cause::{Q850Cause, Q850Reason};
use std::time::Instant;
use tether_sip::{HeaderName, Message, Method};

impl PstnSimulator {
    /// Sends 180 Ringing.
    pub(super) fn ring(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Ok(mut r) = call.session.create_response(&call.invite, 180) else {
            return;
        };
        // A caller that requires reliable provisionals gets them (RFC 3262); the dialog layer
        // sends a 1xx reliably when it says so.
        if call.invite.requires("100rel") && r.push_header(HeaderName::Require, "100rel").is_err() {
            return;
        }
        // A 180 the dialog refuses (it never should) only means no ringback.
        let _ = call.session.send_response(now, r);
    }

    /// Sends the 200 with our SDP; arms the rule's hangup.
    pub(super) fn answer(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let Ok(mut ok) = call.session.create_response(&call.invite, 200) else {
            return;
        };
        let body = std::mem::take(&mut call.answer_body);
        let headers = [
            (HeaderName::Allow, super::ALLOW.to_owned()),
            (HeaderName::Supported, super::SUPPORTED.join(", ")),
        ];
        for (name, value) in headers {
            if ok.push_header(name, &value).is_err() {
                return;
            }
        }
        if ok.set_body(Some("application/sdp"), body).is_err() {
            return;
        }
        if call.session.send_response(now, ok).is_err() {
            return;
        }
        call.state = CallState::Answered;
        call.answered_at = Some(now);
        // A delay too large for the clock means never.
        call.step = call
            .hangup_after
            .and_then(|d| now.checked_add(d))
            .map(|t| (t, Step::Hangup));
        self.stats.answered += 1;
    }

    /// The network's no-answer timer fired: 480 with Q.850 cause 19.
    pub(super) fn release_unanswered(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let Ok(mut r) = call.session.create_response(&call.invite, 480) else {
            return;
        };
        let reason = Q850Reason::new(Q850Cause::NO_ANSWER).to_string();
        if r.push_header(HeaderName::Reason, &reason).is_err() {
            return;
        }
        if call.session.send_response(now, r).is_ok() {
            *self.stats.rejected.entry(480).or_default() += 1;
        }
    }

    /// The called party hangs up (see [`PstnSimulator::hangup`]).
    pub(super) fn hang_up(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match call.state {
            CallState::Ringing => {
                call.step = None;
                let Ok(mut r) = call.session.create_response(&call.invite, 603) else {
                    return;
                };
                let reason = Q850Reason::new(Q850Cause::CALL_REJECTED).to_string();
                if r.push_header(HeaderName::Reason, &reason).is_err() {
                    return;
                }
                if call.session.send_response(now, r).is_ok() {
                    *self.stats.rejected.entry(603).or_default() += 1;
                }
            }
            CallState::Answered => {
                call.step = None;
                call.hangup_pending = true;
            }
            CallState::Confirmed => {
                call.step = None;
                let Ok(mut bye) = call.session.create_request(Method::Bye) else {
                    return;
                };
                let reason = Q850Reason::new(Q850Cause::NORMAL_CLEARING).to_string();
                if bye.push_header(HeaderName::Reason, &reason).is_err() {
                    return;
                }
                if call.session.send_request(now, bye).is_ok() {
                    self.stats.ended_by_network += 1;
                }
            }
        }
    }

    /// Answers a request the call's dialog delivered (BYE, re-INVITE, UPDATE, PRACK with an
    /// offer, INFO, ...).
    pub(super) fn on_delivered(&mut self, now: Instant, id: CallId, req: &Message, method: Method) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let mut body: Option<Vec<u8>> = None;
        let mut extra: Vec<(HeaderName, String)> = Vec::new();
        let code = match method {
            Method::Bye => {
                if call.state == CallState::Ringing {
                    // A BYE on the early dialog: the INVITE is over too (RFC 3261 §15.1.2).
                    if let Ok(r) = call.session.create_response(&call.invite, 487) {
                        if call.session.send_response(now, r).is_ok() {
                            *self.stats.rejected.entry(487).or_default() += 1;
                        }
                    }
                } else {
                    self.stats.ended_by_caller += 1;
                }
                200
            }
            Method::Invite => {
                let sdp = match sdp_body(req) {
                    Some(offer) => call.media.answer(offer),
                    None => call.media.offer(),
                };
                match sdp {
                    Ok(b) => {
                        body = Some(b);
                        200
                    }
                    Err(e) => e.sip_status(),
                }
            }
            Method::Update | Method::Prack => match sdp_body(req) {
                Some(offer) => match call.media.answer(offer) {
                    Ok(b) => {
                        body = Some(b);
                        200
                    }
                    Err(e) => e.sip_status(),
                },
                None => 200,
            },
            Method::Info | Method::Options | Method::Notify | Method::Message => 200,
            _ => {
                extra.push((HeaderName::Allow, super::ALLOW.to_owned()));
                405
            }
        };
        let Ok(mut r) = call.session.create_response(req, code) else {
            return;
        };
        for (name, value) in extra {
            if r.push_header(name, &value).is_err() {
                return;
            }
        }
        if let Some(b) = body {
            if r.set_body(Some("application/sdp"), b).is_err() {
                return;
            }
        }
        // Refused only on API misuse by this room; the transaction then times out the peer.
        let _ = call.session.send_response(now, r);
    }
}
