//! The live stream: a connected client receives each commit's figures, equal to `/api/v1/stats`;
//! a reconnecting client resumes with Last-Event-ID; bursts are coalesced.
use crate::common::*;
use axum::body::{Body, BodyDataStream};
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;

const VIEW: &str = "from=2021-03-01&to=2021-03-31&level=district&parent=49";
const AT: &str = "2021-03-01T08:00:00+07:00";
const DUE: &str = "2021-03-10T17:00:00+07:00";

struct Message {
    event: String,
    id: i64,
    data: Value,
}

/// Reads server-sent events off a response body.
struct EventReader {
    body: BodyDataStream,
    buffer: String,
}

impl EventReader {
    /// The next message, or `None` when none arrives within `wait`. Comments (keep-alives) are skipped.
    async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().expect("numeric id"));
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(id) = id {
                    return Some(Message {
                        event,
                        id,
                        data: serde_json::from_str(&data).expect("JSON data"),
                    });
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.expect("body chunk")).expect("UTF-8"));
        }
    }
}

async fn connect(app: &TestApp, query: &str, last_event_id: Option<i64>) -> EventReader {
    let mut req = Request::get(format!("/api/v1/stream?{query}"));
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id.to_string());
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .expect("router answers");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    EventReader {
        body: res.into_body().into_data_stream(),
        buffer: String::new(),
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_reaches_a_connected_client_with_the_figures_stats_answers() {
    let app = app();
    let mut client = connect(&app, VIEW, None).await;
    let first = client
        .next(WAIT)
        .await
        .expect("the current figures at once");
    assert_eq!(first.event, "figures");
    let (_, before) = app.get(&format!("/api/v1/stats?{VIEW}")).await;
    assert_eq!(first.data["stats"], before);

    let (status, body) = app
        .post_ndjson(&[
            received("e1", "d1", AT, DUE),
            resolved("e2", "d1", "2021-03-09T10:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pushed = client.next(WAIT).await.expect("the change is pushed");
    assert!(
        pushed.id > first.id,
        "ids increase: {} then {}",
        first.id,
        pushed.id
    );
    assert_eq!(pushed.data["seq"], pushed.id);
    let (_, after) = app.get(&format!("/api/v1/stats?{VIEW}")).await;
    assert_eq!(pushed.data["stats"], after);
    let tam_ky = after["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "502")
        .expect("Tam Kỳ listed");
    assert_eq!(tam_ky["resolved_early"], 1);
    assert!(pushed.data["data_as_of"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_with_last_event_id_and_a_stale_one_resyncs_in_full() {
    let app = app();
    app.post_ndjson(&[received("e1", "d1", AT, DUE)]).await;
    let mut client = connect(&app, VIEW, None).await;
    let seen = client.next(WAIT).await.expect("the current figures");
    drop(client);

    // Nothing changed since the id it has: the resumed stream stays quiet until a commit.
    let mut resumed = connect(&app, VIEW, Some(seen.id)).await;
    assert!(resumed.next(Duration::from_millis(800)).await.is_none());
    app.post_ndjson(&[resolved("e2", "d1", "2021-03-12T10:00:00+07:00")])
        .await;
    let next = resumed
        .next(WAIT)
        .await
        .expect("the commit after the resume");
    assert!(next.id > seen.id);
    assert_eq!(next.data["stats"]["total"]["resolved_late"], 1);

    // A client that missed that commit gets the whole current view at once.
    let mut stale = connect(&app, VIEW, Some(seen.id)).await;
    let resync = stale.next(WAIT).await.expect("a full resync");
    assert_eq!(resync.id, next.id);
    let (_, now) = app.get(&format!("/api/v1/stats?{VIEW}")).await;
    assert_eq!(resync.data["stats"], now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_commits_is_coalesced_and_ends_on_the_final_figures() {
    let app = app();
    let mut client = connect(&app, VIEW, None).await;
    client.next(WAIT).await.expect("the current figures");
    let started = std::time::Instant::now();
    for n in 0..20 {
        let (status, body) = app
            .post_ndjson(&[received(&format!("e{n}"), &format!("d{n}"), AT, DUE)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut messages = Vec::new();
    while let Some(m) = client.next(Duration::from_millis(1000)).await {
        messages.push(m);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let last = messages.last().expect("at least one message");
    assert_eq!(last.data["stats"]["total"]["received"], 20);
    // At most one message per 250 ms (plus the one a commit sends at once).
    let allowed = (elapsed / 0.25).ceil() as usize + 1;
    assert!(
        messages.len() <= allowed && messages.len() < 20,
        "{} messages in {elapsed:.2} s",
        messages.len()
    );
    assert!(messages.windows(2).all(|w| w[0].id < w[1].id));
}

#[tokio::test]
async fn a_stream_request_with_bad_input_is_refused_naming_the_field() {
    let app = app();
    let (status, body) = app
        .get("/api/v1/stream?from=2021-03-01&to=2021-03-31")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "level");
    let (status, body) = app
        .get(&format!("/api/v1/stream?{VIEW}&last_event_id=yesterday"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "last_event_id");
    let (status, body) = app
        .request(
            Request::get(format!("/api/v1/stream?{VIEW}"))
                .header("last-event-id", "x")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "Last-Event-ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_leaves_the_view_unchanged_sends_nothing() {
    let app = app();
    let mut client = connect(&app, VIEW, None).await;
    client.next(WAIT).await.expect("the current figures");
    // A district of Long An: not in Quảng Nam's district view.
    let mut elsewhere = received("e1", "d1", AT, DUE);
    elsewhere["unit"] = "794".into();
    let (status, body) = app.post_ndjson(&[elsewhere]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(client.next(Duration::from_millis(800)).await.is_none());
    app.post_ndjson(&[received("e2", "d2", AT, DUE)]).await;
    let pushed = client.next(WAIT).await.expect("a change in the view");
    assert_eq!(pushed.data["stats"]["total"]["received"], 1);
}
