//! The report's pages: the headline table and the map, the ranking, then the trend, the causes
//! of late dossiers and the units that crossed the threshold, each section flowing onto a new
//! page when it does not fit.
use super::data::ReportData;
use super::draw::{
    self, fonts, Align, Layout, Shape, ALERT, CONTENT_BOTTOM, INK, MARGIN, MUTED, NO_DATA,
    PAGE_WIDTH, RULE,
};
use app::classify::{classify, palette_for, Method};
use app::format;
use app::i18n::{indicator_key, tr, Key, Lang};
use app::indicators::ACTION_THRESHOLD;
use app::model::{Indicator, IndicatorRow, Level, MapLayer, MapShape};
use app::projection::{hex_centre, Bounds, Projection};

const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const WIDTH: f32 = RIGHT - MARGIN;

pub fn render(data: &ReportData) -> Result<super::Rendered, String> {
    let fonts = fonts().ok_or("the embedded font could not be read")?;
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    let mut layout = Layout::new(fonts);
    let unit_name = data.unit().map(|u| u.name.clone()).unwrap_or_default();
    let month = format::month(lang, data.period.from);
    let title = format!("{} {month} — {unit_name}", t(Key::ReportTitle));

    header(&mut layout, data, &title);
    headline(&mut layout, data);
    if let (Some(map), Some(level)) = (&data.map, data.child_level) {
        map_section(&mut layout, data, map, level);
    }
    if data.child_level.is_some() {
        ranking(&mut layout, data);
    }
    trend(&mut layout, data);
    procedures(&mut layout, data);
    sectors(&mut layout, data);
    if data.child_level.is_some() {
        crossings(&mut layout, data);
    }
    if let Some(agencies) = &data.agencies {
        agency_table(&mut layout, lang, agencies);
    }

    let footer = |page: usize, pages: usize| {
        format!(
            "{} · {title} · {} {page}/{pages}",
            t(Key::AppTitle),
            t(Key::ReportPage)
        )
    };
    let pages = layout.pages.len();
    let pdf = draw::render(layout, &title, lang.code(), &footer)?;
    Ok(super::Rendered { pdf, pages })
}

fn value(indicator: Indicator, row: &IndicatorRow) -> Option<f64> {
    match indicator {
        Indicator::OnTimeRate => row.on_time_rate,
        Indicator::LateRateInclPending => row.late_rate_incl_pending,
        Indicator::OnlineRate => row.online_rate,
        Indicator::OnlinePaymentRate => row.online_payment_rate,
        Indicator::AvgDays => row.avg_days,
    }
}

fn shown(lang: Lang, indicator: Indicator, v: Option<f64>) -> String {
    match (indicator.is_rate(), v) {
        (true, v) => format::rate(lang, v),
        (false, Some(v)) => format::decimal(lang, v, 1),
        (false, None) => "–".into(),
    }
}

fn change(lang: Lang, indicator: Indicator, now: Option<f64>, then: Option<f64>) -> String {
    let delta = now.zip(then).map(|(a, b)| a - b);
    if indicator.is_rate() {
        match delta {
            Some(_) => format!(
                "{} {}",
                format::rate_change(lang, delta),
                tr(lang, Key::ReportRatePoints)
            ),
            None => "–".into(),
        }
    } else {
        signed(lang, delta, 1)
    }
}

fn signed(lang: Lang, delta: Option<f64>, decimals: usize) -> String {
    match delta {
        Some(d) => format!(
            "{}{}",
            if d < 0.0 { "−" } else { "+" },
            format::decimal(lang, d.abs(), decimals)
        ),
        None => "–".into(),
    }
}

fn count_change(lang: Lang, now: u64, then: u64) -> String {
    let (sign, by) = if now >= then {
        ("+", now - then)
    } else {
        ("−", then - now)
    };
    format!("{sign}{}", format::count(lang, by))
}

/// Reads one count of a unit's figures.
type CountOf = fn(&IndicatorRow) -> u64;

