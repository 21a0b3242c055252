//! Loads the project's authored reference data (units, procedures, agencies, tiles) into a DuckDB
//! store: the embedded store, or the cluster store's local reference file.
use crate::store::StoreFailure;
use app::era::Era;
use duckdb::{params, Connection};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, serde::Deserialize)]
struct UnitCsv {
    code: String,
    parent_code: String,
    level: String,
    unit_type: String,
    name: String,
    name_with_type: String,
    valid_from: String,
    valid_to: String,
}

#[derive(Debug, serde::Deserialize)]
struct ProcedureCsv {
    code: String,
    name: String,
    field: String,
    online_level: String,
    allowed_days: i32,
}

#[derive(Debug, serde::Deserialize)]
struct AgencyCsv {
    code: String,
    province_code: String,
    name: String,
}

#[derive(Debug, serde::Deserialize)]
struct TileCsv {
    level: String,
    parent_code: String,
    code: String,
    col: i32,
    row: i32,
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, StoreFailure> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| StoreFailure::Seed(format!("{}: {e}", path.display())))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| StoreFailure::Seed(format!("{} line {}: {e}", path.display(), i + 2)))
        })
        .collect()
}

fn csv_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, StoreFailure> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| StoreFailure::Seed(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    Ok(files)
}

/// Upserts every unit list under `data/units/`, the procedure catalogue and the agencies.
/// Idempotent: runs at every start so edits to the authored files take effect.
///
/// A unit's era comes from its `valid_from` (see [`app::era`]); its code, its parent's and its
/// ancestors' become that era's store keys, so the old and the new unit 48 are two rows.
pub fn seed(conn: &mut Connection, data_dir: &Path) -> Result<usize, StoreFailure> {
    let mut units = Vec::new();
    for file in csv_files(&data_dir.join("units"))? {
        for u in read_csv::<UnitCsv>(&file)? {
            let valid_from: chrono::NaiveDate = u.valid_from.parse().map_err(|_| {
                StoreFailure::Seed(format!(
                    "{}: unit {} has valid_from '{}', not a date",
                    file.display(),
                    u.code,
                    u.valid_from
                ))
            })?;
            let era = Era::on(valid_from);
            let key = |code: &str| {
                era.key(code).ok_or_else(|| {
                    StoreFailure::Seed(format!(
                        "{}: '{code}' is not a unit code (digits only)",
                        file.display()
                    ))
                })
            };
            let parent = if u.parent_code.is_empty() {
                String::new()
            } else {
                key(&u.parent_code)?
            };
            units.push(UnitCsv {
                code: key(&u.code)?,
                parent_code: parent,
                ..u
            });
        }
    }
    let parents: HashMap<&str, (&str, &str)> = units
        .iter()
        .map(|u| (u.code.as_str(), (u.parent_code.as_str(), u.level.as_str())))
        .collect();
    let ancestor = |code: &str, level: &str| -> Option<String> {
        let mut cur = code;
        // Three levels at most; the bound also stops a parent cycle in a bad list.
        for _ in 0..3 {
            let (parent, l) = parents.get(cur)?;
            if *l == level {
                return Some(cur.to_string());
            }
            if parent.is_empty() {
                return None;
            }
            cur = parent;
        }
        None
    };
    let tx = conn.transaction()?;
    {
        // Fourteen thousand units: appended to a staging table and upserted in one statement,
        // not one statement each.
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS units_seed AS SELECT * FROM units LIMIT 0;
             DELETE FROM units_seed;",
        )?;
        let mut appender = tx.appender("units_seed")?;
        for u in &units {
            let province = ancestor(&u.code, "province").ok_or_else(|| {
                StoreFailure::Seed(format!(
                    "unit {} has no province among its ancestors",
                    u.code
                ))
            })?;
            let empty_to_none = |s: &str| (!s.is_empty()).then(|| s.to_string());
            let date = |s: &str| -> Result<Option<chrono::NaiveDate>, StoreFailure> {
                empty_to_none(s)
                    .map(|s| {
                        s.parse().map_err(|_| {
                            StoreFailure::Seed(format!("unit {}: '{s}' is not a date", u.code))
                        })
                    })
                    .transpose()
            };
            appender.append_row(params![
                u.code,
                empty_to_none(&u.parent_code),
                province,
                ancestor(&u.code, "district"),
                u.level,
                u.unit_type,
                u.name,
                u.name_with_type,
                date(&u.valid_from)?,
                date(&u.valid_to)?,
            ])?;
        }
        appender.flush()?;
        drop(appender);
        tx.execute_batch(
            "INSERT OR REPLACE INTO units SELECT * FROM units_seed; DELETE FROM units_seed;",
        )?;
        let procedures_file = data_dir.join("procedures.csv");
        if procedures_file.exists() {
            let mut stmt =
                tx.prepare("INSERT OR REPLACE INTO procedures VALUES (?, ?, ?, ?, ?)")?;
            for p in read_csv::<ProcedureCsv>(&procedures_file)? {
                stmt.execute(params![
                    p.code,
                    p.name,
                    p.field,
                    p.online_level,
                    p.allowed_days
                ])?;
            }
        }
        let tiles_file = data_dir.join("tiles").join("tiles.csv");
        if tiles_file.exists() {
            tx.execute("DELETE FROM unit_tiles", [])?;
            let known: HashMap<&str, &str> = units
                .iter()
                .map(|u| (u.code.as_str(), u.level.as_str()))
                .collect();
            let mut stmt = tx.prepare("INSERT INTO unit_tiles VALUES (?, ?, ?, ?, ?)")?;
            for (i, t) in read_csv::<TileCsv>(&tiles_file)?.into_iter().enumerate() {
                if known.get(t.code.as_str()) != Some(&t.level.as_str()) {
                    return Err(StoreFailure::Seed(format!(
                        "{} line {}: '{}' is not a {} in the unit lists",
                        tiles_file.display(),
                        i + 2,
                        t.code,
                        t.level
                    )));
                }
                stmt.execute(params![t.level, t.parent_code, t.code, t.col, t.row])?;
            }
        }
        let agencies_file = data_dir.join("agencies.csv");
        if agencies_file.exists() {
            let mut stmt = tx.prepare("INSERT OR REPLACE INTO agencies VALUES (?, ?, ?)")?;
            for a in read_csv::<AgencyCsv>(&agencies_file)? {
                stmt.execute(params![a.code, a.province_code, a.name])?;
            }
        }
    }
    tx.commit()?;
    Ok(units.len())
}
