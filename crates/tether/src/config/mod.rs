//! The configuration file: what it may hold, its defaults, and errors that point at the line.
//!
//! Every section and key is optional; an unknown one is an error (a typo must not be silently
//! ignored). This room only reads and checks the file; it starts nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod cti;
mod media;
pub use cti::Cti;
pub use media::Media;
use tether_store::NumberingPlan;
use tether_trunk::pstn;

/// The documented reference of the file, shown by `tether --help`.
pub const REFERENCE: &str = r#"CONFIGURATION (TOML, every key optional; unknown keys are errors):

  [database]
  url = "sqlite://tether.db"      # or "postgres://user:pass@host/db" for a cluster

  [http]
  listen = "127.0.0.1:8080"       # admin REST API (/api/v1) and its OpenAPI document

  [admin]
  token = "…"                     # bearer token for the admin API (16+ characters); when
                                  # absent, one is generated on first start into
                                  # tether-admin.token (mode 0600)
                                  # beside the SQLite database (working directory for PostgreSQL)

  [numbering]                     # dialing conventions; default North American
  country_code = "1"
  trunk_prefix = "1"
  outside_line_prefix = "9"
  international_prefix = "011"
  national_number_length = 10

  [demo]
  seed = true                     # seed the demo provisioning when the database has no users;
                                  # its PSTN trunks point at [pstn] listen

  [sip]
  listen_udp = ["0.0.0.0:5060"]   # SIP over UDP, one socket per address
  listen_tcp = ["0.0.0.0:5060"]   # SIP over TCP, one listener per address
  advertised = "127.0.0.1:5060"   # the address put in Via and Contact; default: the first
                                  # listen address (UDP first), 0.0.0.0 replaced by 127.0.0.1
  domain = "127.0.0.1"            # host of Tether's own URIs and the digest realm of phone
                                  # registration; default: the advertised IP
  drain_seconds = 30              # on SIGINT/SIGTERM: refuse new calls (503 + Retry-After) and
                                  # wait this long at most for active calls to end
  max_calls = 100000              # calls at once; more are refused 503
  max_transactions = 1000000      # SIP transactions at once, more requests are refused 503;
                                  # a finished one lingers 32 s (RFC 3261 timers) with its
                                  # messages (about 5 KB), and a call makes 3 or 4: a steady
                                  # R calls/s holds about 100 x R

  [media]
  anchor = true                   # Tether's address and ports in every SDP: media flows
                                  # through Tether (relay, transcoding, announcements, hold
                                  # music, DTMF); false: SDP passes through, endpoints send
                                  # media to each other
  address = "127.0.0.1"           # the address in Tether's SDP (c=); default: the SIP
                                  # advertised IP
  bind = "0.0.0.0"                # where RTP sockets are bound
  port_min = 10000                # RTP ports (even) and RTCP (odd) for every leg, inclusive
  port_max = 19999                #   (keep clear of [pstn] first_rtp_port and up)
  inactivity_seconds = 30         # end a call whose far end sends no RTP/RTCP this long
                                  # (not while it holds the call); 0: never
  music_on_hold = "moh.wav"       # played to held parties (WAV, any common rate/format,
                                  # at most 5 min); default: a built-in tune

  [cti]
  heartbeat_seconds = 15          # the CTI WebSocket (/cti on the HTTP port) pings each
                                  # client this often; silent for three of them = gone (a
                                  # controller's device is then deactivated)

  [pstn]
  enabled = true                  # run the built-in PSTN simulator behind the demo's trunks
  listen = "127.0.0.1:5070"       # its SIP address (UDP and TCP)
  first_rtp_port = 20000          # RTP port in the first call's SDP (even)
  otherwise = { kind = "answer", after_ms = 1000 }   # numbers no rule matches
  no_answer_ms = 180000           # release calls still ringing this long (480, cause 19);
                                  # default: ringing numbers ring until the caller gives up
  [[pstn.rules]]                  # tried in order; any rule replaces the default plan:
  pattern = "02xx"                #   matched on the END of the dialed number, x = any digit
  behavior = { kind = "answer", after_ms = 2000 }    # answer | voicemail (after_ms), ring,
  hangup_after_ms = 30000         #   echo, reject (status, cause): the far end hangs up
                                  # default plan by the last four digits: 01xx answers,
                                  # 02xx answers after 2 s, 03xx busy (486), 04xx rings
                                  # forever, 05xx unallocated (404), 06xx voicemail after
                                  # 0.5 s, 07xx echo, 09xx congestion (503, cause 34),
                                  # anything else rings and answers after 1 s; and for the
                                  # demo's hang-up scenario 08xx answers at once and hangs
                                  # up after 2 s

  [log]
  format = "human"                # or "json": one JSON object per line

