//! Tests for offer/answer: answers to realistic offers, codec and telephone-event choice, rejected
//! streams, hold directions, our own offers, answers to them and re-offers.

use super::*;
use crate::session::tests::{
    asterisk_offer, baresip_offer, crlf, cucm_offer, description, t38_reoffer, video_offer,
};
use proptest::prelude::*;

const LOCAL: &str = "198.51.100.7:20000";

fn caps() -> Capabilities {
    Capabilities::new(LOCAL.parse().expect("addr"))
}

fn origin() -> Origin {
    Origin::new(42, "198.51.100.7".parse().expect("ip"))
}

fn sdp(text: &str) -> SessionDescription {
    match SessionDescription::parse(text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn pt(n: u8) -> Pt {
    Pt::new(n).expect("pt")
}

/// A one-audio-stream offer from 192.0.2.1:4000 with the given m= formats and extra lines.
fn offer(formats: &str, extra: &[&str]) -> SessionDescription {
    let mut lines = vec![
        "v=0".to_owned(),
        "o=- 1 1 IN IP4 192.0.2.1".to_owned(),
        "s=-".to_owned(),
        "c=IN IP4 192.0.2.1".to_owned(),
        "t=0 0".to_owned(),
        format!("m=audio 4000 RTP/AVP {formats}"),
    ];
    lines.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sdp(&crlf(&refs))
}

fn answer(offer: &SessionDescription) -> Answer {
    match answer_offer(offer, &caps(), origin()) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

fn audio(a: &Answer) -> Negotiated {
    *a.audio().expect("audio accepted")
}

#[test]
fn pcmu_only_offer() {
    let a = answer(&offer("0", &[]));
    assert_eq!(
        a.sdp.to_string(),
        crlf(&[
            "v=0",
            "o=tether 42 0 IN IP4 198.51.100.7",
            "s=-",
            "c=IN IP4 198.51.100.7",
            "t=0 0",
            "m=audio 20000 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=ptime:20",
            "a=sendrecv",
        ])
    );
    let n = audio(&a);
    assert_eq!(
        (n.codec, n.pt, n.recv_pt),
        (Codec::Pcmu, Pt::PCMU, Pt::PCMU)
    );
    assert_eq!(n.telephone_event, None);
    assert_eq!(n.remote_rtp, Some("192.0.2.1:4000".parse().expect("addr")));
    assert_eq!(n.local_rtp, LOCAL.parse().expect("addr"));
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(!n.remote_hold);
    assert_eq!(n.ptime, None);
    // What we produce is valid SDP that parses back to the same model.
    assert_eq!(sdp(&a.sdp.to_string()), a.sdp);
}

#[test]
fn offerer_preference_decides_pcma() {
    let a = answer(&offer(
        "8 0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"],
    ));
    let n = audio(&a);
    assert_eq!((n.codec, n.pt), (Codec::Pcma, Pt::PCMA));
    let m = a.sdp.media().first().expect("m");
    assert_eq!(m.formats(), ["8", "0", "101"]);

    // Only PCMA locally: PCMA even when the offer prefers PCMU, and PCMU is not answered.
    let mut only_pcma = caps();
    only_pcma.codecs = vec![Codec::Pcma];
    let a = answer_offer(&offer("0 8", &[]), &only_pcma, origin()).expect("answer");
    assert_eq!(audio(&a).codec, Codec::Pcma);
    assert_eq!(
        a.sdp.media().first().map(|m| m.formats().to_vec()),
        Some(vec!["8".to_owned()])
    );
}

#[test]
fn dynamic_payload_types_are_the_offerers() {
    let a = answer(&offer(
        "0 96",
        &["a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16"],
    ));
    let te = audio(&a).telephone_event.expect("telephone-event");
    assert_eq!((te.pt, te.recv_pt), (pt(96), pt(96)));
    assert_eq!(te.events, EventSet::DTMF_AND_FLASH);
    let text = a.sdp.to_string();
    assert!(text.contains("m=audio 20000 RTP/AVP 0 96\r\n"), "{text}");
    assert!(text.contains("a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n"));

    let a = answer(&offer(
        "0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"],
    ));
    let te = audio(&a).telephone_event.expect("telephone-event");
    assert_eq!(te.pt, pt(101));
    assert!(a.sdp.to_string().contains("a=fmtp:101 0-15\r\n"));

    // G.711 at a dynamic payload type keeps that number too.
    let a = answer(&offer("97", &["a=rtpmap:97 PCMU/8000"]));
    let n = audio(&a);
    assert_eq!((n.codec, n.pt), (Codec::Pcmu, pt(97)));
    assert!(a.sdp.to_string().contains("a=rtpmap:97 PCMU/8000\r\n"));
}

#[test]
fn telephone_event_range_is_intersected() {
    let mut c = caps();
    c.events = EventSet::DTMF;
    let o = offer(
        "0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"],
    );
    let a = answer_offer(&o, &c, origin()).expect("answer");
    assert!(a.sdp.to_string().contains("a=fmtp:101 0-15\r\n"));

    // No fmtp means 0-15 (RFC 4733).
    let a = answer(&offer("0 101", &["a=rtpmap:101 telephone-event/8000"]));
    assert_eq!(
        audio(&a).telephone_event.map(|t| t.events),
        Some(EventSet::DTMF)
    );

    // Nothing in common: no telephone-event at all.
    let a = answer(&offer(
        "0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 32-35"],
    ));
    assert_eq!(audio(&a).telephone_event, None);
    assert_eq!(a.sdp.media().first().map(|m| m.formats().len()), Some(1));

    // Wideband telephone-event does not pair with 8 kHz G.711.
    let a = answer(&offer("0 110", &["a=rtpmap:110 telephone-event/48000"]));
    assert_eq!(audio(&a).telephone_event, None);
}

