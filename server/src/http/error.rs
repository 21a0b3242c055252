//! The HTTP layer's error type: every failure is a status plus a JSON body with a stable code.
use crate::codes::ErrorCode;
use crate::ingest::event::LineError;
use crate::store::StoreFailure;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// A query parameter or body field is wrong: 400 naming it.
    BadRequest {
        field: String,
        message: String,
    },
    Unauthorized(String),
    /// Signed in (or holding a token) but not allowed this: 403.
    Forbidden(String),
    NotFound(String),
    /// Over a rate limit: 429 with Retry-After (whole seconds, at least 1).
    RateLimited {
        retry_after: std::time::Duration,
        message: String,
    },
    /// Ingest lines refused: 422 (409 when the only problem is reused event ids).
    Rejected(Vec<LineError>),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    Unavailable(String),
    /// The server is at a capacity limit (e.g. live views): 503 with Retry-After.
    Busy(String),
    /// The store cannot write its files; reads still work.
    Unwritable(String),
    /// Anything else that went wrong on our side: 500. The text is for the log only (it can be a
    /// database's message or a panic's); the client gets the request id to quote.
    Internal(String),
}

/// Marks the response of an [`ApiError::Internal`]: the `json_errors` middleware, which sees
/// the request (this type's `IntoResponse` does not), then names the request id in the body.
#[derive(Clone, Copy, Debug)]
pub struct InternalFailure;

/// What the client learns of an internal error: that there was one, and which request it was
/// (the log line of its detail carries the same id).
pub fn internal_message(request_id: Option<&str>) -> String {
    let id = request_id.unwrap_or("(the response's x-request-id header)");
    format!("an internal error occurred; quote request id {id} when reporting it")
}

/// The body of every error answer of the API.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// The HTTP status, repeated.
    status: u16,
    code: ErrorCode,
    /// What went wrong, for people.
    message: &'a str,
    /// The query parameter or body field at fault (400).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    // Never set here: this type's `IntoResponse` has no request. The `json_errors` middleware
    // writes an internal error's body with it; the field is here so that the document shows it.
    /// An internal error (500) only: the request's id, which the log line of its cause names.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// The body of a refused ingest request: every refused line, and nothing of the request stored.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Rejected)]
pub struct RejectedBody<'a> {
    status: u16,
    #[schema(schema_with = rejected_code)]
    code: ErrorCode,
    message: String,
    /// In line order; a line can be listed once per problem.
    errors: &'a [LineError],
}

/// The codes a refused ingest request carries as a whole: the schema of `RejectedBody::code`,
/// narrower than every [`ErrorCode`].
fn rejected_code() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(
            [ErrorCode::InvalidEvents, ErrorCode::EventIdConflict].map(ErrorCode::as_str),
        ))
        .description(Some(
            "invalid_events (422), or event_id_conflict (409) when every refused line reuses an event id",
        ))
        .build()
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let plain = |status: StatusCode, code: ErrorCode, message: &str, field: Option<&str>| {
            (
                status,
                Json(ErrorBody {
                    status: status.as_u16(),
                    code,
                    message,
                    field,
                    request_id: None,
                }),
            )
                .into_response()
        };
        match &self {
            ApiError::BadRequest { field, message } => plain(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                message,
                Some(field),
            ),
            ApiError::Unauthorized(m) => {
                plain(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, m, None)
            }
            ApiError::Forbidden(m) => plain(StatusCode::FORBIDDEN, ErrorCode::Forbidden, m, None),
            ApiError::NotFound(m) => plain(StatusCode::NOT_FOUND, ErrorCode::NotFound, m, None),
            ApiError::RateLimited {
                retry_after,
                message,
            } => {
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                let mut res = plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::RateLimited,
                    message,
                    None,
                );
                res.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(seconds),
                );
                res
            }
            ApiError::PayloadTooLarge(m) => plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                m,
                None,
            ),
            ApiError::UnsupportedMediaType(m) => plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                m,
                None,
            ),
            ApiError::Unavailable(m) => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StoreUnavailable,
                m,
                None,
            ),
            ApiError::Busy(m) => {
                let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, m, None);
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("30"),
                );
                response
            }
            ApiError::Unwritable(m) => {
                let mut response = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::StoreUnwritable,
                    &format!(
                        "{m}; nothing from this request was stored (reads still work); send it again later"
                    ),
                    None,
                );
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("30"),
                );
                response
            }
            ApiError::Internal(m) => {
                // Logged inside the request's span, so the line carries the request id.
                tracing::error!(error = %m, "internal error");
                let mut response = plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    &internal_message(None),
                    None,
                );
                response.extensions_mut().insert(InternalFailure);
                response
            }
            ApiError::Rejected(errors) => {
                let only_conflicts = errors.iter().all(|e| e.code == ErrorCode::EventIdConflict);
                let (status, code) = if only_conflicts {
                    (StatusCode::CONFLICT, ErrorCode::EventIdConflict)
                } else {
                    (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidEvents)
                };
                let body = RejectedBody {
                    status: status.as_u16(),
                    code,
                    message: format!(
                        "{} line(s) refused; nothing from this request was stored",
                        errors
                            .iter()
                            .map(|e| e.line)
                            .collect::<std::collections::BTreeSet<_>>()
                            .len()
                    ),
                    errors,
                };
                (status, Json(body)).into_response()
            }
        }
    }
}

impl From<StoreFailure> for ApiError {
    fn from(e: StoreFailure) -> Self {
        match e {
            StoreFailure::BadQuery { field, message } => ApiError::bad_request(field, message),
            // The details (a file path, a shard's address) go to the log, not to the caller.
            e @ StoreFailure::Io(_) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::Unavailable(crate::store::UNAVAILABLE.into())
            }
            e @ StoreFailure::Unwritable(_) => {
                tracing::warn!(error = %e, "store unwritable");
                ApiError::Unwritable(crate::store::UNWRITABLE.into())
            }
            // A shard that cannot be reached: the cluster is (partly) down, try again later.
            e @ StoreFailure::Cluster(crate::store::clickhouse::ClickHouseError::Unreachable {
                ..
            }) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::Unavailable(crate::store::UNAVAILABLE.into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<app::store::StoreError> for ApiError {
    fn from(e: app::store::StoreError) -> Self {
        match e {
            app::store::StoreError::BadQuery { field, message } => {
                ApiError::bad_request(field, message)
            }
            app::store::StoreError::Unavailable(m) => ApiError::Unavailable(m),
            app::store::StoreError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a store task failed: {e}"))
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        match e {
            crate::auth::AuthError::BadCredentials(m) => ApiError::Unauthorized(m),
            crate::auth::AuthError::Accounts(e) => ApiError::Internal(e.to_string()),
        }
    }
}
