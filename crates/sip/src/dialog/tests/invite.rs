//! INVITE flows: 2xx retransmission and ACK, re-ACK, forking, glare and overlapping re-INVITEs.

use super::*;

#[test]
fn uas_2xx_retransmitted_t1_doubling_capped_at_t2_until_ack() {
    let c = Clock::new();
    let (inv, mut b, ok) = bob_answered(no_timer(), &c);
    assert_eq!(b.dialog().state(), DialogState::Confirmed);
    // The 2xx echoes the Record-Route and carries Bob's Contact.
    assert_eq!(ok.record_routes().unwrap().len(), 2);
    let times: Vec<u64> = run_until(&mut b, &c, 12_000)
        .into_iter()
        .map(|(t, o)| {
            assert_eq!(status_of(&o), Some(200));
            t
        })
        .collect();
    assert_eq!(times, [500, 1500, 3500, 7500, 11_500]);
    // Alice's ACK stops it.
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(12_000), &ok).unwrap();
    let ack = match drain_set(&mut a).as_slice() {
        [Output::Ack(ack)] => ack.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ack.cseq().unwrap().to_string(), "10 ACK");
    assert_eq!(
        b.handle_request(c.at(12_000), &via(ack)).unwrap(),
        Inbound::Handled
    );
    assert_eq!(b.poll_timeout(), None);
    assert!(drain(&mut b).is_empty());
}

