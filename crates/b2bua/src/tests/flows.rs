//! Extend and Connect call flows (SPEC §2, issue 4) through the engine in virtual time.

use std::time::Duration;

use tether_sip::{HeaderName, Method};

use super::harness::*;

fn reason(m: &tether_sip::Message) -> Option<String> {
    m.header_value(&HeaderName::Reason).map(str::to_owned)
}

/// Inbound PSTN call to DN 2000 rings alice's active RD over the trunk; answered; the caller
/// hangs up. Nothing is left behind and one CDR says what happened.
#[test]
fn inbound_call_extended_to_active_rd_and_answered() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    // The INVITE to the RD through the trunk (same gateway address here); no 100 Trying to
    // the caller yet: the RD may ring first.
    let out = b.take_to(PSTN);
    assert!(
        !out.iter().any(|m| m.status() == Some(100)),
        "{:?}",
        summary(&out)
    );
    let leg: Vec<_> = out
        .iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .cloned()
        .collect();
    assert_eq!(leg.len(), 1, "{:?}", summary(&out));
    let leg = &leg[0];
    assert_eq!(
        leg.request_uri().and_then(|u| u.user()),
        Some("+14157777777")
    );
    // The caller's number is passed on; the RD sees who calls.
    assert_eq!(
        leg.from_hdr().and_then(|f| f.uri.user()),
        Some("4085551234")
    );
    assert_eq!(leg.body(), inv.body(), "the offer is relayed");

    // Nothing from the RD within 200 ms: the caller's transaction sends 100 Trying itself,
    // before the caller would retransmit (500 ms).
    b.advance(Duration::from_millis(199));
    assert_eq!(b.statuses_to(PSTN, Method::Invite), Vec::<u16>::new());
    b.advance(Duration::from_millis(1));
    assert_eq!(b.statuses_to(PSTN, Method::Invite), vec![100]);
    b.deliver(&answer(leg, 180, "rd1", false), PSTN);
    assert_eq!(b.statuses_to(PSTN, Method::Invite), vec![180]);
    b.advance(Duration::from_secs(2));
    b.deliver(&answer(leg, 200, "rd1", true), PSTN);
    let out = b.take_to(PSTN);
    let ok = out
        .iter()
        .find(|m| m.status() == Some(200))
        .cloned()
        .expect("200 to the caller");
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "the RD leg is ACKed: {:?}",
        summary(&out)
    );
    assert!(ok.to_tag().is_some());
    assert!(
        !ok.to_bytes().windows(12).any(|w| w == b"+14157777777"),
        "the RD number never reaches the caller"
    );

    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack1"), PSTN);
    b.advance(Duration::from_secs(30));
    assert!(
        b.take_to(PSTN).is_empty(),
        "the 200 is not retransmitted after the ACK"
    );

    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "bye1"), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter()
            .any(|m| m.status() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Bye)),
        "{:?}",
        summary(&out)
    );
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .cloned()
        .expect("BYE to the RD");
    b.deliver(
        &tether_sip::Message::response_to(&bye, 200, "OK", None),
        PSTN,
    );
    b.advance(Duration::from_secs(64));

    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0, "every transaction ended");
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0), "no map entry left");
    assert_eq!(b.engine.channels().in_use(), 0);
    assert_eq!(b.cdrs.len(), 1);
    let cdr = &b.cdrs[0];
    assert_eq!(cdr.calling_party_number, "4085551234");
    assert_eq!(cdr.original_called_party_number, "2000");
    assert_eq!(cdr.dest_device_name, "CTRIDalice");
    assert_eq!(cdr.final_mobile_called_party_number, "+14157777777");
    assert_eq!(cdr.duration, 30);
    assert_eq!(cdr.orig_cause_value, 16);
    assert!(cdr.date_time_connect > cdr.date_time_origination);
}

