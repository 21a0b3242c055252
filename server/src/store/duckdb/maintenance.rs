//! The embedded store's upkeep: recomputing dossier states and rollups from the event log
//! (verify, rebuild), consistent backups, restore, and the event log as Parquet.
//!
//! The recomputation is plain SQL over `events`, written apart from the writer's incremental
//! Rust path on purpose: a fault in either (a lost delta, a half-applied commit, a bug in the
//! contribution rules) shows up as a difference between the two.
use super::schema;
use crate::store::counters::COUNTERS;
use crate::store::StoreFailure;
use duckdb::Connection;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Local (UTC+07:00) date of a stored UTC timestamp column.
fn local_day(column: &str) -> String {
    format!("CAST({column} + INTERVAL 7 HOUR AS DATE)")
}

/// Each dossier's current state, folded from its events in sequence order.
fn expected_dossiers_sql() -> String {
    let at_day = local_day("at_utc");
    let due_day = local_day("due_utc");
    format!(
        "CREATE OR REPLACE TEMP TABLE expected_dossiers AS
         WITH ev AS (SELECT *, {at_day} AS at_day, {due_day} AS due_day FROM events),
         folded AS (
            SELECT dossier_id,
                   arg_max(due_day, seq) FILTER (WHERE event_type IN ('received', 'due_changed')) AS due_date,
                   min(at_day) FILTER (WHERE event_type = 'resolved') AS resolved_date,
                   min(at_day) FILTER (WHERE event_type = 'withdrawn') AS withdrawn_date,
                   arg_max(outcome, seq) FILTER (WHERE event_type = 'resolved' AND outcome IS NOT NULL) AS outcome,
                   max(seq) AS last_seq
            FROM ev GROUP BY dossier_id)
         SELECT r.dossier_id, r.unit_code, r.level, r.procedure, r.field, r.channel, r.agency,
                r.fee, r.fee AND r.paid_online AS paid_online, r.at_utc AS received_at,
                r.at_day AS received_date, f.due_date, f.resolved_date, f.withdrawn_date,
                f.outcome, f.last_seq
         FROM ev r JOIN folded f USING (dossier_id)
         WHERE r.event_type = 'received'"
    )
}

/// The daily rollup the expected dossier states give, by the rules of `rollup::contribution`:
/// a reception counts on its day, a due date on its day, a resolution (with its timeliness and
/// processing days) on its day, a closing on its day and "due or closed" on the later of the two.
fn expected_rollup_sql() -> String {
    let zero8 = "0, 0, 0, 0, 0, 0, 0, 0";
    let counters = COUNTERS.join(", ");
    let sums = schema::counter_sums();
    format!(
        "CREATE OR REPLACE TEMP TABLE expected_rollup AS
         WITH d AS (SELECT *, coalesce(resolved_date, withdrawn_date) AS closed_date FROM expected_dossiers),
         parts (unit_code, field, channel, day, {counters}) AS (
            SELECT unit_code, field, channel, received_date, 1, (channel = 'online')::BIGINT,
                   fee::BIGINT, paid_online::BIGINT, 0, 0, 0, 0, 0, 0, 0, 0 FROM d
            UNION ALL
            SELECT unit_code, field, channel, due_date, {zero8}, 0, 0, 1, 0 FROM d
            UNION ALL
            SELECT unit_code, field, channel, resolved_date, 0, 0, 0, 0, 1,
                   (resolved_date < due_date)::BIGINT, (resolved_date = due_date)::BIGINT,
                   (resolved_date > due_date)::BIGINT, resolved_date - received_date, 0, 0, 0
            FROM d WHERE resolved_date IS NOT NULL
            UNION ALL
            SELECT unit_code, field, channel, closed_date, {zero8}, 0, 1, 0, 0
            FROM d WHERE closed_date IS NOT NULL
            UNION ALL
            SELECT unit_code, field, channel, greatest(closed_date, due_date), {zero8}, 0, 0, 0, 1
            FROM d WHERE closed_date IS NOT NULL)
         SELECT p.unit_code, p.field, p.channel, p.day,
                any_value(u.province_code) AS province_code,
                any_value(u.district_code) AS district_code,
                any_value(CASE WHEN u.level = 'commune' THEN u.code END) AS commune_code,
                any_value(u.level) AS dossier_level,
                {sums}
         FROM parts p JOIN units u ON u.code = p.unit_code
         GROUP BY p.unit_code, p.field, p.channel, p.day"
    )
}

