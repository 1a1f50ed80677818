//! UDP: round trip with received/rport, malformed datagrams, and the switch to TCP for large
//! requests (with its fall back to UDP).

use super::*;
use tokio::net::UdpSocket;

async fn udp_layer() -> (TransportLayer, mpsc::Receiver<Inbound>, SocketAddr) {
    let (layer, rx) = TransportLayer::bind(TransportConfig {
        udp: vec![loopback()],
        ..config()
    })
    .await
    .unwrap();
    let addr = layer.local_addr(Transport::Udp).unwrap();
    (layer, rx, addr)
}

/// An OPTIONS whose Max-Forwards is not a number: answered 400.
fn bad_max_forwards() -> String {
    request_text(
        "OPTIONS",
        "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbad",
        "x",
        "",
    )
    .replace("Max-Forwards: 70", "Max-Forwards: many")
}

async fn recv_datagram(s: &UdpSocket) -> Message {
    let mut buf = vec![0u8; 65_536];
    let (n, _) = within(s.recv_from(&mut buf)).await.unwrap();
    Message::parse(buf[..n].to_vec()).unwrap()
}

#[tokio::test]
async fn round_trip_sets_received_and_rport() {
    let (layer, mut rx, server) = udp_layer().await;
    let client = UdpSocket::bind(loopback()).await.unwrap();
    let client_addr = client.local_addr().unwrap();
    let req = request(
        "SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bKudp1",
        "udp1",
    );
    client.send_to(&req.to_bytes(), server).await.unwrap();

    let inb = next(&mut rx).await;
    assert_eq!(inb.from, Peer::new(Transport::Udp, client_addr));
    assert_eq!(inb.conn, None);
    let via = inb.message.top_via().unwrap();
    assert_eq!(via.received(), Some("127.0.0.1"));
    assert_eq!(via.rport(), Some(Some(client_addr.port())));

    // The response goes to received:rport, not to the unreachable sent-by.
    let resp = Message::response_to(&inb.message, 200, "OK", Some("srv"));
    layer.send_response(&resp, inb.conn).await.unwrap();
    let got = recv_datagram(&client).await;
    assert_eq!(got.status(), Some(200));
    assert_eq!(got.call_id(), Some("udp1"));
    layer.shutdown().await;
}

#[tokio::test]
async fn malformed_request_gets_400_and_malformed_response_nothing() {
    let (layer, mut rx, server) = udp_layer().await;
    let client = UdpSocket::bind(loopback()).await.unwrap();

    // A malformed response first: dropped silently. Then a request with a malformed
    // Max-Forwards: answered.
    let bad_resp =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr\r\nCSeq: 1 OPTIONS\r\n\r\n";
    client.send_to(bad_resp.as_bytes(), server).await.unwrap();
    let bad_req = bad_max_forwards();
    client.send_to(bad_req.as_bytes(), server).await.unwrap();
    // A bare keep-alive is ignored too.
    client.send_to(b"\r\n\r\n", server).await.unwrap();

    // The socket handles datagrams in order: had the response been answered, that answer
    // would arrive first.
    let got = recv_datagram(&client).await;
    assert_eq!(got.status(), Some(400));
    assert_eq!(got.top_via().unwrap().branch(), Some("z9hG4bKbad"));

    // A version the server does not speak gets 505.
    let v3 = request_text(
        "OPTIONS",
        "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKv3",
        "v3",
        "",
    )
    .replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia");
    client.send_to(v3.as_bytes(), server).await.unwrap();
    assert_eq!(recv_datagram(&client).await.status(), Some(505));

    // Nothing malformed reached the consumer: the next message it sees is a good one.
    let good = request("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKgood", "good");
    client.send_to(&good.to_bytes(), server).await.unwrap();
    assert_eq!(next(&mut rx).await.message.call_id(), Some("good"));
    layer.shutdown().await;
}

/// A server with UDP and TCP on the same port (found by binding an ephemeral UDP port first).
async fn udp_and_tcp_server() -> (TransportLayer, mpsc::Receiver<Inbound>, SocketAddr) {
    for _ in 0..10 {
        let probe = UdpSocket::bind(loopback()).await.unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let cfg = TransportConfig {
            udp: vec![addr],
            tcp: vec![addr],
            ..config()
        };
        if let Ok((layer, rx)) = TransportLayer::bind(cfg).await {
            return (layer, rx, addr);
        }
    }
    panic!("no port free for both UDP and TCP");
}

