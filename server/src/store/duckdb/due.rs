//! The embedded store's due-soon list: dossiers open now and due within the window, of a unit and
//! every unit under it. Callers check access before calling.
use super::DuckStore;
use crate::store::due::{open_stage, DueWindow};
use crate::store::view::{gather, ViewUnit};
use crate::store::StoreFailure;
use ::duckdb::params_from_iter;
use ::duckdb::types::ToSql;
use app::due::{DuePage, DueQuery, DueRow, DueSort};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

fn order_column(sort: DueSort) -> &'static str {
    match sort {
        DueSort::Due => "d.due_date",
        DueSort::DossierId => "d.dossier_id",
        DueSort::Procedure => "procedure_name",
        DueSort::Field => "d.field",
        DueSort::Agency => "d.agency",
        DueSort::Received => "d.received_date",
    }
}

impl DuckStore {
    /// The dossiers of `q.unit` (a store key) open now and due from `today` within `q.within`
    /// working days.
    pub fn due_dossiers(&self, q: &DueQuery, today: NaiveDate) -> Result<DuePage, StoreFailure> {
        let window = DueWindow::new(q, today, self.calendar());
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(window.today), Box::new(window.until)];
        let filters =
            self.dossier_filters(&q.unit, [&q.field, &q.procedure, &q.agency], &mut params)?;
        // Open now: neither resolved nor withdrawn (the dossier table holds the current state).
        let base = format!(
            "FROM dossiers d LEFT JOIN procedures p ON p.code = d.procedure
             WHERE d.due_date BETWEEN $1 AND $2 AND d.received_date IS NOT NULL
               AND d.resolved_date IS NULL AND d.withdrawn_date IS NULL{filters}"
        );
        self.with_reader(|c| {
            let total: i64 = c
                .prepare(&format!("SELECT count(*) {base}"))?
                .query_row(params_from_iter(params.iter()), |r| r.get(0))?;
            let direction = if q.descending { "DESC" } else { "ASC" };
            let offset = u64::from(q.page.saturating_sub(1)) * u64::from(q.page_size);
            let sql = format!(
                "WITH page AS (
                    SELECT d.dossier_id, d.unit_code, d.procedure, d.field, d.agency,
                           d.received_date, d.due_date, d.last_seq,
                           coalesce(p.name, d.procedure) AS procedure_name
                    {base}
                    ORDER BY {order} {direction} NULLS LAST, d.dossier_id
                    LIMIT {limit} OFFSET {offset}
                 )
                 SELECT page.*, e.event_type, u.name FROM page
                 LEFT JOIN events e ON e.seq = page.last_seq
                 LEFT JOIN units u ON u.code = page.unit_code
                 ORDER BY {order_outer} {direction} NULLS LAST, page.dossier_id",
                order = order_column(q.sort),
                order_outer = order_column(q.sort).replace("d.", "page."),
                limit = q.page_size,
            );
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(DueRow {
                    dossier_id: r.get(0)?,
                    unit_code: app::era::code_of(&r.get::<_, String>(1)?).to_string(),
                    procedure: r.get(2)?,
                    field: r.get(3)?,
                    agency: r.get(4)?,
                    received: r.get(5)?,
                    due: r.get(6)?,
                    procedure_name: r.get(8)?,
                    working_days_left: 0,
                    stage: open_stage(r.get::<_, Option<String>>(9)?.as_deref()),
                    unit_name: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                });
            }
            Ok(window.page(total as u64, out, self.calendar()))
        })
    }
}

