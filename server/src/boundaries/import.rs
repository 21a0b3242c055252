//! `server boundaries import`: read a layer, pair its features with units, repair, simplify, store.
use super::layer::{read_layer, Feature, LayerError};
use super::names::{match_name, Candidate, MatchKind, NameKey, NameMatch};
use super::repair::{self, first_non_lon_lat};
use super::simplify::simplify_layer;
use crate::store::boundaries::{BoundaryRow, NewBoundarySet, UnitName};
use crate::store::{DuckStore, StoreFailure};
use app::model::Level;
use chrono::NaiveDate;
use geo::{InteriorPoint, MultiPolygon};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Simplification tolerance (degrees) of each level of detail: ~20 m, ~100 m, ~400 m.
pub const DETAIL_TOLERANCES: [f64; 3] = [0.0002, 0.001, 0.004];

/// Property names tried, in order, when no `--name-property` is given.
const NAME_PROPERTIES: [&str; 9] = [
    "name", "NAME", "name_vi", "NAME_3", "NAME_2", "ten", "Ten", "TEN", "NAME_1",
];

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub level: Level,
    pub parent: String,
    pub code_property: Option<String>,
    pub name_property: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// CSV `feature,code`: a feature's name (or number) and the unit code it stands for.
    pub mapping: Option<PathBuf>,
    /// The TopoJSON object to read when the file holds several.
    pub object: Option<String>,
}

/// How a feature was paired: by the rules of [`MatchKind`], by its code, or by the mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    Name(MatchKind),
    Code,
    Mapping,
}

impl Pairing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pairing::Name(kind) => kind.as_str(),
            Pairing::Code => "code",
            Pairing::Mapping => "mapping",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matched {
    pub feature: usize,
    pub feature_name: String,
    pub code: String,
    pub unit_name: String,
    pub pairing: Pairing,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub set_id: Option<i32>,
    pub features: usize,
    pub matched: Vec<Matched>,
    /// (feature number, name): features that match no unit; not stored.
    pub unmatched_features: Vec<(usize, String)>,
    /// (code, name): units without a feature; they keep their data and are listed beside the map.
    pub units_without_feature: Vec<(String, String)>,
    /// (feature number, unit code, what was repaired).
    pub repairs: Vec<(usize, String, String)>,
    /// (feature number, unit code, why the geometry was refused).
    pub refused: Vec<(usize, String, String)>,
    pub seconds: f64,
}

