//! The dashboard's shared half: components, routes, server functions and the types both sides exchange.
pub mod access;
pub mod api;
#[cfg(feature = "ssr")]
mod api_ssr;
pub mod browser;
pub mod charts;
pub mod classify;
pub mod codec;
pub mod components;
pub mod error;
pub mod format;
pub mod i18n;
pub mod indicators;
pub mod late;
pub mod live;
pub mod model;
pub mod periods;
pub mod projection;
pub mod selection;
#[cfg(feature = "ssr")]
pub mod store;

use components::{
    dashboard::DashboardPage, embed::EmbedPage, late::LateDossiersPage, map_bench::MapBenchPage,
    procedures::ProceduresPage, signin::SignInPage,
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="vi">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                // Static head tags belong to the shell: leptos_meta would add its code to the WASM.
                <link id="leptos" rel="stylesheet" href="/pkg/iem.css"/>
                <title>"Bản đồ thực thi thể chế"</title>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    components::account::provide_viewer();
    view! {
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"404"</p> }>
                // In order: the head and top bar go out at once (the browser starts on the stylesheet and WASM),
                // then each section in place as its figures resolve, readable before any WASM runs.
                <Route path=path!("/") view=DashboardPage ssr=SsrMode::InOrder/>
                <Route path=path!("/procedures") view=ProceduresPage ssr=SsrMode::InOrder/>
                <Route path=path!("/embed") view=EmbedPage ssr=SsrMode::InOrder/>
                <Route path=path!("/late") view=LateDossiersPage ssr=SsrMode::InOrder/>
                <Route path=path!("/signin") view=SignInPage/>
                <Route path=path!("/bench/map") view=MapBenchPage/>
            </Routes>
        </Router>
    }
}
