//! The Dialed Number Analyzer: `POST /api/v1/analyze`. Given a calling search space (or a
//! device, whose CSS is used) and digits, reports the closest match, its partition, the
//! numbers after every transformation, the translation patterns applied, and the route list,
//! groups and trunks in hunt order — or why nothing matched.
//!
//! With `reroute: true` the device's reroute CSS is used and the application dial rules are
//! applied first: exactly the check that verifies a remote destination added by an end user.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::objects::typed;
use super::AppState;

/// What to analyze.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    /// Calling search space to analyze through (give this or `device`).
    #[serde(default)]
    pub css: Option<String>,
    /// Device whose calling search space is used (its reroute CSS with `reroute`).
    #[serde(default)]
    pub device: Option<String>,
    /// Calling number; defaults to the device's first line, or empty.
    #[serde(default)]
    pub calling: Option<String>,
    /// Dialed digits; visual separators (`-`, space, `.`, `(`, `)`) are ignored.
    pub digits: String,
    /// Analyze as a remote destination of `device`: its reroute CSS, after application dial
    /// rules.
    #[serde(default)]
    pub reroute: bool,
}

pub async fn analyze(
    caller: Caller,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let req: AnalyzeRequest = typed(&body?)?;

    let snap = state.store.snapshot();
    let (css, calling) = match (&req.css, &req.device) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                Some("css"),
                "give css or device, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                Some("css"),
                "give the calling search space (css) or a device",
            ))
        }
        (Some(_), None) if req.reroute => {
            return Err(ApiError::invalid(
                Some("reroute"),
                "reroute analyzes through a device's reroute CSS: give the device",
            ))
        }
        (Some(css), None) => (css.clone(), req.calling.clone().unwrap_or_default()),
        (None, Some(name)) => {
            let Some(device) = snap.device(name) else {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "UNKNOWN_REFERENCE",
                    format!("device {name} does not exist"),
                )
                .field("device"));
            };
            let (css, which) = if req.reroute {
                (&device.reroute_css, "reroute calling search space")
            } else {
                (&device.css, "calling search space")
            };
            let Some(css) = css else {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "UNKNOWN_REFERENCE",
                    format!("device {name} has no {which}"),
                )
                .field("device"));
            };
            let calling = req.calling.clone().unwrap_or_else(|| {
                snap.lines_of(name)
                    .next()
                    .map(|l| l.dn.clone())
                    .unwrap_or_default()
            });
            (css.clone(), calling)
        }
    };
    let dialed = if req.reroute {
        snap.apply_dial_rules(&req.digits)
    } else {
        req.digits.clone()
    };
    let digits: String = dialed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
        .collect();
    let mut out = json!({
        "css": css,
        "device": req.device,
        "dialed": req.digits,
        "digits": digits,
        "calling_before": calling,
        "reroute": req.reroute,
    });
    let result = match snap.analyze(&css, &calling, &digits) {
        Ok(a) => {
            let trunks: Vec<&str> = a.route.iter().flat_map(|r| r.trunks()).collect();
            json!({
                "matched": true,
                "reachable": a.route.is_some(),
                "pattern": a.pattern,
                "partition": a.partition,
                "target": a.target,
                "called": a.called,
                "calling": a.calling,
                "translations": a.translations,
                "route": a.route,
                "trunks": trunks,
            })
        }
        Err(e) => json!({
            "matched": false,
            "reachable": false,
            "reason": e,
            "message": e.to_string(),
        }),
    };
    if let (Some(o), Value::Object(r)) = (out.as_object_mut(), result) {
        o.extend(r);
    }
    Ok(Json(out))
}
