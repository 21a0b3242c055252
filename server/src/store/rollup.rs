//! A dossier's contribution to the daily rollup, and the deltas an event batch produces.
use app::indicators::{timeliness, Timeliness};
use chrono::NaiveDate;
use std::collections::HashMap;

/// The counters of one rollup row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: i64,
    pub received_online: i64,
    pub received_with_fee: i64,
    pub paid_online: i64,
    pub resolved: i64,
    pub resolved_early: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    pub resolved_days: i64,
    pub closed: i64,
    pub due: i64,
    pub due_or_closed: i64,
}

impl Counters {
    fn add_scaled(&mut self, o: &Counters, k: i64) {
        self.received += k * o.received;
        self.received_online += k * o.received_online;
        self.received_with_fee += k * o.received_with_fee;
        self.paid_online += k * o.paid_online;
        self.resolved += k * o.resolved;
        self.resolved_early += k * o.resolved_early;
        self.resolved_on_time += k * o.resolved_on_time;
        self.resolved_late += k * o.resolved_late;
        self.resolved_days += k * o.resolved_days;
        self.closed += k * o.closed;
        self.due += k * o.due;
        self.due_or_closed += k * o.due_or_closed;
    }

    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }

    /// The values in the order of [`crate::store::counters::COUNTERS`] (the tables' columns).
    pub fn values(&self) -> [i64; 12] {
        [
            self.received,
            self.received_online,
            self.received_with_fee,
            self.paid_online,
            self.resolved,
            self.resolved_early,
            self.resolved_on_time,
            self.resolved_late,
            self.resolved_days,
            self.closed,
            self.due,
            self.due_or_closed,
        ]
    }
}

/// What the rollup needs to know of a dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DossierFacts {
    pub unit: u32,
    pub field: u32,
    pub online: bool,
    pub channel: u8,
    pub fee: bool,
    pub paid_online: bool,
    pub received: NaiveDate,
    pub due: NaiveDate,
    pub resolved: Option<NaiveDate>,
    pub withdrawn: Option<NaiveDate>,
}

/// Rollup row key: handling unit, field, channel (interned) and day.
pub type RowKey = (u32, u32, u8, NaiveDate);

/// The counters a dossier adds to each day, by the definitions in `app::indicators`.
pub fn contribution(d: &DossierFacts) -> Vec<(NaiveDate, Counters)> {
    let mut out = Vec::with_capacity(5);
    out.push((
        d.received,
        Counters {
            received: 1,
            received_online: i64::from(d.online),
            received_with_fee: i64::from(d.fee),
            paid_online: i64::from(d.fee && d.paid_online),
            ..Counters::default()
        },
    ));
    out.push((
        d.due,
        Counters {
            due: 1,
            ..Counters::default()
        },
    ));
    if let Some(resolved) = d.resolved {
        let class = timeliness(resolved, d.due);
        out.push((
            resolved,
            Counters {
                resolved: 1,
                resolved_early: i64::from(class == Timeliness::Early),
                resolved_on_time: i64::from(class == Timeliness::OnTime),
                resolved_late: i64::from(class == Timeliness::Late),
                resolved_days: (resolved - d.received).num_days(),
                ..Counters::default()
            },
        ));
    }
    if let Some(closed) = d.resolved.or(d.withdrawn) {
        out.push((
            closed,
            Counters {
                closed: 1,
                ..Counters::default()
            },
        ));
        out.push((
            closed.max(d.due),
            Counters {
                due_or_closed: 1,
                ..Counters::default()
            },
        ));
    }
    out
}

/// What one change of a dossier adds to each day (non-zero days only, by day): the cluster
/// store writes these beside the event, and its rollups sum them.
pub fn change_by_day(
    before: Option<&DossierFacts>,
    after: &DossierFacts,
) -> Vec<(NaiveDate, Counters)> {
    let mut days: std::collections::BTreeMap<NaiveDate, Counters> = Default::default();
    if let Some(b) = before {
        for (day, c) in contribution(b) {
            days.entry(day).or_default().add_scaled(&c, -1);
        }
    }
    for (day, c) in contribution(after) {
        days.entry(day).or_default().add_scaled(&c, 1);
    }
    days.into_iter().filter(|(_, c)| !c.is_zero()).collect()
}

/// Accumulates the difference between dossiers' old and new contributions.
#[derive(Default)]
pub struct RollupDelta {
    pub rows: HashMap<RowKey, Counters>,
}

impl RollupDelta {
    fn add(&mut self, d: &DossierFacts, sign: i64) {
        for (day, c) in contribution(d) {
            self.rows
                .entry((d.unit, d.field, d.channel, day))
                .or_default()
                .add_scaled(&c, sign);
        }
    }

    /// Records that a dossier went from `before` (None when new) to `after`.
    pub fn change(&mut self, before: Option<&DossierFacts>, after: &DossierFacts) {
        if let Some(b) = before {
            self.add(b, -1);
        }
        self.add(after, 1);
    }

