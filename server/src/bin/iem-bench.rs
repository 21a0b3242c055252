//! Benchmarks behind `make bench`: HTTP NDJSON ingest throughput, `stats` latency on a large store, live-stream delivery.
use app::model::Channel;
use axum::Router;
use chrono::TimeZone;
use chrono::{Duration, NaiveDate};
use clap::{Parser, Subcommand};
use leptos::prelude::LeptosOptions;
use server::auth::{Auth, AuthSettings, IngestToken};
use server::http::{router, AppState};
use server::ingest::event::{Event, EventKind, Reception};
use server::store::DuckStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Parser)]
#[command(about = "Institutional Enforcement Map benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The project's authored data (unit lists, catalogue).
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// POST NDJSON batches over loopback HTTP to a fresh store and report events/s.
    Ingest {
        #[arg(long, default_value_t = 500_000)]
        dossiers: u64,
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        #[arg(long, default_value_t = 4)]
        connections: usize,
        /// Alert rules evaluated after commits while ingesting (as `serve` runs them).
        #[arg(long, default_value_t = 0)]
        alert_rules: usize,
    },
    /// Alert rules evaluated after commits on the demo store (written once, kept).
    Alerts {
        #[arg(long, default_value_t = 1000)]
        rules: usize,
        #[arg(long, default_value_t = 50)]
        rounds: usize,
        #[arg(long)]
        store_dir: PathBuf,
    },
    /// The monthly PDF report of each demo province's last month, on the demo store (as `alerts`).
    Report {
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        #[arg(long)]
        store_dir: PathBuf,
    },
    /// Import a generated country-wide TopoJSON layer and a province's commune layer; report the
    /// import times and the commune layer's gzipped size as the map fetches it.
    Boundaries {
        /// Features in the country-wide layer (units beyond the known communes match none).
        #[arg(long, default_value_t = 700)]
        features: usize,
    },
    /// Connect many live-stream clients to the release server, then time ingest → client.
    Live {
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Extra clients that connect and never read.
        #[arg(long, default_value_t = 50)]
        stuck: usize,
    },
    /// Writers and readers at once for minutes: latencies and memory by the minute, 429s for
    /// writers over their limit, and a check that every acknowledged event was stored.
    Soak {
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        #[arg(long, default_value_t = 20)]
        writers: usize,
        /// Writers (of --writers) that post as fast as they can, over the per-token limit.
        #[arg(long, default_value_t = 2)]
        greedy: usize,
        #[arg(long, default_value_t = 200)]
        readers: usize,
    },
    /// Fill (once, cached) a store with many dossiers, then time quarter stats at district level.
    Stats {
        #[arg(long, default_value_t = 10_000_000)]
        dossiers: u64,
        /// Where the large store is kept between runs.
        #[arg(long)]
        store_dir: PathBuf,
        #[arg(long, default_value_t = 300)]
        queries: usize,
    },
    /// The same generated dossiers in DuckDB and in a two-shard ClickHouse cluster (each filled
    /// once, kept): ingest rates, then quarter stats at province and district level on both.
    Stores {
        #[arg(long, default_value_t = 10_000_000)]
        dossiers: u64,
        /// Where both stores are kept between runs.
        #[arg(long)]
        store_dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        queries: usize,
    },
}

const TOKEN: &str = "bench-token";

#[path = "iem-bench/alerts.rs"]
mod alerts;
#[path = "iem-bench/due.rs"]
mod due;
#[path = "iem-bench/live.rs"]
mod live;
#[path = "iem-bench/report.rs"]
mod report;
#[path = "iem-bench/soak.rs"]
mod soak;
#[path = "iem-bench/stores.rs"]
mod stores;
const UNITS: [(&str, &str); 6] = [
    ("502", "district"),
    ("515", "district"),
    ("20335", "commune"),
    ("802", "district"),
    ("080", "district"),
    ("49", "province"),
];
const FIELDS: [&str; 4] = ["Đất đai", "Hộ tịch", "Chứng thực", "Xây dựng"];

