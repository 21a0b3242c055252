//! The demo after the reform. The scenario plans by the old provinces, districts and communes
//! (its published figures are of their time); a dossier received from 2025-07-01 goes to the unit
//! of today its old unit went into, as a real office's would: a commune's to its successor (one
//! of them, drawn, when it was split), a district's own to the successor of one of its communes
//! (districts ended), a province's to the new province.
use crate::store::conversion::Conversion;
use app::era::code_of;
use app::model::Level;
use std::collections::HashMap;
use std::sync::Arc;

/// Where one province's old units went, built once per province (the simulator asks per event).
pub struct Today {
    conversion: Arc<Conversion>,
    /// Old district → its communes, and old commune → its district.
    communes: HashMap<String, Vec<String>>,
    district_of: HashMap<String, String>,
}

impl Today {
    /// `districts`: each old district with its communes (codes).
    pub fn new(conversion: Arc<Conversion>, districts: &[(String, Vec<String>)]) -> Self {
        let mut district_of = HashMap::new();
        for (district, communes) in districts {
            for c in communes {
                district_of.insert(c.clone(), district.clone());
            }
        }
        Today {
            conversion,
            communes: districts.iter().cloned().collect(),
            district_of,
        }
    }

    /// The new communes (public codes) an old commune's dossiers go to: its successors; for a
    /// commune merged away before 2025 (not in the table), those of its district's first
    /// converted commune.
    fn successors(&self, commune: &str) -> Vec<String> {
        let of = |c: &str| {
            self.conversion.commune(c).map(|s| {
                s.0.iter()
                    .map(|k| code_of(k).to_string())
                    .collect::<Vec<_>>()
            })
        };
        of(commune)
            .or_else(|| {
                let district = self.district_of.get(commune)?;
                self.communes.get(district)?.iter().find_map(|c| of(c))
            })
            .unwrap_or_default()
    }

    /// The level and public code of today for a dossier planned at `level` in old unit `unit`;
    /// `pick(n)` draws one of `n` choices. `None` when the table names no successor.
    pub fn place(
        &self,
        level: Level,
        unit: &str,
        pick: &mut dyn FnMut(usize) -> usize,
    ) -> Option<(Level, String)> {
        let mut choose = |list: Vec<String>| -> Option<String> {
            (!list.is_empty()).then(|| list[pick(list.len()).min(list.len() - 1)].clone())
        };
        match level {
            Level::Province => self
                .conversion
                .province(unit)
                .map(|p| (Level::Province, code_of(p).to_string())),
            Level::Commune => choose(self.successors(unit)).map(|c| (Level::Commune, c)),
            Level::District => {
                let communes = self.communes.get(unit)?.clone();
                let commune = choose(communes)?;
                choose(self.successors(&commune)).map(|c| (Level::Commune, c))
            }
        }
    }
}
