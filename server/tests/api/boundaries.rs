//! Boundary import on the real Long An and Lào Cai district files, and the layer served by the API.

use crate::common::*;
use axum::http::StatusCode;
use server::boundaries::import::{import, ImportOptions, ImportReport, Pairing};
use server::boundaries::names::MatchKind;
use std::path::PathBuf;

/// A boundary file of the test data beside the clone (`../shared/data/boundaries`): the project
/// may not ship these, so a user's clone does not have them. Absent, the test says it is
/// skipped and why; in CI (`CI=true`), where the data is laid beside the clone, it fails.
fn shared(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/boundaries")
        .join(file);
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "{} is absent: these tests read test data outside the repository (../shared/data, which CI lays beside the clone)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    // Straight to the terminal: the test harness captures `eprintln!` of a passing test, and
    // a skip must be seen.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
    None
}

fn options(parent: &str, name_property: Option<&str>) -> ImportOptions {
    ImportOptions {
        level: "district".parse().unwrap(),
        parent: parent.into(),
        code_property: None,
        name_property: name_property.map(String::from),
        valid_from: "2020-01-01".parse().unwrap(),
        valid_to: None,
        mapping: None,
        object: None,
    }
}

fn paired(report: &ImportReport, kind: MatchKind) -> Vec<(String, String)> {
    let mut v: Vec<_> = report
        .matched
        .iter()
        .filter(|m| m.pairing == Pairing::Name(kind))
        .map(|m| (m.feature_name.clone(), m.code.clone()))
        .collect();
    v.sort();
    v
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

fn check_long_an(report: &ImportReport) {
    assert_eq!(report.features, 14);
    assert_eq!(report.matched.len(), 14);
    assert!(
        report.unmatched_features.is_empty(),
        "{:?}",
        report.unmatched_features
    );
    // The file predates Kiến Tường (2013): listed, not dropped.
    assert_eq!(
        report.units_without_feature,
        [("795".to_string(), "Thị xã Kiến Tường".to_string())]
    );
    assert_eq!(
        paired(report, MatchKind::Fuzzy),
        pairs(&[
            ("Cần Ðuớc", "806"),
            ("Tân Hung", "796"),
            ("Tân Thành", "799"),
            ("Thanh Hóa", "800")
        ])
    );
    assert_eq!(
        paired(report, MatchKind::Normalised),
        pairs(&[("Ðức Hòa", "802"), ("Ðức Huệ", "801"), ("Vinh Hung", "797")])
    );
}

#[tokio::test]
async fn long_an_geojson_and_topojson_match_every_district_or_list_it() {
    let (Some(geojson_file), Some(topojson_file)) = (
        shared("long_an_districts.geojson"),
        shared("long_an_districts.topojson"),
    ) else {
        return;
    };
    let app = app();
    let geojson = import(
        &app.store,
        &geojson_file,
        &options("80", Some("NAME_3")),
        &mut |_| {},
    )
    .unwrap();
    check_long_an(&geojson);
    // TopoJSON: the name property (name_vi) is found without being named.
    let topojson = import(
        &app.store,
        &topojson_file,
        &options("80", None),
        &mut |_| {},
    )
    .unwrap();
    check_long_an(&topojson);
    assert!(topojson.refused.is_empty(), "{:?}", topojson.refused);

    let (status, body) = app
        .get("/api/v1/boundaries?level=district&parent=80&date=2022-06-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let features = body["features"].as_array().unwrap();
    assert_eq!(features.len(), 14);
    let duc_hoa = features
        .iter()
        .find(|f| f["properties"]["code"] == "802")
        .unwrap();
    assert_eq!(duc_hoa["properties"]["name"], "Huyện Đức Hòa");
    assert_eq!(duc_hoa["geometry"]["type"], "MultiPolygon");
    let label = duc_hoa["properties"]["label"].as_array().unwrap();
    assert!((106.0..107.0).contains(&label[0].as_f64().unwrap()));
    assert_eq!(
        body["not_on_map"],
        serde_json::json!([{"code": "795", "name": "Thị xã Kiến Tường"}])
    );
    assert_eq!(body["source"], "long_an_districts.topojson");

    // Coarser detail is smaller; a date before the set is in force finds none.
    let (_, fine) = app
        .get("/api/v1/boundaries?level=district&parent=80&date=2022-06-30&detail=0")
        .await;
    let (_, coarse) = app
        .get("/api/v1/boundaries?level=district&parent=80&date=2022-06-30&detail=2")
        .await;
    assert!(coarse.to_string().len() < fine.to_string().len());
    let (status, body) = app
        .get("/api/v1/boundaries?level=district&parent=80&date=2019-12-31")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app
        .get("/api/v1/boundaries?level=district&parent=80&detail=7")
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("detail"))
    );
}

