//! The admin REST API (the AXL role) under `/api/v1`: provisioning objects, the Dialed Number
//! Analyzer, bulk CSV, call detail records, health and the OpenAPI document; and `/metrics`
//! (Prometheus).
//!
//! Routes are registered through [`Routes`], which records every (method, path) pair it adds,
//! so the OpenAPI document can be checked against the router. Handlers only translate between
//! HTTP and the store; the rules live in `tether-store`.

pub mod analyze;
pub mod auth;
pub mod bulk;
pub mod calls;
pub mod cdrs;
pub mod device_rds;
pub mod error;
pub mod health;
pub mod metrics;
pub mod objects;
pub mod openapi;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::{Extension, Router};
use tether_store::{Kind, Store};

use self::auth::Auth;
use self::error::ApiError;

/// Prefix of every route.
pub const BASE: &str = "/api/v1";
/// Largest JSON body.
pub const JSON_LIMIT: usize = 1 << 20;
/// Largest CSV body.
pub const CSV_LIMIT: usize = 16 << 20;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub auth: Arc<Auth>,
    /// The running SIP driver (metrics); None when SIP is not running.
    pub sip: Option<crate::sip::SipHandle>,
    /// The CTI core in the driver (`GET /cti`); None when SIP is not running.
    pub cti: Option<crate::cti::CtiHandle>,
}

/// A router that remembers what it routes.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, String)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add<H, T>(self, method: Method, path: &str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(method, path, handler, None, JSON_LIMIT)
    }

    /// Adds a route whose handler reads the object kind from an `Extension<Kind>`.
    fn add_kind<H, T>(self, kind: Kind, method: Method, path: &str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(method, path, handler, Some(kind), JSON_LIMIT)
    }

    fn route<H, T>(
        mut self,
        method: Method,
        path: &str,
        handler: H,
        kind: Option<Kind>,
        limit: usize,
    ) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // Every method used here maps to a filter; an unmapped one would be a programming error
        // caught by the route-table test, so it is skipped rather than panicking at start-up.
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            return self;
        };
        let mut endpoint = on(filter, handler).layer(DefaultBodyLimit::max(limit));
        if let Some(kind) = kind {
            endpoint = endpoint.layer(Extension(kind));
        }
        self.router = self.router.route(path, endpoint);
        self.table.push((method, path.to_owned()));
        self
    }

    /// Every (method, path) routed, in registration order.
    #[cfg(test)]
    pub fn table(&self) -> &[(Method, String)] {
        &self.table
    }
}

/// `/api/v1/{collection}` and the item path with one `{param}` per key field.
pub fn collection_path(kind: Kind) -> String {
    format!("{BASE}/{}", kind.collection())
}

pub fn item_path(kind: Kind) -> String {
    let mut p = collection_path(kind);
    for f in kind.key_fields() {
        p.push_str("/{");
        p.push_str(f);
        p.push('}');
    }
    p
}

