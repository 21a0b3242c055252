//! `POST /api/v1/events`: integrators push dossier events; the reply comes once they are durable.
use super::access::Caller;
use super::error::{ApiError, ErrorBody, RejectedBody};
use super::AppState;
use crate::auth::{Principal, Role};
use crate::codes::ErrorCode;
use crate::ingest::event::{LineError, WireEvent};
use crate::ingest::service::{self, IngestError, NumberedLines};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

/// Largest request body accepted (answered 413 beyond). The limits are stated in the OpenAPI
/// document's description of this route; a test holds that text to these numbers.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Largest single NDJSON line or array element.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Most events in one request.
pub const MAX_EVENTS: usize = 50_000;

/// The answer to a stored request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Stored {
    /// Events stored by this request.
    pub accepted: u64,
    /// Events resent with the same `event_id` and content: no-ops.
    pub duplicates: u64,
}

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
                        LineError::new(line, "", ErrorCode::InvalidJson, format!("not JSON: {e}"))
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
            // One event, one limit, however it is sent: an element as an NDJSON line.
            let oversized = array_element_lengths(text)
                .into_iter()
                .enumerate()
                .find(|(_, len)| *len > MAX_LINE_BYTES);
            if let Some((i, len)) = oversized {
                return Err(ApiError::PayloadTooLarge(format!(
                    "element {} has {len} bytes; at most {MAX_LINE_BYTES} are allowed",
                    i + 1
                )));
            }
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

/// The byte length of each element of a JSON array as written (without the whitespace around
/// it). `text` must be a valid JSON array: it is measured only after it parsed as one.
fn array_element_lengths(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut lengths = Vec::new();
    let Some(open) = bytes.iter().position(|&b| b == b'[') else {
        return lengths;
    };
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut start = open + 1;
    for (i, &b) in bytes.iter().enumerate().skip(open + 1) {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' | b']' if depth == 0 => {
                let element = text[start..i].trim();
                if !element.is_empty() {
                    lengths.push(element.len());
                }
                if b == b']' {
                    break;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    lengths
}

/// Push dossier events
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "ingest",
    description = "NDJSON (one event per line) or a JSON array. The reply comes once the events \
        are durable. If any line is invalid nothing from the request is stored and every bad line \
        is listed. Resending an event (same event_id, same content) is a no-op counted in \
        `duplicates`. Limits: 16 MiB per body, 50,000 events per request, 64 KiB per line (413 \
        beyond).",
    security(("ingestToken" = [])),
    request_body(
        description = "application/x-ndjson: one Event JSON object per line; application/json: an array of Events.",
        content(
            (String = "application/x-ndjson"),
            (Vec<WireEvent> = "application/json")
        )
    ),
    responses(
        (status = 200, description = "Stored", body = Stored),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 403, description = "The token or session is not an ingest token, or an event \
            falls outside the token's units (nothing stored)", body = ErrorBody),
        (status = 409, description = "The only problem: event ids reused with different content", body = RejectedBody),
        (status = 413, description = "Body, line or event count over the limits", body = ErrorBody),
        (status = 415, description = "Content type other than application/x-ndjson or application/json", body = ErrorBody),
        (status = 422, description = "Invalid lines; nothing stored", body = RejectedBody),
        (status = 429, description = "The token is over its request rate; `Retry-After` says when \
            to resend. Nothing from the request was stored", body = ErrorBody),
        (status = 503, description = "The store cannot take writes now", body = ErrorBody)
    )
)]
pub async fn post_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Stored>, ApiError> {
    if let Err(e) = authorize(&state, &caller) {
        // Anyone can cause a refusal: its audit line is written at most once a minute per
        // client address (with a count of the ones in between), so refusals cannot grow the log.
        let written = state
            .auth
            .audit
            .record_refusal(crate::auth::audit::AuditEntry {
                action: "ingest",
                actor: &caller.principal.actor(),
                target: "",
                outcome: "refused",
                client: &caller.client,
            });
        if let Err(error) = written {
            tracing::error!(%error, "a refused ingest was not audited");
        }
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
        Ok(lines) => service::ingest(
            &state.store,
            state.live.feed(),
            lines,
            &caller.principal.scope(),
        )
        .await
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let audit_line = match &result {
        Ok(o) => format!("accepted {} duplicates {}", o.accepted, o.duplicates),
        Err(ApiError::Forbidden(m)) => format!("refused: {m}"),
        Err(_) => "rejected".to_string(),
    };
    // The events are stored (or refused) already: a failed audit write is logged, not undone.
    if let Err(e) = caller.audit(&state, "ingest", "", &audit_line) {
        tracing::error!(error = ?e, "ingest token use not audited");
    }
    let outcome = result?;
    Ok(Json(Stored {
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
    }))
}

/// A refusal for scope: 403 naming the lines (and nothing else about the request).
fn out_of_scope(lines: Vec<LineError>) -> ApiError {
    let listed: Vec<String> = lines
        .iter()
        .take(20)
        .map(|e| format!("line {}: {}", e.line, e.message))
        .collect();
    ApiError::Forbidden(format!(
        "this token writes only for its units; {}{}; nothing from this request was stored",
        listed.join("; "),
        if lines.len() > 20 { "; …" } else { "" }
    ))
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Rejected(errors) => ApiError::Rejected(errors),
            // Outside the token's units: refused for that alone, saying nothing else.
            IngestError::OutOfScope(lines) => out_of_scope(lines),
            IngestError::Empty => ApiError::bad_request("body", "the request holds no events"),
            IngestError::Store(e) => e.into(),
            IngestError::Task(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_elements_are_measured_as_written() {
        let text = r#" [ {"a": "x,]}\"{"}, [1, [2]] ,"s" , 3 ] "#;
        assert_eq!(array_element_lengths(text), vec![16, 8, 3, 1]);
        assert_eq!(array_element_lengths("[]"), Vec::<usize>::new());
        assert_eq!(array_element_lengths("[{}]"), vec![2]);
    }

    #[test]
    fn an_array_element_over_the_line_limit_is_refused_naming_it() {
        let pad = "x".repeat(MAX_LINE_BYTES);
        let body = format!(r#"[{{"a": 1}}, {{"pad": "{pad}"}}]"#);
        match split_body("application/json", body.as_bytes()) {
            Err(ApiError::PayloadTooLarge(m)) => assert!(m.starts_with("element 2 "), "{m}"),
            other => panic!("{other:?}"),
        }
        // The same event as an NDJSON line is refused the same way.
        let line = format!(r#"{{"pad": "{pad}"}}"#);
        assert!(matches!(
            split_body("application/x-ndjson", line.as_bytes()),
            Err(ApiError::PayloadTooLarge(_))
        ));
    }
}
