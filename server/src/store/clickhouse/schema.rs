//! Versioned schema migrations of the cluster. ClickHouse has no transactions, so each statement
//! is written to be re-run safely (`IF NOT EXISTS`); a version is recorded on a shard only after
//! all its statements ran there, and an interrupted migration simply runs again.
use super::{ClickHouse, ClickHouseError, ClusterAddress};

/// One step of a migration.
enum Step {
    /// A statement that is safe to run again (`IF NOT EXISTS`).
    Sql(&'static str),
    /// `ALTER TABLE … ADD COLUMN`, skipped where the column exists (18.16 has no `IF NOT EXISTS` there).
    AddColumn {
        table: &'static str,
        column: &'static str,
        definition: &'static str,
    },
    /// [`Step::AddColumn`] for each (column, definition), on each table.
    AddColumns {
        tables: &'static [&'static str],
        columns: &'static [(&'static str, &'static str)],
    },
}

use Step::{AddColumn, AddColumns, Sql};

/// What an event written by a cluster server carries beside the event itself: the dossier's
/// state after it (`s_…`) and what it changed in each day's counters (`d_…`, parallel arrays).
/// Materialised views on each shard turn them into the dossier table and the rollups, so an
/// event and what it changes land in one insert on one shard. `version` numbers a dossier's
/// events from 1; 0 marks an event copied from DuckDB, whose state and rollups are copied apart.
const EVENT_STATE_COLUMNS: &[(&str, &str)] = &[
    ("version", "UInt64 DEFAULT 0"),
    ("s_unit_code", "String DEFAULT ''"),
    ("s_province_code", "String DEFAULT ''"),
    ("s_district_code", "Nullable(String)"),
    ("s_commune_code", "Nullable(String)"),
    ("s_level", "String DEFAULT ''"),
    ("s_procedure", "String DEFAULT ''"),
    ("s_field", "String DEFAULT ''"),
    ("s_channel", "String DEFAULT ''"),
    ("s_agency", "Nullable(String)"),
    ("s_fee", "UInt8 DEFAULT 0"),
    ("s_paid_online", "UInt8 DEFAULT 0"),
    ("s_received_at", "DateTime DEFAULT toDateTime(0)"),
    ("s_received_date", "Date DEFAULT toDate(0)"),
    ("s_due_date", "Date DEFAULT toDate(0)"),
    ("s_resolved_date", "Nullable(Date)"),
    ("s_withdrawn_date", "Nullable(Date)"),
    ("s_outcome", "Nullable(String)"),
    ("d_day", "Array(Date)"),
    ("d_received", "Array(Int64)"),
    ("d_received_online", "Array(Int64)"),
    ("d_received_with_fee", "Array(Int64)"),
    ("d_paid_online", "Array(Int64)"),
    ("d_resolved", "Array(Int64)"),
    ("d_resolved_early", "Array(Int64)"),
    ("d_resolved_on_time", "Array(Int64)"),
    ("d_resolved_late", "Array(Int64)"),
    ("d_resolved_days", "Array(Int64)"),
    ("d_closed", "Array(Int64)"),
    ("d_due", "Array(Int64)"),
    ("d_due_or_closed", "Array(Int64)"),
];

