//! Period presets: which dates "last complete quarter" and friends stand for.
use crate::model::Period;
use chrono::{Datelike, NaiveDate};

fn quarter_start(d: NaiveDate) -> NaiveDate {
    let month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), month, 1).expect("valid quarter start")
}

/// The last quarter that ended before `today` (the dashboard's default view).
pub fn last_complete_quarter(today: NaiveDate) -> Period {
    let this_quarter = quarter_start(today);
    let to = this_quarter.pred_opt().expect("date in range");
    Period {
        from: quarter_start(to),
        to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn last_complete_quarter_before_a_date() {
        let q = last_complete_quarter(d("2026-11-22"));
        assert_eq!((q.from, q.to), (d("2026-07-01"), d("2026-09-30")));
        let q = last_complete_quarter(d("2021-04-01"));
        assert_eq!((q.from, q.to), (d("2021-01-01"), d("2021-03-31")));
        let q = last_complete_quarter(d("2021-01-15"));
        assert_eq!((q.from, q.to), (d("2020-10-01"), d("2020-12-31")));
    }
}
