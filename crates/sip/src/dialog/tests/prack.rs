//! RFC 3262 flows: RSeq/RAck, retransmission and timeout of reliable 1xx, the one-at-a-time
//! queue, duplicates and out-of-order 1xx at the UAC, 481 for unmatched PRACK, and offers and
//! answers carried in the 1xx and the PRACK.

use super::*;

fn invite_100rel(body: Option<&str>) -> Message {
    invite_with("Supported: 100rel\n", body)
}

fn reliable(
    b: &mut Session,
    inv: &Message,
    code: u16,
    body: Option<&str>,
    c: &Clock,
    at: u64,
) -> Option<Message> {
    let mut r = b.create_response(inv, code).unwrap();
    if let Some(body) = body {
        r.set_body(Some("application/sdp"), body.as_bytes().to_vec())
            .unwrap();
    }
    b.send_response(c.at(at), r).unwrap();
    drain(b).into_iter().find_map(|o| match o {
        Output::Response(r) => Some(r),
        _ => None,
    })
}

#[test]
fn prack_happy_path_with_rseq_and_rack() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let p183 = reliable(&mut b, &inv, 183, Some(SDP), &c, 0).unwrap();
    assert!(p183.requires("100rel"));
    let rseq = p183.rseq().unwrap().unwrap();
    assert!((1..1 << 31).contains(&rseq));
    assert!(
        b.offer_answer().pending().is_none(),
        "the reliable 183 answered the INVITE's offer"
    );

    let mut a = alice(no_timer(), &inv);
    assert_eq!(
        a.handle_response(c.at(10), &p183).unwrap(),
        Inbound::Deliver
    );
    let prack = via(one_request(drain_set(&mut a)));
    assert_eq!(prack.method(), Some(&Method::Prack));
    assert_eq!(
        prack.header_value(&HeaderName::RAck),
        Some(format!("{rseq} 10 INVITE").as_str())
    );
    assert_eq!(prack.cseq().unwrap().to_string(), "11 PRACK");

    assert_eq!(
        b.handle_request(c.at(20), &prack).unwrap(),
        Inbound::Handled
    );
    let ok = one_response(&mut b);
    assert_eq!(
        (ok.status(), ok.cseq().unwrap().method.clone()),
        (Some(200), Method::Prack)
    );
    assert_eq!(b.poll_timeout(), None, "retransmission stopped");

    // The next reliable 1xx carries RSeq + 1.
    let p180 = reliable(&mut b, &inv, 180, None, &c, 30).unwrap();
    assert_eq!(p180.rseq().unwrap(), Some(rseq + 1));
}

#[test]
fn reliable_1xx_retransmitted_until_timeout() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let p = reliable(&mut b, &inv, 180, None, &c, 0).unwrap();
    let rseq = p.rseq().unwrap().unwrap();
    let got = run_until(&mut b, &c, 60_000);
    let times: Vec<u64> = got
        .iter()
        .filter(|(_, o)| status_of(o) == Some(180))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times, [500, 1500, 3500, 7500, 15_500, 31_500]);
    let events: Vec<&(u64, Output)> = got
        .iter()
        .filter(|(_, o)| matches!(o, Output::Event(_)))
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0],
        &(32_000, Output::Event(Event::PrackTimeout { rseq }))
    );
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn one_unacknowledged_reliable_1xx_at_a_time() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let first = reliable(&mut b, &inv, 180, None, &c, 0).unwrap();
    assert!(
        reliable(&mut b, &inv, 183, Some(SDP), &c, 100).is_none(),
        "queued"
    );
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(110), &first).unwrap();
    let prack = via(one_request(drain_set(&mut a)));
    b.handle_request(c.at(120), &prack).unwrap();
    let out = drain(&mut b);
    assert_eq!(out.len(), 2);
    assert_eq!(status_of(&out[0]), Some(200));
    let Output::Response(second) = &out[1] else {
        panic!()
    };
    assert_eq!(second.status(), Some(183));
    assert_eq!(
        second.rseq().unwrap(),
        Some(first.rseq().unwrap().unwrap() + 1)
    );
    // A final response stops retransmission of the pending one.
    let ok = b.create_response(&inv, 200).unwrap();
    b.send_response(c.at(200), ok).unwrap();
    drain(&mut b);
    let got = run_until(&mut b, &c, 600);
    assert!(
        got.iter().all(|(_, o)| status_of(o) == Some(200)),
        "{got:?}"
    );
}

