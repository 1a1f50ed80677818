//! CTI requests on calls in progress (SPEC §2.4, §2.6, §2.7) in virtual time: ClearConnection
//! before and after the answer (on calls to the device and MakeCall calls), DeflectCall of a
//! ringing call, GenerateDigits by each method, and device snapshots through a call's life.

use std::time::Duration;

use tether_sip::{HeaderName, Message, Method};

use super::harness::*;
use crate::control::{
    ConnectionState, Control, ControlError, ControlOk, DeviceEventKind as K, DivertCause, Party,
};
use crate::media::MediaCommand;

const ALICE: &str = "CTRIDalice";
const RD: &str = "+14157777777";

fn clear(b: &mut Bench, call: u64, device: &str) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(
        b.now,
        Control::ClearConnection {
            call,
            device: device.into(),
        },
    );
    b.collect();
    r
}

fn cleared(first: Party, second: Party, cause: u8) -> Vec<K> {
    vec![
        K::ConnectionCleared {
            party: first,
            cause,
        },
        K::ConnectionCleared {
            party: second,
            cause,
        },
        K::CallCleared { cause },
    ]
}

fn reason(m: &Message) -> Option<&str> {
    m.header_value(&HeaderName::Reason)
}

/// Everything the call held is gone once the far ends answered the last requests.
fn settled(b: &mut Bench) {
    b.advance(Duration::from_secs(64));
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0, "every transaction ended");
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.engine.channels().in_use(), 0);
}

/// A call to 2000 ringing at alice's RD; returns the caller's INVITE and the RD leg.
fn ringing(b: &mut Bench, id: &str) -> (Message, Message) {
    let inv = invite(id, "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.take_to(PSTN);
    (inv, leg)
}

#[test]
fn clearing_a_ringing_call_cancels_the_rd_and_refuses_the_caller() {
    let mut b = Bench::new(provisioning(None));
    let (_inv, leg) = ringing(&mut b, "x1");
    b.events_of(ALICE);
    assert_eq!(
        clear(&mut b, 1, "CTRIDbob"),
        Err(ControlError::InvalidCallId)
    );
    assert_eq!(clear(&mut b, 9, ALICE), Err(ControlError::InvalidCallId));
    assert_eq!(clear(&mut b, 1, ALICE), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .expect("CANCEL to the RD");
    assert_eq!(reason(cancel), Some("Q.850;cause=16"));
    let refused = out
        .iter()
        .find(|m| m.status().is_some_and(|s| s >= 300))
        .expect("a final response to the caller");
    assert_eq!(refused.status(), Some(480));
    assert_eq!(reason(refused), Some("Q.850;cause=16"));
    assert_eq!(b.events_of(ALICE), cleared(Party::Device, Party::Far, 16));
    b.deliver(&Message::response_to(cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&leg, 487, "rd", false), PSTN);
    settled(&mut b);
    assert_eq!(b.cdrs[0].dest_cause_value, 16);
    assert_eq!(clear(&mut b, 1, ALICE), Err(ControlError::InvalidCallId));
}

#[test]
fn clearing_an_answered_call_hangs_up_both_parties() {
    let mut b = Bench::new(provisioning(None));
    let (inv, leg) = ringing(&mut b, "x2");
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "a2"), PSTN);
    b.events_of(ALICE);
    assert_eq!(clear(&mut b, 1, ALICE), Ok(ControlOk::Done));
    let byes = b.requests_to(PSTN, Method::Bye);
    let mut ids: Vec<_> = byes.iter().filter_map(|m| m.call_id()).collect();
    ids.sort_unstable();
    let mut want = vec!["x2", leg.call_id().expect("id")];
    want.sort_unstable();
    assert_eq!(ids, want, "a BYE to each party");
    assert!(byes.iter().all(|m| reason(m) == Some("Q.850;cause=16")));
    assert_eq!(b.events_of(ALICE), cleared(Party::Device, Party::Far, 16));
    for bye in &byes {
        b.deliver(&Message::response_to(bye, 200, "OK", None), PSTN);
    }
    settled(&mut b);
}

