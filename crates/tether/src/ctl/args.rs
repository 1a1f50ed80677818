//! The `tether ctl` command line: connection flags, one subcommand per object collection with
//! the same five verbs, and the verbs telephony administrators use most. Parsing only.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use tether_store::Kind;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

const CTL_HELP: &str = "\
Credentials, first found wins: --token (TETHER_TOKEN) as the administrator; --user and
--password (TETHER_USER, TETHER_PASSWORD) as a provisioned user, over HTTP Basic; else the admin
token file tether-admin.token in the working directory (the one `tether serve` writes beside
its SQLite database), or the file named by --token-file.

tether ctl speaks plain HTTP only. To reach a server through TLS, terminate TLS on a reverse
proxy and run tether ctl where the plain listener is reachable.

Exit codes: 0 done; 1 the API refused the request (or import rows failed); 2 usage error;
3 no server answered at the URL.

Examples:
  tether ctl users list
  tether ctl lines list --filter device=CTRIDalice
  tether ctl remote-destinations get CTRIDalice Mobile --json
  tether ctl users update alice --set max_remote_destinations=6
  tether ctl --user alice --password alice rd add CTRIDalice Desk 914085550100
  tether ctl rd activate CTRIDalice Mobile
  tether ctl analyze --device CTRIDalice 91234
  tether ctl import users users.csv --dry-run
  tether ctl export remote-destinations -o rds.csv
  tether ctl --user alice --password alice cti   (then: MonitorStart device=CTRIDalice)";

#[derive(Debug, Args)]
#[command(after_long_help = CTL_HELP)]
pub struct CtlArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: CtlCommand,
}

#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Base URL of the Tether HTTP listener (plain http:// only).
    #[arg(long, env = "TETHER_URL", default_value = DEFAULT_URL, global = true)]
    pub url: String,
    /// Admin bearer token.
    #[arg(long, env = "TETHER_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// User name for HTTP Basic (with --password).
    #[arg(long, env = "TETHER_USER", global = true)]
    pub user: Option<String>,
    /// Password for HTTP Basic (with --user).
    #[arg(long, env = "TETHER_PASSWORD", hide_env_values = true, global = true)]
    pub password: Option<String>,
    /// Admin token file to read when no other credentials are given [default: ./tether-admin.token]
    #[arg(long, value_name = "PATH", global = true)]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// Users: ID NAME MOBILITY CTI MAX_RDS ADMIN.
    Users(ObjectArgs),
    /// Partitions.
    Partitions(ObjectArgs),
    /// Calling search spaces.
    Css(ObjectArgs),
    /// Devices (CTI remote devices and SIP phones).
    Devices(ObjectArgs),
    /// Lines (directory numbers), keyed by PARTITION DN.
    Lines(ObjectArgs),
    /// Remote destinations, keyed by DEVICE NAME.
    #[command(visible_alias = "rds")]
    RemoteDestinations(ObjectArgs),
    /// Trunks.
    Trunks(ObjectArgs),
    /// Route groups.
    RouteGroups(ObjectArgs),
    /// Route lists.
    RouteLists(ObjectArgs),
    /// Route, translation and block patterns, keyed by PARTITION PATTERN.
    Patterns(ObjectArgs),
    /// Application dial rules.
    DialRules(ObjectArgs),
    /// Announcements.
    Announcements(ObjectArgs),
    /// Remote destinations the way an administrator or end user thinks of them.
    #[command(subcommand)]
    Rd(RdCommand),
    /// Dialed Number Analyzer: what the digits match through a CSS or a device, and where
    /// the call would go.
    #[command(group(ArgGroup::new("through").required(true).args(["css", "device"])))]
    Analyze(AnalyzeArgs),
    /// Bulk import a CSV (every row an upsert; all rows or none). Prints the per-row error
    /// report and exits 1 when rows failed.
    Import(ImportArgs),
    /// Bulk export every object of a kind as CSV.
    Export(ExportArgs),
    /// Whether the server is up: version, database, snapshot version (no credentials needed).
    Health,
    /// An interactive console on the CTI WebSocket: type requests (`MonitorStart
    /// device=CTRIDalice`, `MakeCall device=CTRIDalice calledDirectoryNumber=+14155550100`,
    /// `help`), watch events arrive.
    /// Logs in with the credentials given, if any (else type `login USER PASSWORD`).
    Cti,
}

