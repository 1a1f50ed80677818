//! `tether ctl import` and `export`: bulk CSV through `/api/v1/bulk/{collection}`. An import
//! prints the server's report — counts, and a table of every failed row — and fails (exit 1)
//! when any row failed; an export writes the CSV as the server sends it.

use std::io::Write;

use serde_json::Value;

use super::args::{ExportArgs, ImportArgs};
use super::error::CtlError;
use super::objects::read_input;
use super::table::{cell, Table};
use super::{emit, Ctx};
use crate::api::BASE;

pub fn import(ctx: &Ctx, a: &ImportArgs) -> Result<(), CtlError> {
    let kind = a.kind.kind();
    let csv = read_input(&a.file)?;
    let mut path = format!("{BASE}/bulk/{}", kind.collection());
    if a.dry_run {
        path.push_str("?dry_run=true");
    }
    let reply = ctx
        .client
        .request("POST", &path, Some(("text/csv", csv.into_bytes())))?;
    // 200 and 422 carry the report; anything else is an ordinary error.
    let report = match reply.json() {
        Ok(v) if matches!(reply.status, 200 | 422) && v.get("rows").is_some() => v,
        _ => return Err(CtlError::from_reply(reply.status, &reply.body)),
    };
    let errors = report
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let n = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (rows, created, updated) = (n("rows"), n("created"), n("updated"));
    let collection = kind.collection();
    if ctx.json {
        emit(&format!("{report:#}\n"));
    } else if errors.is_empty() {
        let summary = if a.dry_run {
            format!(
                "{collection}: {} checked: {created} would be created, {updated} updated (dry \
                 run: nothing written)\n",
                rows_text(rows)
            )
        } else {
            format!(
                "{collection}: {} committed: {created} created, {updated} updated\n",
                rows_text(rows)
            )
        };
        emit(&summary);
    } else {
        let mut t = Table::new(["ROW", "CODE", "FIELD", "MESSAGE"]);
        for e in &errors {
            t.push([
                cell(e.get("row")),
                cell(e.get("code")),
                cell(e.get("field")),
                cell(e.get("message")),
            ]);
        }
        emit(&t.render());
    }
    if errors.is_empty() {
        return Ok(());
    }
    let mut failed: Vec<String> = errors.iter().map(|e| cell(e.get("row"))).collect();
    failed.dedup();
    let what = if failed.iter().all(|r| r != "-") {
        format!(
            "{} of {} failed (row{} {})",
            failed.len(),
            rows_text(rows),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )
    } else {
        "the file was refused".to_owned()
    };
    Err(CtlError::Failed(format!(
        "{collection}: {what}; nothing was written"
    )))
}

fn rows_text(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

pub fn export(ctx: &Ctx, a: &ExportArgs) -> Result<(), CtlError> {
    let kind = a.kind.kind();
    let reply = ctx
        .client
        .request("GET", &format!("{BASE}/bulk/{}", kind.collection()), None)?
        .ok()?;
    match &a.output {
        Some(path) => {
            std::fs::write(path, &reply.body).map_err(|error| CtlError::File {
                path: path.display().to_string(),
                error,
            })?;
            let rows = reply
                .body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
                .saturating_sub(1);
            eprintln!("wrote {rows} {} to {}", kind.collection(), path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&reply.body).and_then(|()| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(CtlError::File {
                        path: "standard output".into(),
                        error: e,
                    });
                }
            }
        }
    }
    Ok(())
}
