//! `server store migrate --to URL`: copies a DuckDB store's events into a cluster. Resumable: a
//! run starts after the highest source sequence number every shard already holds, and an event
//! copied twice is one event (same dossier and id); the run ends by comparing counts.
use super::{schema, ClickHouse, ClickHouseError, ClusterAddress};
use crate::store::counters::COUNTERS;
use std::time::Instant;

/// Events per insert: large enough for ClickHouse to write few parts, small enough to resume cheaply.
const BATCH: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Cluster(#[from] ClickHouseError),
    #[error("reading the DuckDB store: {0}")]
    Duck(#[from] duckdb::Error),
    #[error("the copy does not match: {0}")]
    Mismatch(String),
}

/// What a run copied and what the final comparison found.
#[derive(Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// The source sequence number the run started after (0: from the beginning).
    pub resumed_after: i64,
    pub copied: u64,
    pub events: u64,
    pub dossiers: u64,
}

/// One event as the cluster stores it; times in whole seconds (ClickHouse `DateTime`).
#[derive(serde::Serialize)]
struct EventRow {
    event_id: String,
    id_hash: u64,
    content_hash: u64,
    dossier_id: String,
    event_type: String,
    at_utc: String,
    at_offset_s: i32,
    unit_code: Option<String>,
    level: Option<String>,
    procedure: Option<String>,
    field: Option<String>,
    channel: Option<String>,
    due_utc: Option<String>,
    fee: Option<u8>,
    paid_online: Option<u8>,
    agency: Option<String>,
    outcome: Option<String>,
    ingested_at: String,
    source_seq: i64,
}

#[derive(serde::Deserialize)]
struct Number {
    // JSONEachRow quotes 64-bit integers.
    n: String,
}

fn number(ch: &ClickHouse, query: &str) -> Result<u64, ClickHouseError> {
    let rows = ch.rows::<Number>(query)?;
    rows.first()
        .and_then(|r| r.n.parse().ok())
        .ok_or_else(|| ClickHouseError::BadRow {
            shard: ch.shard().to_string(),
            message: format!("no number from {query}"),
        })
}

