//! The axum router: the versioned API, the probes, the server-rendered pages and static files.
pub mod boundaries;
pub mod error;
pub mod events;
pub mod openapi;
pub mod ops;
pub mod stats;
pub mod stream;

use crate::auth::IngestToken;
use crate::live::{ChangeFeed, LiveHub};
use crate::store::DuckStore;
use crate::telemetry::{SequentialRequestId, REQUEST_ID_HEADER};
use app::store::SharedIndicatorStore;
use app::{shell, App};
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{Request, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<DuckStore>,
    pub ingest_token: Arc<IngestToken>,
    pub live: LiveHub,
    pub dashboard_defaults: app::api::DashboardDefaults,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        store: Arc<DuckStore>,
        ingest_token: IngestToken,
        dashboard_defaults: app::api::DashboardDefaults,
    ) -> Self {
        let feed = ChangeFeed::starting_at(store.last_seq_at_open());
        AppState {
            leptos_options,
            live: LiveHub::new(store.clone(), feed),
            store,
            ingest_token: Arc::new(ingest_token),
            dashboard_defaults,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Only `/embed` may be framed by other sites; every other page refuses framing (clickjacking).
async fn frame_policy(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{
        HeaderValue, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    let embeddable = req.uri().path() == "/embed";
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if embeddable {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors *"),
        );
    } else {
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    res
}

async fn api_not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::NotFound(format!("no API route at {}", uri.path()))
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/stats", get(stats::get_stats))
        .route("/api/v1/trend", get(stats::get_trend))
        .route(
            "/api/v1/procedures/uncatalogued",
            get(stats::get_uncatalogued),
        )
        .route("/api/v1/boundaries", get(boundaries::get_boundaries))
        .route("/api/v1/tiles", get(boundaries::get_tiles))
        .route("/api/v1/stream", get(stream::get_stream))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/events",
            // The handler enforces the limit itself to answer 413 with a JSON body.
            post(events::post_events).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/{*rest}", get(api_not_found).post(api_not_found))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));

    let store_for_context: SharedIndicatorStore = state.store.clone();
    let defaults = state.dashboard_defaults.clone();
    let options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(store_for_context.clone());
                provide_context(defaults.clone());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));

    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-")
                .to_string();
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_request(())
        .on_response(|res: &Response<_>, latency: Duration, _span: &Span| {
            tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "served");
        });

    api.merge(pages)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    REQUEST_ID_HEADER,
                    SequentialRequestId::new(),
                ))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
                .layer(axum::middleware::from_fn(frame_policy))
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
}
