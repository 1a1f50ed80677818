//! Client transactions: timers A, B, D, E, F, K, M, retransmission counts over UDP and TCP,
//! duplicated and reordered responses.

use super::*;

#[test]
fn invite_over_udp_is_sent_seven_times_then_timer_b() {
    let t0 = Instant::now();
    let mut l = layer();
    let id = l
        .start_client(t0, invite("z9hG4bKa", "c1"), udp(5060))
        .unwrap();
    let got = run_from(&mut l, t0, t0 + Duration::from_secs(100));
    // Timer A: T1, 2*T1, 4*T1, ... (§17.1.1.2, no T2 cap for INVITE) until B = 64*T1.
    assert_eq!(
        secs_f(&transmit_offsets(t0, &got)),
        vec![0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    );
    let ev = events(&got);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev[0],
        (
            t0 + Duration::from_secs(32),
            TuEvent::Timeout {
                txn: id,
                timer: Timer::B
            }
        )
    );
    assert_eq!(ev[1].1, TuEvent::Terminated { txn: id });
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn invite_over_tcp_is_sent_once_then_timer_b() {
    let t0 = Instant::now();
    let mut l = layer();
    let id = l
        .start_client(t0, invite("z9hG4bKa", "c1"), tcp(5060))
        .unwrap();
    let got = run_from(&mut l, t0, t0 + Duration::from_secs(100));
    assert_eq!(transmit_offsets(t0, &got), vec![Duration::ZERO]);
    assert_eq!(
        events(&got)[0],
        (
            t0 + Duration::from_secs(32),
            TuEvent::Timeout {
                txn: id,
                timer: Timer::B
            }
        )
    );
    assert!(l.is_empty());
}

#[test]
fn provisional_stops_timer_a_and_b_then_non_2xx_is_acked_and_timer_d_ends_it() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), udp(5060)).unwrap();
    let got = run_until(&mut l, t0 + ms(700));
    assert_eq!(transmit_offsets(t0, &got).len(), 2);
    l.handle_message(t0 + ms(700), reply(&inv, 180), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(tx.is_empty());
    assert!(
        matches!(&ev[..], [TuEvent::Response { txn, response }] if *txn == id && response.status() == Some(180))
    );
    assert_eq!(l.state(id), Some(TxnState::Proceeding));
    // No retransmission and no timer B in Proceeding.
    let got = run_until(&mut l, t0 + Duration::from_secs(60));
    assert!(got.is_empty());
    assert_eq!(l.state(id), Some(TxnState::Proceeding));

    let busy = reply(&inv, 486);
    let at = t0 + Duration::from_secs(60);
    l.handle_message(at, busy.clone(), udp(5060)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    let ack = &tx[0].1;
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.to_tag(), Some("srv"));
    assert_eq!(ack.top_via().and_then(|v| v.branch()), Some("z9hG4bKa"));
    assert_eq!(ack.cseq().map(|c| c.seq), Some(1));
    assert_eq!(ack.routes().unwrap().len(), 1);
    assert!(
        matches!(&ev[..], [TuEvent::Response { response, .. }] if response.status() == Some(486))
    );
    assert_eq!(l.state(id), Some(TxnState::Completed));

    // A retransmitted 486 gets the ACK again and does not reach the TU.
    l.handle_message(at + ms(500), busy, udp(5060)).unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0].1, ack);
    assert!(ev.is_empty());

    // Timer D: 32 s over UDP.
    let got = run_until(&mut l, at + Duration::from_secs(31));
    assert!(got.is_empty());
    let got = run_until(&mut l, at + Duration::from_secs(32));
    assert_eq!(
        events(&got),
        vec![(
            at + Duration::from_secs(32),
            TuEvent::Terminated { txn: id }
        )]
    );
    assert!(l.is_empty());
}

#[test]
fn timer_d_is_zero_over_tcp() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), tcp(5060)).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(10), reply(&inv, 603), tcp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert_eq!(tx.len(), 1, "the ACK");
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1], TuEvent::Terminated { txn: id });
    assert!(l.is_empty());
}

