//! The state of one dialog (RFC 3261 §12): identity, Early/Confirmed/Terminated, local and remote
//! CSeq, local and remote URIs, remote target, route set and secure flag — created as UAC from an
//! INVITE and a tagged 1xx/2xx (§12.1.2) or as UAS from an INVITE (§12.1.1), updated by target
//! refreshes. This room keeps no timers and sends nothing; see `request.rs` for building requests.

use super::error::DialogError;
use super::id::{DialogId, Role};
use crate::headers::NameAddr;
use crate::message::Message;
use crate::method::Method;
use crate::uri::{Scheme, Uri};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogState {
    Early,
    Confirmed,
    Terminated,
}

#[derive(Clone, Debug)]
pub struct Dialog {
    pub(super) id: DialogId,
    pub(super) role: Role,
    pub(super) state: DialogState,
    /// Last CSeq number we used (`None` until we send a request, for a UAS).
    pub(super) local_seq: Option<u32>,
    /// Last CSeq number the peer used (`None` until it sends a request, for a UAC).
    pub(super) remote_seq: Option<u32>,
    /// Our URI with our tag (From of our requests).
    pub(super) local_uri: NameAddr,
    /// The peer's URI with its tag (To of our requests).
    pub(super) remote_uri: NameAddr,
    pub(super) remote_target: Uri,
    pub(super) route_set: Vec<NameAddr>,
    pub(super) secure: bool,
    /// Our Contact, sent in target refresh requests and dialog responses.
    pub(super) local_contact: NameAddr,
    /// CSeq number of the INVITE that created the dialog.
    pub(super) initial_invite_seq: u32,
}

fn call_id(msg: &Message) -> Result<&str, DialogError> {
    msg.call_id().ok_or(DialogError::Missing("Call-ID"))
}

fn cseq_of(msg: &Message) -> Result<u32, DialogError> {
    msg.cseq()
        .map(|c| c.seq)
        .ok_or(DialogError::Missing("CSeq"))
}

