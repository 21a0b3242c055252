//! `GET /api/v1/late` (late dossiers of a unit and period, JSON or CSV) and
//! `GET /api/v1/dossiers/{id}` (one dossier's events): dossier-level data, so every request is
//! authenticated, checked against the caller's scope and written to the audit log.
use super::access::Caller;
use super::error::{ApiError, ErrorBody};
use super::openapi::{ListFormat, SortOrder};
use super::stats::{checked_period, date};
use super::AppState;
use app::late::{LateKind, LateQuery, LateSort, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;

/// Most rows one CSV export holds.
pub const MAX_EXPORT_ROWS: u32 = 100_000;

/// The highest page number asked for (a million pages of 500 rows is more than any unit has).
const MAX_PAGE: u32 = 1_000_000;

pub(super) fn text(params: &HashMap<String, String>, name: &str) -> Option<String> {
    params
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub(super) fn number(
    params: &HashMap<String, String>,
    name: &'static str,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(name, format!("'{v}' is not a number from 1 to {max}"))
            }),
    }
}

/// `order`: `desc` or `asc`, `default_descending` when absent.
pub(super) fn descending(
    params: &HashMap<String, String>,
    default_descending: bool,
) -> Result<bool, ApiError> {
    match params.get("order").map(String::as_str) {
        None => Ok(default_descending),
        Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(o) => Err(ApiError::bad_request(
            "order",
            format!("'{o}': use asc or desc"),
        )),
    }
}

/// `format`: whether CSV (`csv`) rather than JSON (`json`, the default) was asked for.
pub(super) fn csv_format(params: &HashMap<String, String>) -> Result<bool, ApiError> {
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(f) => Err(ApiError::bad_request(
            "format",
            format!("'{f}': use json or csv"),
        )),
    }
}

/// The parameters `/api/v1/late` reads, as the OpenAPI document lists them.
pub(crate) const KNOWN: &[&str] = &[
    "units",
    "unit",
    "from",
    "to",
    "kind",
    "field",
    "procedure",
    "agency",
    "sort",
    "order",
    "page",
    "page_size",
    "format",
];

pub fn parse_query(params: &HashMap<String, String>) -> Result<(LateQuery, bool), ApiError> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            unknown.clone(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let unit = text(params, "unit")
        .ok_or_else(|| ApiError::bad_request("unit", "unit is required (a unit code)"))?;
    let kind = match params.get("kind") {
        None => LateKind::All,
        Some(k) => LateKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(
                "kind",
                format!("'{k}': use all, resolved_late or pending_overdue"),
            )
        })?,
    };
    let sort = match params.get("sort") {
        None => LateSort::DaysOverdue,
        Some(s) => LateSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "sort",
                format!(
                    "'{s}': use one of {}",
                    LateSort::ALL.map(|s| s.as_str()).join(", ")
                ),
            )
        })?,
    };
    let descending = descending(params, true)?;
    let csv = csv_format(params)?;
    let query = LateQuery {
        unit,
        from: date(params, "from")?,
        to: date(params, "to")?,
        kind,
        field: text(params, "field"),
        procedure: text(params, "procedure"),
        agency: text(params, "agency"),
        sort,
        descending,
        page: number(params, "page", 1, MAX_PAGE)?,
        page_size: number(params, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
        units: match params.get("units") {
            Some(u) => u
                .parse()
                .map_err(|m: String| ApiError::bad_request("units", m))?,
            None => Default::default(),
        },
    };
    checked_period(query.from, query.to)?;
    Ok((query, csv))
}

/// Checks that the caller may read `unit`'s dossiers (401, 404, 403 in that order).
pub async fn authorize_unit(state: &AppState, caller: &Caller, unit: &str) -> Result<(), ApiError> {
    caller.require_dossier_reader()?;
    let store = state.store.clone();
    let code = unit.to_string();
    let place = tokio::task::spawn_blocking(move || store.unit_place(&code))
        .await??
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "unit: no unit with code '{}' in force then",
                app::era::code_of(unit)
            ))
        })?;
    caller.may_read_dossiers_of(&place)
}

/// One page of late dossiers for a caller: checked, audited, read.
pub async fn late_page(
    state: &AppState,
    caller: &Caller,
    query: LateQuery,
) -> Result<app::late::LatePage, ApiError> {
    caller.require_dossier_reader()?;
    // The server functions reach here with a query the browser built: the same bounds as the
    // API's parser, and the period through the one gate every period goes through.
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
    checked_period(query.from, query.to)?;
    // The unit is the one in force at the period's end: after the reform a unit of today (its
    // list gathers the dossiers of the old units that went into it).
    let mut query = query;
    let public = query.unit.clone();
    let era = query
        .units
        .era(query.to)
        .map_err(|m| ApiError::bad_request("units", m))?;
    query.unit = era
        .key(&public)
        .ok_or_else(|| ApiError::bad_request("unit", "'unit' is a unit code (digits)"))?;
    authorize_unit(state, caller, &query.unit).await?;
    let export = query.page_size > MAX_PAGE_SIZE;
    let target = format!(
        "unit={} from={} to={} kind={} page={}",
        public,
        query.from,
        query.to,
        query.kind.as_str(),
        query.page,
    );
    caller.audit(
        state,
        if export { "late_export" } else { "late_list" },
        &target,
        "ok",
    )?;
    let store = state.store.clone();
    let mut page = tokio::task::spawn_blocking(move || store.late_dossiers(&query)).await??;
    page.query.unit = public;
    Ok(page)
}

