//! Indicator queries over the rollups: range sums for the period, prefix sums for pending.
use super::conversion::Conversion;
use super::view;
use super::StoreFailure;
use app::era::{code_of, Era};
use app::model::{
    Channel, ConversionNote, Counts, IndicatorRow, Level, Period, StatsQuery, StatsResponse,
    TrendPoint, TrendQuery, TrendResponse, UnitRef,
};
use chrono::{Datelike, Months, NaiveDate};
use duckdb::types::ToSql;
use duckdb::{params_from_iter, Connection};
use std::collections::HashMap;

pub(super) fn key_column(level: Level) -> &'static str {
    match level {
        Level::Province => "province_code",
        Level::District => "district_code",
        Level::Commune => "commune_code",
    }
}

/// The counters summed over the period itself (pending figures are prefix sums instead).
const RANGE_COUNTERS: &[&str] = super::writer::COUNTERS.split_at(9).0;

/// The rows of both rollups a part of the query reads, projected to `columns`: `monthly` and
/// `daily` are the conditions on `month` and `day`; `clause` (filters and scope) applies to both.
fn rows(columns: &str, monthly: &str, daily: Option<&str>, clause: &str) -> String {
    let mut sql = format!("SELECT {columns} FROM monthly_rollup WHERE {monthly}{clause}");
    if let Some(daily) = daily {
        sql.push_str(&format!(
            " UNION ALL SELECT {columns} FROM daily_rollup WHERE {daily}{clause}"
        ));
    }
    sql
}

/// A period split for the two rollups. Whole months inside the period and whole months before
/// its end come from `monthly_rollup`; the days at the edges from `daily_rollup`.
///
/// Parameters: `$1` from, `$2` to, `$3` first day of the first whole month inside the period
/// (to + 1 when there is none), `$4` the last whole month ending on or before `to` (its first
/// day), `$5` the day after that month (from there on, prefix sums read day by day).
///
/// One query, two aggregations grouped by `key` and told apart by `part`: the period's range
/// sums (a few months) and the pending prefix sums (every month up to the period's end, two
/// counters only). Aggregating them apart halves the work of one scan with filtered sums.
fn sums_by(key: &str, clause: &str, daily: bool) -> String {
    let range_sums = RANGE_COUNTERS
        .iter()
        .map(|c| format!("sum({c})::BIGINT"))
        .collect::<Vec<_>>()
        .join(", ");
    let range_columns = format!("{key} AS k, {}", RANGE_COUNTERS.join(", "));
    let range = rows(
        &range_columns,
        "month >= $3 AND month <= $4 AND month <= $2",
        daily.then_some("day >= $1 AND day <= $2 AND (day < $3 OR day >= $5)"),
        clause,
    );
    // Without daily rows `$1` and `$5` are otherwise unused, and every parameter must appear.
    let prefix = rows(
        &format!("{key} AS k, received - closed AS open, due - due_or_closed AS open_overdue"),
        "month <= $4 AND month <= $2 AND $1 IS NOT NULL AND $5 IS NOT NULL",
        daily.then_some("day >= $5 AND day <= $2"),
        clause,
    );
    let zeros = vec!["0::BIGINT"; RANGE_COUNTERS.len()].join(", ");
    format!(
        "SELECT k, 0 AS part, {range_sums}, 0::BIGINT, 0::BIGINT FROM ({range}) GROUP BY k
         UNION ALL
         SELECT k, 1 AS part, {zeros}, sum(open)::BIGINT, sum(open_overdue)::BIGINT
         FROM ({prefix}) GROUP BY k"
    )
}

/// What part of the rollups (or of the dossiers) a figure reads: the period, the optional
/// filters, a unit and everything under it, and whether rows must have the grouping key.
#[derive(Clone, Debug)]
pub struct RollupFilter {
    pub period: Period,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
    /// (key column of a level, store keys): rows of these units and everything under them.
    pub scope: Option<(&'static str, Vec<String>)>,
    /// Keep only rows where the grouping key is set.
    pub key_required: bool,
}

impl RollupFilter {
    pub fn new(
        period: Period,
        field: Option<String>,
        channel: Option<Channel>,
        dossier_level: Option<Level>,
    ) -> Self {
        RollupFilter {
            period,
            field,
            channel,
            dossier_level,
            scope: None,
            key_required: false,
        }
    }

