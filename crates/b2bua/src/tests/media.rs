//! Anchored media through the engine: Tether's own SDP on every leg, the media commands that
//! follow the call, mid-call offers answered locally, and bad offers refused.

use std::time::Duration;

use tether_sdp::{Direction, SessionDescription};
use tether_sip::{HeaderName, Message, Method};

use super::harness::*;
use crate::media::{MediaCommand, MediaConfig, MediaNotice};

fn anchored() -> Bench {
    Bench::with_config(provisioning(None), |c| {
        c.media = Some(MediaConfig {
            address: "10.0.0.1".parse().expect("ip"),
            port_min: 30_000,
            port_max: 30_009,
        });
    })
}

fn sdp(m: &Message) -> SessionDescription {
    SessionDescription::parse(m.body()).expect("SDP body")
}

fn with_body(mut m: Message, body: &str) -> Message {
    m.set_body(Some("application/sdp"), body.as_bytes().to_vec())
        .expect("body");
    m
}

/// Places a call to 2000 and answers it; returns the caller's INVITE, the 200 it got and the
/// INVITE Tether sent the RD.
fn answered_call(b: &mut Bench) -> (Message, Message, Message) {
    let inv = invite("m1", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let leg = b.expect_request(PSTN, Method::Invite);
    b.deliver(&answer(&leg, 200, "rd1", true), PSTN);
    let ok = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.status() == Some(200))
        .expect("200 to the caller");
    b.deliver(&in_dialog(&inv, &ok, Method::Ack, 1, PSTN, "ack1"), PSTN);
    (inv, ok, leg)
}

#[test]
fn every_leg_sees_tethers_address_and_ports_and_the_legs_are_relayed() {
    let mut b = anchored();
    let (inv, ok, leg) = answered_call(&mut b);

    // The RD is offered Tether's address and a port of its own, with the caller's codec first.
    let offer = sdp(&leg);
    let m = &offer.media()[0];
    assert_eq!(
        offer.connection().and_then(|c| c.ip()),
        Some("10.0.0.1".parse().unwrap())
    );
    assert_eq!(m.port(), 30_002);
    assert_eq!(m.codecs()[0].1, tether_sdp::Codec::Pcmu);
    // The caller's answer points at Tether too, never at the far end.
    let answer = sdp(&ok);
    assert_eq!(
        answer.connection().and_then(|c| c.ip()),
        Some("10.0.0.1".parse().unwrap())
    );
    assert_eq!(answer.media()[0].port(), 30_000);
    assert!(!ok.body().windows(8).any(|w| w == b"10.0.0.2"));

    let opens: Vec<u16> = b
        .media
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Open { port } => Some(*port),
            _ => None,
        })
        .collect();
    assert_eq!(opens, vec![30_000, 30_002]);
    let configured: Vec<(u16, Option<std::net::SocketAddr>)> = b
        .media
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Configure { port, remote, .. } => Some((*port, *remote)),
            _ => None,
        })
        .collect();
    let far: std::net::SocketAddr = "10.0.0.2:4000".parse().unwrap();
    assert!(configured.contains(&(30_000, Some(far))), "{configured:?}");
    assert!(configured.contains(&(30_002, Some(far))), "{configured:?}");
    assert!(b.media.contains(&MediaCommand::Connect {
        a: 30_000,
        b: 30_002
    }));

    // Hang up: both legs' ports are closed and return to the pool.
    b.media.clear();
    b.deliver(&in_dialog(&inv, &ok, Method::Bye, 2, PSTN, "bye1"), PSTN);
    b.advance(Duration::from_secs(1));
    let mut closed: Vec<u16> = b
        .media
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Close { port } => Some(*port),
            _ => None,
        })
        .collect();
    closed.sort();
    assert_eq!(closed, vec![30_000, 30_002]);
    assert_eq!(b.engine.media_ports_free(), Some(5));
}

