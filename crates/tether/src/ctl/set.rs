//! `--set FIELD=VALUE`: puts a command-line value into a JSON object. VALUE is taken as JSON
//! when it parses as JSON of a type the field accepts (per the kind's JSON Schema), else as a
//! string: `active=true` is a boolean, `number=914085550100` stays a string because `number`
//! is one, `css=null` clears an optional field. A list field also takes `a,b,c`.

use serde_json::{Map, Value};
use tether_store::Kind;

use super::args::Assignment;
use super::error::CtlError;
use crate::api::with_model;

/// Sets every assignment on `object` (nested with `a.b`), in order.
pub fn apply(kind: Kind, object: &mut Value, set: &[Assignment]) -> Result<(), CtlError> {
    let schema = with_model!(kind, T, _w => schemars::schema_for!(T));
    let root = schema.as_value();
    for (path, raw) in set {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(CtlError::Usage(format!("--set {path}=…: empty field name")));
        }
        let value = coerce(raw, &accepted(root, &segments));
        put(object, &segments, value)
            .map_err(|at| CtlError::Usage(format!("--set {path}=…: {at} is not an object")))?;
    }
    Ok(())
}

/// Writes `value` at `segments`, making objects on the way; Err names a non-object on the way.
fn put(object: &mut Value, segments: &[&str], value: Value) -> Result<(), String> {
    let mut node = object;
    let mut walked = String::new();
    let Some((last, parents)) = segments.split_last() else {
        return Ok(());
    };
    for seg in parents {
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            return Err(if walked.is_empty() {
                "the object".into()
            } else {
                walked
            });
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
        node = map
            .entry((*seg).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    match node {
        Value::Object(map) => {
            map.insert((*last).to_owned(), value);
            Ok(())
        }
        _ => Err(if walked.is_empty() {
            "the object".into()
        } else {
            walked
        }),
    }
}

/// The JSON types (`string`, `integer`, …) the schema accepts at `segments`; empty when the
/// schema does not say (an unknown field: the server will name it).
fn accepted(root: &Value, segments: &[&str]) -> Vec<String> {
    let mut node = root;
    for seg in segments {
        let Some(next) = branches(root, node, 0)
            .into_iter()
            .find_map(|b| b.get("properties").and_then(|p| p.get(*seg)))
        else {
            return Vec::new();
        };
        node = next;
    }
    let mut types: Vec<String> = Vec::new();
    for b in branches(root, node, 0) {
        match b.get("type") {
            Some(Value::String(t)) => types.push(t.clone()),
            Some(Value::Array(ts)) => {
                types.extend(ts.iter().filter_map(|t| t.as_str().map(str::to_owned)))
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = b.get("enum") {
            types.extend(values.iter().map(|v| type_of(v).to_owned()));
        }
        if let Some(c) = b.get("const") {
            types.push(type_of(c).to_owned());
        }
    }
    types
}

/// `node` with `$ref`s followed and `anyOf`/`oneOf`/`allOf` opened (bounded depth).
fn branches<'a>(root: &'a Value, node: &'a Value, depth: u8) -> Vec<&'a Value> {
    if depth > 8 {
        return Vec::new();
    }
    let mut out = vec![node];
    if let Some(target) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
    {
        out.extend(branches(root, target, depth + 1));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for sub in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.extend(branches(root, sub, depth + 1));
        }
    }
    out
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value for `raw` given the types the field accepts.
fn coerce(raw: &str, accepted: &[String]) -> Value {
    let takes = |t: &str| accepted.iter().any(|a| a == t);
    if let Ok(parsed) = serde_json::from_str::<Value>(raw) {
        let t = type_of(&parsed);
        if accepted.is_empty() || takes(t) || (t == "integer" && takes("number")) {
            return parsed;
        }
    }
    if takes("array") && !takes("string") {
        let items = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_owned()))
            .collect();
        return Value::Array(items);
    }
    Value::String(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(kind: Kind, start: Value, pairs: &[(&str, &str)]) -> Result<Value, CtlError> {
        let mut v = start;
        let pairs: Vec<Assignment> = pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        apply(kind, &mut v, &pairs).map(|()| v)
    }

    #[test]
    fn values_take_the_fields_type() {
        let v = set(
            Kind::RemoteDestination,
            json!({}),
            &[
                ("device", "CTRIDalice"),
                ("name", "1"),
                ("number", "914085550100"),
                ("active", "true"),
                ("answer_too_soon_ms", "1200"),
                ("ring_schedule", "null"),
            ],
        )
        .expect("set");
        assert_eq!(
            v,
            json!({"device": "CTRIDalice", "name": "1", "number": "914085550100",
                   "active": true, "answer_too_soon_ms": 1200, "ring_schedule": null})
        );
        let v = set(
            Kind::Line,
            json!({}),
            &[("dn", "2000"), ("e164", "+14082002000")],
        )
        .expect("set");
        assert_eq!(v, json!({"dn": "2000", "e164": "+14082002000"}));
        // A value that is not JSON of the field's type stays text for the server to judge.
        let v = set(Kind::User, json!({}), &[("mobility_enabled", "maybe")]).expect("set");
        assert_eq!(v["mobility_enabled"], "maybe");
    }

    #[test]
    fn enums_lists_and_nested_fields() {
        let v = set(
            Kind::Css,
            json!({"name": "C"}),
            &[("partitions", "Internal, PSTN")],
        )
        .expect("set");
        assert_eq!(v["partitions"], json!(["Internal", "PSTN"]));
        let v = set(Kind::Css, json!({}), &[("partitions", r#"["A"]"#)]).expect("set");
        assert_eq!(v["partitions"], json!(["A"]));
        let v = set(
            Kind::Device,
            json!({}),
            &[("kind", "sip_phone"), ("owner", "null")],
        )
        .expect("set");
        assert_eq!(v, json!({"kind": "sip_phone", "owner": null}));
        let v = set(
            Kind::Pattern,
            json!({"called": {"prefix": "x"}}),
            &[
                ("called.discard_predot", "true"),
                ("called.prefix", "9"),
                ("calling.mask", "2XXX"),
            ],
        )
        .expect("set");
        assert_eq!(v["called"], json!({"prefix": "9", "discard_predot": true}));
        assert_eq!(v["calling"], json!({"mask": "2XXX"}));
        assert!(set(
            Kind::Pattern,
            json!({"pattern": "9.!"}),
            &[("pattern.x", "1")]
        )
        .is_err());
        assert!(set(Kind::User, json!({}), &[("a..b", "1")]).is_err());
    }

    #[test]
    fn unknown_fields_pass_through() {
        let v = set(
            Kind::User,
            json!({}),
            &[("colour", "12"), ("shade", "dark")],
        )
        .expect("set");
        assert_eq!(v, json!({"colour": 12, "shade": "dark"}));
    }
}
