//! Figures of one selection beside the per-unit stats: by sector, by procedure, processing days.
use crate::model::{Channel, Counts, Level, Period};
use serde::{Deserialize, Serialize};

/// One selection: a unit and everything under it (the whole store for `None`), a period and
/// the dashboard's filters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SelectionQuery {
    pub unit: Option<String>,
    pub period: Period,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
    /// Which units `unit` names: today's or those of the period's time.
    #[serde(default)]
    pub units: crate::era::UnitsView,
}

/// Processing days of the dossiers resolved in the period: `counts[d]` dossiers took `d`
/// days from reception to resolution; the last entry counts those that took
/// [`DAYS_CAP`] days or more.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaysDistribution {
    pub counts: Vec<u64>,
}

/// The distribution's last bucket: this many days or more.
pub const DAYS_CAP: u32 = 31;

/// How far a procedure can be done online (the catalogue's `online_level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnlineLevel {
    /// Submitted online, but some step (paper originals, pick-up) in person.
    Partial,
    /// Entirely online, result included.
    Full,
    /// Not offered online.
    None,
}

impl std::str::FromStr for OnlineLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "partial" => Ok(OnlineLevel::Partial),
            "full" => Ok(OnlineLevel::Full),
            "none" => Ok(OnlineLevel::None),
            other => Err(format!(
                "unknown online level '{other}': expected none, partial or full"
            )),
        }
    }
}

/// One procedure of the catalogue with its figures for the selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcedureRow {
    pub code: String,
    pub name: String,
    pub field: String,
    /// `None` for a procedure that dossiers name but the catalogue does not hold.
    pub online_level: Option<OnlineLevel>,
    pub received: u64,
    pub received_online: u64,
    pub resolved: u64,
    /// Resolved on or before the due date (early + on time).
    pub resolved_in_time: u64,
    pub resolved_late: u64,
}

impl ProcedureRow {
    pub fn on_time_rate(&self) -> Option<f64> {
        crate::indicators::on_time_rate(&Counts {
            resolved: self.resolved,
            resolved_on_time: self.resolved_in_time,
            ..Counts::default()
        })
    }

    pub fn online_rate(&self) -> Option<f64> {
        crate::indicators::online_rate(&Counts {
            received: self.received,
            received_online: self.received_online,
            ..Counts::default()
        })
    }
}

/// The share of catalogued procedures offered online at least partly (the national index's
/// indicator); `None` for an empty catalogue.
pub fn share_offered_online(procedures: &[ProcedureRow]) -> Option<f64> {
    let catalogued: Vec<_> = procedures.iter().filter_map(|p| p.online_level).collect();
    let online = catalogued
        .iter()
        .filter(|l| matches!(l, OnlineLevel::Partial | OnlineLevel::Full))
        .count();
    (!catalogued.is_empty()).then(|| online as f64 / catalogued.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn procedure(level: Option<OnlineLevel>) -> ProcedureRow {
        ProcedureRow {
            code: "X".into(),
            name: "X".into(),
            field: "F".into(),
            online_level: level,
            received: 10,
            received_online: 4,
            resolved: 8,
            resolved_in_time: 6,
            resolved_late: 2,
        }
    }

    #[test]
    fn share_online_counts_partly_and_fully_online_catalogued_procedures() {
        let rows = vec![
            procedure(Some(OnlineLevel::Full)),
            procedure(Some(OnlineLevel::Partial)),
            procedure(Some(OnlineLevel::None)),
            procedure(Some(OnlineLevel::None)),
            // Uncatalogued: not part of the catalogue's share.
            procedure(None),
        ];
        assert_eq!(share_offered_online(&rows), Some(0.5));
        assert_eq!(share_offered_online(&[]), None);
    }

    #[test]
    fn procedure_rates_follow_the_indicator_definitions() {
        let p = procedure(Some(OnlineLevel::Full));
        assert_eq!(p.on_time_rate(), Some(0.75));
        assert_eq!(p.online_rate(), Some(0.4));
    }
}
