//! MakeCall = Dial Via Office reverse (SPEC §2.3) through the engine in virtual time: the leg
//! to the device's RD, then the leg to the target, each with the identity it must show; the
//! anchored media joined; the CTI events in order; failures at either step; the CDR, the
//! counters and the leak checks.

use std::time::Duration;

use tether_sdp::SessionDescription;
use tether_sip::{HeaderName, Message, Method};
use tether_store::model::Object;
use tether_store::provisioning::Provisioning;

use super::harness::*;
use crate::control::{
    ConnectionState, Control, ControlError, ControlOk, DeviceCall, DeviceEventKind as K, Party,
};
use crate::media::MediaCommand;

const ALICE: &str = "CTRIDalice";
const RD: &str = "+14157777777";
const TARGET: &str = "914155550123";

/// The demo provisioning with a DID on the trunk and a display name on alice's device.
fn with_did(did: Option<&str>) -> Provisioning {
    let mut p = provisioning(None);
    let mut t = p.trunks.get("pstn").cloned().expect("pstn trunk");
    t.did = did.map(str::to_owned);
    p.put(Object::Trunk(t));
    let mut d = p.devices.get(ALICE).cloned().expect("alice");
    d.display_name = "Alice Smith".into();
    p.put(Object::Device(d));
    p
}

fn make_call(b: &mut Bench, to: &str) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(
        b.now,
        Control::MakeCall {
            device: ALICE.into(),
            to: to.into(),
        },
    );
    b.collect();
    r
}

fn sdp(m: &Message) -> SessionDescription {
    SessionDescription::parse(m.body()).expect("SDP body")
}

/// Neither the RD number nor anything of it is in `m` as sent.
fn no_rd(m: &Message) {
    assert!(!contains(m, RD) && !contains(m, "4157777777"), "{m}");
    assert!(m.header_value(&HeaderName::Diversion).is_none());
    assert!(m.header_value(&HeaderName::HistoryInfo).is_none());
}

/// The RD answers; returns the INVITE to the target.
fn rd_answers(b: &mut Bench, rd_leg: &Message) -> Message {
    b.deliver(&answer(rd_leg, 180, "rd", false), PSTN);
    b.deliver(&answer(rd_leg, 200, "rd", true), PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "the RD's answer is ACKed: {:?}",
        summary(&out)
    );
    let invites: Vec<_> = out
        .into_iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .collect();
    assert_eq!(invites.len(), 1, "one INVITE to the target");
    invites.into_iter().next().expect("target INVITE")
}

