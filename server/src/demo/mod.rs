//! The demo history: generated from `data/demo/scenario.toml` and written through the same
//! checked ingest path integrators use, so the published figures come out of the real engine.
pub mod apportion;
pub mod plan;
pub mod rng;
pub mod scenario;
pub mod simulator;
pub mod today;

use crate::auth::Scope;
use crate::ingest::event::{Event, EventKind, Reception};
use crate::store::check::BatchError;
use crate::store::served::ServedStore;
use crate::store::{DuckStore, StoreFailure};
use app::model::Level;
use chrono::{DateTime, Duration, FixedOffset, Months, NaiveDate, TimeZone};
use plan::{Context, District, PlannedDossier, Procedure};
use rng::Rng;
use scenario::{Scenario, ScenarioError};
use std::path::Path;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("store: {0}")]
    Store(#[from] StoreFailure),
    #[error("the generated events were refused (a generator bug): {0}")]
    Rejected(String),
    #[error("the store holds {dossiers} dossiers but the demo never finished writing; delete the data directory to start over")]
    Interrupted { dossiers: u64 },
}

impl From<BatchError> for DemoError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Store(s) => DemoError::Store(s),
            BatchError::Rejected(errors) | BatchError::OutOfScope(errors) => DemoError::Rejected(
                errors
                    .iter()
                    .take(5)
                    .map(|e| format!("line {} {}: {} ({})", e.line, e.field, e.code, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        }
    }
}

const DONE_KEY: &str = "demo_completed";
const BATCH: usize = 25_000;

fn at(day: NaiveDate, minutes: u32) -> DateTime<FixedOffset> {
    let tz = app::indicators::vietnam_offset();
    let naive = day
        .and_hms_opt(minutes / 60, minutes % 60, 0)
        .expect("valid time");
    tz.from_local_datetime(&naive)
        .single()
        .expect("fixed offset is unambiguous")
}

/// The dossier's events: reception, then resolution or withdrawal if it happened.
fn events_of(
    id: &str,
    d: &PlannedDossier,
    procedures: &[Procedure],
    scenario: &Scenario,
    rng: &mut Rng,
) -> Vec<Event> {
    let received_min = 450 + rng.below(570) as u32; // 07:30–17:00
    let received_at = at(d.received, received_min);
    let procedure = &procedures[d.procedure];
    let mut out = vec![Event {
        event_id: format!("{id}:r"),
        dossier_id: id.to_string(),
        at: received_at,
        kind: EventKind::Received(Reception {
            unit: d.unit.clone(),
            level: d.level,
            procedure: procedure.code.clone(),
            field: scenario.field[procedure.field].name.clone(),
            channel: d.channel,
            due: at(d.due, 17 * 60),
            fee: d.fee,
            paid_online: d.paid_online,
            agency: d.agency.clone(),
        }),
    }];
    let closing_minute = |day: NaiveDate, rng: &mut Rng| {
        let earliest = if day == d.received {
            received_min + 10
        } else {
            480
        };
        earliest.max(480)
            + rng.below(1060u64.saturating_sub(u64::from(earliest.max(480))).max(1)) as u32
    };
    if let Some(day) = d.resolved {
        let m = closing_minute(day, rng);
        out.push(Event {
            event_id: format!("{id}:s"),
            dossier_id: id.to_string(),
            at: at(day, m.min(23 * 60 + 59)),
            kind: EventKind::Resolved {
                outcome: Some("approved".into()),
            },
        });
    } else if let Some(day) = d.withdrawn {
        let m = closing_minute(day, rng);
        out.push(Event {
            event_id: format!("{id}:w"),
            dossier_id: id.to_string(),
            at: at(day, m.min(23 * 60 + 59)),
            kind: EventKind::Withdrawn,
        });
    }
    out
}

pub(crate) fn load_procedures(
    store: &DuckStore,
    scenario: &Scenario,
) -> Result<Vec<Procedure>, DemoError> {
    let rows = store.procedures()?;
    rows.into_iter()
        .map(|(code, field, allowed_days)| {
            let field = scenario
                .field
                .iter()
                .position(|f| f.name == field)
                .ok_or_else(|| {
                    ScenarioError::Invalid(format!(
                        "procedure {code}: sector '{field}' has no [[field]] setting"
                    ))
                })?;
            Ok(Procedure {
                code,
                field,
                allowed_days: i64::from(allowed_days),
            })
        })
        .collect()
}

/// The date range of a window: fixed dates, or the last N months up to yesterday.
pub fn window_range(w: &scenario::WindowSetting, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    match (w.from, w.to, w.recent_months) {
        (Some(from), Some(to), _) => (from, to),
        (_, _, Some(months)) => {
            let first_of_month = NaiveDate::from_ymd_opt(
                chrono::Datelike::year(&today),
                chrono::Datelike::month(&today),
                1,
            )
            .expect("valid date");
            (
                first_of_month - Months::new(months),
                today - Duration::days(1),
            )
        }
        _ => unreachable!("validated when the scenario is loaded"),
    }
}

/// Writes the whole scenario into an empty store. Returns the number of events written (0 when
/// the store already holds the demo).
pub fn seed(store: &DuckStore, scenario_path: &Path, today: NaiveDate) -> Result<u64, DemoError> {
    seed_windows(store, store, scenario_path, today, true)
}

/// Only the fixed-date windows (the published figures), not the recent months: for tests.
pub fn seed_history(
    store: &DuckStore,
    scenario_path: &Path,
    today: NaiveDate,
) -> Result<u64, DemoError> {
    seed_windows(store, store, scenario_path, today, false)
}

