//! Flow tests of the dialog layer (this file: the shared harness) in virtual time: Alice's side (a `DialogSet` for her INVITE)
//! and Bob's side (a UAS `Session`) exchange messages directly, the test standing in for the
//! transaction layer and the network (it prepends Vias and carries messages). No sockets, no
//! sleeping.

pub(super) use super::test_support::*;
pub(super) use super::*;
pub(super) use crate::header_name::HeaderName;
pub(super) use crate::message::Message;
pub(super) use crate::method::Method;

use crate::headers::NameAddr;
use std::cell::Cell;

thread_local!(static BRANCH: Cell<u32> = const { Cell::new(0) });

/// What the transaction layer does to a request before sending it: a Via with a new branch.
pub(super) fn via(mut m: Message) -> Message {
    let n = BRANCH.with(|b| {
        b.set(b.get() + 1);
        b.get()
    });
    m.prepend_header(
        HeaderName::Via,
        &format!("SIP/2.0/UDP host.example.com;branch=z9hG4bKt{n}"),
    )
    .unwrap();
    m
}

pub(super) fn no_timer() -> SessionConfig {
    SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: None,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub(super) fn bob(cfg: SessionConfig, inv: &Message) -> Session {
    Session::uas(
        cfg,
        inv,
        "b-tag",
        NameAddr::parse("<sip:bob@192.0.2.4>").unwrap(),
        Box::new(SeededRandom::new(7)),
    )
    .unwrap()
}

pub(super) fn alice(cfg: SessionConfig, inv: &Message) -> DialogSet {
    DialogSet::new(inv.clone(), cfg, Box::new(SeededRandom::new(11)))
}

pub(super) fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

pub(super) fn drain_set(s: &mut DialogSet) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

pub(super) fn one_response(s: &mut Session) -> Message {
    match drain(s).as_slice() {
        [Output::Response(r)] => r.clone(),
        other => panic!("expected one response, got {other:?}"),
    }
}

pub(super) fn one_request(out: Vec<Output>) -> Message {
    match out.as_slice() {
        [Output::Request(r)] => r.clone(),
        other => panic!("expected one request, got {other:?}"),
    }
}

/// Runs `handle_timeout` at every deadline up to `until` (ms), returning (ms, output) pairs.
pub(super) fn run_until(s: &mut Session, c: &Clock, until: u64) -> Vec<(u64, Output)> {
    let mut got = Vec::new();
    while let Some(t) = s.poll_timeout() {
        let ms = t.duration_since(c.0).as_millis() as u64;
        if ms > until {
            break;
        }
        s.handle_timeout(t).unwrap();
        got.extend(drain(s).into_iter().map(|o| (ms, o)));
    }
    got
}

pub(super) fn status_of(o: &Output) -> Option<u16> {
    match o {
        Output::Response(r) => r.status(),
        _ => None,
    }
}

/// Bob answers Alice's INVITE 200 (with SDP) at t=0.
pub(super) fn bob_answered(cfg: SessionConfig, c: &Clock) -> (Message, Session, Message) {
    let inv = invite();
    let mut b = bob(cfg, &inv);
    let ok = b.create_response(&inv, 200).unwrap();
    let mut ok = ok;
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(0), ok).unwrap();
    let sent = one_response(&mut b);
    (inv, b, sent)
}

/// Confirms Alice (UAC) and Bob (UAS) with one INVITE/200/ACK; returns both sides.
pub(super) fn confirmed(
    cfg_a: SessionConfig,
    cfg_b: SessionConfig,
    inv: Message,
    c: &Clock,
) -> (DialogSet, Session) {
    let mut b = bob(cfg_b, &inv);
    let mut ok = b.create_response(&inv, 200).unwrap();
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(0), ok).unwrap();
    let ok = one_response(&mut b);
    let mut a = alice(cfg_a, &inv);
    a.handle_response(c.at(0), &ok).unwrap();
    let Some(Output::Ack(ack)) = a.poll_output() else {
        panic!("no ACK")
    };
    b.handle_request(c.at(0), &via(ack)).unwrap();
    (a, b)
}

pub(super) fn reinvite_from(s: &mut Session) -> Message {
    let mut r = s.create_request(Method::Invite).unwrap();
    r.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    r
}

mod invite;
mod prack;
mod timer_update;
