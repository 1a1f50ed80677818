//! Server transactions: timers G, H, I, J, L, the automatic 100 Trying, retransmitted requests
//! and ACKs.

use super::*;

/// Feeds a request and returns the id of the server transaction the TU was given.
fn receive(l: &mut TransactionLayer, now: Instant, req: Message, from: Peer) -> TxnId {
    l.handle_message(now, req, from).unwrap();
    let (_, ev) = drain(l);
    match &ev[..] {
        [TuEvent::Request { txn, .. }] => *txn,
        other => panic!("expected one Request event, got {other:?}"),
    }
}

#[test]
fn automatic_100_trying_after_200_ms() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv, udp(5060));
    assert_eq!(l.poll_timeout(), Some(t0 + ms(200)));
    let got = run_until(&mut l, t0 + ms(199));
    assert!(got.is_empty());
    let got = run_until(&mut l, t0 + ms(200));
    assert_eq!(got.len(), 1);
    let Output::Transmit { to, message } = &got[0].1 else {
        panic!()
    };
    assert_eq!(*to, udp(5060));
    assert_eq!(message.status(), Some(100));
    assert_eq!(message.to_tag(), None);
    assert_eq!(l.state(id), Some(TxnState::Proceeding));
    // A retransmitted INVITE gets that 100 again.
    l.handle_message(t0 + ms(500), invite("z9hG4bKa", "c1"), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].1.status(), Some(100));
    assert!(ev.is_empty());
}

#[test]
fn no_automatic_100_when_the_tu_answers_in_time() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    l.respond(t0 + ms(150), id, reply(&inv, 180)).unwrap();
    let got = run_until(&mut l, t0 + Duration::from_secs(10));
    assert_eq!(got.len(), 1);
    let Output::Transmit { message, .. } = &got[0].1 else {
        panic!()
    };
    assert_eq!(message.status(), Some(180));
}

#[test]
fn duplicate_invite_gets_the_last_provisional() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    // Before any response, a retransmission is absorbed.
    l.handle_message(t0 + ms(10), inv.clone(), udp(5060))
        .unwrap();
    assert_eq!(drain(&mut l), (vec![], vec![]));
    l.respond(t0 + ms(20), id, reply(&inv, 180)).unwrap();
    l.respond(t0 + ms(30), id, reply(&inv, 183)).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(500), inv, udp(5060)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].1.status(), Some(183));
    assert!(ev.is_empty());
}

#[test]
fn non_2xx_final_retransmitted_by_g_up_to_t2_then_timer_h() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    l.respond(t0, id, reply(&inv, 486)).unwrap();
    let got = run_from(&mut l, t0, t0 + Duration::from_secs(100));
    assert_eq!(
        secs_f(&transmit_offsets(t0, &got)),
        vec![0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    let ev = events(&got);
    assert_eq!(
        ev[0],
        (
            t0 + Duration::from_secs(32),
            TuEvent::Timeout {
                txn: id,
                timer: Timer::H
            }
        )
    );
    assert_eq!(ev[1].1, TuEvent::Terminated { txn: id });
    assert!(l.is_empty());
}

#[test]
fn ack_confirms_then_absorbed_until_timer_i() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    let busy = reply(&inv, 486);
    l.respond(t0, id, busy.clone()).unwrap();
    drain(&mut l);
    // A retransmitted INVITE in Completed gets the final again.
    l.handle_message(t0 + ms(100), inv.clone(), udp(5060))
        .unwrap();
    let (tx, _) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(486));
    let ack = ack_for_non_2xx(&inv, &busy).unwrap();
    l.handle_message(t0 + ms(200), ack.clone(), udp(5060))
        .unwrap();
    assert_eq!(drain(&mut l), (vec![], vec![]));
    assert_eq!(l.state(id), Some(TxnState::Confirmed));
    // Confirmed absorbs ACKs and INVITEs; G no longer fires.
    l.handle_message(t0 + ms(300), ack, udp(5060)).unwrap();
    l.handle_message(t0 + ms(300), inv, udp(5060)).unwrap();
    assert_eq!(drain(&mut l), (vec![], vec![]));
    let got = run_until(&mut l, t0 + ms(200) + Duration::from_secs(5));
    assert!(transmit_offsets(t0, &got).is_empty());
    assert_eq!(
        events(&got),
        vec![(t0 + ms(5200), TuEvent::Terminated { txn: id })]
    );
}

