//! Reading a boundary file (GeoJSON FeatureCollection or TopoJSON) into polygons with their properties.
use crate::geojson::{Geometry as RawGeometry, Position, Ring as RawRing};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::Read;

/// One feature of a layer: its position in the file (1-based), properties and geometry.
#[derive(Debug, Clone)]
pub struct Feature {
    pub number: usize,
    pub properties: Map<String, Value>,
    pub geometry: MultiPolygon<f64>,
    /// Rings whose last point was not their first (closed while reading).
    pub unclosed_rings: usize,
}

/// Rings in the file that do not end where they start (`Polygon::new` closes them).
fn count_unclosed<'a>(rings: impl Iterator<Item = &'a [Position]>) -> usize {
    rings
        .filter(|r| match (r.first(), r.last()) {
            (Some(a), Some(b)) => r.len() > 1 && (a.0 != b.0 || a.1 != b.1),
            _ => false,
        })
        .count()
}

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a GeoJSON or TopoJSON file: {0}")]
    Syntax(String),
    #[error("feature {number}: {message}")]
    Feature { number: usize, message: String },
    #[error("{0}")]
    Unsupported(String),
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    geometry: Option<RawGeometry>,
}

#[derive(Deserialize)]
struct TopoTransform {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum TopoGeometry {
    Polygon {
        arcs: Vec<Vec<i64>>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
    },
    MultiPolygon {
        arcs: Vec<Vec<Vec<i64>>>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
    },
    GeometryCollection {
        geometries: Vec<TopoGeometry>,
    },
    #[serde(other)]
    Other,
}

/// Either format; unknown members (bbox, crs, name…) are skipped while parsing.
#[derive(Deserialize)]
struct RawDocument {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    features: Option<Vec<RawFeature>>,
    #[serde(default)]
    crs: Option<Value>,
    #[serde(default)]
    transform: Option<TopoTransform>,
    #[serde(default)]
    arcs: Option<Vec<Vec<Position>>>,
    #[serde(default)]
    objects: Option<Map<String, Value>>,
}

fn ring(positions: &[Position]) -> LineString<f64> {
    LineString::new(positions.iter().map(|p| Coord { x: p.0, y: p.1 }).collect())
}

fn polygon(rings: &[RawRing]) -> Option<Polygon<f64>> {
    let (exterior, interiors) = rings.split_first()?;
    Some(Polygon::new(
        ring(exterior),
        interiors.iter().map(|r| ring(r)).collect(),
    ))
}

/// Reads a layer from `reader` (streamed: the file is never held twice in memory).
/// `object` chooses the TopoJSON object when there are several.
pub fn read_layer(reader: impl Read, object: Option<&str>) -> Result<Vec<Feature>, LayerError> {
    let document: RawDocument = serde_json::from_reader(std::io::BufReader::new(reader))
        .map_err(|e| LayerError::Syntax(e.to_string()))?;
    if let Some(crs) = &document.crs {
        let name = crs
            .pointer("/properties/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let lon_lat = ["EPSG:4326", "CRS84", "WGS84", "WGS 84"]
            .iter()
            .any(|known| name.to_ascii_uppercase().contains(known));
        if !lon_lat {
            return Err(LayerError::Unsupported(format!(
                "the file declares the coordinate system '{name}'; only longitude/latitude (WGS 84, EPSG:4326) is accepted: reproject it first, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"
            )));
        }
    }
    match document.kind.as_str() {
        "FeatureCollection" => {
            let features = document.features.ok_or_else(|| {
                LayerError::Syntax("a FeatureCollection without 'features'".into())
            })?;
            features
                .into_iter()
                .enumerate()
                .map(|(i, f)| geojson_feature(i + 1, f))
                .collect()
        }
        "Topology" => topojson_features(document, object),
        other => Err(LayerError::Syntax(format!(
            "the top-level type is '{other}'; expected FeatureCollection or Topology"
        ))),
    }
}

fn geojson_feature(number: usize, raw: RawFeature) -> Result<Feature, LayerError> {
    let unclosed_rings = match &raw.geometry {
        Some(RawGeometry::Polygon { coordinates }) => {
            count_unclosed(coordinates.iter().map(|r| r.as_slice()))
        }
        Some(RawGeometry::MultiPolygon { coordinates }) => {
            count_unclosed(coordinates.iter().flatten().map(|r| r.as_slice()))
        }
        _ => 0,
    };
    let geometry = match raw.geometry {
        Some(RawGeometry::Polygon { coordinates }) => {
            MultiPolygon::new(polygon(&coordinates).into_iter().collect())
        }
        Some(RawGeometry::MultiPolygon { coordinates }) => {
            MultiPolygon::new(coordinates.iter().filter_map(|p| polygon(p)).collect())
        }
        Some(RawGeometry::Other) => {
            return Err(LayerError::Feature {
                number,
                message: "its geometry is not a Polygon or MultiPolygon".into(),
            })
        }
        None => MultiPolygon::new(Vec::new()),
    };
    Ok(Feature {
        number,
        properties: raw.properties.unwrap_or_default(),
        geometry,
        unclosed_rings,
    })
}

/// Decodes quantized, delta-encoded arcs into coordinates.
fn decode_arcs(
    arcs: Vec<Vec<Position>>,
    transform: Option<&TopoTransform>,
) -> Vec<Vec<Coord<f64>>> {
    arcs.into_iter()
        .map(|arc| match transform {
            None => arc.iter().map(|p| Coord { x: p.0, y: p.1 }).collect(),
            Some(t) => {
                let (mut x, mut y) = (0.0, 0.0);
                arc.iter()
                    .map(|p| {
                        x += p.0;
                        y += p.1;
                        Coord {
                            x: x * t.scale[0] + t.translate[0],
                            y: y * t.scale[1] + t.translate[1],
                        }
                    })
                    .collect()
            }
        })
        .collect()
}

fn topo_ring(
    indices: &[i64],
    arcs: &[Vec<Coord<f64>>],
    number: usize,
) -> Result<LineString<f64>, LayerError> {
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for &index in indices {
        // A negative index ~i is arc i walked backwards.
        let (i, reversed) = if index < 0 {
            (!index, true)
        } else {
            (index, false)
        };
        let arc = usize::try_from(i)
            .ok()
            .and_then(|i| arcs.get(i))
            .ok_or_else(|| LayerError::Feature {
                number,
                message: format!("refers to arc {index}, which does not exist"),
            })?;
        let mut points: Vec<Coord<f64>> = arc.clone();
        if reversed {
            points.reverse();
        }
        // Consecutive arcs share their joining point.
        let skip = usize::from(!coords.is_empty());
        coords.extend(points.into_iter().skip(skip));
    }
    Ok(LineString::new(coords))
}

fn topo_polygon(
    rings: &[Vec<i64>],
    arcs: &[Vec<Coord<f64>>],
    number: usize,
) -> Result<Option<Polygon<f64>>, LayerError> {
    let mut rings = rings.iter().map(|r| topo_ring(r, arcs, number));
    let Some(exterior) = rings.next() else {
        return Ok(None);
    };
    Ok(Some(Polygon::new(
        exterior?,
        rings.collect::<Result<_, _>>()?,
    )))
}

fn topojson_features(
    document: RawDocument,
    object: Option<&str>,
) -> Result<Vec<Feature>, LayerError> {
    let objects = document.objects.unwrap_or_default();
    let (name, value) = match object {
        Some(name) => objects.get_key_value(name).ok_or_else(|| {
            LayerError::Unsupported(format!(
                "the TopoJSON has no object '{name}'; it has: {}",
                objects.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?,
        None if objects.len() == 1 => objects.iter().next().expect("one object"),
        None => {
            return Err(LayerError::Unsupported(format!(
                "the TopoJSON has {} objects ({}); choose one with --object",
                objects.len(),
                objects.keys().cloned().collect::<Vec<_>>().join(", ")
            )))
        }
    };
    let geometry: TopoGeometry = serde_json::from_value(value.clone())
        .map_err(|e| LayerError::Syntax(format!("object '{name}': {e}")))?;
    let arcs = decode_arcs(
        document.arcs.unwrap_or_default(),
        document.transform.as_ref(),
    );
    let geometries = match geometry {
        TopoGeometry::GeometryCollection { geometries } => geometries,
        single => vec![single],
    };
    geometries
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let number = i + 1;
            let (polygons, properties) = match g {
                TopoGeometry::Polygon {
                    arcs: rings,
                    properties,
                } => (
                    topo_polygon(&rings, &arcs, number)?.into_iter().collect(),
                    properties,
                ),
                TopoGeometry::MultiPolygon {
                    arcs: polygons,
                    properties,
                } => (
                    polygons
                        .iter()
                        .map(|p| topo_polygon(p, &arcs, number))
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .flatten()
                        .collect(),
                    properties,
                ),
                _ => {
                    return Err(LayerError::Feature {
                        number,
                        message: "its geometry is not a Polygon or MultiPolygon".into(),
                    })
                }
            };
            Ok(Feature {
                number,
                properties: properties.unwrap_or_default(),
                geometry: MultiPolygon::new(polygons),
                // Arcs are joined into rings here; an open ring is closed like in GeoJSON.
                unclosed_rings: 0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;

    #[test]
    fn a_geojson_polygon_and_multipolygon_are_read_with_their_properties() {
        let text = r#"{"type":"FeatureCollection","bbox":[0,0,3,3],"features":[
          {"type":"Feature","properties":{"NAME_3":"Ðức Hòa"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
          {"type":"Feature","properties":{"NAME_3":"B"},"geometry":{"type":"MultiPolygon","coordinates":[[[[2,2,5],[3,2,5],[3,3,5],[2,2,5]]],[[[0,2],[1,2],[1,3],[0,2]]]]}}]}"#;
        let features = read_layer(text.as_bytes(), None).unwrap();
        assert_eq!(features.len(), 2);
        assert_eq!(features[0].properties["NAME_3"], "Ðức Hòa");
        assert_eq!(features[0].geometry.unsigned_area(), 1.0);
        assert_eq!(features[1].geometry.0.len(), 2);
        assert_eq!(features[1].number, 2);
    }

    #[test]
    fn topojson_arcs_are_decoded_shared_and_reversed() {
        // Two unit squares side by side sharing arc 1 (x = 1), quantized with scale 1.
        let text = r#"{"type":"Topology","transform":{"scale":[1,1],"translate":[100,10]},
          "arcs":[[[1,0],[-1,0],[0,1],[1,0]],[[1,0],[0,1]],[[1,1],[1,0],[0,-1],[-1,0]]],
          "objects":{"p":{"type":"GeometryCollection","geometries":[
            {"type":"Polygon","arcs":[[0,-2]],"properties":{"name_vi":"A"}},
            {"type":"Polygon","arcs":[[1,2]],"properties":{"name_vi":"B"}}]}}}"#;
        let features = read_layer(text.as_bytes(), None).unwrap();
        assert_eq!(features.len(), 2);
        let a: Vec<(f64, f64)> = features[0].geometry.0[0]
            .exterior()
            .coords()
            .map(|c| (c.x, c.y))
            .collect();
        assert_eq!(
            a,
            [
                (101.0, 10.0),
                (100.0, 10.0),
                (100.0, 11.0),
                (101.0, 11.0),
                (101.0, 10.0)
            ]
        );
        assert_eq!(features[1].geometry.unsigned_area(), 1.0);
        assert_eq!(features[1].properties["name_vi"], "B");
    }

    #[test]
    fn a_projected_coordinate_system_is_refused_by_name() {
        let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32648"}},"features":[]}"#;
        let error = read_layer(text.as_bytes(), None).unwrap_err().to_string();
        assert!(
            error.contains("EPSG::32648") && error.contains("longitude/latitude"),
            "{error}"
        );
    }

    #[test]
    fn other_geometries_and_bad_arcs_name_the_feature() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#;
        assert_eq!(
            read_layer(text.as_bytes(), None).unwrap_err().to_string(),
            "feature 1: its geometry is not a Polygon or MultiPolygon"
        );
        let text =
            r#"{"type":"Topology","arcs":[],"objects":{"p":{"type":"Polygon","arcs":[[3]]}}}"#;
        assert!(read_layer(text.as_bytes(), None)
            .unwrap_err()
            .to_string()
            .contains("arc 3"));
    }
}