/// The bench's own ingest token, no ingest rate limit (the bench measures the store), and the
/// audit log beside the store as in a real deployment.
fn bench_auth(store: &DuckStore) -> Auth {
    let dir = store.path().parent().unwrap_or(std::path::Path::new("."));
    Auth::new(
        dir,
        Some(IngestToken::from_plain(TOKEN)),
        AuthSettings {
            ingest: server::auth::rate_limit::Limit {
                burst: 0.0,
                per_second: 0.0,
            },
            ..AuthSettings::default()
        },
    )
}

async fn start_server(store: Arc<DuckStore>) -> std::io::Result<std::net::SocketAddr> {
    start_server_with(store, None).await
}

/// The server over `store`, evaluating `alerts` after commits as `serve` does.
async fn start_server_with(
    store: Arc<DuckStore>,
    alerts: Option<Arc<server::alerts::Alerts>>,
) -> std::io::Result<std::net::SocketAddr> {
    let mut state = AppState::new(
        LeptosOptions::builder().output_name("iem").build(),
        store.clone(),
        bench_auth(&store),
        Default::default(),
    );
    if let Some(alerts) = alerts {
        state.alerts = Some(alerts.clone());
        tokio::spawn(server::alerts::run(
            alerts,
            store.clone(),
            state.live.feed().clone(),
        ));
    }
    let app: Router = router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("bench server stopped: {e}");
        }
    });
    Ok(addr)
}

/// A dossier's two events as NDJSON lines: received, then resolved some days later.
fn dossier_lines(n: u64, start: NaiveDate) -> [String; 2] {
    let (unit, level) = UNITS[(n % UNITS.len() as u64) as usize];
    let day = start + Duration::days((n / 2_000) as i64 % 2_000);
    let field = FIELDS[(n % 7 % 4) as usize];
    let received = format!("{day}T08:{:02}:00+07:00", n % 60);
    let due = day + Duration::days(5 + (n % 11) as i64);
    let resolved_day = day + Duration::days((n % 13) as i64);
    [
        format!(
            r#"{{"event_id":"b{n}r","dossier_id":"b{n}","type":"received","at":"{received}","unit":"{unit}","level":"{level}","procedure":"DD-01","field":"{field}","channel":"{}","due":"{due}T17:00:00+07:00","fee":true,"paid_online":false}}"#,
            if n.is_multiple_of(3) {
                "online"
            } else {
                "direct"
            }
        ),
        format!(
            r#"{{"event_id":"b{n}s","dossier_id":"b{n}","type":"resolved","at":"{resolved_day}T15:00:00+07:00"}}"#
        ),
    ]
}

