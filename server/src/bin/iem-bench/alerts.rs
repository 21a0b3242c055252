//! Alert rules under load: `rules` generated rules (every indicator, period and condition, over
//! today's provinces and communes, a third watching each commune of a province), timed as the
//! server evaluates them after a commit on the demo store; and the rules for the ingest
//! benchmark, which runs with and without them. Targets: p95 ≤ 50 ms for 1,000 rules; ingest
//! with them within 10% of without.
use app::alerts::{
    AlertChannel, AlertCondition, AlertIndicator, AlertPeriod, AlertRule, AlertRuleInput,
};
use app::model::Level;
use server::alerts::{AlertSettings, Alerts};
use server::store::DuckStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// `n` rules over today's units of `store`, the same for every run.
pub fn rules(store: &DuckStore, n: usize) -> Result<Vec<AlertRule>, String> {
    let units = super::units_by_era(store.all_unit_codes().map_err(|e| e.to_string())?);
    let of = |level: Level| -> Vec<String> {
        units[1]
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(c, _)| c.clone())
            .collect()
    };
    let (provinces, communes) = (of(Level::Province), of(Level::Commune));
    if provinces.is_empty() || communes.is_empty() {
        return Err("the store holds no unit of today".into());
    }
    let periods = [
        AlertPeriod::MonthToDate,
        AlertPeriod::QuarterToDate,
        AlertPeriod::Rolling30Days,
    ];
    Ok((0..n)
        .map(|i| {
            let indicator = AlertIndicator::ALL[i % AlertIndicator::ALL.len()];
            let each_commune = i % 3 == 0;
            let unit = if each_commune {
                provinces[i % provinces.len()].clone()
            } else {
                communes[(i * 7919) % communes.len()].clone()
            };
            let condition = match (indicator, i % 4) {
                (AlertIndicator::DueSoon, k) => {
                    if k % 2 == 0 {
                        AlertCondition::Above { value: 5.0 }
                    } else {
                        AlertCondition::Below { value: 1.0 }
                    }
                }
                (i, 0) if i.is_rate() => AlertCondition::Below { value: 0.95 },
                (i, 1) if i.is_rate() => AlertCondition::Above { value: 0.5 },
                (_, 2) => AlertCondition::Drop { value: 0.02 },
                (_, 3) => AlertCondition::Rise { value: 0.5 },
                (_, _) => AlertCondition::Above { value: 10.0 },
            };
            AlertRule {
                id: format!("bench{i:05}"),
                owner: format!("user:bench{}", i % 50),
                webhook_secret: String::new(),
                rule: AlertRuleInput {
                    name: format!("bench rule {i}"),
                    indicator,
                    unit,
                    level: each_commune.then_some(Level::Commune),
                    period: periods[i % periods.len()],
                    condition,
                    rearm_margin: None,
                    channels: vec![AlertChannel::InApp],
                    enabled: true,
                },
            }
        })
        .collect())
}

/// Alerts in `dir` holding `rules`.
pub fn alerts_with(dir: &Path, rules: Vec<AlertRule>) -> Result<Arc<Alerts>, String> {
    let alerts = Alerts::open(dir, AlertSettings::default()).map_err(|e| e.to_string())?;
    alerts
        .with_book(|b| b.update(|f| f.rules = rules))
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(alerts))
}

/// The demo store in `store_dir`: written once (minutes), marked complete, then kept.
pub fn demo_store(data: &Path, store_dir: &Path) -> Result<Arc<DuckStore>, String> {
    let path = store_dir.join("demo.duckdb");
    let store = Arc::new(DuckStore::open(&path, data).map_err(|e| e.to_string())?);
    let now = chrono::Utc::now();
    let today = server::alerts::vietnam_today(now);
    let marker = "bench_demo_complete";
    if store.meta(marker).map_err(|e| e.to_string())?.is_none() {
        if store.summary().map_err(|e| e.to_string())?.events > 0 {
            return Err(format!(
                "{} holds a partial demo; delete it and rerun",
                path.display()
            ));
        }
        println!(
            "writing the demo history into {} (once; kept; minutes) …",
            path.display()
        );
        let started = Instant::now();
        server::demo::seed(&store, &data.join("demo").join("scenario.toml"), today)
            .map_err(|e| e.to_string())?;
        store
            .set_meta(marker, &today.to_string())
            .map_err(|e| e.to_string())?;
        println!("demo written in {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(store)
}

/// The demo store (written once into `store_dir`, kept), `rules` rules, then `rounds` commits
/// of one dossier each, every one followed by an evaluation as the server runs it.
pub fn run(data: &Path, store_dir: &Path, rules_n: usize, rounds: usize) -> Result<(), String> {
    let store = demo_store(data, store_dir)?;
    let now = chrono::Utc::now();
    let today = server::alerts::vietnam_today(now);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let alerts = alerts_with(dir.path(), rules(&store, rules_n)?)?;
    let units = super::units_by_era(store.all_unit_codes().map_err(|e| e.to_string())?);
    let communes: Vec<&String> = units[1]
        .iter()
        .filter(|(_, l)| *l == Level::Commune)
        .map(|(c, _)| c)
        .collect();
    let mut times = Vec::with_capacity(rounds);
    let mut fired = 0usize;
    // The first evaluation of new rules fires for every unit already past its threshold.
    let mut seen = store
        .touched_provinces(i64::MAX)
        .map_err(|e| e.to_string())?
        .0;
    let t = Instant::now();
    let first = alerts
        .evaluate(&*store, today, now)
        .map_err(|e| e.to_string())?
        .len();
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    for round in 0..rounds {
        let unit = communes[(round * 104_729) % communes.len()];
        let id = format!("bench-alert-{}-{round}", now.timestamp());
        let at = now.with_timezone(&app::indicators::vietnam_offset());
        let line = serde_json::json!({
            "event_id": format!("{id}:r"), "dossier_id": id, "type": "received",
            "at": at.to_rfc3339(), "unit": unit, "level": "commune", "procedure": "DD-01",
            "field": "Đất đai", "channel": "direct",
            "due": (at + chrono::Duration::days(5)).to_rfc3339(), "fee": false, "paid_online": false
        });
        let event = server::ingest::event::parse_event(1, &line, chrono::Utc::now())
            .map_err(|e| format!("{e:?}"))?;
        store.ingest(&[(1, event)]).map_err(|e| format!("{e:?}"))?;
        // As the server does after a commit: the rules of the provinces it touched.
        let t = Instant::now();
        let (newest, touched) = store.touched_provinces(seen).map_err(|e| e.to_string())?;
        seen = newest;
        fired += alerts
            .evaluate_in(&*store, today, chrono::Utc::now(), Some(&touched))
            .map_err(|e| e.to_string())?
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    println!(
        "alerts: {rules_n} rules on the demo store ({} dossiers): evaluation after a commit (the touched province's rules) p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {rounds} commits (target p95 ≤ 50 ms); a full evaluation (daily, or a rule changed) {first_ms:.0} ms, which fired {first}; after the commits {fired}",
        store.summary().map_err(|e| e.to_string())?.dossiers,
        super::percentile(&times, 0.5),
        super::percentile(&times, 0.95),
        times.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}
