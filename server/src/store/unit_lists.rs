//! The units a stats answer lists, kept: the reference data is read once at open and never
//! changes while the server runs, and listing a province's communes was a tenth of a stats
//! query's time.
use super::query::units;
use super::StoreFailure;
use app::model::{Level, UnitRef};
use chrono::NaiveDate;
use duckdb::Connection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// (level, parent's store key, the first day of the span of days with the same units).
type ListKey = (Level, Option<String>, NaiveDate);

/// Lists of units in force on a day, kept per span of days over which no unit starts or ends:
/// at most one list per level, parent and span (a few thousand, all small but the country's).
pub struct UnitLists {
    /// The days a unit starts or the day after one ends, ascending: the units in force are
    /// the same from one to the next.
    changes: Vec<NaiveDate>,
    lists: Mutex<HashMap<ListKey, Arc<Vec<UnitRef>>>>,
}

impl UnitLists {
    /// Reads the days the units change from the reference data.
    pub fn load(conn: &Connection) -> Result<Self, StoreFailure> {
        let mut stmt = conn.prepare(
            "SELECT valid_from AS d FROM units
             UNION SELECT valid_to + 1 FROM units WHERE valid_to IS NOT NULL
             ORDER BY d",
        )?;
        let changes = stmt
            .query_map([], |r| r.get::<_, NaiveDate>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UnitLists {
            changes,
            lists: Mutex::new(HashMap::new()),
        })
    }

    /// [`units`] of `level` in force on `on`, under `parent` (a store key).
    pub fn in_force(
        &self,
        conn: &Connection,
        level: Level,
        parent: Option<&str>,
        on: NaiveDate,
    ) -> Result<Arc<Vec<UnitRef>>, StoreFailure> {
        // The span `on` falls in, named by its first day: every day of it lists the same units.
        // Before the first change no unit is in force.
        let since = match self.changes.partition_point(|d| *d <= on) {
            0 => NaiveDate::MIN,
            i => self.changes[i - 1],
        };
        let key = (level, parent.map(str::to_string), since);
        if let Some(hit) = self.lock().get(&key) {
            return Ok(hit.clone());
        }
        let listed = Arc::new(units(conn, level, parent, Some(on))?);
        self.lock().insert(key, listed.clone());
        Ok(listed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ListKey, Arc<Vec<UnitRef>>>> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use app::model::Level;

    #[test]
    fn a_kept_list_equals_the_units_read_on_the_day_asked() {
        let (_dir, store) = crate::store::duckdb::test_store::open_temp();
        let lists = store.unit_lists();
        // Days on both sides of the reform and of the first unit's start, asked twice each.
        let days = [
            "2019-12-31",
            "2020-01-01",
            "2024-05-06",
            "2025-06-30",
            "2025-07-01",
            "2026-12-07",
        ];
        let mut listed = 0;
        store
            .with_reader(|c| {
                for day in days.iter().chain(days.iter()) {
                    let on = day.parse().unwrap();
                    for (level, parent) in [
                        (Level::Commune, Some("48")),
                        (Level::Commune, Some("48@2025")),
                        (Level::District, Some("80")),
                        (Level::Province, None),
                    ] {
                        let read = super::units(c, level, parent, Some(on))?;
                        let kept = lists.in_force(c, level, parent, on)?;
                        assert_eq!(*kept, read, "{level:?} under {parent:?} on {day}");
                        listed += read.len();
                    }
                }
                Ok(())
            })
            .unwrap();
        assert!(
            lists.lock().len() <= 4 * 3,
            "one list per level, parent and span"
        );
    }
}
