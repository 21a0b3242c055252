//! The dashboard's charts drawn with plotters into SVG text, with the regions hover read-outs
//! and clicks resolve to, and the same figures as tables.
use crate::format;
use crate::i18n::{tr, Key, Lang};
use crate::indicators::ACTION_THRESHOLD;
use crate::model::{Bucket, IndicatorRow, TrendResponse};
use crate::selection::{DaysDistribution, DAYS_CAP};
use plotters::prelude::*;

/// Drawing size in SVG units; the page scales the SVG to its box.
pub const WIDTH: u32 = 640;
const TREND_HEIGHT: u32 = 300;
const ROW_HEIGHT: u32 = 22;

// Text and grid colours; the stylesheet recolours text per theme (CSS beats SVG attributes).
const INK: RGBColor = RGBColor(0x33, 0x3a, 0x44);
const GRID: RGBColor = RGBColor(0x9a, 0xa5, 0xb1);
pub const EARLY: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
pub const ON_TIME: RGBColor = RGBColor(0x6b, 0xae, 0xd6);
pub const LATE: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const LINE: RGBColor = RGBColor(0x0b, 0x5c, 0xad);
const FOCUS: RGBColor = RGBColor(0xf5, 0xa6, 0x23);

/// What a click on a region picks: a unit (focus the charts) or a sector (filter the map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    Unit(String),
    Sector(String),
}

/// A rectangle of the drawing and what hovering or clicking it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
    /// The read-out shown on hover.
    pub text: String,
    pub pick: Option<Pick>,
}

impl Region {
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// A drawn chart: the SVG document, its size and its hover regions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawn {
    pub svg: String,
    pub width: u32,
    pub height: u32,
    pub regions: Vec<Region>,
}

impl Drawn {
    pub fn region_at(&self, point: (f64, f64)) -> Option<&Region> {
        self.regions.iter().find(|r| r.contains(point))
    }
}

/// The figures of a chart as a table: its "show as table" alternative.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn font(size: u32) -> TextStyle<'static> {
    // The family by value: naming it by string lower-cases the name, which brings the Unicode
    // case tables into the WASM.
    (FontFamily::SansSerif, size).into_font().color(&INK)
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("chart drawing failed: {e}")
}

fn bucket_label(lang: Lang, bucket: Bucket, from: chrono::NaiveDate) -> String {
    match bucket {
        Bucket::Month => format::month(lang, from),
        Bucket::Week => format::date(lang, from),
    }
}

fn percent(v: f64) -> f64 {
    v * 100.0
}

