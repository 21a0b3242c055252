//! The embedded store's figures ([`DuckFigures`]): range sums for the period and prefix sums for
//! pending, read from DuckDB's daily and monthly rollups; with the store's [`PastCache`], the
//! sums of the months before the period's last are kept between reads.
use super::past::{PastCache, Sums};
use crate::store::counters::RANGE_COUNTERS;
use crate::store::figures::{
    needs_daily, period_params, Figures, MonthlyResolved, ProcedureFigures, RollupFilter,
};
use crate::store::StoreFailure;
use ::duckdb::types::ToSql;
use ::duckdb::{params_from_iter, Connection};
use app::model::Counts;
use chrono::{Datelike, NaiveDate};
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

/// Part 2 of a [`sums_by`]-shaped statement: the days of the period's last month in one scan,
/// the range sums of days from the period's first day in it and the pending sums of every day
/// of it. Its three dates are the parameters from `$first`: the period's first day in the
/// month, its last day, the month's first day. From `daily_rollup`; from the month's row of
/// `monthly_rollup` when the period holds the whole month (`whole`), as a past quarter or month
/// does.
fn current_month_by(key: &str, clause: &str, whole: bool, first: usize) -> String {
    let (from, to, month) = (
        format!("${first}"),
        format!("${}", first + 1),
        format!("${}", first + 2),
    );
    let (table, days, within) = if whole {
        (
            "monthly_rollup",
            format!("month = {month} AND {from} = {month} AND {to} IS NOT NULL"),
            "TRUE".to_string(),
        )
    } else {
        (
            "daily_rollup",
            format!("day >= {month} AND day <= {to}"),
            format!("day >= {from}"),
        )
    };
    let range_sums = RANGE_COUNTERS
        .iter()
        .map(|c| format!("coalesce(sum({c}) FILTER (WHERE {within}), 0)::BIGINT"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {key} AS k, 2 AS part, {range_sums},
                sum(received - closed)::BIGINT, sum(due - due_or_closed)::BIGINT
         FROM {table}
         WHERE {days}{clause}
         GROUP BY k"
    )
}

/// Runs a statement of [`sums_by`]'s parts and [`current_month_by`]'s: parts 0 and 1 are the
/// months before the last, part 2 the last month's days.
fn read_parts(conn: &Connection, sql: &str, f: &Filters) -> Result<(Sums, Sums), StoreFailure> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(f.params.iter()))?;
    let (mut past, mut current) = (Sums::default(), Sums::default());
    while let Some(r) = rows.next()? {
        let k: Option<String> = r.get(0)?;
        let part: i32 = r.get(1)?;
        let open = [
            r.get::<_, Option<i64>>(2 + 9)?.unwrap_or(0),
            r.get::<_, Option<i64>>(2 + 10)?.unwrap_or(0),
        ];
        let sums = if part == 2 { &mut current } else { &mut past };
        if part != 1 {
            let mut range = counts_from_row(r, 2)?;
            (range.pending, range.pending_overdue) = (0, 0);
            sums.range.entry(k.clone()).or_default().add(&range);
        }
        if part != 0 {
            let sum = sums.open.entry(k).or_default();
            sum[0] += open[0];
            sum[1] += open[1];
        }
    }
    Ok((past, current))
}

/// The embedded store's figures, read on one connection.
pub struct DuckFigures<'c> {
    conn: &'c Connection,
    past: Option<&'c PastCache>,
}

impl<'c> DuckFigures<'c> {
    /// Figures read whole at every call (maintenance, tests).
    pub fn new(conn: &'c Connection) -> Self {
        DuckFigures { conn, past: None }
    }

    /// Figures that keep the sums of past months in `past`.
    pub fn kept(conn: &'c Connection, past: &'c PastCache) -> Self {
        DuckFigures {
            conn,
            past: Some(past),
        }
    }
}

