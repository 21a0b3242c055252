//! The demo reproduces the published figures exactly, read through the HTTP API as a user would.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::Value;

async fn stats(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get(&format!("/api/v1/stats?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn unit<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("{code} listed"))
}

fn percent(v: &Value) -> String {
    format!("{:.2}", v.as_f64().expect("a rate") * 100.0)
}

fn on_time(u: &Value) -> u64 {
    u["resolved_early"].as_u64().unwrap() + u["resolved_on_time"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_reproduces_the_published_figures_with_due_dates_on_working_days() {
    let app = app();
    let scenario = authored_data().join("demo/scenario.toml");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let (store, served) = (app.store.clone(), app.served.clone());
    let written = tokio::task::spawn_blocking(move || {
        server::demo::seed_history_into(&store, &*served, &scenario, today)
    })
    .await
    .unwrap()
    .expect("the demo history is written");
    assert!(written > 1_000_000, "{written} events");

    // Quảng Nam, Q1 2021, districts with their communes.
    let q1 = stats(
        &app,
        "from=2021-01-01&to=2021-03-31&level=district&parent=49",
    )
    .await;
    let bac_tra_my = unit(&q1, "515");
    assert_eq!(bac_tra_my["received"], 14_428);
    assert_eq!(on_time(bac_tra_my), 12_903, "{bac_tra_my}");
    assert_eq!(percent(&bac_tra_my["on_time_rate"]), "90.34");
    let tam_ky = unit(&q1, "502");
    assert_eq!(tam_ky["received"], 31_513);
    assert_eq!(on_time(tam_ky), 29_278, "{tam_ky}");
    assert_eq!(percent(&tam_ky["on_time_rate"]), "88.79");
    assert!(
        tam_ky["resolved"].as_u64().unwrap() > 31_513,
        "carried-over dossiers resolved this quarter"
    );
    let mut rates: Vec<(f64, String)> = q1["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["on_time_rate"].as_f64().unwrap(),
                u["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rates.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    assert_eq!(rates[0].1, "515");
    assert_eq!(rates[1].1, "502", "Tam Kỳ second");
    assert!(
        rates.iter().filter(|(r, _)| *r > 0.90).count() == 1,
        "only Bắc Trà My above 90%"
    );

    // Quảng Nam since the demo start, by handling level.
    let mut by_level = Vec::new();
    for level in ["province", "district", "commune"] {
        let body = stats(
            &app,
            &format!("from=2020-10-01&to=2021-03-31&level=province&dossier_level={level}"),
        )
        .await;
        by_level.push(unit(&body, "49")["received"].as_u64().unwrap());
    }
    assert_eq!(by_level, vec![186_810, 460_388, 207_456]);
    let all = stats(&app, "from=2020-10-01&to=2021-03-31&level=province").await;
    assert_eq!(unit(&all, "49")["received"], 854_654);
    let earlier = stats(&app, "from=2017-10-01&to=2020-09-30&level=province").await;
    assert_eq!(
        unit(&earlier, "49")["received"],
        0,
        "the demo starts on 2020-10-01"
    );

    // Long An, Đức Hòa, 2022.
    let y2022 = stats(
        &app,
        "from=2022-01-01&to=2022-12-31&level=district&parent=80",
    )
    .await;
    let duc_hoa = unit(&y2022, "802");
    assert_eq!(duc_hoa["received"], 110_642);
    assert_eq!(duc_hoa["received_online"], 56_436);
    assert_eq!(percent(&duc_hoa["online_rate"]), "51.01");
    for (level, online) in [("district", 35_560), ("commune", 20_876)] {
        let body = stats(
            &app,
            &format!(
                "from=2022-01-01&to=2022-12-31&level=district&parent=80&dossier_level={level}"
            ),
        )
        .await;
        assert_eq!(unit(&body, "802")["received_online"], online, "{level}");
    }

    // Lào Cai city, Q1 2024.
    let lao_cai = stats(
        &app,
        "from=2024-01-01&to=2024-03-31&level=district&parent=10",
    )
    .await;
    let city = unit(&lao_cai, "080");
    assert_eq!(city["received"], 9_493);
    assert_eq!(city["received_online"], 9_070);
    assert_eq!(percent(&city["online_rate"]), "95.54");
    assert_eq!(city["received_with_fee"], 8_890);
    assert_eq!(city["paid_online"], 7_563);
    assert_eq!(
        format!(
            "{:.0}",
            city["online_payment_rate"].as_f64().unwrap() * 100.0
        ),
        "85"
    );

    // Land is the sector with the most late dossiers.
    let mut late_by_field = Vec::new();
    for field in [
        "Đất đai",
        "Hộ tịch",
        "Chứng thực",
        "Xây dựng",
        "Đăng ký kinh doanh",
    ] {
        let body = stats(
            &app,
            &format!(
                "from=2021-01-01&to=2021-03-31&level=province&field={}",
                urlencode(field)
            ),
        )
        .await;
        late_by_field.push((unit(&body, "49")["resolved_late"].as_u64().unwrap(), field));
    }
    late_by_field.sort();
    assert_eq!(
        late_by_field.last().unwrap().1,
        "Đất đai",
        "{late_by_field:?}"
    );
    // Procedures allow working days: no due date falls on a weekend or a holiday (Tết included).
    // Read through the late list, as a reader would, so both stores answer: Bắc Trà My's late
    // dossiers of the quarter, Tết 2021 among their due dates' weeks.
    let leader = crate::alerts::bearer(&app, server::auth::Role::Leader, Some("49"));
    let mut due_days: Vec<chrono::NaiveDate> = Vec::new();
    for page in 1..=20 {
        let uri = format!(
            "/api/v1/late?unit=515&from=2021-01-01&to=2021-03-31&page_size=500&page={page}"
        );
        let (status, body) = crate::alerts::call(&app, "GET", &uri, Some(&leader), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rows = body["rows"].as_array().unwrap();
        if rows.is_empty() {
            break;
        }
        due_days.extend(rows.iter().map(|r| {
            r["due"]
                .as_str()
                .unwrap()
                .parse::<chrono::NaiveDate>()
                .unwrap()
        }));
    }
    assert!(
        due_days.len() > 1_000,
        "{} late dossiers read",
        due_days.len()
    );
    let calendar = app.store.calendar();
    let off: Vec<_> = due_days
        .iter()
        .filter(|d| !calendar.is_working_day(**d))
        .collect();
    assert!(off.is_empty(), "due dates on days off: {off:?}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
