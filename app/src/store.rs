//! The read side of the store as the server functions see it: a narrow interface any engine can serve.
use crate::model::{
    Counts, IndicatorRow, Level, MapKind, MapLayer, PlacedUnit, StatsQuery, StatsResponse,
    TrendQuery, TrendResponse, UnitRef,
};
use crate::selection::{DaysDistribution, ProcedureRow, SelectionQuery};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The query names something that does not exist or does not fit (a client error).
    #[error("{field}: {message}")]
    BadQuery {
        field: &'static str,
        message: String,
    },
    /// The store cannot serve requests now (full disk, not migrated, closed).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Internal(String),
}

/// Aggregated figures only: nothing here ever returns a dossier-level row.
pub trait IndicatorStore: Send + Sync + 'static {
    fn stats(&self, query: &StatsQuery) -> Result<StatsResponse, StoreError>;
    fn trend(&self, query: &TrendQuery) -> Result<TrendResponse, StoreError>;
    /// Units of `level` in force in `era`, children of `parent` (a code of that era) when given.
    fn units(
        &self,
        level: Level,
        parent: Option<&str>,
        era: crate::era::Era,
    ) -> Result<Vec<UnitRef>, StoreError>;
    /// The map of `level` under `parent` on `on`: imported boundaries in force then (unless
    /// `kind` asks for tiles), else the authored tile map, else tiles laid out in code order.
    fn map_layer(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        kind: MapKind,
    ) -> Result<MapLayer, StoreError>;
    /// The sectors (fields) of the procedures catalogue, by name.
    fn fields(&self) -> Result<Vec<String>, StoreError>;
    /// The unit `code` of `era` and the units above it, from the province down; empty for an
    /// unknown code.
    fn unit_trail(&self, code: &str, era: crate::era::Era) -> Result<Vec<PlacedUnit>, StoreError>;
    /// The selection's figures per sector, by sector name.
    fn by_sector(&self, query: &SelectionQuery) -> Result<Vec<IndicatorRow>, StoreError>;
    /// Processing days of the dossiers resolved in the selection's period (counts only).
    fn days_distribution(&self, query: &SelectionQuery) -> Result<DaysDistribution, StoreError>;
    /// The procedures catalogue with each procedure's counts for the selection.
    fn procedures(&self, query: &SelectionQuery) -> Result<Vec<ProcedureRow>, StoreError>;
    /// Per listed unit of `query`, resolved counts (early, on time, late) for each of the twelve
    /// months ending with the period's last month.
    fn monthly_on_time(
        &self,
        query: &StatsQuery,
    ) -> Result<HashMap<String, Vec<Counts>>, StoreError>;
    /// When an ingest last stored an event; `None` before the first.
    fn data_as_of(&self) -> Option<chrono::DateTime<chrono::Utc>>;
}

/// What the server puts into the Leptos context for the server functions.
pub type SharedIndicatorStore = Arc<dyn IndicatorStore>;

impl From<StoreError> for crate::error::AppError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::BadQuery { .. } => "bad_request",
            StoreError::Unavailable(_) => "store_unavailable",
            // The text can be the database's own message: the server logged it where the store
            // failed (where the store's error becomes this one); the page gets none of it.
            StoreError::Internal(_) => return crate::error::AppError::internal(),
        };
        crate::error::AppError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn an_internal_store_error_reaches_the_page_without_its_text() {
        let text = "Catalog Error: Table with name dossiers does not exist!";
        let error: AppError = StoreError::Internal(text.into()).into();
        assert_eq!(error.code, "internal");
        assert!(!error.message.contains("Catalog"), "{}", error.message);
        // A client's mistake is still told as it is.
        let bad: AppError = StoreError::BadQuery {
            field: "unit",
            message: "unknown code '9'".into(),
        }
        .into();
        assert_eq!(bad, AppError::new("bad_request", "unit: unknown code '9'"));
    }
}