fn large_request(call_id: &str) -> Message {
    let body = "a=x\r\n".repeat(400);
    let text = request_text(
        "MESSAGE",
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbig",
        call_id,
        &body,
    );
    Message::parse(text.into_bytes()).unwrap()
}

#[tokio::test]
async fn request_over_mtu_switches_to_tcp() {
    let (server, mut rx, addr) = udp_and_tcp_server().await;
    let (client, _crx) = TransportLayer::bind(TransportConfig {
        udp: vec![loopback()],
        ..config()
    })
    .await
    .unwrap();
    let big = large_request("big1");
    assert!(big.to_bytes().len() > 1300);
    client
        .send(big, Peer::new(Transport::Udp, addr))
        .await
        .unwrap();
    let inb = next(&mut rx).await;
    assert_eq!(inb.from.transport, Transport::Tcp);
    assert!(inb.conn.is_some());
    assert_eq!(&*inb.message.top_via().unwrap().transport, "TCP");
    assert_eq!(inb.message.body().len(), 2000);

    // A small request stays on UDP.
    client
        .send(
            request("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKsmall", "small"),
            Peer::new(Transport::Udp, addr),
        )
        .await
        .unwrap();
    let inb = next(&mut rx).await;
    assert_eq!(inb.from.transport, Transport::Udp);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn large_request_falls_back_to_udp_when_tcp_is_refused() {
    // UDP only: the TCP connect to the same port is refused.
    let (server, mut rx, addr) = udp_layer().await;
    let (client, _crx) = TransportLayer::bind(TransportConfig {
        udp: vec![loopback()],
        ..config()
    })
    .await
    .unwrap();
    client
        .send(large_request("big2"), Peer::new(Transport::Udp, addr))
        .await
        .unwrap();
    let inb = next(&mut rx).await;
    assert_eq!(inb.from.transport, Transport::Udp);
    assert_eq!(&*inb.message.top_via().unwrap().transport, "UDP");
    assert_eq!(inb.message.call_id(), Some("big2"));
    client.shutdown().await;
    server.shutdown().await;
}

/// A layer whose consumer reads the UDP sockets itself: the tasks read nothing, the receiver
/// delivers stamped requests and responses in order, answers a malformed request, ignores a
/// keep-alive, says when nothing is left, and can be taken once.
#[tokio::test]
async fn consumer_reads_the_udp_sockets_itself() {
    let (layer, mut rx) = TransportLayer::bind(TransportConfig {
        udp: vec![loopback()],
        udp_receive: UdpReceive::Consumer,
        ..config()
    })
    .await
    .unwrap();
    let server = layer.local_addr(Transport::Udp).unwrap();
    let mut udp = layer.take_udp_receiver().expect("a receiver");
    assert!(layer.take_udp_receiver().is_none(), "taken once");
    assert_eq!(udp.try_recv().map(|i| i.message), None, "nothing yet");

    let client = UdpSocket::bind(loopback()).await.unwrap();
    let client_addr = client.local_addr().unwrap();
    let bad_req = bad_max_forwards();
    client.send_to(bad_req.as_bytes(), server).await.unwrap();
    client.send_to(b"\r\n\r\n", server).await.unwrap();
    let req = request("SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bKc1", "c1");
    client.send_to(&req.to_bytes(), server).await.unwrap();
    let resp = Message::response_to(&req, 180, "Ringing", Some("t"));
    client.send_to(&resp.to_bytes(), server).await.unwrap();

    // The malformed request is answered while the receiver reads past it.
    let mut got = Vec::new();
    while got.len() < 2 {
        within(udp.ready()).await;
        while let Some(inb) = udp.try_recv() {
            got.push(inb);
        }
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].message.call_id(), Some("c1"));
    assert_eq!(got[0].from, Peer::new(Transport::Udp, client_addr));
    assert_eq!(got[0].conn, None);
    let via = got[0].message.top_via().unwrap();
    assert_eq!(via.received(), Some("127.0.0.1"));
    assert_eq!(via.rport(), Some(Some(client_addr.port())));
    assert_eq!(got[1].message.status(), Some(180));
    assert_eq!(recv_datagram(&client).await.status(), Some(400));
    assert!(udp.try_recv().is_none());

    // No receive task: the inbound channel carries nothing of it.
    assert!(rx.try_recv().is_err());
    layer.shutdown().await;
}

