//! Working days as Vietnam's one-stop offices count them: Monday to Friday, less the public
//! holidays and the government's substitute and swapped days off, plus its make-up working
//! Saturdays (`data/holidays.csv`; a deployment's own days in `holidays.local.csv` beside it).
//! Due dates count working days, so the due-soon list, the alert rules and the live simulator ask
//! here (the demo's calibrated history still plans due dates in calendar days).
use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::BTreeMap;
use std::path::Path;

/// The shipped calendar, in the configuration directory.
pub const CALENDAR_FILE: &str = "holidays.csv";
/// A deployment's additions and corrections: its rows win over the shipped ones for their dates.
pub const LOCAL_CALENDAR_FILE: &str = "holidays.local.csv";

/// What a listed day is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayKind {
    /// An official public holiday (listed even when it falls on a weekend).
    Holiday,
    /// A weekday off because a holiday fell on a weekend (nghỉ bù).
    Substitute,
    /// A weekday off in exchange for a make-up working day (hoán đổi).
    Swapped,
    /// A Saturday or Sunday worked instead (làm bù).
    MakeUp,
    /// A weekday worked after all: a deployment's `holidays.local.csv` cancels a shipped day
    /// off with it (when the year's real arrangement differs from the one shipped).
    Working,
}

impl DayKind {
    const ALL: [(DayKind, &'static str); 5] = [
        (DayKind::Holiday, "holiday"),
        (DayKind::Substitute, "substitute"),
        (DayKind::Swapped, "swapped"),
        (DayKind::MakeUp, "make_up"),
        (DayKind::Working, "working"),
    ];

    /// Whether offices work that day.
    fn worked(self) -> bool {
        matches!(self, DayKind::MakeUp | DayKind::Working)
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }
}

/// One row of a calendar file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct CalendarDay {
    pub date: String,
    pub kind: String,
    pub name_vi: String,
    pub name_en: String,
    pub source: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file} line {line}: {message}")]
pub struct CalendarError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct WorkingCalendar {
    /// The days that break the weekday rule or name a holiday: `true` for a day worked.
    listed: BTreeMap<NaiveDate, bool>,
}

/// The header every calendar file starts with.
const HEADER: [&str; 5] = ["date", "kind", "name_vi", "name_en", "source"];

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday-to-Friday days from 0001-01-01 up to and including `d` (0001-01-01 was a Monday).
fn weekdays_through(d: NaiveDate) -> i64 {
    let days = i64::from(d.num_days_from_ce()); // 1 for 0001-01-01
    let weeks = days.div_euclid(7);
    let rest = days.rem_euclid(7); // days into the current week, Monday first
    weeks * 5 + rest.min(5)
}