/// The route table of the API.
pub fn routes() -> Routes {
    let mut r = Routes::new()
        .add(Method::GET, &format!("{BASE}/health"), health::health)
        .add(
            Method::GET,
            &format!("{BASE}/openapi.json"),
            openapi::openapi_json,
        )
        .add(Method::POST, &format!("{BASE}/analyze"), analyze::analyze)
        .add(Method::GET, metrics::PATH, metrics::metrics)
        .add(Method::GET, &cdrs::path(), cdrs::list)
        .add(Method::GET, &cdrs::csv_path(), cdrs::export)
        .add(Method::GET, &calls::path(), calls::list);
    for kind in Kind::ALL {
        let (list, item) = (collection_path(kind), item_path(kind));
        r = r
            .add_kind(kind, Method::GET, &list, objects::list)
            .add_kind(kind, Method::POST, &list, objects::create)
            .add_kind(kind, Method::GET, &item, objects::get)
            .add_kind(kind, Method::PUT, &item, objects::update)
            .add_kind(kind, Method::DELETE, &item, objects::delete);
    }
    let rd = Kind::RemoteDestination;
    r = r
        .add(
            Method::GET,
            &device_rds::collection_path(),
            device_rds::list,
        )
        .add(
            Method::POST,
            &device_rds::collection_path(),
            device_rds::create,
        )
        .add_kind(rd, Method::GET, &device_rds::item_path(), objects::get)
        .add_kind(rd, Method::PUT, &device_rds::item_path(), objects::update)
        .add_kind(
            rd,
            Method::DELETE,
            &device_rds::item_path(),
            objects::delete,
        );
    for kind in tether_store::bulk::BULK_KINDS {
        let path = bulk::path(kind);
        r = r.add_kind(kind, Method::GET, &path, bulk::export).route(
            Method::POST,
            &path,
            bulk::import,
            Some(kind),
            CSV_LIMIT,
        );
    }
    r
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    routes()
        .router
        // A WebSocket, so not in the OpenAPI document: docs/cti.md describes it.
        .route(
            crate::cti::socket::PATH,
            axum::routing::get(crate::cti::socket::upgrade),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/v1/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                error::METHOD_NOT_ALLOWED,
                "this endpoint does not take that method; see /api/v1/openapi.json",
            )
        })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One log line per request: method, path, status, time taken.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let micros = start.elapsed().as_micros();
    if status >= 500 {
        tracing::warn!(%method, %path, status, micros, "request");
    } else {
        tracing::debug!(%method, %path, status, micros, "request");
    }
    response
}

/// Percent-encodes one path segment (key parts may hold `\ + ! . [ ] # ?` and spaces).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Calls `$body` with `$T` bound to the model type of `$kind` and `$wrap` to its `Object`
/// variant constructor.
macro_rules! with_model {
    ($kind:expr, $T:ident, $wrap:ident => $body:expr) => {{
        use tether_store::model as m;
        match $kind {
            tether_store::Kind::User => {
                type $T = m::User;
                let $wrap = tether_store::Object::User;
                $body
            }
            tether_store::Kind::Partition => {
                type $T = m::Partition;
                let $wrap = tether_store::Object::Partition;
                $body
            }
            tether_store::Kind::Css => {
                type $T = m::Css;
                let $wrap = tether_store::Object::Css;
                $body
            }
            tether_store::Kind::Device => {
                type $T = m::Device;
                let $wrap = tether_store::Object::Device;
                $body
            }
            tether_store::Kind::Line => {
                type $T = m::Line;
                let $wrap = tether_store::Object::Line;
                $body
            }
            tether_store::Kind::RemoteDestination => {
                type $T = m::RemoteDestination;
                let $wrap = tether_store::Object::RemoteDestination;
                $body
            }
            tether_store::Kind::Trunk => {
                type $T = m::Trunk;
                let $wrap = tether_store::Object::Trunk;
                $body
            }
            tether_store::Kind::RouteGroup => {
                type $T = m::RouteGroup;
                let $wrap = tether_store::Object::RouteGroup;
                $body
            }
            tether_store::Kind::RouteList => {
                type $T = m::RouteList;
                let $wrap = tether_store::Object::RouteList;
                $body
            }
            tether_store::Kind::Pattern => {
                type $T = m::Pattern;
                let $wrap = tether_store::Object::Pattern;
                $body
            }
            tether_store::Kind::DialRule => {
                type $T = m::DialRule;
                let $wrap = tether_store::Object::DialRule;
                $body
            }
            tether_store::Kind::Announcement => {
                type $T = m::Announcement;
                let $wrap = tether_store::Object::Announcement;
                $body
            }
        }
    }};
}
pub(crate) use with_model;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(item_path(Kind::User), "/api/v1/users/{id}");
        assert_eq!(
            item_path(Kind::RemoteDestination),
            "/api/v1/remote-destinations/{device}/{name}"
        );
        assert_eq!(encode_segment("\\+1!"), "%5C%2B1%21");
        assert_eq!(encode_segment("9.[2-9]XX"), "9.%5B2-9%5DXX");
    }
}
