//! What the web server needs of a store, whichever engine holds the dossiers: DuckDB or a cluster.
use super::boundaries::{BoundaryLayer, Tile, UnitName};
use super::check::{BatchError, BatchOutcome};
use super::{DuckStore, StoreFailure, UncataloguedProcedure};
use crate::ingest::event::Event;
use crate::scope::{Scope, UnitPlace};
use app::due::{DuePage, DueQuery};
use app::late::{LatePage, LateQuery, TimelineEvent};
use app::model::Level;
use app::store::IndicatorStore;
use chrono::NaiveDate;

/// Every call blocks: call from a blocking thread.
pub trait ServedStore: IndicatorStore {
    /// Reports what `ingest` would refuse in the batch, storing nothing.
    fn check(&self, batch: &[(u32, Event)], scope: &Scope) -> Result<(), BatchError>;
    /// Checks and stores a request of a writer of `scope` (an ingest token's units): an event
    /// outside them refuses the request ([`BatchError::OutOfScope`]), checked with the write.
    fn ingest(&self, batch: Vec<(u32, Event)>, scope: &Scope) -> Result<BatchOutcome, BatchError>;
    /// Ready to serve: answers, has the latest schema, can write. Returns the schema version.
    fn readiness(&self) -> Result<i32, StoreFailure>;
    /// The change number when the store was opened; the live stream's message ids go on from it.
    fn last_seq_at_open(&self) -> i64;
    /// Stores written by other processes too (a cluster) report their newest change number here;
    /// `None` when this process is the only writer and announces its own commits.
    fn poll_changes(&self) -> Option<Result<i64, StoreFailure>>;
    fn boundaries(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        detail: u8,
    ) -> Result<Option<BoundaryLayer>, StoreFailure>;
    fn unit_names(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
    ) -> Result<Vec<UnitName>, StoreFailure>;
    fn tiles(&self, level: Level, parent: &str) -> Result<Vec<Tile>, StoreFailure>;
    fn unit_place(&self, code: &str) -> Result<Option<UnitPlace>, StoreFailure>;
    fn dossier_unit(&self, dossier_id: &str) -> Result<Option<String>, StoreFailure>;
    fn late_dossiers(&self, q: &LateQuery) -> Result<LatePage, StoreFailure>;
    /// Dossiers of `q.unit` (a store key) open now and due from `today` within `q.within`
    /// working days, with the working days each has left.
    fn due_dossiers(&self, q: &DueQuery, today: NaiveDate) -> Result<DuePage, StoreFailure>;
    /// Open dossiers due from `today` through `until`, counted per handling unit (store key):
    /// the alert rules' due-soon figures, one query for every unit.
    fn due_counts(
        &self,
        today: NaiveDate,
        until: NaiveDate,
    ) -> Result<std::collections::HashMap<String, u64>, StoreFailure>;
    /// The units (store keys) whose dossiers a list of each of `units` covers: it, every unit
    /// under it, and for a unit of today the old units that went into it and theirs. Many at
    /// once: the alert rules ask for every commune of today.
    fn covered_units(
        &self,
        units: &[String],
    ) -> Result<std::collections::HashMap<String, std::collections::HashSet<String>>, StoreFailure>;
    /// The provinces of today (public codes) with dossiers that changed after change number
    /// `after`, and the newest change number; `None` when this store cannot tell (then every
    /// rule is evaluated).
    fn touched_provinces(
        &self,
        after: i64,
    ) -> Option<Result<(i64, std::collections::HashSet<String>), StoreFailure>>;
    /// The working-day calendar read when the store opened.
    fn calendar(&self) -> std::sync::Arc<crate::calendar::WorkingCalendar>;
    fn dossier_events(&self, dossier_id: &str) -> Result<Vec<TimelineEvent>, StoreFailure>;
    fn uncatalogued_procedures(&self) -> Result<Vec<UncataloguedProcedure>, StoreFailure>;
    /// The embedded store, for what only it offers (demo history, control socket).
    fn embedded(&self) -> Option<&DuckStore>;
}
