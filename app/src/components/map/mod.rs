//! The choropleth map: units coloured by on-time-rate class, with a legend, tooltips and keyboard access.
//!
//! The component and what only it uses live here; the plain computations it draws on are in
//! `shapes` (projecting the layer into the box, joining the figures), `labels` (which names fit),
//! `zoom` (zoom and pan) and `neighbours` (arrow-key moves), re-exported here so that callers
//! keep naming them from `components::map`.
mod labels;
mod neighbours;
mod shapes;
mod zoom;

pub use labels::visible_labels;
pub use neighbours::{neighbour, Direction};
pub use shapes::{draw, paint, project, projected, ranks, DrawnUnit};
pub use zoom::View;

use crate::classify::{classify, palette_for, Classes, Method};
use crate::format;
use crate::i18n::{indicator_key, text, tr, Key, Lang};
use crate::model::{Indicator, IndicatorRow, ProjectedLayer};
use labels::short_name;
use leptos::prelude::*;

/// The map's box in SVG units and the margin kept free around the shapes: the projection
/// (`shapes`), the zoom's limits (`zoom`) and the pointer's position all work in it.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 520.0;
const MARGIN: f64 = 12.0;

/// A value of `indicator` as the map shows it: rates in percent, durations in days, or a number
/// of dossiers when the map shows counts.
fn figure(lang: Lang, indicator: Indicator, counts: bool, value: Option<f64>) -> String {
    match (indicator.is_rate(), value) {
        (_, Some(v)) if counts => format::count(lang, v.max(0.0) as u64),
        (true, _) => format::rate(lang, value),
        (false, Some(v)) => format!("{} {}", format::decimal(lang, v, 1), tr(lang, Key::Days)),
        (false, None) => "–".to_string(),
    }
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

/// The legend text of class `i`: "< 85%", "85–90%", "≥ 98%" (days for durations).
fn class_label(
    lang: Lang,
    classes: &Classes,
    i: usize,
    indicator: Indicator,
    counts: bool,
) -> String {
    let (scale, unit) = if counts {
        (1.0, String::new())
    } else if indicator.is_rate() {
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
    layer: ProjectedLayer,
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
    /// Values are numbers of dossiers, named by this key, not `indicator`'s figures (the
    /// due-soon map; `indicator` then only orients the colours).
    #[prop(optional)]
    count_of: Option<Key>,
) -> impl IntoView {
    let counts_shown = count_of.is_some();
    let value_key = count_of.unwrap_or(indicator_key(indicator));
    let method = method.unwrap_or_else(|| Method::thresholds_for(indicator));
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
        rows.with(|rows| map_layer.with_value(|layer| paint(layer, rows, &classes, indicator)))
    });
    let counts = Memo::new(move |_| {
        let values: Vec<Option<f64>> = units.with(|u| u.iter().map(|u| u.value).collect());
        classes.with(|c| c.histogram(&values))
    });
    let no_data = move || units.with(|u| u.iter().filter(|u| u.class.is_none()).count());
    let points: Vec<(f64, f64)> = layer
        .units
        .iter()
        .map(|u| (f64::from(u.label.0), f64::from(u.label.1)))
        .collect();
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
                    escape(&format!("{}: {}", u.name, figure(l, indicator, counts_shown, u.value))),
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
                    <span class="figure">{tr(l, value_key)} ": " {figure(l, indicator, counts_shown, u.value)}</span>
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
            let label = move || classes.with(|classes| class_label(lang.get(), classes, c, indicator, counts_shown));
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
                <h3>{text(lang, Key::Legend)} " – " {text(lang, value_key)}</h3>
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

    #[test]
    fn legend_labels_read_as_ranges() {
        let classes = Classes {
            limits: vec![0.85, 0.95],
        };
        let rate = Indicator::OnTimeRate;
        assert_eq!(class_label(Lang::Vi, &classes, 0, rate, false), "< 85%");
        assert_eq!(class_label(Lang::Vi, &classes, 1, rate, false), "85–95%");
        assert_eq!(class_label(Lang::En, &classes, 2, rate, false), "≥ 95%");
        let days = Classes {
            limits: vec![2.0, 7.5],
        };
        assert_eq!(
            class_label(Lang::En, &days, 1, Indicator::AvgDays, false),
            "2–7.5 days"
        );
        assert_eq!(
            class_label(Lang::Vi, &days, 2, Indicator::AvgDays, false),
            "≥ 7,5 ngày"
        );
        // Counts of dossiers (the due-soon map): no unit, no scaling.
        let counts = Classes {
            limits: vec![1.0, 5.0],
        };
        assert_eq!(
            class_label(Lang::Vi, &counts, 1, Indicator::AvgDays, true),
            "1–5"
        );
        assert_eq!(
            figure(Lang::Vi, Indicator::AvgDays, true, Some(1234.0)),
            "1.234"
        );
    }
}