#[test]
fn dial_via_office_reverse_calls_the_rd_then_the_target_and_bridges_them() {
    let mut b = anchored_bench(with_did(Some("+14085550000")));
    assert_eq!(make_call(&mut b, TARGET), Ok(ControlOk::Call(1)));
    assert_eq!(b.events_of(ALICE), vec![K::ServiceInitiated]);
    assert_eq!(
        b.engine.device_calls(ALICE),
        vec![DeviceCall {
            call: 1,
            dn: "2000".into(),
            state: ConnectionState::Initiated,
            other: TARGET.into(),
            outgoing: true
        }]
    );

    // 1. The RD is called as `Voice Connect` with the trunk's DID, and Tether's own offer.
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    assert_eq!(ruri_user(&rd_leg).as_deref(), Some(RD));
    let vc = "\"Voice Connect\" <sip:+14085550000@tether.test>";
    assert!(
        rd_leg
            .header_value(&HeaderName::From)
            .is_some_and(|f| f.starts_with(&format!("{vc};tag="))),
        "{rd_leg}"
    );
    assert_eq!(
        rd_leg.header_value(&HeaderName::PAssertedIdentity),
        Some(vc)
    );
    let offer = sdp(&rd_leg);
    assert_eq!(offer.media()[0].port(), 30_000);
    assert_eq!(
        offer.connection().and_then(|c| c.ip()),
        Some("10.0.0.1".parse().expect("ip"))
    );

    // 2. The RD rings (no event) and answers: Originated, and the target is called showing
    //    the device's name and DN — never the RD.
    let target = rd_answers(&mut b, &rd_leg);
    assert_eq!(ruri_user(&target).as_deref(), Some("14155550123"));
    let me = "\"Alice Smith\" <sip:2000@tether.test>";
    assert!(target
        .header_value(&HeaderName::From)
        .is_some_and(|f| f.starts_with(&format!("{me};tag="))));
    assert_eq!(
        target.header_value(&HeaderName::PAssertedIdentity),
        Some(me)
    );
    no_rd(&target);
    assert_eq!(sdp(&target).media()[0].port(), 30_002);
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::Originated {
                called: TARGET.into()
            },
            K::NetworkReached {
                called: TARGET.into()
            }
        ]
    );
    assert_eq!(
        b.engine.device_calls(ALICE)[0].state,
        ConnectionState::Connected
    );
    assert!(
        b.media.iter().any(|c| matches!(
            c,
            MediaCommand::Configure {
                port: 30_000,
                remote: Some(_),
                ..
            }
        )),
        "the RD's answer configures its port: {:?}",
        b.media
    );

    // 3. The target rings, then answers: Delivered, Established, the legs are relayed.
    b.deliver(&answer(&target, 180, "tg", false), PSTN);
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Delivered {
            party: Party::Far,
            calling: "2000".into(),
            called: TARGET.into()
        }]
    );
    let ok_t = answer(&target, 200, "tg", true);
    b.deliver(&ok_t, PSTN);
    assert_eq!(
        b.events_of(ALICE),
        vec![K::Established {
            calling: "2000".into(),
            called: TARGET.into()
        }]
    );
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_002
    }));
    let out = b.take_to(PSTN);
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "{:?}",
        summary(&out)
    );
    assert!(
        !out.iter()
            .any(|m| m.method() == Some(&Method::Invite) || m.status().is_some()),
        "nothing else is sent: no re-INVITE of the RD {:?}",
        summary(&out)
    );
    let s = b.engine.stats().clone();
    assert_eq!(
        (s.attempts, s.outbound_attempts, s.answered),
        (1, 2, 1),
        "one call, two call attempts out (the seed's BHCA rule)"
    );

    // 4. The user hangs up at the RD: the target gets BYE, the device sees the clearing.
    b.advance(Duration::from_secs(42));
    let ok_rd = answer(&rd_leg, 200, "rd", true);
    b.deliver(
        &far_in_dialog(&rd_leg, &ok_rd, Method::Bye, 2, "rdbye"),
        PSTN,
    );
    let bye = b.expect_request(PSTN, Method::Bye);
    assert_eq!(bye.call_id(), target.call_id());
    assert_eq!(
        bye.header_value(&HeaderName::Reason),
        Some("Q.850;cause=16")
    );
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16
            },
            K::ConnectionCleared {
                party: Party::Far,
                cause: 16
            },
            K::CallCleared { cause: 16 }
        ]
    );
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PSTN);
    b.advance(Duration::from_secs(64));
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0);
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.engine.channels().in_use(), 0);
    assert_eq!(b.engine.media_ports_free(), Some(5));
    assert!(b.engine.device_calls(ALICE).is_empty());

    assert_eq!(b.cdrs.len(), 1);
    let cdr = &b.cdrs[0];
    assert_eq!(cdr.global_call_id, 1);
    assert_eq!(cdr.calling_party_number, "2000");
    assert_eq!(cdr.original_called_party_number, TARGET);
    assert_eq!(cdr.final_called_party_number, "14155550123");
    assert_eq!(cdr.orig_device_name, ALICE);
    assert_eq!(cdr.dest_device_name, "");
    assert_eq!(cdr.orig_span, "pstn");
    assert_eq!(cdr.dest_span, "pstn");
    assert_eq!(cdr.orig_leg_call_identifier, rd_leg.call_id().unwrap_or(""));
    assert_eq!(cdr.dest_leg_identifier, target.call_id().unwrap_or(""));
    assert_eq!(cdr.mobile_calling_party_number, RD);
    assert_eq!(cdr.orig_cause_value, 16);
    assert_eq!(cdr.duration, 42);
    assert!(cdr.date_time_connect > 0);
}

