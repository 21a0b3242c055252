//! The cluster store: events, dossiers and rollups on ClickHouse shards, reference data local.
//!
//! The reference data (units, the procedures catalogue, tile maps, imported boundaries) is small,
//! authored, and the same for every web server: each keeps it in a DuckDB file of its own, seeded
//! from the authored lists at start exactly as the embedded store is. What ingest writes lives on
//! the cluster only, so every web server in front of it answers the same.
use super::client::number;
use super::{schema, ClickHouse, ClickHouseError, ClusterAddress};
use crate::ingest::event::{Event, EventKind};
use crate::scope::{Scope, UnitPlace};
use crate::store::boundaries::{BoundaryLayer, Tile, UnitName};
use crate::store::check::{check_alone, BatchError, BatchOutcome};
use crate::store::duckdb::EngineSettings;
use crate::store::query;
use crate::store::rollup::{change_by_day, DossierFacts};
use crate::store::served::ServedStore;
use crate::store::write_index::{channel_code, WriteIndex, CHANNELS};
use crate::store::{selection, DuckStore, StoreFailure, UncataloguedProcedure};
use app::late::{LatePage, LateQuery, TimelineEvent};
use app::model::{Channel, Counts, IndicatorRow, Level, StatsQuery, StatsResponse, UnitRef};
use app::selection::{DaysDistribution, ProcedureRow, SelectionQuery};
use app::store::{IndicatorStore, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

pub struct ClusterStore {
    pub(super) address: ClusterAddress,
    shards: Vec<ClickHouse>,
    reference: std::sync::Arc<DuckStore>,
    /// Units and fields; each batch loads the dossiers it touches into it. Held for the whole
    /// check and insert, so this process writes one batch at a time.
    index: Mutex<WriteIndex>,
    /// Names this process in the commit log.
    server: String,
    /// The newest change number and commit time seen on the cluster.
    changes: Mutex<(i64, Option<DateTime<Utc>>)>,
    change_at_open: i64,
}

/// Dossier ids per lookup statement.
const LOOKUP_SLICE: usize = 5_000;

/// Quotes a string for a ClickHouse statement.
pub(super) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub(super) fn date(d: NaiveDate) -> String {
    format!("toDate('{d}')")
}

/// A dossier as the cluster holds it, with what the rollup facts leave out.
#[derive(serde::Deserialize)]
struct StoredDossier {
    dossier_id: String,
    #[serde(deserialize_with = "number")]
    version: u64,
    unit_code: String,
    procedure: String,
    field: String,
    channel: String,
    agency: Option<String>,
    fee: u8,
    paid_online: u8,
    received_at: String,
    received_date: NaiveDate,
    due_date: NaiveDate,
    resolved_date: Option<NaiveDate>,
    withdrawn_date: Option<NaiveDate>,
    outcome: Option<String>,
}

/// What an event row repeats of its dossier beyond the rollup facts.
#[derive(Clone)]
struct DossierExtra {
    version: u64,
    procedure: String,
    agency: Option<String>,
    received_at: String,
    outcome: Option<String>,
}

#[derive(serde::Deserialize)]
struct StoredEventHash {
    #[serde(deserialize_with = "number")]
    id_hash: u64,
    #[serde(deserialize_with = "number")]
    content_hash: u64,
}

/// One event row: the event, its dossier after it, and its change to each day's counters.
#[derive(serde::Serialize)]
struct EventRow<'a> {
    event_id: &'a str,
    id_hash: u64,
    content_hash: u64,
    dossier_id: &'a str,
    event_type: &'static str,
    at_utc: String,
    at_offset_s: i32,
    unit_code: Option<&'a str>,
    level: Option<&'static str>,
    procedure: Option<&'a str>,
    field: Option<&'a str>,
    channel: Option<&'static str>,
    due_utc: Option<String>,
    fee: Option<u8>,
    paid_online: Option<u8>,
    agency: Option<&'a str>,
    outcome: Option<&'a str>,
    ingested_at: String,
    version: u64,
    s_unit_code: String,
    s_province_code: String,
    s_district_code: Option<String>,
    s_commune_code: Option<String>,
    s_level: &'static str,
    s_procedure: String,
    s_field: String,
    s_channel: &'static str,
    s_agency: Option<String>,
    s_fee: u8,
    s_paid_online: u8,
    s_received_at: String,
    s_received_date: NaiveDate,
    s_due_date: NaiveDate,
    s_resolved_date: Option<NaiveDate>,
    s_withdrawn_date: Option<NaiveDate>,
    s_outcome: Option<String>,
    d_day: Vec<NaiveDate>,
    d_received: Vec<i64>,
    d_received_online: Vec<i64>,
    d_received_with_fee: Vec<i64>,
    d_paid_online: Vec<i64>,
    d_resolved: Vec<i64>,
    d_resolved_early: Vec<i64>,
    d_resolved_on_time: Vec<i64>,
    d_resolved_late: Vec<i64>,
    d_resolved_days: Vec<i64>,
    d_closed: Vec<i64>,
    d_due: Vec<i64>,
    d_due_or_closed: Vec<i64>,
}

