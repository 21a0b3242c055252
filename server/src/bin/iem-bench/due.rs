//! The due-soon list on the stats benchmark's store: 200,000 open dossiers of today's communes
//! received in the days before a fixed "today" (added once, kept), then each province's list
//! (its first page of 50 and the total) timed. Target: p95 ≤ 50 ms at 10 million dossiers.
use app::due::{DueQuery, DueSort};
use app::model::{Channel, Level};
use chrono::{Duration, NaiveDate, TimeZone};
use server::ingest::event::{Event, EventKind, Reception};
use server::store::DuckStore;
use std::time::Instant;

/// Open dossiers added to the fill.
const OPEN: u64 = 200_000;

/// The day the lists are read on: inside the fill's span, after the reform.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 15).expect("date")
}

pub fn run(store: &DuckStore, queries: usize) -> Result<(), String> {
    let today = today();
    let units = super::units_by_era(store.all_unit_codes().map_err(|e| e.to_string())?);
    let communes: Vec<&String> = units[1]
        .iter()
        .filter(|(_, level)| *level == Level::Commune)
        .map(|(code, _)| code)
        .collect();
    let provinces: Vec<&String> = units[1]
        .iter()
        .filter(|(_, level)| *level == Level::Province)
        .map(|(code, _)| code)
        .collect();
    if communes.is_empty() || provinces.is_empty() {
        return Err("the store holds no unit of today".into());
    }
    let marker = "bench_open_dossiers";
    if store.meta(marker).map_err(|e| e.to_string())?.is_none() {
        println!("due: adding {OPEN} open dossiers received before {today} (once; kept) …");
        let calendar = store.calendar().clone();
        let at = |d: NaiveDate, h: u32| {
            app::indicators::vietnam_offset()
                .from_local_datetime(&d.and_hms_opt(h, 0, 0).expect("time"))
                .single()
                .expect("fixed offset")
        };
        for chunk in (0..OPEN).step_by(50_000) {
            let lines: Vec<(u32, Event)> = (chunk..(chunk + 50_000).min(OPEN))
                .enumerate()
                .map(|(i, k)| {
                    let received = today - Duration::days((k % 5) as i64);
                    let due = calendar.add_working_days(received, 3 + (k % 12) as u32);
                    let unit =
                        communes[(k.wrapping_mul(2_654_435_761) % communes.len() as u64) as usize];
                    let event = Event {
                        event_id: format!("o{k}r"),
                        dossier_id: format!("o{k}"),
                        at: at(received, 9),
                        kind: EventKind::Received(Reception {
                            unit: unit.clone(),
                            level: Level::Commune,
                            procedure: "DD-01".into(),
                            field: "Đất đai".into(),
                            channel: Channel::Direct,
                            due: at(due, 17),
                            fee: false,
                            paid_online: false,
                            agency: None,
                        }),
                    };
                    (i as u32 + 1, event)
                })
                .collect();
            store.ingest(&lines).map_err(|e| format!("{e:?}"))?;
        }
        store
            .set_meta(marker, &OPEN.to_string())
            .map_err(|e| e.to_string())?;
    }
    let mut times = Vec::with_capacity(queries);
    let mut listed = 0u64;
    for i in 0..queries {
        let unit = app::era::Era::From2025
            .key(provinces[i % provinces.len()])
            .ok_or("a province code")?;
        let query = DueQuery {
            unit,
            within: 3,
            field: None,
            procedure: None,
            agency: None,
            sort: DueSort::Due,
            descending: false,
            page: 1,
            page_size: 50,
        };
        let t = Instant::now();
        let page = store
            .due_dossiers(&query, today)
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        listed += page.total;
    }
    times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let summary = store.summary().map_err(|e| e.to_string())?;
    println!(
        "due: a province's due-soon list (3 working days, first page of 50) over {} dossiers: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 ≤ 50 ms; {queries} queries, {:.0} dossiers due per list on average)",
        summary.dossiers,
        super::percentile(&times, 0.5),
        super::percentile(&times, 0.95),
        times.last().copied().unwrap_or(f64::NAN),
        listed as f64 / queries as f64
    );
    Ok(())
}