/// On-time rate per bucket as a line, with the 95% action threshold.
pub fn trend_chart(lang: Lang, trend: &TrendResponse) -> Result<Drawn, String> {
    let (width, height) = (WIDTH, TREND_HEIGHT);
    let n = trend.points.len().max(1);
    let rates: Vec<Option<f64>> = trend
        .points
        .iter()
        .map(|p| p.figures.on_time_rate.map(percent))
        .collect();
    // The axis starts a little below the lowest rate (and below the threshold line).
    let lowest = rates
        .iter()
        .flatten()
        .fold(percent(ACTION_THRESHOLD), |a, b| a.min(*b));
    let y_min = ((lowest - 5.0) / 5.0).floor().max(0.0) * 5.0;
    let mut svg = String::new();
    let mut regions = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y_min..100.0f64)
            .map_err(failed)?;
        let labels: Vec<String> = trend
            .points
            .iter()
            .map(|p| bucket_label(lang, trend.bucket, p.from))
            .collect();
        let step = n.div_ceil(8);
        let x_label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 || !(i as usize).is_multiple_of(step) {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&x_label)
            .y_labels(6)
            .y_label_formatter(&|y| format!("{}%", format::decimal(lang, *y, 0)))
            .label_style(font(12))
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.35))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        let threshold = percent(ACTION_THRESHOLD);
        chart
            .draw_series(LineSeries::new(
                [(-0.5, threshold), (n as f64 - 0.5, threshold)],
                LATE.stroke_width(1),
            ))
            .map_err(failed)?;
        let (tx, ty) = chart.backend_coord(&(n as f64 - 0.5, threshold));
        root.draw(&Text::new(
            format!(
                "{} {}%",
                tr(lang, Key::Target),
                format::decimal(lang, threshold, 0)
            ),
            (tx - 70, ty - 16),
            font(11),
        ))
        .map_err(failed)?;
        // Buckets without resolved dossiers break the line rather than dropping to zero.
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut segments = Vec::new();
        for (i, r) in rates.iter().enumerate() {
            match r {
                Some(v) => segment.push((i as f64, *v)),
                None if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                None => {}
            }
        }
        segments.push(segment);
        for s in segments.into_iter().filter(|s| !s.is_empty()) {
            chart
                .draw_series(LineSeries::new(s.clone(), LINE.stroke_width(2)))
                .map_err(failed)?;
            chart
                .draw_series(s.into_iter().map(|p| Circle::new(p, 3, LINE.filled())))
                .map_err(failed)?;
        }
        for (i, p) in trend.points.iter().enumerate() {
            let (x0, y0) = chart.backend_coord(&(i as f64 - 0.5, 100.0));
            let (x1, y1) = chart.backend_coord(&(i as f64 + 0.5, y_min));
            regions.push(Region {
                x0: x0 as f64,
                y0: y0 as f64,
                x1: x1 as f64,
                y1: y1 as f64,
                text: format!(
                    "{}: {} ({} {})",
                    bucket_label(lang, trend.bucket, p.from),
                    format::rate(lang, p.figures.on_time_rate),
                    format::count(lang, p.figures.resolved),
                    tr(lang, Key::ResolvedLower),
                ),
                pick: None,
            });
        }
        root.present().map_err(failed)?;
    }
    Ok(Drawn {
        svg,
        width,
        height,
        regions,
    })
}

pub fn trend_table(lang: Lang, trend: &TrendResponse) -> Table {
    Table {
        headers: vec![
            tr(lang, Key::Period).to_string(),
            tr(lang, Key::Resolved).to_string(),
            tr(lang, Key::OnTimeRate).to_string(),
        ],
        rows: trend
            .points
            .iter()
            .map(|p| {
                vec![
                    bucket_label(lang, trend.bucket, p.from),
                    format::count(lang, p.figures.resolved),
                    format::rate(lang, p.figures.on_time_rate),
                ]
            })
            .collect(),
    }
}

/// Shortens a name to fit a label column.
fn clip(name: &str, chars: usize) -> String {
    if name.chars().count() <= chars {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(chars - 1).collect();
        s.push('…');
        s
    }
}

/// One horizontal 100% bar per row, split into parts with the given colours.
struct StackedRows<'a> {
    labels: Vec<String>,
    parts: Vec<Vec<u64>>,
    colours: &'a [RGBColor],
    texts: Vec<String>,
    picks: Vec<Option<Pick>>,
    highlighted: Option<usize>,
    legend: Vec<String>,
}

