//! The layer around the machines: CANCEL on both sides, merged requests, RFC 2543 matching,
//! stray messages, transport errors and the transaction limit.

use super::*;

fn request_event(ev: &[TuEvent]) -> TxnId {
    match ev {
        [TuEvent::Request { txn, .. }] => *txn,
        other => panic!("expected one Request event, got {other:?}"),
    }
}

#[test]
fn cancel_matching_an_invite_gets_200_and_the_tu_answers_487() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    l.handle_message(t0, inv.clone(), udp(5060)).unwrap();
    let id = request_event(&drain(&mut l).1);
    l.respond(t0 + ms(10), id, reply(&inv, 180)).unwrap();
    drain(&mut l);

    let cancel = cancel_for(&inv).unwrap();
    l.handle_message(t0 + ms(500), cancel.clone(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    let ok = &tx[0].1;
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.cseq().map(|c| c.method.clone()), Some(Method::Cancel));
    assert_eq!(
        ok.to_tag(),
        Some("srv"),
        "§9.2: same To tag as the INVITE's response"
    );
    assert!(matches!(&ev[..], [TuEvent::Cancelled { invite, .. }] if *invite == id));

    // A retransmitted CANCEL gets the 200 again and no second event.
    l.handle_message(t0 + ms(1000), cancel.clone(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(200));
    assert!(ev.is_empty());

    let terminated = reply(&inv, 487);
    l.respond(t0 + ms(600), id, terminated.clone()).unwrap();
    drain(&mut l);
    l.handle_message(
        t0 + ms(700),
        ack_for_non_2xx(&inv, &terminated).unwrap(),
        udp(5060),
    )
    .unwrap();
    assert_eq!(l.state(id), Some(TxnState::Confirmed));
    // Everything ends: the CANCEL's internal transaction (J) and the INVITE's (I).
    let got = run_until(&mut l, t0 + Duration::from_secs(60));
    assert_eq!(
        events(&got).iter().map(|e| e.1.clone()).collect::<Vec<_>>(),
        vec![TuEvent::Terminated { txn: id }]
    );
    assert!(l.is_empty());
}

#[test]
fn cancel_without_match_gets_481_and_after_final_gets_200_without_event() {
    let t0 = Instant::now();
    let mut l = layer();
    let lone = cancel_for(&invite("z9hG4bKnone", "c9")).unwrap();
    l.handle_message(t0, lone, udp(5060)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(481));
    assert!(ev.is_empty());

    let inv = invite("z9hG4bKa", "c1");
    l.handle_message(t0, inv.clone(), udp(5060)).unwrap();
    let id = request_event(&drain(&mut l).1);
    l.respond(t0, id, reply(&inv, 200)).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(10), cancel_for(&inv).unwrap(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(200));
    assert!(
        ev.is_empty(),
        "the INVITE was answered already: nothing to cancel"
    );
}

#[test]
fn client_cancel_waits_for_a_provisional() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), udp(5060)).unwrap();
    drain(&mut l);
    let c = l.cancel(t0 + ms(100), id).unwrap();
    assert_eq!(
        l.cancel(t0 + ms(100), id),
        Ok(c),
        "asking twice gives the same CANCEL"
    );
    assert_eq!(l.state(c), Some(TxnState::WaitingForProvisional));
    assert_eq!(drain(&mut l), (vec![], vec![]));
    assert_eq!(l.len(), 2);

    l.handle_message(t0 + ms(300), reply(&inv, 180), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(matches!(&ev[..], [TuEvent::Response { txn, .. }] if *txn == id));
    assert_eq!(tx.len(), 1);
    let sent = &tx[0].1;
    assert_eq!(sent.method(), Some(&Method::Cancel));
    assert_eq!(sent.top_via(), inv.top_via());
    assert_eq!(sent.routes().unwrap(), inv.routes().unwrap());
    assert_eq!(l.state(c), Some(TxnState::Trying));

    l.handle_message(t0 + ms(400), reply(sent, 200), udp(5060))
        .unwrap();
    let terminated = reply(&inv, 487);
    l.handle_message(t0 + ms(450), terminated, udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1, "ACK for the 487");
    assert!(
        matches!(&ev[0], TuEvent::Response { txn, response } if *txn == c && response.status() == Some(200))
    );
    assert!(
        matches!(&ev[1], TuEvent::Response { txn, response } if *txn == id && response.status() == Some(487))
    );
    run_until(&mut l, t0 + Duration::from_secs(60));
    assert!(l.is_empty());
}

