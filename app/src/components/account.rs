//! The signed-in viewer in the page chrome: the sign-in link or the name with a sign-out
//! button, and links to the late-dossier drill-down for those who may follow them.
use crate::access::{fetch_viewer, Viewer};
use crate::i18n::{text, tr, Key, Lang};
use crate::model::{encode_component, Period};
use leptos::prelude::*;

/// The viewer, known only in the browser after hydration: server-rendered pages are the same
/// for everybody (and never carry a name), so hydration never meets a mismatch.
#[derive(Clone, Copy)]
pub struct ViewerSignal(pub ReadSignal<Option<Viewer>>);

/// Asks the server who is signed in, once per page load, and shares the answer.
pub fn provide_viewer() {
    let (viewer, set_viewer) = signal(None::<Viewer>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(v) = fetch_viewer().await {
                set_viewer.set(Some(v));
            }
        });
    });
    provide_context(ViewerSignal(viewer));
}

fn viewer() -> ReadSignal<Option<Viewer>> {
    use_context::<ViewerSignal>()
        .map(|v| v.0)
        .unwrap_or_else(|| signal(None).0)
}

/// Whether the signed-in viewer is an administrator (known only after hydration, so the
/// server-rendered page is the same for everybody).
pub fn viewer_is_admin() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let viewer = viewer();
    move || viewer.with(|v| v.as_ref().and_then(|v| v.role.as_deref()) == Some("admin"))
}

/// "Sign in", or the viewer's name and "Sign out".
#[component]
pub fn AccountArea(lang: Signal<Lang>) -> impl IntoView {
    let viewer = viewer();
    let signed_in = move || viewer.with(|v| v.as_ref().and_then(|v| v.username.clone()));
    let unread = move || viewer.with(|v| v.as_ref().and_then(|v| v.unread_alerts));
    view! {
        <div class="account">
            {move || unread().map(|n| view! {
                <a class="alerts-link" rel="external" href=move || format!("/alerts?lang={}", lang.get().code())>
                    {text(lang, Key::Alerts)}
                    {(n > 0).then(|| view! { " " <span class="badge" aria-label=move || format!("{n} {}", tr(lang.get(), Key::Unread))>{n}</span> })}
                </a>
            })}
            {move || match signed_in() {
                Some(name) => view! {
                    <form method="post" action="/signout" class="signout">
                        <span class="viewer">{text(lang, Key::SignedInAs)} ": " <strong>{name}</strong></span>
                        " "
                        <button type="submit">{text(lang, Key::SignOut)}</button>
                    </form>
                }
                .into_any(),
                None => view! {
                    <a class="signin-link" rel="external" href=move || format!("/signin?lang={}", lang.get().code())>
                        {text(lang, Key::SignIn)}
                    </a>
                }
                .into_any(),
            }}
        </div>
    }
}

/// The drill-down's address for a unit and period.
pub fn late_href(unit: &str, period: Period, units: Option<&str>, lang: Lang) -> String {
    format!(
        "/late?unit={}&from={}&to={}{}&lang={}",
        encode_component(unit),
        period.from,
        period.to,
        units
            .map(|u| format!("&units={}", encode_component(u)))
            .unwrap_or_default(),
        lang.code()
    )
}

/// A link to a unit's late dossiers, shown only to viewers who read dossier-level data.
#[component]
pub fn LateLink(unit: String, period: Period, lang: Signal<Lang>) -> impl IntoView {
    let viewer = viewer();
    let allowed = move || viewer.with(|v| v.as_ref().is_some_and(Viewer::reads_dossiers));
    let unit = StoredValue::new(unit);
    // The view's units (today's, or those of the period's time) name the same unit in the list.
    let query = crate::nav::use_query_map();
    move || {
        allowed().then(|| {
            view! {
                <a class="late-link" rel="external" href=move || late_href(&unit.get_value(), period, query.with(|q| q.get("units")).as_deref(), lang.get())>
                    {text(lang, Key::LateDossiers)}
                </a>
            }
        })
    }
}
