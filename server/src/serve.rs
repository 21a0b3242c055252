//! Starting the server: open the store, seed the demo on its first start when asked for, serve
//! until SIGTERM.
use crate::auth::token::TokenOrigin;
use crate::auth::{Auth, AuthSettings, IngestToken};
use crate::config::Settings;
use crate::demo::simulator::SimulatorSettings;
use crate::http::{router, AppState};
use crate::store::clickhouse::ClusterStore;
use crate::store::served::ServedStore;
use crate::store::DuckStore;
use axum::serve::ListenerExt;
use leptos::prelude::LeptosOptions;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the store at {path}: {source}")]
    Store {
        path: String,
        source: crate::store::StoreFailure,
    },
    #[error("cannot write the demo history: {0}")]
    Demo(crate::demo::DemoError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Settings(String),
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Debug)]
pub struct ServeOptions {
    /// Write the demo history into an empty store and create the demo accounts.
    pub demo: bool,
    /// Run the live simulator (demo events in real time) with these settings.
    pub simulator: Option<SimulatorSettings>,
}

/// `serve`'s settings, each from its flag or its environment variable. The bare `server` runs
/// `serve` with these too, parsed by the same declarations, so no setting is read twice (a bare
/// start once built its options by hand and ignored the environment).
///
/// The values are read as written and checked by [`ServeArgs::options`], when the server is
/// about to serve: the bare command reads them too (flattened), and a bad `IEM_DEMO` must stop
/// a start, not `server users list`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServeArgs {
    /// Show the demo: write the demo history into an empty store, create demo accounts and run
    /// the live simulator. Off by default, so that a real deployment's empty store stays empty.
    #[arg(long, env = "IEM_DEMO", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<String>,
    /// No demo: the default, kept for older scripts; wins over --demo.
    #[arg(long, env = "IEM_NO_DEMO", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub no_demo: Option<String>,
    /// Do not run the live simulator (demo events in real time; on by default with the demo).
    #[arg(long, env = "IEM_NO_SIMULATOR", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub no_simulator: Option<String>,
    /// The live simulator's average rate, in events per second (above 0, at most 1000).
    #[arg(
        long,
        env = "IEM_SIMULATOR_RATE",
        value_name = "RATE",
        default_value = "3"
    )]
    pub simulator_rate: String,
}

impl ServeArgs {
    /// What `serve` does: the demo only when asked for (`--no-demo` wins, as it did when the
    /// demo was the default), the simulator only with the demo. A value that is not a yes/no
    /// (or not a rate) is an error naming its flag and variable.
    pub fn options(&self) -> Result<ServeOptions, String> {
        let yes = |value: &Option<String>, name: &str| -> Result<bool, String> {
            value
                .as_deref()
                .map_or(Ok(false), switch)
                .map_err(|m| format!("{name}: {m}"))
        };
        let demo = yes(&self.demo, "--demo / IEM_DEMO")?
            && !yes(&self.no_demo, "--no-demo / IEM_NO_DEMO")?;
        let no_simulator = yes(&self.no_simulator, "--no-simulator / IEM_NO_SIMULATOR")?;
        let simulator = SimulatorSettings {
            rate: simulator_rate(&self.simulator_rate)
                .map_err(|m| format!("--simulator-rate / IEM_SIMULATOR_RATE: {m}"))?,
        };
        Ok(ServeOptions {
            demo,
            simulator: (demo && !no_simulator).then_some(simulator),
        })
    }
}

/// A yes/no setting, from a flag or its environment variable: an empty variable counts as
/// unset, and a value that is neither yes nor no is refused rather than guessed.
fn switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(format!("'{value}' is neither true nor false")),
    }
}

fn simulator_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1000.0 => Ok(rate),
        _ => Err(format!(
            "'{value}' is not a rate between 0 and 1000 events per second"
        )),
    }
}

