//! Message-layer tests: lossless round trips, edits that leave other headers untouched,
//! framing of datagrams, error mapping, and a property test over generated messages.

use super::*;
use crate::error::{Error, InvalidMessage, ParseError};
use crate::headers::ContactValue;
use proptest::prelude::*;

const INVITE: &str = "INVITE sip:2000@tether.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:2000@tether.example.com>\r\n\
From: \"Alice\" <sip:+14155550100@192.0.2.10>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5060>\r\n\
X-Odd-Header :   keep   these   spaces  \r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn parse(s: &str) -> Result<Message, ParseError> {
    Message::parse(s.as_bytes().to_vec())
}

#[test]
fn untouched_message_is_byte_identical() {
    let m = parse(INVITE).unwrap();
    assert_eq!(&m.to_bytes()[..], INVITE.as_bytes());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(m.from_tag(), Some("1928301774"));
    assert_eq!(m.to_tag(), None);
    assert_eq!(m.cseq().unwrap().seq, 314159);
    assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.example.com"));
    assert_eq!(&m.body()[..], b"v=0\n");
}

#[test]
fn edits_keep_other_headers_byte_for_byte() {
    let mut m = parse(INVITE).unwrap();
    m.set_to_tag("abc").unwrap();
    m.prepend_header(HeaderName::Via, "SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKnew")
        .unwrap();
    let out = String::from_utf8(m.to_bytes().to_vec()).unwrap();
    assert!(out.contains("X-Odd-Header :   keep   these   spaces  \r\n"));
    assert!(out.contains("To: <sip:2000@tether.example.com>;tag=abc\r\n"));
    assert!(out.starts_with("INVITE sip:2000@tether.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKnew\r\nVia: SIP/2.0/UDP 192.0.2.10"));
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKnew"));
    assert_eq!(m.to_tag(), Some("abc"));
    let again = Message::parse(m.to_bytes()).unwrap();
    assert_eq!(again.to_tag(), Some("abc"));
}

/// Writing into a buffer a sender reuses gives the same bytes as `to_bytes`, appended after
/// what the buffer already holds, for a message as received and for an edited one.
#[test]
fn write_to_appends_the_wire_bytes() {
    let received = parse(INVITE).unwrap();
    let mut edited = received.clone();
    edited.set_to_tag("t1").unwrap();
    let mut buf = bytes::BytesMut::from(&b"left over"[..]);
    for m in [&received, &edited] {
        buf.clear();
        buf.extend_from_slice(b"xx");
        m.write_to(&mut buf);
        assert_eq!(&buf[..2], b"xx");
        assert_eq!(&buf[2..], &m.to_bytes()[..]);
    }
    assert_ne!(received.to_bytes(), edited.to_bytes());
}

/// The core index is updated in place by edits: it must agree with a fresh parse of the
/// edited message after every kind of edit.
#[test]
fn edits_keep_the_core_index_right() {
    let same_as_reparsed = |m: &Message| {
        let again = Message::parse(m.to_bytes()).unwrap();
        assert_eq!(m.top_via(), again.top_via());
        assert_eq!(m.from_hdr(), again.from_hdr());
        assert_eq!(m.to_hdr(), again.to_hdr());
        assert_eq!(
            (m.from_tag(), m.to_tag()),
            (again.from_tag(), again.to_tag())
        );
        assert_eq!((m.call_id(), m.cseq()), (again.call_id(), again.cseq()));
        assert_eq!(m.contact().unwrap(), again.contact().unwrap());
        for x in [m, &again] {
            assert_eq!(x.top_via_branch(), x.top_via().and_then(|v| v.branch()));
            assert_eq!(x.top_via_sent_by(), x.top_via().map(|v| v.sent_by()));
            assert_eq!(x.has_via(), x.top_via().is_some());
        }
    };
    let mut m = parse(INVITE).unwrap();
    m.prepend_header(HeaderName::Route, "<sip:p1.example.com;lr>")
        .unwrap();
    same_as_reparsed(&m);
    m.prepend_header(HeaderName::Via, "SIP/2.0/TCP 203.0.113.1;branch=z9hG4bKa")
        .unwrap();
    m.prepend_header(HeaderName::Via, "SIP/2.0/UDP 203.0.113.2;branch=z9hG4bKb")
        .unwrap();
    same_as_reparsed(&m);
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKb"));
    m.set_to_tag("t1").unwrap();
    m.set_to_tag("t2").unwrap();
    same_as_reparsed(&m);
    assert_eq!(m.to_tag(), Some("t2"));
    m.set_header(HeaderName::From, "\"Bob\" <sip:bob@b.example>;tag=f9")
        .unwrap();
    m.push_header(HeaderName::Contact, "<sip:second@192.0.2.99>")
        .unwrap();
    m.set_header(HeaderName::Contact, "<sip:only@192.0.2.98>")
        .unwrap();
    same_as_reparsed(&m);
    assert_eq!(m.from_tag(), Some("f9"));
    m.remove_first(&HeaderName::Via);
    same_as_reparsed(&m);
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKa"));
    assert!(m.push_header(HeaderName::Via, "not a via").is_err());
    assert!(m.prepend_header(HeaderName::To, "<bad").is_err());
    same_as_reparsed(&m);

    // A request built line by line.
    let mut b = Message::new_request(Method::Options, Uri::parse("sip:x@y").unwrap());
    b.push_header(HeaderName::CallId, "c@h").unwrap();
    b.push_header(HeaderName::From, "<sip:a@h>;tag=1").unwrap();
    b.push_header(HeaderName::To, "<sip:x@y>").unwrap();
    b.push_header(HeaderName::CSeq, "3 OPTIONS").unwrap();
    b.prepend_header(HeaderName::Via, "SIP/2.0/UDP h;branch=z9hG4bKc")
        .unwrap();
    same_as_reparsed(&b);
    assert_eq!(b.call_id(), Some("c@h"));
    // A shared message is copied by its first edit; the other keeps what it had.
    let kept = b.clone();
    b.set_to_tag("x").unwrap();
    assert_eq!((kept.to_tag(), b.to_tag()), (None, Some("x")));
}

