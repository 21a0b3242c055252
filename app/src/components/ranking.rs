//! The ranking table of units: ranked by on-time rate, with the change since the previous period
//! and a twelve-month sparkline; sortable by every column; exportable as CSV.
use crate::browser;
use crate::format;
use crate::i18n::{text, tr, Key, Lang};
use crate::model::IndicatorRow;
use leptos::prelude::*;
use std::cmp::Ordering;

/// The action threshold provinces use for the on-time rate.
pub use crate::indicators::ACTION_THRESHOLD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Rank,
    Name,
    Received,
    Resolved,
    OnTimeRate,
    Change,
    Trend,
    PendingOverdue,
    OnlineRate,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Rank,
        Column::Name,
        Column::Received,
        Column::Resolved,
        Column::OnTimeRate,
        Column::Change,
        Column::Trend,
        Column::PendingOverdue,
        Column::OnlineRate,
    ];

    fn label(self) -> Key {
        match self {
            Column::Rank => Key::Rank,
            Column::Name => Key::Unit,
            Column::Received => Key::Received,
            Column::Resolved => Key::Resolved,
            Column::OnTimeRate => Key::OnTimeRate,
            Column::Change => Key::Change,
            Column::Trend => Key::Last12Months,
            Column::PendingOverdue => Key::PendingOverdue,
            Column::OnlineRate => Key::OnlineRate,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Column::Rank => "rank",
            Column::Name => "name",
            Column::Received => "received",
            Column::Resolved => "resolved",
            Column::OnTimeRate => "on_time_rate",
            Column::Change => "change",
            Column::Trend => "trend",
            Column::PendingOverdue => "pending_overdue",
            Column::OnlineRate => "online_rate",
        }
    }
}

/// One line of the ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct RankedRow {
    pub rank: u32,
    pub row: IndicatorRow,
    /// On-time rate now minus in the previous period (a fraction; `None` without both).
    pub change: Option<f64>,
    /// On-time rate per month, oldest first.
    pub sparkline: Vec<Option<f64>>,
}