pub async fn run(settings: Settings, options: ServeOptions) -> Result<(), ServeError> {
    report_shared_files(&settings.data_dir);
    let opened = open_store(&settings).await?;
    let store: Arc<dyn ServedStore> = match &opened {
        Opened::Embedded(duck) => duck.clone(),
        Opened::Cluster(cluster) => cluster.clone(),
    };
    let embedded = match &opened {
        Opened::Embedded(duck) => Some(duck.clone()),
        Opened::Cluster(_) => None,
    };
    // The unit lists and catalogue: the store itself, or a cluster server's local copy.
    let reference = match &opened {
        Opened::Embedded(duck) => duck.clone(),
        Opened::Cluster(cluster) => cluster.reference(),
    };
    let store_failure = |source| ServeError::Store {
        path: store_name(&settings),
        source,
    };
    match (&embedded, options.demo) {
        (Some(duck), true) => {
            let s = duck.clone();
            let today = chrono::Utc::now()
                .with_timezone(&app::indicators::vietnam_offset())
                .date_naive();
            let scenario = settings
                .authored_data_dir
                .join("demo")
                .join("scenario.toml");
            tracing::info!(scenario = %scenario.display(), "checking the demo history (written on first start)");
            let written =
                tokio::task::spawn_blocking(move || crate::demo::seed(&s, &scenario, today))
                    .await?
                    .map_err(ServeError::Demo)?;
            if written > 0 {
                tracing::info!(events = written, "demo history written");
            }
        }
        (None, true) => tracing::info!(
            "the demo history is written into an embedded store only; to show it from the cluster, \
             copy that store with `server store migrate --to URL`"
        ),
        (_, false) => {}
    }
    let (dossiers, events) = match &opened {
        Opened::Embedded(duck) => {
            let s = duck.clone();
            let summary = tokio::task::spawn_blocking(move || s.summary())
                .await?
                .map_err(store_failure)?;
            (summary.dossiers, summary.events)
        }
        Opened::Cluster(cluster) => {
            let c = cluster.clone();
            tokio::task::spawn_blocking(move || c.counts())
                .await?
                .map_err(store_failure)?
        }
    };
    let (ingest_token, token_origin) = IngestToken::load_or_create(&settings.data_dir)?;
    let auth_settings = AuthSettings::from_env().map_err(ServeError::Settings)?;
    let demo_accounts = if options.demo {
        let district = {
            let s = reference.clone();
            let province = settings.default_province.clone();
            tokio::task::spawn_blocking(move || s.children(&province, app::model::Level::District))
                .await?
                .map_err(store_failure)?
                .into_iter()
                .next()
        };
        // A leader and a chair of today too: the province of today, and the commune the old
        // district's first commune went into (one with the demo's history).
        let today = {
            let s = reference.clone();
            let key = app::era::Era::From2025.key(&settings.default_province_2025);
            let old_district = district.clone();
            tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreFailure> {
                let Some(key) = key else { return Ok(None) };
                let successor = match &old_district {
                    Some(d) => s
                        .children(d, app::model::Level::Commune)?
                        .iter()
                        .find_map(|c| s.conversion().commune(c).map(|to| to.0[0].clone())),
                    None => None,
                };
                let commune = match successor {
                    Some(c) => Some(c),
                    None => s
                        .children(&key, app::model::Level::Commune)?
                        .into_iter()
                        .next(),
                };
                Ok(commune.map(|c| (key, c)))
            })
            .await?
            .map_err(store_failure)?
        };
        // Argon2 hashing and file writes: off the async workers.
        let data_dir = settings.data_dir.clone();
        let province = settings.default_province.clone();
        tokio::task::spawn_blocking(move || {
            crate::auth::demo::ensure(
                &data_dir,
                &province,
                district.as_deref(),
                today.as_ref().map(|(p, c)| (p.as_str(), c.as_str())),
            )
        })
        .await?
        .map_err(ServeError::Settings)?
    } else {
        None
    };
    let auth = Auth::new(&settings.data_dir, Some(ingest_token), auth_settings);

    let leptos_options = LeptosOptions::builder()
        .output_name("iem")
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.site_addr)
        .build();
    let state = AppState::new(
        leptos_options,
        store.clone(),
        auth,
        app::views::DashboardDefaults {
            province: Some(settings.default_province.clone()),
            province_2025: Some(settings.default_province_2025.clone()),
        },
    );
    if let Some(simulator) = options.simulator {
        let scenario = settings
            .authored_data_dir
            .join("demo")
            .join("scenario.toml");
        tokio::spawn(crate::demo::simulator::run(
            state.clone(),
            scenario,
            simulator,
        ));
    }
    let simulating = options
        .simulator
        .map(|s| format!("live simulator: {} events/s (off: --no-simulator)", s.rate));
    if let Some(duck) = &embedded {
        crate::control::serve(&settings.data_dir, duck.clone())
            .await
            .map_err(|source| ServeError::Listen {
                addr: crate::control::socket_path(&settings.data_dir)
                    .display()
                    .to_string(),
                source,
            })?;
    }
    // Other web servers write to a cluster too: follow its commits for the live stream.
    tokio::spawn(crate::live::follow_store(
        state.store.clone(),
        state.live.feed().clone(),
    ));
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(settings.site_addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: settings.site_addr.to_string(),
            source,
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(%url, dossiers, events, "serving");
    println!();
    println!("  Institutional Enforcement Map is running at {url}");
    println!(
        "  store: {} ({dossiers} dossiers, {events} events)",
        store_name(&settings)
    );
    // Secrets are printed once, when created (the bench reads this line on a fresh store);
    // later starts say where they are kept, since logs are read more widely than the data
    // directory.
    match &token_origin {
        TokenOrigin::Created { file, token } => {
            println!("  ingest token (Authorization: Bearer …): {token}");
            println!("    (kept in {}; printed this once)", file.display());
        }
        TokenOrigin::Kept(file) => println!("  ingest token: in {}", file.display()),
        TokenOrigin::Environment => println!("  ingest token: IEM_INGEST_TOKEN"),
    }
    if let Some(line) = simulating {
        println!("  {line}");
    }
    if dossiers == 0 && !options.demo {
        println!("  the store is empty: one-stop systems post events to /api/v1/events,");
        println!("  or use `server import FILE`; `server serve --demo` shows the demo instead");
    }
    match demo_accounts {
        Some(accounts) => {
            println!();
            for line in accounts.lines() {
                println!("  {line}");
            }
        }
        None if options.demo => {
            let file = crate::auth::demo::accounts_file(&settings.data_dir);
            if file.exists() {
                println!("  demo accounts: in {}", file.display());
            }
        }
        None => {}
    }
    println!();
    // The peer address feeds the sign-in rate limit and the audit log.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Pages stream in several chunks (the head first, then each section as its figures resolve);
    // with Nagle's algorithm a chunk waited for the client's delayed ACK, about 40 ms each.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // A socket file left behind is harmless (the next start replaces it) but confuses copies
    // of the data directory.
    let _ = std::fs::remove_file(crate::control::socket_path(&settings.data_dir));
    tracing::info!("stopped: in-flight requests finished");
    Ok(())
}

