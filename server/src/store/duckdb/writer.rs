//! The embedded store's writer: applies checked batches to DuckDB in one transaction each group
//! (Arrow batches appended to staging tables, then merged), and loads the write index from it.
use super::past::PastCache;
use crate::ingest::event::{Event, EventKind, Reception};
use crate::scope::Scope;
use crate::store::check::{check_request, BatchError, BatchOutcome, DossierRow, Pending, Staged};
use crate::store::conversion::Conversion;
use crate::store::counters::COUNTERS;
use crate::store::rollup::{DossierFacts, RollupDelta};
use crate::store::write_index::{channel_code, UnitEntry, WriteIndex, CHANNELS};
use crate::store::StoreFailure;
use ::duckdb::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray, UInt64Array,
};
use ::duckdb::arrow::datatypes::{Date32Type, UInt64Type};
use ::duckdb::arrow::record_batch::RecordBatch;
use ::duckdb::Connection;
use app::model::{Channel, Level};
use chrono::Utc;
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use std::sync::Arc;

/// Loading the index from the embedded store's tables (the neutral rest is in
/// [`crate::store::write_index`]).
impl WriteIndex {
    /// Loads the index from the store. Dossiers and event hashes are read as Arrow batches on two
    /// connections at once: row-by-row reads made a later start take ten seconds.
    pub fn load(conn: &Connection, conversion: Arc<Conversion>) -> Result<Self, StoreFailure> {
        let mut index = WriteIndex {
            conversion,
            ..WriteIndex::default()
        };
        index.reload_units(conn)?;
        let events_conn = conn.try_clone()?;
        let events = std::thread::scope(|s| {
            let events = s.spawn(move || load_event_hashes(&events_conn));
            index.load_dossiers(conn)?;
            events
                .join()
                .map_err(|_| StoreFailure::Corrupt("the event index loader panicked".into()))?
        })?;
        index.events = events;
        index.next_seq =
            conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM events", [], |r| {
                r.get(0)
            })?;
        Ok(index)
    }

    fn load_dossiers(&mut self, conn: &Connection) -> Result<(), StoreFailure> {
        let count: i64 = conn.query_row("SELECT count(*) FROM dossiers", [], |r| r.get(0))?;
        self.dossiers.reserve(count as usize);
        let mut stmt = conn.prepare(
            "SELECT dossier_id, unit_code, field, channel, fee, paid_online,
                    received_date, due_date, resolved_date, withdrawn_date FROM dossiers",
        )?;
        for batch in stmt.query_arrow([])? {
            let text = |i: usize| arrow_column(batch.column(i).as_string_opt::<i32>(), i);
            let (ids, units, fields, channels) = (text(0)?, text(1)?, text(2)?, text(3)?);
            let flag = |i: usize| arrow_column(batch.column(i).as_boolean_opt(), i);
            let (fees, paid) = (flag(4)?, flag(5)?);
            let day = |i: usize| arrow_column(batch.column(i).as_primitive_opt::<Date32Type>(), i);
            let (received, due, resolved, withdrawn) = (day(6)?, day(7)?, day(8)?, day(9)?);
            for row in 0..batch.num_rows() {
                let id = ids.value(row);
                let required = [
                    units.is_null(row),
                    fields.is_null(row),
                    channels.is_null(row),
                ]
                .into_iter()
                .chain([fees.is_null(row), paid.is_null(row)])
                .chain([received.is_null(row), due.is_null(row)])
                .any(|null| null);
                if required {
                    return Err(StoreFailure::Corrupt(format!(
                        "dossier {id} lacks its reception attributes"
                    )));
                }
                let unit_code = units.value(row);
                let unit = *self.unit_by_code.get(unit_code).ok_or_else(|| {
                    StoreFailure::Corrupt(format!("dossier {id} names unknown unit {unit_code}"))
                })?;
                let channel: Channel =
                    channels.value(row).parse().map_err(StoreFailure::Corrupt)?;
                let field = self.intern_field(fields.value(row));
                let optional_day =
                    |a: &Date32Array| (!a.is_null(row)).then(|| date32(a.value(row))).transpose();
                self.dossiers.insert(
                    id.into(),
                    DossierFacts {
                        unit,
                        field,
                        online: channel == Channel::Online,
                        channel: channel_code(channel),
                        fee: fees.value(row),
                        paid_online: paid.value(row),
                        received: date32(received.value(row))?,
                        due: date32(due.value(row))?,
                        resolved: optional_day(resolved)?,
                        withdrawn: optional_day(withdrawn)?,
                    },
                );
            }
        }
        Ok(())
    }
}