#[test]
fn over_tcp_no_g_and_the_ack_ends_the_transaction() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), tcp(5060));
    let busy = reply(&inv, 480);
    l.respond(t0, id, busy.clone()).unwrap();
    let got = run_from(&mut l, t0, t0 + Duration::from_secs(10));
    assert_eq!(transmit_offsets(t0, &got).len(), 1);
    l.handle_message(
        t0 + Duration::from_secs(10),
        ack_for_non_2xx(&inv, &busy).unwrap(),
        tcp(5060),
    )
    .unwrap();
    let (_, ev) = drain(&mut l);
    assert_eq!(ev, vec![TuEvent::Terminated { txn: id }]);
}

#[test]
fn accepted_absorbs_invites_passes_acks_and_tu_2xx_until_timer_l() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    let ok = reply(&inv, 200);
    l.respond(t0 + ms(100), id, ok.clone()).unwrap();
    let (tx, _) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(l.state(id), Some(TxnState::Accepted));
    // The layer does not retransmit the 2xx by itself.
    let got = run_until(&mut l, t0 + Duration::from_secs(10));
    assert!(got.is_empty());
    // INVITE retransmissions are absorbed.
    l.handle_message(t0 + Duration::from_secs(10), inv.clone(), udp(5060))
        .unwrap();
    assert_eq!(drain(&mut l), (vec![], vec![]));
    // The TU's 2xx retransmission goes out.
    l.respond(t0 + Duration::from_secs(11), id, ok.clone())
        .unwrap();
    assert_eq!(drain(&mut l).0.len(), 1);
    // A second, different final is refused.
    assert!(matches!(
        l.respond(t0 + Duration::from_secs(11), id, reply(&inv, 486)),
        Err(TxnError::InvalidResponse(_))
    ));
    // The ACK for the 2xx has its own branch: matched through Call-ID, From tag, CSeq, To tag.
    let mut ack = request("ACK", "z9hG4bKack", "c1", 1, ";tag=srv");
    l.handle_message(t0 + Duration::from_secs(12), ack.clone(), udp(5070))
        .unwrap();
    let (_, ev) = drain(&mut l);
    assert!(
        matches!(&ev[..], [TuEvent::AckFor2xx { txn, from, .. }] if *txn == id && *from == udp(5070))
    );
    // An ACK that reuses the INVITE's branch is matched directly.
    let same = request("ACK", "z9hG4bKa", "c1", 1, ";tag=srv");
    l.handle_message(t0 + Duration::from_secs(12), same, udp(5060))
        .unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::AckFor2xx { txn, .. }] if *txn == id));
    // An ACK with another To tag is not for this 2xx.
    ack.set_to_tag("zzz").unwrap();
    let mut other = request("ACK", "z9hG4bKack2", "c1", 1, "");
    other.set_to_tag("zzz").unwrap();
    l.handle_message(t0 + Duration::from_secs(12), other, udp(5060))
        .unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::StrayAck { .. }]));
    // Timer L = 64*T1 after the 2xx.
    let got = run_until(&mut l, t0 + ms(100) + Duration::from_secs(32));
    assert_eq!(
        events(&got),
        vec![(t0 + ms(32_100), TuEvent::Terminated { txn: id })]
    );
    let late = request("ACK", "z9hG4bKack3", "c1", 1, ";tag=srv");
    l.handle_message(t0 + Duration::from_secs(40), late, udp(5060))
        .unwrap();
    assert!(matches!(&drain(&mut l).1[..], [TuEvent::StrayAck { .. }]));
}

