//! `GET /api/v1/reports/monthly`: a unit's month as a PDF for the monthly meeting. Public figures,
//! so anyone may download one; a signed-in reader whose scope covers the unit also gets the late
//! dossiers counted by agency (read through the late list, so audited as it is).
use super::access::Caller;
use super::error::{ApiError, ErrorBody};
use super::late::{late_page, MAX_EXPORT_ROWS};
use super::AppState;
use crate::report::{AgencyLate, ReportError, ReportRequest};
use app::i18n::Lang;
use app::late::{LateKind, LateQuery, LateSort, Stage};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Late-list pages of [`MAX_EXPORT_ROWS`] read for the agency table (half a million dossiers).
const MAX_PAGES: u32 = 5;

/// The parameters the report reads, as the OpenAPI document lists them.
pub(crate) const KNOWN: &[&str] = &["unit", "month", "lang"];

/// `YYYY-MM` of a served year, not after this month.
fn month(value: &str, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    let bad = |m: String| ApiError::bad_request("month", m);
    let (year, month) = value
        .split_once('-')
        .filter(|(y, m)| {
            y.len() == 4 && m.len() == 2 && (y.to_string() + m).bytes().all(|b| b.is_ascii_digit())
        })
        .ok_or_else(|| bad(format!("'{value}' is not a month (YYYY-MM)")))?;
    let first = year
        .parse::<i32>()
        .ok()
        .zip(month.parse::<u32>().ok())
        .and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1))
        .ok_or_else(|| bad(format!("'{value}' is not a month (YYYY-MM)")))?;
    app::iso::check_date(&first.to_string()).map_err(|m| bad(format!("month: {m}")))?;
    if (first.year(), first.month()) > (today.year(), today.month()) {
        return Err(bad(format!(
            "{value} has not begun (this month is {})",
            &today.to_string()[..7]
        )));
    }
    Ok(first)
}

pub fn parse_request(
    params: &HashMap<String, String>,
    today: NaiveDate,
) -> Result<ReportRequest, ApiError> {
    super::stats::reject_unknown(params, KNOWN)?;
    let unit = super::stats::non_empty(params, "unit")?
        .ok_or_else(|| ApiError::bad_request("unit", "'unit' is required (a unit code)"))?;
    if app::era::Era::From2025.key(&unit).is_none() {
        return Err(ApiError::bad_request(
            "unit",
            "'unit' is a unit code (digits)",
        ));
    }
    let month = month(
        params
            .get("month")
            .ok_or_else(|| ApiError::bad_request("month", "'month' is required (YYYY-MM)"))?,
        today,
    )?;
    let lang = super::stats::parsed::<Lang>(params, "lang")?.unwrap_or_default();
    Ok(ReportRequest { unit, month, lang })
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::UnknownUnit(_) => ApiError::NotFound(e.to_string()),
            ReportError::BadMonth(m) => ApiError::bad_request("month", m),
            ReportError::Store(s) => s.into(),
            ReportError::Render(m) => ApiError::Internal(m),
        }
    }
}

/// Whether the caller may read the unit's dossiers in the report's month (then the report adds
/// the late dossiers by agency and is private).
async fn reads_agencies(
    state: &AppState,
    caller: &Caller,
    request: &ReportRequest,
) -> Result<bool, ApiError> {
    if !caller.principal.reads_dossiers() {
        return Ok(false);
    }
    let today = super::due::vietnam_today();
    let Some(period) = crate::report::month_period(request.month, today) else {
        return Ok(false);
    };
    let Some(key) = app::era::Era::on(period.to).key(&request.unit) else {
        return Ok(false);
    };
    let store = state.store.clone();
    let place = tokio::task::spawn_blocking(move || store.unit_place(&key)).await??;
    Ok(place.is_some_and(|place| caller.principal.scope().covers(&place)))
}

