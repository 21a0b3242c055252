//! Command-line entry point: reads the settings once, then serves or runs a maintenance subcommand.
use server::cli::{BoundariesCommand, Cli, Command};
use server::config::Settings;
use std::process::ExitCode;

fn import(
    settings: &Settings,
    file: &std::path::Path,
    skip_invalid: bool,
    format: Option<String>,
) -> Result<(), String> {
    use server::ingest::import::{import, Format, ImportError};
    let format = match format.as_deref() {
        Some("csv") => Format::Csv,
        Some(_) => Format::Ndjson,
        None => Format::from_path(file).ok_or_else(|| {
            format!(
                "{}: cannot tell the format from the extension; pass --format ndjson|csv",
                file.display()
            )
        })?,
    };
    // A cluster takes events from any number of processes, so the servers keep running. The
    // import checks against a reference copy of its own: a running server holds its data
    // directory's copy open.
    let reference =
        tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let store: Box<dyn server::store::served::ServedStore> = match &settings.cluster {
        Some(address) => Box::new(
            server::store::clickhouse::ClusterStore::open_with(
                address.clone(),
                &reference.path().join("reference.duckdb"),
                &settings.authored_data_dir,
                &settings.engine,
            )
            .map_err(|e| format!("cannot open the cluster store ({e})"))?,
        ),
        None => Box::new(server::store::DuckStore::open_with(&settings.database_path(), &settings.authored_data_dir, &settings.engine).map_err(|e| {
            format!(
                "cannot open the store at {} ({e}); if the server is running, stop it or POST the events to /api/v1/events",
                settings.database_path().display()
            )
        })?),
    };
    let started = std::time::Instant::now();
    let mut progress = |m: &str| eprintln!("  {m} ({:.1} s)", started.elapsed().as_secs_f64());
    let print_errors = |errors: &[server::ingest::event::LineError], total: u64| {
        for e in errors {
            eprintln!("  line {}: {} [{}] {}", e.line, e.field, e.code, e.message);
        }
        if total > errors.len() as u64 {
            eprintln!("  … and {} more", total - errors.len() as u64);
        }
    };
    match import(&*store, file, format, skip_invalid, &mut progress) {
        Ok(r) => {
            println!(
                "imported {}: {} lines, {} events stored, {} duplicates, {} skipped ({:.1} s)",
                file.display(),
                r.lines,
                r.accepted,
                r.duplicates,
                r.skipped,
                started.elapsed().as_secs_f64()
            );
            print_errors(&r.errors, r.error_count);
            let uncatalogued = store
                .uncatalogued_procedures()
                .map_err(|e| format!("imported, but cannot list uncatalogued procedures: {e}"))?;
            if !uncatalogued.is_empty() {
                println!(
                    "{} procedure code(s) are not in the catalogue (data/procedures.csv); their dossiers are counted under the field their events carry:",
                    uncatalogued.len()
                );
                for p in uncatalogued.iter().take(20) {
                    println!("  {} ({}): {} dossier(s)", p.procedure, p.field, p.dossiers);
                }
            }
            Ok(())
        }
        Err(ImportError::Invalid(r)) => {
            print_errors(&r.errors, r.error_count);
            Err(format!("{} invalid line(s) in {}; nothing was imported (--skip-invalid imports the valid lines)", r.error_count, file.display()))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn main() -> ExitCode {
    // Every file, directory and socket the server and its tools create (the DuckDB file and its
    // log, tokens, accounts, the audit log, backups and exports) holds dossier-level data or a
    // secret: owner-only from its first byte, whatever umask the process was started with.
    // SAFETY: umask only swaps the process's file mode mask; no thread has started yet.
    unsafe {
        libc::umask(0o077);
    }
    // A write beyond a file size limit (RLIMIT_FSIZE) would otherwise kill the process with
    // SIGXFSZ; ignored, it fails with EFBIG like a full disk, and ingest answers 503.
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // Every setting is read here, once; one that cannot be read stops the start (exit code 2,
    // as clap's own errors), naming its flag and variable.
    let settings = match cli.settings.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(settings.log_json, &settings.log_filter);
    // Store calls run on tokio's blocking threads. Left at tokio's default (512), a burst of
    // readers queued on the store's two read connections grew as many threads, each keeping
    // its own allocator heap: 200 concurrent readers took the server to 2.5 GB. Past this many,
    // calls wait in tokio's queue instead, which costs nothing while they wait.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(settings.blocking_threads)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve(Box::new(cli.serve)));
    let result = match command {
        Command::Serve(args) => match args.settings() {
            Ok(serve) => runtime
                .block_on(server::serve::run(settings, serve))
                .map_err(|e| e.to_string()),
            Err(e) => {
                // A setting that cannot be read stops the start, as clap's own errors do.
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        Command::Import {
            file,
            skip_invalid,
            format,
        } => import(&settings, &file, skip_invalid, format),
        Command::Boundaries {
            command: BoundariesCommand::Import(args),
        } => server::boundaries::cli::run_import(&settings, &args),
        Command::Store { command } => server::store::cli::run(&settings, command),
        Command::Users { command } => server::auth::cli::run_users(&settings.data_dir, command),
        Command::Tokens { command } => server::auth::cli::run_tokens(&settings.data_dir, command),
        Command::Audit { tail } => server::auth::cli::run_audit(&settings.data_dir, tail),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
