//! The ClickHouse cluster store's foundation on a real two-shard cluster on loopback: schema
//! migrations, the sharding of a dossier's events, an event resent through another shard counted
//! once, and `server store migrate --to` copying a DuckDB store, resumably.
use crate::common::authored_data;
use crate::process::{ingest, ingest_token, output_text, start, store_command};
use app::model::{Level, Period, StatsQuery};
use app::store::IndicatorStore;
use server::store::clickhouse::{schema, ClickHouse, ClusterAddress};
use server::store::served::ServedStore;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A running two-shard cluster, stopped when dropped.
pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    pub url: String,
    pub address: ClusterAddress,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/clickhouse-cluster.sh")
}

impl Cluster {
    pub(crate) fn start() -> Cluster {
        // One start at a time: tests run in parallel, and a free-port check is only good until
        // the other cluster binds the same ports.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        // Six ports the script derives from a base (HTTP, TCP, interserver for each shard).
        // Below the ephemeral range (32768+), where the other tests' servers take their ports.
        let base = (0..60)
            .map(|k| 20_000 + ((std::process::id() as u16).wrapping_mul(7) % 800) * 10 + k * 40)
            .find(|b| {
                [0, 1, 2, 10, 11, 12]
                    .iter()
                    .all(|o| TcpListener::bind(("127.0.0.1", b + o)).is_ok())
            })
            .expect("no free ports for the cluster");
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .args(["start", dir.path().to_str().unwrap(), &base.to_string()])
            .output()
            .expect("run scripts/clickhouse-cluster.sh");
        assert!(
            out.status.success(),
            "cluster did not start: {}",
            output_text(&out)
        );
        let url = format!(
            "clickhouse://127.0.0.1:{},127.0.0.1:{}/iem",
            base,
            base + 10
        );
        Cluster {
            dir,
            url: url.clone(),
            address: url.parse().unwrap(),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status();
    }
}

#[derive(serde::Serialize)]
struct Row {
    event_id: String,
    id_hash: u64,
    content_hash: u64,
    dossier_id: String,
    event_type: &'static str,
    at_utc: String,
    at_offset_s: i32,
    unit_code: Option<String>,
    ingested_at: String,
}

fn row(k: u32) -> Row {
    let dossier = k / 4;
    Row {
        event_id: format!("ev-{k}"),
        id_hash: u64::from(k),
        content_hash: u64::from(k) * 31,
        dossier_id: format!("HS-{dossier:05}"),
        event_type: if k.is_multiple_of(4) {
            "received"
        } else {
            "due_changed"
        },
        at_utc: format!("2026-03-{:02} 02:00:00", 1 + k % 28),
        at_offset_s: 25_200,
        unit_code: Some(format!("{}", 502 + dossier % 18)),
        ingested_at: "2026-11-28 12:00:00".into(),
    }
}

#[derive(serde::Deserialize)]
struct Count {
    // JSONEachRow quotes 64-bit integers.
    n: String,
}

#[derive(serde::Deserialize)]
struct Dossier {
    dossier_id: String,
}

#[test]
fn a_cluster_is_migrated_once_shards_by_dossier_and_counts_a_resent_event_once() {
    let cluster = Cluster::start();
    let address = &cluster.address;
    let mut lines = Vec::new();
    let steps = schema::migrate(address, &mut |l| lines.push(l.to_string())).unwrap();
    assert_eq!(steps, 2 * schema::latest_version() as usize, "{lines:?}");
    assert_eq!(
        schema::migrate(address, &mut |_| {}).unwrap(),
        0,
        "a second run has nothing to do"
    );

    let first = ClickHouse::new(&address.shards[0]);
    let second = ClickHouse::new(&address.shards[1]);
    let all: Vec<Row> = (0..200).map(row).collect();
    first.insert("iem.events", &all).unwrap();
    // The same 60 events again, through the other shard (another web server resending them).
    let again: Vec<Row> = (40..100).map(row).collect();
    second.insert("iem.events", &again).unwrap();

    let count =
        |ch: &ClickHouse, q: &str| ch.rows::<Count>(q).unwrap()[0].n.parse::<u64>().unwrap();
    assert_eq!(
        count(&first, "SELECT count() AS n FROM iem.events"),
        260,
        "both copies are stored"
    );
    assert_eq!(
        count(&second, "SELECT count() AS n FROM iem.events FINAL"),
        200,
        "FINAL counts each event once"
    );

    // Every dossier's events live on one shard, and both shards hold some.
    let on = |ch: &ClickHouse| -> std::collections::BTreeSet<String> {
        ch.rows::<Dossier>("SELECT DISTINCT dossier_id FROM iem.events_local")
            .unwrap()
            .into_iter()
            .map(|d| d.dossier_id)
            .collect()
    };
    let (a, b) = (on(&first), on(&second));
    assert!(
        !a.is_empty() && !b.is_empty(),
        "shard sizes {} and {}",
        a.len(),
        b.len()
    );
    assert!(
        a.is_disjoint(&b),
        "a dossier on both shards: {:?}",
        a.intersection(&b).next()
    );
    assert_eq!(a.len() + b.len(), 50);

    // A bad statement is refused with ClickHouse's reason, naming the shard.
    let e = first
        .execute("SELECT no_such_column FROM iem.events", b"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no_such_column") && e.contains(&address.shards[0]),
        "{e}"
    );

