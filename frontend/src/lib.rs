//! Browser entry point: hydrates the server-rendered page.
use wasm_bindgen::prelude::wasm_bindgen;

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