#[test]
fn uas_2xx_without_ack_ends_with_bye_at_64_t1() {
    let c = Clock::new();
    let (_, mut b, _) = bob_answered(no_timer(), &c);
    let got = run_until(&mut b, &c, 40_000);
    let retrans: Vec<u64> = got
        .iter()
        .filter(|(_, o)| status_of(o) == Some(200))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        retrans,
        [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    let rest: Vec<&(u64, Output)> = got.iter().filter(|(_, o)| status_of(o).is_none()).collect();
    assert!(matches!(
        rest[0],
        (32_000, Output::Event(Event::AckTimeout { cseq: 10 }))
    ));
    match rest[1] {
        (32_000, Output::Request(bye)) => {
            assert_eq!(bye.method(), Some(&Method::Bye));
            assert_eq!(
                bye.request_uri().unwrap().as_str(),
                "sip:alice@192.0.2.1:5060"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(b.is_terminated());
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn uac_re_acks_every_retransmitted_2xx() {
    let c = Clock::new();
    let (inv, _b, ok) = bob_answered(no_timer(), &c);
    let mut a = alice(no_timer(), &inv);
    assert_eq!(a.handle_response(c.at(0), &ok).unwrap(), Inbound::Deliver);
    let first = drain_set(&mut a);
    assert_eq!(a.handle_response(c.at(500), &ok).unwrap(), Inbound::Handled);
    assert_eq!(drain_set(&mut a), first);
    assert_eq!(
        a.handle_response(c.at(1500), &ok).unwrap(),
        Inbound::Handled
    );
    assert_eq!(drain_set(&mut a), first);
    let s = a.accepted().unwrap();
    assert_eq!(s.dialog().state(), DialogState::Confirmed);
    let routes: Vec<String> = s
        .dialog()
        .route_set()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
}

#[test]
fn forking_two_early_dialogs_second_2xx_acked_then_byed() {
    let c = Clock::new();
    let inv = invite();
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(0), &response(&inv, 180, "b1", "", None))
        .unwrap();
    a.handle_response(c.at(10), &response(&inv, 180, "b2", "", None))
        .unwrap();
    assert_eq!(a.sessions().len(), 2);
    assert!(a
        .sessions()
        .iter()
        .all(|s| s.dialog().state() == DialogState::Early));
    assert!(drain_set(&mut a).is_empty());

    assert_eq!(
        a.handle_response(c.at(20), &response(&inv, 200, "b2", "", Some(SDP)))
            .unwrap(),
        Inbound::Deliver
    );
    assert_eq!(&*a.accepted().unwrap().id().remote_tag, "b2");
    assert!(matches!(drain_set(&mut a).as_slice(), [Output::Ack(_)]));

    assert_eq!(
        a.handle_response(c.at(30), &response(&inv, 200, "b1", "", Some(SDP)))
            .unwrap(),
        Inbound::Handled
    );
    match drain_set(&mut a).as_slice() {
        [Output::Ack(ack), Output::Request(bye)] => {
            assert_eq!(ack.to_tag(), Some("b1"));
            assert_eq!(ack.request_uri().unwrap().as_str(), "sip:bob-b1@192.0.2.4");
            assert_eq!(bye.method(), Some(&Method::Bye));
            assert_eq!(bye.to_tag(), Some("b1"));
            assert_eq!(bye.cseq().unwrap().to_string(), "11 BYE");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&*a.accepted().unwrap().id().remote_tag, "b2");
    assert!(a.sessions()[0].is_terminated());
    assert!(!a.accepted().unwrap().is_terminated());
}

#[test]
fn failure_ends_early_dialogs() {
    let c = Clock::new();
    let inv = invite();
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(0), &response(&inv, 183, "b1", "", None))
        .unwrap();
    a.handle_response(c.at(5), &response(&inv, 486, "b2", "", None))
        .unwrap();
    assert!(a.sessions()[0].is_terminated());
    assert!(a.accepted().is_none());
}

#[test]
fn reinvite_glare_491_and_backoff_owner_and_non_owner() {
    let c = Clock::new();
    let (mut a, mut b) = confirmed(no_timer(), no_timer(), invite(), &c);
    let a = a.accepted_mut().unwrap();
    // Both send a re-INVITE at once.
    let ra = reinvite_from(a);
    a.send_request(c.at(1000), ra).unwrap();
    let ra = via(one_request(
        std::iter::from_fn(|| a.poll_output()).collect(),
    ));
    let rb = reinvite_from(&mut b);
    b.send_request(c.at(1000), rb).unwrap();
    let rb = via(one_request(drain(&mut b)));
    // Each answers the other's 491.
    assert_eq!(a.handle_request(c.at(1010), &rb).unwrap(), Inbound::Handled);
    let a491 = match a.poll_output() {
        Some(Output::Response(r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(a491.status(), Some(491));
    assert_eq!(b.handle_request(c.at(1010), &ra).unwrap(), Inbound::Handled);
    let b491 = one_response(&mut b);
    assert_eq!(b491.status(), Some(491));

    // Alice generated the Call-ID: 2.1-4 s. Bob did not: 0-2 s.
    assert_eq!(
        a.handle_response(c.at(1020), &b491).unwrap(),
        Inbound::Handled
    );
    let Some(Output::Event(Event::GlareBackoff { retry_at })) = a.poll_output() else {
        panic!()
    };
    let wait = retry_at.duration_since(c.at(1020)).as_millis();
    assert!(
        (2100..=4000).contains(&wait) && wait.is_multiple_of(10),
        "{wait}"
    );
    assert_eq!(
        b.handle_response(c.at(1020), &a491).unwrap(),
        Inbound::Handled
    );
    let Some(Output::Event(Event::GlareBackoff { retry_at: rb_at })) = b.poll_output() else {
        panic!()
    };
    let wait_b = rb_at.duration_since(c.at(1020)).as_millis();
    assert!(wait_b <= 2000 && wait_b.is_multiple_of(10), "{wait_b}");

    // Bob retries first with a new CSeq; Alice accepts it now.
    assert_eq!(b.poll_timeout(), Some(rb_at));
    b.handle_timeout(rb_at).unwrap();
    let retry = via(one_request(drain(&mut b)));
    assert_eq!(retry.cseq().unwrap().to_string(), "2 INVITE");
    assert_eq!(
        retry.header_value(&HeaderName::ContentType),
        Some("application/sdp")
    );
    assert_eq!(a.handle_request(rb_at, &retry).unwrap(), Inbound::Deliver);
    // Alice's own retry, when due while Bob's INVITE is in progress, waits another back-off.
    a.handle_timeout(retry_at).unwrap();
    assert!(matches!(
        a.poll_output(),
        Some(Output::Event(Event::GlareBackoff { .. }))
    ));
    let mut ok = a.create_response(&retry, 200).unwrap();
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    a.send_response(rb_at, ok).unwrap();
    let again = a.poll_timeout().unwrap();
    a.handle_timeout(again).unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| a.poll_output()).collect();
    let resent = outs.iter().find_map(|o| match o {
        Output::Request(r) => Some(r.clone()),
        _ => None,
    });
    // The 2xx retransmission timer may fire first; loop until the INVITE goes.
    let resent = resent.or_else(|| {
        for _ in 0..20 {
            let t = a.poll_timeout()?;
            a.handle_timeout(t).unwrap();
            if let Some(r) = std::iter::from_fn(|| a.poll_output()).find_map(|o| match o {
                Output::Request(r) => Some(r),
                _ => None,
            }) {
                return Some(r);
            }
        }
        None
    });
    assert_eq!(resent.unwrap().cseq().unwrap().to_string(), "12 INVITE");
}

#[test]
fn second_reinvite_while_first_unanswered_gets_500_retry_after() {
    let c = Clock::new();
    let (mut a, mut b) = confirmed(no_timer(), no_timer(), invite(), &c);
    let a = a.accepted_mut().unwrap();
    let r1 = reinvite_from(a);
    a.send_request(c.at(0), r1).unwrap();
    let r1 = via(one_request(
        std::iter::from_fn(|| a.poll_output()).collect(),
    ));
    assert_eq!(b.handle_request(c.at(0), &r1).unwrap(), Inbound::Deliver);
    // A second INVITE from Alice (simulating a misbehaving peer) with a higher CSeq.
    let mut r2 = r1.clone();
    r2.set_header(HeaderName::CSeq, "12 INVITE").unwrap();
    r2.remove_headers(&HeaderName::ContentType);
    r2.set_body(None, Vec::new()).unwrap();
    assert_eq!(b.handle_request(c.at(10), &r2).unwrap(), Inbound::Handled);
    let r = one_response(&mut b);
    assert_eq!(r.status(), Some(500));
    assert!(r.retry_after().unwrap().unwrap() <= 10);
    // A request with a stale CSeq gets 500 too (§12.2.2).
    let mut stale = r1.clone();
    stale.set_header(HeaderName::CSeq, "5 INFO").unwrap();
    assert_eq!(
        b.handle_request(c.at(20), &stale).unwrap(),
        Inbound::Handled
    );
    assert_eq!(one_response(&mut b).status(), Some(500));
}
