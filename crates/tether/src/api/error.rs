//! The one error shape of the admin API, `{code, message, field, object, errors}`, and the HTTP
//! status each code maps to. Store violations, malformed bodies, bad queries and failed
//! authentication all end here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tether_store::{Code, StoreError, Violation};

/// Codes the API adds to the store's.
pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const INVALID_FIELD: &str = "INVALID_FIELD";
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
pub const DATABASE_ERROR: &str = "DATABASE_ERROR";
pub const UNAVAILABLE: &str = "UNAVAILABLE";

/// One violation in `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

/// An error response (boxed: it travels in every handler's `Result`).
#[derive(Clone, Debug)]
pub struct ApiError(Box<ErrorBody>);

#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Every violation, when there is more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Item>,
    /// Send `WWW-Authenticate` challenges (401).
    #[serde(skip)]
    pub challenge: bool,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorBody {
            status,
            code: code.to_owned(),
            message: message.into(),
            field: None,
            object: None,
            errors: Vec::new(),
            challenge: false,
        }))
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    pub fn invalid(field: Option<&str>, message: impl Into<String>) -> Self {
        let e = ApiError::new(StatusCode::BAD_REQUEST, INVALID_FIELD, message);
        match field {
            Some(f) => e.field(f),
            None => e,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED, message);
        e.0.challenge = true;
        e
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND, message)
    }

    /// A store failure: rule violations keep their codes; a database failure is logged in full
    /// and reported without detail (its text may name hosts or users).
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(violations) if !violations.is_empty() => {
                ApiError::violations(&violations)
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    DATABASE_ERROR,
                    "the database failed; nothing was changed (details are in the server log)",
                )
            }
        }
    }

    /// `violations` is not empty (the caller checks).
    fn violations(violations: &[Violation]) -> Self {
        let items: Vec<Item> = violations
            .iter()
            .map(|v| Item {
                code: v.code.as_str().to_owned(),
                message: v.message.clone(),
                field: v.field.clone(),
                object: v.object.clone(),
            })
            .collect();
        let Some(first) = violations.first() else {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                DATABASE_ERROR,
                "no reason given",
            );
        };
        ApiError(Box::new(ErrorBody {
            status: status_of(first.code),
            code: first.code.as_str().to_owned(),
            message: first.message.clone(),
            field: first.field.clone(),
            object: first.object.clone(),
            errors: if items.len() > 1 { items } else { Vec::new() },
            challenge: false,
        }))
    }
}

/// The HTTP status of a store code.
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists
        | Code::DuplicateRemoteDestination
        | Code::DuplicateDirectoryNumber
        | Code::InUse
        | Code::RdIsDirectoryNumber => StatusCode::CONFLICT,
        Code::RemoteDestinationLimitExceeded
        | Code::LineLimitExceeded
        | Code::MobilityNotEnabled
        | Code::RdNotReachable
        | Code::UnknownReference => StatusCode::UNPROCESSABLE_ENTITY,
        Code::InvalidField => StatusCode::BAD_REQUEST,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::Database => StatusCode::INTERNAL_SERVER_ERROR,
        // A rule added to the store later: the request was understood but breaks it.
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let challenge = self.challenge;
        let mut response = (status, axum::Json(self.0)).into_response();
        if matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::PAYLOAD_TOO_LARGE
        ) {
            // These are answered before the request body is read, and the server then closes
            // the connection: say so, so that a client does not send its next request on it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if challenge {
            let h = response.headers_mut();
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tether\""),
            );
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tether\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            PAYLOAD_TOO_LARGE
        } else {
            INVALID_FIELD
        };
        ApiError::new(status, code, r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_violations_are_all_listed() {
        let e = ApiError::store(StoreError::Rejected(vec![
            Violation::new(Code::RdNotReachable, Some("number"), "a").on("remote_destination d/x"),
            Violation::new(Code::InvalidField, None, "b"),
        ]));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["code"], "RD_NOT_REACHABLE");
        assert_eq!(v["field"], "number");
        assert_eq!(v["object"], "remote_destination d/x");
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["errors"][1]["field"], serde_json::Value::Null);
    }

    #[test]
    fn one_violation_has_no_list_and_field_is_always_present() {
        let e = ApiError::store(StoreError::one(Violation::new(Code::InUse, None, "x")));
        assert_eq!(e.status, StatusCode::CONFLICT);
        let v = serde_json::to_value(&e).expect("json");
        assert!(v.get("errors").is_none());
        assert_eq!(v["field"], serde_json::Value::Null);
    }

    #[test]
    fn database_errors_hide_detail() {
        let e = ApiError::store(StoreError::Config("postgres://u:secret@h/db".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code, DATABASE_ERROR);
        assert!(!e.message.contains("secret"));
    }
}
