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
}

use Step::{AddColumn, Sql};

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
];

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
                    } => {
                        #[derive(serde::Deserialize)]
                        struct Found {}
                        let exists = !ch
                            .rows::<Found>(&format!(
                                "SELECT 1 FROM system.columns WHERE database = '{}' AND table = '{table}' AND name = '{column}'",
                                address.database
                            ))?
                            .is_empty();
                        if !exists {
                            ch.execute(
                                &fill(&format!(
                                    "ALTER TABLE {{db}}.{table} ADD COLUMN {column} {definition}"
                                )),
                                b"",
                            )?;
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
