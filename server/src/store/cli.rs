//! `server store …`: verify, rebuild, back up, restore and export the store, whether or not the
//! server is running (while it runs, the work is handed to it over the control socket).
use super::duckdb::{maintenance, schema};
use super::DuckStore;
use crate::config::Settings;
use crate::control::{self, Done, FileRequest};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Recompute dossier states and rollups from the events and report any difference
    /// (exit status 1 if there is one).
    Verify,
    /// Replace dossier states and rollups with their recomputation from the events.
    Rebuild,
    /// Write a consistent copy of the store to a new file (works while the server runs).
    Backup { file: PathBuf },
    /// Replace the store with a backup (the server must be stopped; the current store is kept
    /// beside it under a dated name).
    Restore { file: PathBuf },
    /// Write the event log to a Parquet file, in sequence order.
    ExportEvents { file: PathBuf },
    /// Copy the events into a ClickHouse cluster (the server must be stopped). Resumable: run it
    /// again after an interruption; it ends by comparing event and dossier counts.
    Migrate {
        /// The cluster: clickhouse://HOST:PORT[,HOST:PORT…]/DATABASE[?cluster=NAME]
        #[arg(long)]
        to: String,
    },
}

fn absolute(file: &Path) -> Result<PathBuf, String> {
    std::path::absolute(file).map_err(|e| format!("{}: {e}", file.display()))
}

/// Opens the store for offline work; refuses to create one where there is none.
fn open(settings: &Settings) -> Result<DuckStore, String> {
    let path = settings.database_path();
    if !path.exists() {
        return Err(format!(
            "there is no store at {} (IEM_DATA_DIR sets the data directory)",
            path.display()
        ));
    }
    DuckStore::open_with(&path, &settings.authored_data_dir, &settings.engine).map_err(|e| {
        format!(
            "cannot open the store at {}: {e} (is a server running on it without a control socket?)",
            path.display()
        )
    })
}

/// Opens the store read-only, writing nothing (not even a replay of the write-ahead log).
fn open_read_only(settings: &Settings) -> Result<duckdb::Connection, String> {
    let path = settings.database_path();
    if !path.exists() {
        return Err(format!(
            "there is no store at {} (IEM_DATA_DIR sets the data directory)",
            path.display()
        ));
    }
    duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .and_then(|config| duckdb::Connection::open_with_flags(&path, config))
        .map_err(|e| format!("cannot open the store at {}: {e}", path.display()))
}

/// Verifies without writing anything: after a crash the server, not the check, replays the
/// write-ahead log when it next starts.
fn verify_read_only(
    settings: &Settings,
    progress: &mut dyn FnMut(&str),
) -> Result<maintenance::VerifyReport, String> {
    let conn = open_read_only(settings)?;
    let version = schema::current_version(&conn).map_err(|e| e.to_string())?;
    if version != schema::LATEST_VERSION {
        return Err(format!(
            "the store has schema version {version} and this server {}; start the server once to migrate it",
            schema::LATEST_VERSION
        ));
    }
    maintenance::verify(&conn, progress).map_err(|e| e.to_string())
}

fn print_steps(done: &Done) {
    for step in &done.steps {
        eprintln!("  {step}");
    }
}

fn report_verify(report: &maintenance::VerifyReport) -> Result<(), String> {
    for line in report.lines() {
        println!("  {line}");
    }
    if report.is_clean() {
        println!("verify: the store agrees with its events");
        Ok(())
    } else {
        Err("the store differs from its events; `server store rebuild` recomputes it".into())
    }
}

