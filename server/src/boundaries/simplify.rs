//! Simplification of a whole layer at once, so that neighbours keep exactly one common border.
//!
//! Each ring is cut at its junctions (where the set of rings sharing a vertex changes), each piece
//! is simplified on its own with both ends fixed, in a canonical direction. A border shared by two
//! units is the same piece in both rings, so both get the same simplified line: no gaps, no slivers.
use geo::{Coord, LineString, MultiPolygon, Polygon};
use std::collections::HashMap;

type Key = (i64, i64);

/// Coordinates closer than 1e-7 degrees (about 1 cm) are the same point.
fn key(c: &Coord<f64>) -> Key {
    ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64)
}

/// Ring vertices without the closing repeat.
fn open_ring(ring: &LineString<f64>) -> &[Coord<f64>] {
    let coords = &ring.0[..];
    if coords.len() > 1 && key(&coords[0]) == key(&coords[coords.len() - 1]) {
        &coords[..coords.len() - 1]
    } else {
        coords
    }
}

fn perpendicular_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let length = (dx * dx + dy * dy).sqrt();
    if length == 0.0 {
        ((p.x - a.x).powi(2) + (p.y - a.y).powi(2)).sqrt()
    } else {
        ((p.x - a.x) * dy - (p.y - a.y) * dx).abs() / length
    }
}

