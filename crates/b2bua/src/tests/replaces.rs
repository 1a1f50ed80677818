//! INVITE with Replaces (RFC 3891) arriving at Tether, in virtual time: the new leg takes the
//! replaced leg's place (the replaced one hung up with Q.850 16), Tether answers it itself on a
//! new port and relays it to the party that stays, which gets no message at all; the refusals
//! RFC 3891 names; the leak checks.

use std::time::Duration;

use tether_sip::{HeaderName, Message, Method};

use super::consult::{answer_byes, reason, settled};
use super::harness::*;
use crate::control::{Control, ControlOk};
use crate::media::MediaCommand;

/// A new INVITE from the PSTN peer replacing the dialog `replaces`.
fn replacing(call_id: &str, from_user: &str, replaces: &str) -> Message {
    let mut m = invite(call_id, from_user, "2000", PSTN);
    m.push_header(HeaderName::Replaces, replaces)
        .expect("replaces");
    m
}

fn statuses_of(msgs: &[Message], call_id: &str) -> Vec<u16> {
    msgs.iter()
        .filter(|m| m.call_id() == Some(call_id))
        .filter_map(|m| m.status())
        .collect()
}

/// The caller's dialog is replaced: the RD's leg stays and is relayed to the new leg.
#[test]
fn a_new_leg_replaces_the_callers_and_the_rd_stays() {
    let mut b = anchored_bench(provisioning(None));
    let inv = invite("p1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "a1"), PSTN);
    b.media.clear();
    b.device_events.clear();
    let tag = ok.to_tag().expect("tag").to_owned();
    let new = replacing("p2", "4085559999", &format!("p1;to-tag={tag};from-tag=ap1"));
    b.deliver(&new, PSTN);
    let out = b.take_to(PSTN);
    assert_eq!(statuses_of(&out, "p2"), vec![200]);
    let ok2 = out
        .iter()
        .find(|m| m.status() == Some(200))
        .cloned()
        .expect("200");
    assert_eq!(
        tether_sdp::SessionDescription::parse(ok2.body())
            .expect("sdp")
            .media()[0]
            .port(),
        30_004
    );
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .expect("BYE to the replaced leg");
    assert_eq!(bye.call_id(), Some("p1"));
    assert_eq!(reason(bye), Some("Q.850;cause=16"));
    assert!(
        !out.iter().any(|m| m.call_id() == leg.call_id()),
        "nothing to the RD"
    );
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Close { port: 30_000 },
            MediaCommand::Open { port: 30_004 },
            MediaCommand::Configure {
                port: 30_004,
                remote: Some("10.0.0.2:4000".parse().expect("addr")),
                codecs: crate::media::codec_map(
                    &tether_sdp::answer_offer(
                        &tether_sdp::SessionDescription::parse(SDP).expect("sdp"),
                        &crate::media::capabilities(
                            "10.0.0.1".parse().expect("ip"),
                            30_004,
                            vec![tether_sdp::Codec::Pcmu]
                        ),
                        tether_sdp::Origin::new(1, "10.0.0.1".parse().expect("ip"))
                    )
                    .expect("answer")
                    .audio()
                    .copied()
                    .expect("audio")
                ),
                hold: false
            },
            MediaCommand::Connect {
                a: 30_004,
                b: 30_002
            },
        ]
    );
    assert!(b.device_events.is_empty(), "alice's call goes on");
    assert_eq!(b.engine.calls()[0].calling, "4085559999");
    b.deliver(&Message::response_to(bye, 200, "OK", None), PSTN);
    b.deliver(&in_dialog(&new, &ok2, Method::Ack, 1, PSTN, "a2"), PSTN);
    b.advance(Duration::from_secs(2));
    b.deliver(&in_dialog(&new, &ok2, Method::Bye, 2, PSTN, "b2"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), leg.call_id());
    settled(&mut b);
    assert_eq!(b.engine.channels().in_use(), 0);
}

