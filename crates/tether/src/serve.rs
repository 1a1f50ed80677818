//! `tether serve`: opens the provisioning store, seeds the demo into an empty database, settles
//! the admin token, and runs the services until Ctrl-C or SIGTERM, then drains them.
//!
//! Services today: the HTTP listener (admin REST API). The SIP side — transports, the call
//! engine and the built-in PSTN simulator — is not wired yet; it will be started here as
//! further tasks on the same [`Shutdown`] signal, reading the same `Arc<Store>`.

use std::net::SocketAddr;
use std::sync::Arc;

use tether_store::{Store, StoreError};
use tokio::sync::watch;

use crate::admin_token::{self, Provenance, TokenError};
use crate::api::{self, auth::Auth, AppState};
use crate::config::{AdminToken, Config};
use crate::demo;

/// What `serve` needs, after the config file and the command-line flags are merged.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: Config,
}

#[non_exhaustive]
#[derive(Debug)]
pub enum ServeError {
    Store(StoreError),
    Seed(StoreError),
    Token(TokenError),
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    Http(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Store(e) => write!(f, "cannot open the provisioning database: {e}"),
            ServeError::Seed(e) => write!(f, "cannot seed the demo provisioning: {e}"),
            ServeError::Token(e) => write!(f, "{e}"),
            ServeError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            ServeError::Http(e) => write!(f, "HTTP server failed: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Tells every service to stop; services wait on [`Shutdown::wait`].
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub async fn wait(mut self) {
        // An error means the sender is gone: that is a shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn termination() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

pub async fn run(settings: Settings) -> Result<(), ServeError> {
    let config = settings.config;
    let url = &config.database.url;
    let store = Store::open(url, config.numbering.plan())
        .await
        .map_err(ServeError::Store)?;
    let store = Arc::new(store);
    tracing::info!(
        database = %redact(url),
        snapshot_version = store.snapshot().version(),
        "provisioning database open"
    );

    if config.demo.seed {
        match demo::seed_if_empty(&store).await.map_err(ServeError::Seed)? {
            Some(outcome) => tracing::info!(
                objects = outcome.created,
                "seeded the demo provisioning (user alice on CTRIDalice, DN 2000; user bob on SIPbob, DN 2001)"
            ),
            None => tracing::debug!("database already provisioned; no demo seed"),
        }
    }

    let token = admin_token(&config)?;
    let state = AppState {
        store: Arc::clone(&store),
        auth: Arc::new(Auth::new(token)),
    };

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|error| ServeError::Bind {
            addr: config.http.listen,
            error,
        })?;
    let bound = listener.local_addr().map_err(ServeError::Http)?;
    tracing::info!(address = %bound, "admin API listening on http://{bound}/api/v1");
    // One machine-readable line on stdout, for scripts and tests started with port 0.
    println!("tether: http listening on {bound}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = tokio::spawn({
        let shutdown = Shutdown(stop_rx.clone());
        let app = api::router(state);
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.wait())
                .await
        }
    });
    // The SIP listeners and the PSTN simulator will be spawned here with `Shutdown(stop_rx)`.
    drop(stop_rx);

    let ended = tokio::select! {
        () = termination() => {
            let _ = stop_tx.send(true);
            http.await
        }
        // The server stopped by itself: only an error does that.
        ended = &mut http => ended,
    };
    match ended {
        Ok(Ok(())) => {
            tracing::info!("stopped");
            Ok(())
        }
        Ok(Err(e)) => Err(ServeError::Http(e)),
        Err(e) => Err(ServeError::Http(std::io::Error::other(e))),
    }
}

/// The configured token, or the generated one beside the database.
fn admin_token(config: &Config) -> Result<AdminToken, ServeError> {
    if let Some(t) = &config.admin.token {
        tracing::info!("admin API token: from the configuration file");
        return Ok(t.clone());
    }
    let path = admin_token::token_path(&config.database.url);
    let (token, provenance) = admin_token::load_or_generate(&path).map_err(ServeError::Token)?;
    match provenance {
        Provenance::Generated => tracing::info!(
            file = %path.display(),
            "generated an admin API token (mode 0600); send it as Authorization: Bearer <token>"
        ),
        Provenance::Existing => {
            tracing::info!(file = %path.display(), "admin API token: read from file")
        }
    }
    Ok(token)
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://tether.db"), "sqlite://tether.db");
    }
}