/// Douglas–Peucker keeping both ends.
///
/// Hand-written rather than `geo`'s `Simplify` (whose types the rest of this module uses): that
/// one measures a point's distance to the segment between the piece's ends, this one to the line
/// through them, and the two pick different points. Tried on the shipped 2025 layers (measured
/// 2026-12-06) the provinces came out identical at all three tolerances, but 52, 116 and 70 of
/// the 3,321 communes changed (at 0.0002°, 0.001°, 0.004°): switching would redraw stored maps,
/// so it waits for a deliberate change of the map's outlines.
fn douglas_peucker(points: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0, points.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        let (mut farthest, mut distance) = (first, 0.0);
        for (i, p) in points.iter().enumerate().take(last).skip(first + 1) {
            let d = perpendicular_distance(*p, points[first], points[last]);
            if d > distance {
                (farthest, distance) = (i, d);
            }
        }
        if distance > tolerance {
            keep[farthest] = true;
            stack.push((first, farthest));
            stack.push((farthest, last));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

/// Simplifies a chain the same way whichever direction it is walked in.
fn simplify_chain(chain: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    let forward = chain.iter().map(key).lt(chain.iter().rev().map(key));
    if forward {
        douglas_peucker(chain, tolerance)
    } else {
        let reversed: Vec<Coord<f64>> = chain.iter().rev().copied().collect();
        let mut simplified = douglas_peucker(&reversed, tolerance);
        simplified.reverse();
        simplified
    }
}

/// Simplifies every polygon of a layer with `tolerance` (in degrees), keeping shared borders shared.
/// Rings that would collapse are kept as they were.
pub fn simplify_layer(layer: &[MultiPolygon<f64>], tolerance: f64) -> Vec<MultiPolygon<f64>> {
    // Which rings use each vertex.
    let mut users: HashMap<Key, Vec<u32>> = HashMap::new();
    let mut ring_id = 0u32;
    for multi in layer {
        for polygon in &multi.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for c in open_ring(ring) {
                    let list = users.entry(key(c)).or_default();
                    if list.last() != Some(&ring_id) {
                        list.push(ring_id);
                    }
                }
                ring_id += 1;
            }
        }
    }
    let simplify_ring = |ring: &LineString<f64>| -> LineString<f64> {
        let points = open_ring(ring);
        let n = points.len();
        if n < 4 {
            return ring.clone();
        }
        let sharing = |i: usize| {
            users
                .get(&key(&points[i % n]))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        let junctions: Vec<usize> = (0..n)
            .filter(|&i| sharing(i) != sharing(i + n - 1) || sharing(i) != sharing(i + 1))
            .collect();
        let mut out: Vec<Coord<f64>> = Vec::with_capacity(n);
        if junctions.is_empty() {
            // A ring touching nothing else changes (an island, or wholly shared with one
            // neighbour): anchor it at its smallest point so both sides cut it the same way.
            let start = (0..n).min_by_key(|&i| key(&points[i])).unwrap_or(0);
            let chain: Vec<Coord<f64>> = (0..=n).map(|i| points[(start + i) % n]).collect();
            out = simplify_chain(&chain, tolerance);
        } else {
            for (j, &from) in junctions.iter().enumerate() {
                let to = junctions.get(j + 1).copied().unwrap_or(junctions[0] + n);
                let chain: Vec<Coord<f64>> = (from..=to).map(|i| points[i % n]).collect();
                let simplified = simplify_chain(&chain, tolerance);
                let skip = usize::from(!out.is_empty());
                out.extend(simplified.into_iter().skip(skip));
            }
        }
        // A ring needs three distinct corners besides its closing point.
        if out.len() < 4 {
            return ring.clone();
        }
        LineString::new(out)
    };
    layer
        .iter()
        .map(|multi| {
            MultiPolygon::new(
                multi
                    .0
                    .iter()
                    .map(|p| {
                        Polygon::new(
                            simplify_ring(p.exterior()),
                            p.interiors().iter().map(simplify_ring).collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, CoordsIter};
    use std::collections::HashSet;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    /// Two units side by side; their common border wiggles slightly between y = 0 and y = 1.
    fn neighbours() -> Vec<MultiPolygon<f64>> {
        let border: Vec<Coord<f64>> = (0..=20)
            .map(|i| c(1.0 + if i % 2 == 0 { 0.0 } else { 0.001 }, i as f64 / 20.0))
            .collect();
        let mut left = vec![c(0.0, 0.0)];
        left.extend(border.iter().copied());
        left.extend([c(0.0, 1.0), c(0.0, 0.0)]);
        let mut right: Vec<Coord<f64>> = border.iter().rev().copied().collect();
        right.extend([c(2.0, 0.0), c(2.0, 1.0)]);
        right.rotate_right(2);
        right.push(right[0]);
        vec![
            MultiPolygon::new(vec![Polygon::new(LineString::new(left), vec![])]),
            MultiPolygon::new(vec![Polygon::new(LineString::new(right), vec![])]),
        ]
    }

    #[test]
    fn the_shared_border_stays_identical_on_both_sides() {
        let layer = neighbours();
        let simplified = simplify_layer(&layer, 0.01);
        let points =
            |m: &MultiPolygon<f64>| -> HashSet<Key> { m.coords_iter().map(|c| key(&c)).collect() };
        let (left, right) = (points(&simplified[0]), points(&simplified[1]));
        let shared: HashSet<Key> = left.intersection(&right).copied().collect();
        // The wiggle is gone: the border is the straight line between its two ends.
        assert_eq!(
            shared,
            HashSet::from([key(&c(1.0, 0.0)), key(&c(1.0, 1.0))])
        );
        // Nothing gained or lost between them: the areas still add up to the whole.
        let total: f64 = simplified.iter().map(|m| m.unsigned_area()).sum();
        assert!((total - 2.0).abs() < 1e-9, "{total}");
        assert!(simplified[0].coords_iter().count() < layer[0].coords_iter().count());
    }

    #[test]
    fn a_small_tolerance_keeps_the_detail_and_tiny_rings_survive() {
        let layer = neighbours();
        let kept = simplify_layer(&layer, 0.0001);
        assert_eq!(
            kept[0].coords_iter().count(),
            layer[0].coords_iter().count()
        );
        let speck = vec![MultiPolygon::new(vec![Polygon::new(
            LineString::new(vec![
                c(0.0, 0.0),
                c(0.0001, 0.0),
                c(0.0001, 0.0001),
                c(0.0, 0.0),
            ]),
            vec![],
        )])];
        assert_eq!(simplify_layer(&speck, 1.0)[0], speck[0]);
    }

    #[test]
    fn douglas_peucker_keeps_the_ends_and_far_points() {
        let line = [
            c(0.0, 0.0),
            c(1.0, 0.1),
            c(2.0, -0.1),
            c(3.0, 5.0),
            c(4.0, 6.0),
            c(5.0, 7.0),
        ];
        let simplified = douglas_peucker(&line, 0.5);
        assert_eq!(simplified.first(), line.first());
        assert_eq!(simplified.last(), line.last());
        assert!(simplified.contains(&c(2.0, -0.1)) || simplified.contains(&c(3.0, 5.0)));
        assert!(simplified.len() < line.len());
    }
}