#[test]
fn body_change_updates_content_length() {
    let mut m = parse(INVITE).unwrap();
    m.set_body(
        Some("application/sdp"),
        &b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"[..],
    )
    .unwrap();
    let again = Message::parse(m.to_bytes()).unwrap();
    assert_eq!(again.body().len(), 29);
    assert_eq!(again.header_value(&HeaderName::ContentLength), Some("29"));
}

#[test]
fn binary_body_stays_binary() {
    let body: Vec<u8> = (0u8..=255).collect();
    let mut raw = INVITE
        .replace("Content-Length: 4", "Content-Length: 256")
        .into_bytes();
    raw.truncate(raw.len() - 4);
    raw.extend_from_slice(&body);
    let m = Message::parse(raw.clone()).unwrap();
    assert_eq!(&m.body()[..], &body[..]);
    assert_eq!(&m.to_bytes()[..], &raw[..]);
}

#[test]
fn datagram_framing() {
    // Extra bytes after Content-Length are ignored; a missing Content-Length runs to the end.
    let m = parse(&format!("{INVITE}garbage")).unwrap();
    assert_eq!(&m.body()[..], b"v=0\n");
    let no_len = INVITE.replace("Content-Length: 4\r\n", "");
    assert_eq!(&parse(&no_len).unwrap().body()[..], b"v=0\n");
    let short = INVITE.replace("Content-Length: 4", "Content-Length: 40");
    assert_eq!(
        parse(&short).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::BodyTruncated)
    );
    // Stream framing already cut the message: no Content-Length means no body.
    let m = Message::parse_with(
        no_len.into_bytes(),
        &ParseOptions {
            stream: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.body().is_empty());
    // Leading keep-alive CRLFs are skipped.
    assert!(parse(&format!("\r\n\r\n{INVITE}")).is_ok());
}

#[test]
fn errors_name_the_header_and_map_to_responses() {
    let bad_via = INVITE.replace(
        "Via: SIP/2.0/UDP 192.0.2.10:5060;",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;;",
    );
    let e = parse(&bad_via).unwrap_err();
    assert_eq!(e.response_status().unwrap().0, 400);
    assert!(e.response_status().unwrap().1.contains("Via"), "{e}");
    let no_call_id = INVITE.replace("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "");
    assert_eq!(
        parse(&no_call_id).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::Missing(HeaderName::CallId))
    );
    let v7 = INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
    assert_eq!(parse(&v7).unwrap_err().response_status().unwrap().0, 505);
    let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCSeq: 99999999999 INVITE\r\nCall-ID: x\r\n\r\n";
    assert_eq!(
        parse(resp).unwrap_err().response_status(),
        None,
        "malformed responses are dropped"
    );
    assert!(parse("").is_err() && parse("\r\n\r\n").is_err());
    assert!(
        parse("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n").is_err(),
        "unterminated"
    );
}