    fn of_stats(q: &StatsQuery) -> Self {
        RollupFilter::new(q.period, q.field.clone(), q.channel, q.dossier_level)
    }
}

/// Resolved counts of one key in one month: (key, month, [resolved, early, on time, late]).
pub type MonthlyResolved = (String, NaiveDate, [u64; 4]);
/// A procedure's figures in a period: [received, received online, resolved, resolved in
/// time], and the field its dossiers carried.
pub type ProcedureFigures = HashMap<String, ([u64; 4], Option<String>)>;

/// Where the aggregated figures come from: the embedded store's tables or the cluster's. The
/// reference data (units, catalogue) is read apart, so both engines share every rule above it.
pub trait Figures {
    /// The counts of the rollup rows `f` keeps, grouped by the column `key` (`None`: one total
    /// under the key `None`).
    fn counts_by(
        &self,
        key: Option<&'static str>,
        f: &RollupFilter,
    ) -> Result<HashMap<Option<String>, Counts>, StoreFailure>;
    /// Resolved counts per `key` and month for the months `first..=last` (whole months).
    fn monthly_resolved(
        &self,
        key: &'static str,
        first: NaiveDate,
        last: NaiveDate,
        f: &RollupFilter,
    ) -> Result<Vec<MonthlyResolved>, StoreFailure>;
    /// (processing days, dossiers) of the dossiers resolved in the period.
    fn resolved_days(&self, f: &RollupFilter) -> Result<Vec<(i32, u64)>, StoreFailure>;
    /// The period's figures per procedure code ("" for dossiers without one).
    fn procedure_figures(&self, f: &RollupFilter) -> Result<ProcedureFigures, StoreFailure>;
}

/// The embedded store's figures, read on one connection.
pub struct DuckFigures<'c>(pub &'c Connection);

impl Figures for DuckFigures<'_> {
    fn counts_by(
        &self,
        key: Option<&'static str>,
        f: &RollupFilter,
    ) -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
        let filters = filters(f)?;
        let mut clause = filters.sql.clone();
        if let Some((column, keys)) = &f.scope {
            clause.push_str(&format!(" AND {column} IN {}", super::view::sql_list(keys)));
        }
        if let (Some(key), true) = (key, f.key_required) {
            clause.push_str(&format!(" AND {key} IS NOT NULL"));
        }
        counts_by(self.0, key.unwrap_or("NULL::VARCHAR"), &clause, &filters)
    }

    fn monthly_resolved(
        &self,
        key: &'static str,
        first: NaiveDate,
        last: NaiveDate,
        f: &RollupFilter,
    ) -> Result<Vec<MonthlyResolved>, StoreFailure> {
        super::selection::duck_monthly_resolved(self.0, key, first, last, f)
    }

    fn resolved_days(&self, f: &RollupFilter) -> Result<Vec<(i32, u64)>, StoreFailure> {
        super::selection::duck_resolved_days(self.0, f)
    }

    fn procedure_figures(&self, f: &RollupFilter) -> Result<ProcedureFigures, StoreFailure> {
        super::selection::duck_procedure_figures(self.0, f)
    }
}

/// Runs [`sums_by`] and folds both parts into one [`Counts`] per key (`None`: rows without one).
fn counts_by(
    conn: &Connection,
    key: &str,
    clause: &str,
    f: &Filters,
) -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
    let mut stmt = conn.prepare_cached(&sums_by(key, clause, f.daily))?;
    let mut rows = stmt.query(params_from_iter(f.params.iter()))?;
    let mut out: HashMap<Option<String>, Counts> = HashMap::new();
    while let Some(r) = rows.next()? {
        let part = counts_from_row(r, 2)?;
        out.entry(r.get(0)?).or_default().add(&part);
    }
    Ok(out)
}

/// Whether the period has days outside its whole months: leading days before the first whole
/// month, or trailing days after the last one (these also feed the pending prefix sums).
pub(super) fn needs_daily(p: &[NaiveDate; 5]) -> bool {
    p[0] < p[2] || p[4] <= p[1]
}

