//! Sign-in and sign-out: `POST /api/v1/session` (JSON or an HTML form), `DELETE /api/v1/session`,
//! `POST /signout` (form), and `GET /api/v1/session` (who am I).
use super::access::{client_of, cookie, Caller};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::auth::sessions::COOKIE;
use crate::auth::Principal;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// A sign-in: as JSON, or as the fields of the sign-in page's form.
#[derive(Deserialize, utoipa::ToSchema)]
struct Credentials {
    username: String,
    password: String,
    /// Forms only: where to go after signing in (a path on this site).
    #[serde(default)]
    next: Option<String>,
}

/// Only paths on this site (see [`app::redirect::safe_next`], which the sign-in page uses
/// too): an open redirect would hand a signed-in user to anyone's page. Without a `next`, the
/// late dossiers, which is what signing in is for.
fn safe_next(next: Option<&str>) -> String {
    next.map(app::redirect::safe_next)
        .unwrap_or("/late")
        .to_string()
}

fn session_cookie(state: &AppState, headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    let over_tls = state.auth.settings.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if over_tls { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).expect("cookie made of safe characters")
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn form_redirect(next: &str, error: &str) -> Response {
    Redirect::to(&format!(
        "/signin?error={error}&next={}",
        app::model::encode_component(next)
    ))
    .into_response()
}

/// Sign in
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    description = "JSON `{\"username\", \"password\"}`, or an HTML form \
        (application/x-www-form-urlencoded, with an optional `next` path; answered by a 303 \
        redirect). Sets the HttpOnly, SameSite=Strict session cookie `iem_session` (Secure behind \
        TLS). Rate-limited per client address.",
    request_body(
        content(
            (Credentials = "application/json"),
            (Credentials = "application/x-www-form-urlencoded")
        )
    ),
    responses(
        (status = 200, description = "Signed in: `{signed_in, username, role, unit, unit_era}`"),
        (status = 400, description = "username or password missing", body = ErrorBody),
        (status = 401, description = "Unknown username or wrong password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many attempts; `Retry-After` says when to try again", body = ErrorBody)
    )
)]
pub async fn sign_in(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form = is_form(&parts.headers);
    match try_sign_in(&state, &parts, &body, form).await {
        Ok(response) => response,
        Err((error, next)) if form => {
            let code = match error {
                ApiError::RateLimited { .. } => "rate_limited",
                ApiError::BadRequest { .. } => "incomplete",
                _ => "invalid",
            };
            let mut res = form_redirect(&next, code);
            if let ApiError::RateLimited { retry_after, .. } = error {
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            res
        }
        Err((error, _)) => error.into_response(),
    }
}

async fn try_sign_in(
    state: &AppState,
    parts: &Parts,
    body: &[u8],
    form: bool,
) -> Result<Response, (ApiError, String)> {
    let client = client_of(parts);
    let credentials: Credentials = if form {
        serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::bad_request("body", format!("not a sign-in form: {e}")))
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "body",
                format!("expected {{\"username\": …, \"password\": …}}: {e}"),
            )
        })
    }
    .map_err(|e| (e, "/late".into()))?;
    let next = safe_next(credentials.next.as_deref());
    let fail = |e: ApiError| (e, next.clone());
    if credentials.username.is_empty() || credentials.password.is_empty() {
        return Err(fail(ApiError::bad_request(
            if credentials.username.is_empty() {
                "username"
            } else {
                "password"
            },
            "username and password are both required",
        )));
    }
    if credentials.username.len() > 64 || credentials.password.len() > 1024 {
        return Err(fail(ApiError::bad_request(
            "username",
            "username or password too long",
        )));
    }
    let tried: String = credentials.username.chars().take(64).collect();
    if let Err(retry_after) = state.auth.signin_limit.check(&client) {
        // Anyone can cause this: at most one line a minute per address (with a count).
        let _ = state
            .auth
            .audit
            .record_refusal(crate::auth::audit::AuditEntry {
                action: "signin",
                actor: &tried,
                target: "",
                outcome: "rate_limited",
                client: &client,
            });
        return Err(fail(ApiError::RateLimited {
            retry_after,
            message: "too many sign-in attempts from this address; wait and try again".into(),
        }));
    }
    let user = {
        let state = state.clone();
        let (u, p) = (credentials.username.clone(), credentials.password);
        tokio::task::spawn_blocking(move || state.auth.verify(&u, &p))
            .await
            .map_err(|e| fail(e.into()))?
            .map_err(|e| fail(e.into()))?
    };
    let outcome = if user.is_some() { "ok" } else { "denied" };
    state
        .auth
        .record("signin", &tried, "", outcome, &client)
        .map_err(|e| {
            fail(ApiError::Unavailable(format!(
                "the audit log cannot be written: {e}"
            )))
        })?;
    let Some(user) = user else {
        return Err(fail(ApiError::Unauthorized(
            "unknown username or wrong password".into(),
        )));
    };
    let id = state
        .auth
        .sessions
        .start(&user.username, &user.credentials_stamp())
        .map_err(|e| fail(ApiError::Internal(e.to_string())))?;
    let cookie = session_cookie(
        state,
        &parts.headers,
        &id,
        state.auth.sessions.policy().lifetime.as_secs(),
    );
    let mut res = if form {
        Redirect::to(&next).into_response()
    } else {
        Json(json!({
            "signed_in": true,
            "username": user.username,
            "role": user.role.as_str(),
            "unit": user.unit.as_deref().map(|x| crate::auth::public_unit(x).0),
            "unit_era": user.unit.as_deref().and_then(|x| crate::auth::public_unit(x).1),
        }))
        .into_response()
    };
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

fn end_session(state: &AppState, parts: &Parts) -> HeaderValue {
    if let Some(id) = cookie(&parts.headers, COOKIE) {
        if let Some(owner) = state.auth.sessions.resolve(id) {
            let _ = state.auth.record(
                "signout",
                &format!("user:{}", owner.username),
                "",
                "ok",
                &client_of(parts),
            );
        }
        state.auth.sessions.end(id);
    }
    session_cookie(state, &parts.headers, "", 0)
}

/// Sign out (ends the session, clears the cookie)
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses((status = 204, description = "Signed out"))
)]
pub async fn sign_out(State(state): State<AppState>, parts: Parts) -> Response {
    let cookie = end_session(&state, &parts);
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res
}

pub async fn sign_out_form(State(state): State<AppState>, parts: Parts) -> Response {
    let cookie = end_session(&state, &parts);
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res
}

/// Who is signed in (or which token is used)
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 200, description = "`{signed_in, username?, role?, unit?, unit_era?}`; for a token \
            `{signed_in: false, token, name, role, unit, unit_era}`")
    )
)]
pub async fn who_am_i(caller: Caller) -> Json<serde_json::Value> {
    Json(match caller.principal {
        Principal::Anonymous => json!({"signed_in": false}),
        Principal::User {
            username,
            role,
            scope,
            ..
        } => json!({
            "signed_in": true,
            "username": username,
            "role": role.as_str(),
            "unit": scope.unit().map(app::era::code_of),
            "unit_era": scope.unit().map(app::era::Era::of_key),
        }),
        Principal::Token {
            id,
            name,
            role,
            scope,
        } => json!({
            "signed_in": false,
            "token": id,
            "name": name,
            "role": role.as_str(),
            "unit": scope.unit().map(app::era::code_of),
            "unit_era": scope.unit().map(app::era::Era::of_key),
        }),
    })
}