/// Rollup rows whose counters are all zero carry nothing (the incremental writer can leave them
/// behind when a dossier's contribution moves); comparisons skip them.
fn nonzero(table: &str) -> String {
    let any = COUNTERS
        .iter()
        .map(|c| format!("{c} <> 0"))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!("(SELECT * FROM {table} WHERE {any})")
}

/// One derived table compared with its recomputation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TableCheck {
    pub table: String,
    /// Rows (non-zero rows for rollups) the recomputation gives.
    pub expected_rows: u64,
    /// Stored rows that differ from, or are missing in, the recomputation.
    pub unexpected: u64,
    /// Recomputed rows that are missing or different in the store.
    pub missing: u64,
    /// A few keys of differing rows, to start looking from.
    pub examples: Vec<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub duplicate_event_ids: u64,
    /// Events of dossiers that have no reception event.
    pub orphan_events: u64,
    pub tables: Vec<TableCheck>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.duplicate_event_ids == 0
            && self.orphan_events == 0
            && self
                .tables
                .iter()
                .all(|t| t.unexpected == 0 && t.missing == 0)
    }

    /// A report for people: one line per check.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("events: {}", self.events),
            format!(
                "event ids stored more than once: {}",
                self.duplicate_event_ids
            ),
            format!(
                "events of dossiers without a reception: {}",
                self.orphan_events
            ),
        ];
        for t in &self.tables {
            out.push(format!(
                "{}: {} rows expected; {} stored rows differ or should not exist; {} expected rows differ or are missing{}",
                t.table,
                t.expected_rows,
                t.unexpected,
                t.missing,
                if t.examples.is_empty() {
                    String::new()
                } else {
                    format!(" (for example {})", t.examples.join("; "))
                }
            ));
        }
        out
    }
}

fn count(conn: &Connection, sql: &str) -> Result<u64, StoreFailure> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
}

/// Compares a stored table with its recomputation on the key columns and every other column.
fn compare(
    conn: &Connection,
    table: &str,
    stored: &str,
    expected: &str,
    key: &str,
) -> Result<TableCheck, StoreFailure> {
    let unexpected = format!("SELECT * FROM {stored} EXCEPT SELECT * FROM {expected}");
    let missing = format!("SELECT * FROM {expected} EXCEPT SELECT * FROM {stored}");
    let mut examples = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT DISTINCT concat_ws(' / ', {key}) FROM (({unexpected}) UNION ALL ({missing})) LIMIT 5"
        ))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            examples.push(row?);
        }
    }
    Ok(TableCheck {
        table: table.to_string(),
        expected_rows: count(conn, &format!("SELECT count(*) FROM {expected}"))?,
        unexpected: count(conn, &format!("SELECT count(*) FROM ({unexpected})"))?,
        missing: count(conn, &format!("SELECT count(*) FROM ({missing})"))?,
        examples,
    })
}

/// Progress lines for long work: `(step, seconds since the start)`.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

fn recompute(conn: &Connection, progress: Progress) -> Result<(), StoreFailure> {
    progress("recomputing dossier states from the events");
    conn.execute_batch(&expected_dossiers_sql())?;
    progress("recomputing the daily rollup");
    conn.execute_batch(&expected_rollup_sql())?;
    progress("recomputing the monthly rollup");
    // Created from the query itself: filled by an INSERT after `LIMIT 0`, the table's rows
    // were invisible to a filter in the same transaction once it outgrew one row group.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE expected_monthly AS {}",
        schema::monthly_select("expected_rollup")
    ))?;
    Ok(())
}

fn drop_expected(conn: &Connection) -> Result<(), StoreFailure> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS expected_dossiers; DROP TABLE IF EXISTS expected_rollup;
         DROP TABLE IF EXISTS expected_monthly;",
    )?;
    Ok(())
}

/// Recomputes dossier states and both rollups from the events and reports every difference.
/// Reads only; on a connection of its own it sees one consistent snapshot.
pub fn verify(conn: &Connection, progress: Progress) -> Result<VerifyReport, StoreFailure> {
    // One transaction: every step sees the same snapshot even while ingest commits; rolled
    // back at the end, which also drops the recomputed tables.
    conn.execute_batch("BEGIN TRANSACTION")?;
    let result = verify_in_snapshot(conn, progress);
    let ended = conn.execute_batch("ROLLBACK");
    let report = result?;
    ended?;
    Ok(report)
}

