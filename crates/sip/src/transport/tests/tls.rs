//! TLS: a self-signed certificate made by rcgen, loaded from PEM files by the server and
//! trusted as a root by the client; SNI by host name; a name mismatch is a handshake error.

use super::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Pki {
    cert: PathBuf,
    key: PathBuf,
    roots: rustls::RootCertStore,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cert);
        let _ = std::fs::remove_file(&self.key);
    }
}

/// A certificate for `localhost` only, written to unique temporary PEM files.
fn pki() -> Pki {
    static N: AtomicUsize = AtomicUsize::new(0);
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let stem = format!(
        "tether-sip-tls-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let dir = std::env::temp_dir();
    let cert = dir.join(format!("{stem}-cert.pem"));
    let key = dir.join(format!("{stem}-key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    Pki { cert, key, roots }
}

async fn tls_pair(
    pki: &Pki,
) -> (
    TransportLayer,
    mpsc::Receiver<Inbound>,
    TransportLayer,
    mpsc::Receiver<Inbound>,
    Peer,
) {
    let server_cfg = TransportConfig {
        tls: vec![loopback()],
        tls_server: Some(TlsServer::Pem {
            cert: pki.cert.clone(),
            key: pki.key.clone(),
        }),
        ..config()
    };
    let (server, srx) = TransportLayer::bind(server_cfg).await.unwrap();
    let to = Peer::new(Transport::Tls, server.local_addr(Transport::Tls).unwrap());
    let client_cfg = TransportConfig {
        tls_client: Some(TlsClient::Roots(pki.roots.clone())),
        ..config()
    };
    let (client, crx) = TransportLayer::bind(client_cfg).await.unwrap();
    (server, srx, client, crx, to)
}

#[tokio::test]
async fn round_trip_over_tls() {
    let pki = pki();
    let (server, mut srx, client, mut crx, to) = tls_pair(&pki).await;
    let req = request("SIP/2.0/TLS client.invalid;branch=z9hG4bKtls", "tls1");
    client.send_named(req, to, Some("localhost")).await.unwrap();

    let got = next(&mut srx).await;
    assert_eq!(got.from.transport, Transport::Tls);
    assert_eq!(got.message.call_id(), Some("tls1"));
    assert_eq!(got.message.top_via().unwrap().received(), Some("127.0.0.1"));
    let resp = Message::response_to(&got.message, 200, "OK", Some("s"));
    server.send_response(&resp, got.conn).await.unwrap();

    let back = next(&mut crx).await;
    assert_eq!(back.message.status(), Some(200));
    assert_eq!(back.from, to);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn certificate_name_mismatch_is_a_handshake_error() {
    let pki = pki();
    let (server, _srx, client, _crx, to) = tls_pair(&pki).await;
    // Without a host name the certificate must name 127.0.0.1, which it does not.
    let err = client
        .send(request("SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKx", "x"), to)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::TlsHandshake { .. }), "{err}");
    assert_eq!(client.connection_count(), 0);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn tls_listener_needs_a_certificate() {
    let cfg = TransportConfig {
        tls: vec![loopback()],
        ..config()
    };
    assert!(matches!(
        TransportLayer::bind(cfg).await,
        Err(TransportError::TlsConfig(_))
    ));
    let cfg = TransportConfig {
        tls: vec![loopback()],
        tls_server: Some(TlsServer::Pem {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        }),
        ..config()
    };
    assert!(matches!(
        TransportLayer::bind(cfg).await,
        Err(TransportError::TlsConfig(_))
    ));
}

#[tokio::test]
async fn tls_send_without_client_config_fails() {
    let pki = pki();
    let (server, _srx, _client, _crx, to) = tls_pair(&pki).await;
    let (plain, _prx) = TransportLayer::bind(config()).await.unwrap();
    let err = plain
        .send(request("SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKy", "y"), to)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NoTlsClient), "{err}");
    plain.shutdown().await;
    server.shutdown().await;
}