/// However many messages a call's dialogs see, the engine's timer queue holds one wake-up for
/// them at a time: each message used to add one, which stayed until it fell due.
#[test]
fn a_calls_dialogs_keep_one_wake_up_queued() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd1", false), PSTN);
    b.deliver(&answer(&leg, 200, "rd1", true), PSTN);
    assert!(
        b.take_to(PSTN).iter().any(|m| m.status() == Some(200)),
        "the caller gets the 200"
    );
    let queued = b.engine.timers_queued();
    // The far end retransmits its 200 (each one is ACKed again through the dialog), and the
    // caller's 200 is retransmitted until its ACK: every one of them passes the call's dialogs.
    for i in 1..=10u64 {
        b.advance(Duration::from_millis(10 * i));
        b.deliver(&answer(&leg, 200, "rd1", true), PSTN);
    }
    assert!(
        b.engine.timers_queued() <= queued,
        "{} wake-ups queued after the retransmissions, {queued} before",
        b.engine.timers_queued()
    );
    assert!(
        b.take_to(PSTN)
            .iter()
            .any(|m| m.method() == Some(&Method::Ack)),
        "the retransmitted 200s were ACKed"
    );
}

#[test]
fn rd_busy_is_busy_for_the_caller() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c2", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let mut busy = answer(&leg, 486, "rd2", false);
    busy.push_header(HeaderName::Reason, "Q.850;cause=17")
        .expect("reason");
    b.deliver(&busy, PSTN);
    let out = b.take_to(PSTN);
    let r = out
        .iter()
        .find(|m| m.status() == Some(486))
        .cloned()
        .expect("486 to the caller");
    assert_eq!(reason(&r).as_deref(), Some("Q.850;cause=17"));
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "the 486 is ACKed by the layer"
    );
    b.advance(Duration::from_secs(64));
    assert_eq!(
        (
            b.engine.active_calls(),
            b.engine.transactions(),
            b.cdrs.len()
        ),
        (0, 0, 1)
    );
    assert_eq!(b.cdrs[0].dest_cause_value, 17);
}

#[test]
fn caller_cancels_while_ringing() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c3", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd3", false), PSTN);
    b.take_to(PSTN);
    let cancel = tether_sip::Message::parse(
        format!(
            "CANCEL sip:2000@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN};branch=z9hG4bKc3\r\nMax-Forwards: 70\r\nFrom: <sip:4085551234@pstn.test>;tag=ac3\r\nTo: <sip:2000@10.0.0.1>\r\nCall-ID: c3\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .expect("cancel");
    b.deliver(&cancel, PSTN);
    let out = b.take_to(PSTN);
    assert!(out
        .iter()
        .any(|m| m.status() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Cancel)));
    assert!(
        out.iter().any(|m| m.status() == Some(487)),
        "{:?}",
        summary(&out)
    );
    let cancel_out = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .cloned()
        .expect("CANCEL to the RD");
    b.deliver(
        &tether_sip::Message::response_to(&cancel_out, 200, "OK", None),
        PSTN,
    );
    b.deliver(&answer(&leg, 487, "rd3", false), PSTN);
    b.advance(Duration::from_secs(64));
    assert_eq!(
        (
            b.engine.active_calls(),
            b.engine.transactions(),
            b.cdrs.len()
        ),
        (0, 0, 1)
    );
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
}

#[test]
fn rd_hangs_up_first() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c4", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_b = answer(&leg, 200, "rd4", true);
    b.deliver(&ok_b, PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to caller");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack4"), PSTN);
    b.deliver(&far_in_dialog(&leg, &ok_b, Method::Bye, 2, "farbye4"), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter()
            .any(|m| m.status() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Bye)),
        "{:?}",
        summary(&out)
    );
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .cloned()
        .expect("BYE to the caller");
    assert_eq!(bye.call_id(), Some("c4"));
    b.deliver(
        &tether_sip::Message::response_to(&bye, 200, "OK", None),
        PSTN,
    );
    b.advance(Duration::from_secs(64));
    assert_eq!(
        (
            b.engine.active_calls(),
            b.engine.transactions(),
            b.cdrs.len()
        ),
        (0, 0, 1)
    );
    assert_eq!(b.cdrs[0].dest_cause_value, 16);
}

