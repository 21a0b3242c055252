//! The embedded DuckDB store: one writer, a few readers, all called off the async runtime.
//!
//! Its writer commits checked batches in groups ([`writer`]); its reads answer the indicator
//! queries through [`query::DuckFigures`], and it holds the reference data for both engines.
pub mod boundaries;
pub mod catalog;
pub mod due;
pub mod late;
pub mod maintenance;
pub mod past;
pub mod query;
pub mod schema;
pub mod selection;
pub mod writer;

use crate::calendar::WorkingCalendar;
use crate::ingest::event::Event;
use crate::scope::{Scope, UnitPlace};
use crate::store::boundaries::{BoundaryLayer, Tile, UnitName};
use crate::store::check::{BatchError, BatchOutcome};
use crate::store::conversion::Conversion;
use crate::store::served::ServedStore;
use crate::store::unit_lists::UnitLists;
use crate::store::write_index::WriteIndex;
use crate::store::{StoreFailure, StoreSummary, UncataloguedProcedure};
use ::duckdb::Connection;
use app::late::{LatePage, LateQuery, TimelineEvent};
use app::model::{
    Counts, IndicatorRow, Level, StatsQuery, StatsResponse, TrendQuery, TrendResponse, UnitRef,
};
use app::selection::{DaysDistribution, ProcedureRow, SelectionQuery};
use app::store::{IndicatorStore, StoreError};
use chrono::NaiveDate;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError, TryLockError};

/// What DuckDB may use, given to the store when it opens (the deployment's settings, read and
/// checked by [`crate::config`]).
#[derive(Clone, Debug, Default)]
pub struct EngineSettings {
    /// DuckDB's `memory_limit`, e.g. `2GB` (checked by DuckDB at start); `None`: DuckDB's default.
    pub memory_limit: Option<String>,
}

pub(crate) struct Writer {
    conn: Connection,
    index: WriteIndex,
    /// Told of the months each commit changed (shared with the readers' figures).
    past: Arc<past::PastCache>,
}

/// A request waiting for the next group commit, with where to send its result.
struct Queued {
    batch: Vec<(u32, Event)>,
    /// The units the writer may write for (an ingest token's scope).
    scope: Scope,
    reply: mpsc::SyncSender<Result<BatchOutcome, BatchError>>,
}

pub struct DuckStore {
    path: PathBuf,
    writer: Arc<Mutex<Writer>>,
    /// Requests for the group-commit thread (taken on drop so that the thread ends).
    group: Option<mpsc::Sender<Queued>>,
    group_thread: Option<std::thread::JoinHandle<()>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// When an ingest last stored an event: the dashboard's "data as of".
    last_commit: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// The highest event sequence number when the store was opened: live message ids continue
    /// from it, so a client reconnecting after a restart still sees them increase.
    last_seq_at_open: i64,
    /// Why the last commit could not write the store's files, until a write succeeds again.
    write_failure: Arc<Mutex<Option<String>>>,
    /// Figures of past months kept between reads (the writer tells it what changed).
    past: Arc<past::PastCache>,
    /// The units stats answers list, kept (the reference data is fixed once open).
    unit_lists: UnitLists,
    /// The old units' successors (`data/conversion/`), read at open.
    conversion: Arc<Conversion>,
    /// The product's own data (`data/`): unit lists, catalogue, shipped boundaries.
    authored_data: PathBuf,
    /// Working days (`holidays.csv` and a deployment's `holidays.local.csv`), read at open.
    calendar: Arc<WorkingCalendar>,
}

const READERS: usize = 2;

/// Most events one group commit takes; more wait for the next one.
const MAX_GROUP_EVENTS: usize = 100_000;

