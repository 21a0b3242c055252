//! The boundaries the product ships (`data/boundaries/`: the 34 provinces and 3,321 communes in
//! force from 2025-07-01): stored as a boundary set the first time a layer of them is drawn, so
//! the map shows real geography with no import step. An imported set in force still wins.
use super::import::{import, ImportOptions};
use crate::store::{DuckStore, StoreFailure};
use app::era::{Era, REFORM_DATE};
use app::model::Level;
use chrono::NaiveDate;
use std::path::Path;
use std::sync::Mutex;

/// The credit line to show wherever these shapes are drawn (map footer, embed, exports).
pub const CREDIT: &str = "Dữ liệu ranh giới: thanglequoc/vietnamese-provinces-database (MIT), từ bản đồ sắp xếp ĐVHC của NXB Tài nguyên – Môi trường và Bản đồ Việt Nam";

/// One layer stored at a time: two first views of a province must not store it twice.
static STORING: Mutex<()> = Mutex::new(());

fn file(level: Level) -> Option<&'static str> {
    match level {
        Level::Province => Some("provinces_2025.topojson"),
        Level::Commune => Some("communes_2025.topojson"),
        Level::District => None,
    }
}

/// Stores the shipped layer of `level` under `parent` (a store key, or `VN`) when `on` falls in
/// the new era and no set is in force for it yet. A layer that cannot be stored is logged and
/// left out: the map then shows its tiles, and the request goes on.
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
    if parent != app::api::COUNTRY && Era::of_key(parent) != Era::From2025 {
        return Ok(());
    }
    let Some(name) = file(level) else {
        return Ok(());
    };
    let path = data_dir.join("boundaries").join(name);
    if !path.is_file() || store.has_boundary_set(level, parent, on)? {
        return Ok(());
    }
    let _storing = STORING.lock().unwrap_or_else(|p| p.into_inner());
    if store.has_boundary_set(level, parent, on)? {
        return Ok(());
    }
    let options = ImportOptions {
        level,
        parent: app::era::code_of(parent).to_string(),
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
            parent = app::era::code_of(parent),
            features = report.matched.len(),
            seconds = report.seconds,
            "stored the shipped boundaries of a layer on its first view"
        ),
        Err(e) => tracing::warn!(
            level = %level,
            parent = app::era::code_of(parent),
            error = %e,
            "the shipped boundaries of a layer could not be stored; its tile map is shown"
        ),
    }
    Ok(())
}

/// The credit line of a boundary set, when its source is a layer the product ships.
pub fn credit_of(source: &str) -> Option<&'static str> {
    [Level::Province, Level::Commune]
        .into_iter()
        .filter_map(file)
        .any(|f| f == source)
        .then_some(CREDIT)
}
