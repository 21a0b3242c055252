//! GeoJSON geometry as the product reads it from boundary files and writes it into the store:
//! one set of serde types for both directions, so what is written is what the reader expects.
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A position: longitude and latitude; any further ordinates (height) are ignored on reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position(pub f64, pub f64);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PositionVisitor;
        impl<'de> Visitor<'de> for PositionVisitor {
            type Value = Position;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [x, y]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Position(x, y))
            }
        }
        deserializer.deserialize_seq(PositionVisitor)
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pair = serializer.serialize_tuple(2)?;
        pair.serialize_element(&self.0)?;
        pair.serialize_element(&self.1)?;
        pair.end()
    }
}

/// A ring: its positions, the last repeating the first.
pub type Ring = Vec<Position>;

/// The geometries a boundary is made of; any other type reads as `Other` (refused by the
/// import with the feature's number).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Geometry {
    Polygon {
        coordinates: Vec<Ring>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Ring>>,
    },
    #[serde(other)]
    Other,
}

impl Geometry {
    /// A MultiPolygon of `geometry`, each coordinate passed through `round`.
    pub fn multi_polygon(geometry: &geo::MultiPolygon<f64>, round: impl Fn(f64) -> f64) -> Self {
        let coordinates = geometry
            .0
            .iter()
            .map(|polygon| {
                std::iter::once(polygon.exterior())
                    .chain(polygon.interiors())
                    .map(|ring| {
                        ring.0
                            .iter()
                            .map(|c| Position(round(c.x), round(c.y)))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Geometry::MultiPolygon { coordinates }
    }

    /// Every ring, exteriors and holes alike, in order.
    pub fn into_rings(self) -> Vec<Ring> {
        match self {
            Geometry::Polygon { coordinates } => coordinates,
            Geometry::MultiPolygon { coordinates } => coordinates.into_iter().flatten().collect(),
            Geometry::Other => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_geometry_written_reads_back_the_same() {
        let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (105.0, 21.0),
                (105.5, 21.0),
                (105.5, 21.25),
                (105.0, 21.0),
            ]),
            vec![],
        )]);
        let text = serde_json::to_string(&Geometry::multi_polygon(&square, |v| v)).unwrap();
        assert_eq!(
            text,
            r#"{"type":"MultiPolygon","coordinates":[[[[105.0,21.0],[105.5,21.0],[105.5,21.25],[105.0,21.0]]]]}"#
        );
        let rings = serde_json::from_str::<Geometry>(&text)
            .unwrap()
            .into_rings();
        assert_eq!(rings.len(), 1);
        assert_eq!(rings[0][2], Position(105.5, 21.25));
    }

    #[test]
    fn heights_are_read_past_and_other_geometries_named() {
        let point: Geometry =
            serde_json::from_str(r#"{"type":"Point","coordinates":[1,2]}"#).unwrap();
        assert!(matches!(point, Geometry::Other));
        let with_height: Geometry = serde_json::from_str(
            r#"{"type":"Polygon","coordinates":[[[1,2,30],[3,4,30],[5,6,30],[1,2,30]]]}"#,
        )
        .unwrap();
        assert_eq!(with_height.into_rings()[0][1], Position(3.0, 4.0));
    }
}
