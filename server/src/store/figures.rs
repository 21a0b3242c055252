//! What the figures are read through, for both engines: the [`Figures`] trait with its filter
//! ([`RollupFilter`]), and how a period splits into whole months and edge days.
use super::StoreFailure;
use app::model::{Channel, Counts, Level, Period, StatsQuery};
use chrono::{Datelike, Months, NaiveDate};
use std::collections::HashMap;

/// The rollup column that holds the key of a unit of `level`.
pub(super) fn key_column(level: Level) -> &'static str {
    match level {
        Level::Province => "province_code",
        Level::District => "district_code",
        Level::Commune => "commune_code",
    }
}

/// What part of the rollups (or of the dossiers) a figure reads: the period, the optional
/// filters, a unit and everything under it, and whether rows must have the grouping key.
#[derive(Clone, Debug)]
pub struct RollupFilter {
    pub period: Period,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
    /// (key column of a level, store keys): rows of these units and everything under them.
    pub scope: Option<(&'static str, Vec<String>)>,
    /// Keep only rows where the grouping key is set.
    pub key_required: bool,
}

impl RollupFilter {
    pub fn new(
        period: Period,
        field: Option<String>,
        channel: Option<Channel>,
        dossier_level: Option<Level>,
    ) -> Self {
        RollupFilter {
            period,
            field,
            channel,
            dossier_level,
            scope: None,
            key_required: false,
        }
    }

    pub(super) fn of_stats(q: &StatsQuery) -> Self {
        RollupFilter::new(q.period, q.field.clone(), q.channel, q.dossier_level)
    }
}

/// Resolved counts of one key in one month: (key, month, [resolved, early, on time, late]).
pub type MonthlyResolved = (String, NaiveDate, [u64; 4]);
/// A procedure's figures in a period: [received, received online, resolved, resolved in
/// time], and the field its dossiers carried.
pub type ProcedureFigures = HashMap<String, ([u64; 4], Option<String>)>;

/// Where the aggregated figures come from: the embedded store's tables or the cluster's. The
/// reference data (units, catalogue) is read apart, so both engines share every rule above it.
pub trait Figures {
    /// The counts of the rollup rows `f` keeps, grouped by the column `key` (`None`: one total
    /// under the key `None`).
    fn counts_by(
        &self,
        key: Option<&'static str>,
        f: &RollupFilter,
    ) -> Result<HashMap<Option<String>, Counts>, StoreFailure>;
    /// Resolved counts per `key` and month for the months `first..=last` (whole months).
    fn monthly_resolved(
        &self,
        key: &'static str,
        first: NaiveDate,
        last: NaiveDate,
        f: &RollupFilter,
    ) -> Result<Vec<MonthlyResolved>, StoreFailure>;
    /// (processing days, dossiers) of the dossiers resolved in the period.
    fn resolved_days(&self, f: &RollupFilter) -> Result<Vec<(i32, u64)>, StoreFailure>;
    /// The period's figures per procedure code ("" for dossiers without one).
    fn procedure_figures(&self, f: &RollupFilter) -> Result<ProcedureFigures, StoreFailure>;
}

/// Whether the period has days outside its whole months: leading days before the first whole
/// month, or trailing days after the last one (these also feed the pending prefix sums).
pub(super) fn needs_daily(p: &[NaiveDate; 5]) -> bool {
    p[0] < p[2] || p[4] <= p[1]
}

fn month_start(d: NaiveDate) -> Option<NaiveDate> {
    d.with_day(1)
}

fn month_end(d: NaiveDate) -> Option<NaiveDate> {
    month_start(d)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// A period split for the two rollups, as five dates: from, to, the first day of the first whole
/// month inside the period (to + 1 when there is none), the last whole month ending on or before
/// `to` (its first day), and the day after that month (from there on, prefix sums read day by
/// day). Whole months inside the period and whole months before its end come from the monthly
/// rollup; the days at the edges from the daily one. Both engines' queries take these dates as
/// they are (the embedded store's as `$1`…`$5`).
///
/// Checked arithmetic: a period at the calendar's ends (which [`Period::new`] never lets in) is
/// refused, never a panic.
pub(super) fn period_params(period: Period) -> Result<[NaiveDate; 5], StoreFailure> {
    let params = || -> Option<[NaiveDate; 5]> {
        let (from, to) = (period.from, period.to);
        let mut first_whole = if from.day() == 1 {
            from
        } else {
            month_start(from)?.checked_add_months(Months::new(1))?
        };
        if month_end(first_whole)? > to {
            first_whole = to.succ_opt()?;
        }
        let last_whole_end = if to == month_end(to)? {
            to
        } else {
            month_start(to)?.pred_opt()?
        };
        Some([
            from,
            to,
            first_whole,
            month_start(last_whole_end)?,
            last_whole_end.succ_opt()?,
        ])
    };
    params().ok_or_else(|| StoreFailure::BadQuery {
        field: "from",
        message: format!(
            "{} to {} lies outside the dates served",
            period.from, period.to
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn params(from: &str, to: &str) -> [NaiveDate; 5] {
        period_params(Period {
            from: d(from),
            to: d(to),
        })
        .unwrap()
    }

    #[test]
    fn a_quarter_reads_whole_months_only() {
        assert_eq!(
            params("2021-01-01", "2021-03-31"),
            [
                d("2021-01-01"),
                d("2021-03-31"),
                d("2021-01-01"),
                d("2021-03-01"),
                d("2021-04-01")
            ]
        );
        assert!(!needs_daily(&params("2021-01-01", "2021-03-31")));
        assert!(!needs_daily(&params("2021-02-01", "2021-02-28")));
    }

    #[test]
    fn partial_months_are_read_day_by_day() {
        // Whole month February; January 15–31 and March 1–10 by day.
        assert_eq!(
            params("2021-01-15", "2021-03-10"),
            [
                d("2021-01-15"),
                d("2021-03-10"),
                d("2021-02-01"),
                d("2021-02-01"),
                d("2021-03-01")
            ]
        );
        // No whole month inside: everything by day, prefix months up to December.
        assert_eq!(
            params("2021-01-15", "2021-01-20"),
            [
                d("2021-01-15"),
                d("2021-01-20"),
                d("2021-01-21"),
                d("2020-12-01"),
                d("2021-01-01")
            ]
        );
        assert!(needs_daily(&params("2021-01-15", "2021-01-20")));
        assert!(needs_daily(&params("2021-01-01", "2021-03-10")));
        assert!(needs_daily(&params("2021-01-02", "2021-03-31")));
    }
}