fn seconds(t: &DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&Utc)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

impl ClusterStore {
    /// Migrates the cluster, opens (creating if needed) the local reference store at
    /// `reference_path` and reads the cluster's change number.
    pub fn open(
        address: ClusterAddress,
        reference_path: &Path,
        authored_data: &Path,
    ) -> Result<Self, StoreFailure> {
        Self::open_with(
            address,
            reference_path,
            authored_data,
            &EngineSettings::default(),
        )
    }

    /// [`ClusterStore::open`] with what the local reference copy's DuckDB may use.
    pub fn open_with(
        address: ClusterAddress,
        reference_path: &Path,
        authored_data: &Path,
        engine: &EngineSettings,
    ) -> Result<Self, StoreFailure> {
        let applied = schema::migrate(&address, &mut |line| tracing::info!("{line}"))?;
        if applied > 0 {
            tracing::info!(steps = applied, "cluster schema migrated");
        }
        let reference =
            std::sync::Arc::new(DuckStore::open_with(reference_path, authored_data, engine)?);
        let conversion = reference.conversion().clone();
        let index = reference.with_reader(|c| WriteIndex::reference(c, conversion))?;
        let shards = address.shards.iter().map(|s| ClickHouse::new(s)).collect();
        let server = format!("{}:{}", host_name(), std::process::id());
        let mut store = ClusterStore {
            address,
            shards,
            reference,
            index: Mutex::new(index),
            server,
            changes: Mutex::new((0, None)),
            change_at_open: 0,
        };
        store.change_at_open = store.refresh_changes()?;
        Ok(store)
    }

    pub fn address(&self) -> &ClusterAddress {
        &self.address
    }

    fn db(&self) -> &str {
        &self.address.database
    }

