//! Bulk CSV import and export (the BAT role) for users, devices, lines and remote destinations.
//!
//! An import reads every row, reports every row that does not decode, and only if all decode
//! submits them as one batch of upserts: all rows commit or none do. A dry run checks the same
//! way and commits nothing. Row numbers count the header as row 1, as a spreadsheet shows them.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Code, StoreError, Violation};
use crate::model::{Change, Kind, Object, Origin};
use crate::store::Store;

/// The kinds of object CSV import/export handles.
pub const BULK_KINDS: [Kind; 4] = [
    Kind::User,
    Kind::Device,
    Kind::Line,
    Kind::RemoteDestination,
];

/// One problem with one row (or, with `row` None, with the file or the batch as a whole).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: Option<u64>,
    pub code: Code,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// What an import did or, for a dry run, would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub kind: String,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub dry_run: bool,
    /// True when the rows were written.
    pub committed: bool,
    pub errors: Vec<RowError>,
}

/// The CSV header for `kind`.
pub fn columns(kind: Kind) -> Option<&'static [&'static str]> {
    Some(match kind {
        Kind::User => &[
            "id",
            "name",
            "mobility_enabled",
            "cti_enabled",
            "max_remote_destinations",
            "admin",
            "password",
            "associated_devices",
        ],
        Kind::Device => &[
            "name",
            "kind",
            "owner",
            "description",
            "display_name",
            "css",
            "reroute_css",
            "route_to_all_rds_when_none_active",
            "sip_username",
            "sip_password",
        ],
        Kind::Line => &[
            "partition",
            "dn",
            "device",
            "position",
            "e164",
            "directory_uri",
            "display_name",
            "call_forward_all",
            "dnd",
        ],
        Kind::RemoteDestination => &[
            "device",
            "name",
            "number",
            "active",
            "ring_schedule",
            "answer_too_soon_ms",
            "answer_too_late_ms",
            "delay_before_ringing_ms",
        ],
        _ => return None,
    })
}

fn not_bulk(kind: Kind) -> StoreError {
    StoreError::one(Violation::new(
        Code::InvalidField,
        None,
        format!(
            "bulk CSV covers users, devices, lines and remote destinations, not {}",
            kind.collection()
        ),
    ))
}

/// Every object of `kind` as CSV, in key order. Passwords are never exported.
pub fn export(store: &Store, kind: Kind) -> Result<String, StoreError> {
    let cols = columns(kind).ok_or_else(|| not_bulk(kind))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let map_err = |e: csv::Error| StoreError::Corrupt(format!("CSV export: {e}"));
    w.write_record(cols).map_err(map_err)?;
    let snap = store.snapshot();
    for obj in snap.data().list(kind) {
        let value = obj.to_json();
        let record: Vec<String> = cols
            .iter()
            .map(|c| match value.get(*c) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                // Lists (a user's associated devices) as one cell, `;` between items.
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                Some(other) => other.to_string(),
            })
            .collect();
        w.write_record(&record).map_err(map_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| StoreError::Corrupt(format!("CSV export: {e}")))?;
    String::from_utf8(bytes).map_err(|e| StoreError::Corrupt(format!("CSV export: {e}")))
}

/// Decodes one CSV cell into the JSON value the object's field expects.
fn cell_value(kind: Kind, column: &str, cell: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let cell = cell.trim();
    let boolean = matches!(
        column,
        "mobility_enabled"
            | "cti_enabled"
            | "admin"
            | "route_to_all_rds_when_none_active"
            | "dnd"
            | "active"
    );
    let number = matches!(
        column,
        "max_remote_destinations"
            | "position"
            | "answer_too_soon_ms"
            | "answer_too_late_ms"
            | "delay_before_ringing_ms"
    );
    let _ = kind;
    if column == "associated_devices" {
        let items: Vec<Value> = cell
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| Value::String(i.to_owned()))
            .collect();
        return Ok(if items.is_empty() {
            Value::Null
        } else {
            Value::Array(items)
        });
    }
    if boolean {
        return match cell.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "f" | "no" | "n" | "0" | "" => Ok(Value::Bool(false)),
            _ => Err(format!("{column} must be true or false, not {cell:?}")),
        };
    }
    if number {
        if cell.is_empty() {
            return Ok(Value::Null);
        }
        return cell
            .parse::<u32>()
            .map(|n| Value::Number(n.into()))
            .map_err(|_| format!("{column} must be a whole number, not {cell:?}"));
    }
    if cell.is_empty() {
        Ok(Value::Null)
    } else {
        Ok(Value::String(cell.to_owned()))
    }
}

