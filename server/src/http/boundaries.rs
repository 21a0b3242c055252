//! `GET /api/v1/boundaries`: the layer in force on a date, simplified, as GeoJSON.
use super::error::{ApiError, ErrorBody};
use super::stats::{date, non_empty, parsed, reject_unknown};
use super::AppState;
use app::model::Level;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The parameters `/api/v1/boundaries` reads, as the OpenAPI document lists them.
pub(crate) const KNOWN: [&str; 4] = ["level", "parent", "date", "detail"];

/// The two parameters every layer request needs: which level, under which unit.
fn level_and_parent(params: &HashMap<String, String>) -> Result<(Level, String), ApiError> {
    let level = parsed::<Level>(params, "level")?.ok_or_else(|| {
        ApiError::bad_request(
            "level",
            "'level' is required (province, district or commune)",
        )
    })?;
    let parent = non_empty(params, "parent")?.ok_or_else(|| {
        ApiError::bad_request(
            "parent",
            "'parent' is required: the code of the unit above (VN for the provinces)",
        )
    })?;
    Ok((level, parent))
}

/// The boundary layer in force on a date, simplified, as GeoJSON
#[utoipa::path(
    get,
    path = "/api/v1/boundaries",
    tag = "map",
    params(
        ("level" = inline(Level), Query, description = "The level of the units drawn"),
        ("parent" = String, Query, description = "Code of the unit above (VN for the provinces), in the era of `date`"),
        ("date" = Option<String>, Query, description = "Day the layer must be in force (default today)", format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("detail" = Option<u8>, Query, description = "Level of detail: 0 finest (~20 m), 1 (~100 m, default), 2 coarsest (~400 m)", minimum = 0, maximum = 2)
    ),
    responses(
        (status = 200, description = "A FeatureCollection (`application/geo+json`); each feature has \
            `code`, `name` and `label` [lon, lat]. Also `valid_from`, `valid_to`, `source`, `credit` \
            (the credit line of the shipped shapes, null for an imported file), `detail`, and \
            `not_on_map`: units without a feature"),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody),
        (status = 404, description = "No boundary set is in force for that level, parent and date", body = ErrorBody)
    )
)]
pub async fn get_boundaries(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(&params, &KNOWN)?;
    let (level, parent) = level_and_parent(&params)?;
    let date = match params.get("date") {
        Some(_) => date(&params, "date")?,
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
    // The units of a layer are those in force on its date: the parent is a code of that era.
    let era = app::era::Era::on(date);
    if !era.has_level(level) {
        return Err(ApiError::bad_request(
            "level",
            format!(
                "districts ended on {}: on {date} communes sit directly under their province (level=commune)",
                app::era::LAST_DISTRICT_DAY
            ),
        ));
    }
    let parent = if parent == app::views::COUNTRY {
        parent
    } else {
        era.key(&parent).ok_or_else(|| {
            ApiError::bad_request("parent", "'parent' is a unit code (digits) or VN")
        })?
    };
    let store = state.store.clone();
    let (layer, units) = tokio::task::spawn_blocking(move || {
        // An unknown parent draws nothing, and costs no layer.
        if parent != app::views::COUNTRY && store.unit_place(&parent)?.is_none() {
            return Ok((None, Vec::new()));
        }
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
        let code = app::era::code_of(&f.code);
        let properties = json!({"code": code, "name": f.name, "label": [f.label.0, f.label.1]});
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
        .map(|u| json!({"code": app::era::code_of(&u.code), "name": u.name_with_type}))
        .collect();
    // The shipped shapes carry their licence's credit line; an imported file's is its owner's.
    let credit = crate::boundaries::shipped::credit_of(&layer.source);
    let _ = write!(
        body,
        r#"],"valid_from":{},"valid_to":{},"source":{},"credit":{},"detail":{detail},"not_on_map":{}}}"#,
        json!(layer.valid_from),
        json!(layer.valid_to),
        json!(layer.source),
        json!(credit),
        json!(not_on_map)
    );
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// `GET /api/v1/tiles?level=..&parent=..`: the authored tile map (one hexagon per unit).
pub async fn get_tiles(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    reject_unknown(&params, &["level", "parent"])?;
    let (level, parent) = level_and_parent(&params)?;
    let store = state.store.clone();
    let tiles = tokio::task::spawn_blocking(move || store.tiles(level, &parent)).await??;
    Ok(axum::Json(json!({ "layout": "odd-r", "tiles": tiles })))
}
