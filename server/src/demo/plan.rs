//! Turns a scenario window into dossiers: exact counts per district, quarter and level; a
//! carry-over chain between quarters; exactly the planned number of late dossiers.
use super::apportion::{apportion, choose_weighted, resolved_for_rate};
use super::rng::Rng;
use super::scenario::{LevelCounts, Scenario, ScenarioError, Target, WindowSetting};
use app::model::{Channel, Level};
use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// A unit of the province as the generator sees it.
#[derive(Clone, Debug)]
pub struct District {
    pub code: String,
    pub weight: f64,
    pub communes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Procedure {
    pub code: String,
    pub field: usize,
    pub allowed_days: i64,
}

/// Reference data the generator draws from.
pub struct Context<'a> {
    pub scenario: &'a Scenario,
    pub procedures: Vec<Procedure>,
    /// Procedures allow working days: due dates skip weekends and holidays, as real ones do.
    pub calendar: &'a crate::calendar::WorkingCalendar,
}

/// One generated dossier, before it becomes events.
#[derive(Clone, Debug)]
pub struct PlannedDossier {
    pub unit: String,
    pub level: Level,
    pub agency: Option<String>,
    pub procedure: usize,
    pub channel: Channel,
    pub fee: bool,
    pub paid_online: bool,
    pub received: NaiveDate,
    pub due: NaiveDate,
    pub resolved: Option<NaiveDate>,
    pub withdrawn: Option<NaiveDate>,
}

#[derive(Clone, Copy, Debug)]
struct Block {
    from: NaiveDate,
    to: NaiveDate,
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).expect("valid date")
}

fn blocks(from: NaiveDate, to: NaiveDate) -> Vec<Block> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let q = quarter_start(start);
        let next = if q.month() == 10 {
            NaiveDate::from_ymd_opt(q.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(q.year(), q.month() + 3, 1)
        }
        .expect("valid date");
        let end = (next - Duration::days(1)).min(to);
        out.push(Block {
            from: start,
            to: end,
        });
        start = next;
    }
    out
}

fn days(b: &Block) -> impl Iterator<Item = NaiveDate> {
    let from = b.from;
    (0..=(b.to - b.from).num_days()).map(move |i| from + Duration::days(i))
}

/// How busy the offices are on a day: weekdays full, Saturday mornings, Tết nearly closed.
fn day_weight(scenario: &Scenario, d: NaiveDate) -> f64 {
    for (from, to) in &scenario.tet {
        if d >= *from && d <= *to {
            return 0.05;
        }
        if d >= *from - Duration::days(5) && d <= *to + Duration::days(5) {
            return 0.6;
        }
    }
    match d.weekday() {
        Weekday::Sat => 0.2,
        Weekday::Sun => 0.02,
        _ => 1.0,
    }
}

fn block_weight(scenario: &Scenario, b: &Block) -> f64 {
    days(b).map(|d| day_weight(scenario, d)).sum()
}

/// A day in the block drawn by office activity.
struct DayPicker {
    days: Vec<NaiveDate>,
    cumulative: Vec<f64>,
}

impl DayPicker {
    fn new(scenario: &Scenario, b: &Block) -> Self {
        let days: Vec<NaiveDate> = days(b).collect();
        let mut acc = 0.0;
        let cumulative = days
            .iter()
            .map(|d| {
                acc += day_weight(scenario, *d);
                acc
            })
            .collect();
        DayPicker { days, cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> NaiveDate {
        self.days[rng.pick_cumulative(&self.cumulative)]
    }
}

fn level_index(level: Level) -> usize {
    match level {
        Level::Province => 0,
        Level::District => 1,
        Level::Commune => 2,
    }
}

fn by_level(c: &LevelCounts, level: Level) -> Option<u64> {
    match level {
        Level::Province => c.province,
        Level::District => c.district,
        Level::Commune => c.commune,
    }
}

fn invalid(message: String) -> ScenarioError {
    ScenarioError::Invalid(message)
}

/// The blocks a target covers; its dates must be block boundaries.
fn target_blocks(t: &Target, blocks: &[Block]) -> Result<Vec<usize>, ScenarioError> {
    let inside: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].from >= t.from && blocks[i].to <= t.to)
        .collect();
    let covered = inside.first().map(|&i| blocks[i].from) == Some(t.from)
        && inside.last().map(|&i| blocks[i].to) == Some(t.to);
    if !covered {
        return Err(invalid(format!(
            "target '{}' ({}..{}) does not start and end on quarter boundaries of its window",
            t.source, t.from, t.to
        )));
    }
    Ok(inside)
}

