//! The map benchmark page (`/bench/map?features=N`): draws a generated layer in the browser so
//! that `make bench` can time the first frame and hover of a map far larger than any province's.
use crate::components::map::{projected, ChoroplethMap};
use crate::i18n::Lang;
use crate::model::{Counts, IndicatorRow, MapLayer, MapShape, MapUnit, ProjectedLayer};
use crate::nav::use_query_map;
use leptos::prelude::*;

/// A deterministic value in [0, 1) for `seed`.
fn unit_noise(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x % 1_000_000) as f64 / 1_000_000.0
}

/// `n` outlined units on a jittered grid (each edge drawn with `points_per_edge` points, shared
/// by both neighbours) with figures spread over every class, as boundaries and stats would give.
pub fn synthetic_layer(n: usize, points_per_edge: usize) -> (MapLayer, Vec<IndicatorRow>) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    let rows_n = n.div_ceil(cols);
    let cell = 0.01_f64;
    let corner = |i: usize, j: usize| {
        let inner = i > 0 && j > 0 && i < cols && j < rows_n;
        let seed = (i * 100_003 + j) as u64;
        let jitter = |s: u64| {
            if inner {
                (unit_noise(s) - 0.5) * cell * 0.4
            } else {
                0.0
            }
        };
        (
            105.0 + i as f64 * cell + jitter(seed),
            21.0 - j as f64 * cell + jitter(seed ^ 1),
        )
    };
    // A wavy edge between two corners; both cells walk the same points.
    let edge = |a: (f64, f64), b: (f64, f64), seed: u64| -> Vec<(f64, f64)> {
        (0..points_per_edge)
            .map(|k| {
                let t = k as f64 / points_per_edge as f64;
                let bulge = (t * std::f64::consts::PI).sin() * (unit_noise(seed) - 0.5) * 0.2;
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                (a.0 + dx * t - dy * bulge, a.1 + dy * t + dx * bulge)
            })
            .collect()
    };
    let reversed = |mut v: Vec<(f64, f64)>, end: (f64, f64)| {
        v.push(end);
        v.reverse();
        v.pop();
        v
    };
    let mut units = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    for k in 0..n {
        let (i, j) = (k % cols, k / cols);
        let (nw, ne, se, sw) = (
            corner(i, j),
            corner(i + 1, j),
            corner(i + 1, j + 1),
            corner(i, j + 1),
        );
        let mut ring: Vec<(f64, f64)> = Vec::with_capacity(points_per_edge * 4 + 1);
        ring.extend(edge(nw, sw, (i * 7 + j * 13_001) as u64));
        ring.extend(edge(sw, se, (i * 11 + (j + 1) * 17_011) as u64));
        ring.extend(reversed(
            edge(ne, se, ((i + 1) * 7 + j * 13_001) as u64),
            se,
        ));
        ring.extend(reversed(edge(nw, ne, (i * 11 + j * 17_011) as u64), ne));
        ring.push(nw);
        let code = format!("S{k:05}");
        units.push(MapUnit {
            code: code.clone(),
            name: format!("Xã {k}"),
            shape: MapShape::Outline {
                rings: vec![ring.iter().map(|(x, y)| (*x as f32, *y as f32)).collect()],
            },
            label: None,
        });
        let resolved = 100 + (unit_noise(k as u64) * 900.0) as u64;
        let late = (unit_noise(k as u64 ^ 99) * 0.2 * resolved as f64) as u64;
        let counts = Counts {
            received: resolved,
            resolved,
            resolved_on_time: resolved - late,
            resolved_late: late,
            ..Counts::default()
        };
        rows.push(IndicatorRow::from_counts(&code, format!("Xã {k}"), &counts));
    }
    let layer = MapLayer {
        geographic: true,
        geographic_available: true,
        units,
        not_on_map: Vec::new(),
        credit: None,
    };
    (layer, rows)
}

#[component]
pub fn MapBenchPage() -> impl IntoView {
    let query = use_query_map();
    let features = move || {
        query
            .read()
            .get("features")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(10_000)
            .min(100_000)
    };
    let drawn = RwSignal::new(None::<(ProjectedLayer, Vec<IndicatorRow>)>);
    // Generated ahead, so that the timed click measures the map and not the generator.
    let generated = StoredValue::new_local(None::<(MapLayer, Vec<IndicatorRow>)>);
    Effect::new(move |_| generated.set_value(Some(synthetic_layer(features(), 8))));
    view! {
        <main class="dashboard">
            <h1>"Map benchmark"</h1>
            <button type="button" id="draw" on:click=move |_| {
                let layer = generated.get_value().unwrap_or_else(|| synthetic_layer(features(), 8));
                // Projected here, as the server does for a page: the timed click includes it.
                drawn.set(Some((projected(&layer.0), layer.1)));
            }>
                {move || format!("Draw {} units", features())}
            </button>
            {move || {
                drawn
                    .get()
                    .map(|(layer, rows)| {
                        view! { <ChoroplethMap layer rows lang=Signal::stored(Lang::En) on_drill=None on_up=None/> }
                            .into_any()
                    })
            }}
        </main>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_layer_has_every_unit_with_figures_and_closed_rings() {
        let (layer, rows) = synthetic_layer(250, 8);
        assert_eq!((layer.units.len(), rows.len()), (250, 250));
        for u in &layer.units {
            let MapShape::Outline { rings } = &u.shape else {
                panic!("outlines expected")
            };
            assert_eq!(rings[0].len(), 8 * 4 + 1);
            assert_eq!(rings[0].first(), rings[0].last());
        }
        assert!(rows
            .iter()
            .all(|r| r.on_time_rate.is_some_and(|v| (0.8..=1.0).contains(&v))));
    }
}
