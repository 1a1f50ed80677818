//! Message benchmarks: parse + typed access of a ~1 KB INVITE with SDP, serialization of an
//! untouched and an edited message, and the same parse with rsip in the same run for a ratio.
//!
//! Run: `cargo bench -p tether-sip --bench message`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tether_sip::{HeaderName, Message};

// The message and the typed reads, shared with `examples/parse_loop.rs`.
mod common;
use common::{typed_access, INVITE};

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