#[test]
fn response_to_copies_headers() {
    let req = parse(INVITE).unwrap();
    let r = Message::response_to(&req, 180, "Ringing", Some("srv1"));
    let out = String::from_utf8(r.to_bytes().to_vec()).unwrap();
    assert!(out.starts_with(
        "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    ));
    assert!(out.contains("To: <sip:2000@tether.example.com>;tag=srv1\r\n"));
    assert!(out.ends_with("Content-Length: 0\r\n\r\n"));
    let back = Message::parse(r.to_bytes()).unwrap();
    assert_eq!(back.status(), Some(180));
    assert_eq!(back.cseq(), req.cseq());
}

#[test]
fn raw_error_response_for_unparseable_request() {
    let bad = INVITE.replace("CSeq: 314159 INVITE", "CSeq: 99999999999 INVITE");
    let e = parse(&bad).unwrap_err();
    let (code, reason) = e.response_status().unwrap();
    let out = error_response_for_raw(bad.as_bytes(), code, &reason).unwrap();
    // The header lines are echoed as received (RFC 4475 §3.1.2.4 answers 400 with the CSeq as is).
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(
        text.starts_with("SIP/2.0 400 Bad Request (malformed CSeq"),
        "{text}"
    );
    assert!(text.contains("\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n"));
    assert!(text.contains("\r\nCSeq: 99999999999 INVITE\r\n"));
    assert!(!text.contains("Contact"));
    let ok_bad_body = INVITE.replace("Content-Length: 4", "Content-Length: 400");
    let e = parse(&ok_bad_body).unwrap_err();
    let r = Message::parse(
        error_response_for_raw(ok_bad_body.as_bytes(), 400, &e.response_status().unwrap().1)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(r.status(), Some(400));
    assert_eq!(r.call_id(), Some("a84b4c76e66710@pc33.example.com"));
    assert!(error_response_for_raw(b"SIP/2.0 200 OK\r\n\r\n", 400, "x").is_none());
}

#[test]
fn builder_produces_parseable_request() {
    let mut m = Message::new_request(
        Method::Options,
        Uri::parse("sip:tether.example.com").unwrap(),
    );
    for (n, v) in [
        (
            HeaderName::Via,
            "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKb1",
        ),
        (HeaderName::From, "<sip:probe@127.0.0.1>;tag=p1"),
        (HeaderName::To, "<sip:tether.example.com>"),
        (HeaderName::CallId, "probe-1"),
        (HeaderName::CSeq, "1 OPTIONS"),
        (HeaderName::MaxForwards, "70"),
    ] {
        m.push_header(n, v).unwrap();
    }
    assert!(m.push_header(HeaderName::CSeq, "not a cseq").is_err());
    m.remove_headers(&HeaderName::CSeq);
    m.push_header(HeaderName::CSeq, "1 OPTIONS").unwrap();
    let back = Message::parse(m.to_bytes()).unwrap();
    assert_eq!(back.method(), Some(&Method::Options));
    assert_eq!(back.header_value(&HeaderName::ContentLength), Some("0"));
}

#[test]
fn core_reads_follow_edits_that_move_lines() {
    let mut m = parse(INVITE).unwrap();
    // Read everything once so the typed values are kept, then move every line down by one.
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(m.from_hdr().unwrap().tag(), Some("1928301774"));
    m.prepend_header(HeaderName::Route, "<sip:proxy.example.com;lr>")
        .unwrap();
    assert_eq!(m.headers()[0].name(), &HeaderName::Route);
    assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.example.com"));
    assert_eq!(m.from_tag(), Some("1928301774"));
    assert_eq!(m.to_tag(), None);
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    // Removing the top Via forgets the kept value.
    m.push_header(
        HeaderName::Via,
        "SIP/2.0/TCP 198.51.100.1;branch=z9hG4bKsecond",
    )
    .unwrap();
    m.remove_first(&HeaderName::Via).unwrap();
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKsecond"));
    m.remove_headers(&HeaderName::Via);
    assert!(m.top_via().is_none());
    m.set_header(HeaderName::From, "<sip:carol@example.com>;tag=new")
        .unwrap();
    assert_eq!(m.from_tag(), Some("new"));
    assert_eq!(m.from_hdr().unwrap().uri.as_str(), "sip:carol@example.com");
    m.remove_headers(&HeaderName::CallId);
    assert_eq!(m.call_id(), None);
    m.push_header(HeaderName::CallId, "again@host").unwrap();
    assert_eq!(m.call_id(), Some("again@host"));
}

#[test]
fn tags_of_folded_and_spaced_headers() {
    let folded = INVITE
        .replace(
            "From: \"Alice\" <sip:+14155550100@192.0.2.10>;tag=1928301774",
            "From: \"Alice\"\r\n <sip:+14155550100@192.0.2.10>\r\n\t; tag = 1928301774 ;x",
        )
        .replace(
            "To: <sip:2000@tether.example.com>",
            "t: sip:2000@tether.example.com;tag=\"q t\"",
        );
    let m = parse(&folded).unwrap();
    assert_eq!(m.from_tag(), Some("1928301774"));
    assert_eq!(m.from_hdr().unwrap().tag(), Some("1928301774"));
    assert_eq!(m.to_tag(), Some("\"q t\""));
    assert_eq!(&m.to_bytes()[..], folded.as_bytes());
    // A flag `tag` without a value is no tag, and the first `tag` is the one that counts.
    let flag = INVITE.replace(";tag=1928301774", ";tag;tag=2");
    assert_eq!(parse(&flag).unwrap().from_tag(), None);
}

#[test]
fn messages_share_across_threads_and_compare_by_content() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Message>();
    let a = parse(INVITE).unwrap();
    let b = parse(INVITE).unwrap();
    // Reading typed values keeps them, which must not change equality.
    assert!(a.top_via().is_some() && a.from_hdr().is_some() && a.to_hdr().is_some());
    assert_eq!(a, b);
    let c = a.clone();
    assert_eq!(c.top_via(), b.top_via());
    assert_eq!(c, b);
}

#[test]
fn utf8_is_checked_past_the_first_block_and_with_bare_line_feeds() {
    // A header section longer than the block checked in one go: the lines after it are
    // checked one by one.
    let long = format!(
        "X-Long: {}\r\nSubject: caf\u{e9} \u{2603}\r\n",
        "a".repeat(5000)
    );
    let text = INVITE.replace("Content-Type:", &format!("{long}Content-Type:"));
    let m = parse(&text).unwrap();
    assert_eq!(
        m.header_value(&HeaderName::Subject),
        Some("caf\u{e9} \u{2603}")
    );
    assert_eq!(&m.to_bytes()[..], text.as_bytes());
    for bad in [&b"\xff"[..], b"\xc3", b"\xe2\x98"] {
        let mut raw = text.clone().into_bytes();
        let at = text.find("caf").unwrap();
        raw.splice(at..at, bad.iter().copied());
        assert_eq!(
            Message::parse(raw).unwrap_err().error,
            Error::InvalidMessage(InvalidMessage::NotUtf8)
        );
    }
    // Bare LF line ends, UTF-8 in a header, and a binary body.
    let lf = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: \"J\u{f6}rg\" <sip:j@b>;tag=1\nTo: <sip:a@b>\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 2\n\n";
    let mut raw = lf.as_bytes().to_vec();
    raw.extend_from_slice(b"\xff\xfe");
    let m = Message::parse(raw.clone()).unwrap();
    assert_eq!(
        m.from_hdr().unwrap().display_name().as_deref(),
        Some("J\u{f6}rg")
    );
    assert_eq!(&m.body()[..], b"\xff\xfe");
    raw[lf.find("sip:j").unwrap()] = 0xff;
    assert_eq!(
        Message::parse(raw).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::NotUtf8)
    );
    // Which error wins is unchanged: a malformed line anywhere, then non-UTF-8 text, then
    // the first header value that does not check.
    let mut bytes = INVITE
        .replace("X-Odd-Header :", "X-Odd-Header :\u{e9}")
        .replace("Max-Forwards: 70", "Max-Forwards: 700")
        .into_bytes();
    let e_acute = bytes
        .windows(2)
        .position(|w| w == "\u{e9}".as_bytes())
        .unwrap();
    bytes[e_acute] = 0xff;
    assert_eq!(
        Message::parse(bytes.clone()).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::NotUtf8)
    );
    let mut broken_line = bytes.clone();
    let at = bytes
        .windows(12)
        .position(|w| w == b"Content-Type")
        .unwrap();
    broken_line[at + 7] = b' ';
    assert_eq!(
        Message::parse(broken_line).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::HeaderLine)
    );
    bytes[e_acute..e_acute + 2].copy_from_slice(b"xx");
    assert!(matches!(
        Message::parse(bytes).unwrap_err().error,
        Error::InvalidMessage(InvalidMessage::Header(HeaderName::MaxForwards, _))
    ));
}

