//! `GET /api/v1/due`: open dossiers of a unit that fall due within a few working days (JSON or
//! CSV), so an office can finish them in time. Dossier-level data: authenticated, checked against
//! the caller's scope and audited, exactly as the late list.
use super::access::Caller;
use super::error::{ApiError, ErrorBody};
use super::late::{authorize_unit, csv_format, descending, number, text, MAX_EXPORT_ROWS};
use super::openapi::{ListFormat, SortOrder};
use super::AppState;
use app::due::{
    DuePage, DueQuery, DueSort, DueSummary, DEFAULT_WITHIN, MAX_SUMMARY_UNITS, MAX_WITHIN,
};
use app::late::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The highest page number asked for.
const MAX_PAGE: u32 = 1_000_000;

/// The parameters `/api/v1/due` reads, as the OpenAPI document lists them.
pub(crate) const KNOWN: &[&str] = &[
    "unit",
    "within",
    "field",
    "procedure",
    "agency",
    "sort",
    "order",
    "page",
    "page_size",
    "format",
];

/// Today in Vietnam (UTC+7): the day due dates are counted from.
pub fn vietnam_today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&app::indicators::vietnam_offset())
        .date_naive()
}

pub fn parse_query(params: &HashMap<String, String>) -> Result<(DueQuery, bool), ApiError> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            unknown.clone(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let unit = text(params, "unit")
        .ok_or_else(|| ApiError::bad_request("unit", "unit is required (a unit code)"))?;
    let within = match params.get("within") {
        None => DEFAULT_WITHIN,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_WITHIN)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "within",
                    format!("'{v}' is not a number of working days from 0 to {MAX_WITHIN}"),
                )
            })?,
    };
    let sort = match params.get("sort") {
        None => DueSort::Due,
        Some(s) => DueSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "sort",
                format!(
                    "'{s}': use one of {}",
                    DueSort::ALL.map(|s| s.as_str()).join(", ")
                ),
            )
        })?,
    };
    // Soonest first unless asked otherwise.
    let descending = descending(params, false)?;
    let csv = csv_format(params)?;
    let query = DueQuery {
        unit,
        within,
        field: text(params, "field"),
        procedure: text(params, "procedure"),
        agency: text(params, "agency"),
        sort,
        descending,
        page: number(params, "page", 1, MAX_PAGE)?,
        page_size: number(params, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
    };
    Ok((query, csv))
}

/// One page of the due-soon list for a caller, counted from `today`: checked, audited, read.
pub async fn due_page(
    state: &AppState,
    caller: &Caller,
    query: DueQuery,
    today: NaiveDate,
) -> Result<DuePage, ApiError> {
    caller.require_dossier_reader()?;
    // The server functions reach here with a query the browser built: the same bounds as the
    // API's parser.
    if query.page == 0
        || query.page > MAX_PAGE
        || query.page_size == 0
        || query.page_size > MAX_EXPORT_ROWS
    {
        return Err(ApiError::bad_request(
            "page_size",
            format!("pages run from 1 to {MAX_PAGE} and hold 1 to {MAX_PAGE_SIZE} rows"),
        ));
    }
    if query.within > MAX_WITHIN {
        return Err(ApiError::bad_request(
            "within",
            format!("at most {MAX_WITHIN} working days"),
        ));
    }
    // The unit is one in force today.
    let mut query = query;
    let public = query.unit.clone();
    query.unit = app::era::Era::on(today)
        .key(&public)
        .ok_or_else(|| ApiError::bad_request("unit", "'unit' is a unit code (digits)"))?;
    authorize_unit(state, caller, &query.unit).await?;
    let export = query.page_size > MAX_PAGE_SIZE;
    let target = format!(
        "unit={public} within={} today={today} page={}",
        query.within, query.page
    );
    caller.audit(
        state,
        if export { "due_export" } else { "due_list" },
        &target,
        "ok",
    )?;
    let store = state.store.clone();
    let mut page = tokio::task::spawn_blocking(move || store.due_dossiers(&query, today)).await??;
    page.query.unit = public;
    Ok(page)
}

