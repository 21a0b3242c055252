//! Roles and hardening: the role × endpoint matrix, a crawl of everything public for dossier
//! ids, sessions (sign-out, expiry), rate limits, security headers, and late lists that agree
//! with the stats.
use crate::common::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use serde_json::{json, Value};
use server::auth::accounts::AccountBook;
use server::auth::rate_limit::Limit;
use server::auth::sessions::SessionPolicy;
use server::auth::{AuthSettings, Role};
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "a long test password";
const Q1: &str = "from=2021-01-01&to=2021-03-31";

/// Dossier ids nothing public may ever show.
const SECRET_IDS: [&str; 5] = [
    "HS-TAMKY-LATE-0001",
    "HS-TAMKY-OPEN-0002",
    "HS-TAMKY-EARLY-0003",
    "HS-HOIAN-LATE-0004",
    "HS-TANAN-LATE-0005",
];

fn at(unit: &str, level: &str, event: Value) -> Value {
    let mut e = event;
    e["unit"] = json!(unit);
    e["level"] = json!(level);
    e
}

/// Tam Kỳ (502): one late, one open past due, one early; a commune of Hội An (503): one late;
/// Tân An in Long An (794): one late.
async fn seeded(settings: AuthSettings) -> TestApp {
    let app = app_with_auth(settings);
    let events = vec![
        received(
            "e1",
            SECRET_IDS[0],
            "2021-01-04T08:00:00+07:00",
            "2021-01-10T17:00:00+07:00",
        ),
        resolved("e2", SECRET_IDS[0], "2021-01-15T10:00:00+07:00"),
        received(
            "e3",
            SECRET_IDS[1],
            "2021-02-01T08:00:00+07:00",
            "2021-02-10T17:00:00+07:00",
        ),
        received(
            "e4",
            SECRET_IDS[2],
            "2021-01-04T08:00:00+07:00",
            "2021-01-20T17:00:00+07:00",
        ),
        resolved("e5", SECRET_IDS[2], "2021-01-18T10:00:00+07:00"),
        at(
            "20398",
            "commune",
            received(
                "e6",
                SECRET_IDS[3],
                "2021-01-05T08:00:00+07:00",
                "2021-01-08T17:00:00+07:00",
            ),
        ),
        resolved("e7", SECRET_IDS[3], "2021-01-20T10:00:00+07:00"),
        at(
            "794",
            "district",
            received(
                "e8",
                SECRET_IDS[4],
                "2021-01-05T08:00:00+07:00",
                "2021-01-08T17:00:00+07:00",
            ),
        ),
        resolved("e9", SECRET_IDS[4], "2021-01-21T10:00:00+07:00"),
    ];
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let book = AccountBook::at(app.dir.path());
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("leader.49", Role::Leader, Some("49")),
        ("leader.80", Role::Leader, Some("80")),
        ("chair.502", Role::Chair, Some("502")),
        ("chair.503", Role::Chair, Some("503")),
    ] {
        book.add_user(name, role, unit, PASSWORD).unwrap();
    }
    app
}

