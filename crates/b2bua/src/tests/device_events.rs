//! The CTI events each device sees on calls for it and calls it places (SPEC §2.1, §2.5–2.7),
//! in virtual time: the exact sequence per device, the party named from its point of view,
//! the causes, and never an RD number.

use std::time::Duration;

use tether_sip::{HeaderName, Message, Method};
use tether_store::model::Object;

use super::harness::*;
use crate::control::{Control, ControlOk, DeviceEventKind as K, DivertCause, Party};
use crate::output::DigitMethod;

const ALICE: &str = "CTRIDalice";
const RD: &str = "+14157777777";

fn delivered(party: Party, calling: &str, called: &str) -> K {
    K::Delivered {
        party,
        calling: calling.into(),
        called: called.into(),
    }
}

fn established(calling: &str, called: &str) -> K {
    K::Established {
        calling: calling.into(),
        called: called.into(),
    }
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

/// No event of the bench names an RD number.
fn no_rd_number(b: &Bench) {
    let all = format!("{:?}", b.device_events);
    assert!(!all.contains(RD) && !all.contains("+14155550100"), "{all}");
}

/// PSTN → 2000: the RD rings (Delivered), answers (Established), the caller hangs up.
#[test]
fn extended_call_delivered_established_cleared_by_the_caller() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("e1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    assert!(b.events_of(ALICE).is_empty(), "nothing before the RD rings");
    // The RD sees who calls, in From and P-Asserted-Identity.
    assert_eq!(
        leg.header_value(&HeaderName::PAssertedIdentity),
        Some("<sip:4085551234@tether.test>")
    );
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.deliver(&answer(&leg, 183, "rd", false), PSTN);
    no_rd_number(&b);
    assert_eq!(
        b.events_of(ALICE),
        vec![delivered(Party::Device, "4085551234", "2000")],
        "one Delivered, however many provisionals"
    );
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    assert_eq!(b.events_of(ALICE), vec![established("4085551234", "2000")]);
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "a"), PSTN);
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "b"), PSTN);
    let bye = b.expect_request(PSTN, Method::Bye);
    assert_eq!(
        bye.header_value(&HeaderName::Reason),
        Some("Q.850;cause=16"),
        "the BYE says why"
    );
    no_rd_number(&b);
    assert_eq!(b.events_of(ALICE), cleared(Party::Far, Party::Device, 16));
    assert!(b.device_events.is_empty(), "no other device is on the call");
}

#[test]
fn the_rd_hanging_up_clears_the_device_first() {
    let mut b = Bench::new(provisioning(None));
    let inv = invite("e2", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_b = answer(&leg, 200, "rd", true);
    b.deliver(&ok_b, PSTN);
    // Answered without a provisional: Delivered still comes first.
    assert_eq!(
        b.events_of(ALICE),
        vec![
            delivered(Party::Device, "4085551234", "2000"),
            established("4085551234", "2000")
        ]
    );
    b.take_to(PSTN);
    b.deliver(&far_in_dialog(&leg, &ok_b, Method::Bye, 2, "fb"), PSTN);
    assert_eq!(b.events_of(ALICE), cleared(Party::Device, Party::Far, 16));
}

#[test]
fn a_busy_rd_fails_the_device_connection_with_cause_17() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("e3", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 486, "rd", false), PSTN);
    let mut want = vec![K::Failed {
        party: Party::Device,
        cause: 17,
    }];
    want.extend(cleared(Party::Device, Party::Far, 17));
    assert_eq!(b.events_of(ALICE), want);
}

#[test]
fn an_rd_that_never_answers_fails_with_cause_19() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("e4", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.advance(Duration::from_secs(19));
    let cancel = b.expect_request(PSTN, Method::Cancel);
    b.deliver(&Message::response_to(&cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&leg, 487, "rd", false), PSTN);
    let mut want = vec![
        delivered(Party::Device, "4085551234", "2000"),
        K::Failed {
            party: Party::Device,
            cause: 19,
        },
    ];
    want.extend(cleared(Party::Device, Party::Far, 19));
    assert_eq!(b.events_of(ALICE), want);
}

