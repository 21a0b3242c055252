//! Today's units from the old ones: the government's conversion table (`data/conversion/`) and
//! the one rule that turns figures of pre-reform units into figures of the units they went into.
//!
//! - An old province goes wholly into one new province (new Đà Nẵng = old Quảng Nam + old Đà
//!   Nẵng): exact.
//! - An old commune that went whole into one new commune: exact.
//! - An old commune split between k new communes: each of its counts is shared equally, in whole
//!   dossiers: every successor (in code order) gets ⌊n/k⌋ and the first n mod k one more. With no
//!   population or area weights in the table, equal shares are the neutral choice; the integer
//!   rule keeps every total exact and every "part ≤ whole" relation (on time ≤ resolved) true.
//!   Figures built partly from such shares say so and how many dossiers were shared.
//! - An old commune the table does not name (merged away before 2025) is "not converted": counted
//!   in its province and listed with its code, never silently dropped.
use super::StoreFailure;
use app::era::Era;
use app::model::Counts;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, serde::Deserialize)]
struct Row {
    old_commune_code: String,
    old_district_code: String,
    old_province_code: String,
    new_commune_code: String,
    new_province_code: String,
}

/// Where one old commune's dossiers go: the new communes (store keys, in code order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Successors(pub Vec<String>);

impl Successors {
    /// Whether the commune was split (its counts are shared between several).
    pub fn split(&self) -> bool {
        self.0.len() > 1
    }
}

/// The conversion table, keyed by store keys (old era → new era).
#[derive(Debug, Default)]
pub struct Conversion {
    provinces: HashMap<String, String>,
    communes: HashMap<String, Successors>,
    /// New province → the old provinces that went into it, in code order.
    old_provinces: BTreeMap<String, Vec<String>>,
    /// New commune → (old commune, its share: index among its successors and their number).
    sources: HashMap<String, Vec<(String, usize, usize)>>,
}

impl Conversion {
    /// Reads `data/conversion/*.csv`. `communes_of_district` lists an old district's communes (for
    /// the table's few rows that convert a whole district, such as island districts made đặc khu).
    pub fn load(
        data_dir: &Path,
        communes_of_district: &dyn Fn(&str) -> Result<Vec<String>, StoreFailure>,
    ) -> Result<Conversion, StoreFailure> {
        let dir = data_dir.join("conversion");
        let mut rows: Vec<Row> = Vec::new();
        if dir.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| StoreFailure::Seed(format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv"))
                .collect();
            files.sort();
            for file in files {
                let mut reader = csv::Reader::from_path(&file)
                    .map_err(|e| StoreFailure::Seed(format!("{}: {e}", file.display())))?;
                for (i, row) in reader.deserialize().enumerate() {
                    rows.push(row.map_err(|e| {
                        StoreFailure::Seed(format!("{} line {}: {e}", file.display(), i + 2))
                    })?);
                }
            }
        }
        Conversion::from_rows(rows, communes_of_district)
    }

    fn from_rows(
        rows: Vec<Row>,
        communes_of_district: &dyn Fn(&str) -> Result<Vec<String>, StoreFailure>,
    ) -> Result<Conversion, StoreFailure> {
        let old = |code: &str| Era::Before2025.key(code);
        let new = |code: &str| Era::From2025.key(code);
        let bad = |row: &Row| {
            StoreFailure::Seed(format!(
                "conversion row {} → {}: not unit codes",
                row.old_commune_code, row.new_commune_code
            ))
        };
        let mut conv = Conversion::default();
        let mut successors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut whole_districts: Vec<(String, String)> = Vec::new();
        for row in &rows {
            let (Some(old_province), Some(new_province), Some(new_commune)) = (
                old(&row.old_province_code),
                new(&row.new_province_code),
                new(&row.new_commune_code),
            ) else {
                return Err(bad(row));
            };
            if let Some(previous) = conv
                .provinces
                .insert(old_province.clone(), new_province.clone())
            {
                if previous != new_province {
                    return Err(StoreFailure::Seed(format!(
                        "conversion: old province {} goes into both {} and {}",
                        row.old_province_code,
                        app::era::code_of(&previous),
                        row.new_province_code
                    )));
                }
            }
            if row.old_commune_code.is_empty() {
                let district = old(&row.old_district_code).ok_or_else(|| bad(row))?;
                whole_districts.push((district, new_commune));
            } else {
                let commune = old(&row.old_commune_code).ok_or_else(|| bad(row))?;
                let to = successors.entry(commune).or_default();
                if !to.contains(&new_commune) {
                    to.push(new_commune);
                }
            }
        }
        // A whole district converts those of its communes the table does not name one by one.
        for (district, new_commune) in whole_districts {
            for commune in communes_of_district(&district)? {
                successors
                    .entry(commune)
                    .or_insert_with(|| vec![new_commune.clone()]);
            }
        }
        for (old_province, new_province) in &conv.provinces {
            conv.old_provinces
                .entry(new_province.clone())
                .or_default()
                .push(old_province.clone());
        }
        for list in conv.old_provinces.values_mut() {
            list.sort();
        }
        for (commune, mut to) in successors {
            to.sort();
            let k = to.len();
            for (i, new_commune) in to.iter().enumerate() {
                conv.sources
                    .entry(new_commune.clone())
                    .or_default()
                    .push((commune.clone(), i, k));
            }
            conv.communes.insert(commune, Successors(to));
        }
        Ok(conv)
    }

    /// The new province an old one went into.
    pub fn province(&self, old_key: &str) -> Option<&str> {
        self.provinces.get(old_key).map(String::as_str)
    }