/// The calling device gives up its own call (dave's phone rings alice): the phone is answered
/// 487, alice's RD is cancelled.
#[test]
fn a_calling_device_clearing_its_call_before_the_answer() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    b.deliver(&invite("x3", "dave", "2000", PHONE), PHONE);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.device_events.clear();
    assert_eq!(clear(&mut b, 1, "SIPdave"), Ok(ControlOk::Done));
    let to_phone: Vec<_> = b
        .take_to(PHONE)
        .into_iter()
        .filter_map(|m| m.status())
        .collect();
    assert!(to_phone.contains(&487), "{to_phone:?}");
    let cancel = b.expect_request(PSTN, Method::Cancel);
    assert_eq!(reason(&cancel), Some("Q.850;cause=16"));
    assert_eq!(
        b.events_of("SIPdave"),
        cleared(Party::Device, Party::Far, 16)
    );
    assert_eq!(b.events_of(ALICE), cleared(Party::Far, Party::Device, 16));
    assert_eq!(b.engine.stats().abandoned, 1);
}

fn make_call(b: &mut Bench, to: &str) -> Message {
    let r = b.engine.control(
        b.now,
        Control::MakeCall {
            device: ALICE.into(),
            to: to.into(),
        },
    );
    assert_eq!(r, Ok(ControlOk::Call(1)));
    b.collect();
    b.expect_request(PSTN, Method::Invite)
}

#[test]
fn clearing_a_make_call_while_the_rd_rings_cancels_it() {
    let mut b = anchored_bench(provisioning(None));
    let rd_leg = make_call(&mut b, "914155550123");
    b.deliver(&answer(&rd_leg, 180, "rd", false), PSTN);
    b.events_of(ALICE);
    assert_eq!(clear(&mut b, 1, ALICE), Ok(ControlOk::Done));
    let cancel = b.expect_request(PSTN, Method::Cancel);
    assert_eq!(reason(&cancel), Some("Q.850;cause=16"));
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16
            },
            K::CallCleared { cause: 16 }
        ],
        "no far connection existed yet"
    );
    b.deliver(&Message::response_to(&cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&rd_leg, 487, "rd", false), PSTN);
    settled(&mut b);
    assert_eq!(b.engine.media_ports_free(), Some(5));
    assert_eq!(b.cdrs[0].orig_cause_value, 16);
}

#[test]
fn clearing_a_make_call_while_the_target_rings_hangs_up_the_rd_and_cancels_the_target() {
    let mut b = anchored_bench(provisioning(None));
    let rd_leg = make_call(&mut b, "914155550123");
    b.deliver(&answer(&rd_leg, 200, "rd", true), PSTN);
    let target = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&target, 180, "tg", false), PSTN);
    b.events_of(ALICE);
    assert_eq!(
        b.engine.control(
            b.now,
            Control::Hold {
                call: 1,
                device: ALICE.into()
            }
        ),
        Err(ControlError::InvalidCallState),
        "nothing to hold before the target answers"
    );
    assert_eq!(clear(&mut b, 1, ALICE), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .expect("BYE to the RD");
    assert_eq!(bye.call_id(), rd_leg.call_id());
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .expect("CANCEL to the target");
    assert_eq!(cancel.call_id(), target.call_id());
    assert_eq!(reason(bye), Some("Q.850;cause=16"));
    assert_eq!(reason(cancel), Some("Q.850;cause=16"));
    assert_eq!(b.events_of(ALICE), cleared(Party::Device, Party::Far, 16));
    b.deliver(&Message::response_to(bye, 200, "OK", None), PSTN);
    b.deliver(&Message::response_to(cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&target, 487, "tg", false), PSTN);
    settled(&mut b);
}

fn deflect(b: &mut Bench, device: &str, to: &str) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(
        b.now,
        Control::Deflect {
            call: 1,
            device: device.into(),
            to: to.into(),
        },
    );
    b.collect();
    r
}

