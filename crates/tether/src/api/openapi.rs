//! The OpenAPI 3.1 document of the admin API, served at `GET /api/v1/openapi.json`.
//!
//! Built once from the route table's shapes: the object schemas come from the model types'
//! JSON Schemas (schemars), the rest is written here. A test checks that every routed
//! (method, path) is documented and nothing else is.

use std::sync::OnceLock;

use axum::Json;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};
use tether_store::Kind;

use super::analyze::AnalyzeRequest;
use super::objects::{fields, DEFAULT_LIMIT, MAX_LIMIT};
use super::{bulk, collection_path, item_path, with_model, BASE};

pub async fn openapi_json() -> Json<Value> {
    Json(document().clone())
}

/// The document (built on first use).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn json_body(schema: Value, description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema } },
    })
}

/// The error responses an operation may give, by status.
fn errors(map: &mut Map<String, Value>, statuses: &[&str]) {
    for s in statuses {
        let name = match *s {
            "400" => "BadRequest",
            "401" => "Unauthorized",
            "403" => "Forbidden",
            "404" => "NotFound",
            "409" => "Conflict",
            "413" => "PayloadTooLarge",
            "422" => "Unprocessable",
            _ => "ServerError",
        };
        map.insert((*s).to_owned(), response_ref(name));
    }
}

fn operation(
    id: String,
    summary: String,
    tag: &str,
    ok: (&str, Value),
    error_statuses: &[&str],
) -> Map<String, Value> {
    let mut responses = Map::new();
    responses.insert(ok.0.to_owned(), ok.1);
    errors(&mut responses, error_statuses);
    let mut op = Map::new();
    op.insert("operationId".into(), json!(id));
    op.insert("summary".into(), json!(summary));
    op.insert("tags".into(), json!([tag]));
    op.insert("responses".into(), Value::Object(responses));
    op
}

fn key_parameters(kind: Kind) -> Value {
    Value::Array(
        kind.key_fields()
            .iter()
            .map(|f| {
                json!({
                    "name": f,
                    "in": "path",
                    "required": true,
                    "description": "Key part, percent-encoded (patterns hold characters such as \\ + ! [ ])",
                    "schema": { "type": "string" },
                })
            })
            .collect(),
    )
}

