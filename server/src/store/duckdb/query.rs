//! The embedded store's figures ([`DuckFigures`]): range sums for the period and prefix sums for
//! pending, read from DuckDB's daily and monthly rollups.
use crate::store::counters::RANGE_COUNTERS;
use crate::store::figures::{
    needs_daily, period_params, Figures, MonthlyResolved, ProcedureFigures, RollupFilter,
};
use crate::store::StoreFailure;
use ::duckdb::types::ToSql;
use ::duckdb::{params_from_iter, Connection};
use app::model::Counts;
use chrono::NaiveDate;
use std::collections::HashMap;

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
/// Parameters ([`period_params`]): `$1` from, `$2` to, `$3` first day of the first whole month
/// inside the period (to + 1 when there is none), `$4` the last whole month ending on or before
/// `to` (its first day), `$5` the day after that month (from there on, prefix sums read day by
/// day).
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
            clause.push_str(&format!(
                " AND {column} IN {}",
                crate::store::view::sql_list(keys)
            ));
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

/// Reads the counters of a [`sums_by`] row (sums of counts are never negative in a consistent
/// store; clamping keeps a damaged one from wrapping around).
fn counts_from_row(r: &::duckdb::Row<'_>, offset: usize) -> ::duckdb::Result<Counts> {
    let n = |i: usize| -> ::duckdb::Result<u64> { Ok(r.get::<_, i64>(offset + i)?.max(0) as u64) };
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
