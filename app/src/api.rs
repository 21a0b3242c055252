//! Server functions of the dashboard. Each is a public endpoint and checks its own input.
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::StatsQuery;
use crate::model::{
    Channel, IndicatorRow, Level, MapKind, MapLayer, Period, PlacedUnit, StatsResponse, UnitRef,
};
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dashboard asks for; every field optional, the server fills in defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardRequest {
    /// The unit whose children are shown: a province (its districts), a district (its
    /// communes), or [`COUNTRY`] (the provinces).
    pub unit: Option<String>,
    /// The same as `unit` for a province; kept so that older links still open.
    pub province: Option<String>,
    pub map: Option<MapKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Filters: sector (field), channel and the level of the handling office.
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
}

/// Server settings the dashboard falls back on when the URL does not say.
#[derive(Clone, Debug, Default)]
pub struct DashboardDefaults {
    /// The province shown first (`IEM_DEFAULT_PROVINCE`); the first by code when unset.
    pub province: Option<String>,
}

/// The `unit` of the national view, whose children are the provinces.
pub const COUNTRY: &str = "VN";

/// Everything the dashboard shows for one view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub provinces: Vec<UnitRef>,
    /// The sectors of the procedures catalogue, for the sector filter.
    pub fields: Vec<String>,
    /// The unit shown and the units above it, from the province down; empty for the national
    /// view (and when the store holds no province yet).
    pub trail: Vec<PlacedUnit>,
    /// The level of the listed units (the children of the last unit of `trail`).
    pub level: Level,
    pub period: Period,
    /// The listed units in the period; `total` is the unit shown.
    pub current: StatsResponse,
    /// The shown unit's figures in the period of the same length just before.
    pub previous_total: IndicatorRow,
    /// The listed units as the map draws them (boundaries in force at the period's end).
    pub map: MapLayer,
}

#[server(prefix = "/api/fn", endpoint = "dashboard", input = leptos::server_fn::codec::Json)]
pub async fn fetch_dashboard(request: DashboardRequest) -> Result<DashboardView, AppError> {
    use crate::store::SharedIndicatorStore;
    let store = use_context::<SharedIndicatorStore>()
        .ok_or_else(|| AppError::new("internal", "the store is not available to this request"))?;
    let defaults = use_context::<DashboardDefaults>().unwrap_or_default();
    tokio::task::spawn_blocking(move || build_dashboard(store.as_ref(), request, defaults))
        .await
        .map_err(|e| AppError::new("internal", format!("dashboard task failed: {e}")))?
}

#[cfg(feature = "ssr")]
fn build_dashboard(
    store: &dyn crate::store::IndicatorStore,
    request: DashboardRequest,
    defaults: DashboardDefaults,
) -> Result<DashboardView, AppError> {
    let period = match (request.from, request.to) {
        (Some(from), Some(to)) => {
            Period::new(from, to).map_err(|m| AppError::new("bad_request", m))?
        }
        (None, None) => crate::periods::last_complete_quarter(
            chrono::Utc::now()
                .with_timezone(&crate::indicators::vietnam_offset())
                .date_naive(),
        ),
        _ => {
            return Err(AppError::new(
                "bad_request",
                "from and to: give both dates or neither",
            ))
        }
    };
    let provinces = store.units(Level::Province, None)?;
    let trail = match request.unit.or(request.province) {
        Some(code) if code == COUNTRY => Vec::new(),
        Some(code) => {
            let trail = store.unit_trail(&code)?;
            if trail.is_empty() {
                return Err(AppError::new(
                    "bad_request",
                    format!("unit: unknown code '{code}'"),
                ));
            }
            trail
        }
        None => match defaults
            .province
            .and_then(|code| provinces.iter().find(|p| p.code == code).cloned())
            .or_else(|| provinces.first().cloned())
        {
            Some(p) => store.unit_trail(&p.code)?,
            None => Vec::new(),
        },
    };
    let (level, parent) = match trail.last() {
        None => (Level::Province, None),
        Some(unit) => {
            let level = unit.level.child().ok_or_else(|| {
                AppError::new(
                    "bad_request",
                    format!(
                        "unit: '{}' is a commune; it has no units under it",
                        unit.code
                    ),
                )
            })?;
            (level, Some(unit.code.clone()))
        }
    };
    if request
        .field
        .as_deref()
        .is_some_and(|f| f.trim().is_empty())
    {
        return Err(AppError::new(
            "bad_request",
            "field: give a sector name or leave it out",
        ));
    }
    let query = |period: Period| StatsQuery {
        period,
        level,
        parent: parent.clone(),
        field: request.field.clone(),
        channel: request.channel,
        dossier_level: request.dossier_level,
    };
    let current = store.stats(&query(period))?;
    let previous_total = store.stats(&query(period.previous()))?.total;
    let map = if provinces.is_empty() {
        MapLayer::default()
    } else {
        store.map_layer(
            level,
            parent.as_deref().unwrap_or(COUNTRY),
            period.to,
            request.map.unwrap_or_default(),
        )?
    };
    Ok(DashboardView {
        fields: store.fields()?,
        provinces,
        trail,
        level,
        period,
        current,
        previous_total,
        map,
    })
}
