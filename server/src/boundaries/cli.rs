//! The `boundaries import` command line: options in, a readable report out.
use super::import::{import, ImportOptions, ImportReport, Pairing};
use super::names::MatchKind;
use crate::config::Settings;
use crate::store::DuckStore;
use app::model::Level;
use chrono::NaiveDate;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// A GeoJSON FeatureCollection or a TopoJSON file of Polygons/MultiPolygons (longitude/latitude).
    pub file: PathBuf,
    /// The level of the units the features stand for.
    #[arg(long, value_parser = ["province", "district", "commune"])]
    pub level: String,
    /// The code of the unit they lie under (e.g. 80 for Long An).
    #[arg(long)]
    pub parent: String,
    /// Pair features with units by this property holding the unit code.
    #[arg(long, conflicts_with = "name_property")]
    pub code_property: Option<String>,
    /// Pair by this property holding the unit name (default: the first of name, NAME, name_vi, NAME_3, …).
    #[arg(long)]
    pub name_property: Option<String>,
    /// First day the boundaries are in force (default: when the units came into force).
    #[arg(long, value_parser = cli_date)]
    pub valid_from: Option<NaiveDate>,
    /// Last day the boundaries are in force (default: open-ended).
    #[arg(long, value_parser = cli_date)]
    pub valid_to: Option<NaiveDate>,
    /// A CSV `feature,code` pairing feature names (or numbers) with unit codes, for ambiguous or unmatched features.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// The TopoJSON object to read when the file has several.
    #[arg(long)]
    pub object: Option<String>,
}

/// A date on the command line: the same gate as every other date ([`app::iso::check_date`]).
fn cli_date(s: &str) -> Result<NaiveDate, String> {
    app::iso::check_date(s)
}

pub fn print_report(report: &ImportReport) {
    println!(
        "boundary set {} stored: {} features, {} matched ({} exact, {} normalised, {} fuzzy, {} by code, {} by mapping) in {:.1} s",
        report.set_id.map_or("-".to_string(), |id| id.to_string()),
        report.features,
        report.matched.len(),
        report.count(Pairing::Name(MatchKind::Exact)),
        report.count(Pairing::Name(MatchKind::Normalised)),
        report.count(Pairing::Name(MatchKind::Fuzzy)),
        report.count(Pairing::Code),
        report.count(Pairing::Mapping),
        report.seconds
    );
    for kind in [MatchKind::Fuzzy, MatchKind::Normalised] {
        for m in report
            .matched
            .iter()
            .filter(|m| m.pairing == Pairing::Name(kind))
        {
            println!(
                "  {}: feature {} '{}' → {} {}",
                kind.as_str(),
                m.feature,
                m.feature_name,
                m.code,
                m.unit_name
            );
        }
    }
    for (number, name) in &report.unmatched_features {
        println!("  no unit: feature {number} '{name}' (not stored; pair it with --mapping)");
    }
    for (number, code, note) in &report.repairs {
        println!("  repaired: feature {number} ({code}): {note}");
    }
    for (number, code, reason) in &report.refused {
        println!("  refused: feature {number} ({code}): {reason}");
    }
    for (code, name) in &report.units_without_feature {
        println!(
            "  no feature: {code} {name} (its figures stay; the map lists it as not on the map)"
        );
    }
}

pub fn run_import(settings: &Settings, args: &ImportArgs) -> Result<(), String> {
    let level: Level = args.level.parse()?;
    // A cluster server keeps its maps with its reference data, in a file of its own.
    let path = match &settings.cluster {
        Some(_) => settings.reference_path(),
        None => settings.database_path(),
    };
    let store = DuckStore::open_with(&path, &settings.authored_data_dir, &settings.engine).map_err(|e| {
        format!(
            "cannot open the store at {} ({e}); stop the server first (DuckDB allows one writing process)",
            path.display()
        )
    })?;
    let valid_from = match args.valid_from {
        Some(d) => d,
        None => store
            .earliest_unit_date(level, &args.parent)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("there are no {level} units under '{}'", args.parent))?,
    };
    let options = ImportOptions {
        level,
        parent: args.parent.clone(),
        code_property: args.code_property.clone(),
        name_property: args.name_property.clone(),
        valid_from,
        valid_to: args.valid_to,
        mapping: args.mapping.clone(),
        object: args.object.clone(),
    };
    let started = std::time::Instant::now();
    let mut progress = |m: &str| eprintln!("  {m} ({:.1} s)", started.elapsed().as_secs_f64());
    let report = import(&store, &args.file, &options, &mut progress).map_err(|e| e.to_string())?;
    print_report(&report);
    Ok(())
}
