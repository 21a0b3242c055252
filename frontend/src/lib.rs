//! Browser entry point: hydrates the server-rendered page.
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(not(any(
    feature = "public-pages",
    feature = "desk-pages",
    feature = "embed-page"
)))]
compile_error!(
    "choose the pages this bundle hydrates: --features public-pages, desk-pages or embed-page (scripts/build-site.sh builds each)"
);

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets tests (and curious people) see that the interactive version is running.
    if let Some(body) = leptos::prelude::document().body() {
        if let Err(e) = body.set_attribute("data-hydrated", "true") {
            leptos::logging::warn!("cannot mark the page as hydrated: {e:?}");
        }
    }
}