impl Dialog {
    /// A dialog created by a response to our INVITE (§12.1.2): `resp` is a 101-299 response with
    /// a To tag. The route set is the response's Record-Route in reverse order, the remote target
    /// its Contact (a 1xx without Contact keeps the INVITE's Request-URI until one arrives).
    pub fn new_uac(invite: &Message, resp: &Message) -> Result<Dialog, DialogError> {
        let code = resp
            .status()
            .ok_or(DialogError::ApiMisuse("not a response"))?;
        if !(101..300).contains(&code) {
            return Err(DialogError::ApiMisuse(
                "only a 101-299 response creates a dialog",
            ));
        }
        let req_uri = invite
            .request_uri()
            .ok_or(DialogError::ApiMisuse("not a request"))?;
        let remote_tag = resp.to_tag().ok_or(DialogError::Missing("To tag"))?;
        let from = invite.from_hdr().ok_or(DialogError::Missing("From"))?;
        let local_tag = from.tag().ok_or(DialogError::Missing("From tag"))?;
        let mut remote_uri = invite.to_hdr().ok_or(DialogError::Missing("To"))?.clone();
        remote_uri.set_tag(remote_tag);
        let local_contact = invite
            .contact()?
            .ok_or(DialogError::Missing("Contact in INVITE"))?;
        let remote_target = match resp.contact()? {
            Some(c) => c.uri,
            None if code >= 200 => return Err(DialogError::Missing("Contact in 2xx")),
            None => req_uri.clone(),
        };
        let mut route_set = resp.record_routes()?;
        route_set.reverse();
        Ok(Dialog {
            id: DialogId::new(call_id(invite)?, local_tag, remote_tag),
            role: Role::Uac,
            state: if code >= 200 {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: Some(cseq_of(invite)?),
            remote_seq: None,
            local_uri: from.clone(),
            remote_uri,
            remote_target,
            route_set,
            secure: req_uri.scheme() == Scheme::Sips,
            local_contact,
            initial_invite_seq: cseq_of(invite)?,
        })
    }

    /// A dialog created by our tagged 1xx or 2xx to `invite` (§12.1.1). The dialog starts Early;
    /// sending the 2xx confirms it ([`Dialog::on_response_sent`]). The route set is the INVITE's
    /// Record-Route in order, the remote target its Contact.
    pub fn new_uas(
        invite: &Message,
        local_tag: &str,
        local_contact: NameAddr,
    ) -> Result<Dialog, DialogError> {
        let req_uri = invite
            .request_uri()
            .ok_or(DialogError::ApiMisuse("not a request"))?;
        let from = invite.from_hdr().ok_or(DialogError::Missing("From"))?;
        let remote_tag = from.tag().ok_or(DialogError::Missing("From tag"))?;
        let mut local_uri = invite.to_hdr().ok_or(DialogError::Missing("To"))?.clone();
        local_uri.set_tag(local_tag);
        let remote_target = invite
            .contact()?
            .ok_or(DialogError::Missing("Contact in INVITE"))?
            .uri;
        Ok(Dialog {
            id: DialogId::new(call_id(invite)?, local_tag, remote_tag),
            role: Role::Uas,
            state: DialogState::Early,
            local_seq: None,
            remote_seq: Some(cseq_of(invite)?),
            local_uri,
            remote_uri: from.clone(),
            remote_target,
            route_set: invite.record_routes()?,
            secure: req_uri.scheme() == Scheme::Sips,
            local_contact,
            initial_invite_seq: cseq_of(invite)?,
        })
    }

    pub fn id(&self) -> &DialogId {
        &self.id
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn state(&self) -> DialogState {
        self.state
    }
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }
    pub fn local_uri(&self) -> &NameAddr {
        &self.local_uri
    }
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote_uri
    }
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }
    pub fn secure(&self) -> bool {
        self.secure
    }
    pub fn local_contact(&self) -> &NameAddr {
        &self.local_contact
    }
    pub fn set_local_contact(&mut self, contact: NameAddr) {
        self.local_contact = contact;
    }
    pub fn is_terminated(&self) -> bool {
        self.state == DialogState::Terminated
    }
    /// Whether we generated the Call-ID (we sent the dialog-creating INVITE); decides the
    /// re-INVITE glare back-off range (§14.1).
    pub fn owns_call_id(&self) -> bool {
        self.role == Role::Uac
    }
    /// CSeq number of the INVITE that created the dialog.
    pub fn initial_invite_seq(&self) -> u32 {
        self.initial_invite_seq
    }

    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// Checks that a request the peer sent belongs here and is in order (§12.2.2), and records
    /// its CSeq. A request at or below the last remote CSeq is refused (`CSeqOutOfOrder`, answered
    /// 500); ACK and CANCEL reuse their INVITE's number and are exempt. A target refresh request
    /// (re-INVITE, UPDATE) with a Contact replaces the remote target.
    pub fn on_request_received(&mut self, req: &Message) -> Result<(), DialogError> {
        let method = req
            .method()
            .ok_or(DialogError::ApiMisuse("not a request"))?;
        if !self.id.is_received(req) {
            return Err(DialogError::WrongDialog);
        }
        if self.state == DialogState::Terminated && *method != Method::Ack {
            return Err(DialogError::Terminated);
        }
        let seq = cseq_of(req)?;
        if !matches!(method, Method::Ack | Method::Cancel) {
            if let Some(last) = self.remote_seq {
                if seq <= last {
                    return Err(DialogError::CSeqOutOfOrder { got: seq, last });
                }
            }
            self.remote_seq = Some(seq);
        }
        if is_target_refresh(method) {
            if let Some(c) = req.contact()? {
                self.remote_target = c.uri;
            }
        }
        Ok(())
    }

    /// Applies a response the peer sent to one of our requests in this dialog: on the initial
    /// INVITE, a 1xx/2xx refreshes the remote target, the route set is recomputed from the
    /// response until the dialog is confirmed, and a 2xx confirms it (§12.1.2, §13.2.2.4); a 2xx
    /// to a target refresh request replaces the remote target (§12.2.1.2); a 481 or 408 ends the
    /// dialog.
    pub fn on_response_received(&mut self, resp: &Message) -> Result<(), DialogError> {
        let code = resp
            .status()
            .ok_or(DialogError::ApiMisuse("not a response"))?;
        let cseq = resp.cseq().ok_or(DialogError::Missing("CSeq"))?;
        if !self.id.is_received(resp) {
            return Err(DialogError::WrongDialog);
        }
        let initial = cseq.method == Method::Invite
            && cseq.seq == self.initial_invite_seq
            && self.role == Role::Uac;
        if initial && self.state == DialogState::Early && (101..300).contains(&code) {
            if let Some(c) = resp.contact()? {
                self.remote_target = c.uri;
            }
            let mut routes = resp.record_routes()?;
            routes.reverse();
            self.route_set = routes;
            if code >= 200 {
                self.state = DialogState::Confirmed;
            }
            return Ok(());
        }
        if (200..300).contains(&code) && is_target_refresh(&cseq.method) {
            if let Some(c) = resp.contact()? {
                self.remote_target = c.uri;
            }
        }
        if initial && self.state == DialogState::Early && code >= 300 {
            self.state = DialogState::Terminated;
        }
        if matches!(code, 481 | 408) {
            self.state = DialogState::Terminated;
        }
        Ok(())
    }

    /// Applies a response we send: a 2xx to the initial INVITE confirms a UAS dialog, a final
    /// non-2xx to it ends the early dialog.
    pub fn on_response_sent(&mut self, resp: &Message) {
        let (Some(code), Some(cseq)) = (resp.status(), resp.cseq()) else {
            return;
        };
        let initial = cseq.method == Method::Invite
            && cseq.seq == self.initial_invite_seq
            && self.role == Role::Uas;
        if initial && self.state == DialogState::Early {
            if (200..300).contains(&code) {
                self.state = DialogState::Confirmed;
            } else if code >= 300 {
                self.state = DialogState::Terminated;
            }
        }
    }
}