fn build() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let mut model_refs = Vec::new();
    for kind in Kind::ALL {
        model_refs.push(with_model!(kind, T, _w => generator.subschema_for::<T>()).to_value());
    }
    let analyze_request = generator.subschema_for::<AnalyzeRequest>().to_value();
    let cdr = generator.subschema_for::<tether_store::CdrRow>().to_value();
    let mut schemas = generator.take_definitions(true);
    for (name, schema) in extra_schemas() {
        schemas.insert(name.to_owned(), schema);
    }

    let mut paths = Map::new();
    paths.insert(
        format!("{BASE}/health"),
        json!({ "get": {
            "operationId": "health",
            "summary": "Liveness, database kind and provisioning snapshot version (public)",
            "tags": ["system"],
            "security": [],
            "responses": { "200": json_body(schema_ref("Health"), "The server is up") },
        }}),
    );
    paths.insert(
        format!("{BASE}/openapi.json"),
        json!({ "get": {
            "operationId": "openapi",
            "summary": "This document (public)",
            "tags": ["system"],
            "security": [],
            "responses": { "200": json_body(json!({ "type": "object" }), "OpenAPI 3.1 document") },
        }}),
    );
    let mut analyze = operation(
        "analyze".into(),
        "Dialed Number Analyzer: the closest match through a CSS or a device, or why none".into(),
        "analysis",
        (
            "200",
            json_body(
                schema_ref("AnalyzeResult"),
                "The analysis; `matched` false with `reason` when nothing usable matched",
            ),
        ),
        &["400", "401", "403", "422", "500"],
    );
    analyze.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": analyze_request } } }),
    );
    paths.insert(format!("{BASE}/analyze"), json!({ "post": analyze }));

    for (kind, model) in Kind::ALL.into_iter().zip(model_refs) {
        let c = kind.collection();
        let tag = c;
        let mut list_params = vec![
            json!({ "name": "offset", "in": "query", "required": false,
                    "description": "Items to skip", "schema": { "type": "integer", "minimum": 0, "default": 0 } }),
            json!({ "name": "limit", "in": "query", "required": false,
                    "description": "Page size",
                    "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } }),
        ];
        for f in fields(kind).iter().filter(|f| *f != "password") {
            list_params.push(json!({
                "name": f, "in": "query", "required": false,
                "description": "Only objects whose field equals this (booleans true/false, numbers in decimal, empty for null, any element of a list)",
                "schema": { "type": "string" },
            }));
        }
        let page = json!({
            "type": "object",
            "required": ["items", "total", "offset", "limit"],
            "properties": {
                "items": { "type": "array", "items": model.clone() },
                "total": { "type": "integer", "description": "Objects matching the filters" },
                "offset": { "type": "integer" },
                "limit": { "type": "integer" },
            },
        });
        let mut list = operation(
            format!("list_{}", kind.name()),
            format!("List {c} (filter by any field, page with offset/limit)"),
            tag,
            ("200", json_body(page, "A page of objects")),
            &["400", "401", "403", "500"],
        );
        list.insert("parameters".into(), Value::Array(list_params));
        let body = json!({ "required": true, "content": { "application/json": { "schema": model.clone() } } });
        let mut create = operation(
            format!("create_{}", kind.name()),
            format!("Create one of {c}"),
            tag,
            (
                "201",
                json!({
                    "description": "Created; Location names the new object",
                    "headers": { "Location": { "schema": { "type": "string" } } },
                    "content": { "application/json": { "schema": model.clone() } },
                }),
            ),
            &["400", "401", "403", "409", "413", "422", "500"],
        );
        create.insert("requestBody".into(), body.clone());
        let mut get = operation(
            format!("get_{}", kind.name()),
            format!("Get one of {c}"),
            tag,
            ("200", json_body(model.clone(), "The object")),
            &["400", "401", "403", "404", "500"],
        );
        get.insert("parameters".into(), key_parameters(kind));
        let mut put = operation(
            format!("update_{}", kind.name()),
            format!("Replace one of {c} (the body's key must match the path)"),
            tag,
            ("200", json_body(model, "The object as stored")),
            &["400", "401", "403", "404", "409", "413", "422", "500"],
        );
        put.insert("parameters".into(), key_parameters(kind));
        put.insert("requestBody".into(), body);
        let mut delete = operation(
            format!("delete_{}", kind.name()),
            format!("Delete one of {c}"),
            tag,
            ("204", json!({ "description": "Deleted" })),
            &["400", "401", "403", "404", "409", "500"],
        );
        delete.insert("parameters".into(), key_parameters(kind));
        paths.insert(
            collection_path(kind),
            json!({ "get": list, "post": create }),
        );
        paths.insert(
            item_path(kind),
            json!({ "get": get, "put": put, "delete": delete }),
        );
    }

    device_rd_paths(&mut paths);
    cdr_paths(&mut paths, cdr);
    paths.insert(
        super::calls::path(),
        json!({ "get": operation(
            "list_calls".into(),
            "Calls in progress on this node, with each party's media leg counters (anchored \
             media; at most a second old)"
                .into(),
            "calls",
            ("200", json_body(super::calls::schema(), "Every call in progress, oldest first")),
            &["401", "403", "503"],
        ) }),
    );
    paths.insert(
        super::metrics::PATH.to_owned(),
        json!({ "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics (public): calls active, attempts, answered, failed, \
                BHCA (outbound calls in the last hour), trunk channels in use, call setup \
                histogram, registrations, SIP transactions, CDR writer",
            "tags": ["system"],
            "security": [],
            "responses": {
                "200": { "description": "Text exposition format 0.0.4",
                         "content": { super::metrics::CONTENT_TYPE: { "schema": { "type": "string" } } } },
                "503": response_ref("Unavailable"),
            },
        }}),
    );

    for kind in tether_store::bulk::BULK_KINDS {
        let c = kind.collection();
        let columns = tether_store::bulk::columns(kind)
            .map(|c| c.join(","))
            .unwrap_or_default();
        let csv = json!({ "text/csv": { "schema": { "type": "string" } } });
        let export = operation(
            format!("export_{}", kind.name()),
            format!(
                "Export every one of {c} as CSV (header: {columns}; passwords are never exported)"
            ),
            "bulk",
            (
                "200",
                json!({ "description": "CSV, one object a row", "content": csv.clone() }),
            ),
            &["401", "403", "500"],
        );
        let mut import = operation(
            format!("import_{}", kind.name()),
            format!("Import {c} from CSV as upserts, all rows or none (header: {columns})"),
            "bulk",
            (
                "200",
                json_body(schema_ref("ImportReport"), "Committed, or a clean dry run"),
            ),
            &["400", "401", "403", "413", "500"],
        );
        if let Some(Value::Object(r)) = import.get_mut("responses") {
            r.insert(
                "422".into(),
                json_body(
                    schema_ref("ImportReport"),
                    "Rows failed: nothing was written; the report lists every error by row",
                ),
            );
        }
        import.insert(
            "parameters".into(),
            json!([{ "name": "dry_run", "in": "query", "required": false,
                     "description": "Check every row and commit nothing",
                     "schema": { "type": "boolean", "default": false } }]),
        );
        import.insert(
            "requestBody".into(),
            json!({ "required": true, "content": csv }),
        );
        paths.insert(bulk::path(kind), json!({ "get": export, "post": import }));
    }

    let error_response = |description: &str| json_body(schema_ref("Error"), description);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tether admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Provisioning (the AXL role), the Dialed Number Analyzer, bulk CSV \
                (the BAT role), call detail records and Prometheus metrics. Authenticate with `Authorization: Bearer <admin token>` or HTTP \
                Basic as a user: users with the admin role act as the administrator; other users \
                see only their own user, devices and lines and manage only their own devices' \
                remote destinations, which are verified reachable through the device's reroute \
                CSS. Errors are `{code, message, field}` (plus `object`, and `errors` listing \
                every violation when there are several).",
        },
        "security": [ { "bearer": [] }, { "basic": [] } ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                            "description": "The admin token ([admin] token, or the generated tether-admin.token file)" },
                "basic": { "type": "http", "scheme": "basic",
                           "description": "A user's id and password" },
            },
            "schemas": schemas,
            "responses": {
                "BadRequest": error_response("INVALID_FIELD: malformed JSON, a bad field value, query or path"),
                "Unauthorized": error_response("UNAUTHORIZED: no or wrong credentials (WWW-Authenticate names Bearer and Basic)"),
                "Forbidden": error_response("FORBIDDEN: authenticated, but not allowed"),
                "NotFound": error_response("NOT_FOUND: no such object"),
                "Conflict": error_response("ALREADY_EXISTS, DUPLICATE_REMOTE_DESTINATION, DUPLICATE_DIRECTORY_NUMBER, RD_IS_DIRECTORY_NUMBER or IN_USE"),
                "PayloadTooLarge": error_response("PAYLOAD_TOO_LARGE: JSON bodies up to 1 MiB, CSV up to 16 MiB"),
                "Unprocessable": error_response("REMOTE_DESTINATION_LIMIT_EXCEEDED, LINE_LIMIT_EXCEEDED, MOBILITY_NOT_ENABLED, RD_NOT_REACHABLE or UNKNOWN_REFERENCE"),
                "ServerError": error_response("DATABASE_ERROR: nothing was changed"),
                "Unavailable": error_response("UNAVAILABLE: the SIP engine is not running (starting or stopped)"),
            },
        },
    })
}

