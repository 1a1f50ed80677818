//! `GET /api/v1/calls`: the calls in progress on this node, administrators only — who called
//! whom, since when, who holds the call, and for anchored media each party's leg: its RTP port,
//! the peer it latched to, packets and octets both ways, packets lost, interarrival jitter and
//! round-trip time (RFC 3550), as of the media engine's last report (at most a second old).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::{ApiError, UNAVAILABLE};
use super::{AppState, BASE};
use crate::sip::driver::CallView;

pub fn path() -> String {
    format!("{BASE}/calls")
}

pub async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let calls = match &state.sip {
        Some(sip) => sip.calls().await,
        None => None,
    };
    let Some(calls) = calls else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            UNAVAILABLE,
            "the SIP engine is not running",
        ));
    };
    let items: Vec<Value> = calls.iter().map(view).collect();
    Ok(Json(json!({ "items": items, "total": items.len() })))
}

fn view(v: &CallView) -> Value {
    let c = &v.call;
    json!({
        "global_call_id": c.id,
        "state": if c.answered { "answered" } else { "proceeding" },
        "calling": c.calling,
        "called": c.called,
        "device": c.device,
        "started": c.started_ms,
        "answered": c.answered_ms,
        "held_by": c.held_by,
        "media": {
            "caller": leg(c.caller_rtp_port, v.caller_media.as_ref()),
            "far_end": leg(c.far_rtp_port, v.far_media.as_ref()),
        },
    })
}

fn leg(port: Option<u16>, stats: Option<&tether_rtp::LegStats>) -> Value {
    let Some(port) = port else {
        return Value::Null;
    };
    let Some(s) = stats else {
        return json!({ "rtp_port": port });
    };
    let c = &s.counters;
    json!({
        "rtp_port": port,
        "peer": s.latched.map(|a| a.to_string()),
        "packets_received": c.packets_in,
        "octets_received": c.octets_in,
        "packets_sent": c.packets_out,
        "octets_sent": c.octets_out,
        "packets_lost": s.lost,
        "jitter_ms": s.jitter.as_secs_f64() * 1000.0,
        "rtt_ms": s.rtt.map(|r| r.as_secs_f64() * 1000.0),
    })
}

/// The response schema, for the OpenAPI document.
pub fn schema() -> Value {
    let leg = json!({
        "type": ["object", "null"],
        "description": "The party's media leg (anchored media only)",
        "properties": {
            "rtp_port": { "type": "integer" },
            "peer": { "type": ["string", "null"], "description": "Address the leg latched to" },
            "packets_received": { "type": "integer" }, "octets_received": { "type": "integer" },
            "packets_sent": { "type": "integer" }, "octets_sent": { "type": "integer" },
            "packets_lost": { "type": "integer", "description": "RFC 3550 A.3 cumulative loss" },
            "jitter_ms": { "type": "number", "description": "RFC 3550 A.8 interarrival jitter" },
            "rtt_ms": { "type": ["number", "null"], "description": "From the peer's RTCP reports" },
        },
    });
    json!({
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "total": { "type": "integer" },
            "items": { "type": "array", "items": {
                "type": "object",
                "properties": {
                    "global_call_id": { "type": "integer" },
                    "state": { "type": "string", "enum": ["proceeding", "answered"] },
                    "calling": { "type": "string" }, "called": { "type": "string" },
                    "device": { "type": "string" },
                    "started": { "type": "integer", "description": "UNIX epoch milliseconds" },
                    "answered": { "type": ["integer", "null"] },
                    "held_by": { "type": ["string", "null"], "enum": ["caller", "far end", null] },
                    "media": { "type": "object", "properties": { "caller": leg, "far_end": leg } },
                },
            } },
        },
    })
}
