//! Indicator queries over the [`Figures`] of either engine: the units listed, the stats, the
//! trend and a unit's trail. Units and names come from the reference data, a local DuckDB file
//! for both engines; the figures from the engine's rollups.
use super::conversion::Conversion;
use super::figures::{key_column, Figures, RollupFilter};
use super::unit_lists::UnitLists;
use super::view;
use super::StoreFailure;
use app::era::{code_of, Era};
use app::model::{
    ConversionNote, Counts, IndicatorRow, Level, StatsQuery, StatsResponse, TrendPoint, TrendQuery,
    TrendResponse, UnitRef,
};
use chrono::NaiveDate;
use duckdb::Connection;

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
    lists: &UnitLists,
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
    let listed = lists.in_force(
        conn,
        query.level,
        parent.as_ref().map(|p| p.key.as_str()),
        era.units_on(query.period.to),
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
