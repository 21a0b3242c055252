//! Due soon on the dashboard, for a signed-in reader whose scope covers the unit shown: a
//! headline card with the count and a link to the list, and the counts the due-soon map colours
//! by. Fetched in the browser once the viewer is known, so the server-rendered page stays the
//! same for everybody and public pages never carry it.
use crate::access::{fetch_due_summary, Viewer};
use crate::components::account::ViewerSignal;
use crate::due::DueSummary;
use crate::format;
use crate::i18n::{text, Key, Lang};
use leptos::prelude::*;

/// The map indicator's value in the URL (`indicator=due_soon`).
pub const DUE_SOON: &str = "due_soon";

/// The due-soon figures of `unit` and its `listed` units once a reader is known to be signed in;
/// `None` for everybody else, and when the server says the unit is outside their scope.
pub fn due_summary(unit: Option<String>, listed: Vec<String>) -> ReadSignal<Option<DueSummary>> {
    let (summary, set_summary) = signal(None::<DueSummary>);
    let viewer = use_context::<ViewerSignal>().map(|v| v.0);
    let asked = StoredValue::new((unit, listed));
    Effect::new(move |_| {
        let reads =
            viewer.is_some_and(|v| v.with(|v| v.as_ref().is_some_and(Viewer::reads_dossiers)));
        let Some(unit) = asked.with_value(|a| a.0.clone()).filter(|_| reads) else {
            return;
        };
        let listed = asked.with_value(|a| a.1.clone());
        leptos::task::spawn_local(async move {
            if let Ok(answer) = fetch_due_summary(unit, listed).await {
                set_summary.set(answer);
            }
        });
    });
    summary
}

/// The headline card: how many open dossiers of the unit fall due within three working days.
#[component]
pub fn DueSoonCard(summary: ReadSignal<Option<DueSummary>>, lang: Signal<Lang>) -> impl IntoView {
    move || {
        summary.get().map(|s| {
            let href = format!("/late?tab=due&unit={}&lang={}", s.unit, lang.get().code());
            view! {
                <section class="headline due-soon">
                    <article class="card" data-figure="DueSoon">
                        <h3>{text(lang, Key::DueSoonCount)}</h3>
                        <p class="figure">{move || format::count(lang.get(), s.total)}</p>
                        <p class="note">
                            {text(lang, Key::DueThrough)} " "
                            <time datetime=format::date(Lang::En, s.until)>{move || format::date(lang.get(), s.until)}</time>
                        </p>
                        <a rel="external" href=href>{text(lang, Key::DueSoon)} " →"</a>
                    </article>
                </section>
            }
        })
    }
}