#[test]
fn device_without_active_rd_is_busy() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c5", "4085551234", "2003", PSTN), PSTN);
    let out = b.take_to(PSTN);
    let r = out
        .iter()
        .find(|m| m.status() == Some(486))
        .cloned()
        .expect("486");
    assert_eq!(reason(&r).as_deref(), Some("Q.850;cause=17"));
    assert!(!out.iter().any(|m| m.method() == Some(&Method::Invite)));
}

#[test]
fn unknown_source_is_refused() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c6", "666", "2000", STRANGER), STRANGER);
    assert_eq!(b.statuses_to(STRANGER, Method::Invite), vec![403]);
    assert_eq!(b.engine.stats().refused_unknown_source, 1);
}

#[test]
fn full_trunk_answers_503_cause_34() {
    // One channel: the inbound call takes it, so the outbound leg to the RD finds it full.
    let mut b = Bench::new(provisioning(Some(1)));
    b.deliver(&invite("c7", "4085551234", "2000", PSTN), PSTN);
    let out = b.take_to(PSTN);
    let r = out
        .iter()
        .find(|m| m.status() == Some(503))
        .cloned()
        .expect("503");
    assert_eq!(reason(&r).as_deref(), Some("Q.850;cause=34"));
    assert_eq!(b.engine.channels().in_use(), 0);
}

#[test]
fn unknown_number_is_404_cause_1() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c8", "4085551234", "7777", PSTN), PSTN);
    let out = b.take_to(PSTN);
    let r = out
        .iter()
        .find(|m| m.status() == Some(404))
        .cloned()
        .expect("404");
    assert_eq!(reason(&r).as_deref(), Some("Q.850;cause=1"));
}

/// Bob has no active RD and routes to all: both RDs ring after delay-before-ringing; one answers
/// within answer-too-soon (a voicemail) and is hung up; the other answers later and wins.
#[test]
fn fork_to_all_rds_with_fast_voicemail() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("c9", "4085551234", "2002", PSTN);
    b.deliver(&inv, PSTN);
    assert!(
        !b.take_to(PSTN)
            .iter()
            .any(|m| m.method() == Some(&Method::Invite)),
        "nothing before the delay"
    );
    b.advance(Duration::from_millis(4000));
    let legs: Vec<_> = b
        .take_to(PSTN)
        .into_iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .collect();
    assert_eq!(legs.len(), 2);
    let (vm, person) = (&legs[0], &legs[1]);
    b.deliver(&answer(person, 180, "p", false), PSTN);
    b.advance(Duration::from_millis(500));
    b.deliver(&answer(vm, 200, "vm", true), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        !out.iter().any(
            |m| m.status() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Invite)
        ),
        "the voicemail's answer is not relayed: {:?}",
        summary(&out)
    );
    let vm_bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .cloned()
        .expect("voicemail leg hung up");
    b.deliver(
        &tether_sip::Message::response_to(&vm_bye, 200, "OK", None),
        PSTN,
    );
    b.advance(Duration::from_secs(3));
    b.deliver(&answer(person, 200, "p", true), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter().any(
            |m| m.status() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Invite)
        ),
        "{:?}",
        summary(&out)
    );
    assert_eq!(b.engine.stats().answered, 1);
}