fn header(layout: &mut Layout, data: &ReportData, title: &str) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    layout.line(17.0, true, INK, title.to_string());
    if data.trail.len() > 1 {
        let places: Vec<&str> = data.trail.iter().rev().map(|u| u.name.as_str()).collect();
        layout.line(9.5, false, INK, places.join(", "));
    }
    let whole = super::data::month_period(data.period.from, chrono::NaiveDate::MAX)
        .is_some_and(|p| p.to == data.period.to);
    let mut info = format!(
        "{} – {}",
        format::date(lang, data.period.from),
        format::date(lang, data.period.to)
    );
    if !whole {
        info = format!(
            "{info} ({} {})",
            t(Key::ReportMonthToDate),
            format::date(lang, data.period.to)
        );
    }
    info.push_str(&format!(
        " · {} {}",
        t(Key::ReportGenerated),
        format::date_time(lang, chrono::Utc::now())
    ));
    if let Some(at) = data.data_as_of {
        info.push_str(&format!(
            " · {} {}",
            t(Key::DataAsOf),
            format::date_time(lang, at)
        ));
    }
    layout.line(7.5, false, MUTED, info);
    let audience = if data.agencies.is_some() {
        t(Key::ReportWithAgencies)
    } else {
        t(Key::ReportPublic)
    };
    let mut note = format!("{audience} · {}", t(Key::Source));
    if data.converted {
        note = format!("{note} · {}", t(Key::ReportConverted));
    }
    layout.paragraph(7.5, MUTED, &note);
}

fn headline(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    layout.heading(t(Key::ReportHeadline), 150.0);
    let columns = [285.0, 345.0, 420.0, 480.0, RIGHT];
    let month = |p: app::model::Period| format::month(lang, p.from);
    let titles = [
        month(data.period),
        data.previous
            .as_ref()
            .map(|(p, _)| month(*p))
            .unwrap_or_else(|| t(Key::ReportPreviousMonth).into()),
        "±".to_string(),
        data.year_earlier
            .as_ref()
            .map(|(p, _)| month(*p))
            .unwrap_or_else(|| t(Key::ReportYearEarlier).into()),
        "±".to_string(),
    ];
    let baseline = layout.y + 9.0;
    for (x, title) in columns.iter().zip(titles) {
        layout.text(*x, baseline, 8.0, true, MUTED, Align::Right, title);
    }
    layout.y += 14.0;
    let previous = data.previous.as_ref().map(|(_, r)| r);
    let earlier = data.year_earlier.as_ref().map(|(_, r)| r);
    let mut rows: Vec<(String, String, String, String, String, String, bool)> = Vec::new();
    for indicator in Indicator::ALL {
        let now = value(indicator, &data.current);
        let before = previous.and_then(|r| value(indicator, r));
        let then = earlier.and_then(|r| value(indicator, r));
        let alarming =
            indicator == Indicator::OnTimeRate && now.is_some_and(|v| v < ACTION_THRESHOLD);
        rows.push((
            t(indicator_key(indicator)).to_string(),
            shown(lang, indicator, now),
            previous.map_or("–".into(), |_| shown(lang, indicator, before)),
            previous.map_or("–".into(), |_| change(lang, indicator, now, before)),
            earlier.map_or("–".into(), |_| shown(lang, indicator, then)),
            earlier.map_or("–".into(), |_| change(lang, indicator, now, then)),
            alarming,
        ));
    }
    let counts: [(Key, CountOf); 4] = [
        (Key::Received, |r| r.received),
        (Key::Resolved, |r| r.resolved),
        (Key::ResolvedLate, |r| r.resolved_late),
        (Key::PendingOverdue, |r| r.pending_overdue),
    ];
    for (key, get) in counts {
        let now = get(&data.current);
        rows.push((
            t(key).to_string(),
            format::count(lang, now),
            previous.map_or("–".into(), |r| format::count(lang, get(r))),
            previous.map_or("–".into(), |r| count_change(lang, now, get(r))),
            earlier.map_or("–".into(), |r| format::count(lang, get(r))),
            earlier.map_or("–".into(), |r| count_change(lang, now, get(r))),
            false,
        ));
    }
    for (label, now, before, d1, then, d2, alarming) in rows {
        let baseline = layout.y + 9.0;
        let label = layout.fonts.fit(false, 8.5, &label, 185.0);
        layout.text(MARGIN, baseline, 8.5, false, INK, Align::Left, label);
        let colour = if alarming { ALERT } else { INK };
        layout.text(columns[0], baseline, 8.5, true, colour, Align::Right, now);
        for (x, text) in columns[1..].iter().zip([before, d1, then, d2]) {
            layout.text(*x, baseline, 8.5, false, INK, Align::Right, text);
        }
        layout.y += 13.0;
        layout.push(Shape::Line {
            points: vec![(MARGIN, layout.y - 1.5), (RIGHT, layout.y - 1.5)],
            colour: RULE,
            width: 0.3,
            dashed: false,
        });
    }
    if data
        .current
        .on_time_rate
        .is_some_and(|v| v < ACTION_THRESHOLD)
    {
        layout.line(8.0, true, ALERT, t(Key::BelowThreshold));
    }
}

