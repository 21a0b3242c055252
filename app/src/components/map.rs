//! The choropleth map: units coloured by on-time-rate class, with a legend, tooltips and keyboard access.
use crate::classify::{classify, palette_for, Classes, Method};
use crate::format;
use crate::i18n::{indicator_key, text, tr, Key, Lang};
use crate::model::{Indicator, IndicatorRow, MapLayer, MapShape};
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

/// A value of `indicator` as the map shows it: rates in percent, durations in days.
fn figure(lang: Lang, indicator: Indicator, value: Option<f64>) -> String {
    match (indicator.is_rate(), value) {
        (true, _) => format::rate(lang, value),
        (false, Some(v)) => format!("{} {}", format::decimal(lang, v, 1), tr(lang, Key::Days)),
        (false, None) => "–".to_string(),
    }
}

/// Projects the layer into the map's box and joins each unit with its figures.
pub fn draw(
    layer: &MapLayer,
    rows: &[IndicatorRow],
    classes: &Classes,
    indicator: Indicator,
) -> Vec<DrawnUnit> {
    paint(layer, &project(layer), rows, classes, indicator)
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
    layer: &MapLayer,
    shapes: &[(String, (f64, f64))],
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
        .zip(shapes)
        .map(|(u, (path, label))| {
            let row = figures.get(u.code.as_str()).map(|&i| &rows[i as usize]);
            let value = row.and_then(|r| r.indicator(indicator));
            DrawnUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                path: path.clone(),
                label: *label,
                value,
                class: classes.class_of(value),
                rank: ranks.get(&u.code).copied(),
                received: row.map_or(0, |r| r.received),
                resolved: row.map_or(0, |r| r.resolved),
            }
        })
        .collect()
}

/// Text made safe for markup: names and codes come from imported files.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

/// Which labels to show: better-ranked first, skipping any whose box would overlap one kept.
/// Kept boxes are bucketed in a grid so that layers of thousands of units stay fast.
pub fn visible_labels(units: &[DrawnUnit], font_px: f64) -> Vec<bool> {
    type Box2 = (f64, f64, f64, f64);
    let boxes: Vec<Box2> = units
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
    if boxes.is_empty() {
        return Vec::new();
    }
    // A dense grid over the labels' extent (at most 128 cells a side, however small the font).
    let (x_min, y_min, x_max, y_max) = boxes.iter().fold(boxes[0], |(x0, y0, x1, y1), b| {
        (x0.min(b.0), y0.min(b.1), x1.max(b.2), y1.max(b.3))
    });
    let extent = (x_max - x_min).max(y_max - y_min);
    let cell = (font_px * 6.0).max(extent / 128.0).max(1e-6);
    let columns = ((x_max - x_min) / cell).floor() as usize + 1;
    let rows = ((y_max - y_min) / cell).floor() as usize + 1;
    let cells = move |b: &Box2| {
        let at = |v: f64, min: f64, count: usize| {
            (((v - min) / cell).floor().max(0.0) as usize).min(count - 1)
        };
        let (x0, y0) = (at(b.0, x_min, columns), at(b.1, y_min, rows));
        let (x1, y1) = (at(b.2, x_min, columns), at(b.3, y_min, rows));
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| y * columns + x))
    };
    let order = crate::order::stable_order(units.len(), &|a, b| {
        (units[a].rank.unwrap_or(u32::MAX), a).cmp(&(units[b].rank.unwrap_or(u32::MAX), b))
    });
    let mut shown = vec![false; units.len()];
    let mut grid: Vec<Vec<usize>> = vec![Vec::new(); columns * rows];
    for i in order {
        let b = boxes[i];
        let overlaps = cells(&b).any(|c| {
            grid[c].iter().any(|&k| {
                let k = boxes[k];
                !(b.2 < k.0 || k.2 < b.0 || b.3 < k.1 || k.3 < b.1)
            })
        });
        if !overlaps {
            for c in cells(&b) {
                grid[c].push(i);
            }
            shown[i] = true;
        }
    }
    shown
}

/// An arrow key's direction on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

impl Direction {
    pub fn from_key(key: &str) -> Option<Direction> {
        match key {
            "ArrowLeft" => Some(Direction::Left),
            "ArrowRight" => Some(Direction::Right),
            "ArrowUp" => Some(Direction::Up),
            "ArrowDown" => Some(Direction::Down),
            _ => None,
        }
    }
}