#[test]
fn every_2xx_reaches_the_tu_in_accepted_until_timer_m() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    let id = l.start_client(t0, inv.clone(), udp(5060)).unwrap();
    drain(&mut l);
    let ok = reply(&inv, 200);
    l.handle_message(t0 + ms(100), ok.clone(), udp(5060))
        .unwrap();
    l.handle_message(t0 + ms(600), ok.clone(), udp(5060))
        .unwrap();
    let mut forked = Message::response_to(&inv, 200, "OK", Some("other-fork"));
    forked
        .set_header(HeaderName::Contact, "<sip:b2@example.com>")
        .unwrap();
    l.handle_message(t0 + ms(700), forked, udp(5060)).unwrap();
    // A late provisional or error is ignored.
    l.handle_message(t0 + ms(800), reply(&inv, 180), udp(5060))
        .unwrap();
    l.handle_message(t0 + ms(800), reply(&inv, 500), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(tx.is_empty(), "the ACK for a 2xx is the TU's");
    let codes: Vec<_> = ev
        .iter()
        .map(|e| match e {
            TuEvent::Response { txn, response } if *txn == id => {
                (response.status(), response.to_tag().map(str::to_owned))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(codes.len(), 3);
    assert_eq!(codes[2].1.as_deref(), Some("other-fork"));
    assert_eq!(l.state(id), Some(TxnState::Accepted));
    // Timer M = 64*T1 after the first 2xx.
    let got = run_until(&mut l, t0 + ms(100) + Duration::from_secs(32) - ms(1));
    assert!(got.is_empty());
    let got = run_until(&mut l, t0 + ms(100) + Duration::from_secs(32));
    assert_eq!(events(&got)[0].1, TuEvent::Terminated { txn: id });
    // A 2xx after that is stray: the dialog layer re-ACKs it.
    l.handle_message(t0 + Duration::from_secs(40), ok, udp(5060))
        .unwrap();
    let (_, ev) = drain(&mut l);
    assert!(matches!(&ev[..], [TuEvent::StrayResponse { .. }]));
}

#[test]
fn non_invite_over_udp_doubles_e_up_to_t2_then_timer_f() {
    let t0 = Instant::now();
    let mut l = layer();
    let id = l
        .start_client(t0, request("OPTIONS", "z9hG4bKo", "c2", 1, ""), udp(5060))
        .unwrap();
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
                timer: Timer::F
            }
        )
    );
    assert_eq!(ev[1].1, TuEvent::Terminated { txn: id });
    assert!(l.is_empty());
}

#[test]
fn non_invite_over_tcp_is_sent_once_then_timer_f() {
    let t0 = Instant::now();
    let mut l = layer();
    let id = l
        .start_client(t0, request("BYE", "z9hG4bKo", "c2", 2, ";tag=x"), tcp(5060))
        .unwrap();
    let got = run_from(&mut l, t0, t0 + Duration::from_secs(100));
    assert_eq!(transmit_offsets(t0, &got).len(), 1);
    assert_eq!(
        events(&got)[0].1,
        TuEvent::Timeout {
            txn: id,
            timer: Timer::F
        }
    );
}

#[test]
fn non_invite_proceeding_retransmits_every_t2() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("REGISTER", "z9hG4bKr", "c3", 1, "");
    let id = l.start_client(t0, req.clone(), udp(5060)).unwrap();
    drain(&mut l);
    let early = run_until(&mut l, t0 + ms(600));
    assert_eq!(secs_f(&transmit_offsets(t0, &early)), vec![0.5]);
    l.handle_message(t0 + ms(600), reply(&req, 100), udp(5060))
        .unwrap();
    let (_, ev) = drain(&mut l);
    assert!(matches!(&ev[..], [TuEvent::Response { .. }]));
    assert_eq!(l.state(id), Some(TxnState::Proceeding));
    let got = run_until(&mut l, t0 + ms(12_000));
    // E was due at 1.5 s; from then on every T2.
    assert_eq!(secs_f(&transmit_offsets(t0, &got)), vec![1.5, 5.5, 9.5]);
}