#[test]
fn offer_without_telephone_event() {
    let a = answer(&offer("0 8", &[]));
    assert_eq!(audio(&a).telephone_event, None);
    assert!(!a.sdp.to_string().contains("telephone-event"));

    // And when we do not support it, we do not answer it.
    let mut c = caps();
    c.telephone_event = None;
    let o = offer("0 101", &["a=rtpmap:101 telephone-event/8000"]);
    let a = answer_offer(&o, &c, origin()).expect("answer");
    assert_eq!(audio(&a).telephone_event, None);
    assert!(!a.sdp.to_string().contains("101"));
}

#[test]
fn realistic_offers_are_answered() {
    let a = answer(&sdp(&cucm_offer()));
    let n = audio(&a);
    assert_eq!((n.codec, n.pt), (Codec::Pcmu, Pt::PCMU));
    assert_eq!(n.telephone_event.map(|t| t.pt), Some(pt(101)));
    assert_eq!(n.ptime, Some(20));
    assert_eq!(
        n.remote_rtp,
        Some("10.10.20.30:24580".parse().expect("addr"))
    );

    let a = answer(&sdp(&baresip_offer()));
    let n = audio(&a);
    assert_eq!((n.codec, n.pt), (Codec::Pcmu, Pt::PCMU));
    assert_eq!(
        a.sdp.media().first().map(|m| m.formats().join(" ")),
        Some("0 8 101".to_owned())
    );

    let a = answer(&sdp(&asterisk_offer()));
    let te = audio(&a).telephone_event.expect("telephone-event");
    assert_eq!(te.events, EventSet::DTMF_AND_FLASH);
}

#[test]
fn video_is_rejected_with_port_zero_not_dropped() {
    let a = answer(&sdp(&video_offer()));
    let media = a.sdp.media();
    assert_eq!(media.len(), 2);
    let video = media.get(1).expect("video");
    assert_eq!(video.to_string(), "m=video 0 RTP/AVP 109\r\n");
    assert_eq!(
        a.media.get(1),
        Some(&MediaOutcome::Rejected {
            index: 1,
            reason: RejectReason::MediaType
        })
    );
    // G722 and G7221 skipped; PCMU first of the common ones in the offer's order.
    assert_eq!(audio(&a).codec, Codec::Pcmu);
    assert_eq!(
        media.first().map(|m| m.formats().join(" ")),
        Some("0 8 101".to_owned())
    );
}

