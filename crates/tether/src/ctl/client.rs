//! The HTTP side of `tether ctl`: the base URL, the credentials (token, Basic, or the admin
//! token file), and blocking requests through ureq over plain HTTP. Error replies become
//! [`CtlError::Api`]; transport failures become [`CtlError::Unreachable`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use super::args::Connection;
use super::error::CtlError;
use crate::admin_token;
use crate::config::AdminToken;

/// Largest reply read (a CSV export of a large system).
const REPLY_LIMIT: u64 = 1 << 30;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None: only public endpoints (health) answer.
    Anonymous,
    Bearer(String),
    Basic {
        user: String,
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Bearer(_) => f.write_str("Bearer(…)"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, …)"),
        }
    }
}

impl Credentials {
    /// The first credentials given: token, then user and password, then the token file
    /// (`--token-file`, else `tether-admin.token` in the working directory).
    pub fn resolve(c: &Connection) -> Result<Credentials, CtlError> {
        if let Some(token) = c.token.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Credentials::Bearer(token.to_owned()));
        }
        match (&c.user, &c.password) {
            (Some(user), Some(password)) if !user.is_empty() => {
                if user.contains(':') {
                    return Err(CtlError::Usage(
                        "a user name for Basic authentication cannot contain ':'".into(),
                    ));
                }
                return Ok(Credentials::Basic {
                    user: user.clone(),
                    password: password.clone(),
                });
            }
            (Some(user), None) if !user.is_empty() => {
                return Err(CtlError::Usage(format!(
                    "--user {user} needs --password (or TETHER_PASSWORD)"
                )))
            }
            (None, Some(_)) => {
                return Err(CtlError::Usage(
                    "--password needs --user (or TETHER_USER)".into(),
                ))
            }
            _ => {}
        }
        let (path, explicit) = match &c.token_file {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(admin_token::FILE_NAME), false),
        };
        read_token_file(&path, explicit).map(Credentials::Bearer)
    }

    fn header(&self) -> Option<String> {
        match self {
            Credentials::Anonymous => None,
            Credentials::Bearer(t) => Some(format!("Bearer {t}")),
            Credentials::Basic { user, password } => {
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(format!("Basic {b64}"))
            }
        }
    }
}

fn read_token_file(path: &Path, explicit: bool) -> Result<String, CtlError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Err(CtlError::Usage(format!(
                "no credentials: give --token (or TETHER_TOKEN), --user and --password (or \
                 TETHER_USER and TETHER_PASSWORD), or run where `tether serve` wrote {} \
                 (--token-file PATH to name it)",
                admin_token::FILE_NAME
            )))
        }
        Err(error) => {
            return Err(CtlError::File {
                path: path.display().to_string(),
                error,
            })
        }
    };
    AdminToken::parse(text.trim())
        .map(|t| t.as_str().to_owned())
        .map_err(|m| CtlError::Usage(format!("admin token file {}: {m}", path.display())))
}

/// A reply: status and body, whatever the status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (null when empty).
    pub fn json(&self) -> Result<Value, CtlError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| CtlError::BadReply {
            status: self.status,
            detail: format!("the reply is not JSON ({e})"),
        })
    }

    /// Success, or the API's error.
    pub fn ok(self) -> Result<Reply, CtlError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(CtlError::from_reply(self.status, &self.body))
        }
    }
}