impl Figures for DuckFigures<'_> {
    fn counts_by(
        &self,
        key: Option<&'static str>,
        f: &RollupFilter,
    ) -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
        let mut clause = String::new();
        if let Some((column, keys)) = &f.scope {
            clause.push_str(&format!(
                " AND {column} IN {}",
                crate::store::view::sql_list(keys)
            ));
        }
        if let (Some(key), true) = (key, f.key_required) {
            clause.push_str(&format!(" AND {key} IS NOT NULL"));
        }
        let column = key.unwrap_or("NULL::VARCHAR");
        let (from, to) = (f.period.from, f.period.to);
        let split = to
            .with_day(1)
            .and_then(|month| Some((month, month.pred_opt()?)));
        // The period in one statement, nothing kept.
        let read_whole_period = || -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
            let filters = filters(f, period_params(f.period)?);
            let clause = format!("{}{clause}", filters.sql);
            let mut open = PastSumsByKey::new();
            let out = read_whole(self.conn, column, &clause, &filters, &mut open)?;
            Ok(with_open(out, open))
        };
        let (Some(cache), Some((month, last_past_day))) = (self.past, split) else {
            return read_whole_period();
        };
        // The period splits at its last month: the months before it (kept while no commit
        // changes one of them) and the days of that month (kept until the next commit). A
        // period inside one month has no range sums in the past, only the pending sums.
        // What both depend on: the grouping, the filters and the scope, written out.
        let read_as = format!(
            "{column}|{:?}|{:?}|{:?}|{:?}|{}",
            f.field, f.channel, f.dossier_level, f.scope, f.key_required
        );
        let past_from = from.min(month);
        let kept_as = format!("{read_as}|{past_from}");
        let through = last_past_day.with_day(1).unwrap_or(last_past_day);
        // The days of the last month: the same for every period ending on `to` that starts
        // before them (a month, a quarter, 30 days).
        let days_from = from.max(month);
        let whole = days_from == month && to.succ_opt().is_some_and(|next| next.day() == 1);
        let current_as = format!("{read_as}|{days_from}|{to}");
        // Taken before anything kept is looked at: if a commit lands before the figures are
        // put together, kept and fresh parts may straddle it, and the period is read whole.
        let generation = cache.generation();
        let (kept_past, kept_current) = (cache.get(&kept_as, through), cache.current(&current_as));
        let any_kept = kept_past.is_some() || kept_current.is_some();
        let (past, current) = match (kept_past, kept_current) {
            (Some(past), Some(current)) => (past, current),
            (past, current) => {
                // One statement reads what is not kept: the months before the last (for a
                // period inside one month, a day of the month before: only its pending sums
                // are the period's) with their own dates, and the last month's days with theirs
                // after the filters' parameters.
                let (sql, filters) = if past.is_none() {
                    let period = app::model::Period {
                        from: past_from.min(last_past_day),
                        to: last_past_day,
                    };
                    let mut filters = filters(f, period_params(period)?);
                    let clause = format!("{}{clause}", filters.sql);
                    let mut sql = sums_by(column, &clause, filters.daily);
                    if current.is_none() {
                        let first = filters.params.len() + 1;
                        filters
                            .params
                            .extend([days_from, to, month].map(|d| Box::new(d) as Box<dyn ToSql>));
                        sql.push_str(" UNION ALL ");
                        sql.push_str(&current_month_by(column, &clause, whole, first));
                    }
                    (sql, filters)
                } else {
                    // The last month's days alone: its dates are the first three parameters
                    // (the last two unused, but every parameter must appear).
                    let filters = filters(f, [days_from, to, month, month, month]);
                    let clause = format!(
                        " AND $4 IS NOT NULL AND $5 IS NOT NULL{}{clause}",
                        filters.sql
                    );
                    (current_month_by(column, &clause, whole, 1), filters)
                };
                let (mut read_past, read_current) = read_parts(self.conn, &sql, &filters)?;
                let past = past.unwrap_or_else(|| {
                    if past_from == month {
                        read_past.range.clear();
                    }
                    let past = std::sync::Arc::new(read_past);
                    cache.put(kept_as, through, generation, past.clone());
                    past
                });
                let current = current.unwrap_or_else(|| {
                    let current = std::sync::Arc::new(read_current);
                    cache.put_current(current_as, generation, current.clone());
                    current
                });
                (past, current)
            }
        };
        if any_kept && cache.generation() != generation {
            return read_whole_period();
        }
        let mut out = past.range.clone();
        for (k, c) in &current.range {
            out.entry(k.clone()).or_default().add(c);
        }
        let mut open = past.open.clone();
        for (k, [pending, overdue]) in &current.open {
            let sum = open.entry(k.clone()).or_default();
            sum[0] += pending;
            sum[1] += overdue;
        }
        Ok(with_open(out, open))
    }

    fn monthly_resolved(
        &self,
        key: &'static str,
        first: NaiveDate,
        last: NaiveDate,
        f: &RollupFilter,
    ) -> Result<Vec<MonthlyResolved>, StoreFailure> {
        super::selection::duck_monthly_resolved(self.conn, key, first, last, f)
    }

    fn resolved_days(&self, f: &RollupFilter) -> Result<Vec<(i32, u64)>, StoreFailure> {
        super::selection::duck_resolved_days(self.conn, f)
    }

    fn procedure_figures(&self, f: &RollupFilter) -> Result<ProcedureFigures, StoreFailure> {
        super::selection::duck_procedure_figures(self.conn, f)
    }
}