#[test]
fn a_trunk_without_a_did_shows_voice_connect_anonymously() {
    let mut b = anchored_bench(with_did(None));
    make_call(&mut b, TARGET).expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    assert!(
        rd_leg.header_value(&HeaderName::From).is_some_and(
            |f| f.starts_with("\"Voice Connect\" <sip:anonymous@anonymous.invalid>;tag=")
        )
    );
    assert_eq!(
        rd_leg.header_value(&HeaderName::PAssertedIdentity),
        None,
        "no identity to assert"
    );
}

#[test]
fn requests_that_cannot_be_carried_out_are_refused_at_once() {
    let mut b = anchored_bench(with_did(None));
    let mc = |device: &str, to: &str| Control::MakeCall {
        device: device.into(),
        to: to.into(),
    };
    for (req, want) in [
        (mc("CTRIDnobody", TARGET), ControlError::InvalidDevice),
        (mc("SIPdave", TARGET), ControlError::InvalidDevice),
        (mc("CTRIDcarol", TARGET), ControlError::ActiveRdNotSet),
    ] {
        assert_eq!(b.engine.control(b.now, req), Err(want));
    }
    for to in ["7777", "", "2001"] {
        // Unroutable, empty, and an unregistered phone.
        assert!(
            matches!(
                b.engine.control(b.now, mc(ALICE, to)),
                Err(ControlError::InvalidDestination(_))
            ),
            "{to:?}"
        );
    }
    b.collect();
    assert!(b.sent.is_empty() && b.device_events.is_empty() && b.cdrs.is_empty());
    assert_eq!(b.engine.stats().attempts, 0, "a refused request is no call");

    let mut plain = Bench::new(with_did(None));
    assert_eq!(
        plain.engine.control(plain.now, mc(ALICE, TARGET)),
        Err(ControlError::MediaNotAnchored)
    );
}

#[test]
fn a_busy_rd_fails_the_device_and_nothing_else_is_called() {
    let mut b = anchored_bench(with_did(None));
    make_call(&mut b, TARGET).expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&rd_leg, 486, "rd", false), PSTN);
    assert!(b.requests_to(PSTN, Method::Invite).is_empty());
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ServiceInitiated,
            K::Failed {
                party: Party::Device,
                cause: 17
            },
            K::ConnectionCleared {
                party: Party::Device,
                cause: 17
            },
            K::CallCleared { cause: 17 }
        ]
    );
    b.advance(Duration::from_secs(64));
    assert_eq!((b.engine.active_calls(), b.engine.transactions()), (0, 0));
    assert_eq!(b.engine.media_ports_free(), Some(5));
    assert_eq!(b.cdrs.len(), 1);
    assert_eq!(b.cdrs[0].orig_cause_value, 17);
    assert_eq!(b.engine.stats().outbound_attempts, 1);
}

#[test]
fn an_rd_that_never_answers_is_cancelled_after_answer_too_late() {
    let mut b = anchored_bench(with_did(None));
    make_call(&mut b, TARGET).expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&rd_leg, 180, "rd", false), PSTN);
    b.advance(Duration::from_secs(19));
    let cancel = b.expect_request(PSTN, Method::Cancel);
    b.deliver(&Message::response_to(&cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&rd_leg, 487, "rd", false), PSTN);
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ServiceInitiated,
            K::Failed {
                party: Party::Device,
                cause: 19
            },
            K::ConnectionCleared {
                party: Party::Device,
                cause: 19
            },
            K::CallCleared { cause: 19 }
        ]
    );
}