#[test]
fn t38_is_rejected_with_port_zero() {
    let o = sdp(&crlf(&[
        "v=0",
        "o=- 5 6 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 8",
        "m=image 4002 udptl t38",
        "a=T38FaxVersion:0",
    ]));
    let a = answer(&o);
    assert_eq!(
        a.sdp.media().get(1).map(ToString::to_string),
        Some("m=image 0 udptl t38\r\n".to_owned())
    );
    assert_eq!(audio(&a).codec, Codec::Pcma);

    // A T.38-only re-offer cannot be accepted: 488, and the call keeps its old media.
    let e = answer_offer(&sdp(&t38_reoffer()), &caps(), origin()).expect_err("488");
    assert_eq!(e, SdpError::NoAcceptableMedia);
    assert_eq!(e.sip_status(), 488);
}

#[test]
fn no_common_codec_is_488() {
    let e = answer_offer(
        &offer("18 3", &["a=rtpmap:18 G729/8000"]),
        &caps(),
        origin(),
    )
    .expect_err("no codec");
    assert_eq!(e, SdpError::NoCommonCodec);
    assert_eq!(e.sip_status(), 488);
    // Opus only, at a PT some would mistake for something else.
    let e = answer_offer(&offer("0", &["a=rtpmap:0 opus/48000/2"]), &caps(), origin())
        .expect_err("no codec");
    assert_eq!(e, SdpError::NoCommonCodec);
}

#[test]
fn other_profiles_and_disabled_streams_are_rejected() {
    let o = sdp(&crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 0 RTP/AVP 0",
        "m=audio 4000 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
        "m=audio 4002 RTP/AVP 0",
        "m=audio 4004 RTP/AVP 8",
    ]));
    let a = answer(&o);
    let reasons: Vec<Option<RejectReason>> = a
        .media
        .iter()
        .map(|m| match m {
            MediaOutcome::Rejected { reason, .. } => Some(*reason),
            MediaOutcome::Accepted(_) => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            Some(RejectReason::Disabled),
            Some(RejectReason::Proto),
            None,
            Some(RejectReason::NoEndpoint)
        ]
    );
    let ports: Vec<u16> = a.sdp.media().iter().map(MediaDescription::port).collect();
    assert_eq!(ports, [0, 0, 20000, 0]);
    assert_eq!(
        a.sdp.media().get(1).map(ToString::to_string),
        Some("m=audio 0 RTP/SAVP 0\r\n".to_owned())
    );
    assert_eq!(audio(&a).index, 2);

    // With a second endpoint (on another address) the fourth stream is accepted too, with its own c=.
    let mut c = caps();
    c.rtp_endpoints
        .push("203.0.113.9:20002".parse().expect("addr"));
    let a = answer_offer(&o, &c, origin()).expect("answer");
    let last = a.sdp.media().get(3).expect("m");
    assert_eq!(last.port(), 20002);
    assert_eq!(
        last.connection().map(ToString::to_string),
        Some("IN IP4 203.0.113.9".to_owned())
    );
}

#[test]
fn hold_offers_get_rfc3264_answers() {
    let cases = [
        ("a=sendonly", Direction::RecvOnly, true),
        ("a=inactive", Direction::Inactive, true),
        ("a=recvonly", Direction::SendOnly, false),
        ("a=sendrecv", Direction::SendRecv, false),
    ];
    for (attr, expected, held) in cases {
        let a = answer(&offer("0", &[attr]));
        let n = audio(&a);
        assert_eq!(n.direction, expected, "{attr}");
        assert_eq!(n.remote_hold, held, "{attr}");
        assert_eq!(
            a.sdp.media().first().and_then(MediaDescription::direction),
            Some(expected)
        );
    }
}

#[test]
fn session_level_hold_is_honoured() {
    let o = sdp(&crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=sendonly",
        "m=audio 4000 RTP/AVP 0",
    ]));
    assert_eq!(audio(&answer(&o)).direction, Direction::RecvOnly);
}

#[test]
fn legacy_zero_address_is_hold() {
    let o = sdp(&crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]));
    let a = answer(&o);
    let n = audio(&a);
    assert!(n.remote_hold);
    assert_eq!(n.remote_rtp, None);
    assert_eq!(n.direction, Direction::RecvOnly);
    // Our answer carries our real address, never 0.0.0.0.
    assert_eq!(
        a.sdp.connection().map(ToString::to_string),
        Some("IN IP4 198.51.100.7".to_owned())
    );
    // c=0.0.0.0 with inactive stays inactive.
    let o2 = sdp(&o
        .to_string()
        .replace("RTP/AVP 0\r\n", "RTP/AVP 0\r\na=inactive\r\n"));
    assert_eq!(audio(&answer(&o2)).direction, Direction::Inactive);
}

