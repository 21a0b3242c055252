//! `GET /api/v1/stats` and `GET /api/v1/trend`: figures per unit, or per bucket of time for one unit.
use super::error::{ApiError, ErrorBody};
use super::AppState;
use app::era::UnitsView;
use app::model::{
    Bucket, Channel, Level, Period, StatsQuery, StatsResponse, TrendQuery, TrendResponse,
};
use axum::extract::{Query, State};
use axum::Json;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The parameters `/api/v1/stats` (and the stream) read; the OpenAPI document lists the same
/// ones (a test holds the two equal).
pub(crate) const KNOWN: [&str; 8] = [
    "units",
    "from",
    "to",
    "level",
    "parent",
    "field",
    "channel",
    "dossier_level",
];

/// Every date of a query string enters here: exactly `YYYY-MM-DD` in the served years
/// ([`app::iso::check_date`]); chrono's `%Y` would take `+262142`.
pub(super) fn date(params: &HashMap<String, String>, name: &str) -> Result<NaiveDate, ApiError> {
    let value = params
        .get(name)
        .ok_or_else(|| ApiError::bad_request(name, format!("'{name}' is required (YYYY-MM-DD)")))?;
    app::iso::check_date(value).map_err(|m| ApiError::bad_request(name, format!("{name}: {m}")))
}

/// A period from two checked dates, through the one gate every period goes through
/// ([`Period::new`]): the error names the date at fault.
pub(super) fn period(params: &HashMap<String, String>) -> Result<Period, ApiError> {
    checked_period(date(params, "from")?, date(params, "to")?)
}

/// [`Period::new`] as an API error naming the date at fault.
pub(super) fn checked_period(from: NaiveDate, to: NaiveDate) -> Result<Period, ApiError> {
    Period::new(from, to).map_err(|m| {
        let field = if m.starts_with("to:") { "to" } else { "from" };
        ApiError::bad_request(field, m)
    })
}

pub(super) fn parsed<T: std::str::FromStr<Err = String>>(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    params
        .get(name)
        .map(|v| v.parse::<T>().map_err(|m| ApiError::bad_request(name, m)))
        .transpose()
}

pub(super) fn reject_unknown(
    params: &HashMap<String, String>,
    known: &[&str],
) -> Result<(), ApiError> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::bad_request(
            unknown.as_str(),
            format!("unknown parameter '{unknown}'; known: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

pub(super) fn non_empty(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match params.get(name) {
        Some(v) if v.trim().is_empty() => {
            Err(ApiError::bad_request(name, format!("'{name}' is empty")))
        }
        other => Ok(other.cloned()),
    }
}

pub fn parse_query(params: &HashMap<String, String>) -> Result<StatsQuery, ApiError> {
    reject_unknown(params, &KNOWN)?;
    let period = period(params)?;
    let level = parsed::<Level>(params, "level")?.ok_or_else(|| {
        ApiError::bad_request(
            "level",
            "'level' is required: province, district or commune",
        )
    })?;
    Ok(StatsQuery {
        period,
        level,
        parent: non_empty(params, "parent")?,
        field: non_empty(params, "field")?,
        channel: parsed::<Channel>(params, "channel")?,
        dossier_level: parsed::<Level>(params, "dossier_level")?,
        units: parsed::<UnitsView>(params, "units")?.unwrap_or_default(),
    })
}

/// Figures per unit for a period
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "figures",
    description = "Lists the units of `level` in force at `to` (children or descendants of \
        `parent` when given); on today's units (`units=current`), those in force from 2025-07-01, \
        with no district level (`level=district` answers 400). A unit's figures cover the dossiers \
        handled by the unit itself and by every unit under it. `total` is the parent's figures \
        (its own dossiers included) when `parent` is given, otherwise the sum of the listed units.",
    params(
        ("from" = String, Query, description = super::openapi::dated("First day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("to" = String, Query, description = super::openapi::dated("Last day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("level" = inline(Level), Query, description = "The level of the units listed"),
        ("parent" = Option<String>, Query, description = "List only units under this unit code"),
        ("field" = Option<String>, Query, description = "Keep only dossiers of this sector, e.g. Đất đai"),
        ("channel" = inline(Option<Channel>), Query, description = "Keep only dossiers received through this channel"),
        ("dossier_level" = inline(Option<Level>), Query, description = "Keep only dossiers handled at this administrative level"),
        ("units" = inline(Option<UnitsView>), Query, description = super::openapi::UNITS)
    ),
    responses(
        (status = 200, description = "Figures", body = StatsResponse),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody)
    )
)]
pub async fn get_stats(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<StatsResponse>, ApiError> {
    let query = parse_query(&params)?;
    let store = state.store.clone();
    let answer = tokio::task::spawn_blocking(move || store.stats(&query)).await?;
    Ok(Json(answer?))
}

/// The parameters `/api/v1/trend` reads, as the OpenAPI document lists them.
pub(crate) const TREND_KNOWN: [&str; 8] = [
    "units",
    "unit",
    "from",
    "to",
    "bucket",
    "field",
    "channel",
    "dossier_level",
];

pub fn parse_trend(params: &HashMap<String, String>) -> Result<TrendQuery, ApiError> {
    reject_unknown(params, &TREND_KNOWN)?;
    let unit = non_empty(params, "unit")?
        .ok_or_else(|| ApiError::bad_request("unit", "'unit' is required (a unit code)"))?;
    let period = period(params)?;
    Ok(TrendQuery {
        unit,
        period,
        bucket: parsed::<Bucket>(params, "bucket")?.unwrap_or(Bucket::Month),
        field: non_empty(params, "field")?,
        channel: parsed::<Channel>(params, "channel")?,
        dossier_level: parsed::<Level>(params, "dossier_level")?,
        units: parsed::<UnitsView>(params, "units")?.unwrap_or_default(),
    })
}

/// A unit's figures per week or month
#[utoipa::path(
    get,
    path = "/api/v1/trend",
    tag = "figures",
    params(
        ("unit" = String, Query, description = "The unit's code"),
        ("from" = String, Query, description = super::openapi::dated("First day"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("to" = String, Query, description = super::openapi::dated("Last day"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("bucket" = inline(Option<Bucket>), Query, description = "Bucket size (default month); weeks run Monday to Sunday, buckets are clipped to the period"),
        ("field" = Option<String>, Query, description = "Sector filter"),
        ("channel" = inline(Option<Channel>), Query, description = "Channel filter"),
        ("dossier_level" = inline(Option<Level>), Query, description = "Handling level filter"),
        ("units" = inline(Option<UnitsView>), Query, description = super::openapi::UNITS)
    ),
    responses(
        (status = 200, description = "One point per bucket: its from/to and the Figures fields", body = TrendResponse),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody)
    )
)]
pub async fn get_trend(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<TrendResponse>, ApiError> {
    let query = parse_trend(&params)?;
    let store = state.store.clone();
    let answer = tokio::task::spawn_blocking(move || store.trend(&query)).await?;
    Ok(Json(answer?))
}

/// Procedure codes used by received dossiers but missing from the catalogue
///
/// So that an operator can add them. Aggregated: no dossier is named.
#[utoipa::path(
    get,
    path = "/api/v1/procedures/uncatalogued",
    tag = "figures",
    responses(
        (status = 200, description = "`{\"procedures\": [{procedure, field, dossiers, first_received, last_received}]}`, most used first")
    )
)]
pub async fn get_uncatalogued(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let procedures = tokio::task::spawn_blocking(move || store.uncatalogued_procedures()).await??;
    Ok(Json(serde_json::json!({ "procedures": procedures })))
}