    /// Runs a query on the first shard that answers (a Distributed table reads all of them).
    pub(super) fn rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
    ) -> Result<Vec<T>, StoreFailure> {
        let mut unreachable = None;
        for shard in &self.shards {
            match shard.rows(sql) {
                Err(e @ ClickHouseError::Unreachable { .. }) => unreachable = Some(e),
                other => return Ok(other?),
            }
        }
        Err(unreachable
            .map(StoreFailure::from)
            .unwrap_or_else(|| StoreFailure::Corrupt("the cluster address names no shard".into())))
    }

    /// Inserts through the first shard, without trying another: an insert whose answer was lost
    /// may have landed, and sent again elsewhere its rollup changes would count twice. The
    /// client resends instead, and the resent events are recognised as stored.
    fn insert<T: serde::Serialize>(&self, table: &str, rows: &[T]) -> Result<(), StoreFailure> {
        let first = self
            .shards
            .first()
            .ok_or_else(|| StoreFailure::Corrupt("the cluster address names no shard".into()))?;
        Ok(first.insert(table, rows)?)
    }

    /// Reads the cluster's change number (commits by every web server) and newest commit time.
    pub fn refresh_changes(&self) -> Result<i64, StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Changes {
            #[serde(deserialize_with = "number")]
            n: i64,
            last: String,
        }
        let row = self
            .rows::<Changes>(&format!(
                "SELECT count() AS n, toString(max(at)) AS last FROM {}.commits",
                self.db()
            ))?
            .pop()
            .ok_or_else(|| StoreFailure::Corrupt("no answer for the commit count".into()))?;
        let last = (row.n > 0)
            .then(|| chrono::NaiveDateTime::parse_from_str(&row.last, "%Y-%m-%d %H:%M:%S").ok())
            .flatten()
            .map(|t| t.and_utc());
        // Two numbers, each written whole: a panic elsewhere cannot leave them half-set.
        let mut changes = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *changes = (row.n, last);
        Ok(row.n)
    }

    /// The write index, locked. A panic while it was held may have left it half-updated: it
    /// is then rebuilt from the reference data (each batch loads the dossiers it touches
    /// again from the cluster), so one failure never disables ingest for good.
    fn lock_index(&self) -> Result<std::sync::MutexGuard<'_, WriteIndex>, StoreFailure> {
        match self.index.lock() {
            Ok(index) => Ok(index),
            Err(poisoned) => {
                let mut index = poisoned.into_inner();
                let conversion = self.reference.conversion().clone();
                *index = self
                    .reference
                    .with_reader(|c| WriteIndex::reference(c, conversion))?;
                self.index.clear_poison();
                tracing::warn!("recovered the cluster writer's index after a panic");
                Ok(index)
            }
        }
    }

    /// The stored dossiers and event hashes of the dossiers `batch` names.
    fn load_touched(
        &self,
        index: &mut WriteIndex,
        batch: &[(u32, Event)],
    ) -> Result<HashMap<String, DossierExtra>, StoreFailure> {
        let mut ids: Vec<&str> = batch.iter().map(|(_, e)| e.dossier_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let db = self.db();
        let mut stored = Vec::new();
        let mut hashes = Vec::new();
        // In slices: ClickHouse parses at most 256 KiB of statement.
        for slice in ids.chunks(LOOKUP_SLICE) {
            let list = slice
                .iter()
                .map(|id| quote(id))
                .collect::<Vec<_>>()
                .join(",");
            stored.extend(self.rows::<StoredDossier>(&format!(
                "SELECT dossier_id, version, unit_code, procedure, field, channel, agency, fee,
                        paid_online, toString(received_at) AS received_at, received_date, due_date,
                        resolved_date, withdrawn_date, outcome
                 FROM {db}.dossiers FINAL WHERE dossier_id IN ({list})"
            ))?);
            hashes.extend(self.rows::<StoredEventHash>(&format!(
                "SELECT id_hash, content_hash FROM {db}.events WHERE dossier_id IN ({list})"
            ))?);
        }
        let mut facts = Vec::with_capacity(stored.len());
        let mut extras = HashMap::with_capacity(stored.len());
        for d in stored {
            let unit = index.unit_number(&d.unit_code).ok_or_else(|| {
                StoreFailure::Corrupt(format!(
                    "dossier {} names unknown unit {}",
                    d.dossier_id, d.unit_code
                ))
            })?;
            let channel: Channel = d.channel.parse().map_err(StoreFailure::Corrupt)?;
            facts.push((
                d.dossier_id.clone(),
                DossierFacts {
                    unit,
                    field: index.intern_field(&d.field),
                    online: channel == Channel::Online,
                    channel: channel_code(channel),
                    fee: d.fee != 0,
                    paid_online: d.paid_online != 0,
                    received: d.received_date,
                    due: d.due_date,
                    resolved: d.resolved_date,
                    withdrawn: d.withdrawn_date,
                },
            ));
            extras.insert(
                d.dossier_id,
                DossierExtra {
                    version: d.version,
                    procedure: d.procedure,
                    agency: d.agency,
                    received_at: d.received_at,
                    outcome: d.outcome,
                },
            );
        }
        index.know(
            facts,
            hashes
                .into_iter()
                .map(|h| (h.id_hash, h.content_hash))
                .collect(),
        );
        Ok(extras)
    }

    /// Checks a batch and, when `write`, inserts it: one insert through the Distributed table,
    /// which puts each dossier's events (with their state and rollup changes) on its shard.
    ///
    /// A write holds the cluster's write lock ([`super::lock`]) from reading the touched
    /// dossiers to the insert, so a batch is checked against what every server has stored:
    /// the same events sent through two servers at once count once, and of two conflicting
    /// events for one dossier only the first is accepted.
    fn apply(
        &self,
        batch: &[(u32, Event)],
        write: bool,
        scope: &Scope,
    ) -> Result<BatchOutcome, BatchError> {
        let mut index = self.lock_index()?;
        let held = match (write, self.shards.first()) {
            (true, Some(first)) => Some(super::lock::acquire(first, self.db())?),
            _ => None,
        };
        let mut extras = self.load_touched(&mut index, batch)?;
        let checked = check_alone(&index, batch, scope)?;
        let accepted = checked.events.len() as u64;
        if !write || accepted == 0 {
            return Ok(BatchOutcome {
                accepted: 0,
                duplicates: checked.duplicates,
                last_seq: None,
            });
        }
        let now = Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let mut rows = Vec::with_capacity(checked.events.len());
        for c in &checked.events {
            let e = c.event;
            let extra = match (&e.kind, extras.get_mut(&e.dossier_id)) {
                (EventKind::Received(r), _) => {
                    extras.entry(e.dossier_id.clone()).or_insert(DossierExtra {
                        version: 0,
                        procedure: r.procedure.clone(),
                        agency: r.agency.clone(),
                        received_at: seconds(&e.at),
                        outcome: None,
                    })
                }
                (_, Some(extra)) => extra,
                (_, None) => {
                    return Err(BatchError::Store(StoreFailure::Corrupt(format!(
                        "dossier {} was accepted without its reception",
                        e.dossier_id
                    ))))
                }
            };
            extra.version += 1;
            if let EventKind::Resolved { outcome } = &e.kind {
                if outcome.is_some() {
                    extra.outcome = outcome.clone();
                }
            }
            let unit = index.unit_at(c.after.unit);
            let reception = match &e.kind {
                EventKind::Received(r) => Some(r),
                _ => None,
            };
            let deltas = change_by_day(c.before.as_ref(), &c.after);
            let column = |f: fn(&crate::store::rollup::Counters) -> i64| -> Vec<i64> {
                deltas.iter().map(|(_, counters)| f(counters)).collect()
            };
            rows.push(EventRow {
                event_id: &e.event_id,
                id_hash: c.id_hash,
                content_hash: c.content_hash,
                dossier_id: &e.dossier_id,
                event_type: e.kind.name(),
                at_utc: seconds(&e.at),
                at_offset_s: e.at.offset().local_minus_utc(),
                // The store key of the unit in force on the reception's date.
                unit_code: reception.map(|_| unit.code.as_str()),
                level: reception.map(|r| r.level.as_str()),
                procedure: reception.map(|r| r.procedure.as_str()),
                field: reception.map(|r| r.field.as_str()),
                channel: reception.map(|r| r.channel.as_str()),
                due_utc: match &e.kind {
                    EventKind::Received(r) => Some(seconds(&r.due)),
                    EventKind::DueChanged { due } => Some(seconds(due)),
                    _ => None,
                },
                fee: reception.map(|r| u8::from(r.fee)),
                paid_online: reception.map(|r| u8::from(r.paid_online)),
                agency: reception.and_then(|r| r.agency.as_deref()),
                outcome: match &e.kind {
                    EventKind::Resolved { outcome } => outcome.as_deref(),
                    _ => None,
                },
                ingested_at: now.clone(),
                version: extra.version,
                s_unit_code: unit.code.clone(),
                s_province_code: unit.province.clone(),
                s_district_code: unit.district.clone(),
                s_commune_code: (unit.level == Level::Commune).then(|| unit.code.clone()),
                s_level: unit.level.as_str(),
                s_procedure: extra.procedure.clone(),
                s_field: index
                    .field_name(c.after.field, &checked.new_fields)
                    .to_string(),
                s_channel: CHANNELS[c.after.channel as usize].as_str(),
                s_agency: extra.agency.clone(),
                s_fee: u8::from(c.after.fee),
                s_paid_online: u8::from(c.after.paid_online),
                s_received_at: extra.received_at.clone(),
                s_received_date: c.after.received,
                s_due_date: c.after.due,
                s_resolved_date: c.after.resolved,
                s_withdrawn_date: c.after.withdrawn,
                s_outcome: extra.outcome.clone(),
                d_day: deltas.iter().map(|(day, _)| *day).collect(),
                d_received: column(|c| c.received),
                d_received_online: column(|c| c.received_online),
                d_received_with_fee: column(|c| c.received_with_fee),
                d_paid_online: column(|c| c.paid_online),
                d_resolved: column(|c| c.resolved),
                d_resolved_early: column(|c| c.resolved_early),
                d_resolved_on_time: column(|c| c.resolved_on_time),
                d_resolved_late: column(|c| c.resolved_late),
                d_resolved_days: column(|c| c.resolved_days),
                d_closed: column(|c| c.closed),
                d_due: column(|c| c.due),
                d_due_or_closed: column(|c| c.due_or_closed),
            });
        }
        if let Some(held) = &held {
            held.confirm()?;
        }
        self.insert(&format!("{}.events", self.db()), &rows)?;
        for name in &checked.new_fields {
            index.intern_field(name);
        }
        #[derive(serde::Serialize)]
        struct Commit<'a> {
            at: &'a str,
            server: &'a str,
            events: u64,
        }
        self.insert(
            &format!("{}.commits", self.db()),
            &[Commit {
                at: &now,
                server: &self.server,
                events: accepted,
            }],
        )?;
        let change = self.refresh_changes()?;
        Ok(BatchOutcome {
            accepted,
            duplicates: checked.duplicates,
            last_seq: Some(change),
        })
    }

    /// The local reference data (units, catalogue, maps).
    pub fn reference(&self) -> std::sync::Arc<DuckStore> {
        self.reference.clone()
    }

    fn figures(&self) -> super::figures::ClusterFigures<'_> {
        super::figures::ClusterFigures(self)
    }

    /// Events and dossiers on the cluster.
    pub fn counts(&self) -> Result<(u64, u64), StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Totals {
            #[serde(deserialize_with = "number")]
            events: u64,
            #[serde(deserialize_with = "number")]
            dossiers: u64,
        }
        let db = self.db();
        let events = self.rows::<Totals>(&format!(
            "SELECT count() AS events, toUInt64(0) AS dossiers FROM {db}.events FINAL"
        ))?;
        let dossiers = self.rows::<Totals>(&format!(
            "SELECT toUInt64(0) AS events, count() AS dossiers FROM {db}.dossiers FINAL"
        ))?;
        Ok((
            events.first().map_or(0, |t| t.events),
            dossiers.first().map_or(0, |t| t.dossiers),
        ))
    }
}

