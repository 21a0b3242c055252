//! Server functions of the dashboard. Each is a public endpoint and checks its own input.
use crate::error::AppError;
use crate::model::{IndicatorRow, MapLayer, Period, StatsResponse, UnitRef};
#[cfg(feature = "ssr")]
use crate::model::{Level, StatsQuery};
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dashboard asks for; every field optional, the server fills in defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardRequest {
    pub province: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Server settings the dashboard falls back on when the URL does not say.
#[derive(Clone, Debug, Default)]
pub struct DashboardDefaults {
    /// The province shown first (`IEM_DEFAULT_PROVINCE`); the first by code when unset.
    pub province: Option<String>,
}

/// Everything the dashboard shows for one view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub provinces: Vec<UnitRef>,
    /// None when the store holds no province yet.
    pub province: Option<UnitRef>,
    pub period: Period,
    /// The province's districts in the period; `total` is the province.
    pub current: StatsResponse,
    /// The province's figures in the period of the same length just before.
    pub previous_total: IndicatorRow,
    /// The province's districts as the map draws them (boundaries in force at the period's end).
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
    let province = match &request.province {
        Some(code) => Some(
            provinces
                .iter()
                .find(|p| &p.code == code)
                .cloned()
                .ok_or_else(|| {
                    AppError::new("bad_request", format!("province: unknown code '{code}'"))
                })?,
        ),
        None => defaults
            .province
            .and_then(|code| provinces.iter().find(|p| p.code == code).cloned())
            .or_else(|| provinces.first().cloned()),
    };
    let query = |period: Period| StatsQuery {
        period,
        level: Level::District,
        parent: province.as_ref().map(|p| p.code.clone()),
        field: None,
        channel: None,
        dossier_level: None,
    };
    let current = store.stats(&query(period))?;
    let previous_total = store.stats(&query(period.previous()))?.total;
    let map = match &province {
        Some(p) => store.map_layer(Level::District, &p.code, period.to)?,
        None => MapLayer::default(),
    };
    Ok(DashboardView {
        provinces,
        province,
        period,
        current,
        previous_total,
        map,
    })
}
