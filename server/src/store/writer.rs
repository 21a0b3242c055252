//! The single writer: checks a batch against what is stored, then commits it whole or not at all.
use super::rollup::{DossierFacts, RollupDelta};
use super::StoreFailure;
use crate::ingest::event::{Event, EventKind, LineError, Reception};
use app::indicators::local_date;
use app::model::{Channel, Level};
use chrono::Utc;
use duckdb::arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
    UInt64Array,
};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::{params, Connection};
use std::collections::HashMap;
use std::sync::Arc;

/// A unit as the writer needs it: its level and where it sits.
#[derive(Clone, Debug)]
pub struct UnitEntry {
    pub code: String,
    pub level: Level,
    pub province: String,
    pub district: Option<String>,
}

/// The in-memory index the writer validates against, rebuilt from the store at start.
#[derive(Default)]
pub struct WriteIndex {
    units: Vec<UnitEntry>,
    unit_by_code: HashMap<String, u32>,
    fields: Vec<String>,
    field_by_name: HashMap<String, u32>,
    dossiers: HashMap<Box<str>, DossierFacts>,
    /// event_id hash → content hash. A hash match is confirmed against the content hash, so two
    /// different ids collide only if both 64-bit hashes collide.
    events: HashMap<u64, u64>,
    next_seq: i64,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    /// Sequence number of the last event stored, if any.
    pub last_seq: Option<i64>,
}

#[derive(Debug)]
pub enum BatchError {
    /// The batch was refused; nothing was stored.
    Rejected(Vec<LineError>),
    Store(StoreFailure),
}

impl From<StoreFailure> for BatchError {
    fn from(e: StoreFailure) -> Self {
        BatchError::Store(e)
    }
}

impl From<duckdb::Error> for BatchError {
    fn from(e: duckdb::Error) -> Self {
        BatchError::Store(StoreFailure::from(e))
    }
}

fn channel_code(c: Channel) -> u8 {
    match c {
        Channel::Online => 0,
        Channel::Direct => 1,
        Channel::Postal => 2,
    }
}

const CHANNELS: [Channel; 3] = [Channel::Online, Channel::Direct, Channel::Postal];

impl WriteIndex {
    pub fn load(conn: &Connection) -> Result<Self, StoreFailure> {
        let mut index = WriteIndex::default();
        index.reload_units(conn)?;
        let mut stmt = conn.prepare(
            "SELECT dossier_id, unit_code, field, channel, fee, paid_online,
                    received_date, due_date, resolved_date, withdrawn_date FROM dossiers",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let unit_code: String = r.get(1)?;
            let field: String = r.get(2)?;
            let channel: String = r.get(3)?;
            let channel: Channel = channel.parse().map_err(StoreFailure::Corrupt)?;
            let unit = *index.unit_by_code.get(&unit_code).ok_or_else(|| {
                StoreFailure::Corrupt(format!("dossier {id} names unknown unit {unit_code}"))
            })?;
            let field = index.intern_field(&field);
            index.dossiers.insert(
                id.into_boxed_str(),
                DossierFacts {
                    unit,
                    field,
                    online: channel == Channel::Online,
                    channel: channel_code(channel),
                    fee: r.get(4)?,
                    paid_online: r.get(5)?,
                    received: r.get(6)?,
                    due: r.get(7)?,
                    resolved: r.get(8)?,
                    withdrawn: r.get(9)?,
                },
            );
        }
        let mut stmt = conn.prepare("SELECT id_hash, content_hash FROM events")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            index.events.insert(r.get(0)?, r.get(1)?);
        }
        index.next_seq =
            conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM events", [], |r| {
                r.get(0)
            })?;
        Ok(index)
    }

    /// Re-reads the unit list (after the authored lists are seeded or boundaries imported).
    pub fn reload_units(&mut self, conn: &Connection) -> Result<(), StoreFailure> {
        let mut stmt = conn
            .prepare("SELECT code, level, province_code, district_code FROM units ORDER BY code")?;
        let units = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (code, level, province, district) in units {
            let level: Level = level.parse().map_err(StoreFailure::Corrupt)?;
            if let Some(&i) = self.unit_by_code.get(&code) {
                self.units[i as usize] = UnitEntry {
                    code,
                    level,
                    province,
                    district,
                };
            } else {
                self.unit_by_code
                    .insert(code.clone(), self.units.len() as u32);
                self.units.push(UnitEntry {
                    code,
                    level,
                    province,
                    district,
                });
            }
        }
        Ok(())
    }

    fn intern_field(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.field_by_name.get(name) {
            return i;
        }
        let i = self.fields.len() as u32;
        self.fields.push(name.to_string());
        self.field_by_name.insert(name.to_string(), i);
        i
    }

    pub fn dossier_count(&self) -> usize {
        self.dossiers.len()
    }

    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    pub fn unit(&self, code: &str) -> Option<&UnitEntry> {
        self.unit_by_code
            .get(code)
            .map(|&i| &self.units[i as usize])
    }
}

