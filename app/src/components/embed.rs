//! The embeddable map for journalists: map, legend, source and "data as of", nothing else.
//!
//! Its view travels in the page, not through a resource: the server builds it before rendering
//! (`server/src/http/embed.rs`) and writes it as JSON into the page's head, the browser reads it
//! back before hydrating. The embed's bundle thus carries none of Leptos's resource, suspense and
//! server-function code (a third of the bundle), which newsrooms' readers on phones pay for.
use crate::components::dashboard::{map_choice, url_lang};
use crate::components::live::LiveIndicator;
use crate::components::map::ChoroplethMap;
use crate::error::AppError;
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::nav::use_query_map;
use crate::views::EmbedView;
use leptos::either::Either;
use leptos::prelude::*;

/// The id of the page element that carries the embed's view (JSON).
pub const VIEW_ELEMENT: &str = "embed-view";

/// The embed's view as the server built it for this request: a request extension, set before the
/// page renders.
#[derive(Clone, Debug)]
pub struct LoadedEmbed(pub Result<EmbedView, AppError>);

#[component]
pub fn EmbedPage() -> impl IntoView {
    let query = use_query_map();
    let lang = url_lang(query);
    view! {
        <main class="embed-page">
            {match loaded() {
                Ok(view) => Either::Left(view! { <EmbedBody view lang=lang.into()/> }),
                Err(e) => Either::Right(view! { <p class="error" role="alert">{e.to_string()}</p> }),
            }}
        </main>
    }
}

/// The view the server built for this request.
#[cfg(feature = "ssr")]
fn loaded() -> Result<EmbedView, AppError> {
    request_view().unwrap_or_else(|| {
        leptos::logging::error!("the embed page was rendered without its view");
        Err(AppError::internal())
    })
}

#[cfg(feature = "ssr")]
fn request_view() -> Option<Result<EmbedView, AppError>> {
    use_context::<axum::http::request::Parts>()
        .and_then(|request| request.extensions.get::<LoadedEmbed>().map(|l| l.0.clone()))
}

/// The view the page carries (written by [`view_in_page`]).
#[cfg(not(feature = "ssr"))]
fn loaded() -> Result<EmbedView, AppError> {
    let text = document()
        .get_element_by_id(VIEW_ELEMENT)
        .and_then(|element| element.text_content())
        .ok_or_else(|| AppError::new("transport", "the page carries no embed view"))?;
    crate::codec::parse::<Result<EmbedView, AppError>>(&text)
        .map_err(|e| AppError::new("transport", e.to_string()))?
}

/// The element carrying this request's embed view, for the page's head; nothing on other pages.
/// The JSON's `<` are escaped so no text in it can close the element.
#[cfg(feature = "ssr")]
pub fn view_in_page() -> Option<impl IntoView> {
    let loaded = request_view()?;
    let json = match crate::codec::to_text(&loaded) {
        Ok(json) => json.replace('<', "\\u003c"),
        Err(e) => {
            leptos::logging::error!("cannot write the embed's view: {e}");
            crate::codec::to_text(&Err::<(), _>(AppError::internal())).ok()?
        }
    };
    Some(view! { <script type="application/json" id=VIEW_ELEMENT inner_html=json></script> })
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
