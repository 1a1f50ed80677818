//! AnswerCall by remote answer (the BroadWorks `talk` event package) in virtual time: a trunk
//! RD leg whose 180 offers `Allow-Events: talk` is sent `NOTIFY` (`Event: talk`) in its early
//! dialog and answers; a leg that does not offer it is refused `ANSWER_NOT_SUPPORTED`; a call
//! no longer ringing is refused; of forked legs the first to offer it is asked; a phone that
//! refuses the NOTIFY (or never answers it) keeps ringing and can still be answered by hand.

use std::time::Duration;

use tether_sip::{HeaderName, Message, Method};

use super::harness::*;
use crate::control::{Control, ControlError, ControlOk, DeviceEventKind as K, Party};

const ALICE: &str = "CTRIDalice";
const BOB: &str = "CTRIDbob";
const DAVE: &str = "SIPdave";

fn answer_call(b: &mut Bench, call: u64, device: &str) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(
        b.now,
        Control::AnswerCall {
            call,
            device: device.into(),
        },
    );
    b.collect();
    r
}

/// A provisional response to `leg` (To tag `tag`) that offers remote answer with `allow`.
fn ringing_with(leg: &Message, code: u16, tag: &str, allow: Option<&str>) -> Message {
    let mut r = answer(leg, code, tag, false);
    if let Some(a) = allow {
        r.push_header(HeaderName::AllowEvents, a)
            .expect("allow-events");
    }
    r
}

fn cseq(m: &Message) -> (u32, Method) {
    let c = m.cseq().expect("cseq");
    (c.seq, c.method.clone())
}

/// Everything the call held is gone once the far ends answered the last requests.
fn settled(b: &mut Bench) {
    b.advance(Duration::from_secs(64));
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0, "every transaction ended");
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.engine.channels().in_use(), 0);
}

/// The caller's 200 (to its INVITE `call_id`) among `msgs`.
fn ok_to_caller(msgs: &[Message], call_id: &str) -> Message {
    msgs.iter()
        .find(|m| m.status() == Some(200) && m.call_id() == Some(call_id))
        .cloned()
        .unwrap_or_else(|| panic!("200 to the caller, got {:?}", summary(msgs)))
}

/// The whole flow: a call to 2000 rings alice's RD over the SIP trunk; its 180 (behind an SBC
/// that record-routes) offers `talk`; AnswerCall sends the NOTIFY in that early dialog; the
/// phone answers the INVITE; the call is established and ends cleanly.
#[test]
fn answer_call_sends_a_talk_notify_in_the_early_dialog_and_the_phone_answers() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("t1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::InvalidCallState),
        "nothing rings yet (no provisional response)"
    );
    let mut ringing = ringing_with(&leg, 180, "rd", Some("hold, Talk,conference"));
    ringing
        .push_header(HeaderName::RecordRoute, "<sip:sbc.test:5070;lr>")
        .expect("record-route");
    b.deliver(&ringing, PSTN);
    b.take_to(PSTN);
    assert!(matches!(
        b.events_of(ALICE).as_slice(),
        [K::Delivered {
            party: Party::Device,
            ..
        }]
    ));
    assert_eq!(
        answer_call(&mut b, 1, BOB),
        Err(ControlError::InvalidCallId)
    );
    assert_eq!(
        answer_call(&mut b, 9, ALICE),
        Err(ControlError::InvalidCallId)
    );
    assert_eq!(answer_call(&mut b, 1, ALICE), Ok(ControlOk::Done));
    let notify = b.expect_request(PSTN, Method::Notify);
    // In the early dialog the 180 made: its Contact as the target, its Record-Route as Route.
    assert_eq!(
        notify.request_uri().map(|u| u.as_str()),
        Some("sip:far@10.0.0.2:5060")
    );
    assert_eq!(
        notify.header_value(&HeaderName::Route),
        Some("<sip:sbc.test:5070;lr>")
    );
    assert_eq!(notify.call_id(), leg.call_id());
    assert_eq!(notify.from_tag(), leg.from_tag());
    assert_eq!(notify.to_tag(), Some("rd"));
    assert_eq!(cseq(&notify), (2, Method::Notify), "after the INVITE's 1");
    assert_eq!(notify.header_value(&HeaderName::Event), Some("talk"));
    assert_eq!(
        notify.header_value(&HeaderName::SubscriptionState),
        Some("active")
    );
    assert!(notify.body().is_empty());
    assert!(
        contains(&notify, "\r\nContent-Length: 0\r\n\r\n"),
        "no body"
    );
    assert_eq!(notify.header_value(&HeaderName::ContentType), None);
    assert!(notify
        .header_value(&HeaderName::Via)
        .is_some_and(|v| v.starts_with("SIP/2.0/UDP 10.0.0.1:5060") && v.contains("z9hG4bK")));
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::RequestInProgress),
        "one NOTIFY at a time"
    );
    assert!(b.take_to(PSTN).is_empty(), "no second NOTIFY");
    b.deliver(&Message::response_to(&notify, 200, "OK", None), PSTN);
    assert!(
        b.take_to(PSTN).is_empty(),
        "the NOTIFY's 200 asks nothing more"
    );
    assert!(b.events_of(ALICE).is_empty());

    // The phone goes off hook: the call proceeds as any answered call.
    let mut ok = answer(&leg, 200, "rd", true);
    ok.push_header(HeaderName::RecordRoute, "<sip:sbc.test:5070;lr>")
        .expect("record-route");
    b.deliver(&ok, PSTN);
    let out = b.take_to(PSTN);
    let ack = out
        .iter()
        .find(|m| m.method() == Some(&Method::Ack))
        .expect("the 200 is ACKed");
    assert_eq!(cseq(ack), (1, Method::Ack), "the INVITE's number");
    assert_eq!(
        ack.header_value(&HeaderName::Route),
        Some("<sip:sbc.test:5070;lr>")
    );
    let ok = ok_to_caller(&out, "t1");
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Established {
            calling: "4085551234".into(),
            called: "2000".into()
        }]
    );
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::InvalidCallState),
        "answered already"
    );
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "a1"), PSTN);
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "b1"), PSTN);
    let bye = b.expect_request(PSTN, Method::Bye);
    assert_eq!(bye.call_id(), leg.call_id());
    assert_eq!(cseq(&bye), (3, Method::Bye), "after the NOTIFY's 2");
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PSTN);
    settled(&mut b);
    assert_eq!(b.engine.stats().answered, 1);
}

