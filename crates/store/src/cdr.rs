//! Call detail records (SPEC.md §6): the rows of the `cdrs` table, written in batches, read
//! back page by page with filters, and exported as CSV under the CUCM CDR column names.
//!
//! This room knows the table and its columns; it knows nothing of calls. The call engine's
//! record is turned into a [`CdrRow`] by the binary that drives it.

use schemars::JsonSchema;
use serde::Serialize;
use std::sync::OnceLock;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::{AnyPool, Arguments, Row};

use crate::db::Backend;
use crate::error::StoreError;

/// One call detail record: a leg pair, answered or not. Times are UNIX epoch milliseconds (0 =
/// never happened); `duration` is whole seconds from connect to disconnect; causes are Q.850.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CdrRow {
    /// Assigned by the database on insert (ignored by [`insert`]); orders records as stored.
    pub id: i64,
    /// 1: a call record (CUCM `cdrRecordType`).
    pub cdr_record_type: u32,
    /// Shared by every leg of one call (`globalCallID_callId`).
    pub global_call_id: String,
    /// The calling leg's SIP Call-ID.
    pub orig_leg_call_identifier: String,
    /// The called leg's SIP Call-ID (empty when no leg answered).
    pub dest_leg_identifier: String,
    pub date_time_origination: u64,
    pub date_time_connect: u64,
    pub date_time_disconnect: u64,
    pub duration: u64,
    pub calling_party_number: String,
    pub original_called_party_number: String,
    pub final_called_party_number: String,
    pub last_redirect_dn: String,
    pub orig_device_name: String,
    pub dest_device_name: String,
    pub orig_cause_value: u32,
    pub dest_cause_value: u32,
    /// The trunk each side used (CUCM `origSpan` / `destSpan`).
    pub orig_span: String,
    pub dest_span: String,
    pub mobile_calling_party_number: String,
    /// The remote destination the call was extended to; never shown to a party.
    pub final_mobile_called_party_number: String,
    pub mobile_call_type: u32,
}

/// Which records to read. Every filter is optional; `called` matches the original or the final
/// called number; the time range is on `date_time_origination` (from inclusive, to exclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CdrFilter {
    pub global_call_id: Option<String>,
    pub calling: Option<String>,
    pub called: Option<String>,
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
    pub offset: u64,
    pub limit: u64,
}

/// A page of records, oldest origination first, and how many match in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CdrPage {
    pub items: Vec<CdrRow>,
    pub total: u64,
}

/// Columns in table order, without `id`.
const COLUMNS: [&str; 22] = [
    "cdr_record_type",
    "global_call_id",
    "orig_leg_call_identifier",
    "dest_leg_identifier",
    "date_time_origination",
    "date_time_connect",
    "date_time_disconnect",
    "duration",
    "calling_party_number",
    "original_called_party_number",
    "final_called_party_number",
    "last_redirect_dn",
    "orig_device_name",
    "dest_device_name",
    "orig_cause_value",
    "dest_cause_value",
    "orig_span",
    "dest_span",
    "mobile_calling_party_number",
    "final_mobile_called_party_number",
    "mobile_call_type",
    // Kept last so the bind order below reads like the table.
    "id",
];

/// Rows per INSERT statement: 21 values each, 1,050 parameters (SQLite allows 32,766).
/// On SQLite the parameters are anonymous `?`s, bound by position: sqlx looks every parameter
/// up by name first, and for `$n` names SQLite walks its list of names each time, which made
/// binding quadratic in the statement's parameters (most of the CDR writer's time at 100 rows
/// a statement, 3 % of Tether's CPU at 10).
const ROWS_PER_STATEMENT: usize = 50;

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The INSERT statement for `rows` rows: `?` placeholders on SQLite, `$n` on PostgreSQL.
fn insert_sql(backend: Backend, rows: usize) -> String {
    let cols = &COLUMNS[..COLUMNS.len() - 1];
    let mut sql = format!("INSERT INTO cdrs ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// The statement for a full chunk of [`ROWS_PER_STATEMENT`] rows, built once per backend.
fn full_chunk_sql(backend: Backend) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let cell = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    cell.get_or_init(|| insert_sql(backend, ROWS_PER_STATEMENT))
}

/// Binds one row's values in column order. Text is bound by reference: nothing is copied
/// until the driver hands it to the database.
fn bind_row<'q>(args: &mut AnyArguments<'q>, r: &'q CdrRow) -> Result<(), BoxDynError> {
    args.add(i64::from(r.cdr_record_type))?;
    args.add(r.global_call_id.as_str())?;
    args.add(r.orig_leg_call_identifier.as_str())?;
    args.add(r.dest_leg_identifier.as_str())?;
    args.add(big(r.date_time_origination))?;
    args.add(big(r.date_time_connect))?;
    args.add(big(r.date_time_disconnect))?;
    args.add(big(r.duration))?;
    args.add(r.calling_party_number.as_str())?;
    args.add(r.original_called_party_number.as_str())?;
    args.add(r.final_called_party_number.as_str())?;
    args.add(r.last_redirect_dn.as_str())?;
    args.add(r.orig_device_name.as_str())?;
    args.add(r.dest_device_name.as_str())?;
    args.add(i64::from(r.orig_cause_value))?;
    args.add(i64::from(r.dest_cause_value))?;
    args.add(r.orig_span.as_str())?;
    args.add(r.dest_span.as_str())?;
    args.add(r.mobile_calling_party_number.as_str())?;
    args.add(r.final_mobile_called_party_number.as_str())?;
    args.add(i64::from(r.mobile_call_type))?;
    Ok(())
}