/// Reads the counters of a [`sums_by`] row (sums of counts are never negative in a consistent
/// store; clamping keeps a damaged one from wrapping around).
fn counts_from_row(r: &duckdb::Row<'_>, offset: usize) -> duckdb::Result<Counts> {
    let n = |i: usize| -> duckdb::Result<u64> { Ok(r.get::<_, i64>(offset + i)?.max(0) as u64) };
    Ok(Counts {
        received: n(0)?,
        received_online: n(1)?,
        received_with_fee: n(2)?,
        paid_online: n(3)?,
        resolved: n(4)?,
        resolved_early: n(5)?,
        resolved_on_time: n(6)?,
        resolved_late: n(7)?,
        resolved_days_total: r.get(offset + 8)?,
        pending: n(9)?,
        pending_overdue: n(10)?,
    })
}

struct Filters {
    /// ` AND field = $6 …`: the optional filters, applied to both rollups.
    sql: String,
    /// Whether `daily_rollup` is read (see [`needs_daily`]).
    daily: bool,
    params: Vec<Box<dyn ToSql>>,
}

fn month_start(d: NaiveDate) -> Option<NaiveDate> {
    d.with_day(1)
}

fn month_end(d: NaiveDate) -> Option<NaiveDate> {
    month_start(d)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// The five period parameters described at [`sums_by`]. Checked arithmetic: a period at the
/// calendar's ends (which [`Period::new`] never lets in) is refused, never a panic.
pub(super) fn period_params(period: Period) -> Result<[NaiveDate; 5], StoreFailure> {
    let params = || -> Option<[NaiveDate; 5]> {
        let (from, to) = (period.from, period.to);
        let mut first_whole = if from.day() == 1 {
            from
        } else {
            month_start(from)?.checked_add_months(Months::new(1))?
        };
        if month_end(first_whole)? > to {
            first_whole = to.succ_opt()?;
        }
        let last_whole_end = if to == month_end(to)? {
            to
        } else {
            month_start(to)?.pred_opt()?
        };
        Some([
            from,
            to,
            first_whole,
            month_start(last_whole_end)?,
            last_whole_end.succ_opt()?,
        ])
    };
    params().ok_or_else(|| StoreFailure::BadQuery {
        field: "from",
        message: format!(
            "{} to {} lies outside the dates served",
            period.from, period.to
        ),
    })
}

fn filters(query: &RollupFilter) -> Result<Filters, StoreFailure> {
    let mut sql = String::new();
    let period = period_params(query.period)?;
    let daily = needs_daily(&period);
    let mut params: Vec<Box<dyn ToSql>> = period
        .into_iter()
        .map(|d| Box::new(d) as Box<dyn ToSql>)
        .collect();
    let mut add = |clause: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&format!(" AND {clause} = ${}", params.len()));
    };
    if let Some(field) = &query.field {
        add("field", field.clone());
    }
    if let Some(channel) = query.channel {
        add("channel", channel.as_str().to_string());
    }
    if let Some(level) = query.dossier_level {
        add("dossier_level", level.as_str().to_string());
    }
    Ok(Filters { sql, daily, params })
}

