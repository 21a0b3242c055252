//! The embedded DuckDB store: one writer, a few readers, all called off the async runtime.
pub mod catalog;
pub mod query;
pub mod rollup;
pub mod schema;
pub mod writer;

use crate::ingest::event::Event;
use app::model::{Level, StatsQuery, StatsResponse, UnitRef};
use app::store::{IndicatorStore, StoreError};
use duckdb::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use writer::{BatchError, BatchOutcome, WriteIndex};

/// The store layer's error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    #[error("database error: {0}")]
    Duck(#[from] duckdb::Error),
    #[error("cannot load reference data: {0}")]
    Seed(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{field}: {message}")]
    BadQuery {
        field: &'static str,
        message: String,
    },
    #[error("a store lock was poisoned by an earlier panic")]
    Poisoned,
}

impl From<StoreFailure> for StoreError {
    fn from(e: StoreFailure) -> Self {
        match e {
            StoreFailure::BadQuery { field, message } => StoreError::BadQuery { field, message },
            StoreFailure::Io(e) => StoreError::Unavailable(e.to_string()),
            other => StoreError::Internal(other.to_string()),
        }
    }
}

struct Writer {
    conn: Connection,
    index: WriteIndex,
}

pub struct DuckStore {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// Figures about what is stored, for start-up messages and `/readyz`.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct StoreSummary {
    pub schema_version: i32,
    pub dossiers: u64,
    pub events: u64,
}

const READERS: usize = 2;

impl DuckStore {
    /// Opens (creating if needed) the database, migrates it, seeds the authored reference data
    /// and loads the writer's index.
    pub fn open(path: &Path, authored_data: &Path) -> Result<Self, StoreFailure> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open(path)?;
        let applied = schema::migrate(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "schema migrated");
        }
        catalog::seed(&mut conn, authored_data)?;
        writer::prepare_staging(&conn)?;
        let index = WriteIndex::load(&conn)?;
        let readers = (0..READERS)
            .map(|_| conn.try_clone().map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DuckStore {
            path: path.to_path_buf(),
            writer: Mutex::new(Writer { conn, index }),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreFailure>,
    ) -> Result<T, StoreFailure> {
        // Prefer an idle reader; otherwise queue on one in turn.
        for r in &self.readers {
            if let Ok(conn) = r.try_lock() {
                return f(&conn);
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let conn = self.readers[i].lock().map_err(|_| StoreFailure::Poisoned)?;
        f(&conn)
    }

    /// Checks and stores a batch atomically. Blocking: call from a blocking thread.
    pub fn ingest(&self, batch: &[(u32, Event)]) -> Result<BatchOutcome, BatchError> {
        let mut w = self.writer.lock().map_err(|_| StoreFailure::Poisoned)?;
        let Writer { conn, index } = &mut *w;
        writer::apply_batch(conn, index, batch, writer::Mode::Commit)
    }

    /// Reports what `ingest` would refuse in the batch, storing nothing.
    pub fn check(&self, batch: &[(u32, Event)]) -> Result<(), BatchError> {
        let mut w = self.writer.lock().map_err(|_| StoreFailure::Poisoned)?;
        let Writer { conn, index } = &mut *w;
        writer::apply_batch(conn, index, batch, writer::Mode::CheckOnly).map(|_| ())
    }

    pub fn summary(&self) -> Result<StoreSummary, StoreFailure> {
        let (dossiers, events) = {
            let w = self.writer.lock().map_err(|_| StoreFailure::Poisoned)?;
            (w.index.dossier_count() as u64, w.index.event_count() as u64)
        };
        let schema_version = self.with_reader(|c| Ok(schema::current_version(c)?))?;
        Ok(StoreSummary {
            schema_version,
            dossiers,
            events,
        })
    }

    /// Ready when the store answers a query and its schema is the latest.
    pub fn readiness(&self) -> Result<i32, StoreFailure> {
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
        Ok(self.with_reader(|c| query::stats(c, query))?)
    }

    fn units(&self, level: Level, parent: Option<&str>) -> Result<Vec<UnitRef>, StoreError> {
        Ok(self.with_reader(|c| query::units(c, level, parent, None))?)
    }
}
