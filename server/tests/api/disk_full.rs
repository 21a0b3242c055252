//! A store that cannot write: ingest answers 503 and stores nothing, reads go on, `/readyz`
//! says so, and everything comes back by itself once writing works again. "Full" is a file
//! size limit (RLIMIT_FSIZE) put on the running server: it fails DuckDB's writes with EFBIG the
//! way a full disk fails them with ENOSPC, and needs neither root nor a mount.
use crate::process::{http, http_with_head, ingest_token, output_text, start, store_command};

fn receptions(batch: u32) -> String {
    (0..100)
        .map(|k| {
            format!(
                r#"{{"event_id":"full-{batch}-{k}","dossier_id":"full-{batch}-{k}","type":"received","at":"2025-03-03T08:00:00+07:00","unit":"502","level":"district","procedure":"DD-01","field":"Đất đai","channel":"online","due":"2025-03-12T17:00:00+07:00"}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sets the server's soft file size limit (the hard one stays, so it can be raised again).
fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let limit = libc::rlimit {
        rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY),
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit reads `limit` and writes nothing back (null old-limit pointer).
    let done = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
}

fn received_in_march(addr: &str) -> u64 {
    let (status, body) = http(
        addr,
        "GET",
        "/api/v1/stats?level=district&parent=49&from=2025-03-01&to=2025-03-31",
        None,
        "",
    )
    .expect("stats answer");
    assert_eq!(status, 200, "reads must keep working: {body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    stats["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "502")
        .and_then(|u| u["received"].as_u64())
        .unwrap()
}

#[test]
fn a_store_that_cannot_write_refuses_ingest_keeps_reading_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let token = ingest_token(dir.path());
    let post = |addr: &str, batch: u32| {
        http_with_head(
            addr,
            "POST",
            "/api/v1/events",
            Some(&token),
            &receptions(batch),
        )
        .expect("ingest answers")
    };
    assert_eq!(post(&server.addr, 1).0, 200);

    let wal = dir.path().join("iem.duckdb.wal");
    let room = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) + 20_000;
    limit_file_size(server.child.id(), Some(room));
    // The first batch or two may still fit; then the disk is "full".
    let mut failed = None;
    let mut stored_batches = 1;
    for batch in 2..12 {
        let (status, head, body) = post(&server.addr, batch);
        if status == 200 {
            stored_batches += 1;
            continue;
        }
        assert_eq!(status, 503, "{body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["code"], "store_unwritable");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("nothing from this request was stored"),
            "{body}"
        );
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 30"),
            "{head}"
        );
        failed = Some(batch);
        break;
    }
    let failed = failed.expect("with the file size limited, an ingest must fail");
    assert_eq!(received_in_march(&server.addr), 100 * stored_batches);
    let (status, body) = http(&server.addr, "GET", "/readyz", None, "").unwrap();
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["code"], "store_unwritable");
    assert_eq!(ready["reads"], "ok");
    // Still full: still refused, still nothing stored.
    assert_eq!(post(&server.addr, failed).0, 503);
    assert_eq!(received_in_march(&server.addr), 100 * stored_batches);

    // Room again: readiness returns without any ingest, and the refused batch goes in whole.
    limit_file_size(server.child.id(), None);
    let (status, body) = http(&server.addr, "GET", "/readyz", None, "").unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post(&server.addr, failed);
    assert_eq!(status, 200, "{body}");
    let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (outcome["accepted"].as_u64(), outcome["duplicates"].as_u64()),
        (Some(100), Some(0))
    );
    assert_eq!(received_in_march(&server.addr), 100 * (stored_batches + 1));

    // Nothing is corrupted: after a kill the store agrees with its events.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let verify = store_command(dir.path(), &["verify"]);
    assert!(verify.status.success(), "{}", output_text(&verify));
    assert!(String::from_utf8_lossy(&verify.stdout)
        .contains(&format!("events: {}", 100 * (stored_batches + 1))));
}
