//! The single writer: checks a batch against what is stored, then commits it whole or not at all.
use super::conversion::Conversion;
use super::rollup::{DossierFacts, RollupDelta};
use super::StoreFailure;
use crate::auth::Scope;
use crate::codes::ErrorCode;
use crate::ingest::event::{Event, EventKind, LineError, Reception};
use app::era::Era;
use app::indicators::local_date;
use app::model::{Channel, Level};
use chrono::NaiveDate;
use chrono::Utc;
use duckdb::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray, UInt64Array,
};
use duckdb::arrow::datatypes::{Date32Type, UInt64Type};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;
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
    /// The conversion table, to name an old unit's successors when it is sent after the reform.
    conversion: Arc<Conversion>,
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
    /// Events outside the writer's units (a reception's unit, or the unit its dossier was
    /// received under): the whole request is refused, nothing stored, and nothing else about
    /// it is said (another unit's dossiers are not the writer's to learn about).
    OutOfScope(Vec<LineError>),
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

pub fn channel_code(c: Channel) -> u8 {
    match c {
        Channel::Online => 0,
        Channel::Direct => 1,
        Channel::Postal => 2,
    }
}

pub const CHANNELS: [Channel; 3] = [Channel::Online, Channel::Direct, Channel::Postal];

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

    pub fn intern_field(&mut self, name: &str) -> u32 {
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

    /// An index of the reference data only (units and the catalogue's fields), for a store
    /// whose dossiers live elsewhere: it learns the dossiers of each batch with [`Self::know`].
    pub fn reference(conn: &Connection, conversion: Arc<Conversion>) -> Result<Self, StoreFailure> {
        let mut index = WriteIndex {
            conversion,
            ..WriteIndex::default()
        };
        index.reload_units(conn)?;
        let mut stmt = conn.prepare("SELECT DISTINCT field FROM procedures ORDER BY field")?;
        let fields = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for field in fields {
            index.intern_field(&field);
        }
        Ok(index)
    }

    /// Replaces the known dossiers and event hashes with those a batch touches.
    pub fn know(&mut self, dossiers: Vec<(String, DossierFacts)>, events: Vec<(u64, u64)>) {
        self.dossiers = dossiers.into_iter().map(|(id, f)| (id.into(), f)).collect();
        self.events = events.into_iter().collect();
    }

    pub fn conversion(&self) -> &Arc<Conversion> {
        &self.conversion
    }

    pub fn unit_number(&self, code: &str) -> Option<u32> {
        self.unit_by_code.get(code).copied()
    }

    pub fn unit_at(&self, number: u32) -> &UnitEntry {
        &self.units[number as usize]
    }

    /// A field's name by its number; numbers past the interned ones are `new_fields` of a batch.
    pub fn field_name<'s>(&'s self, number: u32, new_fields: &'s [String]) -> &'s str {
        let i = number as usize;
        if i < self.fields.len() {
            &self.fields[i]
        } else {
            &new_fields[i - self.fields.len()]
        }
    }

    /// The unit a reception on `on` (a local date) names: its code in force that day. Refused
    /// (code, message) when no unit has the code, or when its unit is not in force then; after
    /// the reform the message names the old unit's successors, so an integrator migrating its
    /// system learns the new codes from the error.
    pub fn reception_unit(&self, code: &str, on: NaiveDate) -> Result<u32, (ErrorCode, String)> {
        let era = Era::on(on);
        if let Some(&unit) = era.key(code).and_then(|k| self.unit_by_code.get(&k)) {
            return Ok(unit);
        }
        let Some(&unit) = era
            .other()
            .key(code)
            .and_then(|k| self.unit_by_code.get(&k))
        else {
            return Err((
                ErrorCode::UnknownUnit,
                format!("unit '{code}' is not a known unit code"),
            ));
        };
        let u = &self.units[unit as usize];
        let message = match era {
            Era::Before2025 => format!(
                "unit '{code}' ({}) is in force from {}; on {on} send the code of the unit then in force",
                u.level,
                app::era::REFORM_DATE
            ),
            Era::From2025 => {
                let codes = |keys: &[String]| {
                    keys.iter()
                        .map(|k| app::era::code_of(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let province = self.conversion.province(&u.province).map(app::era::code_of);
                let ended = format!(
                    "unit '{code}' ({}) ended on {}",
                    u.level,
                    app::era::LAST_DISTRICT_DAY
                );
                let now = match u.level {
                    Level::Province => province.map(|p| format!("from {} it is province {p}", app::era::REFORM_DATE)),
                    Level::District => province.map(|p| {
                        format!("districts ended with the reform: its dossiers go to a commune of province {p} or to the province itself")
                    }),
                    Level::Commune => self.conversion.commune(&u.code).map(|s| {
                        let kind = if s.split() { "split between communes" } else { "commune" };
                        format!("from {} it is {kind} {}", app::era::REFORM_DATE, codes(&s.0))
                    }),
                };
                match now {
                    Some(now) => format!("{ended}; {now}"),
                    None => format!("{ended}; the conversion table names no successor"),
                }
            }
        };
        Err((ErrorCode::UnitNotInForce, message))
    }

    pub fn unit(&self, code: &str) -> Option<&UnitEntry> {
        self.unit_by_code
            .get(code)
            .map(|&i| &self.units[i as usize])
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

/// One event checked and ready to write.
struct Staged<'a> {
    event: &'a Event,
    seq: i64,
    /// The hashes computed while checking, kept so the write does not compute them again.
    id_hash: u64,
    content_hash: u64,
    /// The dossier as this event leaves it.
    facts: DossierFacts,
}

/// Dossier rows to upsert: static attributes only for new dossiers.
#[derive(Clone)]
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

/// What a group of checked requests will add to the store once it commits: the index sees none
/// of it until then, so a failed commit leaves the index as it was.
struct Pending<'a> {
    touched: HashMap<&'a str, DossierRow<'a>>,
    ids: HashMap<u64, (u64, &'a str)>,
    new_fields: Vec<String>,
    staged: Vec<Staged<'a>>,
    next_seq: i64,
}

impl<'a> Pending<'a> {
    fn new(index: &WriteIndex) -> Self {
        Pending {
            touched: HashMap::new(),
            ids: HashMap::new(),
            new_fields: Vec::new(),
            staged: Vec::new(),
            next_seq: index.next_seq,
        }
    }

    /// Takes over a request checked on top of this group.
    fn absorb(&mut self, request: Pending<'a>) {
        self.touched.extend(request.touched);
        self.ids.extend(request.ids);
        self.new_fields.extend(request.new_fields);
        self.staged.extend(request.staged);
        self.next_seq = request.next_seq;
    }
}

/// Checks one request's events in order against the store and the requests already checked in
/// this group. On success returns what the request adds and its duplicate count.
fn check_request<'a>(
    index: &WriteIndex,
    group: &Pending<'a>,
    batch: &'a [(u32, Event)],
    scope: &Scope,
) -> Result<(Pending<'a>, u64), BatchError> {
    if *scope != Scope::Everything {
        let outside = outside_scope(index, group, batch, scope);
        if !outside.is_empty() {
            return Err(BatchError::OutOfScope(outside));
        }
    }
    check_in_scope(index, group, batch).map_err(BatchError::Rejected)
}

/// The events of `batch` outside `scope`: a reception in a unit it does not cover, or an event
/// for a dossier received (stored, earlier in the group, or earlier in the batch) under one.
/// Checked under the writer's lock, so no reception can slip in between check and write.
fn outside_scope(
    index: &WriteIndex,
    group: &Pending,
    batch: &[(u32, Event)],
    scope: &Scope,
) -> Vec<LineError> {
    let mut received_here: HashMap<&str, u32> = HashMap::new();
    let mut outside = Vec::new();
    for (line, event) in batch {
        let dossier = event.dossier_id.as_str();
        let unit = match &event.kind {
            EventKind::Received(r) => {
                let unit = index.reception_unit(&r.unit, local_date(&event.at)).ok();
                if let Some(unit) = unit {
                    received_here.entry(dossier).or_insert(unit);
                }
                unit
            }
            _ => received_here
                .get(dossier)
                .copied()
                .or_else(|| group.touched.get(dossier).map(|row| row.facts.unit))
                .or_else(|| index.dossiers.get(dossier).map(|facts| facts.unit)),
        };
        // An unknown unit or dossier is refused by the checks that follow.
        let Some(unit) = unit else { continue };
        let u = &index.units[unit as usize];
        let today = index.conversion.today_of(&u.code, &u.province);
        if !scope.covers_unit(&u.code, &u.province, u.district.as_deref(), &today) {
            let message = match &event.kind {
                EventKind::Received(r) => {
                    format!("unit '{}' is outside this token's units", r.unit)
                }
                _ => format!(
                    "dossier '{}' was not received under this token's units",
                    event.dossier_id
                ),
            };
            outside.push(LineError::new(
                *line,
                "unit",
                ErrorCode::OutsideScope,
                message,
            ));
        }
    }
    outside
}

fn check_in_scope<'a>(
    index: &WriteIndex,
    group: &Pending<'a>,
    batch: &'a [(u32, Event)],
) -> Result<(Pending<'a>, u64), Vec<LineError>> {
    let mut errors = Vec::new();
    let mut duplicates = 0u64;
    let mut mine = Pending {
        touched: HashMap::new(),
        ids: HashMap::new(),
        new_fields: Vec::new(),
        staged: Vec::with_capacity(batch.len()),
        next_seq: group.next_seq,
    };
    let known_field = |name: &str, mine: &Pending| -> Option<u32> {
        index.field_by_name.get(name).copied().or_else(|| {
            group
                .new_fields
                .iter()
                .chain(mine.new_fields.iter())
                .position(|f| f == name)
                .map(|pos| (index.fields.len() + pos) as u32)
        })
    };

    for (line, event) in batch {
        let line = *line;
        let id_hash = event.id_hash();
        let content = event.content_hash();
        let same_id = |ids: &HashMap<u64, (u64, &str)>| {
            ids.get(&id_hash)
                .filter(|(_, id)| *id == event.event_id)
                .map(|(c, _)| *c)
        };
        let previous = index
            .events
            .get(&id_hash)
            .copied()
            .or_else(|| same_id(&group.ids))
            .or_else(|| same_id(&mine.ids));
        if let Some(stored_content) = previous {
            if stored_content == content {
                duplicates += 1;
            } else {
                errors.push(LineError::new(
                    line,
                    "event_id",
                    ErrorCode::EventIdConflict,
                    format!(
                        "event_id '{}' was already received with different content",
                        event.event_id
                    ),
                ));
            }
            continue;
        }
        let dossier = event.dossier_id.as_str();
        let existing = mine
            .touched
            .get(dossier)
            .or_else(|| group.touched.get(dossier))
            .map(|row| row.facts)
            .or_else(|| index.dossiers.get(dossier).copied());
        let at_date = local_date(&event.at);
        let next: Result<(DossierFacts, Option<String>), LineError> = match (&event.kind, existing) {
            (EventKind::Received(_), Some(_)) => Err(LineError::new(
                line,
                "dossier_id",
                ErrorCode::DuplicateReceived,
                format!("dossier '{}' was already received", event.dossier_id),
            )),
            (EventKind::Received(r), None) => match index.reception_unit(&r.unit, at_date) {
                Err((code, message)) => Err(LineError::new(line, "unit", code, message)),
                Ok(unit) if index.units[unit as usize].level != r.level => Err(LineError::new(
                    line,
                    "level",
                    ErrorCode::LevelMismatch,
                    format!(
                        "unit '{}' is a {}, but the event says level '{}'",
                        r.unit, index.units[unit as usize].level, r.level
                    ),
                )),
                Ok(unit) => {
                    // A field not seen before gets a provisional id beyond the table; it is
                    // interned for real only after the commit.
                    let field = known_field(&r.field, &mine).unwrap_or_else(|| {
                        mine.new_fields.push(r.field.clone());
                        (index.fields.len() + group.new_fields.len() + mine.new_fields.len() - 1)
                            as u32
                    });
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
                ErrorCode::UnknownDossier,
                format!(
                    "dossier '{}' has no 'received' event, neither stored nor earlier in this request",
                    event.dossier_id
                ),
            )),
            (kind, Some(facts)) if at_date < facts.received => Err(LineError::new(
                line,
                "at",
                ErrorCode::BeforeReceived,
                format!("a '{}' event on {at_date} precedes the reception on {}", kind.name(), facts.received),
            )),
            (EventKind::DueChanged { due }, Some(mut facts)) => {
                let due = local_date(due);
                if due < facts.received {
                    Err(LineError::new(
                        line,
                        "due",
                        ErrorCode::DueBeforeReceived,
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
                        ErrorCode::AlreadyResolved,
                        format!("dossier '{}' is already resolved", event.dossier_id),
                    ))
                } else if facts.withdrawn.is_some() {
                    Err(LineError::new(
                        line,
                        "type",
                        ErrorCode::AlreadyWithdrawn,
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
                        ErrorCode::AlreadyClosed,
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
                let seq = mine.next_seq;
                mine.ids.insert(id_hash, (content, event.event_id.as_str()));
                let row = mine.touched.entry(dossier).or_insert_with(|| {
                    // Carry what earlier requests of the group know (e.g. the reception).
                    group.touched.get(dossier).cloned().unwrap_or(DossierRow {
                        reception: None,
                        facts,
                        outcome: None,
                        last_seq: seq,
                    })
                });
                if matches!(event.kind, EventKind::Received(_)) {
                    row.reception = Some(event);
                }
                row.facts = facts;
                if new_outcome.is_some() {
                    row.outcome = new_outcome;
                }
                row.last_seq = seq;
                mine.staged.push(Staged {
                    event,
                    seq,
                    id_hash,
                    content_hash: content,
                    facts,
                });
                mine.next_seq += 1;
            }
        }
    }
    if errors.is_empty() {
        Ok((mine, duplicates))
    } else {
        Err(errors)
    }
}

/// One accepted event of a batch checked for a store that writes elsewhere.
pub struct CheckedEvent<'a> {
    pub event: &'a Event,
    pub id_hash: u64,
    pub content_hash: u64,
    /// The dossier before and after the event (`None` before its reception).
    pub before: Option<DossierFacts>,
    pub after: DossierFacts,
}

/// What [`check_alone`] accepted: the events in order, resends, and fields not interned yet.
pub struct CheckedBatch<'a> {
    pub events: Vec<CheckedEvent<'a>>,
    pub duplicates: u64,
    pub new_fields: Vec<String>,
}

/// Checks a batch against the index alone, by the same rules as a commit, and says what each
/// accepted event changes; the caller writes it (the cluster store).
pub fn check_alone<'a>(
    index: &WriteIndex,
    batch: &'a [(u32, Event)],
    scope: &Scope,
) -> Result<CheckedBatch<'a>, BatchError> {
    let group = Pending::new(index);
    let (request, duplicates) = check_request(index, &group, batch, scope)?;
    let mut current: HashMap<&str, DossierFacts> = HashMap::new();
    let events = request
        .staged
        .iter()
        .map(|s| {
            let dossier = s.event.dossier_id.as_str();
            let before = current
                .get(dossier)
                .copied()
                .or_else(|| index.dossiers.get(dossier).copied());
            current.insert(dossier, s.facts);
            CheckedEvent {
                event: s.event,
                id_hash: s.id_hash,
                content_hash: s.content_hash,
                before,
                after: s.facts,
            }
        })
        .collect();
    Ok(CheckedBatch {
        events,
        duplicates,
        new_fields: request.new_fields,
    })
}

/// Checks the batch (`(line, event)` pairs, in order) and commits it in one transaction.
pub fn apply_batch(
    conn: &mut Connection,
    index: &mut WriteIndex,
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
    let last_seq = write_group(conn, index, group)?;
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
    match write_group(conn, index, group) {
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
    group: Pending,
) -> Result<Option<i64>, StoreFailure> {
    write_group_inner(conn, index, group).map_err(StoreFailure::classify_write)
}

fn write_group_inner(
    conn: &mut Connection,
    index: &mut WriteIndex,
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
    tx.commit()?;
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

/// The rollup counters, in table order; the first nine are summed over a period, the last three
/// feed the pending prefix sums.
pub(crate) const COUNTERS: [&str; 12] = [
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
    let unit = |key: &super::rollup::RowKey| &units[key.0 as usize];
    let text = |f: &dyn Fn(&super::rollup::RowKey) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(|(k, _)| f(k)).collect::<StringArray>())
    };
    let counter = |f: &dyn Fn(&super::rollup::Counters) -> i64| -> ArrayRef {
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
        ("received", counter(&|c| c.received)),
        ("received_online", counter(&|c| c.received_online)),
        ("received_with_fee", counter(&|c| c.received_with_fee)),
        ("paid_online", counter(&|c| c.paid_online)),
        ("resolved", counter(&|c| c.resolved)),
        ("resolved_early", counter(&|c| c.resolved_early)),
        ("resolved_on_time", counter(&|c| c.resolved_on_time)),
        ("resolved_late", counter(&|c| c.resolved_late)),
        ("resolved_days", counter(&|c| c.resolved_days)),
        ("closed", counter(&|c| c.closed)),
        ("due", counter(&|c| c.due)),
        ("due_or_closed", counter(&|c| c.due_or_closed)),
    ];
    batch(columns, "rollup")
}

/// Creates the connection-local staging tables the writer appends to before merging.
pub fn prepare_staging(conn: &Connection) -> duckdb::Result<()> {
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
        let results = apply_group(&mut conn, &mut index, &requests);
        let first = results[0].as_ref().unwrap();
        assert_eq!((first.accepted, first.duplicates), (1, 0));
        match &results[1] {
            Err(BatchError::Rejected(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    (errors[0].line, errors[0].code),
                    (2, ErrorCode::UnknownDossier)
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
        let results = apply_group(&mut conn, &mut index, &requests);
        assert_eq!(results[0].as_ref().unwrap().accepted, 1);
        match &results[1] {
            Err(BatchError::OutOfScope(errors)) => {
                assert_eq!(
                    (errors[0].line, errors[0].code),
                    (1, ErrorCode::OutsideScope)
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