#[test]
fn local_preference_restricts_direction() {
    let mut c = caps();
    c.direction = Direction::SendOnly;
    let a = answer_offer(&offer("0", &[]), &c, origin()).expect("answer");
    assert_eq!(audio(&a).direction, Direction::SendOnly);
    let a = answer_offer(&offer("0", &["a=sendonly"]), &c, origin()).expect("answer");
    assert_eq!(audio(&a).direction, Direction::Inactive);
}

#[test]
fn capabilities_misuse_is_reported() {
    let mut c = caps();
    c.codecs.clear();
    assert_eq!(
        create_offer(&c, origin()),
        Err(SdpError::ApiMisuse(ApiMisuse::NoCodecs))
    );
    let mut c = caps();
    c.rtp_endpoints.clear();
    assert_eq!(
        answer_offer(&offer("0", &[]), &c, origin()).map(|_| ()),
        Err(SdpError::ApiMisuse(ApiMisuse::NoEndpoint))
    );
    let mut c = caps();
    c.telephone_event = Some(Pt::PCMA);
    assert_eq!(
        create_offer(&c, origin()).map(|_| ()),
        Err(SdpError::ApiMisuse(ApiMisuse::PayloadTypeClash))
    );
}

#[test]
fn our_offer() {
    let o = create_offer(&caps(), origin()).expect("offer");
    assert_eq!(
        o.to_string(),
        crlf(&[
            "v=0",
            "o=tether 42 0 IN IP4 198.51.100.7",
            "s=-",
            "c=IN IP4 198.51.100.7",
            "t=0 0",
            "m=audio 20000 RTP/AVP 0 8 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=ptime:20",
            "a=sendrecv",
        ])
    );
    assert_eq!(sdp(&o.to_string()), o);
}

fn peer_answer(formats: &str, extra: &[&str]) -> SessionDescription {
    let mut lines = vec![
        "v=0".to_owned(),
        "o=peer 77 77 IN IP4 203.0.113.5".to_owned(),
        "s=-".to_owned(),
        "c=IN IP4 203.0.113.5".to_owned(),
        "t=0 0".to_owned(),
        format!("m=audio 5000 RTP/AVP {formats}"),
    ];
    lines.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sdp(&crlf(&refs))
}

fn accepted(outcomes: &[MediaOutcome]) -> Negotiated {
    *first_accepted(outcomes).expect("accepted")
}

#[test]
fn answer_to_our_offer() {
    let ours = create_offer(&caps(), origin()).expect("offer");
    let theirs = peer_answer(
        "8 101",
        &[
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:30",
        ],
    );
    let n = accepted(&process_answer(&ours, &theirs).expect("valid"));
    assert_eq!(
        (n.codec, n.pt, n.recv_pt),
        (Codec::Pcma, Pt::PCMA, Pt::PCMA)
    );
    let te = n.telephone_event.expect("te");
    assert_eq!(
        (te.pt, te.recv_pt, te.events),
        (pt(101), pt(101), EventSet::DTMF)
    );
    assert_eq!(n.ptime, Some(30));
    assert_eq!(
        n.remote_rtp,
        Some("203.0.113.5:5000".parse().expect("addr"))
    );
    assert_eq!(n.local_rtp, LOCAL.parse().expect("addr"));
    assert_eq!(n.direction, Direction::SendRecv);

    // An answerer that renumbers telephone-event: we send with its number, receive with ours.
    let theirs = peer_answer("0 96", &["a=rtpmap:96 telephone-event/8000"]);
    let n = accepted(&process_answer(&ours, &theirs).expect("valid"));
    let te = n.telephone_event.expect("te");
    assert_eq!((te.pt, te.recv_pt), (pt(96), pt(101)));

    // Formats we never offered are ignored, not fatal.
    let theirs = peer_answer("18 0", &["a=rtpmap:18 G729/8000"]);
    let n = accepted(&process_answer(&ours, &theirs).expect("valid"));
    assert_eq!(n.codec, Codec::Pcmu);

    // Nothing we offered: the stream is unusable.
    let theirs = peer_answer("18", &["a=rtpmap:18 G729/8000"]);
    assert_eq!(
        process_answer(&ours, &theirs),
        Ok(vec![MediaOutcome::Rejected {
            index: 0,
            reason: RejectReason::NoCommonCodec
        }])
    );

    // Declined.
    let theirs = peer_answer("0", &[])
        .to_string()
        .replace("audio 5000", "audio 0");
    assert_eq!(
        process_answer(&ours, &sdp(&theirs)),
        Ok(vec![MediaOutcome::Rejected {
            index: 0,
            reason: RejectReason::Declined
        }])
    );
}