impl ImportReport {
    pub fn count(&self, pairing: Pairing) -> usize {
        self.matched.iter().filter(|m| m.pairing == pairing).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BoundaryImportError {
    #[error("{0}")]
    Layer(#[from] LayerError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("feature {feature} has the coordinate ({x}, {y}), which is not a longitude/latitude: the file is in a projected coordinate system; reproject it to WGS 84 (EPSG:4326) first, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`")]
    NotLonLat { feature: usize, x: f64, y: f64 },
    #[error("{0}")]
    Options(String),
    #[error("{0}\nNothing was imported. Resolve each line with a mapping file (--mapping FILE), a CSV like:\n  feature,code\n{1}")]
    Ambiguous(String, String),
    #[error("store: {0}")]
    Store(#[from] StoreFailure),
}

fn property_text(feature: &Feature, property: &str) -> Option<String> {
    match feature.properties.get(property)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn name_property(
    features: &[Feature],
    chosen: Option<&str>,
) -> Result<String, BoundaryImportError> {
    if let Some(p) = chosen {
        return Ok(p.to_string());
    }
    let first = features
        .first()
        .ok_or_else(|| BoundaryImportError::Options("the layer has no features".into()))?;
    NAME_PROPERTIES
        .iter()
        .find(|p| matches!(first.properties.get(**p), Some(Value::String(_))))
        .map(|p| p.to_string())
        .ok_or_else(|| {
            BoundaryImportError::Options(format!(
                "cannot tell which property holds the unit name; pass --name-property or --code-property (the first feature has: {})",
                first.properties.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
}

/// Reads a mapping CSV (`feature,code`): feature name or number → unit code.
fn read_mapping(path: &Path) -> Result<HashMap<String, String>, BoundaryImportError> {
    let read_error = |source| BoundaryImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| BoundaryImportError::Options(format!("{}: {e}", path.display())))?
        .clone();
    if headers.iter().map(str::trim).collect::<Vec<_>>() != ["feature", "code"] {
        return Err(BoundaryImportError::Options(format!(
            "{}: the header must be 'feature,code'",
            path.display()
        )));
    }
    let mut mapping = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            BoundaryImportError::Options(format!("{} line {}: {e}", path.display(), i + 2))
        })?;
        mapping.insert(record[0].trim().to_string(), record[1].trim().to_string());
    }
    Ok(mapping)
}

/// A unit code as a file may spell it: "80" for "080".
fn code_matches(file_code: &str, unit_key: &str) -> bool {
    let unit_code = app::era::code_of(unit_key);
    file_code == unit_code
        || (file_code.len() < unit_code.len()
            && unit_code.trim_start_matches('0') == file_code.trim_start_matches('0')
            && !file_code.is_empty())
}

/// Features paired with units, features matching none, and ambiguities as message lines.
type Pairings = (Vec<Matched>, Vec<(usize, String)>, Vec<String>);

/// Pairs each feature with a unit. Ambiguities come back as lines for the error message.
fn pair_features(
    features: &[Feature],
    units: &[UnitName],
    options: &ImportOptions,
) -> Result<Pairings, BoundaryImportError> {
    let mapping = match &options.mapping {
        Some(path) => read_mapping(path)?,
        None => HashMap::new(),
    };
    // Paired by code, a feature's name only labels it in the report: the code does when the
    // layer has no name property.
    let name_property = match (
        name_property(features, options.name_property.as_deref()),
        &options.code_property,
    ) {
        (Err(_), Some(code)) => code.clone(),
        (found, _) => found?,
    };
    let candidates: Vec<Candidate> = units
        .iter()
        .map(|u| Candidate {
            code: u.code.clone(),
            name: u.name.clone(),
            name_with_type: u.name_with_type.clone(),
        })
        .collect();
    let unit_name = |code: &str| {
        units
            .iter()
            .find(|u| u.code == code)
            .map(|u| u.name_with_type.clone())
    };
    let (mut matched, mut unmatched, mut ambiguous) = (Vec::new(), Vec::new(), Vec::new());
    for feature in features {
        let name = property_text(feature, &name_property).unwrap_or_default();
        let label = if name.is_empty() {
            format!("#{}", feature.number)
        } else {
            name.clone()
        };
        let mapped = mapping
            .get(&name)
            .or_else(|| mapping.get(&feature.number.to_string()));
        let pairing = if let Some(code) = mapped {
            let key = app::era::Era::on(options.valid_from).key(code);
            match key.as_deref().and_then(&unit_name) {
                Some(_) => Some((key.unwrap_or_default(), Pairing::Mapping)),
                None => {
                    return Err(BoundaryImportError::Options(format!(
                    "the mapping file pairs '{label}' with '{code}', which is not a {} under {}",
                    options.level, options.parent
                )))
                }
            }
        } else if let Some(property) = &options.code_property {
            let file_code = property_text(feature, property).unwrap_or_default();
            units
                .iter()
                .find(|u| code_matches(&file_code, &u.code))
                .map(|u| (u.code.clone(), Pairing::Code))
        } else {
            match match_name(&name, &candidates) {
                NameMatch::Matched { code, kind } => Some((code, Pairing::Name(kind))),
                NameMatch::Ambiguous(codes) => {
                    ambiguous.push(format!(
                        "feature {} '{label}' fits {} equally well",
                        feature.number,
                        codes
                            .iter()
                            .map(|c| format!("{c} {}", unit_name(c).unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ));
                    None
                }
                NameMatch::None => None,
            }
        };
        match pairing {
            Some((code, pairing)) => matched.push(Matched {
                feature: feature.number,
                feature_name: label,
                unit_name: unit_name(&code).unwrap_or_default(),
                code,
                pairing,
            }),
            None if ambiguous
                .last()
                .is_some_and(|l| l.starts_with(&format!("feature {} ", feature.number))) => {}
            None => unmatched.push((feature.number, label)),
        }
    }
    // Several features on one unit: pieces of one unit (same name) are merged; different names are refused.
    let mut by_unit: BTreeMap<&str, Vec<&Matched>> = BTreeMap::new();
    for m in &matched {
        by_unit.entry(m.code.as_str()).or_default().push(m);
    }
    for (code, ms) in by_unit.iter().filter(|(_, ms)| ms.len() > 1) {
        let first = NameKey::new(&ms[0].feature_name);
        if ms.iter().any(|m| NameKey::new(&m.feature_name) != first) {
            ambiguous.push(format!(
                "features {} all fit unit {code} {}",
                ms.iter()
                    .map(|m| format!("{} '{}'", m.feature, m.feature_name))
                    .collect::<Vec<_>>()
                    .join(", "),
                ms[0].unit_name
            ));
        }
    }
    Ok((matched, unmatched, ambiguous))
}

/// Coordinates rounded to 5 decimals (about 1 m): plenty for a dashboard map, and small.
/// Written through the same serde types the files are read with ([`crate::geojson`]).
fn geometry_json(geometry: &MultiPolygon<f64>) -> Result<String, serde_json::Error> {
    serde_json::to_string(&crate::geojson::Geometry::multi_polygon(geometry, round5))
}

fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

/// Imports a boundary file as a new boundary set. Nothing is stored when an error is returned.
pub fn import(
    store: &DuckStore,
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<ImportReport, BoundaryImportError> {
    let started = std::time::Instant::now();
    if options.valid_to.is_some_and(|to| to < options.valid_from) {
        return Err(BoundaryImportError::Options(
            "--valid-to is before --valid-from".into(),
        ));
    }
    let file = std::fs::File::open(path).map_err(|source| BoundaryImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let features = read_layer(file, options.object.as_deref())?;
    progress(&format!("read {} features", features.len()));
    if let Some((feature, c)) = first_non_lon_lat(&features) {
        return Err(BoundaryImportError::NotLonLat {
            feature,
            x: c.x,
            y: c.y,
        });
    }
    // The parent and the units are those of the era the boundaries are in force in.
    let era = app::era::Era::on(options.valid_from);
    let mut options = options.clone();
    if options.parent != app::views::COUNTRY {
        options.parent = era.key(&options.parent).ok_or_else(|| {
            BoundaryImportError::Options(format!(
                "--parent '{}' is not a unit code",
                options.parent
            ))
        })?;
    }
    let options = &options;
    let units = store.unit_names(options.level, &options.parent, options.valid_from)?;
    if units.is_empty() {
        return Err(BoundaryImportError::Options(format!(
            "there are no {} units under '{}' in force on {}",
            options.level, options.parent, options.valid_from
        )));
    }
    let (matched, unmatched_features, ambiguous) = pair_features(&features, &units, options)?;
    if !ambiguous.is_empty() {
        let example = matched
            .first()
            .map(|m| format!("  {},{}", m.feature_name, m.code))
            .unwrap_or_else(|| format!("  <feature name>,{}", units[0].code));
        return Err(BoundaryImportError::Ambiguous(
            ambiguous.join("\n"),
            example,
        ));
    }
    let mut report = ImportReport {
        features: features.len(),
        unmatched_features,
        ..ImportReport::default()
    };
    // Check and repair, merging pieces of one unit.
    let mut geometry_by_unit: BTreeMap<String, MultiPolygon<f64>> = BTreeMap::new();
    for m in &matched {
        let feature = &features[m.feature - 1];
        match repair::check(feature) {
            Ok(checked) => {
                for note in checked.repairs {
                    report.repairs.push((m.feature, m.code.clone(), note));
                }
                geometry_by_unit
                    .entry(m.code.clone())
                    .or_insert_with(|| MultiPolygon::new(Vec::new()))
                    .0
                    .extend(checked.geometry.0);
            }
            Err(reason) => report.refused.push((m.feature, m.code.clone(), reason)),
        }
    }
    report.matched = matched;
    report.units_without_feature = units
        .iter()
        .filter(|u| !geometry_by_unit.contains_key(&u.code))
        .map(|u| (u.code.clone(), u.name_with_type.clone()))
        .collect();
    let codes: Vec<String> = geometry_by_unit.keys().cloned().collect();
    let geometries: Vec<MultiPolygon<f64>> = geometry_by_unit.into_values().collect();
    let mut rows = Vec::new();
    for (detail, tolerance) in DETAIL_TOLERANCES.iter().enumerate() {
        let simplified = simplify_layer(&geometries, *tolerance);
        for (code, geometry) in codes.iter().zip(&simplified) {
            let label = geometry
                .interior_point()
                .map(|p| (round5(p.x()), round5(p.y())))
                .ok_or_else(|| {
                    BoundaryImportError::Options(format!(
                        "unit {code}: no interior point for its label"
                    ))
                })?;
            rows.push(BoundaryRow {
                unit_code: code.clone(),
                detail: detail as u8,
                geometry: geometry_json(geometry).map_err(|e| {
                    BoundaryImportError::Options(format!(
                        "unit {code}: cannot write its geometry: {e}"
                    ))
                })?,
                label,
            });
        }
        progress(&format!(
            "simplified at level of detail {detail} (tolerance {tolerance}°)"
        ));
    }
    report.set_id = Some(
        store.save_boundary_set(&NewBoundarySet {
            level: options.level,
            parent_code: options.parent.clone(),
            valid_from: options.valid_from,
            valid_to: options.valid_to,
            source: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            rows,
        })?,
    );
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
