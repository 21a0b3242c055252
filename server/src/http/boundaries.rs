//! `GET /api/v1/boundaries`: the layer in force on a date, simplified, as GeoJSON.
use super::{error::ApiError, AppState};
use app::model::Level;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write as _;

const KNOWN: [&str; 4] = ["level", "parent", "date", "detail"];

pub async fn get_boundaries(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            unknown.as_str(),
            format!("unknown parameter '{unknown}'; known: {}", KNOWN.join(", ")),
        ));
    }
    let level: Level = params
        .get("level")
        .ok_or_else(|| {
            ApiError::bad_request(
                "level",
                "'level' is required (province, district or commune)",
            )
        })?
        .parse()
        .map_err(|m: String| ApiError::bad_request("level", m))?;
    let parent = params
        .get("parent")
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("parent", "'parent' is required: the code of the unit above")
        })?
        .clone();
    let date = match params.get("date") {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request("date", format!("'{d}' is not a date like 2021-03-31"))
        })?,
        None => chrono::Utc::now().date_naive(),
    };
    let detail: u8 = match params.get("detail") {
        Some(d) => d
            .parse()
            .ok()
            .filter(|d: &u8| usize::from(*d) < crate::boundaries::import::DETAIL_TOLERANCES.len())
            .ok_or_else(|| {
                ApiError::bad_request("detail", "'detail' is 0 (finest), 1 or 2 (coarsest)")
            })?,
        None => 1,
    };
    let store = state.store.clone();
    let (layer, units) = tokio::task::spawn_blocking(move || {
        let layer = store.boundaries(level, &parent, date, detail)?;
        let units = store.unit_names(level, &parent, date)?;
        Ok::<_, crate::store::StoreFailure>((layer, units))
    })
    .await??;
    let Some(layer) = layer else {
        return Err(ApiError::NotFound(format!(
            "no {level} boundaries under this parent are in force on {date}; import some with `server boundaries import` (the dashboard shows its tile map meanwhile)"
        )));
    };
    // The geometries are stored as GeoJSON text: splice them in rather than parse and re-encode.
    let mut body =
        String::with_capacity(layer.features.iter().map(|f| f.geometry.len() + 128).sum());
    body.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, f) in layer.features.iter().enumerate() {
        let properties = json!({"code": f.code, "name": f.name, "label": [f.label.0, f.label.1]});
        let _ = write!(
            body,
            r#"{}{{"type":"Feature","properties":{properties},"geometry":{}}}"#,
            if i == 0 { "" } else { "," },
            f.geometry
        );
    }
    let on_map: std::collections::HashSet<&str> =
        layer.features.iter().map(|f| f.code.as_str()).collect();
    let not_on_map: Vec<_> = units
        .iter()
        .filter(|u| !on_map.contains(u.code.as_str()))
        .map(|u| json!({"code": u.code, "name": u.name_with_type}))
        .collect();
    let _ = write!(
        body,
        r#"],"valid_from":{},"valid_to":{},"source":{},"detail":{detail},"not_on_map":{}}}"#,
        json!(layer.valid_from),
        json!(layer.valid_to),
        json!(layer.source),
        json!(not_on_map)
    );
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// `GET /api/v1/tiles?level=..&parent=..`: the authored tile map (one hexagon per unit).
pub async fn get_tiles(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if let Some(unknown) = params
        .keys()
        .find(|k| !["level", "parent"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(
            unknown.as_str(),
            format!("unknown parameter '{unknown}'; known: level, parent"),
        ));
    }
    let level: Level = params
        .get("level")
        .ok_or_else(|| {
            ApiError::bad_request(
                "level",
                "'level' is required (province, district or commune)",
            )
        })?
        .parse()
        .map_err(|m: String| ApiError::bad_request("level", m))?;
    let parent = params.get("parent").cloned().ok_or_else(|| {
        ApiError::bad_request("parent", "'parent' is required (VN for the provinces)")
    })?;
    let store = state.store.clone();
    let tiles = tokio::task::spawn_blocking(move || store.tiles(level, &parent)).await??;
    Ok(axum::Json(json!({ "layout": "odd-r", "tiles": tiles })))
}
