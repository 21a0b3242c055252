//! Alert rules: a crossing fires once, a unit hovering near the threshold does not fire again
//! until it has come back past the re-arm margin, rules stay within their owner's scope, and a
//! webhook is delivered signed to a receiver on loopback, retried after it answers 500 twice.
use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Days, NaiveDate};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use server::alerts::AlertSettings;
use server::auth::accounts::AccountBook;
use server::auth::Role;
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

pub(crate) const HAI_VAN: &str = "20194";
const LIEN_CHIEU: &str = "20197";

fn vietnam_today() -> NaiveDate {
    server::alerts::vietnam_today(chrono::Utc::now())
}

fn stamp(d: NaiveDate, time: &str) -> String {
    format!("{d}T{time}+07:00")
}

/// Dossiers of Hải Vân resolved today: `on_time` within their due date, `late` after it.
pub(crate) async fn resolve(app: &TestApp, tag: &str, on_time: u32, late: u32) {
    let today = vietnam_today();
    let mut events = Vec::new();
    for i in 0..on_time + late {
        let id = format!("HS-ALERT-{tag}-{i}");
        let (received, due) = if i < on_time {
            (today - Days::new(1), today + Days::new(1))
        } else {
            (today - Days::new(10), today - Days::new(3))
        };
        events.push(json!({
            "event_id": format!("{id}-r"), "dossier_id": id, "type": "received",
            "at": stamp(received, "09:00:00"), "unit": HAI_VAN, "level": "commune",
            "procedure": "DD-01", "field": "Đất đai", "channel": "direct",
            "due": stamp(due, "17:00:00"), "fee": false, "paid_online": false
        }));
        events.push(
            json!({"event_id": format!("{id}-s"), "dossier_id": id, "type": "resolved",
            "at": stamp(today, "00:00:05")}),
        );
    }
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub(crate) fn bearer(app: &TestApp, role: Role, unit: Option<&str>) -> String {
    let token = AccountBook::at(app.dir.path())
        .create_token("alerts test", role, unit)
        .unwrap()
        .1;
    format!("Bearer {token}")
}

pub(crate) async fn call(
    app: &TestApp,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub(crate) fn below_95(unit: &str, channels: Value) -> Value {
    json!({
        "name": "Dưới ngưỡng 95%", "indicator": "on_time_rate", "unit": unit,
        "period": "month_to_date", "condition": {"op": "below", "value": 0.95},
        "channels": channels
    })
}

/// Evaluates the rules now, as the server does after a commit; returns how many fired.
pub(crate) async fn evaluate(app: &TestApp) -> usize {
    let fired = app
        .alerts
        .evaluate(&*app.served, vietnam_today(), chrono::Utc::now())
        .expect("rules evaluate");
    let n = fired.len();
    app.alerts.deliver(fired).await;
    n
}

#[tokio::test]
async fn a_crossing_fires_once_and_a_unit_hovering_at_the_threshold_does_not_fire_again_until_re_armed(
) {
    let app = app();
    let chair = bearer(&app, Role::Chair, Some("20194@2025"));
    // 19 on time, 1 late: exactly 95%, not below.
    resolve(&app, "a", 19, 1).await;
    let (status, rule) = call(
        &app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&chair),
        Some(below_95(HAI_VAN, json!([{"kind": "in_app"}]))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(evaluate(&app).await, 0, "95.00% is not below 95%");

    // One more late: 19/21 = 90.5%, the condition becomes true: one alert.
    resolve(&app, "b", 0, 1).await;
    assert_eq!(evaluate(&app).await, 1);
    assert_eq!(evaluate(&app).await, 0, "still below: no second alert");
    let (_, list) = call(&app, "GET", "/api/v1/alerts", Some(&chair), None).await;
    assert_eq!(list["unread"], 1, "{list}");
    let alert = &list["alerts"][0];
    assert_eq!(alert["unit_code"], HAI_VAN);
    assert_eq!(alert["rule_id"], rule["id"]);
    assert!(
        (alert["value"].as_f64().unwrap() - 19.0 / 21.0).abs() < 1e-9,
        "{alert}"
    );
    assert!(
        alert["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/?unit={HAI_VAN}&from=")),
        "{alert}"
    );

    // Hovering: 208/219 = 94.98%, then 209/220 = 95.0%: within half a point of the threshold,
    // so no new alert either way.
    resolve(&app, "c", 189, 9).await;
    assert_eq!(evaluate(&app).await, 0);
    resolve(&app, "d", 1, 0).await;
    assert_eq!(evaluate(&app).await, 0, "back at 95.0%, not yet re-armed");
    // 249/260 = 95.8%, more than half a point above, re-arms it …
    resolve(&app, "e", 40, 0).await;
    assert_eq!(evaluate(&app).await, 0);
    // … so the next fall below fires again (249/270 = 92.2%).
    resolve(&app, "f", 0, 10).await;
    assert_eq!(evaluate(&app).await, 1);
    let (_, list) = call(&app, "GET", "/api/v1/alerts", Some(&chair), None).await;
    assert_eq!(list["unread"], 2, "{list}");

    // Read: the unread count falls to 0; a leader of another province sees none of them.
    let (status, list) = call(
        &app,
        "POST",
        "/api/v1/alerts/read",
        Some(&chair),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, list["unread"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{list}"
    );
    let other = bearer(&app, Role::Leader, Some("80@2025"));
    let (_, theirs) = call(&app, "GET", "/api/v1/alerts", Some(&other), None).await;
    assert_eq!(theirs["alerts"].as_array().unwrap().len(), 0);
    let (_, rules) = call(&app, "GET", "/api/v1/alerts/rules", Some(&other), None).await;
    assert_eq!(
        rules.as_array().unwrap().len(),
        0,
        "rules are their owner's"
    );
}

#[tokio::test]
async fn rules_stay_within_their_owners_scope_and_name_what_is_wrong() {
    let app = app();
    let chair = bearer(&app, Role::Chair, Some("20194@2025"));
    let leader = bearer(&app, Role::Leader, Some("48@2025"));
    let ingest = bearer(&app, Role::Ingest, Some("*"));
    let in_app = json!([{"kind": "in_app"}]);
    for (who, auth, unit, want) in [
        ("anonymous", None, HAI_VAN, StatusCode::UNAUTHORIZED),
        (
            "an ingest token",
            Some(&ingest),
            HAI_VAN,
            StatusCode::FORBIDDEN,
        ),
        (
            "the chair of Hải Vân",
            Some(&chair),
            LIEN_CHIEU,
            StatusCode::FORBIDDEN,
        ),
        (
            "the chair of Hải Vân",
            Some(&chair),
            "48",
            StatusCode::FORBIDDEN,
        ),
        (
            "the chair of Hải Vân",
            Some(&chair),
            HAI_VAN,
            StatusCode::CREATED,
        ),
        (
            "the leader of 48",
            Some(&leader),
            LIEN_CHIEU,
            StatusCode::CREATED,
        ),
        (
            "the leader of 48",
            Some(&leader),
            "80",
            StatusCode::FORBIDDEN,
        ),
        (
            "the leader of 48",
            Some(&leader),
            "99999",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/alerts/rules",
            auth.map(String::as_str),
            Some(below_95(unit, in_app.clone())),
        )
        .await;
        assert_eq!(status, want, "{who} for {unit}: {body}");
    }
    // "Any commune of province 48", for its leader only.
    let mut each = below_95("48", in_app.clone());
    each["level"] = json!("commune");
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/alerts/rules",
            Some(&leader),
            Some(each.clone())
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/alerts/rules",
            Some(&chair),
            Some(each)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    for (change, field) in [
        (json!({"name": ""}), "name"),
        (json!({"unit": "48 OR 1=1"}), "unit"),
        (
            json!({"condition": {"op": "below", "value": 95}}),
            "condition",
        ),
        (
            json!({"condition": {"op": "sideways", "value": 1}}),
            "condition",
        ),
        (json!({"indicator": "rank"}), "indicator"),
        (json!({"level": "district"}), "level"),
        (json!({"channels": []}), "channels"),
        (
            json!({"channels": [{"kind": "webhook", "url": "http://127.0.0.1:8123/?query=DROP"}]}),
            "channels",
        ),
        (
            json!({"channels": [{"kind": "email", "to": "a@b.vn"}]}),
            "channels",
        ),
    ] {
        let mut rule = below_95("48", in_app.clone());
        for (k, v) in change.as_object().unwrap() {
            rule[k] = v.clone();
        }
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/alerts/rules",
            Some(&leader),
            Some(rule),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{change}: {body}");
        assert_eq!(body["field"], field, "{change}: {body}");
    }
    let mut missing = below_95("48", in_app.clone());
    missing.as_object_mut().unwrap().remove("period");
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&leader),
        Some(missing),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("period")),
        "{body}"
    );

    // A chair changes or deletes only their own rules.
    let (_, mine) = call(&app, "GET", "/api/v1/alerts/rules", Some(&chair), None).await;
    let id = mine[0]["id"].as_str().unwrap().to_string();
    let uri = format!("/api/v1/alerts/rules/{id}");
    assert_eq!(
        call(&app, "DELETE", &uri, Some(&leader), None).await.0,
        StatusCode::NOT_FOUND
    );
    let mut moved = below_95(LIEN_CHIEU, in_app.clone());
    assert_eq!(
        call(&app, "PUT", &uri, Some(&chair), Some(moved.clone()))
            .await
            .0,
        StatusCode::FORBIDDEN,
        "not outside their commune"
    );
    moved["unit"] = json!(HAI_VAN);
    moved["condition"] = json!({"op": "below", "value": 0.9});
    let (status, updated) = call(&app, "PUT", &uri, Some(&chair), Some(moved)).await;
    assert_eq!(
        (status, updated["condition"]["value"].as_f64()),
        (StatusCode::OK, Some(0.9)),
        "{updated}"
    );
    assert_eq!(
        call(&app, "DELETE", &uri, Some(&chair), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, "DELETE", &uri, Some(&chair), None).await.0,
        StatusCode::NOT_FOUND
    );
}

