//! Checking and repairing a feature's geometry before it is stored: every change is reported.
use super::layer::Feature;
use geo::orient::Direction;
use geo::{Area, Coord, MakeValid, MultiPolygon, Orient, RemoveRepeatedPoints, Validation};

/// A geometry ready to store, with what was changed to get there.
#[derive(Debug, Clone)]
pub struct Checked {
    pub geometry: MultiPolygon<f64>,
    pub repairs: Vec<String>,
}

/// The first coordinate that cannot be a longitude/latitude, if any (a projected CRS).
pub fn first_non_lon_lat(features: &[Feature]) -> Option<(usize, Coord<f64>)> {
    features.iter().find_map(|f| {
        use geo::CoordsIter;
        f.geometry
            .coords_iter()
            .find(|c| {
                !(c.x.is_finite() && c.y.is_finite() && c.x.abs() <= 180.0 && c.y.abs() <= 90.0)
            })
            .map(|c| (f.number, c))
    })
}

/// Closes, re-orients and de-duplicates rings, and repairs self-intersections. An empty or
/// unrepairable geometry is refused with the reason.
pub fn check(feature: &Feature) -> Result<Checked, String> {
    let mut repairs = Vec::new();
    if feature.unclosed_rings > 0 {
        repairs.push(format!(
            "closed {} unclosed ring(s)",
            feature.unclosed_rings
        ));
    }
    let cleaned = feature.geometry.remove_repeated_points();
    // Drop rings too short to enclose anything. (Area is judged after any repair: a bow tie's
    // signed halves cancel out.)
    let polygons: Vec<_> = cleaned
        .0
        .into_iter()
        .filter(|p| p.exterior().0.len() >= 4)
        .collect();
    if polygons.is_empty() {
        return Err("the geometry is empty (no ring encloses any area)".into());
    }
    let geometry = MultiPolygon::new(polygons);
    let oriented = geometry.orient(Direction::Default);
    if oriented != geometry {
        repairs.push("re-oriented rings (exterior counter-clockwise)".into());
    }
    if oriented.is_valid() {
        if oriented.unsigned_area() == 0.0 {
            return Err("the geometry is empty (no ring encloses any area)".into());
        }
        return Ok(Checked {
            geometry: oriented,
            repairs,
        });
    }
    let problem = oriented
        .validation_errors()
        .first()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "invalid geometry".into());
    let repaired = oriented
        .make_valid()
        .map_err(|e| format!("{problem}, and it cannot be repaired: {e}"))?
        .orient(Direction::Default);
    if repaired.0.is_empty() || repaired.unsigned_area() == 0.0 || !repaired.is_valid() {
        return Err(format!(
            "{problem}, and the repair did not give a valid polygon"
        ));
    }
    repairs.push(format!("repaired: {problem}"));
    Ok(Checked {
        geometry: repaired,
        repairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundaries::layer::read_layer;

    fn feature(geometry: &str) -> Feature {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{geometry}}}]}}"#
        );
        read_layer(text.as_bytes(), None).unwrap().remove(0)
    }

    #[test]
    fn a_clean_square_passes_unchanged() {
        let checked = check(&feature(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#,
        ))
        .unwrap();
        assert!(checked.repairs.is_empty(), "{:?}", checked.repairs);
    }

    #[test]
    fn unclosed_and_clockwise_rings_are_repaired_and_reported() {
        let checked = check(&feature(
            r#"{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0]]]}"#,
        ))
        .unwrap();
        assert_eq!(checked.repairs.len(), 2, "{:?}", checked.repairs);
        assert!(checked.repairs[0].contains("unclosed"));
        assert!(checked.repairs[1].contains("re-oriented"));
        assert_eq!(checked.geometry.unsigned_area(), 1.0);
    }

    #[test]
    fn a_self_intersection_is_repaired() {
        // A bow tie: two triangles meeting at (0.5, 0.5).
        let checked = check(&feature(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#,
        ))
        .unwrap();
        assert!(
            checked.repairs.iter().any(|r| r.starts_with("repaired")),
            "{:?}",
            checked.repairs
        );
        assert!(checked.geometry.is_valid());
        assert!((checked.geometry.unsigned_area() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn empty_geometries_are_refused() {
        assert!(check(&feature("null")).unwrap_err().contains("empty"));
        assert!(check(&feature(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}"#
        ))
        .unwrap_err()
        .contains("empty"));
    }

    #[test]
    fn projected_coordinates_are_found() {
        let f = feature(
            r#"{"type":"Polygon","coordinates":[[[500000,1200000],[500100,1200000],[500100,1200100],[500000,1200000]]]}"#,
        );
        let (number, at) = first_non_lon_lat(&[f]).unwrap();
        assert_eq!((number, at.x), (1, 500000.0));
    }
}
