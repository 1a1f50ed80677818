//! Tests for parsing and serialization: byte-identical round trips of real-world-shaped
//! descriptions, every error path with its line number, and property tests (round trip of
//! generated descriptions, no panic on arbitrary bytes).

use super::*;
use crate::codec::{Codec, Pt};
use crate::error::Unsupported;
use proptest::prelude::*;

/// Join lines with CRLF, with a final CRLF.
pub(crate) fn crlf(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

pub(crate) fn cucm_offer() -> String {
    crlf(&[
        "v=0",
        "o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.10.10.5",
        "s=SIP Call",
        "c=IN IP4 10.10.20.30",
        "b=TIAS:64000",
        "b=AS:64",
        "t=0 0",
        "m=audio 24580 RTP/AVP 0 8 18 101",
        "b=TIAS:64000",
        "a=ptime:20",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=no",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=X-cisco-media:umoh",
        "a=sendrecv",
    ])
}

pub(crate) fn baresip_offer() -> String {
    crlf(&[
        "v=0",
        "o=- 1180394620 3128547921 IN IP4 192.168.1.23",
        "s=-",
        "c=IN IP4 192.168.1.23",
        "t=0 0",
        "a=tool:baresip 3.10.1",
        "m=audio 10588 RTP/AVP 96 0 8 101",
        "b=AS:117",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 stereo=1;sprop-stereo=1;maxaveragebitrate=28000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=rtcp:10589",
        "a=sendrecv",
        "a=label:1",
        "a=ssrc:1284529735 cname:9b5a0e02-3f0a-4d2c-8f1a-7e0c2a1d9b7e",
        "a=rtcp-rsize",
    ])
}

pub(crate) fn asterisk_offer() -> String {
    crlf(&[
        "v=0",
        "o=- 1670854223 1670854223 IN IP4 203.0.113.10",
        "s=Asterisk",
        "c=IN IP4 203.0.113.10",
        "t=0 0",
        "m=audio 17452 RTP/AVP 0 8 3 111 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:3 GSM/8000",
        "a=rtpmap:111 G726-32/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=maxptime:150",
        "a=sendrecv",
    ])
}

pub(crate) fn video_offer() -> String {
    crlf(&[
        "v=0",
        "o=Polycom 1675352100 1675352100 IN IP4 192.0.2.44",
        "s=Polycom IP Phone",
        "i=Conference room",
        "u=http://www.example.com/seminars/sdp.pdf",
        "e=facilities@example.com (Facilities)",
        "p=+1 617 555-6011",
        "c=IN IP4 192.0.2.44",
        "b=AS:1024",
        "t=0 0",
        "y=0123456789",
        "a=sendrecv",
        "m=audio 2226 RTP/AVP 9 102 0 8 101",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:102 G7221/16000",
        "a=fmtp:102 bitrate=32000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "m=video 2228 RTP/AVP 109 34",
        "b=TIAS:1024000",
        "a=rtpmap:109 H264/90000",
        "a=fmtp:109 profile-level-id=42800d;max-mbps=40500;max-fs=1344;max-smbps=40500",
        "a=rtpmap:34 H263/90000",
        "a=fmtp:34 CIF=1;QCIF=1;SQCIF=1",
        "a=rtcp-fb:* nack pli",
        "a=content:main",
    ])
}

pub(crate) fn t38_reoffer() -> String {
    crlf(&[
        "v=0",
        "o=CiscoSystemsSIP-GW-UserAgent 4529 7791 IN IP4 198.51.100.20",
        "s=SIP Call",
        "c=IN IP4 198.51.100.20",
        "t=0 0",
        "m=image 18240 udptl t38",
        "c=IN IP4 198.51.100.20",
        "a=T38FaxVersion:0",
        "a=T38MaxBitRate:14400",
        "a=T38FaxFillBitRemoval:0",
        "a=T38FaxTranscodingMMR:0",
        "a=T38FaxTranscodingJBIG:0",
        "a=T38FaxRateManagement:transferredTCF",
        "a=T38FaxMaxBuffer:200",
        "a=T38FaxMaxDatagram:320",
        "a=T38FaxUdpEC:t38UDPRedundancy",
    ])
}

fn parse_ok(s: &str) -> SessionDescription {
    match SessionDescription::parse(s) {
        Ok(sdp) => sdp,
        Err(e) => panic!("{e}\n{s}"),
    }
}

fn parse_err(s: &str) -> SdpError {
    match SessionDescription::parse(s) {
        Ok(_) => panic!("parsed but should not:\n{s}"),
        Err(e) => e,
    }
}

#[test]
fn realistic_descriptions_round_trip_byte_identically() {
    for text in [
        cucm_offer(),
        baresip_offer(),
        asterisk_offer(),
        video_offer(),
        t38_reoffer(),
    ] {
        let sdp = parse_ok(&text);
        assert_eq!(sdp.to_string(), text);
        assert_eq!(sdp.to_bytes(), text.as_bytes());
        // Parsing the serialization gives the same model.
        assert_eq!(parse_ok(&sdp.to_string()), sdp);
    }
}

#[test]
fn cucm_typed_view() {
    let sdp = parse_ok(&cucm_offer());
    assert_eq!(sdp.origin().username, "CiscoSystemsCCM-SIP");
    assert_eq!(sdp.origin().session_version, 1);
    assert_eq!(sdp.session_name(), "SIP Call");
    assert_eq!(sdp.timing(), Some(Timing { start: 0, stop: 0 }));
    let bw: Vec<_> = sdp.bandwidths().map(|b| b.to_string()).collect();
    assert_eq!(bw, ["TIAS:64000", "AS:64"]);
    let m = sdp.media().first().expect("audio");
    assert_eq!(m.media(), "audio");
    assert_eq!(m.port(), 24580);
    assert_eq!(m.formats(), ["0", "8", "18", "101"]);
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.codec_of("8"), Some((Pt::PCMA, Codec::Pcma)));
    assert_eq!(
        m.attribute("X-cisco-media").and_then(|a| a.value),
        Some("umoh")
    );
    assert_eq!(sdp.media_direction(0), Direction::SendRecv);
    assert_eq!(
        sdp.media_connection(0).map(|c| c.address.as_str()),
        Some("10.10.20.30")
    );
}

