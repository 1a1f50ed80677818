//! Tests of the stream framer: every split point, keep-alives, broken Content-Length, limits,
//! and a property test over random splits of a stream of valid messages.

use super::*;
use crate::message::ParseOptions;
use crate::Message;
use proptest::prelude::*;

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: <sip:bob@example.com>\r\n\
From: <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

const OPTIONS_COMPACT: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\n\
v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n\
t: <sip:bob@example.com>\r\n\
f: <sip:alice@example.com>;tag=88\r\n\
i: c2\r\n\
CSeq: 2 OPTIONS\r\n\
L  :\r\n 7\r\n\
\r\n\
abcdefg";

const RESPONSE_NO_LENGTH: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK2\r\n\
To: <sip:bob@example.com>;tag=x\r\n\
From: <sip:alice@example.com>;tag=88\r\n\
Call-ID: c3\r\n\
CSeq: 3 OPTIONS\r\n\
\r\n";

fn framer() -> StreamFramer {
    StreamFramer::new(4096)
}

/// Feeds `input` in the given chunks and collects every frame, or the first error.
fn feed(f: &mut StreamFramer, chunks: &[&[u8]]) -> Result<Vec<Frame>, FramingError> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            let n = f.push(rest);
            rest = &rest[n..];
            while let Some(fr) = f.poll()? {
                out.push(fr);
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0 || f.room() > 0, "framer stalled with a full buffer");
        }
    }
    Ok(out)
}

