//! `GET /api/v1/stream`: server-sent events carrying a view's figures after every commit.
//!
//! Server-sent events rather than a websocket: the flow is one-way, `EventSource` reconnects and
//! sends `Last-Event-ID` by itself, it passes through HTTP proxies and caches unchanged, and it
//! needs nothing on the client beyond the browser.
use super::access::client_of;
use super::error::{ApiError, ErrorBody};
use super::{stats, AppState};
use crate::live::{LiveRefusal, Subscription};
use axum::extract::{Query, State};
use axum::http::{request::Parts, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

/// The stream's query names the view exactly as `/api/v1/stats` does; `last_event_id` stands in
/// for the header when a client opens a new connection itself.
pub(crate) const LAST_EVENT_ID: &str = "last_event_id";

/// Live figures for a view, as server-sent events
#[utoipa::path(
    get,
    path = "/api/v1/stream",
    tag = "figures",
    description = "Takes the parameters of /api/v1/stats. Sends `event: figures` with \
        `id: <commit sequence number>` and data `{\"seq\", \"data_as_of\", \"stats\"}` (stats as \
        /api/v1/stats answers it): the current figures at once, then after each commit that \
        changes them, at most one message per 250 ms. With `Last-Event-ID` (header) or \
        `last_event_id` (query), nothing is sent until the next change if the client already has \
        the current figures; otherwise the current figures are sent at once.",
    params(
        ("from" = String, Query, description = super::openapi::dated("First day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("to" = String, Query, description = super::openapi::dated("Last day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("level" = inline(app::model::Level), Query, description = "The level of the units listed"),
        ("parent" = Option<String>, Query, description = "List only units under this unit code"),
        ("field" = Option<String>, Query, description = "Sector filter"),
        ("channel" = inline(Option<app::model::Channel>), Query, description = "Channel filter"),
        ("dossier_level" = inline(Option<app::model::Level>), Query, description = "Handling level filter"),
        ("units" = inline(Option<app::era::UnitsView>), Query, description = super::openapi::UNITS),
        ("last_event_id" = Option<i64>, Query, description = "The id of the last message the client has"),
        ("Last-Event-ID" = Option<i64>, Header, description = "The id of the last message the client has (`EventSource` sends it when it reconnects)")
    ),
    responses(
        (status = 200, description = "A stream of messages", content_type = "text/event-stream", body = String),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody),
        (status = 429, description = "This client holds too many streams already; `Retry-After` says when to try again", body = ErrorBody),
        (status = 503, description = "`busy`: the server watches too many distinct views or holds too many streams; `Retry-After` says when to try again", body = ErrorBody)
    )
)]
pub async fn get_stream(
    State(state): State<AppState>,
    parts: Parts,
    Query(mut params): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let headers: &HeaderMap = &parts.headers;
    let from_query = params.remove(LAST_EVENT_ID);
    let query = stats::parse_query(&params)?;
    // Every distinct view is a task recomputed after each commit: only views that can exist
    // (a known sector, a known parent) are watched, so no string makes a new one.
    let store = state.store.clone();
    let (field, parent) = (query.field.clone(), query.parent.clone());
    let era = query
        .units
        .era(query.period.to)
        .map_err(|m| ApiError::bad_request("units", m))?;
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        if let Some(field) = field {
            if !store.fields()?.contains(&field) {
                return Err(ApiError::bad_request(
                    "field",
                    format!("field: no sector is named '{}'", clip(&field)),
                ));
            }
        }
        if let Some(parent) = parent {
            if parent != app::views::COUNTRY && store.unit_trail(&parent, era)?.is_empty() {
                return Err(ApiError::bad_request(
                    "parent",
                    format!("parent: no unit has the code '{}'", clip(&parent)),
                ));
            }
        }
        Ok(())
    })
    .await??;
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
    let subscription = state
        .live
        .subscribe(query, &client_key(&client_of(&parts)))
        .map_err(|refusal| match refusal {
            LiveRefusal::TooManyStreams(most) => ApiError::RateLimited {
                retry_after: Duration::from_secs(30),
                message: format!(
                    "this client has {most} live streams open already; close one first"
                ),
            },
            LiveRefusal::TooManyViews(most) => ApiError::Busy(format!(
                "the server watches {most} distinct views already; try again later or watch a view others watch"
            )),
            LiveRefusal::TooManyStreamsInAll(most) => ApiError::Busy(format!(
                "the server holds {most} live streams already; try again later"
            )),
        })?;
    Ok(Sse::new(messages(subscription, last_seen))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Whom the per-client stream limit counts: the address, or for IPv6 its /64 network (one
/// subscriber's line holds a whole /64, so single addresses would be no limit at all).
fn client_key(client: &str) -> String {
    match client.parse::<std::net::Ipv6Addr>() {
        Ok(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => client.to_string(),
    }
}

/// A value as an error message may quote it: at most 60 characters.
fn clip(value: &str) -> String {
    value.chars().take(60).collect()
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
/// The subscription lives as long as the stream, so the client's slot is freed when the
/// connection closes.
fn messages(
    subscription: Subscription,
    last_seen: Option<i64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(
        (subscription, last_seen, true),
        |(mut subscription, mut last_seen, first)| async move {
            let mut wait = !first;
            loop {
                let figures = &mut subscription.figures;
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
                return Some((Ok(event), (subscription, last_seen, false)));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn ipv6_clients_are_counted_by_their_network_and_ipv4_by_address() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            client_key("2001:db8:1:2:bbbb::9"),
            client_key("2001:db8:1:2:aaaa::1")
        );
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("::ffff:203.0.113.9"), "::ffff:203.0.113.9");
        assert_eq!(client_key("local"), "local");
    }
}