/// [`seed_history`] into another store (a cluster) with `reference`'s unit lists and catalogue.
pub fn seed_history_into(
    reference: &DuckStore,
    sink: &dyn ServedStore,
    scenario_path: &Path,
    today: NaiveDate,
) -> Result<u64, DemoError> {
    seed_windows(reference, sink, scenario_path, today, false)
}

/// Writes the scenario's windows through `sink`; `store` holds the unit lists, the catalogue
/// and the bookkeeping (the same store, unless `sink` is a cluster).
fn seed_windows(
    store: &DuckStore,
    sink: &dyn ServedStore,
    scenario_path: &Path,
    today: NaiveDate,
    recent: bool,
) -> Result<u64, DemoError> {
    if store.meta(DONE_KEY)?.is_some() {
        return Ok(0);
    }
    let dossiers = store.summary()?.dossiers;
    if dossiers > 0 {
        return Err(DemoError::Interrupted { dossiers });
    }
    let scenario = Scenario::load(scenario_path)?;
    let procedures = load_procedures(store, &scenario)?;
    let calendar = store.calendar();
    let ctx = Context {
        scenario: &scenario,
        procedures,
        calendar,
    };
    let started = Instant::now();
    let mut written = 0u64;
    for province in &scenario.province {
        let districts: Vec<District> = store
            .children(&province.code, Level::District)?
            .into_iter()
            .map(|code| {
                let communes = store.children(&code, Level::Commune)?;
                Ok(District {
                    weight: province.district_weight.get(&code).copied().unwrap_or(1.0),
                    code,
                    communes,
                })
            })
            .collect::<Result<Vec<District>, StoreFailure>>()?;
        // A district without communes (Hoàng Sa, an island district) has no office to simulate.
        let districts: Vec<District> = districts
            .into_iter()
            .filter(|d| !d.communes.is_empty())
            .collect();
        if districts.is_empty() {
            return Err(ScenarioError::Invalid(format!(
                "province {} has no districts in the unit lists",
                province.code
            ))
            .into());
        }
        let agencies = store.agencies(&province.code)?;
        for (w, window) in province.window.iter().enumerate() {
            if window.recent_months.is_some() && !recent {
                continue;
            }
            let range = window_range(window, today);
            let mut rng = Rng::derive(scenario.seed, &format!("{}/{w}", province.code));
            let planned = plan::generate_window(
                &ctx,
                &province.code,
                &districts,
                &agencies,
                window,
                range,
                today,
                &mut rng,
            )?;
            let mut planned = planned;
            // From the reform on, the planned old units' dossiers go to today's units.
            let today_units = today::Today::new(
                store.conversion().clone(),
                &districts
                    .iter()
                    .map(|d| (d.code.clone(), d.communes.clone()))
                    .collect::<Vec<_>>(),
            );
            let mut place_rng = Rng::derive(scenario.seed, &format!("{}/{w}/today", province.code));
            for d in planned
                .iter_mut()
                .filter(|d| d.received >= app::era::REFORM_DATE)
            {
                let placed = today_units.place(d.level, &d.unit, &mut |n| {
                    place_rng.below(n as u64) as usize
                });
                let (level, unit) = placed.ok_or_else(|| {
                    DemoError::Rejected(format!(
                        "the conversion table names no unit of today for {} {}",
                        d.level, d.unit
                    ))
                })?;
                d.level = level;
                d.unit = unit;
                if level != Level::Province {
                    d.agency = None;
                }
            }
            let mut events: Vec<Event> = Vec::with_capacity(planned.len() * 2);
            for (n, d) in planned.iter().enumerate() {
                let id = format!("{}-{}{w}-{n:07}", province.code, range.0.format("%y%m"));
                events.extend(events_of(&id, d, &ctx.procedures, &scenario, &mut rng));
            }
            drop(planned);
            // Chronological, receptions first on equal instants: every event follows its dossier's reception.
            events.sort_by_key(|e| (e.at, !matches!(e.kind, EventKind::Received(_))));
            let total = events.len();
            let mut lines: Vec<(u32, Event)> = Vec::with_capacity(BATCH);
            let mut done = 0usize;
            let mut next_report = total / 4;
            for e in events {
                lines.push((lines.len() as u32 + 1, e));
                if lines.len() == BATCH {
                    written += sink
                        .ingest(std::mem::take(&mut lines), &Scope::Everything)?
                        .accepted;
                    done += lines.len();
                    if done >= next_report {
                        next_report += total / 4;
                        tracing::info!(
                            province = %province.code,
                            window = %format!("{}..{}", range.0, range.1),
                            progress = %format!("{}%", done * 100 / total.max(1)),
                            events_per_s = (written as f64 / started.elapsed().as_secs_f64()) as u64,
                            "writing the demo history"
                        );
                    }
                }
            }
            if !lines.is_empty() {
                written += sink
                    .ingest(std::mem::take(&mut lines), &Scope::Everything)?
                    .accepted;
            }
            tracing::info!(province = %province.code, window = %format!("{}..{}", range.0, range.1), events = total, "demo window written");
        }
    }
    store.set_meta(
        DONE_KEY,
        &format!("{} events, seed {}", written, scenario.seed),
    )?;
    tracing::info!(
        events = written,
        seconds = started.elapsed().as_secs_f64(),
        "demo history complete"
    );
    Ok(written)
}
