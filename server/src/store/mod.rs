//! The store: the rules both engines share, and the two engines, DuckDB and ClickHouse.
//!
//! Shared here: checking a batch ([`check`]) against the write index ([`write_index`]), the
//! rollup counters ([`counters`]) and what each dossier adds to them ([`rollup`]), the indicator
//! queries ([`query`], [`selection`]) over an engine's [`figures::Figures`], the figures on the
//! units of an era ([`view`], [`conversion`]), and what the web server needs of a store
//! ([`served`]). The engines hold the dossiers: the embedded store
//! ([`duckdb`](self::duckdb): one file, one writer) and a cluster ([`clickhouse`]). The reference
//! data (units, catalogue, maps) is a local DuckDB file for both.
pub mod boundaries;
pub mod check;
pub mod cli;
pub mod clickhouse;
pub mod conversion;
pub mod counters;
pub mod duckdb;
pub mod due;
pub mod figures;
pub mod late;
pub mod query;
pub mod rollup;
pub mod selection;
pub mod served;
pub mod unit_lists;
pub mod view;
pub mod write_index;

pub use self::duckdb::DuckStore;

use app::store::StoreError;

/// The store layer's error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    #[error("database error: {0}")]
    Duck(#[from] ::duckdb::Error),
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
    /// A store call panicked. The panic is logged; the call's connection and locks were
    /// recovered, so only this call failed (the message says nothing of the cause).
    #[error("a store call failed unexpectedly")]
    Panicked,
    /// A failure of a group commit, as told to each request of the group.
    #[error("{0}")]
    Group(String),
    /// The store's files cannot be written (disk full, file size limit, read-only or
    /// unwritable directory). Reads still work; the commit left nothing behind.
    #[error("the store cannot write to its disk: {0}")]
    Unwritable(String),
    /// The cluster could not be reached or refused a statement.
    #[error(transparent)]
    Cluster(#[from] clickhouse::ClickHouseError),
}

/// How DuckDB words a failed write of its files (the operating system's reason follows).
const WRITE_FAILURES: [&str; 8] = [
    "Could not write file",
    "Could not truncate file",
    "Could not fsync",
    "No space left on device",
    "File too large",
    "Read-only file system",
    "Permission denied",
    "Disk quota exceeded",
];

impl StoreFailure {
    /// Tells a failed write of the store's files apart from other database errors.
    pub fn classify_write(self) -> StoreFailure {
        match self {
            StoreFailure::Duck(e) => {
                let message = e.to_string();
                if WRITE_FAILURES.iter().any(|w| message.contains(w)) {
                    StoreFailure::Unwritable(message)
                } else {
                    StoreFailure::Duck(e)
                }
            }
            StoreFailure::Io(e) => StoreFailure::Unwritable(e.to_string()),
            other => other,
        }
    }

    /// The same failure for another request of a failed group commit (errors are not `Clone`);
    /// keeps what decides the HTTP status.
    pub fn shared_copy(&self, message: &str) -> StoreFailure {
        match self {
            StoreFailure::Io(e) => StoreFailure::Io(std::io::Error::new(e.kind(), message)),
            StoreFailure::Unwritable(m) => StoreFailure::Unwritable(m.clone()),
            _ => StoreFailure::Group(message.to_string()),
        }
    }
}

/// What a caller is told when the store cannot serve (the reason is logged).
pub const UNAVAILABLE: &str = "the store cannot serve this request now; try again later";

/// What an ingest caller is told when the store cannot write its files (the reason is logged).
pub const UNWRITABLE: &str = "the store cannot write to its disk";

impl From<StoreFailure> for StoreError {
    fn from(e: StoreFailure) -> Self {
        match e {
            StoreFailure::BadQuery { field, message } => StoreError::BadQuery { field, message },
            // The detail (a file path, a shard's address) is for the log, not for the public.
            e @ (StoreFailure::Io(_)
            | StoreFailure::Unwritable(_)
            | StoreFailure::Cluster(clickhouse::ClickHouseError::Unreachable { .. })) => {
                tracing::warn!(error = %e, "store unavailable");
                StoreError::Unavailable(UNAVAILABLE.into())
            }
            other => {
                // The server functions pass this on as a bare "internal error" (the text can be
                // the database's own): its detail is logged here, once.
                tracing::error!(error = %other, "store failure");
                StoreError::Internal(other.to_string())
            }
        }
    }
}

/// Figures about what is stored, for start-up messages and `/readyz`.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct StoreSummary {
    pub schema_version: i32,
    pub dossiers: u64,
    pub events: u64,
}

/// A procedure code seen in events but missing from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UncataloguedProcedure {
    pub procedure: String,
    pub field: String,
    pub dossiers: u64,
    pub first_received: chrono::NaiveDate,
    pub last_received: chrono::NaiveDate,
}
