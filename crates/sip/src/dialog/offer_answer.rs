//! Where the SDP offer/answer exchange of a dialog stands (RFC 3261 §13.2.1, RFC 3262 §5,
//! RFC 3311 §5, RFC 6337): which message carried an offer, whether it is answered, and the
//! last session description each side sent. Bodies are opaque here (the SDP crate reads them);
//! this room only classifies messages as offer, answer or neither and refuses a second offer
//! while one is outstanding.
//!
//! Rules kept: an offer in an INVITE is answered in the first reliable response (reliable 1xx
//! or 2xx); an INVITE without an offer gets the offer in that response and the answer in the
//! PRACK or the ACK; an UPDATE or PRACK may carry an offer when none is outstanding and its 2xx
//! carries the answer; unreliable 1xx bodies are previews and change nothing; a response
//! repeating the INVITE's answer changes nothing; a failed request withdraws its offer.

use super::error::DialogError;
use crate::message::Message;
use crate::method::Method;
use bytes::Bytes;

/// Which side sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Local,
    Remote,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Local => Side::Remote,
            Side::Remote => Side::Local,
        }
    }
}

/// What a message was in the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OaKind {
    None,
    Offer,
    Answer,
}

/// The outstanding offer: who made it and in which transaction (request method and CSeq).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOffer {
    pub by: Side,
    pub method: Method,
    pub seq: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct InviteExchange {
    seq: u32,
    offer_in_request: bool,
    done: bool,
}

#[derive(Clone, Debug, Default)]
pub struct OfferAnswer {
    pending: Option<PendingOffer>,
    invite: Option<InviteExchange>,
    local_sdp: Option<Bytes>,
    remote_sdp: Option<Bytes>,
}

fn has_sdp(msg: &Message) -> bool {
    !msg.body().is_empty()
        && msg
            .header_value(&crate::header_name::HeaderName::ContentType)
            .is_some_and(|v| crate::headers::ContentType::value_is(v, "application", "sdp"))
}

impl OfferAnswer {
    pub fn new() -> OfferAnswer {
        OfferAnswer::default()
    }
    pub fn pending(&self) -> Option<&PendingOffer> {
        self.pending.as_ref()
    }
    /// Whether an offer we made is unanswered.
    pub fn local_offer_pending(&self) -> bool {
        matches!(&self.pending, Some(p) if p.by == Side::Local)
    }
    /// Whether an offer the peer made is unanswered.
    pub fn remote_offer_pending(&self) -> bool {
        matches!(&self.pending, Some(p) if p.by == Side::Remote)
    }
    /// The last session description we sent (offer or answer).
    pub fn local_sdp(&self) -> Option<&Bytes> {
        self.local_sdp.as_ref()
    }
    pub fn remote_sdp(&self) -> Option<&Bytes> {
        self.remote_sdp.as_ref()
    }

    /// Classifies a message we send.
    pub fn on_send(&mut self, msg: &Message) -> Result<OaKind, DialogError> {
        self.classify(msg, Side::Local)
    }

    /// Classifies a message we received. An offer while ours is outstanding is
    /// `RequestPending` (491); a second offer while the peer's is unanswered is
    /// `PreviousPending` (500).
    pub fn on_receive(&mut self, msg: &Message) -> Result<OaKind, DialogError> {
        self.classify(msg, Side::Remote)
    }

    /// Whether `msg` would be refused as an offer, without changing anything.
    pub fn check_receive(&self, msg: &Message) -> Result<(), DialogError> {
        self.clone().on_receive(msg).map(|_| ())
    }

    fn keep(&mut self, by: Side, body: &Bytes) {
        match by {
            Side::Local => self.local_sdp = Some(body.clone()),
            Side::Remote => self.remote_sdp = Some(body.clone()),
        }
    }

    fn offer(
        &mut self,
        msg: &Message,
        by: Side,
        method: Method,
        seq: u32,
    ) -> Result<OaKind, DialogError> {
        if let Some(p) = &self.pending {
            return Err(match (by, p.by == by) {
                (Side::Local, _) => DialogError::ApiMisuse("an offer is already outstanding"),
                (Side::Remote, false) => DialogError::RequestPending,
                (Side::Remote, true) => DialogError::PreviousPending,
            });
        }
        self.pending = Some(PendingOffer { by, method, seq });
        self.keep(by, msg.body());
        Ok(OaKind::Offer)
    }

    fn answer(&mut self, msg: &Message, by: Side) -> OaKind {
        self.pending = None;
        self.keep(by, msg.body());
        OaKind::Answer
    }

    fn answers_pending(&self, by: Side) -> bool {
        matches!(&self.pending, Some(p) if p.by == by.other())
    }