/// Inserts `rows` in one transaction: all or none.
pub async fn insert(pool: &AnyPool, backend: Backend, rows: &[CdrRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let per_row = COLUMNS.len() - 1;
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let partial;
        let sql = if chunk.len() == ROWS_PER_STATEMENT {
            full_chunk_sql(backend)
        } else {
            partial = insert_sql(backend, chunk.len());
            partial.as_str()
        };
        let mut args = AnyArguments::default();
        args.reserve(chunk.len() * per_row, 0);
        for r in chunk {
            bind_row(&mut args, r).map_err(sqlx::Error::Encode)?;
        }
        sqlx::query_with(sql, args).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A value bound to a filter placeholder.
enum Arg {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    sql: &'q str,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q
}

/// The records `filter` selects, one page.
pub async fn list(pool: &AnyPool, filter: &CdrFilter) -> Result<CdrPage, StoreError> {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let next = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        format!("${}", args.len())
    };
    if let Some(g) = &filter.global_call_id {
        let p = next(&mut args, Arg::Text(g.clone()));
        clauses.push(format!("global_call_id = {p}"));
    }
    if let Some(c) = &filter.calling {
        let p = next(&mut args, Arg::Text(c.clone()));
        clauses.push(format!("calling_party_number = {p}"));
    }
    if let Some(c) = &filter.called {
        let p1 = next(&mut args, Arg::Text(c.clone()));
        let p2 = next(&mut args, Arg::Text(c.clone()));
        clauses.push(format!(
            "(original_called_party_number = {p1} OR final_called_party_number = {p2})"
        ));
    }
    if let Some(t) = filter.from_ms {
        let p = next(&mut args, Arg::Int(big(t)));
        clauses.push(format!("date_time_origination >= {p}"));
    }
    if let Some(t) = filter.to_ms {
        let p = next(&mut args, Arg::Int(big(t)));
        clauses.push(format!("date_time_origination < {p}"));
    }
    let where_ = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM cdrs{where_}");
    let mut tx = pool.begin().await?;
    let total: i64 = bind_all(&count_sql, &args)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    let select_sql = format!(
        "SELECT {} FROM cdrs{where_} ORDER BY date_time_origination, id LIMIT {} OFFSET {}",
        COLUMNS.join(", "),
        big(filter.limit),
        big(filter.offset)
    );
    let rows = bind_all(&select_sql, &args).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Ok(CdrPage {
        items,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// The highest numeric global call id stored, if any (a restarted node continues after it).
pub async fn last_global_call_id(pool: &AnyPool) -> Result<Option<u64>, StoreError> {
    let v: Option<i64> = sqlx::query("SELECT MAX(CAST(global_call_id AS BIGINT)) AS m FROM cdrs")
        .fetch_one(pool)
        .await?
        .try_get("m")?;
    Ok(v.and_then(|v| u64::try_from(v).ok()))
}

fn decode(r: &AnyRow) -> Result<CdrRow, StoreError> {
    let s = |c: &str| r.try_get::<String, _>(c).map_err(StoreError::from);
    let i = |c: &str| r.try_get::<i64, _>(c).map_err(StoreError::from);
    let u = |c: &str| {
        let v = i(c)?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("cdrs.{c} = {v}")))
    };
    let small = |c: &str| {
        let v = i(c)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("cdrs.{c} = {v}")))
    };
    Ok(CdrRow {
        id: i("id")?,
        cdr_record_type: small("cdr_record_type")?,
        global_call_id: s("global_call_id")?,
        orig_leg_call_identifier: s("orig_leg_call_identifier")?,
        dest_leg_identifier: s("dest_leg_identifier")?,
        date_time_origination: u("date_time_origination")?,
        date_time_connect: u("date_time_connect")?,
        date_time_disconnect: u("date_time_disconnect")?,
        duration: u("duration")?,
        calling_party_number: s("calling_party_number")?,
        original_called_party_number: s("original_called_party_number")?,
        final_called_party_number: s("final_called_party_number")?,
        last_redirect_dn: s("last_redirect_dn")?,
        orig_device_name: s("orig_device_name")?,
        dest_device_name: s("dest_device_name")?,
        orig_cause_value: small("orig_cause_value")?,
        dest_cause_value: small("dest_cause_value")?,
        orig_span: s("orig_span")?,
        dest_span: s("dest_span")?,
        mobile_calling_party_number: s("mobile_calling_party_number")?,
        final_mobile_called_party_number: s("final_mobile_called_party_number")?,
        mobile_call_type: small("mobile_call_type")?,
    })
}

