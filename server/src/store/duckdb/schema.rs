//! The DuckDB file's versioned schema migrations (the embedded store's, and the cluster store's
//! reference file); each runs once, in order, in its own transaction.
use crate::store::counters::COUNTERS;
use duckdb::Connection;

/// (version, SQL). Append new versions; never edit a released one.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE units (
        code            VARCHAR PRIMARY KEY,
        parent_code     VARCHAR,
        province_code   VARCHAR NOT NULL,
        district_code   VARCHAR,
        level           VARCHAR NOT NULL,
        unit_type       VARCHAR NOT NULL,
        name            VARCHAR NOT NULL,
        name_with_type  VARCHAR NOT NULL,
        valid_from      DATE NOT NULL,
        valid_to        DATE
    );
    CREATE TABLE store_meta (
        key    VARCHAR PRIMARY KEY,
        value  VARCHAR NOT NULL
    );
    CREATE TABLE procedures (
        code          VARCHAR PRIMARY KEY,
        name          VARCHAR NOT NULL,
        field         VARCHAR NOT NULL,
        online_level  VARCHAR NOT NULL,
        allowed_days  INTEGER NOT NULL
    );
    CREATE TABLE agencies (
        code           VARCHAR PRIMARY KEY,
        province_code  VARCHAR NOT NULL,
        name           VARCHAR NOT NULL
    );
    -- Append-only log of every accepted event, in acceptance order. No index: appends stay fast;
    -- uniqueness of event_id is enforced by the single writer before anything is written.
    CREATE TABLE events (
        seq          BIGINT NOT NULL,
        event_id     VARCHAR NOT NULL,
        id_hash      UBIGINT NOT NULL,
        content_hash UBIGINT NOT NULL,
        dossier_id   VARCHAR NOT NULL,
        event_type   VARCHAR NOT NULL,
        at_utc       TIMESTAMP NOT NULL,
        at_offset_s  INTEGER NOT NULL,
        unit_code    VARCHAR,
        level        VARCHAR,
        procedure    VARCHAR,
        field        VARCHAR,
        channel      VARCHAR,
        due_utc      TIMESTAMP,
        fee          BOOLEAN,
        paid_online  BOOLEAN,
        agency       VARCHAR,
        outcome      VARCHAR,
        ingested_at  TIMESTAMP NOT NULL
    );
    -- Current state of each dossier; dates are local dates in UTC+07:00.
    CREATE TABLE dossiers (
        dossier_id      VARCHAR PRIMARY KEY,
        unit_code       VARCHAR,
        level           VARCHAR,
        procedure       VARCHAR,
        field           VARCHAR,
        channel         VARCHAR,
        agency          VARCHAR,
        fee             BOOLEAN,
        paid_online     BOOLEAN,
        received_at     TIMESTAMP,
        received_date   DATE,
        due_date        DATE,
        resolved_date   DATE,
        withdrawn_date  DATE,
        outcome         VARCHAR,
        last_seq        BIGINT
    );
    -- Daily counters per handling unit and filter dimensions. Each counter is keyed by the
    -- date it belongs to, so a period's figures are range sums and pending figures prefix sums:
    --   pending(to)         = sum(received - closed)   over day <= to
    --   pending_overdue(to) = sum(due - due_or_closed) over day <= to
    -- where closed counts a dossier on its resolution or withdrawal date, due on its due
    -- date, and due_or_closed on the later of its due and closing dates.
    CREATE TABLE daily_rollup (
        unit_code          VARCHAR NOT NULL,
        field              VARCHAR NOT NULL,
        channel            VARCHAR NOT NULL,
        day                DATE NOT NULL,
        province_code      VARCHAR NOT NULL,
        district_code      VARCHAR,
        commune_code       VARCHAR,
        dossier_level      VARCHAR NOT NULL,
        received           BIGINT NOT NULL,
        received_online    BIGINT NOT NULL,
        received_with_fee  BIGINT NOT NULL,
        paid_online        BIGINT NOT NULL,
        resolved           BIGINT NOT NULL,
        resolved_early     BIGINT NOT NULL,
        resolved_on_time   BIGINT NOT NULL,
        resolved_late      BIGINT NOT NULL,
        resolved_days      BIGINT NOT NULL,
        closed             BIGINT NOT NULL,
        due                BIGINT NOT NULL,
        due_or_closed      BIGINT NOT NULL,
        PRIMARY KEY (unit_code, field, channel, day)
    );
    "#,
    ),
    (
        2,
        r#"
    -- The same counters per month: a period's whole months and the prefix sums behind pending
    -- figures read a month a row instead of a day a row.
    CREATE TABLE monthly_rollup (
        unit_code          VARCHAR NOT NULL,
        field              VARCHAR NOT NULL,
        channel            VARCHAR NOT NULL,
        month              DATE NOT NULL,
        province_code      VARCHAR NOT NULL,
        district_code      VARCHAR,
        commune_code       VARCHAR,
        dossier_level      VARCHAR NOT NULL,
        received           BIGINT NOT NULL,
        received_online    BIGINT NOT NULL,
        received_with_fee  BIGINT NOT NULL,
        paid_online        BIGINT NOT NULL,
        resolved           BIGINT NOT NULL,
        resolved_early     BIGINT NOT NULL,
        resolved_on_time   BIGINT NOT NULL,
        resolved_late      BIGINT NOT NULL,
        resolved_days      BIGINT NOT NULL,
        closed             BIGINT NOT NULL,
        due                BIGINT NOT NULL,
        due_or_closed      BIGINT NOT NULL,
        PRIMARY KEY (unit_code, field, channel, month)
    );
    INSERT INTO monthly_rollup SELECT * FROM monthly_from_daily;
    "#,
    ),
    (
        3,
        r#"
    -- Imported boundary layers. A set covers one level under one parent for a validity range;
    -- the map for a period uses the set in force at the period's end (the latest import wins).
    CREATE TABLE boundary_sets (
        id           INTEGER PRIMARY KEY,
        level        VARCHAR NOT NULL,
        parent_code  VARCHAR NOT NULL,
        valid_from   DATE NOT NULL,
        valid_to     DATE,
        source       VARCHAR NOT NULL,
        imported_at  TIMESTAMP NOT NULL
    );
    -- One row per unit and level of detail (0 = finest); geometry is GeoJSON text, label the
    -- interior point where the name goes.
    CREATE TABLE boundary_features (
        set_id      INTEGER NOT NULL,
        unit_code   VARCHAR NOT NULL,
        detail      TINYINT NOT NULL,
        geometry    VARCHAR NOT NULL,
        label_lon   DOUBLE NOT NULL,
        label_lat   DOUBLE NOT NULL,
        PRIMARY KEY (set_id, unit_code, detail)
    );
    -- Authored tile maps (data/tiles/): one hexagon per unit in an odd-r grid, the map shown
    -- where no boundaries are imported. Parent "VN" is the national layer of provinces.
    CREATE TABLE unit_tiles (
        level        VARCHAR NOT NULL,
        parent_code  VARCHAR NOT NULL,
        code         VARCHAR NOT NULL,
        col          INTEGER NOT NULL,
        "row"        INTEGER NOT NULL,
        PRIMARY KEY (level, parent_code, code)
    );
    "#,
    ),
];