async fn send(
    app: &TestApp,
    method: &str,
    uri: &str,
    credential: &Credential,
    body: Option<(&str, String)>,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    match credential {
        Credential::None => {}
        Credential::Cookie(c) => req = req.header(header::COOKIE, c.as_str()),
        Credential::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
    }
    let req = match body {
        Some((content_type, b)) => req
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[derive(Clone, Debug)]
enum Credential {
    None,
    Cookie(String),
    Bearer(String),
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> (StatusCode, HeaderMap, String) {
    send(
        app,
        "POST",
        "/api/v1/session",
        &Credential::None,
        Some((
            "application/json",
            json!({"username": username, "password": password}).to_string(),
        )),
    )
    .await
}

async fn session(app: &TestApp, username: &str) -> Credential {
    let (status, headers, body) = sign_in(app, username, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{username}: {body}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    Credential::Cookie(cookie.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn every_role_gets_exactly_its_rights_on_every_endpoint() {
    let app = seeded(AuthSettings::default()).await;
    let book = AccountBook::at(app.dir.path());
    let (_, ingest) = book
        .create_token("one-stop", Role::Ingest, Some("*"))
        .unwrap();
    let (_, chair_reader) = book
        .create_token("chair reader", Role::Chair, Some("502"))
        .unwrap();
    let (_, ingest_502) = book
        .create_token("Tam Kỳ one-stop", Role::Ingest, Some("502"))
        .unwrap();
    let (_, ingest_80) = book
        .create_token("Long An one-stop", Role::Ingest, Some("80"))
        .unwrap();
    let principals: Vec<(&str, Credential)> = vec![
        ("anonymous", Credential::None),
        ("ingest token", Credential::Bearer(ingest)),
        ("chair 502", session(&app, "chair.502").await),
        ("chair 502 token", Credential::Bearer(chair_reader)),
        ("chair 503", session(&app, "chair.503").await),
        ("leader 49", session(&app, "leader.49").await),
        ("leader 80", session(&app, "leader.80").await),
        ("admin", session(&app, "admin").await),
        ("ingest token of 502", Credential::Bearer(ingest_502)),
        ("ingest token of 80", Credential::Bearer(ingest_80)),
    ];
    let late = |unit: &str| format!("/api/v1/late?unit={unit}&{Q1}");
    let endpoints: Vec<(&str, String)> = vec![
        ("GET", late("502")),
        ("GET", late("20398")),
        ("GET", late("503")),
        ("GET", late("49")),
        ("GET", format!("/api/v1/dossiers/{}", SECRET_IDS[0])),
        ("GET", format!("/api/v1/dossiers/{}", SECRET_IDS[3])),
        ("GET", format!("{}&format=csv", late("502"))),
        ("POST", "/api/v1/events".into()),
        ("GET", "/api/v1/admin/accounts".into()),
        ("GET", "/api/v1/admin/audit".into()),
        (
            "GET",
            format!("/api/v1/stats?{Q1}&level=district&parent=49"),
        ),
    ];
    use StatusCode as S;
    const OK: S = S::OK;
    const NO: S = S::FORBIDDEN;
    const WHO: S = S::UNAUTHORIZED;
    // Rows: principals in order; columns: endpoints in order.
    // The events posted are receptions in Tam Kỳ (502): the token of Long An (80) may not.
    let expected: [[S; 11]; 10] = [
        [WHO, WHO, WHO, WHO, WHO, WHO, WHO, WHO, WHO, WHO, OK],
        [NO, NO, NO, NO, NO, NO, NO, OK, NO, NO, OK],
        [OK, NO, NO, NO, OK, NO, OK, NO, NO, NO, OK],
        [OK, NO, NO, NO, OK, NO, OK, NO, NO, NO, OK],
        [NO, OK, OK, NO, NO, OK, NO, NO, NO, NO, OK],
        [OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, OK],
        [NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK],
        [OK, OK, OK, OK, OK, OK, OK, NO, OK, OK, OK],
        [NO, NO, NO, NO, NO, NO, NO, OK, NO, NO, OK],
        [NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK],
    ];
    let mut failures = Vec::new();
    for (row, (who, credential)) in principals.iter().enumerate() {
        for (column, (method, uri)) in endpoints.iter().enumerate() {
            let body = (*method == "POST").then(|| {
                let event = received(
                    &format!("m-{row}"),
                    &format!("matrix-{row}"),
                    "2021-03-01T08:00:00+07:00",
                    "2021-03-10T17:00:00+07:00",
                );
                ("application/x-ndjson", event.to_string())
            });
            let (status, _, text) = send(&app, method, uri, credential, body).await;
            if status != expected[row][column] {
                failures.push(format!(
                    "{who} {method} {uri}: {status}, expected {} ({text})",
                    expected[row][column]
                ));
            }
            if !status.is_success() {
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{who} {uri}: error body is not JSON: {text}"));
                assert_eq!(body["status"], status.as_u16(), "{text}");
                assert!(
                    body["code"].is_string() && body["message"].is_string(),
                    "{text}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The server function behind the drill-down page applies the same rules.
    let query = json!({"query": {"unit": "503", "from": "2021-01-01", "to": "2021-03-31",
        "kind": "all", "field": null, "procedure": null, "agency": null, "sort": "days_overdue",
        "descending": true, "page": 1, "page_size": 50}});
    for (who, expected_code) in [(0, Some("unauthorized")), (2, Some("forbidden")), (4, None)] {
        let (_, _, text) = send(
            &app,
            "POST",
            "/api/fn/late",
            &principals[who].1,
            Some(("application/json", query.to_string())),
        )
        .await;
        let body: Value = serde_json::from_str(&text).unwrap();
        match expected_code {
            Some(code) => assert_eq!(body["code"], code, "{}: {text}", principals[who].0),
            None => assert_eq!(body["total"], 1, "{}: {text}", principals[who].0),
        }
    }

    // Every view of dossier-level data is in the audit log.
    let (_, _, text) = send(
        &app,
        "GET",
        "/api/v1/admin/audit?limit=500",
        &principals[7].1,
        None,
    )
    .await;
    let audit: Value = serde_json::from_str(&text).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let seen = |action: &str, actor: &str, target: &str| {
        entries.iter().any(|e| {
            e["action"] == action
                && e["actor"] == actor
                && e["target"].as_str().unwrap_or("").contains(target)
        })
    };
    assert!(
        seen("dossier_timeline", "user:chair.502", SECRET_IDS[0]),
        "{text}"
    );
    assert!(seen("late_list", "user:leader.49", "unit=49"), "{text}");
    assert!(seen("late_export", "user:chair.502", "unit=502"), "{text}");
    assert!(seen("signin", "chair.503", ""), "{text}");
    assert!(entries
        .iter()
        .any(|e| e["action"] == "ingest" && e["actor"].as_str().unwrap().starts_with("token:")));
}

#[tokio::test]
async fn nothing_public_shows_a_dossier() {
    let app = seeded(AuthSettings::default()).await;
    let public = [
        "/".to_string(),
        format!("/?{Q1}"),
        format!("/?unit=502&{Q1}"),
        format!("/procedures?{Q1}"),
        format!("/embed?{Q1}"),
        "/signin".into(),
        format!("/late?unit=502&{Q1}"),
        format!("/api/v1/stats?{Q1}&level=district&parent=49"),
        format!("/api/v1/stats?{Q1}&level=commune&parent=503"),
        format!("/api/v1/trend?{Q1}&unit=502&bucket=week"),
        "/api/v1/procedures/uncatalogued".into(),
        "/api/v1/openapi.json".into(),
        "/api/v1/session".into(),
        format!("/api/v1/late?unit=502&{Q1}"),
        format!("/api/v1/dossiers/{}", SECRET_IDS[0]),
        "/healthz".into(),
        "/readyz".into(),
    ];
    for uri in &public {
        let (status, _, text) = send(&app, "GET", uri, &Credential::None, None).await;
        assert!(status.as_u16() < 500, "{uri}: {status} {text}");
        for id in SECRET_IDS {
            assert!(!text.contains(id), "{uri} shows dossier {id}");
        }
        assert!(
            !text.contains("\"e1\"") && !text.contains("$argon2"),
            "{uri}: {text}"
        );
    }
    // The server functions behind the public pages too.
    let request = json!({"request": {"unit": "49", "from": "2021-01-01", "to": "2021-03-31"}});
    let selection = json!({"request": {"view": {"unit": "49", "from": "2021-01-01", "to": "2021-03-31"}, "focus": "502"}});
    for (uri, body) in [
        ("/api/fn/dashboard", request),
        ("/api/fn/selection", selection.clone()),
        ("/api/fn/procedures", selection),
        ("/api/fn/viewer", json!({})),
    ] {
        let (status, _, text) = send(
            &app,
            "POST",
            uri,
            &Credential::None,
            Some(("application/json", body.to_string())),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{uri}: {text}");
        for id in SECRET_IDS {
            assert!(!text.contains(id), "{uri} shows dossier {id}");
        }
    }
}

#[tokio::test]
async fn sessions_end_at_sign_out_and_after_idle_time() {
    let app = seeded(AuthSettings {
        session: SessionPolicy {
            idle: Duration::from_millis(300),
            lifetime: Duration::from_secs(60),
        },
        ..AuthSettings::default()
    })
    .await;
    let who = |c: Credential| {
        let app = &app;
        async move {
            let (_, _, text) = send(app, "GET", "/api/v1/session", &c, None).await;
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let chair = session(&app, "chair.502").await;
    assert_eq!(who(chair.clone()).await["username"], "chair.502");
    let (status, headers, _) = send(&app, "DELETE", "/api/v1/session", &chair, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(who(chair.clone()).await["signed_in"], false);
    let (status, _, _) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=502&{Q1}"),
        &chair,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");

    let idle = session(&app, "chair.502").await;
    assert_eq!(who(idle.clone()).await["signed_in"], true);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        who(idle.clone()).await["signed_in"],
        false,
        "expired after idling"
    );

    // Behind a TLS-terminating proxy the cookie is marked Secure; over plain HTTP it cannot be.
    let over_tls = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-proto", "https")
        .body(Body::from(
            json!({"username": "chair.502", "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let res = app.router.clone().oneshot(over_tls).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
    let (_, plain, _) = sign_in(&app, "chair.502", PASSWORD).await;
    assert!(!plain[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Secure"));

    // Wrong passwords and unknown users get the same answer.
    let (a, _, _) = sign_in(&app, "chair.502", "not the password").await;
    let (b, _, _) = sign_in(&app, "nobody", PASSWORD).await;
    assert_eq!((a, b), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));

    // A disabled user's live session stops at once.
    let live = session(&app, "chair.503").await;
    AccountBook::at(app.dir.path())
        .disable_user("chair.503")
        .unwrap();
    assert_eq!(who(live).await["signed_in"], false);
    let (status, _, _) = sign_in(&app, "chair.503", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_and_ingest_are_rate_limited_with_retry_after() {
    let app = seeded(AuthSettings {
        signin: Limit {
            burst: 3.0,
            per_second: 0.01,
        },
        ingest: Limit {
            burst: 2.0,
            per_second: 0.01,
        },
        ..AuthSettings::default()
    })
    .await;
    // seeded() used one ingest request of the configured token.
    for _ in 0..3 {
        let (status, _, _) = sign_in(&app, "chair.502", "wrong password!!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, text) = sign_in(&app, "chair.502", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{text}");
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");

    let before = app.province_total("2021-01-01", "2021-12-31").await;
    let event = |n: u32| {
        received(
            &format!("r{n}"),
            &format!("rate-{n}"),
            "2021-05-01T08:00:00+07:00",
            "2021-05-10T17:00:00+07:00",
        )
    };
    let (status, _) = app.post_ndjson(&[event(1)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post_ndjson(&[event(2)]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    let after = app.province_total("2021-01-01", "2021-12-31").await;
    assert_eq!(
        after["received"].as_u64().unwrap(),
        before["received"].as_u64().unwrap() + 1,
        "the limited request stored nothing"
    );
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_other_responses_a_strict_one() {
    let app = seeded(AuthSettings::default()).await;
    let (status, headers, html) =
        send(&app, "GET", &format!("/?{Q1}"), &Credential::None, None).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("'unsafe-inline'; img") || !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    // Every inline script carries the nonce.
    let scripts = html.matches("<script").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(
        scripts > 0 && with_nonce >= scripts,
        "{scripts} scripts, {with_nonce} with the nonce"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");

    let (_, again, _) = send(&app, "GET", &format!("/?{Q1}"), &Credential::None, None).await;
    assert_ne!(
        again[header::CONTENT_SECURITY_POLICY],
        headers[header::CONTENT_SECURITY_POLICY],
        "a new nonce per response"
    );

    let (_, embed, _) = send(
        &app,
        "GET",
        &format!("/embed?{Q1}"),
        &Credential::None,
        None,
    )
    .await;
    assert!(embed[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("frame-ancestors *"));
    assert!(embed.get(header::X_FRAME_OPTIONS).is_none());

    let (_, api, _) = send(&app, "GET", "/api/v1/openapi.json", &Credential::None, None).await;
    assert!(api[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));

    let (status, _, text) = send(
        &app,
        "POST",
        "/api/v1/session",
        &Credential::None,
        Some(("application/json", "x".repeat(100_000))),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
}

#[tokio::test]
async fn late_lists_agree_with_the_stats_and_page_sort_and_export() {
    let app = seeded(AuthSettings::default()).await;
    let leader = session(&app, "leader.49").await;
    for unit in ["49", "502", "503", "20398"] {
        let (_, _, text) = send(
            &app,
            "GET",
            &format!("/api/v1/late?unit={unit}&{Q1}"),
            &leader,
            None,
        )
        .await;
        let late: Value = serde_json::from_str(&text).unwrap();
        let level = match unit.len() {
            2 => "province",
            3 => "district",
            _ => "commune",
        };
        let (_, stats) = app
            .get(&match level {
                "province" => format!("/api/v1/stats?{Q1}&level=province"),
                "district" => format!("/api/v1/stats?{Q1}&level=district&parent=49"),
                _ => format!("/api/v1/stats?{Q1}&level=commune&parent=503"),
            })
            .await;
        let row = stats["units"]
            .as_array()
            .unwrap_or_else(|| panic!("{stats}"))
            .iter()
            .find(|u| u["code"] == unit)
            .cloned();
        let (resolved_late, pending_overdue) = row
            .map(|r| {
                (
                    r["resolved_late"].as_u64().unwrap(),
                    r["pending_overdue"].as_u64().unwrap(),
                )
            })
            .unwrap_or((0, 0));
        assert_eq!(late["resolved_late"], resolved_late, "{unit}: {text}");
        assert_eq!(late["pending_overdue"], pending_overdue, "{unit}: {text}");
        assert_eq!(
            late["rows"].as_array().unwrap().len() as u64,
            resolved_late + pending_overdue
        );
    }
    let (_, _, text) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=502&{Q1}&sort=days_overdue&order=desc"),
        &leader,
        None,
    )
    .await;
    let page: Value = serde_json::from_str(&text).unwrap();
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(
        rows[0]["dossier_id"], SECRET_IDS[1],
        "open since 10 Feb: 49 days by 31 Mar"
    );
    assert_eq!(rows[0]["days_overdue"], 49);
    assert_eq!(rows[0]["stage"], "processing");
    assert_eq!(rows[1]["days_overdue"], 5);
    assert_eq!(rows[1]["stage"], "resolved");
    assert_eq!(
        rows[1]["procedure_name"],
        "Đăng ký biến động quyền sử dụng đất"
    );

    let (_, _, text) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=49&{Q1}&page_size=1&page=2&sort=dossier_id&order=asc"),
        &leader,
        None,
    )
    .await;
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["total"], 3);
    // By id: HS-HOIAN-…, HS-TAMKY-LATE-…, HS-TAMKY-OPEN-…; the second page of one row each.
    assert_eq!(page["rows"][0]["dossier_id"], SECRET_IDS[0], "{text}");

    let (_, _, text) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=49&{Q1}&kind=pending_overdue"),
        &leader,
        None,
    )
    .await;
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["total"], 1, "{text}");

    let (status, headers, csv) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=502&{Q1}&format=csv"),
        &leader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("late-502-2021-01-01-2021-03-31.csv"));
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 3, "{csv}");

    let (status, _, text) = send(
        &app,
        "GET",
        &format!("/api/v1/dossiers/{}", SECRET_IDS[0]),
        &leader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let timeline: Value = serde_json::from_str(&text).unwrap();
    let events = timeline["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["type"], "received");
    assert_eq!(events[0]["at"], "2021-01-04T08:00:00+07:00");
    assert_eq!(events[1]["type"], "resolved");

    for (uri, field) in [
        (format!("/api/v1/late?{Q1}"), "unit"),
        (
            "/api/v1/late?unit=502&from=2021-02-30&to=2021-03-31".into(),
            "from",
        ),
        (format!("/api/v1/late?unit=502&{Q1}&kind=slow"), "kind"),
        (
            format!("/api/v1/late?unit=502&{Q1}&page_size=0"),
            "page_size",
        ),
    ] {
        let (status, _, text) = send(&app, "GET", &uri, &leader, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["field"], field, "{uri}: {text}");
    }
    let (status, _, _) = send(
        &app,
        "GET",
        &format!("/api/v1/late?unit=99999&{Q1}"),
        &leader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_ingest_token_writes_only_for_its_units() {
    let app = seeded(AuthSettings::default()).await;
    let book = AccountBook::at(app.dir.path());
    let (_, tam_ky) = book
        .create_token("Tam Kỳ one-stop", Role::Ingest, Some("502"))
        .unwrap();
    let (_, long_an) = book
        .create_token("Long An one-stop", Role::Ingest, Some("80"))
        .unwrap();
    let post = |token: &String, events: &[Value]| {
        let body = events
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let credential = Credential::Bearer(token.clone());
        let app = &app;
        async move {
            send(
                app,
                "POST",
                "/api/v1/events",
                &credential,
                Some(("application/x-ndjson", body)),
            )
            .await
        }
    };
    let in_tam_ky = received(
        "s1",
        "HS-SCOPE-1",
        "2021-03-01T08:00:00+07:00",
        "2021-03-10T17:00:00+07:00",
    );
    let in_hoi_an = at(
        "503",
        "district",
        received(
            "s2",
            "HS-SCOPE-2",
            "2021-03-01T08:00:00+07:00",
            "2021-03-10T17:00:00+07:00",
        ),
    );
    // A batch with one event outside the token's units is refused whole: 403, nothing stored.
    let (status, _, text) = post(&tam_ky, &[in_tam_ky.clone(), in_hoi_an.clone()]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("line 2: unit '503' is outside"), "{text}");
    // Another token may not touch a dossier received under Tam Kỳ (an open one of 502)…
    let (status, _, text) = post(
        &long_an,
        &[resolved("s3", SECRET_IDS[1], "2021-03-02T08:00:00+07:00")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    // …nor receive in Quảng Nam; its own province (Tân An, 794, lies in Long An) is fine.
    let (status, _, text) = post(&long_an, std::slice::from_ref(&in_hoi_an)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let in_tan_an = at(
        "794",
        "district",
        received(
            "s4",
            "HS-SCOPE-4",
            "2021-03-01T08:00:00+07:00",
            "2021-03-10T17:00:00+07:00",
        ),
    );
    let (status, _, text) = post(&long_an, &[in_tan_an]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // Nothing of the refused batches was stored: the same events are new to the store now.
    let (status, _, text) = post(
        &tam_ky,
        &[
            in_tam_ky,
            resolved("s3", SECRET_IDS[1], "2021-03-02T08:00:00+07:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["accepted"],
        2,
        "{text}"
    );
    // Every refusal is in the audit log under the token's id.
    let admin = session(&app, "admin").await;
    let (_, _, audit) = send(&app, "GET", "/api/v1/admin/audit?limit=500", &admin, None).await;
    let refusals = serde_json::from_str::<Value>(&audit).unwrap()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"].as_str().unwrap_or("").starts_with("refused: "))
        .count();
    assert_eq!(refusals, 3, "{audit}");
    // A token must say which units it writes for.
    assert!(book.create_token("vague", Role::Ingest, None).is_err());
}

#[tokio::test]
async fn public_pages_speak_to_the_public_in_the_language_of_the_url() {
    let app = seeded(AuthSettings::default()).await;
    for (query, lang) in [("", "vi"), ("&lang=en", "en"), ("&lang=vi", "vi")] {
        for page in ["/", "/embed"] {
            let uri = format!("{page}?unit=49&{Q1}{query}");
            let (status, _, text) = send(&app, "GET", &uri, &Credential::None, None).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(
                text.contains(&format!("<html lang=\"{lang}\"")),
                "{uri}: {}",
                &text[..text.len().min(300)]
            );
            // How boundaries get in is for the operator (the docs, or an administrator's view).
            assert!(!text.contains("boundaries import"), "{uri}");
        }
    }
}
