//! The `tether` binary: parses the command line, reads the configuration, sets up logging and
//! the tokio runtime, and hands over to the subcommand. Exits non-zero with a one-line reason
//! when anything fails before or while serving.

mod admin_token;
mod api;
mod cdr_writer;
mod cli;
mod config;
mod ctl;
mod demo;
mod metrics;
mod serve;
mod sip;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ServeArgs};
use crate::config::{Config, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve_command(args, cli.log_json),
        Command::Ctl(args) => ctl::run(args),
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

fn serve_command(args: ServeArgs, log_json: bool) -> ExitCode {
    let mut config = match &args.config {
        Some(file) => match Config::load(file) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("tether: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tether: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
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
