//! The charts of the dashboard: trend, timeliness per unit, processing days and sectors, focused
//! on the unit selected on the map or in the ranking.
use crate::charts::{self, Pick};
use crate::components::account::LateLink;
use crate::components::chart_frame::ChartFrame;
use crate::components::loaded::PartOwner;
use crate::error::AppError;
use crate::i18n::{text, tr, Key, Lang};
use crate::model::{Bucket, IndicatorRow};
use crate::views::{SelectionRequest, SelectionView};
use leptos::prelude::*;

#[component]
pub fn ChartsSection(
    request: Memo<SelectionRequest>,
    /// The listed units, for the timeliness chart (live).
    #[prop(into)]
    units: Signal<Vec<IndicatorRow>>,
    /// The charts' figures; the page starts fetching them alongside its own (and again when live
    /// figures arrive).
    selection: crate::codec::Loaded<Result<SelectionView, AppError>>,
    lang: Signal<Lang>,
    /// The focused unit (from the URL).
    focus: Signal<Option<String>>,
    /// The sector filter (from the URL).
    sector: Signal<Option<String>>,
    /// Focus a unit (again: clear the focus).
    on_focus: Callback<String>,
    /// Filter by a sector (again: clear the filter).
    on_sector: Callback<String>,
    /// A link to the view with the trend in another bucket size.
    bucket_href: Callback<Bucket, String>,
) -> impl IntoView {
    // The charts on show stay while the next ones load (a focus, a bucket, live figures).
    let owner = PartOwner::here();
    let pick = Callback::new(move |p: Pick| match p {
        Pick::Unit(code) => on_focus.run(code),
        Pick::Sector(name) => on_sector.run(name),
    });
    let timeliness = view! {
        <ChartFrame
            name="timeliness"
            title=Key::ChartTimeliness
            lang
            draw=Callback::new(move |l| {
                let focus = focus.get();
                units.with(|u| charts::timeliness_chart(l, u, focus.as_deref()))
            })
            table=Callback::new(move |l| units.with(|u| charts::timeliness_table(l, u)))
            on_pick=pick
        />
    };
    let bucket = move || request.with(|r| r.bucket.unwrap_or(Bucket::Month));
    let bucket_link = move |b: Bucket, key: Key| {
        view! {
            <a
                href=move || bucket_href.run(b)
                class="bucket"
                class:current=move || bucket() == b
                aria-current=move || (bucket() == b).then_some("true")
            >
                {text(lang, key)}
            </a>
        }
    };
    view! {
        <section class="charts" aria-label=text(lang, Key::Charts)>
            <div class="charts-heading">
                <h2>{text(lang, Key::Charts)}</h2>
                <p class="chart-hint">{text(lang, Key::FocusHint)}</p>
            </div>
            <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| {
                    view! {
                        <p class="error" role="alert">
                            {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")}
                        </p>
                    }
                }>
                    {move || { let owner = owner.clone(); Suspend::new(async move {
                        selection
                            .await
                            .map(|view| owner.part(|| {
                                let scope_name = view.scope.as_ref().map(|u| u.name.clone());
                                let focused = focus.get_untracked().is_some();
                                let late_unit = view.scope.as_ref().map(|u| u.code.clone());
                                let period = view.period;
                                let view = StoredValue::new(view);
                                view! {
                                    <p class="focus-banner" data-focus=focus.get_untracked()>
                                        {text(lang, Key::FocusedOn)} ": "
                                        <strong>{scope_name.clone().unwrap_or_else(|| tr(lang.get_untracked(), Key::Country).to_string())}</strong>
                                        {focused.then(|| view! {
                                            " "
                                            <button type="button" class="clear-focus" on:click=move |_| {
                                                if let Some(code) = focus.get_untracked() {
                                                    on_focus.run(code);
                                                }
                                            }>{text(lang, Key::ClearFocus)}</button>
                                        })}
                                        {late_unit.map(|unit| view! { " " <LateLink unit period lang/> })}
                                    </p>
                                    <div class="chart-grid">
                                        <div class="chart-with-options">
                                            <nav class="buckets">
                                                {bucket_link(Bucket::Month, Key::ByMonth)}
                                                {bucket_link(Bucket::Week, Key::ByWeek)}
                                            </nav>
                                            <ChartFrame
                                                name="trend"
                                                title=Key::ChartTrend
                                                lang
                                                draw=Callback::new(move |l| view.with_value(|v| charts::trend_chart(l, &v.trend)))
                                                table=Callback::new(move |l| view.with_value(|v| charts::trend_table(l, &v.trend)))
                                            />
                                        </div>
                                        <ChartFrame
                                            name="days"
                                            title=Key::ChartDays
                                            lang
                                            draw=Callback::new(move |l| view.with_value(|v| charts::days_chart(l, &v.days)))
                                            table=Callback::new(move |l| view.with_value(|v| charts::days_table(l, &v.days)))
                                        />
                                        <ChartFrame
                                            name="sectors"
                                            title=Key::ChartSectors
                                            lang
                                            draw=Callback::new(move |l| {
                                                let selected = sector.get();
                                                view.with_value(|v| charts::sector_chart(l, &v.sectors, selected.as_deref()))
                                            })
                                            table=Callback::new(move |l| view.with_value(|v| charts::sector_table(l, &v.sectors)))
                                            on_pick=pick
                                        />
                                    </div>
                                }
                            }))
                    }) }}
                </ErrorBoundary>
            </Transition>
            {timeliness}
        </section>
    }
}