#[tokio::test]
async fn lao_cai_variant_spellings_are_reported_as_fuzzy() {
    let app = app();
    for file in ["lao_cai_districts.geojson", "lao_cai_districts.topojson"] {
        // (Absent test data: the first file skips the test.)
        let name = if file.ends_with("geojson") {
            Some("NAME_3")
        } else {
            None
        };
        let Some(path) = shared(file) else { return };
        let report = import(&app.store, &path, &options("10", name), &mut |_| {}).unwrap();
        assert_eq!(report.matched.len(), 9, "{file}");
        assert!(
            report.units_without_feature.is_empty(),
            "{file}: {:?}",
            report.units_without_feature
        );
        assert_eq!(
            paired(&report, MatchKind::Fuzzy),
            pairs(&[("Muờng Khuong", "083"), ("Van Bàn", "089")]),
            "{file}"
        );
    }
}

#[tokio::test]
async fn an_ambiguous_name_is_refused_with_a_mapping_example_and_a_mapping_resolves_it() {
    let app = app();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.geojson");
    // Two features both spelled like Tân Hưng: which is which cannot be guessed.
    let square = |x: f64| {
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{x},10.5],[{},10.5],[{},10.6],[{x},10.6],[{x},10.5]]]}}"#,
            x + 0.1,
            x + 0.1
        )
    };
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[
              {{"type":"Feature","properties":{{"name":"Tân Hưng"}},"geometry":{}}},
              {{"type":"Feature","properties":{{"name":"Tan Hung"}},"geometry":{}}}]}}"#,
            square(105.5),
            square(105.7)
        ),
    )
    .unwrap();
    let error = import(&app.store, &file, &options("80", None), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(error.contains("all fit unit 796"), "{error}");
    assert!(error.contains("feature,code"), "{error}");
    let (status, _) = app
        .get("/api/v1/boundaries?level=district&parent=80&date=2022-06-30")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");

    let mapping = dir.path().join("mapping.csv");
    std::fs::write(&mapping, "feature,code\nTan Hung,797\n").unwrap();
    let mut with_mapping = options("80", None);
    with_mapping.mapping = Some(mapping);
    let report = import(&app.store, &file, &with_mapping, &mut |_| {}).unwrap();
    assert_eq!(report.count(Pairing::Mapping), 1);
    assert_eq!(report.count(Pairing::Name(MatchKind::Exact)), 1);
}

#[tokio::test]
async fn a_projected_file_is_refused_with_a_clear_error() {
    let app = app();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("utm.geojson");
    std::fs::write(
        &file,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Tân Hưng"},
           "geometry":{"type":"Polygon","coordinates":[[[580000,1190000],[590000,1190000],[590000,1200000],[580000,1190000]]]}}]}"#,
    )
    .unwrap();
    let error = import(&app.store, &file, &options("80", None), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("not a longitude/latitude") && error.contains("EPSG:4326"),
        "{error}"
    );
}