/// A flood of datagrams that are not messages does not hold the consumer: each call looks at
/// a bounded number of them, and the messages behind are still delivered.
#[tokio::test]
async fn consumer_is_not_held_by_a_flood_of_keep_alives() {
    let (layer, _rx) = TransportLayer::bind(TransportConfig {
        udp: vec![loopback()],
        udp_receive: UdpReceive::Consumer,
        ..config()
    })
    .await
    .unwrap();
    let server = layer.local_addr(Transport::Udp).unwrap();
    let mut udp = layer.take_udp_receiver().expect("a receiver");
    let client = UdpSocket::bind(loopback()).await.unwrap();
    for _ in 0..200 {
        client.send_to(b"\r\n\r\n", server).await.unwrap();
    }
    let req = request("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKafter", "after");
    client.send_to(&req.to_bytes(), server).await.unwrap();
    let mut calls = 0;
    let got = loop {
        within(udp.ready()).await;
        calls += 1;
        if let Some(inb) = udp.try_recv() {
            break inb;
        }
        assert!(calls < 1000, "never delivered");
    };
    assert_eq!(got.message.call_id(), Some("after"));
    assert!(calls >= 4, "200 keep-alives take several calls: {calls}");
    layer.shutdown().await;
}

/// A batch goes out in order, each datagram to its own peer and byte for byte; a datagram the
/// kernel refuses (too large for UDP) is reported with its peer and does not stop the ones
/// after it; a destination no socket can reach (IPv6 with only an IPv4 socket) is reported
/// too. The batch is empty afterwards.
#[tokio::test]
async fn a_batch_goes_out_in_order_and_reports_what_failed() {
    let (layer, _rx, _server) = udp_layer().await;
    let a = UdpSocket::bind(loopback()).await.unwrap();
    let b = UdpSocket::bind(loopback()).await.unwrap();
    let to_a = Peer::new(Transport::Udp, a.local_addr().unwrap());
    let to_b = Peer::new(Transport::Udp, b.local_addr().unwrap());
    let v6: SocketAddr = "[::1]:5060".parse().unwrap();
    let to_v6 = Peer::new(Transport::Udp, v6);

    let mut batch = DatagramBatch::new();
    let huge = vec![b'x'; 70_000];
    batch.push_with(to_a, |buf| buf.extend_from_slice(b"a1"));
    batch.push_with(to_b, |buf| buf.extend_from_slice(b"b1"));
    batch.push_with(to_b, |buf| buf.extend_from_slice(&huge));
    batch.push_with(to_a, |buf| buf.extend_from_slice(b"a2"));
    batch.push_with(to_v6, |buf| buf.extend_from_slice(b"v6"));
    batch.push_with(to_b, |buf| buf.extend_from_slice(b"b2"));
    assert_eq!(
        batch.push_with(to_a, |buf| buf.extend_from_slice(b"gone")),
        4
    );
    batch.pop();
    assert_eq!(batch.len(), 6);

    let failed = layer.send_batch(&mut batch).await;
    assert!(batch.is_empty());
    let peers: Vec<Peer> = failed.iter().map(|(p, _)| *p).collect();
    assert_eq!(peers, vec![to_b, to_v6], "{failed:?}");
    assert!(
        matches!(failed[0].1, TransportError::Datagram { .. }),
        "{failed:?}"
    );
    assert!(
        matches!(failed[1].1, TransportError::NoSocket(Transport::Udp)),
        "{failed:?}"
    );

    let mut buf = vec![0u8; 65_536];
    for (socket, want) in [(&a, [&b"a1"[..], b"a2"]), (&b, [&b"b1"[..], b"b2"])] {
        for w in want {
            let (n, _) = within(socket.recv_from(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], w);
        }
    }
    // Nothing else came: "gone" was taken back out.
    assert!(a.try_recv_from(&mut buf).is_err());
    layer.shutdown().await;
}