#[test]
fn answer_structure_is_validated() {
    let ours = create_offer(&caps(), origin()).expect("offer");
    let two = format!("{}m=video 0 RTP/AVP 31\r\n", peer_answer("0", &[]));
    assert_eq!(
        process_answer(&ours, &sdp(&two)),
        Err(SdpError::InvalidAnswer(InvalidAnswer::MediaCount {
            offered: 1,
            answered: 2
        }))
    );
    let video = peer_answer("0", &[])
        .to_string()
        .replace("m=audio", "m=video");
    let e = process_answer(&ours, &sdp(&video)).expect_err("mismatch");
    assert_eq!(
        e,
        SdpError::InvalidAnswer(InvalidAnswer::MediaType { index: 0 })
    );
    assert_eq!(e.sip_status(), 488);

    let mut disabled = ours.clone();
    if let Some(m) = disabled.media_mut().first_mut() {
        m.set_port(0);
    }
    assert_eq!(
        process_answer(&disabled, &peer_answer("0", &[])),
        Err(SdpError::InvalidAnswer(
            InvalidAnswer::DisabledStreamAccepted { index: 0 }
        ))
    );
}

#[test]
fn answer_directions_combine_with_ours() {
    let ours = create_offer(&caps(), origin()).expect("offer");
    // Peer answers recvonly: it will not send, we send only.
    let n = accepted(&process_answer(&ours, &peer_answer("0", &["a=recvonly"])).expect("ok"));
    assert_eq!(n.direction, Direction::SendOnly);
    assert!(!n.remote_hold);
    // Peer answers sendonly to our sendrecv: it holds us.
    let n = accepted(&process_answer(&ours, &peer_answer("0", &["a=sendonly"])).expect("ok"));
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.remote_hold);

    // Our hold offer answered recvonly: we send (music on hold), they do not.
    let hold = hold_reoffer(&ours, Direction::SendRecv);
    let n = accepted(&process_answer(&hold, &peer_answer("0", &["a=recvonly"])).expect("ok"));
    assert_eq!(n.direction, Direction::SendOnly);
    // Even a sloppy sendrecv answer cannot widen our sendonly.
    let n = accepted(&process_answer(&hold, &peer_answer("0", &[])).expect("ok"));
    assert_eq!(n.direction, Direction::SendOnly);
}

#[test]
fn reoffers_keep_session_and_bump_version() {
    let first = create_offer(&caps(), origin()).expect("offer");
    let hold = hold_reoffer(&first, Direction::SendRecv);
    assert_eq!(hold.origin().session_id, "42");
    assert_eq!(hold.origin().session_version, 1);
    let expected = first
        .to_string()
        .replace("42 0 IN", "42 1 IN")
        .replace("a=sendrecv", "a=sendonly");
    assert_eq!(hold.to_string(), expected);

    // Held by the peer already: our hold is inactive, never recvonly.
    let both = hold_reoffer(&hold, Direction::RecvOnly);
    assert_eq!(both.origin().session_version, 2);
    assert_eq!(both.media_direction(0), Direction::Inactive);

    let resumed = resume_reoffer(&both);
    assert_eq!(resumed.origin().session_version, 3);
    assert_eq!(resumed.media_direction(0), Direction::SendRecv);
    assert_eq!(
        resumed.to_string(),
        first.to_string().replace("42 0 IN", "42 3 IN")
    );
}