/// `/api/v1/cdrs` and `/api/v1/cdrs.csv`.
fn cdr_paths(paths: &mut Map<String, Value>, cdr: Value) {
    use super::cdrs;
    let params = |default: u64, max: u64| {
        let mut p: Vec<Value> = cdrs::FILTERS
            .iter()
            .map(|(name, description)| {
                let schema = if matches!(*name, "from" | "to") {
                    json!({ "type": "integer", "minimum": 0 })
                } else {
                    json!({ "type": "string" })
                };
                json!({ "name": name, "in": "query", "required": false,
                        "description": description, "schema": schema })
            })
            .collect();
        p.push(json!({ "name": "offset", "in": "query", "required": false,
                       "description": "Records to skip", "schema": { "type": "integer", "minimum": 0, "default": 0 } }));
        p.push(json!({ "name": "limit", "in": "query", "required": false,
                       "description": "Records at most",
                       "schema": { "type": "integer", "minimum": 1, "maximum": max, "default": default } }));
        Value::Array(p)
    };
    let page = json!({
        "type": "object",
        "required": ["items", "total", "offset", "limit"],
        "properties": {
            "items": { "type": "array", "items": cdr },
            "total": { "type": "integer", "description": "Records matching the filters" },
            "offset": { "type": "integer" },
            "limit": { "type": "integer" },
        },
    });
    let mut list = operation(
        "list_cdrs".into(),
        "Call detail records, one per call (answered or not), oldest origination first; \
         times in UNIX epoch milliseconds"
            .into(),
        "cdrs",
        ("200", json_body(page, "A page of records")),
        &["400", "401", "403", "500"],
    );
    list.insert(
        "parameters".into(),
        params(cdrs::DEFAULT_LIMIT, cdrs::MAX_LIMIT),
    );
    let columns = tether_store::cdr::CSV_COLUMNS.join(",");
    let mut export = operation(
        "export_cdrs".into(),
        format!(
            "Call detail records as CSV with CUCM CDR column names ({columns}); times in UNIX \
             epoch seconds as in CUCM files; X-Total-Count gives the records matching"
        ),
        "cdrs",
        (
            "200",
            json!({ "description": "CSV, one record a row",
                    "headers": { "X-Total-Count": { "schema": { "type": "integer" } } },
                    "content": { "text/csv": { "schema": { "type": "string" } } } }),
        ),
        &["400", "401", "403", "500"],
    );
    export.insert(
        "parameters".into(),
        params(cdrs::CSV_DEFAULT_LIMIT, cdrs::CSV_MAX_LIMIT),
    );
    paths.insert(cdrs::path(), json!({ "get": list }));
    paths.insert(cdrs::csv_path(), json!({ "get": export }));
}

