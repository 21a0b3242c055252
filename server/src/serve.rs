//! Starting the server: open the store, seed the demo on its first start when asked for, serve
//! until SIGTERM.
use crate::auth::token::TokenOrigin;
use crate::auth::{Auth, IngestToken};
use crate::config::{ServeSettings, Settings};
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

pub async fn run(settings: Settings, options: ServeSettings) -> Result<(), ServeError> {
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
    // The shipped boundaries of today's units go into the store now, in the background (a few
    // seconds, once per store), not on the first map or monthly report someone asks for. A
    // request that comes meanwhile waits for the same import (`shipped::ensure` runs one). A
    // thread of its own at the lowest CPU priority: the import yields the cores to requests, the
    // ingest and the live stream of a server that has just started.
    let s = reference.clone();
    let started = std::thread::Builder::new()
        .name("shipped-boundaries".into())
        .spawn(move || {
            lowest_priority();
            for level in [app::model::Level::Province, app::model::Level::Commune] {
                let stored = crate::boundaries::shipped::ensure(
                    &s,
                    s.authored_data(),
                    level,
                    app::views::COUNTRY,
                    app::era::REFORM_DATE,
                );
                if let Err(e) = stored {
                    tracing::warn!(level = %level, error = %e, "the shipped boundaries could not be checked at start");
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "the start-up import of the shipped boundaries did not start; the first map stores them");
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
    let (ingest_token, token_origin) = IngestToken::load_or_create(
        options.ingest_token.as_ref().map(|t| t.expose()),
        &settings.data_dir,
    )?;
    let demo_accounts = if options.demo {
        let district = {
            let s = reference.clone();
            let province = options.default_province.clone();
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
            let key = app::era::Era::From2025.key(&options.default_province_2025);
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
        let province = options.default_province.clone();
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
    let auth = Auth::new(&settings.data_dir, Some(ingest_token), options.auth);

    let leptos_options = LeptosOptions::builder()
        .output_name("iem")
        .site_root(options.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(options.site_addr)
        .build();
    let state = AppState::new(
        leptos_options,
        store.clone(),
        auth,
        app::views::DashboardDefaults {
            province: Some(options.default_province.clone()),
            province_2025: Some(options.default_province_2025.clone()),
        },
    );
    if let Some(simulator) = options.simulator {
        let scenario = settings
            .authored_data_dir
            .join("demo")
            .join("scenario.toml");
        tokio::spawn(crate::demo::simulator::run(
            state.store.clone(),
            state.live.feed().clone(),
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
    // Alert rules: a file that cannot be read stops the start rather than lose its rules.
    let mut state = state;
    let alerts = std::sync::Arc::new(
        crate::alerts::Alerts::open(&settings.data_dir, options.alerts.clone())
            .map_err(|e| ServeError::Settings(format!("alert rules: {e}")))?,
    );
    state.alerts = Some(alerts.clone());
    tokio::spawn(crate::alerts::run(
        alerts,
        state.store.clone(),
        state.live.feed().clone(),
    ));
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(options.site_addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: options.site_addr.to_string(),
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
        TokenOrigin::Environment => {
            println!("  ingest token: the one set (--ingest-token / IEM_INGEST_TOKEN)")
        }
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
            let engine = settings.engine.clone();
            let store = tokio::task::spawn_blocking(move || {
                DuckStore::open_with(&path, &authored, &engine)
            })
            .await?
            .map_err(failure)?;
            Ok(Opened::Embedded(Arc::new(store)))
        }
        Some(address) => {
            tracing::info!(shards = ?address.shards, database = %address.database, "opening the cluster store");
            let reference = settings.reference_path();
            let engine = settings.engine.clone();
            let store = tokio::task::spawn_blocking(move || {
                ClusterStore::open_with(address, &reference, &authored, &engine)
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

/// Lowers the calling thread to the lowest CPU priority (nice 19). On Linux the nice value is
/// the thread's own, so the server's other threads keep theirs; where it cannot be set, the
/// thread runs at the usual priority.
fn lowest_priority() {
    // SAFETY: two system calls about the calling thread, with no pointers passed.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 19);
    }
}