#[test]
fn a_hold_reinvite_is_answered_by_tether_for_that_leg_only() {
    let mut b = anchored();
    let (inv, ok, _leg) = answered_call(&mut b);
    b.take_to(PSTN);
    b.media.clear();
    let hold = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    let reinvite = with_body(in_dialog(&inv, &ok, Method::Invite, 3, PSTN, "hold1"), hold);
    b.deliver(&reinvite, PSTN);
    let out = b.take_to(PSTN);
    let r = out.iter().find(|m| m.status().is_some()).expect("answered");
    assert_eq!(r.status(), Some(200), "{:?}", summary(&out));
    let ans = sdp(r);
    assert_eq!(ans.media_direction(0), Direction::RecvOnly);
    assert_eq!(ans.media()[0].port(), 30_000);
    // The version moves on from Tether's first answer (RFC 3264 §8).
    assert_eq!(
        ans.origin().session_version,
        sdp(&ok).origin().session_version + 1
    );
    // Only the caller's leg changes; the RD hears nothing of it.
    assert!(
        !out.iter().any(|m| m.method() == Some(&Method::Invite)),
        "{:?}",
        summary(&out)
    );
    assert!(
        b.media.iter().any(|c| matches!(
            c,
            MediaCommand::Configure {
                port: 30_000,
                hold: true,
                ..
            }
        )),
        "{:?}",
        b.media
    );
    // The party left on hold (the RD's leg) hears music on hold.
    assert!(b.media.contains(&MediaCommand::Play {
        port: 30_002,
        what: crate::media::Playable::MusicOnHold,
        looped: true
    }));

    // The re-INVITE's own transaction took the 200: no late 100 Trying follows it.
    b.advance(Duration::from_millis(500));
    let late = b.take_to(PSTN);
    assert!(
        !late.iter().any(|m| m.status() == Some(100)),
        "{:?}",
        summary(&late)
    );

    // Resume: the music stops and the relay takes over again.
    b.media.clear();
    let resume = "v=0\r\no=- 1 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
    let reinvite = with_body(
        in_dialog(&inv, &ok, Method::Invite, 4, PSTN, "resume1"),
        resume,
    );
    b.deliver(&reinvite, PSTN);
    let out = b.take_to(PSTN);
    let r = out.iter().find(|m| m.status().is_some()).expect("answered");
    assert_eq!(sdp(r).media_direction(0), Direction::SendRecv);
    assert!(
        b.media
            .contains(&MediaCommand::StopPlaying { port: 30_002 }),
        "{:?}",
        b.media
    );
}

#[test]
fn offers_tether_cannot_carry_are_refused_with_the_right_status() {
    let mut b = anchored();
    // Video only: 488 with a 305 warning.
    let video = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=video 4000 RTP/AVP 31\r\n";
    b.deliver(
        &with_body(invite("v1", "4085551234", "2000", PSTN), video),
        PSTN,
    );
    let out = b.take_to(PSTN);
    let r = out.iter().find(|m| m.status().is_some()).expect("answered");
    assert_eq!(r.status(), Some(488));
    assert!(r
        .header_value(&HeaderName::Warning)
        .is_some_and(|w| w.starts_with("305")));
    // SDP that does not parse: 400.
    b.deliver(
        &with_body(invite("v2", "4085551234", "2000", PSTN), "v=0\r\nbogus\r\n"),
        PSTN,
    );
    let out = b.take_to(PSTN);
    assert_eq!(
        out.iter().find_map(|m| m.status()),
        Some(400),
        "{:?}",
        summary(&out)
    );
    // A body that is not SDP: 415 with Accept.
    let mut m = invite("v3", "4085551234", "2000", PSTN);
    m.set_body(Some("text/plain"), b"hello".to_vec()).unwrap();
    b.deliver(&m, PSTN);
    let out = b.take_to(PSTN);
    let r = out.iter().find(|m| m.status().is_some()).expect("answered");
    assert_eq!(r.status(), Some(415));
    assert_eq!(r.header_value(&HeaderName::Accept), Some("application/sdp"));
    assert!(b.media.is_empty(), "no port taken for a refused call");
}