/// The classes and colours of on-time rates, as the dashboard's map draws them by default.
fn rate_classes() -> (Vec<f64>, Vec<&'static str>) {
    let limits = match Method::thresholds_for(Indicator::OnTimeRate) {
        Method::Thresholds(limits) => limits,
        _ => vec![ACTION_THRESHOLD],
    };
    let colours = palette_for(limits.len() + 1, Indicator::OnTimeRate);
    (limits, colours)
}

fn rate_colour(rate: Option<f64>) -> &'static str {
    let (limits, colours) = rate_classes();
    let classes = classify(&[], &Method::Thresholds(limits));
    classes
        .class_of(rate)
        .and_then(|c| colours.get(c).copied())
        .unwrap_or(NO_DATA)
}

fn map_section(layout: &mut Layout, data: &ReportData, map: &MapLayer, _level: Level) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    let available = CONTENT_BOTTOM - layout.y - 70.0;
    let height = if available >= 260.0 {
        available.min(400.0)
    } else {
        400.0
    };
    layout.heading(t(Key::ReportMap), height + 40.0);
    let rates: std::collections::HashMap<&str, Option<f64>> = data
        .children
        .iter()
        .map(|r| (r.code.as_str(), r.on_time_rate))
        .collect();
    let (top, left) = (layout.y + 4.0, MARGIN);
    let colour_of = |code: &str| rate_colour(rates.get(code).copied().flatten());
    if map.geographic {
        let outlines: Vec<Outline<'_>> = map
            .units
            .iter()
            .filter_map(|u| match &u.shape {
                MapShape::Outline { rings } => {
                    let points = rings.iter().flatten();
                    let bounds = Bounds::of(points.map(|(x, y)| (f64::from(*x), f64::from(*y))))?;
                    Some((u.code.as_str(), rings, bounds))
                }
                MapShape::Tile { .. } => None,
            })
            .collect();
        let (near, far) = split_far(outlines);
        // Far islands (Hoàng Sa off Đà Nẵng, Trường Sa off Khánh Hòa) go into an inset, so the
        // mainland keeps its size.
        let inset = 130.0;
        let main_width = if far.is_empty() {
            WIDTH
        } else {
            WIDTH - inset - 10.0
        };
        draw_outlines(layout, &near, (left, top, main_width, height), &colour_of);
        if !far.is_empty() {
            let x = RIGHT - inset;
            layout.push(Shape::Rect {
                x,
                y: top,
                w: inset,
                h: inset * 0.8,
                fill: None,
                stroke: Some(RULE),
            });
            draw_outlines(layout, &far, (x, top, inset, inset * 0.8), &colour_of);
            let names: Vec<&str> = far
                .iter()
                .filter_map(|(code, _, _)| map.units.iter().find(|u| u.code == *code))
                .map(|u| u.name.as_str())
                .collect();
            let label = layout.fonts.fit(false, 6.5, &names.join(", "), inset);
            layout.text(
                x,
                top + inset * 0.8 + 9.0,
                6.5,
                false,
                MUTED,
                Align::Left,
                label,
            );
        }
    } else {
        let tiles: Vec<(i32, i32, &str)> = map
            .units
            .iter()
            .filter_map(|u| match u.shape {
                MapShape::Tile { col, row } => Some((col, row, u.code.as_str())),
                MapShape::Outline { .. } => None,
            })
            .collect();
        let cols = tiles.iter().map(|t| t.0).max().unwrap_or(0).max(0) as f32 + 1.5;
        let rows = tiles.iter().map(|t| t.1).max().unwrap_or(0).max(0) as f32;
        let size = (WIDTH / (3f32.sqrt() * cols))
            .min(height / (1.5 * rows + 2.0))
            .min(26.0);
        for (col, row, code) in tiles {
            let (cx, cy) = hex_centre(col, row, f64::from(size));
            let corners = (0..6)
                .map(|i| {
                    let angle = std::f32::consts::PI / 3.0 * i as f32 - std::f32::consts::PI / 6.0;
                    (
                        left + cx as f32 + size * 0.95 * angle.cos(),
                        top + cy as f32 + size * 0.95 * angle.sin(),
                    )
                })
                .collect();
            layout.push(Shape::Polygon {
                rings: vec![corners],
                fill: colour_of(code),
                stroke: "#ffffff",
            });
        }
    }
    layout.y = top + height + 6.0;
    legend(layout, lang);
    if !map.not_on_map.is_empty() {
        let names: Vec<&str> = map.not_on_map.iter().map(|u| u.name.as_str()).collect();
        let text = format!("{}: {}", t(Key::NotOnMap), names.join(", "));
        let text = layout.fonts.fit(false, 7.0, &text, WIDTH);
        layout.line(7.0, false, MUTED, text);
    }
    if let Some(credit) = &map.credit {
        let text = layout.fonts.fit(false, 6.5, credit, WIDTH);
        layout.line(6.5, false, MUTED, text);
    }
}