impl DuckStore {
    /// Open dossiers due from `today` through `until`, per handling unit (store key).
    pub fn due_counts(
        &self,
        today: NaiveDate,
        until: NaiveDate,
    ) -> Result<HashMap<String, u64>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT unit_code, count(*) FROM dossiers
                 WHERE due_date BETWEEN ? AND ? AND received_date IS NOT NULL
                   AND resolved_date IS NULL AND withdrawn_date IS NULL
                 GROUP BY unit_code",
            )?;
            let rows = stmt.query_map(::duckdb::params![today, until], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
    }

    /// The units whose dossiers a list of each of `units` covers (see [`Self::due_dossiers`]):
    /// the unit, every unit under it, and for a unit of today the old units that went into it
    /// and theirs (the list's [`crate::store::late::late_scope`]). One read of the units table
    /// answers them all: the alert rules ask for every commune of today at once, and one query
    /// per unit took seven seconds for the country.
    pub fn covered_units(
        &self,
        units: &[String],
    ) -> Result<HashMap<String, HashSet<String>>, StoreFailure> {
        self.with_reader(|c| {
            let mut level_of: HashMap<String, app::model::Level> = HashMap::new();
            // Each unit's code under every unit above it (parent, district, province).
            let mut under: HashMap<String, Vec<String>> = HashMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT code, level, parent_code, district_code, province_code FROM units",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(0)?;
                for i in 2..5 {
                    if let Some(above) = r.get::<_, Option<String>>(i)? {
                        under.entry(above).or_default().push(code.clone());
                    }
                }
                let level: String = r.get(1)?;
                level_of.insert(code, level.parse().map_err(StoreFailure::Corrupt)?);
            }
            Ok(units
                .iter()
                .map(|unit| {
                    let keys = match level_of.get(unit) {
                        Some(&level) => {
                            let unit = ViewUnit {
                                key: unit.clone(),
                                level,
                                name: String::new(),
                            };
                            gather(self.conversion(), app::era::Era::of_key(&unit.key), &unit).1
                        }
                        None => vec![unit.clone()],
                    };
                    let mut covered: HashSet<String> = keys
                        .iter()
                        .filter_map(|k| under.get(k))
                        .flatten()
                        .cloned()
                        .collect();
                    covered.extend(keys);
                    (unit.clone(), covered)
                })
                .collect())
        })
    }

    /// Today's provinces (public codes) of the dossiers with events after change `after`, and
    /// the newest change number.
    pub fn touched_provinces(&self, after: i64) -> Result<(i64, HashSet<String>), StoreFailure> {
        self.with_reader(|c| {
            // `i64::MAX` asks only for the newest change number; otherwise the changes after
            // `after`, found by the sequence's range alone (a `max(seq)` would read the whole
            // column on every commit).
            if after == i64::MAX {
                let newest: i64 = c
                    .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?
                    .query_row([], |r| r.get(0))?;
                return Ok((newest, HashSet::new()));
            }
            let (newest, count): (Option<i64>, i64) = c
                .prepare_cached("SELECT max(seq), count(*) FROM events WHERE seq > ?")?
                .query_row([after], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let newest = newest.unwrap_or(after);
            // A few events (an office's commit): their dossiers by key. Many (a bulk load): one
            // join, which reads every dossier once.
            // Bounded by `newest`: a commit landing between the two reads waits for the next.
            let ids: Vec<String> = if count <= 1_000 {
                c.prepare_cached(
                    "SELECT DISTINCT dossier_id FROM events WHERE seq > ? AND seq <= ? LIMIT 1000",
                )?
                .query_map([after, newest], |r| r.get(0))?
                .collect::<Result<_, _>>()?
            } else {
                Vec::new()
            };
            let mut provinces = HashSet::new();
            if count == 0 || (count <= 1_000 && ids.is_empty()) {
                return Ok((newest, provinces));
            }
            let units = if count <= 1_000 {
                let marks = vec!["?"; ids.len()].join(", ");
                format!("SELECT DISTINCT unit_code FROM dossiers WHERE dossier_id IN ({marks})")
            } else {
                "SELECT DISTINCT d.unit_code FROM events e JOIN dossiers d ON d.dossier_id = e.dossier_id
                 WHERE e.seq > ? AND e.seq <= ?"
                    .to_string()
            };
            let mut stmt = c.prepare(&format!(
                "SELECT u.code, u.province_code FROM units u WHERE u.code IN ({units})"
            ))?;
            let rows = if count <= 1_000 {
                stmt.query_map(::duckdb::params_from_iter(ids.iter()), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            } else {
                stmt.query_map([after, newest], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
            };
            for (code, province) in rows {
                let today = if app::era::Era::of_key(&province) == app::era::Era::From2025 {
                    Some(province)
                } else {
                    self.conversion().today_of(&code, &province).province
                };
                if let Some(p) = today {
                    provinces.insert(app::era::code_of(&p).to_string());
                }
            }
            Ok((newest, provinces))
        })
    }
}
