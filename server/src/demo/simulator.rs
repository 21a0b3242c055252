//! The live demo: receptions and resolutions happening now, for the demo's units, through the
//! same ingest path integrators use, so the dashboard has something to show in real time. It
//! closes only dossiers it received itself (ids `sim-…`): never one an integrator posted, even
//! in the same units.
use super::plan::Procedure;
use super::rng::Rng;
use super::scenario::{Scenario, WindowSetting};
use super::{load_procedures, DemoError};
use crate::calendar::WorkingCalendar;
use crate::ingest::service::{self, IngestError};
use crate::live::ChangeFeed;
use crate::scope::Scope;
use crate::store::served::ServedStore;
use crate::store::DuckStore;
use app::model::Level;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Settings of `serve`'s simulator.
#[derive(Clone, Copy, Debug)]
pub struct SimulatorSettings {
    /// Events per second on average (arrivals are random, like real offices).
    pub rate: f64,
}

/// How many of its resolutions pick an overdue dossier (and so come out late).
const LATE_SHARE: f64 = 0.08;
const WITHDRAWN_SHARE: f64 = 0.005;
/// Open dossiers looked at per province at start, newest first, for those an earlier run
/// received and left open (the carry-over it resolves).
const OPEN_AT_START: u32 = 5_000;
/// The start of the id of every dossier the simulator receives: `sim-<run>-<number>`.
pub const ID_PREFIX: &str = "sim-";

/// Whether `id` names a dossier a run of the simulator received: `sim-`, the run's start as 12
/// digits (`yymmddHHMMSS`), `-`, and a number of at least 6 digits, as [`Simulator`] names them.
/// What the store holds under any other id came from someone else and is never touched.
pub fn is_simulated(id: &str) -> bool {
    let Some((run, number)) = id.strip_prefix(ID_PREFIX).and_then(|r| r.split_once('-')) else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    run.len() == 12 && number.len() >= 6 && digits(run) && digits(number)
}

struct District {
    code: String,
    communes: Vec<String>,
}

struct Province {
    code: String,
    /// Where its old units went, to place dossiers on today's units.
    today: super::today::Today,
    districts: Vec<District>,
    district_weights: Vec<f64>,
    province_share: f64,
    commune_share: f64,
    online_rate: f64,
    fee_rate: f64,
    paid_online_rate: f64,
}

struct OpenDossier {
    id: String,
    due: NaiveDate,
}

/// The simulated offices: what they can receive, and the dossiers still open.
pub struct Simulator {
    provinces: Vec<Province>,
    procedures: Vec<Procedure>,
    /// Per level (province, district, commune), cumulative weights over `procedures`.
    procedure_weights: [Vec<f64>; 3],
    /// Its own dossiers still open: received by this run, or by an earlier one.
    open: Vec<OpenDossier>,
    /// Sector names, by `Procedure::field`.
    fields: Vec<String>,
    rng: Rng,
    /// Procedures allow working days: due dates skip weekends and holidays, as real ones do.
    calendar: Arc<WorkingCalendar>,
    /// Makes ids unique across runs.
    run: String,
    next: u64,
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    weights
        .scan(0.0, |sum, w| {
            *sum += w.max(0.0);
            Some(*sum)
        })
        .collect()
}

