//! Boundaries and tile maps as both engines serve them: the rows of an imported layer, the
//! layer in force, the units a feature pairs with, the tiles, and the geometry helpers of a map.
use super::StoreFailure;
use app::model::Level;
use chrono::NaiveDate;

/// One unit's outline at one level of detail.
#[derive(Debug, Clone)]
pub struct BoundaryRow {
    pub unit_code: String,
    pub detail: u8,
    /// A GeoJSON geometry object, as text.
    pub geometry: String,
    /// Where the label goes (longitude, latitude): a point inside the unit.
    pub label: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct NewBoundarySet {
    pub level: Level,
    pub parent_code: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
    pub rows: Vec<BoundaryRow>,
}

/// A unit of a layer as served: code, name, geometry (GeoJSON text) and label point.
#[derive(Debug, Clone)]
pub struct BoundaryFeature {
    pub code: String,
    pub name: String,
    pub geometry: String,
    pub label: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct BoundaryLayer {
    pub set_id: i32,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
    pub features: Vec<BoundaryFeature>,
}

/// A unit a boundary feature may be paired with: code, short name, name with type.
#[derive(Debug, Clone)]
pub struct UnitName {
    pub code: String,
    pub name: String,
    pub name_with_type: String,
}

/// A unit's hexagon in an authored tile map.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tile {
    pub code: String,
    pub name: String,
    pub col: i32,
    pub row: i32,
}

/// Coordinates as maps carry them: to 0.0001° (~11 m) for a layer simplified to ~100 m (detail 1),
/// to 0.001° (~100 m) at the coarsest (~400 m, detail 2), without the repeated points that leaves.
/// Finer digits draw nothing more at that detail, and each point costs a projection and a step
/// of the page's path data (`app::model::ProjectedLayer`), often on its way to a phone. Detail 0
/// (the finest) is returned as stored.
pub(super) fn coarse(rings: Vec<Vec<(f32, f32)>>, detail: u8) -> Vec<Vec<(f32, f32)>> {
    let per_degree = match detail {
        0 => return rings,
        1 => 10_000.0,
        _ => 1_000.0,
    };
    let round = |v: f32| ((f64::from(v) * per_degree).round() / per_degree) as f32;
    rings
        .into_iter()
        .map(|ring| {
            let mut out: Vec<(f32, f32)> = Vec::with_capacity(ring.len());
            for (x, y) in ring {
                let p = (round(x), round(y));
                if out.last() != Some(&p) {
                    out.push(p);
                }
            }
            out
        })
        // A ring that rounding collapsed below a triangle is too small to see at this detail.
        .filter(|ring| ring.len() >= 4)
        .collect()
}

/// The stored geometry text (our own MultiPolygon encoding) as rings of (lon, lat).
pub(super) fn rings_of(geometry: &str) -> Result<Vec<Vec<(f32, f32)>>, StoreFailure> {
    let stored: crate::geojson::Geometry = serde_json::from_str(geometry)
        .map_err(|e| StoreFailure::Corrupt(format!("stored boundary geometry: {e}")))?;
    Ok(stored
        .into_rings()
        .into_iter()
        .map(|ring| ring.into_iter().map(|p| (p.0 as f32, p.1 as f32)).collect())
        .collect())
}