/// One event checked and ready to write.
struct Staged<'a> {
    event: &'a Event,
    seq: i64,
}

/// Dossier rows to upsert: static attributes only for new dossiers.
struct DossierRow<'a> {
    reception: Option<&'a Event>,
    facts: DossierFacts,
    outcome: Option<String>,
    last_seq: i64,
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
    batch: &[(u32, Event)],
    mode: Mode,
) -> Result<BatchOutcome, BatchError> {
    let mut errors = Vec::new();
    let mut outcome = BatchOutcome::default();
    let mut staged: Vec<Staged> = Vec::with_capacity(batch.len());
    // State as it would be after the events so far in this batch.
    let mut touched: HashMap<&str, DossierRow> = HashMap::new();
    let mut batch_ids: HashMap<u64, (u64, &str)> = HashMap::new();
    let mut new_fields: Vec<String> = Vec::new();
    let mut seq = index.next_seq;

    for (line, event) in batch {
        let line = *line;
        let id_hash = event.id_hash();
        let content = event.content_hash();
        let previous = index.events.get(&id_hash).copied().or_else(|| {
            batch_ids
                .get(&id_hash)
                .filter(|(_, id)| *id == event.event_id)
                .map(|(c, _)| *c)
        });
        if let Some(stored_content) = previous {
            if stored_content == content {
                outcome.duplicates += 1;
            } else {
                errors.push(LineError::new(
                    line,
                    "event_id",
                    "event_id_conflict",
                    format!(
                        "event_id '{}' was already received with different content",
                        event.event_id
                    ),
                ));
            }
            continue;
        }
        let existing = touched
            .get(event.dossier_id.as_str())
            .map(|row| row.facts)
            .or_else(|| index.dossiers.get(event.dossier_id.as_str()).copied());
        let at_date = local_date(&event.at);
        let next: Result<(DossierFacts, Option<String>), LineError> = match (&event.kind, existing) {
            (EventKind::Received(_), Some(_)) => Err(LineError::new(
                line,
                "dossier_id",
                "duplicate_received",
                format!("dossier '{}' was already received", event.dossier_id),
            )),
            (EventKind::Received(r), None) => match index.unit_by_code.get(&r.unit) {
                None => Err(LineError::new(
                    line,
                    "unit",
                    "unknown_unit",
                    format!("unit '{}' is not a known unit code", r.unit),
                )),
                Some(&unit) if index.units[unit as usize].level != r.level => Err(LineError::new(
                    line,
                    "level",
                    "level_mismatch",
                    format!(
                        "unit '{}' is a {}, but the event says level '{}'",
                        r.unit, index.units[unit as usize].level, r.level
                    ),
                )),
                Some(&unit) => {
                    let field = match index.field_by_name.get(&r.field) {
                        Some(&f) => f,
                        None => {
                            // Interned for real only after commit; a provisional id beyond the table.
                            let pos = new_fields.iter().position(|f| f == &r.field).unwrap_or_else(|| {
                                new_fields.push(r.field.clone());
                                new_fields.len() - 1
                            });
                            (index.fields.len() + pos) as u32
                        }
                    };
                    Ok((
                        DossierFacts {
                            unit,
                            field,
                            online: r.channel == Channel::Online,
                            channel: channel_code(r.channel),
                            fee: r.fee,
                            paid_online: r.fee && r.paid_online,
                            received: at_date,
                            due: local_date(&r.due),
                            resolved: None,
                            withdrawn: None,
                        },
                        None,
                    ))
                }
            },
            (_, None) => Err(LineError::new(
                line,
                "dossier_id",
                "unknown_dossier",
                format!(
                    "dossier '{}' has no 'received' event, neither stored nor earlier in this request",
                    event.dossier_id
                ),
            )),
            (kind, Some(facts)) if at_date < facts.received => Err(LineError::new(
                line,
                "at",
                "before_received",
                format!("a '{}' event on {at_date} precedes the reception on {}", kind.name(), facts.received),
            )),
            (EventKind::DueChanged { due }, Some(mut facts)) => {
                let due = local_date(due);
                if due < facts.received {
                    Err(LineError::new(
                        line,
                        "due",
                        "due_before_received",
                        format!("new due date {due} is before the reception on {}", facts.received),
                    ))
                } else {
                    facts.due = due;
                    Ok((facts, None))
                }
            }
            (EventKind::Resolved { outcome }, Some(mut facts)) => {
                if facts.resolved.is_some() {
                    Err(LineError::new(
                        line,
                        "type",
                        "already_resolved",
                        format!("dossier '{}' is already resolved", event.dossier_id),
                    ))
                } else if facts.withdrawn.is_some() {
                    Err(LineError::new(
                        line,
                        "type",
                        "already_withdrawn",
                        format!("dossier '{}' was withdrawn and cannot be resolved", event.dossier_id),
                    ))
                } else {
                    facts.resolved = Some(at_date);
                    Ok((facts, outcome.clone()))
                }
            }
            (EventKind::Withdrawn, Some(mut facts)) => {
                if facts.resolved.is_some() || facts.withdrawn.is_some() {
                    Err(LineError::new(
                        line,
                        "type",
                        "already_closed",
                        format!("dossier '{}' is already resolved or withdrawn", event.dossier_id),
                    ))
                } else {
                    facts.withdrawn = Some(at_date);
                    Ok((facts, None))
                }
            }
        };
        match next {
            Err(e) => errors.push(e),
            Ok((facts, new_outcome)) => {
                batch_ids.insert(id_hash, (content, event.event_id.as_str()));
                let row = touched
                    .entry(event.dossier_id.as_str())
                    .or_insert(DossierRow {
                        reception: None,
                        facts,
                        outcome: None,
                        last_seq: seq,
                    });
                if matches!(event.kind, EventKind::Received(_)) {
                    row.reception = Some(event);
                }
                row.facts = facts;
                if new_outcome.is_some() {
                    row.outcome = new_outcome;
                }
                row.last_seq = seq;
                staged.push(Staged { event, seq });
                seq += 1;
            }
        }
    }
    if !errors.is_empty() {
        return Err(BatchError::Rejected(errors));
    }
    if staged.is_empty() || mode == Mode::CheckOnly {
        return Ok(outcome);
    }

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
        events.append_record_batch(events_batch(&staged, now)?)?;
        events.flush()?;
        drop(events);
        mark("events");

        let mut staging = tx.appender("staging_dossiers")?;
        for (id, row) in &touched {
            let f = &row.facts;
            let r = row.reception.and_then(|e| match &e.kind {
                EventKind::Received(r) => Some((e, r)),
                _ => None,
            });
            staging.append_row(params![
                id,
                r.map(|(_, r)| r.unit.as_str()),
                r.map(|(_, r)| r.level.as_str()),
                r.map(|(_, r)| r.procedure.as_str()),
                r.map(|(_, r)| r.field.as_str()),
                r.map(|(_, r)| r.channel.as_str()),
                r.and_then(|(_, r)| r.agency.as_deref()),
                r.map(|(_, r)| r.fee),
                r.map(|_| f.paid_online),
                r.map(|(e, _)| e.at.naive_utc()),
                f.received,
                f.due,
                f.resolved,
                f.withdrawn,
                row.outcome.as_deref(),
                row.last_seq,
            ])?;
        }
        staging.flush()?;
        drop(staging);
        tx.execute_batch(
            "INSERT INTO dossiers SELECT * FROM staging_dossiers
             ON CONFLICT (dossier_id) DO UPDATE SET
                due_date = excluded.due_date,
                resolved_date = excluded.resolved_date,
                withdrawn_date = excluded.withdrawn_date,
                outcome = coalesce(excluded.outcome, outcome),
                last_seq = excluded.last_seq;
             DELETE FROM staging_dossiers;",
        )?;
        mark("dossiers");

        let mut staging = tx.appender("staging_rollup")?;
        for ((unit, field, channel, day), c) in delta.nonzero() {
            let u = &index.units[*unit as usize];
            staging.append_row(params![
                u.code,
                field_name(*field),
                CHANNELS[*channel as usize].as_str(),
                day,
                u.province,
                u.district,
                (u.level == Level::Commune).then_some(u.code.as_str()),
                u.level.as_str(),
                c.received,
                c.received_online,
                c.received_with_fee,
                c.paid_online,
                c.resolved,
                c.resolved_early,
                c.resolved_on_time,
                c.resolved_late,
                c.resolved_days,
                c.closed,
                c.due,
                c.due_or_closed,
            ])?;
        }
        staging.flush()?;
        drop(staging);
        tx.execute_batch(&format!(
            "INSERT INTO daily_rollup SELECT * FROM staging_rollup
             ON CONFLICT (unit_code, field, channel, day) DO UPDATE SET {add};
             INSERT INTO monthly_rollup {monthly}
             ON CONFLICT (unit_code, field, channel, month) DO UPDATE SET {add};
             DELETE FROM staging_rollup;",
            add = add_counters(),
            monthly = super::schema::monthly_select("staging_rollup"),
        ))?;
        mark("rollup");
    }
    tx.commit()?;
    mark("commit");
    tracing::debug!(events = staged.len(), rollup_rows = delta.rows.len(), timings_ms = ?marks, "batch written");

    // Committed: only now does the index learn of the batch.
    for name in new_fields {
        index.intern_field(&name);
    }
    for (id, row) in touched {
        index.dossiers.insert(id.into(), row.facts);
    }
    for (hash, (content, _)) in batch_ids {
        index.events.insert(hash, content);
    }
    outcome.accepted = staged.len() as u64;
    outcome.last_seq = Some(seq - 1);
    index.next_seq = seq;
    Ok(outcome)
}

/// The rollup counters, in table order.
const COUNTERS: [&str; 12] = [
    "received",
    "received_online",
    "received_with_fee",
    "paid_online",
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "resolved_days",
    "closed",
    "due",
    "due_or_closed",
];

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
                staged.iter().map(|s| s.event.id_hash()).collect::<Vec<_>>(),
            )),
        ),
        (
            "content_hash",
            Arc::new(UInt64Array::from(
                staged
                    .iter()
                    .map(|s| s.event.content_hash())
                    .collect::<Vec<_>>(),
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
        ("unit_code", text(&|s| reception(s).map(|r| r.unit.clone()))),
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

/// Creates the connection-local staging tables the writer appends to before merging.
pub fn prepare_staging(conn: &Connection) -> duckdb::Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS staging_dossiers AS SELECT * FROM dossiers LIMIT 0;
         CREATE TEMP TABLE IF NOT EXISTS staging_rollup AS SELECT * FROM daily_rollup LIMIT 0;",
    )
}
