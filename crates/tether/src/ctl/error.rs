//! What can go wrong in `tether ctl`, grouped by who is at fault, and the exit code of each:
//! 2 for a usage mistake caught here, 1 for an answer from the API that refuses the request,
//! 3 when no Tether answers at the URL.

use std::fmt;

/// Exit code of a usage error (clap uses the same for its own).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a refused request (or an import with failed rows).
pub const EXIT_API: u8 = 1;
/// Exit code when the server cannot be reached.
pub const EXIT_UNREACHABLE: u8 = 3;

/// One violation as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field: {field})")?;
        }
        Ok(())
    }
}

#[non_exhaustive]
#[derive(Debug)]
pub enum CtlError {
    /// The command line asks for something that cannot be done (bad key, no credentials, …).
    Usage(String),
    /// A local file could not be read or written.
    File { path: String, error: std::io::Error },
    /// The API answered with an error: the first violation, then any others.
    Api {
        first: Violation,
        others: Vec<Violation>,
    },
    /// The API answered something that is not the JSON it documents.
    BadReply { status: u16, detail: String },
    /// Nothing (or nothing that speaks HTTP) answered at the URL.
    Unreachable { url: String, reason: String },
    /// The command ran and reports failure on its own terms (already printed).
    Failed(String),
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::Usage(_) | CtlError::File { .. } => EXIT_USAGE,
            CtlError::Api { .. } | CtlError::BadReply { .. } | CtlError::Failed(_) => EXIT_API,
            CtlError::Unreachable { .. } => EXIT_UNREACHABLE,
        }
    }

    /// An error reply: the API's JSON error shape when the body has one, else the status and
    /// the start of the body.
    pub fn from_reply(status: u16, body: &[u8]) -> CtlError {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let violation = |v: &serde_json::Value| -> Option<Violation> {
            Some(Violation {
                code: v.get("code")?.as_str()?.to_owned(),
                message: v
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                field: v.get("field").and_then(|f| f.as_str()).map(str::to_owned),
            })
        };
        match parsed
            .as_ref()
            .and_then(|v| violation(v).map(|first| (v, first)))
        {
            Some((v, first)) => {
                let others = v
                    .get("errors")
                    .and_then(|e| e.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(violation)
                    .filter(|o| *o != first)
                    .collect();
                CtlError::Api { first, others }
            }
            None => {
                let text = String::from_utf8_lossy(body);
                let line = text.lines().next().unwrap_or("").trim();
                let detail: String = line.chars().take(200).collect();
                CtlError::BadReply { status, detail }
            }
        }
    }
}

impl fmt::Display for CtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtlError::Usage(m) | CtlError::Failed(m) => f.write_str(m),
            CtlError::File { path, error } => write!(f, "{path}: {error}"),
            CtlError::Api { first, others, .. } => {
                write!(f, "{first}")?;
                for o in others {
                    write!(f, "\n  also {o}")?;
                }
                Ok(())
            }
            CtlError::BadReply { status, detail } if detail.is_empty() => {
                write!(f, "HTTP {status} with no error description")
            }
            CtlError::BadReply { status, detail } => write!(f, "HTTP {status}: {detail}"),
            CtlError::Unreachable { url, reason } => write!(
                f,
                "cannot reach Tether at {url}: {reason}\n  start one with `tether serve` \
                 (it listens on http://127.0.0.1:8080 by default), or point --url (or \
                 TETHER_URL) at a running server"
            ),
        }
    }
}

impl std::error::Error for CtlError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_line() {
        let e = CtlError::from_reply(
            422,
            br#"{"code":"RD_NOT_REACHABLE","message":"91000 is not reachable","field":"number"}"#,
        );
        assert_eq!(
            e.to_string(),
            "RD_NOT_REACHABLE: 91000 is not reachable (field: number)"
        );
        assert_eq!(e.exit_code(), EXIT_API);
        let e = CtlError::from_reply(409, br#"{"code":"IN_USE","message":"m","field":null}"#);
        assert_eq!(e.to_string(), "IN_USE: m");
    }

    #[test]
    fn every_violation_is_listed_once() {
        let e = CtlError::from_reply(
            422,
            br#"{"code":"A","message":"a","field":"x","errors":[
                {"code":"A","message":"a","field":"x"},{"code":"B","message":"b","field":null}]}"#,
        );
        assert_eq!(e.to_string(), "A: a (field: x)\n  also B: b");
    }

    #[test]
    fn non_json_replies() {
        let e = CtlError::from_reply(502, b"<html>Bad Gateway</html>\nmore");
        assert_eq!(e.to_string(), "HTTP 502: <html>Bad Gateway</html>");
        assert_eq!(
            CtlError::from_reply(500, b"").to_string(),
            "HTTP 500 with no error description"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(CtlError::Usage("x".into()).exit_code(), 2);
        let e = CtlError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "refused".into(),
        };
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("tether serve") && e.to_string().contains("127.0.0.1:9"));
    }
}
