//! The ranking table of units: ranked by on-time rate, sortable by every column.
use crate::format;
use crate::i18n::{tr, Key, Lang};
use crate::model::IndicatorRow;
use leptos::prelude::*;
use std::cmp::Ordering;

/// The action threshold provinces use for the on-time rate.
pub const ACTION_THRESHOLD: f64 = 0.95;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Rank,
    Name,
    Received,
    Resolved,
    OnTimeRate,
    PendingOverdue,
    OnlineRate,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::Rank,
        Column::Name,
        Column::Received,
        Column::Resolved,
        Column::OnTimeRate,
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
            Column::PendingOverdue => "pending_overdue",
            Column::OnlineRate => "online_rate",
        }
    }
}

/// Rank 1 is the highest on-time rate; units without a rate come last, in name order.
pub fn rank_by_on_time_rate(rows: &[IndicatorRow]) -> Vec<(u32, IndicatorRow)> {
    let mut sorted: Vec<IndicatorRow> = rows.to_vec();
    sorted.sort_by(|a, b| {
        compare_rates_desc(a.on_time_rate, b.on_time_rate).then_with(|| a.name.cmp(&b.name))
    });
    sorted
        .into_iter()
        .zip(1u32..)
        .map(|(r, i)| (i, r))
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

fn compare(column: Column, a: &(u32, IndicatorRow), b: &(u32, IndicatorRow)) -> Ordering {
    let rate = |x: Option<f64>, y: Option<f64>| compare_rates_desc(x, y).reverse();
    match column {
        Column::Rank => a.0.cmp(&b.0),
        Column::Name => a.1.name.cmp(&b.1.name),
        Column::Received => a.1.received.cmp(&b.1.received),
        Column::Resolved => a.1.resolved.cmp(&b.1.resolved),
        Column::OnTimeRate => rate(a.1.on_time_rate, b.1.on_time_rate),
        Column::PendingOverdue => a.1.pending_overdue.cmp(&b.1.pending_overdue),
        Column::OnlineRate => rate(a.1.online_rate, b.1.online_rate),
    }
}

/// Orders ranked rows by a column, ascending or descending.
pub fn sort_rows(rows: &mut [(u32, IndicatorRow)], column: Column, descending: bool) {
    rows.sort_by(|a, b| {
        let o = compare(column, a, b);
        if descending {
            o.reverse()
        } else {
            o
        }
    });
}

#[component]
pub fn RankingTable(rows: Vec<IndicatorRow>, lang: Signal<Lang>) -> impl IntoView {
    let ranked = rank_by_on_time_rate(&rows);
    let sort = RwSignal::new((Column::Rank, false));
    let empty = ranked.is_empty();
    let ordered = move || {
        let (column, descending) = sort.get();
        let mut rows = ranked.clone();
        sort_rows(&mut rows, column, descending);
        rows
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
    view! {
        <table class="ranking-table">
            <thead>
                <tr>{Column::ALL.into_iter().map(header).collect_view()}</tr>
            </thead>
            <tbody>
                {empty
                    .then(|| {
                        view! {
                            <tr>
                                <td colspan="7">{move || tr(lang.get(), Key::NoUnits)}</td>
                            </tr>
                        }
                    })}
                <For each=ordered key=|(_, r)| r.code.clone() let((rank, row))>
                    <RankingRow rank row lang/>
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn RankingRow(rank: u32, row: IndicatorRow, lang: Signal<Lang>) -> impl IntoView {
    let below = row.on_time_rate.is_some_and(|r| r < ACTION_THRESHOLD);
    view! {
        <tr class:below-threshold=below data-unit=row.code.clone()>
            <td class="num">{rank}</td>
            <th scope="row">
                {row.name.clone()}
                {below
                    .then(|| {
                        view! {
                            <span class="flag" title=move || tr(lang.get(), Key::BelowThreshold)>
                                " ▼"
                            </span>
                        }
                    })}
            </th>
            <td class="num">{move || format::count(lang.get(), row.received)}</td>
            <td class="num">{move || format::count(lang.get(), row.resolved)}</td>
            <td class="num">{move || format::rate(lang.get(), row.on_time_rate)}</td>
            <td class="num">{move || format::count(lang.get(), row.pending_overdue)}</td>
            <td class="num">{move || format::rate(lang.get(), row.online_rate)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

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
        let mut ranked = rank_by_on_time_rate(&[row("a", 80, 20, 5), row("c", 95, 5, 1)]);
        sort_rows(&mut ranked, Column::Received, true);
        assert_eq!(ranked[0].1.code, "a");
        assert_eq!(ranked[0].0, 2);
        sort_rows(&mut ranked, Column::Received, false);
        assert_eq!(ranked[0].1.code, "c");
    }
}
