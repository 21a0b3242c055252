//! The monthly report: a PDF that parses, has its pages, and whose text holds the figures of the
//! same view from `/api/v1/stats`; public to anyone, with late dossiers by agency only for a
//! reader whose scope covers the unit; bad requests named.
use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use server::auth::accounts::AccountBook;
use server::auth::Role;
use tower::ServiceExt;

const HAI_VAN: &str = "20194";
const LIEN_CHIEU: &str = "20197";

fn received(id: &str, unit: &str, agency: &str, day: u32, due: u32) -> Value {
    json!({
        "event_id": format!("{id}-r"), "dossier_id": id, "type": "received",
        "at": format!("2026-03-{day:02}T09:00:00+07:00"), "unit": unit, "level": "commune",
        "procedure": "DD-01", "field": "Đất đai", "channel": "direct", "agency": agency,
        "due": format!("2026-03-{due:02}T17:00:00+07:00"), "fee": false, "paid_online": false
    })
}

fn resolved(id: &str, day: u32) -> Value {
    json!({"event_id": format!("{id}-x"), "dossier_id": id, "type": "resolved",
        "at": format!("2026-03-{day:02}T10:00:00+07:00")})
}

/// March 2026 in two communes of Đà Nẵng: in Hải Vân 9 on time, 4 late (agency HV-TNMT), 2 still
/// open past due; in Liên Chiểu 6 on time, 1 late (LC-TNMT), 1 open past due.
async fn seeded() -> TestApp {
    let app = app();
    let mut events = Vec::new();
    let plan = [
        (HAI_VAN, "HV-TNMT", 9, 4, 2),
        (LIEN_CHIEU, "LC-TNMT", 6, 1, 1),
    ];
    for (unit, agency, on_time, late, open) in plan {
        for k in 0..on_time + late + open {
            let id = format!("HS-RPT-{unit}-{k:02}");
            events.push(received(&id, unit, agency, 2, 10));
            if k < on_time {
                events.push(resolved(&id, 6));
            } else if k < on_time + late {
                events.push(resolved(&id, 16));
            }
        }
    }
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app
}

async fn fetch(
    app: &TestApp,
    uri: &str,
    bearer: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, b);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

/// The PDF's page count and its text, one drawn string per item, read back by lopdf.
fn read_pdf(bytes: &[u8]) -> (usize, Vec<String>) {
    let document = lopdf::Document::load_mem(bytes).expect("the report parses as PDF");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document.extract_text(&pages).expect("its text extracts");
    let items = text
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    (pages.len(), items)
}

/// The item drawn after `label` (the next cell of its row).
fn after<'a>(items: &'a [String], label: &str) -> &'a str {
    let i = items
        .iter()
        .position(|t| t == label)
        .unwrap_or_else(|| panic!("'{label}' is in the report: {items:?}"));
    &items[i + 1]
}

/// A fraction as the report writes it in Vietnamese: two decimals, a decimal comma.
fn vi_rate(v: f64) -> String {
    format!("{:.2}%", v * 100.0).replace('.', ",")
}

#[tokio::test]
async fn the_report_is_a_pdf_whose_text_holds_the_figures_stats_gives_for_the_same_month() {
    let app = seeded().await;
    let (status, stats) = app
        .get("/api/v1/stats?level=commune&parent=48&from=2026-03-01&to=2026-03-31")
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let total = &stats["total"];
    assert_eq!(total["received"], 23);

    let (status, headers, pdf) =
        fetch(&app, "/api/v1/reports/monthly?unit=48&month=2026-03", None).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.len() < 1_000_000, "{} bytes", pdf.len());
    let (pages, items) = read_pdf(&pdf);
    // Headline and map; ranking; trend, causes and crossings.
    assert!(pages >= 3, "{pages} pages");
    assert!(items
        .iter()
        .any(|t| t.contains("Báo cáo tháng 03/2026 — Thành phố Đà Nẵng")));
    let rate = total["on_time_rate"].as_f64().unwrap();
    assert_eq!(after(&items, "Tỷ lệ đúng hạn"), vi_rate(rate));
    for (label, field) in [
        ("Tiếp nhận", "received"),
        ("Đã giải quyết", "resolved"),
        ("Trễ hạn", "resolved_late"),
        ("Đang giải quyết quá hạn", "pending_overdue"),
    ] {
        assert_eq!(
            after(&items, label),
            total[field].as_u64().unwrap().to_string(),
            "{label}"
        );
    }
    // The ranking lists each commune with its rate from the same answer.
    for row in stats["units"].as_array().unwrap() {
        let Some(rate) = row["on_time_rate"].as_f64() else {
            continue;
        };
        let name = row["name"].as_str().unwrap();
        assert_eq!(after(&items, name), vi_rate(rate), "{name}");
    }
    // The procedure behind the late dossiers, with their count.
    assert!(items.iter().any(|t| t.starts_with("DD-01")), "{items:?}");
    // Hải Vân (9 of 13 in time) is under the threshold: not a crossing, for no figures a month
    // before; the public report has no agency table.
    assert!(!items.iter().any(|t| t.contains("HV-TNMT")));

    let (status, _, english) = fetch(
        &app,
        "/api/v1/reports/monthly?unit=48&month=2026-03&lang=en",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, items) = read_pdf(&english);
    assert!(items.iter().any(|t| t.contains("Monthly report 2026-03")));
    assert_eq!(after(&items, "Received"), "23");
    assert_eq!(
        after(&items, "On-time rate"),
        format!("{:.2}%", rate * 100.0)
    );
}

