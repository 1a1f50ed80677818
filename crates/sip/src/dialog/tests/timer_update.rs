//! RFC 3311 and RFC 4028 flows: UPDATE in an early dialog with target refresh, UPDATE glare,
//! 422 and the retry with a larger interval, refresh at half the interval, BYE at expiry.

use super::*;

fn sdp_update(s: &mut Session) -> Message {
    let mut u = s.create_request(Method::Update).unwrap();
    u.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    u
}

#[test]
fn update_in_early_dialog_refreshes_target() {
    let c = Clock::new();
    let inv = invite_with("Supported: 100rel\n", Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let mut r = b.create_response(&inv, 183).unwrap();
    r.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(0), r).unwrap();
    let p183 = one_response(&mut b);
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(10), &p183).unwrap();
    let prack = via(one_request(drain_set(&mut a)));
    b.handle_request(c.at(20), &prack).unwrap();
    drain(&mut b);

    let id = a.sessions()[0].id().clone();
    let s = a.session_mut(&id).unwrap();
    assert_eq!(s.dialog().state(), DialogState::Early);
    s.set_local_contact(NameAddr::parse("<sip:alice@192.0.2.50>").unwrap());
    let upd = sdp_update(s);
    s.send_request(c.at(30), upd).unwrap();
    let upd = via(one_request(drain_set(&mut a)));
    assert_eq!(b.handle_request(c.at(40), &upd).unwrap(), Inbound::Deliver);
    assert_eq!(b.dialog().state(), DialogState::Early);
    assert_eq!(b.dialog().remote_target().as_str(), "sip:alice@192.0.2.50");
    let mut ok = b.create_response(&upd, 200).unwrap();
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(50), ok).unwrap();
    let ok = one_response(&mut b);
    assert!(ok.contact().unwrap().is_some());
    let s = a.session_mut(&id).unwrap();
    assert_eq!(s.handle_response(c.at(60), &ok).unwrap(), Inbound::Deliver);
    assert!(s.offer_answer().pending().is_none());
    assert!(b.offer_answer().pending().is_none());
}

use crate::headers::NameAddr;

#[test]
fn update_glare_491() {
    let c = Clock::new();
    let (mut a, mut b) = confirmed(no_timer(), no_timer(), invite(), &c);
    let a = a.accepted_mut().unwrap();
    let ua = sdp_update(a);
    a.send_request(c.at(0), ua).unwrap();
    let ua = via(one_request(drain(a)));
    let ub = sdp_update(&mut b);
    b.send_request(c.at(0), ub).unwrap();
    let ub = via(one_request(drain(&mut b)));
    assert_eq!(b.handle_request(c.at(5), &ua).unwrap(), Inbound::Handled);
    let r = one_response(&mut b);
    assert_eq!(r.status(), Some(491));
    assert_eq!(a.handle_request(c.at(5), &ub).unwrap(), Inbound::Handled);
    assert_eq!(one_response(a).status(), Some(491));
    assert!(
        a.offer_answer().local_offer_pending(),
        "Alice's offer stays outstanding"
    );
    // Bob's UPDATE got 491: he is not the Call-ID owner, so he retries within 2 s with a new
    // CSeq.
    assert_eq!(
        b.handle_response(c.at(10), &r_for_b(a, &ub)).unwrap(),
        Inbound::Handled
    );
    let Some(Output::Event(Event::GlareBackoff { retry_at })) = b.poll_output() else {
        panic!()
    };
    assert!(retry_at <= c.at(2010));
    b.handle_timeout(retry_at).unwrap();
    let again = one_request(drain(&mut b));
    assert_eq!(again.cseq().unwrap().to_string(), "2 UPDATE");
}

/// The 491 Alice's side sends for Bob's UPDATE (rebuilt, as the first was already polled).
fn r_for_b(a: &Session, ub: &Message) -> Message {
    a.create_response(ub, 491).unwrap()
}

#[test]
fn update_offer_while_peer_offer_unanswered_gets_500() {
    let c = Clock::new();
    let (mut a, mut b) = confirmed(no_timer(), no_timer(), invite(), &c);
    let a = a.accepted_mut().unwrap();
    let u1 = sdp_update(a);
    a.send_request(c.at(0), u1).unwrap();
    let u1 = via(one_request(drain(a)));
    assert_eq!(b.handle_request(c.at(5), &u1).unwrap(), Inbound::Deliver);
    let mut u2 = u1.clone();
    u2.set_header(HeaderName::CSeq, "20 UPDATE").unwrap();
    assert_eq!(b.handle_request(c.at(6), &u2).unwrap(), Inbound::Handled);
    let r = one_response(&mut b);
    assert_eq!(r.status(), Some(500));
    assert!(r.retry_after().unwrap().is_some());
}