/// Counts of one (group, block, level) cell.
#[derive(Clone, Copy, Default, Debug)]
struct Cell {
    received: u64,
    online: u64,
    with_fee: u64,
    paid_online: u64,
}

/// A group is a district with its communes, or the province's own agencies (the last group).
struct GroupPlan {
    /// cells[block][level]
    cells: Vec<[Cell; 3]>,
    on_time_rate: f64,
    /// Exact (resolved, on time) for blocks with a published figure.
    fixed_resolution: Vec<Option<(u64, u64)>>,
}

/// Plans and generates the dossiers of one window of one province.
#[allow(clippy::too_many_arguments)]
pub fn generate_window(
    ctx: &Context,
    province: &str,
    districts: &[District],
    agencies: &[String],
    window: &WindowSetting,
    range: (NaiveDate, NaiveDate),
    today: NaiveDate,
    rng: &mut Rng,
) -> Result<Vec<PlannedDossier>, ScenarioError> {
    let scenario = ctx.scenario;
    let blocks = blocks(range.0, range.1);
    let weights: Vec<f64> = blocks.iter().map(|b| block_weight(scenario, b)).collect();
    let targets: Vec<&Target> = scenario
        .target
        .iter()
        .filter(|t| t.from >= range.0 && t.to <= range.1)
        .filter(|t| t.unit == province || districts.iter().any(|d| d.code == t.unit))
        .collect();
    let district_index = |code: &str| districts.iter().position(|d| d.code == code);

    // Level totals over the window.
    let days_in_window = (range.1 - range.0).num_days() as f64 + 1.0;
    let volume = (window.quarter_volume as f64 * days_in_window / 91.3125).round() as u64;
    let level_target = targets
        .iter()
        .find(|t| t.unit == province && t.from == range.0 && t.to == range.1)
        .and_then(|t| t.received_by_level.as_ref());
    let (province_total, district_total, commune_total) = match level_target {
        Some(l) => (
            l.province
                .ok_or_else(|| invalid("received_by_level needs province".into()))?,
            l.district
                .ok_or_else(|| invalid("received_by_level needs district".into()))?,
            l.commune
                .ok_or_else(|| invalid("received_by_level needs commune".into()))?,
        ),
        None => {
            let p = (volume as f64 * window.province_share).round() as u64;
            let c = ((volume - p) as f64 * window.commune_share).round() as u64;
            (p, volume - p - c, c)
        }
    };

    // District-group totals per block: published cells fixed, the rest by size and activity.
    let nb = blocks.len();
    let mut fixed: Vec<Vec<Option<u64>>> = vec![vec![None; nb]; districts.len()];
    for t in &targets {
        let (Some(received), Some(d)) = (t.received, district_index(&t.unit)) else {
            continue;
        };
        let covered = target_blocks(t, &blocks)?;
        let parts = apportion(
            received,
            &covered.iter().map(|&b| weights[b]).collect::<Vec<_>>(),
        );
        for (&b, n) in covered.iter().zip(parts) {
            fixed[d][b] = Some(n);
        }
    }
    let fixed_sum: u64 = fixed.iter().flatten().flatten().sum();
    let group_total = district_total + commune_total;
    let free = group_total.checked_sub(fixed_sum).ok_or_else(|| {
        invalid(format!(
            "province {province}: published district figures exceed the level totals"
        ))
    })?;
    let mut free_cells = Vec::new();
    let mut free_weights = Vec::new();
    for (d, district) in districts.iter().enumerate() {
        for b in 0..nb {
            if fixed[d][b].is_none() {
                free_cells.push((d, b));
                free_weights.push(district.weight * weights[b]);
            }
        }
    }
    let mut totals = vec![vec![0u64; nb]; districts.len()];
    for ((d, b), n) in free_cells.iter().zip(apportion(free, &free_weights)) {
        totals[*d][*b] = n;
    }
    for d in 0..districts.len() {
        for b in 0..nb {
            if let Some(n) = fixed[d][b] {
                totals[d][b] = n;
            }
        }
    }
    // Commune-level share of each cell, exact in total.
    let flat: Vec<(usize, usize)> = (0..districts.len())
        .flat_map(|d| (0..nb).map(move |b| (d, b)))
        .collect();
    let commune_parts = apportion(
        commune_total,
        &flat
            .iter()
            .map(|&(d, b)| totals[d][b] as f64 * window.commune_share)
            .collect::<Vec<_>>(),
    );
    let province_parts = apportion(province_total, &weights);

    let mut groups: Vec<GroupPlan> = Vec::new();
    for d in 0..=districts.len() {
        let online_rate = (window.online_rate * rng.between(0.8, 1.2)).clamp(0.0, 1.0);
        let paid_rate = (window.paid_online_rate * rng.between(0.8, 1.2)).clamp(0.0, 1.0);
        let mut cells = vec![[Cell::default(); 3]; nb];
        for (b, cell) in cells.iter_mut().enumerate() {
            let counts: [u64; 3] = match totals.get(d) {
                None => [province_parts[b], 0, 0],
                Some(district_totals) => {
                    let commune = commune_parts[d * nb + b].min(district_totals[b]);
                    [0, district_totals[b] - commune, commune]
                }
            };
            for level in 0..3 {
                let n = counts[level];
                let fee = (n as f64 * window.fee_rate).round() as u64;
                cell[level] = Cell {
                    received: n,
                    online: (n as f64 * online_rate).round() as u64,
                    with_fee: fee,
                    paid_online: (fee as f64 * paid_rate).round() as u64,
                };
            }
        }
        groups.push(GroupPlan {
            cells,
            on_time_rate: rng.between(window.on_time.0, window.on_time.1),
            fixed_resolution: vec![None; nb],
        });
    }
    // Published channel, fee and resolution figures override the model in their cells.
    for t in &targets {
        let Some(d) = district_index(&t.unit) else {
            continue;
        };
        let covered = target_blocks(t, &blocks)?;
        let group = &mut groups[d];
        let spread =
            |group: &mut GroupPlan, total: u64, levels: &[usize], set: &dyn Fn(&mut Cell, u64)| {
                let keys: Vec<(usize, usize)> = covered
                    .iter()
                    .flat_map(|&b| levels.iter().map(move |&l| (b, l)))
                    .collect();
                let parts = apportion(
                    total,
                    &keys
                        .iter()
                        .map(|&(b, l)| group.cells[b][l].received as f64)
                        .collect::<Vec<_>>(),
                );
                for ((b, l), n) in keys.into_iter().zip(parts) {
                    set(&mut group.cells[b][l], n);
                }
            };
        if let Some(by) = &t.online_by_level {
            for level in [Level::District, Level::Commune] {
                if let Some(n) = by_level(by, level) {
                    spread(group, n, &[level_index(level)], &|c, n| c.online = n);
                }
            }
        }
        if let Some(n) = t.online {
            spread(group, n, &[1, 2], &|c, n| c.online = n);
        }
        if let Some(n) = t.with_fee {
            spread(group, n, &[1, 2], &|c, n| c.with_fee = n);
        }
        if let Some(n) = t.paid_online {
            let keys: Vec<(usize, usize)> =
                covered.iter().flat_map(|&b| [(b, 1), (b, 2)]).collect();
            let parts = apportion(
                n,
                &keys
                    .iter()
                    .map(|&(b, l)| group.cells[b][l].with_fee as f64)
                    .collect::<Vec<_>>(),
            );
            for ((b, l), n) in keys.into_iter().zip(parts) {
                group.cells[b][l].paid_online = n;
            }
        }
        if let (Some(on_time), Some(rate)) = (t.resolved_on_time, t.on_time_rate) {
            if covered.len() != 1 {
                return Err(invalid(format!(
                    "target '{}': resolution figures must cover one quarter",
                    t.source
                )));
            }
            let resolved = resolved_for_rate(on_time, rate).ok_or_else(|| {
                invalid(format!(
                    "target '{}': no resolved count gives rate {rate}",
                    t.source
                ))
            })?;
            group.fixed_resolution[covered[0]] = Some((resolved, on_time));
        }
        for b in &covered {
            for l in 0..3 {
                let c = group.cells[*b][l];
                if c.online > c.received || c.with_fee > c.received || c.paid_online > c.with_fee {
                    return Err(invalid(format!(
                        "target '{}': counts do not fit the dossiers of {}",
                        t.source, t.unit
                    )));
                }
            }
        }
    }

    let mut out = Vec::new();
    for (g, plan) in groups.iter().enumerate() {
        let district = districts.get(g);
        let label = district.map(|d| d.code.as_str()).unwrap_or(province);
        generate_group(
            ctx, window, &blocks, plan, district, province, agencies, today, rng, &mut out,
        )
        .map_err(|m| invalid(format!("province {province}, {label}: {m}")))?;
    }
    Ok(out)
}

