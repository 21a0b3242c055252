//! `GET /api/v1/stream`: server-sent events carrying a view's figures after every commit.
//!
//! Server-sent events rather than a websocket: the flow is one-way, `EventSource` reconnects and
//! sends `Last-Event-ID` by itself, it passes through HTTP proxies and caches unchanged, and it
//! needs nothing on the client beyond the browser.
use super::{error::ApiError, stats, AppState};
use crate::live::ViewReceiver;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

/// The stream's query names the view exactly as `/api/v1/stats` does; `last_event_id` stands in
/// for the header when a client opens a new connection itself.
const LAST_EVENT_ID: &str = "last_event_id";

pub async fn get_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let from_query = params.remove(LAST_EVENT_ID);
    let query = stats::parse_query(&params)?;
    let last_seen = match headers.get("last-event-id") {
        Some(v) => Some(parse_id(
            "Last-Event-ID",
            v.to_str().map_err(|_| {
                ApiError::bad_request("Last-Event-ID", "the header is not plain text")
            })?,
        )?),
        None => from_query
            .map(|v| parse_id(LAST_EVENT_ID, &v))
            .transpose()?,
    };
    let figures = state.live.subscribe(query);
    Ok(Sse::new(messages(figures, last_seen))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn parse_id(name: &'static str, value: &str) -> Result<i64, ApiError> {
    value.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_request(
            name,
            format!("'{value}' is not a message id (a whole number from an earlier message)"),
        )
    })
}

/// The view's states as events: the current one at once unless the client already has it
/// (resume), then each new one. Every message is the whole view, so a client that missed any
/// number of messages is back in sync with the next one it receives.
fn messages(
    figures: ViewReceiver,
    last_seen: Option<i64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(
        (figures, last_seen, true),
        |(mut figures, mut last_seen, first)| async move {
            let mut wait = !first;
            loop {
                if wait && figures.changed().await.is_err() {
                    return None;
                }
                wait = true;
                let Some(snapshot) = figures.borrow_and_update().clone() else {
                    continue;
                };
                if last_seen == Some(snapshot.seq) && snapshot.event != "error" {
                    continue;
                }
                last_seen = Some(snapshot.seq);
                let event = Event::default()
                    .id(snapshot.seq.to_string())
                    .event(snapshot.event)
                    .data(&snapshot.json);
                return Some((Ok(event), (figures, last_seen, false)));
            }
        },
    )
}
