//! SIPp's message traces (`-trace_msg`) read back: each message with whether SIPp received or
//! sent it, its start line, headers and body, so tests can assert what every party got.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// One message of a SIPp trace: whether SIPp received it, and its text from the start line.
#[derive(Clone, Copy, Debug)]
pub struct Msg<'a> {
    pub received: bool,
    pub text: &'a str,
}

impl<'a> Msg<'a> {
    pub fn start(&self) -> &'a str {
        self.text.lines().next().unwrap_or_default()
    }

    /// A request of `method` (`INVITE sip:…`).
    pub fn is(&self, method: &str) -> bool {
        self.start().starts_with(&format!("{method} "))
    }

    /// A response with `status`.
    pub fn status(&self, status: u16) -> bool {
        self.start().starts_with(&format!("SIP/2.0 {status} "))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.text
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
            })
    }

    pub fn has(&self, name: &str, needle: &str) -> bool {
        self.header(name).is_some_and(|v| v.contains(needle))
    }

    pub fn body(&self) -> &'a str {
        self.text
            .split_once("\r\n\r\n")
            .or_else(|| self.text.split_once("\n\n"))
            .map(|(_, b)| b.trim())
            .unwrap_or_default()
    }

    pub fn call_id(&self) -> &'a str {
        self.header("Call-ID").unwrap_or_default()
    }
}

/// The tag parameter of a From or To value.
pub fn tag(value: &str) -> &str {
    value
        .split(';')
        .find_map(|p| p.trim().strip_prefix("tag="))
        .unwrap_or_default()
}

/// The messages of a SIPp message trace, in order.
pub fn parse(trace: &str) -> Vec<Msg<'_>> {
    trace
        .split("-----------------------------------------------")
        .filter_map(|chunk| {
            let received = chunk.contains("message received");
            if !received && !chunk.contains("message sent") {
                return None;
            }
            // The SIP text starts at its start line, after SIPp's own lines.
            let at = chunk.lines().find(|l| {
                l.starts_with("SIP/2.0 ")
                    || l.split_once(' ').is_some_and(|(m, r)| {
                        r.starts_with("sip:") && m.chars().all(|c| c.is_ascii_uppercase())
                    })
            })?;
            let offset = at.as_ptr() as usize - chunk.as_ptr() as usize;
            Some(Msg {
                received,
                text: &chunk[offset..],
            })
        })
        .collect()
}

/// The message trace of the SIPp run whose files start `sipp-{prefix}-` in `env` (the last
/// one started, when there are several).
pub fn trace_path(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let start = format!("sipp-{prefix}-");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let n = name
                .strip_prefix(&start)?
                .strip_suffix("-messages.log")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

/// The message trace of that run, as text (empty before SIPp wrote it).
pub fn trace(dir: &Path, prefix: &str) -> String {
    trace_path(dir, prefix)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
}

/// Polls the trace of `prefix` until `done` holds for it (panics at `limit`).
pub fn wait_trace(
    dir: &Path,
    prefix: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(&[Msg<'_>]) -> bool,
) -> String {
    let mut last = String::new();
    let seen = super::poll_until(limit, || {
        last = trace(dir, prefix);
        done(&parse(&last))
    });
    assert!(seen, "{what}: SIPp {prefix} has\n{last}");
    last
}
