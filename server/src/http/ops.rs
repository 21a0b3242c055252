//! Liveness and readiness probes for orchestrators and load balancers.
use super::AppState;
use crate::codes::ErrorCode;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// Liveness
///
/// The process is up and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "probes",
    responses((status = 200, description = "The process is up"))
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness
///
/// The store is open and migrated to the schema this binary expects.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    responses(
        (status = 200, description = "Store open and migrated"),
        (status = 503, description = "Store unavailable, or it cannot write (`\"status\": \"degraded\"`: reads still work)")
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.readiness()).await {
        Ok(Ok(version)) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "schema_version": version})),
        ),
        // The probe is public: the reason (a path, a database message) goes to the log only.
        Ok(Err(e @ crate::store::StoreFailure::Unwritable(_))) => {
            tracing::warn!(error = %e, "not ready: the store cannot write");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "degraded",
                    "code": ErrorCode::StoreUnwritable,
                    "reads": "ok",
                    "writes": "failing",
                    "message": crate::store::UNWRITABLE,
                })),
            )
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "code": ErrorCode::StoreUnavailable,
                    "message": crate::store::UNAVAILABLE,
                })),
            )
        }
        // The check panicked: its text is for the log, not for whoever asks the probe.
        Err(e) => {
            tracing::error!(error = %e, "the readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "code": ErrorCode::Internal,
                    "message": app::error::INTERNAL_MESSAGE,
                })),
            )
        }
    }
}
