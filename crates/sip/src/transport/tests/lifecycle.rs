//! Shutdown: it completes with connections open in both directions, closes the listeners and
//! the connections, closes the inbound channel and leaves no task alive.

use super::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn shutdown_completes_and_leaves_no_task() {
    let cfg = TransportConfig {
        udp: vec![loopback()],
        tcp: vec![loopback()],
        ..config()
    };
    let (server, mut srx) = TransportLayer::bind(cfg).await.unwrap();
    let (client, mut crx) = TransportLayer::bind(config()).await.unwrap();
    let tcp_addr = server.local_addr(Transport::Tcp).unwrap();

    // An outbound connection from the client layer, and a raw inbound one.
    client
        .send(
            request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs1", "s1"),
            Peer::new(Transport::Tcp, tcp_addr),
        )
        .await
        .unwrap();
    assert_eq!(next(&mut srx).await.message.call_id(), Some("s1"));
    let mut raw = TcpStream::connect(tcp_addr).await.unwrap();
    raw.write_all(&request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs2", "s2").to_bytes())
        .await
        .unwrap();
    assert_eq!(next(&mut srx).await.message.call_id(), Some("s2"));
    assert_eq!(server.connection_count(), 2);

    within(server.shutdown()).await;
    assert!(within(srx.recv()).await.is_none(), "inbound channel closed");
    assert!(
        read_to_close(&mut raw).await.is_empty(),
        "inbound connection closed"
    );
    assert!(
        TcpStream::connect(tcp_addr).await.is_err(),
        "listener closed"
    );
    assert_eq!(server.connection_count(), 0);
    let late = server
        .send(
            request("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs3", "s3"),
            Peer::new(Transport::Tcp, tcp_addr),
        )
        .await;
    assert!(
        matches!(late, Err(TransportError::ShuttingDown)),
        "{late:?}"
    );

    within(client.shutdown()).await;
    assert!(within(crx.recv()).await.is_none());
    within(server.shutdown()).await; // a second call returns at once

    // The test body is not a task; everything the layers spawned has ended.
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0
    );
}