/// Every stored event's id hash with its content hash.
fn load_event_hashes(conn: &Connection) -> Result<HashMap<u64, u64>, StoreFailure> {
    let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    let mut events = HashMap::with_capacity(count as usize);
    let mut stmt = conn.prepare("SELECT id_hash, content_hash FROM events")?;
    for batch in stmt.query_arrow([])? {
        let ids = arrow_column(batch.column(0).as_primitive_opt::<UInt64Type>(), 0)?;
        let contents = arrow_column(batch.column(1).as_primitive_opt::<UInt64Type>(), 1)?;
        events.extend(
            ids.values()
                .iter()
                .copied()
                .zip(contents.values().iter().copied()),
        );
    }
    Ok(events)
}

/// A column of the type the query promises, or an error saying which column was not.
fn arrow_column<T>(column: Option<T>, index: usize) -> Result<T, StoreFailure> {
    column.ok_or_else(|| {
        StoreFailure::Corrupt(format!(
            "column {index} of an index query has an unexpected Arrow type"
        ))
    })
}

/// An Arrow Date32 (days since 1970-01-01) as a date.
fn date32(days: i32) -> Result<NaiveDate, StoreFailure> {
    days.checked_add(719_163)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| StoreFailure::Corrupt(format!("date {days} days from 1970 is out of range")))
}

/// Whether a checked batch is written or only checked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Commit,
    CheckOnly,
}

/// Checks the batch (`(line, event)` pairs, in order) and commits it in one transaction.
pub fn apply_batch(
    conn: &mut Connection,
    index: &mut WriteIndex,
    past: &PastCache,
    batch: &[(u32, Event)],
    mode: Mode,
    scope: &Scope,
) -> Result<BatchOutcome, BatchError> {
    let mut group = Pending::new(index);
    let (request, duplicates) = check_request(index, &group, batch, scope)?;
    let accepted = request.staged.len() as u64;
    if accepted == 0 || mode == Mode::CheckOnly {
        return Ok(BatchOutcome {
            accepted: 0,
            duplicates,
            last_seq: None,
        });
    }
    group.absorb(request);
    let last_seq = write_group(conn, index, past, group)?;
    Ok(BatchOutcome {
        accepted,
        duplicates,
        last_seq,
    })
}

/// Group commit: checks each request on its own (a bad request is refused alone), then writes
/// every accepted request in one transaction. Results come back in request order.
pub fn apply_group(
    conn: &mut Connection,
    index: &mut WriteIndex,
    past: &PastCache,
    requests: &[(Vec<(u32, Event)>, Scope)],
) -> Vec<Result<BatchOutcome, BatchError>> {
    let mut group = Pending::new(index);
    let mut results: Vec<Result<BatchOutcome, BatchError>> = Vec::with_capacity(requests.len());
    for (batch, scope) in requests {
        results.push(match check_request(index, &group, batch, scope) {
            Err(e) => Err(e),
            Ok((request, duplicates)) => {
                let accepted = request.staged.len() as u64;
                group.absorb(request);
                Ok(BatchOutcome {
                    accepted,
                    duplicates,
                    last_seq: None,
                })
            }
        });
    }
    if group.staged.is_empty() {
        return results;
    }
    match write_group(conn, index, past, group) {
        Ok(last_seq) => {
            for outcome in results.iter_mut().flatten() {
                if outcome.accepted > 0 {
                    outcome.last_seq = last_seq;
                }
            }
        }
        Err(e) => {
            // Nothing of the group was stored: every request that would have been is told so.
            let message = e.to_string();
            for result in results.iter_mut() {
                if matches!(result, Ok(o) if o.accepted > 0) {
                    *result = Err(BatchError::Store(e.shared_copy(&message)));
                }
            }
        }
    }
    results
}

