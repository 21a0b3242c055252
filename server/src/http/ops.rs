//! Liveness and readiness probes for orchestrators and load balancers.
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The process is up and answering.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store is open and migrated to the schema this binary expects.
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
                    "code": "store_unwritable",
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
                    "code": "store_unavailable",
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
                    "code": "internal",
                    "message": app::error::INTERNAL_MESSAGE,
                })),
            )
        }
    }
}
