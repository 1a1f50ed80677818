//! One dialog with everything that runs on it: the TU feeds it the requests and responses of
//! the dialog (after the transaction layer matched them) and the messages it wants to send, and
//! polls what to send and what happened. It answers what the dialog layer owns by itself — CSeq
//! disorder (500), glare (491), overlapping re-INVITEs (500 + Retry-After), too-small session
//! intervals (422), PRACK (200/481) — and drives the timers: 2xx retransmission until ACK (BYE
//! after 64*T1), reliable 1xx retransmission, the re-ACK of retransmitted 2xx, the glare back-off
//! retry, session refreshes and the BYE on expiry. It never touches a socket or a clock: time
//! comes in as `now`.

use super::config::SessionConfig;
use super::dialog::Dialog;
use super::error::DialogError;
use super::id::{DialogId, Role};
use super::offer_answer::{OaKind, OfferAnswer};
use super::output::{Event, Output};
use super::prack::{PrackUac, PrackUas, PrackUasAction, Provisional};
use super::random::RandomSource;
use super::reinvite::{IncomingInvite, Reinvite};
use super::session_timer::{self, SessionTimer, TimerAction};
use super::uac_ack::UacAck;
use super::uas_2xx::{Uas2xx, Uas2xxAction};
use super::update::{on_update_received, IncomingUpdate};
use crate::header_name::HeaderName;
use crate::headers::{NameAddr, Refresher};
use crate::message::Message;
use crate::method::Method;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Instant;

/// What the TU does with a message it fed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// The TU handles it: answer a request (with [`Session::create_response`] and
    /// [`Session::send_response`]; nothing for an ACK), act on a response.
    Deliver,
    /// The layer answered or absorbed it (retransmission, duplicate, automatic answer or retry).
    Handled,
}

pub struct Session {
    dialog: Dialog,
    cfg: SessionConfig,
    rng: Box<dyn RandomSource + Send>,
    out: VecDeque<Output>,
    uas_2xx: Option<Uas2xx>,
    acks: UacAck,
    reinvite: Reinvite,
    prack_uas: PrackUas,
    prack_uac: PrackUac,
    oa: OfferAnswer,
    timer: Option<SessionTimer>,
    /// The peer's INVITE and UPDATE we have not answered finally (read when answering).
    their_invite: Option<Message>,
    their_update: Option<Message>,
    /// Our INVITE/UPDATE requests awaiting a final response (kept for 491 and 422 retries).
    sent: Vec<Message>,
    /// The CSeq number of the INVITE whose 2xx carried an offer: the TU sends the ACK.
    awaiting_ack: Option<u32>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("dialog", &self.dialog)
            .field("out", &self.out.len())
            .finish_non_exhaustive()
    }
}

fn seq_of(msg: &Message) -> Result<u32, DialogError> {
    msg.cseq()
        .map(|c| c.seq)
        .ok_or(DialogError::Missing("CSeq"))
}

impl Session {
    /// The UAC side, once a tagged 1xx or a 2xx to our `invite` (as sent) arrived. Feed that
    /// response to [`Session::handle_response`] next (a [`DialogSet`](super::DialogSet) does
    /// both).
    pub fn uac(
        cfg: SessionConfig,
        invite: &Message,
        resp: &Message,
        mut rng: Box<dyn RandomSource + Send>,
    ) -> Result<Session, DialogError> {
        let dialog = Dialog::new_uac(invite, resp)?;
        let prack_uas = PrackUas::new(cfg.timers, rng.as_mut());
        let mut s = Session::with(dialog, cfg, rng, prack_uas);
        s.oa.on_send(invite)?;
        s.reinvite.on_invite_sent(seq_of(invite)?);
        Ok(s)
    }

    /// The UAS side of `invite`, created when we send the first 1xx or 2xx with our tag.
    /// Check the Session-Expires first ([`session_timer::too_small`]): a dialog is not created
    /// for a 422.
    pub fn uas(
        cfg: SessionConfig,
        invite: &Message,
        local_tag: &str,
        local_contact: NameAddr,
        mut rng: Box<dyn RandomSource + Send>,
    ) -> Result<Session, DialogError> {
        let dialog = Dialog::new_uas(invite, local_tag, local_contact)?;
        let prack_uas = PrackUas::new(cfg.timers, rng.as_mut());
        let mut s = Session::with(dialog, cfg, rng, prack_uas);
        s.oa.on_receive(invite)?;
        let seq = seq_of(invite)?;
        s.reinvite.on_invite_received(seq, s.rng.as_mut());
        s.their_invite = Some(invite.clone());
        Ok(s)
    }

