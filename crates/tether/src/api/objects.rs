//! List / get / create / update / delete for every kind of provisioning object, generic over
//! [`Kind`]: `/api/v1/{collection}` and `/api/v1/{collection}/{key…}`.
//!
//! Administrators see and write everything. End users see only themselves, their devices and
//! those devices' lines and remote destinations, and write only remote destinations (the store
//! enforces ownership on writes and verifies reachability; this room filters reads).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tether_store::{Change, Key, Kind, Object, Snapshot};

use super::auth::Caller;
use super::error::ApiError;
use super::{collection_path, encode_segment, with_model, AppState};

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page.
pub const MAX_LIMIT: usize = 1000;

/// The kinds an end user may read (their own objects only).
const END_USER_READABLE: [Kind; 4] = [
    Kind::User,
    Kind::Device,
    Kind::Line,
    Kind::RemoteDestination,
];

type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;
type KeyPath = Result<Path<HashMap<String, String>>, PathRejection>;

pub async fn list(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::invalid(None, e.body_text()))?;
    list_items(&caller, kind, &state, pairs)
}

/// A page of the objects of `kind` that `caller` may see and that match the filters in
/// `pairs` (which also carry `offset` and `limit`).
pub(super) fn list_items(
    caller: &Caller,
    kind: Kind,
    state: &AppState,
    pairs: Vec<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    end_user_may_read(caller, kind)?;
    let mut offset = 0usize;
    let mut limit = DEFAULT_LIMIT;
    let mut filters = Vec::new();
    let known = fields(kind);
    for (name, value) in pairs {
        match name.as_str() {
            "offset" => {
                offset = value.parse().map_err(|_| {
                    ApiError::invalid(Some("offset"), "offset must be a whole number")
                })?
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            Some("limit"),
                            format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                        )
                    })?
            }
            "password" => {
                return Err(ApiError::invalid(
                    Some("password"),
                    "password is write-only and cannot be filtered on",
                ))
            }
            f if known.iter().any(|k| k == f) => filters.push((name, value)),
            _ => {
                return Err(ApiError::invalid(
                    Some(&name),
                    format!(
                        "{} have no field {name:?}; filter on {}, or page with offset and limit",
                        kind.collection(),
                        known.join(", ")
                    ),
                ))
            }
        }
    }
    let snap = state.store.snapshot();
    let selected: Vec<Value> = snap
        .data()
        .list(kind)
        .into_iter()
        .filter(|o| visible(&snap, caller, o))
        .map(|o| o.to_json())
        .filter(|v| {
            filters
                .iter()
                .all(|(f, want)| v.get(f).is_some_and(|x| matches(x, want)))
        })
        .collect();
    let total = selected.len();
    let items: Vec<Value> = selected.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({
        "items": items,
        "total": total,
        "offset": offset,
        "limit": limit,
    })))
}

pub async fn get(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    path: KeyPath,
) -> Result<Json<Value>, ApiError> {
    end_user_may_read(&caller, kind)?;
    let key = path_key(kind, path)?;
    let snap = state.store.snapshot();
    let Some(object) = snap.data().get(kind, &key) else {
        return Err(not_found(kind, &key));
    };
    if !visible(&snap, &caller, &object) {
        return Err(ApiError::forbidden(format!(
            "{} {key} is not yours",
            kind.name()
        )));
    }
    Ok(Json(object.to_json()))
}

pub async fn create(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    may_write(&caller, kind)?;
    let object = decode(kind, &body?)?;
    create_object(&caller, kind, &state, object).await
}

