//! Who is calling: the request's bearer token or session cookie resolved into a principal, with
//! the client's address for rate limits and the audit log; and the checks every route uses.
use super::error::ApiError;
use super::AppState;
use crate::auth::{Principal, UnitPlace};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use std::net::SocketAddr;

pub struct Caller {
    pub principal: Principal,
    /// The peer address (no proxy header is trusted).
    pub client: String,
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// The principal behind a request's headers (wrong credentials are an error, none anonymous).
pub fn principal_of(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    Ok(state.auth.principal(
        bearer(headers),
        cookie(headers, crate::auth::sessions::COOKIE),
    )?)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Caller::from_parts(state, parts)
    }
}

impl Caller {
    pub fn from_parts(state: &AppState, parts: &Parts) -> Result<Self, ApiError> {
        Ok(Caller {
            principal: principal_of(state, &parts.headers)?,
            client: client_of(parts),
        })
    }

    /// Dossier-level data of `unit`: 401 for the public, 403 outside the caller's scope.
    pub fn may_read_dossiers_of(&self, unit: &UnitPlace) -> Result<(), ApiError> {
        self.require_dossier_reader()?;
        if self.principal.scope().covers(unit) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "unit {} is outside what {} may see",
                unit.code,
                self.principal.actor()
            )))
        }
    }

    pub fn require_dossier_reader(&self) -> Result<(), ApiError> {
        match &self.principal {
            Principal::Anonymous => Err(ApiError::Unauthorized(
                "sign in (POST /api/v1/session) or send a token with read rights".into(),
            )),
            p if p.reads_dossiers() => Ok(()),
            p => Err(ApiError::Forbidden(format!(
                "{} may not read dossier-level data",
                p.actor()
            ))),
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        match &self.principal {
            Principal::Anonymous => Err(ApiError::Unauthorized("sign in as an admin".into())),
            p if p.is_admin() => Ok(()),
            p => Err(ApiError::Forbidden(format!(
                "{} is not an admin",
                p.actor()
            ))),
        }
    }

    /// Records an audit line; the request fails (503) if it cannot be recorded.
    pub fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: &str,
        outcome: &str,
    ) -> Result<(), ApiError> {
        state
            .auth
            .record(
                action,
                &self.principal.actor(),
                target,
                outcome,
                &self.client,
            )
            .map_err(|e| ApiError::Unavailable(format!("the audit log cannot be written: {e}")))
    }
}

/// The server functions' way to the same checks as the HTTP API (see [`app::access`]).
pub struct PageAccess {
    state: AppState,
}

impl PageAccess {
    pub fn new(state: AppState) -> Self {
        PageAccess { state }
    }

    fn caller(&self, parts: &Parts) -> Result<Caller, ApiError> {
        Caller::from_parts(&self.state, parts)
    }
}

fn app_error(e: ApiError) -> app::error::AppError {
    use crate::codes::ErrorCode;
    use app::error::AppError;
    // The pages' errors carry the API's codes, as text (the app crate cannot name the enum).
    let error = |code: ErrorCode, message: String| AppError::new(code.as_str(), message);
    match e {
        ApiError::BadRequest { field, message } => {
            error(ErrorCode::BadRequest, format!("{field}: {message}"))
        }
        ApiError::Unauthorized(m) => error(ErrorCode::Unauthorized, m),
        ApiError::Forbidden(m) => error(ErrorCode::Forbidden, m),
        ApiError::NotFound(m) => error(ErrorCode::NotFound, m),
        ApiError::RateLimited { message, .. } => error(ErrorCode::RateLimited, message),
        ApiError::Unavailable(m) => error(ErrorCode::StoreUnavailable, m),
        ApiError::Unwritable(m) => error(ErrorCode::StoreUnwritable, m),
        // An internal error's text can be a database's or a panic's: it goes to the log (in the
        // request's span, so with its id), and the page gets the bare fact.
        other => {
            tracing::error!(error = ?other, "internal error");
            AppError::internal()
        }
    }
}

impl app::access::DossierAccess for PageAccess {
    fn viewer(&self, parts: &Parts) -> Result<app::access::Viewer, app::error::AppError> {
        let caller = self.caller(parts).map_err(app_error)?;
        // Leaders, chairs and admins keep alert rules; their unread count shows by their name.
        let unread_alerts = super::alerts::alert_list(&self.state, &caller)
            .ok()
            .map(|l| l.unread);
        Ok(match caller.principal {
            Principal::User {
                username,
                role,
                scope,
            } => app::access::Viewer {
                username: Some(username),
                role: Some(role.as_str().into()),
                // The public code; the late page asks for it on a period of the unit's era.
                unit: scope.unit().map(|u| app::era::code_of(u).to_string()),
                unread_alerts,
            },
            _ => app::access::Viewer::default(),
        })
    }

    fn alerts(&self, parts: &Parts) -> app::access::AccessFuture<app::alerts::AlertsPage> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::alerts::page(&state, &caller).map_err(app_error)
        })
    }

    fn save_alert_rule(
        &self,
        parts: &Parts,
        rule: app::alerts::AlertRuleInput,
    ) -> app::access::AccessFuture<app::alerts::AlertRule> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::alerts::create_rule(&state, &caller, rule)
                .await
                .map_err(app_error)
        })
    }

    fn delete_alert_rule(&self, parts: &Parts, id: String) -> app::access::AccessFuture<()> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::alerts::remove_rule(&state, &caller, id)
                .await
                .map_err(app_error)
        })
    }

    fn mark_alerts_read(&self, parts: &Parts) -> app::access::AccessFuture<app::alerts::AlertList> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::alerts::mark_read(&state, &caller, None)
                .await
                .map_err(app_error)
        })
    }

    fn late(
        &self,
        parts: &Parts,
        query: app::late::LateQuery,
    ) -> app::access::AccessFuture<app::late::LatePage> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::late::late_page(&state, &caller, query)
                .await
                .map_err(app_error)
        })
    }

    fn due(
        &self,
        parts: &Parts,
        query: app::due::DueQuery,
    ) -> app::access::AccessFuture<app::due::DuePage> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::due::due_page(&state, &caller, query, super::due::vietnam_today())
                .await
                .map_err(app_error)
        })
    }

    fn due_summary(
        &self,
        parts: &Parts,
        unit: String,
        listed: Vec<String>,
    ) -> app::access::AccessFuture<Option<app::due::DueSummary>> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::due::due_summary(&state, &caller, unit, listed, super::due::vietnam_today())
                .await
                .map_err(app_error)
        })
    }

    fn timeline(
        &self,
        parts: &Parts,
        dossier_id: String,
    ) -> app::access::AccessFuture<app::late::DossierTimeline> {
        let caller = self.caller(parts);
        let state = self.state.clone();
        Box::pin(async move {
            let caller = caller.map_err(app_error)?;
            super::late::timeline(&state, &caller, dossier_id)
                .await
                .map_err(app_error)
        })
    }
}