async fn post(stream: &mut BufReader<TcpStream>, addr: &str, body: &[u8]) -> std::io::Result<u16> {
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.get_mut().write_all(head.as_bytes()).await?;
    stream.get_mut().write_all(body).await?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut rest = vec![0u8; length];
    stream.read_exact(&mut rest).await?;
    Ok(status)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench_ingest(
    data: &Path,
    dossiers: u64,
    batch: usize,
    connections: usize,
    alert_rules: usize,
) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("iem-bench-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let store =
        Arc::new(DuckStore::open(&dir.join("bench.duckdb"), data).map_err(|e| e.to_string())?);
    let rules = if alert_rules > 0 {
        Some(alerts::alerts_with(
            &dir,
            alerts::rules(&store, alert_rules)?,
        )?)
    } else {
        None
    };
    let addr = start_server_with(store.clone(), rules.clone())
        .await
        .map_err(|e| e.to_string())?;
    // The rules active, not the server starting: the ingest begins once the evaluation every
    // start runs (all rules) is done. Overlapping it costs the ingest while it lasts (measured in
    // BENCHMARKS.md).
    if let Some(rules) = &rules {
        let waited = Instant::now();
        while rules.evaluations() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        println!(
            "ingest: the server's start-up evaluation of {alert_rules} rules took {:.1} s",
            waited.elapsed().as_secs_f64()
        );
    }
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
    // Receptions go first so every resolution finds its dossier, whichever connection carries it.
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for phase in 0..2 {
        let mut lines = Vec::with_capacity(batch);
        for n in 0..dossiers {
            lines.push(dossier_lines(n, start)[phase].clone());
            if lines.len() == batch || n + 1 == dossiers {
                bodies.push(lines.join("\n").into_bytes());
                lines.clear();
            }
        }
    }
    let total_events = dossiers * 2;
    let half = bodies.len() / 2;
    let bodies = Arc::new(bodies);
    println!("ingest: {total_events} events in batches of {batch} over {connections} loopback connections, {alert_rules} alert rules …");
    let started = Instant::now();
    let mut latencies = Vec::new();
    for phase in [0..half, half..bodies.len()] {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(phase.start));
        let end = phase.end;
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (next, bodies) = (next.clone(), bodies.clone());
            let addr = addr.to_string();
            tasks.push(tokio::spawn(async move {
                let mut stream =
                    BufReader::new(TcpStream::connect(&addr).await.map_err(|e| e.to_string())?);
                let mut times = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= end {
                        return Ok::<_, String>(times);
                    }
                    let t = Instant::now();
                    let status = post(&mut stream, &addr, &bodies[i])
                        .await
                        .map_err(|e| e.to_string())?;
                    if status != 200 {
                        return Err(format!("batch {i} answered {status}"));
                    }
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }));
        }
        for t in tasks {
            latencies.extend(t.await.map_err(|e| e.to_string())??);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let stored = store.summary().map_err(|e| e.to_string())?.events;
    if stored != total_events {
        return Err(format!("{stored} events stored, {total_events} sent"));
    }
    println!(
        "ingest: {total_events} events durable in {seconds:.1} s = {:.0} events/s; per-request latency p50 {:.1} ms, p95 {:.1} ms",
        total_events as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95)
    );
    drop(store);
    std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(())
}

/// The fill's events, built directly (the HTTP path is what `ingest` measures).
fn typed_event(
    k: u64,
    phase: usize,
    unit: &str,
    level: app::model::Level,
    day: NaiveDate,
) -> Event {
    let at = |d: NaiveDate, h: u32| {
        app::indicators::vietnam_offset()
            .from_local_datetime(&d.and_hms_opt(h, 0, 0).expect("time"))
            .single()
            .expect("fixed offset")
    };
    let kind = if phase == 0 {
        EventKind::Received(Reception {
            unit: unit.to_string(),
            level,
            procedure: "DD-01".into(),
            field: FIELDS[(k % 7 % 4) as usize].into(),
            channel: if k.is_multiple_of(3) {
                Channel::Online
            } else {
                Channel::Direct
            },
            due: at(day + Duration::days(5 + (k % 11) as i64), 17),
            fee: k.is_multiple_of(2),
            paid_online: k.is_multiple_of(4),
            agency: None,
        })
    } else {
        EventKind::Resolved { outcome: None }
    };
    Event {
        event_id: format!("f{k}{}", if phase == 0 { 'r' } else { 's' }),
        dossier_id: format!("f{k}"),
        at: if phase == 0 {
            at(day, 8)
        } else {
            at(day + Duration::days((k % 13) as i64), 15)
        },
        kind,
    }
}

/// The units of a fill by era (index: before the 2025 reform, from it), with public codes: a
/// dossier is received by a unit in force on its day.
fn units_by_era(units: Vec<(String, app::model::Level)>) -> [Vec<(String, app::model::Level)>; 2] {
    let mut by_era: [Vec<(String, app::model::Level)>; 2] = Default::default();
    for (key, level) in units {
        let era = app::era::Era::of_key(&key);
        by_era[usize::from(era == app::era::Era::From2025)]
            .push((app::era::code_of(&key).to_string(), level));
    }
    by_era
}