#[tokio::test]
async fn a_commune_report_has_its_own_figures_and_no_ranking() {
    let app = seeded().await;
    let (status, _, pdf) = fetch(
        &app,
        &format!("/api/v1/reports/monthly?unit={HAI_VAN}&month=2026-03"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, items) = read_pdf(&pdf);
    assert_eq!(after(&items, "Tiếp nhận"), "15");
    assert_eq!(after(&items, "Tỷ lệ đúng hạn"), vi_rate(9.0 / 13.0));
    assert!(!items.iter().any(|t| t.starts_with("Xếp hạng")));
}

#[tokio::test]
async fn only_a_reader_whose_scope_covers_the_unit_gets_late_dossiers_by_agency() {
    let app = seeded().await;
    let book = AccountBook::at(app.dir.path());
    let leader = format!(
        "Bearer {}",
        book.create_token("report test", Role::Leader, Some("48@2025"))
            .unwrap()
            .1
    );
    let other = format!(
        "Bearer {}",
        book.create_token("report test 2", Role::Leader, Some("80@2025"))
            .unwrap()
            .1
    );
    let uri = "/api/v1/reports/monthly?unit=48&month=2026-03";

    let (status, headers, pdf) = fetch(&app, uri, Some(&leader)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    let (_, items) = read_pdf(&pdf);
    assert!(items.iter().any(|t| t == "Hồ sơ trễ hạn theo cơ quan"));
    // Hải Vân's agency: 4 resolved late, 2 open past due; Liên Chiểu's: 1 and 1.
    assert_eq!(after(&items, "HV-TNMT"), "4");
    assert_eq!(after(&items, "LC-TNMT"), "1");
    let audit = std::fs::read_to_string(app.dir.path().join("audit.log")).unwrap_or_default();
    assert!(
        audit.contains("late_export"),
        "the agency counts' read is audited"
    );

    for credential in [None, Some(other.as_str())] {
        let (status, headers, pdf) = fetch(&app, uri, credential).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
        let (_, items) = read_pdf(&pdf);
        assert!(
            !items.iter().any(|t| t.contains("HV-TNMT")),
            "{credential:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_request_is_refused_with_the_field_named() {
    let app = app();
    for (query, status, field) in [
        ("month=2026-03", StatusCode::BAD_REQUEST, "unit"),
        ("unit=48", StatusCode::BAD_REQUEST, "month"),
        ("unit=48&month=2026-13", StatusCode::BAD_REQUEST, "month"),
        ("unit=48&month=2026-3", StatusCode::BAD_REQUEST, "month"),
        ("unit=48&month=+2026-03", StatusCode::BAD_REQUEST, "month"),
        ("unit=48&month=2099-12", StatusCode::BAD_REQUEST, "month"),
        (
            "unit=48&month=2026-03&lang=fr",
            StatusCode::BAD_REQUEST,
            "lang",
        ),
        ("unit=4a&month=2026-03", StatusCode::BAD_REQUEST, "unit"),
        ("unit=48&month=2026-03&x=1", StatusCode::BAD_REQUEST, "x"),
        ("unit=99999&month=2026-03", StatusCode::NOT_FOUND, ""),
        // Quảng Nam went into Đà Nẵng at the reform: no unit 49 in force in 2026.
        ("unit=49&month=2026-03", StatusCode::NOT_FOUND, ""),
    ] {
        let (got, body) = app.get(&format!("/api/v1/reports/monthly?{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
        if !field.is_empty() {
            assert_eq!(body["field"], field, "{query}: {body}");
        }
    }
    // Before the reform, 49 is Quảng Nam.
    let (status, _, _) = fetch(&app, "/api/v1/reports/monthly?unit=49&month=2024-03", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_asking_for_more_new_reports_than_its_allowance_is_told_to_wait_but_kept_ones_still_come(
) {
    let app = app();
    // 36 months, asked for one after another: the first ten at once, then one token every six
    // seconds, so a refusal comes long before the end however slow each drawing is.
    let months: Vec<String> = (2024..=2026)
        .flat_map(|y| (1..=12).map(move |m| format!("{y}-{m:02}")))
        .collect();
    let mut refused = None;
    for (i, month) in months.iter().enumerate() {
        let (status, headers, _) = fetch(
            &app,
            &format!("/api/v1/reports/monthly?unit=48&month={month}"),
            None,
        )
        .await;
        if i < 10 {
            // 48 before July 2025 is the old Đà Nẵng, after it the new one: both draw.
            assert_eq!(status, StatusCode::OK, "{month}");
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key(header::RETRY_AFTER));
            refused = Some(i);
            break;
        } else {
            assert_eq!(status, StatusCode::OK, "{month}");
        }
    }
    assert!(
        refused.is_some(),
        "some request past the allowance is refused"
    );
    // A report already drawn is served from the kept ones, allowance or not.
    let (status, _, _) = fetch(&app, "/api/v1/reports/monthly?unit=48&month=2024-01", None).await;
    assert_eq!(status, StatusCode::OK);
}