/// The group-commit thread: takes the first waiting request and every one queued behind it,
/// checks and commits them in one transaction, answers each, and waits for more. Ends when the
/// store is dropped.
fn group_commit_loop(
    writer: &Mutex<Writer>,
    requests: &mpsc::Receiver<Queued>,
    write_failure: &Mutex<Option<String>>,
) {
    while let Ok(first) = requests.recv() {
        let mut events = first.batch.len();
        let mut queued = vec![first];
        while events < MAX_GROUP_EVENTS {
            match requests.try_recv() {
                Ok(next) => {
                    events += next.batch.len();
                    queued.push(next);
                }
                Err(_) => break,
            }
        }
        let (batches, replies): (Vec<_>, Vec<_>) = queued
            .into_iter()
            .map(|q| ((q.batch, q.scope), q.reply))
            .unzip();
        tracing::debug!(requests = batches.len(), events, "group commit");
        // A panic here must not end this thread (every later ingest would fail): it is caught,
        // each request of the group is told, and the writer is recovered at the next lock.
        let group = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut w = lock_writer(writer)?;
            let Writer { conn, index, past } = &mut *w;
            Ok::<_, StoreFailure>(writer::apply_group(conn, index, past, &batches))
        }));
        let failed = |e: &StoreFailure| -> Vec<Result<BatchOutcome, BatchError>> {
            batches
                .iter()
                .map(|_| Err(BatchError::Store(e.shared_copy(&e.to_string()))))
                .collect()
        };
        let results = match group {
            Ok(Ok(results)) => results,
            Ok(Err(e)) => failed(&e),
            Err(payload) => {
                log_panic("group commit", payload.as_ref());
                batches
                    .iter()
                    .map(|_| Err(BatchError::Store(StoreFailure::Panicked)))
                    .collect()
            }
        };
        note_write(write_failure, &results);
        for (reply, result) in replies.into_iter().zip(results) {
            // A requester that gave up no longer listens; nothing to do for it.
            let _ = reply.send(result);
        }
    }
}

/// Logs a caught panic's message (never shown to a client).
pub(crate) fn log_panic(call: &str, payload: &(dyn std::any::Any + Send)) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    tracing::error!(call, panic = %message, "a store call panicked; only that call failed");
}

/// Runs one store call so that a panic in it ends that call only: caught, logged and answered
/// as [`StoreFailure::Panicked`], never left to unwind through a lock the next call needs.
pub(crate) fn contain<T>(
    call: &str,
    f: impl FnOnce() -> Result<T, StoreFailure>,
) -> Result<T, StoreFailure> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        log_panic(call, payload.as_ref());
        Err(StoreFailure::Panicked)
    })
}

/// The writer, locked. A panic while it was held may have left a transaction open or the
/// index half-updated, so a poisoned lock is recovered: the transaction rolled back and the
/// index reloaded from what was committed. One failure never disables ingest for good.
pub(crate) fn lock_writer(writer: &Mutex<Writer>) -> Result<MutexGuard<'_, Writer>, StoreFailure> {
    match writer.lock() {
        Ok(w) => Ok(w),
        Err(poisoned) => {
            let mut w = poisoned.into_inner();
            // Fails harmlessly when no transaction was open.
            let _ = w.conn.execute_batch("ROLLBACK");
            let conversion = w.index.conversion().clone();
            w.index = WriteIndex::load(&w.conn, conversion)?;
            // A panic between a commit's start and end (or a rebuild's) left it told as under
            // way: the cache would never keep anything again.
            w.past.recovered();
            writer.clear_poison();
            tracing::warn!("recovered the store's writer after a panic: its index was reloaded");
            Ok(w)
        }
    }
}

/// A reader's connection after a panic: the lock is taken back and any transaction the call
/// left open is rolled back (readers only read, so nothing else can be half-done).
fn recover_reader<'a>(
    lock: &'a Mutex<Connection>,
    poisoned: PoisonError<MutexGuard<'a, Connection>>,
) -> MutexGuard<'a, Connection> {
    let conn = poisoned.into_inner();
    let _ = conn.execute_batch("ROLLBACK");
    lock.clear_poison();
    conn
}

