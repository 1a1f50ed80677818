//! The two requests the transaction layer derives from an INVITE: the ACK for a non-2xx final
//! response (RFC 3261 §17.1.1.3) and the CANCEL (§9.1).
//!
//! Both copy Request-URI, Call-ID, From and the Route headers of the INVITE byte for byte, carry
//! the INVITE's top Via alone and the INVITE's CSeq number with their own method. This room
//! builds messages only; when they are sent is the state machines' business.

use super::TxnError;
use crate::header_name::HeaderName;
use crate::message::Message;
use crate::method::Method;

/// Max-Forwards for requests the layer builds (RFC 3261 §8.1.1.6).
const MAX_FORWARDS: &str = "70";

fn derived(invite: &Message, method: Method, to_from: &Message) -> Result<Message, TxnError> {
    let uri = invite.request_uri().ok_or(TxnError::NotARequest)?.clone();
    let via = invite.top_via().ok_or(TxnError::Missing("Via"))?;
    let cseq = invite.cseq().ok_or(TxnError::Missing("CSeq"))?;
    let from = invite
        .header(&HeaderName::From)
        .ok_or(TxnError::Missing("From"))?;
    let to = to_from
        .header(&HeaderName::To)
        .ok_or(TxnError::Missing("To"))?;
    let call_id = invite
        .header(&HeaderName::CallId)
        .ok_or(TxnError::Missing("Call-ID"))?;
    let bad = |_| TxnError::Missing("valid core headers");
    let mut m = Message::new_request(method.clone(), uri);
    m.push_header(HeaderName::Via, &via.to_string())
        .map_err(bad)?;
    m.push_header(HeaderName::MaxForwards, MAX_FORWARDS)
        .map_err(bad)?;
    m.push_raw_header(from.clone()).map_err(bad)?;
    m.push_raw_header(to.clone()).map_err(bad)?;
    m.push_raw_header(call_id.clone()).map_err(bad)?;
    m.push_header(HeaderName::CSeq, &format!("{} {}", cseq.seq, method))
        .map_err(bad)?;
    for r in invite.headers_named(&HeaderName::Route) {
        m.push_raw_header(r.clone()).map_err(bad)?;
    }
    Ok(m)
}

/// The ACK for a non-2xx final response to `invite` (§17.1.1.3): To comes from the response,
/// so it carries the response's tag.
pub fn ack_for_non_2xx(invite: &Message, response: &Message) -> Result<Message, TxnError> {
    derived(invite, Method::Ack, response)
}

/// The CANCEL for `invite` (§9.1): To as in the INVITE, same top Via (same branch).
pub fn cancel_for(invite: &Message) -> Result<Message, TxnError> {
    derived(invite, Method::Cancel, invite)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP p.example.com;branch=z9hG4bKx\r\n\
        Via: SIP/2.0/UDP q.example.com;branch=z9hG4bKy\r\n\
        Max-Forwards: 69\r\n\
        Route: <sip:p1.example.com;lr>\r\n\
        Route: <sip:p2.example.com;lr>\r\n\
        To: Bob <sip:bob@biloxi.example.com>\r\n\
        From:   Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
        CSeq: 314159 INVITE\r\n\
        Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
        Content-Type: application/sdp\r\n\
        Content-Length: 4\r\n\r\nv=0\n";

    fn invite() -> Message {
        Message::parse(INVITE.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn ack_for_486_follows_17_1_1_3() {
        let inv = invite();
        let resp = Message::response_to(&inv, 486, "Busy Here", Some("a6c85cf"));
        let ack = ack_for_non_2xx(&inv, &resp).unwrap();
        assert_eq!(ack.method(), Some(&Method::Ack));
        assert_eq!(ack.request_uri(), inv.request_uri());
        assert_eq!(ack.call_id(), inv.call_id());
        assert_eq!(ack.from_hdr(), inv.from_hdr());
        assert_eq!(ack.to_tag(), Some("a6c85cf"));
        assert_eq!(ack.cseq().unwrap().seq, 314159);
        assert_eq!(ack.cseq().unwrap().method, Method::Ack);
        let vias = ack.vias().unwrap();
        assert_eq!(vias.len(), 1);
        assert_eq!(vias[0].branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(ack.headers_named(&HeaderName::Route).count(), 2);
        assert!(ack.body().is_empty());
        assert!(ack.header(&HeaderName::Contact).is_none());
        // It serializes and parses back.
        let again = Message::parse(ack.to_bytes()).unwrap();
        assert_eq!(again.cseq(), ack.cseq());
    }

    #[test]
    fn cancel_follows_9_1() {
        let inv = invite();
        let c = cancel_for(&inv).unwrap();
        assert_eq!(c.method(), Some(&Method::Cancel));
        assert_eq!(c.request_uri(), inv.request_uri());
        assert_eq!(c.to_hdr(), inv.to_hdr());
        assert_eq!(c.to_tag(), None);
        assert_eq!(c.cseq().unwrap().seq, 314159);
        assert_eq!(c.cseq().unwrap().method, Method::Cancel);
        assert_eq!(c.top_via(), inv.top_via());
        assert_eq!(c.vias().unwrap().len(), 1);
        assert_eq!(c.routes().unwrap(), inv.routes().unwrap());
    }
}
