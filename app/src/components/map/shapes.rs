//! Units placed in the map's box and joined with their figures: each unit's SVG path, label
//! position, value, class and rank. Plain data in and out, no signals.
use super::{HEIGHT, MARGIN, WIDTH};
use crate::classify::Classes;
use crate::model::{Indicator, IndicatorRow, MapLayer, MapShape, ProjectedLayer, ProjectedUnit};
use crate::projection::{hex_centre, hex_path, path_data, Bounds, Projection};
use std::collections::HashMap;

/// A unit ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawnUnit {
    pub code: String,
    pub name: String,
    pub path: String,
    /// Label position in SVG coordinates.
    pub label: (f64, f64),
    pub value: Option<f64>,
    pub class: Option<usize>,
    pub rank: Option<u32>,
    pub received: u64,
    pub resolved: u64,
}

/// Each unit's rank by `indicator`, best first (units without a value have none).
pub fn ranks(rows: &[IndicatorRow], indicator: Indicator) -> HashMap<String, u32> {
    let mut valued: Vec<(&IndicatorRow, f64)> = rows
        .iter()
        .filter_map(|r| r.indicator(indicator).map(|v| (r, v)))
        .collect();
    crate::order::sort_by(&mut valued, |a, b| {
        let order = a.1.total_cmp(&b.1);
        let order = if indicator.higher_is_better() {
            order.reverse()
        } else {
            order
        };
        order.then_with(|| a.0.name.cmp(&b.0.name))
    });
    valued
        .into_iter()
        .zip(1u32..)
        .map(|((r, _), rank)| (r.code.clone(), rank))
        .collect()
}

/// Projects the layer into the map's box and joins each unit with its figures.
pub fn draw(
    layer: &MapLayer,
    rows: &[IndicatorRow],
    classes: &Classes,
    indicator: Indicator,
) -> Vec<DrawnUnit> {
    paint(&projected(layer), rows, classes, indicator)
}

/// The layer as pages carry it: projected once, where it is loaded (the server), so the
/// browser neither reads coordinates nor holds the projection's code.
pub fn projected(layer: &MapLayer) -> ProjectedLayer {
    // A tenth of a unit, as the paths are written: the label's text lands where it did.
    let tenth = |v: f64| ((v * 10.0).round() / 10.0) as f32;
    ProjectedLayer {
        geographic: layer.geographic,
        geographic_available: layer.geographic_available,
        units: layer
            .units
            .iter()
            .zip(project(layer))
            .map(|(u, (path, label))| ProjectedUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                path,
                label: (tenth(label.0), tenth(label.1)),
            })
            .collect(),
        not_on_map: layer.not_on_map.clone(),
        credit: layer.credit.clone(),
    }
}