/// What the loopback receiver saw: (signature header, body) per request.
pub(crate) type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A receiver on loopback that answers 500 to the first `failures` requests, then 200.
async fn receiver(failures: usize) -> (std::net::SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let handler = move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
        let log = log.clone();
        async move {
            let mut seen = log.lock().unwrap();
            let signature = headers
                .get("x-iem-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            seen.push((signature, body.to_vec()));
            if seen.len() <= failures {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route("/hook", axum::routing::post(handler)),
        )
        .await
        .unwrap();
    });
    (addr, seen)
}

#[tokio::test]
async fn a_webhook_is_signed_and_retried_until_the_receiver_takes_it() {
    let (addr, seen) = receiver(2).await;
    let app = app_with_alerts(AlertSettings {
        webhook_hosts: vec![addr.to_string()],
        retry_base: Duration::from_millis(20),
        ..Default::default()
    });
    let chair = bearer(&app, Role::Chair, Some("20194@2025"));
    let rule = below_95(
        HAI_VAN,
        json!([{"kind": "webhook", "url": format!("http://{addr}/hook")}]),
    );
    let (status, rule) = call(
        &app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&chair),
        Some(rule),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    resolve(&app, "w", 8, 2).await;
    assert_eq!(evaluate(&app).await, 1);
    // Three requests: two 500s, then taken.
    for _ in 0..200 {
        if seen.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two refusals, then delivered; no more");
    let secret = rule["webhook_secret"].as_str().unwrap();
    for (signature, body) in &seen {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(signature, &format!("sha256={hex}"));
        let alert: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (alert["unit_code"].as_str(), alert["value"].as_f64()),
            (Some(HAI_VAN), Some(0.8))
        );
    }
    // Every attempt is logged.
    let attempts: Vec<(Option<u64>, String)> = app
        .alerts
        .deliveries()
        .read()
        .into_iter()
        .map(|a| (a.status.map(u64::from), a.outcome))
        .collect();
    assert_eq!(
        attempts,
        vec![
            (Some(500), "retrying".to_string()),
            (Some(500), "retrying".to_string()),
            (Some(200), "delivered".to_string())
        ]
    );
    // The in-app list was not asked for: nothing there.
    let (_, list) = call(&app, "GET", "/api/v1/alerts", Some(&chair), None).await;
    assert_eq!(list["unread"], 0);
}