/// Daily rollup rows folded into months (`FROM daily_rollup`, or any table of its shape).
/// `sum(received)::BIGINT AS received, …`: every rollup counter summed under its own name.
pub fn counter_sums() -> String {
    COUNTERS
        .iter()
        .map(|c| format!("sum({c})::BIGINT AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn monthly_select(source: &str) -> String {
    let sums = counter_sums();
    format!(
        "SELECT unit_code, field, channel, date_trunc('month', day)::DATE AS month,
                any_value(province_code) AS province_code, any_value(district_code) AS district_code,
                any_value(commune_code) AS commune_code, any_value(dossier_level) AS dossier_level,
                {sums}
         FROM {source} GROUP BY unit_code, field, channel, month"
    )
}

pub const LATEST_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Brings the database to the latest schema; returns the versions applied now.
pub fn migrate(conn: &mut Connection) -> duckdb::Result<Vec<i32>> {
    migrate_up_to(conn, LATEST_VERSION)
}

/// Brings the database to schema `target` (tests build earlier versions' stores with it).
pub fn migrate_up_to(conn: &mut Connection, target: i32) -> duckdb::Result<Vec<i32>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )",
    )?;
    let current: i32 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > current && *v <= target)
    {
        let tx = conn.transaction()?;
        let sql = sql.replace(
            "SELECT * FROM monthly_from_daily",
            &monthly_select("daily_rollup"),
        );
        tx.execute_batch(&sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?)",
            [version],
        )?;
        tx.commit()?;
        applied.push(*version);
    }
    Ok(applied)
}

pub fn current_version(conn: &Connection) -> duckdb::Result<i32> {
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}
