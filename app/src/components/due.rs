//! The due-soon tab of the late page: a unit's open dossiers falling due within a few working
//! days, soonest first, so the office can finish them in time. Every state is in the URL
//! (`/late?tab=due&unit=…&within=…`).
use crate::access::fetch_due;
use crate::components::late::{refused, stage_key};
use crate::components::loaded::PartOwner;
use crate::due::{DuePage, DueQuery, DueSort, DEFAULT_WITHIN, MAX_WITHIN};
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::late::DEFAULT_PAGE_SIZE;
use crate::model::encode_component;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The choices of the "within" menu, in working days.
const WITHIN_CHOICES: [u32; 5] = [0, 1, 3, 5, 10];

/// The due-soon query a URL describes; `None` unless it asks for the tab and names a unit.
pub fn due_query(q: &ParamsMap) -> Option<DueQuery> {
    if q.get("tab").as_deref() != Some("due") {
        return None;
    }
    Some(DueQuery {
        unit: q.get("unit").filter(|u| !u.is_empty())?,
        within: q
            .get("within")
            .and_then(|w| w.parse().ok())
            .filter(|w| *w <= MAX_WITHIN)
            .unwrap_or(DEFAULT_WITHIN),
        field: q.get("field").filter(|v| !v.is_empty()),
        procedure: q.get("procedure").filter(|v| !v.is_empty()),
        agency: q.get("agency").filter(|v| !v.is_empty()),
        sort: q
            .get("sort")
            .and_then(|s| DueSort::parse(&s))
            .unwrap_or_default(),
        descending: q.get("order").as_deref() == Some("desc"),
        page: q
            .get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
        page_size: DEFAULT_PAGE_SIZE,
    })
}