/// The dashboard's due-soon card and map for a caller: `None` unless the caller reads dossiers
/// and `unit` (a code of today) is within their scope. Listed units not under `unit` are left out.
pub async fn due_summary(
    state: &AppState,
    caller: &Caller,
    unit: String,
    listed: Vec<String>,
    today: NaiveDate,
) -> Result<Option<DueSummary>, ApiError> {
    if !caller.principal.reads_dossiers() {
        return Ok(None);
    }
    if listed.len() > MAX_SUMMARY_UNITS {
        return Err(ApiError::bad_request(
            "listed",
            format!("at most {MAX_SUMMARY_UNITS} units"),
        ));
    }
    let era = app::era::Era::on(today);
    let key = era
        .key(&unit)
        .ok_or_else(|| ApiError::bad_request("unit", "'unit' is a unit code (digits)"))?;
    let Some(alerts) = state.alerts.clone() else {
        return Ok(None);
    };
    let store = state.store.clone();
    let place = {
        let (store, key) = (store.clone(), key.clone());
        tokio::task::spawn_blocking(move || store.unit_place(&key)).await??
    };
    match place {
        Some(place) if caller.principal.scope().covers(&place) => {}
        _ => return Ok(None),
    }
    let summary = tokio::task::spawn_blocking(move || {
        let covered = alerts.covered(store.as_ref(), &key)?;
        let listed: Vec<String> = listed
            .into_iter()
            .filter(|code| era.key(code).is_some_and(|k| covered.contains(&k)))
            .collect();
        let mut codes = vec![unit.clone()];
        codes.extend(listed.iter().cloned());
        let counts = alerts.due_soon_of(store.as_ref(), today, &codes)?;
        let until = store
            .calendar()
            .last_due_within(today, app::due::DEFAULT_WITHIN);
        Ok::<_, crate::store::StoreFailure>(DueSummary {
            unit,
            today,
            until,
            total: counts.first().copied().unwrap_or(0),
            units: listed.into_iter().zip(counts.into_iter().skip(1)).collect(),
        })
    })
    .await??;
    Ok(Some(summary))
}

/// Dossiers falling due soon in a unit (dossier-level: leaders, chairs and admins within their scope)
#[utoipa::path(
    get,
    path = "/api/v1/due",
    tag = "dossiers",
    description = "Dossiers of the unit (and every unit under it) still open now and due from \
        today (in Vietnam) within `within` working days: a due date up to the day before the \
        (within+1)th working day after today, so one on a weekend or holiday just before it \
        counts too. Working days are Monday to Friday less public holidays and substitute or \
        swapped days off, plus make-up working Saturdays (data/holidays.csv). Each row says how \
        many working days it has left (0: due today). Overdue dossiers are in /api/v1/late. \
        Needs a session cookie or `Authorization: Bearer <token>` with read rights. Every call is \
        written to the audit log.",
    security(("sessionCookie" = []), ("readToken" = [])),
    params(
        ("unit" = String, Query, description = "The code of a unit in force today"),
        ("within" = Option<u32>, Query, description = "Working days ahead (default 3)", minimum = 0, maximum = 60),
        ("field" = Option<String>, Query, description = "Sector filter"),
        ("procedure" = Option<String>, Query, description = "Procedure code filter"),
        ("agency" = Option<String>, Query, description = "Agency code filter"),
        ("sort" = inline(Option<DueSort>), Query, description = "Sort column (default due)"),
        ("order" = inline(Option<SortOrder>), Query, description = "asc (default: soonest first) or desc"),
        ("page" = Option<u32>, Query, description = "1-based page", minimum = 1),
        ("page_size" = Option<u32>, Query, description = "Rows per page (default 50, at most 500)", minimum = 1, maximum = 500),
        ("format" = inline(Option<ListFormat>), Query, description = "json (default) or csv (every row, UTF-8 with BOM)")
    ),
    responses(
        (status = 200, description = "`{query, today, until, total, rows}`, or with `format=csv` every row as CSV",
            content(
                (DuePage = "application/json"),
                (String = "text/csv")
            )
        ),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's province or commune, or the token cannot read", body = ErrorBody),
        (status = 404, description = "No such unit in force today", body = ErrorBody)
    )
)]
pub async fn get_due(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require_dossier_reader()?;
    let (mut query, csv) = parse_query(&params)?;
    if csv {
        query.page = 1;
        query.page_size = MAX_EXPORT_ROWS;
    }
    let unit = query.unit.clone();
    let today = vietnam_today();
    let page = due_page(&state, &caller, query, today).await?;
    if csv {
        let filename = format!("due-{unit}-{today}.csv");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            app::due::to_csv(&page.rows),
        )
            .into_response())
    } else {
        Ok(Json(page).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn queries_default_to_three_working_days_soonest_first_and_name_what_they_get_wrong() {
        let (q, csv) = parse_query(&params(&[("unit", "20194")])).unwrap();
        assert_eq!(
            (q.within, q.sort, q.descending, csv),
            (3, DueSort::Due, false, false)
        );
        assert_eq!(
            parse_query(&params(&[("unit", "1"), ("within", "0")]))
                .unwrap()
                .0
                .within,
            0
        );
        let field_of = |p: &[(&str, &str)]| match parse_query(&params(p)) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("{:?}", other.map(|q| q.0)),
        };
        assert_eq!(field_of(&[("within", "3")]), "unit");
        assert_eq!(field_of(&[("unit", "1"), ("within", "61")]), "within");
        assert_eq!(field_of(&[("unit", "1"), ("within", "-1")]), "within");
        assert_eq!(field_of(&[("unit", "1"), ("sort", "days_overdue")]), "sort");
        assert_eq!(
            field_of(&[("unit", "1"), ("page_size", "501")]),
            "page_size"
        );
        assert_eq!(field_of(&[("unit", "1"), ("format", "xml")]), "format");
        assert_eq!(field_of(&[("unit", "1"), ("from", "2026-01-01")]), "from");
    }
}
