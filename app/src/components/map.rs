//! The choropleth map: units coloured by on-time-rate class, with a legend, tooltips and keyboard access.
use crate::classify::{classify, palette, Classes, Method};
use crate::components::ranking::rank_by_on_time_rate;
use crate::format;
use crate::i18n::{tr, Key, Lang};
use crate::model::{IndicatorRow, MapLayer, MapShape};
use crate::projection::{hex_centre, hex_path, path_data, Bounds, Projection};
use leptos::prelude::*;
use std::collections::HashMap;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 520.0;
const MARGIN: f64 = 12.0;

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

/// Projects the layer into the map's box and joins each unit with its figures.
pub fn draw(layer: &MapLayer, rows: &[IndicatorRow], classes: &Classes) -> Vec<DrawnUnit> {
    let figures: HashMap<&str, &IndicatorRow> = rows.iter().map(|r| (r.code.as_str(), r)).collect();
    let ranks: HashMap<String, u32> = rank_by_on_time_rate(rows)
        .into_iter()
        .filter(|(_, r)| r.on_time_rate.is_some())
        .map(|(rank, r)| (r.code, rank))
        .collect();
    let shapes: Vec<(String, (f64, f64))> = if layer.geographic {
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
    };
    layer
        .units
        .iter()
        .zip(shapes)
        .map(|(u, (path, label))| {
            let row = figures.get(u.code.as_str());
            let value = row.and_then(|r| r.on_time_rate);
            DrawnUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                path,
                label,
                value,
                class: classes.class_of(value),
                rank: ranks.get(&u.code).copied(),
                received: row.map_or(0, |r| r.received),
                resolved: row.map_or(0, |r| r.resolved),
            }
        })
        .collect()
}

/// The short name shown on the map ("Huyện Bắc Trà My" → "Bắc Trà My").
fn short_name(name: &str) -> &str {
    [
        "Thành phố ",
        "Thị xã ",
        "Thị trấn ",
        "Huyện ",
        "Quận ",
        "Phường ",
        "Xã ",
        "Tỉnh ",
    ]
    .iter()
    .find_map(|prefix| name.strip_prefix(prefix))
    .unwrap_or(name)
}

/// Which labels to show: larger-ranked first, skipping any whose box would overlap one kept.
pub fn visible_labels(units: &[DrawnUnit], font_px: f64) -> Vec<bool> {
    let boxes: Vec<(f64, f64, f64, f64)> = units
        .iter()
        .map(|u| {
            let w = short_name(&u.name).chars().count() as f64 * font_px * 0.55;
            (
                u.label.0 - w / 2.0,
                u.label.1 - font_px / 2.0,
                u.label.0 + w / 2.0,
                u.label.1 + font_px / 2.0,
            )
        })
        .collect();
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| (units[i].rank.unwrap_or(u32::MAX), i));
    let mut shown = vec![false; units.len()];
    let mut kept: Vec<(f64, f64, f64, f64)> = Vec::new();
    for i in order {
        let b = boxes[i];
        if kept
            .iter()
            .all(|k| b.2 < k.0 || k.2 < b.0 || b.3 < k.1 || k.3 < b.1)
        {
            kept.push(b);
            shown[i] = true;
        }
    }
    shown
}

/// The legend text of class `i`: "< 85%", "85–90%", "≥ 98%".
fn class_label(lang: Lang, classes: &Classes, i: usize) -> String {
    let pct = |v: f64| format!("{}%", format::decimal(lang, v * 100.0, 0));
    match (
        i.checked_sub(1).map(|j| classes.limits[j]),
        classes.limits.get(i),
    ) {
        (None, Some(hi)) => format!("< {}", pct(*hi)),
        (Some(lo), Some(hi)) => format!("{}–{}", format::decimal(lang, lo * 100.0, 0), pct(*hi)),
        (Some(lo), None) => format!("≥ {}", pct(lo)),
        (None, None) => tr(lang, Key::OnTimeRate).to_string(),
    }
}

