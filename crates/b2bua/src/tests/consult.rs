//! ConsultationCall (SPEC §2.8) in virtual time: the far party held with a re-INVITE and music,
//! the consultation placed over the device's same leg (no INVITE to its RD), the legs' media
//! moved, the events on each call, the consultation cleared alone, the held party retrieved;
//! the held call ending first (its device leg gone, or its far party gone) and the leak checks.

use std::time::Duration;

use tether_sdp::{Direction, SessionDescription};
use tether_sip::{HeaderName, Message, Method};

use super::harness::*;
use crate::control::{
    ConnectionState, Control, ControlError, ControlOk, DeviceEventKind as K, Party,
};
use crate::media::{MediaCommand, Playable};

pub const ALICE: &str = "CTRIDalice";
pub const RD: &str = "+14157777777";
/// The consulted party behind the PSTN trunk.
pub const Y: &str = "914155550123";
/// The caller of the held call.
pub const X: &str = "4085551234";

pub fn sdp(m: &Message) -> SessionDescription {
    SessionDescription::parse(m.body()).expect("SDP body")
}

/// `m`'s response `code`, with an SDP answer saying `direction` when given.
pub fn reply(m: &Message, code: u16, direction: Option<&str>) -> Message {
    let mut r = Message::response_to(m, code, Message::default_reason(code), None);
    if let Some(d) = direction {
        let body = format!("v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na={d}\r\n");
        r.set_body(Some("application/sdp"), body.into_bytes())
            .expect("sdp");
    }
    r
}

/// The CTI events `device` got so far, with their call ids (removing them).
pub fn events(b: &mut Bench, device: &str) -> Vec<(u64, K)> {
    let (mine, rest): (Vec<_>, Vec<_>) =
        b.device_events.drain(..).partition(|e| e.device == device);
    b.device_events = rest;
    mine.into_iter().map(|e| (e.call, e.kind)).collect()
}

pub fn control(b: &mut Bench, req: Control) -> Result<ControlOk, ControlError> {
    let r = b.engine.control(b.now, req);
    b.collect();
    r
}

pub fn consult(b: &mut Bench, call: u64, to: &str) -> Result<ControlOk, ControlError> {
    control(
        b,
        Control::ConsultationCall {
            call,
            device: ALICE.into(),
            to: to.into(),
        },
    )
}

/// An answered, anchored call from `X` to 2000 at alice's RD: the caller's leg is port 30,000,
/// the RD's 30,002. Returns the caller's INVITE, Tether's 200 to it, the RD leg's INVITE and
/// the RD's 200.
pub fn answered(b: &mut Bench, id: &str) -> (Message, Message, Message, Message) {
    let inv = invite(id, X, "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_rd = answer(&leg, 200, "rd", true);
    b.deliver(&ok_rd, PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to the caller");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack"), PSTN);
    b.device_events.clear();
    b.media.clear();
    (inv, ok, leg, ok_rd)
}

/// Consults `Y` from call 1, checks that the far party alone is re-INVITEd and that the only
/// INVITE out of dialog goes to Y (never the RD); the held party accepts. Returns the
/// re-INVITE to the held party and Y's INVITE.
pub fn consulting(b: &mut Bench, held_party_at: &str) -> (Message, Message) {
    assert_eq!(consult(b, 1, Y), Ok(ControlOk::Call(2)));
    let out = b.take_to(held_party_at);
    let mut out: Vec<Message> = out;
    if held_party_at != PSTN {
        out.extend(b.take_to(PSTN));
    }
    let invites: Vec<&Message> = out
        .iter()
        .filter(|m| m.method() == Some(&Method::Invite))
        .collect();
    assert_eq!(invites.len(), 2, "{:?}", summary(&out));
    let reinvite = invites
        .iter()
        .find(|m| m.to_tag().is_some())
        .map(|m| (*m).clone())
        .expect("a re-INVITE to the held party");
    let to_y = invites
        .iter()
        .find(|m| m.to_tag().is_none())
        .map(|m| (*m).clone())
        .expect("an INVITE to Y");
    assert_eq!(ruri_user(&to_y).as_deref(), Some("14155550123"));
    assert!(!contains(&to_y, RD) && !contains(&to_y, "4157777777"));
    assert_eq!(sdp(&reinvite).media_direction(0), Direction::SendOnly);
    b.deliver(&reply(&reinvite, 200, Some("recvonly")), held_party_at);
    (reinvite, to_y)
}

