//! The page's address: its path, its query as a signal, and moving between the views of one
//! page without reloading it.
//!
//! Every view is a URL. A link or `navigate` to another view of the same page adds a history
//! entry and changes the query signal, which the page's resources follow; the back button walks
//! back through the entries. Links to other pages load them whole. This replaces leptos_router's
//! client half, which was a tenth of the dashboard's WASM for the two things the pages use.
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// How a navigation treats the scroll position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NavigateOptions {
    /// Scroll to the top of the page (as following a link does).
    pub scroll: bool,
}

impl Default for NavigateOptions {
    fn default() -> Self {
        NavigateOptions { scroll: true }
    }
}

#[derive(Clone, Copy)]
struct PageQuery {
    set: RwSignal<ParamsMap>,
    current: Memo<ParamsMap>,
}

/// The parameters of a query string (with or without its `?`), decoded as browsers and
/// servers decode forms (`+` is a space).
pub fn parse_query(search: &str) -> ParamsMap {
    form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Reads the address (the request's on the server, the window's in the browser) and provides its
/// query to the page. Returns the path.
pub fn provide_page_url() -> String {
    let (path, search) = address();
    let set = RwSignal::new(parse_query(&search));
    let current = Memo::new(move |_| set.get());
    provide_context(PageQuery { set, current });
    path
}

/// In the browser, shows another view of this page in place when a link or the back button asks
/// for one (instead of loading the page again).
pub fn follow_links_and_history() {
    #[cfg(target_arch = "wasm32")]
    browser::follow_links_and_history(expect_context::<PageQuery>().set);
}

/// The query of the page's address, as it changes.
pub fn use_query_map() -> Memo<ParamsMap> {
    expect_context::<PageQuery>().current
}

/// Goes to `href`: another view of this page in place, any other page by loading it.
pub fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone + Send + Sync + 'static {
    let query = expect_context::<PageQuery>().set;
    move |href: &str, options: NavigateOptions| {
        #[cfg(target_arch = "wasm32")]
        browser::go(query, href, options);
        // Navigation happens in event handlers, which the server never runs.
        #[cfg(not(target_arch = "wasm32"))]
        let _ = (query, href, options);
    }
}

#[cfg(feature = "ssr")]
fn address() -> (String, String) {
    use_context::<axum::http::request::Parts>().map_or_else(
        || ("/".to_string(), String::new()),
        |parts| {
            (
                parts.uri.path().to_string(),
                parts.uri.query().unwrap_or_default().to_string(),
            )
        },
    )
}

#[cfg(not(feature = "ssr"))]
fn address() -> (String, String) {
    let location = window().location();
    (
        location.pathname().unwrap_or_else(|_| "/".to_string()),
        location.search().unwrap_or_default(),
    )
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{parse_query, NavigateOptions};
    use leptos::prelude::*;
    use leptos_router::params::ParamsMap;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};

    /// `href` resolved against the page, when it is another view of this page.
    fn same_page(href: &str) -> Option<web_sys::Url> {
        let location = window().location();
        let url = web_sys::Url::new_with_base(href, &location.href().ok()?).ok()?;
        (url.origin() == location.origin().ok()? && url.pathname() == location.pathname().ok()?)
            .then_some(url)
    }

    pub fn go(query: RwSignal<ParamsMap>, href: &str, options: NavigateOptions) {
        let window = window();
        if let Some(url) = same_page(href) {
            let pushed = window.history().and_then(|history| {
                history.push_state_with_url(&JsValue::NULL, "", Some(&url.href()))
            });
            if pushed.is_ok() {
                query.set(parse_query(&url.search()));
                if options.scroll {
                    window.scroll_to_with_x_and_y(0.0, 0.0);
                }
                return;
            }
        }
        // Another page, or no history to add to: the browser loads it.
        if let Err(e) = window.location().set_href(href) {
            leptos::logging::error!("cannot open {href}: {e:?}");
        }
    }

    /// A plain left click on a link to another view of this page, which the page handles
    /// itself; links that leave the page, open elsewhere or download are the browser's.
    fn view_link(ev: &web_sys::MouseEvent) -> Option<String> {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return None;
        }
        let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
        let anchor: web_sys::HtmlAnchorElement =
            target.closest("a[href]").ok()??.dyn_into().ok()?;
        let leaves = anchor.has_attribute("download")
            || !matches!(anchor.target().as_str(), "" | "_self")
            || anchor.rel().split_whitespace().any(|r| r == "external");
        if leaves {
            return None;
        }
        let href = anchor.href();
        same_page(&href).map(|_| href)
    }

    pub fn follow_links_and_history(query: RwSignal<ParamsMap>) {
        let on_click =
            Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
                if let Some(href) = view_link(&ev) {
                    ev.prevent_default();
                    go(query, &href, NavigateOptions::default());
                }
            });
        let on_history = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            query.set(parse_query(
                &window().location().search().unwrap_or_default(),
            ));
        });
        let listening = document()
            .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref())
            .and_then(|()| {
                window().add_event_listener_with_callback(
                    "popstate",
                    on_history.as_ref().unchecked_ref(),
                )
            });
        if let Err(e) = listening {
            leptos::logging::error!("cannot follow links in the page: {e:?}");
        }
        // The listeners live as long as the page.
        on_click.forget();
        on_history.forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_reads_back_what_links_write() {
        let mut q = ParamsMap::new();
        q.insert("field", "Đất đai + nhà ở".to_string());
        q.insert("unit", "80".to_string());
        q.insert("note", "a&b=c?d".to_string());
        let written = q.to_query_string();
        let read = parse_query(&written);
        assert_eq!(read.get("field").as_deref(), Some("Đất đai + nhà ở"));
        assert_eq!(read.get("note").as_deref(), Some("a&b=c?d"));
        assert_eq!(read.to_query_string(), written);
        assert_eq!(parse_query("").to_query_string(), "");
        // A form's `+` is a space.
        assert_eq!(
            parse_query("?field=L%C3%BD+l%E1%BB%8Bch")
                .get("field")
                .as_deref(),
            Some("Lý lịch")
        );
    }
}