/// `/api/v1/devices/{device}/remote-destinations[/{name}]`.
fn device_rd_paths(paths: &mut Map<String, Value>) {
    let model = schema_ref("RemoteDestination");
    let kind = Kind::RemoteDestination;
    let device_param = json!({ "name": "device", "in": "path", "required": true,
                               "description": "Device name, percent-encoded", "schema": { "type": "string" } });
    let mut list_params = vec![
        device_param.clone(),
        json!({ "name": "offset", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 0, "default": 0 } }),
        json!({ "name": "limit", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } }),
    ];
    for f in fields(kind).iter().filter(|f| *f != "device") {
        list_params.push(
            json!({ "name": f, "in": "query", "required": false, "schema": { "type": "string" } }),
        );
    }
    let page = json!({
        "type": "object",
        "required": ["items", "total", "offset", "limit"],
        "properties": {
            "items": { "type": "array", "items": model.clone() },
            "total": { "type": "integer" }, "offset": { "type": "integer" }, "limit": { "type": "integer" },
        },
    });
    let mut list = operation(
        "list_device_remote_destinations".into(),
        "List one device's remote destinations".into(),
        "remote-destinations",
        ("200", json_body(page, "A page of remote destinations")),
        &["400", "401", "403", "404", "500"],
    );
    list.insert("parameters".into(), Value::Array(list_params));
    let mut create = operation(
        "create_device_remote_destination".into(),
        "Add a remote destination to the device (`device` in the body may be left out); \
         verified reachable when an end user adds it"
            .into(),
        "remote-destinations",
        (
            "201",
            json!({
                "description": "Created; Location names the new object",
                "headers": { "Location": { "schema": { "type": "string" } } },
                "content": { "application/json": { "schema": model.clone() } },
            }),
        ),
        &["400", "401", "403", "404", "409", "413", "422", "500"],
    );
    create.insert("parameters".into(), json!([device_param]));
    create.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": model.clone() } } }),
    );
    let item = |verb: &str, summary: &str, ok: (&str, Value), errs: &[&str]| {
        let mut op = operation(
            format!("{verb}_device_remote_destination"),
            summary.to_owned(),
            "remote-destinations",
            ok,
            errs,
        );
        op.insert("parameters".into(), key_parameters(kind));
        op
    };
    let get = item(
        "get",
        "Get one of the device's remote destinations",
        ("200", json_body(model.clone(), "The object")),
        &["400", "401", "403", "404", "500"],
    );
    let mut put = item(
        "update",
        "Replace one of the device's remote destinations",
        ("200", json_body(model.clone(), "The object as stored")),
        &["400", "401", "403", "404", "409", "413", "422", "500"],
    );
    put.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": model } } }),
    );
    let delete = item(
        "delete",
        "Remove one of the device's remote destinations",
        ("204", json!({ "description": "Deleted" })),
        &["400", "401", "403", "404", "500"],
    );
    paths.insert(
        super::device_rds::collection_path(),
        json!({ "get": list, "post": create }),
    );
    paths.insert(
        super::device_rds::item_path(),
        json!({ "get": get, "put": put, "delete": delete }),
    );
}