#[test]
fn uac_ignores_duplicate_and_out_of_order_reliable_1xx() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut a = alice(no_timer(), &inv);
    let p = |rseq: u32| {
        response(
            &inv,
            180,
            "b1",
            &format!("Require: 100rel\nRSeq: {rseq}\n"),
            None,
        )
    };
    assert_eq!(a.handle_response(c.at(0), &p(5)).unwrap(), Inbound::Deliver);
    let prack = one_request(drain_set(&mut a));
    assert_eq!(prack.rack().unwrap().unwrap().rseq, 5);
    assert_eq!(
        a.handle_response(c.at(500), &p(5)).unwrap(),
        Inbound::Handled,
        "retransmission"
    );
    assert!(drain_set(&mut a).is_empty());
    assert_eq!(
        a.handle_response(c.at(600), &p(4)).unwrap(),
        Inbound::Handled,
        "older"
    );
    assert_eq!(
        a.handle_response(c.at(700), &p(7)).unwrap(),
        Inbound::Handled,
        "out of order"
    );
    assert!(drain_set(&mut a).is_empty());
    assert_eq!(
        a.handle_response(c.at(800), &p(6)).unwrap(),
        Inbound::Deliver
    );
    let prack = one_request(drain_set(&mut a));
    assert_eq!(prack.rack().unwrap().unwrap().rseq, 6);
    assert_eq!(prack.cseq().unwrap().seq, 12);
    // An unreliable 1xx is just delivered.
    assert_eq!(
        a.handle_response(c.at(900), &response(&inv, 180, "b1", "", None))
            .unwrap(),
        Inbound::Deliver
    );
    assert!(drain_set(&mut a).is_empty());
}

#[test]
fn prack_without_match_gets_481() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let p = reliable(&mut b, &inv, 180, None, &c, 0).unwrap();
    let rseq = p.rseq().unwrap().unwrap();
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(10), &p).unwrap();
    let good = via(one_request(drain_set(&mut a)));
    for (i, rack) in [
        format!("{} 10 INVITE", rseq + 5),
        format!("{rseq} 9 INVITE"),
    ]
    .iter()
    .enumerate()
    {
        let mut bad = good.clone();
        bad.set_header(HeaderName::RAck, rack).unwrap();
        bad.set_header(HeaderName::CSeq, &format!("{} PRACK", 20 + i))
            .unwrap();
        assert_eq!(b.handle_request(c.at(20), &bad).unwrap(), Inbound::Handled);
        assert_eq!(one_response(&mut b).status(), Some(481));
    }
    // Still retransmitting: nothing matched.
    assert!(b.poll_timeout().is_some());
}

#[test]
fn offer_in_reliable_1xx_answered_in_prack() {
    let c = Clock::new();
    let inv = invite_100rel(None);
    let mut b = bob(no_timer(), &inv);
    let p183 = reliable(&mut b, &inv, 183, Some(SDP), &c, 0).unwrap();
    assert!(b.offer_answer().local_offer_pending());
    let mut a = alice(no_timer(), &inv);
    assert_eq!(
        a.handle_response(c.at(10), &p183).unwrap(),
        Inbound::Deliver
    );
    assert_eq!(
        drain_set(&mut a),
        [Output::Event(Event::AnswerNeeded)],
        "no PRACK without the TU's answer"
    );
    let id = a.sessions()[0].id().clone();
    let s = a.session_mut(&id).unwrap();
    let mut prack = s.create_prack(&p183).unwrap();
    prack
        .set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    s.send_request(c.at(20), prack).unwrap();
    let prack = via(one_request(drain_set(&mut a)));
    assert_eq!(
        b.handle_request(c.at(30), &prack).unwrap(),
        Inbound::Handled
    );
    assert_eq!(one_response(&mut b).status(), Some(200));
    assert!(b.offer_answer().pending().is_none());
}

#[test]
fn offer_in_prack_goes_to_the_tu_and_its_answer_in_the_200() {
    let c = Clock::new();
    let inv = invite_100rel(Some(SDP));
    let mut b = bob(no_timer(), &inv);
    let p183 = reliable(&mut b, &inv, 183, Some(SDP), &c, 0).unwrap();
    let mut a = alice(no_timer(), &inv);
    a.handle_response(c.at(10), &p183).unwrap();
    let mut prack = via(one_request(drain_set(&mut a)));
    prack
        .set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    assert_eq!(
        b.handle_request(c.at(20), &prack).unwrap(),
        Inbound::Deliver
    );
    assert!(drain(&mut b).is_empty(), "the TU answers");
    assert!(b.offer_answer().remote_offer_pending());
    let mut ok = b.create_response(&prack, 200).unwrap();
    ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec())
        .unwrap();
    b.send_response(c.at(30), ok).unwrap();
    assert_eq!(one_response(&mut b).body().len(), SDP.len());
    assert!(b.offer_answer().pending().is_none());
}
