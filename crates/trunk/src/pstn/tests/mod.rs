//! Tests of the PSTN simulator in virtual time: one base `Instant`, the test plays the caller
//! (Tether's trunk side) with messages built by the SIP crate, and runs the simulator's timers
//! at the instants it asks for. No sockets, no sleeping.
//!
//! This file holds the harness; `rules.rs` covers the default plan, `flows.rs` the dialog
//! flows, `config.rs` the dial plan, `soak.rs` many seeded random calls.

mod config;
mod flows;
mod rules;
mod soak;

use super::*;
use std::net::SocketAddr;
use std::time::Duration;
use tether_sip::{HeaderName, Method, StartLine};

pub(super) const OFFER: &str = "v=0\r\no=- 7 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn caller() -> Peer {
    Peer::udp(SocketAddr::from(([192, 0, 2, 10], 5060)))
}

pub(super) fn local() -> Peer {
    Peer::udp(SocketAddr::from(([198, 51, 100, 7], 5070)))
}

pub(super) fn status(m: &Message) -> Option<u16> {
    m.status()
}

pub(super) fn method(m: &Message) -> Option<Method> {
    m.method().cloned()
}

pub(super) fn reason_cause(m: &Message) -> Option<u8> {
    crate::cause::Q850Reason::of_message(m).map(|r| r.cause.value())
}

/// An INVITE from Tether's trunk side to `uri`, built with the SIP crate's request builder.
pub(super) fn invite(uri: &str, call_id: &str, sdp: Option<&str>) -> Message {
    request(Method::Invite, uri, call_id, sdp)
}

/// A request outside any dialog from Tether's trunk side.
pub(super) fn request(method: Method, uri: &str, call_id: &str, sdp: Option<&str>) -> Message {
    let uri = tether_sip::Uri::parse(uri).unwrap();
    let mut m = Message::new_request(method.clone(), uri.clone());
    let h = |m: &mut Message, n: HeaderName, v: &str| m.push_header(n, v).unwrap();
    h(
        &mut m,
        HeaderName::Via,
        &format!("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-{call_id}-1"),
    );
    h(&mut m, HeaderName::MaxForwards, "70");
    h(
        &mut m,
        HeaderName::From,
        &format!("\"Alice\" <sip:2000@tether.example>;tag=from-{call_id}"),
    );
    h(&mut m, HeaderName::To, &format!("<{uri}>"));
    h(&mut m, HeaderName::CallId, call_id);
    h(&mut m, HeaderName::CSeq, &format!("1 {method}"));
    h(&mut m, HeaderName::Contact, "<sip:tether@192.0.2.10:5060>");
    if let Some(sdp) = sdp {
        m.set_body(Some("application/sdp"), sdp.as_bytes().to_vec())
            .unwrap();
    }
    m
}

/// A request of the caller inside the dialog `ok` (a 2xx to `invite`) created.
pub(super) fn in_dialog(
    invite: &Message,
    ok: &Message,
    method: Method,
    seq: u32,
    branch: &str,
) -> Message {
    let target = ok.contact().unwrap().unwrap().uri;
    let mut m = Message::new_request(method.clone(), target);
    m.push_header(
        HeaderName::Via,
        &format!("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-{branch}"),
    )
    .unwrap();
    m.push_header(HeaderName::MaxForwards, "70").unwrap();
    m.push_raw_header(invite.header(&HeaderName::From).unwrap().clone())
        .unwrap();
    m.push_raw_header(ok.header(&HeaderName::To).unwrap().clone())
        .unwrap();
    m.push_raw_header(invite.header(&HeaderName::CallId).unwrap().clone())
        .unwrap();
    m.push_header(HeaderName::CSeq, &format!("{seq} {method}"))
        .unwrap();
    if method != Method::Ack && method != Method::Bye {
        m.push_header(HeaderName::Contact, "<sip:tether@192.0.2.10:5060>")
            .unwrap();
    }
    m
}

pub(super) fn ack(invite: &Message, ok: &Message) -> Message {
    let seq = invite.cseq().unwrap().seq;
    let tag = ok.to_tag().unwrap_or("x").to_owned();
    in_dialog(invite, ok, Method::Ack, seq, &format!("ack-{tag}-{seq}"))
}

