//! The embedded store's dossier-level reads for the late-dossier drill-down: the late list, one
//! dossier's timeline, and where a unit sits (for authorisation). Callers check access before
//! calling.
use super::DuckStore;
use crate::scope::UnitPlace;
use crate::store::late::{format_offset, late_scope};
use crate::store::StoreFailure;
use ::duckdb::params_from_iter;
use ::duckdb::types::ToSql;
use app::late::{
    days_overdue, LateKind, LatePage, LateQuery, LateRow, LateSort, Stage, TimelineEvent,
};
use chrono::NaiveDate;

/// The two kinds of late dossier, with `$1` the period's start and `$2` its end. They follow the
/// rollups' definitions exactly, so the list's counts equal the stats' figures.
/// Resolved late: resolved in the period after the due date.
const RESOLVED_LATE: &str = "(d.resolved_date BETWEEN $1 AND $2 AND d.resolved_date > d.due_date)";
/// Pending overdue: due on or before the period's end, neither resolved nor withdrawn by then.
const PENDING_OVERDUE: &str =
    "(d.due_date <= $2 AND coalesce(d.resolved_date, d.withdrawn_date, DATE '9999-12-31') > $2)";

fn late_condition(kind: LateKind) -> String {
    match kind {
        LateKind::ResolvedLate => RESOLVED_LATE.to_string(),
        // `$1` must appear in every query that is given it.
        LateKind::PendingOverdue => format!("($1 IS NOT NULL AND {PENDING_OVERDUE})"),
        LateKind::All => format!("({RESOLVED_LATE} OR {PENDING_OVERDUE})"),
    }
}

fn order_column(sort: LateSort) -> &'static str {
    match sort {
        LateSort::DaysOverdue => "days_overdue",
        LateSort::DossierId => "d.dossier_id",
        LateSort::Procedure => "procedure_name",
        LateSort::Field => "d.field",
        LateSort::Agency => "d.agency",
        LateSort::Received => "d.received_date",
        LateSort::Due => "d.due_date",
        LateSort::Resolved => "d.resolved_date",
        // Open dossiers first when descending.
        LateSort::Stage => "(d.resolved_date IS NULL)",
    }
}

impl DuckStore {
    /// The conditions of a dossier list on `dossiers d`: the unit (a store key) and everything
    /// under it (a unit of today gathering the old units that went into it), then the sector,
    /// procedure and agency filters, each value a parameter appended to `params`.
    pub(super) fn dossier_filters(
        &self,
        unit: &str,
        [field, procedure, agency]: [&Option<String>; 3],
        params: &mut Vec<Box<dyn ToSql>>,
    ) -> Result<String, StoreFailure> {
        let list = crate::store::view::sql_list(
            &self.with_reader(|c| late_scope(c, self.conversion(), unit))?,
        );
        let mut filters = format!(
            " AND d.unit_code IN (SELECT code FROM units WHERE code IN {list} OR parent_code IN {list} OR district_code IN {list} OR province_code IN {list})"
        );
        for (condition, value) in [
            (" AND d.field = ", field),
            (" AND d.procedure = ", procedure),
            (" AND d.agency = ", agency),
        ] {
            if let Some(value) = value {
                params.push(Box::new(value.clone()));
                filters.push_str(&format!("{condition}${}", params.len()));
            }
        }
        Ok(filters)
    }

