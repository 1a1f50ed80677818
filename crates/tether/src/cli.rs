//! The command line: subcommands and flags, with the configuration reference in `--help`.
//! Parsing only; `main.rs` acts on the result.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::REFERENCE;
use crate::ctl::args::CtlArgs;

#[derive(Debug, Parser)]
#[command(
    name = "tether",
    version,
    about = "Tether: a SIP back-to-back user agent with trunk emulation and Extend and Connect",
    after_long_help = REFERENCE,
)]
pub struct Cli {
    /// Log as JSON, one object per line (overrides [log] format).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: SIP (the call engine), the admin REST API, /metrics and the built-in
    /// PSTN simulator.
    ///
    /// With no configuration: SIP on UDP and TCP 0.0.0.0:5060, HTTP on 127.0.0.1:8080, the
    /// SQLite file tether.db in the working directory with a demo provisioning seeded on first
    /// start, and the PSTN simulator on 127.0.0.1:5070 behind the demo's trunks.
    #[command(after_long_help = REFERENCE)]
    Serve(ServeArgs),
    /// Talk to a running server's admin API: list, show, create, change and delete objects,
    /// remote destinations, the Dialed Number Analyzer, bulk CSV, health.
    Ctl(CtlArgs),
    /// Run the PSTN simulator alone (for the lab): the [pstn] dial plan of the configuration
    /// file, on UDP and TCP at --listen (default [pstn] listen, 127.0.0.1:5070).
    #[command(after_long_help = REFERENCE)]
    Pstn(PstnArgs),
}

#[derive(Debug, clap::Args)]
pub struct PstnArgs {
    /// Configuration file (TOML); only [pstn] and [log] are used.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SIP address for UDP and TCP (overrides [pstn] listen); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); see the reference below.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address of the HTTP listener (overrides [http] listen); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Database URL (overrides [database] url): sqlite://FILE or postgres://…
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// SIP address for both UDP and TCP (replaces [sip] listen_udp and listen_tcp).
    #[arg(long, value_name = "ADDR")]
    pub sip: Option<SocketAddr>,
    /// Address of the built-in PSTN simulator (overrides [pstn] listen; the demo seed points
    /// its trunks there).
    #[arg(long, value_name = "ADDR")]
    pub pstn: Option<SocketAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags() {
        let cli = Cli::try_parse_from([
            "tether",
            "serve",
            "--config",
            "x.toml",
            "--http",
            "127.0.0.1:0",
            "--database",
            "sqlite://a.db",
            "--sip",
            "127.0.0.1:5062",
            "--pstn",
            "127.0.0.1:5072",
            "--log-json",
        ])
        .expect("parse");
        assert!(cli.log_json);
        let Command::Serve(a) = cli.command else {
            panic!("not serve");
        };
        assert_eq!(a.sip.map(|a| a.port()), Some(5062));
        assert_eq!(a.pstn.map(|a| a.port()), Some(5072));
        assert_eq!(a.config, Some(PathBuf::from("x.toml")));
        assert_eq!(a.http.map(|a| a.port()), Some(0));
        assert_eq!(a.database.as_deref(), Some("sqlite://a.db"));
    }

    #[test]
    fn pstn_flags() {
        let cli =
            Cli::try_parse_from(["tether", "pstn", "--listen", "0.0.0.0:5070"]).expect("parse");
        let Command::Pstn(a) = cli.command else {
            panic!("not pstn");
        };
        assert_eq!(a.listen.map(|a| a.port()), Some(5070));
        assert_eq!(a.config, None);
    }

    #[test]
    fn help_documents_the_config() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("[numbering]") && help.contains("tether-admin.token"));
        for section in ["[sip]", "[pstn]", "[log]", "drain_seconds", "/metrics"] {
            assert!(help.contains(section), "{section}");
        }
    }
}