#[test]
fn session_level_direction_applies_to_media() {
    let sdp = parse_ok(&video_offer());
    assert_eq!(sdp.direction(), Some(Direction::SendRecv));
    let mut text = video_offer().replace("a=sendrecv\r\n", "a=sendonly\r\n");
    text = text.replace("a=content:main", "a=inactive");
    let sdp = parse_ok(&text);
    assert_eq!(sdp.media_direction(0), Direction::SendOnly);
    assert_eq!(sdp.media_direction(1), Direction::Inactive);
    assert_eq!(sdp.media_direction(7), Direction::SendOnly);
}

#[test]
fn unknown_lines_keep_their_place() {
    let sdp = parse_ok(&video_offer());
    let kinds: String = sdp.lines().iter().map(Line::kind).collect();
    assert_eq!(kinds, "vosiuepcbtya");
    assert_eq!(sdp.lines().get(10).map(Line::value), Some("0123456789"));
}

#[test]
fn bare_lf_and_missing_final_newline_are_accepted() {
    let text = asterisk_offer();
    let lf = text.replace("\r\n", "\n");
    assert_eq!(parse_ok(&lf).to_string(), text);
    let trimmed = text.trim_end();
    assert_eq!(parse_ok(trimmed).to_string(), text);
    let mixed = text.replacen("\r\n", "\n", 3);
    assert_eq!(parse_ok(&mixed).to_string(), text);
    let trailing_blank = format!("{text}\r\n\r\n");
    assert_eq!(parse_ok(&trailing_blank).to_string(), text);
    assert_eq!(
        SessionDescription::parse(text.as_bytes()),
        Ok(parse_ok(&text))
    );
    assert_eq!(text.parse::<SessionDescription>(), Ok(parse_ok(&text)));
}