impl IndicatorStore for ClusterStore {
    fn stats(&self, q: &StatsQuery) -> Result<StatsResponse, StoreError> {
        Ok(self.reference.with_reader(|c| {
            query::stats(
                c,
                &self.figures(),
                self.reference.conversion(),
                self.reference.unit_lists(),
                q,
            )
        })?)
    }

    fn trend(&self, q: &app::model::TrendQuery) -> Result<app::model::TrendResponse, StoreError> {
        Ok(self
            .reference
            .with_reader(|c| query::trend(c, &self.figures(), self.reference.conversion(), q))?)
    }

    fn units(
        &self,
        level: Level,
        parent: Option<&str>,
        era: app::era::Era,
    ) -> Result<Vec<UnitRef>, StoreError> {
        self.reference.units(level, parent, era)
    }

    fn map_layer(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        kind: app::model::MapKind,
    ) -> Result<app::model::MapLayer, StoreError> {
        IndicatorStore::map_layer(&*self.reference, level, parent, on, kind)
    }

    fn fields(&self) -> Result<Vec<String>, StoreError> {
        self.reference.fields()
    }

    fn unit_trail(
        &self,
        code: &str,
        era: app::era::Era,
    ) -> Result<Vec<app::model::PlacedUnit>, StoreError> {
        self.reference.unit_trail(code, era)
    }