/// Signed pending sums per key (see [`with_open`]).
type PastSumsByKey = HashMap<Option<String>, [i64; 2]>;

/// Runs [`sums_by`]: the range sums per key, and the pending sums added to `open`, signed.
fn read_whole(
    conn: &Connection,
    key: &str,
    clause: &str,
    f: &Filters,
    open: &mut PastSumsByKey,
) -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
    let mut stmt = conn.prepare_cached(&sums_by(key, clause, f.daily))?;
    let mut rows = stmt.query(params_from_iter(f.params.iter()))?;
    let mut out: HashMap<Option<String>, Counts> = HashMap::new();
    while let Some(r) = rows.next()? {
        let k: Option<String> = r.get(0)?;
        let part: i32 = r.get(1)?;
        if part == 0 {
            let range = counts_from_row(r, 2)?;
            out.entry(k).or_default().add(&range);
        } else {
            let sum = open.entry(k).or_default();
            sum[0] += r.get::<_, i64>(2 + 9)?;
            sum[1] += r.get::<_, i64>(2 + 10)?;
        }
    }
    Ok(out)
}

/// The range sums with the pending sums added: every key of either has a row, as when both
/// come from one query. Sums of counts are never negative in a consistent store; clamping the
/// whole sum (a month's own can be: more closed than received) keeps a damaged store from
/// wrapping around.
fn with_open(
    mut out: HashMap<Option<String>, Counts>,
    open: PastSumsByKey,
) -> HashMap<Option<String>, Counts> {
    for (k, [pending, overdue]) in open {
        let c = out.entry(k).or_default();
        c.pending = pending.max(0) as u64;
        c.pending_overdue = overdue.max(0) as u64;
    }
    out
}

/// Reads the range counters of a [`sums_by`] row (sums of counts are never negative in a
/// consistent store; clamping keeps a damaged one from wrapping around).
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

/// The filters of `query` as SQL and parameters, after the five dates `period` (see
/// [`sums_by`]).
fn filters(query: &RollupFilter, period: [NaiveDate; 5]) -> Filters {
    let mut sql = String::new();
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
    Filters { sql, daily, params }
}

#[cfg(test)]
mod tests {
    use crate::store::duckdb::test_store::{ingest_json as ingest, open_temp as store};
    use crate::store::DuckStore;
    use app::model::{Level, Period, StatsQuery};
    use app::store::IndicatorStore;
    use serde_json::{json, Value};

    fn received(n: u32, at: &str, due: &str) -> Value {
        json!({"event_id": format!("r{n}"), "dossier_id": format!("d{n}"), "type": "received",
               "at": at, "unit": "20398", "level": "commune", "procedure": "DD-01",
               "field": "Đất đai", "channel": "direct", "due": due, "fee": false})
    }

    /// A reception the filters tell apart: another unit and level, field and channel.
    fn received_elsewhere(n: u32, at: &str, unit: &str, level: &str, field: &str) -> Value {
        json!({"event_id": format!("r{n}"), "dossier_id": format!("d{n}"), "type": "received",
               "at": at, "unit": unit, "level": level, "procedure": "DD-01",
               "field": field, "channel": "online", "due": "2021-03-30T17:00:00+07:00", "fee": false})
    }

    fn resolved(n: u32, at: &str) -> Value {
        json!({"event_id": format!("x{n}"), "dossier_id": format!("d{n}"), "type": "resolved",
               "at": at})
    }

    /// (pending, pending overdue) of the province's total, as the store answers now.
    fn pending(store: &DuckStore, from: &str, to: &str) -> (u64, u64) {
        let answer = store
            .stats(&StatsQuery {
                period: Period {
                    from: from.parse().unwrap(),
                    to: to.parse().unwrap(),
                },
                level: Level::Commune,
                parent: Some("49".into()),
                field: None,
                channel: None,
                dossier_level: None,
                units: app::era::UnitsView::Historical,
            })
            .unwrap();
        (answer.total.pending, answer.total.pending_overdue)
    }