/// Writes a checked group in one transaction; only after the commit does the index learn of it.
fn write_group(
    conn: &mut Connection,
    index: &mut WriteIndex,
    past: &PastCache,
    group: Pending,
) -> Result<Option<i64>, StoreFailure> {
    write_group_inner(conn, index, past, group).map_err(StoreFailure::classify_write)
}

fn write_group_inner(
    conn: &mut Connection,
    index: &mut WriteIndex,
    past: &PastCache,
    group: Pending,
) -> Result<Option<i64>, StoreFailure> {
    if group.staged.is_empty() {
        return Ok(None);
    }
    let Pending {
        touched,
        ids,
        new_fields,
        staged,
        next_seq,
    } = group;
    let mut delta = RollupDelta::default();
    for (id, row) in &touched {
        delta.change(index.dossiers.get(*id), &row.facts);
    }
    let field_name = |i: u32| -> &str {
        let i = i as usize;
        if i < index.fields.len() {
            &index.fields[i]
        } else {
            &new_fields[i - index.fields.len()]
        }
    };

    let now = Utc::now().naive_utc();
    let timer = std::time::Instant::now();
    let mut marks: Vec<(&str, f64)> = Vec::new();
    let mut mark = |name: &'static str| marks.push((name, timer.elapsed().as_secs_f64() * 1000.0));
    let tx = conn.transaction()?;
    {
        let mut events = tx.appender("events")?;
        events.append_record_batch(events_batch(&staged, &index.units, now)?)?;
        events.flush()?;
        drop(events);
        mark("events");

        let mut staging = tx.appender("staging_dossiers")?;
        staging.append_record_batch(dossiers_batch(&touched, &index.units)?)?;
        staging.flush()?;
        drop(staging);
        mark("dossiers-staged");
        // Prepared once per connection: parsing and planning these was most of a small
        // group's write time.
        tx.prepare_cached(
            "INSERT INTO dossiers SELECT * FROM staging_dossiers
             ON CONFLICT (dossier_id) DO UPDATE SET
                due_date = excluded.due_date,
                resolved_date = excluded.resolved_date,
                withdrawn_date = excluded.withdrawn_date,
                outcome = coalesce(excluded.outcome, outcome),
                last_seq = excluded.last_seq",
        )?
        .execute([])?;
        tx.prepare_cached("DELETE FROM staging_dossiers")?
            .execute([])?;
        mark("dossiers");

        let mut staging = tx.appender("staging_rollup")?;
        staging.append_record_batch(rollup_batch(&delta, &index.units, &field_name)?)?;
        staging.flush()?;
        drop(staging);
        mark("rollup-staged");
        let add = add_counters();
        tx.prepare_cached(&format!(
            "INSERT INTO daily_rollup SELECT * FROM staging_rollup
             ON CONFLICT (unit_code, field, channel, day) DO UPDATE SET {add}"
        ))?
        .execute([])?;
        mark("daily");
        tx.prepare_cached(&format!(
            "INSERT INTO monthly_rollup {monthly}
             ON CONFLICT (unit_code, field, channel, month) DO UPDATE SET {add}",
            monthly = super::schema::monthly_select("staging_rollup"),
        ))?
        .execute([])?;
        mark("monthly");
        tx.prepare_cached("DELETE FROM staging_rollup")?
            .execute([])?;
        mark("rollup");
    }
    // The months whose rollup rows change, told before the commit (readers then use nothing
    // kept until it ends) and after it (what was read before it is stale); told after a failed
    // commit too, as whether it reached the file is not certain.
    let months: Vec<NaiveDate> = changed_months(&delta).into_iter().collect();
    past.committing(&months);
    let committed = tx.commit();
    past.wrote(&months);
    committed?;
    mark("commit");
    tracing::debug!(events = staged.len(), rollup_rows = delta.rows.len(), timings_ms = ?marks, "batch written");

    for name in new_fields {
        index.intern_field(&name);
    }
    for (id, row) in touched {
        index.dossiers.insert(id.into(), row.facts);
    }
    for (hash, (content, _)) in ids {
        index.events.insert(hash, content);
    }
    index.next_seq = next_seq;
    Ok(Some(next_seq - 1))
}

