//! TransferCall (SPEC §2.8) in virtual time: the held party retrieved with a `sendrecv`
//! re-INVITE, the device's leg hung up with `Reason: Q.850;cause=16`, the two far parties relayed
//! to each other in their own dialogs (no new INVITE to either), the events at every device, the
//! CDRs of the held call and of the joined call, and the leak checks — for a call to the device
//! (its leg is a B leg), a MakeCall (its leg is the A side) and a consulted SIP phone.

use std::time::Duration;

use tether_sdp::Direction;
use tether_sip::{HeaderName, Message, Method};

use super::consult::*;
use super::harness::*;
use crate::control::{
    ConnectionState, Control, ControlError, ControlOk, DeviceEventKind as K, Party,
};
use crate::media::MediaCommand;

fn transfer(b: &mut Bench, held: u64, active: u64) -> Result<ControlOk, ControlError> {
    control(
        b,
        Control::TransferCall {
            held_call: held,
            active_call: active,
            device: ALICE.into(),
        },
    )
}

fn transferred(call: u64, x: &str, y: &str) -> (u64, K) {
    (
        call,
        K::Transferred {
            transferred: x.into(),
            to: y.into(),
            resulting_call: 2,
        },
    )
}

fn device_cleared(call: u64) -> (u64, K) {
    (
        call,
        K::ConnectionCleared {
            party: Party::Device,
            cause: 16,
        },
    )
}

