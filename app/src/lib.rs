//! The dashboard's shared half: components, routes, server functions and the types both sides exchange.
pub mod access;
pub mod alerts;
pub mod api;
#[cfg(feature = "ssr")]
mod api_ssr;
pub mod browser;
pub mod charts;
pub mod classify;
pub mod codec;
pub mod compare;
pub mod components;
pub mod due;
pub mod era;
pub mod error;
pub mod format;
pub mod i18n;
pub mod indicators;
pub mod iso;
pub mod late;
pub mod live;
pub mod model;
pub mod nav;
pub mod order;
pub mod periods;
pub mod projection;
pub mod redirect;
pub mod selection;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use leptos::prelude::*;

/// The browser bundles, each hydrating its own pages: the dashboard downloads only its own code,
/// not the desk pages' (late dossiers, sign-in, procedures, the map benchmark), nor these theirs;
/// the embed, on a newsroom's phone page, only the map, legend, live updates and source line.
/// Built by `scripts/build-site.sh` with the frontend features named here.
pub const BUNDLES: [(&str, &str); 3] = [
    ("iem", "public-pages"),
    ("iem-desk", "desk-pages"),
    ("iem-embed", "embed-page"),
];

/// Whether this build serves a page that signs people in and navigates in place (every page but
/// the embed): false only in the embed's own bundle.
const PAGES_NAVIGATE: bool = cfg!(any(
    feature = "ssr",
    feature = "public-pages",
    feature = "desk-pages"
));

/// The path of the embed, hydrated by the `iem-embed` bundle.
pub const EMBED_PAGE: &str = "/embed";

/// The paths of the desk pages, hydrated by the `iem-desk` bundle; every other path by `iem`.
pub const DESK_PAGES: [&str; 5] = ["/procedures", "/late", "/alerts", "/signin", "/bench/map"];

/// The bundle that hydrates the page at `path`.
pub fn bundle_for(path: &str) -> &'static str {
    let desk = DESK_PAGES.iter().any(|page| {
        path.strip_prefix(page)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    });
    if desk {
        BUNDLES[1].0
    } else if path == EMBED_PAGE {
        BUNDLES[2].0
    } else {
        BUNDLES[0].0
    }
}

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let options = with_page_bundle(options);
    #[cfg(feature = "ssr")]
    let lang = page_lang().code();
    // The browser never renders the shell; the server's answer holds the language.
    #[cfg(not(feature = "ssr"))]
    let lang = i18n::Lang::default().code();
    #[cfg(feature = "ssr")]
    let stylesheet = format!(
        "/pkg/{}",
        use_context::<AssetNames>()
            .and_then(|assets| assets.css)
            .unwrap_or_else(|| "iem.css".into())
    );
    #[cfg(not(feature = "ssr"))]
    let stylesheet = "/pkg/iem.css";
    // The embed's view travels in the head (see `components::embed`), outside what hydrates.
    #[cfg(feature = "ssr")]
    let embed_view = components::embed::view_in_page();
    #[cfg(not(feature = "ssr"))]
    let embed_view = ();
    view! {
        <!DOCTYPE html>
        // The page's language, so that a screen reader reads an English page in English.
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                // Static head tags belong to the shell: leptos_meta would add its code to the WASM.
                <link id="leptos" rel="stylesheet" href=stylesheet/>
                {embed_view}
                <title>"Bản đồ thực thi thể chế"</title>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The language the request's URL asks for (`lang=`), Vietnamese by default.
#[cfg(feature = "ssr")]
fn page_lang() -> i18n::Lang {
    use_context::<axum::http::request::Parts>()
        .and_then(|request| {
            form_urlencoded::parse(request.uri.query().unwrap_or("").as_bytes())
                .find(|(name, _)| name == "lang")
                .and_then(|(_, value)| value.parse::<i18n::Lang>().ok())
        })
        .unwrap_or_default()
}

/// The content-hashed names of the built assets (`pkg/assets.json`, written by the build):
/// `iem` → `iem.<hash>` (its `.js` and `_bg.wasm`), and the stylesheet. Empty when the site
/// was built without them (then the plain names serve).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AssetNames {
    #[serde(default)]
    pub bundles: std::collections::HashMap<String, String>,
    #[serde(default)]
    pub css: Option<String>,
}

/// `options` naming the bundle of the requested page (the scripts `HydrationScripts` writes),
/// by its content-hashed name when the build wrote one.
#[cfg(feature = "ssr")]
fn with_page_bundle(mut options: LeptosOptions) -> LeptosOptions {
    if let Some(request) = use_context::<axum::http::request::Parts>() {
        let bundle = bundle_for(request.uri.path());
        options.output_name = use_context::<AssetNames>()
            .and_then(|assets| assets.bundles.get(bundle).cloned())
            .unwrap_or_else(|| bundle.to_string())
            .into();
    }
    options
}

