//! `GET /metrics`: the Prometheus text exposition of the running node (calls, BHCA, trunk
//! channels, call setup time, CDR writer). Public, like `/api/v1/health`: it carries counts and
//! trunk names, nothing about who called whom; keep the HTTP listener on a trusted network.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::metrics;

pub const PATH: &str = "/metrics";

/// The content type of the text format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = match &state.sip {
        Some(sip) => sip.metrics().await,
        None => None,
    };
    match snapshot {
        Some(m) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics::render(&m)).into_response(),
        None => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            super::error::UNAVAILABLE,
            "the SIP engine is not running",
        )
        .into_response(),
    }
}