fn verify_in_snapshot(conn: &Connection, progress: Progress) -> Result<VerifyReport, StoreFailure> {
    let events = count(conn, "SELECT count(*) FROM events")?;
    progress(&format!("checking {events} events for repeated ids"));
    let duplicate_event_ids = count(
        conn,
        "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1)",
    )?;
    let orphan_events = count(
        conn,
        "SELECT count(*) FROM events e WHERE NOT EXISTS (
            SELECT 1 FROM events r WHERE r.dossier_id = e.dossier_id AND r.event_type = 'received')",
    )?;
    recompute(conn, progress)?;
    progress("comparing dossiers");
    let dossiers = compare(
        conn,
        "dossiers",
        "dossiers",
        "expected_dossiers",
        "dossier_id",
    )?;
    progress("comparing the daily rollup");
    let daily = compare(
        conn,
        "daily_rollup",
        &nonzero("daily_rollup"),
        &nonzero("expected_rollup"),
        "unit_code, field, channel, day",
    )?;
    progress("comparing the monthly rollup");
    let monthly = compare(
        conn,
        "monthly_rollup",
        &nonzero("monthly_rollup"),
        &nonzero("expected_monthly"),
        "unit_code, field, channel, month",
    )?;
    Ok(VerifyReport {
        events,
        duplicate_event_ids,
        orphan_events,
        tables: vec![dossiers, daily, monthly],
    })
}

/// Replaces dossier states and both rollups with their recomputation from the events, in one
/// transaction. The writer's in-memory index must be reloaded afterwards.
pub fn rebuild(conn: &mut Connection, progress: Progress) -> Result<(), StoreFailure> {
    let tx = conn.transaction()?;
    recompute(&tx, progress)?;
    progress("replacing the dossier states");
    tx.execute_batch(
        "DELETE FROM dossiers; INSERT INTO dossiers SELECT * FROM expected_dossiers;",
    )?;
    progress("replacing the daily and monthly rollups");
    tx.execute_batch(
        "DELETE FROM daily_rollup; INSERT INTO daily_rollup SELECT * FROM expected_rollup;
         DELETE FROM monthly_rollup; INSERT INTO monthly_rollup SELECT * FROM expected_monthly;",
    )?;
    drop_expected(&tx)?;
    progress("committing");
    tx.commit()?;
    Ok(())
}

/// Copies the whole database into a new DuckDB file at `target`, as one snapshot: the caller
/// holds the writer, so no commit lands in the middle. Written beside the target under a
/// temporary name and renamed when complete, so a file at `target` is always a whole backup.
pub fn backup(conn: &Connection, target: &Path, progress: Progress) -> Result<u64, StoreFailure> {
    if target.exists() {
        return Err(StoreFailure::BadQuery {
            field: "file",
            message: format!(
                "{} already exists; choose a new file name",
                target.display()
            ),
        });
    }
    let partial = partial_path(target);
    let _ = std::fs::remove_file(&partial);
    let source: String = conn.query_row("SELECT current_database()", [], |r| r.get(0))?;
    let alias = format!("backup_{}", std::process::id());
    progress(&format!("copying every table into {}", partial.display()));
    conn.execute_batch(&format!(
        "ATTACH '{}' AS {alias}",
        partial.display().to_string().replace('\'', "''")
    ))?;
    let copied = conn
        .execute_batch(&format!(
            "COPY FROM DATABASE \"{source}\" TO {alias}; CHECKPOINT {alias};"
        ))
        .and_then(|_| count_in(conn, &alias));
    conn.execute_batch(&format!("DETACH {alias}"))?;
    let events = match copied {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, target)?;
    progress(&format!("backup complete: {events} events"));
    Ok(events)
}