/// The unit an arrow key moves to from `from`: the nearest label lying in that direction,
/// sideways distance counting double so that the move follows the arrow.
pub fn neighbour(points: &[(f64, f64)], from: usize, direction: Direction) -> Option<usize> {
    let (x0, y0) = *points.get(from)?;
    points
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != from)
        .filter_map(|(j, &(x, y))| {
            let (ahead, aside) = match direction {
                Direction::Right => (x - x0, y - y0),
                Direction::Left => (x0 - x, y - y0),
                Direction::Down => (y - y0, x - x0),
                Direction::Up => (y0 - y, x - x0),
            };
            (ahead > 0.5 && aside.abs() <= ahead * 2.0).then_some((j, ahead + 2.0 * aside.abs()))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

/// Zoom and pan of the map: SVG coordinates are `map * scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub scale: f64,
    pub offset: (f64, f64),
}

impl Default for View {
    fn default() -> Self {
        View {
            scale: 1.0,
            offset: (0.0, 0.0),
        }
    }
}

impl View {
    pub const MAX_SCALE: f64 = 24.0;

    /// Zooms by `factor` keeping the point `at` (SVG coordinates) where it is.
    pub fn zoomed(self, factor: f64, at: (f64, f64)) -> View {
        let scale = (self.scale * factor).clamp(1.0, Self::MAX_SCALE);
        let k = scale / self.scale;
        View {
            scale,
            offset: (
                at.0 - (at.0 - self.offset.0) * k,
                at.1 - (at.1 - self.offset.1) * k,
            ),
        }
        .clamped()
    }

    pub fn panned(self, by: (f64, f64)) -> View {
        View {
            offset: (self.offset.0 + by.0, self.offset.1 + by.1),
            ..self
        }
        .clamped()
    }

    /// Keeps the map covering the box: it cannot be dragged out of sight.
    fn clamped(self) -> View {
        let lo = (WIDTH * (1.0 - self.scale), HEIGHT * (1.0 - self.scale));
        View {
            offset: (
                self.offset.0.clamp(lo.0, 0.0),
                self.offset.1.clamp(lo.1, 0.0),
            ),
            ..self
        }
    }

    pub fn apply(&self, p: (f64, f64)) -> (f64, f64) {
        (
            p.0 * self.scale + self.offset.0,
            p.1 * self.scale + self.offset.1,
        )
    }

    pub fn transform(&self) -> String {
        format!(
            "translate({:.2} {:.2}) scale({:.4})",
            self.offset.0, self.offset.1, self.scale
        )
    }
}

/// The legend text of class `i`: "< 85%", "85–90%", "≥ 98%" (days for durations).
fn class_label(lang: Lang, classes: &Classes, i: usize, indicator: Indicator) -> String {
    let (scale, unit) = if indicator.is_rate() {
        (100.0, "%".to_string())
    } else {
        (1.0, format!(" {}", tr(lang, Key::Days)))
    };
    let number = |v: f64| {
        let v = v * scale;
        let decimals = if (v - v.round()).abs() < 1e-9 { 0 } else { 1 };
        format::decimal(lang, v, decimals)
    };
    match (
        i.checked_sub(1).map(|j| classes.limits[j]),
        classes.limits.get(i),
    ) {
        (None, Some(hi)) => format!("< {}{unit}", number(*hi)),
        (Some(lo), Some(hi)) => format!("{}–{}{unit}", number(lo), number(*hi)),
        (Some(lo), None) => format!("≥ {}{unit}", number(lo)),
        (None, None) => tr(lang, indicator_key(indicator)).to_string(),
    }
}

/// Where a pointer event happened, in SVG coordinates of the map's box.
fn svg_point(target: Option<web_sys::EventTarget>, client: (i32, i32)) -> Option<(f64, f64)> {
    use leptos::wasm_bindgen::JsCast;
    let element: web_sys::Element = target?.dyn_into().ok()?;
    let rect = element.get_bounding_client_rect();
    if rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    Some((
        (f64::from(client.0) - rect.left()) * WIDTH / rect.width(),
        (f64::from(client.1) - rect.top()) * HEIGHT / rect.height(),
    ))
}

/// The index a unit's shape carries, when the event's target is one.
fn unit_index(target: Option<web_sys::EventTarget>) -> Option<usize> {
    use leptos::wasm_bindgen::JsCast;
    let element: web_sys::Element = target?.dyn_into().ok()?;
    element.get_attribute("data-index")?.parse().ok()
}

/// Moves keyboard focus to a unit's shape.
fn focus_unit(code: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Ok(Some(element)) =
        document().query_selector(&format!("path.unit[data-unit=\"{code}\"]"))
    {
        if let Ok(shape) = element.dyn_into::<web_sys::SvgElement>() {
            let _focused = shape.focus();
        }
    }
}

/// Pointers down on the map: one drags, two pinch.
#[derive(Default)]
struct Gesture {
    pointers: Vec<(i32, (f64, f64))>,
    /// Whether the pointer moved far enough since going down to be a drag, not a click.
    dragged: bool,
}

#[component]
pub fn ChoroplethMap(
    layer: MapLayer,
    /// The units' figures; live updates repaint the map in place (zoom and hover stay).
    #[prop(into)]
    rows: Signal<Vec<IndicatorRow>>,
    lang: Signal<Lang>,
    /// Opens a unit's level below (Enter, click); None when the listed units have no children.
    on_drill: Option<Callback<String>>,
    /// Goes up one level (Escape); None at the top.
    on_up: Option<Callback<()>>,
    /// What colours the units.
    #[prop(optional)]
    indicator: Indicator,
    /// How values are cut into classes; the indicator's fixed thresholds when not given.
    #[prop(optional)]
    method: Option<Method>,
    /// The selected unit (outlined). With `on_select`, a click selects a unit and a click on
    /// the selected one drills down.
    #[prop(optional)]
    selected: Option<Signal<Option<String>>>,
    #[prop(optional)] on_select: Option<Callback<String>>,
) -> impl IntoView {
    let method = method.unwrap_or_else(|| Method::thresholds_for(indicator));
    let shapes_in_box = StoredValue::new(project(&layer));
    let classes = Memo::new(move |_| {
        rows.with(|rows| {
            let values: Vec<Option<f64>> = rows.iter().map(|r| r.indicator(indicator)).collect();
            classify(&values, &method)
        })
    });
    let colours = Memo::new(move |_| palette_for(classes.with(|c| c.count()), indicator));
    let map_layer = StoredValue::new(layer.clone());
    let units = Memo::new(move |_| {
        let classes = classes.get();
        rows.with(|rows| {
            shapes_in_box.with_value(|shapes| {
                map_layer.with_value(|layer| paint(layer, shapes, rows, &classes, indicator))
            })
        })
    });
    let counts = Memo::new(move |_| {
        let values: Vec<Option<f64>> = units.with(|u| u.iter().map(|u| u.value).collect());
        classes.with(|c| c.histogram(&values))
    });
    let no_data = move || units.with(|u| u.iter().filter(|u| u.class.is_none()).count());
    let points: Vec<(f64, f64)> = shapes_in_box.with_value(|s| s.iter().map(|s| s.1).collect());
    let hovered = RwSignal::new(None::<usize>);
    let highlighted = RwSignal::new(None::<Option<usize>>);
    let view_box = RwSignal::new(View::default());
    let points = StoredValue::new(points);
    let gesture = StoredValue::new(Gesture::default());
    let focused = StoredValue::new(None::<usize>);
    // Labels keep their size on screen while zooming, so which ones fit changes with the zoom.
    let label_px = 11.0;
    let shown_labels = Memo::new(move |_| {
        let scale = view_box.with(|v| v.scale);
        units.with(|u| visible_labels(u, label_px / scale))
    });
    let fill = move |colours: &[&str], class: Option<usize>| {
        class.map_or("url(#no-data)".to_string(), |c| {
            colours[c.min(colours.len() - 1)].to_string()
        })
    };
    // Units whose class changed since the last paint get a short highlight (live updates).
    // By position: a layer's units keep their order from one paint to the next.
    let painted_classes = StoredValue::new(Vec::<(String, Option<usize>)>::new());
    let drillable = on_drill.is_some() || on_select.is_some();
    // The shapes and labels go in as one markup string each: the browser parses thousands of
    // shapes far faster than it takes them element by element and attribute by attribute from
    // WASM. Events are handled on the group (by each shape's `data-index`); legend highlighting
    // is one attribute on the group, applied by CSS. Rebuilt when the language or the figures
    // change.
    let shapes = move || {
        let l = lang.get();
        let role = if drillable { "button" } else { "img" };
        let colours = colours.get();
        units.with(|units| {
            let before = painted_classes.get_value();
            let mut html = String::with_capacity(units.iter().map(|u| u.path.len() + 180).sum());
            for (i, u) in units.iter().enumerate() {
                let class = u.class.map_or("none".to_string(), |c| c.to_string());
                let changed = before
                    .get(i)
                    .is_some_and(|(code, c)| *code == u.code && *c != u.class);
                html.push_str(&format!(
                    r#"<path d="{}" fill="{}" class="unit{}" data-unit="{}" data-index="{i}" data-class="{class}" tabindex="0" role="{role}" aria-label="{}"></path>"#,
                    u.path,
                    fill(&colours, u.class),
                    if changed { " changed" } else { "" },
                    escape(&u.code),
                    escape(&format!("{}: {}", u.name, figure(l, indicator, u.value))),
                ));
            }
            painted_classes.set_value(units.iter().map(|u| (u.code.clone(), u.class)).collect());
            html
        })
    };
    let texts = move || {
        let shown = shown_labels.get();
        units.with(|units| {
            let mut html = String::new();
            for (u, _) in units.iter().zip(shown).filter(|(_, shown)| *shown) {
                html.push_str(&format!(
                    r#"<text x="{:.1}" y="{:.1}" class="map-label" aria-hidden="true">{}</text>"#,
                    u.label.0,
                    u.label.1,
                    escape(short_name(&u.name)),
                ));
            }
            html
        })
    };
    // One outline on top of every shape instead of a reactive class on each of thousands.
    let hover_outline = move || {
        hovered
            .get()
            .and_then(|i| units.with(|u| u.get(i).map(|u| u.path.clone())))
            .map(|d| view! { <path class="hover-outline" d=d></path> })
    };
    let tooltip = move || {
        hovered.get().and_then(|i| units.with(|units| units.get(i).cloned())).map(|u| {
            let (x, y) = view_box.get().apply(u.label);
            let style = format!("left: {:.1}%; top: {:.1}%", x / WIDTH * 100.0, y / HEIGHT * 100.0);
            let l = lang.get();
            view! {
                <div class="map-tooltip" role="status" style=style>
                    <strong>{u.name.clone()}</strong>
                    <span class="figure">{tr(l, indicator_key(indicator))} ": " {figure(l, indicator, u.value)}</span>
                    <span>{tr(l, Key::Received)} ": " {format::count(l, u.received)} " · " {tr(l, Key::Resolved)} ": " {format::count(l, u.resolved)}</span>
                    <span>{tr(l, Key::Rank)} ": " {u.rank.map_or("–".to_string(), |r| r.to_string())}</span>
                </div>
            }
        })
    };
    let legend = move || {
        let colours = colours.get();
        (0..classes.with(|c| c.count()))
        .map(|c| {
            let label = move || classes.with(|classes| class_label(lang.get(), classes, c, indicator));
            view! {
                <li
                    data-class=c.to_string()
                    on:mouseenter=move |_| highlighted.set(Some(Some(c)))
                    on:mouseleave=move |_| highlighted.set(None)
                >
                    <span class="swatch" style=format!("background: {}", colours[c.min(colours.len() - 1)])></span>
                    <span class="class-label">{label}</span>
                    <span class="class-count">{move || counts.with(|n| n[c])}</span>
                </li>
            }
        })
        .collect_view()
    };
    let drill = move |i: usize| {
        if let Some(drill) = on_drill {
            if let Some(code) = units.with_untracked(|u| u.get(i).map(|u| u.code.clone())) {
                drill.run(code);
            }
        }
    };
    let selected_code = move || selected.and_then(|s| s.get());
    // A click selects (focusing the charts); on the selected unit, or without selection, drills.
    let activate = move |i: usize| {
        let Some(code) = units.with_untracked(|u| u.get(i).map(|u| u.code.clone())) else {
            return;
        };
        match on_select {
            Some(select) if on_drill.is_none() || selected_code() != Some(code.clone()) => {
                select.run(code)
            }
            _ => drill(i),
        }
    };
    let selected_outline = move || {
        let code = selected_code()?;
        units
            .with(|u| u.iter().find(|u| u.code == code).map(|u| u.path.clone()))
            .map(|d| view! { <path class="selected-outline" d=d></path> })
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if let Some(direction) = Direction::from_key(&key) {
            let from = focused
                .get_value()
                .or_else(|| hovered.get_untracked())
                .unwrap_or(0);
            if let Some(to) = points.with_value(|p| neighbour(p, from, direction)) {
                ev.prevent_default();
                if let Some(code) = units.with_untracked(|u| u.get(to).map(|u| u.code.clone())) {
                    focus_unit(&code);
                }
            }
        } else if key == "Enter" || key == " " {
            if let Some(i) = focused.get_value() {
                ev.prevent_default();
                // Space selects (when selecting is offered); Enter opens the level below.
                match on_select {
                    Some(select) if key == " " => {
                        if let Some(code) =
                            units.with_untracked(|u| u.get(i).map(|u| u.code.clone()))
                        {
                            select.run(code);
                        }
                    }
                    _ => drill(i),
                }
            }
        } else if key == "Escape" {
            if let Some(up) = on_up {
                ev.prevent_default();
                up.run(());
            }
        } else if key == "+" || key == "=" {
            view_box.update(|v| *v = v.zoomed(1.5, (WIDTH / 2.0, HEIGHT / 2.0)));
        } else if key == "-" {
            view_box.update(|v| *v = v.zoomed(1.0 / 1.5, (WIDTH / 2.0, HEIGHT / 2.0)));
        }
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        if let Some(at) = svg_point(ev.current_target(), (ev.client_x(), ev.client_y())) {
            ev.prevent_default();
            // The browser's exp: Rust's (libm) would be compiled into the WASM for this alone.
            let factor = js_sys::Math::exp(-ev.delta_y() * 0.002);
            view_box.update(|v| *v = v.zoomed(factor, at));
        }
    };
    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        let Some(at) = svg_point(ev.current_target(), (ev.client_x(), ev.client_y())) else {
            return;
        };
        gesture.update_value(|g| {
            if g.pointers.is_empty() {
                g.dragged = false;
            }
            g.pointers.retain(|(id, _)| *id != ev.pointer_id());
            g.pointers.push((ev.pointer_id(), at));
        });
    };
    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let Some(at) = svg_point(ev.current_target(), (ev.client_x(), ev.client_y())) else {
            return;
        };
        gesture.update_value(|g| {
            let Some(k) = g.pointers.iter().position(|(id, _)| *id == ev.pointer_id()) else {
                return;
            };
            let before = g.pointers[k].1;
            if g.pointers.len() == 2 {
                let other = g.pointers[1 - k].1;
                let dist =
                    |a: (f64, f64)| ((a.0 - other.0).powi(2) + (a.1 - other.1).powi(2)).sqrt();
                if dist(before) > 1.0 {
                    let mid = ((at.0 + other.0) / 2.0, (at.1 + other.1) / 2.0);
                    let factor = dist(at) / dist(before);
                    view_box.update(|v| *v = v.zoomed(factor, mid));
                }
                g.dragged = true;
            } else {
                let by = (at.0 - before.0, at.1 - before.1);
                if g.dragged || by.0.abs() + by.1.abs() > 4.0 {
                    g.dragged = true;
                    view_box.update(|v| *v = v.panned(by));
                } else {
                    // Too small to be a drag yet: keep the starting point.
                    return;
                }
            }
            g.pointers[k].1 = at;
        });
    };
    let on_pointerup = move |ev: leptos::ev::PointerEvent| {
        gesture.update_value(|g| g.pointers.retain(|(id, _)| *id != ev.pointer_id()));
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if gesture.with_value(|g| g.dragged) {
            return;
        }
        if let Some(i) = unit_index(ev.target()) {
            activate(i);
        }
    };
    let zoom_button = move |factor: f64| {
        move |_| view_box.update(|v| *v = v.zoomed(factor, (WIDTH / 2.0, HEIGHT / 2.0)))
    };
    let not_on_map = layer.not_on_map.clone();
    let credit = layer.credit.clone();
    let geographic = layer.geographic;
    let is_admin = crate::components::account::viewer_is_admin();
    view! {
        <figure class="map">
            <div class="map-canvas">
                <svg
                    class="map-shapes"
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    role="group"
                    aria-label=text(lang, Key::Map)
                    aria-describedby="map-keys-help"
                    on:keydown=on_keydown
                    on:wheel=on_wheel
                    on:pointerdown=on_pointerdown
                    on:pointermove=on_pointermove
                    on:pointerup=on_pointerup
                    on:pointercancel=on_pointerup
                    on:click=on_click
                >
                    <defs>
                        <pattern id="no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                            <rect width="6" height="6" fill="#f2f2f2"></rect>
                            <line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"></line>
                        </pattern>
                    </defs>
                    <g class="zoom" transform=move || view_box.get().transform()>
                        <g
                            class="units"
                            data-highlight=move || {
                                highlighted
                                    .get()
                                    .map(|c| c.map_or("none".to_string(), |c| c.to_string()))
                            }
                            on:mouseover=move |ev| hovered.set(unit_index(ev.target()))
                            on:mouseleave=move |_| hovered.set(None)
                            on:focusin=move |ev| {
                                let i = unit_index(ev.target());
                                focused.set_value(i);
                                hovered.set(i);
                            }
                            on:focusout=move |_| {
                                focused.set_value(None);
                                hovered.set(None);
                            }
                            inner_html=shapes
                        ></g>
                        <g
                            class="labels"
                            style=move || format!("font-size: {:.3}px", label_px / view_box.get().scale)
                            inner_html=texts
                        ></g>
                    </g>
                </svg>
                // Hover marks live in their own layer: changing them repaints a few shapes, not
                // thousands.
                <svg class="map-overlay" viewBox=format!("0 0 {WIDTH} {HEIGHT}") aria-hidden="true">
                    <g transform=move || view_box.get().transform()>{selected_outline}{hover_outline}</g>
                </svg>
                <div class="map-zoom">
                    <button type="button" class="zoom-in" on:click=zoom_button(1.5) title=text(lang, Key::ZoomIn) aria-label=text(lang, Key::ZoomIn)>"+"</button>
                    <button type="button" class="zoom-out" on:click=zoom_button(1.0 / 1.5) title=text(lang, Key::ZoomOut) aria-label=text(lang, Key::ZoomOut)>"−"</button>
                    <button type="button" class="zoom-reset" on:click=move |_| view_box.set(View::default()) title=text(lang, Key::ZoomReset) aria-label=text(lang, Key::ZoomReset)>"⤢"</button>
                </div>
                {tooltip}
            </div>
            <figcaption>
                <h3>{text(lang, Key::Legend)} " – " {move || tr(lang.get(), indicator_key(indicator))}</h3>
                <ul class="legend">
                    {legend}
                    <li
                        data-class="none"
                        on:mouseenter=move |_| highlighted.set(Some(None))
                        on:mouseleave=move |_| highlighted.set(None)
                    >
                        <span class="swatch no-data"></span>
                        <span class="class-label">{text(lang, Key::NoData)}</span>
                        <span class="class-count">{no_data}</span>
                    </li>
                </ul>
                <p class="note">
                    {move || tr(lang.get(), if geographic { Key::GeographicMapNote } else { Key::TileMapNote })}
                </p>
                // Readers of the public map need not know how boundaries get in; an administrator does.
                {move || (!geographic && is_admin()).then(|| view! {
                    <p class="note admin-note">{tr(lang.get(), Key::TileMapAdminNote)}</p>
                })}
                <p class="note" id="map-keys-help">{text(lang, Key::MapKeysHelp)}</p>
                // The boundaries' licence asks for its credit line wherever the shapes are drawn.
                {credit.map(|c| view! { <p class="credit">{c}</p> })}
                {(!not_on_map.is_empty())
                    .then(|| {
                        view! {
                            <div class="not-on-map">
                                <h4>{text(lang, Key::NotOnMap)}</h4>
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
        let rate = Indicator::OnTimeRate;
        assert_eq!(class_label(Lang::Vi, &classes, 0, rate), "< 85%");
        assert_eq!(class_label(Lang::Vi, &classes, 1, rate), "85–95%");
        assert_eq!(class_label(Lang::En, &classes, 2, rate), "≥ 95%");
        let days = Classes {
            limits: vec![2.0, 7.5],
        };
        assert_eq!(
            class_label(Lang::En, &days, 1, Indicator::AvgDays),
            "2–7.5 days"
        );
        assert_eq!(
            class_label(Lang::Vi, &days, 2, Indicator::AvgDays),
            "≥ 7,5 ngày"
        );
        // Lower is better for average days: the shortest ranks first.
        let mut quick = row("Q", None);
        quick.avg_days = Some(2.0);
        let mut slow = row("S", None);
        slow.avg_days = Some(9.0);
        let r = ranks(&[slow, quick], Indicator::AvgDays);
        assert_eq!((r["Q"], r["S"]), (1, 2));
        assert_eq!(short_name("Thành phố Tam Kỳ"), "Tam Kỳ");
    }

    #[test]
    fn arrow_keys_move_to_the_nearest_unit_in_that_direction() {
        //   0 (0,0)     1 (10,1)    2 (20,0)
        //               3 (10,10)
        let points = [(0.0, 0.0), (10.0, 1.0), (20.0, 0.0), (10.0, 10.0)];
        assert_eq!(neighbour(&points, 0, Direction::Right), Some(1));
        assert_eq!(neighbour(&points, 1, Direction::Right), Some(2));
        assert_eq!(neighbour(&points, 2, Direction::Right), None);
        assert_eq!(neighbour(&points, 2, Direction::Left), Some(1));
        assert_eq!(neighbour(&points, 1, Direction::Down), Some(3));
        assert_eq!(neighbour(&points, 3, Direction::Up), Some(1));
        assert_eq!(neighbour(&points, 0, Direction::Up), None);
        assert_eq!(Direction::from_key("ArrowLeft"), Some(Direction::Left));
        assert_eq!(Direction::from_key("Enter"), None);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_pointer_and_the_map_in_the_box() {
        let at = (200.0, 100.0);
        let v = View::default().zoomed(2.0, at);
        assert_eq!(v.scale, 2.0);
        let back = ((at.0 - v.offset.0) / v.scale, (at.1 - v.offset.1) / v.scale);
        assert!((back.0 - at.0).abs() < 1e-9 && (back.1 - at.1).abs() < 1e-9);
        // Never smaller than the whole map, never larger than the limit.
        assert_eq!(View::default().zoomed(0.1, at), View::default());
        assert_eq!(v.zoomed(1000.0, at).scale, View::MAX_SCALE);
        // Panning stops at the edges.
        let far = v.panned((1e6, 1e6));
        assert_eq!(far.offset, (0.0, 0.0));
        let other_way = v.panned((-1e6, -1e6));
        assert_eq!(other_way.offset, (-WIDTH, -HEIGHT));
    }

    #[test]
    fn labels_of_many_units_never_overlap() {
        let units: Vec<DrawnUnit> = (0..2_000)
            .map(|i| DrawnUnit {
                code: i.to_string(),
                name: format!("Xã {i}"),
                path: String::new(),
                label: (f64::from(i % 50) * 13.0, f64::from(i / 50) * 13.0),
                value: None,
                class: None,
                rank: None,
                received: 0,
                resolved: 0,
            })
            .collect();
        let shown = visible_labels(&units, 11.0);
        let kept: Vec<&DrawnUnit> = units
            .iter()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(u, _)| u)
            .collect();
        assert!(!kept.is_empty() && kept.len() < units.len());
        for (i, a) in kept.iter().enumerate() {
            for b in &kept[i + 1..] {
                let wa = short_name(&a.name).chars().count() as f64 * 11.0 * 0.55;
                let wb = short_name(&b.name).chars().count() as f64 * 11.0 * 0.55;
                let apart_x = (a.label.0 - b.label.0).abs() > (wa + wb) / 2.0;
                let apart_y = (a.label.1 - b.label.1).abs() > 11.0;
                assert!(apart_x || apart_y, "{} and {} overlap", a.code, b.code);
            }
        }
        // Zoomed in (smaller font in map units), more labels fit.
        let zoomed = visible_labels(&units, 11.0 / 4.0)
            .iter()
            .filter(|s| **s)
            .count();
        assert!(zoomed > kept.len());
    }
}
