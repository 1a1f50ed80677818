//! The error half of a response: a stable code clients match on, a message for people, and
//! the field at fault when there is one.
//!
//! Codes come from three places: this crate's own (protocol, authentication, authorization,
//! the T-Server contract), the call engine's ([`tether_b2bua::ControlError::code`]) and the
//! store's ([`tether_store::Code`]), passed through unchanged so a refused RD reads
//! `RD_NOT_REACHABLE` everywhere (SPEC §1, §3).

use tether_b2bua::ControlError;
use tether_store::{Code, StoreError};

/// Why a request failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The text is not JSON, or not a JSON object.
    InvalidJson,
    /// The text is longer than the configured maximum.
    MessageTooLarge,
    /// `type` names no request this interface knows.
    UnknownRequest,
    /// A field is missing or has a bad value (`field` names it).
    InvalidParameter,
    /// Only `Authenticate` is accepted before authentication succeeds.
    NotAuthenticated,
    /// The session has authenticated already.
    AlreadyAuthenticated,
    /// Wrong user name, password or token.
    AuthenticationFailed,
    /// The user exists but may not use the CTI API (`cti_enabled` is false).
    CtiNotEnabled,
    /// No such device (or, where a CTI remote device is needed, not one).
    InvalidDevice,
    /// The device is neither the user's own nor one they are associated with.
    PrivilegeViolation,
    /// No monitor with that cross-reference id in this session.
    InvalidMonitor,
    /// The session monitors as many devices as it may.
    MonitorLimitExceeded,
    /// As many clients as allowed monitor the device already (SPEC §7: five).
    ClientLimitExceeded,
    /// Only the client that registered last (the controller) may deactivate or change the
    /// device's active remote destination.
    NotController,
    /// An earlier request of the same kind is still being carried out.
    RequestInProgress,
    /// The session has as many requests waiting for the store as it may.
    TooManyRequests,
    /// The call engine refused ([`ControlError::code`]).
    Engine(&'static str),
    /// The store refused the write.
    Store(Code),
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "INVALID_JSON",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::UnknownRequest => "UNKNOWN_REQUEST",
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::NotAuthenticated => "NOT_AUTHENTICATED",
            ErrorCode::AlreadyAuthenticated => "ALREADY_AUTHENTICATED",
            ErrorCode::AuthenticationFailed => "AUTHENTICATION_FAILED",
            ErrorCode::CtiNotEnabled => "CTI_NOT_ENABLED",
            ErrorCode::InvalidDevice => "INVALID_DEVICE",
            ErrorCode::PrivilegeViolation => "PRIVILEGE_VIOLATION",
            ErrorCode::InvalidMonitor => "INVALID_MONITOR",
            ErrorCode::MonitorLimitExceeded => "MONITOR_LIMIT_EXCEEDED",
            ErrorCode::ClientLimitExceeded => "CLIENT_LIMIT_EXCEEDED",
            ErrorCode::NotController => "NOT_CONTROLLER",
            ErrorCode::RequestInProgress => "REQUEST_IN_PROGRESS",
            ErrorCode::TooManyRequests => "TOO_MANY_REQUESTS",
            ErrorCode::Engine(code) => code,
            ErrorCode::Store(Code::Forbidden) => "PRIVILEGE_VIOLATION",
            ErrorCode::Store(Code::InvalidField) => "INVALID_PARAMETER",
            ErrorCode::Store(code) => code.as_str(),
        }
    }
}

/// A refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtiError {
    pub code: ErrorCode,
    pub message: String,
    /// The request field at fault.
    pub field: Option<String>,
}

impl CtiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> CtiError {
        CtiError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// `INVALID_PARAMETER` about `field`.
    pub fn param(field: &str, message: impl Into<String>) -> CtiError {
        CtiError {
            code: ErrorCode::InvalidParameter,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn engine(e: &ControlError) -> CtiError {
        CtiError::new(ErrorCode::Engine(e.code()), e.to_string())
    }

    /// The first violation's code; every violation's message.
    pub fn store(e: &StoreError) -> CtiError {
        let violations = e.violations();
        let message: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        CtiError {
            code: ErrorCode::Store(e.code()),
            message: message.join("; "),
            field: violations.first().and_then(|v| v.field.clone()),
        }
    }
}

impl std::fmt::Display for CtiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for CtiError {}
