//! `GET /api/v1/stats` and `GET /api/v1/trend`: figures per unit, or per bucket of time for one unit.
use super::{error::ApiError, AppState};
use app::era::UnitsView;
use app::model::{
    Bucket, Channel, Level, Period, StatsQuery, StatsResponse, TrendQuery, TrendResponse,
};
use axum::extract::{Query, State};
use axum::Json;
use chrono::NaiveDate;
use std::collections::HashMap;

const KNOWN: [&str; 8] = [
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

pub async fn get_stats(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<StatsResponse>, ApiError> {
    let query = parse_query(&params)?;
    let store = state.store.clone();
    let answer = tokio::task::spawn_blocking(move || store.stats(&query)).await?;
    Ok(Json(answer?))
}

const TREND_KNOWN: [&str; 8] = [
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

pub async fn get_trend(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<TrendResponse>, ApiError> {
    let query = parse_trend(&params)?;
    let store = state.store.clone();
    let answer = tokio::task::spawn_blocking(move || store.trend(&query)).await?;
    Ok(Json(answer?))
}

/// `GET /api/v1/procedures/uncatalogued`: procedure codes received in events but missing from the
/// catalogue, so an operator can add them. Aggregated: no dossier is named.
pub async fn get_uncatalogued(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let procedures = tokio::task::spawn_blocking(move || store.uncatalogued_procedures()).await??;
    Ok(Json(serde_json::json!({ "procedures": procedures })))
}