impl RankedRow {
    /// Everything the row shows, as a key: equal keys draw the same row. Rates enter by their
    /// bits, so no float formatting is compiled into the WASM for it.
    pub fn content_key(&self) -> String {
        let r = &self.row;
        let bits = |v: Option<f64>| v.map_or(u64::MAX, f64::to_bits);
        let mut key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{} {} {} {} {} {} {}",
            r.code,
            r.name,
            self.rank,
            r.received,
            r.resolved,
            r.pending_overdue,
            bits(r.on_time_rate),
            bits(r.online_rate),
            bits(self.change),
            self.sparkline.len(),
        );
        for rate in &self.sparkline {
            key.push_str(&format!(" {}", bits(*rate)));
        }
        key
    }

    /// The sparkline's mean, what the trend column sorts by.
    fn trend_mean(&self) -> Option<f64> {
        let rates: Vec<f64> = self.sparkline.iter().flatten().copied().collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

/// Rank 1 is the highest on-time rate; units without a rate come last, in name order.
pub fn rank_by_on_time_rate(rows: &[IndicatorRow]) -> Vec<(u32, IndicatorRow)> {
    let mut sorted: Vec<IndicatorRow> = rows.to_vec();
    crate::order::sort_by(&mut sorted, |a, b| {
        compare_rates_desc(a.on_time_rate, b.on_time_rate).then_with(|| a.name.cmp(&b.name))
    });
    sorted
        .into_iter()
        .zip(1u32..)
        .map(|(r, i)| (i, r))
        .collect()
}

/// The ranking with each unit's change against `previous` and its sparkline.
pub fn ranked_rows(
    rows: &[IndicatorRow],
    previous: &[IndicatorRow],
    sparklines: &[crate::views::Sparkline],
) -> Vec<RankedRow> {
    rank_by_on_time_rate(rows)
        .into_iter()
        .map(|(rank, row)| {
            let before = previous
                .iter()
                .find(|p| p.code == row.code)
                .and_then(|p| p.on_time_rate);
            let change = row.on_time_rate.zip(before).map(|(now, then)| now - then);
            let sparkline = sparklines
                .iter()
                .find(|s| s.code == row.code)
                .map(crate::views::Sparkline::rates)
                .unwrap_or_default();
            RankedRow {
                rank,
                row,
                change,
                sparkline,
            }
        })
        .collect()
}

fn compare_rates_desc(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(column: Column, a: &RankedRow, b: &RankedRow) -> Ordering {
    let value = |x: Option<f64>, y: Option<f64>| compare_rates_desc(x, y).reverse();
    match column {
        Column::Rank => a.rank.cmp(&b.rank),
        Column::Name => a.row.name.cmp(&b.row.name),
        Column::Received => a.row.received.cmp(&b.row.received),
        Column::Resolved => a.row.resolved.cmp(&b.row.resolved),
        Column::OnTimeRate => value(a.row.on_time_rate, b.row.on_time_rate),
        Column::Change => value(a.change, b.change),
        Column::Trend => value(a.trend_mean(), b.trend_mean()),
        Column::PendingOverdue => a.row.pending_overdue.cmp(&b.row.pending_overdue),
        Column::OnlineRate => value(a.row.online_rate, b.row.online_rate),
    }
}

/// Orders ranked rows by a column, ascending or descending.
pub fn sort_rows(rows: &mut Vec<RankedRow>, column: Column, descending: bool) {
    crate::order::sort_by(rows, |a, b| {
        let o = compare(column, a, b);
        if descending {
            o.reverse()
        } else {
            o
        }
    });
}

/// The ranking as CSV (UTF-8 with BOM): plain numbers with a dot, so spreadsheets compute
/// with them; rates in percent.
pub fn ranking_csv(lang: Lang, rows: &[RankedRow]) -> String {
    let header = [
        Key::Rank,
        Key::Unit,
        Key::Received,
        Key::Resolved,
        Key::ResolvedEarly,
        Key::ResolvedOnTime,
        Key::ResolvedLate,
        Key::OnTimeRate,
        Key::Change,
        Key::PendingOverdue,
        Key::OnlineRate,
    ];
    let mut table = vec![std::iter::once("code".to_string())
        .chain(header.iter().map(|k| tr(lang, *k).to_string()))
        .collect::<Vec<_>>()];
    for r in rows {
        let pct = |v: Option<f64>| format::csv_decimal(v.map(|v| v * 100.0), 2);
        table.push(vec![
            r.row.code.clone(),
            r.rank.to_string(),
            r.row.name.clone(),
            r.row.received.to_string(),
            r.row.resolved.to_string(),
            r.row.resolved_early.to_string(),
            r.row.resolved_on_time.to_string(),
            r.row.resolved_late.to_string(),
            pct(r.row.on_time_rate),
            pct(r.change),
            r.row.pending_overdue.to_string(),
            pct(r.row.online_rate),
        ]);
    }
    format::csv(&table)
}

/// A sparkline as SVG path data in a 100 × 24 box (rates 50%–100% bottom to top); months
/// without a rate break the line.
pub fn sparkline_path(rates: &[Option<f64>]) -> String {
    let n = rates.len().max(2) as f64 - 1.0;
    let mut d = String::new();
    let mut pen_down = false;
    for (i, r) in rates.iter().enumerate() {
        match r {
            Some(v) => {
                let x = i as f64 / n * 100.0;
                let y = 22.0 - ((v - 0.5).clamp(0.0, 0.5) / 0.5) * 20.0;
                d.push_str(&format!(
                    "{}{x:.1} {y:.1}",
                    if pen_down { " L" } else { " M" }
                ));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d.trim_start().to_string()
}

#[component]
pub fn RankingTable(
    /// Replaced as live figures arrive; the sort order stays.
    #[prop(into)]
    rows: Signal<Vec<RankedRow>>,
    lang: Signal<Lang>,
    /// The unit the charts focus on; its row is marked.
    focus: Signal<Option<String>>,
    /// Focus the charts on a unit (again: clear).
    on_focus: Callback<String>,
    /// The CSV file's name.
    csv_name: String,
) -> impl IntoView {
    let sort = RwSignal::new((Column::Rank, false));
    let empty = move || rows.with(|r| r.is_empty());
    let ordered = move || {
        let (column, descending) = sort.get();
        let mut rows = rows.get();
        sort_rows(&mut rows, column, descending);
        rows
    };
    // Rows are keyed by their whole content: a row whose figures changed is drawn anew (and
    // marked, for a short highlight); the others stay, and sorting only moves them.
    let first_draw = StoredValue::new(true);
    let keyed = move || {
        let fresh = !first_draw.get_value();
        first_draw.set_value(false);
        ordered()
            .into_iter()
            .map(|r| (r.content_key(), r, fresh))
            .collect::<Vec<_>>()
    };
    let header = move |column: Column| {
        let aria_sort = move || match sort.get() {
            (c, false) if c == column => "ascending",
            (c, true) if c == column => "descending",
            _ => "none",
        };
        let on_click = move |_| {
            sort.update(|(c, desc)| {
                if *c == column {
                    *desc = !*desc;
                } else {
                    // Figures read best largest-first; rank and names A→Z.
                    *desc = !matches!(column, Column::Rank | Column::Name);
                    *c = column;
                }
            })
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <button type="button" class="sort" data-column=column.id() on:click=on_click>
                    {move || tr(lang.get(), column.label())}
                </button>
            </th>
        }
    };
    let export = move |_| {
        let csv = ranking_csv(lang.get_untracked(), &ordered());
        browser::download_text(&csv_name, "text/csv;charset=utf-8", &csv);
    };
    view! {
        <div class="table-actions">
            <button type="button" class="export-csv" on:click=export>{text(lang, Key::ExportCsv)}</button>
        </div>
        <div class="table-scroll">
            <table class="ranking-table">
                <thead>
                    <tr>{Column::ALL.into_iter().map(header).collect_view()}</tr>
                </thead>
                <tbody>
                    {move || {
                        empty()
                            .then(|| {
                                view! {
                                    <tr>
                                        <td colspan=Column::ALL.len().to_string()>{text(lang, Key::NoUnits)}</td>
                                    </tr>
                                }
                            })
                    }}
                    <For each=keyed key=|(key, _, _)| key.clone() let((_, ranked, fresh))>
                        <RankingRow ranked fresh lang focus on_focus/>
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RankingRow(
    ranked: RankedRow,
    /// Drawn because live figures changed it (not on the first draw).
    fresh: bool,
    lang: Signal<Lang>,
    focus: Signal<Option<String>>,
    on_focus: Callback<String>,
) -> impl IntoView {
    let RankedRow {
        rank,
        row,
        change,
        sparkline,
    } = ranked;
    let below = row.on_time_rate.is_some_and(|r| r < ACTION_THRESHOLD);
    let code = row.code.clone();
    let is_focused = {
        let code = code.clone();
        move || focus.with(|f| f.as_deref() == Some(code.as_str()))
    };
    let is_focused_class = is_focused.clone();
    let path = sparkline_path(&sparkline);
    let target = {
        let d = ACTION_THRESHOLD;
        22.0 - ((d - 0.5) / 0.5) * 20.0
    };
    view! {
        <tr class:below-threshold=below class:focused=is_focused_class class:updated=fresh data-unit=row.code.clone()>
            <td class="num">{rank}</td>
            <th scope="row">
                <button
                    type="button"
                    class="focus-unit"
                    aria-pressed=move || is_focused().to_string()
                    on:click=move |_| on_focus.run(code.clone())
                >
                    {row.name.clone()}
                </button>
                {below
                    .then(|| {
                        view! {
                            <span class="flag" title=text(lang, Key::BelowThreshold)>
                                " ▼"
                            </span>
                        }
                    })}
                {(row.apportioned > 0)
                    .then(|| {
                        view! {
                            <span class="apportioned" title=text(lang, Key::Apportioned)>
                                " ≈"
                            </span>
                        }
                    })}
            </th>
            <td class="num">{move || format::count(lang.get(), row.received)}</td>
            <td class="num">{move || format::count(lang.get(), row.resolved)}</td>
            <td class="num">{move || format::rate(lang.get(), row.on_time_rate)}</td>
            <td class="num change" class:down=change.is_some_and(|c| c < 0.0) class:up=change.is_some_and(|c| c > 0.0)>
                {move || format::rate_change(lang.get(), change)}
            </td>
            <td class="spark">
                <svg viewBox="0 0 100 24" width="100" height="24" role="img" aria-label=move || tr(lang.get(), Key::Last12Months)>
                    <line x1="0" x2="100" y1=format!("{target:.1}") y2=format!("{target:.1}") class="spark-target"></line>
                    <path d=path class="spark-line"></path>
                </svg>
            </td>
            <td class="num">{move || format::count(lang.get(), row.pending_overdue)}</td>
            <td class="num">{move || format::rate(lang.get(), row.online_rate)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;
    use crate::views::Sparkline;

    fn row(code: &str, early: u64, late: u64, received: u64) -> IndicatorRow {
        let c = Counts {
            received,
            resolved: early + late,
            resolved_early: early,
            resolved_late: late,
            ..Counts::default()
        };
        IndicatorRow::from_counts(code, code, &c)
    }

    #[test]
    fn rank_puts_the_highest_rate_first_and_units_without_a_rate_last() {
        let rows = vec![row("a", 80, 20, 5), row("b", 0, 0, 9), row("c", 95, 5, 1)];
        let ranked = rank_by_on_time_rate(&rows);
        let order: Vec<_> = ranked.iter().map(|(i, r)| (*i, r.code.as_str())).collect();
        assert_eq!(order, vec![(1, "c"), (2, "a"), (3, "b")]);
    }

    #[test]
    fn sorting_by_a_column_keeps_each_units_rank() {
        let mut ranked = ranked_rows(&[row("a", 80, 20, 5), row("c", 95, 5, 1)], &[], &[]);
        sort_rows(&mut ranked, Column::Received, true);
        assert_eq!(ranked[0].row.code, "a");
        assert_eq!(ranked[0].rank, 2);
        sort_rows(&mut ranked, Column::Received, false);
        assert_eq!(ranked[0].row.code, "c");
    }

    #[test]
    fn change_is_against_the_same_unit_in_the_previous_period_and_sorts() {
        let now = [row("a", 90, 10, 5), row("c", 95, 5, 1)];
        let before = [row("a", 80, 20, 5), row("c", 99, 1, 1)];
        let mut ranked = ranked_rows(&now, &before, &[]);
        let change = |r: &RankedRow| (r.row.code.clone(), (r.change.unwrap() * 1e4).round());
        assert_eq!(change(&ranked[0]), ("c".into(), -400.0));
        assert_eq!(change(&ranked[1]), ("a".into(), 1000.0));
        sort_rows(&mut ranked, Column::Change, true);
        assert_eq!(ranked[0].row.code, "a");
        // A unit without figures before has no change, and sorts last.
        let ranked = ranked_rows(&now, &before[..1], &[]);
        assert_eq!(ranked[0].change, None);
    }

    #[test]
    fn sparklines_break_at_months_without_a_rate_and_sort_by_their_mean() {
        assert_eq!(
            sparkline_path(&[Some(1.0), Some(0.5), None, Some(0.75)]),
            "M0.0 2.0 L33.3 22.0 M100.0 12.0"
        );
        let sparklines = vec![
            Sparkline {
                code: "a".into(),
                months: vec![(9, 10), (4, 4)],
            },
            Sparkline {
                code: "c".into(),
                months: vec![(1, 2), (0, 0)],
            },
        ];
        let mut ranked = ranked_rows(&[row("a", 1, 0, 1), row("c", 1, 0, 1)], &[], &sparklines);
        sort_rows(&mut ranked, Column::Trend, false);
        assert_eq!(ranked[0].row.code, "c");
    }

    #[test]
    fn a_rows_key_changes_with_every_figure_it_shows() {
        let base = ranked_rows(&[row("a", 90, 10, 5)], &[], &[]).remove(0);
        let same = ranked_rows(&[row("a", 90, 10, 5)], &[], &[]).remove(0);
        assert_eq!(base.content_key(), same.content_key());
        let mut changed = vec![
            ranked_rows(&[row("a", 91, 9, 5)], &[], &[]).remove(0),
            ranked_rows(&[row("a", 90, 10, 6)], &[], &[]).remove(0),
        ];
        let mut renamed = base.clone();
        renamed.row.name = "b".into();
        let mut reranked = base.clone();
        reranked.rank = 2;
        let mut overdue = base.clone();
        overdue.row.pending_overdue = 1;
        let mut online = base.clone();
        online.row.online_rate = Some(0.5);
        let mut moved = base.clone();
        moved.change = Some(0.01);
        let mut spark = base.clone();
        spark.sparkline = vec![Some(0.9)];
        let mut spark_gap = base.clone();
        spark_gap.sparkline = vec![None];
        changed.extend([renamed, reranked, overdue, online, moved, spark, spark_gap]);
        for (i, c) in changed.iter().enumerate() {
            assert_ne!(c.content_key(), base.content_key(), "change {i}");
        }
    }

    #[test]
    fn the_csv_holds_the_rows_figures_as_plain_numbers() {
        let ranked = ranked_rows(&[row("a", 903, 97, 1200)], &[], &[]);
        let csv = ranking_csv(Lang::Vi, &ranked);
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(
            lines.next().unwrap(),
            "code,Hạng,Đơn vị,Tiếp nhận,Đã giải quyết,Trước hạn,Đúng hạn,Trễ hạn,Tỷ lệ đúng hạn,Thay đổi,Đang giải quyết quá hạn,Tỷ lệ nộp trực tuyến"
        );
        assert_eq!(
            lines.next().unwrap(),
            "a,1,a,1200,1000,903,0,97,90.30,,0,0.00"
        );
    }
}
