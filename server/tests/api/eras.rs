//! The two eras of units: the 2025 reform ended the district level and gave most communes new
//! codes. A test province goes through it: old district 991 with communes 99101 (goes whole into
//! new commune 99201), 99102 (split between 99201 and 99202) and 99103 (merged away before 2025,
//! so the conversion table does not name it); from 2025-07-01 province 99 (the same code) has
//! communes 99201 and 99202 directly under it.
use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};
use server::auth::accounts::AccountBook;
use server::auth::Role;

fn reformed_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    };
    let data = authored_data();
    copy(&data, dir.path());
    for sub in ["units", "tiles", "demo"] {
        copy(&data.join(sub), &dir.path().join(sub));
    }
    std::fs::write(
        dir.path().join("units/reform_test.csv"),
        "code,parent_code,level,unit_type,name,name_with_type,valid_from,valid_to\n\
         99,,province,tinh,Thử Nghiệm,Tỉnh Thử Nghiệm,2020-01-01,2025-06-30\n\
         991,99,district,huyen,Cũ,Huyện Cũ,2020-01-01,2025-06-30\n\
         99101,991,commune,xa,Một,Xã Một,2020-01-01,2025-06-30\n\
         99102,991,commune,xa,Hai,Xã Hai,2020-01-01,2025-06-30\n\
         99103,991,commune,xa,Ba,Xã Ba,2020-01-01,2025-06-30\n\
         99,,province,tinh,Thử Nghiệm,Tỉnh Thử Nghiệm,2025-07-01,\n\
         99201,99,commune,xa,Mới,Xã Mới,2025-07-01,\n\
         99202,99,commune,xa,Mới Hai,Xã Mới Hai,2025-07-01,\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("conversion")).unwrap();
    std::fs::write(
        dir.path().join("conversion/reform_test.csv"),
        "old_commune_code,old_district_code,old_province_code,new_commune_code,new_province_code,share,old_name_with_type,new_name_with_type,note\n\
         99101,991,99,99201,99,whole,Xã Một,Xã Mới,Nhập toàn bộ\n\
         99102,991,99,99201,99,part,Xã Hai,Xã Mới,Nhập một phần\n\
         99102,991,99,99202,99,part,Xã Hai,Xã Mới Hai,Nhập một phần\n",
    )
    .unwrap();
    dir
}

fn reception(id: &str, unit: &str, level: &str, day: &str) -> Value {
    json!({
        "event_id": format!("{id}r"), "dossier_id": id, "type": "received",
        "at": format!("{day}T09:00:00+07:00"), "unit": unit, "level": level,
        "procedure": "HT-01", "field": "Hộ tịch", "channel": "direct",
        "due": format!("{day}T17:00:00+07:00")
    })
}

async fn stats(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get(&format!("/api/v1/stats?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn codes(body: &Value) -> Vec<String> {
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_string())
        .collect()
}

fn unit<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("{code} is listed: {body}"))
}

/// Five dossiers in old communes in 2025's first half (one resolved after the reform), one
/// district dossier, and one in a new commune after the reform.
async fn reformed_app(data: &tempfile::TempDir) -> TestApp {
    let app = app_with_data(data.path());
    let (status, body) = app
        .post_ndjson(&[
            reception("a1", "99101", "commune", "2025-02-03"),
            reception("a2", "99101", "commune", "2025-05-05"),
            reception("b1", "99102", "commune", "2025-03-03"),
            reception("b2", "99102", "commune", "2025-03-04"),
            reception("b3", "99102", "commune", "2025-03-05"),
            reception("c1", "99103", "commune", "2025-04-01"),
            reception("d1", "991", "district", "2025-04-02"),
            reception("n1", "99201", "commune", "2025-08-04"),
            resolved("a1s", "a1", "2025-08-01T10:00:00+07:00"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app
}

#[tokio::test]
async fn a_period_before_the_reform_lists_the_units_of_its_time() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let before = "from=2025-01-01&to=2025-06-30";
    let body = stats(&app, &format!("{before}&level=district&parent=99")).await;
    assert_eq!(codes(&body), ["991"]);
    assert_eq!(body["era"], "before2025");
    let body = stats(&app, &format!("{before}&level=commune&parent=99")).await;
    assert_eq!(codes(&body), ["99101", "99102", "99103"]);
    // The district's own dossier counts for the province, not for a commune.
    assert_eq!(body["total"]["received"], 7);
    assert!(body["conversion"].is_null());
}

#[tokio::test]
async fn districts_after_the_reform_are_refused_with_the_date_they_ended() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let (status, body) = app
        .get("/api/v1/stats?from=2025-07-01&to=2025-09-30&level=district&parent=99")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "level");
    assert!(
        body["message"].as_str().unwrap().contains("2025-06-30"),
        "{body}"
    );
    let (status, body) = app
        .get("/api/v1/stats?from=2025-01-01&to=2025-12-31&level=commune&parent=99&units=historical")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "units");
}