/// The events of dossiers `range` of a `dossiers`-strong fill: every reception, then every
/// resolution, the dossiers spread over the units in force on their day and over 2,400 days
/// from `start`.
fn fill_batch(
    range: std::ops::Range<u64>,
    dossiers: u64,
    units: &[Vec<(String, app::model::Level)>; 2],
    start: NaiveDate,
) -> Vec<(u32, Event)> {
    let mut lines = Vec::with_capacity(((range.end - range.start) * 2) as usize);
    for phase in 0..2 {
        for k in range.clone() {
            let day = start + Duration::days((k * 2_400 / dossiers) as i64);
            let units = &units[usize::from(day >= app::era::REFORM_DATE)];
            let (code, level) =
                &units[(k.wrapping_mul(2_654_435_761) % units.len() as u64) as usize];
            lines.push((
                lines.len() as u32 + 1,
                typed_event(k, phase, code, *level, day),
            ));
        }
    }
    lines
}

/// The `i`th quarter query of the stats benchmarks: the quarters of 2020–2024 in turn (the fills
/// span them; districts exist until the 2025 reform), at `level`; at district level the
/// districts of three provinces in turn.
fn quarter_query(i: usize, level: app::model::Level) -> app::model::StatsQuery {
    use app::model::{Level, Period, StatsQuery};
    let provinces = ["49", "80", "10"];
    let year = 2020 + (i % 5) as i32;
    let quarter = (i / 5 % 4) as u32;
    let from = NaiveDate::from_ymd_opt(year, quarter * 3 + 1, 1).expect("date");
    let to = (from + chrono::Months::new(3)) - Duration::days(1);
    StatsQuery {
        period: Period { from, to },
        level,
        parent: (level == Level::District).then(|| provinces[i % 3].to_string()),
        field: None,
        channel: None,
        dossier_level: None,
        units: Default::default(),
    }
}

fn bench_stats(data: &Path, dossiers: u64, store_dir: &Path, queries: usize) -> Result<(), String> {
    let path = store_dir.join(format!("stats-{dossiers}.duckdb"));
    let store = DuckStore::open(&path, data).map_err(|e| e.to_string())?;
    let have = store.summary().map_err(|e| e.to_string())?.dossiers;
    let marker = "bench_fill_complete";
    if store.meta(marker).map_err(|e| e.to_string())?.is_none() {
        if have > 0 {
            return Err(format!(
                "{} holds a partial fill; delete it and rerun",
                path.display()
            ));
        }
        println!(
            "stats: filling {} with {dossiers} dossiers (once; kept for later runs) …",
            path.display()
        );
        let fill_started = Instant::now();
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
        let units = units_by_era(store.all_unit_codes().map_err(|e| e.to_string())?);
        let chunk = 50_000u64;
        let mut n = 0u64;
        while n < dossiers {
            let end = (n + chunk).min(dossiers);
            let lines = fill_batch(n..end, dossiers, &units, start);
            store.ingest(&lines).map_err(|e| format!("{e:?}"))?;
            n = end;
            if n.is_multiple_of(1_000_000) || n == dossiers {
                println!(
                    "  {n} dossiers stored ({:.0} s, {:.0} events/s)",
                    fill_started.elapsed().as_secs_f64(),
                    (n * 2) as f64 / fill_started.elapsed().as_secs_f64()
                );
            }
        }
        store
            .set_meta(marker, &dossiers.to_string())
            .map_err(|e| e.to_string())?;
    }
    // Read from the tables (the figures kept between reads dropped before each query), then
    // again with them kept: no commit lands during the benchmark, so those are all kept.
    let mut times: [Vec<f64>; 2] = Default::default();
    for (kept, times) in times.iter_mut().enumerate() {
        for i in 0..queries {
            let query = quarter_query(i, app::model::Level::District);
            times.push(timed_stats(&store, &query, kept == 0)?);
        }
        times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    }
    let summary = store.summary().map_err(|e| e.to_string())?;
    for (times, how) in times
        .iter()
        .zip(["read from the tables", "with the figures kept"])
    {
        println!(
            "stats: quarter at district level over {} dossiers / {} events, {how}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({queries} queries)",
            summary.dossiers,
            summary.events,
            percentile(times, 0.5),
            percentile(times, 0.95),
            times.last().copied().unwrap_or(f64::NAN)
        );
    }
    comparable_view(&store, queries)?;
    due::run(&store, queries)
}

