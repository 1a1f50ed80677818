//! Message benchmarks: parse + typed access of a ~1 KB INVITE with SDP, serialization of an
//! untouched and an edited message, and the same parse with rsip in the same run for a ratio.
//!
//! Run: `cargo bench -p tether-sip --bench message`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tether_sip::{HeaderName, Message};

pub const INVITE: &str = "INVITE sip:2000@tether.example.com;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK4b43c2ff8.1;rport\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK2d4790;received=198.51.100.7\r\n\
Max-Forwards: 69\r\n\
From: \"Alice Example\" <sip:+14155550100@pbx.example.net;user=phone>;tag=1928301774\r\n\
To: <sip:2000@tether.example.com;user=phone>\r\n\
Call-ID: a84b4c76e66710@pc33.pbx.example.net\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:+14155550100@192.0.2.10:5060;transport=udp>\r\n\
Record-Route: <sip:192.0.2.10;lr>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n\
Supported: 100rel, timer, replaces\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Min-SE: 90\r\n\
P-Asserted-Identity: \"Alice Example\" <sip:+14155550100@pbx.example.net>\r\n\
User-Agent: ExamplePBX/12.5\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 231\r\n\
\r\n\
v=0\r\n\
o=- 1700000000 1700000000 IN IP4 192.0.2.10\r\n\
s=ExamplePBX\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 16384 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

fn typed_access(m: &Message) -> usize {
    let mut n = 0;
    n += m.method().map_or(0, |x| x.as_str().len());
    n += m.request_uri().and_then(|u| u.user()).map_or(0, str::len);
    n += m.top_via().and_then(|v| v.branch()).map_or(0, str::len);
    n += m.from_tag().map_or(0, str::len);
    n += m.to_tag().map_or(0, str::len);
    n += m.call_id().map_or(0, str::len);
    n += m.cseq().map_or(0, |c| c.seq as usize);
    n += m
        .contact()
        .ok()
        .flatten()
        .map_or(0, |c| c.uri.as_str().len());
    n += m
        .content_type()
        .ok()
        .flatten()
        .map_or(0, |c| c.subtype.len());
    n += m.max_forwards().ok().flatten().map_or(0, usize::from);
    n += m.body().len();
    n
}

fn bench(c: &mut Criterion) {
    let bytes = bytes::Bytes::from_static(INVITE.as_bytes());
    assert!(INVITE.len() > 1000, "{} bytes", INVITE.len());
    let mut g = c.benchmark_group("invite_1k");
    g.throughput(Throughput::Elements(1));
    g.bench_function("tether_parse", |b| {
        b.iter(|| Message::parse(black_box(bytes.clone())).map(|m| m.headers().len()))
    });
    g.bench_function("tether_parse_typed", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(bytes.clone())).expect("parses");
            typed_access(&m)
        })
    });
    let parsed = Message::parse(bytes.clone()).expect("parses");
    g.bench_function("tether_serialize_untouched", |b| {
        b.iter(|| black_box(&parsed).to_bytes().len())
    });
    let mut edited = parsed.clone();
    edited.set_to_tag("as83kd9").expect("to tag");
    edited
        .prepend_header(
            HeaderName::Via,
            "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKtether1",
        )
        .expect("via");
    g.bench_function("tether_serialize_edited", |b| {
        b.iter(|| black_box(&edited).to_bytes().len())
    });
    g.bench_function("rsip_parse", |b| {
        b.iter(|| rsip::SipMessage::try_from(black_box(INVITE.as_bytes())).is_ok())
    });
    g.bench_function("rsip_parse_typed", |b| {
        b.iter(|| {
            use rsip::prelude::*;
            let m = rsip::SipMessage::try_from(black_box(INVITE.as_bytes())).expect("rsip parses");
            let mut n = 0;
            n += m
                .via_header()
                .ok()
                .and_then(|v| v.typed().ok())
                .map_or(0, |v| v.branch().map_or(0, |b| b.to_string().len()));
            n += m
                .from_header()
                .ok()
                .and_then(|f| f.tag().ok().flatten())
                .map_or(0, |t| t.to_string().len());
            n += m
                .to_header()
                .ok()
                .and_then(|f| f.tag().ok().flatten())
                .map_or(0, |t| t.to_string().len());
            n += m.call_id_header().map_or(0, |c| c.value().len());
            n += m
                .cseq_header()
                .ok()
                .and_then(|c| c.seq().ok())
                .map_or(0, |s| s as usize);
            n += m
                .contact_header()
                .ok()
                .and_then(|c| c.typed().ok())
                .map_or(0, |c| c.uri.to_string().len());
            n += m.body().len();
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
