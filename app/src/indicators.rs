//! The published definitions: how a dossier is classified and how every rate is computed.
//!
//! All dates are local dates in Asia/Ho_Chi_Minh (UTC+07:00, no daylight saving), so a dossier
//! resolved at 23:30 UTC counts on the next local day.
use crate::model::Counts;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

/// The fixed offset of Asia/Ho_Chi_Minh.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// The local date in Vietnam of an instant given with any offset.
pub fn local_date<Tz: TimeZone>(at: &DateTime<Tz>) -> NaiveDate {
    at.with_timezone(&vietnam_offset()).date_naive()
}

/// How a resolved dossier compares with its due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    Early,
    OnTime,
    Late,
}

/// Early before the due local date, on time on it, late after it.
pub fn timeliness(resolved: NaiveDate, due: NaiveDate) -> Timeliness {
    match resolved.cmp(&due) {
        std::cmp::Ordering::Less => Timeliness::Early,
        std::cmp::Ordering::Equal => Timeliness::OnTime,
        std::cmp::Ordering::Greater => Timeliness::Late,
    }
}

/// The on-time rate below which a unit needs action.
pub const ACTION_THRESHOLD: f64 = 0.95;

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// (resolved_early + resolved_on_time) / resolved — Decision 766 convention.
pub fn on_time_rate(c: &Counts) -> Option<f64> {
    ratio(c.resolved_early + c.resolved_on_time, c.resolved)
}

/// (resolved_late + pending_overdue) / (resolved + pending), the convention some provinces use.
pub fn late_rate_incl_pending(c: &Counts) -> Option<f64> {
    ratio(c.resolved_late + c.pending_overdue, c.resolved + c.pending)
}

/// Received online / received.
pub fn online_rate(c: &Counts) -> Option<f64> {
    ratio(c.received_online, c.received)
}

/// Paid online / received with a fee.
pub fn online_payment_rate(c: &Counts) -> Option<f64> {
    ratio(c.paid_online, c.received_with_fee)
}

/// Mean processing time in days over resolved dossiers.
pub fn avg_days(c: &Counts) -> Option<f64> {
    (c.resolved > 0).then(|| c.resolved_days_total as f64 / c.resolved as f64)
}

/// A dossier's dates, reduced to what the definitions need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DossierDates {
    pub received: NaiveDate,
    /// The current due date (the latest `due_changed` wins).
    pub due: NaiveDate,
    pub resolved: Option<NaiveDate>,
    pub withdrawn: Option<NaiveDate>,
}

