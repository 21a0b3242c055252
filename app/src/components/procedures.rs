//! The procedures view: the catalogue by sector with each procedure's online level and its
//! volume, on-time and online rates for the selection.
use crate::api::fetch_procedures;
use crate::components::dashboard::{selection_request, url_lang, Page, TopBar};
use crate::components::loaded::PartOwner;
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::nav::use_query_map;
use crate::selection::{share_offered_online, OnlineLevel, ProcedureRow};
use crate::views::ProceduresView;
use leptos::prelude::*;
use std::cmp::Ordering;

#[component]
pub fn ProceduresPage() -> impl IntoView {
    let query = use_query_map();
    let lang = url_lang(query);
    let request = Memo::new(move |_| query.with(selection_request));
    let procedures = crate::codec::load(move || request.get(), fetch_procedures);
    let owner = PartOwner::here();
    view! {
        <TopBar lang current=Page::Procedures/>
        <main class="dashboard procedures-page">
            <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| {
                    view! {
                        <div class="error" role="alert">
                            <h2>{tr(lang.get_untracked(), Key::LoadFailed)}</h2>
                            <p>{move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")}</p>
                        </div>
                    }
                }>
                    {move || {
                        let owner = owner.clone();
                        Suspend::new(async move {
                            procedures.await.map(|view| owner.part(|| view! { <ProceduresBody view lang=lang.into()/> }))
                        })
                    }}
                </ErrorBoundary>
            </Transition>
        </main>
        <footer class="source">{text(lang.into(), Key::Source)}</footer>
    }
}

fn level_key(level: Option<OnlineLevel>) -> Key {
    match level {
        Some(OnlineLevel::Full) => Key::OnlineFull,
        Some(OnlineLevel::Partial) => Key::OnlinePartial,
        Some(OnlineLevel::None) => Key::OnlineNone,
        None => Key::NotCatalogued,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Sector,
    Procedure,
    OnlineLevel,
    Received,
    Resolved,
    Late,
    OnTimeRate,
    OnlineRate,
}

impl Column {
    const ALL: [Column; 8] = [
        Column::Sector,
        Column::Procedure,
        Column::OnlineLevel,
        Column::Received,
        Column::Resolved,
        Column::Late,
        Column::OnTimeRate,
        Column::OnlineRate,
    ];

    fn label(self) -> Key {
        match self {
            Column::Sector => Key::Sector,
            Column::Procedure => Key::Procedure,
            Column::OnlineLevel => Key::OnlineLevel,
            Column::Received => Key::Received,
            Column::Resolved => Key::Resolved,
            Column::Late => Key::ResolvedLate,
            Column::OnTimeRate => Key::OnTimeRate,
            Column::OnlineRate => Key::OnlineRate,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Column::Sector => "sector",
            Column::Procedure => "procedure",
            Column::OnlineLevel => "online_level",
            Column::Received => "received",
            Column::Resolved => "resolved",
            Column::Late => "late",
            Column::OnTimeRate => "on_time_rate",
            Column::OnlineRate => "online_rate",
        }
    }
}

fn by_rate(a: Option<f64>, b: Option<f64>) -> Ordering {
    // Procedures without a rate sort after every rate, whichever the direction asked.
    match (a, b) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(column: Column, a: &ProcedureRow, b: &ProcedureRow) -> Ordering {
    let level = |p: &ProcedureRow| match p.online_level {
        Some(OnlineLevel::Full) => 0,
        Some(OnlineLevel::Partial) => 1,
        Some(OnlineLevel::None) => 2,
        None => 3,
    };
    match column {
        Column::Sector => a.field.cmp(&b.field).then_with(|| a.code.cmp(&b.code)),
        Column::Procedure => a.name.cmp(&b.name),
        Column::OnlineLevel => level(a).cmp(&level(b)),
        Column::Received => a.received.cmp(&b.received),
        Column::Resolved => a.resolved.cmp(&b.resolved),
        Column::Late => a.resolved_late.cmp(&b.resolved_late),
        Column::OnTimeRate => by_rate(a.on_time_rate(), b.on_time_rate()),
        Column::OnlineRate => by_rate(a.online_rate(), b.online_rate()),
    }
}

#[component]
fn ProceduresBody(view: ProceduresView, lang: Signal<Lang>) -> impl IntoView {
    let share = share_offered_online(&view.procedures);
    let period = view.period;
    let scope = view.scope.as_ref().map(|u| u.name.clone());
    let rows = StoredValue::new(view.procedures);
    let sort = RwSignal::new((Column::Sector, false));
    let ordered = move || {
        let (column, descending) = sort.get();
        let mut rows = rows.get_value();
        rows.sort_by(|a, b| {
            let o = compare(column, a, b);
            if descending {
                o.reverse()
            } else {
                o
            }
        });
        rows
    };
    let header = move |column: Column| {
        let aria_sort = move || match sort.get() {
            (c, false) if c == column => "ascending",
            (c, true) if c == column => "descending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <button
                    type="button"
                    class="sort"
                    data-column=column.id()
                    on:click=move |_| {
                        sort.update(|(c, desc)| {
                            if *c == column {
                                *desc = !*desc;
                            } else {
                                *c = column;
                                *desc = matches!(column, Column::Received | Column::Resolved | Column::Late);
                            }
                        })
                    }
                >
                    {move || tr(lang.get(), column.label())}
                </button>
            </th>
        }
    };
    view! {
        <section class="scope">
            <h2>
                {text(lang, Key::Procedures)} " – "
                {scope.clone().unwrap_or_else(|| tr(lang.get_untracked(), Key::Country).to_string())}
            </h2>
            <p class="period">
                {text(lang, Key::Period)} ": "
                <time datetime=period.from.to_string()>{move || format::date(lang.get(), period.from)}</time>
                " – "
                <time datetime=period.to.to_string()>{move || format::date(lang.get(), period.to)}</time>
            </p>
        </section>
        <section class="headline">
            <article class="card" data-figure="ShareOnline">
                <h3>{text(lang, Key::ShareOnline)}</h3>
                <p class="figure">{move || format::rate(lang.get(), share)}</p>
                <details>
                    <summary>{text(lang, Key::HowComputed)}</summary>
                    <p>{text(lang, Key::DefinitionShareOnline)}</p>
                </details>
            </article>
        </section>
        <section class="ranking">
            <p class="note">{text(lang, Key::ProceduresHint)}</p>
            <div class="table-scroll">
                <table class="procedures-table">
                    <thead>
                        <tr>{Column::ALL.into_iter().map(header).collect_view()}</tr>
                    </thead>
                    <tbody>
                        <For each=ordered key=|p| p.code.clone() let(p)>
                            <ProcedureLine p lang/>
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn ProcedureLine(p: ProcedureRow, lang: Signal<Lang>) -> impl IntoView {
    let (received, resolved, late) = (p.received, p.resolved, p.resolved_late);
    let (on_time, online) = (p.on_time_rate(), p.online_rate());
    let level = p.online_level;
    view! {
        <tr data-procedure=p.code.clone() class:below-threshold=on_time.is_some_and(|r| r < crate::indicators::ACTION_THRESHOLD)>
            <td>{p.field.clone()}</td>
            <th scope="row">{p.name.clone()} " " <span class="code">{p.code.clone()}</span></th>
            <td data-level=level.map(|l| format!("{l:?}").to_ascii_lowercase())>{move || tr(lang.get(), level_key(level))}</td>
            <td class="num">{move || format::count(lang.get(), received)}</td>
            <td class="num">{move || format::count(lang.get(), resolved)}</td>
            <td class="num">{move || format::count(lang.get(), late)}</td>
            <td class="num">{move || format::rate(lang.get(), on_time)}</td>
            <td class="num">{move || format::rate(lang.get(), online)}</td>
        </tr>
    }
}
