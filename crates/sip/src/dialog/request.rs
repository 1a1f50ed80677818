//! Building requests inside a dialog (RFC 3261 §12.2.1.1): Request-URI and Route from the route
//! set (loose routing with `lr`, strict routing otherwise), From/To with tags, Call-ID, CSeq,
//! Max-Forwards and our Contact; the ACK for a 2xx (§13.2.2.4), which reuses the INVITE's CSeq
//! number; and the CANCEL of a pending in-dialog request.
//!
//! Every request built here lacks a Via: the caller prepends one (the transaction layer for
//! requests it sends; the TU, with a fresh branch, for the ACK of a 2xx, which travels outside
//! any transaction). This room changes only the dialog's local CSeq.

use super::dialog::Dialog;
use super::error::DialogError;
use crate::header_name::HeaderName;
use crate::headers::NameAddr;
use crate::message::{HeaderLines, Message};
use crate::method::Method;
use crate::uri::Uri;

/// Max-Forwards of every request we originate (RFC 3261 §8.1.1.6).
pub const MAX_FORWARDS: u8 = 70;

/// [`MAX_FORWARDS`] as header text.
const MAX_FORWARDS_TEXT: &str = "70";

/// A CSeq value: `seq method`.
pub fn cseq_text(seq: u32, method: &Method) -> String {
    let m = method.as_str();
    let mut s = String::with_capacity(11 + m.len());
    crate::digits::push_decimal(&mut s, u64::from(seq));
    s.push(' ');
    s.push_str(m);
    s
}

/// Where a request in the dialog goes: its Request-URI and Route header values.
pub fn route_request(route_set: &[NameAddr], remote_target: &Uri) -> (Uri, Vec<String>) {
    match route_set.first() {
        None => (remote_target.clone(), Vec::new()),
        Some(first) if first.uri.param("lr").is_some() => (
            remote_target.clone(),
            route_set.iter().map(|r| r.to_string()).collect(),
        ),
        Some(first) => {
            // Strict routing: the first route becomes the Request-URI and the remote target
            // goes last in the Route header.
            let mut routes: Vec<String> = route_set.iter().skip(1).map(|r| r.to_string()).collect();
            routes.push(format!("<{remote_target}>"));
            (first.uri.without_headers(), routes)
        }
    }
}

/// Whether our Contact goes in a request of this method (target refresh and dialog-creating
/// methods, and the ones a peer may use to learn our target).
fn carries_contact(method: &Method) -> bool {
    !matches!(
        method,
        Method::Ack | Method::Cancel | Method::Bye | Method::Prack
    )
}

impl Dialog {
    /// A new request in this dialog with the next local CSeq number (a UAS dialog's first one
    /// is 1). ACK and CANCEL are refused: use [`Dialog::create_ack`] and [`cancel_for`].
    /// The caller prepends the Via.
    pub fn create_request(&mut self, method: Method) -> Result<Message, DialogError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(DialogError::ApiMisuse(
                "ACK and CANCEL reuse the INVITE's CSeq",
            ));
        }
        if self.is_terminated() {
            return Err(DialogError::Terminated);
        }
        let seq = self.local_seq.map_or(1, |s| s.wrapping_add(1));
        self.local_seq = Some(seq);
        self.request_with_seq(method, seq)
    }

    /// The ACK for a 2xx to the INVITE numbered `invite_seq` (§13.2.2.4): same CSeq number,
    /// method ACK, routed like any request of the dialog. The caller prepends a Via with a new
    /// branch and adds the answer body when the 2xx carried an offer.
    pub fn create_ack(&self, invite_seq: u32) -> Result<Message, DialogError> {
        self.request_with_seq(Method::Ack, invite_seq)
    }

    fn request_with_seq(&self, method: Method, seq: u32) -> Result<Message, DialogError> {
        let (ruri, routes) = route_request(&self.route_set, &self.remote_target);
        let mut m = Message::new_request(method.clone(), ruri);
        // All the lines in one text, values written straight into it.
        let mut lines = HeaderLines::with_capacity(routes.len() + 6, 256);
        for r in &routes {
            lines.push(HeaderName::Route, r);
        }
        lines
            .push(HeaderName::MaxForwards, MAX_FORWARDS_TEXT)
            .push_with(HeaderName::From, |t| self.local_uri.write_into(t))
            .push_with(HeaderName::To, |t| self.remote_uri.write_into(t))
            .push(HeaderName::CallId, &self.id.call_id)
            .push_with(HeaderName::CSeq, |t| {
                crate::digits::push_decimal(t, u64::from(seq));
                t.push(' ');
                t.push_str(method.as_str());
            });
        if carries_contact(&method) {
            lines.push_with(HeaderName::Contact, |t| self.local_contact.write_into(t));
        }
        m.push_lines(lines)?;
        Ok(m)
    }
}

