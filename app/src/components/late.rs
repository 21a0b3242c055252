//! The late-dossier drill-down: a unit's dossiers resolved late or still open past due, with
//! filters, sorting, pages, a CSV export and each dossier's timeline. Every state is in the URL.
use crate::access::{fetch_late, fetch_timeline};
use crate::components::dashboard::{url_lang, Page, TopBar};
use crate::components::loaded::PartOwner;
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::late::{
    DossierTimeline, LateKind, LatePage, LateQuery, LateSort, Stage, DEFAULT_PAGE_SIZE,
};
use crate::model::encode_component;
use crate::nav::use_query_map;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The query a URL describes; `None` until a unit and a period are given.
pub fn late_query(q: &ParamsMap) -> Option<LateQuery> {
    Some(LateQuery {
        unit: q.get("unit").filter(|u| !u.is_empty())?,
        from: crate::iso::parse_date(&q.get("from")?)?,
        to: crate::iso::parse_date(&q.get("to")?)?,
        kind: q
            .get("kind")
            .and_then(|k| LateKind::parse(&k))
            .unwrap_or_default(),
        field: q.get("field").filter(|v| !v.is_empty()),
        procedure: q.get("procedure").filter(|v| !v.is_empty()),
        agency: q.get("agency").filter(|v| !v.is_empty()),
        sort: q
            .get("sort")
            .and_then(|s| LateSort::parse(&s))
            .unwrap_or_default(),
        descending: q.get("order").as_deref() != Some("asc"),
        units: q
            .get("units")
            .and_then(|u| u.parse().ok())
            .unwrap_or_default(),
        page: q
            .get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
        page_size: DEFAULT_PAGE_SIZE,
    })
}

/// The URL of `query` (with the language and an open timeline).
pub fn late_url(query: &LateQuery, lang: Lang, dossier: Option<&str>) -> String {
    let mut pairs = vec![
        ("unit", query.unit.clone()),
        ("from", query.from.to_string()),
        ("to", query.to.to_string()),
    ];
    if query.kind != LateKind::All {
        pairs.push(("kind", query.kind.as_str().into()));
    }
    if query.units != crate::era::UnitsView::Auto {
        pairs.push(("units", query.units.as_str().into()));
    }
    for (k, v) in [
        ("field", &query.field),
        ("procedure", &query.procedure),
        ("agency", &query.agency),
    ] {
        if let Some(v) = v {
            pairs.push((k, v.clone()));
        }
    }
    if query.sort != LateSort::DaysOverdue {
        pairs.push(("sort", query.sort.as_str().into()));
    }
    if !query.descending {
        pairs.push(("order", "asc".into()));
    }
    if query.page > 1 {
        pairs.push(("page", query.page.to_string()));
    }
    if let Some(d) = dossier {
        pairs.push(("dossier", d.to_string()));
    }
    pairs.push(("lang", lang.code().into()));
    let encoded: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode_component(&v)))
        .collect();
    format!("/late?{}", encoded.join("&"))
}

/// The CSV export of every row of the query (same filters and order, no pages).
fn csv_url(query: &LateQuery) -> String {
    let mut all = query.clone();
    all.page = 1;
    let url = late_url(&all, Lang::Vi, None);
    let url = url.trim_end_matches("&lang=vi");
    format!("{}&format=csv", url.replacen("/late?", "/api/v1/late?", 1))
}

pub(crate) fn stage_key(stage: Stage) -> Key {
    match stage {
        Stage::Processing => Key::StageProcessing,
        Stage::DueChanged => Key::StageDueChanged,
        Stage::Resolved => Key::StageResolved,
        Stage::Withdrawn => Key::StageWithdrawn,
    }
}

const COLUMNS: [(LateSort, Key); 9] = [
    (LateSort::DossierId, Key::DossierId),
    (LateSort::Procedure, Key::Procedure),
    (LateSort::Field, Key::Sector),
    (LateSort::Agency, Key::Agency),
    (LateSort::Received, Key::ReceivedDate),
    (LateSort::Due, Key::DueDate),
    (LateSort::Resolved, Key::ResolvedDate),
    (LateSort::DaysOverdue, Key::DaysOverdue),
    (LateSort::Stage, Key::Stage),
];