/// Creates `object`: 201 with its stored form and a Location header.
pub(super) async fn create_object(
    caller: &Caller,
    kind: Kind,
    state: &AppState,
    object: Object,
) -> Result<Response, ApiError> {
    may_write(caller, kind)?;
    let key = object.key();
    state
        .store
        .write(&caller.origin(), vec![Change::Create(object.clone())])
        .await
        .map_err(ApiError::store)?;
    let stored = stored_or(state, kind, &key, object);
    let mut location = collection_path(kind);
    for part in key.parts() {
        location.push('/');
        location.push_str(&encode_segment(part));
    }
    let mut response = (StatusCode::CREATED, Json(stored.to_json())).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn update(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    path: KeyPath,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    may_write(&caller, kind)?;
    let key = path_key(kind, path)?;
    let object = decode(kind, &body?)?;
    let body_key = object.key();
    if body_key != key {
        let field = kind
            .key_fields()
            .iter()
            .zip(key.parts().into_iter().zip(body_key.parts()))
            .find(|(_, (a, b))| a != b)
            .map(|(f, _)| *f);
        return Err(ApiError::invalid(
            field,
            format!(
                "the body is {} {body_key} but the path names {key}; a key cannot be changed \
                 (create the new object and delete the old one)",
                kind.name()
            ),
        ));
    }
    state
        .store
        .write(&caller.origin(), vec![Change::Update(object.clone())])
        .await
        .map_err(ApiError::store)?;
    Ok(Json(stored_or(&state, kind, &key, object).to_json()))
}

pub async fn delete(
    caller: Caller,
    Extension(kind): Extension<Kind>,
    State(state): State<AppState>,
    path: KeyPath,
) -> Result<StatusCode, ApiError> {
    may_write(&caller, kind)?;
    let key = path_key(kind, path)?;
    state
        .store
        .write(&caller.origin(), vec![Change::Delete(kind, key)])
        .await
        .map_err(ApiError::store)?;
    Ok(StatusCode::NO_CONTENT)
}

/// End users read only users, devices, lines and remote destinations (their own).
fn end_user_may_read(caller: &Caller, kind: Kind) -> Result<(), ApiError> {
    match caller {
        Caller::EndUser { user } if !END_USER_READABLE.contains(&kind) => {
            Err(ApiError::forbidden(format!(
                "user {user} does not have the admin role, so cannot read {}",
                kind.collection()
            )))
        }
        _ => Ok(()),
    }
}

/// End users write only remote destinations (and the store checks they are theirs).
fn may_write(caller: &Caller, kind: Kind) -> Result<(), ApiError> {
    match caller {
        Caller::Admin { .. } => Ok(()),
        Caller::EndUser { .. } if kind == Kind::RemoteDestination => Ok(()),
        Caller::EndUser { user } => Err(ApiError::forbidden(format!(
            "user {user} does not have the admin role; end users may only manage the remote \
             destinations of their own devices"
        ))),
    }
}

/// The object as the store now holds it (passwords dropped), or the one written.
fn stored_or(state: &AppState, kind: Kind, key: &Key, written: Object) -> Object {
    state
        .store
        .snapshot()
        .data()
        .get(kind, key)
        .unwrap_or(match written {
            Object::User(mut u) => {
                u.password = None;
                Object::User(u)
            }
            other => other,
        })
}

fn not_found(kind: Kind, key: &Key) -> ApiError {
    ApiError::not_found(format!("{} {key} does not exist", kind.name()))
}

/// Whether `caller` may read `object`.
fn visible(snap: &Snapshot, caller: &Caller, object: &Object) -> bool {
    let Caller::EndUser { user } = caller else {
        return true;
    };
    let owns = |device: &str| {
        snap.device(device)
            .is_some_and(|d| d.owner.as_deref() == Some(user.as_str()))
    };
    match object {
        Object::User(u) => &u.id == user,
        Object::Device(d) => d.owner.as_deref() == Some(user.as_str()),
        Object::Line(l) => owns(&l.device),
        Object::RemoteDestination(r) => owns(&r.device),
        _ => false,
    }
}

/// The key named by the path's `{param}`s.
fn path_key(kind: Kind, path: KeyPath) -> Result<Key, ApiError> {
    let Path(params) = path.map_err(|e| ApiError::invalid(None, e.body_text()))?;
    let part = |f: &str| {
        params
            .get(f)
            .cloned()
            .ok_or_else(|| ApiError::invalid(Some(f), format!("the path lacks {f}")))
    };
    match kind.key_fields() {
        [a] => Ok(Key::One(part(a)?)),
        [a, b] => Ok(Key::Two(part(a)?, part(b)?)),
        _ => Err(ApiError::invalid(None, "unsupported key")),
    }
}

/// Compares a field's JSON value with a query-string value: strings as they are, booleans as
/// `true`/`false`, numbers in decimal, null as the empty string, a list if any element matches.
fn matches(value: &Value, wanted: &str) -> bool {
    match value {
        Value::Null => wanted.is_empty(),
        Value::String(s) => s == wanted,
        Value::Bool(b) => wanted == if *b { "true" } else { "false" },
        Value::Number(n) => n.to_string() == wanted,
        Value::Array(a) => a.iter().any(|v| matches(v, wanted)),
        // Nested objects (pattern transformations) are not filterable.
        Value::Object(_) => false,
    }
}

/// The top-level field names of `kind`, from its JSON Schema.
pub fn fields(kind: Kind) -> &'static [String] {
    static FIELDS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let all = FIELDS.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| {
                let schema = with_model!(*k, T, _w => schemars::schema_for!(T));
                schema
                    .as_value()
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default()
            })
            .collect()
    });
    let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    all.get(i).map(Vec::as_slice).unwrap_or(&[])
}

