//! ConferenceCall and DropParty (SPEC §2.8) in virtual time: the held party retrieved, the
//! three legs mixed in one room (no INVITE to anyone, no BYE), the events, any party dropped or
//! leaving — the device that set it up included — and the call back to an ordinary relayed
//! two-party call with two left; the CDRs and the leak checks.

use std::time::Duration;

use tether_sdp::Direction;
use tether_sip::{Message, Method};

use super::consult::*;
use super::harness::*;
use crate::control::{
    ConnectionState, Control, ControlError, ControlOk, DeviceEventKind as K, Party,
};
use crate::media::MediaCommand;

fn conference(b: &mut Bench) -> Result<ControlOk, ControlError> {
    control(
        b,
        Control::ConferenceCall {
            held_call: 1,
            active_call: 2,
            device: ALICE.into(),
        },
    )
}

fn drop_party(b: &mut Bench, party: &str) -> Result<ControlOk, ControlError> {
    control(
        b,
        Control::DropParty {
            call: 2,
            device: ALICE.into(),
            party: party.into(),
        },
    )
}

fn far_cleared() -> (u64, K) {
    (
        2,
        K::ConnectionCleared {
            party: Party::Far,
            cause: 16,
        },
    )
}

/// Messages of the set-up call and of Y's leg.
struct Legs {
    inv: Message,
    ok: Message,
    leg: Message,
    ok_rd: Message,
    to_y: Message,
    ok_y: Message,
}

/// X (the caller, port 30,000) → alice (RD leg 30,002), consultation to Y (30,004) answered,
/// then the conference; the held party's sendrecv re-INVITE answered.
fn conferenced(b: &mut Bench, id: &str) -> Legs {
    let (inv, ok, leg, ok_rd) = answered(b, id);
    let (hold, to_y) = consulting(b, PSTN);
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.media.clear();
    assert_eq!(conference(b), Ok(ControlOk::Done));
    let out = b.take_to(PSTN);
    assert_eq!(
        summary(&out),
        vec!["INVITE"],
        "a re-INVITE to X, nothing else"
    );
    assert_eq!(out[0].call_id(), hold.call_id());
    assert_eq!(sdp(&out[0]).media_direction(0), Direction::SendRecv);
    b.deliver(&reply(&out[0], 200, Some("sendrecv")), PSTN);
    assert_eq!(summary(&b.take_to(PSTN)), vec!["ACK"]);
    Legs {
        inv,
        ok,
        leg,
        ok_rd,
        to_y,
        ok_y,
    }
}

#[test]
fn a_conference_mixes_the_three_legs_and_a_dropped_party_leaves_two_relayed() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f1");
    let cmds: Vec<_> = b
        .media
        .iter()
        .filter(|m| !matches!(m, MediaCommand::Configure { .. }))
        .cloned()
        .collect();
    assert_eq!(
        cmds,
        vec![
            MediaCommand::StopPlaying { port: 30_000 },
            MediaCommand::Mix {
                room: 2,
                port: 30_002
            },
            MediaCommand::Mix {
                room: 2,
                port: 30_000
            },
            MediaCommand::Mix {
                room: 2,
                port: 30_004
            },
        ]
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            1,
            K::Conferenced {
                parties: vec!["2000".into(), X.into(), Y.into()],
                resulting_call: 2
            }
        )]
    );
    assert_eq!(b.cdrs.len(), 1, "the held call ended");
    assert_eq!(b.engine.active_calls(), 1);
    let calls = b.engine.device_calls(ALICE);
    assert_eq!((calls.len(), calls[0].call), (1, 2));
    // Requests that make no sense on a conference are refused.
    for req in [
        Control::Hold {
            call: 2,
            device: ALICE.into(),
        },
        Control::GenerateDigits {
            call: 2,
            device: ALICE.into(),
            digits: "1".into(),
            inband: false,
        },
    ] {
        assert_eq!(control(&mut b, req), Err(ControlError::InvalidCallState));
    }
    assert_eq!(
        drop_party(&mut b, "5555"),
        Err(ControlError::InvalidParty("5555".into()))
    );

    // Y is dropped: BYE to Y, its leg leaves the room, X and the RD are relayed.
    b.media.clear();
    assert_eq!(drop_party(&mut b, Y), Ok(ControlOk::Done));
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), legs.to_y.call_id());
    assert_eq!(reason(&byes[0]), Some("Q.850;cause=16"));
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Unmix { port: 30_004 },
            MediaCommand::Close { port: 30_004 },
            MediaCommand::Unmix { port: 30_002 },
            MediaCommand::Unmix { port: 30_000 },
            MediaCommand::Connect {
                a: 30_000,
                b: 30_002
            },
        ]
    );
    assert_eq!(events(&mut b, ALICE), vec![far_cleared()]);
    assert_eq!(
        drop_party(&mut b, X),
        Err(ControlError::InvalidCallState),
        "no conference any more"
    );
    let calls = b.engine.device_calls(ALICE);
    assert_eq!(
        (calls[0].state, calls[0].other.as_str()),
        (ConnectionState::Connected, X)
    );

    // X hangs up: the RD's leg is hung up, everything is given back.
    b.advance(Duration::from_secs(5));
    b.deliver(
        &in_dialog(&legs.inv, &legs.ok, Method::Bye, 3, PSTN, "xbye"),
        PSTN,
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), legs.leg.call_id());
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            (
                2,
                K::ConnectionCleared {
                    party: Party::Far,
                    cause: 16
                }
            ),
            (
                2,
                K::ConnectionCleared {
                    party: Party::Device,
                    cause: 16
                }
            ),
            (2, K::CallCleared { cause: 16 })
        ]
    );
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
    let _ = (legs.ok_rd, legs.ok_y);
}