/// The CANCEL of a request we sent and that is still pending (RFC 3261 §9.1): same
/// Request-URI, top Via, Call-ID, From, To, Route and CSeq number, method CANCEL. Unlike the
/// other builders this copies the Via, since the CANCEL must match the request's branch.
pub fn cancel_for(req: &Message) -> Result<Message, DialogError> {
    let uri = req
        .request_uri()
        .ok_or(DialogError::ApiMisuse("not a request"))?;
    let seq = req.cseq().ok_or(DialogError::Missing("CSeq"))?.seq;
    let via = req.top_via().ok_or(DialogError::Missing("Via"))?;
    let mut m = Message::new_request(Method::Cancel, uri.clone());
    m.push_header(HeaderName::Via, &via.to_string())?;
    for h in req.headers() {
        if matches!(
            h.name(),
            HeaderName::Route | HeaderName::From | HeaderName::To | HeaderName::CallId
        ) {
            m.push_raw_header(h.clone())?;
        }
    }
    m.push_header(HeaderName::MaxForwards, MAX_FORWARDS_TEXT)?;
    m.push_header(HeaderName::CSeq, &cseq_text(seq, &Method::Cancel))?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn route_values(m: &Message) -> Vec<String> {
        m.routes()
            .unwrap()
            .iter()
            .map(|r| r.uri.as_str().to_string())
            .collect()
    }

    #[test]
    fn max_forwards_text_is_the_number() {
        assert_eq!(MAX_FORWARDS_TEXT, MAX_FORWARDS.to_string());
        assert_eq!(
            cseq_text(4_294_967_295, &Method::Invite),
            "4294967295 INVITE"
        );
    }

    #[test]
    fn loose_routing_keeps_target_as_request_uri() {
        let inv = invite();
        let mut d = Dialog::new_uac(&inv, &response(&inv, 200, "b1", "", None)).unwrap();
        let bye = d.create_request(Method::Bye).unwrap();
        assert_eq!(bye.request_uri().unwrap().as_str(), "sip:bob-b1@192.0.2.4");
        assert_eq!(
            route_values(&bye),
            ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
        );
        assert_eq!(bye.from_tag(), Some("a-tag"));
        assert_eq!(bye.to_tag(), Some("b1"));
        assert_eq!(bye.call_id(), Some("call-1@alice.example.com"));
        assert_eq!(bye.cseq().unwrap().to_string(), "11 BYE");
        assert_eq!(bye.max_forwards().unwrap(), Some(70));
        assert!(bye.header(&HeaderName::Contact).is_none());
        assert!(bye.top_via().is_none());
        let reinv = d.create_request(Method::Invite).unwrap();
        assert_eq!(reinv.cseq().unwrap().to_string(), "12 INVITE");
        assert_eq!(
            reinv.contact().unwrap().unwrap().uri.as_str(),
            "sip:alice@192.0.2.1:5060"
        );
        let ack = d.create_ack(12).unwrap();
        assert_eq!(ack.cseq().unwrap().to_string(), "12 ACK");
        assert_eq!(ack.request_uri().unwrap().as_str(), "sip:bob-b1@192.0.2.4");
        assert_eq!(
            route_values(&ack),
            ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
        );
        assert_eq!(d.local_seq(), Some(12));
        assert!(d.create_request(Method::Ack).is_err());
    }

    #[test]
    fn strict_routing_moves_first_route_into_request_uri() {
        let inv = invite_with("", None);
        let mut ok = response(&inv, 200, "b1", "", None);
        ok.set_header(
            HeaderName::RecordRoute,
            "<sip:strict2.example.com>, <sip:strict1.example.com;maddr=192.0.2.9>",
        )
        .unwrap();
        let mut d = Dialog::new_uac(&inv, &ok).unwrap();
        let bye = d.create_request(Method::Bye).unwrap();
        assert_eq!(
            bye.request_uri().unwrap().as_str(),
            "sip:strict1.example.com;maddr=192.0.2.9"
        );
        assert_eq!(
            route_values(&bye),
            ["sip:strict2.example.com", "sip:bob-b1@192.0.2.4"]
        );
    }

    #[test]
    fn uas_requests_start_at_one_and_route_in_order() {
        let inv = invite();
        let mut d = Dialog::new_uas(
            &inv,
            "b-tag",
            NameAddr::parse("<sip:bob@192.0.2.4>").unwrap(),
        )
        .unwrap();
        let bye = d.create_request(Method::Bye).unwrap();
        assert_eq!(bye.cseq().unwrap().seq, 1);
        assert_eq!(
            bye.request_uri().unwrap().as_str(),
            "sip:alice@192.0.2.1:5060"
        );
        assert_eq!(
            route_values(&bye),
            ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
        );
        assert_eq!(
            bye.from_hdr().unwrap().to_string(),
            "<sip:bob@example.com>;tag=b-tag"
        );
        assert_eq!(bye.to_hdr().unwrap().tag(), Some("a-tag"));
    }

    #[test]
    fn cancel_copies_the_request() {
        let inv = invite();
        let c = cancel_for(&inv).unwrap();
        assert_eq!(c.cseq().unwrap().to_string(), "10 CANCEL");
        assert_eq!(c.top_via(), inv.top_via());
        assert_eq!(c.request_uri(), inv.request_uri());
        assert_eq!(c.from_hdr(), inv.from_hdr());
    }
}
