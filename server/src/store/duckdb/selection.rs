//! The embedded store's selection figures: what `Figures` reads beyond the sums, from DuckDB's
//! monthly rollup and dossiers table (monthly resolved counts, processing days, procedures).
use crate::store::figures::{MonthlyResolved, ProcedureFigures, RollupFilter};
use crate::store::view;
use crate::store::StoreFailure;
use ::duckdb::types::ToSql;
use ::duckdb::{params_from_iter, Connection};
use app::selection::DAYS_CAP;
use chrono::NaiveDate;

/// [`Figures::monthly_resolved`](crate::store::figures::Figures::monthly_resolved) on the
/// embedded store.
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
    if let Some((column, keys)) = &f.scope {
        sql.push_str(&format!(" AND {column} IN {}", view::sql_list(keys)));
    }
    sql.push_str(&format!(" GROUP BY {key}, month"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let n = |i: usize| -> ::duckdb::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        out.push((r.get(0)?, r.get(1)?, [n(2)?, n(3)?, n(4)?, n(5)?]));
    }
    Ok(out)
}

/// Conditions on the `dossiers` table for the selection's scope and filters, with their
/// parameters numbered from `$3` (`$1` and `$2` are the period).
fn dossier_conditions(f: &RollupFilter) -> (String, Vec<Box<dyn ToSql>>) {
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(f.period.from), Box::new(f.period.to)];
    let mut sql = String::new();
    if let Some((_, keys)) = &f.scope {
        let list = view::sql_list(keys);
        sql.push_str(&format!(
            " AND unit_code IN (SELECT code FROM units
                 WHERE code IN {list} OR parent_code IN {list} OR district_code IN {list}
                    OR province_code IN {list})"
        ));
    }
    let mut add = |condition: &str, value: String| {
        params.push(Box::new(value));
        sql.push_str(&condition.replace('?', &format!("${}", params.len())));
    };
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

/// [`Figures::resolved_days`](crate::store::figures::Figures::resolved_days) on the embedded
/// store.
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

/// [`Figures::procedure_figures`](crate::store::figures::Figures::procedure_figures) on the
/// embedded store.
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
        let n = |i: usize| -> ::duckdb::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        let code: Option<String> = r.get(0)?;
        figures.insert(
            code.unwrap_or_default(),
            ([n(1)?, n(2)?, n(3)?, n(4)?], r.get(5)?),
        );
    }
    Ok(figures)
}
