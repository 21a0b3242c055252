//! The ClickHouse cluster store's foundation on a real two-shard cluster on loopback: schema
//! migrations, the sharding of a dossier's events, and an event resent through another shard
//! counted once.
use server::store::clickhouse::{schema, ClickHouse, ClusterAddress};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A running two-shard cluster, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    address: ClusterAddress,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/clickhouse-cluster.sh")
}

impl Cluster {
    fn start() -> Cluster {
        // Six ports the script derives from a base (HTTP, TCP, interserver for each shard).
        let base = (0..200)
            .map(|k| 20_000 + ((std::process::id() as u16).wrapping_mul(7) % 2_000) * 10 + k * 40)
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
            "cluster did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let url = format!(
            "clickhouse://127.0.0.1:{},127.0.0.1:{}/iem",
            base,
            base + 10
        );
        Cluster {
            dir,
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
}