/// Remembers a failed write of the store's files, and forgets it once a commit writes again.
fn note_write(write_failure: &Mutex<Option<String>>, results: &[Result<BatchOutcome, BatchError>]) {
    let failed = results.iter().find_map(|r| match r {
        Err(BatchError::Store(StoreFailure::Unwritable(m))) => Some(m.clone()),
        _ => None,
    });
    let wrote = results
        .iter()
        .any(|r| matches!(r, Ok(o) if o.last_seq.is_some()));
    if let Ok(mut state) = write_failure.lock() {
        if let Some(m) = failed {
            if state.is_none() {
                tracing::error!(error = %m, "the store cannot write; ingest answers 503 until it can");
            }
            *state = Some(m);
        } else if wrote && state.take().is_some() {
            tracing::info!("the store writes again");
        }
    }
}

impl Drop for DuckStore {
    fn drop(&mut self) {
        // Closing the channel ends the thread once it has answered what it holds.
        self.group.take();
        if let Some(thread) = self.group_thread.take() {
            if thread.join().is_err() {
                tracing::error!("the group-commit thread had panicked");
            }
        }
    }
}

impl DuckStore {
    /// Opens (creating if needed) the database, migrates it, seeds the authored reference data
    /// and loads the writer's index.
    pub fn open(path: &Path, authored_data: &Path) -> Result<Self, StoreFailure> {
        Self::open_with(path, authored_data, &EngineSettings::default())
    }