/// Deflect a call ringing at alice's RD to an outside number: the RD is cancelled, the new
/// leg names alice's DN in its Diversion (never her RD), the caller keeps ringing and is
/// answered by the new party.
#[test]
fn deflecting_a_ringing_call_sends_the_caller_on_with_a_diversion() {
    let mut b = Bench::new(provisioning(None));
    let (inv, leg) = ringing(&mut b, "x4");
    b.events_of(ALICE);
    assert!(matches!(
        deflect(&mut b, ALICE, "5555"),
        Err(ControlError::InvalidDestination(_))
    ));
    assert_eq!(
        deflect(&mut b, "SIPdave", "914155550123"),
        Err(ControlError::InvalidCallId)
    );
    assert_eq!(deflect(&mut b, ALICE, "914155550123"), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .expect("CANCEL to the RD");
    assert_eq!(cancel.call_id(), leg.call_id());
    assert_eq!(reason(cancel), Some("Q.850;cause=23"));
    let new = out
        .iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .cloned()
        .expect("the new leg");
    assert_eq!(ruri_user(&new).as_deref(), Some("14155550123"));
    assert_eq!(
        new.header_value(&HeaderName::Diversion),
        Some("<sip:2000@tether.test>;reason=deflection;counter=1")
    );
    assert!(new
        .header_value(&HeaderName::From)
        .is_some_and(|f| f.starts_with("<sip:4085551234@")));
    assert!(!contains(&new, RD));
    assert!(
        !out.iter().any(|m| m.status().is_some_and(|s| s >= 300)),
        "the caller is not refused: {:?}",
        summary(&out)
    );
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Diverted {
            from: "2000".into(),
            to: "914155550123".into(),
            cause: DivertCause::Deflect
        }]
    );
    assert!(
        b.engine.device_calls(ALICE).is_empty(),
        "alice left the call"
    );
    // The old RD leg ends; the new party answers; the caller is connected.
    b.deliver(&Message::response_to(cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&leg, 487, "rd", false), PSTN);
    b.deliver(&answer(&new, 200, "new", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200) && m.call_id() == Some("x4"))
        .expect("200 to the caller");
    assert_eq!(
        deflect(&mut b, ALICE, "914155550124"),
        Err(ControlError::InvalidCallId)
    );
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "a4"), PSTN);
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "b4"), PSTN);
    let bye = b.expect_request(PSTN, Method::Bye);
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PSTN);
    settled(&mut b);
    assert!(b.events_of(ALICE).is_empty(), "nothing after Diverted");
    let cdr = &b.cdrs[0];
    assert_eq!(cdr.last_redirect_dn, "2000");
    assert_eq!(cdr.original_called_party_number, "2000");
    assert_eq!(cdr.final_called_party_number, "14155550123");
    assert_eq!(cdr.final_mobile_called_party_number, "");
}

/// Deflect to dave's phone: the phone rings (its device sees the call), the caller hears it.
#[test]
fn deflecting_to_a_phone_brings_its_device_into_the_call() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    let (_inv, _leg) = ringing(&mut b, "x5");
    assert_eq!(deflect(&mut b, ALICE, "2001"), Ok(ControlOk::Done));
    let to_phone = b.expect_request(PHONE, Method::Invite);
    assert_eq!(
        to_phone.header_value(&HeaderName::Diversion),
        Some("<sip:2000@tether.test>;reason=deflection;counter=1")
    );
    b.deliver(&answer(&to_phone, 180, "ph", false), PHONE);
    assert_eq!(
        b.events_of("SIPdave"),
        vec![K::Delivered {
            party: Party::Device,
            calling: "4085551234".into(),
            called: "2001".into()
        }]
    );
    assert_eq!(
        b.engine.device_calls("SIPdave")[0].state,
        ConnectionState::Alerting
    );
}

#[test]
fn deflect_is_only_for_a_call_ringing_at_the_device() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, leg) = ringing(&mut b, "x6");
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    assert_eq!(
        deflect(&mut b, ALICE, "914155550123"),
        Err(ControlError::InvalidCallState),
        "after the answer"
    );
    let mut b = anchored_bench(provisioning(None));
    make_call(&mut b, "914155550123");
    assert_eq!(
        deflect(&mut b, ALICE, "2001"),
        Err(ControlError::InvalidCallState),
        "the device's own call"
    );
}

/// An answered anchored call; the caller's leg is port 30,000, alice's RD's 30,002.
fn answered(b: &mut Bench, id: &str) -> (Message, Message) {
    let (inv, leg) = ringing(b, id);
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack"), PSTN);
    (inv, ok)
}

fn digits(b: &mut Bench, keys: &str, inband: bool) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(
        b.now,
        Control::GenerateDigits {
            call: 1,
            device: ALICE.into(),
            digits: keys.into(),
            inband,
        },
    );
    b.collect();
    r
}