    fn by_sector(&self, q: &SelectionQuery) -> Result<Vec<IndicatorRow>, StoreError> {
        Ok(self.reference.with_reader(|c| {
            selection::by_sector(c, &self.figures(), self.reference.conversion(), q)
        })?)
    }

    fn days_distribution(&self, q: &SelectionQuery) -> Result<DaysDistribution, StoreError> {
        Ok(self.reference.with_reader(|c| {
            selection::days_distribution(c, &self.figures(), self.reference.conversion(), q)
        })?)
    }

    fn procedures(&self, q: &SelectionQuery) -> Result<Vec<ProcedureRow>, StoreError> {
        Ok(self.reference.with_reader(|c| {
            selection::procedures(c, &self.figures(), self.reference.conversion(), q)
        })?)
    }

    fn monthly_on_time(&self, q: &StatsQuery) -> Result<HashMap<String, Vec<Counts>>, StoreError> {
        Ok(self.reference.with_reader(|c| {
            selection::monthly_on_time(c, &self.figures(), self.reference.conversion(), q)
        })?)
    }

    fn data_as_of(&self) -> Option<DateTime<Utc>> {
        self.changes.lock().ok().and_then(|c| c.1)
    }
}

impl ServedStore for ClusterStore {
    fn check(&self, batch: &[(u32, Event)], scope: &Scope) -> Result<(), BatchError> {
        self.apply(batch, false, scope).map(drop)
    }

