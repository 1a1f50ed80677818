//! Responses: exactly one per request, `{"type": "<Request>Response", "invokeId": …, …}` when
//! it succeeded, `{"type": "Error", "invokeId": …, "request": "<Request>", "code": …,
//! "message": …, "field": …}` when it did not.

use serde_json::{Map, Value};

use super::error::CtiError;

/// The positive response to `name`, with the request's result fields.
pub fn ok(name: &str, invoke_id: &Value, fields: Map<String, Value>) -> String {
    let mut m = Map::with_capacity(fields.len() + 2);
    m.insert("type".into(), Value::String(format!("{name}Response")));
    m.insert("invokeId".into(), invoke_id.clone());
    m.extend(fields);
    Value::Object(m).to_string()
}

/// The error response. `name` is the request type when it could be read; `invokeId` is null
/// when it could not.
pub fn error(name: Option<&str>, invoke_id: &Value, e: &CtiError) -> String {
    let mut m = Map::with_capacity(6);
    m.insert("type".into(), Value::String("Error".into()));
    m.insert("invokeId".into(), invoke_id.clone());
    m.insert(
        "request".into(),
        name.map_or(Value::Null, |n| Value::String(n.into())),
    );
    m.insert("code".into(), Value::String(e.code.as_str().into()));
    m.insert("message".into(), Value::String(e.message.clone()));
    if let Some(f) = &e.field {
        m.insert("field".into(), Value::String(f.clone()));
    }
    Value::Object(m).to_string()
}