/// The pairs of `query`'s URL, without the language.
fn pairs(query: &DueQuery) -> Vec<(&'static str, String)> {
    let mut pairs = vec![("unit", query.unit.clone())];
    if query.within != DEFAULT_WITHIN {
        pairs.push(("within", query.within.to_string()));
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
    if query.sort != DueSort::Due {
        pairs.push(("sort", query.sort.as_str().into()));
    }
    if query.descending {
        pairs.push(("order", "desc".into()));
    }
    if query.page > 1 {
        pairs.push(("page", query.page.to_string()));
    }
    pairs
}

fn encoded(pairs: Vec<(&'static str, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode_component(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The URL of the tab showing `query`.
pub fn due_url(query: &DueQuery, lang: Lang) -> String {
    let mut all = vec![("tab", "due".to_string())];
    all.extend(pairs(query));
    all.push(("lang", lang.code().into()));
    format!("/late?{}", encoded(all))
}

/// The CSV export of every row of the query (same filters and order, no pages).
fn csv_url(query: &DueQuery) -> String {
    let mut all = query.clone();
    all.page = 1;
    let mut pairs = pairs(&all);
    pairs.push(("format", "csv".into()));
    format!("/api/v1/due?{}", encoded(pairs))
}

const COLUMNS: [(Option<DueSort>, Key); 8] = [
    (Some(DueSort::DossierId), Key::DossierId),
    (Some(DueSort::Procedure), Key::Procedure),
    (Some(DueSort::Field), Key::Sector),
    (Some(DueSort::Agency), Key::Agency),
    (Some(DueSort::Received), Key::ReceivedDate),
    (Some(DueSort::Due), Key::DueDate),
    (None, Key::WorkingDaysLeft),
    (None, Key::Stage),
];

#[component]
pub fn DueSoonPanel(query: Memo<Option<DueQuery>>, lang: Signal<Lang>) -> impl IntoView {
    let page = crate::codec::load(
        move || query.get(),
        |q| async move {
            match q {
                Some(q) => fetch_due(q).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let owner = PartOwner::here();
    view! {
        <DueFilters query lang/>
        <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
            {move || { let owner = owner.clone(); Suspend::new(async move {
                match page.await {
                    Ok(Some(p)) => owner.part(|| view! { <DueTable page=p lang/> }).into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => {
                        let next = query
                            .get_untracked()
                            .map(|q| due_url(&q, lang.get_untracked()))
                            .unwrap_or_else(|| "/late?tab=due".into());
                        refused(e, lang, next)
                    }
                }
            }) }}
        </Transition>
    }
}

/// A GET form: applying it is following a link, so filters are shareable and back works.
#[component]
fn DueFilters(query: Memo<Option<DueQuery>>, lang: Signal<Lang>) -> impl IntoView {
    let value = move |f: fn(&DueQuery) -> String| {
        move || query.with(|q| q.as_ref().map(f).unwrap_or_default())
    };
    let within = move || query.with(|q| q.as_ref().map_or(DEFAULT_WITHIN, |q| q.within));
    view! {
        <form method="get" action="/late" class="late-filters filters due-filters">
            <input type="hidden" name="tab" value="due"/>
            <input type="hidden" name="unit" value=value(|q| q.unit.clone())/>
            <input type="hidden" name="lang" value=move || lang.get().code()/>
            <label>
                {text(lang, Key::WithinWorkingDays)}
                <select name="within">
                    {move || {
                        // The URL may ask for any number up to 60: it is offered too, so that
                        // applying other filters keeps it.
                        let asked = within();
                        let mut choices = WITHIN_CHOICES.to_vec();
                        if !choices.contains(&asked) {
                            choices.push(asked);
                            choices.sort_unstable();
                        }
                        choices
                            .into_iter()
                            .map(|n| view! { <option value=n.to_string() selected=n == asked>{n}</option> })
                            .collect_view()
                    }}
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
fn DueTable(page: DuePage, lang: Signal<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let query = page.query.clone();
    let pages = page
        .total
        .div_ceil(u64::from(query.page_size.max(1)))
        .max(1);
    let header = {
        let query = query.clone();
        move |column: Option<DueSort>, key: Key| match column {
            Some(column) => {
                let mut next = query.clone();
                next.descending = query.sort == column && !query.descending;
                next.sort = column;
                next.page = 1;
                let aria = (query.sort == column).then_some(if query.descending {
                    "descending"
                } else {
                    "ascending"
                });
                view! { <th scope="col" aria-sort=aria><a href=due_url(&next, l)>{tr(l, key)}</a></th> }
                    .into_any()
            }
            None => view! { <th scope="col">{tr(l, key)}</th> }.into_any(),
        }
    };
    let page_link = {
        let query = query.clone();
        move |number: u32, key: Key| {
            let mut next = query.clone();
            next.page = number;
            view! { <a class="page-step" href=due_url(&next, l)>{tr(l, key)}</a> }
        }
    };
    let rows = page.rows.clone();
    let empty = rows.is_empty();
    view! {
        <p class="late-summary due-summary">
            <strong>{format::count(l, page.total)}</strong> " " {text(lang, Key::Dossiers)} ", "
            {text(lang, Key::DueThrough)} " "
            <time datetime=page.until.to_string()>{format::date(l, page.until)}</time> " "
            <a class="export-csv" href=csv_url(&query) download="">{text(lang, Key::ExportCsv)}</a>
        </p>
        {empty.then(|| view! { <p class="empty">{text(lang, Key::NoDueDossiers)}</p> })}
        <div class="table-scroll">
            <table class="late-table due-table">
                <thead>
                    <tr>{COLUMNS.map(|(column, key)| header(column, key)).into_iter().collect_view()}</tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr data-dossier=r.dossier_id.clone()>
                                <td>{r.dossier_id.clone()}</td>
                                <td title=r.procedure.clone()>{r.procedure_name.clone()}</td>
                                <td>{r.field.clone()}</td>
                                <td>{r.agency.clone().unwrap_or_default()}</td>
                                <td>{format::date(l, r.received)}</td>
                                <td>{format::date(l, r.due)}</td>
                                <td class="number working-days-left">{r.working_days_left}</td>
                                <td>{tr(l, stage_key(r.stage))}</td>
                            </tr>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_url_opens_the_same_query() {
        let mut params = ParamsMap::new();
        for (k, v) in [
            ("tab", "due"),
            ("unit", "20194"),
            ("within", "5"),
            ("field", "Đất đai"),
            ("sort", "received"),
            ("order", "desc"),
            ("page", "2"),
        ] {
            params.insert(k, v.to_string());
        }
        let q = due_query(&params).unwrap();
        assert_eq!(
            (q.within, q.sort, q.descending, q.page),
            (5, DueSort::Received, true, 2)
        );
        let url = due_url(&q, Lang::En);
        assert!(
            url.starts_with("/late?tab=due&unit=20194&within=5&field=%C4%90"),
            "{url}"
        );
        assert!(
            url.ends_with("&sort=received&order=desc&page=2&lang=en"),
            "{url}"
        );
        assert!(csv_url(&q).starts_with("/api/v1/due?unit=20194&within=5&"));
        assert!(
            csv_url(&q).ends_with("&order=desc&format=csv"),
            "{}",
            csv_url(&q)
        );
        params.insert("tab", "late".to_string());
        assert!(due_query(&params).is_none(), "only the due tab");
    }
}
