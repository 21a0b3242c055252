//! The embedded store's boundary sets: writing an imported layer, reading the one in force on a
//! date, the units and tiles of a map, and the map layer itself.
use super::DuckStore;
use crate::store::boundaries::{
    coarse, rings_of, BoundaryFeature, BoundaryLayer, NewBoundarySet, Tile, UnitName,
};
use crate::store::StoreFailure;
use ::duckdb::params;
use app::model::Level;
use chrono::NaiveDate;

impl DuckStore {
    /// Stores a boundary set in one transaction; returns its id.
    pub fn save_boundary_set(&self, set: &NewBoundarySet) -> Result<i32, StoreFailure> {
        let mut w = super::lock_writer(&self.writer)?;
        let tx = w.conn.transaction()?;
        let id: i32 = tx.query_row(
            "SELECT coalesce(max(id), 0) + 1 FROM boundary_sets",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO boundary_sets VALUES (?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
            params![
                id,
                set.level.as_str(),
                set.parent_code,
                set.valid_from,
                set.valid_to,
                set.source
            ],
        )?;
        {
            let mut appender = tx.appender("boundary_features")?;
            for row in &set.rows {
                appender.append_row(params![
                    id,
                    row.unit_code,
                    row.detail,
                    row.geometry,
                    row.label.0,
                    row.label.1
                ])?;
            }
            appender.flush()?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// The layer of `level` under `parent` in force on `on` (the latest import among those in
    /// force), at level of detail `detail` (0 = finest).
    pub fn boundaries(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        detail: u8,
    ) -> Result<Option<BoundaryLayer>, StoreFailure> {
        crate::boundaries::shipped::ensure(self, self.authored_data(), level, parent, on)?;
        self.with_reader(|c| {
            let Some((set_id, valid_from, valid_to, source)) = set_in_force(c, level, parent, on)?
            else {
                return Ok(None);
            };
            let mut stmt = c.prepare_cached(
                "SELECT f.unit_code, u.name_with_type, f.geometry, f.label_lon, f.label_lat
                 FROM boundary_features f JOIN units u ON u.code = f.unit_code
                 WHERE f.set_id = $1 AND f.detail = $2
                   AND ($3 = 'VN' OR $3 IN (u.parent_code, u.district_code, u.province_code))
                 ORDER BY f.unit_code",
            )?;
            let features = stmt
                .query_map(params![set_id, detail, parent], |r| {
                    Ok(BoundaryFeature {
                        code: r.get(0)?,
                        name: r.get(1)?,
                        geometry: r.get(2)?,
                        label: (r.get(3)?, r.get(4)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(BoundaryLayer {
                set_id,
                valid_from,
                valid_to,
                source,
                features,
            }))
        })
    }
}

impl DuckStore {
    /// Whether a boundary set of `level` read from a file named `source` is stored.
    pub fn has_source(&self, level: Level, source: &str) -> Result<bool, StoreFailure> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT count(*) > 0 FROM boundary_sets WHERE level = ? AND source = ?",
                params![level.as_str(), source],
                |r| r.get(0),
            )?)
        })
    }
}

/// A boundary set's id, validity range and source file.
type SetInForce = (i32, NaiveDate, Option<NaiveDate>, String);

/// The boundary set drawn for `level` under `parent` on `on`.
/// A layer imported for the parent itself wins; else one imported for a unit above it (a
/// province's communes serve each of its districts) or for the whole country. The layers the
/// product ships (`boundaries::shipped`, the same file names) rank below any imported one.
fn set_in_force(
    c: &::duckdb::Connection,
    level: Level,
    parent: &str,
    on: NaiveDate,
) -> Result<Option<SetInForce>, StoreFailure> {
    let mut stmt = c.prepare_cached(
        "SELECT id, valid_from, valid_to, source FROM boundary_sets
         WHERE level = $1 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)
           AND (parent_code = $2 OR parent_code = 'VN'
                OR parent_code IN (SELECT province_code FROM units WHERE code = $2
                                   UNION ALL
                                   SELECT district_code FROM units WHERE code = $2))
         ORDER BY parent_code = $2 DESC, parent_code = 'VN',
                  source IN ('provinces_2025.topojson', 'communes_2025.topojson'),
                  imported_at DESC, id DESC
         LIMIT 1",
    )?;
    let mut rows = stmt.query(params![level.as_str(), parent, on])?;
    Ok(match rows.next()? {
        Some(r) => Some((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        None => None,
    })
}

impl DuckStore {
    /// The units of `level` under `parent` (at any depth; `VN`: the whole country) in force on
    /// `on`, in code order.
    pub fn unit_names(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
    ) -> Result<Vec<UnitName>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT code, name, name_with_type FROM units
                 WHERE level = $1 AND ($2 = 'VN' OR $2 IN (parent_code, district_code, province_code))
                   AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)
                 ORDER BY code",
            )?;
            let rows = stmt.query_map(params![level.as_str(), parent, on], |r| {
                Ok(UnitName {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    name_with_type: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl DuckStore {
    /// The first day on which units of `level` under `parent` are in force, if there are any.
    pub fn earliest_unit_date(
        &self,
        level: Level,
        parent: &str,
    ) -> Result<Option<NaiveDate>, StoreFailure> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT min(valid_from) FROM units WHERE level = ? AND ? IN (parent_code, district_code, province_code)",
                params![level.as_str(), parent],
                |r| r.get(0),
            )?)
        })
    }
}

impl DuckStore {
    /// The tile map of `level` under `parent` ("VN" for provinces), in code order.
    pub fn tiles(&self, level: Level, parent: &str) -> Result<Vec<Tile>, StoreFailure> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.code, u.name_with_type, t.col, t.\"row\" FROM unit_tiles t
                 JOIN units u ON u.code = t.code
                 WHERE t.level = ? AND t.parent_code = ? ORDER BY t.code",
            )?;
            let rows = stmt.query_map(params![level.as_str(), parent], |r| {
                Ok(Tile {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    col: r.get(2)?,
                    row: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl DuckStore {
    /// See [`app::store::IndicatorStore::map_layer`].
    pub fn map_layer(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        kind: app::model::MapKind,
    ) -> Result<app::model::MapLayer, StoreFailure> {
        use app::model::MapLayer;
        // The parent in force on `on`, as a store key; the layer answers with public codes.
        let parent_key = if parent == app::views::COUNTRY {
            parent.to_string()
        } else {
            match app::era::Era::on(on).key(parent) {
                Some(key) => key,
                None => return Ok(MapLayer::default()),
            }
        };
        let parent = parent_key.as_str();
        let mut layer = self.map_layer_of_keys(level, parent, on, kind)?;
        let public = |code: &mut String| *code = app::era::code_of(code).to_string();
        layer.units.iter_mut().for_each(|u| public(&mut u.code));
        layer
            .not_on_map
            .iter_mut()
            .for_each(|u| public(&mut u.code));
        Ok(layer)
    }

    fn map_layer_of_keys(
        &self,
        level: Level,
        parent: &str,
        on: NaiveDate,
        kind: app::model::MapKind,
    ) -> Result<app::model::MapLayer, StoreFailure> {
        use app::model::{MapKind, MapLayer, MapShape, MapUnit, UnitRef};
        crate::boundaries::shipped::ensure(self, self.authored_data(), level, parent, on)?;
        let units: Vec<UnitRef> = if level == Level::Province {
            crate::store::query::units_in_force(self, level, None, on)?
        } else {
            self.unit_names(level, parent, on)?
                .into_iter()
                .map(|u| UnitRef {
                    code: u.code,
                    name: u.name_with_type,
                })
                .collect()
        };
        // Tiles only need to know whether boundaries exist, not their geometry.
        // The whole country's communes at the coarsest detail: a national layer stays light.
        let detail = if level == Level::Commune && parent == app::views::COUNTRY {
            2
        } else {
            1
        };
        let boundaries = match kind {
            MapKind::Geographic => self.boundaries(level, parent, on, detail)?,
            MapKind::Tiles => None,
        };
        let geographic_available = match kind {
            MapKind::Geographic => boundaries.is_some(),
            MapKind::Tiles => self
                .with_reader(|c| set_in_force(c, level, parent, on))?
                .is_some(),
        };
        if let Some(layer) = boundaries {
            let drawn: std::collections::HashSet<&str> =
                layer.features.iter().map(|f| f.code.as_str()).collect();
            let not_on_map = units
                .iter()
                .filter(|u| !drawn.contains(u.code.as_str()))
                .cloned()
                .collect();
            let units = layer
                .features
                .iter()
                .map(|f| {
                    Ok(MapUnit {
                        code: f.code.clone(),
                        name: f.name.clone(),
                        shape: MapShape::Outline {
                            rings: coarse(rings_of(&f.geometry)?, detail),
                        },
                        label: Some((f.label.0 as f32, f.label.1 as f32)),
                    })
                })
                .collect::<Result<Vec<_>, StoreFailure>>()?;
            return Ok(MapLayer {
                geographic: true,
                geographic_available,
                units,
                not_on_map,
                credit: crate::boundaries::shipped::credit_of(&layer.source).map(str::to_string),
            });
        }
        let tile_parent = if level == Level::Province {
            "VN"
        } else {
            parent
        };
        let tiles: std::collections::HashMap<String, (i32, i32)> = self
            .tiles(level, tile_parent)?
            .into_iter()
            .map(|t| (t.code, (t.col, t.row)))
            .collect();
        // Units without an authored tile go below the map, in code order, in a squarish block.
        let below = tiles.values().map(|(_, row)| row + 2).max().unwrap_or(0);
        let unplaced = units
            .iter()
            .filter(|u| !tiles.contains_key(&u.code))
            .count();
        let width = (unplaced as f64).sqrt().ceil().max(1.0) as i32;
        let mut next = 0;
        let units = units
            .into_iter()
            .map(|u| {
                let (col, row) = match tiles.get(&u.code) {
                    Some(&cell) => cell,
                    None => {
                        let cell = (next % width, below + next / width);
                        next += 1;
                        cell
                    }
                };
                MapUnit {
                    code: u.code,
                    name: u.name,
                    shape: MapShape::Tile { col, row },
                    label: None,
                }
            })
            .collect();
        Ok(MapLayer {
            geographic: false,
            geographic_available,
            units,
            not_on_map: Vec::new(),
            credit: None,
        })
    }
}