#[test]
fn reoffer_of_relayed_sdp_keeps_its_lines() {
    // A description with a session-level direction and a disabled stream.
    let prev = sdp(&crlf(&[
        "v=0",
        "o=- 9 9 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=sendrecv",
        "a=x-keep:me",
        "m=audio 4000 RTP/AVP 0",
        "a=x-also:me",
        "m=video 0 RTP/AVP 31",
    ]));
    let r = reoffer(&prev, Direction::Inactive);
    assert_eq!(
        r.to_string(),
        crlf(&[
            "v=0",
            "o=- 9 10 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "t=0 0",
            "a=x-keep:me",
            "m=audio 4000 RTP/AVP 0",
            "a=x-also:me",
            "a=inactive",
            "m=video 0 RTP/AVP 31",
        ])
    );
}

#[test]
fn answers_to_reoffers_bump_our_version() {
    let first = answer(&offer("0", &[]));
    let again = answer_offer(
        &offer("0", &["a=sendonly"]),
        &caps(),
        first.sdp.origin().next_version(),
    )
    .expect("answer");
    assert_eq!(again.sdp.origin().session_version, 1);
    assert_eq!(again.sdp.origin().session_id, first.sdp.origin().session_id);
}

#[test]
fn two_tethers_agree() {
    let mut b_caps = Capabilities::new("203.0.113.5:30000".parse().expect("addr"));
    b_caps.codecs = vec![Codec::Pcma, Codec::Pcmu];
    b_caps.telephone_event = Some(pt(96));
    let a_offer = create_offer(&caps(), origin()).expect("offer");
    let b_answer = answer_offer(
        &a_offer,
        &b_caps,
        Origin::new(7, "203.0.113.5".parse().expect("ip")),
    )
    .expect("answer");
    let b = audio(&b_answer);
    let a = accepted(&process_answer(&a_offer, &b_answer.sdp).expect("valid"));
    // B honours A's order (PCMU first) and A's telephone-event number.
    assert_eq!((a.codec, a.pt), (b.codec, b.pt));
    assert_eq!(a.codec, Codec::Pcmu);
    assert_eq!(
        a.telephone_event.map(|t| t.pt),
        b.telephone_event.map(|t| t.pt)
    );
    assert_eq!(a.telephone_event.map(|t| t.pt), Some(pt(101)));
    assert_eq!(a.remote_rtp, Some(b.local_rtp));
    assert_eq!(b.remote_rtp, Some(a.local_rtp));
}

proptest! {
    #[test]
    fn answers_mirror_any_offer(text in description()) {
        let Ok(offer) = SessionDescription::parse(&text) else {
            return Err(TestCaseError::fail("generator made invalid SDP"));
        };
        match answer_offer(&offer, &caps(), origin()) {
            Ok(a) => {
                prop_assert_eq!(a.sdp.media().len(), offer.media().len());
                prop_assert_eq!(a.media.len(), offer.media().len());
                for ((om, am), outcome) in offer.media().iter().zip(a.sdp.media()).zip(&a.media) {
                    prop_assert_eq!(om.media(), am.media());
                    prop_assert_eq!(om.proto(), am.proto());
                    prop_assert!(!am.formats().is_empty());
                    prop_assert_eq!(am.is_disabled(), outcome.accepted().is_none());
                }
                let reparsed = SessionDescription::parse(a.sdp.to_string());
                prop_assert_eq!(reparsed, Ok(a.sdp.clone()));
                // Our own answer, processed as if it answered the offer, agrees with itself.
                let back = process_answer(&offer, &a.sdp);
                prop_assert!(back.is_ok(), "{:?}", back);
            }
            Err(e) => prop_assert_eq!(e.sip_status(), 488),
        }
    }
}

#[test]
fn hostile_format_lists_stay_cheap() {
    // ~30 KB of formats and ~1000 rtpmap lines: work is bounded by the 128 distinct payload types.
    let formats = (0..10_000)
        .map(|i| (96 + i % 32).to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let maps: Vec<String> = (0..1_000)
        .map(|i| format!("a=rtpmap:{} X/8000", 96 + i % 32))
        .collect();
    let refs: Vec<&str> = maps.iter().map(String::as_str).collect();
    let o = offer(&formats, &refs);
    assert!(o.to_string().len() <= crate::MAX_SDP_LEN);
    assert_eq!(
        answer_offer(&o, &caps(), origin()).map(|_| ()),
        Err(SdpError::NoCommonCodec)
    );
    assert_eq!(o.media().first().map(|m| m.payload_types().len()), Some(32));
}
