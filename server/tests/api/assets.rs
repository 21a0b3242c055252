//! The browser assets: the build's content-hashed names in the pages, cached forever; the
//! build's brotli and gzip files chosen by `Accept-Encoding`; an upgrade's pages name only the
//! new build's files.
use crate::common::{authored_data, TOKEN};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use server::auth::{Auth, AuthSettings, IngestToken};
use server::http::{router, AppState};
use server::store::DuckStore;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;

/// A server started on the site in `site` (its `pkg/assets.json` is read at start).
fn server_on(site: &Path, data: &Path) -> Router {
    let store = Arc::new(DuckStore::open(&data.join("s.duckdb"), &authored_data()).unwrap());
    let options = LeptosOptions::builder()
        .output_name("iem")
        .site_root(site.to_str().unwrap())
        .build();
    router(AppState::new(
        options,
        store,
        Auth::new(
            data,
            Some(IngestToken::from_plain(TOKEN)),
            AuthSettings::default(),
        ),
        Default::default(),
    ))
}

/// A build's output as `scripts/build-site.sh` leaves it before hashing.
fn build(pkg: &Path, version: &str) {
    std::fs::create_dir_all(pkg).unwrap();
    for bundle in ["iem", "iem-desk"] {
        std::fs::write(
            pkg.join(format!("{bundle}.js")),
            format!("// {bundle} {version}"),
        )
        .unwrap();
        std::fs::write(
            pkg.join(format!("{bundle}_bg.wasm")),
            format!("\0asm {bundle} {version} {}", "x".repeat(4000)),
        )
        .unwrap();
    }
    std::fs::write(
        pkg.join("iem.css"),
        format!("body {{ color: black }} /* {version} */"),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/hash-assets.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(pkg)
        .args(["iem", "iem-desk"])
        .output()
        .expect("node runs (installed by scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn get(
    router: &Router,
    uri: &str,
    encoding: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

/// The asset paths a page names (`/pkg/…` in its head).
fn named_assets(html: &str) -> Vec<String> {
    let mut out: Vec<String> = html
        .split("\"/pkg/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| name.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn pages_name_the_hashed_assets_which_are_cached_forever_and_served_precompressed() {
    let (site, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pkg = site.path().join("pkg");
    build(&pkg, "v1");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("assets.json")).unwrap()).unwrap();
    let stem = manifest["bundles"]["iem"].as_str().unwrap().to_string();
    let desk = manifest["bundles"]["iem-desk"]
        .as_str()
        .unwrap()
        .to_string();
    let css = manifest["css"].as_str().unwrap().to_string();
    let server = server_on(site.path(), data.path());

    let (status, headers, body) =
        get(&server, "/?unit=49&from=2021-01-01&to=2021-03-31", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-cache");
    let html = String::from_utf8(body).unwrap();
    assert_eq!(
        named_assets(&html),
        vec![css.clone(), format!("{stem}.js"), format!("{stem}_bg.wasm")]
    );
    // A desk page names the desk bundle by its hashed name.
    let (_, _, body) = get(&server, "/signin", None).await;
    assert!(named_assets(&String::from_utf8(body).unwrap()).contains(&format!("{desk}.js")));

    let wasm = format!("/pkg/{stem}_bg.wasm");
    let raw = std::fs::read(pkg.join(format!("{stem}_bg.wasm"))).unwrap();
    for (accept, file, encoding) in [
        (
            Some("gzip, deflate, br"),
            format!("{stem}_bg.wasm.br"),
            Some("br"),
        ),
        (Some("gzip"), format!("{stem}_bg.wasm.gz"), Some("gzip")),
        (None, format!("{stem}_bg.wasm"), None),
    ] {
        let (status, headers, body) = get(&server, &wasm, accept).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(headers["cache-control"], server::http::assets::IMMUTABLE);
        assert_eq!(headers["vary"], "accept-encoding");
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(body, std::fs::read(pkg.join(&file)).unwrap(), "{accept:?}");
        assert_eq!(
            headers["content-length"].to_str().unwrap(),
            body.len().to_string()
        );
        if encoding.is_some() {
            assert!(body.len() < raw.len(), "{file} is compressed");
        }
    }
    // The plain names still serve (an old page in a tab), revalidated every time.
    let (status, headers, _) = get(&server, "/pkg/iem.js", None).await;
    assert_eq!(
        (status, &headers["cache-control"]),
        (StatusCode::OK, &"no-cache".parse().unwrap())
    );
}

/// A page's text with its answer's CSP nonce (a new one each time) written as `N`.
fn without_nonce(headers: &axum::http::HeaderMap, html: &str) -> String {
    let policy = headers["content-security-policy"].to_str().unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    html.replace(nonce, "N")
}

#[tokio::test]
async fn a_page_names_its_files_to_preload_in_its_headers_and_travels_brotli_or_gzip_compressed() {
    let (site, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pkg = site.path().join("pkg");
    build(&pkg, "v1");
    let server = server_on(site.path(), data.path());
    let page = "/?unit=49&from=2021-01-01&to=2021-03-31";

    let (status, plain_headers, plain) = get(&server, page, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(plain_headers.get("content-encoding").is_none());
    let plain = String::from_utf8(plain).unwrap();
    // The `Link` header preloads exactly the files the head names, before the head is read.
    let link = plain_headers["link"].to_str().unwrap();
    let mut linked: Vec<String> = link
        .split(", <")
        .filter_map(|l| l.trim_start_matches('<').strip_prefix("/pkg/"))
        .filter_map(|l| l.split('>').next())
        .map(str::to_string)
        .collect();
    linked.sort();
    assert_eq!(linked, named_assets(&plain), "{link}");
    // With the head's attributes (a CORS fetch of the WASM, a module script), so that the browser
    // uses one download for both.
    assert!(
        link.contains("_bg.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin"),
        "{link}"
    );
    assert!(
        link.contains(".js>; rel=modulepreload; crossorigin"),
        "{link}"
    );
    assert!(
        plain.contains(r#"rel="preload" href="/pkg/"#)
            && plain.contains(r#"as="fetch" type="application/wasm" crossorigin="#)
    );
    assert!(link.contains(".css>; rel=preload; as=style"), "{link}");
    // A desk page preloads the desk bundle; an asset or an API answer preloads nothing.
    let (_, desk, _) = get(&server, "/signin", None).await;
    assert!(desk["link"].to_str().unwrap().contains("</pkg/iem-desk."));
    let (_, api, _) = get(&server, "/api/v1/openapi.json", None).await;
    assert!(api.get("link").is_none());

    // The same page, compressed as the browser accepts: brotli first, else gzip.
    let (_, headers, br) = get(&server, page, Some("gzip, deflate, br")).await;
    assert_eq!(headers["content-encoding"], "br");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut brotli_decompressor::Decompressor::new(&br[..], 4096),
        &mut text,
    )
    .unwrap();
    assert_eq!(
        without_nonce(&headers, &text),
        without_nonce(&plain_headers, &plain)
    );
    let (_, headers, gz) = get(&server, page, Some("gzip")).await;
    assert_eq!(headers["content-encoding"], "gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(
        without_nonce(&headers, &text),
        without_nonce(&plain_headers, &plain)
    );
    assert!(br.len() < gz.len() && gz.len() < plain.len());
}

#[tokio::test]
async fn after_an_upgrade_a_page_names_only_the_new_builds_assets() {
    let (site, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pkg = site.path().join("pkg");
    build(&pkg, "v1");
    let page = "/?unit=49&from=2021-01-01&to=2021-03-31";
    let old_server = server_on(site.path(), data.path());
    let (_, _, body) = get(&old_server, page, None).await;
    let old = named_assets(&String::from_utf8(body).unwrap());

    // The code changes, the site is built again, a new server starts on it.
    build(&pkg, "v2");
    drop(old_server);
    let new_data = tempfile::tempdir().unwrap();
    let new_server = server_on(site.path(), new_data.path());
    let (_, _, body) = get(&new_server, page, None).await;
    let new = named_assets(&String::from_utf8(body).unwrap());
    assert_eq!(new.len(), 3);
    for name in &new {
        assert!(!old.contains(name), "{name} was the old build's too");
        let (status, _, body) = get(&new_server, &format!("/pkg/{name}"), None).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(
            String::from_utf8_lossy(&body).contains("v2"),
            "{name} holds the new build"
        );
    }
    // The old build's hashed files are gone: nothing can pair them with new pages.
    for name in &old {
        assert!(!pkg.join(name).exists(), "{name} is left over");
    }
}