impl CtlCommand {
    /// The collection a generic object command works on.
    pub fn object(&self) -> Option<(Kind, &ObjectVerb)> {
        let (kind, args) = match self {
            CtlCommand::Users(a) => (Kind::User, a),
            CtlCommand::Partitions(a) => (Kind::Partition, a),
            CtlCommand::Css(a) => (Kind::Css, a),
            CtlCommand::Devices(a) => (Kind::Device, a),
            CtlCommand::Lines(a) => (Kind::Line, a),
            CtlCommand::RemoteDestinations(a) => (Kind::RemoteDestination, a),
            CtlCommand::Trunks(a) => (Kind::Trunk, a),
            CtlCommand::RouteGroups(a) => (Kind::RouteGroup, a),
            CtlCommand::RouteLists(a) => (Kind::RouteList, a),
            CtlCommand::Patterns(a) => (Kind::Pattern, a),
            CtlCommand::DialRules(a) => (Kind::DialRule, a),
            CtlCommand::Announcements(a) => (Kind::Announcement, a),
            _ => return None,
        };
        Some((kind, &args.verb))
    }
}

#[derive(Debug, Args)]
pub struct ObjectArgs {
    #[command(subcommand)]
    pub verb: ObjectVerb,
}

/// `field=value`, split at the first `=`.
pub type Assignment = (String, String);