/// Late dossiers of a unit (dossier-level: leaders, chairs and admins within their scope)
#[utoipa::path(
    get,
    path = "/api/v1/late",
    tag = "dossiers",
    description = "Dossiers resolved late in the period (`resolved_late`) and those still open \
        past their due date at its end (`pending_overdue`), counted exactly as /api/v1/stats \
        counts them, for the unit and every unit under it. Needs a session cookie or \
        `Authorization: Bearer <token>` with read rights. Every call is written to the audit log.",
    security(("sessionCookie" = []), ("readToken" = [])),
    params(
        ("unit" = String, Query, description = "The unit's code, in the era of `units`"),
        ("from" = String, Query, description = super::openapi::dated("First day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("to" = String, Query, description = super::openapi::dated("Last day of the period (YYYY-MM-DD)"), format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        ("kind" = inline(Option<LateKind>), Query, description = "Which late dossiers (default all)"),
        ("field" = Option<String>, Query, description = "Sector filter"),
        ("procedure" = Option<String>, Query, description = "Procedure code filter"),
        ("agency" = Option<String>, Query, description = "Agency code filter"),
        ("sort" = inline(Option<LateSort>), Query, description = "Sort column (default days_overdue)"),
        ("order" = inline(Option<SortOrder>), Query, description = "asc or desc (default)"),
        ("page" = Option<u32>, Query, description = "1-based page", minimum = 1),
        ("page_size" = Option<u32>, Query, description = "Rows per page (default 50, at most 500)", minimum = 1, maximum = 500),
        ("format" = inline(Option<ListFormat>), Query, description = "json (default) or csv (every row, UTF-8 with BOM)"),
        ("units" = inline(Option<app::era::UnitsView>), Query, description = "Which units `unit` names: `current` (today's; its list gathers the dossiers of the old units that went into it) or `historical` (those of the period's time; periods ending by 2025-06-30 only). Default (`auto`): those in force at the period's end")
    ),
    responses(
        (status = 200, description = "`{query, total, resolved_late, pending_overdue, rows}`, or with `format=csv` every row as CSV",
            content(
                (app::late::LatePage = "application/json"),
                (String = "text/csv")
            )
        ),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's province or district, or the token cannot read", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody)
    )
)]
pub async fn get_late(
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
    let (unit, from, to) = (query.unit.clone(), query.from, query.to);
    let page = late_page(&state, &caller, query).await?;
    if csv {
        let filename = format!("late-{unit}-{from}-{to}.csv");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            app::late::to_csv(&page.rows),
        )
            .into_response())
    } else {
        Ok(Json(page).into_response())
    }
}

/// A dossier's events for a caller: 401, 404 (unknown id), 403 (outside the scope), audited.
pub async fn timeline(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<app::late::DossierTimeline, ApiError> {
    caller.require_dossier_reader()?;
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::bad_request(
            "id",
            "a dossier id has 1 to 128 characters",
        ));
    }
    let store = state.store.clone();
    let dossier = id.clone();
    let unit = tokio::task::spawn_blocking(move || store.dossier_unit(&dossier))
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("no dossier '{id}'")))?;
    authorize_unit(state, caller, &unit).await?;
    caller.audit(state, "dossier_timeline", &id, "ok")?;
    let store = state.store.clone();
    let dossier = id.clone();
    let events = tokio::task::spawn_blocking(move || store.dossier_events(&dossier)).await??;
    Ok(app::late::DossierTimeline {
        dossier_id: id,
        unit_code: app::era::code_of(&unit).to_string(),
        events,
    })
}

/// A dossier's events in order (dossier-level, same rights as /api/v1/late)
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{id}",
    tag = "dossiers",
    security(("sessionCookie" = []), ("readToken" = [])),
    params(("id" = String, Path, description = "The dossier's id (1 to 128 characters)")),
    responses(
        (status = 200, description = "The dossier's events, in order", body = app::late::DossierTimeline),
        (status = 400, description = "The id is empty or longer than 128 characters", body = ErrorBody),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The dossier's unit is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such dossier", body = ErrorBody)
    )
)]
pub async fn get_dossier(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<app::late::DossierTimeline>, ApiError> {
    Ok(Json(timeline(&state, &caller, id).await?))
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
    fn queries_name_the_field_they_get_wrong() {
        let ok = parse_query(&params(&[
            ("unit", "502"),
            ("from", "2021-01-01"),
            ("to", "2021-03-31"),
        ]))
        .unwrap();
        assert_eq!(ok.0.page_size, DEFAULT_PAGE_SIZE);
        assert!(ok.0.descending && !ok.1);
        let field_of = |p: &[(&str, &str)]| match parse_query(&params(p)) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("{:?}", other.map(|q| q.0)),
        };
        assert_eq!(
            field_of(&[("from", "2021-01-01"), ("to", "2021-03-31")]),
            "unit"
        );
        assert_eq!(
            field_of(&[
                ("unit", "502"),
                ("from", "2021-13-01"),
                ("to", "2021-03-31")
            ]),
            "from"
        );
        assert_eq!(
            field_of(&[
                ("unit", "502"),
                ("from", "2021-01-01"),
                ("to", "2021-03-31"),
                ("page_size", "5000")
            ]),
            "page_size"
        );
        assert_eq!(
            field_of(&[
                ("unit", "502"),
                ("from", "2021-01-01"),
                ("to", "2021-03-31"),
                ("sort", "x")
            ]),
            "sort"
        );
        assert_eq!(
            field_of(&[
                ("unit", "502"),
                ("from", "2021-01-01"),
                ("to", "2021-03-31"),
                ("bogus", "1")
            ]),
            "bogus"
        );
    }
}