/// Units of `level` in force on `on`, children (or deeper descendants) of `parent`.
pub fn units(
    conn: &Connection,
    level: Level,
    parent: Option<&str>,
    on: Option<NaiveDate>,
) -> Result<Vec<UnitRef>, StoreFailure> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, name_with_type FROM units
         WHERE level = $1
           AND ($2 IS NULL OR $2 IN (parent_code, district_code, province_code))
           AND ($3 IS NULL OR (valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)))
         ORDER BY code",
    )?;
    let rows = stmt
        .query_map(duckdb::params![level.as_str(), parent, on], |r| {
            Ok(UnitRef {
                code: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The units of `level` of `era` (under the unit `parent` of that era), with public codes.
pub fn public_units(
    conn: &Connection,
    level: Level,
    parent: Option<&str>,
    era: Era,
) -> Result<Vec<UnitRef>, StoreFailure> {
    let parent = match parent {
        Some(code) => match era.key(code) {
            Some(key) => Some(key),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    Ok(
        units(conn, level, parent.as_deref(), Some(era.first_day()))?
            .into_iter()
            .map(|u| UnitRef {
                code: code_of(&u.code).to_string(),
                name: u.name,
            })
            .collect(),
    )
}

/// [`units`] on a reader of the store.
pub fn units_in_force(
    store: &super::DuckStore,
    level: Level,
    parent: Option<&str>,
    on: NaiveDate,
) -> Result<Vec<UnitRef>, StoreFailure> {
    store.with_reader(|c| units(c, level, parent, Some(on)))
}

/// A unit's figures per bucket (week or month) of a period, on the units of the query's era.
pub fn trend(
    conn: &Connection,
    figures: &dyn Figures,
    conversion: &Conversion,
    query: &TrendQuery,
) -> Result<TrendResponse, StoreFailure> {
    let era = view::era_of(query.units, query.period.to)?;
    // The country's trend sums every unit; it has no row of its own in `units`.
    let unit = if query.unit == app::views::COUNTRY {
        None
    } else {
        Some(view::view_unit(conn, &query.unit, era, "unit")?)
    };
    let name = unit.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let points = app::periods::buckets(query.period, query.bucket)
        .into_iter()
        .map(|bucket| {
            let f = RollupFilter::new(
                bucket,
                query.field.clone(),
                query.channel,
                query.dossier_level,
            );
            let (c, apportioned) = match &unit {
                None => (
                    figures
                        .counts_by(None, &f)?
                        .remove(&None)
                        .unwrap_or_default(),
                    0,
                ),
                // One grouped query per bucket: the unit's rows and its old units', folded.
                Some(unit) => {
                    let (column, keys) = view::gather(conversion, era, unit);
                    let mut f = f.clone();
                    f.scope = Some((column, keys));
                    let grouped = figures.counts_by(Some(column), &f)?;
                    let mut folded =
                        view::fold(conversion, era, unit.level, grouped, |c| c.received);
                    (
                        folded.by_unit.remove(&unit.key).unwrap_or_default(),
                        folded.apportioned.remove(&unit.key).unwrap_or(0),
                    )
                }
            };
            let mut figures = IndicatorRow::from_counts(&query.unit, &name, &c);
            figures.apportioned = apportioned;
            Ok(TrendPoint {
                from: bucket.from,
                to: bucket.to,
                figures,
            })
        })
        .collect::<Result<Vec<_>, StoreFailure>>()?;
    Ok(TrendResponse {
        unit: query.unit.clone(),
        name,
        from: query.period.from,
        to: query.period.to,
        bucket: query.bucket,
        points,
    })
}

/// The unit and its ancestors, top-down (a commune's trail is province, district, commune), by
/// the unit's store key; the trail names public codes.
pub fn unit_trail(
    conn: &Connection,
    code: &str,
) -> Result<Vec<app::model::PlacedUnit>, StoreFailure> {
    let mut stmt =
        conn.prepare_cached("SELECT name_with_type, level, parent_code FROM units WHERE code = ?")?;
    let mut trail = Vec::new();
    let mut next = Some(code.to_string());
    // Three levels at most; the bound also stops a damaged parent chain from looping.
    while let Some(code) = next.take().filter(|_| trail.len() < 3) {
        let mut rows = stmt.query([&code])?;
        let Some(r) = rows.next()? else { break };
        let level: String = r.get(1)?;
        trail.push(app::model::PlacedUnit {
            name: r.get(0)?,
            level: level.parse().map_err(StoreFailure::Corrupt)?,
            code: code_of(&code).to_string(),
        });
        next = r.get(2)?;
    }
    trail.reverse();
    Ok(trail)
}

pub(super) fn unit_level(
    conn: &Connection,
    code: &str,
) -> Result<Option<(Level, String)>, StoreFailure> {
    let mut stmt = conn.prepare_cached("SELECT level, name_with_type FROM units WHERE code = ?")?;
    let mut rows = stmt.query([code])?;
    match rows.next()? {
        Some(r) => {
            let level: String = r.get(0)?;
            let level = level.parse().map_err(StoreFailure::Corrupt)?;
            Ok(Some((level, r.get(1)?)))
        }
        None => Ok(None),
    }
}

/// The period's figures per unit of `query.level` (under `query.parent`), on the units of the
/// query's era: today's units gather the old units' dossiers ([`view::fold`]).
pub fn stats(
    conn: &Connection,
    figures: &dyn Figures,
    conversion: &Conversion,
    query: &StatsQuery,
) -> Result<StatsResponse, StoreFailure> {
    let era = view::era_of(query.units, query.period.to)?;
    if !era.has_level(query.level) {
        return Err(StoreFailure::BadQuery {
            field: "level",
            message: format!(
                "districts ended on {}: from {} communes sit directly under their province (level=commune), and earlier periods can be shown on the units of their time with units=historical",
                app::era::LAST_DISTRICT_DAY,
                app::era::REFORM_DATE
            ),
        });
    }
    let parent = match &query.parent {
        Some(code) => {
            let unit = view::view_unit(conn, code, era, "parent")?;
            if unit.level >= query.level {
                return Err(StoreFailure::BadQuery {
                    field: "parent",
                    message: format!(
                        "unit '{code}' is a {}; it has no {} units under it",
                        unit.level, query.level
                    ),
                });
            }
            Some(unit)
        }
        None => None,
    };
    // The units listed: those in force at the period's end, or today's for an earlier period.
    let listed = units(
        conn,
        query.level,
        parent.as_ref().map(|p| p.key.as_str()),
        Some(era.units_on(query.period.to)),
    )?;
    let key = key_column(query.level);
    let mut f = RollupFilter::of_stats(query);
    // With a parent, every row in scope counts towards its figures (its own dossiers, those of
    // units no longer in force); without one, only rows that have a unit of the level.
    match &parent {
        Some(unit) => f.scope = Some(view::gather(conversion, era, unit)),
        None => f.key_required = true,
    }
    let folded = view::fold(
        conversion,
        era,
        query.level,
        figures.counts_by(Some(key), &f)?,
        |c| c.received,
    );
    let mut grand_total = folded.above;
    for c in folded.by_unit.values().chain(folded.not_converted.values()) {
        grand_total.add(c);
    }
    let mut total = Counts::default();
    let mut apportioned_total = 0;
    let units: Vec<IndicatorRow> = listed
        .iter()
        .map(|u| {
            let c = folded.by_unit.get(&u.code).copied().unwrap_or_default();
            total.add(&c);
            let mut row = IndicatorRow::from_counts(code_of(&u.code), &u.name, &c);
            row.apportioned = folded.apportioned.get(&u.code).copied().unwrap_or(0);
            apportioned_total += row.apportioned;
            Ok(row)
        })
        .collect::<Result<_, StoreFailure>>()?;
    let mut total = match &parent {
        Some(unit) => IndicatorRow::from_counts(code_of(&unit.key), &unit.name, &grand_total),
        None => IndicatorRow::from_counts("", "", &total),
    };
    total.apportioned = apportioned_total;
    let conversion_note = (era == Era::From2025
        && (folded.converted > 0 || !folded.not_converted.is_empty()))
    .then(|| -> Result<_, StoreFailure> {
        Ok(ConversionNote {
            rule: "equal_shares".into(),
            apportioned: apportioned_total,
            not_converted: view::not_converted_list(conn, &folded.not_converted)?,
        })
    })
    .transpose()?;
    Ok(StatsResponse {
        from: query.period.from,
        to: query.period.to,
        level: query.level,
        units,
        total,
        era,
        conversion: conversion_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn params(from: &str, to: &str) -> [NaiveDate; 5] {
        period_params(Period {
            from: d(from),
            to: d(to),
        })
        .unwrap()
    }

    #[test]
    fn a_quarter_reads_whole_months_only() {
        assert_eq!(
            params("2021-01-01", "2021-03-31"),
            [
                d("2021-01-01"),
                d("2021-03-31"),
                d("2021-01-01"),
                d("2021-03-01"),
                d("2021-04-01")
            ]
        );
        assert!(!needs_daily(&params("2021-01-01", "2021-03-31")));
        assert!(!needs_daily(&params("2021-02-01", "2021-02-28")));
    }

    #[test]
    fn partial_months_are_read_day_by_day() {
        // Whole month February; January 15–31 and March 1–10 by day.
        assert_eq!(
            params("2021-01-15", "2021-03-10"),
            [
                d("2021-01-15"),
                d("2021-03-10"),
                d("2021-02-01"),
                d("2021-02-01"),
                d("2021-03-01")
            ]
        );
        // No whole month inside: everything by day, prefix months up to December.
        assert_eq!(
            params("2021-01-15", "2021-01-20"),
            [
                d("2021-01-15"),
                d("2021-01-20"),
                d("2021-01-21"),
                d("2020-12-01"),
                d("2021-01-01")
            ]
        );
        assert!(needs_daily(&params("2021-01-15", "2021-01-20")));
        assert!(needs_daily(&params("2021-01-01", "2021-03-10")));
        assert!(needs_daily(&params("2021-01-02", "2021-03-31")));
    }
}
