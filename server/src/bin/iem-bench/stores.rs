//! DuckDB against the two-shard ClickHouse cluster: the same generated dossiers go into each
//! (filled once, kept between runs), then the same quarter `stats` at province and district level.
use super::{fill_batch, percentile, quarter_query};
use app::model::{Level, Period};
use chrono::NaiveDate;
use server::store::clickhouse::ClusterStore;
use server::store::served::ServedStore;
use server::store::DuckStore;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const FILLED: &str = "bench_stores_fill";
/// Dossiers per ingest call (two events each).
const CHUNK: u64 = 50_000;

/// The cluster of the benchmark, stopped when dropped (its data stays for the next run).
struct Cluster {
    dir: PathBuf,
    script: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn start_cluster(dir: &Path, data: &Path, base: u16) -> Result<(Cluster, String), String> {
    let script = data.join("../scripts/clickhouse-cluster.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(dir)
        .arg(base.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let url = format!(
        "clickhouse://127.0.0.1:{base},127.0.0.1:{}/bench",
        base + 10
    );
    Ok((
        Cluster {
            dir: dir.to_path_buf(),
            script,
        },
        url,
    ))
}

/// Fills `store` with `dossiers` generated dossiers unless `reference` records a complete fill;
/// returns the ingest rate in events/s (measured now, or when it was filled).
fn fill(
    name: &str,
    store: &dyn ServedStore,
    reference: &DuckStore,
    dossiers: u64,
) -> Result<f64, String> {
    if let Some(rate) = reference.meta(FILLED).map_err(|e| e.to_string())? {
        println!("  {name}: filled earlier at {rate} events/s");
        return rate.parse().map_err(|_| format!("bad fill record {rate}"));
    }
    println!("  {name}: filling with {dossiers} dossiers (once; kept for later runs) …");
    let started = Instant::now();
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
    let units = super::units_by_era(reference.all_unit_codes().map_err(|e| e.to_string())?);
    let mut n = 0u64;
    let mut reported = Instant::now();
    while n < dossiers {
        let end = (n + CHUNK).min(dossiers);
        let lines = fill_batch(n..end, dossiers, &units, start);
        let outcome = store
            .ingest(lines, &server::auth::Scope::Everything)
            .map_err(|e| format!("{e:?}"))?;
        if outcome.accepted != (end - n) * 2 {
            return Err(format!(
                "{name}: {} of {} events accepted (a partial fill? delete the bench directory)",
                outcome.accepted,
                (end - n) * 2
            ));
        }
        n = end;
        if reported.elapsed().as_secs() >= 30 || n == dossiers {
            reported = Instant::now();
            println!(
                "    {n} dossiers ({:.0} s, {:.0} events/s)",
                started.elapsed().as_secs_f64(),
                (n * 2) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let rate = (dossiers * 2) as f64 / started.elapsed().as_secs_f64();
    reference
        .set_meta(FILLED, &format!("{rate:.0}"))
        .map_err(|e| e.to_string())?;
    Ok(rate)
}

/// p50 and p95 (ms) of `queries` quarter queries at `level` (provinces in turn at district level).
fn time_stats(store: &dyn ServedStore, level: Level, queries: usize) -> Result<(f64, f64), String> {
    let mut times = Vec::with_capacity(queries);
    for i in 0..queries {
        let query = quarter_query(i, level);
        let t = Instant::now();
        let answer = store.stats(&query).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if answer.total.received == 0 && answer.units.iter().all(|u| u.received == 0) {
            let Period { from, to } = query.period;
            return Err(format!("no figures for {from}..{to}"));
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    Ok((percentile(&times, 0.5), percentile(&times, 0.95)))
}

pub fn run(data: &Path, dossiers: u64, store_dir: &Path, queries: usize) -> Result<(), String> {
    std::fs::create_dir_all(store_dir).map_err(|e| e.to_string())?;
    println!("stores: DuckDB against a two-shard ClickHouse cluster, {dossiers} dossiers each");
    let duck = DuckStore::open(&store_dir.join(format!("duck-{dossiers}.duckdb")), data)
        .map_err(|e| e.to_string())?;
    let duck_rate = fill("DuckDB", &duck, &duck, dossiers)?;

    let (cluster, url) =
        start_cluster(&store_dir.join(format!("cluster-{dossiers}")), data, 19_300)?;
    let clustered = ClusterStore::open(
        url.parse()?,
        &store_dir.join(format!("cluster-{dossiers}-reference.duckdb")),
        data,
    )
    .map_err(|e| e.to_string())?;
    let cluster_rate = fill("cluster", &clustered, &clustered.reference(), dossiers)?;

    let mut lines = vec![format!(
        "  ingest: DuckDB {duck_rate:.0} events/s, cluster {cluster_rate:.0} events/s (cluster/DuckDB {:.2})",
        cluster_rate / duck_rate
    )];
    for level in [Level::Province, Level::District] {
        let (d50, d95) = time_stats(&duck, level, queries)?;
        let (c50, c95) = time_stats(&clustered, level, queries)?;
        lines.push(format!(
            "  stats, a quarter at {level} level ({queries} queries): DuckDB p50 {d50:.1} ms, p95 {d95:.1} ms; cluster p50 {c50:.1} ms, p95 {c95:.1} ms (cluster/DuckDB p50 {:.1}, p95 {:.1})",
            c50 / d50,
            c95 / d95
        ));
    }
    let (events, stored) = clustered.counts().map_err(|e| e.to_string())?;
    lines.push(format!(
        "  the cluster holds {events} events of {stored} dossiers; DuckDB {} of {}",
        duck.summary().map_err(|e| e.to_string())?.events,
        duck.summary().map_err(|e| e.to_string())?.dossiers
    ));
    drop(clustered);
    drop(cluster);
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