/// One stats read's time in milliseconds; `from_tables` drops the figures kept between reads
/// first. An answer listing no unit is an error: the benchmark would time nothing.
fn timed_stats(
    store: &DuckStore,
    query: &app::model::StatsQuery,
    from_tables: bool,
) -> Result<f64, String> {
    use app::store::IndicatorStore;
    if from_tables {
        store.forget_kept_figures();
    }
    let t = Instant::now();
    let answer = store.stats(query).map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if answer.units.is_empty() {
        return Err("stats listed no unit".into());
    }
    Ok(ms)
}

/// A pre-reform quarter on today's units (the comparable view) against the same query on the
/// units of its time, in one run, both read from the tables: the country's provinces and the country's communes (the same
/// dossiers either way), and one province's communes (`parent=48`: old Đà Nẵng then, today's
/// Đà Nẵng, which also took in Quảng Nam, now: about twice the dossiers).
fn comparable_view(store: &DuckStore, queries: usize) -> Result<(), String> {
    use app::era::UnitsView;
    use app::model::Level;
    for (level, historical_parent, current_parent) in [
        (Level::Province, None, None),
        (Level::Commune, None, None),
        (Level::Commune, Some("48"), Some("48")),
    ] {
        let mut times: [Vec<f64>; 2] = Default::default();
        for i in 0..queries {
            // The quarters of 2020–2024: both views exist for them.
            let mut query = quarter_query(i, level);
            for (view, times) in times.iter_mut().enumerate() {
                let (units, parent) = if view == 0 {
                    (UnitsView::Historical, historical_parent)
                } else {
                    (UnitsView::Current, current_parent)
                };
                query.units = units;
                query.parent = parent.map(str::to_string);
                // Both read from the tables, as before figures were kept between reads.
                times.push(timed_stats(store, &query, true)?);
            }
        }
        for t in times.iter_mut() {
            t.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        }
        let (historical, current) = (percentile(&times[0], 0.95), percentile(&times[1], 0.95));
        println!(
            "stats: a pre-reform quarter at {level} level{} on today's units p95 {current:.1} ms, on the units of its time p95 {historical:.1} ms: {:.2}x (target at most 1.5x; {queries} queries each)",
            current_parent.map(|p| format!(" under {p}")).unwrap_or_else(|| " (the whole country)".into()),
            current / historical
        );
    }
    Ok(())
}

/// A deterministic value in [-1, 1] for an edge's point, so that both cells sharing the edge
/// (one arc in TopoJSON) see the same line.
fn wiggle(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x % 2_000_001) as f64 / 1_000_000.0 - 1.0
}

/// A border from `a` to `b` as real ones look: midpoint displacement, 2^depth segments.
fn border(a: (f64, f64), b: (f64, f64), seed: u64, depth: u32) -> Vec<(f64, f64)> {
    let mut points = vec![a, b];
    let mut amplitude = 0.12;
    for level in 0..depth {
        let mut next = Vec::with_capacity(points.len() * 2);
        for (k, pair) in points.windows(2).enumerate() {
            let (p, q) = (pair[0], pair[1]);
            let (dx, dy) = (q.0 - p.0, q.1 - p.1);
            let shift = amplitude * wiggle(seed ^ (u64::from(level) << 40) ^ k as u64);
            next.push(p);
            next.push((
                (p.0 + q.0) / 2.0 - dy * shift,
                (p.1 + q.1) / 2.0 + dx * shift,
            ));
        }
        next.push(*points.last().expect("two points"));
        points = next;
        // Slow decay keeps detail at every scale, as rivers and ridges give real borders.
        amplitude *= 0.8;
    }
    points
}

