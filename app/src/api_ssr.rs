//! The server side of the dashboard's server functions: resolves a view and asks the store.
use crate::era::{Era, UnitsView};
use crate::error::AppError;
use crate::model::{
    Bucket, Level, Period, PlacedUnit, ProjectedLayer, StatsQuery, TrendQuery, UnitRef,
};
use crate::selection::SelectionQuery;
use crate::store::IndicatorStore;
use crate::views::{
    DashboardDefaults, DashboardRequest, DashboardView, EmbedView, ProceduresView,
    SelectionRequest, SelectionView, Sparkline, COUNTRY,
};
use chrono::{Datelike, Days, Months};

/// A dashboard request checked and completed with defaults.
struct Resolved {
    period: Period,
    provinces: Vec<UnitRef>,
    /// The shown unit and those above it; empty for the country.
    trail: Vec<PlacedUnit>,
    /// The level of the listed units and their parent (`None` for the provinces).
    level: Level,
    parent: Option<String>,
    /// Which units the view shows, fixed for every figure of the view (the previous period and
    /// the year before are shown on the same units, so they compare).
    units: UnitsView,
    era: Era,
}

fn resolve(
    store: &dyn IndicatorStore,
    request: &DashboardRequest,
    defaults: DashboardDefaults,
) -> Result<Resolved, AppError> {
    let period = match (request.from, request.to) {
        (Some(from), Some(to)) => {
            Period::new(from, to).map_err(|m| AppError::new("bad_request", m))?
        }
        (None, None) => crate::periods::default_period(
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
    // A comparison reaching past the reform is shown on today's units, like a period doing so.
    let last_day = request.vs_to.map_or(period.to, |to| to.max(period.to));
    let era = request
        .units
        .unwrap_or_default()
        .era(last_day)
        .map_err(|m| AppError::new("bad_request", format!("units: {m}")))?;
    // Fixed for the whole view: its comparisons are read on the same units.
    let units = match era {
        Era::Before2025 => UnitsView::Historical,
        Era::From2025 => UnitsView::Current,
    };
    let provinces = store.units(Level::Province, None, era)?;
    let trail = match request.unit.clone().or(request.province.clone()) {
        Some(code) if code == COUNTRY => Vec::new(),
        Some(code) => known_trail(store, &code, era, "unit")?,
        None => match match era {
            Era::Before2025 => defaults.province,
            Era::From2025 => defaults.province_2025,
        }
        .and_then(|code| provinces.iter().find(|p| p.code == code).cloned())
        .or_else(|| provinces.first().cloned())
        {
            Some(p) => store.unit_trail(&p.code, era)?,
            None => Vec::new(),
        },
    };
    let (level, parent) = match trail.last() {
        // Today's communes can be listed for the whole country, as one layer.
        None if era == Era::From2025 && request.level == Some(Level::Commune) => {
            (Level::Commune, None)
        }
        None => (Level::Province, None),
        Some(unit) => {
            let level = era.child(unit.level).ok_or_else(|| {
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
    Ok(Resolved {
        period,
        provinces,
        trail,
        level,
        parent,
        units,
        era,
    })
}

fn known_trail(
    store: &dyn IndicatorStore,
    code: &str,
    era: Era,
    field: &str,
) -> Result<Vec<PlacedUnit>, AppError> {
    let trail = store.unit_trail(code, era)?;
    if trail.is_empty() {
        let when = match era {
            Era::Before2025 => "before the 2025 reform",
            Era::From2025 => "from 2025-07-01",
        };
        return Err(AppError::new(
            "bad_request",
            format!("{field}: '{code}' is not the code of a unit in force {when}"),
        ));
    }
    Ok(trail)
}

/// The stats query of a view for `period`: the same units, filters and listed level for every
/// figure of the view.
fn view_query(request: &DashboardRequest, resolved: &Resolved, period: Period) -> StatsQuery {
    StatsQuery {
        period,
        level: resolved.level,
        parent: resolved.parent.clone(),
        field: request.field.clone(),
        channel: request.channel,
        dossier_level: request.dossier_level,
        units: resolved.units,
    }
}

/// The periods a view compares with: the chosen base period (`vs_from`, `vs_to`) or the one of
/// the same length just before, and the same period a year earlier. Checked for every view, so
/// the dashboard and its embed accept the same periods.
struct Comparison {
    chosen: Option<Period>,
    previous: Period,
    year_earlier: Period,
}

fn comparison(request: &DashboardRequest, period: Period) -> Result<Comparison, AppError> {
    let outside = || {
        AppError::new(
            "bad_request",
            "from: the period lies outside the dates served",
        )
    };
    let chosen = match (request.vs_from, request.vs_to) {
        (Some(from), Some(to)) => Some(
            Period::new(from, to)
                .map_err(|m| AppError::new("bad_request", format!("vs_from: {m}")))?,
        ),
        (None, None) => None,
        _ => {
            return Err(AppError::new(
                "bad_request",
                "vs_from and vs_to: give both dates of the base period or neither",
            ))
        }
    };
    let previous = match chosen {
        Some(base) => base,
        None => period.previous().ok_or_else(outside)?,
    };
    Ok(Comparison {
        chosen,
        previous,
        year_earlier: period.year_earlier().ok_or_else(outside)?,
    })
}

/// The listed units as the map draws them: boundaries in force at the period's end, today's for
/// a view on today's units, projected into the map's box here so the browser does not.
fn view_map(
    store: &dyn IndicatorStore,
    request: &DashboardRequest,
    resolved: &Resolved,
) -> Result<ProjectedLayer, AppError> {
    if resolved.provinces.is_empty() {
        return Ok(ProjectedLayer::default());
    }
    let layer = store.map_layer(
        resolved.level,
        resolved.parent.as_deref().unwrap_or(COUNTRY),
        resolved.era.units_on(resolved.period.to),
        request.map.unwrap_or_default(),
    )?;
    Ok(crate::components::map::projected(&layer))
}

pub(crate) fn build_dashboard(
    store: &dyn IndicatorStore,
    request: DashboardRequest,
    defaults: DashboardDefaults,
) -> Result<DashboardView, AppError> {
    let resolved = resolve(store, &request, defaults)?;
    let period = resolved.period;
    let query = |period: Period| view_query(&request, &resolved, period);
    let comparison = comparison(&request, period)?;
    let current = store.stats(&query(period))?;
    // Both periods on the view's units: a comparison of 2026-H1 with 2025-H1 is on today's.
    let previous = store.stats(&query(comparison.previous))?;
    let year_earlier_total = store.stats(&query(comparison.year_earlier))?.total;
    let mut series = store.monthly_on_time(&query(period))?;
    let sparklines = current
        .units
        .iter()
        .map(|u| Sparkline {
            code: u.code.clone(),
            months: series
                .remove(&u.code)
                .unwrap_or_default()
                .iter()
                .map(|c| (c.resolved_early + c.resolved_on_time, c.resolved))
                .collect(),
        })
        .collect();
    let map = view_map(store, &request, &resolved)?;
    Ok(DashboardView {
        fields: store.fields()?,
        provinces: resolved.provinces.clone(),
        trail: resolved.trail.clone(),
        level: resolved.level,
        period,
        current,
        base_period: comparison.chosen,
        previous_total: previous.total,
        previous_units: previous.units,
        year_earlier_total,
        sparkline_months: crate::periods::last_twelve_months(period.to),
        sparklines,
        data_as_of: store.data_as_of(),
        map,
        live_query: query(period),
    })
}

/// The embed's view: what it draws and nothing more, so an embed (public, and the most read)
/// asks the store for the period's figures (and the base period's only when comparing), not for
/// the dashboard's sparklines, year-earlier figures and filter lists.
pub(crate) fn build_embed(
    store: &dyn IndicatorStore,
    request: DashboardRequest,
    defaults: DashboardDefaults,
) -> Result<EmbedView, AppError> {
    let resolved = resolve(store, &request, defaults)?;
    let period = resolved.period;
    let query = |period: Period| view_query(&request, &resolved, period);
    let comparison = comparison(&request, period)?;
    let current = store.stats(&query(period))?;
    let base_units = match comparison.chosen {
        Some(base) => store.stats(&query(base))?.units,
        None => Vec::new(),
    };
    Ok(EmbedView {
        title: resolved.trail.last().map(|u| u.name.clone()),
        period,
        base_period: comparison.chosen,
        units: current.units,
        base_units,
        data_as_of: store.data_as_of(),
        map: view_map(store, &request, &resolved)?,
        live_query: query(period),
    })
}

/// The unit the charts describe: the focus when given, else the view's unit.
fn selection_query(
    store: &dyn IndicatorStore,
    request: &SelectionRequest,
    defaults: DashboardDefaults,
) -> Result<(Option<PlacedUnit>, SelectionQuery), AppError> {
    let resolved = resolve(store, &request.view, defaults)?;
    let scope = match &request.focus {
        Some(code) if code == COUNTRY => None,
        Some(code) => known_trail(store, code, resolved.era, "focus")?.pop(),
        None => resolved.trail.last().cloned(),
    };
    let query = SelectionQuery {
        unit: scope.as_ref().map(|u| u.code.clone()),
        period: resolved.period,
        field: request.view.field.clone(),
        channel: request.view.channel,
        dossier_level: request.view.dossier_level,
        units: resolved.units,
    };
    Ok((scope, query))
}

/// The trend's range: the period itself when it holds at least twelve months (or thirteen
/// weeks), else the twelve months (thirteen weeks) ending with it, so a line has enough points.
/// The period is a checked one, so this adds at most eleven months to at most three years.
fn trend_period(period: Period, bucket: Bucket) -> Period {
    let earliest = match bucket {
        Bucket::Month => period
            .to
            .with_day(1)
            .and_then(|d| d.checked_sub_months(Months::new(11))),
        Bucket::Week => period
            .to
            .checked_sub_days(Days::new(u64::from(
                period.to.weekday().num_days_from_monday(),
            )))
            .and_then(|monday| monday.checked_sub_days(Days::new(7 * 12))),
    };
    Period {
        from: earliest.map_or(period.from, |e| period.from.min(e)),
        to: period.to,
    }
}

pub(crate) fn build_selection(
    store: &dyn IndicatorStore,
    request: SelectionRequest,
    defaults: DashboardDefaults,
) -> Result<SelectionView, AppError> {
    let (scope, query) = selection_query(store, &request, defaults)?;
    let bucket = request.bucket.unwrap_or(Bucket::Month);
    let trend = store.trend(&TrendQuery {
        unit: query.unit.clone().unwrap_or_else(|| COUNTRY.to_string()),
        period: trend_period(query.period, bucket),
        bucket,
        field: query.field.clone(),
        channel: query.channel,
        dossier_level: query.dossier_level,
        units: query.units,
    })?;
    Ok(SelectionView {
        sectors: store.by_sector(&query)?,
        days: store.days_distribution(&query)?,
        scope,
        period: query.period,
        trend,
    })
}

pub(crate) fn build_procedures(
    store: &dyn IndicatorStore,
    request: SelectionRequest,
    defaults: DashboardDefaults,
) -> Result<ProceduresView, AppError> {
    let (scope, query) = selection_query(store, &request, defaults)?;
    Ok(ProceduresView {
        procedures: store.procedures(&query)?,
        scope,
        period: query.period,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_short_period_trends_over_the_year_before_it() {
        let q = Period {
            from: d("2021-01-01"),
            to: d("2021-03-31"),
        };
        let months = trend_period(q, Bucket::Month);
        assert_eq!((months.from, months.to), (d("2020-04-01"), d("2021-03-31")));
        // A quarter already holds thirteen weeks; a month reaches back to the Monday twelve
        // weeks before the week of its end (2021-03-31 is in the week of Monday 29 March).
        assert_eq!(trend_period(q, Bucket::Week).from, d("2021-01-01"));
        let march = Period {
            from: d("2021-03-01"),
            to: d("2021-03-31"),
        };
        assert_eq!(trend_period(march, Bucket::Week).from, d("2021-01-04"));
        let year = Period {
            from: d("2019-01-01"),
            to: d("2021-03-31"),
        };
        assert_eq!(trend_period(year, Bucket::Month).from, d("2019-01-01"));
    }
}
