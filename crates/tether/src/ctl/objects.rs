//! The five verbs every collection has: list (with filters and paging), get, create, update
//! (read, set fields, write back whole) and delete, over `/api/v1/{collection}`.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Map, Value};
use tether_store::Kind;

use super::args::{Assignment, ObjectVerb};
use super::error::CtlError;
use super::{emit, set, table, Ctx};
use crate::api::{encode_segment, BASE};

/// Largest page the API serves.
const PAGE: usize = 1000;

pub fn run(ctx: &Ctx, kind: Kind, verb: &ObjectVerb) -> Result<(), CtlError> {
    match verb {
        ObjectVerb::List {
            filters,
            offset,
            limit,
            all,
        } => list(ctx, kind, filters, offset.unwrap_or(0), *limit, *all),
        ObjectVerb::Get { key } => {
            let v = ctx.client.get(&item_path(kind, key)?)?;
            show_one(ctx, kind, &v);
            Ok(())
        }
        ObjectVerb::Create { file, set: pairs } => {
            let mut object = match file {
                Some(path) => read_json(path)?,
                None if pairs.is_empty() => {
                    return Err(CtlError::Usage(format!(
                        "give the new {} as --file FILE or with --set FIELD=VALUE",
                        kind.name()
                    )))
                }
                None => Value::Object(Map::new()),
            };
            set::apply(kind, &mut object, pairs)?;
            let v = ctx
                .client
                .send_json("POST", &collection_path(kind), &object)?;
            show_one(ctx, kind, &v);
            Ok(())
        }
        ObjectVerb::Update { key, set: pairs } => update(ctx, kind, key, pairs),
        ObjectVerb::Delete { key } => {
            ctx.client.delete(&item_path(kind, key)?)?;
            if !ctx.json {
                emit(&format!("deleted {} {}\n", kind.name(), key.join("/")));
            }
            Ok(())
        }
    }
}

pub fn collection_path(kind: Kind) -> String {
    format!("{BASE}/{}", kind.collection())
}

/// The item path of `key`, which must have one part per key field.
pub fn item_path(kind: Kind, key: &[String]) -> Result<String, CtlError> {
    let fields = kind.key_fields();
    if key.len() != fields.len() {
        let names: Vec<String> = fields.iter().map(|f| f.to_ascii_uppercase()).collect();
        return Err(CtlError::Usage(format!(
            "{} are keyed by {}: give {} key part{}, not {}",
            kind.collection(),
            names.join(" "),
            fields.len(),
            if fields.len() == 1 { "" } else { "s" },
            key.len()
        )));
    }
    let mut path = collection_path(kind);
    for part in key {
        path.push('/');
        path.push_str(&encode_segment(part));
    }
    Ok(path)
}

/// `?a=b&c=d`, every name and value percent-encoded.
pub fn query(pairs: &[(String, String)]) -> String {
    let mut q = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        q.push(if i == 0 { '?' } else { '&' });
        q.push_str(&encode_segment(k));
        q.push('=');
        q.push_str(&encode_segment(v));
    }
    q
}

fn list(
    ctx: &Ctx,
    kind: Kind,
    filters: &[Assignment],
    offset: usize,
    limit: Option<usize>,
    all: bool,
) -> Result<(), CtlError> {
    let page = |offset: usize, limit: Option<usize>| -> Result<Value, CtlError> {
        let mut pairs: Vec<(String, String)> = filters.to_vec();
        if offset > 0 {
            pairs.push(("offset".into(), offset.to_string()));
        }
        if let Some(l) = limit {
            pairs.push(("limit".into(), l.to_string()));
        }
        ctx.client
            .get(&format!("{}{}", collection_path(kind), query(&pairs)))
    };
    let first = page(offset, if all { Some(PAGE) } else { limit })?;
    let total = first.get("total").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut items = items_of(&first);
    if all {
        while offset + items.len() < total {
            let next = items_of(&page(offset + items.len(), Some(PAGE))?);
            if next.is_empty() {
                break;
            }
            items.extend(next);
        }
    }
    if ctx.json {
        let out = if all {
            json!({"items": items, "total": total, "offset": offset})
        } else {
            first
        };
        emit(&format!("{out:#}\n"));
        return Ok(());
    }
    emit(&table::objects(kind, &items).render());
    let shown_to = offset + items.len();
    if !all && (offset > 0 || shown_to < total) {
        let mut hint = if items.is_empty() {
            format!("no rows at offset {offset} of {total}")
        } else {
            format!("rows {}-{shown_to} of {total}", offset + 1)
        };
        if shown_to < total {
            hint.push_str(&format!(
                "; --offset {shown_to} for more, --all for every row"
            ));
        }
        eprintln!("({hint})");
    }
    Ok(())
}

fn items_of(page: &Value) -> Vec<Value> {
    page.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn update(ctx: &Ctx, kind: Kind, key: &[String], pairs: &[Assignment]) -> Result<(), CtlError> {
    let path = item_path(kind, key)?;
    let mut object = ctx.client.get(&path)?;
    set::apply(kind, &mut object, pairs)?;
    let v = ctx.client.send_json("PUT", &path, &object)?;
    show_one(ctx, kind, &v);
    Ok(())
}

/// One object: raw JSON, or FIELD VALUE lines.
pub fn show_one(ctx: &Ctx, kind: Kind, v: &Value) {
    if ctx.json {
        emit(&format!("{v:#}\n"));
    } else {
        emit(&table::object(kind, v).render());
    }
}

/// A JSON object from a file ("-": standard input).
fn read_json(path: &Path) -> Result<Value, CtlError> {
    let text = read_input(path)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CtlError::Usage(format!("{}: not JSON: {e}", path.display())))?;
    if !v.is_object() {
        return Err(CtlError::Usage(format!(
            "{}: expected a JSON object",
            path.display()
        )));
    }
    Ok(v)
}

/// The text of a file, or of standard input for "-".
pub fn read_input(path: &Path) -> Result<String, CtlError> {
    let file_error = |error| CtlError::File {
        path: path.display().to_string(),
        error,
    };
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(file_error)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(file_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries() {
        let k = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            item_path(Kind::Pattern, &k(&["PSTN", "\\+1!"]))
                .ok()
                .as_deref(),
            Some("/api/v1/patterns/PSTN/%5C%2B1%21")
        );
        let Err(e) = item_path(Kind::Line, &k(&["2000"])) else {
            panic!("one part accepted for a line");
        };
        assert_eq!(
            e.to_string(),
            "lines are keyed by PARTITION DN: give 2 key parts, not 1"
        );
        assert!(item_path(Kind::User, &k(&["a", "b"])).is_err());
        assert_eq!(
            query(&[
                ("device".into(), "CTRID alice".into()),
                ("limit".into(), "5".into())
            ]),
            "?device=CTRID%20alice&limit=5"
        );
        assert_eq!(query(&[]), "");
    }
}