/// A TopoJSON layer of `codes.len()` cells on a jittered grid over central Viet Nam, each with
/// a `code` property; neighbours share their border arcs.
fn grid_topojson(codes: &[String], depth: u32) -> String {
    let cols = (codes.len() as f64).sqrt().ceil() as usize;
    let rows = codes.len().div_ceil(cols);
    let cell = 0.06;
    let corner = |i: usize, j: usize| {
        let seed = (i * 10_007 + j) as u64;
        let jitter = |s: u64| {
            if i == 0 || j == 0 || i == cols || j == rows {
                0.0
            } else {
                wiggle(s) * cell * 0.25
            }
        };
        (
            107.2 + i as f64 * cell + jitter(seed),
            16.4 - j as f64 * cell + jitter(seed ^ 77),
        )
    };
    let mut arcs: Vec<String> = Vec::new();
    let mut arc = |a: (f64, f64), b: (f64, f64), seed: u64| {
        let line = border(a, b, seed, depth)
            .iter()
            .map(|(x, y)| format!("[{x:.6},{y:.6}]"))
            .collect::<Vec<_>>()
            .join(",");
        arcs.push(format!("[{line}]"));
        arcs.len() as i64 - 1
    };
    // Horizontal edges (i,j)→(i+1,j), then vertical edges (i,j)→(i,j+1).
    let mut horizontal = vec![vec![0i64; rows + 1]; cols];
    for (i, column) in horizontal.iter_mut().enumerate() {
        for (j, slot) in column.iter_mut().enumerate() {
            *slot = arc(corner(i, j), corner(i + 1, j), (i * 7_919 + j) as u64);
        }
    }
    let mut vertical = vec![vec![0i64; rows]; cols + 1];
    for (i, column) in vertical.iter_mut().enumerate() {
        for (j, slot) in column.iter_mut().enumerate() {
            *slot = arc(
                corner(i, j),
                corner(i, j + 1),
                (i * 6_007 + j + 1_000_000) as u64,
            );
        }
    }
    let geometries = codes
        .iter()
        .enumerate()
        .map(|(n, code)| {
            let (i, j) = (n % cols, n / cols);
            let ring = [
                horizontal[i][j],
                vertical[i + 1][j],
                !horizontal[i][j + 1],
                !vertical[i][j],
            ];
            format!(
                r#"{{"type":"Polygon","arcs":[[{},{},{},{}]],"properties":{{"code":"{code}"}}}}"#,
                ring[0], ring[1], ring[2], ring[3]
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"type":"Topology","objects":{{"units":{{"type":"GeometryCollection","geometries":[{geometries}]}}}},"arcs":[{}]}}"#,
        arcs.join(",")
    )
}

