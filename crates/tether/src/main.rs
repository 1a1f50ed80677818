//! The `tether` binary: parses the command line, reads the configuration, sets up logging and
//! the tokio runtime, and hands over to the subcommand. Exits non-zero with a one-line reason
//! when anything fails before or while serving.

mod admin_token;
mod announcements;
mod api;
mod cdr_writer;
mod cli;
mod config;
mod cti;
mod ctl;
mod demo;
mod media;
mod metrics;
mod pstn;
mod serve;
mod sip;

use std::io::IsTerminal;

/// Small, short-lived allocations (messages, headers, buffers) dominate; see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, PstnArgs, ServeArgs};
use crate::config::{Config, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve_command(args, cli.log_json),
        Command::Ctl(args) => ctl::run(args),
        Command::Pstn(args) => pstn_command(args, cli.log_json),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// The configuration file, or the defaults; Err is the exit code after saying why.
fn load_config(file: Option<&std::path::Path>) -> Result<Config, ExitCode> {
    match file {
        Some(file) => Config::load(file).map_err(|e| {
            eprintln!("tether: {e}");
            ExitCode::from(2)
        }),
        None => Ok(Config::default()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("tether: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

fn pstn_command(args: PstnArgs, log_json: bool) -> ExitCode {
    let mut config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if log_json {
        config.log.format = LogFormat::Json;
    }
    init_logging(config.log.format);
    let listen = args.listen.unwrap_or(config.pstn.listen);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let mut signals = serve::Signals::install();
        let sim = match pstn::bind(listen, config.pstn.plan()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the PSTN simulator");
                eprintln!("tether: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(address = %sim.addr, "PSTN simulator listening (UDP and TCP)");
        println!("tether: pstn listening on {}", sim.addr);
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(sim.run(stop_rx));
        let signal = signals.next().await;
        tracing::info!(?signal, "stopping the PSTN simulator");
        let _ = stop.send(true);
        match task.await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "the PSTN simulator failed");
                ExitCode::FAILURE
            }
        }
    })
}

fn serve_command(args: ServeArgs, log_json: bool) -> ExitCode {
    let mut config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if log_json {
        config.log.format = LogFormat::Json;
    }
    init_logging(config.log.format);
    if let Some(addr) = args.http {
        config.http.listen = addr;
    }
    if let Some(url) = args.database {
        config.database.url = url;
    }
    if let Some(addr) = args.sip {
        config.sip.listen_udp = vec![addr];
        config.sip.listen_tcp = vec![addr];
    }
    if let Some(addr) = args.pstn {
        config.pstn.listen = addr;
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(serve::run(serve::Settings { config })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tether serve failed");
            eprintln!("tether: {e}");
            ExitCode::FAILURE
        }
    }
}