#[test]
fn a_caller_giving_up_clears_the_far_connection_first() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("e5", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    let cancel = Message::parse(
        format!(
            "CANCEL sip:2000@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PSTN};branch=z9hG4bKe5\r\nMax-Forwards: 70\r\nFrom: <sip:4085551234@pstn.test>;tag=ae5\r\nTo: <sip:2000@10.0.0.1>\r\nCall-ID: e5\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .expect("cancel");
    b.deliver(&cancel, PSTN);
    let mut want = vec![delivered(Party::Device, "4085551234", "2000")];
    want.extend(cleared(Party::Far, Party::Device, 16));
    assert_eq!(b.events_of(ALICE), want);
}

/// Call Forward All on 2000 to bob's 2002: alice's device sees the call leave, bob's device
/// rings; the legs to bob's RDs carry a Diversion naming 2000, never alice's RD.
#[test]
fn call_forward_all_diverts_from_one_device_to_another() {
    let mut p = provisioning(None);
    let mut l = p
        .lines
        .get(&("Internal".to_owned(), "2000".to_owned()))
        .cloned()
        .expect("2000");
    l.call_forward_all = Some("2002".into());
    p.put(Object::Line(l));
    let mut b = Bench::new(p);
    b.deliver(&invite("e6", "4085551234", "2000", PSTN), PSTN);
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Diverted {
            from: "2000".into(),
            to: "2002".into(),
            cause: DivertCause::ForwardAll
        }]
    );
    b.advance(Duration::from_secs(4)); // bob's fork waits delay-before-ringing
    let legs = b.requests_to(PSTN, Method::Invite);
    assert_eq!(legs.len(), 2);
    for leg in &legs {
        assert_eq!(
            leg.header_value(&HeaderName::Diversion),
            Some("<sip:2000@tether.test>;reason=unconditional;counter=1")
        );
        assert!(!contains(leg, RD));
    }
    b.deliver(&answer(&legs[0], 180, "bob", false), PSTN);
    assert_eq!(
        b.events_of("CTRIDbob"),
        vec![delivered(Party::Device, "4085551234", "2002")]
    );
    assert!(b.events_of(ALICE).is_empty(), "alice left the call");
    assert_eq!(b.engine.device_calls(ALICE), vec![]);
    assert_eq!(b.engine.device_calls("CTRIDbob").len(), 1);
}

/// Dave's phone calls alice: both devices see the call, each from its side; dave's view
/// names alice's DN, never her RD.
#[test]
fn a_phone_calling_a_remote_device_both_see_it() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    let inv = invite("e7", "dave", "2000", PHONE);
    b.deliver(&inv, PHONE);
    assert_eq!(
        b.events_of("SIPdave"),
        vec![
            K::Originated {
                called: "2000".into()
            },
            K::NetworkReached {
                called: "2000".into()
            }
        ]
    );
    let leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(
        leg.header_value(&HeaderName::PAssertedIdentity),
        Some("\"Dave\" <sip:2001@tether.test>")
    );
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    assert_eq!(
        b.events_of("SIPdave"),
        vec![
            delivered(Party::Far, "2001", "2000"),
            established("2001", "2000")
        ]
    );
    assert_eq!(
        b.events_of(ALICE),
        vec![
            delivered(Party::Device, "2001", "2000"),
            established("2001", "2000")
        ]
    );
    let dave = b.engine.device_calls("SIPdave");
    assert_eq!(dave.len(), 1);
    assert!(dave[0].outgoing);
    assert_eq!(dave[0].other, "2000");
    // Alice's RD hangs up: for dave the far party went first.
    let ok_b = answer(&leg, 200, "rd", true);
    b.deliver(&far_in_dialog(&leg, &ok_b, Method::Bye, 2, "fb7"), PSTN);
    assert_eq!(
        b.events_of("SIPdave"),
        cleared(Party::Far, Party::Device, 16)
    );
    assert_eq!(b.events_of(ALICE), cleared(Party::Device, Party::Far, 16));
    no_rd_number(&b);
}

/// A call from one of alice's RD numbers is alice's device calling (number matching).
#[test]
fn a_call_from_an_rd_number_is_the_devices_own_call() {
    let mut b = Bench::new(provisioning(None));
    b.deliver(&invite("e8", "+14155550100", "2002", PSTN), PSTN);
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Originated {
            called: "2002".into()
        }]
    );
    let calls = b.engine.device_calls(ALICE);
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].dn.as_str(), calls[0].outgoing), ("2000", true));
    no_rd_number(&b);
}

