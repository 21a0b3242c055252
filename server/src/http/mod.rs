//! The axum router: the versioned API, the probes, the server-rendered pages and static files.
pub mod access;
pub mod admin;
pub mod alerts;
pub mod assets;
pub mod boundaries;
pub mod due;
pub mod embed;
pub mod error;
pub mod events;
pub mod late;
pub mod openapi;
pub mod ops;
pub mod reports;
pub mod session;
pub mod stats;
pub mod stream;

use crate::auth::Auth;
use crate::codes::ErrorCode;
use crate::live::{ChangeFeed, LiveHub};
use crate::store::served::ServedStore;
use crate::telemetry::{SequentialRequestId, REQUEST_ID_HEADER};
use app::shell;
use app::store::SharedIndicatorStore;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{Request, Response};
use axum::routing::{get, post, put};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::LeptosRoutes;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn ServedStore>,
    pub auth: Arc<Auth>,
    pub live: LiveHub,
    pub dashboard_defaults: app::views::DashboardDefaults,
    /// Alert rules and alerts (`alerts.json` in the data directory); `None` until the server
    /// opens them, the alert routes answering 503 until then.
    pub alerts: Option<Arc<crate::alerts::Alerts>>,
    /// Monthly reports being drawn and the last public ones drawn.
    pub reports: Arc<crate::report::Reports>,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        store: Arc<dyn ServedStore>,
        auth: Auth,
        dashboard_defaults: app::views::DashboardDefaults,
    ) -> Self {
        let feed = ChangeFeed::starting_at(store.last_seq_at_open());
        AppState {
            // Opened by `serve` (which refuses to start without it) or a test harness.
            alerts: None,
            reports: Arc::default(),
            leptos_options,
            live: LiveHub::new(store.clone(), feed),
            store,
            auth: Arc::new(auth),
            dashboard_defaults,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The policy for everything that is not a rendered page (JSON, files): nothing may run or frame.
const STRICT_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of a rendered page: scripts only from this site or inline with the response's
/// nonce, WebAssembly compiled from this site's module, no plugins. Only `/embed` may be framed.
pub fn page_policy(nonce: &str, path: &str) -> String {
    let frame_ancestors = if path == "/embed" { "*" } else { "'none'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// Security headers on every response. Pages carry their own nonce policy (set while they are
/// rendered); everything else gets the strict one. Framing is refused except for `/embed`.
async fn security_headers(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{
        HeaderValue, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
        X_FRAME_OPTIONS,
    };
    let embeddable = req.uri().path() == "/embed";
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !embeddable {
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(STRICT_POLICY),
        );
    }
    // A page is revalidated at every visit: it names the current build's hashed assets.
    let html = headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html && !headers.contains_key(axum::http::header::CACHE_CONTROL) {
        headers.insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
    }
    res
}

/// API errors that did not come from our handlers (axum's extractor rejections, body limits,
/// unknown methods) get the same JSON body as ours: `{status, code, message}`. An internal
/// error, ours or not, says only that it happened and names the request id (which the log line
/// of its detail carries too): `IntoResponse` has no request to take the id from, this does.
async fn json_errors(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    let api = req.uri().path().starts_with("/api/");
    let request_id = request_id_of(req.headers());
    let res = next.run(req).await;
    let status = res.status();
    if res.extensions().get::<error::InternalFailure>().is_some() {
        return internal_error(res.headers(), request_id.as_deref());
    }
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    if status == axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %text, "internal error");
        return internal_error(&parts.headers, request_id.as_deref());
    }
    let code = match status.as_u16() {
        400 => ErrorCode::BadRequest,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::Unprocessable,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::Error,
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    json_error(
        status,
        &parts.headers,
        serde_json::json!({"status": status.as_u16(), "code": code, "message": message}),
    )
}

/// The request's id, as `SetRequestIdLayer` set it before anything else ran.
fn request_id_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The body of every internal error of the API: a code and the request id, never the detail.
fn internal_error(
    headers: &axum::http::HeaderMap,
    request_id: Option<&str>,
) -> axum::response::Response {
    let status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    json_error(
        status,
        headers,
        serde_json::json!({
            "status": status.as_u16(),
            "code": ErrorCode::Internal,
            "message": error::internal_message(request_id),
            "request_id": request_id,
        }),
    )
}

/// `body` as a JSON answer with `status`, keeping the headers of the response it replaces but
/// those that described that response's body (its type, length and compression).
fn json_error(
    status: axum::http::StatusCode,
    headers: &axum::http::HeaderMap,
    body: serde_json::Value,
) -> axum::response::Response {
    use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let mut out = (status, axum::Json(body)).into_response();
    for (name, value) in headers.iter() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH && name != CONTENT_ENCODING {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// Server functions answer an error with a 500 and the [`app::error::AppError`] as JSON. An
/// internal one is logged here, in the request's span, and its message replaced by one that
/// names the request id: whatever it said (a task's panic, a store's failure) is for the log.
/// Other errors (bad request, unauthorized…) pass unchanged.
async fn server_fn_errors(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !req.uri().path().starts_with("/api/fn/") {
        return next.run(req).await;
    }
    let request_id = request_id_of(req.headers());
    let res = next.run(req).await;
    if res.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .unwrap_or_default();
    let body = match serde_json::from_slice::<app::error::AppError>(&bytes) {
        Ok(failure) if failure.code != "internal" => {
            // server_fn answers every error 500; a caller's mistake is no server error, so the
            // status follows the code (the browser's half reads any 4xx or 5xx as the error).
            parts.status = status_of_code(&failure.code);
            bytes
        }
        answer => {
            let detail = match answer {
                Ok(failure) => failure.message,
                Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
            };
            tracing::error!(error = %detail, "internal error in a server function");
            let told = app::error::AppError::new(
                "internal",
                error::internal_message(request_id.as_deref()),
            );
            serde_json::to_vec(&told)
                .map(axum::body::Bytes::from)
                .unwrap_or_default()
        }
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

/// The HTTP status of a server function's error code (as the API answers the same cases).
fn status_of_code(code: &str) -> axum::http::StatusCode {
    use axum::http::StatusCode as S;
    match code {
        "bad_request" | "encoding" => S::BAD_REQUEST,
        "unauthorized" => S::UNAUTHORIZED,
        "forbidden" => S::FORBIDDEN,
        "not_found" => S::NOT_FOUND,
        "rate_limited" => S::TOO_MANY_REQUESTS,
        "store_unavailable" | "store_unwritable" | "busy" => S::SERVICE_UNAVAILABLE,
        _ => S::INTERNAL_SERVER_ERROR,
    }
}

/// Paths whose answers hold dossier-level rows or say who is signed in: the late list (JSON,
/// CSV and page), the due-soon list, a dossier's events, the session, sign-out, the admin views, and the server
/// functions behind the late page (late and due-soon lists), the dashboard's due-soon card and the
/// account menu.
const PRIVATE_PATHS: [&str; 18] = [
    "/late",
    "/api/v1/late",
    "/api/v1/due",
    "/api/v1/alerts",
    "/api/v1/dossiers",
    "/api/v1/session",
    "/api/v1/admin",
    "/signout",
    "/api/fn/late",
    "/api/fn/due",
    "/api/fn/due_summary",
    "/api/fn/alerts",
    "/api/fn/alert_rule",
    "/api/fn/alert_rule_delete",
    "/api/fn/alerts_read",
    "/alerts",
    "/api/fn/timeline",
    "/api/fn/viewer",
];

/// Whether `path` is one of [`PRIVATE_PATHS`] or under one.
pub fn is_private_path(path: &str) -> bool {
    PRIVATE_PATHS.iter().any(|private| {
        path.strip_prefix(private)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// No cache (the browser's, a proxy's) may keep a private answer: its rows would outlive the
/// session, for the next person at a shared computer to see with the back button. Set here, on
/// every answer of those paths (errors too), so that no handler or page can forget it.
async fn no_store(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{HeaderValue, CACHE_CONTROL};
    let private = is_private_path(req.uri().path());
    let mut res = next.run(req).await;
    if private {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Bodies beyond this are refused (413) on every route but ingest, which sets its own limit.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

async fn api_not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::NotFound(format!("no API route at {}", uri.path()))
}

/// Puts the page's CSP, with the nonce Leptos gives this response's inline scripts, on the response.
fn set_page_policy() {
    let (Some(nonce), Some(options), Some(parts)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
        use_context::<axum::http::request::Parts>(),
    ) else {
        return;
    };
    if let Ok(value) =
        axum::http::HeaderValue::from_str(&page_policy(&nonce.to_string(), parts.uri.path()))
    {
        options.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
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
        .route("/api/v1/late", get(late::get_late))
        .route("/api/v1/due", get(due::get_due))
        .route("/api/v1/reports/monthly", get(reports::get_monthly))
        .route("/api/v1/alerts", get(alerts::get_alerts))
        .route("/api/v1/alerts/read", post(alerts::post_read))
        .route(
            "/api/v1/alerts/rules",
            get(alerts::get_rules).post(alerts::post_rule),
        )
        .route(
            "/api/v1/alerts/rules/{id}",
            put(alerts::put_rule).delete(alerts::delete_rule),
        )
        .route("/api/v1/dossiers/{id}", get(late::get_dossier))
        .route(
            "/api/v1/session",
            get(session::who_am_i)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/signout", post(session::sign_out_form))
        .route("/api/v1/admin/accounts", get(admin::get_users))
        .route("/api/v1/admin/audit", get(admin::get_audit))
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
    let access_for_context: app::access::SharedDossierAccess =
        Arc::new(access::PageAccess::new(state.clone()));
    let defaults = state.dashboard_defaults.clone();
    let options = state.leptos_options.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let assets = assets::names(&pkg_dir);
    let preload = {
        // One header per bundle, written once.
        let links: Arc<std::collections::HashMap<&'static str, axum::http::HeaderValue>> = Arc::new(
            app::BUNDLES
                .iter()
                .filter_map(|(bundle, _)| Some((*bundle, assets::preload_links(&assets, bundle)?)))
                .collect(),
        );
        move |req: Request<axum::body::Body>, next: axum::middleware::Next| {
            let links = links.get(app::bundle_for(req.uri().path())).cloned();
            async move {
                let mut res = next.run(req).await;
                let html = res
                    .headers()
                    .get(axum::http::header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
                if let (true, Some(links)) = (html && res.status().is_success(), links) {
                    res.headers_mut().insert(axum::http::header::LINK, links);
                }
                res
            }
        }
    };
    let routes = app::page_routes();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(store_for_context.clone());
                provide_context(defaults.clone());
                provide_context(access_for_context.clone());
                provide_context(assets.clone());
                set_page_policy();
            },
            move || shell(options.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            embed::load_view,
        ))
        .layer(axum::middleware::from_fn(preload))
        .nest_service("/pkg", assets::service(&pkg_dir))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Inside the compression (the outer layers), so the error bodies it reads are plain.
        .layer(axum::middleware::from_fn(server_fn_errors))
        // Server functions and pages read their bodies themselves: cap them here.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_REQUEST_BYTES,
        ));

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
                .layer(axum::middleware::from_fn(security_headers))
                .layer(axum::middleware::from_fn(no_store))
                .layer(axum::middleware::from_fn(json_errors))
                .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
                // Brotli 5: the dashboard's page 46.6 KB against 50.5 KB at tower-http's default
                // of 4 (Node's zlib on the same bytes: 6.5 ms against 4.9, gzip 6 10.9 ms); gzip at
                // 5 is within 3% of 6.
                .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5))),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossier_and_session_answers_are_private_and_the_public_figures_are_not() {
        for path in [
            "/late",
            "/api/v1/late",
            "/api/v1/dossiers/HS-1",
            "/api/v1/session",
            "/api/v1/admin/audit",
            "/api/fn/late",
            "/api/fn/due",
            "/api/fn/due_summary",
            "/api/v1/due",
            "/api/fn/timeline",
            "/api/fn/viewer",
        ] {
            assert!(is_private_path(path), "{path}");
        }
        for path in [
            "/",
            "/embed",
            "/lateness",
            "/api/v1/stats",
            "/api/v1/latest",
            "/api/fn/dashboard",
        ] {
            assert!(!is_private_path(path), "{path}");
        }
    }
}
