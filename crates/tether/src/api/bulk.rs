//! Bulk CSV (the BAT role): `GET /api/v1/bulk/{kind}` exports every object of a kind as CSV;
//! `POST` imports a CSV as upserts, all rows or none, with `?dry_run=true` to check only. The
//! report lists every bad row; the CSV work itself is `tether_store::bulk`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use tether_store::Kind;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, BASE};

pub fn path(kind: Kind) -> String {
    format!("{BASE}/bulk/{}", kind.collection())
}

pub async fn export(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let csv = tether_store::bulk::export(&state.store, kind).map_err(ApiError::store)?;
    let disposition = format!("attachment; filename=\"{}.csv\"", kind.collection());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: Option<String>,
}

pub async fn import(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let Query(q) = query.map_err(|e| ApiError::invalid(None, e.body_text()))?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                Some("dry_run"),
                format!("dry_run must be true or false, not {other:?}"),
            ))
        }
    };
    let body = body?;
    let text = std::str::from_utf8(&body).map_err(|e| {
        ApiError::invalid(
            None,
            format!("the CSV is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })?;
    let report = tether_store::bulk::import(&state.store, kind, text, dry_run)
        .await
        .map_err(ApiError::store)?;
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)).into_response())
}