/// Draining (a node being stopped): new INVITEs get 503 with Retry-After and leave no call;
/// the call already up goes on to its end; OPTIONS is still answered; undraining accepts again.
#[test]
fn draining_refuses_new_calls_and_lets_active_ones_finish() {
    let mut b = Bench::with_config(provisioning(None), |c| {
        c.drain_retry_after = Duration::from_secs(45);
    });
    let inv = invite("d1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_b = answer(&leg, 200, "rdd1", true);
    b.deliver(&ok_b, PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to the caller");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ackd1"), PSTN);

    b.engine.set_draining(true);
    assert!(b.engine.is_draining());
    b.deliver(&invite("d2", "4085551234", "2000", PSTN), PSTN);
    let out = b.take_to(PSTN);
    let refused = out
        .iter()
        .find(|m| m.status() == Some(503))
        .cloned()
        .unwrap_or_else(|| panic!("503 for the new call: {:?}", summary(&out)));
    assert_eq!(
        refused.header_value(&HeaderName::RetryAfter),
        Some("45"),
        "Retry-After says when to come back"
    );
    assert!(
        !out.iter().any(|m| m.method() == Some(&Method::Invite)),
        "no leg is started while draining: {:?}",
        summary(&out)
    );
    assert_eq!(b.engine.active_calls(), 1, "the refused call is not a call");
    assert_eq!(b.engine.stats().refused_draining, 1);

    let options = tether_sip::Message::parse(
        format!(
            "OPTIONS sip:10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN};branch=z9hG4bKo1\r\nMax-Forwards: 70\r\nFrom: <sip:probe@pstn.test>;tag=o1\r\nTo: <sip:10.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .expect("options");
    b.deliver(&options, PSTN);
    assert_eq!(b.statuses_to(PSTN, Method::Options), vec![200]);

    // The active call ends normally.
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "byed1"), PSTN);
    let bye = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .expect("BYE to the RD");
    b.deliver(
        &tether_sip::Message::response_to(&bye, 200, "OK", None),
        PSTN,
    );
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.cdrs.len(), 1, "one CDR: the call that was up");

    b.engine.set_draining(false);
    b.deliver(&invite("d3", "4085551234", "2000", PSTN), PSTN);
    b.expect_request(PSTN, Method::Invite);
    assert_eq!(b.engine.active_calls(), 1);
}

/// Every call attempt leaves a CDR, answered or not, with its cause; a request from an unknown
/// source is not a call and leaves none. Global call ids start where the driver says.
#[test]
fn refused_calls_leave_cdrs_with_their_cause() {
    let mut b = Bench::with_config(provisioning(Some(1)), |c| c.first_call_id = 1000);
    b.deliver(&invite("r1", "4085551234", "2003", PSTN), PSTN); // no active RD: 486
    b.deliver(&invite("r2", "4085551234", "7777", PSTN), PSTN); // unallocated: 404
    b.deliver(&invite("r3", "666", "2000", STRANGER), STRANGER); // not a call
    b.deliver(&invite("r4", "4085551234", "2000", PSTN), PSTN); // outbound leg finds the trunk full
    b.advance(Duration::from_secs(64));
    let got: Vec<(u64, &str, &str, u8)> = b
        .cdrs
        .iter()
        .map(|c| {
            (
                c.global_call_id,
                c.orig_leg_call_identifier.as_str(),
                c.original_called_party_number.as_str(),
                c.dest_cause_value,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1000, "r1", "2003", 17),
            (1001, "r2", "7777", 1),
            (1002, "r4", "2000", 34)
        ]
    );
    for c in &b.cdrs {
        assert_eq!(c.date_time_connect, 0);
        assert_eq!(c.orig_span, "pstn");
        assert!(c.date_time_disconnect >= c.date_time_origination);
    }
    let s = b.engine.stats();
    assert_eq!((s.attempts, s.failed, s.answered), (3, 3, 0));
    assert_eq!(s.outbound_attempts, 0, "no INVITE left Tether");
}