Command-line flags (--http, --database, --sip, --pstn, --log-json) override the file;
`tether pstn --listen ADDR` runs the simulator alone with the [pstn] section. RUST_LOG
sets the log filter (default "info"). GET /metrics (Prometheus text format, no
authentication, like /api/v1/health) reports calls, BHCA, trunk channels and call setup time;
CDRs go to the database's cdrs table (GET /api/v1/cdrs, /api/v1/cdrs.csv)."#;

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub http: Http,
    #[serde(default)]
    pub admin: Admin,
    #[serde(default)]
    pub numbering: Numbering,
    #[serde(default)]
    pub demo: Demo,
    #[serde(default)]
    pub sip: Sip,
    #[serde(default)]
    pub pstn: Pstn,
    #[serde(default)]
    pub media: Media,
    #[serde(default)]
    pub cti: Cti,
    #[serde(default)]
    pub log: Log,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    #[serde(default = "default_database_url")]
    pub url: String,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: default_database_url(),
        }
    }
}

fn default_database_url() -> String {
    "sqlite://tether.db".to_owned()
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: default_listen(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    #[serde(default)]
    pub token: Option<AdminToken>,
}

/// An admin bearer token: at least 16 characters, no whitespace (it travels in a header).
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    pub const MIN_LEN: usize = 16;

    pub fn parse(s: &str) -> Result<AdminToken, String> {
        if s.len() < Self::MIN_LEN {
            return Err(format!(
                "the admin token must be at least {} characters",
                Self::MIN_LEN
            ));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the admin token may not contain spaces or control characters".into());
        }
        Ok(AdminToken(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

impl<'de> Deserialize<'de> for AdminToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AdminToken::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    #[serde(default = "na_country_code")]
    pub country_code: String,
    #[serde(default = "na_trunk_prefix")]
    pub trunk_prefix: String,
    #[serde(default = "na_outside_line_prefix")]
    pub outside_line_prefix: String,
    #[serde(default = "na_international_prefix")]
    pub international_prefix: String,
    #[serde(default = "na_national_number_length")]
    pub national_number_length: usize,
}

fn na() -> NumberingPlan {
    NumberingPlan::north_american()
}
fn na_country_code() -> String {
    na().country_code
}
fn na_trunk_prefix() -> String {
    na().trunk_prefix
}
fn na_outside_line_prefix() -> String {
    na().outside_line_prefix
}
fn na_international_prefix() -> String {
    na().international_prefix
}
fn na_national_number_length() -> usize {
    na().national_number_length
}

impl Default for Numbering {
    fn default() -> Self {
        let p = na();
        Numbering {
            country_code: p.country_code,
            trunk_prefix: p.trunk_prefix,
            outside_line_prefix: p.outside_line_prefix,
            international_prefix: p.international_prefix,
            national_number_length: p.national_number_length,
        }
    }
}

impl Numbering {
    pub fn plan(&self) -> NumberingPlan {
        NumberingPlan {
            country_code: self.country_code.clone(),
            trunk_prefix: self.trunk_prefix.clone(),
            outside_line_prefix: self.outside_line_prefix.clone(),
            international_prefix: self.international_prefix.clone(),
            national_number_length: self.national_number_length,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    #[serde(default = "yes")]
    pub seed: bool,
}

impl Default for Demo {
    fn default() -> Self {
        Demo { seed: true }
    }
}

pub(crate) fn yes() -> bool {
    true
}

/// The SIP side: transports, the addresses Tether names itself by, and draining.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sip {
    #[serde(default = "default_sip_listen")]
    pub listen_udp: Vec<SocketAddr>,
    #[serde(default = "default_sip_listen")]
    pub listen_tcp: Vec<SocketAddr>,
    #[serde(default)]
    pub advertised: Option<SocketAddr>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default = "default_drain_seconds")]
    pub drain_seconds: u64,
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    #[serde(default = "default_max_transactions")]
    pub max_transactions: usize,
}

impl Default for Sip {
    fn default() -> Self {
        Sip {
            listen_udp: default_sip_listen(),
            listen_tcp: default_sip_listen(),
            advertised: None,
            domain: None,
            drain_seconds: default_drain_seconds(),
            max_calls: default_max_calls(),
            max_transactions: default_max_transactions(),
        }
    }
}

fn default_sip_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([0, 0, 0, 0], 5060))]
}
fn default_drain_seconds() -> u64 {
    30
}
fn default_max_calls() -> usize {
    100_000
}
/// Room for about 10,000 short calls a second: finished transactions linger 32 s, three or
/// four per call.
fn default_max_transactions() -> usize {
    1_000_000
}

