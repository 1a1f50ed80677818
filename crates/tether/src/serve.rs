//! `tether serve`: opens the store, binds the SIP transports, seeds the demo into an empty
//! database, settles the admin token, and runs the services until SIGINT or SIGTERM:
//!
//! - the SIP driver (`sip::driver`): the call engine on its own task;
//! - the built-in PSTN simulator (`pstn`) at `[pstn] listen`, behind the demo's trunks;
//! - the CDR writer (`cdr_writer`), fed by the driver;
//! - on PostgreSQL, a refresher that picks up other nodes' provisioning writes every second;
//! - the HTTP listener: admin REST API, CDRs, `/metrics`.
//!
//! Stopping (mini-redis style): the first signal makes the driver drain — new calls get 503,
//! active ones go on until none is left or `[sip] drain_seconds` passes (a second signal cuts
//! it short) — then the SIP transports close, the PSTN simulator stops (its calls ended with
//! Tether's), the HTTP server finishes its requests, and the CDR writer stores what is queued.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tether_store::db::Backend;
use tether_store::{Store, StoreError};
use tokio::sync::{mpsc, watch};

use crate::admin_token::{self, Provenance, TokenError};
use crate::api::{self, auth::Auth, AppState};
use crate::cdr_writer;
use crate::config::{AdminToken, Config};
use crate::cti::CtiHandle;
use crate::demo;
use crate::media;
use crate::metrics::CdrCounters;
use crate::pstn;
use crate::sip::driver::{self, Ended, Stop};
use crate::sip::sender::Sender;
use crate::sip::{self, SipError, SipHandle};

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
    Sip(SipError),
    /// The SIP driver stopped on its own (its transports closed).
    SipStopped,
    /// The media task could not start.
    Media(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Store(e) => write!(f, "cannot open the provisioning database: {e}"),
            ServeError::Seed(e) => write!(f, "cannot seed the demo provisioning: {e}"),
            ServeError::Token(e) => write!(f, "{e}"),
            ServeError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            ServeError::Http(e) => write!(f, "HTTP server failed: {e}"),
            ServeError::Sip(e) => write!(f, "{e}"),
            ServeError::SipStopped => f.write_str("the SIP transports stopped unexpectedly"),
            ServeError::Media(e) => write!(f, "cannot start the media engine: {e}"),
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

/// Which signal arrived.
#[derive(Clone, Copy, Debug)]
pub enum Signal {
    Interrupt,
    Terminate,
}

/// SIGINT and SIGTERM, caught from the moment [`Signals::install`] returns: a signal that
/// arrives while the server is still starting is kept for [`Signals::next`] instead of
/// killing the process.
pub struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Must run inside the runtime. A signal that cannot be caught is logged and never fires.
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let catch = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot catch {name}");
                    None
                }
            };
            Signals {
                int: catch(SignalKind::interrupt(), "SIGINT"),
                term: catch(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        if s.recv().await.is_none() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.int) => Signal::Interrupt,
                () = recv(&mut self.term) => Signal::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            Signal::Interrupt
        }
    }
}