enum Opened {
    Embedded(Arc<DuckStore>),
    Cluster(Arc<ClusterStore>),
}

/// Warns about files in the data directory that other local users may read: left by a version
/// that created them with the default umask (what is created now is owner-only). Reported, not
/// changed: the operator may have shared one on purpose, e.g. with a backup job.
fn report_shared_files(data_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let mode = match entry.metadata() {
            Ok(meta) if meta.is_file() => meta.permissions().mode() & 0o777,
            _ => continue,
        };
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %entry.path().display(),
                mode = %format!("{mode:o}"),
                "other local users may read this file; `chmod 600` it unless that is intended"
            );
        }
    }
}

/// The store's file, or the cluster's address.
fn store_name(settings: &Settings) -> String {
    match &settings.cluster {
        Some(address) => format!(
            "ClickHouse cluster {} at {}",
            address.database,
            address.shards.join(", ")
        ),
        None => settings.database_path().display().to_string(),
    }
}

/// Opens the embedded store, or the cluster `STORE_URL` names.
async fn open_store(settings: &Settings) -> Result<Opened, ServeError> {
    let authored = settings.authored_data_dir.clone();
    let failure = |source| ServeError::Store {
        path: store_name(settings),
        source,
    };
    match settings.cluster.clone() {
        None => {
            let path = settings.database_path();
            tracing::info!(path = %path.display(), "opening the store");
            let store = tokio::task::spawn_blocking(move || DuckStore::open(&path, &authored))
                .await?
                .map_err(failure)?;
            Ok(Opened::Embedded(Arc::new(store)))
        }
        Some(address) => {
            tracing::info!(shards = ?address.shards, database = %address.database, "opening the cluster store");
            let reference = settings.reference_path();
            let store = tokio::task::spawn_blocking(move || {
                ClusterStore::open(address, &reference, &authored)
            })
            .await?
            .map_err(failure)?;
            Ok(Opened::Cluster(Arc::new(store)))
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C; axum then stops accepting and lets in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(demo: bool, no_demo: bool, no_simulator: bool) -> ServeArgs {
        let flag = |on: bool| on.then(|| "true".to_string());
        ServeArgs {
            demo: flag(demo),
            no_demo: flag(no_demo),
            no_simulator: flag(no_simulator),
            simulator_rate: "5".into(),
        }
    }

    fn demo(given: ServeArgs) -> bool {
        given.options().unwrap().demo
    }

    fn simulator_rate_of(given: ServeArgs) -> Option<f64> {
        given.options().unwrap().simulator.map(|s| s.rate)
    }

    #[test]
    fn without_the_demo_switch_there_is_no_demo_and_no_simulator() {
        assert!(!demo(args(false, false, false)));
        assert_eq!(simulator_rate_of(args(false, false, false)), None);
    }

    #[test]
    fn the_demo_switch_brings_the_simulator_unless_it_is_turned_off() {
        assert!(demo(args(true, false, false)));
        assert_eq!(simulator_rate_of(args(true, false, false)), Some(5.0));
        assert!(demo(args(true, false, true)));
        assert_eq!(simulator_rate_of(args(true, false, true)), None);
    }

    #[test]
    fn no_demo_wins_over_demo() {
        assert!(!demo(args(true, true, false)));
        assert_eq!(simulator_rate_of(args(true, true, false)), None);
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_flag_and_variable() {
        let mut bad = args(false, false, false);
        bad.demo = Some("maybe".into());
        let e = bad.options().unwrap_err();
        assert!(e.starts_with("--demo / IEM_DEMO: 'maybe'"), "{e}");
        let mut zero = args(true, false, false);
        zero.simulator_rate = "0".into();
        assert!(zero.options().unwrap_err().contains("IEM_SIMULATOR_RATE"));
    }

    #[test]
    fn switches_read_the_usual_spellings_and_refuse_the_rest() {
        for yes in ["true", "1", "yes", "on", "TRUE"] {
            assert_eq!(switch(yes), Ok(true), "{yes}");
        }
        for no in ["", "false", "0", "no", "off"] {
            assert_eq!(switch(no), Ok(false), "{no}");
        }
        assert!(switch("maybe").is_err());
        assert!(simulator_rate("0").is_err());
        assert_eq!(simulator_rate("2.5"), Ok(2.5));
    }

    #[test]
    fn the_flags_parse_into_the_settings_serve_reads() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let flags = ["server", "--demo", "--simulator-rate", "7"];
        let cli = Cli::try_parse_from(flags).unwrap();
        let options = cli.serve.options().unwrap();
        assert!(options.demo);
        assert_eq!(options.simulator.map(|s| s.rate), Some(7.0));
        let off = ["server", "--demo", "false"];
        assert!(
            !Cli::try_parse_from(off)
                .unwrap()
                .serve
                .options()
                .unwrap()
                .demo
        );
        let zero = ["server", "--simulator-rate", "0"];
        assert!(Cli::try_parse_from(zero).unwrap().serve.options().is_err());
    }
}