#[test]
fn generated_digits_go_to_the_far_party_by_its_method() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, leg) = ringing(&mut b, "x7");
    assert_eq!(
        digits(&mut b, "1", false),
        Err(ControlError::InvalidCallState),
        "not before the answer"
    );
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    for bad in ["", "12x", "1 2", "E"] {
        assert_eq!(
            digits(&mut b, bad, false),
            Err(ControlError::InvalidDigits),
            "{bad:?}"
        );
    }
    b.media.clear();
    assert_eq!(digits(&mut b, "12#", false), Ok(ControlOk::Done));
    assert_eq!(digits(&mut b, "*d", true), Ok(ControlOk::Done));
    assert_eq!(
        b.media,
        vec![
            MediaCommand::SendDigits {
                port: 30_000,
                digits: "12#".into(),
                duration_ms: 100,
                inband: false
            },
            MediaCommand::SendDigits {
                port: 30_000,
                digits: "*D".into(),
                duration_ms: 100,
                inband: true
            }
        ],
        "to the caller's leg: RFC 4733 where it negotiated events (the media engine \
         decides), tones when asked"
    );
}

/// A caller that sends its keys in SIP INFO gets generated keys in INFO too, one at a time.
#[test]
fn generated_digits_reach_an_info_party_one_info_at_a_time() {
    let mut b = anchored_bench(provisioning(None));
    let (inv, ok) = answered(&mut b, "x8");
    let mut info = in_dialog(&inv, &ok, Method::Info, 3, PSTN, "i8");
    info.set_body(
        Some("application/dtmf-relay"),
        b"Signal=5\r\nDuration=100\r\n".to_vec(),
    )
    .expect("body");
    b.deliver(&info, PSTN);
    b.take_to(PSTN);
    b.media.clear();
    assert_eq!(digits(&mut b, "47", false), Ok(ControlOk::Done));
    let first = b.requests_to(PSTN, Method::Info);
    assert_eq!(first.len(), 1, "one key at a time");
    assert_eq!(first[0].call_id(), Some("x8"));
    assert_eq!(&first[0].body()[..], b"Signal=4\r\nDuration=100\r\n");
    b.deliver(&Message::response_to(&first[0], 200, "OK", None), PSTN);
    let second = b.requests_to(PSTN, Method::Info);
    assert_eq!(second.len(), 1);
    assert_eq!(&second[0].body()[..], b"Signal=7\r\nDuration=100\r\n");
    assert!(
        b.media.is_empty(),
        "not also played as tones: {:?}",
        b.media
    );
    // Asking for in-band plays tones even to an INFO party.
    assert_eq!(digits(&mut b, "9", true), Ok(ControlOk::Done));
    assert!(matches!(
        b.media.as_slice(),
        [MediaCommand::SendDigits { inband: true, .. }]
    ));
}

#[test]
fn generated_digits_need_anchored_media_unless_the_party_uses_info() {
    let mut b = Bench::new(provisioning(None));
    answered(&mut b, "x9");
    assert_eq!(
        digits(&mut b, "1", false),
        Err(ControlError::MediaNotAnchored)
    );
}

/// A device's snapshot follows its connections through each state.
#[test]
fn snapshots_follow_each_state() {
    let mut b = anchored_bench(provisioning(None));
    let state = |b: &Bench| -> Vec<(u64, ConnectionState, String, bool)> {
        b.engine
            .device_calls(ALICE)
            .into_iter()
            .map(|c| (c.call, c.state, c.other, c.outgoing))
            .collect()
    };
    let (_inv, leg) = ringing(&mut b, "x10");
    assert_eq!(
        state(&b),
        vec![(1, ConnectionState::Alerting, "4085551234".into(), false)]
    );
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    b.take_to(PSTN);
    assert_eq!(
        state(&b),
        vec![(1, ConnectionState::Connected, "4085551234".into(), false)]
    );
    // A MakeCall alongside: Initiated until the RD answers, Connected from then on.
    let r = b.engine.control(
        b.now,
        Control::MakeCall {
            device: ALICE.into(),
            to: "914155550123".into(),
        },
    );
    assert_eq!(r, Ok(ControlOk::Call(2)));
    b.collect();
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(state(&b)[1].1, ConnectionState::Initiated);
    b.deliver(&answer(&rd_leg, 200, "rd2", true), PSTN);
    assert_eq!(
        state(&b)[1],
        (2, ConnectionState::Connected, "914155550123".into(), true)
    );
    let calls = b.engine.device_calls(ALICE);
    assert!(calls.iter().all(|c| c.dn == "2000"));
    assert!(!format!("{calls:?}").contains(RD));
}
