//! `POST /api/v1/events`: integrators push dossier events; the reply comes once they are durable.
use super::access::Caller;
use super::{error::ApiError, AppState};
use crate::auth::{Principal, Role};
use crate::ingest::event::{parse_event, Event, LineError};
use crate::store::writer::{BatchError, BatchOutcome};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde_json::{json, Value};

/// Largest request body accepted (answered 413 beyond).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Largest single NDJSON line or array element.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Most events in one request.
pub const MAX_EVENTS: usize = 50_000;

/// Only ingest tokens post events; each token is rate-limited on its own.
fn authorize(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    match &caller.principal {
        Principal::Anonymous => Err(ApiError::Unauthorized(
            "send 'Authorization: Bearer <ingest token>'".into(),
        )),
        Principal::Token {
            id,
            role: Role::Ingest,
            ..
        } => state
            .auth
            .ingest_limit
            .check(id)
            .map_err(|retry_after| ApiError::RateLimited {
                retry_after,
                message: format!(
                    "token {id} sends more requests than its limit; wait, then resend (nothing from this request was stored)"
                ),
            }),
        other => Err(ApiError::Forbidden(format!(
            "{} may not post events: that needs an ingest token",
            other.actor()
        ))),
    }
}

/// Splits the body into `(line number, JSON value)`; syntax errors are reported per line.
/// Each line (or array element) with its number: a JSON value, or why it is not one.
pub type NumberedLines = Vec<(u32, Result<Value, LineError>)>;

pub fn split_body(content_type: &str, body: &[u8]) -> Result<NumberedLines, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request("body", format!("body is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let items: Vec<(u32, Result<Value, LineError>)> = match mime {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let line = i as u32 + 1;
                if l.len() > MAX_LINE_BYTES {
                    return Err(ApiError::PayloadTooLarge(format!(
                        "line {line} has {} bytes; at most {MAX_LINE_BYTES} are allowed",
                        l.len()
                    )));
                }
                Ok((
                    line,
                    serde_json::from_str::<Value>(l).map_err(|e| {
                        LineError::new(line, "", "invalid_json", format!("not JSON: {e}"))
                    }),
                ))
            })
            .collect::<Result<_, _>>()?,
        "application/json" => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| ApiError::bad_request("body", format!("body is not JSON: {e}")))?;
            let Value::Array(items) = value else {
                return Err(ApiError::bad_request(
                    "body",
                    "a JSON body must be an array of events",
                ));
            };
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as u32 + 1, Ok(v)))
                .collect()
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
            "content type '{other}' is not accepted: use application/x-ndjson or application/json"
        )))
        }
    };
    if items.len() > MAX_EVENTS {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} events in one request; at most {MAX_EVENTS} are allowed",
            items.len()
        )));
    }
    Ok(items)
}

pub async fn post_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    if let Err(e) = authorize(&state, &caller) {
        let _ = caller.audit(&state, "ingest", "", "refused");
        return Err(e);
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!(
                "the body is larger than {MAX_BODY_BYTES} bytes; send smaller batches"
            ))
        })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let result = match split_body(&content_type, &body) {
        Ok(lines) => ingest_lines(&state, lines).await,
        Err(e) => Err(e),
    };
    let audit_line = match &result {
        Ok(o) => format!("accepted {} duplicates {}", o.accepted, o.duplicates),
        Err(_) => "rejected".to_string(),
    };
    // The events are stored (or refused) already: a failed audit write is logged, not undone.
    if let Err(e) = caller.audit(&state, "ingest", "", &audit_line) {
        tracing::error!(error = ?e, "ingest token use not audited");
    }
    let outcome = result?;
    Ok(Json(
        json!({"accepted": outcome.accepted, "duplicates": outcome.duplicates}),
    ))
}

/// The ingest path after the request is read: validate every line, store all or nothing, then
/// announce the commit to the live stream. The demo simulator feeds its events through here too.
pub async fn ingest_lines(
    state: &AppState,
    lines: NumberedLines,
) -> Result<BatchOutcome, ApiError> {
    let now = chrono::Utc::now();
    let mut errors = Vec::new();
    let mut events: Vec<(u32, Event)> = Vec::new();
    for (line, value) in lines {
        match value {
            Err(e) => errors.push(e),
            Ok(v) => match parse_event(line, &v, now) {
                Ok(e) => events.push((line, e)),
                Err(es) => errors.extend(es),
            },
        }
    }
    if !errors.is_empty() {
        // Report the store-level problems of the well-formed lines too, without storing anything.
        let store = state.store.clone();
        let more = tokio::task::spawn_blocking(move || store.check(&events)).await?;
        match more {
            Ok(()) => {}
            Err(BatchError::Rejected(es)) => errors.extend(es),
            Err(BatchError::Store(e)) => return Err(e.into()),
        }
        errors.sort_by_key(|e| e.line);
        return Err(ApiError::Rejected(errors));
    }
    if events.is_empty() {
        return Err(ApiError::bad_request("body", "the request holds no events"));
    }
    let store = state.store.clone();
    let outcome = tokio::task::spawn_blocking(move || store.ingest(events)).await?;
    match outcome {
        Ok(o) => {
            if o.accepted > 0 {
                state.live.feed().notify(o.last_seq.unwrap_or_default());
            }
            Ok(o)
        }
        Err(BatchError::Rejected(errors)) => Err(ApiError::Rejected(errors)),
        Err(BatchError::Store(e)) => Err(e.into()),
    }
}