    /// Where a unit sits; `None` for a code the store does not know.
    pub fn unit_place(&self, code: &str) -> Result<Option<UnitPlace>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT code, province_code, CASE WHEN level = 'district' THEN code ELSE district_code END
                 FROM units WHERE code = ?",
            )?;
            let mut rows = stmt.query([code])?;
            Ok(match rows.next()? {
                Some(r) => {
                    let (code, province_code): (String, String) = (r.get(0)?, r.get(1)?);
                    Some(UnitPlace {
                        today: self.conversion().today_of(&code, &province_code),
                        code,
                        province_code,
                        district_code: r.get(2)?,
                    })
                }
                None => None,
            })
        })
    }

    /// The handling unit of a dossier; `None` when the dossier is unknown.
    pub fn dossier_unit(&self, dossier_id: &str) -> Result<Option<String>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt =
                c.prepare_cached("SELECT unit_code FROM dossiers WHERE dossier_id = ?")?;
            let mut rows = stmt.query([dossier_id])?;
            Ok(match rows.next()? {
                Some(r) => r.get(0)?,
                None => None,
            })
        })
    }

    /// The late dossiers of `q.unit`, a store key (see [`late_scope`]).
    pub fn late_dossiers(&self, q: &LateQuery) -> Result<LatePage, StoreFailure> {
        if q.from > q.to {
            return Err(StoreFailure::BadQuery {
                field: "from",
                message: format!("the period starts ({}) after it ends ({})", q.from, q.to),
            });
        }
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(q.from), Box::new(q.to)];
        let filters =
            self.dossier_filters(&q.unit, [&q.field, &q.procedure, &q.agency], &mut params)?;
        let base = format!(
            "FROM dossiers d LEFT JOIN procedures p ON p.code = d.procedure
             WHERE d.due_date IS NOT NULL AND d.received_date IS NOT NULL AND {}{filters}",
            late_condition(q.kind)
        );
        self.with_reader(|c| {
            let (resolved_late, pending_overdue): (i64, i64) = c
                .prepare(&format!(
                    "SELECT count(*) FILTER (WHERE {RESOLVED_LATE}),
                            count(*) FILTER (WHERE NOT {RESOLVED_LATE} OR d.resolved_date IS NULL)
                     {base}"
                ))?
                .query_row(params_from_iter(params.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?;
            let direction = if q.descending { "DESC" } else { "ASC" };
            let offset = u64::from(q.page.saturating_sub(1)) * u64::from(q.page_size);
            // Days overdue as the list shows them: to the resolution, or to the period's end.
            let sql = format!(
                "WITH page AS (
                    SELECT d.dossier_id, d.unit_code, d.procedure, d.field, d.agency,
                           d.received_date, d.due_date, d.resolved_date, d.withdrawn_date, d.last_seq,
                           coalesce(p.name, d.procedure) AS procedure_name,
                           greatest(date_diff('day', d.due_date,
                               CASE WHEN d.resolved_date <= $2 THEN d.resolved_date ELSE $2 END), 0) AS days_overdue
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
                let due: NaiveDate = r.get(6)?;
                let resolved: Option<NaiveDate> = r.get(7)?;
                let resolved_in_period = resolved.filter(|d| *d <= q.to);
                let last_type: Option<String> = r.get(12)?;
                // A dossier resolved after the period's end was still open at its end.
                let stage = match (resolved_in_period, last_type.as_deref()) {
                    (None, Some("resolved" | "withdrawn")) => Stage::Processing,
                    (_, t) => Stage::after_event(t.unwrap_or("received")),
                };
                out.push(LateRow {
                    dossier_id: r.get(0)?,
                    unit_code: app::era::code_of(&r.get::<_, String>(1)?).to_string(),
                    procedure: r.get(2)?,
                    field: r.get(3)?,
                    agency: r.get(4)?,
                    received: r.get(5)?,
                    due,
                    resolved: resolved_in_period,
                    procedure_name: r.get(10)?,
                    days_overdue: days_overdue(due, resolved_in_period, q.to),
                    stage,
                    unit_name: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
                });
            }
            Ok(LatePage {
                query: q.clone(),
                total: (resolved_late + pending_overdue) as u64,
                resolved_late: resolved_late as u64,
                pending_overdue: pending_overdue as u64,
                rows: out,
            })
        })
    }

    /// Every event of a dossier, in the order they were accepted (none for an unknown id).
    pub fn dossier_events(&self, dossier_id: &str) -> Result<Vec<TimelineEvent>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, event_id, event_type,
                        strftime(at_utc + to_seconds(at_offset_s), '%Y-%m-%dT%H:%M:%S'), at_offset_s,
                        strftime(due_utc + to_seconds(at_offset_s), '%Y-%m-%dT%H:%M:%S'), outcome, agency
                 FROM events WHERE dossier_id = ? ORDER BY seq",
            )?;
            let rows = stmt.query_map([dossier_id], |r| {
                let offset: i32 = r.get(4)?;
                let zone = format_offset(offset);
                Ok(TimelineEvent {
                    seq: r.get(0)?,
                    event_id: r.get(1)?,
                    event_type: r.get(2)?,
                    at: format!("{}{zone}", r.get::<_, String>(3)?),
                    due: r
                        .get::<_, Option<String>>(5)?
                        .map(|d| format!("{d}{zone}")),
                    outcome: r.get(6)?,
                    agency: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
