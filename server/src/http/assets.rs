//! The built browser assets under `/pkg`: content-hashed names cached forever, precompressed
//! files chosen by `Accept-Encoding`, everything else revalidated.
use app::AssetNames;
use axum::http::{header, HeaderValue, Request, Response};
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// What a hashed asset may be cached for: a year, never revalidated (its name changes with
/// its content, so a new build is new names).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The hashed names the build wrote into `pkg/assets.json`; none (plain names) without it.
pub fn names(pkg_dir: &Path) -> AssetNames {
    let file = pkg_dir.join("assets.json");
    match std::fs::read_to_string(&file) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(file = %file.display(), error = %e, "the asset manifest cannot be read; plain asset names are used");
            AssetNames::default()
        }),
        Err(_) => AssetNames::default(),
    }
}

/// Whether `name` is a content-hashed asset (`iem.0123456789abcdef.js`, `…_bg.wasm`, `…css`).
pub fn is_hashed(name: &str) -> bool {
    let Some((stem, rest)) = name.split_once('.') else {
        return false;
    };
    let hex = rest.get(..16).unwrap_or("");
    !stem.is_empty()
        && hex.len() == 16
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && matches!(&rest[16..], ".js" | "_bg.wasm" | ".css")
}

/// The `Link` header of the answers of `bundle`'s pages: the bundle's JS and WASM and the
/// stylesheet, to preload. A browser acts on it as the answer's headers arrive, before it has parsed the head
/// (on a phone, about a tenth of a second later), and the WASM is most of what a page downloads.
/// The attributes match the head's own preload tags, so each file is fetched once.
pub fn preload_links(names: &AssetNames, bundle: &str) -> Option<HeaderValue> {
    let bundle = names
        .bundles
        .get(bundle)
        .map(String::as_str)
        .unwrap_or(bundle);
    let css = names.css.as_deref().unwrap_or("iem.css");
    HeaderValue::from_str(&format!(
        "</pkg/{bundle}_bg.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin, \
         </pkg/{bundle}.js>; rel=modulepreload; crossorigin, </pkg/{css}>; rel=preload; as=style"
    ))
    .ok()
}

/// Serves `pkg_dir`, preferring the build's `.br` and `.gz` files, with the cache policy set
/// by name: hashed assets immutable, the rest `no-cache`.
pub fn service(pkg_dir: &Path) -> axum::routing::MethodRouter<()> {
    let files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    axum::routing::get(move |req: Request<axum::body::Body>| {
        let files = files.clone();
        async move {
            let name = req
                .uri()
                .path()
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            let mut res: Response<_> = match files.oneshot(req).await {
                Ok(res) => res.map(axum::body::Body::new),
                Err(never) => match never {},
            };
            if res.status().is_success() {
                let policy = if is_hashed(&name) {
                    IMMUTABLE
                } else {
                    "no-cache"
                };
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
                // The same name answers br, gzip or plain bytes: a shared cache must tell them apart.
                res.headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            res
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn only_content_hashed_names_are_cached_forever() {
        assert!(is_hashed("iem.891448e1847399d5.js"));
        assert!(is_hashed("iem-desk.015c288b5cfbf0fa_bg.wasm"));
        assert!(is_hashed("iem.f59156ef5164c922.css"));
        for plain in [
            "iem.js",
            "iem_bg.wasm",
            "iem.css",
            "iem.891448e1847399d5.js.br",
            "iem.891448E1847399D5.js",
            "iem.891448e1847399d.js",
            ".891448e1847399d5.js",
        ] {
            assert!(!is_hashed(plain), "{plain}");
        }
    }
}
