//! What a monthly report says, read from the store through the same queries as `/api/v1/stats`,
//! `/api/v1/trend` and the dashboard's sector and procedure tables, so every figure in the PDF is
//! one the public API gives too.
use super::ReportError;
use crate::store::served::ServedStore;
use app::era::{Era, UnitsView};
use app::i18n::Lang;
use app::indicators::ACTION_THRESHOLD;
use app::model::{
    Bucket, IndicatorRow, Level, MapKind, MapLayer, Period, PlacedUnit, StatsQuery, TrendPoint,
    TrendQuery,
};
use app::selection::{ProcedureRow, SelectionQuery};
use chrono::{Datelike, Months, NaiveDate};
use std::collections::HashMap;

/// How many procedures and sectors the "most late dossiers" tables list.
pub const TOP: usize = 10;

/// What a caller asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReportRequest {
    /// A unit code in force in the month (on today's units for months since the reform).
    pub unit: String,
    /// The month's first day.
    pub month: NaiveDate,
    pub lang: Lang,
}

/// A unit whose on-time rate crossed the action threshold between the previous month and this one.
#[derive(Clone, Debug, PartialEq)]
pub struct Crossing {
    pub name: String,
    pub before: f64,
    pub now: f64,
}

/// Late dossiers (resolved late in the month, or still open past their due date at its end)
/// of one agency: only in a signed-in reader's report.
#[derive(Clone, Debug, PartialEq)]
pub struct AgencyLate {
    pub agency: String,
    pub resolved_late: u64,
    pub pending_overdue: u64,
}

#[derive(Clone, Debug)]
pub struct ReportData {
    pub request: ReportRequest,
    /// The unit, and those above it from the province down.
    pub trail: Vec<PlacedUnit>,
    pub era: Era,
    /// The month, up to today when it is the current one.
    pub period: Period,
    pub current: IndicatorRow,
    pub previous: Option<(Period, IndicatorRow)>,
    pub year_earlier: Option<(Period, IndicatorRow)>,
    /// The level of the units under this one (none under a commune).
    pub child_level: Option<Level>,
    /// The units under this one, with this month's figures.
    pub children: Vec<IndicatorRow>,
    pub map: Option<MapLayer>,
    /// Month by month, the twelve months ending with this one.
    pub trend: Vec<TrendPoint>,
    pub procedures: Vec<ProcedureRow>,
    pub sectors: Vec<IndicatorRow>,
    pub fell_below: Vec<Crossing>,
    pub rose_above: Vec<Crossing>,
    /// On today's units, how old units' dossiers were counted (as `/api/v1/stats` says).
    pub converted: bool,
    pub data_as_of: Option<chrono::DateTime<chrono::Utc>>,
    pub agencies: Option<Vec<AgencyLate>>,
}

impl ReportData {
    pub fn unit(&self) -> Option<&PlacedUnit> {
        self.trail.last()
    }
}

/// The whole month holding `first`, cut at `today` for the current month; `None` outside the
/// dates served.
pub fn month_period(first: NaiveDate, today: NaiveDate) -> Option<Period> {
    let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
    Period::new(first, last.min(today)).ok()
}

/// The same days `months` months earlier (a whole month when this one is whole).
fn months_before(period: Period, months: u32) -> Option<Period> {
    let first = period.from.checked_sub_months(Months::new(months))?;
    let whole_last = first.checked_add_months(Months::new(1))?.pred_opt()?;
    let this_whole = period.to.day() == {
        let next = period.from.checked_add_months(Months::new(1))?;
        next.pred_opt()?.day()
    };
    let last = if this_whole {
        whole_last
    } else {
        first
            .with_day(period.to.day())
            .unwrap_or(whole_last)
            .min(whole_last)
    };
    Period::new(first, last).ok()
}