#[test]
fn waiting_cancel_is_dropped_when_the_invite_ends_first() {
    let t0 = Instant::now();
    let mut l = layer();
    // A final response before any provisional.
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), udp(5060)).unwrap();
    let c = l.cancel(t0, id).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(100), reply(&inv, 486), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1, "only the ACK, never the CANCEL");
    assert!(ev.contains(&TuEvent::Terminated { txn: c }));
    assert_eq!(l.cancel(t0, id), Err(TxnError::NotCancellable(id)));

    // Timer B before any response.
    let inv2 = invite("z9hG4bKb", "c2");
    let id2 = l.start_client(t0, inv2, udp(5060)).unwrap();
    let c2 = l.cancel(t0, id2).unwrap();
    let got = run_until(&mut l, t0 + Duration::from_secs(100));
    let ev: Vec<TuEvent> = events(&got).into_iter().map(|e| e.1).collect();
    assert!(ev.contains(&TuEvent::Timeout {
        txn: id2,
        timer: Timer::B
    }));
    assert!(ev.contains(&TuEvent::Terminated { txn: c2 }));
    assert!(got.iter().all(|(_, o)| !matches!(o, Output::Transmit { message, .. } if message.method() == Some(&Method::Cancel))));
    assert!(l.is_empty());
}

#[test]
fn invite_without_final_after_cancel_times_out_after_64_t1() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), udp(5060)).unwrap();
    l.handle_message(t0 + ms(100), reply(&inv, 180), udp(5060))
        .unwrap();
    let c = l.cancel(t0 + ms(1000), id).unwrap();
    let (tx, _) = drain(&mut l);
    let cancel = tx
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Cancel))
        .unwrap()
        .1
        .clone();
    l.handle_message(t0 + ms(1100), reply(&cancel, 200), udp(5060))
        .unwrap();
    let got = run_until(&mut l, t0 + Duration::from_secs(100));
    let ev = events(&got);
    assert!(ev.contains(&(
        t0 + ms(33_000),
        TuEvent::Timeout {
            txn: id,
            timer: Timer::CancelWait
        }
    )));
    assert!(ev.iter().any(|(_, e)| *e == TuEvent::Terminated { txn: c }));
    assert!(l.is_empty());
}

#[test]
fn cancel_refuses_non_invite_and_unknown() {
    let t0 = Instant::now();
    let mut l = layer();
    let o = l
        .start_client(t0, request("OPTIONS", "z9hG4bKo", "c", 1, ""), udp(5060))
        .unwrap();
    assert_eq!(l.cancel(t0, o), Err(TxnError::WrongKind(o)));
    assert_eq!(
        l.cancel(t0, TxnId(999)),
        Err(TxnError::UnknownTransaction(TxnId(999)))
    );
}

#[test]
fn merged_request_gets_482() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    l.handle_message(t0, inv, udp(5060)).unwrap();
    let id = request_event(&drain(&mut l).1);
    // Same From tag, Call-ID and CSeq, another branch: it forked upstream and came back.
    let merged = invite("z9hG4bKother", "c1");
    l.handle_message(t0 + ms(5), merged.clone(), udp(5070))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].0, udp(5070));
    assert_eq!(tx[0].1.status(), Some(482));
    assert!(ev.is_empty());
    // Its retransmission meets the same answer, through its own transaction.
    l.handle_message(t0 + ms(505), merged.clone(), udp(5070))
        .unwrap();
    assert_eq!(drain(&mut l).0[0].1.status(), Some(482));
    let nack = ack_for_non_2xx(&merged, &reply(&merged, 482)).unwrap();
    l.handle_message(t0 + ms(600), nack, udp(5070)).unwrap();
    assert!(drain(&mut l).1.is_empty());
    // With a To tag (in a dialog) it is not a merged request.
    let in_dialog = request("INVITE", "z9hG4bKthird", "c1", 1, ";tag=t");
    l.handle_message(t0 + ms(700), in_dialog, udp(5070))
        .unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::Request { .. }]));
    assert_eq!(l.state(id), Some(TxnState::Proceeding));
}

#[test]
fn rfc2543_requests_match_without_the_cookie() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("oldstyle1", "c1");
    l.handle_message(t0, inv.clone(), udp(5060)).unwrap();
    let id = request_event(&drain(&mut l).1);
    let busy = reply(&inv, 486);
    l.respond(t0, id, busy.clone()).unwrap();
    drain(&mut l);
    // A retransmission: same Request-URI, tags, Call-ID, CSeq and top Via.
    l.handle_message(t0 + ms(100), inv.clone(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(486));
    assert!(ev.is_empty());
    // An ACK whose To tag is not the response's does not match.
    let mut wrong = ack_for_non_2xx(&inv, &busy).unwrap();
    wrong.set_to_tag("nope").unwrap();
    l.handle_message(t0 + ms(150), wrong, udp(5060)).unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::StrayAck { .. }]));
    // The right ACK confirms.
    l.handle_message(
        t0 + ms(200),
        ack_for_non_2xx(&inv, &busy).unwrap(),
        udp(5060),
    )
    .unwrap();
    assert_eq!(l.state(id), Some(TxnState::Confirmed));
    // Another CSeq is another transaction.
    let next = request("INVITE", "oldstyle1", "c1", 2, "");
    l.handle_message(t0 + ms(300), next, udp(5060)).unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::Request { .. }]));
}

#[test]
fn rfc2543_cancel_finds_its_invite() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("oldstyle1", "c1");
    l.handle_message(t0, inv.clone(), udp(5060)).unwrap();
    let id = request_event(&drain(&mut l).1);
    l.handle_message(t0 + ms(10), cancel_for(&inv).unwrap(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(200));
    assert!(matches!(&ev[..], [TuEvent::Cancelled { invite, .. }] if *invite == id));
}

