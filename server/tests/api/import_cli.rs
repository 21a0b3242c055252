//! `server import FILE` as an operator runs it: CSV exports and NDJSON, atomicity, --skip-invalid.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Output};

fn run_import(data_dir: &Path, file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("import")
        .arg(file)
        .args(extra)
        .env("IEM_DATA_DIR", data_dir)
        .env("IEM_CONFIG_DIR", authored_data())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the server binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Quảng Nam's province-level figures for March 2021, read through the HTTP API of a store
/// opened on the imported file.
async fn march_total(data_dir: &Path) -> serde_json::Value {
    let app = app_at(&data_dir.join("iem.duckdb"));
    app.province_total("2021-03-01", "2021-03-31").await
}

#[tokio::test]
async fn a_csv_export_with_bom_crlf_and_vietnamese_dates_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    let body = "event_id,dossier_id,type,at,unit,level,procedure,field,channel,due,fee,paid_online\r\n\
        e1,HS-1,received,01/03/2021 08:00,502,district,DD-01,Đất đai,online,10/03/2021 17:00,Có,Có\r\n\
        e2,HS-1,resolved,10/03/2021 16:00,,,,,,,,\r\n\
        e3,HS-2,received,2021-03-02T09:00:00+07:00,502,district,ZZ-99,Tư pháp,direct,2021-03-05T17:00:00+07:00,không,không\r\n\
        e4,HS-2,resolved,08/03/2021,,,,,,,,\r\n";
    std::fs::write(&csv, [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat()).unwrap();
    let data = dir.path().join("store");
    let out = run_import(&data, &csv, &[]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("4 lines, 4 events stored, 0 duplicates, 0 skipped"),
        "{stdout}"
    );
    // The uncatalogued procedure is listed with the field its event carried.
    assert!(stdout.contains("ZZ-99 (Tư pháp): 1 dossier(s)"), "{stdout}");

    let total = march_total(&data).await;
    assert_eq!(total["received"], 2);
    assert_eq!(total["resolved_on_time"], 1, "{total}");
    assert_eq!(total["resolved_late"], 1, "{total}");
    assert_eq!(total["online_payment_rate"], 1.0, "{total}");

    // Importing the same file again stores nothing new.
    let again = run_import(&data, &csv, &[]);
    assert!(text(&again.stdout).contains("0 events stored, 4 duplicates"));
}

#[tokio::test]
async fn an_invalid_line_refuses_the_whole_file_unless_skip_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let lines = [
        received(
            "e1",
            "d1",
            "2021-03-01T08:00:00+07:00",
            "2021-03-10T17:00:00+07:00",
        ),
        // Due before the reception: refused with its own code, on line 2.
        received(
            "e2",
            "d2",
            "2021-03-05T08:00:00+07:00",
            "2021-03-01T17:00:00+07:00",
        ),
        resolved("e3", "d1", "2021-03-09T10:00:00+07:00"),
    ];
    let body: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&file, body.join("\n")).unwrap();
    let data = dir.path().join("store");

    let out = run_import(&data, &file, &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: due [due_before_received]"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(march_total(&data).await["received"], 0);

    let out = run_import(&data, &file, &["--skip-invalid"]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 lines, 2 events stored, 0 duplicates, 1 skipped"));
    let total = march_total(&data).await;
    assert_eq!(
        (total["received"].as_u64(), total["resolved_early"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn an_unknown_csv_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "event_id,dossier,type\ne1,d1,received\n").unwrap();
    let out = run_import(&dir.path().join("store"), &csv, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown CSV column 'dossier'"),
        "{}",
        text(&out.stderr)
    );
}