/// The RD hangs up: the device leaves, X and Y go on talking (CUCM keeps an ad hoc conference
/// among those left), relayed; Y hanging up later ends it.
#[test]
fn the_controller_leaving_leaves_the_other_two_talking() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f2");
    b.device_events.clear();
    b.media.clear();
    b.deliver(
        &far_in_dialog(&legs.leg, &legs.ok_rd, Method::Bye, 2, "rdbye"),
        PSTN,
    );
    assert!(b.requests_to(PSTN, Method::Bye).is_empty(), "nobody else");
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Unmix { port: 30_002 },
            MediaCommand::Close { port: 30_002 },
            MediaCommand::Unmix { port: 30_000 },
            MediaCommand::Unmix { port: 30_004 },
            MediaCommand::Connect {
                a: 30_000,
                b: 30_004
            },
        ]
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            2,
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16
            }
        )]
    );
    assert!(b.engine.device_calls(ALICE).is_empty());
    assert_eq!(b.engine.channels().in_use(), 2, "X's and Y's channels");
    b.deliver(
        &far_in_dialog(&legs.to_y, &legs.ok_y, Method::Bye, 2, "ybye"),
        PSTN,
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(
        byes.iter().filter_map(|m| m.call_id()).collect::<Vec<_>>(),
        vec!["f2"]
    );
    settled(&mut b);
}

/// The A side's party (X) hangs up: the RD's leg takes the A side and is relayed to Y; the
/// device clearing the call then hangs up both.
#[test]
fn the_a_side_party_leaving_moves_another_to_the_a_side() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f3");
    b.device_events.clear();
    b.media.clear();
    b.deliver(
        &in_dialog(&legs.inv, &legs.ok, Method::Bye, 3, PSTN, "xbye"),
        PSTN,
    );
    assert!(b.requests_to(PSTN, Method::Bye).is_empty());
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Unmix { port: 30_000 },
            MediaCommand::Close { port: 30_000 },
            MediaCommand::Unmix { port: 30_002 },
            MediaCommand::Unmix { port: 30_004 },
            MediaCommand::Connect {
                a: 30_002,
                b: 30_004
            },
        ]
    );
    assert_eq!(events(&mut b, ALICE), vec![far_cleared()]);
    let calls = b.engine.device_calls(ALICE);
    assert_eq!(
        (calls[0].state, calls[0].other.as_str(), calls[0].outgoing),
        (ConnectionState::Connected, Y, true)
    );
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
    let mut want = vec![
        legs.leg.call_id().expect("id"),
        legs.to_y.call_id().expect("id"),
    ];
    want.sort_unstable();
    assert_eq!(ids, want);
    settled(&mut b);
}