/// PSTN caller X → alice (RD answers), alice consults Y and transfers: X and Y talk, the RD is
/// hung up; Y hangs up later and X gets the BYE.
#[test]
fn transfer_joins_the_held_caller_with_the_consulted_party() {
    let mut b = anchored_bench(provisioning(None));
    let (inv, ok, leg, _ok_rd) = answered(&mut b, "t1");
    let (hold, to_y) = consulting(&mut b, PSTN);
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.media.clear();
    b.advance(Duration::from_secs(20));

    assert_eq!(transfer(&mut b, 1, 2), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    let reinvite = out
        .iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .cloned()
        .expect("re-INVITE to X");
    assert_eq!(reinvite.call_id(), Some("t1"));
    assert_eq!(
        reinvite.header_value(&HeaderName::To),
        hold.header_value(&HeaderName::To),
        "in X's own dialog"
    );
    assert_eq!(sdp(&reinvite).media_direction(0), Direction::SendRecv);
    assert_eq!(sdp(&reinvite).media()[0].port(), 30_000);
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .cloned()
        .expect("BYE to the RD");
    assert_eq!(bye.call_id(), leg.call_id());
    assert_eq!(reason(&bye), Some("Q.850;cause=16"));
    assert_eq!(
        summary(&out),
        vec!["INVITE", "BYE"],
        "nothing else: no INVITE to Y, no new INVITE to X"
    );
    assert_eq!(
        b.media,
        vec![
            MediaCommand::StopPlaying { port: 30_000 },
            MediaCommand::Connect {
                a: 30_000,
                b: 30_004
            },
            MediaCommand::Close { port: 30_002 },
        ]
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![transferred(1, X, Y), device_cleared(1), device_cleared(2)]
    );
    assert!(b.engine.device_calls(ALICE).is_empty());
    // The held call's record is written now.
    assert_eq!(b.cdrs.len(), 1);
    let cdr = &b.cdrs[0];
    assert_eq!(cdr.global_call_id, 1);
    assert_eq!((cdr.dest_cause_value, cdr.orig_cause_value), (16, 0));
    assert_eq!(cdr.calling_party_number, X);
    assert!(cdr.duration >= 20);
    assert_eq!(b.engine.active_calls(), 1);
    let calls = b.engine.calls();
    assert_eq!(
        (
            calls[0].id,
            calls[0].calling.as_str(),
            calls[0].called.as_str()
        ),
        (2, X, Y)
    );
    assert_eq!(
        (calls[0].caller_rtp_port, calls[0].far_rtp_port),
        (Some(30_000), Some(30_004))
    );

    // X accepts the re-INVITE (ACKed, nothing reported: alice left), the RD's BYE is answered.
    b.deliver(&reply(&reinvite, 200, Some("sendrecv")), PSTN);
    b.deliver(&Message::response_to(&bye, 200, "OK", None), PSTN);
    let out = b.take_to(PSTN);
    assert_eq!(summary(&out), vec!["ACK"]);
    assert!(b.device_events.is_empty(), "{:?}", b.device_events);

    // A key from X reaches Y's leg; then Y hangs up and X gets the BYE.
    let mut info = in_dialog(&inv, &ok, Method::Info, 2, PSTN, "ti");
    info.set_body(
        Some("application/dtmf-relay"),
        b"Signal=3\r\nDuration=100\r\n".to_vec(),
    )
    .expect("body");
    b.media.clear();
    b.deliver(&info, PSTN);
    assert!(b
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::SendDigits { port: 30_004, .. })));
    b.take_to(PSTN);
    b.advance(Duration::from_secs(10));
    b.deliver(&far_in_dialog(&to_y, &ok_y, Method::Bye, 2, "ybye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), Some("t1"));
    assert_eq!(reason(&byes[0]), Some("Q.850;cause=16"));
    assert!(b.device_events.is_empty());
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
    let joined = &b.cdrs[1];
    assert_eq!(joined.global_call_id, 2);
    assert_eq!(joined.calling_party_number, X);
    assert_eq!(joined.original_called_party_number, Y);
    assert_eq!(joined.last_redirect_dn, "2000");
    assert_eq!(joined.orig_leg_call_identifier, "t1");
    assert_eq!(joined.dest_leg_identifier, to_y.call_id().unwrap_or(""));
    assert_eq!(joined.orig_span, "pstn");
    assert_eq!(joined.orig_device_name, "");
    assert_eq!(joined.mobile_calling_party_number, "");
    assert_eq!(joined.dest_cause_value, 16);
    assert!(!format!("{:?}", b.cdrs[1]).contains(RD));
    let s = b.engine.stats();
    assert_eq!((s.attempts, s.answered, s.completed), (2, 2, 2));
    assert_eq!(s.outbound_attempts, 2);
}

/// A MakeCall's RD leg is the A side: the target X (a B leg) moves into the consultation.
#[test]
fn transfer_from_a_make_call() {
    let mut b = anchored_bench(provisioning(None));
    assert_eq!(
        control(
            &mut b,
            Control::MakeCall {
                device: ALICE.into(),
                to: "914155550111".into()
            }
        ),
        Ok(ControlOk::Call(1))
    );
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    let ok_rd = answer(&rd_leg, 200, "rd", true);
    b.deliver(&ok_rd, PSTN);
    let to_x = b.expect_request(PSTN, Method::Invite);
    let ok_x = answer(&to_x, 200, "x", true);
    b.deliver(&ok_x, PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    let (hold, to_y) = consulting(&mut b, PSTN);
    assert_eq!(hold.call_id(), to_x.call_id());
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.media.clear();
    assert_eq!(transfer(&mut b, 1, 2), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    assert_eq!(summary(&out), vec!["INVITE", "BYE"]);
    assert_eq!(out[0].call_id(), to_x.call_id());
    assert_eq!(out[1].call_id(), rd_leg.call_id());
    assert_eq!(reason(&out[1]), Some("Q.850;cause=16"));
    assert_eq!(
        b.media,
        vec![
            MediaCommand::StopPlaying { port: 30_002 },
            MediaCommand::Connect {
                a: 30_002,
                b: 30_004
            },
            MediaCommand::Close { port: 30_000 },
        ]
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            transferred(1, "914155550111", Y),
            device_cleared(1),
            device_cleared(2)
        ]
    );
    assert_eq!(b.cdrs.len(), 1);
    assert_eq!(b.cdrs[0].orig_cause_value, 16);
    b.deliver(&reply(&out[0], 200, Some("sendrecv")), PSTN);
    b.deliver(&Message::response_to(&out[1], 200, "OK", None), PSTN);
    assert_eq!(summary(&b.take_to(PSTN)), vec!["ACK"]);
    // X hangs up: Y gets the BYE.
    b.deliver(&far_in_dialog(&to_x, &ok_x, Method::Bye, 3, "xbye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), to_y.call_id());
    settled(&mut b);
    let joined = &b.cdrs[1];
    assert_eq!(joined.calling_party_number, "914155550111");
    assert_eq!(
        joined.orig_leg_call_identifier,
        to_x.call_id().unwrap_or("")
    );
    assert_eq!(joined.orig_cause_value, 16, "X released");
}

/// The consulted party is dave's phone: dave's device sees the consultation ring and answer,
/// then Transferred on the joined call, which goes on with it.
#[test]
fn transfer_to_a_consulted_phone_tells_its_device() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (_inv, _ok, _leg, _ok_rd) = answered(&mut b, "t3");
    assert_eq!(consult(&mut b, 1, "2001"), Ok(ControlOk::Call(2)));
    let hold = b.expect_request(PSTN, Method::Invite);
    b.deliver(&reply(&hold, 200, Some("recvonly")), PSTN);
    let to_dave = b.expect_request(PHONE, Method::Invite);
    assert!(to_dave
        .header_value(&HeaderName::From)
        .is_some_and(|f| f.starts_with("<sip:2000@tether.test>;tag=")));
    b.deliver(&answer(&to_dave, 180, "d", false), PHONE);
    let ok_d = answer(&to_dave, 200, "d", true);
    b.deliver(&ok_d, PHONE);
    b.take_to(PHONE);
    assert_eq!(
        events(&mut b, "SIPdave"),
        vec![
            (
                2,
                K::Delivered {
                    party: Party::Device,
                    calling: "2000".into(),
                    called: "2001".into()
                }
            ),
            (
                2,
                K::Established {
                    calling: "2000".into(),
                    called: "2001".into()
                }
            )
        ]
    );
    b.device_events.clear();
    assert_eq!(transfer(&mut b, 1, 2), Ok(ControlOk::Done));
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            transferred(1, X, "2001"),
            device_cleared(1),
            device_cleared(2)
        ]
    );
    assert_eq!(events(&mut b, "SIPdave"), vec![transferred(2, X, "2001")]);
    let dave = b.engine.device_calls("SIPdave");
    assert_eq!(
        (dave[0].call, dave[0].state, dave[0].other.as_str()),
        (2, ConnectionState::Connected, X)
    );
    // Dave hangs up: X gets the BYE, dave's device sees the call end.
    b.take_to(PSTN);
    b.deliver(
        &far_in_dialog(&to_dave, &ok_d, Method::Bye, 2, "dbye"),
        PHONE,
    );
    let byes = b.requests_to(PSTN, Method::Bye);
    assert_eq!(
        byes.iter().filter_map(|m| m.call_id()).collect::<Vec<_>>(),
        vec!["t3"]
    );
    assert_eq!(
        events(&mut b, "SIPdave"),
        vec![
            (
                2,
                K::ConnectionCleared {
                    party: Party::Device,
                    cause: 16
                }
            ),
            (
                2,
                K::ConnectionCleared {
                    party: Party::Far,
                    cause: 16
                }
            ),
            (2, K::CallCleared { cause: 16 })
        ]
    );
    assert!(events(&mut b, ALICE).is_empty());
}

#[test]
fn transfers_that_cannot_be_made_are_refused() {
    let mut b = anchored_bench(provisioning(None));
    answered(&mut b, "t4");
    assert_eq!(
        transfer(&mut b, 1, 2),
        Err(ControlError::InvalidCallId),
        "no consultation"
    );
    assert_eq!(consult(&mut b, 1, Y), Ok(ControlOk::Call(2)));
    let out = b.take_to(PSTN);
    let hold = out
        .iter()
        .find(|m| m.method() == Some(&Method::Invite) && m.to_tag().is_some())
        .cloned()
        .expect("hold");
    let to_y = out
        .iter()
        .find(|m| m.method() == Some(&Method::Invite) && m.to_tag().is_none())
        .cloned()
        .expect("to Y");
    b.deliver(&answer(&to_y, 200, "y", true), PSTN);
    assert_eq!(
        transfer(&mut b, 1, 2),
        Err(ControlError::RequestInProgress),
        "the hold is not answered yet"
    );
    b.deliver(&reply(&hold, 200, Some("recvonly")), PSTN);
    assert_eq!(
        transfer(&mut b, 2, 1),
        Err(ControlError::InvalidCallState),
        "held and active swapped"
    );
    assert_eq!(
        control(
            &mut b,
            Control::TransferCall {
                held_call: 1,
                active_call: 2,
                device: "CTRIDbob".into()
            }
        ),
        Err(ControlError::InvalidCallId)
    );
    b.take_to(PSTN);
    b.device_events.clear();
    assert_eq!(transfer(&mut b, 1, 2), Ok(ControlOk::Done));

    // A consultation still ringing cannot be transferred to.
    let mut b = anchored_bench(provisioning(None));
    answered(&mut b, "t5");
    let (_hold, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 180, "y", false), PSTN);
    assert_eq!(transfer(&mut b, 1, 2), Err(ControlError::InvalidCallState));
}