#[test]
fn contact_is_the_first_value_unless_a_line_is_a_star() {
    let two = INVITE.replace(
        "Contact: <sip:alice@192.0.2.10:5060>\r\n",
        "Contact: \"A\" <sip:alice@192.0.2.10:5060>;expires=60, <sip:b@c>\r\nm: <sip:d@e>\r\n",
    );
    let m = parse(&two).unwrap();
    let first = m.contact().unwrap().unwrap();
    assert_eq!(first.uri.as_str(), "sip:alice@192.0.2.10:5060");
    assert_eq!(first.expires(), Some(60));
    match m.contacts().unwrap() {
        Some(ContactValue::List(l)) => assert_eq!((l.len(), &l[0]), (3, &first)),
        other => panic!("{other:?}"),
    }
    let star = INVITE.replace("Contact: <sip:alice@192.0.2.10:5060>", "Contact:  * ");
    assert_eq!(parse(&star).unwrap().contact(), Ok(None));
    // Lines added after parsing are checked when read.
    let mut m = parse(INVITE).unwrap();
    m.push_header(HeaderName::Contact, "*").unwrap();
    assert_eq!(m.contact(), Ok(None));
    m.set_header(HeaderName::Contact, "<sip:x@y>, <bad")
        .unwrap();
    assert!(m.contact().is_err());
    m.remove_headers(&HeaderName::Contact);
    assert_eq!(m.contact(), Ok(None));
}

