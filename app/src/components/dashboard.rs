//! The dashboard page: reads its state from the URL and lays out the figures.
use crate::api::{fetch_dashboard, DashboardRequest, DashboardView};
use crate::components::{headline::Headline, map::ChoroplethMap, ranking::RankingTable};
use crate::format;
use crate::i18n::{tr, Key, Lang};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let lang = Memo::new(move |_| {
        query
            .read()
            .get("lang")
            .and_then(|l| l.parse::<Lang>().ok())
            .unwrap_or_default()
    });
    let request = Memo::new(move |_| {
        let q = query.read();
        DashboardRequest {
            province: q.get("province"),
            from: q.get("from").and_then(|s| s.parse().ok()),
            to: q.get("to").and_then(|s| s.parse().ok()),
        }
    });
    let dashboard = Resource::new(move || request.get(), fetch_dashboard);
    let lang_switch_href = move || {
        let mut q = query.get();
        q.replace("lang", lang.get().other().code().to_string());
        format!("/{}", q.to_query_string())
    };

    view! {
        <header class="topbar">
            <div class="brand">
                <h1>{move || tr(lang.get(), Key::AppTitle)}</h1>
                <p class="subtitle">{move || tr(lang.get(), Key::AppSubtitle)}</p>
            </div>
            <a class="lang-switch" href=lang_switch_href hreflang=move || lang.get().other().code()>
                {move || tr(lang.get(), Key::SwitchLanguage)}
            </a>
        </header>
        <main class="dashboard">
            <Transition fallback=move || {
                view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }
            }>
                <ErrorBoundary fallback=move |errors| {
                    view! {
                        <div class="error" role="alert">
                            <h2>{tr(lang.get_untracked(), Key::LoadFailed)}</h2>
                            <ul>
                                {move || {
                                    errors
                                        .get()
                                        .into_iter()
                                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                        .collect_view()
                                }}
                            </ul>
                        </div>
                    }
                }>
                    {move || Suspend::new(async move {
                        dashboard.await.map(|view| view! { <DashboardBody view lang=lang.into()/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </main>
        <footer class="source">{move || tr(lang.get(), Key::Source)}</footer>
    }
}

#[component]
fn DashboardBody(view: DashboardView, lang: Signal<Lang>) -> impl IntoView {
    let period = view.period;
    let province_name = view
        .province
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let rows = view.current.units.clone();
    let map_rows = rows.clone();
    view! {
        <section class="scope" aria-label=move || tr(lang.get(), Key::Period)>
            <h2>{province_name.clone()}</h2>
            <p class="period">
                {move || tr(lang.get(), Key::Period)} ": "
                <time datetime=period.from.to_string()>{move || format::date(lang.get(), period.from)}</time>
                " – "
                <time datetime=period.to.to_string()>{move || format::date(lang.get(), period.to)}</time>
            </p>
        </section>
        <Headline current=view.current.total.clone() previous=view.previous_total.clone() lang/>
        <section class="map-section">
            <h2>{move || tr(lang.get(), Key::Map)}</h2>
            <ChoroplethMap layer=view.map.clone() rows=map_rows lang/>
        </section>
        <section class="ranking">
            <h2>{move || tr(lang.get(), Key::Ranking)} " – " {move || tr(lang.get(), Key::Districts)}</h2>
            <RankingTable rows lang/>
            <p class="note">{move || tr(lang.get(), Key::ThresholdNote)}</p>
        </section>
    }
}