/// Decodes a JSON body as an object of `kind`; the error names the field, or the line and
/// column of a syntax error.
pub fn decode(kind: Kind, body: &[u8]) -> Result<Object, ApiError> {
    with_model!(kind, T, wrap => typed::<T>(body).map(wrap))
}

/// Decodes a JSON body as `T`; errors name the field or the line and column.
pub(super) fn typed<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end()
        .map_err(|e| ApiError::invalid(None, format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.inner();
    let field = if path.is_empty() || path == "." {
        quoted_field(&inner.to_string())
    } else {
        Some(path)
    };
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = match &field {
                Some(f) => format!("field {f}: {inner}"),
                None => inner.to_string(),
            };
            ApiError::invalid(field.as_deref(), message)
        }
        _ => ApiError::invalid(None, format!("malformed JSON: {inner}")),
    }
}

/// The field serde names in "unknown field `x`" / "missing field `x`".
fn quoted_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_forms() {
        assert!(matches(&json!("alice"), "alice"));
        assert!(matches(&json!(true), "true"));
        assert!(!matches(&json!(true), "1"));
        assert!(matches(&json!(4), "4"));
        assert!(matches(&Value::Null, ""));
        assert!(matches(&json!(["Internal", "PSTN"]), "PSTN"));
    }

    #[test]
    fn fields_come_from_the_schema() {
        let f = fields(Kind::RemoteDestination);
        assert!(f.iter().any(|x| x == "device") && f.iter().any(|x| x == "active"));
        assert!(fields(Kind::User).iter().any(|x| x == "mobility_enabled"));
        for k in Kind::ALL {
            for key in k.key_fields() {
                assert!(fields(k).iter().any(|x| x == key), "{k:?} {key}");
            }
        }
    }

    #[test]
    fn decode_errors_name_the_field() {
        let e = decode(Kind::User, br#"{"id":"a","max_remote_destinations":"x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("max_remote_destinations"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = decode(Kind::User, br#"{"id":"a","colour":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"), "{}", e.message);
        let e = decode(Kind::RemoteDestination, br#"{"device":"d","name":"n"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("number"), "{}", e.message);
        let e = decode(Kind::User, b"{\n\"id\": }").unwrap_err();
        assert!(e.message.contains("line 2"), "{}", e.message);
        let e = decode(Kind::User, br#"{"id":"a"} x"#).unwrap_err();
        assert!(e.message.contains("trailing"), "{}", e.message);
        let e = decode(
            Kind::Pattern,
            br#"{"partition":"P","pattern":"9.!","kind":"route","called":{"prefix":5}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("called.prefix"));
        assert!(matches!(
            decode(Kind::Partition, br#"{"name":"P"}"#),
            Ok(Object::Partition(_))
        ));
    }
}
