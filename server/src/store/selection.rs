//! Figures of one selection beyond the per-unit stats: sectors, procedures, processing days and
//! the monthly on-time series behind the ranking's sparklines.
use super::query::{
    key_column, unit_level, Figures, MonthlyResolved, ProcedureFigures, RollupFilter,
};
use super::StoreFailure;
use app::model::{Counts, IndicatorRow, StatsQuery};
use app::selection::{DaysDistribution, OnlineLevel, ProcedureRow, SelectionQuery, DAYS_CAP};
use chrono::NaiveDate;
use duckdb::types::ToSql;
use duckdb::{params_from_iter, Connection};
use std::collections::HashMap;

/// The key column and code that keep `unit` and everything under it (`None` for the whole
/// store); an unknown unit is a bad query.
fn unit_scope(
    conn: &Connection,
    unit: Option<&str>,
) -> Result<Option<(&'static str, String)>, StoreFailure> {
    let Some(code) = unit else {
        return Ok(None);
    };
    let (level, _) = unit_level(conn, code)?.ok_or_else(|| StoreFailure::BadQuery {
        field: "unit",
        message: format!("unknown unit code '{code}'"),
    })?;
    Ok(Some((key_column(level), code.to_string())))
}

fn selection_filter(conn: &Connection, q: &SelectionQuery) -> Result<RollupFilter, StoreFailure> {
    let mut f = RollupFilter::new(q.period, q.field.clone(), q.channel, q.dossier_level);
    f.scope = unit_scope(conn, q.unit.as_deref())?;
    Ok(f)
}

/// The selection's figures per sector (field), by sector name.
pub fn by_sector(
    conn: &Connection,
    figures: &dyn Figures,
    q: &SelectionQuery,
) -> Result<Vec<IndicatorRow>, StoreFailure> {
    let by_field = figures.counts_by(Some("field"), &selection_filter(conn, q)?)?;
    let mut rows: Vec<IndicatorRow> = by_field
        .into_iter()
        .filter_map(|(field, c)| field.map(|f| IndicatorRow::from_counts(&f, &f, &c)))
        .filter(|r| r.received > 0 || r.resolved > 0 || r.pending > 0)
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// Resolved and in-time counts per unit of `level` (under `parent`) for each month of
/// [`app::periods::last_twelve_months`]: the sparklines of the ranking. Whole calendar months from the monthly
/// rollup, so the last month may run past the period's end.
pub fn monthly_on_time(
    conn: &Connection,
    figures: &dyn Figures,
    query: &StatsQuery,
) -> Result<HashMap<String, Vec<Counts>>, StoreFailure> {
    let months = app::periods::last_twelve_months(query.period.to);
    let mut f = RollupFilter::new(
        query.period,
        query.field.clone(),
        query.channel,
        query.dossier_level,
    );
    f.scope = unit_scope(conn, query.parent.as_deref())?;
    f.key_required = true;
    let rows = figures.monthly_resolved(key_column(query.level), months[0], months[11], &f)?;
    let mut out: HashMap<String, Vec<Counts>> = HashMap::new();
    for (code, month, [resolved, early, on_time, late]) in rows {
        let Some(i) = months.iter().position(|m| *m == month) else {
            continue;
        };
        let series = out
            .entry(code)
            .or_insert_with(|| vec![Counts::default(); 12]);
        series[i] = Counts {
            resolved,
            resolved_early: early,
            resolved_on_time: on_time,
            resolved_late: late,
            ..Counts::default()
        };
    }
    Ok(out)
}

/// [`Figures::monthly_resolved`] on the embedded store.
pub(super) fn duck_monthly_resolved(
    conn: &Connection,
    key: &str,
    first: NaiveDate,
    last: NaiveDate,
    f: &RollupFilter,
) -> Result<Vec<MonthlyResolved>, StoreFailure> {
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(first), Box::new(last)];
    let mut sql = format!(
        "SELECT {key}, month, sum(resolved)::BIGINT, sum(resolved_early)::BIGINT,
                sum(resolved_on_time)::BIGINT, sum(resolved_late)::BIGINT
         FROM monthly_rollup WHERE month >= $1 AND month <= $2"
    );
    if f.key_required {
        sql.push_str(&format!(" AND {key} IS NOT NULL"));
    }
    let mut add = |column: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&format!(" AND {column} = ${}", params.len()));
    };
    if let Some(field) = &f.field {
        add("field", field.clone());
    }
    if let Some(channel) = f.channel {
        add("channel", channel.as_str().to_string());
    }
    if let Some(level) = f.dossier_level {
        add("dossier_level", level.as_str().to_string());
    }
    if let Some((column, code)) = &f.scope {
        add(column, code.clone());
    }
    sql.push_str(&format!(" GROUP BY {key}, month"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let n = |i: usize| -> duckdb::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        out.push((r.get(0)?, r.get(1)?, [n(2)?, n(3)?, n(4)?, n(5)?]));
    }
    Ok(out)
}