type Outline<'a> = (&'a str, &'a Vec<Vec<(f32, f32)>>, Bounds);

/// Splits the units into those of the main map and those far from it: a unit whose centre lies
/// beyond three interquartile ranges of the others' centres, east-west or north-south.
fn split_far(outlines: Vec<Outline<'_>>) -> (Vec<Outline<'_>>, Vec<Outline<'_>>) {
    if outlines.len() < 4 {
        return (outlines, Vec::new());
    }
    let fence = |values: Vec<f64>| {
        let mut sorted = values;
        sorted.sort_by(f64::total_cmp);
        let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f).round() as usize];
        let (q1, q3) = (q(0.25), q(0.75));
        let spread = (q3 - q1).max(0.05);
        (q1 - 3.0 * spread, q3 + 3.0 * spread)
    };
    let centre = |b: &Bounds| ((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0);
    let lon = fence(outlines.iter().map(|o| centre(&o.2).0).collect());
    let lat = fence(outlines.iter().map(|o| centre(&o.2).1).collect());
    outlines.into_iter().partition(|o| {
        let (x, y) = centre(&o.2);
        x >= lon.0 && x <= lon.1 && y >= lat.0 && y <= lat.1
    })
}

/// Draws outlines fitted into the box `(x, y, width, height)`.
fn draw_outlines(
    layout: &mut Layout,
    outlines: &[Outline<'_>],
    (left, top, width, height): (f32, f32, f32, f32),
    colour_of: &dyn Fn(&str) -> &'static str,
) {
    let corners = outlines
        .iter()
        .flat_map(|o| [(o.2.min_lon, o.2.min_lat), (o.2.max_lon, o.2.max_lat)]);
    let Some(bounds) = Bounds::of(corners) else {
        return;
    };
    let projection = Projection::fit(bounds, f64::from(width), f64::from(height), 4.0);
    for (code, rings, _) in outlines {
        let rings = rings
            .iter()
            .map(|ring| {
                let mut out: Vec<(f32, f32)> = Vec::with_capacity(ring.len());
                for (lon, lat) in ring {
                    let (x, y) = projection.project(f64::from(*lon), f64::from(*lat));
                    let p = (left + x as f32, top + y as f32);
                    // A point within a third of a point of the last adds nothing on paper.
                    if out
                        .last()
                        .is_some_and(|q| (q.0 - p.0).abs() < 0.35 && (q.1 - p.1).abs() < 0.35)
                    {
                        continue;
                    }
                    out.push(p);
                }
                out
            })
            .collect();
        layout.push(Shape::Polygon {
            rings,
            fill: colour_of(code),
            stroke: "#ffffff",
        });
    }
}

fn legend(layout: &mut Layout, lang: Lang) {
    let (limits, colours) = rate_classes();
    let pct = |v: f64| format!("{}%", format::decimal(lang, v * 100.0, 0));
    let mut labels = Vec::new();
    for i in 0..=limits.len() {
        labels.push(match i {
            0 => format!("< {}", pct(limits[0])),
            i if i == limits.len() => format!("≥ {}", pct(limits[i - 1])),
            i => format!("{}–{}", pct(limits[i - 1]), pct(limits[i])),
        });
    }
    let mut x = MARGIN;
    let y = layout.y;
    let swatches = labels
        .into_iter()
        .zip(colours.iter().copied())
        .chain(std::iter::once((
            tr(lang, Key::NoData).to_string(),
            NO_DATA,
        )));
    for (label, fill) in swatches {
        layout.push(Shape::Rect {
            x,
            y,
            w: 10.0,
            h: 8.0,
            fill: Some(fill),
            stroke: Some(RULE),
        });
        let width = layout.fonts.width(false, 7.5, &label);
        layout.text(x + 13.0, y + 7.0, 7.5, false, INK, Align::Left, label);
        x += 13.0 + width + 12.0;
    }
    layout.y += 14.0;
}

fn ranking(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    let mut rows: Vec<&IndicatorRow> = data.children.iter().collect();
    rows.sort_by(|a, b| match (a.on_time_rate, b.on_time_rate) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    layout.new_page();
    layout.line(
        12.0,
        true,
        INK,
        format!(
            "{} — {}",
            t(Key::ReportRanking),
            format::month(lang, data.period.from)
        ),
    );
    layout.rule();
    if rows.is_empty() {
        layout.line(8.5, false, MUTED, t(Key::ReportNoChildren));
        return;
    }
    let lowest = rows
        .iter()
        .filter_map(|r| r.on_time_rate)
        .fold(1.0f64, f64::min);
    // The bars start below the lowest rate, so that differences near the threshold show.
    let floor = (((lowest - 0.02) * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let (bar_left, bar_right) = (250.0f32, 470.0f32);
    let x_of = |rate: f64| {
        bar_left + ((rate - floor) / (1.0 - floor)).clamp(0.0, 1.0) as f32 * (bar_right - bar_left)
    };
    let size = if rows.len() > 60 { 6.5 } else { 8.0 };
    let step = size * 1.3;
    let mut page_top: Option<f32> = None;
    let close_page = |layout: &mut Layout, top: f32| {
        let x = x_of(ACTION_THRESHOLD);
        layout.push(Shape::Line {
            points: vec![(x, top - 2.0), (x, layout.y)],
            colour: ALERT,
            width: 0.8,
            dashed: true,
        });
        layout.text(
            x,
            top - 4.0,
            6.5,
            true,
            ALERT,
            Align::Centre,
            t(Key::ReportThreshold),
        );
    };
    for (rank, row) in rows.iter().enumerate() {
        if layout.y + step > CONTENT_BOTTOM {
            if let Some(top) = page_top.take() {
                close_page(layout, top);
            }
            layout.new_page();
        }
        page_top.get_or_insert_with(|| {
            let header = layout.y + 10.0;
            layout.text(
                MARGIN + 20.0,
                header,
                6.5,
                true,
                MUTED,
                Align::Right,
                t(Key::Rank),
            );
            layout.text(
                MARGIN + 26.0,
                header,
                6.5,
                true,
                MUTED,
                Align::Left,
                t(Key::Unit),
            );
            layout.text(
                bar_left,
                header,
                6.5,
                false,
                MUTED,
                Align::Left,
                format::rate(lang, Some(floor)),
            );
            layout.text(bar_right, header, 6.5, false, MUTED, Align::Right, "100%");
            layout.text(
                RIGHT,
                header,
                6.5,
                true,
                MUTED,
                Align::Right,
                t(Key::Resolved),
            );
            layout.y += 16.0;
            layout.y
        });
        let baseline = layout.y + size;
        layout.text(
            MARGIN + 20.0,
            baseline,
            size,
            false,
            MUTED,
            Align::Right,
            (rank + 1).to_string(),
        );
        let name = layout
            .fonts
            .fit(false, size, &row.name, bar_left - MARGIN - 32.0);
        layout.text(MARGIN + 26.0, baseline, size, false, INK, Align::Left, name);
        if let Some(rate) = row.on_time_rate {
            layout.push(Shape::Rect {
                x: bar_left,
                y: layout.y + 1.0,
                w: x_of(rate) - bar_left,
                h: step - 2.0,
                fill: Some(rate_colour(Some(rate))),
                stroke: None,
            });
        }
        let colour = if row.on_time_rate.is_some_and(|r| r < ACTION_THRESHOLD) {
            ALERT
        } else {
            INK
        };
        layout.text(
            bar_right + 40.0,
            baseline,
            size,
            true,
            colour,
            Align::Right,
            format::rate(lang, row.on_time_rate),
        );
        layout.text(
            RIGHT,
            baseline,
            size,
            false,
            INK,
            Align::Right,
            format::count(lang, row.resolved),
        );
        layout.y += step;
    }
    if let Some(top) = page_top {
        close_page(layout, top);
    }
}

fn trend(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    let height = 150.0;
    layout.heading(t(Key::ReportTrend), height + 30.0);
    let points: Vec<(String, Option<f64>)> = data
        .trend
        .iter()
        .map(|p| (format::month(lang, p.from), p.figures.on_time_rate))
        .collect();
    if points.is_empty() {
        layout.line(8.5, false, MUTED, t(Key::NoData));
        return;
    }
    let lowest = points.iter().filter_map(|p| p.1).fold(1.0f64, f64::min);
    let floor = (((lowest - 0.01) * 20.0).floor() / 20.0).clamp(0.0, 0.9);
    let (left, right, top) = (MARGIN + 34.0, RIGHT - 10.0, layout.y + 6.0);
    let bottom = top + height;
    let y_of =
        |rate: f64| bottom - ((rate - floor) / (1.0 - floor)).clamp(0.0, 1.0) as f32 * height;
    let mut tick = floor;
    while tick <= 1.0 + 1e-9 {
        let y = y_of(tick);
        layout.push(Shape::Line {
            points: vec![(left, y), (right, y)],
            colour: RULE,
            width: 0.3,
            dashed: false,
        });
        layout.text(
            left - 4.0,
            y + 2.5,
            7.0,
            false,
            MUTED,
            Align::Right,
            format!("{}%", format::decimal(lang, tick * 100.0, 0)),
        );
        tick += 0.05;
    }
    let y = y_of(ACTION_THRESHOLD);
    layout.push(Shape::Line {
        points: vec![(left, y), (right, y)],
        colour: ALERT,
        width: 0.8,
        dashed: true,
    });
    layout.text(
        right,
        y - 3.0,
        6.5,
        true,
        ALERT,
        Align::Right,
        t(Key::ReportThreshold),
    );
    let step = (right - left) / points.len() as f32;
    let x_of = |i: usize| left + step * (i as f32 + 0.5);
    let mut line: Vec<(f32, f32)> = Vec::new();
    for (i, (label, rate)) in points.iter().enumerate() {
        layout.text(
            x_of(i),
            bottom + 10.0,
            6.5,
            false,
            MUTED,
            Align::Centre,
            label.clone(),
        );
        match rate {
            Some(rate) => {
                let p = (x_of(i), y_of(*rate));
                line.push(p);
                layout.push(Shape::Rect {
                    x: p.0 - 1.8,
                    y: p.1 - 1.8,
                    w: 3.6,
                    h: 3.6,
                    fill: Some(INK),
                    stroke: None,
                });
                layout.text(
                    p.0,
                    p.1 - 5.0,
                    6.0,
                    false,
                    INK,
                    Align::Centre,
                    format::rate(lang, Some(*rate)),
                );
            }
            None => {
                if line.len() > 1 {
                    layout.push(Shape::Line {
                        points: std::mem::take(&mut line),
                        colour: INK,
                        width: 1.2,
                        dashed: false,
                    });
                }
                line.clear();
            }
        }
    }
    if line.len() > 1 {
        layout.push(Shape::Line {
            points: line,
            colour: INK,
            width: 1.2,
            dashed: false,
        });
    }
    layout.y = bottom + 18.0;
}

/// A table of text columns: `(x, align, max width)` per column, header then rows.
fn table(
    layout: &mut Layout,
    columns: &[(f32, Align, f32)],
    header: Vec<String>,
    rows: Vec<Vec<String>>,
) {
    let size = 7.5;
    let draw_header = |layout: &mut Layout| {
        let baseline = layout.y + size;
        for ((x, align, width), text) in columns.iter().zip(&header) {
            let text = layout.fonts.fit(true, size, text, *width);
            layout.text(*x, baseline, size, true, MUTED, *align, text);
        }
        layout.y += size * 1.7;
    };
    draw_header(layout);
    for row in rows {
        if layout.y + size * 1.6 > CONTENT_BOTTOM {
            layout.new_page();
            draw_header(layout);
        }
        let baseline = layout.y + size;
        for ((x, align, width), text) in columns.iter().zip(row) {
            let text = layout.fonts.fit(false, size, &text, *width);
            layout.text(*x, baseline, size, false, INK, *align, text);
        }
        layout.y += size * 1.6;
    }
}

fn procedures(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    layout.heading(t(Key::ReportLateProcedures), 40.0);
    if data.procedures.is_empty() {
        layout.line(8.0, false, MUTED, t(Key::ReportNone));
        return;
    }
    let columns = [
        (MARGIN, Align::Left, 220.0),
        (MARGIN + 226.0, Align::Left, 95.0),
        (420.0, Align::Right, 55.0),
        (480.0, Align::Right, 55.0),
        (RIGHT, Align::Right, 70.0),
    ];
    let header = [
        Key::Procedure,
        Key::Sector,
        Key::ResolvedLate,
        Key::Resolved,
        Key::OnTimeRate,
    ]
    .map(|k| t(k).to_string())
    .to_vec();
    let rows = data
        .procedures
        .iter()
        .map(|p| {
            vec![
                format!("{} {}", p.code, p.name),
                p.field.clone(),
                format::count(lang, p.resolved_late),
                format::count(lang, p.resolved),
                format::rate(lang, p.on_time_rate()),
            ]
        })
        .collect();
    table(layout, &columns, header, rows);
}

fn sectors(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    layout.heading(t(Key::ReportLateSectors), 40.0);
    if data.sectors.is_empty() {
        layout.line(8.0, false, MUTED, t(Key::ReportNone));
        return;
    }
    let columns = [
        (MARGIN, Align::Left, 300.0),
        (420.0, Align::Right, 55.0),
        (480.0, Align::Right, 55.0),
        (RIGHT, Align::Right, 70.0),
    ];
    let header = [
        Key::Sector,
        Key::ResolvedLate,
        Key::Resolved,
        Key::OnTimeRate,
    ]
    .map(|k| t(k).to_string())
    .to_vec();
    let rows = data
        .sectors
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                format::count(lang, s.resolved_late),
                format::count(lang, s.resolved),
                format::rate(lang, s.on_time_rate),
            ]
        })
        .collect();
    table(layout, &columns, header, rows);
}

fn crossings(layout: &mut Layout, data: &ReportData) {
    let lang = data.request.lang;
    let t = |key| tr(lang, key);
    for (key, list) in [
        (Key::ReportFellBelow, &data.fell_below),
        (Key::ReportRoseAbove, &data.rose_above),
    ] {
        layout.heading(format!("{} ({})", t(key), list.len()), 12.0);
        if data.previous.is_none() || list.is_empty() {
            layout.line(8.0, false, MUTED, t(Key::ReportNone));
            continue;
        }
        let columns = [
            (MARGIN, Align::Left, 300.0),
            (450.0, Align::Right, 80.0),
            (RIGHT, Align::Right, 80.0),
        ];
        let header = vec![
            t(Key::Unit).to_string(),
            t(Key::ReportPreviousMonth).to_string(),
            format::month(lang, data.period.from),
        ];
        let rows = list
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    format::rate(lang, Some(c.before)),
                    format::rate(lang, Some(c.now)),
                ]
            })
            .collect();
        table(layout, &columns, header, rows);
    }
}

fn agency_table(layout: &mut Layout, lang: Lang, agencies: &[super::AgencyLate]) {
    let t = |key| tr(lang, key);
    layout.heading(t(Key::ReportLateByAgency), 40.0);
    if agencies.is_empty() {
        layout.line(8.0, false, MUTED, t(Key::ReportNone));
        return;
    }
    let columns = [
        (MARGIN, Align::Left, 300.0),
        (470.0, Align::Right, 90.0),
        (RIGHT, Align::Right, 80.0),
    ];
    let header = [Key::Agency, Key::ResolvedLate, Key::PendingOverdue]
        .map(|k| t(k).to_string())
        .to_vec();
    let rows = agencies
        .iter()
        .map(|a| {
            vec![
                a.agency.clone(),
                format::count(lang, a.resolved_late),
                format::count(lang, a.pending_overdue),
            ]
        })
        .collect();
    table(layout, &columns, header, rows);
}