#[test]
fn irregular_whitespace_is_read_and_kept() {
    let text = crlf(&[
        "v=0",
        "o=-  7 9   IN IP4 192.0.2.1 ",
        "s= ",
        "c=IN  IP4 192.0.2.1",
        "t=0  0",
        "m=audio  4000 RTP/AVP 0 8 ",
        "a=rtpmap:8  PCMA/8000",
    ]);
    let sdp = parse_ok(&text);
    assert_eq!(sdp.to_string(), text);
    assert_eq!(sdp.origin().session_version, 9);
    let m = sdp.media().first().expect("audio");
    assert_eq!(m.formats(), ["0", "8"]);
    assert_eq!(m.codec_of("8"), Some((Pt::PCMA, Codec::Pcma)));
}

#[test]
fn mutation_rewrites_only_touched_lines() {
    let text = cucm_offer();
    let mut sdp = parse_ok(&text);
    sdp.set_origin(sdp.origin().next_version());
    sdp.set_connection(Connection::new("192.0.2.99".parse().expect("ip")));
    if let Some(m) = sdp.media_mut().first_mut() {
        m.set_port(30000);
    }
    let expected = text
        .replace("2000 1 IN", "2000 2 IN")
        .replace("c=IN IP4 10.10.20.30", "c=IN IP4 192.0.2.99")
        .replace("m=audio 24580", "m=audio 30000");
    assert_eq!(sdp.to_string(), expected);
}

#[test]
fn built_description_inserts_lines_in_rfc_order() {
    let mut sdp = SessionDescription::new(Origin::new(5, "192.0.2.1".parse().expect("ip")), "-");
    sdp.push_attribute("tool", Some("tether"));
    sdp.set_connection(Connection::new("192.0.2.1".parse().expect("ip")));
    assert!(!sdp.push_line(Line::new('o', "x").expect("line")));
    assert!(sdp.push_line(Line::new('k', "prompt").expect("line")));
    assert_eq!(
        sdp.to_string(),
        crlf(&[
            "v=0",
            "o=tether 5 0 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "t=0 0",
            "a=tool:tether",
            "k=prompt",
        ])
    );
    assert_eq!(parse_ok(&sdp.to_string()), sdp);
}

#[test]
fn syntax_errors_name_the_line() {
    let base = asterisk_offer();
    let cases: Vec<(String, usize, Malformed)> = vec![
        (String::new(), 1, Malformed::Empty),
        ("\r\n\r\n".to_owned(), 1, Malformed::Empty),
        (
            base.replacen("v=0", "o=x", 1),
            1,
            Malformed::VersionNotFirst,
        ),
        (
            base.replacen("v=0", "v=1", 1),
            1,
            Malformed::UnsupportedVersion,
        ),
        (
            base.replacen("m=audio 17452", "m=audio 17x52", 1),
            6,
            Malformed::MediaPort,
        ),
        (
            base.replacen("m=audio 17452", "m=audio 99999", 1),
            6,
            Malformed::MediaPort,
        ),
        (
            base.replacen(" RTP/AVP 0 8 3 111 101", " RTP/AVP", 1),
            6,
            Malformed::MediaFieldCount,
        ),
        (
            base.replacen("o=- 1670854223 ", "o=- ", 1),
            2,
            Malformed::OriginFieldCount,
        ),
        (
            base.replacen("1670854223 IN", "x IN", 1),
            2,
            Malformed::OriginVersion,
        ),
        (
            base.replacen("s=Asterisk\r\n", "", 1),
            5,
            Malformed::MissingSessionName,
        ),
        (
            base.replacen("o=- 1670854223 1670854223 IN IP4 203.0.113.10\r\n", "", 1),
            5,
            Malformed::MissingOrigin,
        ),
        (
            base.replacen("t=0 0", "s=again", 1),
            5,
            Malformed::Duplicate('s'),
        ),
        (
            base.replacen("t=0 0", "o=- 1 1 IN IP4 a", 1),
            5,
            Malformed::Duplicate('o'),
        ),
        (
            base.replacen("t=0 0", "v=0", 1),
            5,
            Malformed::Duplicate('v'),
        ),
        (base.replacen("t=0 0", "t=now", 1), 5, Malformed::Timing),
        (base.replacen("t=0 0", "b=AS", 1), 5, Malformed::Bandwidth),
        (
            base.replacen("a=ptime:20", "t=0 0", 1),
            13,
            Malformed::SessionLineInMedia('t'),
        ),
        (
            base.replacen("a=ptime:20", "a=", 1),
            13,
            Malformed::AttributeName,
        ),
        (
            base.replacen("a=ptime:20", "a=:20", 1),
            13,
            Malformed::AttributeName,
        ),
        (
            base.replacen("a=ptime:20", "ptime 20", 1),
            13,
            Malformed::NotTypeValue,
        ),
        (
            base.replacen("a=ptime:20", "A=ptime:20", 1),
            13,
            Malformed::NotTypeValue,
        ),
        (
            base.replacen("a=ptime:20", "ab=x", 1),
            13,
            Malformed::NotTypeValue,
        ),
        (base.replacen("a=ptime:20", "", 1), 13, Malformed::EmptyLine),
        (
            base.replacen("a=ptime:20", "a=pt\rime", 1),
            13,
            Malformed::ForbiddenCharacter,
        ),
        (
            base.replacen("a=ptime:20", "a=pt\0ime", 1),
            13,
            Malformed::ForbiddenCharacter,
        ),
        (
            base.replacen("c=IN IP4 203.0.113.10", "c=IN IP4", 1),
            4,
            Malformed::ConnectionFieldCount,
        ),
        (
            base.replacen("a=ptime:20", "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5", 1),
            14,
            Malformed::DuplicateConnection,
        ),
        (
            base.replacen("c=IN IP4 203.0.113.10\r\n", "", 1),
            5,
            Malformed::MissingConnection,
        ),
    ];
    for (text, line, problem) in cases {
        let e = parse_err(&text);
        assert_eq!(e, SdpError::Malformed { line, problem }, "{text}");
        assert_eq!(e.sip_status(), 400);
    }
    assert_eq!(
        parse_err(&base.replacen("m=audio 17452", "m=audio 17x52", 1)).to_string(),
        "line 6: m= port is not a number"
    );
}