impl Simulator {
    /// Reads the scenario's provinces, the store's units and procedures, and the dossiers
    /// earlier runs received and left open.
    pub fn load(store: &DuckStore, scenario_path: &Path, run: String) -> Result<Self, DemoError> {
        let scenario = Scenario::load(scenario_path)?;
        let procedures = load_procedures(store, &scenario)?;
        let mut provinces = Vec::new();
        let mut open = Vec::new();
        for p in &scenario.province {
            let Some(habits) = p.window.last() else {
                continue;
            };
            let mut districts = Vec::new();
            let mut district_weights = Vec::new();
            for code in store.children(&p.code, Level::District)? {
                let communes = store.children(&code, Level::Commune)?;
                // A district without communes (an island district) has no office to simulate,
                // as in the demo history.
                if communes.is_empty() {
                    continue;
                }
                district_weights.push(p.district_weight.get(&code).copied().unwrap_or(1.0));
                districts.push(District { code, communes });
            }
            if districts.is_empty() {
                continue;
            }
            // The province's open dossiers include the demo history's and any an integrator
            // posted: only its own are the simulator's to close.
            open.extend(
                store
                    .open_dossiers(&p.code, OPEN_AT_START)?
                    .into_iter()
                    .filter(|(id, _)| is_simulated(id))
                    .map(|(id, due)| OpenDossier { id, due }),
            );
            provinces.push(province(
                p.code.clone(),
                districts,
                district_weights,
                habits,
                store.conversion().clone(),
            ));
        }
        let procedure_weights = [0, 1, 2].map(|level| {
            cumulative(procedures.iter().map(|proc| {
                let f = &scenario.field[proc.field];
                [f.province, f.district, f.commune][level]
            }))
        });
        Ok(Simulator {
            provinces,
            procedures,
            procedure_weights,
            open,
            fields: scenario.field.iter().map(|f| f.name.clone()).collect(),
            rng: Rng::derive(scenario.seed, &run),
            calendar: store.calendar().clone(),
            run,
            next: 0,
        })
    }

    pub fn open_dossiers(&self) -> usize {
        self.open.len()
    }

    /// The next event at `now`: a reception about as often as a closing of one of its own open
    /// dossiers, so their number stays steady. `None` when there is nothing to simulate.
    pub fn next_event(&mut self, now: DateTime<FixedOffset>) -> Option<Value> {
        if self.provinces.is_empty() || self.procedures.is_empty() {
            return None;
        }
        if self.open.is_empty() || self.rng.unit() < 0.5 {
            return Some(self.reception(now));
        }
        let today = now.date_naive();
        let overdue: Vec<usize> = (0..self.open.len())
            .filter(|&i| self.open[i].due < today)
            .collect();
        let on_time: Vec<usize> = (0..self.open.len())
            .filter(|&i| self.open[i].due >= today)
            .collect();
        let pool = match (overdue.is_empty(), on_time.is_empty()) {
            (false, true) => &overdue,
            (true, _) => &on_time,
            (false, false) if self.rng.unit() < LATE_SHARE => &overdue,
            (false, false) => &on_time,
        };
        let index = pool[self.rng.below(pool.len() as u64) as usize];
        let dossier = self.open.swap_remove(index);
        let withdrawn = self.rng.unit() < WITHDRAWN_SHARE;
        let kind = if withdrawn { "withdrawn" } else { "resolved" };
        let suffix = if withdrawn { "w" } else { "s" };
        let mut event = json!({
            "event_id": format!("{}:{suffix}:{}", dossier.id, self.run),
            "dossier_id": dossier.id,
            "type": kind,
            "at": now.to_rfc3339_opts(SecondsFormat::Secs, false),
        });
        if !withdrawn {
            event["outcome"] = json!("approved");
        }
        Some(event)
    }