impl Sip {
    /// The address Tether puts in Via and Contact: `advertised`, else the first bound address
    /// (UDP first) with an unspecified IP (0.0.0.0, ::) replaced by loopback.
    pub fn advertised_or(&self, bound: &[SocketAddr]) -> Option<SocketAddr> {
        if let Some(a) = self.advertised {
            return Some(a);
        }
        let mut a = *bound.first()?;
        if a.ip().is_unspecified() {
            a.set_ip(if a.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        Some(a)
    }
}

/// The built-in PSTN simulator: where it listens and its dial plan (rules on the end of the
/// dialed number; `tether_trunk::pstn::config` documents them and the default plan).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pstn {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_pstn_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_pstn_rules")]
    pub rules: Vec<pstn::Rule>,
    #[serde(default = "default_pstn_otherwise")]
    pub otherwise: pstn::Behavior,
    #[serde(default = "default_first_rtp_port")]
    pub first_rtp_port: u16,
    #[serde(default)]
    pub no_answer_ms: Option<u64>,
}

impl Default for Pstn {
    fn default() -> Self {
        Pstn {
            enabled: true,
            listen: default_pstn_listen(),
            rules: default_pstn_rules(),
            otherwise: default_pstn_otherwise(),
            first_rtp_port: default_first_rtp_port(),
            no_answer_ms: None,
        }
    }
}

/// The built-in simulator's rules when `[pstn]` writes none: the simulator's documented
/// default plan, then one rule of the demo's own for `sip-scenarios/rd-hangs-up.xml`: numbers
/// ending `08xx` answer at once and hang up 2 s later.
pub fn default_pstn_rules() -> Vec<pstn::Rule> {
    let mut rules = pstn::default_rules();
    rules.push(pstn::Rule {
        pattern: "08xx".into(),
        behavior: pstn::Behavior::Answer { after_ms: 0 },
        hangup_after_ms: Some(2000),
    });
    rules
}

fn default_pstn_otherwise() -> pstn::Behavior {
    pstn::PstnConfig::default().otherwise
}
fn default_first_rtp_port() -> u16 {
    pstn::PstnConfig::default().first_rtp_port
}

impl Pstn {
    /// The simulator's dial plan.
    pub fn plan(&self) -> pstn::PstnConfig {
        pstn::PstnConfig {
            rules: self.rules.clone(),
            otherwise: self.otherwise.clone(),
            first_rtp_port: self.first_rtp_port,
            no_answer_ms: self.no_answer_ms,
        }
    }