/// A quoted-printable text decoded (soft line breaks joined, `=XX` bytes restored), as a mail
/// client would show it.
pub(crate) fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A minimal SMTP server on loopback that takes every message; returns what each DATA held.
pub(crate) async fn smtp_sink() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let messages: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = messages.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO")
                    {
                        b"250 sink\r\n"
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.ok();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        kept.lock().unwrap().push(data);
                        b"250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.ok();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (addr, messages)
}

#[tokio::test]
async fn an_e_mail_alert_reaches_the_relay_with_the_unit_and_its_figure() {
    let (addr, messages) = smtp_sink().await;
    let app = app_with_alerts(AlertSettings {
        smtp: Some(server::alerts::email::SmtpSettings {
            relay: addr.to_string(),
            from: "canh-bao@iem.danang.gov.vn".into(),
            recipient_domains: vec!["danang.gov.vn".into()],
            security: server::alerts::email::SmtpSecurity::None,
            credentials: None,
        }),
        retry_base: Duration::from_millis(20),
        ..Default::default()
    });
    let chair = bearer(&app, Role::Chair, Some("20194@2025"));
    let outside = below_95(
        HAI_VAN,
        json!([{"kind": "email", "to": "someone@gmail.com"}]),
    );
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&chair),
        Some(outside),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("channels")),
        "{body}"
    );
    let rule = below_95(
        HAI_VAN,
        json!([{"kind": "email", "to": "chu-tich@danang.gov.vn"}]),
    );
    let (status, rule) = call(
        &app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&chair),
        Some(rule),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    resolve(&app, "m", 8, 2).await;
    assert_eq!(evaluate(&app).await, 1);
    for _ in 0..700 {
        if !messages.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let messages = messages.lock().unwrap().clone();
    assert_eq!(
        messages.len(),
        1,
        "one e-mail; attempts: {:?}",
        app.alerts.deliveries().read()
    );
    let mail = &quoted_printable(&messages[0]);
    assert!(mail.contains("To: chu-tich@danang.gov.vn"), "{mail}");
    assert!(mail.contains("Đơn vị: Phường Hải Vân (20194)"), "{mail}");
    assert!(
        mail.contains("on_time_rate = 80,00%") && mail.contains("on_time_rate = 80.00%"),
        "{mail}"
    );
    assert!(mail.contains("/?unit=20194&from="), "{mail}");
    // The attempt is logged once the relay has answered the end of the session, which can be
    // after the sink has the message.
    for _ in 0..700 {
        if !app.alerts.deliveries().read().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let attempts = app.alerts.deliveries().read();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (attempts[0].url.as_str(), attempts[0].outcome.as_str()),
        ("mailto:chu-tich@danang.gov.vn", "delivered")
    );
}
