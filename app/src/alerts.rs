//! Alert rules and the notifications they raise: a leader or chair is told when a unit crosses a
//! threshold instead of watching the dashboard. The types both the API and the pages use.
use crate::model::{IndicatorRow, Level};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// What a rule watches: one of the five indicators, or a count of open dossiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertIndicator {
    OnTimeRate,
    LateRateInclPending,
    OnlineRate,
    OnlinePaymentRate,
    AvgDays,
    /// Open past their due date at the end of the period (today).
    PendingOverdue,
    /// Open and due within 3 working days of today.
    DueSoon,
}

impl AlertIndicator {
    pub const ALL: [AlertIndicator; 7] = [
        AlertIndicator::OnTimeRate,
        AlertIndicator::LateRateInclPending,
        AlertIndicator::OnlineRate,
        AlertIndicator::OnlinePaymentRate,
        AlertIndicator::AvgDays,
        AlertIndicator::PendingOverdue,
        AlertIndicator::DueSoon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertIndicator::OnTimeRate => "on_time_rate",
            AlertIndicator::LateRateInclPending => "late_rate_incl_pending",
            AlertIndicator::OnlineRate => "online_rate",
            AlertIndicator::OnlinePaymentRate => "online_payment_rate",
            AlertIndicator::AvgDays => "avg_days",
            AlertIndicator::PendingOverdue => "pending_overdue",
            AlertIndicator::DueSoon => "due_soon",
        }
    }

    /// A rate (a fraction from 0 to 1), as thresholds and values are written.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            AlertIndicator::OnTimeRate
                | AlertIndicator::LateRateInclPending
                | AlertIndicator::OnlineRate
                | AlertIndicator::OnlinePaymentRate
        )
    }

    /// How far a value must come back past the threshold before the rule fires again: half a
    /// percentage point, half a day, one dossier.
    pub fn default_rearm_margin(self) -> f64 {
        match self {
            a if a.is_rate() => 0.005,
            AlertIndicator::AvgDays => 0.5,
            _ => 1.0,
        }
    }

    /// The value of a unit's figures; `None` when it has no denominator. Due soon is counted
    /// elsewhere (it is not in the figures).
    pub fn value(self, row: &IndicatorRow) -> Option<f64> {
        match self {
            AlertIndicator::OnTimeRate => row.on_time_rate,
            AlertIndicator::LateRateInclPending => row.late_rate_incl_pending,
            AlertIndicator::OnlineRate => row.online_rate,
            AlertIndicator::OnlinePaymentRate => row.online_payment_rate,
            AlertIndicator::AvgDays => row.avg_days,
            AlertIndicator::PendingOverdue => Some(row.pending_overdue as f64),
            AlertIndicator::DueSoon => None,
        }
    }
}

/// The period a rule's figures cover, ending today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertPeriod {
    MonthToDate,
    QuarterToDate,
    Rolling30Days,
}

impl AlertPeriod {
    /// The period ending `today`, and the one before it of the same length (for changes): the
    /// same days of the previous month or quarter, or the 30 days before.
    pub fn periods(self, today: NaiveDate) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
        let first_of = |year: i32, month: u32| {
            NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
        };
        let start = match self {
            AlertPeriod::MonthToDate => first_of(today.year(), today.month()),
            AlertPeriod::QuarterToDate => first_of(today.year(), (today.month0() / 3) * 3 + 1),
            AlertPeriod::Rolling30Days => today - Duration::days(29),
        };
        let previous = match self {
            AlertPeriod::Rolling30Days => {
                let end = start - Duration::days(1);
                (end - Duration::days(29), end)
            }
            AlertPeriod::MonthToDate | AlertPeriod::QuarterToDate => {
                let months = if self == AlertPeriod::MonthToDate {
                    1
                } else {
                    3
                };
                let before = start
                    .checked_sub_months(chrono::Months::new(months))
                    .unwrap_or(start);
                // As many days into it as today is into this one, within it.
                let end = (before + (today - start)).min(start - Duration::days(1));
                (before, end)
            }
        };
        ((start, today), previous)
    }
}

/// When a rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AlertCondition {
    /// The value is under `value`.
    Below { value: f64 },
    /// The value is over `value`.
    Above { value: f64 },
    /// The value fell by at least `value` against the previous period.
    Drop { value: f64 },
    /// The value rose by at least `value` against the previous period.
    Rise { value: f64 },
}

impl AlertCondition {
    pub fn threshold(self) -> f64 {
        match self {
            AlertCondition::Below { value }
            | AlertCondition::Above { value }
            | AlertCondition::Drop { value }
            | AlertCondition::Rise { value } => value,
        }
    }

    pub fn compares_periods(self) -> bool {
        matches!(
            self,
            AlertCondition::Drop { .. } | AlertCondition::Rise { .. }
        )
    }

