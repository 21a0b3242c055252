//! Issue 22's adversarial review, point by point: sign-in redirects stay on this site, a new
//! password ends the sessions opened before it (a reset by the CLI too), dossier-level and
//! session answers are never kept by a cache, an internal error names the request id and
//! nothing of its cause, and a JSON array's element is held to the NDJSON line limit.
// `app` is also the crate of the shared types: the harness's constructor goes by another name here.
use crate::common::{app as test_app, authored_data, received, TOKEN};
use app::late::{LatePage, LateQuery, TimelineEvent};
use app::model::{
    Counts, IndicatorRow, Level, MapKind, MapLayer, PlacedUnit, StatsQuery, StatsResponse,
    TrendQuery, TrendResponse, UnitRef,
};
use app::selection::{DaysDistribution, ProcedureRow, SelectionQuery};
use app::store::{IndicatorStore, StoreError};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::NaiveDate;
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use server::auth::accounts::AccountBook;
use server::auth::cli::{run_users, UsersCommand};
use server::auth::{Auth, AuthSettings, IngestToken, Role, Scope, UnitPlace};
use server::http::events::MAX_LINE_BYTES;
use server::http::{router, AppState};
use server::ingest::event::Event;
use server::store::boundaries::{BoundaryLayer, Tile, UnitName};
use server::store::check::{BatchError, BatchOutcome};
use server::store::served::ServedStore;
use server::store::{DuckStore, StoreFailure, UncataloguedProcedure};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

const PASSWORD: &str = "a long test password";
const Q1: &str = "from=2021-01-01&to=2021-03-31";

/// An answer as a test reads it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

#[derive(Clone, Debug)]
enum Credential {
    None,
    Cookie(String),
    Bearer(String),
}