/// A remote destination whose 18x does not offer `talk` (a PSTN phone, or a SIP phone without
/// the package) cannot be answered from Tether: ANSWER_NOT_SUPPORTED, and nothing is sent.
#[test]
fn without_talk_answer_call_is_not_supported() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("t2", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(
        &ringing_with(&leg, 180, "rd", Some("dialog, talker, hold")),
        PSTN,
    );
    b.take_to(PSTN);
    let r = answer_call(&mut b, 1, ALICE);
    assert_eq!(r, Err(ControlError::AnswerNotSupported));
    let e = r.expect_err("refused");
    assert_eq!(e.code(), "ANSWER_NOT_SUPPORTED");
    assert!(e.to_string().contains("answered by hand"), "{e}");
    assert!(e.to_string().contains("PSTN"), "{e}");
    // A 183 without the header changes nothing either.
    b.deliver(&ringing_with(&leg, 183, "rd", None), PSTN);
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::AnswerNotSupported)
    );
    assert!(
        !b.sent
            .iter()
            .any(|(_, m)| m.method() == Some(&Method::Notify)),
        "no NOTIFY"
    );
    assert_eq!(b.engine.transactions(), 2, "the two INVITEs only");
}

/// Only a call ringing *for* the device can be answered: not the caller's own connection, not
/// an answered call, not a MakeCall while its remote destination rings.
#[test]
fn answer_call_is_only_for_a_call_ringing_at_the_device() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    b.deliver(&invite("t3", "dave", "2000", PHONE), PHONE);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&ringing_with(&leg, 180, "rd", Some("talk")), PSTN);
    assert_eq!(
        answer_call(&mut b, 1, DAVE),
        Err(ControlError::InvalidCallState),
        "the calling device"
    );
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::InvalidCallState),
        "after the answer"
    );

    let mut b = anchored_bench(provisioning(None));
    let r = b.engine.control(
        b.now,
        Control::MakeCall {
            device: ALICE.into(),
            to: "914155550123".into(),
        },
    );
    assert_eq!(r, Ok(ControlOk::Call(1)));
    b.collect();
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&ringing_with(&rd_leg, 180, "rd", Some("talk")), PSTN);
    assert_eq!(
        answer_call(&mut b, 1, ALICE),
        Err(ControlError::InvalidCallState),
        "MakeCall's own leg is initiated, not delivered"
    );
    assert!(!b
        .sent
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Notify)));
}