    /// [`DuckStore::open`] with what the engine may use (the deployment's settings, read by
    /// [`crate::config`]).
    pub fn open_with(
        path: &Path,
        authored_data: &Path,
        engine: &EngineSettings,
    ) -> Result<Self, StoreFailure> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // A write-ahead log left at open means the last run did not end cleanly (a crash or a
        // kill): DuckDB replays it but leaves it in place, so every later start would replay it
        // all again, longer after each crash. Folding it into the file once here keeps starts
        // short (the crash test's 200 kills grew it to 225 MB and a start to 15 s).
        let wal = {
            let mut name = path.as_os_str().to_os_string();
            name.push(".wal");
            PathBuf::from(name)
        };
        let replayed_log = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let mut conn = Connection::open(path)?;
        if replayed_log > 0 {
            let started = std::time::Instant::now();
            conn.execute_batch("CHECKPOINT")?;
            tracing::info!(
                bytes = replayed_log,
                seconds = started.elapsed().as_secs_f64(),
                "folded the write-ahead log of an unclean stop into the store"
            );
        }
        // Checkpoint less often than DuckDB's 16 MB default: bulk ingest spent much of its
        // commit time folding the WAL into the file. Shutdown still checkpoints.
        conn.execute_batch("SET checkpoint_threshold = '256MB'")?;
        if let Some(limit) = &engine.memory_limit {
            conn.execute("SET memory_limit = ?", [limit])?;
        }
        let applied = schema::migrate(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "schema migrated");
        }
        catalog::seed(&mut conn, authored_data)?;
        writer::prepare_staging(&conn)?;
        let conversion = Arc::new(Conversion::load(authored_data, &|district| {
            let mut stmt = conn.prepare_cached(
                "SELECT code FROM units WHERE district_code = ? AND level = 'commune' ORDER BY code",
            )?;
            let codes = stmt
                .query_map([district], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(codes)
        })?);
        let calendar = Arc::new(
            WorkingCalendar::load(authored_data).map_err(|e| StoreFailure::Seed(e.to_string()))?,
        );
        // Past the last listed year due dates count weekends only: say so while there is time.
        let soon = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::days(90)));
        if calendar.last_listed_year().is_none_or(|last| last < soon) {
            tracing::warn!(
                last_year = calendar.last_listed_year(),
                "the working-day calendar ends before {soon}: add that year's holidays to holidays.local.csv (see docs/OPERATIONS.md#working-days)"
            );
        }
        let index = WriteIndex::load(&conn, conversion.clone())?;
        let unit_lists = UnitLists::load(&conn)?;
        let (last_commit, last_seq): (Option<chrono::NaiveDateTime>, Option<i64>) = conn
            .query_row("SELECT max(ingested_at), max(seq) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let readers = (0..READERS)
            .map(|_| conn.try_clone().map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        let past = Arc::new(past::PastCache::default());
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            index,
            past: past.clone(),
        }));
        let (group, requests) = mpsc::channel();
        let write_failure = Arc::new(Mutex::new(None));
        let group_thread = {
            let writer = writer.clone();
            let write_failure = write_failure.clone();
            std::thread::Builder::new()
                .name("group-commit".into())
                .spawn(move || group_commit_loop(&writer, &requests, &write_failure))?
        };
        Ok(DuckStore {
            path: path.to_path_buf(),
            writer,
            group: Some(group),
            group_thread: Some(group_thread),
            readers,
            next_reader: AtomicUsize::new(0),
            last_commit: Mutex::new(last_commit.map(|t| t.and_utc())),
            last_seq_at_open: last_seq.unwrap_or(0),
            write_failure,
            past,
            unit_lists,
            conversion,
            authored_data: authored_data.to_path_buf(),
            calendar,
        })
    }

    /// The product's own data directory the store was opened with.
    pub fn authored_data(&self) -> &Path {
        &self.authored_data
    }

    /// The conversion table from the old units to today's.
    pub fn conversion(&self) -> &Arc<Conversion> {
        &self.conversion
    }

    /// Drops the figures kept between reads, so that the next reads come from the tables (the
    /// benchmarks time both).
    pub fn forget_kept_figures(&self) {
        self.past.clear();
    }

    /// The units stats answers list, kept.
    pub fn unit_lists(&self) -> &UnitLists {
        &self.unit_lists
    }

    /// The working-day calendar read at open.
    pub fn calendar(&self) -> &Arc<WorkingCalendar> {
        &self.calendar
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on one of the reader connections. A panic in `f` fails this call only
    /// ([`contain`]): the connection is rolled back and stays in service.
    pub fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreFailure>,
    ) -> Result<T, StoreFailure> {
        let read = |conn: &Connection| {
            let result = contain("read", || f(conn));
            if matches!(result, Err(StoreFailure::Panicked)) {
                let _ = conn.execute_batch("ROLLBACK");
            }
            result
        };
        // Prefer an idle reader; otherwise queue on one in turn.
        for r in &self.readers {
            match r.try_lock() {
                Ok(conn) => return read(&conn),
                Err(TryLockError::Poisoned(p)) => return read(&recover_reader(r, p)),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let lock = &self.readers[i];
        let conn = lock.lock().unwrap_or_else(|p| recover_reader(lock, p));
        read(&conn)
    }

    /// Checks and stores a batch atomically, for every unit (the demo, file import, tests).
    /// Blocking: call from a blocking thread.
    pub fn ingest(&self, batch: &[(u32, Event)]) -> Result<BatchOutcome, BatchError> {
        let mut w = lock_writer(&self.writer)?;
        let Writer { conn, index, past } = &mut *w;
        let result = writer::apply_batch(
            conn,
            index,
            past,
            batch,
            writer::Mode::Commit,
            &Scope::Everything,
        );
        note_write(&self.write_failure, std::slice::from_ref(&result));
        let outcome = result?;
        self.note_commit(&outcome);
        Ok(outcome)
    }

    fn note_commit(&self, outcome: &BatchOutcome) {
        if outcome.accepted > 0 {
            if let Ok(mut last) = self.last_commit.lock() {
                *last = Some(chrono::Utc::now());
            }
        }
    }

    pub fn last_seq_at_open(&self) -> i64 {
        self.last_seq_at_open
    }

    /// When an ingest last stored an event (since the store was created).
    pub fn last_commit(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.last_commit.lock().ok().and_then(|l| *l)
    }

    /// Checks and stores a request atomically, committing it together with the requests that
    /// arrived while the previous commit ran (group commit: one transaction for many requests,
    /// each still all-or-nothing on its own). Blocking: call from a blocking thread.
    pub fn ingest_grouped(
        &self,
        batch: Vec<(u32, Event)>,
        scope: &Scope,
    ) -> Result<BatchOutcome, BatchError> {
        let stopped = || {
            BatchError::Store(StoreFailure::Group(
                "the group-commit thread has stopped".into(),
            ))
        };
        let (reply, result) = mpsc::sync_channel(1);
        self.group
            .as_ref()
            .ok_or_else(stopped)?
            .send(Queued {
                batch,
                scope: scope.clone(),
                reply,
            })
            .map_err(|_| stopped())?;
        let outcome = result.recv().map_err(|_| stopped())??;
        self.note_commit(&outcome);
        Ok(outcome)
    }

    /// Reports what `ingest` would refuse in the batch for a writer of `scope`, storing nothing.
    pub fn check(&self, batch: &[(u32, Event)], scope: &Scope) -> Result<(), BatchError> {
        let mut w = lock_writer(&self.writer)?;
        let Writer { conn, index, past } = &mut *w;
        writer::apply_batch(conn, index, past, batch, writer::Mode::CheckOnly, scope).map(|_| ())
    }

    /// A value from the store's own bookkeeping (e.g. whether the demo finished).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached("SELECT value FROM store_meta WHERE key = ?")?;
            let mut rows = stmt.query([key])?;
            Ok(match rows.next()? {
                Some(r) => Some(r.get(0)?),
                None => None,
            })
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreFailure> {
        let w = lock_writer(&self.writer)?;
        w.conn.execute(
            "INSERT OR REPLACE INTO store_meta VALUES (?, ?)",
            [key, value],
        )?;
        Ok(())
    }

    /// Codes of the units of `level` directly under `parent`, in code order.
    pub fn children(&self, parent: &str, level: Level) -> Result<Vec<String>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT code FROM units WHERE parent_code = ? AND level = ? ORDER BY code",
            )?;
            let rows = stmt.query_map([parent, level.as_str()], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    /// Every unit with its level, in code order.
    pub fn all_unit_codes(&self) -> Result<Vec<(String, Level)>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached("SELECT code, level FROM units ORDER BY code")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.map(|r| {
                let (code, level) = r?;
                Ok((code, level.parse().map_err(StoreFailure::Corrupt)?))
            })
            .collect()
        })
    }

    /// The procedure catalogue: (code, field, allowed days), in code order.
    pub fn procedures(&self) -> Result<Vec<(String, String, i32)>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt =
                c.prepare_cached("SELECT code, field, allowed_days FROM procedures ORDER BY code")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Codes of a province's agencies (departments).
    pub fn agencies(&self, province: &str) -> Result<Vec<String>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT code FROM agencies WHERE province_code = ? ORDER BY code",
            )?;
            let rows = stmt.query_map([province], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    /// Open (neither resolved nor withdrawn) dossiers received under `province`, with their due
    /// dates, at most `limit`, most recently received first: the demo simulator resolves them.
    pub fn open_dossiers(
        &self,
        province: &str,
        limit: u32,
    ) -> Result<Vec<(String, chrono::NaiveDate)>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.dossier_id, d.due_date FROM dossiers d
                 JOIN units u ON u.code = d.unit_code
                 WHERE d.resolved_date IS NULL AND d.withdrawn_date IS NULL AND d.due_date IS NOT NULL
                   AND u.province_code = ?
                 ORDER BY d.received_at DESC LIMIT ?",
            )?;
            let rows = stmt.query_map(
                ::duckdb::params![province, limit],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Procedure codes that dossiers use but the catalogue lacks, with the field their events
    /// carried and how many dossiers use them (most used first).
    pub fn uncatalogued_procedures(&self) -> Result<Vec<UncataloguedProcedure>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.procedure, min(d.field), count(*), min(d.received_date), max(d.received_date)
                 FROM dossiers d ANTI JOIN procedures p ON p.code = d.procedure
                 WHERE d.procedure IS NOT NULL
                 GROUP BY d.procedure ORDER BY count(*) DESC, d.procedure",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(UncataloguedProcedure {
                    procedure: r.get(0)?,
                    field: r.get(1)?,
                    dossiers: r.get::<_, i64>(2)? as u64,
                    first_received: r.get(3)?,
                    last_received: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn summary(&self) -> Result<StoreSummary, StoreFailure> {
        let (dossiers, events) = {
            let w = lock_writer(&self.writer)?;
            (w.index.dossier_count() as u64, w.index.event_count() as u64)
        };
        let schema_version = self.with_reader(|c| Ok(schema::current_version(c)?))?;
        Ok(StoreSummary {
            schema_version,
            dossiers,
            events,
        })
    }

    /// Recomputes dossier states and rollups from the events and reports any difference, on
    /// one snapshot while ingest goes on.
    pub fn verify(
        &self,
        progress: maintenance::Progress,
    ) -> Result<maintenance::VerifyReport, StoreFailure> {
        self.with_reader(|c| maintenance::verify(c, progress))
    }

    /// Rebuilds dossier states and rollups from the events, holding the writer (ingest waits),
    /// then reloads the writer's index from the rebuilt tables.
    pub fn rebuild(&self, progress: maintenance::Progress) -> Result<(), StoreFailure> {
        let mut w = lock_writer(&self.writer)?;
        let Writer { conn, index, past } = &mut *w;
        past.replacing();
        let rebuilt = maintenance::rebuild(conn, progress);
        // Told even of a failed rebuild: whether its transaction committed is not certain.
        past.replaced();
        rebuilt?;
        progress("reloading the writer's index");
        *index = WriteIndex::load(conn, index.conversion().clone())?;
        Ok(())
    }

    /// A consistent copy of the store in a new file, holding the writer so that no commit
    /// lands in the middle (ingest waits; reads go on).
    pub fn backup(
        &self,
        target: &Path,
        progress: maintenance::Progress,
    ) -> Result<u64, StoreFailure> {
        let w = lock_writer(&self.writer)?;
        maintenance::backup(&w.conn, target, progress)
    }

    /// The event log as Parquet (one statement, so one snapshot).
    pub fn export_events(
        &self,
        target: &Path,
        progress: maintenance::Progress,
    ) -> Result<u64, StoreFailure> {
        self.with_reader(|c| maintenance::export_events(c, target, progress))
    }

    /// Ready when the store answers a query, its schema is the latest and it can write. After a
    /// failed write each call tries a small write of its own, so readiness returns as soon as
    /// the disk has room again, whether or not anyone ingests meanwhile.
    pub fn readiness(&self) -> Result<i32, StoreFailure> {
        let failing = self
            .write_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(reason) = failing {
            let probe = {
                let w = lock_writer(&self.writer)?;
                // The size of a modest ingest (256 KiB): a disk with room for a few bytes
                // only is still full for ingest.
                w.conn
                    .execute_batch(
                        "INSERT OR REPLACE INTO store_meta
                           SELECT 'write_probe', string_agg(md5(i::VARCHAR), '') FROM range(8192) t(i);
                         UPDATE store_meta SET value = current_timestamp::VARCHAR WHERE key = 'write_probe';",
                    )
                    .map_err(|e| StoreFailure::from(e).classify_write())
            };
            let mut state = self
                .write_failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match probe {
                Ok(_) => {
                    tracing::info!("the store writes again");
                    *state = None;
                }
                Err(StoreFailure::Unwritable(now)) => {
                    *state = Some(now.clone());
                    return Err(StoreFailure::Unwritable(now));
                }
                Err(other) => {
                    return Err(StoreFailure::Unwritable(format!(
                        "{reason} (probe: {other})"
                    )))
                }
            }
        }
        let version = self.with_reader(|c| Ok(schema::current_version(c)?))?;
        if version != schema::LATEST_VERSION {
            return Err(StoreFailure::Corrupt(format!(
                "schema version {version}, expected {}",
                schema::LATEST_VERSION
            )));
        }
        Ok(version)
    }
}