/// Each unit's path and label position in the map's box, in the layer's order.
pub fn project(layer: &MapLayer) -> Vec<(String, (f64, f64))> {
    if layer.geographic {
        let points = layer.units.iter().flat_map(|u| match &u.shape {
            MapShape::Outline { rings } => rings
                .iter()
                .flatten()
                .map(|(x, y)| (f64::from(*x), f64::from(*y)))
                .collect(),
            MapShape::Tile { .. } => Vec::new(),
        });
        let Some(bounds) = Bounds::of(points) else {
            return Vec::new();
        };
        let projection = Projection::fit(bounds, WIDTH, HEIGHT, MARGIN);
        layer
            .units
            .iter()
            .map(|u| {
                let rings: Vec<Vec<(f64, f64)>> = match &u.shape {
                    MapShape::Outline { rings } => rings
                        .iter()
                        .map(|r| {
                            r.iter()
                                .map(|(x, y)| (f64::from(*x), f64::from(*y)))
                                .collect()
                        })
                        .collect(),
                    MapShape::Tile { .. } => Vec::new(),
                };
                let label = match u.label {
                    Some((x, y)) => projection.project(f64::from(x), f64::from(y)),
                    None => {
                        let b = Bounds::of(rings.iter().flatten().copied()).unwrap_or(bounds);
                        projection
                            .project((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0)
                    }
                };
                (
                    path_data(&projection, rings.iter().map(|r| r.as_slice())),
                    label,
                )
            })
            .collect()
    } else {
        let cells: Vec<(i32, i32)> = layer
            .units
            .iter()
            .map(|u| match u.shape {
                MapShape::Tile { col, row } => (col, row),
                MapShape::Outline { .. } => (0, 0),
            })
            .collect();
        let max_col = cells.iter().map(|c| c.0).max().unwrap_or(0);
        let max_row = cells.iter().map(|c| c.1).max().unwrap_or(0);
        // The largest hexagon that fits every column (plus the odd rows' half shift) and row.
        let size = ((WIDTH - 2.0 * MARGIN) / ((f64::from(max_col) + 1.5) * 3f64.sqrt()))
            .min((HEIGHT - 2.0 * MARGIN) / (1.5 * f64::from(max_row) + 2.0));
        cells
            .iter()
            .map(|(col, row)| {
                let (x, y) = hex_centre(*col, *row, size);
                let centre = (x + MARGIN, y + MARGIN);
                (hex_path(centre, size * 0.96), centre)
            })
            .collect()
    }
}

/// Joins projected shapes with the figures: each unit's value, class and rank. Cheap next to
/// `project`, so live figures repaint without projecting again.
pub fn paint(
    layer: &ProjectedLayer,
    rows: &[IndicatorRow],
    classes: &Classes,
    indicator: Indicator,
) -> Vec<DrawnUnit> {
    // Code → position in `rows`: the same map type as `ranks`, so the WASM holds one copy of
    // the hash table's code.
    let figures: HashMap<String, u32> = rows
        .iter()
        .zip(0u32..)
        .map(|(r, i)| (r.code.clone(), i))
        .collect();
    let ranks = ranks(rows, indicator);
    layer
        .units
        .iter()
        .map(|u| {
            let row = figures.get(u.code.as_str()).map(|&i| &rows[i as usize]);
            let value = row.and_then(|r| r.indicator(indicator));
            DrawnUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                path: u.path.clone(),
                label: (f64::from(u.label.0), f64::from(u.label.1)),
                value,
                class: classes.class_of(value),
                rank: ranks.get(&u.code).copied(),
                received: row.map_or(0, |r| r.received),
                resolved: row.map_or(0, |r| r.resolved),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{classify, Method};
    use crate::model::{MapUnit, UnitRef};

    fn row(code: &str, rate: Option<f64>) -> IndicatorRow {
        let mut r = IndicatorRow::from_counts(code, code, &Default::default());
        r.on_time_rate = rate;
        r
    }

    fn tiles() -> MapLayer {
        MapLayer {
            geographic: false,
            geographic_available: false,
            units: ["A", "B", "C"]
                .iter()
                .enumerate()
                .map(|(i, c)| MapUnit {
                    code: c.to_string(),
                    name: format!("Huyện {c}"),
                    shape: MapShape::Tile {
                        col: i as i32,
                        row: 0,
                    },
                    label: None,
                })
                .collect(),
            not_on_map: vec![UnitRef {
                code: "D".into(),
                name: "Thị xã D".into(),
            }],
            credit: None,
        }
    }

    #[test]
    fn units_get_their_class_rank_and_a_hexagon_inside_the_box() {
        let rows = [row("A", Some(0.97)), row("B", Some(0.80)), row("C", None)];
        let classes = classify(
            &rows.iter().map(|r| r.on_time_rate).collect::<Vec<_>>(),
            &Method::default_thresholds(),
        );
        let drawn = draw(&tiles(), &rows, &classes, Indicator::OnTimeRate);
        assert_eq!(drawn.len(), 3);
        assert_eq!((drawn[0].class, drawn[0].rank), (Some(3), Some(1)));
        assert_eq!((drawn[1].class, drawn[1].rank), (Some(0), Some(2)));
        assert_eq!((drawn[2].class, drawn[2].rank), (None, None));
        for u in &drawn {
            assert!(u.path.starts_with('M') && u.path.ends_with('Z'));
            assert!(
                (0.0..WIDTH).contains(&u.label.0) && (0.0..HEIGHT).contains(&u.label.1),
                "{:?}",
                u.label
            );
        }
    }

    #[test]
    fn pages_carry_each_unit_projected_with_its_path_as_drawn_and_its_label_to_a_tenth() {
        let layer = tiles();
        let page = projected(&layer);
        let in_box = project(&layer);
        assert_eq!(page.units.len(), in_box.len());
        for (u, (path, label)) in page.units.iter().zip(&in_box) {
            assert_eq!(&u.path, path, "the very path the server-rendered map holds");
            for (carried, exact) in [(u.label.0, label.0), (u.label.1, label.1)] {
                assert!(
                    (f64::from(carried) - exact).abs() <= 0.051,
                    "{carried} vs {exact}"
                );
                assert_eq!(f64::from(carried * 10.0).fract(), 0.0, "{carried}");
            }
        }
        assert_eq!(page.not_on_map, layer.not_on_map);
        // In the page's JSON the path is the same text, byte for byte.
        let json = serde_json::to_string(&page).unwrap();
        assert!(json.contains(&format!(r#""path":"{}""#, in_box[0].0)));
        assert_eq!(serde_json::from_str::<ProjectedLayer>(&json).unwrap(), page);
    }

    #[test]
    fn average_days_rank_the_shortest_first() {
        // Lower is better for average days: the shortest ranks first.
        let mut quick = row("Q", None);
        quick.avg_days = Some(2.0);
        let mut slow = row("S", None);
        slow.avg_days = Some(9.0);
        let r = ranks(&[slow, quick], Indicator::AvgDays);
        assert_eq!((r["Q"], r["S"]), (1, 2));
    }
}
