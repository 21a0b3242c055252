//! The due-soon list: open dossiers falling due within N working days of today, counted
//! independently here from the events sent and the shipped holiday file; scope and audit as the
//! late list's.
use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde_json::{json, Value};
use server::auth::accounts::AccountBook;
use server::auth::Role;
use std::collections::{BTreeMap, HashSet};
use tower::ServiceExt;

fn vietnam_today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
}

/// The days `data/holidays.csv` lists: `true` for a day worked. Read here with plain string
/// splitting (date and kind never hold a comma), not with the server's reader.
fn listed_days() -> BTreeMap<NaiveDate, bool> {
    let text = std::fs::read_to_string(authored_data().join("holidays.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cells = l.split(',');
            let date: NaiveDate = cells.next().unwrap().parse().unwrap();
            (date, cells.next().unwrap() == "make_up")
        })
        .collect()
}

/// Working days after `today` up to and including `due`, walking day by day.
fn working_days_left(listed: &BTreeMap<NaiveDate, bool>, today: NaiveDate, due: NaiveDate) -> i64 {
    today
        .iter_days()
        .skip(1)
        .take_while(|d| *d <= due)
        .filter(|d| {
            listed
                .get(d)
                .copied()
                .unwrap_or(!matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        })
        .count() as i64
}

fn stamp(d: NaiveDate, time: &str) -> String {
    format!("{d}T{time}+07:00")
}

fn received_at(unit: &str, id: &str, received: NaiveDate, due: NaiveDate) -> Value {
    json!({
        "event_id": format!("{id}-r"), "dossier_id": id, "type": "received",
        "at": stamp(received, "09:00:00"), "unit": unit, "level": "commune",
        "procedure": "DD-01", "field": "Đất đai", "channel": "direct",
        "due": stamp(due, "17:00:00"), "fee": false, "paid_online": false
    })
}

const HAI_VAN: &str = "20194";
const LIEN_CHIEU: &str = "20197";
const TAN_NINH: &str = "25459";

/// Dossiers due on each of the next 25 days in Hải Vân and Liên Chiểu (Đà Nẵng) and Tân Ninh
/// (Tây Ninh), plus ones the list must leave out: resolved, withdrawn, overdue. One has its due
/// date moved. Returns the app and the open dossiers: id → (unit, due, stage).
async fn seeded() -> (TestApp, BTreeMap<String, (String, NaiveDate, &'static str)>) {
    let app = app();
    let today = vietnam_today();
    let yesterday = today.pred_opt().unwrap();
    let mut events = Vec::new();
    let mut open = BTreeMap::new();
    for (u, unit) in [HAI_VAN, LIEN_CHIEU, TAN_NINH].into_iter().enumerate() {
        for k in 0..25u64 {
            if (k + u as u64) % 3 == 2 {
                continue;
            }
            let id = format!("HS-DUE-{unit}-{k:02}");
            let due = today + Days::new(k);
            events.push(received_at(unit, &id, yesterday, due));
            open.insert(id, (unit.to_string(), due, "processing"));
        }
    }
    // Left out: resolved, withdrawn, already overdue.
    let soon = today + Days::new(1);
    events.push(received_at(HAI_VAN, "HS-DUE-RESOLVED", yesterday, soon));
    events.push(
        json!({"event_id": "x1", "dossier_id": "HS-DUE-RESOLVED", "type": "resolved",
        "at": stamp(today, "00:00:05")}),
    );
    events.push(received_at(HAI_VAN, "HS-DUE-WITHDRAWN", yesterday, soon));
    events.push(
        json!({"event_id": "x2", "dossier_id": "HS-DUE-WITHDRAWN", "type": "withdrawn",
        "at": stamp(today, "00:00:05")}),
    );
    events.push(received_at(
        HAI_VAN,
        "HS-DUE-OVERDUE",
        yesterday - Days::new(9),
        yesterday,
    ));
    // Due in a month, moved to the day after tomorrow: in the list, as "due changed".
    events.push(received_at(
        HAI_VAN,
        "HS-DUE-MOVED",
        yesterday,
        today + Days::new(30),
    ));
    events.push(
        json!({"event_id": "x3", "dossier_id": "HS-DUE-MOVED", "type": "due_changed",
        "at": stamp(today, "00:00:05"), "due": stamp(today + Days::new(2), "17:00:00")}),
    );
    open.insert(
        "HS-DUE-MOVED".to_string(),
        (HAI_VAN.to_string(), today + Days::new(2), "due_changed"),
    );
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (app, open)
}

/// A read token's `Authorization` value; a unit of today is written with its era (`48@2025`), as
/// `server tokens` stores it.
fn token(app: &TestApp, role: Role, unit: Option<&str>) -> String {
    let token = AccountBook::at(app.dir.path())
        .create_token("due-soon test", role, unit)
        .unwrap()
        .1;
    format!("Bearer {token}")
}

/// An administrator's session cookie (admin rights are for people, not tokens).
async fn admin_session(app: &TestApp) -> String {
    let password = "a long test password";
    AccountBook::at(app.dir.path())
        .add_user("admin", Role::Admin, None, password)
        .unwrap();
    let res = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": "admin", "password": password}).to_string(),
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    format!("cookie:{}", cookie.split(';').next().unwrap())
}

/// GET with a credential: `Bearer …` (a token) or `cookie:…` (a session).
async fn get(app: &TestApp, uri: &str, credential: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().uri(uri);
    match credential.map(|c| (c, c.strip_prefix("cookie:"))) {
        Some((_, Some(cookie))) => req = req.header(header::COOKIE, cookie),
        Some((bearer, None)) => req = req.header(header::AUTHORIZATION, bearer),
        None => {}
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_list_holds_exactly_the_open_dossiers_due_within_the_working_days_asked() {
    let (app, open) = seeded().await;
    let admin = admin_session(&app).await;
    let listed = listed_days();
    let today = vietnam_today();
    for (unit, members) in [
        ("48", vec![HAI_VAN, LIEN_CHIEU]),
        (HAI_VAN, vec![HAI_VAN]),
        ("80", vec![TAN_NINH]),
    ] {
        for within in [0u32, 1, 3, 10] {
            let expected: BTreeMap<&String, i64> = open
                .iter()
                .filter(|(_, (u, _, _))| members.contains(&u.as_str()))
                .map(|(id, (_, due, _))| (id, working_days_left(&listed, today, *due)))
                .filter(|(_, left)| *left <= i64::from(within))
                .collect();
            let (status, body) = get(
                &app,
                &format!("/api/v1/due?unit={unit}&within={within}&page_size=500"),
                Some(&admin),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                page["total"],
                expected.len() as u64,
                "{unit} within {within}: {body}"
            );
            assert_eq!(page["today"], today.to_string());
            let rows = page["rows"].as_array().unwrap();
            let got: BTreeMap<String, i64> = rows
                .iter()
                .map(|r| {
                    (
                        r["dossier_id"].as_str().unwrap().to_string(),
                        r["working_days_left"].as_i64().unwrap(),
                    )
                })
                .collect();
            let expected: BTreeMap<String, i64> =
                expected.into_iter().map(|(k, v)| (k.clone(), v)).collect();
            assert_eq!(got, expected, "{unit} within {within}");
            for r in rows {
                let (u, due, stage) = &open[r["dossier_id"].as_str().unwrap()];
                assert_eq!(r["unit_code"], u.as_str());
                assert_eq!(r["due"], due.to_string());
                assert_eq!(r["stage"], *stage);
                assert!(!r["unit_name"].as_str().unwrap().is_empty());
            }
            // Soonest first, and `until` is the last due date taken in.
            let dues: Vec<&str> = rows.iter().map(|r| r["due"].as_str().unwrap()).collect();
            assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
            let until: NaiveDate = page["until"].as_str().unwrap().parse().unwrap();
            assert_eq!(working_days_left(&listed, today, until), i64::from(within));
            assert!(
                working_days_left(&listed, today, until.succ_opt().unwrap()) > i64::from(within)
            );
        }
    }
    let ids: HashSet<String> = {
        let (_, body) = get(
            &app,
            "/api/v1/due?unit=48&within=60&page_size=500",
            Some(&admin),
        )
        .await;
        let page: Value = serde_json::from_str(&body).unwrap();
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["dossier_id"].as_str().unwrap().to_string())
            .collect()
    };
    for gone in ["HS-DUE-RESOLVED", "HS-DUE-WITHDRAWN", "HS-DUE-OVERDUE"] {
        assert!(!ids.contains(gone), "{gone} is not open and due");
    }
}

#[tokio::test]
async fn the_list_pages_sorts_and_exports_every_row_as_csv() {
    let (app, _) = seeded().await;
    let leader = token(&app, Role::Leader, Some("48@2025"));
    let (status, all) = get(
        &app,
        "/api/v1/due?unit=48&within=10&page_size=500",
        Some(&leader),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let all: Value = serde_json::from_str(&all).unwrap();
    let (_, second) = get(
        &app,
        "/api/v1/due?unit=48&within=10&page_size=2&page=2&sort=dossier_id&order=desc",
        Some(&leader),
    )
    .await;
    let second: Value = serde_json::from_str(&second).unwrap();
    let mut ids: Vec<&str> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dossier_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let page_two: Vec<&str> = second["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dossier_id"].as_str().unwrap())
        .collect();
    assert_eq!(page_two, ids[2..4].to_vec());
    assert_eq!(second["total"], all["total"]);

    let res = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri("/api/v1/due?unit=48&within=10&format=csv")
                .header(header::AUTHORIZATION, &leader)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!("due-48-{}.csv", vietnam_today())),
        "{disposition}"
    );
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], app::due::CSV_HEADER);
    assert_eq!(
        lines.len() as u64 - 1,
        all["total"].as_u64().unwrap(),
        "every row, one page"
    );
}