#[component]
pub fn ChoroplethMap(
    layer: MapLayer,
    rows: Vec<IndicatorRow>,
    lang: Signal<Lang>,
) -> impl IntoView {
    let values: Vec<Option<f64>> = rows.iter().map(|r| r.on_time_rate).collect();
    let classes = classify(&values, &Method::default_thresholds());
    let colours = palette(classes.count());
    let units = draw(&layer, &rows, &classes);
    let counts = classes.histogram(&units.iter().map(|u| u.value).collect::<Vec<_>>());
    let no_data = units.iter().filter(|u| u.class.is_none()).count();
    let labels = visible_labels(&units, 11.0);
    let hovered = RwSignal::new(None::<usize>);
    let highlighted = RwSignal::new(None::<Option<usize>>);
    let units = StoredValue::new(units);
    let fill = {
        let colours = colours.clone();
        move |class: Option<usize>| {
            class.map_or("url(#no-data)".to_string(), |c| {
                colours[c.min(colours.len() - 1)].to_string()
            })
        }
    };
    let shapes = units.with_value(|units| {
        units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let class = u.class;
                let aria = {
                    let (name, value) = (u.name.clone(), u.value);
                    move || format!("{}: {}", name, format::rate(lang.get(), value))
                };
                view! {
                    <path
                        d=u.path.clone()
                        fill=fill(class)
                        class="unit"
                        class:dimmed=move || highlighted.get().is_some_and(|h| h != class)
                        class:hovered=move || hovered.get() == Some(i)
                        data-unit=u.code.clone()
                        data-class=class.map_or("none".to_string(), |c| c.to_string())
                        tabindex="0"
                        role="img"
                        aria-label=aria
                        on:mouseenter=move |_| hovered.set(Some(i))
                        on:mouseleave=move |_| hovered.set(None)
                        on:focus=move |_| hovered.set(Some(i))
                        on:blur=move |_| hovered.set(None)
                    ></path>
                }
            })
            .collect_view()
    });
    let texts = units.with_value(|units| {
        units
            .iter()
            .zip(labels)
            .filter(|(_, shown)| *shown)
            .map(|(u, _)| {
                view! {
                    <text x=format!("{:.1}", u.label.0) y=format!("{:.1}", u.label.1) class="map-label" aria-hidden="true">
                        {short_name(&u.name).to_string()}
                    </text>
                }
            })
            .collect_view()
    });
    let tooltip = move || {
        hovered.get().and_then(|i| units.with_value(|units| units.get(i).cloned())).map(|u| {
            let style = format!("left: {:.1}%; top: {:.1}%", u.label.0 / WIDTH * 100.0, u.label.1 / HEIGHT * 100.0);
            let l = lang.get();
            view! {
                <div class="map-tooltip" role="status" style=style>
                    <strong>{u.name.clone()}</strong>
                    <span class="figure">{tr(l, Key::OnTimeRate)} ": " {format::rate(l, u.value)}</span>
                    <span>{tr(l, Key::Received)} ": " {format::count(l, u.received)} " · " {tr(l, Key::Resolved)} ": " {format::count(l, u.resolved)}</span>
                    <span>{tr(l, Key::Rank)} ": " {u.rank.map_or("–".to_string(), |r| r.to_string())}</span>
                </div>
            }
        })
    };
    let legend = (0..classes.count())
        .map(|c| {
            let label = {
                let classes = classes.clone();
                move || class_label(lang.get(), &classes, c)
            };
            view! {
                <li
                    data-class=c.to_string()
                    on:mouseenter=move |_| highlighted.set(Some(Some(c)))
                    on:mouseleave=move |_| highlighted.set(None)
                >
                    <span class="swatch" style=format!("background: {}", colours[c.min(colours.len() - 1)])></span>
                    <span class="class-label">{label}</span>
                    <span class="class-count">{counts[c]}</span>
                </li>
            }
        })
        .collect_view();
    let not_on_map = layer.not_on_map.clone();
    let geographic = layer.geographic;
    view! {
        <figure class="map">
            <div class="map-canvas">
                <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="group" aria-label=move || tr(lang.get(), Key::Map)>
                    <defs>
                        <pattern id="no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                            <rect width="6" height="6" fill="#f2f2f2"></rect>
                            <line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"></line>
                        </pattern>
                    </defs>
                    <g class="units">{shapes}</g>
                    <g class="labels">{texts}</g>
                </svg>
                {tooltip}
            </div>
            <figcaption>
                <h3>{move || tr(lang.get(), Key::Legend)} " – " {move || tr(lang.get(), Key::OnTimeRate)}</h3>
                <ul class="legend">
                    {legend}
                    <li
                        data-class="none"
                        on:mouseenter=move |_| highlighted.set(Some(None))
                        on:mouseleave=move |_| highlighted.set(None)
                    >
                        <span class="swatch no-data"></span>
                        <span class="class-label">{move || tr(lang.get(), Key::NoData)}</span>
                        <span class="class-count">{no_data}</span>
                    </li>
                </ul>
                <p class="note">
                    {move || tr(lang.get(), if geographic { Key::GeographicMapNote } else { Key::TileMapNote })}
                </p>
                {(!not_on_map.is_empty())
                    .then(|| {
                        view! {
                            <div class="not-on-map">
                                <h4>{move || tr(lang.get(), Key::NotOnMap)}</h4>
                                <ul>
                                    {not_on_map
                                        .iter()
                                        .map(|u| view! { <li data-unit=u.code.clone()>{u.name.clone()}</li> })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    })}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MapUnit, UnitRef};

    fn row(code: &str, rate: Option<f64>) -> IndicatorRow {
        let mut r = IndicatorRow::from_counts(code, code, &Default::default());
        r.on_time_rate = rate;
        r
    }

    fn tiles() -> MapLayer {
        MapLayer {
            geographic: false,
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
        }
    }

    #[test]
    fn units_get_their_class_rank_and_a_hexagon_inside_the_box() {
        let rows = [row("A", Some(0.97)), row("B", Some(0.80)), row("C", None)];
        let classes = classify(
            &rows.iter().map(|r| r.on_time_rate).collect::<Vec<_>>(),
            &Method::default_thresholds(),
        );
        let drawn = draw(&tiles(), &rows, &classes);
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
    fn overlapping_labels_keep_the_better_ranked_unit() {
        let unit = |name: &str, x: f64, rank: u32| DrawnUnit {
            code: name.into(),
            name: name.into(),
            path: String::new(),
            label: (x, 100.0),
            value: None,
            class: None,
            rank: Some(rank),
            received: 0,
            resolved: 0,
        };
        let units = [
            unit("Bắc Trà My", 100.0, 2),
            unit("Tam Kỳ", 110.0, 1),
            unit("Hội An", 400.0, 3),
        ];
        assert_eq!(visible_labels(&units, 11.0), [false, true, true]);
    }

    #[test]
    fn legend_labels_read_as_ranges() {
        let classes = Classes {
            limits: vec![0.85, 0.95],
        };
        assert_eq!(class_label(Lang::Vi, &classes, 0), "< 85%");
        assert_eq!(class_label(Lang::Vi, &classes, 1), "85–95%");
        assert_eq!(class_label(Lang::En, &classes, 2), "≥ 95%");
        assert_eq!(short_name("Thành phố Tam Kỳ"), "Tam Kỳ");
    }
}
