//! No request can hurt the service: dates and periods are checked where they enter, a panic
//! fails one call only, the live stream's views and connections are bounded, and a property
//! test throws arbitrary query strings and bodies at every GET route and server function.
use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt;

const Q1: &str = "from=2021-01-01&to=2021-03-31";

/// A little history in Quảng Nam: one dossier on time, one late, one open past due.
async fn seeded() -> TestApp {
    let app = app();
    let (status, body) = app
        .post_ndjson(&[
            received(
                "a1",
                "ontime",
                "2021-01-04T09:00:00+07:00",
                "2021-01-10T17:00:00+07:00",
            ),
            resolved("a2", "ontime", "2021-01-08T09:00:00+07:00"),
            received(
                "b1",
                "late",
                "2021-02-01T09:00:00+07:00",
                "2021-02-05T17:00:00+07:00",
            ),
            resolved("b2", "late", "2021-02-09T09:00:00+07:00"),
            received(
                "c1",
                "open",
                "2021-03-01T09:00:00+07:00",
                "2021-03-05T17:00:00+07:00",
            ),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app
}

/// Status and body text of one request; a stream's body is not read (it never ends).
async fn send(app: &TestApp, req: Request<Body>) -> (StatusCode, String) {
    let res = app
        .router
        .clone()
        .oneshot(req)
        .await
        .expect("router answers");
    let status = res.status();
    let streaming = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return (status, String::new());
    }
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(app: &TestApp, uri: &str) -> (StatusCode, String) {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn server_fn(app: &TestApp, name: &str, body: &Value) -> (StatusCode, String) {
    send(
        app,
        Request::post(format!("/api/fn/{name}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn field_of(text: &str) -> Value {
    serde_json::from_str::<Value>(text).unwrap_or(Value::Null)["field"].clone()
}

#[tokio::test]
async fn a_six_digit_year_is_refused_by_name_and_reads_go_on() {
    let app = seeded().await;
    let before = get(&app, &format!("/api/v1/stats?{Q1}&level=province")).await;
    assert_eq!(before.0, StatusCode::OK, "{}", before.1);
    // Twice: each used to poison one of the two readers for good.
    for _ in 0..2 {
        let (status, text) = get(
            &app,
            "/api/v1/trend?unit=VN&from=%2B262142-12-01&to=%2B262142-12-31",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(field_of(&text), "from", "{text}");
        assert!(text.contains("2000-01-01 to 2099-12-31"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    assert_eq!(
        get(&app, &format!("/api/v1/stats?{Q1}&level=province")).await,
        before
    );
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn every_date_that_enters_is_held_to_the_served_years_and_named() {
    let app = seeded().await;
    for (uri, field) in [
        (
            "/api/v1/stats?from=1999-12-31&to=2021-01-31&level=province",
            "from",
        ),
        (
            "/api/v1/stats?from=2021-01-01&to=2100-01-01&level=province",
            "to",
        ),
        (
            "/api/v1/trend?unit=49&from=2021-01-01&to=%2B2021-03-31",
            "to",
        ),
        ("/api/v1/trend?unit=49&from=2021-1-1&to=2021-03-31", "from"),
        (
            "/api/v1/stream?from=0000-01-01&to=2021-01-31&level=province",
            "from",
        ),
        (
            "/api/v1/boundaries?level=province&parent=VN&date=9999-12-31",
            "date",
        ),
    ] {
        let (status, text) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {text}");
        assert_eq!(field_of(&text), field, "{uri}: {text}");
    }
    // Ingest: an event dated outside the years is refused by field, and nothing is stored.
    let (status, body) = app
        .post_ndjson(&[received(
            "z1",
            "far",
            "2021-03-01T09:00:00+07:00",
            "+262142-03-05T17:00:00+07:00",
        )])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .post_ndjson(&[received(
            "z1",
            "far",
            "2021-03-01T09:00:00+07:00",
            "9999-03-05T17:00:00+07:00",
        )])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "due", "{body}");
    assert_eq!(
        body["errors"][0]["code"], "timestamp_out_of_range",
        "{body}"
    );
}

#[tokio::test]
async fn no_entry_takes_a_period_longer_than_three_years() {
    let app = seeded().await;
    let huge = "from=2000-01-01&to=2099-12-31";
    // The late list and its CSV answer only a reader: a leader of Quảng Nam asks.
    let (_, leader) = server::auth::accounts::AccountBook::at(app.dir.path())
        .create_token("leader 49", server::auth::Role::Leader, Some("49"))
        .unwrap();
    for uri in [
        format!("/api/v1/stats?{huge}&level=province"),
        format!("/api/v1/trend?{huge}&unit=VN&bucket=week"),
        format!("/api/v1/stream?{huge}&level=province"),
        format!("/api/v1/late?{huge}&unit=49"),
        format!("/api/v1/late?{huge}&unit=49&format=csv"),
    ] {
        let (status, text) = send(
            &app,
            Request::get(&uri)
                .header("authorization", format!("Bearer {leader}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {text}");
        assert!(text.contains("at most 1098 days"), "{uri}: {text}");
    }
    // The dashboard's server functions and page go through the same gate.
    let view = json!({"unit": "VN", "from": "0000-01-01", "to": "9999-12-31"});
    for (name, body) in [
        ("dashboard", json!({"request": view})),
        (
            "selection",
            json!({"request": {"view": view, "bucket": "week"}}),
        ),
        ("procedures", json!({"request": {"view": view}})),
    ] {
        let (status, text) = server_fn(&app, name, &body).await;
        assert!(status.as_u16() < 500, "{name}: {status} {text}");
        assert!(text.contains("bad_request"), "{name}: {text}");
    }
    let (status, text) = get(&app, "/?unit=VN&from=0000-01-01&to=9999-12-31&bucket=week").await;
    assert!(status.as_u16() < 500, "{status} {text}");
    assert!(text.contains("outside the dates served"), "{text}");
    // Three years exactly is served, by week too.
    let (status, text) = get(
        &app,
        "/api/v1/trend?unit=VN&from=2019-01-01&to=2021-12-31&bucket=week",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

#[tokio::test]
async fn a_panic_in_a_store_call_fails_that_call_only() {
    let app = seeded().await;
    let before = get(
        &app,
        &format!("/api/v1/stats?{Q1}&level=district&parent=49"),
    )
    .await;
    assert_eq!(before.0, StatusCode::OK, "{}", before.1);
    for _ in 0..4 {
        let failed = app
            .store
            .with_reader(|_| -> Result<(), server::store::StoreFailure> {
                panic!("an injected panic")
            });
        assert!(matches!(failed, Err(server::store::StoreFailure::Panicked)));
    }
    assert_eq!(
        get(
            &app,
            &format!("/api/v1/stats?{Q1}&level=district&parent=49")
        )
        .await,
        before
    );
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_live_stream_watches_only_views_that_can_exist() {
    let app = seeded().await;
    for (query, field) in [("field=x123", "field"), ("parent=99999999", "parent")] {
        let (status, text) =
            get(&app, &format!("/api/v1/stream?{Q1}&level=district&{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {text}");
        assert_eq!(field_of(&text), field, "{text}");
    }
}

#[tokio::test]
async fn one_client_may_hold_twenty_live_streams_and_the_next_waits() {
    let app = seeded().await;
    let open = |i: usize| {
        Request::get(format!(
            "/api/v1/stream?from=2021-01-{:02}&to=2021-03-31&level=province",
            i % 28 + 1
        ))
        .body(Body::empty())
        .unwrap()
    };
    let mut streams = Vec::new();
    for i in 0..20 {
        let res = app.router.clone().oneshot(open(i)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    let res = app.router.clone().oneshot(open(20)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // A closed stream frees its slot.
    streams.pop();
    let res = app.router.clone().oneshot(open(21)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn anonymous_ingest_refusals_cannot_grow_the_audit_log() {
    let app = app();
    for _ in 0..500 {
        let (status, _) = app
            .request(
                Request::post("/api/v1/events")
                    .header("content-type", "application/x-ndjson")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let log = std::fs::read_to_string(app.dir.path().join("audit.log")).unwrap();
    let refusals = log.lines().filter(|l| l.contains("\"refused\"")).count();
    assert_eq!(refusals, 1, "{log}");
}

// ---- The property test over the HTTP surface -------------------------------------------

/// Dates of every shape: right, out of range, signed, six-digit, malformed, empty.
fn date_like() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (2000i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => prop::sample::select(vec![
            "+262142-12-01", "-262143-01-01", "0000-01-01", "9999-12-31", "1999-12-31",
            "2100-01-01", "2021-02-30", "2021-13-01", "2021-1-1", "", " 2021-01-01", "2021-01-01T00:00:00Z",
        ])
        .prop_map(String::from),
        1 => (any::<i32>(), any::<i8>(), any::<i8>()).prop_map(|(y, m, d)| format!("{y}-{m}-{d}")),
        1 => "[0-9+-]{0,14}",
    ]
    .boxed()
}

/// Any value a parameter might carry.
fn value() -> BoxedStrategy<String> {
    prop_oneof![
        3 => date_like(),
        2 => prop::sample::select(vec![
            "VN", "49", "502", "503", "20341", "80", "48", "x123", "province", "district", "commune",
            "week", "month", "day", "online", "direct", "Đất đai", "json", "csv", "all", "late",
            "open", "asc", "desc", "days_overdue", "0", "1", "-1", "500", "501", "4294967296", "tiles",
        ])
        .prop_map(String::from),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => ".{0,24}",
        1 => "[a-z%]{200,2000}",
    ]
    .boxed()
}

fn name() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "from", "to", "level", "parent", "unit", "bucket", "field", "channel", "dossier_level",
            "date", "detail", "kind", "sort", "order", "page", "page_size", "format", "procedure",
            "agency", "map", "focus", "lang", "limit", "last_event_id", "next", "error",
        ])
        .prop_map(String::from),
        1 => ".{0,12}",
    ]
    .boxed()
}

const GET_ROUTES: [&str; 20] = [
    "/api/v1/due",
    "/api/v1/alerts",
    "/api/v1/alerts/rules",
    "/api/v1/stats",
    "/api/v1/trend",
    "/api/v1/boundaries",
    "/api/v1/tiles",
    "/api/v1/stream",
    "/api/v1/late",
    "/api/v1/dossiers/",
    "/api/v1/procedures/uncatalogued",
    "/api/v1/session",
    "/api/v1/admin/audit",
    "/api/v1/openapi.json",
    "/",
    "/embed",
    "/procedures",
    "/late",
    "/signin",
    "/readyz",
];

const SERVER_FNS: [&str; 7] = [
    "due",
    "dashboard",
    "selection",
    "procedures",
    "viewer",
    "late",
    "timeline",
];

#[derive(Debug, Clone)]
enum Probe {
    Get(String),
    ServerFn(&'static str, Value),
}

fn probe() -> impl Strategy<Value = Probe> {
    let pairs = prop::collection::vec((name(), value()), 0..8);
    prop_oneof![
        3 => (prop::sample::select(GET_ROUTES.to_vec()), pairs.clone(), value()).prop_map(
            |(route, pairs, id)| {
                let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
                let path = if route.ends_with('/') && route.len() > 1 {
                    format!("{route}{}", if id.is_empty() { "x".into() } else { escape(&id) })
                } else {
                    route.to_string()
                };
                Probe::Get(format!("{path}?{query}"))
            }
        ),
        1 => (prop::sample::select(SERVER_FNS.to_vec()), pairs, any::<bool>()).prop_map(
            |(name, pairs, nested)| {
                let fields: serde_json::Map<String, Value> = pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let value = v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v));
                        (k, value)
                    })
                    .collect();
                let inner = Value::Object(fields);
                let body = match (name, nested) {
                    ("selection" | "procedures", true) => json!({"request": {"view": inner}}),
                    ("late", _) => json!({"query": inner}),
                    ("timeline", _) => json!({"dossier_id": inner}),
                    _ => json!({"request": inner}),
                };
                Probe::ServerFn(name, body)
            }
        ),
    ]
}

/// A path segment with every byte but letters and digits percent-encoded.
fn escape(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// 5xx is a failure except the documented 503s (store unavailable, busy).
fn acceptable(status: StatusCode, text: &str) -> Result<(), TestCaseError> {
    if status.is_server_error() {
        let documented = status == StatusCode::SERVICE_UNAVAILABLE
            && (text.contains("store_unavailable") || text.contains("\"busy\""));
        prop_assert!(documented, "{status}: {}", &text[..text.len().min(500)]);
    }
    Ok(())
}

#[test]
fn arbitrary_requests_never_answer_5xx_and_leave_the_figures_as_they_were() {
    let cases = std::env::var("IEM_HTTP_PROPERTY_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(seeded());
    let figures = |app: &TestApp| {
        runtime.block_on(async {
            let mut out = Vec::new();
            for uri in [
                format!("/api/v1/stats?{Q1}&level=district&parent=49"),
                format!("/api/v1/trend?{Q1}&unit=49&bucket=month"),
            ] {
                let (status, text) = get(app, &uri).await;
                assert_eq!(status, StatusCode::OK, "{text}");
                out.push(text);
            }
            out
        })
    };
    let before = figures(&app);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&probe(), |probe| {
        let (status, text) = runtime.block_on(async {
            match &probe {
                Probe::Get(uri) => get(&app, uri).await,
                Probe::ServerFn(name, body) => server_fn(&app, name, body).await,
            }
        });
        acceptable(status, &text)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(figures(&app), before);
    assert_eq!(runtime.block_on(get(&app, "/readyz")).0, StatusCode::OK);
}