fn extra_schemas() -> Vec<(&'static str, Value)> {
    let error_item = json!({
        "type": "object",
        "required": ["code", "message", "field"],
        "properties": {
            "code": { "type": "string", "description": "Stable error code, e.g. RD_NOT_REACHABLE" },
            "message": { "type": "string" },
            "field": { "type": ["string", "null"], "description": "The field at fault" },
            "object": { "type": "string", "description": "The object at fault: kind and key" },
        },
    });
    let mut error = error_item.clone();
    if let Some(p) = error.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert(
            "errors".into(),
            json!({ "type": "array", "items": error_item,
                    "description": "Every violation, when there are several" }),
        );
    }
    let string_list = json!({ "type": "array", "items": { "type": "string" } });
    vec![
        ("Error", error),
        (
            "Health",
            json!({
                "type": "object",
                "required": ["status", "version", "database", "snapshot_version"],
                "properties": {
                    "status": { "const": "ok" },
                    "version": { "type": "string" },
                    "database": { "enum": ["sqlite", "postgres"] },
                    "snapshot_version": { "type": "integer", "description": "Increases with every committed write" },
                },
            }),
        ),
        (
            "AnalyzeResult",
            json!({
                "type": "object",
                "required": ["matched", "reachable", "css", "dialed", "digits"],
                "properties": {
                    "matched": { "type": "boolean" },
                    "reachable": { "type": "boolean", "description": "The match routes to trunks (what remote destination verification requires)" },
                    "css": { "type": "string", "description": "The calling search space used" },
                    "device": { "type": ["string", "null"] },
                    "reroute": { "type": "boolean" },
                    "dialed": { "type": "string", "description": "The digits as given" },
                    "digits": { "type": "string", "description": "The digits analyzed (after dial rules with reroute, without separators)" },
                    "calling_before": { "type": "string" },
                    "pattern": { "type": "string", "description": "The final matched pattern" },
                    "partition": { "type": "string" },
                    "target": {
                        "type": "object",
                        "description": "Where the call goes: {kind: line, device} or {kind: route, route_list}",
                        "properties": { "kind": { "enum": ["line", "route"] }, "device": { "type": "string" }, "route_list": { "type": "string" } },
                    },
                    "called": { "type": "string", "description": "Called number after every transformation" },
                    "calling": { "type": "string", "description": "Calling number after every transformation" },
                    "translations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "pattern": { "type": "string" }, "partition": { "type": "string" },
                                "css": { "type": "string" }, "called_before": { "type": "string" },
                                "called_after": { "type": "string" },
                            },
                        },
                    },
                    "route": {
                        "type": ["object", "null"],
                        "properties": {
                            "route_list": { "type": "string" },
                            "groups": { "type": "array", "items": {
                                "type": "object",
                                "properties": { "name": { "type": "string" }, "trunks": string_list },
                            }},
                        },
                    },
                    "trunks": { "type": "array", "items": { "type": "string" }, "description": "Every trunk in hunt order" },
                    "reason": {
                        "type": "object",
                        "description": "Why nothing usable matched",
                        "properties": {
                            "error": { "enum": ["unknown_css", "no_match", "blocked", "translation_loop", "invalid_digits"] },
                            "detail": {},
                        },
                    },
                    "message": { "type": "string", "description": "The reason, for people" },
                },
            }),
        ),
        (
            "ImportReport",
            json!({
                "type": "object",
                "required": ["kind", "rows", "created", "updated", "dry_run", "committed", "errors"],
                "properties": {
                    "kind": { "type": "string" },
                    "rows": { "type": "integer" },
                    "created": { "type": "integer" },
                    "updated": { "type": "integer" },
                    "dry_run": { "type": "boolean" },
                    "committed": { "type": "boolean" },
                    "errors": { "type": "array", "items": {
                        "type": "object",
                        "required": ["row", "code", "message"],
                        "properties": {
                            "row": { "type": ["integer", "null"], "description": "CSV line (the header is 1); null for the batch as a whole" },
                            "code": { "type": "string" },
                            "message": { "type": "string" },
                            "field": { "type": "string" },
                        },
                    }},
                },
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc: Value =
            serde_json::from_str(&document().to_string()).expect("the document is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let routed: BTreeSet<(String, String)> = super::super::routes()
            .table()
            .iter()
            .map(|(m, p)| (m.as_str().to_ascii_lowercase(), p.clone()))
            .collect();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(routed, documented);
        assert_eq!(routed.len(), 3 + 4 + 12 * 5 + 5 + 4 * 2);
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let mut refs = Vec::new();
        collect_refs(doc, &mut refs);
        assert!(refs.len() > 50);
        for r in refs {
            let pointer = r.strip_prefix('#').expect("local ref");
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        for name in [
            "User",
            "RemoteDestination",
            "Pattern",
            "Transformation",
            "Error",
            "CdrRow",
        ] {
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(s)) => out.push(s.clone()),
                        _ => collect_refs(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
            _ => {}
        }
    }
}