#[tokio::test]
async fn a_period_after_the_reform_lists_todays_communes_under_the_province() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let body = stats(
        &app,
        "from=2025-07-01&to=2025-09-30&level=commune&parent=99",
    )
    .await;
    assert_eq!(codes(&body), ["99201", "99202"]);
    assert_eq!(body["era"], "from2025");
    assert_eq!(body["total"]["received"], 1);
    // Received before the reform, resolved after it: it counts for the commune it went into.
    assert_eq!(unit(&body, "99201")["resolved"], 1);
    assert_eq!(unit(&body, "99201")["received"], 1);
}

#[tokio::test]
async fn old_dossiers_count_for_todays_units_whole_split_or_not_converted() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let body = stats(
        &app,
        "from=2025-01-01&to=2025-06-30&level=commune&parent=99&units=current",
    )
    .await;
    assert_eq!(codes(&body), ["99201", "99202"]);
    // 99101 whole (2) + the first share of 99102's three (2); 99202 the second share (1).
    assert_eq!(unit(&body, "99201")["received"], 4);
    assert_eq!(unit(&body, "99201")["apportioned"], 2);
    assert_eq!(unit(&body, "99202")["received"], 1);
    assert_eq!(unit(&body, "99202")["apportioned"], 1);
    let note = &body["conversion"];
    assert_eq!(note["rule"], "equal_shares");
    assert_eq!(note["apportioned"], 3);
    assert_eq!(note["not_converted"][0]["code"], "99103");
    assert_eq!(note["not_converted"][0]["received"], 1);
    // The province converts wholly: every dossier, the district's included.
    assert_eq!(body["total"]["received"], 7);
    // A year across the reform is shown on today's units by default.
    let year = stats(
        &app,
        "from=2025-01-01&to=2025-12-31&level=commune&parent=99",
    )
    .await;
    assert_eq!(year["era"], "from2025");
    assert_eq!(unit(&year, "99201")["received"], 5);
    assert_eq!(year["total"]["received"], 8);
}

#[tokio::test]
async fn todays_units_plus_not_converted_hold_every_counter_of_the_historical_units() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    for period in [
        "from=2025-01-01&to=2025-06-30",
        "from=2025-03-01&to=2025-03-31",
    ] {
        let old = stats(&app, &format!("{period}&level=commune&parent=99")).await;
        let new = stats(
            &app,
            &format!("{period}&level=commune&parent=99&units=current"),
        )
        .await;
        for counter in [
            "received",
            "received_online",
            "received_with_fee",
            "paid_online",
            "resolved",
            "resolved_early",
            "resolved_on_time",
            "resolved_late",
            "pending",
            "pending_overdue",
        ] {
            let sum = |rows: &Value| -> u64 {
                rows.as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u[counter].as_u64().unwrap_or(0))
                    .sum()
            };
            assert_eq!(
                sum(&new["units"]) + sum(&new["conversion"]["not_converted"]),
                sum(&old["units"]),
                "{period} {counter}"
            );
            assert_eq!(new["total"][counter], old["total"][counter], "{counter}");
        }
    }
}

#[tokio::test]
async fn an_old_code_after_the_reform_is_refused_naming_its_successors() {
    let data = reformed_data();
    let app = app_with_data(data.path());
    let (status, body) = app
        .post_ndjson(&[reception("late-old", "99102", "commune", "2025-07-02")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["code"], "unit_not_in_force");
    assert_eq!(error["field"], "unit");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("99201") && message.contains("99202"),
        "{message}"
    );
    // A code of today before the reform is refused too; nothing of the request is stored.
    let (status, body) = app
        .post_ndjson(&[
            reception("early-new", "99202", "commune", "2025-06-30"),
            reception("fine", "99101", "commune", "2025-06-30"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["code"], "unit_not_in_force");
    let body = stats(&app, "from=2025-06-01&to=2025-06-30&level=province").await;
    assert_eq!(unit(&body, "99")["received"], 0);
}

#[tokio::test]
async fn the_trend_of_a_unit_of_today_reaches_back_before_the_reform() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let (status, body) = app
        .get("/api/v1/trend?unit=99201&from=2025-01-01&to=2025-12-31&bucket=month")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let received: u64 = body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["received"].as_u64().unwrap())
        .sum();
    assert_eq!(received, 5);
}