#[test]
fn non_utf8_is_a_syntax_error() {
    let mut bytes = asterisk_offer().into_bytes();
    let pos = bytes.len() - 3;
    if let Some(b) = bytes.get_mut(pos) {
        *b = 0xff;
    }
    let e = SessionDescription::parse(&bytes).expect_err("not UTF-8");
    assert_eq!(
        e,
        SdpError::Malformed {
            line: 15,
            problem: Malformed::NotUtf8
        }
    );
}

#[test]
fn unusable_connection_is_488() {
    let text = asterisk_offer().replacen("c=IN IP4", "c=ATM NSAP", 1);
    let e = parse_err(&text);
    assert_eq!(
        e,
        SdpError::Unsupported {
            line: 4,
            what: Unsupported::NetworkType
        }
    );
    assert_eq!(e.sip_status(), 488);
}

#[test]
fn disabled_stream_needs_no_connection() {
    let text = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 0 RTP/AVP 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 192.0.2.1",
    ]);
    let sdp = parse_ok(&text);
    assert_eq!(sdp.to_string(), text);
    assert!(sdp.media_connection(0).is_none());
    assert!(sdp.media_connection(1).is_some());
}

#[test]
fn session_without_media_is_valid() {
    let text = crlf(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]);
    assert!(parse_ok(&text).media().is_empty());
    let e = parse_err("v=0\r\ns=-\r\n");
    assert_eq!(
        e,
        SdpError::Malformed {
            line: 3,
            problem: Malformed::MissingOrigin
        }
    );
}

#[test]
fn hostile_sizes_are_refused() {
    let huge = format!("v=0\r\na={}\r\n", "x".repeat(MAX_SDP_LEN));
    assert_eq!(parse_err(&huge), SdpError::TooLarge { len: huge.len() });
    let many = format!(
        "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\n{}",
        "a=x\r\n".repeat(MAX_SDP_LINES)
    );
    assert!(many.len() <= MAX_SDP_LEN);
    assert_eq!(parse_err(&many), SdpError::TooManyLines);
}

// ---- property tests ----

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,11}"
}

/// Free text for values: printable ASCII and a little UTF-8, no CR/LF/NUL.
fn text() -> impl Strategy<Value = String> {
    "[ -~éü]{0,30}"
}

