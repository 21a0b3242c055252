//! The ingest API: every rejection code, atomicity, idempotence, limits.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

const AT: &str = "2021-03-01T08:00:00+07:00";
const DUE: &str = "2021-03-10T17:00:00+07:00";

#[tokio::test]
async fn a_valid_batch_is_accepted_and_counted() {
    let app = app();
    let (status, body) = app
        .post_ndjson(&[
            received("e1", "d1", AT, DUE),
            resolved("e2", "d1", "2021-03-09T10:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"accepted": 2, "duplicates": 0}));
    let total = app.province_total("2021-03-01", "2021-03-31").await;
    assert_eq!(
        (total["received"].as_u64(), total["resolved_early"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_json_array_body_is_accepted_too() {
    let app = app();
    let body = serde_json::to_vec(&json!([received("e1", "d1", AT, DUE)])).unwrap();
    let (status, body) = app.post_raw("application/json", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 1);
}

#[tokio::test]
async fn resending_the_same_events_is_a_no_op() {
    let app = app();
    let batch = [
        received("e1", "d1", AT, DUE),
        resolved("e2", "d1", "2021-03-12T10:00:00+07:00"),
    ];
    assert_eq!(app.post_ndjson(&batch).await.0, StatusCode::OK);
    let (status, body) = app.post_ndjson(&batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"accepted": 0, "duplicates": 2}));
    // The same instant written with another offset is the same content.
    let same = resolved("e2", "d1", "2021-03-12T03:00:00Z");
    assert_eq!(
        app.post_ndjson(&[same]).await.1,
        json!({"accepted": 0, "duplicates": 1})
    );
    let total = app.province_total("2021-03-01", "2021-03-31").await;
    assert_eq!(
        (total["received"].as_u64(), total["resolved_late"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_rejected_request_stores_nothing_and_lists_every_bad_line() {
    let app = app();
    let mut bad_unit = received("e2", "d2", AT, DUE);
    bad_unit["unit"] = json!("99999");
    let mut bad_due = received("e3", "d3", AT, "2021-02-01T08:00:00+07:00");
    bad_due["event_id"] = json!("e3");
    let (status, body) = app
        .post_ndjson(&[
            received("e1", "d1", AT, DUE),
            bad_unit,
            bad_due,
            resolved("e4", "d1", "2021-03-05T08:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        error_codes(&body),
        vec![
            (2, "unknown_unit".into()),
            (3, "due_before_received".into())
        ]
    );
    assert_eq!(body["errors"][0]["field"], "unit");
    let total = app.province_total("2021-01-01", "2021-12-31").await;
    assert_eq!(
        total["received"], 0,
        "nothing from the rejected request was stored"
    );
    assert_eq!(app.store.summary().unwrap().events, 0);
    // The good lines alone go through afterwards: nothing half-stored blocks them.
    let (status, _) = app
        .post_ndjson(&[
            received("e1", "d1", AT, DUE),
            resolved("e4", "d1", "2021-03-05T08:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn single_error(app: &TestApp, lines: &[serde_json::Value]) -> (String, String) {
    let (status, body) = app.post_ndjson(lines).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    (
        errors[0]["field"].as_str().unwrap().into(),
        errors[0]["code"].as_str().unwrap().into(),
    )
}

#[tokio::test]
async fn each_problem_has_its_own_code() {
    let app = app();
    let base = || received("e1", "d1", AT, DUE);
    let mut v = base();
    v.as_object_mut().unwrap().remove("procedure");
    assert_eq!(
        single_error(&app, &[v]).await,
        ("procedure".into(), "missing_field".into())
    );
    let mut v = base();
    v["fee"] = json!(1);
    assert_eq!(
        single_error(&app, &[v]).await,
        ("fee".into(), "invalid_type".into())
    );
    let mut v = base();
    v["unit"] = json!("00000");
    assert_eq!(
        single_error(&app, &[v]).await,
        ("unit".into(), "unknown_unit".into())
    );
    let mut v = base();
    v["level"] = json!("commune");
    assert_eq!(
        single_error(&app, &[v]).await,
        ("level".into(), "level_mismatch".into())
    );
    let v = received("e1", "d1", AT, "2021-02-28T08:00:00+07:00");
    assert_eq!(
        single_error(&app, &[v]).await,
        ("due".into(), "due_before_received".into())
    );
    let v = received("e1", "d1", "2021-03-01T08:00:00", DUE);
    assert_eq!(
        single_error(&app, &[v]).await,
        ("at".into(), "timestamp_without_offset".into())
    );
    let future = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let later = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let v = received("e1", "d1", &future, &later);
    assert_eq!(
        single_error(&app, &[v]).await,
        ("at".into(), "timestamp_in_future".into())
    );
    let v = resolved("e9", "nobody", AT);
    assert_eq!(
        single_error(&app, &[v]).await,
        ("dossier_id".into(), "unknown_dossier".into())
    );
    let mut v = base();
    v["event_id"] = json!("x".repeat(129));
    assert_eq!(
        single_error(&app, &[v]).await,
        ("event_id".into(), "too_long".into())
    );
    // Codes and names are bounded too: whatever is sent is drawn on every page and report.
    for (field, longest) in [
        ("unit", 128),
        ("procedure", 128),
        ("agency", 128),
        ("field", 200),
    ] {
        let mut v = base();
        v[field] = json!("Đ".repeat(longest + 1));
        assert_eq!(
            single_error(&app, &[v]).await,
            (field.into(), "too_long".into()),
            "{field}"
        );
    }
    let mut v = resolved("e9", "d1", AT);
    v["outcome"] = json!("x".repeat(201));
    assert_eq!(
        single_error(&app, &[v]).await,
        ("outcome".into(), "too_long".into())
    );
    let v = json!({"event_id": "e1", "dossier_id": "d1", "type": "reopened", "at": AT});
    assert_eq!(
        single_error(&app, &[v]).await,
        ("type".into(), "invalid_value".into())
    );
}

#[tokio::test]
async fn state_rules_are_checked_against_the_store_and_the_request() {
    let app = app();
    assert_eq!(
        app.post_ndjson(&[received("e1", "d1", AT, DUE)]).await.0,
        StatusCode::OK
    );
    // A second reception of a stored dossier.
    let again = received("e2", "d1", AT, DUE);
    assert_eq!(
        single_error(&app, &[again]).await,
        ("dossier_id".into(), "duplicate_received".into())
    );
    // Resolved twice within one request.
    let r1 = resolved("e3", "d1", "2021-03-05T08:00:00+07:00");
    let r2 = resolved("e4", "d1", "2021-03-06T08:00:00+07:00");
    let (status, body) = app.post_ndjson(&[r1.clone(), r2.clone()]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_codes(&body), vec![(2, "already_resolved".into())]);
    // Resolved twice across requests.
    assert_eq!(app.post_ndjson(&[r1]).await.0, StatusCode::OK);
    assert_eq!(
        single_error(&app, &[r2]).await,
        ("type".into(), "already_resolved".into())
    );
    // A received earlier in the same request makes later events valid.
    let (status, body) = app
        .post_ndjson(&[
            received("e5", "d5", AT, DUE),
            resolved("e6", "d5", "2021-03-02T08:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // An event dated before its dossier's reception.
    let early = resolved("e7", "d7", "2021-02-01T08:00:00+07:00");
    assert_eq!(
        app.post_ndjson(&[received("e8", "d7", AT, DUE)]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        single_error(&app, &[early]).await,
        ("at".into(), "before_received".into())
    );
}

#[tokio::test]
async fn a_reused_event_id_alone_is_a_409_and_with_other_problems_a_422() {
    let app = app();
    assert_eq!(
        app.post_ndjson(&[received("e1", "d1", AT, DUE)]).await.0,
        StatusCode::OK
    );
    let changed = received("e1", "d1", AT, "2021-03-20T08:00:00+07:00");
    let (status, body) = app.post_ndjson(std::slice::from_ref(&changed)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_codes(&body), vec![(1, "event_id_conflict".into())]);
    let (status, body) = app
        .post_ndjson(&[changed, resolved("e2", "ghost", AT)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_codes(&body),
        vec![
            (1, "event_id_conflict".into()),
            (2, "unknown_dossier".into())
        ]
    );
}

#[tokio::test]
async fn limits_answer_413_and_wrong_requests_their_own_status() {
    let app = app();
    let long_line = format!("{{\"event_id\":\"{}\"}}", "x".repeat(70 * 1024));
    let (status, body) = app
        .post_raw("application/x-ndjson", long_line.into_bytes())
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let huge = vec![b' '; 17 * 1024 * 1024];
    assert_eq!(
        app.post_raw("application/x-ndjson", huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (status, body) = app.post_raw("text/csv", b"a,b".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");
    let (status, body) = app
        .post_raw("application/x-ndjson", b"{not json".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_codes(&body), vec![(1, "invalid_json".into())]);
    let req = axum::http::Request::post("/api/v1/events")
        .header("content-type", "application/x-ndjson")
        .body(axum::body::Body::from(
            received("e1", "d1", AT, DUE).to_string(),
        ))
        .unwrap();
    let (status, body) = app.request(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn the_openapi_document_lists_the_endpoints_and_codes() {
    let app = app();
    let (status, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/events",
        "/api/v1/stats",
        "/api/v1/trend",
        "/api/v1/stream",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    // A refused line's code, through the schemas the document references (`$ref`).
    let schemas = &doc["components"]["schemas"];
    let followed = |schema: &serde_json::Value| -> serde_json::Value {
        match schema["$ref"].as_str() {
            Some(name) => schemas[name.trim_start_matches("#/components/schemas/")].clone(),
            None => schema.clone(),
        }
    };
    let line = followed(&schemas["Rejected"]["properties"]["errors"]["items"]);
    let code = followed(&line["properties"]["code"]);
    let codes = code["enum"].as_array().unwrap();
    assert!(codes.len() >= 18, "{code}");
    for expected in ["unknown_unit", "unit_not_in_force", "event_id_conflict"] {
        assert!(codes.iter().any(|c| c == expected), "{expected} in {code}");
    }
    // Only what a line can carry: a whole request's codes are not a line's.
    for request_code in ["bad_request", "busy", "internal"] {
        assert!(
            !codes.iter().any(|c| c == request_code),
            "{request_code} in {code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_committed_together_yet_each_all_or_nothing() {
    let app = std::sync::Arc::new(app());
    let mut tasks = Vec::new();
    for client in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0u64;
            for request in 0..20 {
                let d = format!("c{client}-r{request}");
                let mut lines = vec![
                    received(&format!("{d}-e1"), &d, AT, DUE),
                    resolved(&format!("{d}-e2"), &d, "2021-03-09T10:00:00+07:00"),
                ];
                let bad = client == 3 && request % 2 == 0;
                if bad {
                    lines.push(resolved(&format!("{d}-e3"), "no-such-dossier", AT));
                }
                let (status, body) = app.post_ndjson(&lines).await;
                if bad {
                    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                    assert_eq!(error_codes(&body), [(3, "unknown_dossier".to_string())]);
                } else {
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert_eq!(body, json!({"accepted": 2, "duplicates": 0}));
                    accepted += 1;
                }
            }
            accepted
        }));
    }
    let mut good_requests = 0;
    for t in tasks {
        good_requests += t.await.unwrap();
    }
    assert_eq!(good_requests, 150);
    let total = app.province_total("2021-03-01", "2021-03-31").await;
    assert_eq!(
        (total["received"].as_u64(), total["resolved_early"].as_u64()),
        (Some(150), Some(150))
    );
}

#[tokio::test]
async fn uncatalogued_procedures_are_accepted_and_listed() {
    let app = app();
    let mut line = received("e1", "d1", AT, DUE);
    line["procedure"] = json!("XX-404");
    line["field"] = json!("Xây dựng");
    assert_eq!(app.post_ndjson(&[line]).await.0, StatusCode::OK);
    let (status, body) = app.get("/api/v1/procedures/uncatalogued").await;
    assert_eq!(status, StatusCode::OK);
    let listed = &body["procedures"];
    assert_eq!(listed.as_array().map(|a| a.len()), Some(1), "{body}");
    assert_eq!(listed[0]["procedure"], "XX-404");
    assert_eq!(listed[0]["field"], "Xây dựng");
    assert_eq!(listed[0]["dossiers"], 1);
    assert_eq!(listed[0]["first_received"], "2021-03-01");
}
