//! Browser-only actions behind buttons: downloads (CSV, SVG, PNG), printing and the theme.
//! Called from event handlers and effects only, which never run on the server.
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Offers `text` as a file to save.
pub fn download_text(filename: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
        download_blob(filename, &blob);
    }
}

fn download_blob(filename: &str, blob: &web_sys::Blob) {
    let Some(doc) = document() else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(filename);
        a.click();
    }
    // The download has started from the URL; it can go once the click is handled.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000);
    }
}

/// Renders an SVG document onto a canvas at twice its size and offers it as a PNG.
pub fn download_png(filename: &str, svg: &str, width: u32, height: u32) {
    let Some(doc) = document() else { return };
    let parts = js_sys::Array::of1(&JsValue::from_str(svg));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/svg+xml");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let Ok(image) = web_sys::HtmlImageElement::new() else {
        return;
    };
    let filename = filename.to_string();
    let loaded = image.clone();
    let source = url.clone();
    let onload = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&source);
        let Ok(canvas) = doc.create_element("canvas") else {
            return;
        };
        let canvas: web_sys::HtmlCanvasElement = canvas.unchecked_into();
        let scale = 2;
        canvas.set_width(width * scale);
        canvas.set_height(height * scale);
        let Some(ctx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .map(|c| c.unchecked_into::<web_sys::CanvasRenderingContext2d>())
        else {
            return;
        };
        // A PNG has no page behind it: paint the theme's surface first.
        ctx.set_fill_style_str(&surface_colour());
        ctx.fill_rect(
            0.0,
            0.0,
            f64::from(width * scale),
            f64::from(height * scale),
        );
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
            &loaded,
            0.0,
            0.0,
            f64::from(width * scale),
            f64::from(height * scale),
        );
        let done = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
            if let Some(blob) = blob {
                download_blob(&filename, &blob);
            }
        });
        let _ = canvas.to_blob(done.unchecked_ref());
    });
    image.set_onload(Some(onload.unchecked_ref()));
    image.set_src(&url);
}

/// The page's surface colour (light or dark theme), for exported images.
fn surface_colour() -> String {
    document()
        .and_then(|d| d.document_element())
        .and_then(|root| {
            web_sys::window()?
                .get_computed_style(&root)
                .ok()
                .flatten()?
                .get_property_value("--surface")
                .ok()
        })
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "#ffffff".to_string())
}

pub fn print() {
    if let Some(w) = web_sys::window() {
        let _ = w.print();
    }
}

/// The page's origin ("https://example.org"), for links meant to be pasted elsewhere.
pub fn origin() -> Option<String> {
    web_sys::window()?.location().origin().ok()
}

const THEME_KEY: &str = "iem-theme";

/// The theme chosen earlier on this device ("light" or "dark"); `None`: follow the system.
pub fn stored_theme() -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()
        .flatten()?
        .get_item(THEME_KEY)
        .ok()
        .flatten()
}

/// Applies a theme to the page and remembers it on this device.
pub fn apply_theme(theme: &str) {
    if let Some(root) = document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme);
    }
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(THEME_KEY, theme);
    }
}

/// Whether the page shows the dark theme now (chosen, or the system's).
pub fn is_dark() -> bool {
    if let Some(theme) = document()
        .and_then(|d| d.document_element())
        .and_then(|r| r.get_attribute("data-theme"))
    {
        return theme == "dark";
    }
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}