fn stacked_rows(rows: StackedRows<'_>) -> Result<Drawn, String> {
    let n = rows.labels.len();
    let width = WIDTH;
    let height = 60 + ROW_HEIGHT * n.max(1) as u32;
    let label_width = 170;
    let mut svg = String::new();
    let mut regions = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(34)
            .margin_right(16)
            .margin_bottom(8)
            .x_label_area_size(18)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0f64..100.0f64, 0.0f64..n.max(1) as f64)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|x| format!("{x:.0}%"))
            .label_style(font(11))
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.35))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        // Legend along the top.
        let mut x = label_width + 12;
        for (label, colour) in rows.legend.iter().zip(rows.colours) {
            root.draw(&Rectangle::new([(x, 10), (x + 12, 22)], colour.filled()))
                .map_err(failed)?;
            root.draw(&Text::new(label.clone(), (x + 16, 10), font(12)))
                .map_err(failed)?;
            x += 24 + 8 * label.chars().count() as i32;
        }
        for (i, parts) in rows.parts.iter().enumerate() {
            // The first row at the top.
            let top = (n - i) as f64 - 0.15;
            let bottom = (n - i - 1) as f64 + 0.15;
            let total: u64 = parts.iter().sum();
            let mut start = 0.0;
            for (k, part) in parts.iter().enumerate() {
                if total == 0 || *part == 0 {
                    continue;
                }
                let end = start + *part as f64 / total as f64 * 100.0;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(start, bottom), (end, top)],
                        rows.colours[k % rows.colours.len()].filled(),
                    )))
                    .map_err(failed)?;
                start = end;
            }
            if rows.highlighted == Some(i) {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, bottom - 0.1), (100.0, top + 0.1)],
                        FOCUS.stroke_width(3),
                    )))
                    .map_err(failed)?;
            }
            let (_, y_mid) = chart.backend_coord(&(0.0, (top + bottom) / 2.0));
            root.draw(&Text::new(
                clip(&rows.labels[i], 24),
                (6, y_mid - 7),
                font(12),
            ))
            .map_err(failed)?;
            let (_, y0) = chart.backend_coord(&(0.0, (n - i) as f64));
            let (x1, y1) = chart.backend_coord(&(100.0, (n - i - 1) as f64));
            regions.push(Region {
                x0: 0.0,
                y0: y0 as f64,
                x1: x1 as f64,
                y1: y1 as f64,
                text: rows.texts[i].clone(),
                pick: rows.picks[i].clone(),
            });
        }
        root.present().map_err(failed)?;
    }
    Ok(Drawn {
        svg,
        width,
        height,
        regions,
    })
}

fn share(part: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| part as f64 / total as f64)
}

fn timeliness_text(lang: Lang, name: &str, r: &IndicatorRow) -> String {
    format!(
        "{name}: {} {} ({}), {} {} ({}), {} {} ({})",
        tr(lang, Key::ResolvedEarly),
        format::count(lang, r.resolved_early),
        format::rate(lang, share(r.resolved_early, r.resolved)),
        tr(lang, Key::OnTimeLower),
        format::count(lang, r.resolved_on_time),
        format::rate(lang, share(r.resolved_on_time, r.resolved)),
        tr(lang, Key::LateLower),
        format::count(lang, r.resolved_late),
        format::rate(lang, share(r.resolved_late, r.resolved)),
    )
}

/// Early / on-time / late shares of each unit's resolved dossiers; clicking a unit focuses it.
pub fn timeliness_chart(
    lang: Lang,
    units: &[IndicatorRow],
    focus: Option<&str>,
) -> Result<Drawn, String> {
    stacked_rows(StackedRows {
        labels: units.iter().map(|u| u.name.clone()).collect(),
        parts: units
            .iter()
            .map(|u| vec![u.resolved_early, u.resolved_on_time, u.resolved_late])
            .collect(),
        colours: &[EARLY, ON_TIME, LATE],
        texts: units
            .iter()
            .map(|u| timeliness_text(lang, &u.name, u))
            .collect(),
        picks: units
            .iter()
            .map(|u| Some(Pick::Unit(u.code.clone())))
            .collect(),
        highlighted: focus.and_then(|f| units.iter().position(|u| u.code == f)),
        legend: [Key::ResolvedEarly, Key::ResolvedOnTime, Key::ResolvedLate]
            .into_iter()
            .map(|k| tr(lang, k).to_string())
            .collect(),
    })
}

pub fn timeliness_table(lang: Lang, units: &[IndicatorRow]) -> Table {
    Table {
        headers: [
            Key::Unit,
            Key::ResolvedEarly,
            Key::ResolvedOnTime,
            Key::ResolvedLate,
            Key::OnTimeRate,
        ]
        .into_iter()
        .map(|k| tr(lang, k).to_string())
        .collect(),
        rows: units
            .iter()
            .map(|u| {
                vec![
                    u.name.clone(),
                    format::count(lang, u.resolved_early),
                    format::count(lang, u.resolved_on_time),
                    format::count(lang, u.resolved_late),
                    format::rate(lang, u.on_time_rate),
                ]
            })
            .collect(),
    }
}

