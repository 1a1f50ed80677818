//! Transaction keys: how a received message finds its transaction.
//!
//! Client side (RFC 3261 §17.1.3): the top Via branch and the CSeq method of a response.
//! Server side (§17.2.3): the top Via branch, sent-by and method, with ACK folded onto the INVITE
//! it acknowledges and CANCEL keyed apart; for a branch without the `z9hG4bK` cookie, the
//! RFC 2543 fallback (Request-URI, From tag, Call-ID, CSeq number, top Via; the To tag is
//! compared by the caller because an ACK's To tag is the one of the response, not the request's).
//! The merge key of §8.2.2.2 finds requests that arrive twice over different paths.
//! This room only derives keys from messages; it holds no transactions.

use super::TxnError;
use crate::message::Message;
use crate::method::Method;

/// Identifies a client transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub branch: Box<str>,
    pub method: Method,
}

impl ClientKey {
    /// The key of a request sent or a response received: top Via branch and CSeq method.
    pub fn of(msg: &Message) -> Result<ClientKey, TxnError> {
        if !msg.has_via() {
            return Err(TxnError::Missing("Via"));
        }
        let branch = msg
            .top_via_branch()
            .ok_or(TxnError::Missing("Via branch"))?;
        let cseq = msg.cseq().ok_or(TxnError::Missing("CSeq"))?;
        Ok(ClientKey {
            branch: branch.into(),
            method: cseq.method.clone(),
        })
    }
}

/// Identifies a server transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// RFC 3261: branch (with the magic cookie), sent-by (host lowercased) and method.
    Rfc3261 {
        branch: Box<str>,
        host: Box<str>,
        port: Option<u16>,
        method: Method,
    },
    /// RFC 2543 fallback: everything but the To tag, which the caller compares.
    Rfc2543 {
        request_uri: Box<str>,
        from_tag: Option<Box<str>>,
        call_id: Box<str>,
        seq: u32,
        top_via: Box<str>,
        method: Method,
    },
}

impl ServerKey {
    /// The key of a received request. ACK maps onto the INVITE transaction it acknowledges.
    pub fn of(req: &Message) -> Result<ServerKey, TxnError> {
        let method = req.method().ok_or(TxnError::NotARequest)?;
        let method = if *method == Method::Ack {
            Method::Invite
        } else {
            method.clone()
        };
        if !req.has_via() {
            return Err(TxnError::Missing("Via"));
        }
        if let Some(branch) = req
            .top_via_branch()
            .filter(|b| b.starts_with(crate::headers::via::MAGIC_COOKIE))
        {
            let (host, port) = req.top_via_sent_by().ok_or(TxnError::Missing("Via"))?;
            return Ok(ServerKey::Rfc3261 {
                branch: branch.into(),
                host: host.to_ascii_lowercase().into(),
                port,
                method,
            });
        }
        let via = req.top_via().ok_or(TxnError::Missing("Via"))?;
        let cseq = req.cseq().ok_or(TxnError::Missing("CSeq"))?;
        let call_id = req.call_id().ok_or(TxnError::Missing("Call-ID"))?;
        let uri = req.request_uri().ok_or(TxnError::NotARequest)?;
        Ok(ServerKey::Rfc2543 {
            request_uri: uri.as_str().into(),
            from_tag: req.from_tag().map(Into::into),
            call_id: call_id.into(),
            seq: cseq.seq,
            top_via: via.to_string().into(),
            method,
        })
    }

    /// The same key with another method (a CANCEL's key with INVITE finds what it cancels).
    pub fn with_method(&self, m: Method) -> ServerKey {
        let mut k = self.clone();
        match &mut k {
            ServerKey::Rfc3261 { method, .. } | ServerKey::Rfc2543 { method, .. } => *method = m,
        }
        k
    }

    pub fn is_rfc2543(&self) -> bool {
        matches!(self, ServerKey::Rfc2543 { .. })
    }
}

/// §8.2.2.2: From tag, Call-ID and CSeq of a request, to detect merged requests (and to find the
/// INVITE an ACK for a 2xx belongs to).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MergeKey {
    pub call_id: Box<str>,
    pub from_tag: Option<Box<str>>,
    pub seq: u32,
    pub method: Method,
}

impl MergeKey {
    pub fn of(req: &Message) -> Result<MergeKey, TxnError> {
        let cseq = req.cseq().ok_or(TxnError::Missing("CSeq"))?;
        let call_id = req.call_id().ok_or(TxnError::Missing("Call-ID"))?;
        Ok(MergeKey {
            call_id: call_id.into(),
            from_tag: req.from_tag().map(Into::into),
            seq: cseq.seq,
            method: cseq.method.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, branch: &str, cseq_method: &str, to_tag: &str) -> Message {
        let text = format!(
            "{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP Host.Example.com:5060;branch={branch}\r\n\
             From: <sip:a@example.com>;tag=f1\r\nTo: <sip:bob@example.com>{to_tag}\r\nCall-ID: c1\r\n\
             CSeq: 7 {cseq_method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(text.into_bytes()).unwrap()
    }

    #[test]
    fn ack_folds_onto_invite_and_cancel_stays_apart() {
        let inv = ServerKey::of(&req("INVITE", "z9hG4bKa", "INVITE", "")).unwrap();
        let ack = ServerKey::of(&req("ACK", "z9hG4bKa", "ACK", ";tag=t")).unwrap();
        let cancel = ServerKey::of(&req("CANCEL", "z9hG4bKa", "CANCEL", "")).unwrap();
        assert_eq!(inv, ack);
        assert_ne!(inv, cancel);
        assert_eq!(cancel.with_method(Method::Invite), inv);
        assert!(!inv.is_rfc2543());
    }

    #[test]
    fn sent_by_host_is_case_insensitive_and_part_of_the_key() {
        let a = ServerKey::of(&req("OPTIONS", "z9hG4bKa", "OPTIONS", "")).unwrap();
        let m = req("OPTIONS", "z9hG4bKa", "OPTIONS", "");
        let text = String::from_utf8(m.to_bytes().to_vec())
            .unwrap()
            .replace("Host.Example.com", "host.example.COM");
        let b = ServerKey::of(&Message::parse(text.clone().into_bytes()).unwrap()).unwrap();
        assert_eq!(a, b);
        let c =
            ServerKey::of(&Message::parse(text.replace(":5060", ":5062").into_bytes()).unwrap())
                .unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn rfc2543_fallback_without_cookie() {
        let inv = ServerKey::of(&req("INVITE", "old1", "INVITE", "")).unwrap();
        assert!(inv.is_rfc2543());
        let ack = ServerKey::of(&req("ACK", "old1", "ACK", ";tag=x")).unwrap();
        assert_eq!(inv, ack);
        let other = ServerKey::of(&req("INVITE", "old2", "INVITE", "")).unwrap();
        assert_ne!(inv, other);
    }

    #[test]
    fn client_key_from_response() {
        let r = req("INVITE", "z9hG4bKq", "INVITE", "");
        let resp = Message::response_to(&r, 180, "Ringing", Some("t"));
        assert_eq!(ClientKey::of(&r).unwrap(), ClientKey::of(&resp).unwrap());
        let m = MergeKey::of(&r).unwrap();
        assert_eq!(m.seq, 7);
        assert_eq!(m.from_tag.as_deref(), Some("f1"));
    }
}