#[test]
fn non_invite_server_absorbs_in_trying_and_repeats_afterwards_until_timer_j() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKo", "c2", 1, "");
    let id = receive(&mut l, t0, req.clone(), udp(5060));
    assert_eq!(l.poll_timeout(), None, "no timer in Trying");
    l.handle_message(t0 + ms(500), req.clone(), udp(5060))
        .unwrap();
    assert_eq!(drain(&mut l), (vec![], vec![]));
    l.respond(t0 + ms(600), id, reply(&req, 100)).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(1500), req.clone(), udp(5060))
        .unwrap();
    let (tx, _) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(100));
    assert_eq!(l.state(id), Some(TxnState::Proceeding));
    l.respond(t0 + ms(2000), id, reply(&req, 200)).unwrap();
    drain(&mut l);
    assert_eq!(l.state(id), Some(TxnState::Completed));
    assert!(matches!(
        l.respond(t0 + ms(2000), id, reply(&req, 500)),
        Err(TxnError::InvalidResponse(_))
    ));
    l.handle_message(t0 + ms(3000), req.clone(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx[0].1.status(), Some(200));
    assert!(ev.is_empty());
    let got = run_until(&mut l, t0 + ms(2000) + Duration::from_secs(32));
    assert!(transmit_offsets(t0, &got).is_empty());
    assert_eq!(
        events(&got),
        vec![(t0 + ms(34_000), TuEvent::Terminated { txn: id })]
    );
    assert!(matches!(
        l.respond(t0 + ms(34_000), id, reply(&req, 200)),
        Err(TxnError::UnknownTransaction(_))
    ));
}

#[test]
fn timer_j_is_zero_over_tcp() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKo", "c2", 1, "");
    let id = receive(&mut l, t0, req.clone(), tcp(5060));
    l.respond(t0, id, reply(&req, 200)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(ev, vec![TuEvent::Terminated { txn: id }]);
}

#[test]
fn respond_checks_kind_and_shape() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKo", "c2", 1, "");
    let id = receive(&mut l, t0, req.clone(), udp(5060));
    assert_eq!(l.respond(t0, id, req.clone()), Err(TxnError::NotAResponse));
    let c = l
        .start_client(t0, request("OPTIONS", "z9hG4bKc", "c3", 1, ""), udp(5062))
        .unwrap();
    assert_eq!(
        l.respond(t0, c, reply(&req, 200)),
        Err(TxnError::WrongKind(c))
    );
}

/// A transaction that only absorbs retransmissions keeps no message it will not send again:
/// after the 2xx the INVITE is let go (only To tags are kept, to match the ACK), and a BYE's
/// transaction keeps its final response, to answer a retransmitted BYE, but not the BYE.
#[test]
fn finished_transactions_keep_only_what_they_still_need() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = receive(&mut l, t0, inv.clone(), udp(5060));
    assert_eq!(l.request(id), Some(&inv));
    let mut ok = reply(&inv, 200);
    ok.set_to_tag("t9").unwrap();
    l.respond(t0, id, ok.clone()).unwrap();
    let (tx, _) = drain(&mut l);
    assert_eq!(tx[0].1, ok, "the 2xx goes out whole");
    assert_eq!(l.state(id), Some(TxnState::Accepted));
    assert_eq!(l.request(id), None, "the INVITE is let go");
    // A retransmitted INVITE is absorbed; the ACK for the 2xx still finds the transaction by
    // the 2xx's To tag.
    l.handle_message(t0 + ms(5), inv.clone(), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(tx.is_empty() && ev.is_empty(), "{tx:?} {ev:?}");
    let ack = request("ACK", "z9hG4bKack", "c1", 1, ";tag=t9");
    l.handle_message(t0 + ms(10), ack, udp(5060)).unwrap();
    let (_, ev) = drain(&mut l);
    assert!(
        matches!(&ev[..], [TuEvent::AckFor2xx { txn, .. }] if *txn == id),
        "{ev:?}"
    );
    // An ACK with another To tag is not for it.
    let stray = request("ACK", "z9hG4bKack2", "c1", 1, ";tag=other");
    l.handle_message(t0 + ms(11), stray, udp(5060)).unwrap();
    let (_, ev) = drain(&mut l);
    assert!(matches!(&ev[..], [TuEvent::StrayAck { .. }]), "{ev:?}");

    let bye = request("BYE", "z9hG4bKbye", "c1", 2, ";tag=t9");
    let b = receive(&mut l, t0 + ms(20), bye.clone(), udp(5060));
    let bye_ok = reply(&bye, 200);
    l.respond(t0 + ms(20), b, bye_ok.clone()).unwrap();
    drain(&mut l);
    assert_eq!(l.state(b), Some(TxnState::Completed));
    assert_eq!(l.request(b), None, "the BYE is let go");
    l.handle_message(t0 + ms(30), bye, udp(5060)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(tx.len(), 1, "{tx:?}");
    assert_eq!(tx[0].1, bye_ok, "the retransmitted BYE gets the same 200");
}