impl IndicatorStore for DuckStore {
    fn stats(&self, query: &StatsQuery) -> Result<StatsResponse, StoreError> {
        Ok(self.with_reader(|c| {
            let figures = query::DuckFigures::kept(c, &self.past);
            crate::store::query::stats(c, &figures, &self.conversion, &self.unit_lists, query)
        })?)
    }

    fn trend(&self, query: &TrendQuery) -> Result<TrendResponse, StoreError> {
        Ok(self.with_reader(|c| {
            crate::store::query::trend(
                c,
                &query::DuckFigures::kept(c, &self.past),
                &self.conversion,
                query,
            )
        })?)
    }

    fn units(
        &self,
        level: Level,
        parent: Option<&str>,
        era: app::era::Era,
    ) -> Result<Vec<UnitRef>, StoreError> {
        Ok(self.with_reader(|c| crate::store::query::public_units(c, level, parent, era))?)
    }

    fn map_layer(
        &self,
        level: Level,
        parent: &str,
        on: chrono::NaiveDate,
        kind: app::model::MapKind,
    ) -> Result<app::model::MapLayer, StoreError> {
        Ok(DuckStore::map_layer(self, level, parent, on, kind)?)
    }

    fn fields(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.with_reader(|c| {
            let mut stmt =
                c.prepare_cached("SELECT DISTINCT field FROM procedures ORDER BY field")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, StoreFailure>(rows.collect::<Result<Vec<String>, _>>()?)
        })?)
    }

    fn unit_trail(
        &self,
        code: &str,
        era: app::era::Era,
    ) -> Result<Vec<app::model::PlacedUnit>, StoreError> {
        let Some(key) = era.key(code) else {
            return Ok(Vec::new());
        };
        Ok(self.with_reader(|c| crate::store::query::unit_trail(c, &key))?)
    }

    fn by_sector(&self, query: &SelectionQuery) -> Result<Vec<IndicatorRow>, StoreError> {
        Ok(self.with_reader(|c| {
            crate::store::selection::by_sector(
                c,
                &query::DuckFigures::kept(c, &self.past),
                &self.conversion,
                query,
            )
        })?)
    }

    fn days_distribution(&self, query: &SelectionQuery) -> Result<DaysDistribution, StoreError> {
        Ok(self.with_reader(|c| {
            let figures = query::DuckFigures::kept(c, &self.past);
            crate::store::selection::days_distribution(c, &figures, &self.conversion, query)
        })?)
    }

    fn procedures(&self, query: &SelectionQuery) -> Result<Vec<ProcedureRow>, StoreError> {
        Ok(self.with_reader(|c| {
            crate::store::selection::procedures(
                c,
                &query::DuckFigures::kept(c, &self.past),
                &self.conversion,
                query,
            )
        })?)
    }

    fn monthly_on_time(
        &self,
        query: &StatsQuery,
    ) -> Result<std::collections::HashMap<String, Vec<Counts>>, StoreError> {
        Ok(self.with_reader(|c| {
            let figures = query::DuckFigures::kept(c, &self.past);
            crate::store::selection::monthly_on_time(c, &figures, &self.conversion, query)
        })?)
    }

    fn data_as_of(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.last_commit()
    }
}

