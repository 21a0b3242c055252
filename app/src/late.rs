//! The late-dossier drill-down's types: what a leader or chair asks for and the rows they get.
//! Dossier-level data: only signed-in leaders, chairs and admins ever receive these.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which late dossiers: resolved after their due date in the period, still open past their due
/// date at the period's end, or both (the stats' `resolved_late` and `pending_overdue`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LateKind {
    #[default]
    All,
    ResolvedLate,
    PendingOverdue,
}

impl LateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LateKind::All => "all",
            LateKind::ResolvedLate => "resolved_late",
            LateKind::PendingOverdue => "pending_overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            LateKind::All,
            LateKind::ResolvedLate,
            LateKind::PendingOverdue,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The columns the list sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LateSort {
    #[default]
    DaysOverdue,
    DossierId,
    Procedure,
    Field,
    Agency,
    Received,
    Due,
    Resolved,
    Stage,
}

impl LateSort {
    pub const ALL: [LateSort; 9] = [
        LateSort::DaysOverdue,
        LateSort::DossierId,
        LateSort::Procedure,
        LateSort::Field,
        LateSort::Agency,
        LateSort::Received,
        LateSort::Due,
        LateSort::Resolved,
        LateSort::Stage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LateSort::DaysOverdue => "days_overdue",
            LateSort::DossierId => "dossier_id",
            LateSort::Procedure => "procedure",
            LateSort::Field => "field",
            LateSort::Agency => "agency",
            LateSort::Received => "received",
            LateSort::Due => "due",
            LateSort::Resolved => "resolved",
            LateSort::Stage => "stage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LateQuery {
    /// A province, district or commune code: its dossiers and those of every unit under it.
    pub unit: String,
    #[serde(deserialize_with = "crate::iso::date")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    pub to: NaiveDate,
    pub kind: LateKind,
    pub field: Option<String>,
    pub procedure: Option<String>,
    pub agency: Option<String>,
    pub sort: LateSort,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
    /// Which units `unit` names: today's (its list gathers the old units that went into it) or
    /// those of the period's time; by default those in force at the period's end.
    #[serde(default)]
    pub units: crate::era::UnitsView,
}

/// Where a late dossier stands now, from its last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Received and being processed, due date unchanged.
    Processing,
    /// Still open after its due date was moved (an extension or a request for documents).
    DueChanged,
    Resolved,
    Withdrawn,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Processing => "processing",
            Stage::DueChanged => "due_changed",
            Stage::Resolved => "resolved",
            Stage::Withdrawn => "withdrawn",
        }
    }

    /// The stage after an event of this type (the ingest API's `type` values).
    pub fn after_event(event_type: &str) -> Stage {
        match event_type {
            "resolved" => Stage::Resolved,
            "withdrawn" => Stage::Withdrawn,
            "due_changed" => Stage::DueChanged,
            _ => Stage::Processing,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LateRow {
    pub dossier_id: String,
    pub unit_code: String,
    pub unit_name: String,
    pub procedure: String,
    pub procedure_name: String,
    pub field: String,
    pub agency: Option<String>,
    #[serde(deserialize_with = "crate::iso::date")]
    pub received: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    pub due: NaiveDate,
    #[serde(default, deserialize_with = "crate::iso::option_date")]
    pub resolved: Option<NaiveDate>,
    /// Resolved late: days from due to resolution. Pending: days from due to the period's end.
    pub days_overdue: i32,
    pub stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LatePage {
    pub query: LateQuery,
    /// Rows matching the query over all pages.
    pub total: u64,
    pub resolved_late: u64,
    pub pending_overdue: u64,
    pub rows: Vec<LateRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub seq: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// As sent, with its UTC offset (RFC 3339).
    pub at: String,
    pub due: Option<String>,
    pub outcome: Option<String>,
    pub agency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DossierTimeline {
    pub dossier_id: String,
    pub unit_code: String,
    pub events: Vec<TimelineEvent>,
}

/// Days overdue of a late dossier: after its due date until resolution, or until `as_of` for
/// one still open.
pub fn days_overdue(due: NaiveDate, resolved: Option<NaiveDate>, as_of: NaiveDate) -> i32 {
    let end = resolved.unwrap_or(as_of);
    i32::try_from((end - due).num_days().max(0)).unwrap_or(i32::MAX)
}

/// A text cell that spreadsheet programs will not run as a formula: a leading `=`, `+`, `-` or
/// `@` is prefixed with `'`, and so is a leading tab or carriage return, which some programs
/// skip before looking for a formula (`"\t=cmd"` would run).
pub fn formula_safe(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// A CSV text cell: formula-safe, then quoted as [`crate::format::csv_cell`] quotes.
pub fn csv_cell(value: &str) -> String {
    crate::format::csv_cell(&formula_safe(value))
}

pub const CSV_HEADER: &str =
    "dossier_id,unit_code,unit,procedure,procedure_name,field,agency,received,due,resolved,days_overdue,stage";

/// The rows as CSV (UTF-8 with a byte-order mark for spreadsheet programs).
pub fn to_csv(rows: &[LateRow]) -> String {
    let mut table = vec![CSV_HEADER
        .split(',')
        .map(str::to_string)
        .collect::<Vec<_>>()];
    table.extend(rows.iter().map(|r| {
        vec![
            formula_safe(&r.dossier_id),
            formula_safe(&r.unit_code),
            formula_safe(&r.unit_name),
            formula_safe(&r.procedure),
            formula_safe(&r.procedure_name),
            formula_safe(&r.field),
            formula_safe(r.agency.as_deref().unwrap_or("")),
            r.received.to_string(),
            r.due.to_string(),
            r.resolved.map(|d| d.to_string()).unwrap_or_default(),
            r.days_overdue.to_string(),
            r.stage.as_str().to_string(),
        ]
    }));
    crate::format::csv(&table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_overdue_count_from_the_due_date() {
        assert_eq!(
            days_overdue(d("2021-03-01"), Some(d("2021-03-04")), d("2021-03-31")),
            3
        );
        assert_eq!(days_overdue(d("2021-03-01"), None, d("2021-03-31")), 30);
        assert_eq!(days_overdue(d("2021-03-31"), None, d("2021-03-31")), 0);
    }

    #[test]
    fn csv_cells_are_quoted_and_formula_safe() {
        assert_eq!(csv_cell("Sở Tài nguyên"), "Sở Tài nguyên");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
    }

    #[test]
    fn a_cell_starting_with_a_tab_or_carriage_return_is_no_formula() {
        assert_eq!(formula_safe("\t=1+1"), "'\t=1+1");
        assert_eq!(formula_safe("\r=1+1"), "'\r=1+1");
        // Quoted as well, since a carriage return ends a CSV row otherwise.
        assert_eq!(csv_cell("\r=1+1"), "\"'\r=1+1\"");
        assert_eq!(formula_safe("a\t=1"), "a\t=1", "only a leading one");
    }

    #[test]
    fn kinds_sorts_and_stages_round_trip() {
        for k in [
            LateKind::All,
            LateKind::ResolvedLate,
            LateKind::PendingOverdue,
        ] {
            assert_eq!(LateKind::parse(k.as_str()), Some(k));
        }
        for s in LateSort::ALL {
            assert_eq!(LateSort::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::after_event("due_changed"), Stage::DueChanged);
        assert_eq!(Stage::after_event("received"), Stage::Processing);
        assert!(to_csv(&[]).starts_with('\u{feff}'));
    }
}
