//! Dossier-level reads on the cluster: the late list, one dossier's timeline, uncatalogued
//! procedures. The same definitions as the embedded store's `store::duckdb::late`; names of units
//! and procedures come from the local reference data.
use super::client::number;
use super::store::{date, quote, ClusterStore};
use crate::store::figures::key_column;
use crate::store::query::unit_level;
use crate::store::{StoreFailure, UncataloguedProcedure};
use app::late::{
    days_overdue, LateKind, LatePage, LateQuery, LateRow, LateSort, Stage, TimelineEvent,
};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Code → name of every catalogued procedure.
pub(super) fn catalogue(store: &ClusterStore) -> Result<Vec<(String, String)>, StoreFailure> {
    store.reference().with_reader(|c| {
        let mut stmt = c.prepare_cached("SELECT code, name FROM procedures ORDER BY code")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

pub(super) fn string_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", items.map(quote).collect::<Vec<_>>().join(","))
}

/// The type of each listed dossier's last event (the newest version wins), by dossier id.
pub(super) fn last_event_types<'a>(
    store: &ClusterStore,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>, StoreFailure> {
    #[derive(serde::Deserialize)]
    struct Last {
        dossier_id: String,
        event_type: String,
    }
    let ids = ids.map(quote).collect::<Vec<_>>().join(",");
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store
        .rows::<Last>(&format!(
            "SELECT dossier_id, argMax(event_type, greatest(version, source_seq)) AS event_type
             FROM {}.events WHERE dossier_id IN ({ids}) GROUP BY dossier_id",
            store.address.database
        ))?
        .into_iter()
        .map(|l| (l.dossier_id, l.event_type))
        .collect())
}

/// Store key → name of every unit, from the local reference data.
pub(super) fn unit_names(store: &ClusterStore) -> Result<HashMap<String, String>, StoreFailure> {
    store.reference().with_reader(|c| {
        let mut stmt = c.prepare_cached("SELECT code, name FROM units")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
    })
}

pub fn dossier_unit(
    store: &ClusterStore,
    dossier_id: &str,
) -> Result<Option<String>, StoreFailure> {
    #[derive(serde::Deserialize)]
    struct Row {
        unit_code: String,
    }
    Ok(store
        .rows::<Row>(&format!(
            "SELECT unit_code FROM {}.dossiers FINAL WHERE dossier_id = {}",
            store.address.database,
            quote(dossier_id)
        ))?
        .pop()
        .map(|r| r.unit_code))
}

pub fn late_dossiers(store: &ClusterStore, q: &LateQuery) -> Result<LatePage, StoreFailure> {
    if q.from > q.to {
        return Err(StoreFailure::BadQuery {
            field: "from",
            message: format!("the period starts ({}) after it ends ({})", q.from, q.to),
        });
    }
    let db = &store.address.database;
    let (from, to) = (date(q.from), date(q.to));
    let resolved_late = format!(
        "ifNull(resolved_date >= {from} AND resolved_date <= {to} AND resolved_date > due_date, 0)"
    );
    let pending_overdue = format!(
        "(due_date <= {to} AND ifNull(coalesce(resolved_date, withdrawn_date), toDate('2105-12-31')) > {to})"
    );
    let late = match q.kind {
        LateKind::ResolvedLate => resolved_late.clone(),
        LateKind::PendingOverdue => pending_overdue.clone(),
        LateKind::All => format!("({resolved_late} OR {pending_overdue})"),
    };
    // The unit and everything under it: the dossiers carry their units' ancestors.
    // A unit of today also gathers the old units that went into it.
    let reference = store.reference();
    let level = reference
        .with_reader(|c| unit_level(c, &q.unit))?
        .map(|(level, _)| level);
    let mut filters = match level {
        Some(level) => {
            let keys = reference.with_reader(|c| {
                crate::store::late::late_scope(c, reference.conversion(), &q.unit)
            })?;
            let list: Vec<String> = keys.iter().map(|k| quote(k)).collect();
            format!(" AND {} IN ({})", key_column(level), list.join(", "))
        }
        // An unknown unit holds no dossier.
        None => " AND 0".to_string(),
    };
    if let Some(field) = &q.field {
        filters.push_str(&format!(" AND field = {}", quote(field)));
    }
    if let Some(procedure) = &q.procedure {
        filters.push_str(&format!(" AND procedure = {}", quote(procedure)));
    }
    if let Some(agency) = &q.agency {
        filters.push_str(&format!(" AND agency = {}", quote(agency)));
    }
    let base = format!("FROM {db}.dossiers FINAL WHERE {late}{filters}");

    #[derive(serde::Deserialize)]
    struct Totals {
        #[serde(deserialize_with = "number")]
        resolved_late: u64,
        #[serde(deserialize_with = "number")]
        pending_overdue: u64,
    }
    let totals = store
        .rows::<Totals>(&format!(
            "SELECT countIf({resolved_late}) AS resolved_late,
                    countIf(NOT {resolved_late}) AS pending_overdue {base}"
        ))?
        .pop()
        .unwrap_or(Totals {
            resolved_late: 0,
            pending_overdue: 0,
        });

    let catalogue = catalogue(store)?;
    let names: HashMap<&str, &str> = catalogue
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    // Days overdue as the list shows them: to the resolution, or to the period's end.
    let days = format!(
        "greatest(toInt32(if(ifNull(resolved_date <= {to}, 0), assumeNotNull(resolved_date), {to})) - toInt32(due_date), 0)"
    );
    let order = match q.sort {
        LateSort::DaysOverdue => days.clone(),
        LateSort::DossierId => "dossier_id".into(),
        // Sorted by name as the embedded store does; the names come from the local catalogue.
        LateSort::Procedure => format!(
            "transform(procedure, {}, {}, procedure)",
            string_array(catalogue.iter().map(|(c, _)| c.as_str())),
            string_array(catalogue.iter().map(|(_, n)| n.as_str()))
        ),
        LateSort::Field => "field".into(),
        LateSort::Agency => "agency".into(),
        LateSort::Received => "received_date".into(),
        LateSort::Due => "due_date".into(),
        LateSort::Resolved => "resolved_date".into(),
        // Open dossiers first when descending.
        LateSort::Stage => "isNull(resolved_date)".into(),
    };
    let direction = if q.descending { "DESC" } else { "ASC" };
    let offset = u64::from(q.page.saturating_sub(1)) * u64::from(q.page_size);

    #[derive(serde::Deserialize)]
    struct Row {
        dossier_id: String,
        unit_code: String,
        procedure: String,
        field: String,
        agency: Option<String>,
        received_date: NaiveDate,
        due_date: NaiveDate,
        resolved_date: Option<NaiveDate>,
    }
    let page = store.rows::<Row>(&format!(
        "SELECT dossier_id, unit_code, procedure, field, agency, received_date, due_date, resolved_date
         {base}
         ORDER BY {order} {direction} NULLS LAST, dossier_id
         LIMIT {offset}, {limit}",
        limit = q.page_size
    ))?;

    // The last event of each dossier on the page decides its stage.
    let last = last_event_types(store, page.iter().map(|r| r.dossier_id.as_str()))?;
    let unit_names = unit_names(store)?;

    let rows = page
        .into_iter()
        .map(|r| {
            let resolved_in_period = r.resolved_date.filter(|d| *d <= q.to);
            let last_type = last.get(&r.dossier_id).map(String::as_str);
            // A dossier resolved after the period's end was still open at its end.
            let stage = match (resolved_in_period, last_type) {
                (None, Some("resolved" | "withdrawn")) => Stage::Processing,
                (_, t) => Stage::after_event(t.unwrap_or("received")),
            };
            LateRow {
                procedure_name: names
                    .get(r.procedure.as_str())
                    .map_or_else(|| r.procedure.clone(), |n| n.to_string()),
                days_overdue: days_overdue(r.due_date, resolved_in_period, q.to),
                unit_name: unit_names.get(&r.unit_code).cloned().unwrap_or_default(),
                dossier_id: r.dossier_id,
                unit_code: app::era::code_of(&r.unit_code).to_string(),
                procedure: r.procedure,
                field: r.field,
                agency: r.agency,
                received: r.received_date,
                due: r.due_date,
                resolved: resolved_in_period,
                stage,
            }
        })
        .collect();
    Ok(LatePage {
        query: q.clone(),
        total: totals.resolved_late + totals.pending_overdue,
        resolved_late: totals.resolved_late,
        pending_overdue: totals.pending_overdue,
        rows,
    })
}

pub fn dossier_events(
    store: &ClusterStore,
    dossier_id: &str,
) -> Result<Vec<TimelineEvent>, StoreFailure> {
    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(deserialize_with = "number")]
        seq: i64,
        event_id: String,
        event_type: String,
        at: String,
        at_offset_s: i32,
        due: Option<String>,
        outcome: Option<String>,
        agency: Option<String>,
    }
    let rows = store.rows::<Row>(&format!(
        "SELECT toInt64(greatest(version, source_seq)) AS seq, event_id, event_type,
                toString(at_utc + at_offset_s) AS at, at_offset_s,
                if(isNull(due_utc), NULL, toString(assumeNotNull(due_utc) + at_offset_s)) AS due,
                outcome, agency
         FROM {}.events FINAL WHERE dossier_id = {} ORDER BY seq, at_utc",
        store.address.database,
        quote(dossier_id)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let zone = crate::store::late::format_offset(r.at_offset_s);
            let rfc3339 = |t: &str| format!("{}{zone}", t.replacen(' ', "T", 1));
            TimelineEvent {
                seq: r.seq,
                event_id: r.event_id,
                event_type: r.event_type,
                at: rfc3339(&r.at),
                due: r.due.as_deref().map(rfc3339),
                outcome: r.outcome,
                agency: r.agency,
            }
        })
        .collect())
}

pub fn uncatalogued_procedures(
    store: &ClusterStore,
) -> Result<Vec<UncataloguedProcedure>, StoreFailure> {
    #[derive(serde::Deserialize)]
    struct Row {
        procedure: String,
        first_field: String,
        #[serde(deserialize_with = "number")]
        dossiers: u64,
        first_received: NaiveDate,
        last_received: NaiveDate,
    }
    let catalogue = catalogue(store)?;
    let known = string_array(catalogue.iter().map(|(c, _)| c.as_str()));
    let rows = store.rows::<Row>(&format!(
        "SELECT procedure, min(field) AS first_field, count() AS dossiers,
                min(received_date) AS first_received, max(received_date) AS last_received
         FROM {}.dossiers FINAL
         WHERE procedure != '' AND NOT has({known}, procedure)
         GROUP BY procedure ORDER BY dossiers DESC, procedure",
        store.address.database
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| UncataloguedProcedure {
            procedure: r.procedure,
            field: r.first_field,
            dossiers: r.dossiers,
            first_received: r.first_received,
            last_received: r.last_received,
        })
        .collect())
}
