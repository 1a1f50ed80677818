//! REFER from a SIP phone (RFC 3515, 5589) handled by Tether in virtual time: blind transfer
//! (202, NOTIFY 100 then the target's 200 in `message/sipfrag`, the transferee relayed to the
//! target in its own dialog, the transferor hung up), a transferor hanging up early, a target
//! that fails, attended transfer with Replaces naming the phone's other call at Tether, the
//! refusals, and the leak checks.

use std::time::Duration;

use tether_sip::{HeaderName, Message, Method};

use super::consult::{answer_byes, events, reason, reply, settled};
use super::harness::*;
use crate::control::{DeviceEventKind as K, Party};
use crate::media::{MediaCommand, Playable};

const DAVE: &str = "SIPdave";
/// Y, the transfer target, behind the PSTN trunk.
const Y: &str = "914155550123";

/// Dave's phone calls `to` over the PSTN (anchored; dave's leg is port `base`, the far end's
/// `base + 2`); returns dave's INVITE, Tether's 200 to it, the far leg's INVITE and its 200.
fn phone_call(b: &mut Bench, id: &str, to: &str) -> (Message, Message, Message, Message) {
    let inv = invite(id, "dave", to, PHONE);
    b.deliver(&inv, PHONE);
    let leg = b.expect_request(PSTN, Method::Invite);
    let ok_far = answer(&leg, 200, id, true);
    b.deliver(&ok_far, PSTN);
    b.take_to(PSTN);
    let ok = b
        .take_to(PHONE)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to dave");
    b.deliver(
        &in_dialog(&inv, &ok, Method::Ack, 1, PHONE, &format!("ack{id}")),
        PHONE,
    );
    (inv, ok, leg, ok_far)
}

/// A REFER from dave in the dialog `inv`/`ok`, to `refer_to`.
fn refer(inv: &Message, ok: &Message, seq: u32, refer_to: &str) -> Message {
    let mut r = in_dialog(inv, ok, Method::Refer, seq, PHONE, &format!("ref{seq}"));
    r.push_header(HeaderName::ReferTo, refer_to)
        .expect("refer-to");
    r.push_header(HeaderName::ReferredBy, "<sip:2001@tether.test>")
        .expect("referred-by");
    r
}

/// The NOTIFYs sent to dave so far (answered 200), as (sipfrag, Subscription-State).
fn notifies(b: &mut Bench) -> Vec<(String, String)> {
    let (out, rest): (Vec<Message>, Vec<Message>) = b
        .take_to(PHONE)
        .into_iter()
        .partition(|m| m.method() == Some(&Method::Notify));
    // The rest stays for the test to look at.
    b.sent.extend(rest.into_iter().map(|m| (peer(PHONE), m)));
    let mut seen = Vec::new();
    for n in &out {
        assert_eq!(n.header_value(&HeaderName::Event), Some("refer"));
        assert_eq!(
            n.header_value(&HeaderName::ContentType),
            Some("message/sipfrag;version=2.0")
        );
        seen.push((
            String::from_utf8_lossy(n.body()).trim_end().to_owned(),
            n.header_value(&HeaderName::SubscriptionState)
                .unwrap_or_default()
                .to_owned(),
        ));
        b.deliver(&Message::response_to(n, 200, "OK", None), PHONE);
    }
    seen
}

fn statuses(msgs: &[Message]) -> Vec<u16> {
    msgs.iter().filter_map(|m| m.status()).collect()
}

