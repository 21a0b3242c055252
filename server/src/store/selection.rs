//! Figures of one selection beyond the per-unit stats: sectors, procedures, processing days and
//! the monthly on-time series behind the ranking's sparklines, over the [`Figures`] of either
//! engine.
use super::conversion::Conversion;
use super::figures::{key_column, Figures, RollupFilter};
use super::view::{self, Shareable, ViewUnit};
use super::StoreFailure;
use app::era::Era;
use app::model::{Counts, IndicatorRow, StatsQuery};
use app::selection::{DaysDistribution, OnlineLevel, ProcedureRow, SelectionQuery, DAYS_CAP};
use chrono::NaiveDate;
use duckdb::Connection;
use std::collections::HashMap;

/// The unit a selection describes, in the era of its view (`None`: the whole country).
fn selection_unit(
    conn: &Connection,
    q: &SelectionQuery,
) -> Result<(Era, Option<ViewUnit>), StoreFailure> {
    let era = view::era_of(q.units, q.period.to)?;
    let unit = q
        .unit
        .as_deref()
        .map(|code| view::view_unit(conn, code, era, "unit"))
        .transpose()?;
    Ok((era, unit))
}

/// Runs `run` on the selection's rows: the whole store, or the unit's gathered rows (its old
/// units' too on today's units, split communes shared).
fn on_selection<V: Shareable>(
    conn: &Connection,
    conversion: &Conversion,
    q: &SelectionQuery,
    run: &dyn Fn(&RollupFilter) -> Result<V, StoreFailure>,
) -> Result<V, StoreFailure> {
    let f = RollupFilter::new(q.period, q.field.clone(), q.channel, q.dossier_level);
    match selection_unit(conn, q)? {
        (_, None) => run(&f),
        (era, Some(unit)) => Ok(view::gathered(
            conversion,
            era,
            &unit,
            &|column, keys| {
                let mut f = f.clone();
                f.scope = Some((column, keys));
                run(&f)
            },
            &|_| 0,
        )?
        .0),
    }
}

/// The selection's figures per sector (field), by sector name.
pub fn by_sector(
    conn: &Connection,
    figures: &dyn Figures,
    conversion: &Conversion,
    q: &SelectionQuery,
) -> Result<Vec<IndicatorRow>, StoreFailure> {
    let by_field = on_selection(conn, conversion, q, &|f| {
        figures.counts_by(Some("field"), f)
    })?;
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
    conversion: &Conversion,
    query: &StatsQuery,
) -> Result<HashMap<String, Vec<Counts>>, StoreFailure> {
    let months = app::periods::last_twelve_months(query.period.to);
    let era = view::era_of(query.units, query.period.to)?;
    let mut f = RollupFilter::new(
        query.period,
        query.field.clone(),
        query.channel,
        query.dossier_level,
    );
    if let Some(code) = query.parent.as_deref() {
        let unit = view::view_unit(conn, code, era, "parent")?;
        f.scope = Some(view::gather(conversion, era, &unit));
    }
    f.key_required = true;
    let rows = figures.monthly_resolved(key_column(query.level), months[0], months[11], &f)?;
    let mut grouped: HashMap<Option<String>, HashMap<NaiveDate, [u64; 4]>> = HashMap::new();
    for (key, month, counts) in rows {
        grouped.entry(Some(key)).or_default().insert(month, counts);
    }
    let folded = view::fold(conversion, era, query.level, grouped, |_| 0);
    let mut out: HashMap<String, Vec<Counts>> = HashMap::new();
    let by_month = folded
        .by_unit
        .into_iter()
        .flat_map(|(key, months)| months.into_iter().map(move |(m, c)| (key.clone(), m, c)));
    for (key, month, [resolved, early, on_time, late]) in by_month {
        let code = app::era::code_of(&key).to_string();
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

/// Processing days (resolution date − reception date) of the dossiers resolved in the period.
pub fn days_distribution(
    conn: &Connection,
    figures: &dyn Figures,
    conversion: &Conversion,
    q: &SelectionQuery,
) -> Result<DaysDistribution, StoreFailure> {
    let rows: HashMap<i32, u64> = on_selection(conn, conversion, q, &|f| {
        Ok(figures.resolved_days(f)?.into_iter().collect())
    })?;
    let mut counts = vec![0u64; DAYS_CAP as usize + 1];
    for (days, dossiers) in rows {
        // A resolution dated before its reception is a source error; it counts as same-day.
        counts[days.clamp(0, DAYS_CAP as i32) as usize] += dossiers;
    }
    Ok(DaysDistribution { counts })
}

/// Every catalogued procedure with its figures for the selection (zero when it had no
/// dossier), then procedures that dossiers name but the catalogue lacks; by sector and code.
pub fn procedures(
    conn: &Connection,
    figures: &dyn Figures,
    conversion: &Conversion,
    q: &SelectionQuery,
) -> Result<Vec<ProcedureRow>, StoreFailure> {
    let mut figures = on_selection(conn, conversion, q, &|f| figures.procedure_figures(f))?;
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