    fn reception(&mut self, now: DateTime<FixedOffset>) -> Value {
        let p = &self.provinces[self.rng.below(self.provinces.len() as u64) as usize];
        let draw = self.rng.unit();
        let district = &p.districts[self.rng.pick_cumulative(&p.district_weights)];
        let (level, unit) = if draw < p.province_share {
            (Level::Province, p.code.clone())
        } else if draw < p.province_share + p.commune_share && !district.communes.is_empty() {
            let c = self.rng.below(district.communes.len() as u64) as usize;
            (Level::Commune, district.communes[c].clone())
        } else {
            (Level::District, district.code.clone())
        };
        // Offices record dossiers under the units in force now: today's, after the reform.
        let (level, unit) = if now.date_naive() >= app::era::REFORM_DATE {
            let rng = &mut self.rng;
            p.today
                .place(level, &unit, &mut |n| rng.below(n as u64) as usize)
                .unwrap_or((level, unit))
        } else {
            (level, unit)
        };
        let weights = &self.procedure_weights[match level {
            Level::Province => 0,
            Level::District => 1,
            Level::Commune => 2,
        }];
        let procedure = &self.procedures[self.rng.pick_cumulative(weights)];
        let online = self.rng.unit() < p.online_rate;
        let fee = self.rng.unit() < p.fee_rate;
        let paid_online = fee && online && self.rng.unit() < p.paid_online_rate;
        let allowed = u32::try_from(procedure.allowed_days.max(1)).unwrap_or(u32::MAX);
        let due_day = self.calendar.add_working_days(now.date_naive(), allowed);
        let due = now
            .timezone()
            .from_local_datetime(&due_day.and_hms_opt(17, 0, 0).expect("valid time"))
            .single()
            .expect("fixed offset is unambiguous");
        self.next += 1;
        let id = format!("{ID_PREFIX}{}-{:06}", self.run, self.next);
        self.open.push(OpenDossier {
            id: id.clone(),
            due: due_day,
        });
        json!({
            "event_id": format!("{id}:r"),
            "dossier_id": id,
            "type": "received",
            "at": now.to_rfc3339_opts(SecondsFormat::Secs, false),
            "unit": unit,
            "level": level.as_str(),
            "procedure": procedure.code,
            "field": self.fields[procedure.field],
            "channel": if online { "online" } else { "direct" },
            "due": due.to_rfc3339_opts(SecondsFormat::Secs, false),
            "fee": fee,
            "paid_online": paid_online,
        })
    }
}

fn province(
    code: String,
    districts: Vec<District>,
    weights: Vec<f64>,
    w: &WindowSetting,
    conversion: std::sync::Arc<crate::store::conversion::Conversion>,
) -> Province {
    let old_units: Vec<(String, Vec<String>)> = districts
        .iter()
        .map(|d| (d.code.clone(), d.communes.clone()))
        .collect();
    Province {
        code,
        today: super::today::Today::new(conversion, &old_units),
        districts,
        district_weights: cumulative(weights.into_iter()),
        province_share: w.province_share,
        commune_share: w.commune_share,
        online_rate: w.online_rate,
        fee_rate: w.fee_rate,
        paid_online_rate: w.paid_online_rate,
    }
}

