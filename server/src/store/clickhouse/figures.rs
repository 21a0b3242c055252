//! The indicator figures in ClickHouse's SQL: the same range and prefix sums as the embedded
//! store's (`store::duckdb::query`), over the cluster's rollups and dossiers.
use super::client::number;
use super::store::{date, quote, ClusterStore};
use crate::store::counters::RANGE_COUNTERS;
use crate::store::figures::{
    needs_daily, period_params, Figures, MonthlyResolved, ProcedureFigures, RollupFilter,
};
use crate::store::StoreFailure;
use app::model::Counts;
use app::selection::DAYS_CAP;
use chrono::NaiveDate;
use std::collections::HashMap;

pub struct ClusterFigures<'s>(pub &'s ClusterStore);

/// ` AND …` for the filters and scope, on rollup rows (`level_column`: the dossier level's).
fn conditions(f: &RollupFilter, level_column: &str) -> String {
    let mut sql = String::new();
    if let Some(field) = &f.field {
        sql.push_str(&format!(" AND field = {}", quote(field)));
    }
    if let Some(channel) = f.channel {
        sql.push_str(&format!(" AND channel = {}", quote(channel.as_str())));
    }
    if let Some(level) = f.dossier_level {
        sql.push_str(&format!(" AND {level_column} = {}", quote(level.as_str())));
    }
    if let Some((column, keys)) = &f.scope {
        let list: Vec<String> = keys.iter().map(|k| quote(k)).collect();
        sql.push_str(&format!(" AND {column} IN ({})", list.join(", ")));
    }
    sql
}

/// One grouped row of both parts: the sums of the range counters under their own names
/// ([`RANGE_COUNTERS`]), then the pending prefix sums. Each field is the alias of its column in
/// the query, which is how the rows' JSON names it.
#[derive(serde::Deserialize)]
struct SumsRow {
    #[serde(default)]
    k: Option<String>,
    #[serde(deserialize_with = "number")]
    received: i64,
    #[serde(deserialize_with = "number")]
    received_online: i64,
    #[serde(deserialize_with = "number")]
    received_with_fee: i64,
    #[serde(deserialize_with = "number")]
    paid_online: i64,
    #[serde(deserialize_with = "number")]
    resolved: i64,
    #[serde(deserialize_with = "number")]
    resolved_early: i64,
    #[serde(deserialize_with = "number")]
    resolved_on_time: i64,
    #[serde(deserialize_with = "number")]
    resolved_late: i64,
    #[serde(deserialize_with = "number")]
    resolved_days: i64,
    #[serde(deserialize_with = "number")]
    pending: i64,
    #[serde(deserialize_with = "number")]
    pending_overdue: i64,
}

impl SumsRow {
    fn counts(&self) -> Counts {
        let n = |v: i64| v.max(0) as u64;
        Counts {
            received: n(self.received),
            received_online: n(self.received_online),
            received_with_fee: n(self.received_with_fee),
            paid_online: n(self.paid_online),
            resolved: n(self.resolved),
            resolved_early: n(self.resolved_early),
            resolved_on_time: n(self.resolved_on_time),
            resolved_late: n(self.resolved_late),
            resolved_days_total: self.resolved_days,
            pending: n(self.pending),
            pending_overdue: n(self.pending_overdue),
        }
    }
}

