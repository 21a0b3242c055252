//! The two administrative eras: before the 2025 reform (province → district → commune) and from
//! 2025-07-01 (province → commune). A unit is a code *in force on a date*: codes are reused across
//! the eras (48 is the old and the new Đà Nẵng, 80 old Long An and new Tây Ninh), so everything
//! that names a unit inside the product (store keys, scopes, caches) carries its era.
use crate::model::Level;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The first day of the new structure.
pub const REFORM_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// The last day districts existed.
pub const LAST_DISTRICT_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2025, 6, 30) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// What a key of the new era ends with. Old-era keys are the bare codes, so stores written
/// before eras existed read unchanged.
const FROM_2025_SUFFIX: &str = "@2025";

/// The longest official code (communes: 5 digits); longer input is never a code.
const MAX_CODE_LEN: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// Up to 2025-06-30: 63 provinces, their districts and communes.
    Before2025,
    /// From 2025-07-01: 34 provinces and their communes; no district level.
    From2025,
}

impl Era {
    /// The era in force on `date`.
    pub fn on(date: NaiveDate) -> Era {
        if date < REFORM_DATE {
            Era::Before2025
        } else {
            Era::From2025
        }
    }

    /// The store's key of the unit `code` in this era; `None` when `code` is not an official
    /// code (digits only), so no input can name a key of another era.
    pub fn key(self, code: &str) -> Option<String> {
        if code.is_empty() || code.len() > MAX_CODE_LEN || !code.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(match self {
            Era::Before2025 => code.to_string(),
            Era::From2025 => format!("{code}{FROM_2025_SUFFIX}"),
        })
    }

    /// The era of a store key.
    pub fn of_key(key: &str) -> Era {
        if key.ends_with(FROM_2025_SUFFIX) {
            Era::From2025
        } else {
            Era::Before2025
        }
    }

    /// Whether units of `level` exist in this era.
    pub fn has_level(self, level: Level) -> bool {
        self == Era::Before2025 || level != Level::District
    }

    /// The level one step down from `level` in this era (a province's communes after the reform).
    pub fn child(self, level: Level) -> Option<Level> {
        match (self, level) {
            (Era::From2025, Level::Province) => Some(Level::Commune),
            _ => level.child(),
        }
    }

    /// The level one step up from `level` in this era.
    pub fn parent(self, level: Level) -> Option<Level> {
        match (self, level) {
            (_, Level::Province) => None,
            (Era::From2025, Level::Commune) | (_, Level::District) => Some(Level::Province),
            (Era::Before2025, Level::Commune) => Some(Level::District),
        }
    }

    /// The other era.
    pub fn other(self) -> Era {
        match self {
            Era::Before2025 => Era::From2025,
            Era::From2025 => Era::Before2025,
        }
    }

    /// The day whose units a period ending on `to` lists in this era: `to` itself, or for an
    /// earlier period shown on today's units, the first day of today's units.
    pub fn units_on(self, to: NaiveDate) -> NaiveDate {
        match self {
            Era::Before2025 => to,
            Era::From2025 => to.max(REFORM_DATE),
        }
    }

    /// A day inside the era, for asking which units are in force in it.
    pub fn first_day(self) -> NaiveDate {
        match self {
            Era::Before2025 => LAST_DISTRICT_DAY,
            Era::From2025 => REFORM_DATE,
        }
    }
}

/// The public code of a store key (the key without its era).
pub fn code_of(key: &str) -> &str {
    key.strip_suffix(FROM_2025_SUFFIX).unwrap_or(key)
}

/// Which units a period's figures are shown on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitsView {
    /// Historical units for a period that ends before the reform, today's otherwise.
    #[default]
    Auto,
    /// Today's units: dossiers of the old units count for the units they went into.
    Current,
    /// The units as they were (periods ending by 2025-06-30 only).
    Historical,
}

impl UnitsView {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitsView::Auto => "auto",
            UnitsView::Current => "current",
            UnitsView::Historical => "historical",
        }
    }

    /// The era whose units a period ending on `to` is shown on; an error (for the `units`
    /// parameter) when historical units are asked for a period that reaches past the reform.
    pub fn era(self, to: NaiveDate) -> Result<Era, String> {
        match self {
            UnitsView::Auto => Ok(Era::on(to)),
            UnitsView::Current => Ok(Era::From2025),
            UnitsView::Historical if to < REFORM_DATE => Ok(Era::Before2025),
            UnitsView::Historical => Err(format!(
                "units=historical shows the units as they were, for periods ending by {LAST_DISTRICT_DAY}; this one ends on {to} (use units=current)"
            )),
        }
    }
}

impl std::str::FromStr for UnitsView {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(UnitsView::Auto),
            "current" => Ok(UnitsView::Current),
            "historical" => Ok(UnitsView::Historical),
            other => Err(format!(
                "unknown units '{other}' (expected current or historical)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_same_code_is_two_keys_one_per_era() {
        let old = Era::Before2025.key("48").unwrap();
        let new = Era::From2025.key("48").unwrap();
        assert_ne!(old, new);
        assert_eq!((code_of(&old), code_of(&new)), ("48", "48"));
        assert_eq!(Era::of_key(&old), Era::Before2025);
        assert_eq!(Era::of_key(&new), Era::From2025);
    }

    #[test]
    fn only_official_codes_become_keys() {
        for bad in ["", "48@2025", "4 8", "VN", "123456789", "٤٨"] {
            assert_eq!(Era::Before2025.key(bad), None, "{bad:?}");
            assert_eq!(Era::From2025.key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_era_changes_on_the_first_of_july_2025() {
        assert_eq!(Era::on(d("2025-06-30")), Era::Before2025);
        assert_eq!(Era::on(d("2025-07-01")), Era::From2025);
    }

    #[test]
    fn districts_exist_only_before_the_reform() {
        assert_eq!(Era::From2025.child(Level::Province), Some(Level::Commune));
        assert_eq!(
            Era::Before2025.child(Level::Province),
            Some(Level::District)
        );
        assert!(!Era::From2025.has_level(Level::District));
        assert_eq!(Era::From2025.parent(Level::Commune), Some(Level::Province));
        assert_eq!(
            Era::Before2025.parent(Level::Commune),
            Some(Level::District)
        );
    }

    #[test]
    fn a_period_reaching_past_the_reform_is_shown_on_todays_units() {
        assert_eq!(UnitsView::Auto.era(d("2025-06-30")), Ok(Era::Before2025));
        assert_eq!(UnitsView::Auto.era(d("2025-12-31")), Ok(Era::From2025));
        assert_eq!(UnitsView::Current.era(d("2021-03-31")), Ok(Era::From2025));
        assert!(UnitsView::Historical.era(d("2025-12-31")).is_err());
    }
}