/// The first days of the months holding the rows a delta changes.
fn changed_months(delta: &RollupDelta) -> std::collections::BTreeSet<NaiveDate> {
    delta
        .nonzero()
        .filter_map(|((_, _, _, day), _)| day.with_day(1))
        .collect()
}

/// `received = received + excluded.received, …`: a delta row adds to the stored one.
fn add_counters() -> String {
    COUNTERS
        .iter()
        .map(|c| format!("{c} = {c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The staged events as one columnar batch: appended in a handful of calls instead of one per
/// value, which was the largest part of a batch's write time.
fn events_batch(
    staged: &[Staged],
    units: &[UnitEntry],
    now: chrono::NaiveDateTime,
) -> Result<RecordBatch, StoreFailure> {
    let n = staged.len();
    let micros = |t: chrono::NaiveDateTime| t.and_utc().timestamp_micros();
    fn reception<'a>(s: &Staged<'a>) -> Option<&'a Reception> {
        match &s.event.kind {
            EventKind::Received(r) => Some(r),
            _ => None,
        }
    }
    let text = |f: &dyn Fn(&Staged) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            staged.iter().map(f).collect::<Vec<Option<String>>>(),
        ))
    };
    let due: Vec<Option<i64>> = staged
        .iter()
        .map(|s| match &s.event.kind {
            EventKind::Received(r) => Some(micros(r.due.naive_utc())),
            EventKind::DueChanged { due } => Some(micros(due.naive_utc())),
            _ => None,
        })
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "seq",
            Arc::new(Int64Array::from(
                staged.iter().map(|s| s.seq).collect::<Vec<_>>(),
            )),
        ),
        ("event_id", text(&|s| Some(s.event.event_id.clone()))),
        (
            "id_hash",
            Arc::new(UInt64Array::from(
                staged.iter().map(|s| s.id_hash).collect::<Vec<_>>(),
            )),
        ),
        (
            "content_hash",
            Arc::new(UInt64Array::from(
                staged.iter().map(|s| s.content_hash).collect::<Vec<_>>(),
            )),
        ),
        ("dossier_id", text(&|s| Some(s.event.dossier_id.clone()))),
        (
            "event_type",
            text(&|s| Some(s.event.kind.name().to_string())),
        ),
        (
            "at_utc",
            Arc::new(TimestampMicrosecondArray::from(
                staged
                    .iter()
                    .map(|s| micros(s.event.at.naive_utc()))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "at_offset_s",
            Arc::new(Int32Array::from(
                staged
                    .iter()
                    .map(|s| s.event.at.offset().local_minus_utc())
                    .collect::<Vec<_>>(),
            )),
        ),
        // The store key of the unit in force on the reception's date, not the code as sent.
        (
            "unit_code",
            text(&|s| reception(s).map(|_| units[s.facts.unit as usize].code.clone())),
        ),
        (
            "level",
            text(&|s| reception(s).map(|r| r.level.as_str().to_string())),
        ),
        (
            "procedure",
            text(&|s| reception(s).map(|r| r.procedure.clone())),
        ),
        ("field", text(&|s| reception(s).map(|r| r.field.clone()))),
        (
            "channel",
            text(&|s| reception(s).map(|r| r.channel.as_str().to_string())),
        ),
        ("due_utc", Arc::new(TimestampMicrosecondArray::from(due))),
        (
            "fee",
            Arc::new(BooleanArray::from(
                staged
                    .iter()
                    .map(|s| reception(s).map(|r| r.fee))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "paid_online",
            Arc::new(BooleanArray::from(
                staged
                    .iter()
                    .map(|s| reception(s).map(|r| r.paid_online))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "agency",
            text(&|s| reception(s).and_then(|r| r.agency.clone())),
        ),
        (
            "outcome",
            text(&|s| match &s.event.kind {
                EventKind::Resolved { outcome } => outcome.clone(),
                _ => None,
            }),
        ),
        (
            "ingested_at",
            Arc::new(TimestampMicrosecondArray::from(vec![micros(now); n])),
        ),
    ];
    RecordBatch::try_from_iter(columns)
        .map_err(|e| StoreFailure::Corrupt(format!("event batch: {e}")))
}

fn date32_of(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn batch(columns: Vec<(&str, ArrayRef)>, what: &str) -> Result<RecordBatch, StoreFailure> {
    RecordBatch::try_from_iter(columns)
        .map_err(|e| StoreFailure::Corrupt(format!("{what} batch: {e}")))
}

/// The touched dossiers in `staging_dossiers` column order; reception attributes only for
/// dossiers received in this group (the upsert leaves them alone otherwise).
/// A dossier row to stage, with its reception event when received in this group.
type StagedDossier<'a, 'b> = (
    &'a str,
    &'b DossierRow<'a>,
    Option<(&'a Event, &'a Reception)>,
);

fn dossiers_batch(
    touched: &HashMap<&str, DossierRow>,
    units: &[UnitEntry],
) -> Result<RecordBatch, StoreFailure> {
    let rows: Vec<StagedDossier> = touched
        .iter()
        .map(|(id, row)| {
            let reception = row.reception.and_then(|e| match &e.kind {
                EventKind::Received(r) => Some((e, r)),
                _ => None,
            });
            (*id, row, reception)
        })
        .collect();
    let text = |f: &dyn Fn(&StagedDossier) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let day = |f: &dyn Fn(&DossierFacts) -> Option<NaiveDate>| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|(_, row, _)| f(&row.facts).map(date32_of))
                .collect::<Date32Array>(),
        )
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("dossier_id", text(&|(id, _, _)| Some(id.to_string()))),
        (
            "unit_code",
            text(&|(_, row, r)| r.map(|_| units[row.facts.unit as usize].code.clone())),
        ),
        (
            "level",
            text(&|(_, _, r)| r.map(|(_, r)| r.level.as_str().to_string())),
        ),
        (
            "procedure",
            text(&|(_, _, r)| r.map(|(_, r)| r.procedure.clone())),
        ),
        ("field", text(&|(_, _, r)| r.map(|(_, r)| r.field.clone()))),
        (
            "channel",
            text(&|(_, _, r)| r.map(|(_, r)| r.channel.as_str().to_string())),
        ),
        (
            "agency",
            text(&|(_, _, r)| r.and_then(|(_, r)| r.agency.clone())),
        ),
        (
            "fee",
            Arc::new(
                rows.iter()
                    .map(|(_, _, r)| r.map(|(_, r)| r.fee))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "paid_online",
            Arc::new(
                rows.iter()
                    .map(|(_, row, r)| r.map(|_| row.facts.paid_online))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "received_at",
            Arc::new(
                rows.iter()
                    .map(|(_, _, r)| r.map(|(e, _)| e.at.naive_utc().and_utc().timestamp_micros()))
                    .collect::<TimestampMicrosecondArray>(),
            ),
        ),
        ("received_date", day(&|f| Some(f.received))),
        ("due_date", day(&|f| Some(f.due))),
        ("resolved_date", day(&|f| f.resolved)),
        ("withdrawn_date", day(&|f| f.withdrawn)),
        ("outcome", text(&|(_, row, _)| row.outcome.clone())),
        (
            "last_seq",
            Arc::new(
                rows.iter()
                    .map(|(_, row, _)| Some(row.last_seq))
                    .collect::<Int64Array>(),
            ),
        ),
    ];
    batch(columns, "dossier")
}

/// The non-zero rollup deltas in `staging_rollup` column order.
fn rollup_batch<'a>(
    delta: &RollupDelta,
    units: &[UnitEntry],
    field_name: &dyn Fn(u32) -> &'a str,
) -> Result<RecordBatch, StoreFailure> {
    let rows: Vec<_> = delta.nonzero().collect();
    let unit = |key: &crate::store::rollup::RowKey| &units[key.0 as usize];
    let text = |f: &dyn Fn(&crate::store::rollup::RowKey) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(|(k, _)| f(k)).collect::<StringArray>())
    };
    let counter = |f: &dyn Fn(&crate::store::rollup::Counters) -> i64| -> ArrayRef {
        Arc::new(rows.iter().map(|(_, c)| Some(f(c))).collect::<Int64Array>())
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("unit_code", text(&|k| Some(unit(k).code.clone()))),
        ("field", text(&|k| Some(field_name(k.1).to_string()))),
        (
            "channel",
            text(&|k| Some(CHANNELS[k.2 as usize].as_str().to_string())),
        ),
        (
            "day",
            Arc::new(
                rows.iter()
                    .map(|(k, _)| Some(date32_of(k.3)))
                    .collect::<Date32Array>(),
            ),
        ),
        ("province_code", text(&|k| Some(unit(k).province.clone()))),
        ("district_code", text(&|k| unit(k).district.clone())),
        (
            "commune_code",
            text(&|k| (unit(k).level == Level::Commune).then(|| unit(k).code.clone())),
        ),
        (
            "dossier_level",
            text(&|k| Some(unit(k).level.as_str().to_string())),
        ),
    ];
    // The counters in the tables' column order, named once (`store::counters`).
    let counters = crate::store::counters::COUNTERS
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, counter(&|c| c.values()[i])));
    let columns: Vec<(&str, ArrayRef)> = columns.into_iter().chain(counters).collect();
    batch(columns, "rollup")
}

