//! Schema migrations from every earlier released schema version, on stored fixtures.
//!
//! `server/tests/fixtures/store-v{N}/` holds a store as schema version N left it: the tables'
//! DDL as that version created them (`schema.sql`) and their rows (`{table}.csv`). The test
//! loads each into a new DuckDB file, opens it with the server (which migrates it), and checks
//! that the figures equal those of a store built fresh from the same events, and that
//! `verify` finds the derived tables in agreement with the events. Fixtures are written once
//! per released version by the ignored test `write_schema_fixture` and never edited.
use crate::common::authored_data;
use app::model::{Level, StatsQuery};
use app::store::IndicatorStore;
use serde_json::json;
use server::ingest::event::parse_event;
use server::store::{duckdb::schema, DuckStore};
use std::path::{Path, PathBuf};

/// Every released schema version, the current one included (its fixture is the one the next
/// version's migration will be tested on).
const RELEASED_VERSIONS: [i32; 3] = [1, 2, 3];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The events in every fixture: receptions in a district, a commune and the province, due date
/// changes, early, on-time and late resolutions (one just after midnight local time, the day
/// before in UTC) and a withdrawal, over two months.
fn fixture_events() -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let units = [
        ("502", "district"),
        ("503", "district"),
        ("20398", "commune"),
        ("49", "province"),
    ];
    for n in 0..24u32 {
        let (unit, level) = units[(n % 4) as usize];
        let day = 1 + n % 20;
        events.push(
            json!({"event_id": format!("fx-r{n}"), "dossier_id": format!("fx-d{n}"),
            "type": "received", "at": format!("2021-03-{day:02}T09:00:00+07:00"), "unit": unit,
            "level": level, "procedure": if n % 3 == 0 { "DD-01" } else { "HT-01" },
            "field": if n % 3 == 0 { "Đất đai" } else { "Hộ tịch" },
            "channel": if n % 2 == 0 { "online" } else { "direct" },
            "due": format!("2021-03-{:02}T17:00:00+07:00", day + 5),
            "fee": n % 5 == 0, "paid_online": n % 10 == 0}),
        );
    }
    for n in 0..24u32 {
        let day = 1 + n % 20;
        match n % 6 {
            0 => events.push(
                json!({"event_id": format!("fx-c{n}"), "dossier_id": format!("fx-d{n}"),
                "type": "due_changed", "at": format!("2021-03-{:02}T10:00:00+07:00", day + 1),
                "due": format!("2021-04-{:02}T17:00:00+07:00", 1 + n % 9)}),
            ),
            1 => events.push(
                json!({"event_id": format!("fx-x{n}"), "dossier_id": format!("fx-d{n}"),
                "type": "resolved", "at": format!("2021-03-{:02}T08:00:00+07:00", day + 2),
                "outcome": "approved"}),
            ),
            2 => events.push(
                json!({"event_id": format!("fx-x{n}"), "dossier_id": format!("fx-d{n}"),
                "type": "resolved", "at": format!("2021-03-{:02}T16:00:00+07:00", day + 5)}),
            ),
            3 => events.push(
                json!({"event_id": format!("fx-x{n}"), "dossier_id": format!("fx-d{n}"),
                "type": "resolved", "at": format!("2021-04-{:02}T00:30:00+07:00", 1 + n % 9)}),
            ),
            4 => events.push(
                json!({"event_id": format!("fx-w{n}"), "dossier_id": format!("fx-d{n}"),
                "type": "withdrawn", "at": format!("2021-03-{:02}T11:00:00+07:00", day + 1)}),
            ),
            _ => {}
        }
    }
    events
}

fn ingest(store: &DuckStore) {
    let now = chrono::Utc::now();
    let batch: Vec<_> = fixture_events()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                i as u32 + 1,
                parse_event(i as u32 + 1, v, now).expect("a valid event"),
            )
        })
        .collect();
    store.ingest(&batch).expect("the fixture events are stored");
}

/// Loads `store-v{version}` into a new DuckDB file at `path`.
fn load_fixture(version: i32, path: &Path) {
    let dir = fixtures().join(format!("store-v{version}"));
    let conn = duckdb::Connection::open(path).unwrap();
    let ddl = std::fs::read_to_string(dir.join("schema.sql"))
        .unwrap_or_else(|e| panic!("fixture for schema version {version} missing: {e}"));
    conn.execute_batch(&ddl).unwrap();
    let mut tables: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    tables.sort();
    for csv in tables {
        let table = csv.file_stem().unwrap().to_string_lossy().to_string();
        conn.execute_batch(&format!(
            "COPY {table} FROM '{}' (HEADER, QUOTE '\"')",
            csv.display()
        ))
        .unwrap_or_else(|e| panic!("loading {table}: {e}"));
    }
    let version_stored: i32 = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version_stored, version, "the fixture's own schema version");
}