/// Copies the events of `conn` (a DuckDB store) into the cluster at `address`.
pub fn copy_events(
    conn: &duckdb::Connection,
    address: &ClusterAddress,
    progress: &mut dyn FnMut(&str),
) -> Result<CopyReport, CopyError> {
    let db = &address.database;
    let steps = schema::migrate(address, progress)?;
    if steps > 0 {
        progress(&format!(
            "cluster schema brought to version {}",
            schema::latest_version()
        ));
    }
    // The dossier states and rollups are copied whole (below): a cluster that web servers
    // already write to would lose what they wrote.
    let commits = number(
        &ClickHouse::new(&address.shards[0]),
        &format!("SELECT count() AS n FROM {db}.commits"),
    )?;
    if commits > 0 {
        return Err(CopyError::Mismatch(format!(
            "the cluster has already taken {commits} commits from web servers; copy into a cluster before serving from it"
        )));
    }
    // A batch reaches each shard separately: resume after what the least advanced shard holds.
    // (An address always names at least one shard.)
    let mut held = Vec::with_capacity(address.shards.len());
    for shard in &address.shards {
        held.push(number(
            &ClickHouse::new(shard),
            &format!("SELECT max(source_seq) AS n FROM {db}.events_local"),
        )?);
    }
    let resumed_after = i64::try_from(held.into_iter().min().unwrap_or(0)).unwrap_or(i64::MAX);
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM events WHERE seq > ?",
        [resumed_after],
        |r| r.get(0),
    )?;
    progress(&if resumed_after > 0 {
        format!("resuming after event {resumed_after}: {total} events to copy")
    } else {
        format!("{total} events to copy")
    });
    let first = ClickHouse::new(&address.shards[0]);
    let mut stmt = conn.prepare(
        "SELECT event_id, id_hash, content_hash, dossier_id, event_type,
                strftime(at_utc, '%Y-%m-%d %H:%M:%S'), at_offset_s, unit_code, level, procedure, field,
                channel, strftime(due_utc, '%Y-%m-%d %H:%M:%S'), fee, paid_online, agency, outcome,
                strftime(ingested_at, '%Y-%m-%d %H:%M:%S'), seq
         FROM events WHERE seq > ? ORDER BY seq",
    )?;
    let mut rows = stmt.query([resumed_after])?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut copied = 0u64;
    let started = Instant::now();
    let mut reported = Instant::now();
    let flush = |batch: &mut Vec<EventRow>, copied: &mut u64| -> Result<(), CopyError> {
        if batch.is_empty() {
            return Ok(());
        }
        first.insert(&format!("{db}.events"), batch)?;
        *copied += batch.len() as u64;
        batch.clear();
        Ok(())
    };
    while let Some(r) = rows.next()? {
        batch.push(EventRow {
            event_id: r.get(0)?,
            id_hash: r.get(1)?,
            content_hash: r.get(2)?,
            dossier_id: r.get(3)?,
            event_type: r.get(4)?,
            at_utc: r.get(5)?,
            at_offset_s: r.get(6)?,
            unit_code: r.get(7)?,
            level: r.get(8)?,
            procedure: r.get(9)?,
            field: r.get(10)?,
            channel: r.get(11)?,
            due_utc: r.get(12)?,
            fee: r.get::<_, Option<bool>>(13)?.map(u8::from),
            paid_online: r.get::<_, Option<bool>>(14)?.map(u8::from),
            agency: r.get(15)?,
            outcome: r.get(16)?,
            ingested_at: r.get(17)?,
            source_seq: r.get(18)?,
        });
        if batch.len() == BATCH {
            flush(&mut batch, &mut copied)?;
            if reported.elapsed().as_secs() >= 2 {
                let rate = copied as f64 / started.elapsed().as_secs_f64();
                progress(&format!("{copied} of {total} events copied ({rate:.0}/s)"));
                reported = Instant::now();
            }
        }
    }
    flush(&mut batch, &mut copied)?;
    progress(&format!("{copied} events copied; comparing counts"));

    let (events, dossiers): (i64, i64) = conn.query_row(
        "SELECT count(*), count(DISTINCT dossier_id) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let cluster_events = number(
        &first,
        &format!("SELECT count() AS n FROM {db}.events FINAL"),
    )?;
    let cluster_dossiers = number(
        &first,
        &format!("SELECT uniqExact(dossier_id) AS n FROM {db}.events"),
    )?;
    if cluster_events != events as u64 || cluster_dossiers != dossiers as u64 {
        return Err(CopyError::Mismatch(format!(
            "the store has {events} events of {dossiers} dossiers, the cluster {cluster_events} of {cluster_dossiers}"
        )));
    }
    copy_state(conn, address, progress)?;
    Ok(CopyReport {
        resumed_after,
        copied,
        events: events as u64,
        dossiers: dossiers as u64,
    })
}

/// A dossier's state as the cluster keeps it (`store::clickhouse::schema`, version 3).
#[derive(serde::Serialize)]
struct DossierRow {
    dossier_id: String,
    version: i64,
    unit_code: String,
    province_code: String,
    district_code: Option<String>,
    commune_code: Option<String>,
    level: String,
    procedure: String,
    field: String,
    channel: String,
    agency: Option<String>,
    fee: u8,
    paid_online: u8,
    received_at: String,
    received_date: String,
    due_date: String,
    resolved_date: Option<String>,
    withdrawn_date: Option<String>,
    outcome: Option<String>,
}