/// In-time and late dossiers resolved per sector; clicking a sector filters the dashboard by it.
pub fn sector_chart(
    lang: Lang,
    sectors: &[IndicatorRow],
    selected: Option<&str>,
) -> Result<Drawn, String> {
    stacked_rows(StackedRows {
        labels: sectors.iter().map(|s| s.name.clone()).collect(),
        parts: sectors
            .iter()
            .map(|s| vec![s.resolved_early + s.resolved_on_time, s.resolved_late])
            .collect(),
        colours: &[EARLY, LATE],
        texts: sectors
            .iter()
            .map(|s| {
                format!(
                    "{}: {} {} · {} {} · {} {}",
                    s.name,
                    format::count(lang, s.resolved),
                    tr(lang, Key::ResolvedLower),
                    tr(lang, Key::OnTimeRate),
                    format::rate(lang, s.on_time_rate),
                    format::count(lang, s.resolved_late),
                    tr(lang, Key::LateLower),
                )
            })
            .collect(),
        picks: sectors
            .iter()
            .map(|s| Some(Pick::Sector(s.name.clone())))
            .collect(),
        highlighted: selected.and_then(|f| sectors.iter().position(|s| s.name == f)),
        legend: [Key::InTime, Key::ResolvedLate]
            .into_iter()
            .map(|k| tr(lang, k).to_string())
            .collect(),
    })
}

pub fn sector_table(lang: Lang, sectors: &[IndicatorRow]) -> Table {
    Table {
        headers: [
            Key::Sector,
            Key::Received,
            Key::Resolved,
            Key::ResolvedLate,
            Key::OnTimeRate,
            Key::OnlineRate,
        ]
        .into_iter()
        .map(|k| tr(lang, k).to_string())
        .collect(),
        rows: sectors
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    format::count(lang, s.received),
                    format::count(lang, s.resolved),
                    format::count(lang, s.resolved_late),
                    format::rate(lang, s.on_time_rate),
                    format::rate(lang, s.online_rate),
                ]
            })
            .collect(),
    }
}

fn days_label(lang: Lang, days: usize) -> String {
    if days >= DAYS_CAP as usize {
        format!("≥ {DAYS_CAP} {}", tr(lang, Key::Days))
    } else {
        format!("{days} {}", tr(lang, Key::Days))
    }
}

/// How many dossiers took 0, 1, 2 … days from reception to resolution.
pub fn days_chart(lang: Lang, days: &DaysDistribution) -> Result<Drawn, String> {
    let (width, height) = (WIDTH, TREND_HEIGHT);
    let n = days.counts.len().max(1);
    let top = days.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.08;
    let total: u64 = days.counts.iter().sum();
    let mut svg = String::new();
    let mut regions = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..top)
            .map_err(failed)?;
        let x_label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 || !(i as usize).is_multiple_of(5) {
                return String::new();
            }
            if i as usize >= DAYS_CAP as usize {
                format!("≥{DAYS_CAP}")
            } else {
                format!("{i:.0}")
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&x_label)
            .x_desc(tr(lang, Key::Days))
            .y_labels(5)
            .y_label_formatter(&|y| format::count(lang, y.round().max(0.0) as u64))
            .label_style(font(12))
            .axis_style(GRID)
            .bold_line_style(GRID.mix(0.35))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(days.counts.iter().enumerate().map(|(i, c)| {
                Rectangle::new(
                    [(i as f64 - 0.4, 0.0), (i as f64 + 0.4, *c as f64)],
                    LINE.filled(),
                )
            }))
            .map_err(failed)?;
        for (i, c) in days.counts.iter().enumerate() {
            let (x0, y0) = chart.backend_coord(&(i as f64 - 0.5, top));
            let (x1, y1) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            regions.push(Region {
                x0: x0 as f64,
                y0: y0 as f64,
                x1: x1 as f64,
                y1: y1 as f64,
                text: format!(
                    "{}: {} ({})",
                    days_label(lang, i),
                    format::count(lang, *c),
                    format::rate(lang, share(*c, total)),
                ),
                pick: None,
            });
        }
        root.present().map_err(failed)?;
    }
    Ok(Drawn {
        svg,
        width,
        height,
        regions,
    })
}