impl ServedStore for DuckStore {
    fn check(&self, batch: &[(u32, Event)], scope: &Scope) -> Result<(), BatchError> {
        DuckStore::check(self, batch, scope)
    }
    fn ingest(&self, batch: Vec<(u32, Event)>, scope: &Scope) -> Result<BatchOutcome, BatchError> {
        self.ingest_grouped(batch, scope)
    }
    fn readiness(&self) -> Result<i32, StoreFailure> {
        DuckStore::readiness(self)
    }
    fn last_seq_at_open(&self) -> i64 {
        DuckStore::last_seq_at_open(self)
    }
    fn poll_changes(&self) -> Option<Result<i64, StoreFailure>> {
        None
    }
    fn boundaries(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        detail: u8,
    ) -> Result<Option<BoundaryLayer>, StoreFailure> {
        DuckStore::boundaries(self, level, parent, on, detail)
    }
    fn unit_names(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
    ) -> Result<Vec<UnitName>, StoreFailure> {
        DuckStore::unit_names(self, level, parent, on)
    }
    fn tiles(&self, level: Level, parent: &str) -> Result<Vec<Tile>, StoreFailure> {
        DuckStore::tiles(self, level, parent)
    }
    fn unit_place(&self, code: &str) -> Result<Option<UnitPlace>, StoreFailure> {
        DuckStore::unit_place(self, code)
    }
    fn dossier_unit(&self, dossier_id: &str) -> Result<Option<String>, StoreFailure> {
        DuckStore::dossier_unit(self, dossier_id)
    }
    fn late_dossiers(&self, q: &LateQuery) -> Result<LatePage, StoreFailure> {
        DuckStore::late_dossiers(self, q)
    }
    fn due_dossiers(
        &self,
        q: &app::due::DueQuery,
        today: NaiveDate,
    ) -> Result<app::due::DuePage, StoreFailure> {
        DuckStore::due_dossiers(self, q, today)
    }
    fn calendar(&self) -> Arc<WorkingCalendar> {
        self.calendar.clone()
    }
    fn due_counts(
        &self,
        today: NaiveDate,
        until: NaiveDate,
    ) -> Result<std::collections::HashMap<String, u64>, StoreFailure> {
        DuckStore::due_counts(self, today, until)
    }
    fn covered_units(
        &self,
        units: &[String],
    ) -> Result<std::collections::HashMap<String, std::collections::HashSet<String>>, StoreFailure>
    {
        DuckStore::covered_units(self, units)
    }
    fn touched_provinces(
        &self,
        after: i64,
    ) -> Option<Result<(i64, std::collections::HashSet<String>), StoreFailure>> {
        Some(DuckStore::touched_provinces(self, after))
    }
    fn dossier_events(&self, dossier_id: &str) -> Result<Vec<TimelineEvent>, StoreFailure> {
        DuckStore::dossier_events(self, dossier_id)
    }
    fn uncatalogued_procedures(&self) -> Result<Vec<UncataloguedProcedure>, StoreFailure> {
        DuckStore::uncatalogued_procedures(self)
    }
    fn embedded(&self) -> Option<&DuckStore> {
        Some(self)
    }
}

/// A store in a temporary directory and events written to it as JSON, for the store's tests.
#[cfg(test)]
pub(crate) mod test_store {
    use super::DuckStore;
    use crate::ingest::event::parse_event;
    use std::path::Path;

    /// A new store on the product's data, in a directory removed when the first value drops.
    pub fn open_temp() -> (tempfile::TempDir, DuckStore) {
        let dir = tempfile::tempdir().unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let store = DuckStore::open(&dir.path().join("s.duckdb"), &data).unwrap();
        (dir, store)
    }

    /// Stores the events (as the ingest API takes them) in one batch.
    pub fn ingest_json(store: &DuckStore, events: &[serde_json::Value]) {
        let batch: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let line = i as u32 + 1;
                (line, parse_event(line, v, chrono::Utc::now()).unwrap())
            })
            .collect();
        store.ingest(&batch).unwrap();
    }
}
