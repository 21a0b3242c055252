//! One chart on the page: drawn in the browser, with hover read-outs, a table alternative and
//! SVG / PNG downloads.
use crate::browser;
use crate::charts::{Drawn, Pick, Table};
use crate::i18n::{text, tr, Key, Lang};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A table's markup (also the print view of a chart).
pub fn table_view(table: Table, caption: String) -> impl IntoView {
    view! {
        <table class="chart-table">
            <caption>{caption}</caption>
            <thead>
                <tr>{table.headers.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr>
            </thead>
            <tbody>
                {table
                    .rows
                    .into_iter()
                    .map(|row| {
                        let mut cells = row.into_iter();
                        let first = cells.next().unwrap_or_default();
                        view! {
                            <tr>
                                <th scope="row">{first}</th>
                                {cells.map(|c| view! { <td class="num">{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn ChartFrame(
    /// Names the chart in the page (`data-chart`) and in downloaded file names.
    name: &'static str,
    title: Key,
    lang: Signal<Lang>,
    /// Draws the chart; re-run when the signals it reads change (in the browser only).
    draw: Callback<Lang, Result<Drawn, String>>,
    table: Callback<Lang, Table>,
    /// What a click on a bar or row does; nothing when absent.
    #[prop(optional)]
    on_pick: Option<Callback<Pick>>,
    /// Shown under the title, e.g. what clicking does.
    #[prop(optional)]
    hint: Option<Key>,
) -> impl IntoView {
    let drawn = RwSignal::new(None::<Result<Drawn, String>>);
    // Effects run only in the browser: the chart is drawn there, never on the server.
    Effect::new(move |_| drawn.set(Some(draw.run(lang.get()))));
    let show_table = RwSignal::new(false);
    let hover = RwSignal::new(None::<(usize, f64, f64)>);
    let position = move |ev: &leptos::ev::PointerEvent| -> Option<(f64, f64, f64, f64)> {
        let target: web_sys::Element = ev.current_target()?.dyn_into().ok()?;
        let rect = target.get_bounding_client_rect();
        if rect.width() <= 0.0 || rect.height() <= 0.0 {
            return None;
        }
        let fx = (f64::from(ev.client_x()) - rect.left()) / rect.width();
        let fy = (f64::from(ev.client_y()) - rect.top()) / rect.height();
        drawn.with_untracked(|d| match d {
            Some(Ok(d)) => Some((fx * d.width as f64, fy * d.height as f64, fx, fy)),
            _ => None,
        })
    };
    let region_index = move |x: f64, y: f64| {
        drawn.with_untracked(|d| match d {
            Some(Ok(d)) => d.regions.iter().position(|r| r.contains((x, y))),
            _ => None,
        })
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        hover.set(position(&ev).and_then(|(x, y, fx, fy)| region_index(x, y).map(|i| (i, fx, fy))));
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let (Some(pick), Some(target)) = (on_pick, ev.current_target()) else {
            return;
        };
        let Ok(target) = target.dyn_into::<web_sys::Element>() else {
            return;
        };
        let rect = target.get_bounding_client_rect();
        let picked = drawn.with_untracked(|d| match d {
            Some(Ok(d)) if rect.width() > 0.0 => {
                let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * d.width as f64;
                let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * d.height as f64;
                d.region_at((x, y)).and_then(|r| r.pick.clone())
            }
            _ => None,
        });
        if let Some(p) = picked {
            pick.run(p);
        }
    };
    let tooltip = move || {
        let (i, fx, fy) = hover.get()?;
        let text = drawn.with(|d| match d {
            Some(Ok(d)) => d.regions.get(i).map(|r| r.text.clone()),
            _ => None,
        })?;
        // Keep the read-out inside the chart: flip it left of the pointer on the right half.
        let style = if fx > 0.5 {
            format!(
                "right: {:.1}%; top: {:.1}%",
                (1.0 - fx) * 100.0 + 1.0,
                fy * 100.0
            )
        } else {
            format!("left: {:.1}%; top: {:.1}%", fx * 100.0 + 1.0, fy * 100.0)
        };
        Some(view! { <div class="chart-tooltip" role="status" style=style>{text}</div> })
    };
    let svg = move || {
        drawn.with(|d| match d {
            Some(Ok(d)) => d.svg.clone(),
            _ => String::new(),
        })
    };
    let problem = move || {
        drawn.with(|d| match d {
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.clone()}</p> }),
            _ => None,
        })
    };
    let download_svg = move |_| {
        drawn.with_untracked(|d| {
            if let Some(Ok(d)) = d {
                browser::download_text(&format!("{name}.svg"), "image/svg+xml", &d.svg);
            }
        })
    };
    let download_png = move |_| {
        drawn.with_untracked(|d| {
            if let Some(Ok(d)) = d {
                browser::download_png(&format!("{name}.png"), &d.svg, d.width, d.height);
            }
        })
    };
    let clickable = on_pick.is_some();
    view! {
        <figure class="chart" data-chart=name>
            <div class="chart-heading">
                <h3>{text(lang, title)}</h3>
                <div class="chart-actions">
                    <button
                        type="button"
                        class="show-table"
                        aria-pressed=move || show_table.get().to_string()
                        on:click=move |_| show_table.update(|s| *s = !*s)
                    >
                        {move || tr(lang.get(), if show_table.get() { Key::ShowChart } else { Key::ShowTable })}
                    </button>
                    <button type="button" class="export-svg" on:click=download_svg>{text(lang, Key::ExportSvg)}</button>
                    <button type="button" class="export-png" on:click=download_png>{text(lang, Key::ExportPng)}</button>
                </div>
            </div>
            {hint.map(|k| view! { <p class="chart-hint">{text(lang, k)}</p> })}
            <div
                class="chart-canvas"
                class:clickable=clickable
                class:hidden=move || show_table.get()
                role="img"
                aria-label=text(lang, title)
                aria-busy=move || drawn.with(|d| d.is_none()).to_string()
                on:pointermove=on_move
                on:pointerleave=move |_| hover.set(None)
                on:click=on_click
            >
                <div class="chart-svg" inner_html=svg></div>
                {tooltip}
            </div>
            {problem}
            {move || {
                show_table
                    .get()
                    .then(|| table_view(table.run(lang.get()), tr(lang.get(), title).to_string()))
            }}
        </figure>
    }
}