// ---- property test ---------------------------------------------------------------------

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn spaces() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("\r\n ".to_string())
    ]
}

/// (wire name, value) pairs for the required headers, with spacing and compact-form variety.
fn message_text() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        prop_oneof![
            Just("INVITE"),
            Just("BYE"),
            Just("OPTIONS"),
            Just("X-CUSTOM")
        ],
        "[A-Za-z0-9][A-Za-z0-9._~-]{0,12}",
        token(),
        prop::bool::ANY,
        spaces(),
        spaces(),
        proptest::collection::vec((token(), "[ -~]{0,30}"), 0..6),
        proptest::collection::vec(any::<u8>(), 0..64),
        1u32..u32::MAX,
        prop_oneof![
            Just(None),
            Just(Some(100u16)),
            Just(Some(486)),
            Just(Some(699))
        ],
    )
        .prop_map(
            |(method, user, tag, compact, sp1, sp2, extra, body, seq, status)| {
                let name =
                    |long: &'static str, short: &'static str| if compact { short } else { long };
                let mut s = match status {
                    None => format!("{method} sip:{user}@example.com SIP/2.0\r\n"),
                    Some(c) => format!("SIP/2.0 {c} Some Reason\r\n"),
                };
                s += &format!(
                    "{}:{sp1}SIP/2.0/UDP{sp2} host.example.com;branch=z9hG4bK{tag}\r\n",
                    name("Via", "v")
                );
                s += &format!(
                    "{}:{sp1}<sip:{user}@example.com>;tag={tag}\r\n",
                    name("From", "f")
                );
                s += &format!("{}: sip:{user}@example.net\r\n", name("To", "t"));
                s += &format!("{}:{sp2}{tag}@host\r\n", name("Call-ID", "i"));
                s += &format!("CSeq: {seq}{sp2} {method}\r\n");
                for (n, v) in &extra {
                    s += &format!("X-{n}:{sp1}{}\r\n", v.trim_end());
                }
                s += &format!("{}: {}\r\n\r\n", name("Content-Length", "l"), body.len());
                let mut bytes = s.into_bytes();
                bytes.extend_from_slice(&body);
                (method.to_string(), bytes)
            },
        )
}

proptest! {
    #[test]
    fn parse_serialize_round_trip((_method, bytes) in message_text()) {
        let m = Message::parse(bytes.clone()).unwrap();
        // Untouched: the same bytes.
        prop_assert_eq!(&m.to_bytes()[..], &bytes[..]);
        // parse(serialize(m)) == m
        let again = Message::parse(m.to_bytes()).unwrap();
        prop_assert_eq!(&again, &m);
        // Touching one header leaves every other header's bytes alone.
        let mut edited = m.clone();
        edited.push_header(HeaderName::from_wire("X-Added"), "1").unwrap();
        let reparsed = Message::parse(edited.to_bytes()).unwrap();
        for (a, b) in m.headers().iter().zip(reparsed.headers()) {
            if *a.name() != HeaderName::ContentLength {
                prop_assert_eq!(a.raw(), b.raw());
            }
        }
        prop_assert_eq!(reparsed.body(), m.body());
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::parse(bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_messages((_m, mut bytes) in message_text(), idx in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let i = idx.index(bytes.len());
        bytes[i] = byte;
        if let Ok(m) = Message::parse(bytes) {
            // Whatever parsed must survive a round trip.
            let again = Message::parse(m.to_bytes());
            prop_assert!(again.is_ok());
        }
    }
}