    /// Whether the condition holds for a value `excess` past its threshold: strictly below or
    /// above, a change of at least the value.
    pub fn holds(self, excess: f64) -> bool {
        if self.compares_periods() {
            excess >= -1e-12
        } else {
            excess > 0.0
        }
    }

    /// How far past the threshold the value is, positive when the condition holds (`None`
    /// when there is no value, or no previous one to compare with).
    pub fn excess(self, value: Option<f64>, previous: Option<f64>) -> Option<f64> {
        let value = value?;
        Some(match self {
            AlertCondition::Below { value: t } => t - value,
            AlertCondition::Above { value: t } => value - t,
            AlertCondition::Drop { value: t } => (previous? - value) - t,
            AlertCondition::Rise { value: t } => (value - previous?) - t,
        })
    }
}

/// Where a rule's alerts go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertChannel {
    /// The notification list of the rule's owner.
    InApp,
    /// A POST of the alert as JSON, signed with HMAC-SHA256 in `X-IEM-Signature`.
    Webhook { url: String },
    /// An e-mail through the server's SMTP relay.
    Email { to: String },
}

/// A rule as its owner writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertRuleInput {
    pub name: String,
    pub indicator: AlertIndicator,
    /// A unit in force today (its code), within the owner's scope.
    pub unit: String,
    /// Watch each unit of this level under `unit` ("any commune of province 48") instead of
    /// `unit` itself.
    #[serde(default)]
    pub level: Option<Level>,
    pub period: AlertPeriod,
    pub condition: AlertCondition,
    /// How far the value must come back past the threshold before the rule can fire again
    /// (default: half a percentage point for rates, half a day, one dossier).
    #[serde(default)]
    pub rearm_margin: Option<f64>,
    pub channels: Vec<AlertChannel>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// A stored rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertRule {
    pub id: String,
    /// Who defined it (`user:NAME` or `token:ID`); only they (and admins) see it.
    pub owner: String,
    /// The key webhook deliveries are signed with (HMAC-SHA256 of the body, hex).
    pub webhook_secret: String,
    #[serde(flatten)]
    pub rule: AlertRuleInput,
}

/// One alert in the owner's list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// When it fired (RFC 3339, UTC).
    pub fired_at: String,
    pub indicator: AlertIndicator,
    pub condition: AlertCondition,
    pub unit_code: String,
    pub unit_name: String,
    #[serde(deserialize_with = "crate::iso::date")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    pub to: NaiveDate,
    pub value: f64,
    /// The previous period's value, for a change.
    pub previous: Option<f64>,
    /// The dashboard view that shows it (a path and query on this server).
    pub link: String,
    pub read: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertList {
    pub unread: u64,
    /// Newest first.
    pub alerts: Vec<Alert>,
}

/// What the alerts page shows: the viewer's alerts and rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertsPage {
    pub alerts: AlertList,
    pub rules: Vec<AlertRule>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_end_today_and_compare_with_the_same_days_before() {
        let today = d("2026-03-31");
        assert_eq!(
            AlertPeriod::MonthToDate.periods(today),
            ((d("2026-03-01"), today), (d("2026-02-01"), d("2026-02-28")))
        );
        assert_eq!(
            AlertPeriod::QuarterToDate.periods(d("2026-05-10")),
            (
                (d("2026-04-01"), d("2026-05-10")),
                (d("2026-01-01"), d("2026-02-09"))
            )
        );
        assert_eq!(
            AlertPeriod::Rolling30Days.periods(today),
            ((d("2026-03-02"), today), (d("2026-01-31"), d("2026-03-01")))
        );
    }

    #[test]
    fn conditions_measure_how_far_past_the_threshold_a_value_is() {
        let below = AlertCondition::Below { value: 0.95 };
        assert!(below.excess(Some(0.94), None).unwrap() > 0.0);
        assert!(below.excess(Some(0.96), None).unwrap() < 0.0);
        assert_eq!(below.excess(None, None), None);
        let drop = AlertCondition::Drop { value: 0.02 };
        assert!(drop.excess(Some(0.90), Some(0.93)).unwrap() > 0.0);
        assert!(
            drop.holds(drop.excess(Some(0.91), Some(0.93)).unwrap()),
            "a drop of exactly the value"
        );
        assert!(
            !below.holds(below.excess(Some(0.95), None).unwrap()),
            "at the threshold is not below"
        );
        assert!(drop.excess(Some(0.92), Some(0.93)).unwrap() < 0.0);
        assert_eq!(
            drop.excess(Some(0.9), None),
            None,
            "no previous value, no change"
        );
        assert!(
            AlertCondition::Rise { value: 5.0 }
                .excess(Some(12.0), Some(6.0))
                .unwrap()
                > 0.0
        );
        assert!(
            AlertCondition::Above { value: 10.0 }
                .excess(Some(11.0), None)
                .unwrap()
                > 0.0
        );
    }
}