    // A cluster migrated by a newer server is left alone.
    second
        .execute("INSERT INTO iem.schema_migrations VALUES (99, now())", b"")
        .unwrap();
    let e = schema::migrate(address, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("schema version 99") && e.contains("use a newer server"),
        "{e}"
    );
}

/// Receptions of 40 dossiers per batch, and the resolution of every other one.
fn dossier_events(batch: u32) -> String {
    (0..40)
        .flat_map(|k| {
            let id = format!("mg-{batch}-{k}");
            let unit = ["502", "503", "20398"][(k % 3) as usize];
            let level = if unit == "20398" { "commune" } else { "district" };
            let mut lines = vec![format!(
                r#"{{"event_id":"{id}-r","dossier_id":"{id}","type":"received","at":"2025-05-0{}T08:00:00+07:00","unit":"{unit}","level":"{level}","procedure":"DD-01","field":"Đất đai","channel":"online","due":"2025-05-20T17:00:00+07:00"}}"#,
                1 + k % 9
            )];
            if k % 2 == 0 {
                lines.push(format!(
                    r#"{{"event_id":"{id}-x","dossier_id":"{id}","type":"resolved","at":"2025-05-1{}T10:30:00+07:00"}}"#,
                    k % 10
                ));
            }
            lines
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn store_migrate_copies_a_duckdb_store_into_the_cluster_and_resumes() {
    let cluster = Cluster::start();
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let token = ingest_token(data.path());
    for batch in 0..5 {
        ingest(&server.addr, &token, &dossier_events(batch));
    }
    // DuckDB's lock keeps the copy out while the server runs.
    let refused = store_command(data.path(), &["migrate", "--to", &cluster.url]);
    assert!(
        !refused.status.success() && output_text(&refused).contains("stop it before copying"),
        "{}",
        output_text(&refused)
    );
    drop(server);

    // A whole copy: 200 receptions and 100 resolutions.
    let first = store_command(data.path(), &["migrate", "--to", &cluster.url]);
    assert!(first.status.success(), "{}", output_text(&first));
    let text = output_text(&first);
    assert!(
        text.contains("300 events copied") && text.contains("300 events of 200 dossiers"),
        "{text}"
    );

    // Lose one shard's copy of the last events, as a run cut off between shards would: the next
    // run resumes after what both shards hold and copies only what is missing, counted once.
    let ch = ClickHouse::new(&cluster.address.shards[1]);
    ch.execute(
        "ALTER TABLE iem.events_local DELETE WHERE source_seq > 250",
        b"",
    )
    .unwrap();
    wait_for_mutations(&ch);
    let again = store_command(data.path(), &["migrate", "--to", &cluster.url]);
    let text = output_text(&again);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("resumed after event"), "{text}");
    assert!(
        !text.contains(" 300 events copied"),
        "copied everything again: {text}"
    );
    assert!(text.contains("300 events of 200 dossiers"), "{text}");
    assert!(text.contains("200 dossier states copied"), "{text}");
    eprintln!("resumed run:\n{text}");

    // Served from the cluster, the copied dossiers give the store's figures.
    let duck =
        server::store::DuckStore::open(&data.path().join("iem.duckdb"), &authored_data()).unwrap();
    let clustered = server::store::clickhouse::ClusterStore::open(
        cluster.address.clone(),
        &data.path().join("reference.duckdb"),
        &authored_data(),
    )
    .unwrap();
    for (level, parent) in [
        (Level::Province, None),
        (Level::District, Some("49".to_string())),
        (Level::Commune, Some("502".to_string())),
    ] {
        let q = StatsQuery {
            period: Period {
                from: "2025-04-01".parse().unwrap(),
                to: "2025-06-30".parse().unwrap(),
            },
            level,
            parent,
            field: None,
            channel: None,
            dossier_level: None,
            units: Default::default(),
        };
        let figures = duck.stats(&q).unwrap();
        assert_eq!(figures, clustered.stats(&q).unwrap(), "{q:?}");
        assert!(figures.total.received > 0 || level == Level::Province);
    }
    let one = ServedStore::late_dossiers(&duck, &late_query()).unwrap();
    assert!(one.total > 0);
    assert_eq!(
        one,
        ServedStore::late_dossiers(&clustered, &late_query()).unwrap()
    );
    drop(duck);
    drop(clustered);

    // A wrong address is refused before anything is read, naming the problem.
    let bad = store_command(
        data.path(),
        &["migrate", "--to", "clickhouse://127.0.0.1/iem"],
    );
    assert!(
        !bad.status.success() && output_text(&bad).contains("has no port"),
        "{}",
        output_text(&bad)
    );
}

/// ALTER … DELETE runs in the background; wait until the shard has applied it.
fn wait_for_mutations(ch: &ClickHouse) {
    #[derive(serde::Deserialize)]
    struct Pending {}
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ch
        .rows::<Pending>("SELECT 1 FROM system.mutations WHERE is_done = 0")
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the delete did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Every late dossier of Quảng Nam in May 2025 (the migrate test's dossiers were due on 20 May).
fn late_query() -> app::late::LateQuery {
    app::late::LateQuery {
        unit: "49".into(),
        from: "2025-05-01".parse().unwrap(),
        to: "2025-05-31".parse().unwrap(),
        kind: app::late::LateKind::All,
        field: None,
        procedure: None,
        agency: None,
        sort: app::late::LateSort::DaysOverdue,
        descending: true,
        page: 1,
        page_size: 50,
        units: Default::default(),
    }
}