#[test]
fn media_inactivity_ends_the_call_with_both_sides_told() {
    let mut b = anchored();
    let (_inv, _ok, _leg) = answered_call(&mut b);
    b.take_to(PSTN);
    b.engine.handle_media_notice(
        b.now,
        MediaNotice::Inactive {
            port: 30_002,
            silent_for: Duration::from_secs(30),
        },
    );
    b.collect();
    let out = b.take_to(PSTN);
    let byes = out
        .iter()
        .filter(|m| m.method() == Some(&Method::Bye))
        .count();
    assert_eq!(byes, 2, "{:?}", summary(&out));
    assert_eq!(b.cdrs.len(), 1);
    assert_eq!(b.cdrs[0].dest_cause_value, 41);
}

#[test]
fn running_out_of_ports_refuses_the_call_503_cause_47() {
    let mut b = anchored();
    // 5 pairs: two calls take two each; the third caller gets its port but no leg can start.
    for i in 0..2 {
        let inv = invite(&format!("p{i}"), "4085551234", "2000", PSTN);
        b.deliver(&inv, PSTN);
    }
    b.take_to(PSTN);
    let inv = invite("p2", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let inv = invite("p3", "4085551234", "2000", PSTN);
    b.deliver(&inv, PSTN);
    let out = b.take_to(PSTN);
    let finals: Vec<String> = out
        .iter()
        .filter(|m| m.status().is_some_and(|s| s >= 300))
        .map(|m| {
            format!(
                "{} {:?}",
                m.status().unwrap_or(0),
                m.header_value(&HeaderName::Reason)
            )
        })
        .collect();
    assert!(
        finals
            .iter()
            .any(|f| f.starts_with("503") && f.contains("cause=47")),
        "{finals:?} {:?}",
        summary(&out)
    );
}

fn info(inv: &Message, ok: &Message, seq: u32, branch: &str, body: &str, ct: &str) -> Message {
    let mut m = in_dialog(inv, ok, Method::Info, seq, PSTN, branch);
    m.set_body(Some(ct), body.as_bytes().to_vec())
        .expect("body");
    m
}

#[test]
fn a_dtmf_info_is_reported_and_played_on_the_other_leg() {
    use crate::output::{CallEvent, DigitMethod};
    let mut b = anchored();
    let (inv, ok, _leg) = answered_call(&mut b);
    b.take_to(PSTN);
    b.media.clear();
    b.events.clear();
    b.deliver(
        &info(
            &inv,
            &ok,
            3,
            "i1",
            "Signal=5\r\nDuration=160\r\n",
            "application/dtmf-relay",
        ),
        PSTN,
    );
    let out = b.take_to(PSTN);
    assert_eq!(
        out.iter().find_map(|m| m.status()),
        Some(200),
        "{:?}",
        summary(&out)
    );
    assert!(b.events.contains(&CallEvent::Digit {
        call: 1,
        from_caller: true,
        digit: '5',
        method: DigitMethod::Info
    }));
    // The caller uses INFO: the media engine must not also play it keys as tones. The far
    // end negotiated RTP only: the key goes there through the media engine.
    assert_eq!(
        b.media,
        vec![
            MediaCommand::DigitsByInfo { port: 30_000 },
            MediaCommand::SendDigits {
                port: 30_002,
                digits: "5".into(),
                duration_ms: 160,
                inband: false
            }
        ]
    );

    // Keys the media engine finds on the far end's leg reach the caller as INFO, since the
    // caller uses INFO.
    b.media.clear();
    b.engine.handle_media_notice(
        b.now,
        MediaNotice::Digit {
            port: 30_002,
            digit: '7',
            duration: Duration::from_millis(120),
            inband: false,
        },
    );
    b.collect();
    let out = b.take_to(PSTN);
    let sent = out
        .iter()
        .find(|m| m.method() == Some(&Method::Info))
        .expect("INFO to the caller");
    assert_eq!(
        sent.header_value(&HeaderName::ContentType),
        Some("application/dtmf-relay")
    );
    assert_eq!(&sent.body()[..], b"Signal=7\r\nDuration=120\r\n");
    assert!(
        b.media.is_empty(),
        "not played in the media too: {:?}",
        b.media
    );
    assert!(b.events.contains(&CallEvent::Digit {
        call: 1,
        from_caller: false,
        digit: '7',
        method: DigitMethod::Rfc4733
    }));

    // INFO bodies that are not DTMF, or DTMF without a key, are refused.
    b.deliver(
        &info(
            &inv,
            &ok,
            4,
            "i2",
            "<xml/>",
            "application/media_control+xml",
        ),
        PSTN,
    );
    assert_eq!(b.take_to(PSTN).iter().find_map(|m| m.status()), Some(415));
    b.deliver(
        &info(&inv, &ok, 5, "i3", "Signal=Z\r\n", "application/dtmf-relay"),
        PSTN,
    );
    assert_eq!(b.take_to(PSTN).iter().find_map(|m| m.status()), Some(400));
}

#[test]
fn tether_holds_and_retrieves_a_party_with_reinvites_and_music() {
    use crate::call::Side;
    let mut b = anchored();
    let (_inv, _ok, _leg) = answered_call(&mut b);
    b.take_to(PSTN);
    b.media.clear();
    // CTI would ask this: hold the caller (the far party of the device's phone).
    b.engine.hold(b.now, 1, Side::A).expect("hold");
    b.collect();
    assert!(b.media.contains(&MediaCommand::Play {
        port: 30_000,
        what: crate::media::Playable::MusicOnHold,
        looped: true
    }));
    let reinvite = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .expect("re-INVITE to the caller");
    let offer = sdp(&reinvite);
    assert_eq!(offer.media_direction(0), Direction::SendOnly);
    assert_eq!(offer.media()[0].port(), 30_000);
    assert_eq!(
        b.engine.hold(b.now, 1, Side::A),
        Err(crate::engine::HoldError::Busy)
    );
    // The caller answers recvonly: the ACK goes out and the leg is configured.
    let ans = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n";
    let ok = with_body(Message::response_to(&reinvite, 200, "OK", None), ans);
    b.media.clear();
    b.deliver(&ok, PSTN);
    let out = b.take_to(PSTN);
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "{:?}",
        summary(&out)
    );
    assert!(b
        .media
        .iter()
        .any(|c| matches!(c, MediaCommand::Configure { port: 30_000, .. })));
    assert_eq!(
        b.engine.calls()[0].held_by,
        None,
        "the caller does not hold; Tether does"
    );

    // Retrieve: sendrecv again, the music stops.
    b.media.clear();
    assert_eq!(
        b.engine.hold(b.now, 1, Side::A),
        Err(crate::engine::HoldError::WrongState)
    );
    b.engine.retrieve(b.now, 1, Side::A).expect("retrieve");
    b.collect();
    assert!(b
        .media
        .contains(&MediaCommand::StopPlaying { port: 30_000 }));
    let reinvite = b
        .take_to(PSTN)
        .into_iter()
        .find(|m| m.method() == Some(&Method::Invite))
        .expect("re-INVITE to the caller");
    assert_eq!(sdp(&reinvite).media_direction(0), Direction::SendRecv);
    assert!(sdp(&reinvite).origin().session_version > offer.origin().session_version);
    let ans = "v=0\r\no=- 1 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
    b.deliver(
        &with_body(Message::response_to(&reinvite, 200, "OK", None), ans),
        PSTN,
    );
    let out = b.take_to(PSTN);
    assert!(
        out.iter().any(|m| m.method() == Some(&Method::Ack)),
        "{:?}",
        summary(&out)
    );
    // The call is still up, and ends normally.
    assert_eq!(b.engine.active_calls(), 1);
}