fn msg(s: &str) -> Frame {
    Frame::Message(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn splits_at_every_byte_boundary() {
    let stream = format!("{INVITE}{OPTIONS_COMPACT}{RESPONSE_NO_LENGTH}");
    let b = stream.as_bytes();
    let want = vec![msg(INVITE), msg(OPTIONS_COMPACT), msg(RESPONSE_NO_LENGTH)];
    for i in 0..=b.len() {
        let got = feed(&mut framer(), &[&b[..i], &b[i..]]).unwrap();
        assert_eq!(got, want, "split at {i}");
    }
    // And byte by byte.
    let singles: Vec<&[u8]> = b.chunks(1).collect();
    assert_eq!(feed(&mut framer(), &singles).unwrap(), want);
}

#[test]
fn framed_messages_parse_in_stream_mode() {
    let stream = format!("{INVITE}{OPTIONS_COMPACT}{RESPONSE_NO_LENGTH}");
    let frames = feed(&mut framer(), &[stream.as_bytes()]).unwrap();
    let opts = ParseOptions {
        stream: true,
        ..ParseOptions::default()
    };
    let bodies: Vec<Bytes> = frames
        .into_iter()
        .map(|f| match f {
            Frame::Message(b) => Message::parse_with(b, &opts).unwrap().body().clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            Bytes::from_static(b"v=0\n"),
            Bytes::from_static(b"abcdefg"),
            Bytes::new()
        ]
    );
}

#[test]
fn keep_alives_between_messages() {
    let stream = format!("\r\n\r\n{INVITE}\r\n\r\n\r\n\r\n{INVITE}\r\n{INVITE}");
    let got = feed(&mut framer(), &[stream.as_bytes()]).unwrap();
    assert_eq!(
        got,
        vec![
            Frame::Ping,
            msg(INVITE),
            Frame::Ping,
            Frame::Ping,
            msg(INVITE),
            Frame::Pong,
            msg(INVITE)
        ]
    );
}

#[test]
fn ping_split_is_reported_once_complete() {
    let mut f = framer();
    assert_eq!(feed(&mut f, &[b"\r\n"]).unwrap(), vec![]);
    assert_eq!(feed(&mut f, &[b"\r"]).unwrap(), vec![]);
    assert_eq!(feed(&mut f, &[b"\n"]).unwrap(), vec![Frame::Ping]);
    assert!(f.buffered().is_empty());
}

#[test]
fn pong_is_reported_when_followed_by_a_message() {
    let mut f = framer();
    assert_eq!(feed(&mut f, &[b"\r\n"]).unwrap(), vec![]);
    assert_eq!(
        feed(&mut f, &[INVITE.as_bytes()]).unwrap(),
        vec![Frame::Pong, msg(INVITE)]
    );
}

#[test]
fn missing_content_length_is_an_empty_body() {
    let stream = format!("{RESPONSE_NO_LENGTH}{RESPONSE_NO_LENGTH}");
    let got = feed(&mut framer(), &[stream.as_bytes()]).unwrap();
    assert_eq!(got, vec![msg(RESPONSE_NO_LENGTH), msg(RESPONSE_NO_LENGTH)]);
}

fn with_length(value: &str) -> String {
    INVITE.replace("Content-Length: 4\r\n", value)
}

#[test]
fn broken_content_length_is_fatal() {
    let cases = [
        (
            "Content-Length: -4\r\n",
            FramingError::NegativeContentLength,
        ),
        (
            "Content-Length: four\r\n",
            FramingError::InvalidContentLength,
        ),
        ("Content-Length: 4x\r\n", FramingError::InvalidContentLength),
        ("Content-Length:\r\n", FramingError::InvalidContentLength),
        (
            "Content-Length: 99999999999999999999999999\r\n",
            FramingError::InvalidContentLength,
        ),
        (
            "Content-Length: 4\r\nl: 4\r\n",
            FramingError::DuplicateContentLength,
        ),
        (
            "content-length: 4\r\nCONTENT-LENGTH: 4\r\n",
            FramingError::DuplicateContentLength,
        ),
    ];
    for (line, want) in cases {
        let mut f = framer();
        let s = with_length(line);
        assert_eq!(feed(&mut f, &[s.as_bytes()]), Err(want.clone()), "{line:?}");
        assert!(f.has_failed());
        assert_eq!(f.room(), 0);
        assert_eq!(f.poll(), Ok(None), "nothing after an error");
        // The driver can answer the request from what is buffered.
        let (code, reason) = want.status();
        let resp = crate::message::error_response_for_raw(f.buffered(), code, reason).unwrap();
        assert!(resp.starts_with(b"SIP/2.0 400 "));
    }
}

#[test]
fn content_length_spelling_variants() {
    for line in [
        "content-length:4\r\n",
        "CONTENT-LENGTH \t: 4 \r\n",
        "l:\r\n  4\r\n",
        "L :4\r\n",
    ] {
        let s = with_length(line);
        let got = feed(&mut framer(), &[s.as_bytes()]).unwrap();
        assert_eq!(got, vec![msg(&s)], "{line:?}");
    }
}

#[test]
fn oversize_body_is_fatal() {
    let mut f = StreamFramer::new(600);
    let s = with_length("Content-Length: 400\r\n");
    let got = feed(&mut f, &[s.as_bytes()]);
    assert!(
        matches!(got, Err(FramingError::MessageTooLarge { declared: 400 })),
        "{got:?}"
    );
    assert_eq!(got.unwrap_err().status().0, 513);
}

#[test]
fn oversize_header_is_fatal_and_bounded() {
    let mut f = StreamFramer::new(300);
    let mut s = String::from("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n");
    while s.len() < 1000 {
        s.push_str("X-Filler: 0123456789\r\n");
    }
    let got = feed(&mut f, &[s.as_bytes()]);
    assert_eq!(got, Err(FramingError::HeaderTooLarge));
    assert_eq!(f.buffered().len(), 300, "never buffers past the limit");
}

#[test]
fn exact_limit_is_accepted() {
    let mut f = StreamFramer::new(INVITE.len());
    let twice = format!("{INVITE}{INVITE}");
    assert_eq!(
        feed(&mut f, &[twice.as_bytes()]).unwrap(),
        vec![msg(INVITE), msg(INVITE)]
    );
    let mut f = StreamFramer::new(INVITE.len() - 1);
    assert!(feed(&mut f, &[INVITE.as_bytes()]).is_err());
}

#[test]
fn bare_lf_lines_are_framed() {
    let s = INVITE.replace("\r\n", "\n");
    let twice = format!("{s}{s}");
    assert_eq!(
        feed(&mut framer(), &[twice.as_bytes()]).unwrap(),
        vec![msg(&s), msg(&s)]
    );
}

proptest! {
    #[test]
    fn random_splits_give_back_the_messages(
        picks in proptest::collection::vec((0usize..3, 0usize..3), 1..8),
        cuts in proptest::collection::vec(1usize..200, 0..40),
    ) {
        let pool = [INVITE, OPTIONS_COMPACT, RESPONSE_NO_LENGTH];
        let keep_alive = ["", "\r\n\r\n", "\r\n"];
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (m, k) in &picks {
            stream.extend_from_slice(keep_alive[*k].as_bytes());
            match *k {
                1 => want.push(Frame::Ping),
                2 => want.push(Frame::Pong),
                _ => {}
            }
            stream.extend_from_slice(pool[*m].as_bytes());
            want.push(msg(pool[*m]));
        }
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut rest = &stream[..];
        for c in cuts {
            let c = c.min(rest.len());
            let (a, b) = rest.split_at(c);
            chunks.push(a);
            rest = b;
        }
        chunks.push(rest);
        prop_assert_eq!(feed(&mut framer(), &chunks).unwrap(), want);
    }
}