/// Lateness weight of a dossier: its sector's, so land dominates the late list.
fn lateness(ctx: &Context, d: &PlannedDossier) -> f64 {
    ctx.scenario.field[ctx.procedures[d.procedure].field].lateness
}

#[allow(clippy::too_many_arguments)]
fn generate_group(
    ctx: &Context,
    window: &WindowSetting,
    blocks: &[Block],
    plan: &GroupPlan,
    district: Option<&District>,
    province: &str,
    agencies: &[String],
    today: NaiveDate,
    rng: &mut Rng,
    out: &mut Vec<PlannedDossier>,
) -> Result<(), String> {
    let scenario = ctx.scenario;
    // Procedures by level, weighted by their sector's volume at that level.
    let mut by_level: [Vec<f64>; 3] = Default::default();
    for (level, cumulative) in by_level.iter_mut().enumerate() {
        let mut acc = 0.0;
        for p in &ctx.procedures {
            let f = &scenario.field[p.field];
            let per_field = ctx.procedures.iter().filter(|q| q.field == p.field).count() as f64;
            acc += [f.province, f.district, f.commune][level] / per_field;
            cumulative.push(acc);
        }
    }
    let commune_weights: Vec<f64> = district
        .map(|d| d.communes.iter().map(|_| rng.between(0.4, 1.6)).collect())
        .unwrap_or_default();
    let mut commune_cumulative = Vec::with_capacity(commune_weights.len());
    let mut acc = 0.0;
    for w in &commune_weights {
        acc += w;
        commune_cumulative.push(acc);
    }

    let received_in = |b: usize| plan.cells[b].iter().map(|c| c.received).sum::<u64>();
    let withdrawn_in = |b: usize| (received_in(b) as f64 * window.withdrawn).round() as u64;
    // Carry-outs: the model's share, or what the next quarter's published figures require.
    let mut carry_out: Vec<u64> = (0..blocks.len())
        .map(|b| (received_in(b) as f64 * window.carry_out).round() as u64)
        .collect();
    for b in (0..blocks.len()).rev() {
        if let Some((resolved, _)) = plan.fixed_resolution[b] {
            let own = received_in(b) - withdrawn_in(b) - carry_out[b];
            if b == 0 {
                if resolved > own {
                    return Err(format!(
                        "quarter {} needs {} carried-in dossiers but is the first",
                        blocks[b].from,
                        resolved - own
                    ));
                }
                carry_out[b] += own - resolved;
            } else {
                let need = resolved.checked_sub(own).ok_or_else(|| {
                    format!(
                        "quarter {}: fewer resolved ({resolved}) than the model's own ({own})",
                        blocks[b].from
                    )
                })?;
                if need > received_in(b - 1) - withdrawn_in(b - 1) {
                    return Err(format!(
                        "quarter {} needs {need} carried-in dossiers",
                        blocks[b].from
                    ));
                }
                carry_out[b - 1] = need;
            }
        }
    }

    let mut carried_in: Vec<PlannedDossier> = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        let picker = DayPicker::new(scenario, block);
        let mut own: Vec<PlannedDossier> = Vec::with_capacity(received_in(b) as usize);
        for (level, cell) in plan.cells[b].iter().enumerate() {
            let n = cell.received as usize;
            if n == 0 {
                continue;
            }
            let online = choose_weighted(n, cell.online as usize, rng, |_| 1.0);
            let fee = choose_weighted(n, cell.with_fee as usize, rng, |_| 1.0);
            let fee_idx: Vec<usize> = (0..n).filter(|&i| fee[i]).collect();
            // Paying online goes with applying online.
            let paid_of_fee = choose_weighted(fee_idx.len(), cell.paid_online as usize, rng, |j| {
                if online[fee_idx[j]] {
                    8.0
                } else {
                    1.0
                }
            });
            let mut paid = vec![false; n];
            for (j, &i) in fee_idx.iter().enumerate() {
                paid[i] = paid_of_fee[j];
            }
            let level_enum = [Level::Province, Level::District, Level::Commune][level];
            for i in 0..n {
                let procedure = rng.pick_cumulative(&by_level[level]);
                let received = picker.pick(rng);
                let (unit, agency) = match level_enum {
                    Level::Province => (
                        province.to_string(),
                        (!agencies.is_empty())
                            .then(|| agencies[rng.below(agencies.len() as u64) as usize].clone()),
                    ),
                    Level::District => (district.map(|d| d.code.clone()).unwrap_or_default(), None),
                    Level::Commune => {
                        let d = district.ok_or("commune dossiers need a district")?;
                        (
                            d.communes[rng.pick_cumulative(&commune_cumulative)].clone(),
                            None,
                        )
                    }
                };
                own.push(PlannedDossier {
                    unit,
                    level: level_enum,
                    agency,
                    procedure,
                    channel: if online[i] {
                        Channel::Online
                    } else if rng.unit() < 0.04 {
                        Channel::Postal
                    } else {
                        Channel::Direct
                    },
                    fee: fee[i],
                    paid_online: paid[i],
                    received,
                    due: ctx.calendar.add_working_days(
                        received,
                        // At least one day, as the simulator gives: a due date on the day of
                        // reception could be a weekend.
                        u32::try_from(ctx.procedures[procedure].allowed_days)
                            .unwrap_or(0)
                            .max(1),
                    ),
                    resolved: None,
                    withdrawn: None,
                });
            }
        }
        // Withdrawn: any dossier; carried out: see below.
        let withdrawn = choose_weighted(own.len(), withdrawn_in(b) as usize, rng, |_| 1.0);
        let mut open: Vec<usize> = (0..own.len()).filter(|&i| !withdrawn[i]).collect();
        for (i, d) in own.iter_mut().enumerate() {
            if withdrawn[i] {
                let span = (block.to - d.received).num_days().min(10);
                d.withdrawn = Some(d.received + Duration::days(rng.below(span as u64 + 1) as i64));
            }
        }
        // What is open at a quarter's end: dossiers not yet due, the latest receptions first.
        open.sort_by_cached_key(|&i| (own[i].due > block.to, own[i].received, rng.next_u64()));
        let carry = carry_out[b] as usize;
        let (resolved_here, next_carry) = open.split_at(open.len() - carry.min(open.len()));

        // Resolution in this quarter: carried-in and own; exactly the planned number on time.
        let mut pool: Vec<(bool, usize)> = carried_in
            .iter()
            .enumerate()
            .map(|(i, _)| (true, i))
            .collect();
        pool.extend(resolved_here.iter().map(|&i| (false, i)));
        let get = |(carried, i): (bool, usize),
                   own: &Vec<PlannedDossier>,
                   carried_in: &Vec<PlannedDossier>|
         -> PlannedDossier {
            if carried {
                carried_in[i].clone()
            } else {
                own[i].clone()
            }
        };
        let resolved_count = pool.len() as u64;
        let on_time = match plan.fixed_resolution[b] {
            Some((r, k)) => {
                if r != resolved_count {
                    return Err(format!(
                        "quarter {}: planned {r} resolutions, have {resolved_count}",
                        block.from
                    ));
                }
                k
            }
            None => {
                let rate = (plan.on_time_rate + rng.between(-0.01, 0.01))
                    .clamp(window.on_time.0, window.on_time.1);
                (resolved_count as f64 * rate).round() as u64
            }
        };
        let late_needed = resolved_count - on_time;
        let start =
            |d: &PlannedDossier, carried: bool| if carried { block.from } else { d.received };
        let can_be_on_time = |d: &PlannedDossier, carried: bool| d.due >= start(d, carried);
        let can_be_late =
            |d: &PlannedDossier, _carried: bool| d.due + Duration::days(1) <= block.to;
        let dossiers: Vec<(PlannedDossier, bool)> = pool
            .iter()
            .map(|&k| (get(k, &own, &carried_in), k.0))
            .collect();
        let forced_late: Vec<bool> = dossiers
            .iter()
            .map(|(d, c)| !can_be_on_time(d, *c))
            .collect();
        let forced = forced_late.iter().filter(|f| **f).count() as u64;
        let late_capable = dossiers.iter().filter(|(d, c)| can_be_late(d, *c)).count() as u64;
        if forced > late_needed || late_needed > late_capable {
            return Err(format!(
                "quarter {}: {late_needed} late dossiers cannot be placed ({forced} must be late, {late_capable} can be)",
                block.from
            ));
        }
        let optional: Vec<usize> = (0..dossiers.len())
            .filter(|&i| !forced_late[i] && can_be_late(&dossiers[i].0, dossiers[i].1))
            .collect();
        let chosen = choose_weighted(optional.len(), (late_needed - forced) as usize, rng, |j| {
            lateness(ctx, &dossiers[optional[j]].0)
        });
        let mut late = forced_late.clone();
        for (j, &i) in optional.iter().enumerate() {
            late[i] = chosen[j];
        }
        for ((mut d, carried), is_late) in dossiers.into_iter().zip(late) {
            let s = start(&d, carried);
            let day = if is_late {
                let first = (d.due + Duration::days(1)).max(s);
                let span = (block.to - first).num_days().clamp(0, 40);
                first + Duration::days((rng.unit().powi(2) * (span + 1) as f64) as i64)
            } else {
                let last = d.due.min(block.to);
                let span = (last - s).num_days().max(0);
                // Most dossiers close well before the due date; some on the day itself.
                if rng.unit() < 0.12 {
                    last
                } else {
                    s + Duration::days(
                        (rng.unit().powf(1.6) * (span + 1) as f64).min(span as f64) as i64
                    )
                }
            };
            d.resolved = (day < today).then_some(day);
            out.push(d);
        }
        // The latest receptions open at the quarter's end become the next quarter's carried-in.
        carried_in = next_carry.iter().map(|&i| own[i].clone()).collect();
        out.extend(
            own.into_iter()
                .enumerate()
                .filter(|(i, d)| d.withdrawn.is_some() && withdrawn[*i])
                .map(|(_, d)| d),
        );
    }
    // Carried out of the window's last quarter: resolved after it ends, if that is already past.
    let after_window = blocks
        .last()
        .map(|b| b.to + Duration::days(1))
        .unwrap_or(today);
    for mut d in carried_in {
        let late = rng.unit() > plan.on_time_rate;
        let day = if late {
            d.due + Duration::days(1 + rng.below(20) as i64)
        } else {
            d.due
                - Duration::days(rng.below(((d.due - d.received).num_days() + 1) as u64) as i64 / 2)
        }
        .max(after_window);
        d.resolved = (day < today).then_some(day);
        out.push(d);
    }
    Ok(())
}
