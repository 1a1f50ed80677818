//! Store errors: each has a stable code (what clients match on), a message for people, and the
//! field it is about. The REST layer maps codes to HTTP statuses, the CTI layer to CTI errors.

use serde::Serialize;

/// Stable, documented error codes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// The device already has its owner's `max_remote_destinations` RDs.
    RemoteDestinationLimitExceeded,
    /// Another RD in the cluster has an equivalent number.
    DuplicateRemoteDestination,
    /// The RD number is a directory number (or one of its aliases).
    RdIsDirectoryNumber,
    /// After dial rules, the RD number matches no route through the device's reroute CSS.
    RdNotReachable,
    /// The device's owner does not have mobility enabled.
    MobilityNotEnabled,
    /// A device has at most 5 lines.
    LineLimitExceeded,
    /// The same DN already exists in that partition, or an alias is used twice.
    DuplicateDirectoryNumber,
    /// The object does not exist.
    NotFound,
    /// An object with that key exists already.
    AlreadyExists,
    /// A field names an object that does not exist.
    UnknownReference,
    /// The object is still referenced by another object.
    InUse,
    /// A field has a bad value (pattern syntax, number characters, range).
    InvalidField,
    /// The caller may not perform this operation.
    Forbidden,
    /// The database failed; nothing was changed.
    Database,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::RemoteDestinationLimitExceeded => "REMOTE_DESTINATION_LIMIT_EXCEEDED",
            Code::DuplicateRemoteDestination => "DUPLICATE_REMOTE_DESTINATION",
            Code::RdIsDirectoryNumber => "RD_IS_DIRECTORY_NUMBER",
            Code::RdNotReachable => "RD_NOT_REACHABLE",
            Code::MobilityNotEnabled => "MOBILITY_NOT_ENABLED",
            Code::LineLimitExceeded => "LINE_LIMIT_EXCEEDED",
            Code::DuplicateDirectoryNumber => "DUPLICATE_DIRECTORY_NUMBER",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::UnknownReference => "UNKNOWN_REFERENCE",
            Code::InUse => "IN_USE",
            Code::InvalidField => "INVALID_FIELD",
            Code::Forbidden => "FORBIDDEN",
            Code::Database => "DATABASE_ERROR",
        }
    }
}

/// One reason a write was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub code: Code,
    pub message: String,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The object at fault: `kind` and key, e.g. `remote_destination CTRIDalice/Mobile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

impl Violation {
    pub fn new(code: Code, field: Option<&str>, message: impl Into<String>) -> Self {
        Violation {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
            object: None,
        }
    }

    pub fn on(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Why a store operation failed. Nothing was changed when any of these is returned.
#[non_exhaustive]
#[derive(Debug)]
pub enum StoreError {
    /// The write breaks one or more rules; all are listed.
    Rejected(Vec<Violation>),
    /// The database could not be opened, migrated, read or written.
    Database(sqlx::Error),
    /// A migration failed at start-up.
    Migration(sqlx::migrate::MigrateError),
    /// A row in the database does not decode (edited by hand?); names table and key.
    Corrupt(String),
    /// The store was configured wrongly (e.g. a database URL of an unknown kind).
    Config(String),
}

impl StoreError {
    pub fn one(v: Violation) -> Self {
        StoreError::Rejected(vec![v])
    }

    /// The first violation's code, or `Database`.
    pub fn code(&self) -> Code {
        match self {
            StoreError::Rejected(v) => v.first().map(|v| v.code).unwrap_or(Code::Database),
            _ => Code::Database,
        }
    }

    pub fn violations(&self) -> Vec<Violation> {
        match self {
            StoreError::Rejected(v) => v.clone(),
            other => vec![Violation::new(Code::Database, None, other.to_string())],
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Rejected(v) => {
                let mut first = true;
                for x in v {
                    if !first {
                        f.write_str("; ")?;
                    }
                    first = false;
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            StoreError::Database(e) => write!(f, "database error: {e}"),
            StoreError::Migration(e) => write!(f, "database migration failed: {e}"),
            StoreError::Corrupt(s) => write!(f, "stored data does not decode: {s}"),
            StoreError::Config(s) => write!(f, "store configuration: {s}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}