#[component]
pub fn App() -> impl IntoView {
    let path = nav::provide_page_url();
    // The embed lives in another site's page: it asks nobody who is signed in (no request, no
    // cookie read) and shows no other view in place (its one link opens the dashboard in a new
    // tab), so neither is in its bundle.
    if PAGES_NAVIGATE && path != EMBED_PAGE {
        components::account::provide_viewer();
        nav::follow_links_and_history();
    }
    page(&path)
}

/// The public pages (the `iem` bundle).
pub const PUBLIC_PAGES: [&str; 2] = ["/", "/embed"];

/// The page at `path`. A bundle knows only its own pages (`BUNDLES`); links to and from the
/// others leave it (`rel="external"`), so the browser loads the page the server renders.
fn page(path: &str) -> AnyView {
    public_page(path)
        .or_else(|| embed_page(path))
        .or_else(|| desk_page(path))
        .unwrap_or_else(|| view! { <p class="not-found">"404"</p> }.into_any())
}

/// The dashboard (the `iem` bundle).
#[cfg(any(feature = "ssr", feature = "public-pages"))]
fn public_page(path: &str) -> Option<AnyView> {
    use components::dashboard::DashboardPage;
    match path {
        "/" => Some(view! { <DashboardPage/> }.into_any()),
        _ => None,
    }
}

/// The embed (the `iem-embed` bundle).
#[cfg(any(feature = "ssr", feature = "embed-page"))]
fn embed_page(path: &str) -> Option<AnyView> {
    use components::embed::EmbedPage;
    (path == EMBED_PAGE).then(|| view! { <EmbedPage/> }.into_any())
}

#[cfg(not(any(feature = "ssr", feature = "embed-page")))]
fn embed_page(_: &str) -> Option<AnyView> {
    None
}

#[cfg(not(any(feature = "ssr", feature = "public-pages")))]
fn public_page(_: &str) -> Option<AnyView> {
    None
}

/// One of [`DESK_PAGES`].
#[cfg(any(feature = "ssr", feature = "desk-pages"))]
fn desk_page(path: &str) -> Option<AnyView> {
    use components::{
        alerts::AlertsPage, late::LateDossiersPage, map_bench::MapBenchPage,
        procedures::ProceduresPage, signin::SignInPage,
    };
    match path {
        "/alerts" => Some(view! { <AlertsPage/> }.into_any()),
        "/procedures" => Some(view! { <ProceduresPage/> }.into_any()),
        "/late" => Some(view! { <LateDossiersPage/> }.into_any()),
        "/signin" => Some(view! { <SignInPage/> }.into_any()),
        "/bench/map" => Some(view! { <MapBenchPage/> }.into_any()),
        _ => None,
    }
}

#[cfg(not(any(feature = "ssr", feature = "desk-pages")))]
fn desk_page(_: &str) -> Option<AnyView> {
    None
}

/// The pages as the server routes them. In order (the figure pages): the head and top bar go
/// out at once (the browser starts on the stylesheet and WASM), then each section in place as
/// its figures resolve, readable before any WASM runs.
#[cfg(feature = "ssr")]
pub fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    use leptos_router::{Method, SsrMode};
    PUBLIC_PAGES
        .into_iter()
        .chain(DESK_PAGES)
        .map(|path| {
            let mode = match path {
                "/signin" | "/bench/map" => SsrMode::OutOfOrder,
                _ => SsrMode::InOrder,
            };
            leptos_axum::AxumRouteListing::new(path.to_string(), mode, [Method::Get], vec![])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_is_hydrated_by_one_bundle() {
        assert_eq!(bundle_for("/"), "iem");
        assert_eq!(bundle_for("/embed"), "iem-embed");
        assert_eq!(bundle_for("/embedded"), "iem");
        assert_eq!(bundle_for("/late"), "iem-desk");
        assert_eq!(bundle_for("/late/"), "iem-desk");
        assert_eq!(bundle_for("/signin"), "iem-desk");
        assert_eq!(bundle_for("/procedures"), "iem-desk");
        assert_eq!(bundle_for("/bench/map"), "iem-desk");
        // A path that merely starts like a desk page is not one.
        assert_eq!(bundle_for("/lateness"), "iem");
        assert_eq!(bundle_for("/no-such-page"), "iem");
    }
}