#[component]
pub fn LateDossiersPage() -> impl IntoView {
    let params = use_query_map();
    let lang = url_lang(params);
    let lang_signal: Signal<Lang> = lang.into();
    let query = Memo::new(move |_| params.with(late_query));
    let due = Memo::new(move |_| params.with(crate::components::due::due_query));
    let due_tab = Memo::new(move |_| params.with(|p| p.get("tab").as_deref() == Some("due")));
    let dossier = Memo::new(move |_| params.with(|p| p.get("dossier")));
    let page = crate::codec::load(
        move || if due_tab.get() { None } else { query.get() },
        |q| async move {
            match q {
                Some(q) => fetch_late(q).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // The two tabs keep every other parameter: back on the late list, its period is still there.
    let tab_href = move |due: bool| {
        params.with(|p| {
            let mut p = p.clone();
            p.remove("tab");
            p.remove("page");
            p.remove("sort");
            p.remove("order");
            if due {
                p.insert("tab", "due".to_string());
                // The due list is of today's units: a unit of a pre-reform late list is another
                // unit today (codes were reused), so it is not carried over.
                let historical = p.get("units").as_deref() == Some("historical")
                    || p.get("to")
                        .and_then(|t| crate::iso::parse_date(&t))
                        .is_some_and(|to| to < crate::era::REFORM_DATE);
                if historical {
                    p.remove("unit");
                }
            }
            format!("/late{}", p.to_query_string())
        })
    };
    view! {
        <TopBar lang current=Page::Late/>
        <main class="late-page">
            <h2>
                {move || tr(lang.get(), if due_tab.get() { Key::DueSoon } else { Key::LateDossiers })}
                {move || params.with(|p| p.get("unit")).map(|u| format!(" · {u}"))}
            </h2>
            <nav class="late-tabs" aria-label=text(lang_signal, Key::LateDossiers)>
                <a href=move || tab_href(false) aria-current=move || (!due_tab.get()).then_some("page")>
                    {text(lang_signal, Key::LateDossiers)}
                </a>
                <a href=move || tab_href(true) aria-current=move || due_tab.get().then_some("page")>
                    {text(lang_signal, Key::DueSoon)}
                </a>
            </nav>
            <Show
                when=move || due_tab.get()
                fallback=move || { let owner = PartOwner::here(); view! {
                    <LateFilters query lang=lang_signal/>
                    <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                        {move || { let owner = owner.clone(); Suspend::new(async move {
                            match page.await {
                                Ok(Some(p)) => owner.part(|| view! { <LateTable page=p lang=lang_signal dossier/> }).into_any(),
                                Ok(None) => ().into_any(),
                                Err(e) => {
                                    let next = params.with_untracked(|p| {
                                        query.get_untracked().map(|q| late_url(&q, lang.get_untracked(), None)).unwrap_or_else(|| {
                                            format!("/late{}", p.to_query_string())
                                        })
                                    });
                                    refused(e, lang_signal, next)
                                }
                            }
                        }) }}
                    </Transition>
                    {move || dossier.get().map(|id| view! { <Timeline id lang=lang_signal/> })}
                } }
            >
                <crate::components::due::DueSoonPanel query=due lang=lang_signal/>
            </Show>
        </main>
        <footer class="source">{text(lang_signal, Key::Source)}</footer>
    }
}

/// Why a dossier list is not shown: sign in first (with a way back to `next`), not allowed, or
/// the error.
pub(crate) fn refused(e: crate::error::AppError, lang: Signal<Lang>, next: String) -> AnyView {
    match e.code.as_str() {
        "unauthorized" => view! {
            <p class="notice" role="alert">
                {text(lang, Key::NeedSignIn)} " "
                <a href=format!("/signin?lang={}&next={}", lang.get_untracked().code(), encode_component(&next))>
                    {text(lang, Key::SignIn)}
                </a>
            </p>
        }
        .into_any(),
        "forbidden" => view! {
            <p class="notice" role="alert">{text(lang, Key::NotAllowed)}</p>
        }
        .into_any(),
        _ => view! {
            <div class="error" role="alert">
                <h2>{text(lang, Key::LoadFailed)}</h2>
                <p>{e.to_string()}</p>
            </div>
        }
        .into_any(),
    }
}

/// A GET form: applying it is following a link, so filters are shareable and back works.
#[component]
fn LateFilters(query: Memo<Option<LateQuery>>, lang: Signal<Lang>) -> impl IntoView {
    let value = move |f: fn(&LateQuery) -> String| {
        move || query.with(|q| q.as_ref().map(f).unwrap_or_default())
    };
    let kind = move || query.with(|q| q.as_ref().map(|q| q.kind).unwrap_or_default());
    let kind_option = move |k: LateKind, key: Key| {
        view! { <option value=k.as_str() selected=move || kind() == k>{text(lang, key)}</option> }
    };
    view! {
        <form method="get" action="/late" class="late-filters filters">
            <input type="hidden" name="unit" value=value(|q| q.unit.clone())/>
            <input type="hidden" name="lang" value=move || lang.get().code()/>
            <label>{text(lang, Key::DateFrom)} <input type="date" name="from" required value=value(|q| q.from.to_string())/></label>
            <label>{text(lang, Key::DateTo)} <input type="date" name="to" required value=value(|q| q.to.to_string())/></label>
            <label>
                {text(lang, Key::Kind)}
                <select name="kind">
                    {kind_option(LateKind::All, Key::LateKindAll)}
                    {kind_option(LateKind::ResolvedLate, Key::ResolvedLate)}
                    {kind_option(LateKind::PendingOverdue, Key::PendingOverdue)}
                </select>
            </label>
            <label>{text(lang, Key::Sector)} <input type="text" name="field" value=value(|q| q.field.clone().unwrap_or_default())/></label>
            <label>{text(lang, Key::Procedure)} <input type="text" name="procedure" value=value(|q| q.procedure.clone().unwrap_or_default())/></label>
            <label>{text(lang, Key::Agency)} <input type="text" name="agency" value=value(|q| q.agency.clone().unwrap_or_default())/></label>
            <button type="submit">{text(lang, Key::Apply)}</button>
        </form>
    }
}

#[component]
fn LateTable(page: LatePage, lang: Signal<Lang>, dossier: Memo<Option<String>>) -> impl IntoView {
    let l = lang.get_untracked();
    let query = page.query.clone();
    let pages = page
        .total
        .div_ceil(u64::from(query.page_size.max(1)))
        .max(1);
    let sort_link = {
        let query = query.clone();
        move |column: LateSort, key: Key| {
            let mut next = query.clone();
            next.descending = if next.sort == column {
                !query.descending
            } else {
                true
            };
            next.sort = column;
            next.page = 1;
            let aria = (query.sort == column).then_some(if query.descending {
                "descending"
            } else {
                "ascending"
            });
            view! {
                <th scope="col" aria-sort=aria>
                    <a href=late_url(&next, l, None)>{tr(l, key)}</a>
                </th>
            }
        }
    };
    let page_link = {
        let query = query.clone();
        move |number: u32, key: Key| {
            let mut next = query.clone();
            next.page = number;
            view! { <a class="page-step" href=late_url(&next, l, None)>{tr(l, key)}</a> }
        }
    };
    let rows = page.rows.clone();
    let empty = rows.is_empty();
    let row_query = query.clone();
    view! {
        <p class="late-summary">
            <strong>{format::count(l, page.total)}</strong> " " {text(lang, Key::Dossiers)} ": "
            {format::count(l, page.resolved_late)} " " {text(lang, Key::ResolvedLate)} " · "
            {format::count(l, page.pending_overdue)} " " {text(lang, Key::PendingOverdue)} " "
            <a class="export-csv" href=csv_url(&query) download="">{text(lang, Key::ExportCsv)}</a>
        </p>
        {empty.then(|| view! { <p class="empty">{text(lang, Key::NoLateDossiers)}</p> })}
        <div class="table-scroll">
            <table class="late-table">
                <thead>
                    <tr>
                        {COLUMNS.map(|(column, key)| sort_link(column, key)).into_iter().collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let open = dossier.get_untracked().as_deref() == Some(r.dossier_id.as_str());
                            view! {
                                <tr class:open=open data-dossier=r.dossier_id.clone()>
                                    <td><a href=late_url(&row_query, l, Some(&r.dossier_id))>{r.dossier_id.clone()}</a></td>
                                    <td title=r.procedure.clone()>{r.procedure_name.clone()}</td>
                                    <td>{r.field.clone()}</td>
                                    <td>{r.agency.clone().unwrap_or_default()}</td>
                                    <td>{format::date(l, r.received)}</td>
                                    <td>{format::date(l, r.due)}</td>
                                    <td>{r.resolved.map(|d| format::date(l, d)).unwrap_or_default()}</td>
                                    <td class="number">{r.days_overdue}</td>
                                    <td>{tr(l, stage_key(r.stage))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pagination" aria-label=text(lang, Key::PageNumber)>
            {(query.page > 1).then(|| page_link(query.page - 1, Key::PreviousPage))}
            <span>{tr(l, Key::PageNumber)} " " {query.page} " / " {pages}</span>
            {(u64::from(query.page) < pages).then(|| page_link(query.page + 1, Key::NextPage))}
        </nav>
    }
}

#[component]
fn Timeline(id: String, lang: Signal<Lang>) -> impl IntoView {
    let timeline = crate::codec::load(move || id.clone(), fetch_timeline);
    view! {
        <section class="timeline" aria-label=text(lang, Key::Timeline)>
            <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match timeline.await {
                        Ok(t) => timeline_table(t, lang.get_untracked()).into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn timeline_table(t: DossierTimeline, l: Lang) -> impl IntoView {
    view! {
        <h3>{tr(l, Key::Timeline)} ": " {t.dossier_id.clone()}</h3>
        <table class="timeline-table">
            <thead>
                <tr>
                    <th scope="col">{tr(l, Key::EventAt)}</th>
                    <th scope="col">{tr(l, Key::EventKind)}</th>
                    <th scope="col">{tr(l, Key::DueDate)}</th>
                    <th scope="col">{tr(l, Key::Agency)}</th>
                </tr>
            </thead>
            <tbody>
                {t.events
                    .into_iter()
                    .map(|e| {
                        let kind = match e.event_type.as_str() {
                            "received" => tr(l, Key::ReceivedDate).to_string(),
                            "due_changed" => tr(l, Key::StageDueChanged).to_string(),
                            "resolved" => tr(l, Key::StageResolved).to_string(),
                            "withdrawn" => tr(l, Key::StageWithdrawn).to_string(),
                            other => other.to_string(),
                        };
                        view! {
                            <tr>
                                <td>{e.at.replace('T', " ")}</td>
                                <td>{kind}</td>
                                <td>{e.due.map(|d| d.replace('T', " ")).unwrap_or_default()}</td>
                                <td>{e.agency.unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_url_opens_the_same_query() {
        let q = LateQuery {
            unit: "502".into(),
            from: "2021-01-01".parse().unwrap(),
            to: "2021-03-31".parse().unwrap(),
            kind: LateKind::PendingOverdue,
            field: Some("Đất đai".into()),
            procedure: None,
            agency: Some("A&B".into()),
            sort: LateSort::Due,
            descending: false,
            page: 3,
            page_size: DEFAULT_PAGE_SIZE,
            units: Default::default(),
        };
        let url = late_url(&q, Lang::En, None);
        let params = ParamsMap::from_iter(
            url.trim_start_matches("/late?")
                .split('&')
                .map(|kv| kv.split_once('=').unwrap())
                .map(|(k, v)| (k.to_string(), decode(v))),
        );
        assert_eq!(late_query(&params), Some(q.clone()));
        let csv = csv_url(&q);
        assert!(csv.starts_with("/api/v1/late?unit=502&"), "{csv}");
        assert!(
            csv.ends_with("&format=csv") && !csv.contains("page=") && !csv.contains("lang="),
            "{csv}"
        );
    }

    fn decode(v: &str) -> String {
        let bytes = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
