//! What both engines' due-soon reads share: the window a list covers (from today to the last due
//! date within its working days) and how each row's stage and working days left are told.
use crate::calendar::WorkingCalendar;
use app::due::{DuePage, DueQuery, DueRow};
use app::late::Stage;
use chrono::NaiveDate;

/// A due-soon read: `query.unit` is a store key; dossiers open now and due from `today` through
/// `until`.
pub struct DueWindow<'a> {
    pub query: &'a DueQuery,
    pub today: NaiveDate,
    pub until: NaiveDate,
}

impl<'a> DueWindow<'a> {
    pub fn new(query: &'a DueQuery, today: NaiveDate, calendar: &WorkingCalendar) -> Self {
        DueWindow {
            query,
            today,
            until: calendar.last_due_within(today, query.within),
        }
    }

    /// The page, with each row's working days left counted on `calendar`.
    pub fn page(&self, total: u64, mut rows: Vec<DueRow>, calendar: &WorkingCalendar) -> DuePage {
        for row in &mut rows {
            let left = calendar.working_days_between(self.today, row.due);
            row.working_days_left = i32::try_from(left).unwrap_or(i32::MAX);
        }
        DuePage {
            query: self.query.clone(),
            today: self.today,
            until: self.until,
            total,
            rows,
        }
    }
}

/// An open dossier's stage from its last event: due changed (an extension or a request for
/// documents) or processing.
pub fn open_stage(last_event: Option<&str>) -> Stage {
    match last_event {
        Some("due_changed") => Stage::DueChanged,
        _ => Stage::Processing,
    }
}