impl Figures for ClusterFigures<'_> {
    fn counts_by(
        &self,
        key: Option<&'static str>,
        f: &RollupFilter,
    ) -> Result<HashMap<Option<String>, Counts>, StoreFailure> {
        let db = &self.0.address.database;
        let p = period_params(f.period)?;
        let daily = needs_daily(&p);
        let [from, to, first_whole, last_whole, after_whole] = p.map(date);
        let mut clause = conditions(f, "dossier_level");
        if let (Some(key), true) = (key, f.key_required) {
            clause.push_str(&format!(" AND isNotNull({key})"));
        }
        // Without a key, one total: no key column at all (a constant one cannot pass through
        // the Distributed tables' merge).
        let (key_column, group) = match key {
            Some(key) => (format!("toNullable({key}) AS k, "), " GROUP BY k"),
            None => (String::new(), ""),
        };
        let outer_key = if key.is_some() { "k, " } else { "" };
        let rows = |columns: &str, monthly: &str, day: Option<&str>| {
            let mut sql = format!(
                "SELECT {key_column}{columns} FROM {db}.monthly_rollup WHERE {monthly}{clause}"
            );
            if let Some(day) = day {
                sql.push_str(&format!(
                    " UNION ALL SELECT {key_column}{columns} FROM {db}.daily_rollup WHERE {day}{clause}"
                ));
            }
            sql
        };
        let range = rows(
            &RANGE_COUNTERS.join(", "),
            &format!("month >= {first_whole} AND month <= {last_whole} AND month <= {to}"),
            daily.then(|| {
                format!(
                    "day >= {from} AND day <= {to} AND (day < {first_whole} OR day >= {after_whole})"
                )
            })
            .as_deref(),
        );
        let prefix = rows(
            "received - closed AS open, due - due_or_closed AS open_overdue",
            &format!("month <= {last_whole} AND month <= {to}"),
            daily
                .then(|| format!("day >= {after_whole} AND day <= {to}"))
                .as_deref(),
        );
        // Each sum under its counter's name (the name `SumsRow` reads it by). ClickHouse puts an
        // alias in place of its name anywhere in the same SELECT, so no other expression there
        // may name a counter: `sum(x) AS x` beside another use of `x` would nest the sums.
        let range_sums = RANGE_COUNTERS
            .iter()
            .map(|c| format!("sum({c}) AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let zeros = RANGE_COUNTERS
            .iter()
            .map(|c| format!("toInt64(0) AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {outer_key}{range_sums}, toInt64(0) AS pending, toInt64(0) AS pending_overdue FROM ({range}){group}
             UNION ALL
             SELECT {outer_key}{zeros}, sum(open) AS pending, sum(open_overdue) AS pending_overdue FROM ({prefix}){group}"
        );
        let mut out: HashMap<Option<String>, Counts> = HashMap::new();
        for row in self.0.rows::<SumsRow>(&sql)? {
            out.entry(row.k.clone()).or_default().add(&row.counts());
        }
        Ok(out)
    }

    fn monthly_resolved(
        &self,
        key: &'static str,
        first: NaiveDate,
        last: NaiveDate,
        f: &RollupFilter,
    ) -> Result<Vec<MonthlyResolved>, StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Row {
            k: String,
            month: NaiveDate,
            #[serde(deserialize_with = "number")]
            resolved: i64,
            #[serde(deserialize_with = "number")]
            early: i64,
            #[serde(deserialize_with = "number")]
            on_time: i64,
            #[serde(deserialize_with = "number")]
            late: i64,
        }
        let db = &self.0.address.database;
        let mut clause = conditions(f, "dossier_level");
        if f.key_required {
            clause.push_str(&format!(" AND isNotNull({key})"));
        }
        let sql = format!(
            "SELECT assumeNotNull({key}) AS k, month, sum(resolved) AS resolved,
                    sum(resolved_early) AS early, sum(resolved_on_time) AS on_time,
                    sum(resolved_late) AS late
             FROM {db}.monthly_rollup
             WHERE month >= {} AND month <= {}{clause}
             GROUP BY k, month",
            date(first),
            date(last)
        );
        let n = |v: i64| v.max(0) as u64;
        Ok(self
            .0
            .rows::<Row>(&sql)?
            .into_iter()
            .map(|r| {
                (
                    r.k,
                    r.month,
                    [n(r.resolved), n(r.early), n(r.on_time), n(r.late)],
                )
            })
            .collect())
    }

    fn resolved_days(&self, f: &RollupFilter) -> Result<Vec<(i32, u64)>, StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(deserialize_with = "number")]
            d: i32,
            #[serde(deserialize_with = "number")]
            n: u64,
        }
        let db = &self.0.address.database;
        let (from, to) = (date(f.period.from), date(f.period.to));
        let sql = format!(
            "SELECT least(toInt32(assumeNotNull(resolved_date)) - toInt32(received_date), toInt32({DAYS_CAP})) AS d,
                    count() AS n
             FROM {db}.dossiers FINAL
             WHERE isNotNull(resolved_date) AND resolved_date >= {from} AND resolved_date <= {to}{}
             GROUP BY d",
            conditions(f, "level")
        );
        Ok(self
            .0
            .rows::<Row>(&sql)?
            .into_iter()
            .map(|r| (r.d, r.n))
            .collect())
    }

    fn procedure_figures(&self, f: &RollupFilter) -> Result<ProcedureFigures, StoreFailure> {
        #[derive(serde::Deserialize)]
        struct Row {
            procedure: String,
            #[serde(deserialize_with = "number")]
            received: u64,
            #[serde(deserialize_with = "number")]
            online: u64,
            #[serde(deserialize_with = "number")]
            resolved: u64,
            #[serde(deserialize_with = "number")]
            in_time: u64,
            any_field: String,
        }
        let db = &self.0.address.database;
        let (from, to) = (date(f.period.from), date(f.period.to));
        let received = format!("(received_date >= {from} AND received_date <= {to})");
        let resolved = format!("ifNull(resolved_date >= {from} AND resolved_date <= {to}, 0)");
        let sql = format!(
            "SELECT procedure, countIf({received}) AS received,
                    countIf({received} AND channel = 'online') AS online,
                    countIf({resolved}) AS resolved,
                    countIf({resolved} AND ifNull(resolved_date <= due_date, 0)) AS in_time,
                    any(field) AS any_field
             FROM {db}.dossiers FINAL
             WHERE ({received} OR {resolved}){}
             GROUP BY procedure",
            conditions(f, "level")
        );
        Ok(self
            .0
            .rows::<Row>(&sql)?
            .into_iter()
            .map(|r| {
                (
                    r.procedure,
                    (
                        [r.received, r.online, r.resolved, r.in_time],
                        Some(r.any_field),
                    ),
                )
            })
            .collect())
    }
}
