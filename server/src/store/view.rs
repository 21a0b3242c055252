//! Figures on the units of an era: which rollup rows a unit gathers, and how rows keyed by old
//! units fold into today's ([`super::conversion`] holds the rule). Shared by both engines: they
//! only sum rows; everything era-aware happens here, above [`super::figures::Figures`].
use super::conversion::{share, share_counts, Conversion};
use super::figures::key_column;
use super::query::unit_level;
use super::StoreFailure;
use app::era::{code_of, Era};
use app::model::{Counts, IndicatorRow, Level};
use duckdb::Connection;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// A figure that can be shared out in whole dossiers and added up.
pub trait Shareable: Default {
    fn add(&mut self, other: &Self);
    /// Share `i` of `k` (see [`share`]).
    fn share(&self, i: usize, k: usize) -> Self;
}

impl Shareable for Counts {
    fn add(&mut self, other: &Self) {
        Counts::add(self, other)
    }
    fn share(&self, i: usize, k: usize) -> Self {
        share_counts(self, i, k)
    }
}

/// Four counts shared one by one: the monotone rule of [`share`] keeps a part below its whole.
impl Shareable for [u64; 4] {
    fn add(&mut self, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            *a += b;
        }
    }
    fn share(&self, i: usize, k: usize) -> Self {
        self.map(|n| share(n, i, k))
    }
}

/// A procedure's counts and the sector its dossiers carried.
impl Shareable for ([u64; 4], Option<String>) {
    fn add(&mut self, other: &Self) {
        self.0.add(&other.0);
        if self.1.is_none() {
            self.1.clone_from(&other.1);
        }
    }
    fn share(&self, i: usize, k: usize) -> Self {
        (self.0.share(i, k), self.1.clone())
    }
}

impl Shareable for Vec<u64> {
    fn add(&mut self, other: &Self) {
        if self.len() < other.len() {
            self.resize(other.len(), 0);
        }
        for (a, b) in self.iter_mut().zip(other) {
            *a += b;
        }
    }
    fn share(&self, i: usize, k: usize) -> Self {
        self.iter().map(|&n| share(n, i, k)).collect()
    }
}

impl Shareable for u64 {
    fn add(&mut self, other: &Self) {
        *self += other;
    }
    fn share(&self, i: usize, k: usize) -> Self {
        share(*self, i, k)
    }
}

impl<K: Eq + Hash + Clone, V: Shareable> Shareable for HashMap<K, V> {
    fn add(&mut self, other: &Self) {
        for (key, value) in other {
            self.entry(key.clone()).or_default().add(value);
        }
    }
    fn share(&self, i: usize, k: usize) -> Self {
        self.iter()
            .map(|(key, value)| (key.clone(), value.share(i, k)))
            .collect()
    }
}

/// The era whose units a query's figures are shown on (`units=` for a period ending on `to`); a
/// bad query naming `units` when historical units are asked past the reform.
pub fn era_of(units: app::era::UnitsView, to: chrono::NaiveDate) -> Result<Era, StoreFailure> {
    units.era(to).map_err(|message| StoreFailure::BadQuery {
        field: "units",
        message,
    })
}

/// A unit named in a query, in the era its figures are shown on.
#[derive(Clone, Debug)]
pub struct ViewUnit {
    pub key: String,
    pub level: Level,
    pub name: String,
}

/// The unit `code` of `era`; a bad query naming `field` when there is none.
pub fn view_unit(
    conn: &Connection,
    code: &str,
    era: Era,
    field: &'static str,
) -> Result<ViewUnit, StoreFailure> {
    let other = era.other();
    let unknown = || -> Result<StoreFailure, StoreFailure> {
        // A code of the other era: say how to see it.
        let in_other = match other.key(code) {
            Some(key) => unit_level(conn, &key)?.is_some(),
            None => false,
        };
        let message = match (era, in_other) {
            (Era::From2025, true) => format!(
                "'{code}' is a unit before the 2025 reform: show a period ending by {} (or units=historical)",
                app::era::LAST_DISTRICT_DAY
            ),
            (Era::Before2025, true) => format!(
                "'{code}' is a unit from {}: show it on today's units (units=current)",
                app::era::REFORM_DATE
            ),
            (Era::From2025, false) => format!("'{code}' is not the code of a unit in force from 2025-07-01"),
            (Era::Before2025, false) => {
                format!("'{code}' is not the code of a unit in force before the 2025 reform")
            }
        };
        Ok(StoreFailure::BadQuery { field, message })
    };
    let Some(key) = era.key(code) else {
        return Err(unknown()?);
    };
    let Some((level, name)) = unit_level(conn, &key)? else {
        return Err(unknown()?);
    };
    Ok(ViewUnit { key, level, name })
}