/// Sends simulated events through the ingest pipeline (as a writer of every unit) until the
/// server stops; commits wake the live stream like any other.
pub async fn run(
    store: Arc<dyn ServedStore>,
    feed: ChangeFeed,
    scenario_path: PathBuf,
    settings: SimulatorSettings,
) {
    let run_id = chrono::Utc::now().format("%y%m%d%H%M%S").to_string();
    let writer = store.clone();
    let path = scenario_path;
    // The simulator picks open dossiers to resolve from the embedded store's tables.
    let loaded = tokio::task::spawn_blocking(move || {
        writer
            .embedded()
            .map(|duck| Simulator::load(duck, &path, run_id))
            .transpose()
    })
    .await;
    let mut simulator = match loaded {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) => {
            tracing::warn!("the live simulator runs on the embedded store only; not started");
            return;
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the live simulator cannot start");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "the live simulator cannot start");
            return;
        }
    };
    tracing::info!(
        rate = settings.rate,
        open = simulator.open_dossiers(),
        "live simulator started (turn it off with --no-simulator or IEM_NO_SIMULATOR=1)"
    );
    let tz = app::indicators::vietnam_offset();
    let mut arrivals = Rng::derive(7, "arrivals");
    let mut sent = 0u64;
    loop {
        // Exponential gaps: a Poisson stream of events at `rate` per second.
        let gap = -(1.0 - arrivals.unit()).ln() / settings.rate;
        tokio::time::sleep(std::time::Duration::from_secs_f64(gap.min(60.0))).await;
        let now = chrono::Utc::now().with_timezone(&tz);
        let Some(event) = simulator.next_event(now) else {
            tracing::warn!("the live simulator has no units to simulate; stopping");
            return;
        };
        match service::ingest(&store, &feed, vec![(1, Ok(event))], &Scope::Everything).await {
            Ok(_) => {
                sent += 1;
                if sent.is_multiple_of(1000) {
                    tracing::info!(events = sent, "live simulator");
                }
            }
            // An integrator may have closed the same dossier meanwhile: skip it and go on.
            Err(IngestError::Rejected(errors)) => {
                tracing::warn!(?errors, "a simulated event was refused");
            }
            Err(e) => {
                tracing::error!(error = ?e, "the live simulator cannot store events; retrying in 5 s");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulator(open: Vec<OpenDossier>) -> Simulator {
        let districts = vec![District {
            code: "502".into(),
            communes: vec!["20335".into(), "20338".into()],
        }];
        Simulator {
            provinces: vec![Province {
                today: crate::demo::today::Today::new(Default::default(), &[]),
                code: "49".into(),
                districts,
                district_weights: vec![1.0],
                province_share: 0.2,
                commune_share: 0.3,
                online_rate: 0.5,
                fee_rate: 0.5,
                paid_online_rate: 0.5,
            }],
            procedures: vec![Procedure {
                code: "DD-01".into(),
                field: 0,
                allowed_days: 10,
            }],
            procedure_weights: [vec![1.0], vec![1.0], vec![1.0]],
            open,
            fields: vec!["Đất đai".into()],
            rng: Rng::new(1),
            calendar: Arc::new(
                WorkingCalendar::load(
                    &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"),
                )
                .unwrap(),
            ),
            run: "t".into(),
            next: 0,
        }
    }

    fn now() -> DateTime<FixedOffset> {
        app::indicators::vietnam_offset()
            .with_ymd_and_hms(2026, 11, 22, 9, 30, 0)
            .unwrap()
    }

    #[test]
    fn receptions_and_closings_alternate_and_late_ones_are_a_minority() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let open = (0..2000)
            .map(|i| OpenDossier {
                id: format!("old-{i}"),
                due: if i % 2 == 0 {
                    day("2026-11-01")
                } else {
                    day("2026-12-01")
                },
            })
            .collect();
        let mut sim = simulator(open);
        let (mut received, mut closed, mut late) = (0, 0, 0);
        for _ in 0..2000 {
            let e = sim.next_event(now()).unwrap();
            match e["type"].as_str().unwrap() {
                "received" => {
                    received += 1;
                    // Ten working days from Sunday 22 November: Friday 4 December.
                    assert!(e["due"]
                        .as_str()
                        .unwrap()
                        .starts_with("2026-12-04T17:00:00"));
                }
                _ => {
                    closed += 1;
                    let id = e["dossier_id"].as_str().unwrap();
                    let n: usize = id.trim_start_matches("old-").parse().unwrap_or(1);
                    if id.starts_with("old-") && n.is_multiple_of(2) {
                        late += 1;
                    }
                }
            }
        }
        assert!((800..1200).contains(&received), "{received} receptions");
        assert!((800..1200).contains(&closed), "{closed} closings");
        let share = late as f64 / closed as f64;
        assert!(share > 0.04 && share < 0.13, "late share {share}");
    }

    #[test]
    fn only_the_simulators_own_ids_count_as_simulated() {
        assert!(is_simulated("sim-261205223000-000001"));
        assert!(is_simulated("sim-261205223000-1234567"));
        // The demo history's ids, and ids an integrator might use.
        assert!(!is_simulated("49-26010-0000001"));
        assert!(!is_simulated("HS-2026-000001"));
        assert!(!is_simulated("sim-"));
        assert!(!is_simulated("sim-abc-000001"));
        assert!(!is_simulated("sim-261205223000-12"));
        assert!(!is_simulated("simulated-261205223000-000001"));
    }

    #[test]
    fn every_closing_names_a_dossier_it_received_or_found_open() {
        let mut sim = simulator(Vec::new());
        let mut opened = std::collections::HashSet::new();
        for _ in 0..500 {
            let e = sim.next_event(now()).unwrap();
            let id = e["dossier_id"].as_str().unwrap().to_string();
            if e["type"] == "received" {
                assert!(opened.insert(id), "a fresh id");
            } else {
                assert!(opened.remove(&id), "closes an open dossier once");
            }
        }
    }
}