/// Everything is given back once the far ends answered the last requests.
pub fn settled(b: &mut Bench) {
    b.advance(Duration::from_secs(64));
    assert_eq!(b.engine.active_calls(), 0);
    assert_eq!(b.engine.transactions(), 0, "every transaction ended");
    assert_eq!(b.engine.bookkeeping(), (0, 0, 0));
    assert_eq!(b.engine.channels().in_use(), 0);
    assert_eq!(b.engine.media_ports_free(), Some(5));
    assert!(b.engine.device_calls(ALICE).is_empty());
}

/// Answers every BYE sent so far with 200.
pub fn answer_byes(b: &mut Bench, to: &str) -> Vec<Message> {
    let byes = b.requests_to(to, Method::Bye);
    for bye in &byes {
        b.deliver(&Message::response_to(bye, 200, "OK", None), to);
    }
    byes
}

pub fn reason(m: &Message) -> Option<&str> {
    m.header_value(&HeaderName::Reason)
}

fn cleared(call: u64, first: Party, second: Party, cause: u8) -> Vec<(u64, K)> {
    vec![
        (
            call,
            K::ConnectionCleared {
                party: first,
                cause,
            },
        ),
        (
            call,
            K::ConnectionCleared {
                party: second,
                cause,
            },
        ),
        (call, K::CallCleared { cause }),
    ]
}