/// Bob routes to all his remote destinations: the NOTIFY goes to the first leg that offered
/// `talk` (not the first leg, not the last to offer it); its answer — at once, well within
/// answer-too-soon — is the person's, not a voicemail's; the other leg is cancelled.
#[test]
fn of_forked_legs_the_first_to_offer_talk_is_asked() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("t4", "4085551234", "2002", PSTN), PSTN);
    b.advance(Duration::from_millis(4000));
    let legs: Vec<_> = b
        .take_to(PSTN)
        .into_iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .collect();
    assert_eq!(legs.len(), 2);
    b.deliver(&ringing_with(&legs[0], 180, "h", None), PSTN);
    assert_eq!(
        answer_call(&mut b, 1, BOB),
        Err(ControlError::AnswerNotSupported)
    );
    b.advance(Duration::from_millis(100));
    b.deliver(&ringing_with(&legs[1], 180, "m", Some("talk")), PSTN);
    b.advance(Duration::from_millis(100));
    b.deliver(&ringing_with(&legs[0], 183, "h", Some("talk")), PSTN);
    b.take_to(PSTN);
    b.events_of(BOB);
    assert_eq!(answer_call(&mut b, 1, BOB), Ok(ControlOk::Done));
    let notify = b.expect_request(PSTN, Method::Notify);
    assert_eq!(
        notify.call_id(),
        legs[1].call_id(),
        "the first to offer talk"
    );
    assert_eq!(notify.to_tag(), Some("m"));
    b.deliver(&Message::response_to(&notify, 200, "OK", None), PSTN);
    b.deliver(&answer(&legs[1], 200, "m", true), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        !out.iter().any(|m| m.method() == Some(&Method::Bye)),
        "not hung up as a voicemail: {:?}",
        summary(&out)
    );
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .expect("the other leg is cancelled");
    assert_eq!(cancel.call_id(), legs[0].call_id());
    ok_to_caller(&out, "t4");
    assert!(b
        .events_of(BOB)
        .iter()
        .any(|e| matches!(e, K::Established { .. })));
}

/// Dave's SIP phone (its registered binding) offers `talk` in the compact form but refuses the
/// NOTIFY (481, then 489), then leaves one unanswered: each time nothing else happens — the
/// phone keeps ringing, the caller keeps hearing it — and AnswerCall may be tried again. When
/// dave picks up by hand, the early dialog is intact and the call is established.
#[test]
fn a_refused_or_lost_notify_leaves_the_phone_ringing() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    b.deliver(&invite("t5", "4085551234", "2001", PSTN), PSTN);
    let inv = b.expect_request(PHONE, Method::Invite);
    let ringing = ringing_with(&inv, 180, "ph", Some("TALK, hold"));
    let text = String::from_utf8(ringing.to_bytes().to_vec()).expect("utf-8");
    let compact = text.replace("Allow-Events:", "u:");
    assert!(compact.contains("\r\nu: TALK, hold\r\n"), "{compact}");
    b.deliver(
        &Message::parse(compact.into_bytes()).expect("compact form parses"),
        PHONE,
    );
    b.take_to(PSTN);
    b.events_of(DAVE);
    let mut seqs = Vec::new();
    for refusal in [481, 489] {
        assert_eq!(answer_call(&mut b, 1, DAVE), Ok(ControlOk::Done));
        let notify = b.expect_request(PHONE, Method::Notify);
        seqs.push(cseq(&notify).0);
        b.deliver(
            &Message::response_to(&notify, refusal, "Refused", None),
            PHONE,
        );
        assert!(b.take_to(PHONE).is_empty(), "no CANCEL to the phone");
        assert!(b.take_to(PSTN).is_empty(), "nothing to the caller");
        assert!(b.events_of(DAVE).is_empty());
        assert_eq!(b.engine.active_calls(), 1);
    }
    // A NOTIFY lost for good: its transaction times out (64*T1), the phone still rings.
    assert_eq!(answer_call(&mut b, 1, DAVE), Ok(ControlOk::Done));
    let notify = b.expect_request(PHONE, Method::Notify);
    seqs.push(cseq(&notify).0);
    assert_eq!(seqs, vec![2, 3, 4], "each NOTIFY takes the next CSeq");
    assert_eq!(
        answer_call(&mut b, 1, DAVE),
        Err(ControlError::RequestInProgress)
    );
    b.advance(Duration::from_secs(33));
    let resent = b.requests_to(PHONE, Method::Notify);
    assert!(!resent.is_empty(), "retransmitted while unanswered");
    assert!(b.take_to(PSTN).is_empty(), "nothing to the caller");
    assert_eq!(b.engine.active_calls(), 1);
    assert_eq!(
        b.engine.transactions(),
        2,
        "the INVITEs only: the NOTIFYs' transactions ended"
    );
    assert_eq!(answer_call(&mut b, 1, DAVE), Ok(ControlOk::Done), "again");
    b.take_to(PHONE);

    // Dave picks up by hand.
    b.deliver(&answer(&inv, 200, "ph", true), PHONE);
    assert!(b
        .take_to(PHONE)
        .iter()
        .any(|m| m.method() == Some(&Method::Ack)));
    let ok = ok_to_caller(&b.take_to(PSTN), "t5");
    assert!(b
        .events_of(DAVE)
        .iter()
        .any(|e| matches!(e, K::Established { .. })));
    let caller_inv = invite("t5", "4085551234", "2001", PSTN);
    b.deliver(
        &in_dialog(&caller_inv, &ok, Method::Ack, 1, PSTN, "a5"),
        PSTN,
    );
    b.deliver(
        &in_dialog(&caller_inv, &ok, Method::Bye, 2, PSTN, "b5"),
        PSTN,
    );
    let bye = b.expect_request(PHONE, Method::Bye);
    assert_eq!(cseq(&bye), (6, Method::Bye));
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PHONE);
    settled(&mut b);
}