/// The device drops itself (its own DN) or clears its connection: it leaves, the others stay.
#[test]
fn the_device_clearing_its_connection_leaves_the_conference() {
    for how in ["drop", "clear"] {
        let mut b = anchored_bench(provisioning(None));
        let legs = conferenced(&mut b, "f4");
        b.device_events.clear();
        let r = if how == "drop" {
            drop_party(&mut b, "2000")
        } else {
            control(
                &mut b,
                Control::ClearConnection {
                    call: 2,
                    device: ALICE.into(),
                },
            )
        };
        assert_eq!(r, Ok(ControlOk::Done));
        let byes = answer_byes(&mut b, PSTN);
        assert_eq!(byes.len(), 1, "{how}");
        assert_eq!(byes[0].call_id(), legs.leg.call_id(), "the RD only");
        assert_eq!(
            events(&mut b, ALICE),
            vec![(
                2,
                K::ConnectionCleared {
                    party: Party::Device,
                    cause: 16
                }
            )]
        );
        assert!(b.media.contains(&MediaCommand::Connect {
            a: 30_000,
            b: 30_004
        }));
        // Media failing on X's leg ends the two-party call.
        b.engine.handle_media_notice(
            b.now,
            crate::media::MediaNotice::Inactive {
                port: 30_000,
                silent_for: Duration::from_secs(30),
            },
        );
        b.collect();
        let byes = answer_byes(&mut b, PSTN);
        let mut ids: Vec<_> = byes.iter().filter_map(|m| m.call_id()).collect();
        ids.sort_unstable();
        let mut want = vec!["f4", legs.to_y.call_id().expect("id")];
        want.sort_unstable();
        assert_eq!(ids, want);
        settled(&mut b);
    }
}

/// A conference from a MakeCall: the RD's leg is the A side.
#[test]
fn a_conference_from_a_make_call() {
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
    b.deliver(&answer(&rd_leg, 200, "rd", true), PSTN);
    let to_x = b.expect_request(PSTN, Method::Invite);
    let ok_x = answer(&to_x, 200, "x", true);
    b.deliver(&ok_x, PSTN);
    b.take_to(PSTN);
    let (_hold, to_y) = consulting(&mut b, PSTN);
    b.deliver(&answer(&to_y, 200, "y", true), PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    b.media.clear();
    assert_eq!(conference(&mut b), Ok(ControlOk::Done));
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            1,
            K::Conferenced {
                parties: vec!["2000".into(), "914155550111".into(), Y.into()],
                resulting_call: 2
            }
        )]
    );
    assert!(b.media.contains(&MediaCommand::Mix {
        room: 2,
        port: 30_000
    }));
    let reinvite = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .expect("re-INVITE to X");
    b.deliver(&reply(&reinvite, 200, Some("sendrecv")), PSTN);
    b.take_to(PSTN);
    // X hangs up: the RD and Y are relayed; the device clears, both are hung up.
    b.deliver(&far_in_dialog(&to_x, &ok_x, Method::Bye, 3, "xbye"), PSTN);
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_004
    }));
    assert_eq!(events(&mut b, ALICE), vec![far_cleared()]);
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
    assert_eq!(byes.len(), 2);
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
}

/// Consults Z from conference 2 (call 3); Z answers on port 30,006.
fn consulting_from_the_conference(b: &mut Bench) -> (Message, Message) {
    b.media.clear();
    assert_eq!(consult(b, 2, "914155550124"), Ok(ControlOk::Call(3)));
    let to_z = b.expect_request(PSTN, Method::Invite);
    assert!(to_z.to_tag().is_none(), "a new call to Z, no re-INVITE");
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Unmix { port: 30_002 },
            MediaCommand::Open { port: 30_006 }
        ],
        "the others go on talking"
    );
    let ok_z = answer(&to_z, 200, "z", true);
    b.deliver(&ok_z, PSTN);
    b.take_to(PSTN);
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_002,
        b: 30_006
    }));
    (to_z, ok_z)
}