/// Replaces the cluster's dossier states and rollups with the store's (the copied events carry
/// none of their own). Whole each run, so a resumed copy ends the same as an uninterrupted one.
fn copy_state(
    conn: &duckdb::Connection,
    address: &ClusterAddress,
    progress: &mut dyn FnMut(&str),
) -> Result<(), CopyError> {
    let db = &address.database;
    for shard in &address.shards {
        let ch = ClickHouse::new(shard);
        for table in [
            "dossiers_local",
            "daily_rollup_local",
            "monthly_rollup_local",
        ] {
            ch.execute(&format!("TRUNCATE TABLE {db}.{table}"), b"")?;
        }
    }
    let first = ClickHouse::new(&address.shards[0]);
    let mut stmt = conn.prepare(
        "SELECT d.dossier_id, coalesce(d.last_seq, 0), d.unit_code, u.province_code, u.district_code,
                CASE WHEN u.level = 'commune' THEN u.code END, u.level, coalesce(d.procedure, ''),
                d.field, d.channel, d.agency, d.fee, d.paid_online,
                strftime(d.received_at, '%Y-%m-%d %H:%M:%S'), d.received_date::VARCHAR,
                d.due_date::VARCHAR, d.resolved_date::VARCHAR, d.withdrawn_date::VARCHAR, d.outcome
         FROM dossiers d JOIN units u ON u.code = d.unit_code",
    )?;
    let mut rows = stmt.query([])?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut copied = 0u64;
    while let Some(r) = rows.next()? {
        batch.push(DossierRow {
            dossier_id: r.get(0)?,
            version: r.get(1)?,
            unit_code: r.get(2)?,
            province_code: r.get(3)?,
            district_code: r.get(4)?,
            commune_code: r.get(5)?,
            level: r.get(6)?,
            procedure: r.get(7)?,
            field: r.get(8)?,
            channel: r.get(9)?,
            agency: r.get(10)?,
            fee: u8::from(r.get::<_, bool>(11)?),
            paid_online: u8::from(r.get::<_, bool>(12)?),
            received_at: r.get(13)?,
            received_date: r.get(14)?,
            due_date: r.get(15)?,
            resolved_date: r.get(16)?,
            withdrawn_date: r.get(17)?,
            outcome: r.get(18)?,
        });
        if batch.len() == BATCH {
            first.insert(&format!("{db}.dossiers"), &batch)?;
            copied += batch.len() as u64;
            batch.clear();
        }
    }
    first.insert(&format!("{db}.dossiers"), &batch)?;
    copied += batch.len() as u64;
    progress(&format!("{copied} dossier states copied"));
    for (table, period) in [("daily_rollup", "day"), ("monthly_rollup", "month")] {
        // Rollup rows are plain numbers: DuckDB writes them as JSON lines, ClickHouse reads them.
        let sql = format!(
            "SELECT unit_code, field, channel, {period}::VARCHAR AS {period}, province_code,
                    district_code, commune_code, dossier_level, {counters}
             FROM {table}",
            counters = COUNTERS.join(", ")
        );
        let mut stmt = conn.prepare(&sql)?;
        let names: Vec<&str> = [
            "unit_code",
            "field",
            "channel",
            period,
            "province_code",
            "district_code",
            "commune_code",
            "dossier_level",
        ]
        .into_iter()
        .chain(COUNTERS)
        .collect();
        let mut rows = stmt.query([])?;
        let mut batch: Vec<serde_json::Map<String, serde_json::Value>> = Vec::with_capacity(BATCH);
        let mut copied = 0u64;
        let mut flush = |batch: &mut Vec<serde_json::Map<String, serde_json::Value>>| {
            first.insert(&format!("{db}.{table}"), batch)?;
            copied += batch.len() as u64;
            batch.clear();
            Ok::<_, ClickHouseError>(())
        };
        while let Some(r) = rows.next()? {
            let mut row = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let value = match r.get_ref(i)? {
                    duckdb::types::ValueRef::Null => serde_json::Value::Null,
                    duckdb::types::ValueRef::BigInt(n) => n.into(),
                    other => other.as_str().map_err(duckdb::Error::from)?.into(),
                };
                row.insert(name.to_string(), value);
            }
            batch.push(row);
            if batch.len() == BATCH {
                flush(&mut batch)?;
            }
        }
        flush(&mut batch)?;
        progress(&format!("{copied} rows of {table} copied"));
    }
    Ok(())
}