#[test]
fn blind_transfer_by_refer_rings_the_target_and_joins_it_with_the_transferee() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (inv, ok, x_leg, ok_x) = phone_call(&mut b, "r1", "914085551234");
    b.device_events.clear();
    b.media.clear();
    b.deliver(&refer(&inv, &ok, 2, &format!("<sip:{Y}@10.0.0.1>")), PHONE);
    let to_dave = b.take_to(PHONE);
    assert_eq!(statuses(&to_dave), vec![202]);
    let n: Vec<_> = to_dave
        .iter()
        .filter(|m| m.method() == Some(&Method::Notify))
        .cloned()
        .collect();
    assert_eq!(n.len(), 1);
    assert_eq!(&n[0].body()[..], b"SIP/2.0 100 Trying\r\n");
    assert_eq!(
        n[0].header_value(&HeaderName::SubscriptionState),
        Some("active;expires=60")
    );
    b.deliver(&Message::response_to(&n[0], 200, "OK", None), PHONE);
    let to_y = b.expect_request(PSTN, Method::Invite);
    assert_eq!(ruri_user(&to_y).as_deref(), Some("14155550123"));
    assert!(
        to_y.header_value(&HeaderName::From)
            .is_some_and(|f| f.starts_with("<sip:14085551234@tether.test>;tag=")),
        "the target sees the transferee: {to_y}"
    );
    assert_eq!(
        b.media,
        vec![
            MediaCommand::Disconnect { port: 30_002 },
            MediaCommand::Open { port: 30_004 }
        ]
    );
    assert_eq!(
        events(&mut b, DAVE),
        vec![(
            1,
            K::Transferred {
                transferred: "14085551234".into(),
                to: Y.into(),
                resulting_call: 2
            }
        )]
    );

    // The target answers: the transferee is relayed to it, dave hears 200 and is hung up.
    b.media.clear();
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_002,
        b: 30_004
    }));
    assert_eq!(
        notifies(&mut b),
        vec![(
            "SIP/2.0 200 OK".to_owned(),
            "terminated;reason=noresource".to_owned()
        )]
    );
    let byes = answer_byes(&mut b, PHONE);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), Some("r1"));
    assert_eq!(reason(&byes[0]), Some("Q.850;cause=16"));
    let out = b.take_to(PSTN);
    assert_eq!(
        summary(&out),
        vec!["ACK"],
        "nothing to X: it keeps its dialog"
    );
    assert_eq!(
        events(&mut b, DAVE),
        vec![
            (
                1,
                K::ConnectionCleared {
                    party: Party::Far,
                    cause: 16
                }
            ),
            (
                1,
                K::ConnectionCleared {
                    party: Party::Device,
                    cause: 16
                }
            ),
            (1, K::CallCleared { cause: 16 })
        ]
    );
    assert_eq!(b.cdrs.len(), 1);

    // Y hangs up: X gets the BYE.
    b.advance(Duration::from_secs(3));
    b.deliver(&far_in_dialog(&to_y, &ok_y, Method::Bye, 2, "ybye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), x_leg.call_id());
    let _ = ok_x;
    settled(&mut b);
    let cdr = &b.cdrs[1];
    assert_eq!(cdr.global_call_id, 2);
    assert_eq!(cdr.calling_party_number, "14085551234");
    assert_eq!(cdr.original_called_party_number, Y);
    assert_eq!(cdr.last_redirect_dn, "2001");
    assert_eq!(cdr.orig_leg_call_identifier, x_leg.call_id().unwrap_or(""));
}

/// The transferor hangs up before the target answers: the transfer goes on.
#[test]
fn a_transferor_hanging_up_early_does_not_stop_the_transfer() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (inv, ok, x_leg, _ok_x) = phone_call(&mut b, "r2", "914085551234");
    b.deliver(&refer(&inv, &ok, 2, &format!("<sip:{Y}@10.0.0.1>")), PHONE);
    notifies(&mut b);
    b.take_to(PHONE);
    let to_y = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&to_y, 180, "y", false), PSTN);
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 3, PHONE, "dbye"), PHONE);
    assert_eq!(statuses(&b.take_to(PHONE)), vec![200]);
    assert!(
        b.requests_to(PSTN, Method::Bye).is_empty()
            && b.requests_to(PSTN, Method::Cancel).is_empty(),
        "neither X nor Y is hung up"
    );
    let ok_y = answer(&to_y, 200, "y", true);
    b.deliver(&ok_y, PSTN);
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_002,
        b: 30_004
    }));
    assert!(
        b.requests_to(PHONE, Method::Notify).is_empty(),
        "dave is gone"
    );
    b.take_to(PSTN);
    b.deliver(&far_in_dialog(&to_y, &ok_y, Method::Bye, 2, "ybye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes[0].call_id(), x_leg.call_id());
    settled(&mut b);
}

/// The target is busy: dave hears `486` in the final NOTIFY; the transferee has left dave's
/// call and is hung up.
#[test]
fn a_busy_target_is_notified_and_the_transferee_released() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (inv, ok, x_leg, _ok_x) = phone_call(&mut b, "r3", "914085551234");
    b.deliver(&refer(&inv, &ok, 2, &format!("<sip:{Y}@10.0.0.1>")), PHONE);
    notifies(&mut b);
    b.take_to(PHONE);
    let to_y = b.expect_request(PSTN, Method::Invite);
    let mut busy = answer(&to_y, 486, "y", false);
    busy.push_header(HeaderName::Reason, "Q.850;cause=17")
        .expect("reason");
    b.deliver(&busy, PSTN);
    assert_eq!(
        notifies(&mut b),
        vec![(
            "SIP/2.0 486 Busy Here".to_owned(),
            "terminated;reason=noresource".to_owned()
        )]
    );
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), x_leg.call_id());
    let byes = answer_byes(&mut b, PHONE);
    assert_eq!(byes.len(), 1, "dave is hung up too");
    settled(&mut b);
}