async fn send(router: &Router, req: Request<Body>) -> Answer {
    let res = router.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request with a credential, and a JSON body if one is given.
fn request(method: &str, uri: &str, credential: &Credential, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    match credential {
        Credential::None => {}
        Credential::Cookie(c) => builder = builder.header(header::COOKIE, c.as_str()),
        Credential::Bearer(t) => {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"))
        }
    }
    match body {
        Some(b) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("a valid request")
}

async fn sign_in(router: &Router, username: &str, password: &str) -> Answer {
    let credentials = json!({"username": username, "password": password});
    send(
        router,
        request(
            "POST",
            "/api/v1/session",
            &Credential::None,
            Some(credentials),
        ),
    )
    .await
}

async fn session(router: &Router, username: &str, password: &str) -> Credential {
    let answer = sign_in(router, username, password).await;
    assert_eq!(answer.status, StatusCode::OK, "{username}: {}", answer.text);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    Credential::Cookie(cookie.split(';').next().unwrap().to_string())
}

async fn signed_in(router: &Router, credential: &Credential) -> bool {
    let answer = send(router, request("GET", "/api/v1/session", credential, None)).await;
    let body: Value = serde_json::from_str(&answer.text).expect("JSON");
    body["signed_in"] == true
}

/// The late list's server-function argument for `unit` in the first quarter of 2021.
fn late_query(unit: &str) -> Value {
    json!({"unit": unit, "from": "2021-01-01", "to": "2021-03-31", "kind": "all",
        "field": null, "procedure": null, "agency": null, "sort": "days_overdue",
        "descending": true, "page": 1, "page_size": 50})
}

// A. Redirects stay on the site.

/// Signs chair.502 in through the HTML form, asking to go to `next` afterwards.
async fn form_sign_in(router: &Router, password: &str, next: &str) -> Answer {
    let form = serde_urlencoded::to_string([
        ("username", "chair.502"),
        ("password", password),
        ("next", next),
    ])
    .unwrap();
    let req = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    send(router, req).await
}

fn location(answer: &Answer) -> String {
    let value = answer
        .headers
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no location: {} {}", answer.status, answer.text));
    // Lossy: a target with a tab is not text a header may hold, and must fail here plainly.
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

#[tokio::test]
async fn a_sign_in_form_sends_the_browser_nowhere_but_this_site() {
    let app = test_app();
    AccountBook::at(app.dir.path())
        .add_user("chair.502", Role::Chair, Some("502"), PASSWORD)
        .unwrap();
    for next in [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/%5cevil.example",
        "//evil.example",
        "https://evil.example",
    ] {
        let answer = form_sign_in(&app.router, PASSWORD, next).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{next:?}: {}",
            answer.text
        );
        assert_eq!(location(&answer), "/", "{next:?}");
    }
    let answer = form_sign_in(&app.router, PASSWORD, "/late?unit=502&lang=en").await;
    assert_eq!(location(&answer), "/late?unit=502&lang=en");
    // A failed sign-in returns to the form, which then carries only the safe target.
    let answer = form_sign_in(&app.router, "not the password", "/\t/evil.example").await;
    let back = location(&answer);
    assert!(
        back.starts_with("/signin?error=invalid") && !back.contains("evil"),
        "{back}"
    );

    // The sign-in page does not put a crafted target into its form either.
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%255cevil.example",
    ] {
        let uri = format!("/signin?next={next}");
        let answer = send(&app.router, request("GET", &uri, &Credential::None, None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let field = answer
            .text
            .split("name=\"next\"")
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_else(|| panic!("{uri}: no next field in {}", answer.text));
        assert!(
            field.contains("value=\"/\"") && !field.contains("evil"),
            "{uri}: {field}"
        );
    }
}

// B. A new password ends the sessions opened before it.

#[tokio::test]
async fn a_password_reset_by_the_cli_ends_the_sessions_of_the_running_server() {
    let app = test_app();
    let book = AccountBook::at(app.dir.path());
    book.add_user("chair.502", Role::Chair, Some("502"), PASSWORD)
        .unwrap();
    book.add_user("chair.503", Role::Chair, Some("503"), PASSWORD)
        .unwrap();
    let laptop = session(&app.router, "chair.502", PASSWORD).await;
    let phone = session(&app.router, "chair.502", PASSWORD).await;
    let colleague = session(&app.router, "chair.503", PASSWORD).await;
    for credential in [&laptop, &phone, &colleague] {
        assert!(signed_in(&app.router, credential).await);
    }
    // `server users passwd chair.502`: the CLI's own book on the file the server reads.
    run_users(
        app.dir.path(),
        UsersCommand::Passwd {
            username: "chair.502".into(),
            password_stdin: false,
        },
    )
    .unwrap();
    assert!(
        !signed_in(&app.router, &laptop).await,
        "the laptop's session ended"
    );
    assert!(
        !signed_in(&app.router, &phone).await,
        "the phone's session ended"
    );
    let late = send(
        &app.router,
        request("GET", &format!("/api/v1/late?unit=502&{Q1}"), &laptop, None),
    )
    .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "{}", late.text);
    assert!(
        signed_in(&app.router, &colleague).await,
        "another user's session goes on"
    );
    let old = sign_in(&app.router, "chair.502", PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
}

#[tokio::test]
async fn a_new_password_ends_the_older_sessions_and_not_the_ones_opened_with_it() {
    let app = test_app();
    let book = AccountBook::at(app.dir.path());
    book.add_user("chair.502", Role::Chair, Some("502"), PASSWORD)
        .unwrap();
    let before = session(&app.router, "chair.502", PASSWORD).await;
    assert!(signed_in(&app.router, &before).await);
    let new_password = "another long test password";
    book.set_password("chair.502", new_password).unwrap();
    assert!(!signed_in(&app.router, &before).await);
    let after = session(&app.router, "chair.502", new_password).await;
    assert!(signed_in(&app.router, &after).await);
    assert!(signed_in(&app.router, &after).await, "and it stays");
}

// C. Dossier-level and session answers are never cached.

fn assert_no_store(what: &str, answer: &Answer) {
    let value = answer
        .headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok());
    assert_eq!(value, Some("no-store"), "{what}: {}", answer.status);
}

#[tokio::test]
async fn dossier_level_and_session_answers_tell_caches_to_keep_nothing() {
    let app = test_app();
    let (status, body) = app
        .post_ndjson(&[received(
            "n1",
            "HS-NOSTORE-1",
            "2021-01-04T08:00:00+07:00",
            "2021-01-10T17:00:00+07:00",
        )])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    AccountBook::at(app.dir.path())
        .add_user("chair.502", Role::Chair, Some("502"), PASSWORD)
        .unwrap();
    let signing_in = sign_in(&app.router, "chair.502", PASSWORD).await;
    assert_eq!(signing_in.status, StatusCode::OK);
    assert_no_store("POST /api/v1/session", &signing_in);
    let chair = session(&app.router, "chair.502", PASSWORD).await;
    let private: [(&str, String, Option<Value>); 8] = [
        ("GET", format!("/api/v1/late?unit=502&{Q1}"), None),
        (
            "GET",
            format!("/api/v1/late?unit=502&{Q1}&format=csv"),
            None,
        ),
        ("GET", "/api/v1/dossiers/HS-NOSTORE-1".into(), None),
        ("GET", format!("/late?unit=502&{Q1}"), None),
        ("GET", "/api/v1/session".into(), None),
        (
            "POST",
            "/api/fn/late".into(),
            Some(json!({"query": late_query("502")})),
        ),
        (
            "POST",
            "/api/fn/timeline".into(),
            Some(json!({"dossier_id": "HS-NOSTORE-1"})),
        ),
        ("POST", "/api/fn/viewer".into(), Some(json!({}))),
    ];
    for (method, uri, body) in private {
        let answer = send(&app.router, request(method, &uri, &chair, body)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{method} {uri}: {}",
            answer.text
        );
        assert_no_store(&format!("{method} {uri}"), &answer);
    }
    // Refusals too.
    let uri = format!("/api/v1/late?unit=502&{Q1}");
    let refused = send(&app.router, request("GET", &uri, &Credential::None, None)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_no_store("GET /api/v1/late, anonymous", &refused);
    let signing_out = send(
        &app.router,
        request("DELETE", "/api/v1/session", &chair, None),
    )
    .await;
    assert_eq!(signing_out.status, StatusCode::NO_CONTENT);
    assert_no_store("DELETE /api/v1/session", &signing_out);
    // The public figures are not private.
    let uri = format!("/api/v1/stats?{Q1}&level=province");
    let stats = send(&app.router, request("GET", &uri, &Credential::None, None)).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(stats.headers.get(header::CACHE_CONTROL).is_none());
}

// D. An internal error names the request id, never its cause.

/// What only a failing store says: none of it may reach a client.
const DB_TEXT: &str = "Catalog Error: Table with name secret_dossiers does not exist!";
const PANIC_TEXT: &str = "index out of bounds in secret_module";

/// The real store, except that its late list fails as a database does, finding a dossier's
/// unit panics, and the figures fail inside the store.
struct Failing(Arc<DuckStore>);

impl IndicatorStore for Failing {
    fn stats(&self, _: &StatsQuery) -> Result<StatsResponse, StoreError> {
        Err(StoreError::Internal(DB_TEXT.into()))
    }
    fn trend(&self, query: &TrendQuery) -> Result<TrendResponse, StoreError> {
        IndicatorStore::trend(&*self.0, query)
    }
    fn units(
        &self,
        level: Level,
        parent: Option<&str>,
        era: app::era::Era,
    ) -> Result<Vec<UnitRef>, StoreError> {
        IndicatorStore::units(&*self.0, level, parent, era)
    }
    fn map_layer(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        kind: MapKind,
    ) -> Result<MapLayer, StoreError> {
        IndicatorStore::map_layer(&*self.0, level, parent, on, kind)
    }
    fn fields(&self) -> Result<Vec<String>, StoreError> {
        IndicatorStore::fields(&*self.0)
    }
    fn unit_trail(&self, code: &str, era: app::era::Era) -> Result<Vec<PlacedUnit>, StoreError> {
        IndicatorStore::unit_trail(&*self.0, code, era)
    }
    fn by_sector(&self, query: &SelectionQuery) -> Result<Vec<IndicatorRow>, StoreError> {
        IndicatorStore::by_sector(&*self.0, query)
    }
    fn days_distribution(&self, query: &SelectionQuery) -> Result<DaysDistribution, StoreError> {
        IndicatorStore::days_distribution(&*self.0, query)
    }
    fn procedures(&self, query: &SelectionQuery) -> Result<Vec<ProcedureRow>, StoreError> {
        IndicatorStore::procedures(&*self.0, query)
    }
    fn monthly_on_time(
        &self,
        query: &StatsQuery,
    ) -> Result<HashMap<String, Vec<Counts>>, StoreError> {
        IndicatorStore::monthly_on_time(&*self.0, query)
    }
    fn data_as_of(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        IndicatorStore::data_as_of(&*self.0)
    }
}

impl ServedStore for Failing {
    fn check(&self, batch: &[(u32, Event)], scope: &Scope) -> Result<(), BatchError> {
        ServedStore::check(&*self.0, batch, scope)
    }
    fn ingest(&self, batch: Vec<(u32, Event)>, scope: &Scope) -> Result<BatchOutcome, BatchError> {
        ServedStore::ingest(&*self.0, batch, scope)
    }
    fn readiness(&self) -> Result<i32, StoreFailure> {
        ServedStore::readiness(&*self.0)
    }
    fn last_seq_at_open(&self) -> i64 {
        ServedStore::last_seq_at_open(&*self.0)
    }
    fn poll_changes(&self) -> Option<Result<i64, StoreFailure>> {
        ServedStore::poll_changes(&*self.0)
    }
    fn boundaries(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        detail: u8,
    ) -> Result<Option<BoundaryLayer>, StoreFailure> {
        ServedStore::boundaries(&*self.0, level, parent, on, detail)
    }
    fn unit_names(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
    ) -> Result<Vec<UnitName>, StoreFailure> {
        ServedStore::unit_names(&*self.0, level, parent, on)
    }
    fn tiles(&self, level: Level, parent: &str) -> Result<Vec<Tile>, StoreFailure> {
        ServedStore::tiles(&*self.0, level, parent)
    }
    fn unit_place(&self, code: &str) -> Result<Option<UnitPlace>, StoreFailure> {
        ServedStore::unit_place(&*self.0, code)
    }
    fn dossier_unit(&self, _: &str) -> Result<Option<String>, StoreFailure> {
        panic!("{PANIC_TEXT}")
    }
    fn late_dossiers(&self, _: &LateQuery) -> Result<LatePage, StoreFailure> {
        Err(StoreFailure::Corrupt(DB_TEXT.into()))
    }
    fn due_dossiers(
        &self,
        _: &app::due::DueQuery,
        _: chrono::NaiveDate,
    ) -> Result<app::due::DuePage, StoreFailure> {
        Err(StoreFailure::Corrupt(DB_TEXT.into()))
    }
    fn calendar(&self) -> Arc<server::calendar::WorkingCalendar> {
        ServedStore::calendar(&*self.0)
    }
    fn due_counts(
        &self,
        today: chrono::NaiveDate,
        until: chrono::NaiveDate,
    ) -> Result<std::collections::HashMap<String, u64>, StoreFailure> {
        ServedStore::due_counts(&*self.0, today, until)
    }
    fn covered_units(
        &self,
        units: &[String],
    ) -> Result<std::collections::HashMap<String, std::collections::HashSet<String>>, StoreFailure>
    {
        ServedStore::covered_units(&*self.0, units)
    }
    fn touched_provinces(
        &self,
        after: i64,
    ) -> Option<Result<(i64, std::collections::HashSet<String>), StoreFailure>> {
        ServedStore::touched_provinces(&*self.0, after)
    }
    fn dossier_events(&self, dossier_id: &str) -> Result<Vec<TimelineEvent>, StoreFailure> {
        ServedStore::dossier_events(&*self.0, dossier_id)
    }
    fn uncatalogued_procedures(&self) -> Result<Vec<UncataloguedProcedure>, StoreFailure> {
        ServedStore::uncatalogued_procedures(&*self.0)
    }
    fn embedded(&self) -> Option<&DuckStore> {
        Some(&*self.0)
    }
}

#[tokio::test]
async fn an_internal_error_names_the_request_id_and_nothing_of_its_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        DuckStore::open(&dir.path().join("test.duckdb"), &authored_data()).expect("store opens");
    let state = AppState::new(
        LeptosOptions::builder().output_name("iem").build(),
        Arc::new(Failing(Arc::new(store))),
        Auth::new(
            dir.path(),
            Some(IngestToken::from_plain(TOKEN)),
            AuthSettings::default(),
        ),
        Default::default(),
    );
    let router = router(state);
    let (_, token) = AccountBook::at(dir.path())
        .create_token("reader", Role::Chair, Some("502"))
        .unwrap();
    let reader = Credential::Bearer(token);
    let dashboard = json!({"request": {"unit": "49", "from": "2021-01-01", "to": "2021-03-31"}});
    let failing: [(&str, String, Option<Value>); 7] = [
        ("GET", format!("/api/v1/late?unit=502&{Q1}"), None),
        (
            "GET",
            format!("/api/v1/late?unit=502&{Q1}&format=csv"),
            None,
        ),
        ("GET", "/api/v1/dossiers/HS-1".into(), None),
        ("GET", format!("/api/v1/stats?{Q1}&level=province"), None),
        ("POST", "/api/fn/dashboard".into(), Some(dashboard)),
        (
            "POST",
            "/api/fn/late".into(),
            Some(json!({"query": late_query("502")})),
        ),
        (
            "POST",
            "/api/fn/timeline".into(),
            Some(json!({"dossier_id": "HS-1"})),
        ),
    ];
    for (method, uri, body) in failing {
        let api = uri.starts_with("/api/v1/");
        let mut req = request(method, &uri, &reader, body);
        if api {
            // The API's internal errors are rewritten after compression: still plain JSON.
            req.headers_mut()
                .insert(header::ACCEPT_ENCODING, "gzip".parse().unwrap());
        }
        let answer = send(&router, req).await;
        let what = format!("{method} {uri}");
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{what}: {}",
            answer.text
        );
        for cause in [DB_TEXT, PANIC_TEXT, "secret", "panicked", "Catalog"] {
            assert!(
                !answer.text.contains(cause),
                "{what} tells '{cause}': {}",
                answer.text
            );
        }
        let id = answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no request id"))
            .to_string();
        let body: Value = serde_json::from_str(&answer.text)
            .unwrap_or_else(|_| panic!("{what}: not JSON: {}", answer.text));
        assert_eq!(body["code"], "internal", "{what}: {}", answer.text);
        let message = body["message"].as_str().unwrap_or("");
        assert!(
            message.contains(&format!("request id {id} ")),
            "{what}: {message} does not name {id}"
        );
        if api {
            assert_eq!(body["status"], 500, "{what}");
            assert_eq!(body["request_id"], id.as_str(), "{what}");
            assert!(
                answer.headers.get(header::CONTENT_ENCODING).is_none(),
                "{what}"
            );
        }
    }
}

// E. A JSON array's element is held to the limit of an NDJSON line.

#[tokio::test]
async fn a_json_array_element_over_the_line_limit_is_refused_by_number_and_nothing_is_stored() {
    let app = test_app();
    let before = app.province_total("2021-01-01", "2021-12-31").await;
    let small = received(
        "a1",
        "HS-ARRAY-1",
        "2021-05-03T08:00:00+07:00",
        "2021-05-10T17:00:00+07:00",
    );
    let valid = received(
        "a2",
        "HS-ARRAY-2",
        "2021-05-03T08:00:00+07:00",
        "2021-05-10T17:00:00+07:00",
    )
    .to_string();
    // A valid event all the same, padded inside with whitespace beyond one line's limit.
    let padded = format!("{{{}{}", " ".repeat(MAX_LINE_BYTES), &valid[1..]);
    let body = format!("[{small},{padded}]");
    let (status, answer) = app.post_raw("application/json", body.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["code"], "payload_too_large", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("element 2 "),
        "{answer}"
    );
    let after = app.province_total("2021-01-01", "2021-12-31").await;
    assert_eq!(after["received"], before["received"], "nothing was stored");
    // The same event as an NDJSON line: the same answer.
    let (status, _) = app
        .post_raw("application/x-ndjson", padded.into_bytes())
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
