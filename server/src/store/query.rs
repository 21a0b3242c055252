//! Indicator queries over the daily rollup: range sums for the period, prefix sums for pending.
use super::StoreFailure;
use app::model::{
    Counts, IndicatorRow, Level, StatsQuery, StatsResponse, TrendPoint, TrendQuery, TrendResponse,
    UnitRef,
};
use chrono::NaiveDate;
use duckdb::types::ToSql;
use duckdb::{params_from_iter, Connection};

fn key_column(level: Level) -> &'static str {
    match level {
        Level::Province => "province_code",
        Level::District => "district_code",
        Level::Commune => "commune_code",
    }
}

/// The sums every figure needs; `$1` is `from`, `$2` is `to` (rows are already limited to day <= to).
const SUMS: &str = "
    coalesce(sum(received) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(received_online) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(received_with_fee) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(paid_online) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(resolved) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(resolved_early) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(resolved_on_time) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(resolved_late) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(resolved_days) FILTER (WHERE day >= $1), 0)::BIGINT,
    coalesce(sum(received - closed), 0)::BIGINT,
    coalesce(sum(due - due_or_closed), 0)::BIGINT";

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
    sql: String,
    params: Vec<Box<dyn ToSql>>,
}

/// `$1` from, `$2` to, then the optional filters in order.
fn filters(query: &StatsQuery) -> Filters {
    let mut sql = String::from("day <= $2");
    let mut params: Vec<Box<dyn ToSql>> =
        vec![Box::new(query.period.from), Box::new(query.period.to)];
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
    Filters { sql, params }
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

/// The counts of one unit (its own dossiers and every unit's under it) with the given filters.
fn scoped_counts(
    conn: &Connection,
    code: &str,
    level: Level,
    f: &Filters,
) -> Result<Counts, StoreFailure> {
    let sql = format!(
        "SELECT {SUMS} FROM daily_rollup WHERE {} AND {} = '{}'",
        f.sql,
        key_column(level),
        code.replace('\'', "''")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row(params_from_iter(f.params.iter()), |r| counts_from_row(r, 0))?)
}

/// A unit's figures per bucket (week or month) of a period.
pub fn trend(conn: &Connection, query: &TrendQuery) -> Result<TrendResponse, StoreFailure> {
    let (level, name) = unit_level(conn, &query.unit)?.ok_or_else(|| StoreFailure::BadQuery {
        field: "unit",
        message: format!("unknown unit code '{}'", query.unit),
    })?;
    let points = app::periods::buckets(query.period, query.bucket)
        .into_iter()
        .map(|bucket| {
            let stats_query = StatsQuery {
                period: bucket,
                level,
                parent: None,
                field: query.field.clone(),
                channel: query.channel,
                dossier_level: query.dossier_level,
            };
            let c = scoped_counts(conn, &query.unit, level, &filters(&stats_query))?;
            Ok(TrendPoint {
                from: bucket.from,
                to: bucket.to,
                figures: IndicatorRow::from_counts(&query.unit, &name, &c),
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

fn unit_level(conn: &Connection, code: &str) -> Result<Option<(Level, String)>, StoreFailure> {
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

pub fn stats(conn: &Connection, query: &StatsQuery) -> Result<StatsResponse, StoreFailure> {
    let parent = match &query.parent {
        Some(code) => {
            let (parent_level, parent_name) =
                unit_level(conn, code)?.ok_or_else(|| StoreFailure::BadQuery {
                    field: "parent",
                    message: format!("unknown unit code '{code}'"),
                })?;
            if parent_level >= query.level {
                return Err(StoreFailure::BadQuery {
                    field: "parent",
                    message: format!(
                        "unit '{code}' is a {parent_level}; it has no {} units under it",
                        query.level
                    ),
                });
            }
            Some((code.clone(), parent_level, parent_name))
        }
        None => None,
    };
    let listed = units(
        conn,
        query.level,
        query.parent.as_deref(),
        Some(query.period.to),
    )?;
    let key = key_column(query.level);
    let f = filters(query);
    let scope = match &parent {
        Some((code, level, _)) => format!(
            " AND {} = '{}'",
            key_column(*level),
            code.replace('\'', "''")
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {key}, {SUMS} FROM daily_rollup WHERE {} AND {key} IS NOT NULL{scope} GROUP BY {key}",
        f.sql
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut by_code = std::collections::HashMap::new();
    let mut rows = stmt.query(params_from_iter(f.params.iter()))?;
    while let Some(r) = rows.next()? {
        by_code.insert(r.get::<_, String>(0)?, counts_from_row(r, 1)?);
    }
    let mut total = Counts::default();
    let units: Vec<IndicatorRow> = listed
        .iter()
        .map(|u| {
            let c = by_code.get(&u.code).copied().unwrap_or_default();
            total.add(&c);
            IndicatorRow::from_counts(&u.code, &u.name, &c)
        })
        .collect();
    let total = match &parent {
        // The parent's own dossiers count too (e.g. provincial departments under a province).
        Some((code, level, name)) => {
            IndicatorRow::from_counts(code, name, &scoped_counts(conn, code, *level, &f)?)
        }
        None => IndicatorRow::from_counts("", "", &total),
    };
    Ok(StatsResponse {
        from: query.period.from,
        to: query.period.to,
        level: query.level,
        units,
        total,
    })
}
