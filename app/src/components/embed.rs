//! The embeddable map for journalists: map, legend, source and "data as of", nothing else.
use crate::api::fetch_embed;
use crate::components::dashboard::{dashboard_request, map_choice, url_lang};
use crate::components::live::LiveIndicator;
use crate::components::map::ChoroplethMap;
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::nav::use_query_map;
use crate::views::EmbedView;
use leptos::prelude::*;

#[component]
pub fn EmbedPage() -> impl IntoView {
    let query = use_query_map();
    let lang = url_lang(query);
    let request = Memo::new(move |_| query.with(dashboard_request));
    let dashboard = crate::codec::load(move || request.get(), fetch_embed);
    view! {
        <main class="embed-page">
            <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| {
                    view! {
                        <p class="error" role="alert">
                            {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")}
                        </p>
                    }
                }>
                    {move || Suspend::new(async move {
                        dashboard.await.map(|view| view! { <EmbedBody view lang=lang.into()/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </main>
    }
}

#[component]
fn EmbedBody(view: EmbedView, lang: Signal<Lang>) -> impl IntoView {
    let query = use_query_map();
    let (indicator, method, _) = query.with_untracked(map_choice);
    let period = view.period;
    let title = view.title.clone();
    // The embed follows the live stream like the dashboard: a newsroom's map is never stale.
    let live = crate::live::follow(view.live_query.clone());
    let loaded = StoredValue::new(view.units.clone());
    let rows = Signal::derive(move || {
        live.figures
            .with(|f| f.as_ref().map(|f| f.stats.units.clone()))
            .unwrap_or_else(|| loaded.get_value())
    });
    // A shared comparison view embeds as one: the units coloured by their change.
    let base_units = StoredValue::new(view.base_units.clone());
    let comparing = view.base_period.is_some();
    let rows = Signal::derive(move || {
        if comparing {
            rows.with(|r| base_units.with_value(|b| crate::compare::change_rows(r, b)))
        } else {
            rows.get()
        }
    });
    let method = if comparing {
        crate::compare::change_method(indicator)
    } else {
        method
    };
    let loaded_as_of = view.data_as_of;
    let data_as_of = Signal::derive(move || {
        live.figures
            .with(|f| f.as_ref().map(|f| f.data_as_of))
            .unwrap_or(loaded_as_of)
    });
    let dashboard_href = move || format!("/{}", query.get().to_query_string());
    view! {
        <header class="embed-heading">
            <h1>
                {text(lang, Key::EmbedTitle)} " – "
                {title.clone().unwrap_or_else(|| tr(lang.get_untracked(), Key::Country).to_string())}
            </h1>
            <p class="period">
                <time datetime=period.from.to_string()>{move || format::date(lang.get(), period.from)}</time>
                " – "
                <time datetime=period.to.to_string()>{move || format::date(lang.get(), period.to)}</time>
            </p>
            {comparing.then(|| view! { <p class="note compare-note">{text(lang, Key::ChangeAgainst)}</p> })}
        </header>
        <ChoroplethMap
            layer=view.map.clone()
            rows
            lang
            on_drill=None
            on_up=None
            indicator
            method
        />
        <footer class="embed-source">
            <span>{text(lang, Key::Source)}</span>
            " · "
            <span class="data-as-of">
                {text(lang, Key::DataAsOf)} ": "
                {move || match data_as_of.get() {
                    Some(t) => view! { <time datetime=t.to_rfc3339()>{format::date_time(lang.get(), t)}</time> }.into_any(),
                    None => tr(lang.get(), Key::NoDataYet).into_any(),
                }}
            </span>
            " · "
            <LiveIndicator status=live.status lang/>
            " · "
            <a href=dashboard_href target="_blank" rel="noopener">{text(lang, Key::OpenDashboard)}</a>
        </footer>
    }
}
