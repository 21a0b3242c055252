//! Admin routes: the users and tokens (never their secrets) and the audit log.
use super::access::Caller;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Users and tokens, never their secrets (admins only)
#[utoipa::path(
    get,
    path = "/api/v1/admin/accounts",
    tag = "admin",
    security(("sessionCookie" = [])),
    responses(
        (status = 200, description = "`{users: [{username, role, unit, unit_era, created_at, disabled_at}], \
            tokens: [{id, name, role, unit, unit_era, created_at, revoked_at}]}`"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub async fn get_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let file = state
        .auth
        .accounts
        .current()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let users: Vec<Value> = file
        .users
        .iter()
        .map(|u| {
            json!({"username": u.username, "role": u.role.as_str(), "unit": u.unit.as_deref().map(|x| crate::auth::public_unit(x).0),
                   "unit_era": u.unit.as_deref().and_then(|x| crate::auth::public_unit(x).1),
                   "created_at": u.created_at, "disabled_at": u.disabled_at})
        })
        .collect();
    let tokens: Vec<Value> = file
        .tokens
        .iter()
        .map(|t| {
            json!({"id": t.id, "name": t.name, "role": t.role.as_str(), "unit": t.unit.as_deref().map(|x| crate::auth::public_unit(x).0),
                   "unit_era": t.unit.as_deref().and_then(|x| crate::auth::public_unit(x).1),
                   "created_at": t.created_at, "revoked_at": t.revoked_at})
        })
        .collect();
    Ok(Json(json!({"users": users, "tokens": tokens})))
}

/// The last entries of the audit log (admins only)
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    security(("sessionCookie" = [])),
    params(("limit" = Option<u32>, Query, description = "How many (default 200)", minimum = 1, maximum = 10000)),
    responses(
        (status = 200, description = "`{entries: [{at, action, actor, target, outcome, client}]}`"),
        (status = 400, description = "`limit` is not a number from 1 to 10000", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub async fn get_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let limit = match params.get("limit") {
        None => 200,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::bad_request("limit", "a number from 1 to 10000"))?,
    };
    let entries = state
        .auth
        .audit
        .tail(limit)
        .map_err(|e| ApiError::Unavailable(format!("the audit log cannot be read: {e}")))?;
    Ok(Json(json!({ "entries": entries })))
}