/// The CSV export's header: CUCM CDR field names, in CUCM's order.
pub const CSV_COLUMNS: [&str; 21] = [
    "cdrRecordType",
    "globalCallID_callId",
    "origLegCallIdentifier",
    "dateTimeOrigination",
    "origSpan",
    "callingPartyNumber",
    "origCause_value",
    "destLegIdentifier",
    "destSpan",
    "originalCalledPartyNumber",
    "finalCalledPartyNumber",
    "destCause_value",
    "dateTimeConnect",
    "dateTimeDisconnect",
    "lastRedirectDn",
    "duration",
    "origDeviceName",
    "destDeviceName",
    "mobileCallingPartyNumber",
    "finalMobileCalledPartyNumber",
    "mobileCallType",
];

/// Renders `rows` as CSV with [`CSV_COLUMNS`]. As in CUCM files, times are whole UNIX epoch
/// seconds (0 = never happened) and `duration` is seconds.
pub fn to_csv(rows: &[CdrRow]) -> Result<String, StoreError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| StoreError::Corrupt(format!("CSV export: {e}"));
    w.write_record(CSV_COLUMNS).map_err(csv_err)?;
    for r in rows {
        let secs = |ms: u64| (ms / 1000).to_string();
        w.write_record([
            r.cdr_record_type.to_string(),
            r.global_call_id.clone(),
            r.orig_leg_call_identifier.clone(),
            secs(r.date_time_origination),
            r.orig_span.clone(),
            r.calling_party_number.clone(),
            r.orig_cause_value.to_string(),
            r.dest_leg_identifier.clone(),
            r.dest_span.clone(),
            r.original_called_party_number.clone(),
            r.final_called_party_number.clone(),
            r.dest_cause_value.to_string(),
            secs(r.date_time_connect),
            secs(r.date_time_disconnect),
            r.last_redirect_dn.clone(),
            r.duration.to_string(),
            r.orig_device_name.clone(),
            r.dest_device_name.clone(),
            r.mobile_calling_party_number.clone(),
            r.final_mobile_called_party_number.clone(),
            r.mobile_call_type.to_string(),
        ])
        .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| StoreError::Corrupt(format!("CSV export: {e}")))?;
    String::from_utf8(bytes).map_err(|e| StoreError::Corrupt(format!("CSV export: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_cucm_names_and_seconds() {
        let row = CdrRow {
            cdr_record_type: 1,
            global_call_id: "42".into(),
            orig_leg_call_identifier: "abc@h".into(),
            date_time_origination: 1_700_000_000_999,
            date_time_connect: 1_700_000_002_000,
            date_time_disconnect: 1_700_000_032_500,
            duration: 30,
            calling_party_number: "4085551234".into(),
            original_called_party_number: "2000".into(),
            final_called_party_number: "2000".into(),
            final_mobile_called_party_number: "+14157777777".into(),
            dest_cause_value: 16,
            ..CdrRow::default()
        };
        let text = to_csv(&[row]).expect("csv");
        let mut lines = text.lines();
        let header = lines.next().expect("header");
        assert!(header.starts_with(
            "cdrRecordType,globalCallID_callId,origLegCallIdentifier,dateTimeOrigination,"
        ));
        for name in [
            "finalMobileCalledPartyNumber",
            "lastRedirectDn",
            "origCause_value",
            "destCause_value",
        ] {
            assert!(header.split(',').any(|h| h == name), "{name}");
        }
        let row = lines.next().expect("row");
        assert_eq!(
            row,
            "1,42,abc@h,1700000000,,4085551234,0,,,2000,2000,16,1700000002,1700000032,,30,,,,+14157777777,0"
        );
        assert_eq!(COLUMNS.len(), CSV_COLUMNS.len() + 1);
    }
}