fn assignment(s: &str) -> Result<Assignment, String> {
    match s.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => {
            Ok((field.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected FIELD=VALUE, got {s:?}")),
    }
}

#[derive(Debug, Subcommand)]
pub enum ObjectVerb {
    /// List objects in key order: a page of 100 unless --limit or --all.
    List {
        /// Only objects whose FIELD equals VALUE (repeatable; an empty VALUE matches null; a
        /// list field matches when any element does).
        #[arg(long = "filter", short = 'f', value_name = "FIELD=VALUE", value_parser = assignment)]
        filters: Vec<Assignment>,
        /// Skip this many matches.
        #[arg(long, value_name = "N")]
        offset: Option<usize>,
        /// Page size, 1 to 1000 (default 100).
        #[arg(long, value_name = "N", conflicts_with = "all")]
        limit: Option<usize>,
        /// Every match, fetched page by page.
        #[arg(long)]
        all: bool,
    },
    /// Show one object.
    Get {
        /// The key: one part, or two for lines (PARTITION DN), remote destinations (DEVICE
        /// NAME) and patterns (PARTITION PATTERN).
        #[arg(value_name = "KEY", required = true, num_args = 1..=2)]
        key: Vec<String>,
    },
    /// Create an object from a JSON file and/or FIELD=VALUE settings.
    Create {
        /// JSON object to start from ("-" reads standard input).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Set FIELD (repeatable; `a.b=…` sets a nested field). VALUE is taken as JSON when it
        /// parses as JSON of a type the field takes, else as a string.
        #[arg(long = "set", short = 's', value_name = "FIELD=VALUE", value_parser = assignment)]
        set: Vec<Assignment>,
    },
    /// Change fields of an object: reads it, sets the fields, writes it back whole.
    Update {
        /// The key (see get).
        #[arg(value_name = "KEY", required = true, num_args = 1..=2)]
        key: Vec<String>,
        /// Set FIELD (repeatable; see create).
        #[arg(long = "set", short = 's', value_name = "FIELD=VALUE", value_parser = assignment, required = true)]
        set: Vec<Assignment>,
    },
    /// Delete an object (refused with IN_USE while others refer to it).
    Delete {
        /// The key (see get).
        #[arg(value_name = "KEY", required = true, num_args = 1..=2)]
        key: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RdCommand {
    /// Add a remote destination to a device. As an end user (--user/--password) the number
    /// must be reachable through the device's reroute CSS, else RD_NOT_REACHABLE.
    Add {
        device: String,
        name: String,
        /// A number in any dialing form, or a SIP URI.
        number: String,
        /// Make it active (this does not deactivate the others; see `rd activate`).
        #[arg(long)]
        active: bool,
    },
    /// Make NAME the device's only active remote destination: active=true on it, then
    /// active=false on the device's other active ones. The API has no batch endpoint, so these
    /// are sequential PUTs: another client may see the steps, and a failure stops the sequence
    /// and says what was already changed.
    Activate { device: String, name: String },
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Calling search space to analyze through.
    #[arg(long)]
    pub css: Option<String>,
    /// Device whose CSS is used (its reroute CSS with --reroute).
    #[arg(long)]
    pub device: Option<String>,
    /// Analyze as a remote destination of the device: reroute CSS, after the dial rules.
    #[arg(long, conflicts_with = "css")]
    pub reroute: bool,
    /// Calling number (default: the device's first line).
    #[arg(long)]
    pub calling: Option<String>,
    /// Dialed digits (separators - . ( ) and spaces are ignored).
    #[arg(allow_hyphen_values = true)]
    pub digits: String,
}

/// The collections bulk CSV covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BulkKind {
    Users,
    Devices,
    Lines,
    RemoteDestinations,
}

impl BulkKind {
    pub fn kind(self) -> Kind {
        match self {
            BulkKind::Users => Kind::User,
            BulkKind::Devices => Kind::Device,
            BulkKind::Lines => Kind::Line,
            BulkKind::RemoteDestinations => Kind::RemoteDestination,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub kind: BulkKind,
    /// The CSV file ("-" reads standard input).
    pub file: PathBuf,
    /// Check every row the same way and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub kind: BulkKind,
    /// Write the CSV here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_subcommand_named_after_its_collection() {
        use clap::Parser;
        for kind in Kind::ALL {
            let cli = crate::cli::Cli::try_parse_from(["tether", "ctl", kind.collection(), "list"])
                .unwrap_or_else(|e| panic!("{}: {e}", kind.collection()));
            let crate::cli::Command::Ctl(ctl) = cli.command else {
                panic!("not ctl");
            };
            assert_eq!(ctl.command.object().map(|(k, _)| k), Some(kind));
        }
    }

    #[test]
    fn global_flags_go_anywhere() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "tether", "ctl", "users", "get", "alice", "--json", "--url", "h:1", "--token", "t",
        ])
        .expect("parse");
        let crate::cli::Command::Ctl(ctl) = cli.command else {
            panic!("not ctl");
        };
        assert!(ctl.json);
        assert_eq!(ctl.connection.url, "h:1");
        assert_eq!(ctl.connection.token.as_deref(), Some("t"));
        let bad = [
            &["tether", "ctl", "analyze", "91234"][..],
            &[
                "tether", "ctl", "analyze", "--css", "C", "--device", "D", "1",
            ],
            &["tether", "ctl", "analyze", "--css", "C", "--reroute", "1"],
            &["tether", "ctl", "users", "update", "alice"],
            &["tether", "ctl", "users", "list", "--all", "--limit", "5"],
            &["tether", "ctl", "users", "list", "--filter", "x"],
            &["tether", "ctl", "import", "phones", "x.csv"],
        ];
        for args in bad {
            assert!(crate::cli::Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn bulk_kinds_are_the_stores() {
        let ours: Vec<Kind> = BulkKind::value_variants()
            .iter()
            .map(|b| b.kind())
            .collect();
        assert_eq!(ours, tether_store::bulk::BULK_KINDS.to_vec());
        for b in BulkKind::value_variants() {
            let name = b.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(name.as_deref(), Some(b.kind().collection()));
        }
    }

    #[test]
    fn assignments() {
        assert_eq!(assignment("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(assignment("a="), Ok(("a".into(), String::new())));
        assert!(assignment("=x").is_err());
        assert!(assignment("ab").is_err());
    }
}