/// A fourth party: consulted from the conference and added to it; parties drop one by one.
#[test]
fn a_party_consulted_from_the_conference_joins_it() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f5");
    b.device_events.clear();
    let (to_z, ok_z) = consulting_from_the_conference(&mut b);
    assert_eq!(
        events(&mut b, ALICE),
        vec![
            (3, K::ServiceInitiated),
            (
                3,
                K::Originated {
                    called: "914155550124".into()
                }
            ),
            (
                3,
                K::NetworkReached {
                    called: "914155550124".into()
                }
            ),
            (
                3,
                K::Delivered {
                    party: Party::Far,
                    calling: "2000".into(),
                    called: "914155550124".into()
                }
            ),
            (
                3,
                K::Established {
                    calling: "2000".into(),
                    called: "914155550124".into()
                }
            ),
        ]
    );
    b.media.clear();
    assert_eq!(
        control(
            &mut b,
            Control::ConferenceCall {
                held_call: 2,
                active_call: 3,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    assert!(b.take_to(PSTN).is_empty(), "no signaling at all");
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Mix {
                room: 2,
                port: 30_002
            },
            MediaCommand::Mix {
                room: 2,
                port: 30_006
            },
        ]
    );
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            3,
            K::Conferenced {
                parties: vec!["2000".into(), X.into(), Y.into(), "914155550124".into()],
                resulting_call: 2
            }
        )]
    );
    assert_eq!(b.cdrs.len(), 2, "the held call and the consultation ended");
    assert_eq!(b.engine.active_calls(), 1);

    // X is dropped: three are left, still mixed.
    b.media.clear();
    assert_eq!(drop_party(&mut b, X), Ok(ControlOk::Done));
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Unmix { port: 30_000 },
            MediaCommand::Close { port: 30_000 }
        ]
    );
    answer_byes(&mut b, PSTN);
    // Y hangs up: the RD and Z are relayed, the RD's leg taking the A side.
    b.media.clear();
    b.deliver(
        &far_in_dialog(&legs.to_y, &legs.ok_y, Method::Bye, 2, "ybye"),
        PSTN,
    );
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_002,
        b: 30_006
    }));
    assert_eq!(events(&mut b, ALICE), vec![far_cleared(), far_cleared()]);
    let calls = b.engine.device_calls(ALICE);
    assert_eq!(
        (calls[0].other.as_str(), calls[0].state),
        ("914155550124", ConnectionState::Connected)
    );
    // Z hangs up: the RD is hung up.
    b.deliver(&far_in_dialog(&to_z, &ok_z, Method::Bye, 2, "zbye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), legs.leg.call_id());
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 3);
}

/// Consulting from the conference then clearing the consultation: RetrieveCall mixes the
/// device's leg again.
#[test]
fn retrieving_a_conference_after_a_consultation_mixes_the_device_again() {
    let mut b = anchored_bench(provisioning(None));
    conferenced(&mut b, "f6");
    consulting_from_the_conference(&mut b);
    let retrieve = |b: &mut Bench| {
        control(
            b,
            Control::Retrieve {
                call: 2,
                device: ALICE.into(),
            },
        )
    };
    assert_eq!(retrieve(&mut b), Err(ControlError::InvalidCallState));
    assert_eq!(
        control(
            &mut b,
            Control::ClearConnection {
                call: 3,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    assert_eq!(answer_byes(&mut b, PSTN).len(), 1, "Z only");
    b.device_events.clear();
    b.media.clear();
    assert_eq!(retrieve(&mut b), Ok(ControlOk::Done));
    assert_eq!(
        b.media,
        vec![MediaCommand::Mix {
            room: 2,
            port: 30_002
        }]
    );
    assert_eq!(events(&mut b, ALICE), vec![(2, K::Retrieved)]);
    assert_eq!(retrieve(&mut b), Err(ControlError::InvalidCallState));
}

/// The RD hangs up while the device consults from the conference: the consultation ends, the
/// two others go on talking.
#[test]
fn the_rd_hanging_up_while_consulting_from_a_conference() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f7");
    let (to_z, _ok_z) = consulting_from_the_conference(&mut b);
    b.device_events.clear();
    b.media.clear();
    b.deliver(
        &far_in_dialog(&legs.leg, &legs.ok_rd, Method::Bye, 2, "rdbye"),
        PSTN,
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), to_z.call_id(), "Z is hung up");
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_004
    }));
    let mut want = vec![(
        2,
        K::ConnectionCleared {
            party: Party::Device,
            cause: 16,
        },
    )];
    want.extend([
        (
            3,
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16,
            },
        ),
        (
            3,
            K::ConnectionCleared {
                party: Party::Far,
                cause: 16,
            },
        ),
        (3, K::CallCleared { cause: 16 }),
    ]);
    assert_eq!(events(&mut b, ALICE), want);
    assert!(b.engine.device_calls(ALICE).is_empty());
    b.deliver(
        &in_dialog(&legs.inv, &legs.ok, Method::Bye, 3, PSTN, "xbye"),
        PSTN,
    );
    answer_byes(&mut b, PSTN);
    settled(&mut b);
}