#[test]
fn stray_responses_and_acks_reach_the_tu() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKgone", "c1");
    l.handle_message(t0, reply(&inv, 200), udp(5060)).unwrap();
    l.handle_message(t0, request("ACK", "z9hG4bKx", "c1", 1, ";tag=a"), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(tx.is_empty());
    assert!(matches!(
        &ev[..],
        [TuEvent::StrayResponse { .. }, TuEvent::StrayAck { .. }]
    ));
    assert!(l.is_empty());
}

#[test]
fn transport_error_ends_the_transaction() {
    let t0 = Instant::now();
    let mut l = layer();
    let id = l
        .start_client(t0, invite("z9hG4bKa", "c1"), tcp(5060))
        .unwrap();
    let o = l
        .start_client(t0, request("OPTIONS", "z9hG4bKo", "c2", 1, ""), tcp(5060))
        .unwrap();
    let other = l
        .start_client(t0, request("OPTIONS", "z9hG4bKp", "c3", 1, ""), tcp(5061))
        .unwrap();
    drain(&mut l);
    l.handle_transport_error(t0 + ms(1), TransportFailure::Transaction(id));
    let (_, ev) = drain(&mut l);
    assert_eq!(
        ev,
        vec![
            TuEvent::TransportError { txn: id },
            TuEvent::Terminated { txn: id }
        ]
    );
    // A connection lost: every transaction towards that peer.
    let s = {
        let req = request("MESSAGE", "z9hG4bKs", "c4", 1, "");
        l.handle_message(t0, req, tcp(5060)).unwrap();
        request_event(&drain(&mut l).1)
    };
    l.handle_transport_error(t0 + ms(2), TransportFailure::Peer(tcp(5060)));
    let (_, ev) = drain(&mut l);
    assert_eq!(
        ev,
        vec![
            TuEvent::TransportError { txn: o },
            TuEvent::Terminated { txn: o },
            TuEvent::TransportError { txn: s },
            TuEvent::Terminated { txn: s },
        ]
    );
    assert_eq!(l.len(), 1);
    assert!(l.state(other).is_some());
}

#[test]
fn beyond_the_limit_new_requests_get_503_with_retry_after() {
    let t0 = Instant::now();
    let mut l = TransactionLayer::new(
        Config {
            max_transactions: 2,
            retry_after: 17,
            ..Config::default()
        },
        9,
    );
    l.handle_message(t0, request("OPTIONS", "z9hG4bK1", "c1", 1, ""), udp(5060))
        .unwrap();
    l.start_client(t0, request("OPTIONS", "z9hG4bK2", "c2", 1, ""), udp(5061))
        .unwrap();
    drain(&mut l);
    let third = invite("z9hG4bK3", "c3");
    l.handle_message(t0, third.clone(), udp(5062)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(ev.is_empty());
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].0, udp(5062));
    assert_eq!(tx[0].1.status(), Some(503));
    assert_eq!(tx[0].1.retry_after().unwrap(), Some(17));
    assert_eq!(l.len(), 2, "no transaction for it");
    // Client transactions are still allowed (the TU must be able to hang up).
    assert!(l
        .start_client(t0, request("BYE", "z9hG4bK4", "c4", 2, ";tag=x"), udp(5061))
        .is_ok());
}

#[test]
fn malformed_input_is_refused_not_panicked_on() {
    let t0 = Instant::now();
    let mut l = layer();
    let text = "OPTIONS sip:bob@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: z\r\nContent-Length: 0\r\n\r\n";
    if let Ok(m) = Message::parse(text.as_bytes().to_vec()) {
        assert_eq!(
            l.handle_message(t0, m, udp(5060)),
            Err(TxnError::Missing("Via"))
        );
    }
    assert!(l.is_empty());
}

/// `pending` counts transactions still at work: a request without its final response, one
/// the TU has not answered; those only absorbing retransmissions do not count.
#[test]
fn pending_counts_work_in_progress_only() {
    let t0 = Instant::now();
    let mut l = layer();
    let bye = request("BYE", "z9hG4bKpend", "p1", 2, ";tag=t");
    let client = l.start_client(t0, bye.clone(), udp(5070)).unwrap();
    let inv = invite("z9hG4bKpinv", "p2");
    l.handle_message(t0, inv.clone(), udp(5060)).unwrap();
    let server = request_event(&drain(&mut l).1);
    assert_eq!((l.len(), l.pending()), (2, 2));

    let sent = l.request(client).cloned().unwrap();
    l.handle_message(t0 + ms(10), reply(&sent, 200), udp(5070))
        .unwrap();
    assert_eq!(l.state(client), Some(TxnState::Completed));
    assert_eq!(
        (l.len(), l.pending()),
        (2, 1),
        "the answered BYE waits out timer K"
    );

    l.respond(t0 + ms(20), server, reply(&inv, 486)).unwrap();
    drain(&mut l);
    assert_eq!(l.pending(), 0, "the INVITE only waits for its ACK now");
    assert_eq!(l.len(), 2);
}