/// Reads everything the report shows. Blocking: call it off the async workers.
pub fn gather(
    store: &dyn ServedStore,
    request: &ReportRequest,
    today: NaiveDate,
) -> Result<ReportData, ReportError> {
    let period = month_period(request.month, today).ok_or_else(|| {
        ReportError::BadMonth(format!("{} is outside the dates served", request.month))
    })?;
    let era = Era::on(period.to);
    // One view of the units for every period compared: today's units for months since the
    // reform (the old units' dossiers counted for the units they went into, so last year's
    // month compares like with like), the units as they were before it.
    let units = match era {
        Era::From2025 => UnitsView::Current,
        Era::Before2025 => UnitsView::Historical,
    };
    let trail = store.unit_trail(&request.unit, era)?;
    let unit = trail
        .last()
        .cloned()
        .ok_or_else(|| ReportError::UnknownUnit(request.unit.clone()))?;
    let child_level = era.child(unit.level);
    let parent = trail.iter().rev().nth(1).map(|u| u.code.clone());

    // The unit's own figures: as the parent of its children, or as one row under its parent.
    let figures_of =
        |period: Period| -> Result<(IndicatorRow, Vec<IndicatorRow>, bool), ReportError> {
            let (level, parent_code) = match child_level {
                Some(level) => (level, Some(unit.code.clone())),
                None => (unit.level, parent.clone()),
            };
            let answer = store.stats(&StatsQuery {
                period,
                level,
                parent: parent_code,
                field: None,
                channel: None,
                dossier_level: None,
                units,
            })?;
            let converted = answer.conversion.is_some();
            Ok(match child_level {
                Some(_) => (answer.total, answer.units, converted),
                None => {
                    let own = answer
                        .units
                        .into_iter()
                        .find(|r| r.code == unit.code)
                        .ok_or_else(|| ReportError::UnknownUnit(request.unit.clone()))?;
                    (own, Vec::new(), converted)
                }
            })
        };
    let (current, children, converted) = figures_of(period)?;
    let compared =
        |months: u32| -> Result<Option<(Period, IndicatorRow, Vec<IndicatorRow>)>, ReportError> {
            match months_before(period, months) {
                // Historical units stop at the reform; a view of today's units reaches back.
                Some(p) if units.era(p.to).is_ok() => {
                    let (row, children, _) = figures_of(p)?;
                    Ok(Some((p, row, children)))
                }
                _ => Ok(None),
            }
        };
    let previous = compared(1)?;
    let year_earlier = compared(12)?;

    let (fell_below, rose_above) = match &previous {
        Some((_, _, before)) => crossings(before, &children),
        None => (Vec::new(), Vec::new()),
    };

    let map = match child_level {
        Some(level) => Some(store.map_layer(
            level,
            &unit.code,
            era.units_on(period.to),
            MapKind::Geographic,
        )?),
        None => None,
    };

    let trend_from = period
        .from
        .checked_sub_months(Months::new(11))
        .unwrap_or(period.from);
    let trend = match Period::new(trend_from, period.to) {
        Ok(trend_period) => {
            store
                .trend(&TrendQuery {
                    unit: unit.code.clone(),
                    period: trend_period,
                    bucket: Bucket::Month,
                    field: None,
                    channel: None,
                    dossier_level: None,
                    units,
                })?
                .points
        }
        Err(_) => Vec::new(),
    };

    let selection = SelectionQuery {
        unit: Some(unit.code.clone()),
        period,
        field: None,
        channel: None,
        dossier_level: None,
        units,
    };
    let mut procedures: Vec<ProcedureRow> = store
        .procedures(&selection)?
        .into_iter()
        .filter(|p| p.resolved_late > 0)
        .collect();
    procedures.sort_by(|a, b| {
        b.resolved_late
            .cmp(&a.resolved_late)
            .then(a.code.cmp(&b.code))
    });
    procedures.truncate(TOP);
    let mut sectors: Vec<IndicatorRow> = store
        .by_sector(&selection)?
        .into_iter()
        .filter(|s| s.resolved_late > 0)
        .collect();
    sectors.sort_by(|a, b| {
        b.resolved_late
            .cmp(&a.resolved_late)
            .then(a.name.cmp(&b.name))
    });
    sectors.truncate(TOP);

    Ok(ReportData {
        request: request.clone(),
        trail,
        era,
        period,
        current,
        previous: previous.map(|(p, row, _)| (p, row)),
        year_earlier: year_earlier.map(|(p, row, _)| (p, row)),
        child_level,
        children,
        map,
        trend,
        procedures,
        sectors,
        fell_below,
        rose_above,
        converted,
        data_as_of: store.data_as_of(),
        agencies: None,
    })
}

/// The units whose on-time rate went from at least the threshold to under it, and back.
fn crossings(before: &[IndicatorRow], now: &[IndicatorRow]) -> (Vec<Crossing>, Vec<Crossing>) {
    let earlier: HashMap<&str, f64> = before
        .iter()
        .filter_map(|r| Some((r.code.as_str(), r.on_time_rate?)))
        .collect();
    let mut fell = Vec::new();
    let mut rose = Vec::new();
    for row in now {
        let (Some(&was), Some(is)) = (earlier.get(row.code.as_str()), row.on_time_rate) else {
            continue;
        };
        let crossing = Crossing {
            name: row.name.clone(),
            before: was,
            now: is,
        };
        if was >= ACTION_THRESHOLD && is < ACTION_THRESHOLD {
            fell.push(crossing);
        } else if was < ACTION_THRESHOLD && is >= ACTION_THRESHOLD {
            rose.push(crossing);
        }
    }
    fell.sort_by(|a, b| a.now.total_cmp(&b.now));
    rose.sort_by(|a, b| b.now.total_cmp(&a.now));
    (fell, rose)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_whole_month_compares_with_whole_months_and_a_month_to_date_with_the_same_days() {
        let october = month_period(d("2026-10-01"), d("2026-12-06")).unwrap();
        assert_eq!(
            (october.from, october.to),
            (d("2026-10-01"), d("2026-10-31"))
        );
        let september = months_before(october, 1).unwrap();
        assert_eq!(
            (september.from, september.to),
            (d("2026-09-01"), d("2026-09-30"))
        );
        let december = month_period(d("2026-12-01"), d("2026-12-06")).unwrap();
        assert_eq!(december.to, d("2026-12-06"));
        let november = months_before(december, 1).unwrap();
        assert_eq!(
            (november.from, november.to),
            (d("2026-11-01"), d("2026-11-06"))
        );
        let march = month_period(d("2024-03-01"), d("2026-12-06")).unwrap();
        let february = months_before(march, 1).unwrap();
        assert_eq!(february.to, d("2024-02-29"));
    }

    #[test]
    fn crossing_the_threshold_either_way_is_listed_and_staying_on_one_side_is_not() {
        let row = |code: &str, rate: Option<f64>| IndicatorRow {
            on_time_rate: rate,
            ..IndicatorRow::from_counts(code, code, &app::model::Counts::default())
        };
        let before = [
            row("a", Some(0.97)),
            row("b", Some(0.90)),
            row("c", Some(0.99)),
            row("d", None),
        ];
        let now = [
            row("a", Some(0.94)),
            row("b", Some(0.95)),
            row("c", Some(0.96)),
            row("d", Some(0.50)),
        ];
        let (fell, rose) = crossings(&before, &now);
        assert_eq!(
            fell.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(
            rose.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }
}
