//! Checking a batch: each event against the write index and the requests already checked in
//! its group, by the same rules for both engines; what passes is staged for the engine to write.
use super::rollup::DossierFacts;
use super::write_index::{channel_code, WriteIndex};
use super::StoreFailure;
use crate::codes::ErrorCode;
use crate::ingest::event::{Event, EventKind, LineError};
use crate::scope::Scope;
use app::indicators::local_date;
use app::model::Channel;
use std::collections::HashMap;

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

impl From<::duckdb::Error> for BatchError {
    fn from(e: ::duckdb::Error) -> Self {
        BatchError::Store(StoreFailure::from(e))
    }
}

/// One event checked and ready to write.
pub(in crate::store) struct Staged<'a> {
    pub(in crate::store) event: &'a Event,
    pub(in crate::store) seq: i64,
    /// The hashes computed while checking, kept so the write does not compute them again.
    pub(in crate::store) id_hash: u64,
    pub(in crate::store) content_hash: u64,
    /// The dossier as this event leaves it.
    pub(in crate::store) facts: DossierFacts,
}

/// Dossier rows to upsert: static attributes only for new dossiers.
#[derive(Clone)]
pub(in crate::store) struct DossierRow<'a> {
    pub(in crate::store) reception: Option<&'a Event>,
    pub(in crate::store) facts: DossierFacts,
    pub(in crate::store) outcome: Option<String>,
    pub(in crate::store) last_seq: i64,
}

/// What a group of checked requests will add to the store once it commits: the index sees none
/// of it until then, so a failed commit leaves the index as it was.
pub(in crate::store) struct Pending<'a> {
    pub(in crate::store) touched: HashMap<&'a str, DossierRow<'a>>,
    pub(in crate::store) ids: HashMap<u64, (u64, &'a str)>,
    pub(in crate::store) new_fields: Vec<String>,
    pub(in crate::store) staged: Vec<Staged<'a>>,
    pub(in crate::store) next_seq: i64,
}

impl<'a> Pending<'a> {
    pub(in crate::store) fn new(index: &WriteIndex) -> Self {
        Pending {
            touched: HashMap::new(),
            ids: HashMap::new(),
            new_fields: Vec::new(),
            staged: Vec::new(),
            next_seq: index.next_seq,
        }
    }

    /// Takes over a request checked on top of this group.
    pub(in crate::store) fn absorb(&mut self, request: Pending<'a>) {
        self.touched.extend(request.touched);
        self.ids.extend(request.ids);
        self.new_fields.extend(request.new_fields);
        self.staged.extend(request.staged);
        self.next_seq = request.next_seq;
    }
}

/// Checks one request's events in order against the store and the requests already checked in
/// this group. On success returns what the request adds and its duplicate count.
pub(in crate::store) fn check_request<'a>(
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