#[tokio::test]
async fn only_signed_in_readers_within_their_scope_see_the_list_and_each_view_is_audited() {
    let (app, _) = seeded().await;
    let chair = token(&app, Role::Chair, Some("20194@2025"));
    let leader_48 = token(&app, Role::Leader, Some("48@2025"));
    let leader_80 = token(&app, Role::Leader, Some("80@2025"));
    let ingest = token(&app, Role::Ingest, Some("*"));
    let admin = admin_session(&app).await;
    let due = |unit: &str| format!("/api/v1/due?unit={unit}");
    for (who, credential, unit, want) in [
        ("anonymous", None, HAI_VAN, StatusCode::UNAUTHORIZED),
        (
            "ingest token",
            Some(&ingest),
            HAI_VAN,
            StatusCode::FORBIDDEN,
        ),
        ("chair of Hải Vân", Some(&chair), HAI_VAN, StatusCode::OK),
        (
            "chair of Hải Vân",
            Some(&chair),
            LIEN_CHIEU,
            StatusCode::FORBIDDEN,
        ),
        (
            "chair of Hải Vân",
            Some(&chair),
            "48",
            StatusCode::FORBIDDEN,
        ),
        ("leader of 48", Some(&leader_48), "48", StatusCode::OK),
        ("leader of 48", Some(&leader_48), LIEN_CHIEU, StatusCode::OK),
        (
            "leader of 48",
            Some(&leader_48),
            TAN_NINH,
            StatusCode::FORBIDDEN,
        ),
        (
            "leader of 80",
            Some(&leader_80),
            "48",
            StatusCode::FORBIDDEN,
        ),
        ("leader of 80", Some(&leader_80), TAN_NINH, StatusCode::OK),
        ("admin", Some(&admin), "99999", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = get(&app, &due(unit), credential.map(String::as_str)).await;
        assert_eq!(status, want, "{who} asking for {unit}: {body}");
        if status != StatusCode::OK {
            let error: Value = serde_json::from_str(&body).unwrap();
            assert!(
                error["code"].is_string() && !body.contains("HS-DUE"),
                "{body}"
            );
        }
    }
    for (query, field) in [
        ("within=3", "unit"),
        ("unit=48&within=61", "within"),
        ("unit=48&within=x", "within"),
        ("unit=48&sort=days_overdue", "sort"),
        ("unit=48&page=0", "page"),
        ("unit=48&from=2026-01-01", "from"),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/due?{query}"), Some(&admin)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["field"],
            field,
            "{query}"
        );
    }
    let (_, audit) = get(&app, "/api/v1/admin/audit?limit=500", Some(&admin)).await;
    let entries = serde_json::from_str::<Value>(&audit).unwrap()["entries"].clone();
    let seen =
        |action: &str, target: &str| {
            entries.as_array().unwrap().iter().any(|e| {
                e["action"] == action && e["target"].as_str().unwrap_or("").contains(target)
            })
        };
    assert!(
        seen("due_list", &format!("unit={HAI_VAN} within=3")),
        "{audit}"
    );
    assert!(seen("due_list", "unit=48"), "{audit}");
}