#[test]
fn a_consultation_holds_the_far_party_and_calls_over_the_same_rd_leg() {
    let mut b = anchored_bench(provisioning(None));
    let (inv, ok, leg, ok_rd) = answered(&mut b, "c1");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    assert_eq!(
        b.media[..3],
        [
            MediaCommand::Play {
                port: 30_000,
                what: Playable::MusicOnHold,
                looped: true
            },
            MediaCommand::Disconnect { port: 30_002 },
            MediaCommand::Open { port: 30_004 },
        ],
        "music to the held party, the RD's leg off the relay, a port for Y only"
    );
    assert!(
        matches!(b.media[3..], [MediaCommand::Configure { port: 30_000, .. }]),
        "the held party's answer configures its leg: {:?}",
        b.media
    );
    assert_eq!(sdp(&to_y).media()[0].port(), 30_004);
    assert!(to_y
        .header_value(&HeaderName::From)
        .is_some_and(|f| f.starts_with("<sip:2000@tether.test>;tag=")));
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            (2, K::ServiceInitiated),
            (2, K::Originated { called: Y.into() }),
            (2, K::NetworkReached { called: Y.into() }),
            (1, K::Held),
        ]
    );
    assert_eq!(
        control(
            &mut b,
            Control::Retrieve {
                call: 1,
                device: ALICE.into()
            }
        ),
        Err(ControlError::InvalidCallState),
        "not while the RD leg serves the consultation"
    );
    assert_eq!(
        consult(&mut b, 1, Y),
        Err(ControlError::InvalidCallState),
        "one consultation at a time"
    );

    // Y rings with early media, then answers: the RD's leg is relayed to Y's.
    b.media.clear();
    b.deliver(&answer(&to_y, 183, "y", true), PSTN);
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_002,
        b: 30_004
    }));
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter().all(|m| m.method() == Some(&Method::Ack)),
        "only the ACK to Y: {:?}",
        summary(&out)
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            (
                2,
                K::Delivered {
                    party: Party::Far,
                    calling: "2000".into(),
                    called: Y.into()
                }
            ),
            (
                2,
                K::Established {
                    calling: "2000".into(),
                    called: Y.into()
                }
            ),
        ]
    );
    let state: Vec<_> = b
        .engine
        .device_calls(ALICE)
        .into_iter()
        .map(|c| (c.call, c.state, c.other, c.outgoing))
        .collect();
    assert_eq!(
        state,
        vec![
            (1, ConnectionState::Held, X.into(), false),
            (2, ConnectionState::Connected, Y.into(), true)
        ]
    );
    assert!(!format!("{state:?}").contains(RD));

    // Keys from the RD during the consultation are the consultation's.
    b.engine.handle_media_notice(
        b.now,
        crate::media::MediaNotice::Digit {
            port: 30_002,
            digit: '7',
            duration: Duration::from_millis(100),
            inband: false,
        },
    );
    b.collect();
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            2,
            K::DigitsDetected {
                party: Party::Device,
                digit: '7',
                method: crate::output::DigitMethod::Rfc4733
            }
        )]
    );

    // Clearing the consultation ends Y's leg only; the held call stays held.
    b.advance(Duration::from_secs(30));
    b.media.clear();
    assert_eq!(
        control(
            &mut b,
            Control::ClearConnection {
                call: 2,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1, "a BYE to Y only");
    assert_eq!(byes[0].call_id(), to_y.call_id());
    assert_eq!(reason(&byes[0]), Some("Q.850;cause=16"));
    assert_eq!(b.media, vec![MediaCommand::Close { port: 30_004 }]);
    assert_eq!(
        events(&mut b, ALICE),
        cleared(2, Party::Device, Party::Far, 16)
    );
    assert_eq!(b.cdrs.len(), 1);
    let cdr = &b.cdrs[0];
    assert_eq!(cdr.global_call_id, 2);
    assert_eq!(
        (
            cdr.calling_party_number.as_str(),
            cdr.original_called_party_number.as_str(),
            cdr.final_called_party_number.as_str()
        ),
        ("2000", Y, "14155550123")
    );
    assert_eq!(cdr.orig_device_name, ALICE);
    assert_eq!(cdr.orig_leg_call_identifier, leg.call_id().unwrap_or(""));
    assert_eq!(cdr.dest_leg_identifier, to_y.call_id().unwrap_or(""));
    assert_eq!((cdr.duration, cdr.orig_cause_value), (30, 16));
    assert_eq!(
        b.engine.device_calls(ALICE)[0].state,
        ConnectionState::Held,
        "the held call waits for RetrieveCall"
    );
    b.media.clear();

    // Retrieve: sendrecv, the music stops, the RD's leg and the caller's are relayed again.
    assert_eq!(
        control(
            &mut b,
            Control::Retrieve {
                call: 1,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    assert_eq!(
        b.media,
        vec![
            MediaCommand::StopPlaying { port: 30_000 },
            MediaCommand::Connect {
                a: 30_000,
                b: 30_002
            }
        ]
    );
    let reinvite = b.expect_request(PSTN, Method::Invite);
    assert_eq!(reinvite.call_id(), Some("c1"));
    assert_eq!(sdp(&reinvite).media_direction(0), Direction::SendRecv);
    b.deliver(&reply(&reinvite, 200, Some("sendrecv")), PSTN);
    assert_eq!(events(&mut b, ALICE), vec![(1, K::Retrieved)]);

    // The caller hangs up: the RD's leg is hung up, everything is given back.
    b.take_to(PSTN);
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "bye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), leg.call_id());
    let _ = ok_rd;
    assert_eq!(
        events(&mut b, ALICE),
        cleared(1, Party::Far, Party::Device, 16)
    );
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
    let s = b.engine.stats();
    assert_eq!((s.attempts, s.answered, s.completed), (2, 2, 2));
    assert_eq!(
        s.outbound_attempts, 2,
        "the RD once, Y once: no new call to the RD"
    );
}

/// The user hangs up at the RD during the consultation: both calls end, each far party gets a
/// BYE, the device sees both cleared.
#[test]
fn the_rd_hanging_up_during_a_consultation_ends_both_calls() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, _ok, leg, ok_rd) = answered(&mut b, "c2");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 200, "y", true), PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.deliver(&far_in_dialog(&leg, &ok_rd, Method::Bye, 2, "rdbye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    let mut ids: Vec<_> = byes.iter().filter_map(|m| m.call_id()).collect();
    ids.sort_unstable();
    let mut want = vec!["c2", to_y.call_id().expect("id")];
    want.sort_unstable();
    assert_eq!(ids, want, "a BYE to the held party and one to Y");
    let mut want = cleared(1, Party::Device, Party::Far, 16);
    want.extend(cleared(2, Party::Device, Party::Far, 16));
    assert_eq!(events(&mut b, ALICE), want);
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
}

/// Y still rings when the RD hangs up: Y is cancelled.
#[test]
fn the_rd_hanging_up_while_the_consulted_party_rings_cancels_it() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, _ok, leg, ok_rd) = answered(&mut b, "c3");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 180, "y", false), PSTN);
    b.deliver(&far_in_dialog(&leg, &ok_rd, Method::Bye, 2, "rdbye"), PSTN);
    let out = b.take_to(PSTN);
    let cancel = out
        .iter()
        .find(|m| m.method() == Some(&Method::Cancel))
        .expect("CANCEL to Y");
    assert_eq!(cancel.call_id(), to_y.call_id());
    assert_eq!(reason(cancel), Some("Q.850;cause=16"));
    for m in &out {
        if m.method() == Some(&Method::Bye) || m.method() == Some(&Method::Cancel) {
            b.deliver(&Message::response_to(m, 200, "OK", None), PSTN);
        }
    }
    b.deliver(&answer(&to_y, 487, "y", false), PSTN);
    settled(&mut b);
}

