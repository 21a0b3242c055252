//! The demo scenario file (`data/demo/scenario.toml`): published targets and model settings.
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub seed: u64,
    pub tet: Vec<(NaiveDate, NaiveDate)>,
    pub field: Vec<FieldSetting>,
    pub province: Vec<ProvinceSetting>,
    #[serde(default)]
    pub target: Vec<Target>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSetting {
    pub name: String,
    pub province: f64,
    pub district: f64,
    pub commune: f64,
    pub lateness: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceSetting {
    pub code: String,
    /// Relative size of each district; 1 for a district not named.
    #[serde(default)]
    pub district_weight: BTreeMap<String, f64>,
    pub window: Vec<WindowSetting>,
}

/// A stretch of history with its own habits. Either fixed dates or the recent months.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSetting {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The last N complete months plus the current month up to yesterday.
    pub recent_months: Option<u32>,
    /// Dossiers per quarter at all levels.
    pub quarter_volume: u64,
    pub province_share: f64,
    pub commune_share: f64,
    pub online_rate: f64,
    pub fee_rate: f64,
    /// Share of dossiers with a fee that are paid online.
    pub paid_online_rate: f64,
    /// The on-time rate of each district is drawn from this range.
    pub on_time: (f64, f64),
    /// Share of a quarter's receptions still open at its end.
    pub carry_out: f64,
    pub withdrawn: f64,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LevelCounts {
    pub province: Option<u64>,
    pub district: Option<u64>,
    pub commune: Option<u64>,
}

/// A published figure the demo reproduces exactly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub source: String,
    pub unit: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub received: Option<u64>,
    pub resolved_on_time: Option<u64>,
    pub on_time_rate: Option<f64>,
    pub received_by_level: Option<LevelCounts>,
    pub online: Option<u64>,
    pub online_by_level: Option<LevelCounts>,
    pub with_fee: Option<u64>,
    pub paid_online: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let scenario: Scenario = toml::from_str(&text).map_err(|source| ScenarioError::Parse {
            path: path.display().to_string(),
            source,
        })?;
        for p in &scenario.province {
            for w in &p.window {
                let fixed = w.from.is_some() && w.to.is_some();
                if fixed == w.recent_months.is_some() {
                    return Err(ScenarioError::Invalid(format!(
                        "province {}: a window has either from/to or recent_months",
                        p.code
                    )));
                }
                if w.on_time.0 > w.on_time.1 || w.on_time.1 > 1.0 {
                    return Err(ScenarioError::Invalid(format!(
                        "province {}: on_time range is not within 0..1",
                        p.code
                    )));
                }
            }
        }
        Ok(scenario)
    }
}