pub async fn run(settings: Settings) -> Result<(), ServeError> {
    let mut signals = Signals::install();
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

    // SIP first: a port in use stops the start before anything is seeded or served.
    let bound = sip::bind(&config.sip).await.map_err(ServeError::Sip)?;
    for p in bound.transport.local_addrs() {
        tracing::info!(transport = %p.transport, address = %p.addr, "SIP listening");
        // Machine-readable, for scripts and tests.
        println!("tether: sip {} listening on {}", p.transport, p.addr);
    }
    tracing::info!(advertised = %bound.advertised, "SIP address in Via and Contact");

    // The PSTN simulator next: the demo's trunks point at the address it got.
    let simulator = if config.pstn.enabled {
        let p = pstn::bind(config.pstn.listen, config.pstn.plan())
            .await
            .map_err(ServeError::Sip)?;
        tracing::info!(address = %p.addr, "PSTN simulator listening (UDP and TCP)");
        println!("tether: pstn listening on {}", p.addr);
        Some(p)
    } else {
        tracing::info!("PSTN simulator disabled ([pstn] enabled = false)");
        None
    };
    let pstn = simulator.as_ref().map_or(config.pstn.listen, |p| p.addr);

    if config.demo.seed {
        match demo::seed_if_empty(&store, pstn)
            .await
            .map_err(ServeError::Seed)?
        {
            Some(outcome) => tracing::info!(
                objects = outcome.created,
                pstn = %pstn,
                "seeded the demo provisioning (user alice on CTRIDalice, DN 2000; user bob on SIPbob, DN 2001; scenario devices on DNs 2100-2107)"
            ),
            None => tracing::debug!("database already provisioned; no demo seed"),
        }
    }

    let token = admin_token(&config)?;
    let first_call_id = store
        .last_global_call_id()
        .await
        .map_err(ServeError::Store)?
        .map_or(1, |n| n.saturating_add(1));
    // Anchored media: the call engine plans ports and writes SDP, the media task moves RTP.
    let media_config = config.media.anchor.then(|| tether_b2bua::MediaConfig {
        address: config.media.address.unwrap_or(bound.advertised.ip()),
        port_min: config.media.port_min,
        port_max: config.media.port_max,
    });
    let engine = sip::engine(
        &config.sip,
        bound.advertised,
        store.snapshot(),
        first_call_id,
        media_config.clone(),
    )
    .map_err(ServeError::Sip)?;
    let (media_stop, media_stop_rx) = watch::channel(false);
    let (notices_tx, notices_rx) = mpsc::channel(1024);
    let media = match &media_config {
        Some(m) => {
            let settings = media::Settings {
                bind: config.media.bind,
                port_min: m.port_min,
                port_max: m.port_max,
                inactivity: (config.media.inactivity_seconds > 0)
                    .then(|| Duration::from_secs(config.media.inactivity_seconds)),
                music_on_hold: config.media.music_on_hold.clone(),
            };
            let (handle, task) =
                media::spawn(settings, notices_tx, media_stop_rx).map_err(ServeError::Media)?;
            tracing::info!(
                address = %m.address,
                ports = format!("{}-{}", m.port_min, m.port_max),
                "media anchored: RTP through Tether"
            );
            // Provisioned announcements are read and converted off the media task.
            let loader = tokio::spawn(crate::announcements::run(
                Arc::clone(&store),
                handle.library.clone(),
                media_stop.subscribe(),
            ));
            Some((handle, task, loader))
        }
        None => {
            tracing::info!("media not anchored ([media] anchor = false): SDP passes through");
            None
        }
    };

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|error| ServeError::Bind {
            addr: config.http.listen,
            error,
        })?;
    let http_addr = listener.local_addr().map_err(ServeError::Http)?;

    // The CDR writer, then the driver that feeds it.
    let counters = Arc::new(CdrCounters::default());
    let (cdr_tx, cdr_rx) = mpsc::channel(cdr_writer::QUEUE);
    let writer = tokio::spawn(cdr_writer::run(
        Arc::clone(&store),
        cdr_rx,
        Arc::clone(&counters),
    ));
    let (sip_handle, metrics_rx, calls_rx) = SipHandle::new();
    let (failures_tx, failures_rx) = mpsc::channel(1024);
    let (sip_stop, sip_stop_rx) = watch::channel(Stop::Run);
    let transport = bound.transport.clone();
    // The CTI core runs in the driver's task, beside the engine it drives.
    let (cti_handle, cti_clients) = CtiHandle::new();
    let cti_core = tether_cti::Cti::new(
        tether_cti::CtiConfig {
            heartbeat_interval: Duration::from_secs(config.cti.heartbeat_seconds),
            heartbeat_timeout: Duration::from_secs(3 * config.cti.heartbeat_seconds),
            admin_token: Some(token.as_str().to_owned()),
            ..tether_cti::CtiConfig::default()
        },
        store.snapshot(),
        Instant::now(),
        tether_b2bua::cdr::epoch_ms(SystemTime::now()),
    );
    let (cti_runner, cti_done) = crate::cti::runner::Runner::new(cti_core, Arc::clone(&store));
    let io = driver::Io {
        inbound: bound.inbound,
        udp: bound.udp,
        sender: Sender::new(bound.transport, failures_tx, bound.udp_tcp_threshold),
        failures: failures_rx,
        metrics: metrics_rx,
        cdrs: cdr_tx,
        cdr_counters: Arc::clone(&counters),
        stop: sip_stop_rx,
        drain: Duration::from_secs(config.sip.drain_seconds),
        media: media.as_ref().map(|(h, _, _)| h.commands.clone()),
        media_report: media.as_ref().map(|(h, _, _)| h.report.clone()),
        media_notices: notices_rx,
        calls: calls_rx,
        cti: Some(driver::CtiIo {
            runner: cti_runner,
            clients: cti_clients,
            done: cti_done,
        }),
    };
    let mut sip_task = tokio::spawn(driver::run(engine, Arc::clone(&store), io));
    let (pstn_stop, pstn_stop_rx) = watch::channel(false);
    let pstn_task = simulator.map(|p| tokio::spawn(p.run(pstn_stop_rx)));

    let (stop_tx, stop_rx) = watch::channel(false);
    let refresher = (store.backend() == Backend::Postgres)
        .then(|| tokio::spawn(refresh_loop(Arc::clone(&store), Shutdown(stop_rx.clone()))));

    let state = AppState {
        store: Arc::clone(&store),
        auth: Arc::new(Auth::new(token)),
        sip: Some(sip_handle),
        cti: Some(cti_handle),
    };
    tracing::info!(address = %http_addr, "admin API listening on http://{http_addr}/api/v1; metrics on http://{http_addr}/metrics");
    // One machine-readable line on stdout, for scripts and tests started with port 0.
    println!("tether: http listening on {http_addr}");
    let mut http = tokio::spawn({
        let shutdown = Shutdown(stop_rx.clone());
        let app = api::router(state);
        // No Nagle: CTI events and REST answers are small writes that must leave at once
        // (with Nagle they wait for the client's delayed ACK, milliseconds per event).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set on an HTTP connection");
            }
        });
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.wait())
                .await
        }
    });
    drop(stop_rx);

    // Run until a signal, or until a service fails on its own.
    let mut failure = None;
    let sip_ended = tokio::select! {
        signal = signals.next() => {
            tracing::info!(?signal, "stopping: draining calls first (a second signal stops at once)");
            let _ = sip_stop.send(Stop::Drain);
            let ended = tokio::select! {
                ended = &mut sip_task => ended,
                signal = signals.next() => {
                    tracing::warn!(?signal, "second signal: stopping without waiting for calls");
                    let _ = sip_stop.send(Stop::Now);
                    (&mut sip_task).await
                }
            };
            Some(ended)
        }
        ended = &mut sip_task => {
            failure = Some(ServeError::SipStopped);
            Some(ended)
        }
        ended = &mut http => {
            failure = Some(match ended {
                Ok(Ok(())) => ServeError::Http(std::io::Error::other("the HTTP server stopped")),
                Ok(Err(e)) => ServeError::Http(e),
                Err(e) => ServeError::Http(std::io::Error::other(e)),
            });
            let _ = sip_stop.send(Stop::Now);
            Some((&mut sip_task).await)
        }
    };
    match sip_ended {
        Some(Ok(Ended::Drained)) => tracing::info!("drained: no call left"),
        Some(Ok(Ended::DrainTimeout { active })) => tracing::warn!(
            active_calls = active,
            "drain time over: stopping with calls still up"
        ),
        Some(Ok(Ended::Forced { active })) => {
            tracing::warn!(active_calls = active, "stopped at once with calls still up")
        }
        Some(Ok(Ended::TransportClosed)) => tracing::error!("the SIP transports closed"),
        Some(Err(e)) => tracing::error!(error = %e, "the SIP driver failed"),
        None => {}
    }
    transport.shutdown().await;
    tracing::info!("SIP transports closed");
    let _ = media_stop.send(true);
    if let Some((_, t, loader)) = media {
        let _ = loader.await;
        if let Err(e) = t.await {
            tracing::error!(error = %e, "the media task failed");
        }
    }
    let _ = pstn_stop.send(true);
    if let Some(t) = pstn_task {
        if let Err(e) = t.await {
            tracing::error!(error = %e, "the PSTN simulator task failed");
        }
    }

    let _ = stop_tx.send(true);
    if !http.is_finished() {
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed while stopping"),
            Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
        }
    }
    if let Some(r) = refresher {
        let _ = r.await;
    }
    // The driver is gone, so is the writer's only sender: it stores what is queued and ends.
    if let Err(e) = writer.await {
        tracing::error!(error = %e, "the CDR writer failed");
    }
    match failure {
        None => {
            tracing::info!("stopped");
            Ok(())
        }
        Some(e) => Err(e),
    }
}

/// Picks up other nodes' provisioning writes (PostgreSQL clusters): one cheap version read a
/// second; a change rebuilds the snapshot and wakes the SIP driver.
async fn refresh_loop(store: Arc<Store>, stop: Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stopped = stop.wait();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = &mut stopped => return,
            _ = tick.tick() => match store.refresh().await {
                Ok(true) => tracing::info!(
                    version = store.snapshot().version(),
                    "provisioning changed on another node; reloaded"
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check for other nodes' provisioning writes"),
            },
        }
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
