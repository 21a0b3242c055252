//! The boundaries the product ships (`data/boundaries/`: the 34 provinces and 3,321 communes in
//! force from 2025-07-01): stored as a boundary set when the server starts (in the background) or
//! the first time a layer of them is drawn, whichever comes first, so the map shows real
//! geography with no import step. An imported set in force still wins.
use super::import::{import, ImportOptions};
use crate::store::{DuckStore, StoreFailure};
use app::era::{Era, REFORM_DATE};
use app::model::Level;
use chrono::NaiveDate;
use std::path::Path;
use std::sync::Mutex;

/// The credit line to show wherever these shapes are drawn (map footer, embed, exports).
pub const CREDIT: &str = "Dữ liệu ranh giới: thanglequoc/vietnamese-provinces-database (MIT), từ bản đồ sắp xếp ĐVHC của NXB Tài nguyên – Môi trường và Bản đồ Việt Nam";

/// The layers already tried, per store file: one import at a time, and a layer that failed is
/// not parsed again on every request.
static STORING: Mutex<Vec<(Level, std::path::PathBuf)>> = Mutex::new(Vec::new());

fn file(level: Level) -> Option<&'static str> {
    match level {
        Level::Province => Some("provinces_2025.topojson"),
        Level::Commune => Some("communes_2025.topojson"),
        Level::District => None,
    }
}

/// Stores the shipped layer of `level` (the whole country's provinces or communes, one set each)
/// when `on` falls in the new era and none is stored yet. At most two imports per store, whatever
/// the requests: a province's communes are drawn from the country's set. A layer that cannot be
/// stored is logged once and left out (the map shows its tiles, the request goes on).
pub fn ensure(
    store: &DuckStore,
    data_dir: &Path,
    level: Level,
    parent: &str,
    on: NaiveDate,
) -> Result<(), StoreFailure> {
    if Era::on(on) != Era::From2025 {
        return Ok(());
    }
    if parent != app::views::COUNTRY && Era::of_key(parent) != Era::From2025 {
        return Ok(());
    }
    let Some(name) = file(level) else {
        return Ok(());
    };
    let path = data_dir.join("boundaries").join(name);
    let stored = |store: &DuckStore| store.has_source(level, name);
    if !path.is_file() || stored(store)? {
        return Ok(());
    }
    let mut tried = STORING.lock().unwrap_or_else(|p| p.into_inner());
    if tried.contains(&(level, store.path().to_path_buf())) || stored(store)? {
        return Ok(());
    }
    tried.push((level, store.path().to_path_buf()));
    let options = ImportOptions {
        level,
        parent: app::views::COUNTRY.to_string(),
        code_property: Some("code".into()),
        name_property: None,
        valid_from: REFORM_DATE,
        valid_to: None,
        mapping: None,
        object: None,
    };
    match import(store, &path, &options, &mut |_| {}) {
        Ok(report) => tracing::info!(
            level = %level,
            features = report.matched.len(),
            seconds = report.seconds,
            "stored the shipped boundaries of today's units"
        ),
        Err(e) => tracing::warn!(
            level = %level,
            error = %e,
            "the shipped boundaries could not be stored; the map shows tiles"
        ),
    }
    Ok(())
}

/// Whether a set of this file is one the product ships (ranked below any imported set).
pub fn is_shipped(source: &str) -> bool {
    [Level::Province, Level::Commune]
        .into_iter()
        .filter_map(file)
        .any(|f| f == source)
}

/// The credit line of a boundary set, when its source is a layer the product ships.
pub fn credit_of(source: &str) -> Option<&'static str> {
    is_shipped(source).then_some(CREDIT)
}
