//! `server store backup` while the server runs and ingest goes on, `store restore` into another
//! data directory, and the restored store answering the same figures; `store export-events`
//! through the running server.
use crate::process::{http, ingest, ingest_token, output_text as text, start, store_command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn receptions(batch: u32) -> String {
    (0..50)
        .map(|k| {
            let id = format!("bk-{batch}-{k}");
            let unit = ["502", "503", "20398"][(k % 3) as usize];
            let level = if unit == "20398" { "commune" } else { "district" };
            format!(
                r#"{{"event_id":"{id}","dossier_id":"{id}","type":"received","at":"2025-05-0{}T08:00:00+07:00","unit":"{unit}","level":"{level}","procedure":"DD-01","field":"Đất đai","channel":"online","due":"2025-05-20T17:00:00+07:00"}}"#,
                1 + k % 9
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const VIEWS: [&str; 3] = [
    "/api/v1/stats?level=district&parent=49&from=2025-05-01&to=2025-05-31",
    "/api/v1/stats?level=commune&parent=502&from=2025-01-01&to=2025-06-30",
    "/api/v1/trend?unit=49&from=2025-01-01&to=2025-06-30",
];

fn figures(addr: &str) -> Vec<serde_json::Value> {
    VIEWS
        .iter()
        .map(|path| {
            let (status, body) = http(addr, "GET", path, None, "").unwrap();
            assert_eq!(status, 200, "{path}: {body}");
            let mut value: serde_json::Value = serde_json::from_str(&body).unwrap();
            // When the data last changed is not a figure.
            if let Some(o) = value.as_object_mut() {
                o.remove("data_as_of");
            }
            value
        })
        .collect()
}

#[test]
fn a_backup_taken_under_ingest_restores_to_the_same_figures() {
    let live = tempfile::tempdir().unwrap();
    let server = start(live.path());
    let token = ingest_token(live.path());
    for batch in 0..10 {
        ingest(&server.addr, &token, &receptions(batch));
    }
    // Ingest goes on while the backup is taken: the backup is one snapshot of it.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (addr, token, stop) = (server.addr.clone(), token.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut batch = 100;
            while !stop.load(Ordering::Relaxed) {
                ingest(&addr, &token, &receptions(batch));
                batch += 1;
            }
            batch - 100
        })
    };
    let backup = live.path().join("copy.duckdb");
    let taken = store_command(live.path(), &["backup", backup.to_str().unwrap()]);
    assert!(taken.status.success(), "{}", text(&taken));
    assert!(
        text(&taken).contains("asking it to write a backup"),
        "{}",
        text(&taken)
    );
    stop.store(true, Ordering::Relaxed);
    let during = writer.join().unwrap();
    assert!(during > 0, "no ingest ran during the backup");

    // A second backup to the same file is refused; nothing is overwritten.
    let again = store_command(live.path(), &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    // Events to Parquet through the running server.
    let parquet = live.path().join("events.parquet");
    let exported = store_command(live.path(), &["export-events", parquet.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let rows = {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(std::fs::File::open(&parquet).unwrap()).unwrap();
        reader.metadata().file_metadata().num_rows()
    };
    assert_eq!(rows as usize, 50 * (10 + during as usize));

    // Restoring is refused while a server runs on the data directory.
    let refused = store_command(live.path(), &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("stop it before restoring"),
        "{}",
        text(&refused)
    );

    // The backup holds a whole number of requests: what the store held at one instant.
    let in_backup = {
        let conn = duckdb::Connection::open_with_flags(
            &backup,
            duckdb::Config::default()
                .access_mode(duckdb::AccessMode::ReadOnly)
                .unwrap(),
        )
        .unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        n as usize
    };
    assert_eq!(in_backup % 50, 0, "the backup splits a request");
    assert!(in_backup >= 500);
    drop(server);

    // Restore into a new data directory; it must answer what a store with the same events does.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = store_command(restored_dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored));
    let restored_server = start(restored_dir.path());
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = start(reference_dir.path());
    let reference_token = ingest_token(reference_dir.path());
    let batches = in_backup / 50;
    let sent: Vec<u32> = (0..10).chain(100..(100 + (batches as u32 - 10))).collect();
    for batch in sent {
        ingest(&reference.addr, &reference_token, &receptions(batch));
    }
    assert_eq!(figures(&restored_server.addr), figures(&reference.addr));
}
