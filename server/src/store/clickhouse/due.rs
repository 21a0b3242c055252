//! The due-soon list on the cluster: the same window and definitions as the embedded store's
//! `store::duckdb::due`; names of units and procedures come from the local reference data.
use super::client::number;
use super::late::{catalogue, last_event_types, string_array, unit_names};
use super::store::{date, quote, ClusterStore};
use crate::store::due::{open_stage, DueWindow};
use crate::store::figures::key_column;
use crate::store::query::unit_level;
use crate::store::StoreFailure;
use app::due::{DuePage, DueQuery, DueRow, DueSort};
use chrono::NaiveDate;
use std::collections::HashMap;

pub fn due_dossiers(
    store: &ClusterStore,
    q: &DueQuery,
    today: NaiveDate,
) -> Result<DuePage, StoreFailure> {
    let reference = store.reference();
    let window = DueWindow::new(q, today, reference.calendar());
    let db = &store.address.database;
    // The unit and everything under it: the dossiers carry their units' ancestors. A unit of
    // today also gathers the old units that went into it.
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
    let base = format!(
        "FROM {db}.dossiers FINAL
         WHERE due_date >= {from} AND due_date <= {until}
           AND isNull(resolved_date) AND isNull(withdrawn_date){filters}",
        from = date(window.today),
        until = date(window.until),
    );

    #[derive(serde::Deserialize)]
    struct Total {
        #[serde(deserialize_with = "number")]
        total: u64,
    }
    let total = store
        .rows::<Total>(&format!("SELECT count() AS total {base}"))?
        .pop()
        .map_or(0, |t| t.total);

    let catalogue = catalogue(store)?;
    let names: HashMap<&str, &str> = catalogue
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let order = match q.sort {
        DueSort::Due => "due_date".into(),
        DueSort::DossierId => "dossier_id".into(),
        // Sorted by name as the embedded store does; the names come from the local catalogue.
        DueSort::Procedure => format!(
            "transform(procedure, {}, {}, procedure)",
            string_array(catalogue.iter().map(|(c, _)| c.as_str())),
            string_array(catalogue.iter().map(|(_, n)| n.as_str()))
        ),
        DueSort::Field => "field".into(),
        DueSort::Agency => "agency".into(),
        DueSort::Received => "received_date".into(),
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
    }
    let page = store.rows::<Row>(&format!(
        "SELECT dossier_id, unit_code, procedure, field, agency, received_date, due_date
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
        .map(|r| DueRow {
            procedure_name: names
                .get(r.procedure.as_str())
                .map_or_else(|| r.procedure.clone(), |n| n.to_string()),
            unit_name: unit_names.get(&r.unit_code).cloned().unwrap_or_default(),
            stage: open_stage(last.get(&r.dossier_id).map(String::as_str)),
            dossier_id: r.dossier_id,
            unit_code: app::era::code_of(&r.unit_code).to_string(),
            procedure: r.procedure,
            field: r.field,
            agency: r.agency,
            received: r.received_date,
            due: r.due_date,
            working_days_left: 0,
        })
        .collect();
    Ok(window.page(total, rows, reference.calendar()))
}

/// Open dossiers due from `today` through `until`, per handling unit.
pub fn due_counts(
    store: &ClusterStore,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<HashMap<String, u64>, StoreFailure> {
    #[derive(serde::Deserialize)]
    struct Row {
        unit_code: String,
        #[serde(deserialize_with = "number")]
        n: u64,
    }
    Ok(store
        .rows::<Row>(&format!(
            "SELECT unit_code, count() AS n FROM {db}.dossiers FINAL
             WHERE due_date >= {from} AND due_date <= {until}
               AND isNull(resolved_date) AND isNull(withdrawn_date)
             GROUP BY unit_code",
            db = store.address.database,
            from = date(today),
            until = date(until),
        ))?
        .into_iter()
        .map(|r| (r.unit_code, r.n))
        .collect())
}