/// The held party hangs up during the consultation: the held call ends, the RD's leg stays up
/// and goes on in the consultation, which owns it from then on.
#[test]
fn the_held_party_hanging_up_hands_the_rd_leg_to_the_consultation() {
    let mut b = anchored_bench(provisioning(None));
    let (inv, ok, leg, _ok_rd) = answered(&mut b, "c4");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 200, "y", true), PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.media.clear();
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 3, PSTN, "xbye"), PSTN);
    assert!(
        b.requests_to(PSTN, Method::Bye).is_empty(),
        "nobody else is hung up"
    );
    assert_eq!(
        events(&mut b, ALICE),
        cleared(1, Party::Far, Party::Device, 16)
    );
    assert_eq!(
        b.media,
        vec![MediaCommand::Close { port: 30_000 }],
        "the held party's port only"
    );
    let calls = b.engine.device_calls(ALICE);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].call, calls[0].state),
        (2, ConnectionState::Connected)
    );
    // Now clearing the consultation hangs up both its parties: Y and the RD.
    assert_eq!(
        control(
            &mut b,
            Control::ClearConnection {
                call: 2,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    let byes = answer_byes(&mut b, PSTN);
    let mut ids: Vec<_> = byes.iter().filter_map(|m| m.call_id()).collect();
    ids.sort_unstable();
    let mut want = vec![leg.call_id().expect("id"), to_y.call_id().expect("id")];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(byes.iter().all(|m| reason(m) == Some("Q.850;cause=16")));
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
}

/// The device clears the held call during the consultation: the held party is hung up, the
/// RD's leg goes on in the consultation.
#[test]
fn clearing_the_held_call_keeps_the_rd_leg_for_the_consultation() {
    let mut b = anchored_bench(provisioning(None));
    let (_inv, _ok, leg, ok_rd) = answered(&mut b, "c5");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 200, "y", true), PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    assert_eq!(
        control(
            &mut b,
            Control::ClearConnection {
                call: 1,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), Some("c5"), "the held party only");
    assert_eq!(
        events(&mut b, ALICE),
        cleared(1, Party::Device, Party::Far, 16)
    );
    // The RD hangs up: the consultation ends, Y is hung up.
    b.deliver(&far_in_dialog(&leg, &ok_rd, Method::Bye, 2, "rdbye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), to_y.call_id());
    assert_eq!(
        events(&mut b, ALICE),
        cleared(2, Party::Device, Party::Far, 16)
    );
    settled(&mut b);
}

/// The consulted party is busy: the consultation fails alone.
#[test]
fn a_busy_consulted_party_fails_the_consultation_only() {
    let mut b = anchored_bench(provisioning(None));
    answered(&mut b, "c6");
    let (_reinvite, to_y) = consulting(&mut b, PSTN);
    b.device_events.clear();
    b.deliver(&answer(&to_y, 486, "y", false), PSTN);
    assert!(b.requests_to(PSTN, Method::Bye).is_empty());
    let mut want = vec![(
        2,
        K::Failed {
            party: Party::Far,
            cause: 17,
        },
    )];
    want.extend(cleared(2, Party::Far, Party::Device, 17));
    assert_eq!(events(&mut b, ALICE), want);
    assert_eq!(b.engine.active_calls(), 1);
    assert_eq!(b.engine.device_calls(ALICE)[0].state, ConnectionState::Held);
    assert_eq!(b.cdrs[0].dest_cause_value, 17);
}

#[test]
fn consultations_that_cannot_be_made_are_refused_at_once() {
    let mut b = anchored_bench(provisioning(None));
    let inv = invite("c7", X, "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 180, "rd", false), PSTN);
    b.take_to(PSTN);
    assert_eq!(
        consult(&mut b, 1, Y),
        Err(ControlError::InvalidCallState),
        "before the answer"
    );
    assert_eq!(consult(&mut b, 9, Y), Err(ControlError::InvalidCallId));
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    b.take_to(PSTN);
    b.media.clear();
    b.device_events.clear();
    for to in ["7777", ""] {
        assert!(
            matches!(
                consult(&mut b, 1, to),
                Err(ControlError::InvalidDestination(_))
            ),
            "{to:?}"
        );
    }
    assert!(b.sent.is_empty() && b.media.is_empty() && b.device_events.is_empty());
    assert_eq!(b.engine.active_calls(), 1);
    // From the consultation itself: refused.
    assert_eq!(consult(&mut b, 1, Y), Ok(ControlOk::Call(2)));
    assert_eq!(consult(&mut b, 2, Y), Err(ControlError::InvalidCallState));

    let mut plain = Bench::new(provisioning(None));
    answered(&mut plain, "c8");
    assert_eq!(
        consult(&mut plain, 1, Y),
        Err(ControlError::MediaNotAnchored)
    );
}
