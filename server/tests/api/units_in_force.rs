//! Unit sets with validity ranges: the 2025 reform removed the district level, so which units a
//! period lists depends on its end date, while dossiers handled before keep counting.
use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// The project's data plus a small province that goes through the reform: district 991 and
/// its commune 99101 end on 2025-06-30; commune 99201 hangs directly under the province from
/// 2025-07-01.
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
         99,,province,tinh,Thử Nghiệm,Tỉnh Thử Nghiệm,2020-01-01,\n\
         991,99,district,huyen,Cũ,Huyện Cũ,2020-01-01,2025-06-30\n\
         99101,991,commune,xa,Một,Xã Một,2020-01-01,2025-06-30\n\
         99201,99,commune,xa,Mới,Xã Mới,2025-07-01,\n",
    )
    .unwrap();
    dir
}

fn reception(id: &str, unit: &str, day: &str) -> Value {
    json!({
        "event_id": format!("{id}r"), "dossier_id": id, "type": "received",
        "at": format!("{day}T09:00:00+07:00"), "unit": unit, "level": "commune",
        "procedure": "HT-01", "field": "Hộ tịch", "channel": "direct",
        "due": format!("{day}T17:00:00+07:00")
    })
}

async fn listed(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let (status, body) = app.get(&format!("/api/v1/stats?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_string())
        .collect();
    (codes, body["total"].clone())
}

#[tokio::test]
async fn the_units_listed_are_those_in_force_at_the_period_end() {
    let data = reformed_data();
    let app = app_with_data(data.path());
    let (status, body) = app
        .post_ndjson(&[
            reception("old-1", "99101", "2025-02-03"),
            reception("old-2", "99101", "2025-05-05"),
            reception("new-1", "99201", "2025-08-04"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let before = "from=2025-01-01&to=2025-06-30";
    let after = "from=2025-07-01&to=2025-09-30";
    let (districts, _) = listed(&app, &format!("{before}&level=district&parent=99")).await;
    assert_eq!(districts, ["991"]);
    let (districts, _) = listed(&app, &format!("{after}&level=district&parent=99")).await;
    assert!(
        districts.is_empty(),
        "no district level after the reform: {districts:?}"
    );

    let (communes, total) = listed(&app, &format!("{before}&level=commune&parent=99")).await;
    assert_eq!(communes, ["99101"]);
    assert_eq!(total["received"], 2);
    let (communes, total) = listed(&app, &format!("{after}&level=commune&parent=99")).await;
    assert_eq!(communes, ["99201"]);
    assert_eq!(total["received"], 1);

    // A year across the reform: the province counts every dossier, whichever set handled it.
    let (_, total) = listed(
        &app,
        "from=2025-01-01&to=2025-12-31&level=commune&parent=99",
    )
    .await;
    assert_eq!(total["received"], 3);
}