async fn bench_boundaries(data: &Path, features: usize) -> Result<(), String> {
    use app::model::Level;
    use server::boundaries::import::{import, ImportOptions};
    let dir = std::env::temp_dir().join(format!("iem-bench-boundaries-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = async {
        let store = Arc::new(DuckStore::open(&dir.join("bench.duckdb"), data).map_err(|e| e.to_string())?);
        let on = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let options = |level: Level, parent: &str| ImportOptions {
            level,
            parent: parent.to_string(),
            code_property: Some("code".into()),
            name_property: None,
            valid_from: on,
            valid_to: None,
            mapping: None,
            object: None,
        };
        let timed_import = |file: &Path, options: &ImportOptions| {
            let started = Instant::now();
            let report = import(&store, file, options, &mut |_| {}).map_err(|e| e.to_string())?;
            Ok::<_, String>((started.elapsed().as_secs_f64(), report))
        };

        let mut codes: Vec<String> = store
            .unit_names(Level::Commune, "VN", on)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|u| u.code)
            .collect();
        codes.truncate(features);
        let known = codes.len();
        codes.extend((known..features).map(|n| format!("X{n}")));
        let country = dir.join("country.topojson");
        std::fs::write(&country, grid_topojson(&codes, 8)).map_err(|e| e.to_string())?;
        let size = std::fs::metadata(&country).map_err(|e| e.to_string())?.len();
        let (seconds, report) = timed_import(&country, &options(Level::Commune, "VN"))?;
        println!(
            "boundaries: country-wide layer of {features} features ({:.1} MB TopoJSON, {} stored, {} matching no unit, {} repaired): imported in {seconds:.2} s",
            size as f64 / 1e6,
            report.matched.len(),
            report.unmatched_features.len(),
            report.repairs.len(),
        );
        if let Some((feature, code, what)) = report.repairs.first() {
            println!("  first repair: feature {feature} ({code}): {what}");
        }

        let province = "49";
        let communes: Vec<String> = store
            .unit_names(Level::Commune, province, on)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|u| u.code)
            .collect();
        let file = dir.join("province.topojson");
        std::fs::write(&file, grid_topojson(&communes, 8)).map_err(|e| e.to_string())?;
        let raw = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
        let (seconds, report) = timed_import(&file, &options(Level::Commune, province))?;
        let addr = start_server(store.clone()).await.map_err(|e| e.to_string())?;
        let path = format!("/api/v1/boundaries?level=commune&parent={province}&date=2024-06-30");
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map_err(|e| e.to_string())?;
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP header")?;
        let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") || !head.contains("content-encoding: gzip") {
            return Err(format!("boundaries answered: {}", head.lines().next().unwrap_or("")));
        }
        // The body is chunked; its size less the chunk framing is close enough at this scale.
        let body = answer.len() - split - 4;
        println!(
            "boundaries: {} communes of province {province} ({:.1} MB TopoJSON) imported in {seconds:.2} s; GET {path} → {:.0} KB gzipped (target ≤ 300 KB)",
            report.matched.len(),
            raw as f64 / 1e6,
            body as f64 / 1024.0
        );
        Ok(())
    }
    .await;
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
    result
}

fn main() -> std::process::ExitCode {
    // Quiet unless asked: per-request logs would be part of what is measured.
    if let Ok(filter) = std::env::var("RUST_LOG") {
        server::telemetry::init(false, &filter);
    }
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = match cli.command {
        Command::Ingest {
            dossiers,
            batch,
            connections,
            alert_rules,
        } => runtime.block_on(bench_ingest(
            &cli.data,
            dossiers,
            batch,
            connections,
            alert_rules,
        )),
        Command::Alerts {
            rules,
            rounds,
            store_dir,
        } => alerts::run(&cli.data, &store_dir, rules, rounds),
        Command::Report { rounds, store_dir } => report::run(&cli.data, &store_dir, rounds),
        Command::Stats {
            dossiers,
            store_dir,
            queries,
        } => bench_stats(&cli.data, dossiers, &store_dir, queries),
        Command::Stores {
            dossiers,
            store_dir,
            queries,
        } => stores::run(&cli.data, dossiers, &store_dir, queries),
        Command::Boundaries { features } => runtime.block_on(bench_boundaries(&cli.data, features)),
        Command::Soak {
            minutes,
            writers,
            greedy,
            readers,
        } => runtime.block_on(soak::run(
            &cli.data,
            soak::Options {
                minutes,
                writers,
                greedy: greedy.min(writers),
                readers,
            },
        )),
        Command::Live {
            clients,
            rounds,
            stuck,
        } => runtime.block_on(live::run(
            &cli.data,
            live::Options {
                clients,
                rounds,
                stuck,
            },
        )),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
