//! The part of the country a caller covers, and where a unit sits: plain types that the store
//! checks writes and reads against and that authentication gives each caller (here, below both,
//! so that neither reaches into the other for them).

/// The part of the country a role covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Province(String),
    District(String),
    /// An ingest token's units: each one and every unit under it.
    Units(Vec<String>),
    Nothing,
}

/// What an ingest token's `unit` says when it may write for every unit (an explicit choice at
/// creation; tokens made before scopes existed, with no unit, are read the same way).
pub const ALL_UNITS: &str = "*";

/// Where a unit sits, as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitPlace {
    pub code: String,
    pub province_code: String,
    /// The district of a district or commune (for a commune in force after 2025-07-01, none).
    pub district_code: Option<String>,
    /// For a unit before the 2025 reform: the units of today it went into. Empty for today's.
    pub today: Today,
}

/// The units of today an old unit went into (store keys): its new province, and for a commune
/// the communes it went into (several when it was split).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Today {
    pub province: Option<String>,
    pub communes: Vec<String>,
}

impl Scope {
    /// Whether dossier-level data of `unit` (and everything under it) is within this scope.
    pub fn covers(&self, unit: &UnitPlace) -> bool {
        self.covers_unit(
            &unit.code,
            &unit.province_code,
            unit.district_code.as_deref(),
            &unit.today,
        )
    }

    /// Whether the scope covers a unit (store keys): the unit itself, the province or district
    /// it lies in, or (for a unit before the 2025 reform) a unit of today it went into, so a
    /// leader of the new Đà Nẵng covers old Quảng Nam's dossiers and a commune's chair those of
    /// the old communes merged into it.
    pub fn covers_unit(
        &self,
        code: &str,
        province: &str,
        district: Option<&str>,
        today: &Today,
    ) -> bool {
        // A leader's province of today takes in old provinces; a chair's commune of today takes
        // in old communes only (a chair mistakenly given a province code covers no old unit).
        let province_of_today = |u: &str| today.province.as_deref() == Some(u);
        let commune_of_today = |u: &str| today.communes.iter().any(|t| t == u);
        match self {
            Scope::Everything => true,
            Scope::Province(p) => province == p || province_of_today(p),
            Scope::District(d) => district == Some(d.as_str()) || code == d || commune_of_today(d),
            Scope::Units(units) => units.iter().any(|u| {
                u == code
                    || u == province
                    || district == Some(u.as_str())
                    || province_of_today(u)
                    || commune_of_today(u)
            }),
            Scope::Nothing => false,
        }
    }
}
