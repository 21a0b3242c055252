//! A real deployment's defaults: no demo unless asked for, secrets shown once, files and the
//! control socket private from the start, a bare `server` that is `server serve` exactly, and a
//! simulator that keeps to the dossiers it received itself.
use crate::common;
use crate::process::{self, Server};
use axum::http::StatusCode;
use server::demo::simulator::Simulator;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AT: &str = "2021-03-01T08:00:00+07:00";
const DUE: &str = "2021-03-10T17:00:00+07:00";

/// A file's or directory's permission bits.
fn mode(path: &Path) -> u32 {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    meta.permissions().mode() & 0o777
}

/// The bare `server` (no subcommand, no flags) on `data`, its standard output kept in `out`.
fn start_bare(data: &Path, out: &Path) -> Server {
    let file = std::fs::File::create(out).expect("a file for the output");
    process::start_args(data, &[], &[], Stdio::from(file))
}

#[test]
fn a_bare_server_keeps_an_empty_store_empty_and_shows_its_token_only_when_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first_out = dir.path().join("first.out");
    let server = start_bare(&data, &first_out);
    let token = process::ingest_token(&data);
    // Everything is printed before the server answers its first request.
    drop(server);
    let first = std::fs::read_to_string(&first_out).unwrap();
    assert!(
        first.contains("(0 dossiers, 0 events)"),
        "no demo:\n{first}"
    );
    assert!(!first.contains("live simulator"), "no simulator:\n{first}");
    assert!(
        first.contains(&token),
        "a new token is shown once:\n{first}"
    );
    assert!(!data.join("demo-accounts.txt").exists(), "no demo accounts");

    let second_out = dir.path().join("second.out");
    let server = start_bare(&data, &second_out);
    drop(server);
    let second = std::fs::read_to_string(&second_out).unwrap();
    assert!(
        second.contains("(0 dossiers, 0 events)"),
        "still empty:\n{second}"
    );
    assert!(!second.contains(&token), "not shown again:\n{second}");
}

#[test]
fn the_store_the_token_and_the_control_socket_are_private_from_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    // A data directory the server makes itself.
    let data = dir.path().join("data");
    let server = process::start(&data);
    let token = process::ingest_token(&data);
    let event = common::received("e1", "d1", AT, DUE).to_string();
    process::ingest(&server.addr, &token, &event);
    let must_exist = [
        data.clone(),
        data.join("iem.duckdb"),
        data.join("ingest-token"),
    ];
    // Made or not depending on DuckDB's checkpoints and the audit log's writes.
    let may_exist = [data.join("iem.duckdb.wal"), data.join("audit.log")];
    let present = may_exist.iter().filter(|p| p.exists());
    for path in must_exist.iter().chain(present) {
        let m = mode(path);
        assert_eq!(m & 0o077, 0, "{} has mode {m:o}", path.display());
    }
    let socket_dir = data.join("control");
    assert_eq!(mode(&socket_dir), 0o700);
    let socket = socket_dir.join("control.sock");
    let kind = std::fs::symlink_metadata(&socket).unwrap().file_type();
    assert!(kind.is_socket(), "{} is a socket", socket.display());
    drop(server);
}

#[test]
fn the_bare_command_reads_the_serve_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", process::free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("IEM_SIMULATOR_RATE", "0")
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("IEM_DATA_DIR", dir.path())
        .env("IEM_CONFIG_DIR", process::authored_data())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server runs");
    // A bare start once ignored the variable and served on: give it a while, then fail.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a bare server started with IEM_SIMULATOR_RATE=0");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("simulator-rate"), "{stderr}");
}

#[test]
fn the_help_lists_every_serve_setting_with_its_variable() {
    for args in [vec!["--help"], vec!["serve", "--help"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(&args)
            .output()
            .expect("the server runs");
        let text = process::output_text(&output);
        assert!(output.status.success(), "{text}");
        for variable in [
            "IEM_DEMO",
            "IEM_NO_DEMO",
            "IEM_NO_SIMULATOR",
            "IEM_SIMULATOR_RATE",
        ] {
            assert!(
                text.contains(variable),
                "{args:?} lacks {variable}:\n{text}"
            );
        }
    }
}

#[tokio::test]
async fn the_simulator_never_closes_a_dossier_an_integrator_posted() {
    // The simulator runs on the embedded store only.
    if common::test_cluster().is_some() {
        return;
    }
    let app = common::app();
    // In Tam Kỳ (Quảng Nam, one of the scenario's provinces): an integrator's open dossier,
    // and one an earlier run of the simulator received and left open.
    let integrators = "HS-502-2021-000001";
    let earlier_run = "sim-210301080000-000001";
    let (status, body) = app
        .post_ndjson(&[
            common::received("e1", integrators, AT, DUE),
            common::received("e2", earlier_run, AT, DUE),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scenario = common::authored_data().join("demo").join("scenario.toml");
    let loaded = Simulator::load(&app.store, &scenario, "t".to_string());
    let mut simulator = loaded.expect("the simulator loads");
    assert_eq!(
        simulator.open_dossiers(),
        1,
        "only its own dossier is open to it"
    );
    let now = chrono::DateTime::parse_from_rfc3339("2021-03-05T09:30:00+07:00");
    let now = now.expect("a valid instant");
    for _ in 0..20_000 {
        let event = simulator.next_event(now).expect("units to simulate");
        let id = event["dossier_id"].as_str().unwrap_or_default();
        assert_ne!(id, integrators, "{event}");
        if event["type"] != "received" {
            assert!(id == earlier_run || id.starts_with("sim-t-"), "{event}");
        }
    }
}