#[test]
fn min_se_422_then_retry_with_larger_interval() {
    let c = Clock::new();
    let cfg_a = SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: Some(500),
            ..Default::default()
        },
        ..no_timer()
    };
    let cfg_b = SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: None,
            min_se: 1000,
            ..Default::default()
        },
        ..no_timer()
    };
    let (mut a, mut b) = confirmed(cfg_a, cfg_b, invite(), &c);
    let a = a.accepted_mut().unwrap();
    assert!(a.session_timer().is_none() && b.session_timer().is_none());
    let re = reinvite_from(a);
    assert_eq!(re.session_expires().unwrap().unwrap().delta, 500);
    a.send_request(c.at(0), re).unwrap();
    let re = via(one_request(drain(a)));
    assert_eq!(b.handle_request(c.at(5), &re).unwrap(), Inbound::Handled);
    let r422 = one_response(&mut b);
    assert_eq!(
        (r422.status(), r422.min_se().unwrap()),
        (Some(422), Some(1000))
    );
    assert_eq!(
        a.handle_response(c.at(10), &r422).unwrap(),
        Inbound::Handled
    );
    let retry = via(one_request(drain(a)));
    assert_eq!(retry.cseq().unwrap().to_string(), "12 INVITE");
    assert_eq!(retry.session_expires().unwrap().unwrap().delta, 1000);
    assert_eq!(retry.min_se().unwrap(), Some(1000));
    assert_eq!(
        b.handle_request(c.at(20), &retry).unwrap(),
        Inbound::Deliver
    );
    let mut ok = b.create_response(&retry, 200).unwrap();
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(30), ok).unwrap();
    let ok = one_response(&mut b);
    assert!(ok.requires("timer"));
    assert_eq!(
        ok.header_value(&HeaderName::SessionExpires),
        Some("1000;refresher=uac")
    );
    a.handle_response(c.at(40), &ok).unwrap();
    assert!(matches!(drain(a).as_slice(), [Output::Ack(_)]));
    let n = a.session_timer().unwrap();
    assert_eq!((n.interval, n.we_refresh), (1000, true));
    assert!(!b.session_timer().unwrap().we_refresh);
}

#[test]
fn refresh_at_half_interval_and_bye_when_refreshes_stop() {
    let c = Clock::new();
    let cfg_a = SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: Some(180),
            ..Default::default()
        },
        ..no_timer()
    };
    let cfg_b = SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: None,
            ..Default::default()
        },
        ..no_timer()
    };
    let inv = invite_with(
        "Supported: timer\nSession-Expires: 180\nMin-SE: 90\n",
        Some(SDP),
    );
    let (mut a, mut b) = confirmed(cfg_a, cfg_b, inv, &c);
    let a = a.accepted_mut().unwrap();
    assert_eq!(a.session_timer().unwrap().interval, 180);
    assert!(a.session_timer().unwrap().we_refresh);
    assert!(!b.session_timer().unwrap().we_refresh);
    assert_eq!(b.poll_timeout(), Some(c.at(148_000)), "180 s - min(32, 60)");

    // Alice refreshes at 90 s with an UPDATE.
    assert_eq!(a.poll_timeout(), Some(c.at(90_000)));
    a.handle_timeout(c.at(90_000)).unwrap();
    let upd = via(one_request(drain(a)));
    assert_eq!(upd.method(), Some(&Method::Update));
    assert_eq!(
        upd.header_value(&HeaderName::SessionExpires),
        Some("180;refresher=uac")
    );
    assert!(upd.body().is_empty());
    assert_eq!(
        b.handle_request(c.at(90_010), &upd).unwrap(),
        Inbound::Deliver
    );
    let ok = b.create_response(&upd, 200).unwrap();
    b.send_response(c.at(90_020), ok).unwrap();
    let ok = one_response(&mut b);
    assert_eq!(
        ok.header_value(&HeaderName::SessionExpires),
        Some("180;refresher=uac")
    );
    assert_eq!(
        b.poll_timeout(),
        Some(c.at(90_020 + 148_000)),
        "the refresh restarted Bob's clock"
    );
    a.handle_response(c.at(90_030), &ok).unwrap();
    assert_eq!(a.poll_timeout(), Some(c.at(180_030)));

    // Alice goes silent: Bob hangs up at expiry minus 32 s.
    let got = run_until(&mut b, &c, 300_000);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (238_020, Output::Event(Event::SessionExpired)));
    match &got[1] {
        (238_020, Output::Request(bye)) => assert_eq!(bye.method(), Some(&Method::Bye)),
        other => panic!("{other:?}"),
    }
    assert!(b.is_terminated());
}

#[test]
fn refresh_by_reinvite_carries_last_sdp() {
    let c = Clock::new();
    let cfg_a = SessionConfig {
        session_timer: SessionTimerConfig {
            session_expires: Some(90),
            refresh_method: Method::Invite,
            ..Default::default()
        },
        ..no_timer()
    };
    let inv = invite_with("Supported: timer\nSession-Expires: 90\n", Some(SDP));
    let (mut a, _b) = confirmed(cfg_a, no_timer(), inv, &c);
    let a = a.accepted_mut().unwrap();
    a.handle_timeout(c.at(45_000)).unwrap();
    let re = one_request(drain(a));
    assert_eq!(re.method(), Some(&Method::Invite));
    assert_eq!(re.body().as_ref(), SDP.as_bytes());
    assert_eq!(
        re.header_value(&HeaderName::SessionExpires),
        Some("90;refresher=uac")
    );
}