    /// The old provinces that went into the new province `new_key`.
    pub fn old_provinces(&self, new_key: &str) -> &[String] {
        self.old_provinces
            .get(new_key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The new communes an old one went into (`None`: not in the table).
    pub fn commune(&self, old_key: &str) -> Option<&Successors> {
        self.communes.get(old_key)
    }

    /// The old communes that went (wholly or in part) into the new commune `new_key`, each with
    /// its share (index among its successors, their number).
    pub fn sources(&self, new_key: &str) -> &[(String, usize, usize)] {
        self.sources.get(new_key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The units of today an old unit (store keys) went into: its new province, and for a
    /// commune its successors. Empty for a unit of today.
    pub fn today_of(&self, code: &str, province: &str) -> crate::scope::Today {
        if Era::of_key(code) == Era::From2025 {
            return crate::scope::Today::default();
        }
        crate::scope::Today {
            province: self.province(province).map(str::to_string),
            communes: self.commune(code).map(|s| s.0.clone()).unwrap_or_default(),
        }
    }

    /// Whether the table is loaded (a store opened without `data/conversion/` has none).
    pub fn is_empty(&self) -> bool {
        self.provinces.is_empty()
    }
}

/// Share `i` of `k` of `n` whole things: ⌊n/k⌋, and one more for the first n mod k shares.
pub fn share(n: u64, i: usize, k: usize) -> u64 {
    let (k, i) = (k.max(1) as u64, i as u64);
    n / k + u64::from(i < n % k)
}

/// Share `i` of `k` of every count (see [`share`]). The resolved dossiers are shared by kind
/// (early, on time, late) and summed, so they still add up.
pub fn share_counts(c: &Counts, i: usize, k: usize) -> Counts {
    let s = |n: u64| share(n, i, k);
    let (early, on_time, late) = (
        s(c.resolved_early),
        s(c.resolved_on_time),
        s(c.resolved_late),
    );
    let resolved = if c.resolved == c.resolved_early + c.resolved_on_time + c.resolved_late {
        early + on_time + late
    } else {
        s(c.resolved)
    };
    Counts {
        received: s(c.received),
        received_online: s(c.received_online),
        received_with_fee: s(c.received_with_fee),
        paid_online: s(c.paid_online),
        resolved,
        resolved_early: early,
        resolved_on_time: on_time,
        resolved_late: late,
        resolved_days_total: share(c.resolved_days_total.max(0) as u64, i, k) as i64,
        pending: s(c.pending),
        pending_overdue: s(c.pending_overdue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(old: &str, district: &str, province: &str, new: &str, new_province: &str) -> Row {
        Row {
            old_commune_code: old.into(),
            old_district_code: district.into(),
            old_province_code: province.into(),
            new_commune_code: new.into(),
            new_province_code: new_province.into(),
        }
    }

    fn table() -> Conversion {
        Conversion::from_rows(
            vec![
                row("20341", "502", "49", "20341", "48"),
                row("20344", "502", "49", "20341", "48"),
                row("20350", "502", "49", "20341", "48"),
                row("20350", "502", "49", "20356", "48"),
                row("20194", "490", "48", "20194", "48"),
                row("", "498", "48", "20333", "48"),
            ],
            &|district| {
                Ok(if district == "498" {
                    vec!["20320".into()]
                } else {
                    vec![]
                })
            },
        )
        .unwrap()
    }

    #[test]
    fn old_provinces_go_wholly_into_one_new_province() {
        let t = table();
        assert_eq!(t.province("49"), Some("48@2025"));
        assert_eq!(t.province("48"), Some("48@2025"));
        assert_eq!(
            t.old_provinces("48@2025"),
            ["48".to_string(), "49".to_string()]
        );
    }

    #[test]
    fn a_whole_commune_has_one_successor_and_a_split_one_several() {
        let t = table();
        assert!(!t.commune("20344").unwrap().split());
        let split = t.commune("20350").unwrap();
        assert!(split.split());
        assert_eq!(split.0, ["20341@2025", "20356@2025"]);
        assert_eq!(
            t.sources("20341@2025"),
            [
                ("20341".to_string(), 0, 1),
                ("20344".to_string(), 0, 1),
                ("20350".to_string(), 0, 2)
            ]
        );
        assert_eq!(t.sources("20356@2025"), [("20350".to_string(), 1, 2)]);
        // Merged away before 2025: not in the table, so not converted.
        assert_eq!(t.commune("20338"), None);
    }

    #[test]
    fn a_whole_district_converts_its_communes() {
        assert_eq!(table().commune("20320").unwrap().0, ["20333@2025"]);
    }

    #[test]
    fn shares_of_a_count_add_up_to_it_and_keep_parts_below_wholes() {
        for n in 0..40u64 {
            for k in 1..6 {
                let total: u64 = (0..k).map(|i| share(n, i, k)).sum();
                assert_eq!(total, n);
            }
        }
        let c = Counts {
            received: 7,
            received_online: 5,
            resolved: 6,
            resolved_early: 1,
            resolved_on_time: 3,
            resolved_late: 2,
            resolved_days_total: 31,
            pending: 3,
            pending_overdue: 1,
            ..Counts::default()
        };
        let mut sum = Counts::default();
        for i in 0..3 {
            let part = share_counts(&c, i, 3);
            assert!(part.received_online <= part.received);
            assert!(part.pending_overdue <= part.pending);
            assert_eq!(
                part.resolved,
                part.resolved_early + part.resolved_on_time + part.resolved_late
            );
            sum.add(&part);
        }
        assert_eq!(sum, c);
    }
}