fn queries() -> Vec<StatsQuery> {
    let mut out = Vec::new();
    for (level, parent) in [
        (Level::District, Some("49")),
        (Level::Commune, Some("502")),
        (Level::Province, None),
    ] {
        for (from, to) in [
            ("2021-03-01", "2021-03-31"),
            ("2021-03-10", "2021-04-30"),
            ("2021-01-01", "2021-12-31"),
        ] {
            out.push(StatsQuery {
                period: app::model::Period::new(from.parse().unwrap(), to.parse().unwrap())
                    .unwrap(),
                level,
                parent: parent.map(str::to_string),
                field: None,
                channel: None,
                dossier_level: None,
                units: Default::default(),
            });
        }
    }
    out
}

#[test]
fn every_earlier_schema_version_migrates_to_the_same_answers() {
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = DuckStore::open(&fresh_dir.path().join("fresh.duckdb"), &authored_data()).unwrap();
    ingest(&fresh);
    assert_eq!(
        RELEASED_VERSIONS.last(),
        Some(&schema::LATEST_VERSION),
        "a new schema version needs its fixture: see write_schema_fixture"
    );
    for version in RELEASED_VERSIONS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.duckdb");
        load_fixture(version, &path);
        let migrated = DuckStore::open(&path, &authored_data())
            .unwrap_or_else(|e| panic!("schema version {version} does not open: {e}"));
        let summary = migrated.summary().unwrap();
        assert_eq!(summary.schema_version, schema::LATEST_VERSION);
        assert_eq!(
            summary.events,
            fixture_events().len() as u64,
            "from version {version}"
        );
        let report = migrated.verify(&mut |_| {}).unwrap();
        assert!(
            report.is_clean(),
            "from version {version}: {:?}",
            report.lines()
        );
        for query in queries() {
            assert_eq!(
                migrated.stats(&query).unwrap(),
                fresh.stats(&query).unwrap(),
                "from version {version}: {}",
                query.to_query_string()
            );
        }
        // The migrated store keeps working: its writer index knows the old dossiers.
        let again = parse_event(1, &fixture_events()[0], chrono::Utc::now()).unwrap();
        assert_eq!(migrated.ingest(&[(1, again)]).unwrap().duplicates, 1);
    }
}

/// Writes the fixture of schema version `IEM_FIXTURE_VERSION` (run once when a version is
/// released: `IEM_FIXTURE_VERSION=3 cargo test --release -p server --test api
/// write_schema_fixture -- --ignored`). The tables are created by the migrations up to that
/// version; their rows are those the server writes for the fixture events.
#[test]
#[ignore]
fn write_schema_fixture() {
    let version: i32 = std::env::var("IEM_FIXTURE_VERSION")
        .expect("IEM_FIXTURE_VERSION")
        .parse()
        .unwrap();
    let out = fixtures().join(format!("store-v{version}"));
    std::fs::create_dir_all(&out).unwrap();
    let work = tempfile::tempdir().unwrap();

    let mut scratch = duckdb::Connection::open(work.path().join("ddl.duckdb")).unwrap();
    schema::migrate_up_to(&mut scratch, version).unwrap();
    let mut stmt = scratch
        .prepare(
            "SELECT table_name, sql FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name",
        )
        .unwrap();
    let tables: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let ddl: String = tables.iter().map(|(_, sql)| format!("{sql}\n")).collect();
    std::fs::write(
        out.join("schema.sql"),
        format!("-- Tables of schema version {version}, as its migrations created them.\n{ddl}"),
    )
    .unwrap();

    let data = work.path().join("data.duckdb");
    {
        let store = DuckStore::open(&data, &authored_data()).unwrap();
        ingest(&store);
    }
    let conn = duckdb::Connection::open(&data).unwrap();
    for (table, _) in &tables {
        let select = if table == "schema_migrations" {
            format!("SELECT * FROM schema_migrations WHERE version <= {version} ORDER BY version")
        } else {
            format!("SELECT * FROM {table} ORDER BY ALL")
        };
        conn.execute_batch(&format!(
            "COPY ({select}) TO '{}' (HEADER, QUOTE '\"')",
            out.join(format!("{table}.csv")).display()
        ))
        .unwrap();
    }
}