/// Dave talks to X, holds X (his own re-INVITE: X hears music), calls Y, then transfers X to
/// Y with Replaces naming his call with Y: X and Y are joined at once, dave's two legs hung up.
#[test]
fn attended_transfer_by_refer_with_replaces_joins_the_two_far_parties() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (inv1, ok1, x_leg, ok_x) = phone_call(&mut b, "r4", "914085551234");
    // Dave holds X.
    let hold = "v=0\r\no=- 1 2 IN IP4 10.0.0.20\r\ns=-\r\nc=IN IP4 10.0.0.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    let mut reinvite = in_dialog(&inv1, &ok1, Method::Invite, 2, PHONE, "hold");
    reinvite
        .set_body(Some("application/sdp"), hold.as_bytes().to_vec())
        .expect("sdp");
    b.deliver(&reinvite, PHONE);
    let ok_hold = b
        .take_to(PHONE)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to the hold");
    b.deliver(
        &in_dialog(&inv1, &ok_hold, Method::Ack, 2, PHONE, "hack"),
        PHONE,
    );
    assert!(b.media.contains(&MediaCommand::Play {
        port: 30_002,
        what: Playable::MusicOnHold,
        looped: true
    }));
    let (_inv2, ok2, y_leg, ok_y) = phone_call(&mut b, "r5", Y);
    b.device_events.clear();
    b.media.clear();
    let tag = ok2.to_tag().expect("Tether's tag").to_owned();
    let refer_to = format!("<sip:{Y}@10.0.0.1?Replaces=r5%3Bto-tag%3D{tag}%3Bfrom-tag%3Dar5>");
    b.deliver(&refer(&inv1, &ok1, 3, &refer_to), PHONE);
    let to_dave = b.take_to(PHONE);
    assert_eq!(statuses(&to_dave), vec![202]);
    let sipfrags: Vec<_> = to_dave
        .iter()
        .filter(|m| m.method() == Some(&Method::Notify))
        .map(|m| String::from_utf8_lossy(m.body()).trim_end().to_owned())
        .collect();
    assert_eq!(sipfrags, vec!["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    let mut byes: Vec<_> = to_dave
        .iter()
        .filter(|m| m.method() == Some(&Method::Bye))
        .filter_map(|m| m.call_id())
        .collect();
    byes.sort_unstable();
    assert_eq!(byes, vec!["r4", "r5"], "both of dave's legs");
    assert!(
        b.take_to(PSTN).is_empty(),
        "no INVITE, re-INVITE or BYE to X or Y"
    );
    assert_eq!(
        b.media,
        vec![
            MediaCommand::StopPlaying { port: 30_002 },
            MediaCommand::Disconnect { port: 30_002 },
            MediaCommand::Disconnect { port: 30_006 },
            MediaCommand::Close { port: 30_004 },
            MediaCommand::Connect {
                a: 30_002,
                b: 30_006
            },
            MediaCommand::Close { port: 30_000 },
        ]
    );
    assert_eq!(
        events(&mut b, DAVE),
        vec![
            (
                1,
                K::Transferred {
                    transferred: "14085551234".into(),
                    to: "14155550123".into(),
                    resulting_call: 2
                }
            ),
            (
                1,
                K::ConnectionCleared {
                    party: Party::Device,
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
        ]
    );
    assert!(b.engine.device_calls(DAVE).is_empty());
    for m in to_dave
        .iter()
        .filter(|m| m.method() == Some(&Method::Bye) || m.method() == Some(&Method::Notify))
    {
        b.deliver(&Message::response_to(m, 200, "OK", None), PHONE);
    }
    // X hangs up: Y gets the BYE.
    b.deliver(&far_in_dialog(&x_leg, &ok_x, Method::Bye, 2, "xbye"), PSTN);
    let byes = answer_byes(&mut b, PSTN);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].call_id(), y_leg.call_id());
    let _ = ok_y;
    settled(&mut b);
    assert_eq!(b.cdrs.len(), 2);
    assert_eq!(b.cdrs[1].last_redirect_dn, "2001");
}

#[test]
fn refers_that_cannot_be_carried_out_are_refused() {
    let mut b = anchored_bench(provisioning(None));
    register_phone(&mut b);
    let (inv, ok, _x, _) = phone_call(&mut b, "r6", "914085551234");
    let mut no_refer_to = in_dialog(&inv, &ok, Method::Refer, 2, PHONE, "nrt");
    no_refer_to
        .push_header(HeaderName::ReferredBy, "<sip:2001@tether.test>")
        .expect("header");
    b.deliver(&no_refer_to, PHONE);
    assert_eq!(statuses(&b.take_to(PHONE)), vec![400]);
    b.deliver(&refer(&inv, &ok, 3, "<sip:7777@10.0.0.1>"), PHONE);
    assert_eq!(statuses(&b.take_to(PHONE)), vec![404], "no route");
    b.deliver(
        &refer(
            &inv,
            &ok,
            4,
            "<sip:2002@10.0.0.1?Replaces=nosuch%3Bto-tag%3Da%3Bfrom-tag%3Db>",
        ),
        PHONE,
    );
    assert_eq!(statuses(&b.take_to(PHONE)), vec![481]);
    assert!(b.take_to(PSTN).is_empty());
    assert_eq!(b.engine.active_calls(), 1);

    let mut plain = Bench::new(provisioning(None));
    register_phone(&mut plain);
    let inv = invite("r7", "dave", "914085551234", PHONE);
    plain.deliver(&inv, PHONE);
    let leg = plain.expect_request(PSTN, Method::Invite);
    plain.deliver(&answer(&leg, 200, "x", true), PSTN);
    let ok = plain
        .take_to(PHONE)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200");
    plain.deliver(&refer(&inv, &ok, 2, &format!("<sip:{Y}@10.0.0.1>")), PHONE);
    assert_eq!(
        statuses(&plain.take_to(PHONE)),
        vec![501],
        "not without anchored media"
    );
}

/// Tether says it takes REFER and Replaces.
#[test]
fn tether_advertises_refer_and_replaces() {
    let mut b = anchored_bench(provisioning(None));
    b.deliver(&invite("r8", "4085551234", "2000", PSTN), PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    assert!(leg
        .header_value(&HeaderName::Allow)
        .is_some_and(|a| a.contains("REFER") && a.contains("NOTIFY")));
    assert!(leg
        .headers_named(&HeaderName::Supported)
        .any(|h| h.value().contains("replaces")));
    let _ = reply(&leg, 200, None);
}