/// Adds one dossier to the counts of a period, by the definitions above. This is the reference
/// the store's SQL is tested against.
pub fn count_dossier(
    c: &mut Counts,
    d: &DossierDates,
    from: NaiveDate,
    to: NaiveDate,
    online: bool,
    with_fee: bool,
    paid_online: bool,
) {
    if d.received >= from && d.received <= to {
        c.received += 1;
        c.received_online += u64::from(online);
        c.received_with_fee += u64::from(with_fee);
        c.paid_online += u64::from(with_fee && paid_online);
    }
    if let Some(resolved) = d.resolved {
        if resolved >= from && resolved <= to {
            c.resolved += 1;
            c.resolved_days_total += (resolved - d.received).num_days();
            match timeliness(resolved, d.due) {
                Timeliness::Early => c.resolved_early += 1,
                Timeliness::OnTime => c.resolved_on_time += 1,
                Timeliness::Late => c.resolved_late += 1,
            }
        }
    }
    let closed = d.resolved.or(d.withdrawn);
    let open_at_end = d.received <= to && closed.is_none_or(|closed| closed > to);
    if open_at_end {
        c.pending += 1;
        c.pending_overdue += u64::from(d.due <= to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dossier(received: &str, due: &str, resolved: Option<&str>) -> DossierDates {
        DossierDates {
            received: d(received),
            due: d(due),
            resolved: resolved.map(d),
            withdrawn: None,
        }
    }

    fn count(dossiers: &[DossierDates], from: &str, to: &str) -> Counts {
        let mut c = Counts::default();
        for x in dossiers {
            count_dossier(&mut c, x, d(from), d(to), false, false, false);
        }
        c
    }

    #[test]
    fn resolved_on_the_due_date_is_on_time_and_a_day_after_is_late() {
        assert_eq!(
            timeliness(d("2021-03-10"), d("2021-03-10")),
            Timeliness::OnTime
        );
        assert_eq!(
            timeliness(d("2021-03-09"), d("2021-03-10")),
            Timeliness::Early
        );
        assert_eq!(
            timeliness(d("2021-03-11"), d("2021-03-10")),
            Timeliness::Late
        );
    }

    #[test]
    fn local_date_near_midnight_uses_plus_seven() {
        let late_utc = DateTime::parse_from_rfc3339("2021-03-31T17:30:00Z").unwrap();
        assert_eq!(local_date(&late_utc), d("2021-04-01"));
        let before = DateTime::parse_from_rfc3339("2021-03-31T16:59:59Z").unwrap();
        assert_eq!(local_date(&before), d("2021-03-31"));
        let given_local = DateTime::parse_from_rfc3339("2021-04-01T00:00:00+07:00").unwrap();
        assert_eq!(local_date(&given_local), d("2021-04-01"));
    }

    #[test]
    fn carried_over_dossiers_count_as_resolved_but_not_received() {
        let c = count(
            &[dossier("2020-12-20", "2021-01-05", Some("2021-01-04"))],
            "2021-01-01",
            "2021-03-31",
        );
        assert_eq!((c.received, c.resolved, c.resolved_early), (0, 1, 1));
        assert_eq!(c.resolved_days_total, 15);
    }

    #[test]
    fn early_on_time_and_late_add_up_to_resolved() {
        let c = count(
            &[
                dossier("2021-01-04", "2021-01-10", Some("2021-01-08")),
                dossier("2021-01-04", "2021-01-10", Some("2021-01-10")),
                dossier("2021-01-04", "2021-01-10", Some("2021-01-12")),
            ],
            "2021-01-01",
            "2021-01-31",
        );
        assert_eq!(c.resolved, 3);
        assert_eq!(
            c.resolved_early + c.resolved_on_time + c.resolved_late,
            c.resolved
        );
        assert_eq!(on_time_rate(&c), Some(2.0 / 3.0));
        assert_eq!(avg_days(&c), Some((4.0 + 6.0 + 8.0) / 3.0));
    }

    #[test]
    fn pending_is_open_at_the_end_of_the_period_and_overdue_when_due_on_or_before_it() {
        let dossiers = [
            // Open, due after the period: pending, not overdue.
            dossier("2021-03-20", "2021-04-05", None),
            // Open, due on the last day: overdue.
            dossier("2021-03-20", "2021-03-31", None),
            // Resolved after the period ends: still pending at its end.
            dossier("2021-03-01", "2021-03-15", Some("2021-04-02")),
            // Received after the period: not pending.
            dossier("2021-04-01", "2021-04-05", None),
        ];
        let c = count(&dossiers, "2021-03-01", "2021-03-31");
        assert_eq!(c.pending, 3);
        assert_eq!(c.pending_overdue, 2);
        assert_eq!(
            late_rate_incl_pending(&c),
            Some(2.0 / 3.0),
            "(late 0 + overdue 2) / (resolved 0 + pending 3)"
        );
    }

    #[test]
    fn withdrawn_dossiers_are_neither_resolved_nor_pending_after_withdrawal() {
        let mut x = dossier("2021-03-01", "2021-03-10", None);
        x.withdrawn = Some(d("2021-03-05"));
        let c = count(&[x], "2021-03-01", "2021-03-31");
        assert_eq!((c.received, c.resolved, c.pending), (1, 0, 0));
        // Before the withdrawal it was still pending.
        let c = count(&[x], "2021-03-01", "2021-03-04");
        assert_eq!(c.pending, 1);
    }

    #[test]
    fn due_changed_after_resolution_reclassifies_by_the_current_due() {
        // The store keeps only the latest due; the classification follows it.
        let mut x = dossier("2021-01-04", "2021-01-10", Some("2021-01-12"));
        assert_eq!(count(&[x], "2021-01-01", "2021-01-31").resolved_late, 1);
        x.due = d("2021-01-15");
        let c = count(&[x], "2021-01-01", "2021-01-31");
        assert_eq!((c.resolved_late, c.resolved_early), (0, 1));
    }

    #[test]
    fn a_rate_with_a_zero_denominator_is_none_never_zero_or_nan() {
        let c = Counts::default();
        assert_eq!(on_time_rate(&c), None);
        assert_eq!(late_rate_incl_pending(&c), None);
        assert_eq!(online_rate(&c), None);
        assert_eq!(online_payment_rate(&c), None);
        assert_eq!(avg_days(&c), None);
    }

    #[test]
    fn online_payment_rate_counts_only_dossiers_with_a_fee() {
        let mut c = Counts::default();
        let x = dossier("2024-01-05", "2024-01-10", None);
        count_dossier(
            &mut c,
            &x,
            d("2024-01-01"),
            d("2024-03-31"),
            true,
            true,
            true,
        );
        count_dossier(
            &mut c,
            &x,
            d("2024-01-01"),
            d("2024-03-31"),
            true,
            false,
            true,
        );
        count_dossier(
            &mut c,
            &x,
            d("2024-01-01"),
            d("2024-03-31"),
            false,
            true,
            false,
        );
        assert_eq!(online_rate(&c), Some(2.0 / 3.0));
        assert_eq!((c.received_with_fee, c.paid_online), (2, 1));
        assert_eq!(online_payment_rate(&c), Some(0.5));
    }
}