/// Imports `csv` as upserts of `kind`; commits all rows or none.
pub async fn import(
    store: &Store,
    kind: Kind,
    csv_text: &str,
    dry_run: bool,
) -> Result<ImportReport, StoreError> {
    let cols = columns(kind).ok_or_else(|| not_bulk(kind))?;
    let mut report = ImportReport {
        kind: kind.collection().to_owned(),
        dry_run,
        ..Default::default()
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(csv_text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            report.errors.push(RowError {
                row: Some(1),
                code: Code::InvalidField,
                message: format!("unreadable header: {e}"),
                field: None,
            });
            return Ok(report);
        }
    };
    for h in &header {
        if !cols.contains(&h.as_str()) {
            report.errors.push(RowError {
                row: Some(1),
                code: Code::InvalidField,
                message: format!("unknown column {h:?}; the columns are {}", cols.join(",")),
                field: Some(h.clone()),
            });
        }
    }
    for key in kind.key_fields() {
        if !header.iter().any(|h| h == key) {
            report.errors.push(RowError {
                row: Some(1),
                code: Code::InvalidField,
                message: format!("the key column {key:?} is missing"),
                field: Some((*key).to_owned()),
            });
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }

    let mut changes = Vec::new();
    let mut row_of: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map(|p| p.line());
                report.errors.push(RowError {
                    row,
                    code: Code::InvalidField,
                    message: e.to_string(),
                    field: None,
                });
                continue;
            }
        };
        report.rows += 1;
        let row = record
            .position()
            .map(|p| p.line())
            .unwrap_or(report.rows as u64 + 1);
        let mut obj = serde_json::Map::new();
        let mut bad = false;
        for (h, cell) in header.iter().zip(record.iter()) {
            match cell_value(kind, h, cell) {
                Ok(serde_json::Value::Null) => {}
                Ok(v) => {
                    obj.insert(h.clone(), v);
                }
                Err(message) => {
                    bad = true;
                    report.errors.push(RowError {
                        row: Some(row),
                        code: Code::InvalidField,
                        message,
                        field: Some(h.clone()),
                    });
                }
            }
        }
        if bad {
            continue;
        }
        match Object::from_json(kind, serde_json::Value::Object(obj)) {
            Ok(o) => {
                let key = format!("{} {}", kind.name(), o.key());
                if let Some(first) = row_of.insert(key.clone(), row) {
                    report.errors.push(RowError {
                        row: Some(row),
                        code: Code::AlreadyExists,
                        message: format!("{key} is also on row {first}"),
                        field: None,
                    });
                    continue;
                }
                changes.push(Change::Upsert(o));
            }
            Err(e) => report.errors.push(RowError {
                row: Some(row),
                code: Code::InvalidField,
                message: e.to_string(),
                field: None,
            }),
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    let result = if dry_run {
        store.dry_run(&Origin::Admin, changes).await
    } else {
        store.write(&Origin::Admin, changes).await
    };
    match result {
        Ok(outcome) => {
            report.created = outcome.created;
            report.updated = outcome.updated;
            report.committed = !dry_run;
        }
        Err(StoreError::Rejected(violations)) => {
            for v in violations {
                let row = v.object.as_ref().and_then(|o| row_of.get(o)).copied();
                report.errors.push(RowError {
                    row,
                    code: v.code,
                    message: v.to_string(),
                    field: v.field,
                });
            }
        }
        Err(other) => return Err(other),
    }
    Ok(report)
}