/// (version, steps). `{db}` and `{cluster}` are filled in. Append new versions; never edit a
/// released one.
const MIGRATIONS: &[(u32, &[Step])] = &[
    (
        1,
        &[
            // Every accepted event, on the shard of its dossier. Rows with the same (dossier, event id)
            // are one event sent twice (through two web servers, or resent after a lost reply); merges
            // keep one, and queries read with FINAL so the count is right before they merge.
            Sql(r#"CREATE TABLE IF NOT EXISTS {db}.events_local (
            event_id     String,
            id_hash      UInt64,
            content_hash UInt64,
            dossier_id   String,
            event_type   String,
            at_utc       DateTime,
            at_offset_s  Int32,
            unit_code    Nullable(String),
            level        Nullable(String),
            procedure    Nullable(String),
            field        Nullable(String),
            channel      Nullable(String),
            due_utc      Nullable(DateTime),
            fee          Nullable(UInt8),
            paid_online  Nullable(UInt8),
            agency       Nullable(String),
            outcome      Nullable(String),
            ingested_at  DateTime
        ) ENGINE = ReplacingMergeTree() ORDER BY (dossier_id, event_id)"#),
            // The whole cluster's events; the sharding key sends all events of a dossier to one shard.
            Sql(
                r#"CREATE TABLE IF NOT EXISTS {db}.events AS {db}.events_local
            ENGINE = Distributed({cluster}, {db}, events_local, cityHash64(dossier_id))"#,
            ),
        ],
    ),
    (
        2,
        &[
            // The event's sequence number in the DuckDB store it was copied from (0 for events the
            // cluster received itself): `store migrate --to` resumes after the highest one copied.
            AddColumn {
                table: "events_local",
                column: "source_seq",
                definition: "UInt64 DEFAULT 0",
            },
            AddColumn {
                table: "events",
                column: "source_seq",
                definition: "UInt64 DEFAULT 0",
            },
        ],
    ),
    (
        3,
        &[
            AddColumns {
                tables: &["events_local", "events"],
                columns: EVENT_STATE_COLUMNS,
            },
            // Each dossier's latest state (highest version wins), on its events' shard.
            Sql(r#"CREATE TABLE IF NOT EXISTS {db}.dossiers_local (
            dossier_id      String,
            version         UInt64,
            unit_code       String,
            province_code   String,
            district_code   Nullable(String),
            commune_code    Nullable(String),
            level           String,
            procedure       String,
            field           String,
            channel         String,
            agency          Nullable(String),
            fee             UInt8,
            paid_online     UInt8,
            received_at     DateTime,
            received_date   Date,
            due_date        Date,
            resolved_date   Nullable(Date),
            withdrawn_date  Nullable(Date),
            outcome         Nullable(String)
        ) ENGINE = ReplacingMergeTree(version) ORDER BY dossier_id"#),
            Sql(
                r#"CREATE TABLE IF NOT EXISTS {db}.dossiers AS {db}.dossiers_local
            ENGINE = Distributed({cluster}, {db}, dossiers_local, cityHash64(dossier_id))"#,
            ),
            Sql(
                r#"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.dossiers_mv TO {db}.dossiers_local AS
            SELECT dossier_id, version, s_unit_code AS unit_code, s_province_code AS province_code,
                   s_district_code AS district_code, s_commune_code AS commune_code, s_level AS level,
                   s_procedure AS procedure, s_field AS field, s_channel AS channel, s_agency AS agency,
                   s_fee AS fee, s_paid_online AS paid_online, s_received_at AS received_at,
                   s_received_date AS received_date, s_due_date AS due_date,
                   s_resolved_date AS resolved_date, s_withdrawn_date AS withdrawn_date,
                   s_outcome AS outcome
            FROM {db}.events_local WHERE version > 0"#,
            ),
            // The rollups of the DuckDB store, as sums of the events' day deltas.
            Sql(ROLLUP_TABLE_DAILY),
            Sql(ROLLUP_TABLE_MONTHLY),
            Sql(
                r#"CREATE TABLE IF NOT EXISTS {db}.daily_rollup AS {db}.daily_rollup_local
            ENGINE = Distributed({cluster}, {db}, daily_rollup_local, rand())"#,
            ),
            Sql(
                r#"CREATE TABLE IF NOT EXISTS {db}.monthly_rollup AS {db}.monthly_rollup_local
            ENGINE = Distributed({cluster}, {db}, monthly_rollup_local, rand())"#,
            ),
            Sql(ROLLUP_VIEW_DAILY),
            Sql(ROLLUP_VIEW_MONTHLY),
            // One row per commit: its count is the cluster's change number, which every web
            // server polls to wake its live stream.
            Sql(r#"CREATE TABLE IF NOT EXISTS {db}.commits_local (
            at      DateTime,
            server  String,
            events  UInt64
        ) ENGINE = MergeTree() ORDER BY at"#),
            Sql(
                r#"CREATE TABLE IF NOT EXISTS {db}.commits AS {db}.commits_local
            ENGINE = Distributed({cluster}, {db}, commits_local, rand())"#,
            ),
        ],
    ),
];

const ROLLUP_TABLE_DAILY: &str = r#"CREATE TABLE IF NOT EXISTS {db}.daily_rollup_local (
            unit_code String, field String, channel String, day Date,
            province_code String, district_code Nullable(String), commune_code Nullable(String),
            dossier_level String,
            received Int64, received_online Int64, received_with_fee Int64, paid_online Int64,
            resolved Int64, resolved_early Int64, resolved_on_time Int64, resolved_late Int64,
            resolved_days Int64, closed Int64, due Int64, due_or_closed Int64
        ) ENGINE = SummingMergeTree() ORDER BY (unit_code, field, channel, day)"#;

const ROLLUP_TABLE_MONTHLY: &str = r#"CREATE TABLE IF NOT EXISTS {db}.monthly_rollup_local (
            unit_code String, field String, channel String, month Date,
            province_code String, district_code Nullable(String), commune_code Nullable(String),
            dossier_level String,
            received Int64, received_online Int64, received_with_fee Int64, paid_online Int64,
            resolved Int64, resolved_early Int64, resolved_on_time Int64, resolved_late Int64,
            resolved_days Int64, closed Int64, due Int64, due_or_closed Int64
        ) ENGINE = SummingMergeTree() ORDER BY (unit_code, field, channel, month)"#;