pub struct Client {
    base: String,
    credentials: Credentials,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(url: &str, credentials: Credentials) -> Result<Client, CtlError> {
        let base = base_url(url)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .max_redirects(0)
            .user_agent(concat!("tether-ctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            base,
            credentials,
            agent,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One request to `path` (starting with `/api/v1`); any status is a [`Reply`].
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Reply, CtlError> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if let Some(h) = self.credentials.header() {
            req = req.header("Authorization", h);
        }
        let unreachable = |e: ureq::Error| self.unreachable(e);
        let response = match body {
            Some((content_type, bytes)) => {
                let req = req
                    .header("Content-Type", content_type)
                    .body(bytes)
                    .map_err(|e| CtlError::Usage(format!("cannot build the request: {e}")))?;
                self.agent.run(req).map_err(unreachable)?
            }
            None => {
                let req = req
                    .body(())
                    .map_err(|e| CtlError::Usage(format!("cannot build the request: {e}")))?;
                self.agent.run(req).map_err(unreachable)?
            }
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let body = body
            .with_config()
            .limit(REPLY_LIMIT)
            .read_to_vec()
            .map_err(unreachable)?;
        Ok(Reply { status, body })
    }

    fn unreachable(&self, e: ureq::Error) -> CtlError {
        let reason = match e {
            ureq::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        CtlError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    /// GET, JSON reply on success.
    pub fn get(&self, path: &str) -> Result<Value, CtlError> {
        self.request("GET", path, None)?.ok()?.json()
    }

    /// POST or PUT a JSON body, JSON reply on success.
    pub fn send_json(&self, method: &str, path: &str, body: &Value) -> Result<Value, CtlError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| CtlError::Usage(format!("cannot encode the body: {e}")))?;
        self.request(method, path, Some(("application/json", bytes)))?
            .ok()?
            .json()
    }

    pub fn delete(&self, path: &str) -> Result<(), CtlError> {
        self.request("DELETE", path, None)?.ok().map(|_| ())
    }
}

/// The base URL without a trailing slash: `http://` added when no scheme is given; anything
/// but plain HTTP refused.
pub fn base_url(url: &str) -> Result<String, CtlError> {
    let url = url.trim();
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let Some(rest) = full.strip_prefix("http://") else {
        let scheme = full.split("://").next().unwrap_or("");
        return Err(CtlError::Usage(format!(
            "--url {url}: tether ctl speaks plain http:// only, not {scheme}://; terminate TLS on \
             a reverse proxy and point tether ctl at the plain listener"
        )));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || rest.contains(['?', '#']) {
        return Err(CtlError::Usage(format!(
            "--url {url}: expected http://HOST:PORT (optionally with a path prefix)"
        )));
    }
    Ok(full.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection {
            url: super::super::args::DEFAULT_URL.into(),
            token: None,
            user: None,
            password: None,
            token_file: None,
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            base_url("http://127.0.0.1:8080/").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            base_url("localhost:9000").ok().as_deref(),
            Some("http://localhost:9000")
        );
        assert_eq!(
            base_url("http://h/tether").ok().as_deref(),
            Some("http://h/tether")
        );
        for bad in ["https://h", "http://", "http://h/?x", "ftp://h"] {
            assert!(matches!(base_url(bad), Err(CtlError::Usage(_))), "{bad}");
        }
        let Err(e) = base_url("https://tether.example") else {
            panic!("https accepted");
        };
        assert!(e.to_string().contains("reverse proxy"));
    }

    #[test]
    fn credential_precedence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("t.token");
        std::fs::write(&file, "0123456789abcdef0123\n").expect("write");
        let mut c = conn();
        c.token_file = Some(file.clone());
        assert_eq!(
            Credentials::resolve(&c).ok(),
            Some(Credentials::Bearer("0123456789abcdef0123".into()))
        );
        c.user = Some("alice".into());
        c.password = Some("pw".into());
        assert_eq!(
            Credentials::resolve(&c).ok(),
            Some(Credentials::Basic {
                user: "alice".into(),
                password: "pw".into()
            })
        );
        c.token = Some("tok".into());
        assert_eq!(
            Credentials::resolve(&c).ok(),
            Some(Credentials::Bearer("tok".into()))
        );
        let mut c = conn();
        c.user = Some("alice".into());
        assert!(matches!(Credentials::resolve(&c), Err(CtlError::Usage(_))));
        let mut c = conn();
        c.token_file = Some(dir.path().join("missing"));
        assert!(matches!(
            Credentials::resolve(&c),
            Err(CtlError::File { .. })
        ));
        std::fs::write(&file, "short").expect("write");
        let mut c = conn();
        c.token_file = Some(file);
        assert!(matches!(Credentials::resolve(&c), Err(CtlError::Usage(_))));
    }

    #[test]
    fn basic_header() {
        let c = Credentials::Basic {
            user: "alice".into(),
            password: "a:b".into(),
        };
        assert_eq!(c.header().as_deref(), Some("Basic YWxpY2U6YTpi"));
        assert_eq!(format!("{c:?}"), "Basic(alice, …)");
        assert_eq!(Credentials::Anonymous.header(), None);
    }
}
