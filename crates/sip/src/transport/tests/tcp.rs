//! TCP: several messages on one connection, answering on the request's connection, reuse of
//! an outbound connection, keep-alive ping/pong, fatal framing and the connection limit.

use super::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn tcp_layer(cfg: TransportConfig) -> (TransportLayer, mpsc::Receiver<Inbound>, SocketAddr) {
    let (layer, rx) = TransportLayer::bind(TransportConfig {
        tcp: vec![loopback()],
        ..cfg
    })
    .await
    .unwrap();
    let addr = layer.local_addr(Transport::Tcp).unwrap();
    (layer, rx, addr)
}

#[tokio::test]
async fn two_messages_on_one_connection_and_answers_on_it() {
    let (layer, mut rx, addr) = tcp_layer(config()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let client_addr = client.local_addr().unwrap();
    // The sent-by host cannot be resolved: answers must use the connection.
    let a = request("SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKa", "tcp-a");
    let b = request("SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKb", "tcp-b");
    let mut both = a.to_bytes().to_vec();
    both.extend_from_slice(&b.to_bytes());
    client.write_all(&both).await.unwrap();

    let first = next(&mut rx).await;
    let second = next(&mut rx).await;
    assert_eq!(first.message.call_id(), Some("tcp-a"));
    assert_eq!(second.message.call_id(), Some("tcp-b"));
    assert_eq!(first.from, Peer::new(Transport::Tcp, client_addr));
    assert!(first.conn.is_some());
    assert_eq!(first.conn, second.conn);
    assert_eq!(
        first.message.top_via().unwrap().received(),
        Some("127.0.0.1")
    );
    assert_eq!(layer.connection_peer(first.conn.unwrap()), Some(first.from));

    for inb in [&first, &second] {
        let resp = Message::response_to(&inb.message, 200, "OK", Some("s"));
        layer.send_response(&resp, inb.conn).await.unwrap();
    }
    let mut framer = StreamFramer::new(65_536);
    assert_eq!(
        read_message(&mut client, &mut framer).await.call_id(),
        Some("tcp-a")
    );
    assert_eq!(
        read_message(&mut client, &mut framer).await.call_id(),
        Some("tcp-b")
    );
    assert_eq!(layer.connection_count(), 1);
    layer.shutdown().await;
}

#[tokio::test]
async fn outbound_connection_is_reused_both_ways() {
    let (server, mut srx, addr) = tcp_layer(config()).await;
    let (client, mut crx) = TransportLayer::bind(config()).await.unwrap();
    let to = Peer::new(Transport::Tcp, addr);
    client
        .send(
            request("SIP/2.0/TCP client.invalid;branch=z9hG4bK1", "r1"),
            to,
        )
        .await
        .unwrap();
    let got = next(&mut srx).await;
    let resp = Message::response_to(&got.message, 200, "OK", Some("s"));
    server.send_response(&resp, got.conn).await.unwrap();

    let back = next(&mut crx).await;
    assert_eq!(back.message.status(), Some(200));
    assert_eq!(back.from, to);
    assert!(back.conn.is_some());

    // A second request to the same peer rides the same connection.
    client
        .send(
            request("SIP/2.0/TCP client.invalid;branch=z9hG4bK2", "r2"),
            to,
        )
        .await
        .unwrap();
    let again = next(&mut srx).await;
    assert_eq!(again.conn, got.conn);
    assert_eq!(client.connection_count(), 1);
    assert_eq!(server.connection_count(), 1);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn ping_gets_pong() {
    let (layer, mut rx, addr) = tcp_layer(config()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    within(client.read_exact(&mut pong)).await.unwrap();
    assert_eq!(&pong, b"\r\n");
    // The connection stays usable.
    client
        .write_all(&request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKp", "after-ping").to_bytes())
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await.message.call_id(), Some("after-ping"));
    layer.shutdown().await;
}

#[tokio::test]
async fn oversize_message_closes_the_connection() {
    let (layer, mut rx, addr) = tcp_layer(TransportConfig {
        max_message_size: 1024,
        ..config()
    })
    .await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let text = request_text(
        "MESSAGE",
        "SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKo",
        "big",
        "",
    )
    .replace("Content-Length: 0", "Content-Length: 5000");
    client.write_all(text.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut client).await;
    assert!(
        answer.starts_with(b"SIP/2.0 513 "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    layer.shutdown().await;
    assert!(within(rx.recv()).await.is_none(), "nothing was delivered");
}

#[tokio::test]
async fn negative_content_length_gets_400_and_close() {
    let (layer, _rx, addr) = tcp_layer(config()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let text = request_text(
        "OPTIONS",
        "SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKn",
        "neg",
        "",
    )
    .replace("Content-Length: 0", "Content-Length: -1");
    client.write_all(text.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut client).await;
    assert!(
        answer.starts_with(b"SIP/2.0 400 "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    layer.shutdown().await;
}

#[tokio::test]
async fn connection_limit_refuses_the_extra_connection() {
    let (layer, mut rx, addr) = tcp_layer(TransportConfig {
        max_connections: 1,
        ..config()
    })
    .await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    first
        .write_all(&request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1", "one").to_bytes())
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await.message.call_id(), Some("one"));

    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(&request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK2", "two").to_bytes())
        .await;
    assert!(
        read_to_close(&mut extra).await.is_empty(),
        "the extra connection is closed unanswered"
    );

    // The first connection still works, and the extra message was never delivered.
    first
        .write_all(&request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK3", "three").to_bytes())
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await.message.call_id(), Some("three"));
    assert_eq!(layer.connection_count(), 1);
    layer.shutdown().await;
}

#[tokio::test]
async fn send_to_a_closed_port_reports_refusal() {
    let (layer, _rx) = TransportLayer::bind(config()).await.unwrap();
    // A port that was just free.
    let probe = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let err = layer
        .send(
            request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKc", "c"),
            Peer::new(Transport::Tcp, addr),
        )
        .await;
    let err = err.unwrap_err();
    assert!(err.is_connection_refused(), "{err}");
    layer.shutdown().await;
}

#[tokio::test]
async fn idle_connection_is_closed() {
    let idle = Duration::from_millis(100);
    let (layer, _rx, addr) = tcp_layer(TransportConfig {
        idle_timeout: idle,
        ..config()
    })
    .await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    // Waits on the close itself, not on a clock.
    assert!(read_to_close(&mut client).await.is_empty());
    assert!(started.elapsed() >= idle);
    assert_eq!(layer.connection_count(), 0);
    layer.shutdown().await;
}