/// A MakeCall's target is replaced: the RD's leg moves to the B side and is relayed to the
/// new leg.
#[test]
fn a_new_leg_replaces_a_make_call_target() {
    let mut b = anchored_bench(provisioning(None));
    let r = b.engine.control(
        b.now,
        Control::MakeCall {
            device: "CTRIDalice".into(),
            to: "914085551234".into(),
        },
    );
    assert_eq!(r, Ok(ControlOk::Call(1)));
    b.collect();
    let rd_leg = b.expect_request(PSTN, Method::Invite);
    let ok_rd = answer(&rd_leg, 200, "rd", true);
    b.deliver(&ok_rd, PSTN);
    let to_x = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&to_x, 200, "x", true), PSTN);
    b.take_to(PSTN);
    b.media.clear();
    let ours = to_x.from_tag().expect("tag").to_owned();
    let x_id = to_x.call_id().expect("id").to_owned();
    let new = replacing(
        "p3",
        "4085559999",
        &format!("{x_id};to-tag={ours};from-tag=x"),
    );
    b.deliver(&new, PSTN);
    let out = b.take_to(PSTN);
    assert_eq!(statuses_of(&out, "p3"), vec![200]);
    let bye = out
        .iter()
        .find(|m| m.method() == Some(&Method::Bye))
        .expect("BYE to the replaced target");
    assert_eq!(bye.call_id(), Some(x_id.as_str()));
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_004,
        b: 30_000
    }));
    b.deliver(&Message::response_to(bye, 200, "OK", None), PSTN);
    let ok3 = out
        .iter()
        .find(|m| m.status() == Some(200))
        .cloned()
        .expect("200");
    b.deliver(&in_dialog(&new, &ok3, Method::Ack, 1, PSTN, "a3"), PSTN);
    // The RD hangs up: the new leg gets the BYE.
    b.deliver(&far_in_dialog(&rd_leg, &ok_rd, Method::Bye, 2, "rdb"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), Some("p3"));
    settled(&mut b);
}

#[test]
fn replacements_that_cannot_be_made_are_refused() {
    let mut b = anchored_bench(provisioning(None));
    b.deliver(
        &replacing("q1", "4085559999", "nosuch;to-tag=a;from-tag=b"),
        PSTN,
    );
    assert_eq!(statuses_of(&b.take_to(PSTN), "q1"), vec![481]);
    b.deliver(&replacing("q2", "4085559999", "broken"), PSTN);
    assert_eq!(statuses_of(&b.take_to(PSTN), "q2"), vec![400]);
    // An answered call: early-only is busy; replacing the RD's leg (a B leg) while the caller
    // is an inbound leg cannot be done.
    let inv = invite("q3", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 200, "rd", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    let tag = ok.to_tag().expect("tag").to_owned();
    b.deliver(
        &replacing(
            "q4",
            "4085559999",
            &format!("q3;to-tag={tag};from-tag=aq3;early-only"),
        ),
        PSTN,
    );
    assert_eq!(statuses_of(&b.take_to(PSTN), "q4"), vec![486]);
    let ours = leg.from_tag().expect("tag").to_owned();
    let rd_id = leg.call_id().expect("id").to_owned();
    b.deliver(
        &replacing(
            "q5",
            "4085559999",
            &format!("{rd_id};to-tag={ours};from-tag=rd"),
        ),
        PSTN,
    );
    assert_eq!(statuses_of(&b.take_to(PSTN), "q5"), vec![603]);
    // A registered phone that learnt the caller's dialog cannot take it over: only the
    // party itself may have its dialog replaced.
    register_phone(&mut b);
    b.sent.clear();
    let mut steal = invite("q6", "bob", "2000", PHONE);
    steal
        .push_header(
            HeaderName::Replaces,
            &format!("q3;to-tag={tag};from-tag=aq3"),
        )
        .expect("replaces");
    b.deliver(&steal, PHONE);
    assert_eq!(statuses_of(&b.take_to(PHONE), "q6"), vec![403]);
    assert!(
        b.take_to(PSTN).is_empty(),
        "the caller's call is left alone"
    );
    assert_eq!(b.engine.active_calls(), 1);
    assert_eq!(b.engine.stats().attempts, 1, "no new call");
}