/// POST to a server function with a credential, as the dashboard's browser code does.
async fn call(
    app: &TestApp,
    uri: &str,
    body: Value,
    bearer: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, b);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let cache = res
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        cache,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_dashboards_due_soon_figures_equal_the_lists_totals_and_reach_only_readers_in_scope() {
    let (app, _) = seeded().await;
    let leader = token(&app, Role::Leader, Some("48@2025"));
    let elsewhere = token(&app, Role::Leader, Some("80@2025"));
    let asked = json!({"unit": "48", "listed": [HAI_VAN, LIEN_CHIEU, TAN_NINH]});
    let (status, cache, summary) =
        call(&app, "/api/fn/due_summary", asked.clone(), Some(&leader)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(cache, "no-store", "a private answer");
    let total_of = |body: &str| serde_json::from_str::<Value>(body).unwrap()["total"].clone();
    let (_, list) = get(&app, "/api/v1/due?unit=48", Some(&leader)).await;
    assert_eq!(summary["total"], total_of(&list), "{summary}");
    let units = summary["units"].as_array().unwrap();
    // Tân Ninh is not under Đà Nẵng: left out.
    assert_eq!(units.len(), 2, "{summary}");
    for pair in units {
        let code = pair[0].as_str().unwrap();
        let (_, list) = get(&app, &format!("/api/v1/due?unit={code}"), Some(&leader)).await;
        assert_eq!(pair[1], total_of(&list), "{code}");
        assert!(pair[1].as_u64().unwrap() > 0);
    }
    // Anonymous, and a leader of another province: nothing (the dashboard then shows nothing).
    for bearer in [None, Some(elsewhere.as_str())] {
        let (status, _, answer) = call(&app, "/api/fn/due_summary", asked.clone(), bearer).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, Value::Null, "{bearer:?}");
    }
    // A list of units beyond reason is refused, naming it.
    let many: Vec<String> = (0..5_001).map(|i| format!("{i}")).collect();
    let (status, _, answer) = call(
        &app,
        "/api/fn/due_summary",
        json!({"unit": "48", "listed": many}),
        Some(&leader),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}
