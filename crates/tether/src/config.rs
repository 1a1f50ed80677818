//! The configuration file: what it may hold, its defaults, and errors that point at the line.
//!
//! Every section and key is optional; an unknown one is an error (a typo must not be silently
//! ignored). This room only reads and checks the file; it starts nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tether_store::NumberingPlan;

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
  seed = true                     # seed the demo provisioning when the database has no users

Command-line flags (--http, --database) override the file. RUST_LOG sets the log filter
(default "info")."#;

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

fn yes() -> bool {
    true
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

    /// Parses `text`, the contents of `file` (used only in messages).
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
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
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("t.toml"), text)
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let c = parse("").expect("empty");
        assert_eq!(c, Config::default());
        assert_eq!(c.database.url, "sqlite://tether.db");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert!(c.demo.seed);
        assert_eq!(c.numbering.plan(), NumberingPlan::north_american());
    }

    #[test]
    fn every_key() {
        let c = parse(
            "[database]\nurl = \"postgres://x/y\"\n[http]\nlisten = \"0.0.0.0:9000\"\n\
             [admin]\ntoken = \"0123456789abcdef\"\n[numbering]\ncountry_code = \"44\"\n\
             national_number_length = 9\n[demo]\nseed = false\n",
        )
        .expect("full");
        assert_eq!(c.database.url, "postgres://x/y");
        assert_eq!(c.http.listen.port(), 9000);
        assert_eq!(
            c.admin.token.as_ref().map(AdminToken::as_str),
            Some("0123456789abcdef")
        );
        assert_eq!(c.numbering.country_code, "44");
        assert_eq!(c.numbering.trunk_prefix, "1");
        assert_eq!(c.numbering.national_number_length, 9);
        assert!(!c.demo.seed);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = parse("[http]\n\nlisen = \"127.0.0.1:1\"\n").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("t.toml"), "{s}");
        assert!(s.contains("line 3"), "{s}");
        assert!(s.contains("key http.lisen"), "{s}");
    }

    #[test]
    fn bad_value_names_line_and_key() {
        let e = parse("[demo]\nseed = true\n[http]\nlisten = \"nowhere\"\n").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("line 4"), "{s}");
        assert!(s.contains("key http.listen"), "{s}");
        let e = parse("[admin]\ntoken = \"short\"\n").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("line 2") && s.contains("admin.token"), "{s}");
        assert!(s.contains("at least 16"), "{s}");
    }

    #[test]
    fn unknown_table_and_syntax_error() {
        let s = parse("[htp]\nlisten = 1\n").unwrap_err().to_string();
        assert!(s.contains("line 1") && s.contains("key htp"), "{s}");
        let s = parse("[http]\nlisten = \n").unwrap_err().to_string();
        assert!(s.contains("line 2"), "{s}");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_column("ab\nc€d", 7), (2, 3));
        assert_eq!(line_column("x", 99), (1, 2));
    }
}