#[test]
fn a_busy_target_fails_the_far_party_and_the_rd_is_hung_up() {
    let mut b = anchored_bench(with_did(None));
    make_call(&mut b, TARGET).expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    let target = rd_answers(&mut b, &rd_leg);
    b.events_of(ALICE);
    let mut busy = answer(&target, 486, "tg", false);
    busy.push_header(HeaderName::Reason, "Q.850;cause=17")
        .expect("reason");
    b.deliver(&busy, PSTN);
    let bye = b.expect_request(PSTN, Method::Bye);
    assert_eq!(bye.call_id(), rd_leg.call_id(), "the RD leg is hung up");
    assert_eq!(
        bye.header_value(&HeaderName::Reason),
        Some("Q.850;cause=17")
    );
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::Failed {
                party: Party::Far,
                cause: 17
            },
            K::ConnectionCleared {
                party: Party::Far,
                cause: 17
            },
            K::ConnectionCleared {
                party: Party::Device,
                cause: 17
            },
            K::CallCleared { cause: 17 }
        ]
    );
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PSTN);
    b.advance(Duration::from_secs(64));
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0);
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.engine.media_ports_free(), Some(5));
    assert_eq!(b.cdrs[0].dest_cause_value, 17);
    assert_eq!(b.cdrs[0].date_time_connect, 0);
}

/// A MakeCall to dave's phone: the phone rings showing alice's name and DN, and its device
/// sees the call as delivered to it; no trunk is involved, so no NetworkReached.
#[test]
fn make_call_to_an_internal_phone() {
    let mut b = anchored_bench(with_did(Some("+14085550000")));
    register_phone(&mut b);
    make_call(&mut b, "2001").expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&rd_leg, 200, "rd", true), PSTN);
    let to_phone = b.expect_request(PHONE, Method::Invite);
    assert!(to_phone
        .header_value(&HeaderName::From)
        .is_some_and(|f| f.starts_with("\"Alice Smith\" <sip:2000@tether.test>;tag=")));
    no_rd(&to_phone);
    b.deliver(&answer(&to_phone, 180, "ph", false), PHONE);
    b.deliver(&answer(&to_phone, 200, "ph", true), PHONE);
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ServiceInitiated,
            K::Originated {
                called: "2001".into()
            },
            K::Delivered {
                party: Party::Far,
                calling: "2000".into(),
                called: "2001".into()
            },
            K::Established {
                calling: "2000".into(),
                called: "2001".into()
            }
        ]
    );
    assert_eq!(
        b.events_of("SIPdave"),
        vec![
            K::Delivered {
                party: Party::Device,
                calling: "2000".into(),
                called: "2001".into()
            },
            K::Established {
                calling: "2000".into(),
                called: "2001".into()
            }
        ]
    );
    let dave = b.engine.device_calls("SIPdave");
    assert_eq!(
        (dave[0].other.as_str(), dave[0].outgoing, dave[0].state),
        ("2000", false, ConnectionState::Connected)
    );
    assert_eq!(b.cdrs.len(), 0);
    assert_eq!(b.engine.calls()[0].device, "SIPdave");
}

/// The user hangs up at the RD while the target still rings: the target is cancelled, saying
/// why, and both connections are cleared.
#[test]
fn the_rd_hanging_up_while_the_target_rings_cancels_the_target() {
    let mut b = anchored_bench(with_did(None));
    make_call(&mut b, TARGET).expect("accepted");
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    let target = rd_answers(&mut b, &rd_leg);
    b.deliver(&answer(&target, 180, "tg", false), PSTN);
    b.events_of(ALICE);
    let ok_rd = answer(&rd_leg, 200, "rd", true);
    b.deliver(
        &far_in_dialog(&rd_leg, &ok_rd, Method::Bye, 2, "rdbye"),
        PSTN,
    );
    let cancel = b.expect_request(PSTN, Method::Cancel);
    assert_eq!(cancel.call_id(), target.call_id());
    assert_eq!(
        cancel.header_value(&HeaderName::Reason),
        Some("Q.850;cause=16")
    );
    assert_eq!(
        b.events_of(ALICE),
        vec![
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16
            },
            K::ConnectionCleared {
                party: Party::Far,
                cause: 16
            },
            K::CallCleared { cause: 16 }
        ]
    );
    b.deliver(&Message::response_to(&cancel, 200, "OK", None), PSTN);
    b.deliver(&answer(&target, 487, "tg", false), PSTN);
    b.advance(Duration::from_secs(64));
    assert_eq!((b.engine.active_calls(), b.engine.transactions()), (0, 0));
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.cdrs[0].orig_cause_value, 16);
}