#[test]
fn non_invite_final_then_duplicates_absorbed_until_timer_k() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("INFO", "z9hG4bKi", "c4", 5, ";tag=x");
    let id = l.start_client(t0, req.clone(), udp(5060)).unwrap();
    drain(&mut l);
    let ok = reply(&req, 200);
    l.handle_message(t0 + ms(50), ok.clone(), udp(5060))
        .unwrap();
    l.handle_message(t0 + ms(60), ok.clone(), udp(5060))
        .unwrap();
    // A provisional overtaken by the final arrives late: absorbed.
    l.handle_message(t0 + ms(70), reply(&req, 100), udp(5060))
        .unwrap();
    let (tx, ev) = drain(&mut l);
    assert!(tx.is_empty());
    assert_eq!(ev.len(), 1);
    assert_eq!(l.state(id), Some(TxnState::Completed));
    // No retransmission after the final; timer K = T4.
    let got = run_until(&mut l, t0 + ms(50) + Duration::from_secs(5));
    assert!(transmit_offsets(t0, &got).is_empty());
    assert_eq!(
        events(&got),
        vec![(t0 + ms(5050), TuEvent::Terminated { txn: id })]
    );
}

#[test]
fn timer_k_is_zero_over_tcp() {
    let t0 = Instant::now();
    let mut l = layer();
    let req = request("INFO", "z9hG4bKi", "c4", 5, ";tag=x");
    let id = l.start_client(t0, req.clone(), tcp(5060)).unwrap();
    drain(&mut l);
    l.handle_message(t0 + ms(50), reply(&req, 404), tcp(5060))
        .unwrap();
    let (_, ev) = drain(&mut l);
    assert_eq!(ev.last(), Some(&TuEvent::Terminated { txn: id }));
    assert!(l.is_empty());
}

#[test]
fn start_client_fills_a_missing_branch_and_refuses_ack_and_duplicates() {
    let t0 = Instant::now();
    let mut l = layer();
    let text = String::from_utf8(request("OPTIONS", "x", "c5", 1, "").to_bytes().to_vec())
        .unwrap()
        .replace(";branch=x", "");
    let req = Message::parse(text.into_bytes()).unwrap();
    assert_eq!(req.top_via().unwrap().branch(), None);
    l.start_client(t0, req, udp(5060)).unwrap();
    let (tx, _) = drain(&mut l);
    let sent = &tx[0].1;
    assert!(sent.top_via().unwrap().is_rfc3261_branch());
    assert_eq!(
        Message::parse(sent.to_bytes()).unwrap().top_via(),
        sent.top_via()
    );

    let ack = request("ACK", "z9hG4bKk", "c5", 1, ";tag=t");
    assert_eq!(
        l.start_client(t0, ack, udp(5060)),
        Err(TxnError::AckIsNotATransaction)
    );
    let o = request("OPTIONS", "z9hG4bKdup", "c6", 1, "");
    l.start_client(t0, o.clone(), udp(5060)).unwrap();
    assert_eq!(l.start_client(t0, o, udp(5060)), Err(TxnError::BranchInUse));
    let resp = reply(&request("OPTIONS", "z9hG4bKdup", "c6", 1, ""), 200);
    assert_eq!(
        l.start_client(t0, resp, udp(5060)),
        Err(TxnError::NotARequest)
    );
}

#[test]
fn a_response_for_another_method_with_the_same_branch_does_not_match() {
    let t0 = Instant::now();
    let mut l = layer();
    let inv = invite("z9hG4bKa", "c1");
    l.start_client(t0, inv, udp(5060)).unwrap();
    drain(&mut l);
    // Same branch, CSeq method CANCEL: the CANCEL transaction's response, not the INVITE's.
    let cancel = cancel_for(&invite("z9hG4bKa", "c1")).unwrap();
    l.handle_message(t0 + ms(10), reply(&cancel, 200), udp(5060))
        .unwrap();
    let (_, ev) = drain(&mut l);
    assert!(matches!(&ev[..], [TuEvent::StrayResponse { .. }]));
}