    #[test]
    fn kept_past_months_give_way_to_a_commit_that_changes_one_of_them() {
        let (_dir, store) = store();
        ingest(
            &store,
            &[
                received(1, "2021-03-01T09:00:00+07:00", "2021-03-10T17:00:00+07:00"),
                received(2, "2021-04-05T09:00:00+07:00", "2021-05-20T17:00:00+07:00"),
            ],
        );
        // Through April from the monthly rollup (kept), May's first half day by day.
        assert_eq!(pending(&store, "2021-05-01", "2021-05-15"), (2, 1));
        assert_eq!(store.past.held(), 1);
        assert_eq!(pending(&store, "2021-05-01", "2021-05-15"), (2, 1));
        // A resolution dated in March changes a month the kept sums cover.
        ingest(&store, &[resolved(1, "2021-03-09T10:00:00+07:00")]);
        assert_eq!(pending(&store, "2021-05-01", "2021-05-15"), (1, 0));
        // One dated in May changes only the days read afresh: the sums stay kept and right.
        ingest(&store, &[resolved(2, "2021-05-10T10:00:00+07:00")]);
        assert_eq!(pending(&store, "2021-05-01", "2021-05-15"), (0, 0));
        assert_eq!(pending(&store, "2021-04-10", "2021-05-09"), (1, 0));
    }

    #[test]
    fn figures_with_kept_past_months_equal_figures_read_whole_for_every_period() {
        use crate::store::figures::{Figures, RollupFilter};
        let (_dir, store) = store();
        ingest(
            &store,
            &[
                received(1, "2021-01-04T09:00:00+07:00", "2021-01-20T17:00:00+07:00"),
                received(2, "2021-02-05T09:00:00+07:00", "2021-02-10T17:00:00+07:00"),
                received(3, "2021-03-05T09:00:00+07:00", "2021-04-10T17:00:00+07:00"),
                received(4, "2021-03-31T09:00:00+07:00", "2021-04-02T17:00:00+07:00"),
                resolved(1, "2021-02-02T10:00:00+07:00"),
                resolved(3, "2021-03-31T10:00:00+07:00"),
                // Outside the filtered figures: another province, a district (no commune),
                // another field; all online.
                received_elsewhere(6, "2021-02-10T09:00:00+07:00", "48", "province", "Đất đai"),
                received_elsewhere(7, "2021-03-10T09:00:00+07:00", "502", "district", "Đất đai"),
                received_elsewhere(
                    8,
                    "2021-01-20T09:00:00+07:00",
                    "20398",
                    "commune",
                    "Tư pháp",
                ),
            ],
        );
        let mut told_apart = 0;
        // The store's own: the writer tells it which months each commit changed.
        let cache = &*store.past;
        let days = [
            "2020-12-31",
            "2021-01-01",
            "2021-01-15",
            "2021-01-31",
            "2021-02-01",
            "2021-02-20",
            "2021-02-28",
            "2021-03-01",
            "2021-03-15",
            "2021-03-31",
            "2021-04-10",
            "2021-04-30",
        ];
        let mut compare = |round: &str| {
            store
                .with_reader(|c| {
                    for (i, from) in days.iter().enumerate() {
                        for to in &days[i..] {
                            let period = Period {
                                from: from.parse().unwrap(),
                                to: to.parse().unwrap(),
                            };
                            // Without filters, and with a field, a scope and keys required
                            // (parameters after the dates in every statement).
                            let plain = RollupFilter::new(period, None, None, None);
                            let mut filtered = RollupFilter::new(
                                period,
                                Some("Đất đai".into()),
                                Some(app::model::Channel::Direct),
                                None,
                            );
                            filtered.scope = Some(("province_code", vec!["49".into()]));
                            filtered.key_required = true;
                            for (key, f) in [
                                (Some("commune_code"), &plain),
                                (None, &plain),
                                (Some("commune_code"), &filtered),
                            ] {
                                let whole = super::DuckFigures::new(c).counts_by(key, f)?;
                                if std::ptr::eq(f, &filtered) {
                                    let unfiltered =
                                        super::DuckFigures::new(c).counts_by(key, &plain)?;
                                    told_apart += usize::from(unfiltered != whole);
                                }
                                // Twice: once keeping the past months' figures, once using them.
                                for _ in 0..2 {
                                    let kept =
                                        super::DuckFigures::kept(c, cache).counts_by(key, f)?;
                                    assert_eq!(kept, whole, "{round}: {from}..{to} by {key:?}");
                                }
                            }
                        }
                    }
                    Ok(())
                })
                .unwrap()
        };
        compare("first");
        // Commits that change past months, and one that changes only the last: the kept
        // figures of the months changed give way, the others stay right.
        ingest(&store, &[resolved(2, "2021-02-15T10:00:00+07:00")]);
        compare("after a resolution in February");
        ingest(
            &store,
            &[received(
                5,
                "2021-04-20T09:00:00+07:00",
                "2021-04-29T17:00:00+07:00",
            )],
        );
        compare("after a reception in April");
        ingest(&store, &[resolved(4, "2021-04-01T10:00:00+07:00")]);
        compare("after a resolution in April of a dossier received in March");
        assert!(
            told_apart > 100,
            "the filters change the figures: {told_apart}"
        );
    }
}