    fn with(
        dialog: Dialog,
        cfg: SessionConfig,
        rng: Box<dyn RandomSource + Send>,
        prack_uas: PrackUas,
    ) -> Session {
        Session {
            dialog,
            cfg,
            rng,
            out: VecDeque::new(),
            uas_2xx: None,
            acks: UacAck::default(),
            reinvite: Reinvite::default(),
            prack_uas,
            prack_uac: PrackUac::default(),
            oa: OfferAnswer::new(),
            timer: None,
            their_invite: None,
            their_update: None,
            sent: Vec::new(),
            awaiting_ack: None,
        }
    }

    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }
    pub fn id(&self) -> &DialogId {
        self.dialog.id()
    }
    /// Changes our Contact (sent in later target refresh requests and dialog responses).
    pub fn set_local_contact(&mut self, contact: NameAddr) {
        self.dialog.set_local_contact(contact);
    }
    pub fn offer_answer(&self) -> &OfferAnswer {
        &self.oa
    }
    /// The negotiated session interval, while a session timer runs.
    pub fn session_timer(&self) -> Option<session_timer::Negotiated> {
        self.timer.as_ref().map(SessionTimer::negotiated)
    }
    pub fn is_terminated(&self) -> bool {
        self.dialog.is_terminated()
    }

    /// The next message to send or event to act on.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Session::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.uas_2xx.as_ref().map(Uas2xx::poll_timeout),
            self.prack_uas.poll_timeout(),
            self.reinvite.poll_timeout(),
            self.timer.as_ref().and_then(SessionTimer::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- building ------------------------------------------------------------------------

    /// A new request in the dialog (no Via). INVITE and UPDATE carry our session timer headers
    /// when a timer runs or we want one.
    pub fn create_request(&mut self, method: Method) -> Result<Message, DialogError> {
        let mut req = self.dialog.create_request(method.clone())?;
        if matches!(method, Method::Invite | Method::Update)
            && (self.timer.is_some() || self.cfg.session_timer.session_expires.is_some())
        {
            let (interval, refresher) = match self.timer.as_ref().map(SessionTimer::negotiated) {
                Some(n) => (
                    Some(n.interval),
                    Some(if n.we_refresh {
                        Refresher::Uac
                    } else {
                        Refresher::Uas
                    }),
                ),
                None => (None, None),
            };
            session_timer::add_request_headers(
                &mut req,
                &self.cfg.session_timer,
                interval,
                refresher,
            )?;
        }
        Ok(req)
    }

    /// A response to a request of this dialog, with our tag and, where needed, our Contact.
    pub fn create_response(&self, req: &Message, code: u16) -> Result<Message, DialogError> {
        self.dialog.create_response(req, code)
    }

    /// The PRACK for a reliable 1xx (RFC 3262 §7.2), for the TU to add the answer to when the
    /// 1xx carried an offer ([`Event::AnswerNeeded`]); send it with [`Session::send_request`].
    pub fn create_prack(&mut self, reliable_1xx: &Message) -> Result<Message, DialogError> {
        let rseq = reliable_1xx.rseq()?.ok_or(DialogError::Missing("RSeq"))?;
        let seq = seq_of(reliable_1xx)?;
        let mut prack = self.dialog.create_request(Method::Prack)?;
        prack.push_header(HeaderName::RAck, &format!("{rseq} {seq} INVITE"))?;
        Ok(prack)
    }

    // ---- sending -------------------------------------------------------------------------

    /// Sends a request built by [`Session::create_request`] (possibly with a body): records
    /// re-INVITE and offer state, and queues it as [`Output::Request`]. A re-INVITE while an
    /// INVITE is in progress either way, or a second offer, is refused (`RequestPending` /
    /// `ApiMisuse`). Sending BYE terminates the dialog.
    pub fn send_request(&mut self, now: Instant, req: Message) -> Result<(), DialogError> {
        let _ = now;
        let method = req
            .method()
            .ok_or(DialogError::ApiMisuse("not a request"))?
            .clone();
        let seq = seq_of(&req)?;
        match method {
            Method::Invite => {
                if self.reinvite.ours_pending() || self.reinvite.theirs_pending() {
                    return Err(DialogError::RequestPending);
                }
                self.oa.on_send(&req)?;
                self.reinvite.on_invite_sent(seq);
                self.sent.push(req.clone());
            }
            Method::Update => {
                self.oa.on_send(&req)?;
                self.sent.push(req.clone());
            }
            Method::Prack => {
                self.oa.on_send(&req)?;
            }
            Method::Bye => self.end(),
            _ => {}
        }
        self.out.push_back(Output::Request(req));
        Ok(())
    }

    /// Sends BYE and ends the dialog.
    pub fn bye(&mut self, now: Instant) -> Result<(), DialogError> {
        let bye = self.dialog.create_request(Method::Bye)?;
        self.send_request(now, bye)
    }

    /// Sends the ACK for a 2xx that carried an offer, with the TU's answer.
    pub fn send_ack(
        &mut self,
        now: Instant,
        answer: Option<(&str, Bytes)>,
    ) -> Result<(), DialogError> {
        let _ = now;
        let seq = self
            .awaiting_ack
            .take()
            .ok_or(DialogError::ApiMisuse("no 2xx awaits an ACK from the TU"))?;
        let mut ack = self.dialog.create_ack(seq)?;
        if let Some((ct, body)) = answer {
            ack.set_body(Some(ct), body)?;
        }
        self.oa.on_send(&ack)?;
        self.acks.remember(seq, ack.clone());
        self.out.push_back(Output::Ack(ack));
        Ok(())
    }

    /// Sends a response built by [`Session::create_response`]. A 1xx to INVITE goes reliably
    /// (RFC 3262) when it requires 100rel or we prefer it and the INVITE supports it — queued
    /// while another is unacknowledged; a 2xx to INVITE is retransmitted until the ACK and
    /// gets our session timer decision; a 2xx to UPDATE renegotiates the session timer.
    pub fn send_response(&mut self, now: Instant, mut resp: Message) -> Result<(), DialogError> {
        let code = resp
            .status()
            .ok_or(DialogError::ApiMisuse("not a response"))?;
        let cseq = resp.cseq().ok_or(DialogError::Missing("CSeq"))?.clone();
        match cseq.method {
            Method::Invite if (101..200).contains(&code) => {
                let supports = self
                    .their_invite
                    .as_ref()
                    .is_some_and(|i| i.supports("100rel"));
                if PrackUas::wants_reliable(supports, &resp, self.cfg.reliable_provisionals) {
                    if let Some(m) = self.prack_uas.send(now, resp)? {
                        self.oa.on_send(&m)?;
                        self.out.push_back(Output::Response(m));
                    }
                    return Ok(());
                }
                self.oa.on_send(&resp)?;
            }
            Method::Invite if (200..300).contains(&code) => {
                if let Some(inv) = self.their_invite.take() {
                    self.negotiate_uas(now, &inv, &mut resp)?;
                }
                self.oa.on_send(&resp)?;
                self.prack_uas.stop();
                self.reinvite.on_final_sent(cseq.seq);
                self.uas_2xx = Some(Uas2xx::start(now, resp.clone(), &self.cfg.timers));
            }
            Method::Invite if code >= 300 => {
                self.oa.on_send(&resp)?;
                self.prack_uas.stop();
                self.reinvite.on_final_sent(cseq.seq);
                self.their_invite = None;
            }
            Method::Update if code >= 200 => {
                if let (Some(upd), true) = (self.their_update.take(), code < 300) {
                    self.negotiate_uas(now, &upd, &mut resp)?;
                }
                self.oa.on_send(&resp)?;
            }
            Method::Prack => {
                self.oa.on_send(&resp)?;
            }
            _ => {}
        }
        self.dialog.on_response_sent(&resp);
        self.out.push_back(Output::Response(resp));
        Ok(())
    }

    fn negotiate_uas(
        &mut self,
        now: Instant,
        req: &Message,
        resp: &mut Message,
    ) -> Result<(), DialogError> {
        self.timer = session_timer::uas_answer(req, resp, &self.cfg.session_timer)?
            .map(|n| SessionTimer::start(now, n));
        Ok(())
    }

    fn reply(
        &mut self,
        req: &Message,
        code: u16,
        retry_after: Option<u32>,
    ) -> Result<(), DialogError> {
        let mut r = self.dialog.create_response(req, code)?;
        if let Some(secs) = retry_after {
            r.push_header(HeaderName::RetryAfter, &secs.to_string())?;
        }
        if code == 422 {
            r.push_header(
                HeaderName::MinSE,
                &self.cfg.session_timer.min_se.to_string(),
            )?;
        }
        self.out.push_back(Output::Response(r));
        Ok(())
    }

    /// Ends an early dialog whose INVITE failed (no BYE: there is nothing to hang up).
    pub fn end_early(&mut self) {
        self.end();
    }

    /// Stops every timer: the dialog is over.
    fn end(&mut self) {
        self.dialog.terminate();
        self.uas_2xx = None;
        self.prack_uas.stop();
        self.timer = None;
        self.reinvite.cancel_retry();
    }

    // ---- receiving -----------------------------------------------------------------------

    /// A request of this dialog from the peer (already matched to its server transaction).
    /// `Err(WrongDialog)` when it belongs elsewhere.
    pub fn handle_request(&mut self, now: Instant, req: &Message) -> Result<Inbound, DialogError> {
        let _ = now;
        let method = req
            .method()
            .ok_or(DialogError::ApiMisuse("not a request"))?
            .clone();
        let seq = seq_of(req)?;
        match self.dialog.on_request_received(req) {
            Ok(()) => {}
            Err(DialogError::WrongDialog) => return Err(DialogError::WrongDialog),
            Err(e) => {
                if method != Method::Ack {
                    self.reply(req, e.status(), None)?;
                }
                return Ok(Inbound::Handled);
            }
        }
        match method {
            Method::Ack => {
                if self.uas_2xx.as_ref().is_some_and(|u| u.seq() == seq) {
                    self.uas_2xx = None;
                    let _ = self.oa.on_receive(req);
                }
                Ok(Inbound::Handled)
            }
            Method::Prack => match self.prack_uas.on_prack(now, req) {
                Err(_) => {
                    self.reply(req, 481, None)?;
                    Ok(Inbound::Handled)
                }
                Ok(next) => {
                    let kind = self.oa.on_receive(req);
                    match &kind {
                        Ok(OaKind::Offer) => {}
                        Ok(_) => self.reply(req, 200, None)?,
                        Err(e) => self.reply(req, e.status(), None)?,
                    }
                    if let Some(m) = next {
                        let _ = self.oa.on_send(&m);
                        self.out.push_back(Output::Response(m));
                    }
                    Ok(if matches!(kind, Ok(OaKind::Offer)) {
                        Inbound::Deliver
                    } else {
                        Inbound::Handled
                    })
                }
            },
            Method::Invite => {
                if self.reject_small_interval(req)? {
                    return Ok(Inbound::Handled);
                }
                match self.reinvite.on_invite_received(seq, self.rng.as_mut()) {
                    IncomingInvite::Glare => self.reply(req, 491, None)?,
                    IncomingInvite::Overlap { retry_after } => {
                        self.reply(req, 500, Some(retry_after))?
                    }
                    IncomingInvite::Accept => match self.oa.on_receive(req) {
                        Ok(_) => {
                            self.their_invite = Some(req.clone());
                            return Ok(Inbound::Deliver);
                        }
                        Err(e) => {
                            self.reinvite.on_final_sent(seq);
                            let retry = (e == DialogError::PreviousPending)
                                .then(|| self.rng.in_range(0, 10));
                            self.reply(req, e.status(), retry)?;
                        }
                    },
                }
                Ok(Inbound::Handled)
            }
            Method::Update => {
                if self.reject_small_interval(req)? {
                    return Ok(Inbound::Handled);
                }
                match on_update_received(&mut self.oa, req, self.rng.as_mut())? {
                    IncomingUpdate::Accept { .. } => {
                        self.their_update = Some(req.clone());
                        Ok(Inbound::Deliver)
                    }
                    IncomingUpdate::Glare => {
                        self.reply(req, 491, None)?;
                        Ok(Inbound::Handled)
                    }
                    IncomingUpdate::Overlap { retry_after } => {
                        self.reply(req, 500, Some(retry_after))?;
                        Ok(Inbound::Handled)
                    }
                }
            }
            Method::Bye => {
                self.end();
                Ok(Inbound::Deliver)
            }
            _ => Ok(Inbound::Deliver),
        }
    }

    fn reject_small_interval(&mut self, req: &Message) -> Result<bool, DialogError> {
        if session_timer::too_small(req, self.cfg.session_timer.min_se)?.is_some() {
            self.reply(req, 422, None)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A response of this dialog to one of our requests (already matched to its client
    /// transaction, or a 2xx retransmission passed up by it).
    pub fn handle_response(
        &mut self,
        now: Instant,
        resp: &Message,
    ) -> Result<Inbound, DialogError> {
        if let Some(ack) = self.acks.ack_for_retransmission(resp) {
            self.out.push_back(Output::Ack(ack.clone()));
            return Ok(Inbound::Handled);
        }
        let code = resp
            .status()
            .ok_or(DialogError::ApiMisuse("not a response"))?;
        let cseq = resp.cseq().ok_or(DialogError::Missing("CSeq"))?.clone();
        if (200..300).contains(&code)
            && cseq.method == Method::Invite
            && self.awaiting_ack == Some(cseq.seq)
        {
            // The TU has not sent its ACK yet; the retransmission needs nothing new.
            return Ok(Inbound::Handled);
        }
        self.dialog.on_response_received(resp)?;
        if code >= 200 {
            self.reinvite.on_final_received(cseq.seq);
        }
        let pending = self.take_sent(&cseq.method, cseq.seq, code);
        match (&cseq.method, code) {
            (Method::Invite, 101..=199) => match self.prack_uac.on_provisional(resp)? {
                Provisional::Unreliable => Ok(Inbound::Deliver),
                Provisional::Duplicate | Provisional::OutOfOrder => Ok(Inbound::Handled),
                Provisional::New { .. } => {
                    if self.oa.on_receive(resp).unwrap_or(OaKind::None) == OaKind::Offer {
                        self.out.push_back(Output::Event(Event::AnswerNeeded));
                    } else {
                        let prack = self.create_prack(resp)?;
                        self.send_request(now, prack)?;
                    }
                    Ok(Inbound::Deliver)
                }
            },
            (Method::Invite, 200..=299) => {
                let kind = self.oa.on_receive(resp).unwrap_or(OaKind::None);
                self.timer = session_timer::uac_result(resp)?.map(|n| SessionTimer::start(now, n));
                if kind == OaKind::Offer {
                    self.awaiting_ack = Some(cseq.seq);
                    self.out.push_back(Output::Event(Event::AnswerNeeded));
                } else {
                    let ack = self.dialog.create_ack(cseq.seq)?;
                    self.acks.remember(cseq.seq, ack.clone());
                    self.out.push_back(Output::Ack(ack));
                }
                Ok(Inbound::Deliver)
            }
            (Method::Update, 200..=299) => {
                let _ = self.oa.on_receive(resp);
                self.timer = session_timer::uac_result(resp)?.map(|n| SessionTimer::start(now, n));
                Ok(Inbound::Deliver)
            }
            (Method::Invite | Method::Update, 491) => {
                let _ = self.oa.on_receive(resp);
                match pending {
                    Some(req) if !self.is_terminated() => {
                        let owner = self.dialog.owns_call_id();
                        let retry_at =
                            self.reinvite
                                .schedule_retry(now, req, owner, self.rng.as_mut());
                        self.out
                            .push_back(Output::Event(Event::GlareBackoff { retry_at }));
                        Ok(Inbound::Handled)
                    }
                    _ => Ok(Inbound::Deliver),
                }
            }
            (Method::Invite | Method::Update, 422) => {
                let _ = self.oa.on_receive(resp);
                match pending {
                    Some(req) if !self.is_terminated() => {
                        let next = self.next_local_seq();
                        let retry = session_timer::retry_after_422(&req, resp, next)?;
                        self.send_request(now, retry)?;
                        Ok(Inbound::Handled)
                    }
                    _ => Ok(Inbound::Deliver),
                }
            }
            _ => {
                if code >= 300 {
                    let _ = self.oa.on_receive(resp);
                }
                Ok(Inbound::Deliver)
            }
        }
    }

    /// Removes and returns our pending request answered by a final response.
    fn take_sent(&mut self, method: &Method, seq: u32, code: u16) -> Option<Message> {
        if code < 200 {
            return None;
        }
        let i = self.sent.iter().position(|m| {
            m.cseq()
                .is_some_and(|c| c.seq == seq && c.method == *method)
        })?;
        Some(self.sent.remove(i))
    }

    /// Takes the next local CSeq number (for a request rebuilt from an earlier one).
    fn next_local_seq(&mut self) -> u32 {
        let next = self.dialog.local_seq.map_or(1, |s| s.wrapping_add(1));
        self.dialog.local_seq = Some(next);
        next
    }

    // ---- time ----------------------------------------------------------------------------

    /// Runs every timer due at `now`; the resulting messages and events are polled with
    /// [`Session::poll_output`].
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), DialogError> {
        while let Some(action) = self.uas_2xx.as_mut().and_then(|u| u.handle_timeout(now)) {
            match action {
                Uas2xxAction::Retransmit(m) => self.out.push_back(Output::Response(*m)),
                Uas2xxAction::GiveUp => {
                    let cseq = self.uas_2xx.take().map_or(0, |u| u.seq());
                    self.out
                        .push_back(Output::Event(Event::AckTimeout { cseq }));
                    self.bye(now)?;
                }
            }
        }
        while let Some(action) = self.prack_uas.handle_timeout(now) {
            match action {
                PrackUasAction::Send(m) => self.out.push_back(Output::Response(*m)),
                PrackUasAction::GiveUp { rseq } => self
                    .out
                    .push_back(Output::Event(Event::PrackTimeout { rseq })),
            }
        }
        if let Some(mut req) = self.reinvite.take_due(now) {
            let busy = req.method() == Some(&Method::Invite)
                && (self.reinvite.ours_pending() || self.reinvite.theirs_pending());
            if busy && !self.is_terminated() {
                // An INVITE is in progress: wait another back-off.
                let owner = self.dialog.owns_call_id();
                let retry_at = self
                    .reinvite
                    .schedule_retry(now, req, owner, self.rng.as_mut());
                self.out
                    .push_back(Output::Event(Event::GlareBackoff { retry_at }));
            } else if !self.is_terminated() {
                let method = req
                    .method()
                    .cloned()
                    .ok_or(DialogError::ApiMisuse("not a request"))?;
                let next = self.next_local_seq();
                req.remove_headers(&HeaderName::Via);
                req.set_header(HeaderName::CSeq, &format!("{next} {method}"))?;
                self.send_request(now, req)?;
            }
        }
        match self.timer.as_mut().and_then(|t| t.handle_timeout(now)) {
            Some(TimerAction::Refresh) => self.refresh(now)?,
            Some(TimerAction::Expire) => {
                self.out.push_back(Output::Event(Event::SessionExpired));
                self.bye(now)?;
            }
            None => {}
        }
        Ok(())
    }

    /// Sends a session refresh (RFC 4028 §7.4/§9): UPDATE without body, or a re-INVITE with
    /// our last session description. Skipped while an INVITE is in progress (its 2xx
    /// renegotiates anyway).
    fn refresh(&mut self, now: Instant) -> Result<(), DialogError> {
        if self.is_terminated() || self.reinvite.ours_pending() || self.reinvite.theirs_pending() {
            return Ok(());
        }
        let method = self.cfg.session_timer.refresh_method.clone();
        let mut req = self.create_request(method.clone())?;
        if method == Method::Invite
            && !self.oa.local_offer_pending()
            && !self.oa.remote_offer_pending()
        {
            if let Some(sdp) = self.oa.local_sdp().cloned() {
                req.set_body(Some("application/sdp"), sdp)?;
            }
        }
        self.send_request(now, req)
    }

    /// Whether the role that created this dialog was ours.
    pub fn role(&self) -> Role {
        self.dialog.role()
    }
}
