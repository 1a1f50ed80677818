//! Builders for realistic messages used by the dialog tests: an INVITE from Alice (who sits
//! behind two record-routing proxies) to Bob, and the responses Bob's side sends. Test-only.

use crate::message::Message;
use std::time::{Duration, Instant};

pub fn parse(text: &str) -> Message {
    Message::parse(text.replace('\n', "\r\n")).unwrap()
}

pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// Alice's INVITE as Bob receives it, after two proxies record-routed it. `extra` header lines
/// end with `\n`.
pub fn invite_with(extra: &str, body: Option<&str>) -> Message {
    let (ct, b) = match body {
        Some(b) => ("Content-Type: application/sdp\n", b),
        None => ("", ""),
    };
    parse(&format!(
        "INVITE sip:bob@192.0.2.4 SIP/2.0\n\
         Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\n\
         Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\n\
         Via: SIP/2.0/UDP alice.example.com:5060;branch=z9hG4bKa1\n\
         Record-Route: <sip:p2.example.com;lr>\n\
         Record-Route: <sip:p1.example.com;lr>\n\
         Max-Forwards: 68\n\
         From: \"Alice\" <sip:alice@example.com>;tag=a-tag\n\
         To: <sip:bob@example.com>\n\
         Call-ID: call-1@alice.example.com\n\
         CSeq: 10 INVITE\n\
         Contact: <sip:alice@192.0.2.1:5060>\n\
         {extra}{ct}Content-Length: 0\n\n"
    ))
    .with_body(b)
}

trait WithBody {
    fn with_body(self, body: &str) -> Message;
}

impl WithBody for Message {
    /// Puts the body back after `parse` (which rewrites line ends of the head only).
    fn with_body(mut self, body: &str) -> Message {
        if !body.is_empty() {
            let ct = self
                .header_value(&crate::HeaderName::ContentType)
                .map(str::to_string);
            self.set_body(ct.as_deref(), body.as_bytes().to_vec())
                .unwrap();
        }
        self
    }
}

pub fn invite() -> Message {
    invite_with("", Some(SDP))
}

/// Bob's response to `req` with tag `tag`, echoing the Record-Route (as a UAS does) and
/// carrying Bob's Contact. `extra` header lines end with `\n`.
pub fn response(req: &Message, code: u16, tag: &str, extra: &str, body: Option<&str>) -> Message {
    let mut r = Message::response_to(req, code, Message::default_reason(code), Some(tag));
    for h in req.headers_named(&crate::HeaderName::RecordRoute) {
        r.push_raw_header(h.clone()).unwrap();
    }
    r.push_header(
        crate::HeaderName::Contact,
        &format!("<sip:bob-{tag}@192.0.2.4>"),
    )
    .unwrap();
    for line in extra.lines().filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(':').unwrap();
        r.push_header(crate::HeaderName::from_wire(n.trim()), v.trim())
            .unwrap();
    }
    if let Some(b) = body {
        r.set_body(Some("application/sdp"), b.as_bytes().to_vec())
            .unwrap();
    }
    r
}

/// A virtual clock: a base instant plus offsets.
pub struct Clock(pub Instant);

impl Clock {
    pub fn new() -> Clock {
        Clock(Instant::now())
    }
    pub fn at(&self, ms: u64) -> Instant {
        self.0 + Duration::from_millis(ms)
    }
}