    fn classify(&mut self, msg: &Message, by: Side) -> Result<OaKind, DialogError> {
        let cseq = msg.cseq().ok_or(DialogError::Missing("CSeq"))?.clone();
        let sdp = has_sdp(msg);
        match msg.status() {
            None => match cseq.method {
                Method::Invite => {
                    if sdp {
                        let kind = self.offer(msg, by, Method::Invite, cseq.seq)?;
                        self.invite = Some(InviteExchange {
                            seq: cseq.seq,
                            offer_in_request: true,
                            done: false,
                        });
                        return Ok(kind);
                    }
                    if self.pending.is_some() {
                        // An INVITE without offer asks for one: impossible while one is open.
                        return Err(match by {
                            Side::Local => {
                                DialogError::ApiMisuse("an offer is already outstanding")
                            }
                            Side::Remote => DialogError::RequestPending,
                        });
                    }
                    self.invite = Some(InviteExchange {
                        seq: cseq.seq,
                        offer_in_request: false,
                        done: false,
                    });
                    Ok(OaKind::None)
                }
                Method::Ack => {
                    let answers_2xx_offer = matches!(&self.pending, Some(p) if p.method == Method::Invite && p.seq == cseq.seq);
                    if sdp && answers_2xx_offer && self.answers_pending(by) {
                        if let Some(inv) = &mut self.invite {
                            inv.done = true;
                        }
                        return Ok(self.answer(msg, by));
                    }
                    Ok(OaKind::None)
                }
                Method::Prack | Method::Update if sdp => {
                    if cseq.method == Method::Prack && self.answers_pending(by) {
                        if let Some(inv) = &mut self.invite {
                            inv.done = true;
                        }
                        return Ok(self.answer(msg, by));
                    }
                    self.offer(msg, by, cseq.method.clone(), cseq.seq)
                }
                _ => Ok(OaKind::None),
            },
            Some(code) => {
                let to_pending = matches!(&self.pending, Some(p) if p.method == cseq.method && p.seq == cseq.seq);
                if code >= 300 {
                    // The request failed: its offer (made by the other side) is withdrawn.
                    if to_pending && self.answers_pending(by) {
                        self.pending = None;
                    }
                    return Ok(OaKind::None);
                }
                let reliable = code >= 200 || msg.requires("100rel");
                if !sdp || !reliable || code == 100 {
                    return Ok(OaKind::None);
                }
                if cseq.method == Method::Invite {
                    let Some(inv) = self.invite.clone().filter(|i| i.seq == cseq.seq) else {
                        return Ok(OaKind::None);
                    };
                    if inv.done {
                        return Ok(OaKind::None);
                    }
                    if inv.offer_in_request {
                        if to_pending && self.answers_pending(by) {
                            if let Some(i) = &mut self.invite {
                                i.done = true;
                            }
                            return Ok(self.answer(msg, by));
                        }
                        return Ok(OaKind::None);
                    }
                    if to_pending {
                        // A second reliable response repeating the offer before it was answered.
                        return Ok(OaKind::None);
                    }
                    return self.offer(msg, by, Method::Invite, cseq.seq);
                }
                if to_pending && self.answers_pending(by) {
                    return Ok(self.answer(msg, by));
                }
                Ok(OaKind::None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::header_name::HeaderName;

    #[test]
    fn offer_in_invite_answered_in_reliable_1xx_then_2xx_ignored() {
        let inv = invite();
        let mut oa = OfferAnswer::new();
        assert_eq!(oa.on_receive(&inv).unwrap(), OaKind::Offer);
        let unreliable = response(&inv, 183, "b", "", Some(SDP));
        assert_eq!(oa.on_send(&unreliable).unwrap(), OaKind::None);
        assert!(oa.remote_offer_pending());
        let reliable = response(&inv, 183, "b", "Require: 100rel\nRSeq: 1\n", Some(SDP));
        assert_eq!(oa.on_send(&reliable).unwrap(), OaKind::Answer);
        assert_eq!(
            oa.on_send(&response(&inv, 200, "b", "", Some(SDP)))
                .unwrap(),
            OaKind::None
        );
        assert!(oa.pending().is_none());
        assert!(oa.local_sdp().is_some() && oa.remote_sdp().is_some());
    }

    #[test]
    fn offer_in_2xx_answered_in_ack() {
        let inv = invite_with("", None);
        let mut oa = OfferAnswer::new();
        assert_eq!(oa.on_send(&inv).unwrap(), OaKind::None);
        assert_eq!(
            oa.on_receive(&response(&inv, 200, "b", "", Some(SDP)))
                .unwrap(),
            OaKind::Offer
        );
        let mut ack = parse("ACK sip:b@b SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\nFrom: <sip:a@a>;tag=a\nTo: <sip:b@b>;tag=b\nCall-ID: c\nCSeq: 10 ACK\n\n");
        ack.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
            .unwrap();
        assert_eq!(oa.on_send(&ack).unwrap(), OaKind::Answer);
    }

    #[test]
    fn second_offer_is_refused_and_failure_withdraws() {
        let inv = invite();
        let mut oa = OfferAnswer::new();
        oa.on_send(&inv).unwrap();
        let mut update = inv.clone();
        update.set_header(HeaderName::CSeq, "1 UPDATE").unwrap();
        assert_eq!(
            oa.on_receive(&update).unwrap_err(),
            DialogError::RequestPending
        );
        // The INVITE fails: our offer is withdrawn and the peer may offer.
        oa.on_receive(&response(&inv, 486, "b", "", None)).unwrap();
        assert_eq!(oa.on_receive(&update).unwrap(), OaKind::Offer);
        let mut update2 = update.clone();
        update2.set_header(HeaderName::CSeq, "2 UPDATE").unwrap();
        assert_eq!(
            oa.on_receive(&update2).unwrap_err(),
            DialogError::PreviousPending
        );
    }
}