pub fn run(settings: &Settings, command: StoreCommand) -> Result<(), String> {
    let started = Instant::now();
    let mut progress = |s: &str| eprintln!("  {s} ({:.1} s)", started.elapsed().as_secs_f64());
    let data = &settings.data_dir;
    let running = |what: &str| {
        eprintln!(
            "the server is running on {}: asking it to {what}",
            data.display()
        )
    };
    match command {
        StoreCommand::Verify => {
            let report = match control::request(data, "verify", None)? {
                Some(done) => {
                    running("verify the store");
                    print_steps(&done);
                    done.report.ok_or("the server sent no report")?
                }
                None => verify_read_only(settings, &mut progress)?,
            };
            report_verify(&report)
        }
        StoreCommand::Rebuild => {
            match control::request(data, "rebuild", None)? {
                Some(done) => {
                    running("rebuild dossier states and rollups");
                    print_steps(&done);
                }
                None => open(settings)?
                    .rebuild(&mut progress)
                    .map_err(|e| e.to_string())?,
            }
            println!("rebuild: dossier states and rollups recomputed from the events");
            Ok(())
        }
        StoreCommand::Backup { file } => {
            let file = absolute(&file)?;
            let request = FileRequest { file: file.clone() };
            let events = match control::request(data, "backup", Some(&request))? {
                Some(done) => {
                    running("write a backup");
                    print_steps(&done);
                    done.events.ok_or("the server sent no count")?
                }
                None => open(settings)?
                    .backup(&file, &mut progress)
                    .map_err(|e| e.to_string())?,
            };
            println!("backup: {} ({events} events)", file.display());
            Ok(())
        }
        StoreCommand::ExportEvents { file } => {
            let file = absolute(&file)?;
            let request = FileRequest { file: file.clone() };
            let events = match control::request(data, "export-events", Some(&request))? {
                Some(done) => {
                    running("export the events");
                    print_steps(&done);
                    done.events.ok_or("the server sent no count")?
                }
                None => open(settings)?
                    .export_events(&file, &mut progress)
                    .map_err(|e| e.to_string())?,
            };
            println!("export: {events} events to {}", file.display());
            Ok(())
        }
        StoreCommand::Restore { file } => restore(settings, &absolute(&file)?, &mut progress),
        StoreCommand::Migrate { to } => migrate(settings, &to, &mut progress),
    }
}

/// Copies the events into a cluster, reading the store read-only.
fn migrate(settings: &Settings, to: &str, progress: &mut dyn FnMut(&str)) -> Result<(), String> {
    let address: super::clickhouse::ClusterAddress = to.parse()?;
    if control::is_listening(&settings.data_dir) {
        return Err(format!(
            "a server is running on {}; stop it before copying its store (it holds the store's lock)",
            settings.data_dir.display()
        ));
    }
    let conn = open_read_only(settings)?;
    let report = super::clickhouse::copy::copy_events(&conn, &address, progress)
        .map_err(|e| e.to_string())?;
    println!(
        "migrate: {} events copied{}; the cluster holds the store's {} events of {} dossiers",
        report.copied,
        if report.resumed_after > 0 {
            format!(" (resumed after event {})", report.resumed_after)
        } else {
            String::new()
        },
        report.events,
        report.dossiers
    );
    Ok(())
}

/// Checks the backup, moves the current store aside and puts a copy of the backup in its place;
/// the copy is written under a temporary name first, so a failure leaves either store whole.
fn restore(settings: &Settings, file: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), String> {
    let target = settings.database_path();
    if control::is_listening(&settings.data_dir) {
        return Err(format!(
            "a server is running on {}; stop it before restoring",
            settings.data_dir.display()
        ));
    }
    if !file.exists() {
        return Err(format!("{}: no such file", file.display()));
    }
    progress(&format!("checking {}", file.display()));
    let (version, events) = maintenance::check_backup(file, progress)
        .map_err(|e| format!("{} is not a usable backup: {e}", file.display()))?;
    if target.exists() {
        // Fails if another process holds the store.
        drop(
            duckdb::Connection::open(&target)
                .map_err(|e| format!("the store at {} is in use: {e}", target.display()))?,
        );
    }
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| e.to_string())?;
    let partial = target.with_extension("duckdb.restoring");
    progress("copying the backup into the data directory");
    // Copied into a file that is the owner's only from its first byte: `fs::copy` would carry
    // over the backup's mode, and a backup copied around may be readable by others.
    (|| -> std::io::Result<()> {
        let mut out = crate::private_file::create_private(&partial)?;
        std::io::copy(&mut std::fs::File::open(file)?, &mut out)?;
        out.sync_all()
    })()
    .map_err(|e| format!("cannot copy {}: {e}", file.display()))?;
    let mut kept = None;
    if target.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = target.with_extension(format!("duckdb.replaced-{stamp}"));
        std::fs::rename(&target, &aside).map_err(|e| e.to_string())?;
        let wal = target.with_extension("duckdb.wal");
        if wal.exists() {
            std::fs::rename(&wal, aside.with_extension(format!("replaced-{stamp}.wal")))
                .map_err(|e| e.to_string())?;
        }
        kept = Some(aside);
    }
    std::fs::rename(&partial, &target).map_err(|e| e.to_string())?;
    progress("opening the restored store");
    let store = DuckStore::open_with(&target, &settings.authored_data_dir, &settings.engine)
        .map_err(|e| format!("the restored store does not open: {e}"))?;
    let summary = store.summary().map_err(|e| e.to_string())?;
    println!(
        "restore: {} now holds {} events and {} dossiers (backup schema version {version}, now {}; {events} events in the backup)",
        target.display(),
        summary.events,
        summary.dossiers,
        summary.schema_version
    );
    if let Some(aside) = kept {
        println!("  the previous store is kept at {}", aside.display());
    }
    Ok(())
}