async fn late_total(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let req = axum::http::Request::get(format!("/api/v1/late?{query}"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.request(req).await
}

#[tokio::test]
async fn todays_leaders_and_chairs_read_the_late_dossiers_of_the_old_units_that_went_into_theirs() {
    let data = reformed_data();
    let app = reformed_app(&data).await;
    let book = AccountBook::at(app.dir.path());
    let token =
        |name: &str, role: Role, unit: &str| book.create_token(name, role, Some(unit)).unwrap().1;
    let leader_today = token("leader of today's 99", Role::Leader, "99@2025");
    let leader_old = token("leader of the old 99", Role::Leader, "99");
    let chair_today = token("chair of 99201", Role::Chair, "99201@2025");
    let chair_other = token("chair of 99202", Role::Chair, "99202@2025");
    let chair_old = token("chair of district 991", Role::Chair, "991");
    let year = "from=2025-01-01&to=2025-12-31";

    // Today's province: its own dossiers and every old one of the province that went into it.
    let (status, page) = late_total(&app, &leader_today, &format!("unit=99&{year}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 8, "{page}");
    assert_eq!(page["query"]["unit"], "99");
    // Today's commune: its own dossier, and those of the old communes merged (wholly or in part) into it.
    let (status, page) = late_total(&app, &chair_today, &format!("unit=99201&{year}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 6, "{page}");
    let codes: std::collections::BTreeSet<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["99101", "99102", "99201"].into_iter().collect());
    // Another commune's chair, and the leader of the old province (another unit), may not.
    let (status, _) = late_total(&app, &chair_other, &format!("unit=99201&{year}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = late_total(&app, &leader_old, &format!("unit=99&{year}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The old district's chair reads it in its time; after the reform it no longer exists.
    let (status, page) =
        late_total(&app, &chair_old, "unit=991&from=2025-01-01&to=2025-06-30").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 7, "{page}");
    let (status, _) = late_total(&app, &chair_old, &format!("unit=991&{year}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Today's leader also reads the old units of the province in their own time.
    let (status, page) = late_total(
        &app,
        &leader_today,
        "unit=991&from=2025-01-01&to=2025-06-30",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
}

#[tokio::test]
async fn the_new_da_nang_before_the_reform_is_old_quang_nam_plus_old_da_nang_exactly() {
    let app = app();
    // A commune of old Quảng Nam (Tam Kỳ) and one of old Đà Nẵng, in 2024.
    let (status, body) = app
        .post_ndjson(&[
            reception("qn-1", "20335", "commune", "2024-03-04"),
            reception("qn-2", "20335", "commune", "2024-03-05"),
            reception("dn-1", "20194", "commune", "2024-03-06"),
            reception("qn-p", "49", "province", "2024-03-07"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let quarter = "from=2024-01-01&to=2024-03-31";
    let old = stats(&app, &format!("{quarter}&level=province")).await;
    let new = stats(&app, &format!("{quarter}&level=province&units=current")).await;
    assert_eq!(new["era"], "from2025");
    assert_eq!(codes(&new).len(), 34, "today's 34 provinces");
    let sum = unit(&old, "49")["received"].as_u64().unwrap()
        + unit(&old, "48")["received"].as_u64().unwrap();
    assert_eq!(sum, 4);
    assert_eq!(unit(&new, "48")["received"].as_u64().unwrap(), sum);
    // Today's Đà Nẵng lists its 94 communes, after the reform and, converted, before it.
    let after = stats(
        &app,
        "from=2026-01-01&to=2026-06-30&level=commune&parent=48",
    )
    .await;
    assert_eq!(codes(&after).len(), 94);
    let before = stats(
        &app,
        &format!("{quarter}&level=commune&parent=48&units=current"),
    )
    .await;
    assert_eq!(codes(&before).len(), 94);
    assert_eq!(before["total"]["received"], 4);
}
