//! Figures of one selection beyond the per-unit stats: sectors, procedures, processing days and
//! the monthly on-time series behind the ranking's sparklines.
use super::query::{counts_by, filters, key_column, unit_level};
use super::StoreFailure;
use app::model::{Counts, IndicatorRow, Level, StatsQuery};
use app::selection::{DaysDistribution, OnlineLevel, ProcedureRow, SelectionQuery, DAYS_CAP};
use chrono::NaiveDate;
use duckdb::types::ToSql;
use duckdb::{params_from_iter, Connection};
use std::collections::HashMap;

/// The rollup condition that keeps `unit` and everything under it ("" for the whole store).
fn rollup_scope(conn: &Connection, unit: Option<&str>) -> Result<String, StoreFailure> {
    let Some(code) = unit else {
        return Ok(String::new());
    };
    let (level, _) = unit_level(conn, code)?.ok_or_else(|| StoreFailure::BadQuery {
        field: "unit",
        message: format!("unknown unit code '{code}'"),
    })?;
    Ok(format!(
        " AND {} = '{}'",
        key_column(level),
        code.replace('\'', "''")
    ))
}

fn as_stats_query(q: &SelectionQuery) -> StatsQuery {
    StatsQuery {
        period: q.period,
        level: Level::Province,
        parent: None,
        field: q.field.clone(),
        channel: q.channel,
        dossier_level: q.dossier_level,
    }
}

/// The selection's figures per sector (field), by sector name.
pub fn by_sector(conn: &Connection, q: &SelectionQuery) -> Result<Vec<IndicatorRow>, StoreFailure> {
    let scope = rollup_scope(conn, q.unit.as_deref())?;
    let f = filters(&as_stats_query(q));
    let clause = format!("{}{scope}", f.sql);
    let by_field = counts_by(conn, "field", &clause, &f)?;
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
    query: &StatsQuery,
) -> Result<HashMap<String, Vec<Counts>>, StoreFailure> {
    let months = app::periods::last_twelve_months(query.period.to);
    let key = key_column(query.level);
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(months[0]), Box::new(months[11])];
    let mut sql = format!(
        "SELECT {key}, month, sum(resolved)::BIGINT, sum(resolved_early)::BIGINT,
                sum(resolved_on_time)::BIGINT, sum(resolved_late)::BIGINT
         FROM monthly_rollup WHERE month >= $1 AND month <= $2 AND {key} IS NOT NULL"
    );
    let mut add = |column: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&format!(" AND {column} = ${}", params.len()));
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
    sql.push_str(&rollup_scope(conn, query.parent.as_deref())?);
    sql.push_str(&format!(" GROUP BY {key}, month"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out: HashMap<String, Vec<Counts>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let code: String = r.get(0)?;
        let month: NaiveDate = r.get(1)?;
        let Some(i) = months.iter().position(|m| *m == month) else {
            continue;
        };
        let n = |i: usize| -> duckdb::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        let series = out
            .entry(code)
            .or_insert_with(|| vec![Counts::default(); 12]);
        series[i] = Counts {
            resolved: n(2)?,
            resolved_early: n(3)?,
            resolved_on_time: n(4)?,
            resolved_late: n(5)?,
            ..Counts::default()
        };
    }
    Ok(out)
}

/// Conditions on the `dossiers` table for the selection's scope and filters, with their
/// parameters numbered from `$3` (`$1` and `$2` are the period).
fn dossier_conditions(q: &SelectionQuery) -> (String, Vec<Box<dyn ToSql>>) {
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(q.period.from), Box::new(q.period.to)];
    let mut sql = String::new();
    let mut add = |condition: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&condition.replace('?', &format!("${}", params.len())));
    };
    if let Some(unit) = &q.unit {
        add(
            " AND unit_code IN (SELECT code FROM units
                 WHERE ? IN (code, parent_code, district_code, province_code))",
            unit.clone(),
        );
    }
    if let Some(field) = &q.field {
        add(" AND field = ?", field.clone());
    }
    if let Some(channel) = q.channel {
        add(" AND channel = ?", channel.as_str().to_string());
    }
    if let Some(level) = q.dossier_level {
        add(" AND level = ?", level.as_str().to_string());
    }
    (sql, params)
}

fn check_unit(conn: &Connection, q: &SelectionQuery) -> Result<(), StoreFailure> {
    rollup_scope(conn, q.unit.as_deref()).map(|_| ())
}

/// Processing days (resolution date − reception date) of the dossiers resolved in the period.
pub fn days_distribution(
    conn: &Connection,
    q: &SelectionQuery,
) -> Result<DaysDistribution, StoreFailure> {
    check_unit(conn, q)?;
    let (conditions, params) = dossier_conditions(q);
    let sql = format!(
        "SELECT least(resolved_date - received_date, {DAYS_CAP})::INTEGER AS d, count(*)::BIGINT
         FROM dossiers WHERE resolved_date >= $1 AND resolved_date <= $2{conditions}
         GROUP BY d"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut counts = vec![0u64; DAYS_CAP as usize + 1];
    while let Some(r) = rows.next()? {
        // A resolution dated before its reception is a source error; it counts as same-day.
        let days = r.get::<_, i32>(0)?.clamp(0, DAYS_CAP as i32) as usize;
        counts[days] += r.get::<_, i64>(1)?.max(0) as u64;
    }
    Ok(DaysDistribution { counts })
}

/// Every catalogued procedure with its figures for the selection (zero when it had no
/// dossier), then procedures that dossiers name but the catalogue lacks; by sector and code.
pub fn procedures(
    conn: &Connection,
    q: &SelectionQuery,
) -> Result<Vec<ProcedureRow>, StoreFailure> {
    check_unit(conn, q)?;
    let (conditions, params) = dossier_conditions(q);
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
    let mut figures: HashMap<String, ([u64; 4], Option<String>)> = HashMap::new();
    {
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
    }
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