impl WorkingCalendar {
    /// Reads `holidays.csv` from `dir`, then `holidays.local.csv` when present.
    pub fn load(dir: &Path) -> Result<Self, CalendarError> {
        let mut calendar = WorkingCalendar::default();
        for (file, required) in [(CALENDAR_FILE, true), (LOCAL_CALENDAR_FILE, false)] {
            let path = dir.join(file);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(CalendarError {
                        file: path.display().to_string(),
                        line: 0,
                        message: format!("cannot read it: {e}"),
                    })
                }
            };
            let rows = calendar.add(&path.display().to_string(), &text)?;
            tracing::info!(file = %path.display(), rows, "working-day calendar read");
        }
        Ok(calendar)
    }

    /// The last year any listed day falls in; due dates after it count weekends only.
    pub fn last_listed_year(&self) -> Option<i32> {
        self.listed.keys().next_back().map(|d| d.year())
    }

    /// Adds a file's rows, each winning over an earlier row of the same date, and returns how
    /// many it read. The whole file is checked first: a bad row adds nothing.
    pub fn add(&mut self, file: &str, text: &str) -> Result<usize, CalendarError> {
        let error = |line: u64, message: String| CalendarError {
            file: file.to_string(),
            line,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let shape = |line: u64, e: csv::Error| {
            error(
                line,
                format!("not a row of date,kind,name_vi,name_en,source ({e})"),
            )
        };
        let headers = reader.headers().map_err(|e| shape(1, e))?.clone();
        // A file without its header would have its first row taken for one, and lost.
        if headers.iter().ne(HEADER) {
            return Err(error(
                1,
                format!("the first line must be the header {}", HEADER.join(",")),
            ));
        }
        let mut days = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                shape(line, e)
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let row: CalendarDay = record
                .deserialize(Some(&headers))
                .map_err(|e| shape(line, e))?;
            let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").map_err(|_| {
                error(
                    line,
                    format!("date: '{}' is not a date (YYYY-MM-DD)", row.date),
                )
            })?;
            let kind = DayKind::parse(&row.kind).ok_or_else(|| {
                error(
                    line,
                    format!(
                        "kind: '{}' is not one of holiday, substitute, swapped, make_up, working",
                        row.kind
                    ),
                )
            })?;
            match kind {
                DayKind::Working if is_weekend(date) => {
                    return Err(error(
                        line,
                        format!("kind: {date} is a weekend day; a weekend day worked is make_up"),
                    ))
                }
                DayKind::MakeUp if !is_weekend(date) => {
                    return Err(error(
                        line,
                        format!("kind: {date} is a weekday, so it cannot be a make-up working day"),
                    ))
                }
                DayKind::Substitute | DayKind::Swapped if is_weekend(date) => {
                    return Err(error(
                        line,
                        format!(
                            "kind: {date} is a weekend day, so it cannot be a {} day off",
                            kind.as_str()
                        ),
                    ))
                }
                _ => {}
            }
            days.push((date, kind.worked()));
        }
        let rows = days.len();
        self.listed.extend(days);
        Ok(rows)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.listed.get(&d).copied().unwrap_or(!is_weekend(d))
    }

    /// The `n`th working day after `from` (`from` itself for 0). Saturates at the last date.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days after `from` up to and including `to`; negative, the working days after `to`
    /// up to and including `from`, when `to` is earlier. A dossier due tomorrow, a working day,
    /// has 1 left today; due today, 0.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut n = weekdays_through(to) - weekdays_through(from);
        if let Some(after) = from.succ_opt().filter(|a| *a <= to) {
            for (d, worked) in self.listed.range(after..=to) {
                n += i64::from(*worked && is_weekend(*d)) - i64::from(!*worked && !is_weekend(*d));
            }
        }
        n
    }

    /// The last due date that is at most `n` working days after `today`: the day before the
    /// (n+1)th working day, so a due date on a weekend or holiday before it counts too.
    pub fn last_due_within(&self, today: NaiveDate, n: u32) -> NaiveDate {
        let next = self.add_working_days(today, n.saturating_add(1));
        next.pred_opt().unwrap_or(next)
    }

    /// `d` when it is a working day, else the next working day: where a due date computed in
    /// calendar days lands in an office.
    pub fn on_or_after(&self, d: NaiveDate) -> NaiveDate {
        if self.is_working_day(d) {
            d
        } else {
            self.add_working_days(d, 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The shipped calendar, as the server reads it.
    fn shipped() -> WorkingCalendar {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        WorkingCalendar::load(&dir).expect("data/holidays.csv reads")
    }

    /// Counts by walking day by day: the definition the fast count must agree with.
    fn walked(c: &WorkingCalendar, from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if to < from {
            (to, from, -1)
        } else {
            (from, to, 1)
        };
        sign * lo
            .iter_days()
            .skip(1)
            .take_while(|x| *x <= hi)
            .filter(|x| c.is_working_day(*x))
            .count() as i64
    }

    #[test]
    fn tet_2026_keeps_the_offices_closed_from_monday_16_to_friday_20_february() {
        let c = shipped();
        for day in 16..=20 {
            assert!(!c.is_working_day(d(&format!("2026-02-{day}"))), "{day}/2");
        }
        assert!(c.is_working_day(d("2026-02-13")));
        assert!(c.is_working_day(d("2026-02-23")));
        // Received on the Friday before Tết with three working days to go: due Wednesday 25/2.
        assert_eq!(c.add_working_days(d("2026-02-13"), 3), d("2026-02-25"));
        assert_eq!(c.working_days_between(d("2026-02-13"), d("2026-02-25")), 3);
    }

    #[test]
    fn a_substitute_day_follows_a_holiday_on_a_weekend() {
        let c = shipped();
        // 1 May 2021 was a Saturday: Monday 3 May was off instead.
        assert!(!c.is_working_day(d("2021-05-03")));
        assert!(c.is_working_day(d("2021-05-04")));
        // New Year's Day 2022 was a Saturday: Monday 3 January was off.
        assert!(!c.is_working_day(d("2022-01-03")));
    }

    #[test]
    fn a_make_up_saturday_is_a_working_day_and_its_swapped_weekday_is_not() {
        let c = shipped();
        // 2024: Monday 29 April off, Saturday 4 May worked.
        assert!(!c.is_working_day(d("2024-04-29")));
        assert!(c.is_working_day(d("2024-05-04")));
        assert!(
            !c.is_working_day(d("2024-05-05")),
            "the Sunday after stays off"
        );
        // Friday 3 May to Monday 6 May 2024: Saturday 4 and Monday 6 are working days.
        assert_eq!(c.working_days_between(d("2024-05-03"), d("2024-05-06")), 2);
    }

    #[test]
    fn a_due_date_across_a_holiday_moves_past_it() {
        let c = shipped();
        // Received Tuesday 29 April 2025 with two working days: 30/4 and 1/5 are holidays and
        // 2/5 was swapped, so the due date is Tuesday 6 May (Monday 5 May is the first).
        assert_eq!(c.add_working_days(d("2025-04-29"), 1), d("2025-05-05"));
        assert_eq!(c.add_working_days(d("2025-04-29"), 2), d("2025-05-06"));
        // A due date computed in calendar days that lands on 1 May moves to 5 May.
        assert_eq!(c.on_or_after(d("2025-05-01")), d("2025-05-05"));
        // Due within 1 working day of Tuesday 29 April: through Monday 5 May; within 0: through
        // Sunday 4 May (every day up to it is a day off).
        assert_eq!(c.last_due_within(d("2025-04-29"), 1), d("2025-05-05"));
        assert_eq!(c.last_due_within(d("2025-04-29"), 0), d("2025-05-04"));
    }

    #[test]
    fn the_fast_count_agrees_with_walking_the_days() {
        let c = shipped();
        let start = d("2019-12-20");
        for i in (0..3_300).step_by(3) {
            let from = start + Days::new(i);
            for span in [0, 1, 2, 5, 6, 9, 30, 100] {
                let to = from + Days::new(span);
                assert_eq!(
                    c.working_days_between(from, to),
                    walked(&c, from, to),
                    "{from}..{to}"
                );
                assert_eq!(
                    c.working_days_between(to, from),
                    walked(&c, to, from),
                    "{to}..{from}"
                );
                let n = c.working_days_between(from, to).max(0) as u32;
                assert!(c.add_working_days(from, n) <= to);
            }
        }
    }

    #[test]
    fn every_year_the_demo_covers_lists_its_fixed_holidays() {
        let c = shipped();
        for year in 2020..=2027 {
            for (m, day) in [(1, 1), (4, 30), (5, 1), (9, 2)] {
                let date = NaiveDate::from_ymd_opt(year, m, day).unwrap();
                assert!(
                    c.listed.get(&date) == Some(&false),
                    "{date} is listed as a day off"
                );
            }
        }
    }

    #[test]
    fn a_local_file_on_disk_is_read_and_a_bad_one_stops_the_load() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data")
            .join(CALENDAR_FILE);
        std::fs::copy(shipped, dir.path().join(CALENDAR_FILE)).unwrap();
        let local = dir.path().join(LOCAL_CALENDAR_FILE);
        std::fs::write(
            &local,
            "date,kind,name_vi,name_en,source\n2026-11-24,holiday,Riêng,Own,tỉnh\n",
        )
        .unwrap();
        let c = WorkingCalendar::load(dir.path()).unwrap();
        assert!(!c.is_working_day(d("2026-11-24")));
        assert_eq!(c.last_listed_year(), Some(2027));
        std::fs::write(
            &local,
            "date,kind,name_vi,name_en,source\n2026-11-24,nghi,Riêng,Own,tỉnh\n",
        )
        .unwrap();
        let err = WorkingCalendar::load(dir.path()).unwrap_err();
        assert!(
            err.file.ends_with(LOCAL_CALENDAR_FILE) && err.line == 2,
            "{err}"
        );
    }

    #[test]
    fn a_local_file_adds_days_and_wins_over_the_shipped_rows() {
        let mut c = shipped();
        assert!(c.is_working_day(d("2026-11-24")));
        assert!(
            c.is_working_day(d("2024-05-04")),
            "a make-up Saturday in the shipped file"
        );
        c.add(
            "holidays.local.csv",
            "date,kind,name_vi,name_en,source\n2026-11-24,holiday,Ngày nghỉ riêng,Local day off,tỉnh\n\n2024-05-04,holiday,\"Nghỉ, không làm bù\",Not worked,tỉnh\n",
        )
        .unwrap();
        assert!(!c.is_working_day(d("2026-11-24")));
        assert!(!c.is_working_day(d("2024-05-04")), "the local row wins");
        // A shipped day off worked after all (2027's Tết days are the law's guess).
        assert!(!c.is_working_day(d("2027-02-05")));
        c.add(
            "holidays.local.csv",
            "date,kind,name_vi,name_en,source\n2027-02-05,working,Đi làm,Worked,tỉnh\n",
        )
        .unwrap();
        assert!(c.is_working_day(d("2027-02-05")));
    }

    #[test]
    fn a_bad_row_names_its_file_line_and_field_and_adds_nothing() {
        let mut c = WorkingCalendar::default();
        let header = "date,kind,name_vi,name_en,source\n";
        let err = c
            .add(
                "h.csv",
                &format!("{header}2026-01-01,holiday,a,b,c\n2026-13-01,holiday,a,b,c\n"),
            )
            .unwrap_err();
        assert_eq!(
            (err.line, err.message.starts_with("date:")),
            (3, true),
            "{err}"
        );
        assert!(c.listed.is_empty(), "nothing of a refused file is kept");
        let err = c
            .add("h.csv", &format!("{header}2026-01-05,holday,a,b,c\n"))
            .unwrap_err();
        assert!(
            err.message.starts_with("kind:") && err.to_string().starts_with("h.csv line 2"),
            "{err}"
        );
        let err = c
            .add("h.csv", &format!("{header}2026-01-05,make_up,a,b,c\n"))
            .unwrap_err();
        assert!(err.message.contains("weekday"), "{err}");
        let err = c
            .add("h.csv", &format!("{header}2026-01-03,substitute,a,b,c\n"))
            .unwrap_err();
        assert!(err.message.contains("weekend"), "{err}");
        let err = c
            .add("h.csv", &format!("{header}2026-01-05,holiday\n"))
            .unwrap_err();
        assert!(err.message.contains("date,kind"), "{err}");
    }

    #[test]
    fn weekday_counting_starts_on_a_monday() {
        // 0001-01-01 was a Monday; 2026-12-07 is one too.
        assert_eq!(weekdays_through(d("0001-01-05")), 5);
        assert_eq!(weekdays_through(d("0001-01-07")), 5);
        assert_eq!(weekdays_through(d("0001-01-08")), 6);
        assert_eq!(
            weekdays_through(d("2026-12-11")) - weekdays_through(d("2026-12-06")),
            5
        );
    }
}