/// PSTN → dave's phone: the phone's device sees Delivered and Established.
#[test]
fn a_phone_as_destination() {
    let mut b = Bench::new(provisioning(None));
    register_phone(&mut b);
    b.deliver(&invite("e9", "4085551234", "2001", PSTN), PSTN);
    let leg = b.expect_request(PHONE, Method::Invite);
    b.deliver(&answer(&leg, 180, "ph", false), PHONE);
    b.deliver(&answer(&leg, 200, "ph", true), PHONE);
    assert_eq!(
        b.events_of("SIPdave"),
        vec![
            delivered(Party::Device, "4085551234", "2001"),
            established("4085551234", "2001")
        ]
    );
}

fn answered_anchored(b: &mut Bench, id: &str) -> (Message, Message, Message, Message) {
    let inv = invite(id, "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_b = answer(&leg, 200, "rd", true);
    b.deliver(&ok_b, PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack"), PSTN);
    b.events_of(ALICE);
    (inv, ok, leg, ok_b)
}

/// Keys from either party are reported, the party named from the device's side.
#[test]
fn digits_from_either_party_are_detected() {
    let mut b = anchored_bench(provisioning(None));
    let (inv, ok, _leg, _) = answered_anchored(&mut b, "e10");
    let mut info = in_dialog(&inv, &ok, Method::Info, 3, PSTN, "i");
    info.set_body(
        Some("application/dtmf-relay"),
        b"Signal=5\r\nDuration=160\r\n".to_vec(),
    )
    .expect("body");
    b.deliver(&info, PSTN);
    b.engine.handle_media_notice(
        b.now,
        crate::media::MediaNotice::Digit {
            port: 30_002,
            digit: '#',
            duration: Duration::from_millis(100),
            inband: true,
        },
    );
    b.collect();
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::DigitsDetected {
                party: Party::Far,
                digit: '5',
                method: DigitMethod::Info
            },
            K::DigitsDetected {
                party: Party::Device,
                digit: '#',
                method: DigitMethod::InBand
            }
        ]
    );
}

/// CTI hold: Held comes when the held party accepts Tether's re-INVITE (not before), and
/// the snapshot says Held from then; Retrieved likewise.
#[test]
fn hold_and_retrieve_are_reported_when_the_party_accepts() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, _ok, _leg, _) = answered_anchored(&mut b, "e11");
    b.take_to(PSTN);
    let hold = |device: &str| Control::Hold {
        call: 1,
        device: device.into(),
    };
    assert_eq!(
        b.engine.control(b.now, hold("CTRIDbob")),
        Err(crate::control::ControlError::InvalidCallId)
    );
    assert_eq!(b.engine.control(b.now, hold(ALICE)), Ok(ControlOk::Done));
    b.collect();
    let reinvite = b.expect_request(PSTN, Method::Invite);
    assert!(b.events_of(ALICE).is_empty(), "not held until accepted");
    assert_eq!(
        b.engine.control(b.now, hold(ALICE)),
        Err(crate::control::ControlError::RequestInProgress)
    );
    let sdp = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n";
    let mut ok = Message::response_to(&reinvite, 200, "OK", None);
    ok.set_body(Some("application/sdp"), sdp.as_bytes().to_vec())
        .expect("sdp");
    b.deliver(&ok, PSTN);
    assert_eq!(b.events_of(ALICE), vec![K::Held]);
    assert_eq!(
        b.engine.device_calls(ALICE)[0].state,
        crate::control::ConnectionState::Held
    );
    let retrieve = Control::Retrieve {
        call: 1,
        device: ALICE.into(),
    };
    assert_eq!(b.engine.control(b.now, retrieve), Ok(ControlOk::Done));
    b.collect();
    let reinvite = b.expect_request(PSTN, Method::Invite);
    let sdp = "v=0\r\no=- 1 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
    let mut ok = Message::response_to(&reinvite, 200, "OK", None);
    ok.set_body(Some("application/sdp"), sdp.as_bytes().to_vec())
        .expect("sdp");
    b.deliver(&ok, PSTN);
    assert_eq!(b.events_of(ALICE), vec![K::Retrieved]);
    assert_eq!(
        b.engine.device_calls(ALICE)[0].state,
        crate::control::ConnectionState::Connected
    );
}