pub fn days_table(lang: Lang, days: &DaysDistribution) -> Table {
    Table {
        headers: vec![
            tr(lang, Key::ProcessingDays).to_string(),
            tr(lang, Key::Dossiers).to_string(),
        ],
        rows: days
            .counts
            .iter()
            .enumerate()
            .map(|(i, c)| vec![days_label(lang, i), format::count(lang, *c)])
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Counts, TrendPoint};
    use chrono::NaiveDate;

    fn unit(code: &str, early: u64, on_time: u64, late: u64) -> IndicatorRow {
        let c = Counts {
            resolved: early + on_time + late,
            resolved_early: early,
            resolved_on_time: on_time,
            resolved_late: late,
            received: 10,
            ..Counts::default()
        };
        IndicatorRow::from_counts(code, format!("Huyện {code}"), &c)
    }

    #[test]
    fn the_timeliness_chart_has_one_region_per_unit_reading_its_figures() {
        let units = vec![unit("A", 50, 40, 10), unit("B", 0, 0, 0)];
        let drawn = timeliness_chart(Lang::Vi, &units, Some("A")).unwrap();
        assert!(drawn.svg.starts_with("<svg"));
        assert_eq!(drawn.regions.len(), 2);
        let a = &drawn.regions[0];
        assert_eq!(a.pick, Some(Pick::Unit("A".into())));
        assert!(a.text.contains("50 (50,00%)"), "{}", a.text);
        assert!(a.text.contains("10 (10,00%)"), "{}", a.text);
        // The first unit is drawn above the second, and the regions do not overlap.
        assert!(a.y1 <= drawn.regions[1].y0 + 0.5);
        let mid = ((a.x0 + a.x1) / 2.0, (a.y0 + a.y1) / 2.0);
        assert_eq!(drawn.region_at(mid).map(|r| &r.pick), Some(&a.pick));
    }

    #[test]
    fn the_trend_chart_reads_each_bucket_and_marks_the_target() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let point = |from: &str, to: &str, on_time: u64, late: u64| TrendPoint {
            from: d(from),
            to: d(to),
            figures: unit("A", 0, on_time, late),
        };
        let trend = TrendResponse {
            unit: "A".into(),
            name: "A".into(),
            from: d("2021-01-01"),
            to: d("2021-03-31"),
            bucket: Bucket::Month,
            points: vec![
                point("2021-01-01", "2021-01-31", 90, 10),
                point("2021-02-01", "2021-02-28", 0, 0),
                point("2021-03-01", "2021-03-31", 99, 1),
            ],
        };
        let drawn = trend_chart(Lang::En, &trend).unwrap();
        assert_eq!(drawn.regions.len(), 3);
        assert_eq!(drawn.regions[0].text, "2021-01: 90.00% (100 resolved)");
        assert_eq!(drawn.regions[1].text, "2021-02: – (0 resolved)");
        assert!(drawn.svg.contains("Target 95%"));
        // Regions run left to right.
        assert!(drawn.regions[0].x1 <= drawn.regions[2].x0);
        let table = trend_table(Lang::Vi, &trend);
        assert_eq!(table.rows[2], vec!["03/2021", "100", "99,00%"]);
    }

    #[test]
    fn the_days_chart_counts_each_bucket() {
        let mut counts = vec![0; DAYS_CAP as usize + 1];
        counts[0] = 3;
        counts[DAYS_CAP as usize] = 1;
        let days = DaysDistribution { counts };
        let drawn = days_chart(Lang::Vi, &days).unwrap();
        assert_eq!(drawn.regions.len(), DAYS_CAP as usize + 1);
        assert_eq!(drawn.regions[0].text, "0 ngày: 3 (75,00%)");
        assert_eq!(
            drawn.regions[DAYS_CAP as usize].text,
            "≥ 31 ngày: 1 (25,00%)"
        );
    }

    #[test]
    fn sector_regions_pick_the_sector() {
        let sectors = vec![unit("Đất đai", 5, 5, 10)];
        let drawn = sector_chart(Lang::Vi, &sectors, None).unwrap();
        assert_eq!(
            drawn.regions[0].pick,
            Some(Pick::Sector("Huyện Đất đai".into()))
        );
        assert_eq!(sector_table(Lang::Vi, &sectors).rows[0][4], "50,00%");
    }
}