/// Conditions on the `dossiers` table for the selection's scope and filters, with their
/// parameters numbered from `$3` (`$1` and `$2` are the period).
fn dossier_conditions(f: &RollupFilter) -> (String, Vec<Box<dyn ToSql>>) {
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(f.period.from), Box::new(f.period.to)];
    let mut sql = String::new();
    let mut add = |condition: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&condition.replace('?', &format!("${}", params.len())));
    };
    if let Some((_, unit)) = &f.scope {
        add(
            " AND unit_code IN (SELECT code FROM units
                 WHERE ? IN (code, parent_code, district_code, province_code))",
            unit.clone(),
        );
    }
    if let Some(field) = &f.field {
        add(" AND field = ?", field.clone());
    }
    if let Some(channel) = f.channel {
        add(" AND channel = ?", channel.as_str().to_string());
    }
    if let Some(level) = f.dossier_level {
        add(" AND level = ?", level.as_str().to_string());
    }
    (sql, params)
}

/// Processing days (resolution date − reception date) of the dossiers resolved in the period.
pub fn days_distribution(
    conn: &Connection,
    figures: &dyn Figures,
    q: &SelectionQuery,
) -> Result<DaysDistribution, StoreFailure> {
    let rows = figures.resolved_days(&selection_filter(conn, q)?)?;
    let mut counts = vec![0u64; DAYS_CAP as usize + 1];
    for (days, dossiers) in rows {
        // A resolution dated before its reception is a source error; it counts as same-day.
        counts[days.clamp(0, DAYS_CAP as i32) as usize] += dossiers;
    }
    Ok(DaysDistribution { counts })
}

/// [`Figures::resolved_days`] on the embedded store.
pub(super) fn duck_resolved_days(
    conn: &Connection,
    f: &RollupFilter,
) -> Result<Vec<(i32, u64)>, StoreFailure> {
    let (conditions, params) = dossier_conditions(f);
    let sql = format!(
        "SELECT least(resolved_date - received_date, {DAYS_CAP})::INTEGER AS d, count(*)::BIGINT
         FROM dossiers WHERE resolved_date >= $1 AND resolved_date <= $2{conditions}
         GROUP BY d"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((r.get::<_, i32>(0)?, r.get::<_, i64>(1)?.max(0) as u64));
    }
    Ok(out)
}

/// [`Figures::procedure_figures`] on the embedded store.
pub(super) fn duck_procedure_figures(
    conn: &Connection,
    f: &RollupFilter,
) -> Result<ProcedureFigures, StoreFailure> {
    let (conditions, params) = dossier_conditions(f);
    let sql = format!(
        "SELECT procedure,
                count(*) FILTER (WHERE received_date >= $1 AND received_date <= $2)::BIGINT,
                count(*) FILTER (WHERE received_date >= $1 AND received_date <= $2
                                   AND channel = 'online')::BIGINT,
                count(*) FILTER (WHERE resolved_date >= $1 AND resolved_date <= $2)::BIGINT,
                count(*) FILTER (WHERE resolved_date >= $1 AND resolved_date <= $2
                                   AND resolved_date <= due_date)::BIGINT,
                any_value(field)
         FROM dossiers
         WHERE ((received_date >= $1 AND received_date <= $2)
                OR (resolved_date >= $1 AND resolved_date <= $2)){conditions}
         GROUP BY procedure"
    );
    let mut figures = ProcedureFigures::new();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    while let Some(r) = rows.next()? {
        let n = |i: usize| -> duckdb::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        let code: Option<String> = r.get(0)?;
        figures.insert(
            code.unwrap_or_default(),
            ([n(1)?, n(2)?, n(3)?, n(4)?], r.get(5)?),
        );
    }
    Ok(figures)
}

/// Every catalogued procedure with its figures for the selection (zero when it had no
/// dossier), then procedures that dossiers name but the catalogue lacks; by sector and code.
pub fn procedures(
    conn: &Connection,
    figures: &dyn Figures,
    q: &SelectionQuery,
) -> Result<Vec<ProcedureRow>, StoreFailure> {
    let mut figures = figures.procedure_figures(&selection_filter(conn, q)?)?;
    let row =
        |code: String, name: String, field: String, level: Option<OnlineLevel>, f: [u64; 4]| {
            ProcedureRow {
                code,
                name,
                field,
                online_level: level,
                received: f[0],
                received_online: f[1],
                resolved: f[2],
                resolved_in_time: f[3],
                resolved_late: f[2] - f[3].min(f[2]),
            }
        };
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT code, name, field, online_level FROM procedures ORDER BY field, code",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let code: String = r.get(0)?;
        let level: String = r.get(3)?;
        let level = level.parse().map_err(StoreFailure::Corrupt)?;
        let (f, _) = figures.remove(&code).unwrap_or_default();
        out.push(row(code, r.get(1)?, r.get(2)?, Some(level), f));
    }
    let mut uncatalogued: Vec<_> = figures.into_iter().collect();
    uncatalogued.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, (f, field)) in uncatalogued {
        out.push(row(code.clone(), code, field.unwrap_or_default(), None, f));
    }
    Ok(out)
}
