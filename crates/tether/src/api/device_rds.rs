//! `/api/v1/devices/{device}/remote-destinations`: one device's remote destinations, the way a
//! self-care or CTI client thinks of them. The same objects, rules and permissions as
//! `/api/v1/remote-destinations`; the device comes from the path. The item routes
//! (`…/{name}`) are the generic object handlers, since their path names the same key fields.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{Map, Value};
use tether_store::{Kind, Object};

use super::auth::Caller;
use super::error::ApiError;
use super::objects::{create_object, decode, list_items, typed};
use super::{AppState, BASE};

pub fn collection_path() -> String {
    format!("{BASE}/devices/{{device}}/remote-destinations")
}

pub fn item_path() -> String {
    format!("{}/{{name}}", collection_path())
}

/// The device named by the path, if the caller may see it.
fn device(
    caller: &Caller,
    state: &AppState,
    path: Result<Path<String>, PathRejection>,
) -> Result<String, ApiError> {
    let Path(name) = path.map_err(|e| ApiError::invalid(Some("device"), e.body_text()))?;
    let snap = state.store.snapshot();
    let Some(d) = snap.device(&name) else {
        return Err(ApiError::not_found(format!("device {name} does not exist")));
    };
    if let Caller::EndUser { user } = caller {
        if d.owner.as_deref() != Some(user.as_str()) {
            return Err(ApiError::forbidden(format!("device {name} is not yours")));
        }
    }
    Ok(name)
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let device = device(&caller, &state, path)?;
    let Query(mut pairs) = query.map_err(|e| ApiError::invalid(None, e.body_text()))?;
    if pairs.iter().any(|(k, _)| k == "device") {
        return Err(ApiError::invalid(
            Some("device"),
            "the device is given by the path",
        ));
    }
    pairs.push(("device".to_owned(), device));
    list_items(&caller, Kind::RemoteDestination, &state, pairs)
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let device = device(&caller, &state, path)?;
    let mut fields: Map<String, Value> = typed(&body?)?;
    match fields.get("device") {
        None => {
            fields.insert("device".to_owned(), Value::String(device));
        }
        Some(Value::String(d)) if *d == device => {}
        Some(_) => {
            return Err(ApiError::invalid(
                Some("device"),
                format!("the body names another device than the path ({device})"),
            ))
        }
    }
    let bytes = serde_json::to_vec(&fields)
        .map_err(|e| ApiError::invalid(None, format!("malformed JSON: {e}")))?;
    let object: Object = decode(Kind::RemoteDestination, &bytes)?;
    create_object(&caller, Kind::RemoteDestination, &state, object).await
}
