//! A full INVITE server transaction round in virtual time: parse the INVITE, the layer creates
//! the server transaction and hands the request to the TU, the TU answers 180 and 200 (the
//! layer serializes them), the ACK for the 2xx is parsed and matched, and timer L ends the
//! transaction. Measures the per-call cost of the sans-IO core without sockets.
//!
//! Run: `cargo bench -p tether-sip --bench transaction`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};
use tether_sip::transaction::{Config, Output, TransactionLayer, TuEvent};
use tether_sip::{Message, Peer};

fn invite(i: u64) -> Vec<u8> {
    format!(
        "INVITE sip:2000@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}\r\n\
Max-Forwards: 70\r\n\
From: <sip:caller@127.0.0.1:5061>;tag={i}\r\n\
To: <sip:2000@127.0.0.1>\r\n\
Call-ID: {i}@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:caller@127.0.0.1:5061>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 129\r\n\r\n\
v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    .into_bytes()
}

fn ack(i: u64) -> Vec<u8> {
    format!(
        "ACK sip:2000@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-ack-{i}\r\n\
Max-Forwards: 70\r\n\
From: <sip:caller@127.0.0.1:5061>;tag={i}\r\n\
To: <sip:2000@127.0.0.1>;tag=uas{i}\r\n\
Call-ID: {i}@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let peer = Peer::udp("127.0.0.1:5061".parse().expect("addr"));
    let mut layer = TransactionLayer::new(Config::default(), 7);
    let base = Instant::now();
    let mut now = base;
    let mut i = 0u64;
    let mut g = c.benchmark_group("invite_server_round");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_respond_ack_expire", |b| {
        b.iter(|| {
            i += 1;
            now += Duration::from_micros(100);
            let inv = Message::parse(invite(i)).expect("invite parses");
            layer.handle_message(now, inv, peer).expect("accepted");
            let mut sent = 0usize;
            while let Some(out) = layer.poll_output() {
                match out {
                    Output::Event(TuEvent::Request { txn, request, .. }) => {
                        let r180 = Message::response_to(
                            &request,
                            180,
                            "Ringing",
                            Some(&format!("uas{i}")),
                        );
                        layer.respond(now, txn, r180).expect("180");
                        let r200 =
                            Message::response_to(&request, 200, "OK", Some(&format!("uas{i}")));
                        layer.respond(now, txn, r200).expect("200");
                    }
                    Output::Transmit { message, .. } => sent += message.to_bytes().len(),
                    Output::Event(_) => {}
                }
            }
            let a = Message::parse(ack(i)).expect("ack parses");
            layer.handle_message(now, a, peer).expect("ack");
            while layer.poll_output().is_some() {}
            // Let timers that are due fire (timer L ends each round 32 s later in virtual time).
            layer.handle_timeout(now);
            while layer.poll_output().is_some() {}
            sent
        })
    });
    g.finish();
    // Drain what is left so the layer ends empty.
    layer.handle_timeout(now + Duration::from_secs(3600));
    while layer.poll_output().is_some() {}
    assert!(layer.is_empty(), "{} transactions leaked", layer.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
