//! Headline figures for the current selection, each with the definition it uses.
use crate::format;
use crate::i18n::{text, Key, Lang};
use crate::model::IndicatorRow;
use leptos::prelude::*;

/// Renders a figure in a language.
type FigureText = Box<dyn Fn(Lang) -> String + Send + Sync>;

#[component]
pub fn Headline(
    current: IndicatorRow,
    previous: IndicatorRow,
    year_earlier: IndicatorRow,
    lang: Signal<Lang>,
) -> impl IntoView {
    let change = current
        .on_time_rate
        .zip(previous.on_time_rate)
        .map(|(a, b)| a - b);
    let yearly = current
        .on_time_rate
        .zip(year_earlier.on_time_rate)
        .map(|(a, b)| a - b);
    let c = current.clone();
    // Each card: its id in the page (`data-figure`), its label, its definition and its figure.
    let cards: Vec<(&'static str, Key, Key, FigureText)> = vec![
        (
            "Received",
            Key::Received,
            Key::DefinitionReceived,
            Box::new(move |l| format::count(l, current.received)),
        ),
        (
            "Resolved",
            Key::Resolved,
            Key::DefinitionResolved,
            Box::new(move |l| format::count(l, c.resolved)),
        ),
        ("OnTimeRate", Key::OnTimeRate, Key::DefinitionOnTimeRate, {
            let r = c.on_time_rate;
            Box::new(move |l| format::rate(l, r))
        }),
        (
            "PendingOverdue",
            Key::PendingOverdue,
            Key::DefinitionPendingOverdue,
            {
                let n = c.pending_overdue;
                Box::new(move |l| format::count(l, n))
            },
        ),
        ("OnlineRate", Key::OnlineRate, Key::DefinitionOnlineRate, {
            let r = c.online_rate;
            Box::new(move |l| format::rate(l, r))
        }),
    ];
    view! {
        <section class="headline">
            {cards
                .into_iter()
                .map(|(id, label, definition, value)| {
                    let is_rate = label == Key::OnTimeRate;
                    view! {
                        <article class="card" data-figure=id>
                            <h3>{text(lang, label)}</h3>
                            <p class="figure">{move || value(lang.get())}</p>
                            {is_rate
                                .then(|| {
                                    view! {
                                        <p class="delta" data-against="previous" class:down=change.is_some_and(|d| d < 0.0)>
                                            {move || format::rate_change(lang.get(), change)} " "
                                            {text(lang, Key::PercentPoints)} " "
                                            {text(lang, Key::VsPrevious)}
                                        </p>
                                        <p class="delta" data-against="year" class:down=yearly.is_some_and(|d| d < 0.0)>
                                            {move || format::rate_change(lang.get(), yearly)} " "
                                            {text(lang, Key::PercentPoints)} " "
                                            {text(lang, Key::VsYearEarlier)}
                                        </p>
                                    }
                                })}
                            <details>
                                <summary>{text(lang, Key::HowComputed)}</summary>
                                <p>{text(lang, definition)}</p>
                            </details>
                        </article>
                    }
                })
                .collect_view()}
        </section>
    }
}
