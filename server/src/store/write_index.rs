//! The write index: the units, fields, dossiers and event hashes a batch is checked against,
//! the same for both engines (the embedded store loads it whole, the cluster store per batch).
use super::conversion::Conversion;
use super::rollup::DossierFacts;
use super::StoreFailure;
use crate::codes::ErrorCode;
use ::duckdb::Connection;
use app::era::Era;
use app::model::{Channel, Level};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;

/// A unit as the writer needs it: its level and where it sits.
#[derive(Clone, Debug)]
pub struct UnitEntry {
    pub code: String,
    pub level: Level,
    pub province: String,
    pub district: Option<String>,
}

/// The in-memory index the writer validates against, rebuilt from the store at start.
///
/// Its fields are open to the store's modules: the batch check reads them, and the embedded
/// store's writer fills them at load and updates them after each commit.
#[derive(Default)]
pub struct WriteIndex {
    pub(in crate::store) units: Vec<UnitEntry>,
    pub(in crate::store) unit_by_code: HashMap<String, u32>,
    pub(in crate::store) fields: Vec<String>,
    pub(in crate::store) field_by_name: HashMap<String, u32>,
    pub(in crate::store) dossiers: HashMap<Box<str>, DossierFacts>,
    /// event_id hash → content hash. A hash match is confirmed against the content hash, so two
    /// different ids collide only if both 64-bit hashes collide.
    pub(in crate::store) events: HashMap<u64, u64>,
    pub(in crate::store) next_seq: i64,
    /// The conversion table, to name an old unit's successors when it is sent after the reform.
    pub(in crate::store) conversion: Arc<Conversion>,
}

/// A channel's number in [`DossierFacts`]: its place in [`CHANNELS`].
pub fn channel_code(c: Channel) -> u8 {
    match c {
        Channel::Online => 0,
        Channel::Direct => 1,
        Channel::Postal => 2,
    }
}

/// The channels by their number in [`DossierFacts`].
pub const CHANNELS: [Channel; 3] = [Channel::Online, Channel::Direct, Channel::Postal];

impl WriteIndex {
    /// Re-reads the unit list (after the authored lists are seeded or boundaries imported).
    pub fn reload_units(&mut self, conn: &Connection) -> Result<(), StoreFailure> {
        let mut stmt = conn
            .prepare("SELECT code, level, province_code, district_code FROM units ORDER BY code")?;
        let units = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (code, level, province, district) in units {
            let level: Level = level.parse().map_err(StoreFailure::Corrupt)?;
            if let Some(&i) = self.unit_by_code.get(&code) {
                self.units[i as usize] = UnitEntry {
                    code,
                    level,
                    province,
                    district,
                };
            } else {
                self.unit_by_code
                    .insert(code.clone(), self.units.len() as u32);
                self.units.push(UnitEntry {
                    code,
                    level,
                    province,
                    district,
                });
            }
        }
        Ok(())
    }

    pub fn intern_field(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.field_by_name.get(name) {
            return i;
        }
        let i = self.fields.len() as u32;
        self.fields.push(name.to_string());
        self.field_by_name.insert(name.to_string(), i);
        i
    }

    pub fn dossier_count(&self) -> usize {
        self.dossiers.len()
    }

    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// An index of the reference data only (units and the catalogue's fields), for a store
    /// whose dossiers live elsewhere: it learns the dossiers of each batch with [`Self::know`].
    pub fn reference(conn: &Connection, conversion: Arc<Conversion>) -> Result<Self, StoreFailure> {
        let mut index = WriteIndex {
            conversion,
            ..WriteIndex::default()
        };
        index.reload_units(conn)?;
        let mut stmt = conn.prepare("SELECT DISTINCT field FROM procedures ORDER BY field")?;
        let fields = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for field in fields {
            index.intern_field(&field);
        }
        Ok(index)
    }

    /// Replaces the known dossiers and event hashes with those a batch touches.
    pub fn know(&mut self, dossiers: Vec<(String, DossierFacts)>, events: Vec<(u64, u64)>) {
        self.dossiers = dossiers.into_iter().map(|(id, f)| (id.into(), f)).collect();
        self.events = events.into_iter().collect();
    }

    pub fn conversion(&self) -> &Arc<Conversion> {
        &self.conversion
    }

    pub fn unit_number(&self, code: &str) -> Option<u32> {
        self.unit_by_code.get(code).copied()
    }

    pub fn unit_at(&self, number: u32) -> &UnitEntry {
        &self.units[number as usize]
    }

    /// A field's name by its number; numbers past the interned ones are `new_fields` of a batch.
    pub fn field_name<'s>(&'s self, number: u32, new_fields: &'s [String]) -> &'s str {
        let i = number as usize;
        if i < self.fields.len() {
            &self.fields[i]
        } else {
            &new_fields[i - self.fields.len()]
        }
    }

    /// The unit a reception on `on` (a local date) names: its code in force that day. Refused
    /// (code, message) when no unit has the code, or when its unit is not in force then; after
    /// the reform the message names the old unit's successors, so an integrator migrating its
    /// system learns the new codes from the error.
    pub fn reception_unit(&self, code: &str, on: NaiveDate) -> Result<u32, (ErrorCode, String)> {
        let era = Era::on(on);
        if let Some(&unit) = era.key(code).and_then(|k| self.unit_by_code.get(&k)) {
            return Ok(unit);
        }
        let Some(&unit) = era
            .other()
            .key(code)
            .and_then(|k| self.unit_by_code.get(&k))
        else {
            return Err((
                ErrorCode::UnknownUnit,
                format!("unit '{code}' is not a known unit code"),
            ));
        };
        let u = &self.units[unit as usize];
        let message = match era {
            Era::Before2025 => format!(
                "unit '{code}' ({}) is in force from {}; on {on} send the code of the unit then in force",
                u.level,
                app::era::REFORM_DATE
            ),
            Era::From2025 => {
                let codes = |keys: &[String]| {
                    keys.iter()
                        .map(|k| app::era::code_of(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let province = self.conversion.province(&u.province).map(app::era::code_of);
                let ended = format!(
                    "unit '{code}' ({}) ended on {}",
                    u.level,
                    app::era::LAST_DISTRICT_DAY
                );
                let now = match u.level {
                    Level::Province => province.map(|p| format!("from {} it is province {p}", app::era::REFORM_DATE)),
                    Level::District => province.map(|p| {
                        format!("districts ended with the reform: its dossiers go to a commune of province {p} or to the province itself")
                    }),
                    Level::Commune => self.conversion.commune(&u.code).map(|s| {
                        let kind = if s.split() { "split between communes" } else { "commune" };
                        format!("from {} it is {kind} {}", app::era::REFORM_DATE, codes(&s.0))
                    }),
                };
                match now {
                    Some(now) => format!("{ended}; {now}"),
                    None => format!("{ended}; the conversion table names no successor"),
                }
            }
        };
        Err((ErrorCode::UnitNotInForce, message))
    }

    pub fn unit(&self, code: &str) -> Option<&UnitEntry> {
        self.unit_by_code
            .get(code)
            .map(|&i| &self.units[i as usize])
    }
}