#[tokio::test]
async fn every_district_has_an_authored_tile() {
    let app = app();
    for (province, districts) in [("49", 18), ("80", 15), ("10", 9)] {
        let (status, body) = app
            .get(&format!("/api/v1/tiles?level=district&parent={province}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let tiles = body["tiles"].as_array().unwrap();
        assert_eq!(tiles.len(), districts, "{province}");
        let mut cells: Vec<(i64, i64)> = tiles
            .iter()
            .map(|t| (t["col"].as_i64().unwrap(), t["row"].as_i64().unwrap()))
            .collect();
        cells.sort();
        cells.dedup();
        assert_eq!(cells.len(), districts, "{province}: two units on one tile");
    }
}

/// The dashboard's server function, as the browser calls it.
async fn dashboard(app: &TestApp, request: serde_json::Value) -> serde_json::Value {
    let (status, body) = app
        .request(
            axum::http::Request::post("/api/fn/dashboard")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    serde_json::json!({ "request": request }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn with_boundaries_imported_the_map_switches_between_geographic_and_tiles() {
    let Some(long_an) = shared("long_an_districts.geojson") else {
        return;
    };
    let app = app();
    let period = serde_json::json!({"from": "2022-01-01", "to": "2022-03-31"});
    let before = dashboard(
        &app,
        serde_json::json!({"unit": "80", "from": period["from"], "to": period["to"]}),
    )
    .await;
    assert_eq!(before["map"]["geographic"], false);
    assert_eq!(before["map"]["geographic_available"], false);

    import(&app.store, &long_an, &options("80", None), &mut |_| {}).unwrap();
    let request = |map: Option<&str>| {
        let mut r = serde_json::json!({"unit": "80", "from": period["from"], "to": period["to"]});
        if let Some(map) = map {
            r["map"] = serde_json::json!(map);
        }
        r
    };
    let geographic = dashboard(&app, request(None)).await;
    assert_eq!(geographic["map"]["geographic"], true);
    assert_eq!(geographic["map"]["geographic_available"], true);
    let outlines = geographic["map"]["units"].as_array().unwrap();
    assert_eq!(outlines.len(), 14);
    // Pages carry each unit already projected, as SVG path data: an outline steps from point to
    // point of its boundary (relative `l`), a tile is a hexagon of six absolute corners (`L`).
    let path = |u: &serde_json::Value| u["path"].as_str().unwrap_or_default().to_string();
    assert!(outlines
        .iter()
        .all(|u| path(u).starts_with('M') && path(u).contains('l')));
    // Kiến Tường has no feature in the file: beside the map, not dropped.
    assert_eq!(geographic["map"]["not_on_map"][0]["code"], "795");

    let tiles = dashboard(&app, request(Some("tiles"))).await;
    assert_eq!(tiles["map"]["geographic"], false);
    assert_eq!(tiles["map"]["geographic_available"], true);
    let hexagons = tiles["map"]["units"].as_array().unwrap();
    assert_eq!(
        hexagons.len(),
        15,
        "every district has a tile, Kiến Tường included"
    );
    assert!(hexagons
        .iter()
        .all(|u| path(u).matches('L').count() == 5 && !path(u).contains('l')));

    // The breadcrumb trail and the listed level follow the unit shown.
    assert_eq!(tiles["level"], "district");
    assert_eq!(tiles["trail"][0]["code"], "80");
    let district = dashboard(
        &app,
        serde_json::json!({"unit": "802", "from": period["from"], "to": period["to"]}),
    )
    .await;
    assert_eq!(district["level"], "commune");
    let trail: Vec<&str> = district["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(trail, ["80", "802"]);
    let national = dashboard(
        &app,
        serde_json::json!({"unit": "VN", "from": period["from"], "to": period["to"]}),
    )
    .await;
    assert_eq!(national["level"], "province");
    assert_eq!(national["trail"].as_array().unwrap().len(), 0);
    // The whole country's 63 provinces of the time (three of them with authored tiles).
    assert_eq!(national["map"]["units"].as_array().unwrap().len(), 63);
}

#[tokio::test]
async fn todays_provinces_and_communes_are_drawn_from_the_shipped_boundaries_with_no_import() {
    let app = app();
    let (status, provinces) = app
        .get("/api/v1/boundaries?level=province&parent=VN&date=2026-06-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{provinces}");
    assert_eq!(provinces["features"].as_array().unwrap().len(), 34);
    assert!(provinces["credit"]
        .as_str()
        .unwrap()
        .contains("thanglequoc/vietnamese-provinces-database"));
    let (status, communes) = app
        .get("/api/v1/boundaries?level=commune&parent=48&date=2026-06-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{communes}");
    let features = communes["features"].as_array().unwrap();
    assert_eq!(features.len(), 94, "the new Đà Nẵng's communes");
    assert!(features.iter().any(|f| f["properties"]["code"] == "20341"));
    assert_eq!(communes["not_on_map"].as_array().unwrap().len(), 0);
    let (status, body) = app
        .get("/api/v1/boundaries?level=district&parent=48&date=2026-06-30")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "level");

    // The dashboard's map of a province of today: its communes, on real geography.
    let view = dashboard(
        &app,
        serde_json::json!({"unit": "48", "from": "2026-01-01", "to": "2026-06-30"}),
    )
    .await;
    assert_eq!(view["level"], "commune");
    assert_eq!(view["map"]["geographic"], true);
    assert_eq!(view["map"]["units"].as_array().unwrap().len(), 94);
    assert_eq!(view["current"]["units"].as_array().unwrap().len(), 94);
}

#[tokio::test]
async fn requests_store_the_shipped_layers_once_and_never_over_an_imported_one() {
    let app = app();
    // A parent with no units: nothing to draw, and no layer parsed and stored for it.
    let (status, body) = app
        .get("/api/v1/boundaries?level=commune&parent=99999999&date=2026-06-30")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // An administrator imports today's communes of Đà Nẵng in force from 2025-10-01.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("da-nang-communes.topojson");
    std::fs::copy(
        authored_data().join("boundaries/communes_2025.topojson"),
        &own,
    )
    .unwrap();
    let mut admin = options("48", None);
    admin.level = "commune".parse().unwrap();
    admin.code_property = Some("code".into());
    admin.valid_from = "2025-10-01".parse().unwrap();
    import(&app.store, &own, &admin, &mut |_| {}).unwrap();
    // A view of an earlier date stores the shipped layer (the admin's is not in force then)…
    let (status, early) = app
        .get("/api/v1/boundaries?level=commune&parent=48&date=2025-08-01")
        .await;
    assert_eq!(status, StatusCode::OK, "{early}");
    assert_eq!(early["source"], "communes_2025.topojson");
    // …which never hides the administrator's layer where it is in force.
    let (status, later) = app
        .get("/api/v1/boundaries?level=commune&parent=48&date=2026-06-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(later["source"], "da-nang-communes.topojson");
    assert!(
        later["credit"].is_null(),
        "an imported file's credit is its owner's"
    );
    // Other provinces' communes come from the one shipped national set, stored once.
    for parent in ["01", "79", "15"] {
        let (status, _) = app
            .get(&format!(
                "/api/v1/boundaries?level=commune&parent={parent}&date=2026-06-30"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let shipped: i64 = app
        .store
        .with_reader(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM boundary_sets WHERE source = 'communes_2025.topojson'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(shipped, 1);
}