    pub fn nonzero(&self) -> impl Iterator<Item = (&RowKey, &Counters)> {
        self.rows.iter().filter(|(_, c)| !c.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_in_the_order_the_counters_are_named() {
        let c = Counters {
            received: 1,
            received_online: 2,
            received_with_fee: 3,
            paid_online: 4,
            resolved: 5,
            resolved_early: 6,
            resolved_on_time: 7,
            resolved_late: 8,
            resolved_days: 9,
            closed: 10,
            due: 11,
            due_or_closed: 12,
        };
        let named = [
            "received",
            "received_online",
            "received_with_fee",
            "paid_online",
            "resolved",
            "resolved_early",
            "resolved_on_time",
            "resolved_late",
            "resolved_days",
            "closed",
            "due",
            "due_or_closed",
        ];
        assert_eq!(crate::store::counters::COUNTERS, named);
        assert_eq!(c.values(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }
    use app::indicators::{count_dossier, DossierDates};
    use app::model::Counts;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(
        received: &str,
        due: &str,
        resolved: Option<&str>,
        withdrawn: Option<&str>,
    ) -> DossierFacts {
        DossierFacts {
            unit: 0,
            field: 0,
            online: true,
            channel: 0,
            fee: true,
            paid_online: false,
            received: d(received),
            due: d(due),
            resolved: resolved.map(d),
            withdrawn: withdrawn.map(d),
        }
    }

    /// Sums a delta the way the store's SQL does: range sums and prefix sums.
    fn query(delta: &RollupDelta, from: NaiveDate, to: NaiveDate) -> Counts {
        let mut c = Counts::default();
        for ((_, _, _, day), x) in &delta.rows {
            if *day >= from && *day <= to {
                c.received += x.received as u64;
                c.received_online += x.received_online as u64;
                c.received_with_fee += x.received_with_fee as u64;
                c.paid_online += x.paid_online as u64;
                c.resolved += x.resolved as u64;
                c.resolved_early += x.resolved_early as u64;
                c.resolved_on_time += x.resolved_on_time as u64;
                c.resolved_late += x.resolved_late as u64;
                c.resolved_days_total += x.resolved_days;
            }
        }
        let (mut pending, mut overdue) = (0i64, 0i64);
        for ((_, _, _, day), x) in &delta.rows {
            if *day <= to {
                pending += x.received - x.closed;
                overdue += x.due - x.due_or_closed;
            }
        }
        c.pending = pending as u64;
        c.pending_overdue = overdue as u64;
        c
    }

    #[test]
    fn rollup_sums_equal_the_reference_definitions_for_every_period() {
        let dossiers = [
            facts("2021-01-04", "2021-01-10", Some("2021-01-08"), None),
            facts("2021-01-04", "2021-01-10", Some("2021-01-10"), None),
            facts("2021-01-04", "2021-01-10", Some("2021-02-12"), None),
            facts("2020-12-20", "2021-01-05", Some("2021-01-04"), None),
            facts("2021-01-20", "2021-02-01", None, Some("2021-01-25")),
            facts("2021-01-20", "2021-01-30", None, None),
            facts("2021-03-28", "2021-04-05", None, None),
        ];
        let mut delta = RollupDelta::default();
        for x in &dossiers {
            delta.change(None, x);
        }
        let days = [
            "2020-12-01",
            "2020-12-31",
            "2021-01-01",
            "2021-01-09",
            "2021-01-10",
            "2021-01-24",
            "2021-01-25",
            "2021-01-31",
            "2021-02-28",
            "2021-03-31",
            "2021-04-30",
        ];
        for (i, from) in days.iter().enumerate() {
            for to in &days[i..] {
                let mut expected = Counts::default();
                for x in &dossiers {
                    let dates = DossierDates {
                        received: x.received,
                        due: x.due,
                        resolved: x.resolved,
                        withdrawn: x.withdrawn,
                    };
                    count_dossier(
                        &mut expected,
                        &dates,
                        d(from),
                        d(to),
                        x.online,
                        x.fee,
                        x.paid_online,
                    );
                }
                assert_eq!(query(&delta, d(from), d(to)), expected, "{from}..{to}");
            }
        }
    }

    #[test]
    fn a_change_replaces_the_old_contribution() {
        let open = facts("2021-01-04", "2021-01-10", None, None);
        let mut resolved = open;
        resolved.resolved = Some(d("2021-01-12"));
        let mut rescheduled = resolved;
        rescheduled.due = d("2021-01-15");
        let mut delta = RollupDelta::default();
        delta.change(None, &open);
        delta.change(Some(&open), &resolved);
        delta.change(Some(&resolved), &rescheduled);
        let c = query(&delta, d("2021-01-01"), d("2021-01-31"));
        assert_eq!(
            (
                c.received,
                c.resolved,
                c.resolved_early,
                c.resolved_late,
                c.pending
            ),
            (1, 1, 1, 0, 0)
        );
    }
}
