//! The query API: the definitions hold end to end, filters and bad parameters behave.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

fn withdrawn(event_id: &str, dossier_id: &str, at: &str) -> Value {
    json!({"event_id": event_id, "dossier_id": dossier_id, "type": "withdrawn", "at": at})
}

fn due_changed(event_id: &str, dossier_id: &str, at: &str, due: &str) -> Value {
    json!({"event_id": event_id, "dossier_id": dossier_id, "type": "due_changed", "at": at, "due": due})
}

async fn district(app: &TestApp, code: &str, from: &str, to: &str) -> Value {
    let (status, body) = app
        .get(&format!(
            "/api/v1/stats?from={from}&to={to}&level=district&parent=49"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn quarter_figures_follow_the_definitions() {
    let app = app();
    let events = vec![
        // Carried over from 2020, resolved early in the quarter.
        received(
            "c1",
            "carried",
            "2020-12-20T09:00:00+07:00",
            "2021-01-05T17:00:00+07:00",
        ),
        resolved("c2", "carried", "2021-01-04T09:00:00+07:00"),
        // Resolved on the due date: on time.
        received(
            "o1",
            "ontime",
            "2021-01-04T09:00:00+07:00",
            "2021-01-10T17:00:00+07:00",
        ),
        resolved("o2", "ontime", "2021-01-10T16:00:00+07:00"),
        // Resolved at 23:30 UTC on the due date = next local day: late.
        received(
            "l1",
            "late",
            "2021-01-04T09:00:00+07:00",
            "2021-01-10T17:00:00+07:00",
        ),
        resolved("l2", "late", "2021-01-10T23:30:00Z"),
        // Late, then its due date moved after resolution: now early.
        received(
            "m1",
            "moved",
            "2021-02-01T09:00:00+07:00",
            "2021-02-05T17:00:00+07:00",
        ),
        resolved("m2", "moved", "2021-02-08T09:00:00+07:00"),
        due_changed(
            "m3",
            "moved",
            "2021-02-09T09:00:00+07:00",
            "2021-02-10T17:00:00+07:00",
        ),
        // Withdrawn: never resolved, not pending afterwards.
        received(
            "w1",
            "withdrawn",
            "2021-03-01T09:00:00+07:00",
            "2021-03-10T17:00:00+07:00",
        ),
        withdrawn("w2", "withdrawn", "2021-03-02T09:00:00+07:00"),
        // Pending at the end of March, due on March 31: overdue.
        received(
            "p1",
            "overdue",
            "2021-03-20T09:00:00+07:00",
            "2021-03-31T17:00:00+07:00",
        ),
        // Pending, due in April: not overdue.
        received(
            "p2",
            "pending",
            "2021-03-25T09:00:00+07:00",
            "2021-04-05T17:00:00+07:00",
        ),
        // Received on April 1 at 00:30 local (still March 31 in UTC): outside the quarter.
        received(
            "a1",
            "april",
            "2021-03-31T17:30:00Z",
            "2021-04-05T17:00:00+07:00",
        ),
    ];
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let q1 = district(&app, "502", "2021-01-01", "2021-03-31").await;
    assert_eq!(q1["received"], 6, "{q1}");
    assert_eq!(q1["resolved"], 4);
    assert_eq!(q1["resolved_early"], 2);
    assert_eq!(q1["resolved_on_time"], 1);
    assert_eq!(q1["resolved_late"], 1);
    assert_eq!(q1["pending"], 2);
    assert_eq!(q1["pending_overdue"], 1);
    assert_eq!(q1["on_time_rate"], 0.75);
    assert_eq!(
        q1["late_rate_incl_pending"],
        json!((1.0 + 1.0) / (4.0 + 2.0))
    );
    assert_eq!(q1["online_rate"], 1.0);
    // A district with no dossiers has null rates, not 0.
    let empty = district(&app, "515", "2021-01-01", "2021-03-31").await;
    assert_eq!(empty["received"], 0);
    assert!(
        empty["on_time_rate"].is_null() && empty["avg_days"].is_null(),
        "{empty}"
    );
}

#[tokio::test]
async fn dossier_level_and_parent_scope_the_figures() {
    let app = app();
    let mut commune = received(
        "k1",
        "k",
        "2021-01-04T09:00:00+07:00",
        "2021-01-10T17:00:00+07:00",
    );
    commune["unit"] = json!("20335");
    commune["level"] = json!("commune");
    let mut province = received(
        "v1",
        "v",
        "2021-01-04T09:00:00+07:00",
        "2021-01-10T17:00:00+07:00",
    );
    province["unit"] = json!("49");
    province["level"] = json!("province");
    province["agency"] = json!("STNMT");
    let district = received(
        "d1",
        "d",
        "2021-01-04T09:00:00+07:00",
        "2021-01-10T17:00:00+07:00",
    );
    assert_eq!(
        app.post_ndjson(&[commune, province, district]).await.0,
        StatusCode::OK
    );
    let tam_ky = self::district(&app, "502", "2021-01-01", "2021-03-31").await;
    assert_eq!(
        tam_ky["received"], 2,
        "the district's own and its commune's"
    );
    let base = "/api/v1/stats?from=2021-01-01&to=2021-03-31&level=province";
    for (level, n) in [("province", 1), ("district", 1), ("commune", 1)] {
        let (_, body) = app.get(&format!("{base}&dossier_level={level}")).await;
        let qn = body["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == "49")
            .unwrap()
            .clone();
        assert_eq!(qn["received"], n, "{level}");
    }
    // The total under a parent includes the parent's own dossiers.
    let (_, body) = app
        .get("/api/v1/stats?from=2021-01-01&to=2021-03-31&level=district&parent=49")
        .await;
    assert_eq!(body["total"]["received"], 3);
    assert_eq!(
        body["units"].as_array().unwrap().len(),
        18,
        "Quảng Nam's 18 districts"
    );
    let (_, body) = app
        .get("/api/v1/stats?from=2021-01-01&to=2021-03-31&level=commune&parent=502")
        .await;
    assert_eq!(
        body["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["received"].as_u64().unwrap())
            .sum::<u64>(),
        1
    );
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let app = app();
    for (query, field) in [
        ("from=2021-01-01&level=district", "to"),
        ("from=2021-01-01&to=31/03/2021&level=district", "to"),
        ("from=2021-04-01&to=2021-03-31&level=district", "from"),
        ("from=2021-01-01&to=2021-03-31&level=ward", "level"),
        (
            "from=2021-01-01&to=2021-03-31&level=district&channel=fax",
            "channel",
        ),
        (
            "from=2021-01-01&to=2021-03-31&level=district&parent=12345678",
            "parent",
        ),
        (
            "from=2021-01-01&to=2021-03-31&level=province&parent=49",
            "parent",
        ),
        (
            "from=2021-01-01&to=2021-03-31&level=district&colour=red",
            "colour",
        ),
    ] {
        let (status, body) = app.get(&format!("/api/v1/stats?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
        assert_eq!(body["code"], "bad_request");
    }
    let (status, body) = app
        .get("/api/v1/trend?unit=502&from=2021-01-01&to=2021-03-31&bucket=day")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "bucket");
    let (status, body) = app.get("/api/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn trend_gives_one_point_per_bucket() {
    let app = app();
    let events = vec![
        received(
            "a",
            "a",
            "2021-01-04T09:00:00+07:00",
            "2021-01-10T17:00:00+07:00",
        ),
        resolved("b", "a", "2021-01-08T09:00:00+07:00"),
        received(
            "c",
            "c",
            "2021-02-04T09:00:00+07:00",
            "2021-02-10T17:00:00+07:00",
        ),
        resolved("d", "c", "2021-02-12T09:00:00+07:00"),
    ];
    assert_eq!(app.post_ndjson(&events).await.0, StatusCode::OK);
    let (status, body) = app
        .get("/api/v1/trend?unit=502&from=2021-01-01&to=2021-03-31&bucket=month")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let points = body["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(
        (
            points[0]["from"].as_str(),
            points[0]["on_time_rate"].as_f64()
        ),
        (Some("2021-01-01"), Some(1.0))
    );
    assert_eq!(points[1]["on_time_rate"], 0.0);
    assert!(points[2]["on_time_rate"].is_null());
}

#[tokio::test]
async fn any_period_matches_the_reference_definitions() {
    use app::indicators::{count_dossier, DossierDates};
    use chrono::{Duration, NaiveDate};
    let app = app();
    let mut rng = Lcg(7);
    let start = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let day = |d: NaiveDate, h: u32| format!("{d}T{h:02}:30:00+07:00");
    let mut events = Vec::new();
    let mut reference = Vec::new();
    for n in 0..400 {
        let received_on = start + Duration::days(rng.below(200) as i64);
        let mut due = received_on + Duration::days(rng.below(20) as i64);
        let id = format!("x{n}");
        let mut e = received(&format!("{id}r"), &id, &day(received_on, 9), &day(due, 17));
        let online = rng.below(2) == 0;
        e["channel"] = json!(if online { "online" } else { "direct" });
        events.push(e);
        let mut dates = DossierDates {
            received: received_on,
            due,
            resolved: None,
            withdrawn: None,
        };
        match rng.below(10) {
            0 => {
                let w = received_on + Duration::days(rng.below(10) as i64);
                events.push(withdrawn(&format!("{id}w"), &id, &day(w, 10)));
                dates.withdrawn = Some(w);
            }
            1..=7 => {
                let r = received_on + Duration::days(rng.below(30) as i64);
                events.push(resolved(&format!("{id}s"), &id, &day(r, 15)));
                dates.resolved = Some(r);
                if rng.below(4) == 0 {
                    due = received_on + Duration::days(rng.below(40) as i64);
                    events.push(due_changed(
                        &format!("{id}d"),
                        &id,
                        &day(r, 16),
                        &day(due, 17),
                    ));
                    dates.due = due;
                }
            }
            _ => {}
        }
        reference.push((dates, online));
    }
    // Events of each dossier in order; the store needs receptions before the rest.
    events.sort_by_key(|e| {
        (
            e["at"].as_str().unwrap().to_string(),
            e["type"] != "received",
        )
    });
    let (status, body) = app.post_ndjson(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for _ in 0..40 {
        let from = start + Duration::days(rng.below(240) as i64 - 10);
        let to = from + Duration::days(rng.below(120) as i64);
        let mut expected = app::model::Counts::default();
        for (dates, online) in &reference {
            count_dossier(&mut expected, dates, from, to, *online, true, true);
        }
        let got = district(&app, "502", &from.to_string(), &to.to_string()).await;
        for (field, want) in [
            ("received", expected.received),
            ("received_online", expected.received_online),
            ("resolved", expected.resolved),
            ("resolved_early", expected.resolved_early),
            ("resolved_on_time", expected.resolved_on_time),
            ("resolved_late", expected.resolved_late),
            ("pending", expected.pending),
            ("pending_overdue", expected.pending_overdue),
        ] {
            assert_eq!(got[field], want, "{field} for {from}..{to}: {got}");
        }
    }
}