fn attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        token().prop_map(|n| format!("a={n}")),
        (token(), text()).prop_map(|(n, v)| format!("a={n}:{v}")),
        Just("a=sendonly".to_owned()),
        Just("a=recvonly".to_owned()),
        (0u8..128, token(), 8000u32..48001).prop_map(|(pt, n, r)| format!("a=rtpmap:{pt} {n}/{r}")),
        (0u8..128, text()).prop_map(|(pt, p)| format!("a=fmtp:{pt} {p}")),
    ]
}

fn ip4() -> impl Strategy<Value = String> {
    (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
}

/// Lines of a type we keep verbatim (valid at both levels), plus `b=`.
fn other_line(media_level: bool) -> impl Strategy<Value = String> {
    let kinds: &'static [char] = if media_level {
        &['i', 'k', 'y', 'w', 'x', 'q']
    } else {
        &['i', 'u', 'e', 'p', 'k', 'r', 'z', 'y', 'w', 'x', 'q']
    };
    prop_oneof![
        (prop::sample::select(kinds), text()).prop_map(|(k, v)| format!("{k}={v}")),
        (token(), any::<u32>()).prop_map(|(t, v)| format!("b={t}:{v}")),
        attribute(),
    ]
}

fn media_section() -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(vec!["audio", "video", "image", "application", "text"]),
        any::<u16>(),
        prop::option::of(1u16..4),
        prop::sample::select(vec![
            "RTP/AVP",
            "RTP/SAVP",
            "udptl",
            "TCP/MRCPv2",
            "RTP/AVPF",
        ]),
        prop::collection::vec(
            prop_oneof![(0u8..128).prop_map(|p| p.to_string()), token()],
            1..6,
        ),
        prop::option::of(ip4()),
        prop::collection::vec(other_line(true), 0..8),
    )
        .prop_map(|(media, port, count, proto, fmts, conn, rest)| {
            let count = count.map(|c| format!("/{c}")).unwrap_or_default();
            let mut lines = vec![format!(
                "m={media} {port}{count} {proto} {}",
                fmts.join(" ")
            )];
            if let Some(c) = conn {
                lines.push(format!("c=IN IP4 {c}"));
            }
            lines.extend(rest);
            lines
        })
}

pub(crate) fn description() -> impl Strategy<Value = String> {
    (
        token(),
        any::<u64>(),
        any::<u64>(),
        ip4(),
        text(),
        ip4(),
        prop::collection::vec(other_line(false), 0..8),
        prop::collection::vec(media_section(), 0..4),
    )
        .prop_map(|(user, id, version, origin_ip, name, conn, rest, media)| {
            let mut lines = vec![
                "v=0".to_owned(),
                format!("o={user} {id} {version} IN IP4 {origin_ip}"),
                format!("s={name}"),
                format!("c=IN IP4 {conn}"),
                "t=0 0".to_owned(),
            ];
            lines.extend(rest);
            lines.extend(media.into_iter().flatten());
            let mut s = lines.join("\r\n");
            s.push_str("\r\n");
            s
        })
}

proptest! {
    #[test]
    fn generated_descriptions_round_trip(text in description()) {
        let sdp = SessionDescription::parse(&text);
        prop_assert!(sdp.is_ok(), "{:?}\n{}", sdp, text);
        if let Ok(sdp) = sdp {
            prop_assert_eq!(sdp.to_string(), text);
        }
    }

    #[test]
    fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SessionDescription::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_corrupted_sdp(
        text in description(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = text.into_bytes();
        for (at, b) in edits {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                if let Some(slot) = bytes.get_mut(i) {
                    *slot = b;
                }
            }
        }
        if let Ok(sdp) = SessionDescription::parse(&bytes) {
            // Whatever parses must serialize and re-parse to the same model.
            let again = SessionDescription::parse(sdp.to_string());
            prop_assert_eq!(again, Ok(sdp));
        }
    }

    #[test]
    fn parse_never_panics_on_sdp_shaped_text(
        lines in prop::collection::vec("[a-z]=[ -~]{0,40}", 0..40),
    ) {
        let text = format!("v=0\r\n{}", lines.join("\r\n"));
        if let Ok(sdp) = SessionDescription::parse(&text) {
            prop_assert_eq!(sdp.to_string(), format!("{text}\r\n"));
        }
    }
}