/// Creates the connection-local staging tables the writer appends to before merging.
pub fn prepare_staging(conn: &Connection) -> ::duckdb::Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS staging_dossiers AS SELECT * FROM dossiers LIMIT 0;
         CREATE TEMP TABLE IF NOT EXISTS staging_rollup AS SELECT * FROM daily_rollup LIMIT 0;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::parse_event;
    use serde_json::json;

    fn event(line: u32, v: serde_json::Value) -> (u32, Event) {
        (
            line,
            parse_event(line, &v, Utc::now()).expect("valid event"),
        )
    }

    fn received(id: &str, dossier: &str) -> serde_json::Value {
        json!({"event_id": id, "dossier_id": dossier, "type": "received",
               "at": "2021-03-01T08:00:00+07:00", "unit": "502", "level": "district",
               "procedure": "DD-01", "field": "Đất đai", "channel": "online",
               "due": "2021-03-10T17:00:00+07:00"})
    }

    fn resolved(id: &str, dossier: &str) -> serde_json::Value {
        json!({"event_id": id, "dossier_id": dossier, "type": "resolved", "at": "2021-03-09T08:00:00+07:00"})
    }

    fn open() -> (tempfile::TempDir, Connection, WriteIndex) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("w.duckdb")).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        super::super::catalog::seed(&mut conn, &data).unwrap();
        prepare_staging(&conn).unwrap();
        let index = WriteIndex::load(&conn, Arc::default()).unwrap();
        (dir, conn, index)
    }

    fn stored_events(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT event_id FROM events ORDER BY seq")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn a_group_commits_good_requests_and_refuses_bad_ones_alone() {
        let (_dir, mut conn, mut index) = open();
        let requests: Vec<_> = [
            vec![event(1, received("a1", "A"))],
            // Refused: dossier B is unknown, and its own good first line goes with it.
            vec![event(1, received("b0", "C")), event(2, resolved("b1", "B"))],
            // Relies on request 1 of the same group, and resends its event.
            vec![event(1, resolved("c1", "A")), event(2, received("a1", "A"))],
        ]
        .into_iter()
        .map(|batch| (batch, Scope::Everything))
        .collect();
        let results = apply_group(&mut conn, &mut index, &PastCache::default(), &requests);
        let first = results[0].as_ref().unwrap();
        assert_eq!((first.accepted, first.duplicates), (1, 0));
        match &results[1] {
            Err(BatchError::Rejected(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    (errors[0].line, errors[0].code),
                    (2, crate::codes::ErrorCode::UnknownDossier)
                );
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let third = results[2].as_ref().unwrap();
        assert_eq!((third.accepted, third.duplicates), (1, 1));
        assert_eq!(first.last_seq, third.last_seq);
        assert_eq!(stored_events(&conn), ["a1", "c1"]);
        let resolved_date: Option<NaiveDate> = conn
            .query_row(
                "SELECT resolved_date FROM dossiers WHERE dossier_id = 'A'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(resolved_date, NaiveDate::from_ymd_opt(2021, 3, 9));
        let rollup: (i64, i64) = conn
            .query_row(
                "SELECT sum(received), sum(resolved_early) FROM daily_rollup",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(rollup, (1, 1));
        // The index learnt the group: a later resend is a duplicate, dossier C stays unknown.
        let again = apply_batch(
            &mut conn,
            &mut index,
            &PastCache::default(),
            &[event(1, resolved("c1", "A"))],
            Mode::Commit,
            &Scope::Everything,
        );
        assert_eq!(again.unwrap().duplicates, 1);
        assert!(!index.dossiers.contains_key("C"));
    }

    #[test]
    fn a_scoped_writer_touches_only_dossiers_of_its_units_even_within_one_group() {
        let (_dir, mut conn, mut index) = open();
        let mut in_hoi_an = received("h1", "H");
        in_hoi_an["unit"] = json!("503");
        let tam_ky = Scope::Units(vec!["502".into()]);
        let requests = vec![
            // Another writer receives H in Hội An (503) in the same group commit…
            (vec![event(1, in_hoi_an)], Scope::Everything),
            // …so Tam Kỳ's writer may not resolve it, though it was not stored when it asked.
            (vec![event(1, resolved("h2", "H"))], tam_ky.clone()),
            // Its own reception and resolution are fine.
            (
                vec![event(1, received("t1", "T")), event(2, resolved("t2", "T"))],
                tam_ky.clone(),
            ),
        ];
        let results = apply_group(&mut conn, &mut index, &PastCache::default(), &requests);
        assert_eq!(results[0].as_ref().unwrap().accepted, 1);
        match &results[1] {
            Err(BatchError::OutOfScope(errors)) => {
                assert_eq!(
                    (errors[0].line, errors[0].code),
                    (1, crate::codes::ErrorCode::OutsideScope)
                );
                assert!(!errors[0].message.contains("503"), "{}", errors[0].message);
            }
            other => panic!("expected a refusal for scope, got {other:?}"),
        }
        assert_eq!(results[2].as_ref().unwrap().accepted, 2);
        assert_eq!(stored_events(&conn), ["h1", "t1", "t2"]);
        // A reception in another unit is refused by its unit, before any other check.
        let mut elsewhere = received("x1", "X");
        elsewhere["unit"] = json!("503");
        let refused = apply_batch(
            &mut conn,
            &mut index,
            &PastCache::default(),
            &[event(1, elsewhere)],
            Mode::Commit,
            &tam_ky,
        );
        assert!(
            matches!(refused, Err(BatchError::OutOfScope(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn the_index_loaded_from_the_store_matches_the_one_built_by_writing() {
        let (dir, mut conn, mut index) = open();
        let batch = vec![
            event(1, received("a1", "A")),
            event(2, received("b1", "B")),
            event(3, resolved("a2", "A")),
        ];
        apply_batch(
            &mut conn,
            &mut index,
            &PastCache::default(),
            &batch,
            Mode::Commit,
            &Scope::Everything,
        )
        .unwrap();
        drop(conn);
        let conn = Connection::open(dir.path().join("w.duckdb")).unwrap();
        let loaded = WriteIndex::load(&conn, Arc::default()).unwrap();
        assert_eq!(loaded.events, index.events);
        assert_eq!(loaded.next_seq, index.next_seq);
        assert_eq!(loaded.dossiers.len(), 2);
        for (id, facts) in &index.dossiers {
            let other = loaded.dossiers[id];
            assert_eq!(
                (
                    other.received,
                    other.due,
                    other.resolved,
                    other.withdrawn,
                    other.fee,
                    other.online
                ),
                (
                    facts.received,
                    facts.due,
                    facts.resolved,
                    facts.withdrawn,
                    facts.fee,
                    facts.online
                ),
                "dossier {id}"
            );
            assert_eq!(
                loaded.fields[other.field as usize],
                index.fields[facts.field as usize]
            );
            assert_eq!(
                loaded.units[other.unit as usize].code,
                index.units[facts.unit as usize].code
            );
        }
    }
}