fn count_in(conn: &Connection, alias: &str) -> duckdb::Result<u64> {
    conn.query_row(&format!("SELECT count(*) FROM {alias}.events"), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

/// Checks that `file` is a store this server can open: its schema version is known and its
/// derived tables agree with its events. Returns the schema version and the event count.
pub fn check_backup(file: &Path, progress: Progress) -> Result<(i32, u64), StoreFailure> {
    let conn = Connection::open_with_flags(
        file,
        duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?,
    )?;
    let version = schema::current_version(&conn)?;
    if version > schema::LATEST_VERSION {
        return Err(StoreFailure::Corrupt(format!(
            "{} has schema version {version}, newer than this server's {}; use a newer server",
            file.display(),
            schema::LATEST_VERSION
        )));
    }
    if version == schema::LATEST_VERSION {
        let report = verify(&conn, progress)?;
        if !report.is_clean() {
            return Err(StoreFailure::Corrupt(format!(
                "{} does not agree with its own events: {}",
                file.display(),
                report.lines().join("; ")
            )));
        }
        return Ok((version, report.events));
    }
    // An older schema is migrated when the restored store is first opened.
    Ok((version, count(&conn, "SELECT count(*) FROM events")?))
}

/// The event log as a Parquet file (the store's columns, in sequence order), written under a
/// temporary name and renamed when complete. Returns the number of events.
pub fn export_events(
    conn: &Connection,
    target: &Path,
    progress: Progress,
) -> Result<u64, StoreFailure> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let total = count(conn, "SELECT count(*) FROM events")?;
    let partial = partial_path(target);
    let file = std::fs::File::create(&partial)?;
    let mut stmt = conn.prepare("SELECT * FROM events ORDER BY seq")?;
    let mut batches = stmt.query_arrow([])?;
    let schema = batches.get_schema();
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let parquet_error = |e: parquet::errors::ParquetError| {
        StoreFailure::Io(std::io::Error::other(format!("cannot write Parquet: {e}")))
    };
    let mut writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(parquet_error)?;
    let mut written = 0u64;
    let mut reported = Instant::now();
    for batch in &mut batches {
        written += batch.num_rows() as u64;
        writer.write(&batch).map_err(parquet_error)?;
        if reported.elapsed().as_secs() >= 2 {
            progress(&format!("{written} of {total} events written"));
            reported = Instant::now();
        }
    }
    writer.close().map_err(parquet_error)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, target)?;
    progress(&format!("{written} events written to {}", target.display()));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::parse_event;
    use crate::store::DuckStore;
    use serde_json::json;

    use crate::store::duckdb::test_store::open_temp as store;

    fn ingest(store: &DuckStore, events: Vec<serde_json::Value>) {
        crate::store::duckdb::test_store::ingest_json(store, &events);
    }

    fn received(n: u32, unit: &str, level: &str, due: &str) -> serde_json::Value {
        json!({"event_id": format!("r{n}"), "dossier_id": format!("d{n}"), "type": "received",
               "at": "2021-03-01T23:30:00+07:00", "unit": unit, "level": level,
               "procedure": "DD-01", "field": "Đất đai", "channel": if n.is_multiple_of(2) { "online" } else { "direct" },
               "due": due, "fee": n.is_multiple_of(3), "paid_online": n.is_multiple_of(3)})
    }

    /// A little history with every kind of event, late and early, across midnight in UTC.
    fn history(store: &DuckStore) {
        ingest(
            store,
            vec![
                received(1, "502", "district", "2021-03-10T17:00:00+07:00"),
                received(2, "502", "district", "2021-03-05T17:00:00+07:00"),
                received(3, "20398", "commune", "2021-03-03T17:00:00+07:00"),
                received(4, "49", "province", "2021-04-01T17:00:00+07:00"),
                json!({"event_id": "c1", "dossier_id": "d1", "type": "due_changed",
                       "at": "2021-03-04T08:00:00+07:00", "due": "2021-03-20T17:00:00+07:00"}),
                json!({"event_id": "x1", "dossier_id": "d1", "type": "resolved",
                       "at": "2021-03-12T00:30:00+07:00", "outcome": "approved"}),
                json!({"event_id": "x2", "dossier_id": "d2", "type": "resolved",
                       "at": "2021-03-09T08:00:00+07:00"}),
                json!({"event_id": "w3", "dossier_id": "d3", "type": "withdrawn",
                       "at": "2021-03-02T08:00:00+07:00"}),
            ],
        );
        ingest(
            store,
            vec![
                json!({"event_id": "c4", "dossier_id": "d4", "type": "due_changed",
                        "at": "2021-03-06T08:00:00+07:00", "due": "2021-03-25T17:00:00+07:00"}),
            ],
        );
    }

    #[test]
    fn the_writers_tables_equal_the_recomputation() {
        let (_dir, store) = store();
        history(&store);
        let report = store.verify(&mut |_| {}).unwrap();
        assert!(report.is_clean(), "{:#?}", report);
        assert_eq!(report.events, 9);
        assert_eq!(report.tables[0].expected_rows, 4);
        assert!(report.tables[1].expected_rows > 10);
    }

    #[test]
    fn verify_finds_damage_and_rebuild_mends_it() {
        let (_dir, store) = store();
        history(&store);
        {
            let w = store.writer.lock().unwrap();
            w.conn
                .execute_batch(
                    "UPDATE daily_rollup SET resolved_late = resolved_late + 1
                       WHERE day = (SELECT min(day) FROM daily_rollup);
                     DELETE FROM dossiers WHERE dossier_id = 'd2';
                     DELETE FROM monthly_rollup WHERE unit_code = '20398';",
                )
                .unwrap();
        }
        let report = store.verify(&mut |_| {}).unwrap();
        assert!(!report.is_clean());
        let by_table = |t: &str| report.tables.iter().find(|c| c.table == t).unwrap();
        assert_eq!(by_table("dossiers").missing, 1);
        assert_eq!(by_table("dossiers").examples, vec!["d2".to_string()]);
        assert_eq!(
            by_table("daily_rollup").unexpected,
            by_table("daily_rollup").missing
        );
        assert!(by_table("daily_rollup").unexpected >= 1);
        assert!(by_table("monthly_rollup").missing >= 1);
        let mut steps = Vec::new();
        store.rebuild(&mut |s| steps.push(s.to_string())).unwrap();
        assert!(steps.iter().any(|s| s.contains("reloading")));
        assert!(store.verify(&mut |_| {}).unwrap().is_clean());
        // The reloaded index knows d2 again: resolving it twice is refused.
        let again = json!({"event_id": "x2b", "dossier_id": "d2", "type": "resolved",
                           "at": "2021-03-09T09:00:00+07:00"});
        let event = parse_event(1, &again, chrono::Utc::now()).unwrap();
        assert!(store.ingest(&[(1, event)]).is_err());
    }

    #[test]
    fn a_backup_is_a_whole_verified_store_and_never_overwrites() {
        let (dir, store) = store();
        history(&store);
        let target = dir.path().join("copy.duckdb");
        assert_eq!(store.backup(&target, &mut |_| {}).unwrap(), 9);
        assert!(!partial_path(&target).exists());
        let (version, events) = check_backup(&target, &mut |_| {}).unwrap();
        assert_eq!((version, events), (schema::LATEST_VERSION, 9));
        let again = store.backup(&target, &mut |_| {});
        assert!(matches!(
            again,
            Err(StoreFailure::BadQuery { field: "file", .. })
        ));
    }

    #[test]
    fn events_export_to_parquet_in_sequence_order() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let (dir, store) = store();
        history(&store);
        let target = dir.path().join("events.parquet");
        assert_eq!(store.export_events(&target, &mut |_| {}).unwrap(), 9);
        let reader = SerializedFileReader::new(std::fs::File::open(&target).unwrap()).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 9);
        let columns: Vec<String> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(&columns[..3], &["seq", "event_id", "id_hash"]);
    }

    #[test]
    fn a_panic_while_the_writer_is_held_leaves_ingest_working() {
        let (_dir, store) = store();
        ingest(
            &store,
            vec![received(1, "502", "district", "2021-03-10T17:00:00+07:00")],
        );
        // Half-way through a write: a transaction open and the index touched, then a panic.
        let joined = std::thread::scope(|s| {
            s.spawn(|| {
                let w = store.writer.lock().unwrap();
                w.conn.execute_batch("BEGIN TRANSACTION").unwrap();
                panic!("injected panic while holding the writer");
            })
            .join()
        });
        assert!(joined.is_err() && store.writer.is_poisoned());
        ingest(
            &store,
            vec![received(2, "502", "district", "2021-03-10T17:00:00+07:00")],
        );
        assert_eq!(store.summary().unwrap().dossiers, 2);
        assert!(!store.writer.is_poisoned());
    }

    #[test]
    fn a_panic_in_a_read_fails_that_call_only() {
        let (_dir, store) = store();
        history(&store);
        // More panics than there are readers: each reader meets one.
        for _ in 0..4 {
            let failed = store.with_reader(|_| -> Result<(), StoreFailure> {
                panic!("injected panic in a read")
            });
            assert!(matches!(failed, Err(StoreFailure::Panicked)), "{failed:?}");
        }
        assert!(store.verify(&mut |_| {}).unwrap().is_clean());
        assert!(store.readiness().is_ok());
        // A reader whose lock a panic poisoned (with a transaction open) is taken back too.
        for reader in &store.readers {
            let joined = std::thread::scope(|s| {
                s.spawn(|| {
                    let conn = reader.lock().unwrap();
                    conn.execute_batch("BEGIN TRANSACTION").unwrap();
                    panic!("injected panic while holding a reader");
                })
                .join()
            });
            assert!(joined.is_err() && reader.is_poisoned());
        }
        // An idle reader is taken first: the first one, then (while it is busy) the second.
        assert!(store.verify(&mut |_| {}).unwrap().is_clean());
        {
            let _busy = store.readers[0].lock().unwrap();
            assert!(store.verify(&mut |_| {}).unwrap().is_clean());
        }
        assert!(store.readers.iter().all(|r| !r.is_poisoned()));
    }
}
