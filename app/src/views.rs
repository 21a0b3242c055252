//! What the dashboard's server functions take and return: plain data shared by the server and the browser.
use crate::model::{
    Bucket, Channel, IndicatorRow, Level, MapKind, Period, PlacedUnit, ProjectedLayer, StatsQuery,
    StatsResponse, TrendResponse, UnitRef,
};
use crate::selection::{DaysDistribution, ProcedureRow};
use chrono::NaiveDate;
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
    #[serde(default, deserialize_with = "crate::iso::option_date")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::iso::option_date")]
    pub to: Option<NaiveDate>,
    /// Filters: sector (field), channel and the level of the handling office.
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
    /// Which units the figures are shown on (`units=current|historical`); by default today's,
    /// unless the period ends before the 2025 reform.
    #[serde(default)]
    pub units: Option<crate::era::UnitsView>,
    /// On the national view of today's units, `commune` lists the country's 3,321 communes
    /// instead of its provinces.
    #[serde(default)]
    pub level: Option<Level>,
    /// The comparison view: the base period every unit's change is measured against (e.g.
    /// 2025-Q2 for 2026-Q2). Without it, the period of the same length just before.
    #[serde(default, deserialize_with = "crate::iso::option_date")]
    pub vs_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::iso::option_date")]
    pub vs_to: Option<NaiveDate>,
}

/// Server settings the dashboard falls back on when the URL does not say.
#[derive(Clone, Debug, Default)]
pub struct DashboardDefaults {
    /// The province shown first for a period before the 2025 reform (`IEM_DEFAULT_PROVINCE`);
    /// the first by code when unset.
    pub province: Option<String>,
    /// The province of today shown first (`IEM_DEFAULT_PROVINCE_2025`).
    pub province_2025: Option<String>,
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
    /// The comparison's base period, when the view compares with a chosen one (`vs_from`, `vs_to`).
    #[serde(default)]
    pub base_period: Option<Period>,
    /// The shown unit's figures in the base period: the one chosen, else the period of the same
    /// length just before.
    pub previous_total: IndicatorRow,
    /// The listed units in that previous period (the ranking's change column).
    pub previous_units: Vec<IndicatorRow>,
    /// The shown unit's figures in the same period a year earlier.
    pub year_earlier_total: IndicatorRow,
    /// The first days of the twelve months the sparklines cover, oldest first.
    #[serde(deserialize_with = "crate::iso::dates")]
    pub sparkline_months: Vec<NaiveDate>,
    /// Each listed unit's on-time rate in those months (`None`: nothing resolved).
    pub sparklines: Vec<Sparkline>,
    /// When an ingest last stored an event.
    #[serde(default, deserialize_with = "crate::iso::option_date_time")]
    pub data_as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// The listed units as the map draws them (boundaries in force at the period's end).
    pub map: ProjectedLayer,
    /// The query behind `current`: the live stream is opened with it, so pushed figures replace
    /// exactly what the page shows.
    pub live_query: StatsQuery,
}

/// What the embed draws (`api::load_embed`, carried in the page): the dashboard's map and its figures for one view, without
/// what only the dashboard shows (the filters' lists, the trail above the unit, sparklines, the
/// year-earlier and previous figures when not comparing), so a newsroom's page downloads,
/// reads and hydrates less.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbedView {
    /// The shown unit's name; `None` for the country.
    pub title: Option<String>,
    pub period: Period,
    /// The comparison's base period, when the view compares with a chosen one.
    #[serde(default)]
    pub base_period: Option<Period>,
    /// The listed units' figures in the period.
    pub units: Vec<IndicatorRow>,
    /// The listed units in the base period: only when comparing (the map then shows the change).
    #[serde(default)]
    pub base_units: Vec<IndicatorRow>,
    /// When an ingest last stored an event.
    #[serde(default, deserialize_with = "crate::iso::option_date_time")]
    pub data_as_of: Option<chrono::DateTime<chrono::Utc>>,
    pub map: ProjectedLayer,
    /// The query the live stream is opened with, as on the dashboard.
    pub live_query: StatsQuery,
}

/// One message of the live stream (`GET /api/v1/stream`): a view's figures after a commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveFigures {
    /// The commit sequence number the figures include; also the message's SSE id.
    pub seq: i64,
    /// When an ingest last stored an event.
    #[serde(default, deserialize_with = "crate::iso::option_date_time")]
    pub data_as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Equal to `GET /api/v1/stats` with the stream's query at that commit.
    pub stats: StatsResponse,
}

/// A unit's on-time rate month by month, carried as the two counts it comes from: short
/// integers in the page rather than seventeen-digit fractions, and [`Sparkline::rates`] divides
/// them exactly as the server's figures do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sparkline {
    pub code: String,
    /// Per month: dossiers resolved on time (early included), and resolved.
    pub months: Vec<(u64, u64)>,
}

impl Sparkline {
    /// The on-time rate of each month (`None`: nothing resolved).
    pub fn rates(&self) -> Vec<Option<f64>> {
        self.months
            .iter()
            .map(|&(on_time, resolved)| {
                crate::indicators::on_time_rate(&crate::model::Counts {
                    resolved_on_time: on_time,
                    resolved,
                    ..Default::default()
                })
            })
            .collect()
    }
}

/// What the charts and the procedures view ask for: the dashboard's view, optionally focused on
/// one unit inside it, and the trend's bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SelectionRequest {
    pub view: DashboardRequest,
    /// A unit to focus on (cross-filtering from the map or the ranking); the view's unit when absent.
    pub focus: Option<String>,
    pub bucket: Option<Bucket>,
}

/// The charts' figures for one selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectionView {
    /// The unit the figures are for; `None` for the whole country.
    pub scope: Option<PlacedUnit>,
    pub period: Period,
    /// On-time rate over time, ending with the period.
    pub trend: TrendResponse,
    /// The selection per sector.
    pub sectors: Vec<IndicatorRow>,
    /// Processing days of the dossiers resolved in the period.
    pub days: DaysDistribution,
}

/// The procedures view: the catalogue with each procedure's figures for the selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProceduresView {
    pub scope: Option<PlacedUnit>,
    pub period: Period,
    pub procedures: Vec<ProcedureRow>,
}
