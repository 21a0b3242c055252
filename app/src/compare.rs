//! The comparison view: each unit's change of every indicator between the period and a base
//! period, drawn on a diverging scale (worse in red, better in blue, "about the same" between).
use crate::classify::Method;
use crate::model::{Indicator, IndicatorRow};

/// Each unit of `current` with its indicators replaced by their change against `base` (the same
/// unit there); `None` where either period has no value. Counts stay the current period's.
pub fn change_rows(current: &[IndicatorRow], base: &[IndicatorRow]) -> Vec<IndicatorRow> {
    // By code: the country's 3,321 communes are compared on every live update.
    let base: std::collections::HashMap<&str, &IndicatorRow> =
        base.iter().map(|b| (b.code.as_str(), b)).collect();
    current
        .iter()
        .map(|now| {
            let then = base.get(now.code.as_str()).copied();
            let diff = |f: fn(&IndicatorRow) -> Option<f64>| {
                then.and_then(|then| Some(f(now)? - f(then)?))
            };
            IndicatorRow {
                on_time_rate: diff(|r| r.on_time_rate),
                late_rate_incl_pending: diff(|r| r.late_rate_incl_pending),
                online_rate: diff(|r| r.online_rate),
                online_payment_rate: diff(|r| r.online_payment_rate),
                avg_days: diff(|r| r.avg_days),
                ..now.clone()
            }
        })
        .collect()
}

/// Class limits symmetric around no change: a change within the middle class is "about the
/// same" (±1 percentage point, ±half a day).
pub fn change_method(indicator: Indicator) -> Method {
    Method::Thresholds(if indicator.is_rate() {
        vec![-0.05, -0.01, 0.01, 0.05]
    } else {
        vec![-2.0, -0.5, 0.5, 2.0]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

    fn row(code: &str, on_time: u64, late: u64) -> IndicatorRow {
        IndicatorRow::from_counts(
            code,
            code,
            &Counts {
                resolved: on_time + late,
                resolved_on_time: on_time,
                resolved_late: late,
                ..Counts::default()
            },
        )
    }

    #[test]
    fn a_change_is_now_minus_then_for_the_same_unit_and_none_without_both() {
        let now = [row("A", 99, 1), row("B", 90, 10), row("C", 0, 0)];
        let then = [row("A", 90, 10), row("C", 5, 5)];
        let changes = change_rows(&now, &then);
        assert!((changes[0].on_time_rate.unwrap() - 0.09).abs() < 1e-9);
        assert_eq!(changes[1].on_time_rate, None, "B has no base figures");
        assert_eq!(changes[2].on_time_rate, None, "C resolved nothing now");
        assert_eq!(changes[0].received, now[0].received);
    }

    #[test]
    fn the_scale_is_symmetric_around_no_change() {
        for indicator in Indicator::ALL {
            let Method::Thresholds(limits) = change_method(indicator) else {
                panic!("thresholds")
            };
            let n = limits.len();
            for i in 0..n {
                assert_eq!(limits[i], -limits[n - 1 - i]);
            }
        }
    }
}