/// Methods whose requests and 2xx responses replace the remote target (RFC 3261 §12.2,
/// RFC 3311 §5.1, RFC 6665 for SUBSCRIBE/NOTIFY, RFC 3515 for REFER).
pub fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn uris(routes: &[NameAddr]) -> Vec<&str> {
        routes.iter().map(|r| r.uri.as_str()).collect()
    }

    #[test]
    fn uac_creation_reverses_record_route_and_confirms_on_2xx() {
        let inv = invite();
        let ringing = response(&inv, 180, "b1", "", None);
        let mut d = Dialog::new_uac(&inv, &ringing).unwrap();
        assert_eq!(d.state(), DialogState::Early);
        assert_eq!(
            d.id(),
            &DialogId::new("call-1@alice.example.com", "a-tag", "b1")
        );
        assert_eq!(
            uris(d.route_set()),
            ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
        );
        assert_eq!(d.remote_target().as_str(), "sip:bob-b1@192.0.2.4");
        assert_eq!((d.local_seq(), d.remote_seq()), (Some(10), None));
        assert_eq!(d.remote_uri().tag(), Some("b1"));
        assert!(!d.secure());
        assert!(d.owns_call_id());

        // The 2xx recomputes the route set and the target, then they are fixed.
        let mut ok = response(&inv, 200, "b1", "", Some(SDP));
        ok.remove_headers(&crate::HeaderName::RecordRoute);
        ok.push_header(crate::HeaderName::RecordRoute, "<sip:p3.example.com;lr>")
            .unwrap();
        d.on_response_received(&ok).unwrap();
        assert_eq!(d.state(), DialogState::Confirmed);
        assert_eq!(uris(d.route_set()), ["sip:p3.example.com;lr"]);
        let again = response(&inv, 200, "b1", "", Some(SDP));
        d.on_response_received(&again).unwrap();
        assert_eq!(uris(d.route_set()), ["sip:p3.example.com;lr"]);
    }

    #[test]
    fn uac_2xx_without_contact_is_refused() {
        let inv = invite();
        let mut ok = response(&inv, 200, "b1", "", None);
        ok.remove_headers(&crate::HeaderName::Contact);
        assert_eq!(
            Dialog::new_uac(&inv, &ok).unwrap_err(),
            DialogError::Missing("Contact in 2xx")
        );
        let trying = response(&inv, 100, "b1", "", None);
        assert!(Dialog::new_uac(&inv, &trying).is_err());
    }

    #[test]
    fn uas_creation_keeps_record_route_order() {
        let inv = invite_with("", Some(SDP));
        let contact = NameAddr::parse("<sip:bob@192.0.2.4>").unwrap();
        let mut d = Dialog::new_uas(&inv, "b-tag", contact).unwrap();
        assert_eq!(d.state(), DialogState::Early);
        assert_eq!(
            d.id(),
            &DialogId::new("call-1@alice.example.com", "b-tag", "a-tag")
        );
        assert_eq!(
            uris(d.route_set()),
            ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
        );
        assert_eq!(d.remote_target().as_str(), "sip:alice@192.0.2.1:5060");
        assert_eq!((d.local_seq(), d.remote_seq()), (None, Some(10)));
        assert_eq!(d.local_uri().tag(), Some("b-tag"));
        assert!(!d.owns_call_id());
        let ok = d.create_response(&inv, 200).unwrap();
        assert_eq!(ok.to_tag(), Some("b-tag"));
        assert_eq!(
            ok.contact().unwrap().unwrap().uri.as_str(),
            "sip:bob@192.0.2.4"
        );
        d.on_response_sent(&ok);
        assert_eq!(d.state(), DialogState::Confirmed);
    }

    fn in_dialog(method: &str, seq: u32, extra: &str) -> Message {
        parse(&format!(
            "{method} sip:bob@192.0.2.4 SIP/2.0\n\
             Via: SIP/2.0/UDP alice.example.com;branch=z9hG4bK{method}{seq}\n\
             From: <sip:alice@example.com>;tag=a-tag\n\
             To: <sip:bob@example.com>;tag=b-tag\n\
             Call-ID: call-1@alice.example.com\n\
             CSeq: {seq} {method}\n{extra}Content-Length: 0\n\n"
        ))
    }

    fn uas_dialog() -> Dialog {
        let inv = invite();
        Dialog::new_uas(
            &inv,
            "b-tag",
            NameAddr::parse("<sip:bob@192.0.2.4>").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn remote_cseq_must_increase_except_ack() {
        let mut d = uas_dialog();
        let err = d
            .on_request_received(&in_dialog("INFO", 10, ""))
            .unwrap_err();
        assert_eq!(err, DialogError::CSeqOutOfOrder { got: 10, last: 10 });
        assert_eq!(err.status(), 500);
        d.on_request_received(&in_dialog("ACK", 10, "")).unwrap();
        d.on_request_received(&in_dialog("INFO", 12, "")).unwrap();
        assert_eq!(d.remote_seq(), Some(12));
        assert!(d.on_request_received(&in_dialog("INFO", 11, "")).is_err());
        // An ACK arriving late (lower number) is still accepted.
        d.on_request_received(&in_dialog("ACK", 10, "")).unwrap();
        assert_eq!(d.remote_seq(), Some(12));
        let mut other = in_dialog("BYE", 13, "");
        other
            .set_header(crate::HeaderName::CallId, "elsewhere")
            .unwrap();
        assert_eq!(
            d.on_request_received(&other).unwrap_err(),
            DialogError::WrongDialog
        );
    }

    #[test]
    fn uac_dialog_accepts_first_remote_request() {
        let inv = invite();
        let mut d = Dialog::new_uac(&inv, &response(&inv, 200, "b1", "", None)).unwrap();
        let bye = parse(
            "BYE sip:alice@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP b;branch=z9hG4bKb\nFrom: <sip:bob@example.com>;tag=b1\n\
             To: <sip:alice@example.com>;tag=a-tag\nCall-ID: call-1@alice.example.com\nCSeq: 1 BYE\nContent-Length: 0\n\n",
        );
        d.on_request_received(&bye).unwrap();
        assert_eq!(d.remote_seq(), Some(1));
    }

    #[test]
    fn target_refresh_by_request_and_by_2xx() {
        let mut d = uas_dialog();
        d.on_request_received(&in_dialog(
            "INFO",
            11,
            "Contact: <sip:ignored@192.0.2.99>\n",
        ))
        .unwrap();
        assert_eq!(d.remote_target().as_str(), "sip:alice@192.0.2.1:5060");
        d.on_request_received(&in_dialog(
            "INVITE",
            12,
            "Contact: <sip:alice@192.0.2.77>\n",
        ))
        .unwrap();
        assert_eq!(d.remote_target().as_str(), "sip:alice@192.0.2.77");
        d.on_request_received(&in_dialog(
            "UPDATE",
            13,
            "Contact: <sip:alice@192.0.2.78>\n",
        ))
        .unwrap();
        assert_eq!(d.remote_target().as_str(), "sip:alice@192.0.2.78");

        // Our UPDATE's 2xx carrying a new Contact.
        let upd = d.create_request(Method::Update).unwrap();
        let mut upd = upd;
        upd.prepend_header(crate::HeaderName::Via, "SIP/2.0/UDP bob;branch=z9hG4bKu")
            .unwrap();
        let mut ok = Message::response_to(&upd, 200, "OK", None);
        ok.push_header(crate::HeaderName::Contact, "<sip:alice@192.0.2.80>")
            .unwrap();
        d.on_response_received(&ok).unwrap();
        assert_eq!(d.remote_target().as_str(), "sip:alice@192.0.2.80");
        // A 481 ends the dialog.
        let mut info = d.create_request(Method::Info).unwrap();
        info.prepend_header(crate::HeaderName::Via, "SIP/2.0/UDP bob;branch=z9hG4bKi")
            .unwrap();
        d.on_response_received(&Message::response_to(&info, 481, "Gone", None))
            .unwrap();
        assert!(d.is_terminated());
        assert_eq!(
            d.create_request(Method::Bye).unwrap_err(),
            DialogError::Terminated
        );
    }
}
