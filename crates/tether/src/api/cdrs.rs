//! Call detail records: `GET /api/v1/cdrs` (JSON pages) and `GET /api/v1/cdrs.csv` (CSV with
//! CUCM CDR column names), administrators only. Both take the same filters: `global_call_id`,
//! `calling`, `called` (original or final called number), `from` and `to` (origination time,
//! UNIX epoch milliseconds, from inclusive, to exclusive), and `offset`/`limit`. The query and
//! the CSV are `tether_store::cdr`'s work.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tether_store::CdrFilter;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, BASE};

/// Page size of the JSON list when none is asked for, and its largest.
pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;
/// Rows of one CSV export when none is asked for, and its largest (page with offset).
pub const CSV_DEFAULT_LIMIT: u64 = 100_000;
pub const CSV_MAX_LIMIT: u64 = 100_000;

pub fn path() -> String {
    format!("{BASE}/cdrs")
}

pub fn csv_path() -> String {
    format!("{BASE}/cdrs.csv")
}

/// The filter names, for errors and the OpenAPI document.
pub const FILTERS: [(&str, &str); 5] = [
    ("global_call_id", "Only the records of this global call id"),
    ("calling", "Only calls from this calling party number"),
    (
        "called",
        "Only calls to this number (original or final called party number)",
    ),
    (
        "from",
        "Only calls originated at or after this time (UNIX epoch milliseconds)",
    ),
    (
        "to",
        "Only calls originated before this time (UNIX epoch milliseconds)",
    ),
];

type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn filter(query: QueryPairs, default_limit: u64, max_limit: u64) -> Result<CdrFilter, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::invalid(None, e.body_text()))?;
    let mut f = CdrFilter {
        limit: default_limit,
        ..CdrFilter::default()
    };
    let number = |name: &str, v: &str| {
        v.parse::<u64>()
            .map_err(|_| ApiError::invalid(Some(name), format!("{name} must be a whole number")))
    };
    for (name, value) in pairs {
        match name.as_str() {
            "global_call_id" => f.global_call_id = Some(value),
            "calling" => f.calling = Some(value),
            "called" => f.called = Some(value),
            "from" => f.from_ms = Some(number("from", &value)?),
            "to" => f.to_ms = Some(number("to", &value)?),
            "offset" => f.offset = number("offset", &value)?,
            "limit" => {
                f.limit = number("limit", &value)
                    .ok()
                    .filter(|l| (1..=max_limit).contains(l))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            Some("limit"),
                            format!("limit must be a whole number from 1 to {max_limit}"),
                        )
                    })?
            }
            _ => {
                let known: Vec<&str> = FILTERS.iter().map(|(n, _)| *n).collect();
                return Err(ApiError::invalid(
                    Some(&name),
                    format!(
                        "CDRs have no filter {name:?}; use {}, or page with offset and limit",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(f)
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let f = filter(query, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = state.store.list_cdrs(&f).await.map_err(ApiError::store)?;
    Ok(Json(json!({
        "items": page.items,
        "total": page.total,
        "offset": f.offset,
        "limit": f.limit,
    })))
}

pub async fn export(
    caller: Caller,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let f = filter(query, CSV_DEFAULT_LIMIT, CSV_MAX_LIMIT)?;
    let page = state.store.list_cdrs(&f).await.map_err(ApiError::store)?;
    let csv = tether_store::cdr::to_csv(&page.items).map_err(ApiError::store)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cdrs.csv\"".to_owned(),
            ),
            (
                header::HeaderName::from_static("x-total-count"),
                page.total.to_string(),
            ),
        ],
        csv,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::FromRequestParts;
    use axum::http::Request;

    async fn parse(q: &str) -> Result<CdrFilter, ApiError> {
        let req = Request::builder()
            .uri(format!("/api/v1/cdrs?{q}"))
            .body(())
            .expect("request");
        let (mut parts, ()) = req.into_parts();
        let query = Query::<Vec<(String, String)>>::from_request_parts(&mut parts, &()).await;
        filter(query, DEFAULT_LIMIT, MAX_LIMIT)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn filters() {
        let f = parse("global_call_id=7&calling=408&called=2000&from=1&to=2&offset=3&limit=4")
            .await
            .expect("all filters");
        assert_eq!(
            f,
            CdrFilter {
                global_call_id: Some("7".into()),
                calling: Some("408".into()),
                called: Some("2000".into()),
                from_ms: Some(1),
                to_ms: Some(2),
                offset: 3,
                limit: 4,
            }
        );
        assert_eq!(parse("").await.expect("none").limit, DEFAULT_LIMIT);
        assert!(parse("limit=0").await.is_err());
        assert!(parse("limit=1001").await.is_err());
        assert!(parse("from=yesterday").await.is_err());
        assert!(parse("caller=1").await.is_err());
    }
}
