//! The due-soon list's types: open dossiers of a unit that fall due within a few working days, so
//! an office can finish them in time. Dossier-level data: signed-in leaders, chairs and admins only.
use crate::late::Stage;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Working days ahead the list looks by default.
pub const DEFAULT_WITHIN: u32 = 3;
/// The furthest it looks: a quarter of working days.
pub const MAX_WITHIN: u32 = 60;

/// The columns the list sorts by (working days left sorts as the due date does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DueSort {
    #[default]
    Due,
    DossierId,
    Procedure,
    Field,
    Agency,
    Received,
}

impl DueSort {
    pub const ALL: [DueSort; 6] = [
        DueSort::Due,
        DueSort::DossierId,
        DueSort::Procedure,
        DueSort::Field,
        DueSort::Agency,
        DueSort::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DueSort::Due => "due",
            DueSort::DossierId => "dossier_id",
            DueSort::Procedure => "procedure",
            DueSort::Field => "field",
            DueSort::Agency => "agency",
            DueSort::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DueQuery {
    /// A unit in force today (a province or commune; before the reform also a district): its
    /// dossiers and those of every unit under it.
    pub unit: String,
    /// Working days ahead: dossiers due from today up to the last day before the (within+1)th
    /// working day after today.
    pub within: u32,
    pub field: Option<String>,
    pub procedure: Option<String>,
    pub agency: Option<String>,
    pub sort: DueSort,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DueRow {
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
    /// Working days after today up to and including the due date: 0 when due today.
    pub working_days_left: i32,
    /// Processing, or due changed (an extension or a request for documents).
    pub stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DuePage {
    pub query: DueQuery,
    /// Today in Vietnam (UTC+7), when the list was read.
    #[serde(deserialize_with = "crate::iso::date")]
    pub today: NaiveDate,
    /// The last due date the list takes in.
    #[serde(deserialize_with = "crate::iso::date")]
    pub until: NaiveDate,
    /// Rows matching the query over all pages.
    pub total: u64,
    pub rows: Vec<DueRow>,
}

pub const CSV_HEADER: &str =
    "dossier_id,unit_code,unit,procedure,procedure_name,field,agency,received,due,working_days_left,stage";

/// The rows as CSV (UTF-8 with a byte-order mark, formula-safe cells).
pub fn to_csv(rows: &[DueRow]) -> String {
    let mut table = vec![CSV_HEADER
        .split(',')
        .map(str::to_string)
        .collect::<Vec<_>>()];
    let cell = crate::late::formula_safe;
    table.extend(rows.iter().map(|r| {
        vec![
            cell(&r.dossier_id),
            cell(&r.unit_code),
            cell(&r.unit_name),
            cell(&r.procedure),
            cell(&r.procedure_name),
            cell(&r.field),
            cell(r.agency.as_deref().unwrap_or("")),
            r.received.to_string(),
            r.due.to_string(),
            r.working_days_left.to_string(),
            r.stage.as_str().to_string(),
        ]
    }));
    crate::format::csv(&table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_round_trip_and_the_csv_is_safe_for_spreadsheets() {
        for s in DueSort::ALL {
            assert_eq!(DueSort::parse(s.as_str()), Some(s));
        }
        let row = DueRow {
            dossier_id: "=HYPERLINK(1)".into(),
            unit_code: "20194".into(),
            unit_name: "Phường Hải Vân".into(),
            procedure: "P1".into(),
            procedure_name: "Cấp giấy phép, xây dựng".into(),
            field: "Xây dựng".into(),
            agency: None,
            received: "2026-12-01".parse().unwrap(),
            due: "2026-12-08".parse().unwrap(),
            working_days_left: 2,
            stage: Stage::Processing,
        };
        let csv = to_csv(&[row]);
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("'=HYPERLINK(1),20194,Phường Hải Vân,P1,\"Cấp giấy phép, xây dựng\""),
            "{csv}"
        );
        assert!(
            csv.ends_with(",2026-12-01,2026-12-08,2,processing\r\n"),
            "{csv}"
        );
    }
}

/// The dashboard's due-soon figures for a signed-in reader: open dossiers due within
/// [`DEFAULT_WITHIN`] working days, of the unit shown (with everything under it) and of each
/// listed unit, counted as the due-soon list counts them. Counts only, but of dossiers still
/// open: never on a public page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DueSummary {
    /// The unit shown (a code of today).
    pub unit: String,
    #[serde(deserialize_with = "crate::iso::date")]
    pub today: NaiveDate,
    /// The last due date counted.
    #[serde(deserialize_with = "crate::iso::date")]
    pub until: NaiveDate,
    pub total: u64,
    /// Each listed unit's count, by code.
    pub units: Vec<(String, u64)>,
}

/// The most listed units one due-soon summary counts (a province's communes are far fewer).
pub const MAX_SUMMARY_UNITS: usize = 5_000;
