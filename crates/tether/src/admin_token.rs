//! The admin bearer token when none is configured: generated once, kept in a file only its
//! owner can read, and reused on later starts.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::config::AdminToken;

/// File name of the generated token.
pub const FILE_NAME: &str = "tether-admin.token";

/// Where the generated token lives for database `url`: beside a SQLite file, else (PostgreSQL,
/// in-memory SQLite) in the working directory.
pub fn token_path(url: &str) -> PathBuf {
    let dir = sqlite_file(url)
        .and_then(|f| f.parent().map(Path::to_owned))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(FILE_NAME)
}

/// The database file of a `sqlite:` URL, if it names one.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

#[non_exhaustive]
#[derive(Debug)]
pub enum TokenError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Invalid {
        path: PathBuf,
        message: String,
    },
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Io { path, error } => {
                write!(f, "admin token file {}: {error}", path.display())
            }
            TokenError::Invalid { path, message } => {
                write!(f, "admin token file {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// Whether the token was read back or made now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    Existing,
    Generated,
}

/// Reads the token in `path`, or generates one and writes it there (mode 0600).
pub fn load_or_generate(path: &Path) -> Result<(AdminToken, Provenance), TokenError> {
    let io = |error| TokenError::Io {
        path: path.to_owned(),
        error,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = AdminToken::parse(text.trim()).map_err(|message| TokenError::Invalid {
                path: path.to_owned(),
                message,
            })?;
            return Ok((token, Provenance::Existing));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    let token = AdminToken::parse(&text).map_err(|message| TokenError::Invalid {
        path: path.to_owned(),
        message,
    })?;
    Ok((token, Provenance::Generated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_beside_sqlite_file() {
        assert_eq!(
            token_path("sqlite://tether.db"),
            PathBuf::from("./tether-admin.token")
        );
        assert_eq!(
            token_path("sqlite:///var/lib/tether/t.db?mode=rwc"),
            PathBuf::from("/var/lib/tether/tether-admin.token")
        );
        assert_eq!(
            token_path("sqlite:data/t.db"),
            PathBuf::from("data/tether-admin.token")
        );
        assert_eq!(
            token_path("sqlite::memory:"),
            PathBuf::from("./tether-admin.token")
        );
        assert_eq!(
            token_path("postgres://u@h/db"),
            PathBuf::from("./tether-admin.token")
        );
    }

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let (a, p) = load_or_generate(&path).expect("generate");
        assert_eq!(p, Provenance::Generated);
        assert_eq!(a.as_str().len(), 64);
        let (b, p) = load_or_generate(&path).expect("reuse");
        assert_eq!(p, Provenance::Existing);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "x").expect("write");
        assert!(load_or_generate(&path).is_err(), "a short token is refused");
    }
}