/// The late dossiers of the report's month by agency, for a caller [`reads_agencies`] allows.
async fn agencies(
    state: &AppState,
    caller: &Caller,
    request: &ReportRequest,
) -> Result<Option<Vec<AgencyLate>>, ApiError> {
    let today = super::due::vietnam_today();
    let Some(period) = crate::report::month_period(request.month, today) else {
        return Ok(None);
    };
    let era = app::era::Era::on(period.to);
    let mut by_agency: BTreeMap<String, AgencyLate> = BTreeMap::new();
    let unnamed = app::i18n::tr(request.lang, app::i18n::Key::ReportNoAgency);
    // Page by page (each read audited), at most MAX_PAGES: past that the table says it is partial.
    let (mut read, mut total) = (0u64, 0u64);
    for page_number in 1..=MAX_PAGES {
        let page = late_page(
            state,
            caller,
            LateQuery {
                unit: request.unit.clone(),
                from: period.from,
                to: period.to,
                kind: LateKind::All,
                field: None,
                procedure: None,
                agency: None,
                sort: LateSort::DossierId,
                descending: false,
                page: page_number,
                page_size: MAX_EXPORT_ROWS,
                units: match era {
                    app::era::Era::From2025 => app::era::UnitsView::Current,
                    app::era::Era::Before2025 => app::era::UnitsView::Historical,
                },
            },
        )
        .await?;
        total = page.total;
        read += page.rows.len() as u64;
        let last = page.rows.len() < MAX_EXPORT_ROWS as usize;
        for row in page.rows {
            let agency = row.agency.clone().unwrap_or_else(|| unnamed.to_string());
            let entry = by_agency.entry(agency.clone()).or_insert(AgencyLate {
                agency,
                resolved_late: 0,
                pending_overdue: 0,
            });
            match (row.stage, row.resolved) {
                (Stage::Resolved, _) | (_, Some(_)) => entry.resolved_late += 1,
                _ => entry.pending_overdue += 1,
            }
        }
        if last || read >= total {
            break;
        }
    }
    if read < total {
        tracing::warn!(unit = %request.unit, read, total, "report: agency counts cover the first late dossiers only");
    }
    let mut list: Vec<AgencyLate> = by_agency.into_values().collect();
    list.sort_by(|a, b| {
        (b.resolved_late + b.pending_overdue)
            .cmp(&(a.resolved_late + a.pending_overdue))
            .then(a.agency.cmp(&b.agency))
    });
    Ok(Some(list))
}

/// A unit's monthly report as PDF
#[utoipa::path(
    get,
    path = "/api/v1/reports/monthly",
    tag = "figures",
    description = "A PDF for the monthly meeting: the unit's headline figures for the month with \
        their change against the previous month and the same month a year earlier, the map and \
        ranking of the units under it against the 95% threshold, the twelve-month trend, the \
        procedures and sectors with the most late dossiers, and the units that crossed the \
        threshold. The same figures as /api/v1/stats (months since 2025-07-01 on today's units, \
        earlier months on the units as they were). The current month is reported to date. \
        Public; a caller signed in (or with a read token) whose scope covers the unit also gets \
        the month's late dossiers by agency, read through the audited late list, and that answer \
        is never cached. A client may have 10 reports drawn at once, then one every 6 seconds (kept ones are free); at most two are drawn at once (503 with Retry-After beyond).",
    params(
        ("unit" = String, Query, description = "A unit code in force in the month"),
        ("month" = String, Query, description = "The month (YYYY-MM), not after the current one", pattern = r"^[0-9]{4}-[0-9]{2}$"),
        ("lang" = Option<String>, Query, description = "vi (default) or en")
    ),
    responses(
        (status = 200, description = "The report", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, description = "A parameter is missing or wrong; `field` names it", body = ErrorBody),
        (status = 404, description = "No such unit in force in that month", body = ErrorBody),
        (status = 429, description = "This client has had more reports drawn than its allowance (10, then one every 6 s); Retry-After says when", body = ErrorBody),
        (status = 503, description = "Too many reports being drawn; retry later", body = ErrorBody)
    )
)]
pub async fn get_monthly(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let today = super::due::vietnam_today();
    let request = parse_request(&params, today)?;
    // Who may get the agency table is known before anything is drawn; whether the answer is
    // private decides whether a kept public one may serve it.
    let private = reads_agencies(&state, &caller, &request).await?;
    let key = (request.clone(), state.store.data_as_of(), today);
    let kept = if private {
        None
    } else {
        state.reports.kept(&key)
    };
    let pdf = match kept {
        Some(pdf) => pdf,
        None => {
            // A new drawing: the client's allowance, then one of the permits, before any read.
            state
                .reports
                .allow(&caller.client)
                .map_err(|retry_after| ApiError::RateLimited {
                    retry_after,
                    message: "more reports asked for than this client may have drawn; wait, then ask again".into(),
                })?;
            let permit = state.reports.permit().ok_or_else(|| {
                ApiError::Busy("reports are being drawn for others; retry in a moment".into())
            })?;
            let agencies = if private {
                agencies(&state, &caller, &request).await?
            } else {
                None
            };
            let store = state.store.clone();
            let asked = request.clone();
            let pdf = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let mut data = crate::report::gather(store.as_ref(), &asked, today)?;
                data.agencies = agencies;
                crate::report::render(&data).map(|r| r.pdf)
            })
            .await??;
            let pdf = Arc::new(pdf);
            if !private {
                state.reports.keep(key, pdf.clone());
            }
            pdf
        }
    };
    let filename = format!(
        "report-{}-{}-{}.pdf",
        request.unit,
        &request.month.to_string()[..7],
        request.lang.code()
    );
    let cache = if private {
        "private, no-store"
    } else {
        "public, max-age=300"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, cache.to_string()),
            (header::VARY, "Cookie, Authorization".to_string()),
        ],
        pdf.as_ref().clone(),
    )
        .into_response())
}