/// The caller's answer to a request the simulator sent (its BYE).
pub(super) fn answer(req: &Message, code: u16) -> Message {
    Message::response_to(req, code, Message::default_reason(code), None)
}

/// The simulator and a virtual clock.
pub(super) struct Harness {
    pub sim: PstnSimulator,
    pub t0: Instant,
    pub now: Instant,
    /// ACK every 2xx to INVITE and answer every BYE from the simulator with 200.
    pub auto: bool,
    /// Everything the simulator sent, with the offset it was sent at.
    pub log: Vec<(Duration, Message)>,
    /// The INVITEs the test sent (for the automatic ACK).
    invites: Vec<Message>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(PstnConfig::default())
    }

    pub fn with(cfg: PstnConfig) -> Harness {
        let t0 = Instant::now();
        Harness {
            sim: PstnSimulator::new(cfg, local(), 42).unwrap(),
            t0,
            now: t0,
            auto: true,
            log: Vec::new(),
            invites: Vec::new(),
        }
    }

    pub fn at(&self, offset: Duration) -> Instant {
        self.t0 + offset
    }

    /// Delivers a message from the caller at the current time.
    pub fn send(&mut self, m: Message) {
        self.sim.handle_message(self.now, m, caller()).unwrap();
        self.collect();
    }

    /// Takes what the simulator sent; the caller reacts at once when `auto`.
    fn collect(&mut self) {
        while let Some(t) = self.sim.poll_output() {
            assert_eq!(t.to, caller(), "the simulator only talks to its trunk");
            let m = t.message;
            self.log.push((self.now - self.t0, m.clone()));
            if !self.auto {
                continue;
            }
            let invite_2xx = m.cseq().is_some_and(|c| c.method == Method::Invite)
                && m.status().is_some_and(|s| (200..300).contains(&s));
            if invite_2xx {
                let inv = self
                    .invites
                    .iter()
                    .find(|i| i.call_id() == m.call_id())
                    .cloned();
                if let Some(inv) = inv {
                    self.sim
                        .handle_message(self.now, ack(&inv, &m), caller())
                        .unwrap();
                }
            } else if method(&m) == Some(Method::Bye) {
                self.sim
                    .handle_message(self.now, answer(&m, 200), caller())
                    .unwrap();
            }
        }
    }

    /// Sends an INVITE and remembers it for the automatic ACK.
    pub fn call(&mut self, inv: Message) {
        self.invites.push(inv.clone());
        self.send(inv);
    }

    /// The far end hangs up now.
    pub fn hangup(&mut self, id: CallId) -> Result<(), PstnError> {
        let r = self.sim.hangup(self.now, id);
        self.collect();
        r
    }

    /// Runs the simulator's timers up to `offset` from the start.
    pub fn run_to(&mut self, offset: Duration) {
        let end = self.at(offset);
        while let Some(t) = self.sim.poll_timeout() {
            if t > end {
                break;
            }
            assert!(
                t >= self.now,
                "a deadline in the past: {t:?} < {:?}",
                self.now
            );
            self.now = t;
            self.sim.handle_timeout(t);
            self.collect();
        }
        self.now = end;
    }

    /// The messages sent so far, with their offsets, and forgets them.
    pub fn take(&mut self) -> Vec<(Duration, Message)> {
        std::mem::take(&mut self.log)
    }

    /// Statuses (or methods) of the log as `(ms, "180")` / `(ms, "BYE")`.
    pub fn summary(&mut self) -> Vec<(u64, String)> {
        self.take()
            .into_iter()
            .map(|(d, m)| {
                let what = match m.start_line() {
                    StartLine::Response { code, .. } => code.to_string(),
                    StartLine::Request { method, .. } => method.to_string(),
                };
                (d.as_millis() as u64, what)
            })
            .collect()
    }

    /// Runs far enough for every transaction to end, then checks nothing is left.
    pub fn assert_drains(&mut self) {
        let end = self.now - self.t0 + Duration::from_secs(120);
        self.run_to(end);
        assert!(self.sim.is_idle(), "{:?}", self.sim.footprint());
        assert_eq!(self.sim.poll_timeout(), None);
    }
}