/// Two of three leave while the device consults from the conference: the one left is held,
/// as in any call whose device leg serves a consultation; a transfer then joins it with Z.
#[test]
fn a_conference_shrinking_while_the_device_consults_holds_the_last_party() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f8");
    let (to_z, ok_z) = consulting_from_the_conference(&mut b);
    b.media.clear();
    b.deliver(
        &far_in_dialog(&legs.to_y, &legs.ok_y, Method::Bye, 2, "ybye"),
        PSTN,
    );
    let hold = b.expect_request(PSTN, Method::Invite);
    assert_eq!(hold.call_id(), Some("f8"), "X is held");
    assert_eq!(sdp(&hold).media_direction(0), Direction::SendOnly);
    assert!(b.media.contains(&MediaCommand::Play {
        port: 30_000,
        what: crate::media::Playable::MusicOnHold,
        looped: true
    }));
    assert!(!b
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Connect { .. })));
    b.deliver(&reply(&hold, 200, Some("recvonly")), PSTN);
    b.take_to(PSTN);
    b.device_events.clear();
    assert_eq!(
        control(
            &mut b,
            Control::TransferCall {
                held_call: 2,
                active_call: 3,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_006
    }));
    let out = b.take_to(PSTN);
    assert_eq!(summary(&out), vec!["INVITE", "BYE"]);
    b.deliver(&reply(&out[0], 200, Some("sendrecv")), PSTN);
    b.deliver(&Message::response_to(&out[1], 200, "OK", None), PSTN);
    b.deliver(&far_in_dialog(&to_z, &ok_z, Method::Bye, 2, "zbye"), PSTN);
    answer_byes(&mut b, PSTN);
    settled(&mut b);
}

/// The device clears its connection to the conference while consulting from it: its leg goes
/// on in the consultation, the two others are relayed.
#[test]
fn leaving_a_conference_while_consulting_keeps_the_rd_for_the_consultation() {
    let mut b = anchored_bench(provisioning(None));
    let legs = conferenced(&mut b, "f9");
    let (to_z, _ok_z) = consulting_from_the_conference(&mut b);
    b.device_events.clear();
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
    assert!(b.take_to(PSTN).is_empty(), "nobody is hung up");
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_004
    }));
    assert!(!b
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Close { port: 30_002 })));
    assert_eq!(
        events(&mut b, ALICE),
        vec![(
            2,
            K::ConnectionCleared {
                party: Party::Device,
                cause: 16
            }
        )]
    );
    assert_eq!(
        control(
            &mut b,
            Control::ClearConnection {
                call: 3,
                device: ALICE.into()
            }
        ),
        Ok(ControlOk::Done)
    );
    let byes = answer_byes(&mut b, PSTN);
    let mut ids: Vec<_> = byes.iter().filter_map(|m| m.call_id()).collect();
    ids.sort_unstable();
    let mut want = vec![legs.leg.call_id().expect("id"), to_z.call_id().expect("id")];
    want.sort_unstable();
    assert_eq!(ids, want, "the RD and Z");
    b.deliver(
        &in_dialog(&legs.inv, &legs.ok, Method::Bye, 3, PSTN, "xbye"),
        PSTN,
    );
    answer_byes(&mut b, PSTN);
    settled(&mut b);
}
