//! The monthly PDF report on the demo store: each demo province's last whole month, drawn
//! `rounds` times as the server draws it (gathered from the store, then rendered), after one
//! first drawing that also warms the store. Targets: ≤ 2 s and ≤ 1 MB for a province.
use chrono::{Datelike, Months};
use server::report::{gather, render, ReportRequest};
use std::path::Path;
use std::time::Instant;

/// Today's provinces the demo fills: Đà Nẵng (old Quảng Nam), Tây Ninh (old Long An), Lào Cai.
const PROVINCES: [&str; 3] = ["48", "80", "15"];

pub fn run(data: &Path, store_dir: &Path, rounds: usize) -> Result<(), String> {
    let store = super::alerts::demo_store(data, store_dir)?;
    let today = server::alerts::vietnam_today(chrono::Utc::now());
    let month = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(1)))
        .ok_or("no previous month")?;
    for unit in PROVINCES {
        for lang in [app::i18n::Lang::Vi, app::i18n::Lang::En] {
            let request = ReportRequest {
                unit: unit.to_string(),
                month,
                lang,
            };
            let draw = || -> Result<(usize, usize, f64), String> {
                let t = Instant::now();
                let data = gather(&*store, &request, today).map_err(|e| e.to_string())?;
                let drawn = render(&data).map_err(|e| e.to_string())?;
                Ok((
                    drawn.pdf.len(),
                    drawn.pages,
                    t.elapsed().as_secs_f64() * 1000.0,
                ))
            };
            let (_, _, first) = draw()?;
            let mut times = Vec::with_capacity(rounds);
            let mut size = 0;
            let mut pages = 0;
            for _ in 0..rounds {
                let (bytes, n, ms) = draw()?;
                size = size.max(bytes);
                pages = n;
                times.push(ms);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "report: province {unit}, {} {}, {pages} pages, {:.0} KB: first {first:.0} ms, then p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms over {rounds} (targets ≤ 2,000 ms, ≤ 1,024 KB)",
                &month.to_string()[..7],
                lang.code(),
                size as f64 / 1024.0,
                super::percentile(&times, 0.5),
                super::percentile(&times, 0.95),
                times.last().copied().unwrap_or(f64::NAN),
            );
        }
    }
    Ok(())
}