/// The seed's BHCA rule: one per outbound call; a fork to two remote destinations is two.
#[test]
fn outbound_calls_are_counted_per_leg() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("o1", "4085551234", "2000", PSTN), PSTN);
    assert_eq!(b.engine.stats().outbound_attempts, 1);
    b.deliver(&invite("o2", "4085551234", "2002", PSTN), PSTN);
    b.advance(Duration::from_millis(4000));
    assert_eq!(b.engine.stats().outbound_attempts, 3);
    let legs: Vec<_> = b
        .events
        .iter()
        .filter_map(|e| match e {
            crate::output::CallEvent::LegStarted { trunk, .. } => Some(trunk.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(legs, vec![Some("pstn".to_owned()); 3]);
    assert_eq!(b.engine.stats().attempts, 2);
}

/// The first answer among forked legs wins; the others are cancelled saying so.
#[test]
fn fork_winner_cancels_the_others_with_reason() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c10", "4085551234", "2002", PSTN), PSTN);
    b.advance(Duration::from_millis(4000));
    let legs: Vec<_> = b
        .take_to(PSTN)
        .into_iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .collect();
    assert_eq!(legs.len(), 2);
    for (i, l) in legs.iter().enumerate() {
        b.deliver(&answer(l, 180, &format!("f{i}"), false), PSTN);
    }
    b.advance(Duration::from_secs(2));
    b.take_to(PSTN);
    b.deliver(&answer(&legs[1], 200, "f1", true), PSTN);
    let out = b.take_to(PSTN);
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .cloned()
        .expect("the loser is cancelled");
    assert_eq!(cancel.call_id(), legs[0].call_id());
    assert_eq!(
        reason(&cancel).as_deref(),
        Some("SIP;cause=200;text=\"Call completed elsewhere\"")
    );
}

/// No answer within answer-too-late: the leg is cancelled and the caller hears 480.
#[test]
fn rd_no_answer_gives_up_after_answer_too_late() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c11", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "na", false), PSTN);
    b.take_to(PSTN);
    b.advance(Duration::from_millis(18_999));
    assert!(!b
        .take_to(PSTN)
        .iter()
        .any(|m| m.method() == Some(&Method::Cancel)));
    b.advance(Duration::from_millis(2));
    let cancel = b.expect_request(PSTN, Method::Cancel);
    b.deliver(
        &tether_sip::Message::response_to(&cancel, 200, "OK", None),
        PSTN,
    );
    b.deliver(&answer(&leg, 487, "na", false), PSTN);
    let st = b.statuses_to(PSTN, Method::Invite);
    assert!(st.contains(&480), "{st:?}");
    b.advance(Duration::from_secs(64));
    assert_eq!((b.engine.active_calls(), b.engine.transactions()), (0, 0));
}

/// Number matching: a call from one of alice's RD numbers is shown as her DN, never the RD.
#[test]
fn call_from_an_rd_number_is_presented_as_the_dn() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c12", "+14155550100", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(leg.from_hdr().and_then(|f| f.uri.user()), Some("2000"));
    assert!(
        !leg.to_bytes().windows(12).any(|w| w == b"+14155550100"),
        "the RD number is not shown"
    );
}

/// A registered phone is called on its line and can call out; an unregistered one cannot.
#[test]
fn registered_phone_calls_and_is_called() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("c13", "2001", "2000", PHONE), PHONE);
    assert_eq!(
        b.statuses_to(PHONE, Method::Invite),
        vec![403],
        "not registered yet"
    );
    register_phone(&mut b);
    // PSTN -> 2001 rings the phone at its registered address.
    b.deliver(&invite("c14", "4085551234", "2001", PSTN), PSTN);
    let to_phone = b.expect_request(PHONE, Method::Invite);
    assert_eq!(
        to_phone.request_uri().map(|u| u.to_string()),
        Some(format!("sip:dave@{PHONE}"))
    );
    // The phone calls alice: presented as its DN 2001, extended to her active RD.
    b.deliver(&invite("c15", "dave", "2000", PHONE), PHONE);
    let leg = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| {
            m.method() == Some(&Method::Invite)
                && m.request_uri().and_then(|u| u.user()) == Some("+14157777777")
        })
        .expect("leg to alice's RD");
    assert_eq!(leg.from_hdr().and_then(|f| f.uri.user()), Some("2001"));
    // Un-REGISTER.
    b.deliver(&register(3, 0, None), PHONE);
    assert_eq!(
        b.take_to(PHONE)
            .iter()
            .filter_map(|m| m.status())
            .next_back(),
        Some(401),
        "un-REGISTER is authenticated too"
    );
}