    fn ingest(&self, batch: Vec<(u32, Event)>, scope: &Scope) -> Result<BatchOutcome, BatchError> {
        self.apply(&batch, true, scope)
    }

    fn readiness(&self) -> Result<i32, StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Version {
            #[serde(deserialize_with = "number")]
            v: u32,
        }
        // Every shard must answer and carry the latest schema.
        for shard in &self.shards {
            let version = shard
                .rows::<Version>(&format!(
                    "SELECT max(version) AS v FROM {}.schema_migrations",
                    self.db()
                ))?
                .first()
                .map_or(0, |v| v.v);
            if version != schema::latest_version() {
                return Err(StoreFailure::Corrupt(format!(
                    "shard {} has schema version {version}, expected {}",
                    shard.shard(),
                    schema::latest_version()
                )));
            }
        }
        Ok(schema::latest_version() as i32)
    }

    fn last_seq_at_open(&self) -> i64 {
        self.change_at_open
    }

    fn poll_changes(&self) -> Option<Result<i64, StoreFailure>> {
        Some(self.refresh_changes())
    }

    fn boundaries(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        detail: u8,
    ) -> Result<Option<BoundaryLayer>, StoreFailure> {
        self.reference.boundaries(level, parent, on, detail)
    }

    fn unit_names(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
    ) -> Result<Vec<UnitName>, StoreFailure> {
        self.reference.unit_names(level, parent, on)
    }

    fn tiles(&self, level: Level, parent: &str) -> Result<Vec<Tile>, StoreFailure> {
        self.reference.tiles(level, parent)
    }

    fn unit_place(&self, code: &str) -> Result<Option<UnitPlace>, StoreFailure> {
        self.reference.unit_place(code)
    }

    fn dossier_unit(&self, dossier_id: &str) -> Result<Option<String>, StoreFailure> {
        super::late::dossier_unit(self, dossier_id)
    }

    fn late_dossiers(&self, q: &LateQuery) -> Result<LatePage, StoreFailure> {
        super::late::late_dossiers(self, q)
    }

    fn due_dossiers(
        &self,
        q: &app::due::DueQuery,
        today: NaiveDate,
    ) -> Result<app::due::DuePage, StoreFailure> {
        super::due::due_dossiers(self, q, today)
    }

    fn calendar(&self) -> std::sync::Arc<crate::calendar::WorkingCalendar> {
        self.reference.calendar().clone()
    }

    fn due_counts(
        &self,
        today: NaiveDate,
        until: NaiveDate,
    ) -> Result<std::collections::HashMap<String, u64>, StoreFailure> {
        super::due::due_counts(self, today, until)
    }

    fn covered_units(
        &self,
        units: &[String],
    ) -> Result<std::collections::HashMap<String, std::collections::HashSet<String>>, StoreFailure>
    {
        self.reference.covered_units(units)
    }

    /// Other servers write too, and the cluster's dossiers carry no change number this server
    /// could ask by: every rule is evaluated.
    fn touched_provinces(
        &self,
        _: i64,
    ) -> Option<Result<(i64, std::collections::HashSet<String>), StoreFailure>> {
        None
    }

    fn dossier_events(&self, dossier_id: &str) -> Result<Vec<TimelineEvent>, StoreFailure> {
        super::late::dossier_events(self, dossier_id)
    }

    fn uncatalogued_procedures(&self) -> Result<Vec<UncataloguedProcedure>, StoreFailure> {
        super::late::uncatalogued_procedures(self)
    }

    fn embedded(&self) -> Option<&DuckStore> {
        None
    }
}

/// This machine's name, which names the lock's holder to other servers: asked of the kernel,
/// since `HOSTNAME` is a shell variable that services usually do not have.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "server".into())
}