const ROLLUP_VIEW_DAILY: &str = r#"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.daily_rollup_mv
        TO {db}.daily_rollup_local AS
        SELECT s_unit_code AS unit_code, s_field AS field, s_channel AS channel, day,
               s_province_code AS province_code, s_district_code AS district_code,
               s_commune_code AS commune_code, s_level AS dossier_level,
               received, received_online, received_with_fee, paid_online, resolved, resolved_early,
               resolved_on_time, resolved_late, resolved_days, closed, due, due_or_closed
        FROM {db}.events_local
        ARRAY JOIN d_day AS day, d_received AS received, d_received_online AS received_online,
             d_received_with_fee AS received_with_fee, d_paid_online AS paid_online,
             d_resolved AS resolved, d_resolved_early AS resolved_early,
             d_resolved_on_time AS resolved_on_time, d_resolved_late AS resolved_late,
             d_resolved_days AS resolved_days, d_closed AS closed, d_due AS due,
             d_due_or_closed AS due_or_closed
        WHERE version > 0"#;

const ROLLUP_VIEW_MONTHLY: &str = r#"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.monthly_rollup_mv
        TO {db}.monthly_rollup_local AS
        SELECT s_unit_code AS unit_code, s_field AS field, s_channel AS channel,
               toStartOfMonth(day) AS month,
               s_province_code AS province_code, s_district_code AS district_code,
               s_commune_code AS commune_code, s_level AS dossier_level,
               received, received_online, received_with_fee, paid_online, resolved, resolved_early,
               resolved_on_time, resolved_late, resolved_days, closed, due, due_or_closed
        FROM {db}.events_local
        ARRAY JOIN d_day AS day, d_received AS received, d_received_online AS received_online,
             d_received_with_fee AS received_with_fee, d_paid_online AS paid_online,
             d_resolved AS resolved, d_resolved_early AS resolved_early,
             d_resolved_on_time AS resolved_on_time, d_resolved_late AS resolved_late,
             d_resolved_days AS resolved_days, d_closed AS closed, d_due AS due,
             d_due_or_closed AS due_or_closed
        WHERE version > 0"#;

/// The newest schema version this build knows.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Brings every shard to the latest version; returns how many (shard, version) steps ran.
pub fn migrate(
    address: &ClusterAddress,
    progress: &mut dyn FnMut(&str),
) -> Result<usize, ClickHouseError> {
    let fill = |sql: &str| {
        sql.replace("{db}", &address.database)
            .replace("{cluster}", &address.cluster)
    };
    let mut steps = 0;
    for shard in &address.shards {
        let ch = ClickHouse::new(shard);
        ch.execute(&fill("CREATE DATABASE IF NOT EXISTS {db}"), b"")?;
        ch.execute(
            &fill("CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, applied_at DateTime) ENGINE = TinyLog"),
            b"",
        )?;
        #[derive(serde::Deserialize)]
        struct Applied {
            version: u32,
        }
        let applied: Vec<u32> = ch
            .rows::<Applied>(&fill("SELECT version FROM {db}.schema_migrations"))?
            .into_iter()
            .map(|a| a.version)
            .collect();
        if let Some(newer) = applied.iter().find(|v| **v > latest_version()) {
            return Err(ClickHouseError::NewerSchema {
                shard: shard.clone(),
                found: *newer,
                known: latest_version(),
            });
        }
        for (version, statements) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            progress(&format!("shard {shard}: schema version {version}"));
            for step in *statements {
                match step {
                    Sql(statement) => drop(ch.execute(&fill(statement), b"")?),
                    AddColumn {
                        table,
                        column,
                        definition,
                    } => add_column(&ch, &address.database, table, column, definition)?,
                    AddColumns { tables, columns } => {
                        for table in *tables {
                            for (column, definition) in *columns {
                                add_column(&ch, &address.database, table, column, definition)?;
                            }
                        }
                    }
                }
            }
            ch.execute(
                &fill(&format!(
                    "INSERT INTO {{db}}.schema_migrations VALUES ({version}, now())"
                )),
                b"",
            )?;
            steps += 1;
        }
    }
    Ok(steps)
}

/// Adds a column unless the table has it.
fn add_column(
    ch: &ClickHouse,
    db: &str,
    table: &str,
    column: &str,
    definition: &str,
) -> Result<(), ClickHouseError> {
    #[derive(serde::Deserialize)]
    struct Found {}
    let exists = !ch
        .rows::<Found>(&format!(
            "SELECT 1 FROM system.columns WHERE database = '{db}' AND table = '{table}' AND name = '{column}'"
        ))?
        .is_empty();
    if !exists {
        ch.execute(
            &format!("ALTER TABLE {db}.{table} ADD COLUMN {column} {definition}"),
            b"",
        )?;
    }
    Ok(())
}
