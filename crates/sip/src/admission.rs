//! UAS request admission (RFC 3261 §8.2.1–§8.2.3): after a request parsed, may this element
//! process it? Method, Request-URI scheme, required extensions, body type and Accept are checked
//! in the RFC's order, and a refusal says which response to send and which headers it needs
//! (Allow, Unsupported, Accept).

use crate::error::{Error, PeerIncompatible};
use crate::header_name::HeaderName;
use crate::message::Message;
use crate::method::Method;
use crate::uri::Scheme;

/// What a UAS supports.
#[derive(Clone, Debug)]
pub struct UasPolicy {
    pub methods: Vec<Method>,
    pub schemes: Vec<Scheme>,
    /// Option tags this UAS implements (for `Require`).
    pub extensions: Vec<String>,
    /// Body types accepted, as `type/subtype` (lowercase).
    pub body_types: Vec<String>,
}

impl Default for UasPolicy {
    fn default() -> Self {
        UasPolicy {
            methods: vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Info,
                Method::Update,
                Method::Prack,
                Method::Refer,
                Method::Notify,
                Method::Subscribe,
                Method::Register,
                Method::Message,
            ],
            schemes: vec![Scheme::Sip, Scheme::Sips, Scheme::Tel],
            extensions: ["100rel", "timer", "replaces", "norefersub", "path"]
                .map(String::from)
                .to_vec(),
            body_types: [
                "application/sdp",
                "application/dtmf-relay",
                "message/sipfrag",
                "application/dialog-info+xml",
                "multipart/mixed",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// A refusal: the error, and the extra headers the response must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub error: Error,
    pub headers: Vec<(HeaderName, String)>,
}

impl Refusal {
    pub fn status(&self) -> (u16, String) {
        self.error.status()
    }

    /// The response to send for `req`.
    pub fn response(&self, req: &Message, to_tag: Option<&str>) -> Message {
        let (code, reason) = self.status();
        let mut r = Message::response_to(req, code, &reason, to_tag);
        for (n, v) in &self.headers {
            // Header values built here are plain text.
            let _ = r.push_header(n.clone(), v);
        }
        r
    }
}

impl UasPolicy {
    fn allow_value(&self) -> String {
        self.methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks a parsed request. ACK and CANCEL skip the extension and body checks (§8.2.2.3).
    pub fn check(&self, req: &Message) -> Result<(), Refusal> {
        let refuse = |p: PeerIncompatible, headers: Vec<(HeaderName, String)>| {
            Err(Refusal {
                error: Error::PeerIncompatible(p),
                headers,
            })
        };
        let Some(method) = req.method() else {
            return Err(Refusal {
                error: Error::ApiMisuse("admission of a response"),
                headers: vec![],
            });
        };
        if !self.methods.contains(method) {
            return refuse(
                PeerIncompatible::Method,
                vec![(HeaderName::Allow, self.allow_value())],
            );
        }
        if req.cseq().is_some_and(|c| c.method != *method) {
            return Err(Refusal {
                error: Error::InvalidMessage(crate::error::InvalidMessage::CSeqMismatch),
                headers: vec![],
            });
        }
        if let Some(uri) = req.request_uri() {
            if !self.schemes.contains(&uri.scheme()) {
                return refuse(PeerIncompatible::UriScheme, vec![]);
            }
        }
        if matches!(method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let required = req.require().unwrap_or_default();
        let unsupported: Vec<String> = required
            .into_iter()
            .filter(|t| !self.extensions.iter().any(|e| e.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let v = unsupported.join(", ");
            return refuse(
                PeerIncompatible::Extension(unsupported),
                vec![(HeaderName::Unsupported, v)],
            );
        }
        if !req.body().is_empty() {
            let ok = match req.content_type() {
                Ok(Some(ct)) => self
                    .body_types
                    .iter()
                    .any(|b| b.split_once('/').is_some_and(|(t, s)| ct.is(t, s))),
                // A body without a type is taken as SDP only for INVITE-like offers.
                Ok(None) => false,
                Err(_) => false,
            };
            if !ok {
                return refuse(
                    PeerIncompatible::MediaType,
                    vec![(HeaderName::Accept, self.body_types.join(", "))],
                );
            }
        }
        if let Ok(Some(accept)) = req.accept() {
            // An INVITE or OPTIONS whose Accept excludes SDP cannot get our answer.
            if matches!(method, Method::Invite | Method::Options)
                && !accept.is_empty()
                && !accept.iter().any(|a| {
                    (a.mtype.as_ref() == "*" || a.mtype.eq_ignore_ascii_case("application"))
                        && (a.subtype.as_ref() == "*" || a.subtype.eq_ignore_ascii_case("sdp"))
                })
            {
                return refuse(
                    PeerIncompatible::NotAcceptable,
                    vec![(HeaderName::Accept, "application/sdp".into())],
                );
            }
        }
        Ok(())
    }
}