    /// Why the dial plan cannot work, if it cannot.
    pub fn check(&self) -> Result<(), pstn::PstnConfigError> {
        let peer = tether_sip::Peer::udp(self.listen);
        pstn::PstnSimulator::new(self.plan(), peer, 0).map(|_| ())
    }
}

pub fn default_pstn_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5070))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people (colored on a terminal).
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    #[serde(default)]
    pub format: LogFormat,
}

/// Why the configuration could not be read. `Display` names the file, and for a bad value the
/// line, column and key.
#[non_exhaustive]
#[derive(Debug)]
pub enum ConfigError {
    Read {
        file: PathBuf,
        error: std::io::Error,
    },
    Invalid {
        file: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        key: Option<String>,
        message: String,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Read { file, error } => {
                write!(f, "cannot read config file {}: {error}", file.display())
            }
            ConfigError::Invalid {
                file,
                line,
                column,
                key,
                message,
            } => {
                write!(f, "config file {}", file.display())?;
                if let Some(line) = line {
                    write!(f, ", line {line}")?;
                    if let Some(column) = column {
                        write!(f, ", column {column}")?;
                    }
                }
                if let Some(key) = key {
                    write!(f, ", key {key}")?;
                }
                write!(f, ": {message}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and checks `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|error| ConfigError::Read {
            file: file.to_owned(),
            error,
        })?;
        Config::parse(file, &text)
    }

    /// Parses `text`, the contents of `file` (used only in messages), and checks what the
    /// types alone cannot (the PSTN simulator's dial plan).
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let config = Config::parse_only(file, text)?;
        if let Err(message) = config.media.check() {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("port_min"))
                .map(|i| i + 1);
            return Err(ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column: None,
                key: Some("media.port_min".to_owned()),
                message: format!("the RTP port range: {message}"),
            });
        }
        if let Err(message) = config.cti.check() {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("heartbeat_seconds"))
                .map(|i| i + 1);
            return Err(ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column: None,
                key: Some("cti.heartbeat_seconds".to_owned()),
                message,
            });
        }
        if let Err(e) = config.pstn.check() {
            let (key, needle) = match &e {
                pstn::PstnConfigError::BadRtpPort(_) => {
                    ("pstn.first_rtp_port", "first_rtp_port".to_owned())
                }
                pstn::PstnConfigError::BadPattern { pattern, .. }
                | pstn::PstnConfigError::BadStatus { pattern, .. }
                | pstn::PstnConfigError::BadCause { pattern, .. } => {
                    ("pstn.rules", format!("\"{pattern}\""))
                }
                _ => ("pstn", String::new()),
            };
            let line = (!needle.is_empty())
                .then(|| text.lines().position(|l| l.contains(&needle)))
                .flatten()
                .map(|i| i + 1);
            return Err(ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column: None,
                key: Some(key.to_owned()),
                message: e.to_string(),
            });
        }
        Ok(config)
    }

    fn parse_only(file: &Path, text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let (line, column, key) = match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    (Some(line), Some(column), key_at(text, line))
                }
                None => (None, None, None),
            };
            ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column,
                key,
                message: e.message().trim().to_owned(),
            }
        })
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The dotted key defined on 1-based `line` (`http.listen`), or the table a header line opens.
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let this = lines.get(line.checked_sub(1)?)?.trim();
    if let Some(header) = table_header(this) {
        return Some(header);
    }
    let (key, _) = this.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() {
        return None;
    }
    let table = lines
        .get(..line - 1)?
        .iter()
        .rev()
        .find_map(|l| table_header(l.trim()));
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

fn table_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?.split(']').next()?.trim();
    (!inner.is_empty()).then(|| inner.trim_matches('[').trim().to_owned())
}

#[cfg(test)]
mod tests;
