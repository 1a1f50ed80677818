//! TLS for SIP (RFC 3261 §26.3.1, `sips`/TLS transport) on rustls with the ring provider:
//! building the server acceptor from PEM files or a rustls configuration, the client connector
//! from a root store, and the server name (SNI) for an outbound connection. The handshakes
//! themselves run in the connection tasks; this room holds no sockets.

use super::config::{TlsClient, TlsServer};
use super::error::TransportError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::BufReader;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_err(e: impl std::fmt::Display) -> TransportError {
    TransportError::TlsConfig(e.to_string())
}

/// The acceptor for TLS listeners.
pub(super) fn acceptor(server: &TlsServer) -> Result<TlsAcceptor, TransportError> {
    let config = match server {
        TlsServer::Config(c) => c.clone(),
        TlsServer::Pem { cert, key } => {
            let certs = load_certs(cert)?;
            let key = load_key(key)?;
            let c = rustls::ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(config_err)?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(config_err)?;
            Arc::new(c)
        }
    };
    Ok(TlsAcceptor::from(config))
}

/// The connector for outbound TLS connections.
pub(super) fn connector(client: &TlsClient) -> Result<TlsConnector, TransportError> {
    let config = match client {
        TlsClient::Config(c) => c.clone(),
        TlsClient::Roots(roots) => {
            let c = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(config_err)?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            Arc::new(c)
        }
    };
    Ok(TlsConnector::from(config))
}

/// The name the server's certificate is checked against: the host name when known, else the
/// IP address.
pub(super) fn server_name(
    host: Option<&str>,
    addr: SocketAddr,
) -> Result<ServerName<'static>, TransportError> {
    match host {
        Some(h) => {
            let h = h
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(h);
            ServerName::try_from(h.to_string())
                .map_err(|_| TransportError::InvalidServerName(h.to_string()))
        }
        None => Ok(ServerName::IpAddress(addr.ip().into())),
    }
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, TransportError> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| TransportError::TlsConfig(format!("{}: {e}", path.display())))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TransportError::TlsConfig(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TransportError::TlsConfig(format!(
            "{}: no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|e| TransportError::TlsConfig(format!("{}: {e}", path.display())))?
        .ok_or_else(|| TransportError::TlsConfig(format!("{}: no private key", path.display())))
}
