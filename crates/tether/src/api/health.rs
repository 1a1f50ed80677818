//! `GET /api/v1/health`: public liveness, with the database kind and snapshot version.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tether_store::db::Backend;

use super::AppState;

pub async fn health(State(state): State<AppState>) -> Json<Value> {
    let database = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "database": database,
        "snapshot_version": state.store.snapshot().version(),
    }))
}