/// The rollup rows that count for `unit` on the units of `era`: a key column and its values.
/// Today's units also gather the old units that went into them: a province its old provinces
/// (exact); a commune its old communes, those split between several shared out by [`fold`].
pub fn gather(conversion: &Conversion, era: Era, unit: &ViewUnit) -> (&'static str, Vec<String>) {
    let column = key_column(unit.level);
    let mut keys = vec![unit.key.clone()];
    if era == Era::From2025 {
        match unit.level {
            Level::Province => keys.extend(conversion.old_provinces(&unit.key).iter().cloned()),
            Level::Commune => keys.extend(
                conversion
                    .sources(&unit.key)
                    .iter()
                    .map(|(old, _, _)| old.clone()),
            ),
            Level::District => {}
        }
    }
    (column, keys)
}

/// Figures grouped by a level's key column, folded into the units of an era.
#[derive(Debug)]
pub struct Folded<V> {
    /// By store key of the era's units.
    pub by_unit: HashMap<String, V>,
    /// Per unit, the dossiers received by split communes it counts by shares.
    pub apportioned: HashMap<String, u64>,
    /// Rows without a unit of the level (dossiers handled above it).
    pub above: V,
    /// Old units with no successor in the table, by key.
    pub not_converted: BTreeMap<String, V>,
    /// How many old units' figures were carried onto today's.
    pub converted: usize,
}

/// Folds `grouped` (by the key column of `level`) into the units of `era`: keys of the era stay;
/// on today's units an old key counts for its successor, shared equally when it has several.
/// `received` tells how many received dossiers a figure holds (for the apportioned note).
pub fn fold<V: Shareable>(
    conversion: &Conversion,
    era: Era,
    level: Level,
    grouped: HashMap<Option<String>, V>,
    received: impl Fn(&V) -> u64,
) -> Folded<V> {
    let mut out = Folded {
        by_unit: HashMap::new(),
        apportioned: HashMap::new(),
        above: V::default(),
        not_converted: BTreeMap::new(),
        converted: 0,
    };
    for (key, value) in grouped {
        let Some(key) = key else {
            out.above.add(&value);
            continue;
        };
        if era == Era::Before2025 || Era::of_key(&key) == Era::From2025 {
            out.by_unit.entry(key).or_default().add(&value);
            continue;
        }
        out.converted += 1;
        let successors: Option<Vec<String>> = match level {
            Level::Province => conversion.province(&key).map(|p| vec![p.to_string()]),
            Level::Commune => conversion.commune(&key).map(|s| s.0.clone()),
            Level::District => None,
        };
        match successors {
            Some(to) if to.len() > 1 => {
                for (i, new) in to.iter().enumerate() {
                    let part = value.share(i, to.len());
                    *out.apportioned.entry(new.clone()).or_default() += received(&part);
                    out.by_unit.entry(new.clone()).or_default().add(&part);
                }
            }
            Some(to) if to.len() == 1 => {
                out.by_unit.entry(to[0].clone()).or_default().add(&value);
            }
            _ => out.not_converted.entry(key).or_default().add(&value),
        }
    }
    out
}

/// The figure of one unit of today gathered by a query per scope: its own and its old units'
/// rows in one run, the old communes split between several apart, each shared. Also returns
/// what `received` counts in the shares (the dossiers apportioned into the figure).
pub fn gathered<V: Shareable>(
    conversion: &Conversion,
    era: Era,
    unit: &ViewUnit,
    run: &dyn Fn(&'static str, Vec<String>) -> Result<V, StoreFailure>,
    received: &dyn Fn(&V) -> u64,
) -> Result<(V, u64), StoreFailure> {
    let (column, keys) = gather(conversion, era, unit);
    if era == Era::Before2025 || unit.level != Level::Commune {
        return Ok((run(column, keys)?, 0));
    }
    let split: HashMap<&str, (usize, usize)> = conversion
        .sources(&unit.key)
        .iter()
        .filter(|(_, _, k)| *k > 1)
        .map(|(old, i, k)| (old.as_str(), (*i, *k)))
        .collect();
    let exact: Vec<String> = keys
        .into_iter()
        .filter(|k| !split.contains_key(k.as_str()))
        .collect();
    let mut total = run(column, exact)?;
    let mut apportioned = 0;
    for (old, (i, k)) in split {
        let part = run(column, vec![old.to_string()])?.share(i, k);
        apportioned += received(&part);
        total.add(&part);
    }
    Ok((total, apportioned))
}

/// The "not converted" list of a note: old communes by code, with their names.
pub fn not_converted_list(
    conn: &Connection,
    rows: &BTreeMap<String, Counts>,
) -> Result<Vec<IndicatorRow>, StoreFailure> {
    rows.iter()
        .map(|(key, c)| {
            let name = unit_level(conn, key)?.map(|(_, n)| n).unwrap_or_default();
            Ok(IndicatorRow::from_counts(code_of(key), name, c))
        })
        .collect()
}

/// SQL `IN (…)` list of quoted keys (keys are digits and `@2025`; quoting keeps any text safe).
pub fn sql_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys
        .iter()
        .map(|k| format!("'{}'", k.replace('\'', "''")))
        .collect();
    format!("({})", quoted.join(", "))
}
