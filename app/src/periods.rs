//! Period presets: which dates "year to date" and friends stand for.
use crate::model::{Bucket, Period};
use chrono::{Datelike, Days, Months, NaiveDate};

fn quarter_start(d: NaiveDate) -> Option<NaiveDate> {
    let month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), month, 1)
}

/// The dashboard's default view: the year to date, so today's work (and the live stream's
/// updates) is part of what a visitor first sees.
pub fn default_period(today: NaiveDate) -> Period {
    Preset::YearToDate.period(today)
}

/// The period presets the dashboard offers, each anchored on a day (the current view's end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Month,
    Quarter,
    Year,
    YearToDate,
}

impl Preset {
    pub const ALL: [Preset; 4] = [
        Preset::Month,
        Preset::Quarter,
        Preset::Year,
        Preset::YearToDate,
    ];

    /// The month, quarter or year holding `anchor`, or January 1 to `anchor`. Checked
    /// arithmetic: at the calendar's far ends (never a checked period's) the day itself.
    pub fn period(self, anchor: NaiveDate) -> Period {
        let whole = || -> Option<Period> {
            let year_start = NaiveDate::from_ymd_opt(anchor.year(), 1, 1)?;
            let (from, months) = match self {
                Preset::Month => (anchor.with_day(1)?, 1),
                Preset::Quarter => (quarter_start(anchor)?, 3),
                Preset::Year => (year_start, 12),
                Preset::YearToDate => {
                    return Some(Period {
                        from: year_start,
                        to: anchor,
                    })
                }
            };
            let to = from.checked_add_months(Months::new(months))?.pred_opt()?;
            Some(Period { from, to })
        };
        whole().unwrap_or(Period {
            from: anchor,
            to: anchor,
        })
    }
}

/// The first days of the twelve months ending with the month of `to`, oldest first (the
/// ranking's sparklines).
pub fn last_twelve_months(to: NaiveDate) -> Vec<NaiveDate> {
    let Some(last) = to.with_day(1) else {
        return Vec::new();
    };
    (0..12u32)
        .rev()
        .filter_map(|i| last.checked_sub_months(Months::new(i)))
        .collect()
}

/// Splits a period into calendar weeks (Monday to Sunday) or months, clipped to the period.
/// Checked arithmetic: where the calendar ends, the last bucket ends with the period.
pub fn buckets(period: Period, bucket: Bucket) -> Vec<Period> {
    let mut out = Vec::new();
    let mut start = period.from;
    while start <= period.to {
        let natural_end = match bucket {
            Bucket::Week => start.checked_add_days(Days::new(
                6 - u64::from(start.weekday().num_days_from_monday()),
            )),
            Bucket::Month => start
                .with_day(1)
                .and_then(|first| first.checked_add_months(Months::new(1)))
                .and_then(|next| next.pred_opt()),
        };
        let end = natural_end.unwrap_or(period.to).min(period.to);
        out.push(Period {
            from: start,
            to: end,
        });
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_hold_the_anchor_day() {
        let anchor: NaiveDate = "2021-03-31".parse().unwrap();
        let p = |preset: Preset| {
            let p = preset.period(anchor);
            (p.from.to_string(), p.to.to_string())
        };
        assert_eq!(p(Preset::Month), ("2021-03-01".into(), "2021-03-31".into()));
        assert_eq!(
            p(Preset::Quarter),
            ("2021-01-01".into(), "2021-03-31".into())
        );
        assert_eq!(p(Preset::Year), ("2021-01-01".into(), "2021-12-31".into()));
        assert_eq!(
            p(Preset::YearToDate),
            ("2021-01-01".into(), "2021-03-31".into())
        );
        let leap: NaiveDate = "2024-02-10".parse().unwrap();
        assert_eq!(Preset::Month.period(leap).to.to_string(), "2024-02-29");
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_and_weeks_tile_the_period_exactly() {
        let p = Period {
            from: d("2021-01-15"),
            to: d("2021-03-31"),
        };
        let months = buckets(p, Bucket::Month);
        assert_eq!(months.len(), 3);
        assert_eq!(
            (months[0].from, months[0].to),
            (d("2021-01-15"), d("2021-01-31"))
        );
        assert_eq!(
            (months[1].from, months[1].to),
            (d("2021-02-01"), d("2021-02-28"))
        );
        let weeks = buckets(p, Bucket::Week);
        // 2021-01-15 is a Friday: the first bucket ends on Sunday 17th.
        assert_eq!(weeks[0].to, d("2021-01-17"));
        assert!(weeks
            .windows(2)
            .all(|w| w[0].to.succ_opt() == Some(w[1].from)));
        assert_eq!(weeks.last().unwrap().to, d("2021-03-31"));
    }

    #[test]
    fn period_arithmetic_at_the_calendar_ends_never_panics() {
        let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
        for preset in Preset::ALL {
            preset.period(min);
            preset.period(max);
        }
        assert_eq!(last_twelve_months(min).len(), 1);
        for bucket in [Bucket::Week, Bucket::Month] {
            let edge = Period { from: max, to: max };
            assert_eq!(buckets(edge, bucket), vec![edge]);
        }
    }

    #[test]
    fn the_default_view_is_the_year_to_date_including_today() {
        let p = default_period(d("2026-11-22"));
        assert_eq!((p.from, p.to), (d("2026-01-01"), d("2026-11-22")));
        let p = default_period(d("2027-01-01"));
        assert_eq!((p.from, p.to), (d("2027-01-01"), d("2027-01-01")));
    }
}
