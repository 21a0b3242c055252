//! Alert rules: a leader or chair is told when a unit's figure crosses a threshold. Rules are
//! evaluated after commits (coalesced, as the live stream is) and once a day; a rule fires for a
//! unit when its condition becomes true and not again until the value has come back past the
//! threshold by the rule's re-arm margin (so a unit hovering at 95.0% does not send a stream of
//! alerts). Each alert goes to the owner's in-app list and, when asked, to a webhook.
pub mod book;
pub mod email;
pub mod rules;
pub mod tls;
pub mod webhook;

use crate::store::served::ServedStore;
use crate::store::StoreFailure;
use app::alerts::{Alert, AlertChannel, AlertIndicator, AlertRule};
use app::model::{IndicatorRow, Level, Period, StatsQuery, StatsResponse};
use book::{AlertBook, BookError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server allows alerts to do (`serve` settings).
#[derive(Clone, Debug)]
pub struct AlertSettings {
    /// Hosts (`host` or `host:port`) webhooks may be sent to. None by default: a webhook to an
    /// arbitrary address would let any leader make the server POST inside its own network.
    pub webhook_hosts: Vec<String>,
    /// Delivery attempts of one webhook, and the wait before the second (doubled each time).
    pub attempts: u32,
    pub retry_base: Duration,
    /// Evaluations after commits are at most this often.
    pub min_interval: Duration,
    /// The SMTP relay for e-mail alerts; none: e-mail channels are refused.
    pub smtp: Option<email::SmtpSettings>,
    /// Whom webhooks over `https://` and the relay's TLS are trusted by.
    pub roots: tls::TrustedRoots,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            webhook_hosts: Vec::new(),
            attempts: 5,
            retry_base: Duration::from_secs(2),
            min_interval: Duration::from_secs(1),
            smtp: None,
            roots: tls::TrustedRoots::Public,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Book(#[from] BookError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// The rules, their state and the alerts raised, shared by the HTTP handlers and the evaluator.
pub struct Alerts {
    book: Mutex<AlertBook>,
    pub settings: AlertSettings,
    deliveries: webhook::DeliveryLog,
    /// Asks the evaluator to run now (a rule was defined or changed).
    pub wake: tokio::sync::Notify,
    /// Per unit of today (store key), the units whose dossiers it covers: kept, since units do
    /// not change while the server runs.
    coverage: Mutex<HashMap<String, Arc<std::collections::HashSet<String>>>>,
    /// Per unit (store key), whether it is a province and its province (public code): what a
    /// rule's rows are read from, kept like the coverage.
    places: Mutex<HashMap<String, Option<(bool, String)>>>,
    /// The previous periods' figures (for drop and rise), read once a day: the day they were
    /// read for, and the answers. Commits are of today, which no previous period includes.
    previous: Mutex<PreviousFigures>,
    /// Evaluations the evaluator has finished (with or without error) since the server started.
    evaluations: std::sync::atomic::AtomicU64,
}

/// The previous periods' figures and the day they were read for.
type PreviousFigures = (Option<NaiveDate>, HashMap<StatsQuery, Arc<StatsResponse>>);

/// An alert to deliver beyond the in-app list.
pub struct Fired {
    pub rule: AlertRule,
    pub alert: Alert,
}

impl Alerts {
    pub fn open(data_dir: &Path, settings: AlertSettings) -> Result<Self, BookError> {
        Ok(Alerts {
            book: Mutex::new(AlertBook::open(data_dir)?),
            settings,
            deliveries: webhook::DeliveryLog::at(data_dir),
            wake: tokio::sync::Notify::new(),
            coverage: Mutex::new(HashMap::new()),
            places: Mutex::new(HashMap::new()),
            previous: Mutex::new((None, HashMap::new())),
            evaluations: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// How many evaluations the evaluator has finished since the server started (the first is
    /// the full one at start).
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` on the book under its lock (a panic elsewhere does not poison it for good).
    pub fn with_book<T>(&self, f: impl FnOnce(&mut AlertBook) -> T) -> T {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut book)
    }

    /// Evaluates every enabled rule on `today`'s figures, records the alerts that fire and
    /// returns those to deliver by webhook. Blocking: call from a blocking thread.
    pub fn evaluate(
        &self,
        store: &dyn ServedStore,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<Fired>, AlertError> {
        self.evaluate_in(store, today, now, None)
    }

    /// Open dossiers due within the due-soon window of each unit `codes` names (codes of today,
    /// each with everything under it), as the due-soon list counts them, from the rules' one
    /// grouped read and their kept coverage: the dashboard's due-soon card and map.
    pub fn due_soon_of(
        &self,
        store: &dyn ServedStore,
        today: NaiveDate,
        codes: &[String],
    ) -> Result<Vec<u64>, StoreFailure> {
        let mut figures = Figures {
            store,
            today,
            stats: HashMap::new(),
            due: HashMap::new(),
            due_counts: None,
            coverage: &self.coverage,
            places: &self.places,
            previous: &self.previous,
        };
        figures.cover(codes)?;
        codes.iter().map(|code| figures.due_soon(code)).collect()
    }

    /// The units (store keys) whose dossiers unit `key` covers, through the kept coverage.
    pub fn covered(
        &self,
        store: &dyn ServedStore,
        key: &str,
    ) -> Result<Arc<std::collections::HashSet<String>>, StoreFailure> {
        cover(&self.coverage, store, &[key.to_string()])?;
        Ok(self
            .coverage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
            .unwrap_or_default())
    }

    /// [`Self::evaluate`] for the rules of the provinces `only` names (public codes of today):
    /// after a commit, those whose figures it can have changed.
    pub fn evaluate_in(
        &self,
        store: &dyn ServedStore,
        today: NaiveDate,
        now: DateTime<Utc>,
        only: Option<&std::collections::HashSet<String>>,
    ) -> Result<Vec<Fired>, AlertError> {
        let mut rules: Vec<AlertRule> = self.with_book(|b| {
            b.file()
                .rules
                .iter()
                .filter(|r| r.rule.enabled)
                .cloned()
                .collect()
        });
        if let Some(only) = only {
            let mut kept = Vec::with_capacity(rules.len());
            for rule in rules {
                if self
                    .province_of(store, today, &rule.rule.unit)?
                    .is_some_and(|p| only.contains(&p))
                {
                    kept.push(rule);
                }
            }
            rules = kept;
        }
        let mut figures = Figures {
            store,
            today,
            stats: HashMap::new(),
            due: HashMap::new(),
            due_counts: None,
            coverage: &self.coverage,
            places: &self.places,
            previous: &self.previous,
        };
        // A full evaluation reads the previous periods afresh.
        if only.is_none() {
            *self.previous.lock().unwrap_or_else(|p| p.into_inner()) =
                (Some(today), HashMap::new());
        }
        // Per rule, each watched unit's excess over the threshold (None: no value). A rule whose
        // figures cannot be read is skipped (and logged), not every rule with it.
        figures.prefetch(&rules)?;
        let mut measured = Vec::with_capacity(rules.len());
        for rule in &rules {
            match figures.measure(rule) {
                Ok(units) => measured.push((rule, units)),
                Err(AlertError::Store(StoreFailure::BadQuery { field, message })) => {
                    tracing::warn!(rule = %rule.id, field, message, "an alert rule cannot be evaluated; skipped");
                }
                Err(e) => return Err(e),
            }
        }
        let fired = self.with_book(|book| {
            book.update_when(|file| {
                let mut fired = Vec::new();
                let mut changed = false;
                // Rules deleted since: their state goes with them.
                let ids: std::collections::HashSet<&str> =
                    file.rules.iter().map(|r| r.id.as_str()).collect();
                let before = file.firing.len();
                file.firing.retain(|id, _| ids.contains(id.as_str()));
                changed |= file.firing.len() != before;
                for (rule, units) in &measured {
                    // A rule deleted or changed while it was measured is skipped this time.
                    if !file.rules.iter().any(|r| r == *rule) {
                        continue;
                    }
                    let margin = rule
                        .rule
                        .rearm_margin
                        .unwrap_or_else(|| rule.rule.indicator.default_rearm_margin());
                    let condition = rule.rule.condition;
                    let firing = file.firing.entry(rule.id.clone()).or_default();
                    for m in units {
                        let Some(excess) = m.excess else { continue };
                        let was = firing.iter().position(|u| *u == m.code);
                        match was {
                            None if condition.holds(excess) => {
                                firing.push(m.code.clone());
                                changed = true;
                                let alert = alert_of(rule, m, today, now, fired.len());
                                if rule.rule.channels.contains(&AlertChannel::InApp) {
                                    file.alerts
                                        .entry(rule.owner.clone())
                                        .or_default()
                                        .push(alert.clone());
                                }
                                fired.push(Fired {
                                    rule: (*rule).clone(),
                                    alert,
                                });
                            }
                            Some(i) if excess <= -margin => {
                                firing.swap_remove(i);
                                changed = true;
                            }
                            _ => {}
                        }
                    }
                }
                (fired, changed)
            })
        })?;
        Ok(fired)
    }

    /// Sends the fired alerts to their rules' webhooks and e-mail addresses (retrying), logging
    /// every attempt.
    pub async fn deliver(self: &Arc<Self>, fired: Vec<Fired>) {
        for f in fired {
            for channel in &f.rule.rule.channels {
                let alerts = self.clone();
                let alert = f.alert.clone();
                match channel {
                    AlertChannel::Webhook { url } => {
                        let (url, secret) = (url.clone(), f.rule.webhook_secret.clone());
                        tokio::spawn(async move {
                            webhook::deliver(
                                &alerts.settings,
                                &alerts.deliveries,
                                &url,
                                &secret,
                                &alert,
                            )
                            .await;
                        });
                    }
                    AlertChannel::Email { to } => {
                        let to = to.clone();
                        tokio::spawn(async move { alerts.mail(&to, &alert).await });
                    }
                    AlertChannel::InApp => {}
                }
            }
        }
    }

    /// E-mails `alert` to `to` through the relay, retrying with doubling waits.
    async fn mail(self: &Arc<Self>, to: &str, alert: &Alert) {
        let Some(smtp) = self.settings.smtp.clone() else {
            return;
        };
        let mut wait = self.settings.retry_base;
        let attempts = self.settings.attempts.max(1);
        for attempt in 1..=attempts {
            let (smtp_, roots, to_, alert_) = (
                smtp.clone(),
                self.settings.roots.clone(),
                to.to_string(),
                alert.clone(),
            );
            let sent =
                tokio::task::spawn_blocking(move || email::send(&smtp_, &roots, &to_, &alert_))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
            let outcome = match (&sent, attempt == attempts) {
                (Ok(()), _) => "delivered",
                (Err(_), false) => "retrying",
                (Err(_), true) => "failed",
            };
            self.deliveries.append(&webhook::Attempt {
                at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                alert_id: alert.id.clone(),
                url: format!("mailto:{to}"),
                attempt,
                status: None,
                outcome: outcome.to_string(),
                error: sent.err(),
            });
            match outcome {
                "delivered" => return,
                "failed" => {
                    tracing::warn!(to, attempt, "alert e-mail could not be sent");
                    return;
                }
                _ => tracing::info!(to, attempt, "alert e-mail not taken by the relay; retrying"),
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }

    /// The province of today (public code) of a rule's unit; `None` for an unknown unit.
    fn province_of(
        &self,
        store: &dyn ServedStore,
        today: NaiveDate,
        unit: &str,
    ) -> Result<Option<String>, StoreFailure> {
        let key = app::era::Era::on(today)
            .key(unit)
            .unwrap_or_else(|| unit.to_string());
        Ok(place(&self.places, store, &key)?.map(|(_, province)| province))
    }

    /// The delivery log (one JSON line per webhook attempt).
    pub fn deliveries(&self) -> &webhook::DeliveryLog {
        &self.deliveries
    }
}

/// Whether the unit (a store key) is a province, and its province (public code), kept in
/// `places`; `None` for an unknown unit.
fn place(
    places: &Mutex<HashMap<String, Option<(bool, String)>>>,
    store: &dyn ServedStore,
    key: &str,
) -> Result<Option<(bool, String)>, StoreFailure> {
    if let Some(hit) = places.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
        return Ok(hit.clone());
    }
    let place = store.unit_place(key)?.map(|p| {
        (
            p.code == p.province_code,
            app::era::code_of(&p.province_code).to_string(),
        )
    });
    places
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key.to_string(), place.clone());
    Ok(place)
}

/// The units each unit of `keys` (store keys) covers, kept in `coverage`: those not kept yet
/// are read in one call.
fn cover(
    coverage: &Mutex<HashMap<String, Arc<std::collections::HashSet<String>>>>,
    store: &dyn ServedStore,
    keys: &[String],
) -> Result<(), StoreFailure> {
    let missing: Vec<String> = {
        let kept = coverage.lock().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<String> = keys
            .iter()
            .filter(|k| !kept.contains_key(*k))
            .cloned()
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    };
    if missing.is_empty() {
        return Ok(());
    }
    let read = store.covered_units(&missing)?;
    let mut kept = coverage.lock().unwrap_or_else(|p| p.into_inner());
    for (key, covered) in read {
        kept.insert(key, Arc::new(covered));
    }
    Ok(())
}

/// The store's read-side error as the store's own: a bad query stays one (the rule is skipped).
fn failure(e: app::store::StoreError) -> StoreFailure {
    match e {
        app::store::StoreError::BadQuery { field, message } => {
            StoreFailure::BadQuery { field, message }
        }
        other => StoreFailure::Corrupt(other.to_string()),
    }
}

/// The answers to `queries` the store gives, read one after another (those it fails are left
/// out).
fn read_all(store: &dyn ServedStore, queries: &[StatsQuery]) -> Vec<(StatsQuery, StatsResponse)> {
    queries
        .iter()
        .filter_map(|q| store.stats(q).ok().map(|a| (q.clone(), a)))
        .collect()
}

/// One watched unit's measure.
struct Measured {
    code: String,
    name: String,
    value: Option<f64>,
    previous: Option<f64>,
    excess: Option<f64>,
    from: NaiveDate,
}

/// The most figures read side by side before measuring (see [`Figures::prefetch`]).
const PREFETCH_MOST: usize = 8;

/// Which rows of a stats answer a rule watches.
enum Pick {
    /// Every listed unit (a rule on a level under its unit).
    Units,
    /// The total (a rule on a province, read as its communes' query).
    Total,
    /// One listed unit (a rule on a commune).
    Unit(String),
}

/// Figures read once per evaluation and shared by every rule that asks the same.
struct Figures<'a> {
    store: &'a dyn ServedStore,
    today: NaiveDate,
    stats: HashMap<StatsQuery, Arc<StatsResponse>>,
    due: HashMap<String, u64>,
    /// Open dossiers due within the window, per handling unit: read once, when first needed.
    due_counts: Option<HashMap<String, u64>>,
    coverage: &'a Mutex<HashMap<String, Arc<std::collections::HashSet<String>>>>,
    places: &'a Mutex<HashMap<String, Option<(bool, String)>>>,
    previous: &'a Mutex<PreviousFigures>,
}

impl Figures<'_> {
    fn stats(&mut self, query: StatsQuery) -> Result<Arc<StatsResponse>, StoreFailure> {
        if let Some(hit) = self.stats.get(&query) {
            return Ok(hit.clone());
        }
        // A period ending before today: kept for the day.
        if query.period.to < self.today {
            let mut previous = self.previous.lock().unwrap_or_else(|p| p.into_inner());
            if previous.0 != Some(self.today) {
                *previous = (Some(self.today), HashMap::new());
            }
            if let Some(hit) = previous.1.get(&query) {
                return Ok(hit.clone());
            }
            drop(previous);
            let answer = Arc::new(self.store.stats(&query).map_err(failure)?);
            self.previous
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .1
                .insert(query, answer.clone());
            return Ok(answer);
        }
        let answer = Arc::new(self.store.stats(&query).map_err(failure)?);
        self.stats.insert(query, answer.clone());
        Ok(answer)
    }

    /// Open dossiers of unit `code` (and everything under it) due within the due-soon window:
    /// the count [`ServedStore::due_dossiers`] gives, from one grouped read for every unit.
    fn due_soon(&mut self, code: &str) -> Result<u64, StoreFailure> {
        if let Some(n) = self.due.get(code) {
            return Ok(*n);
        }
        if self.due_counts.is_none() {
            let until = self
                .store
                .calendar()
                .last_due_within(self.today, app::due::DEFAULT_WITHIN);
            self.due_counts = Some(self.store.due_counts(self.today, until)?);
        }
        let key = self.key_of(code);
        cover(self.coverage, self.store, std::slice::from_ref(&key))?;
        let covered = self
            .coverage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let n = self.due_counts.as_ref().map_or(0, |counts| {
            counts
                .iter()
                .filter(|(unit, _)| covered.contains(*unit))
                .map(|(_, n)| n)
                .sum()
        });
        self.due.insert(code.to_string(), n);
        Ok(n)
    }

    /// The store key of a unit of today.
    fn key_of(&self, code: &str) -> String {
        app::era::Era::on(self.today)
            .key(code)
            .unwrap_or_else(|| code.to_string())
    }

    /// Reads the coverage of the units `codes` (of today) not kept yet, in one call: a rule
    /// watching every commune of a province needs each commune's.
    fn cover(&mut self, codes: &[String]) -> Result<(), StoreFailure> {
        let keys: Vec<String> = codes.iter().map(|c| self.key_of(c)).collect();
        cover(self.coverage, self.store, &keys)
    }

    /// Whether the unit (a store key) is a province, and its province (public code); `None` for
    /// an unknown unit. Kept: a unit's place does not change while the server runs.
    fn place(&mut self, key: &str) -> Result<Option<(bool, String)>, StoreFailure> {
        place(self.places, self.store, key)
    }

    /// The stats query a rule's rows come from in a period, and which of its rows they are: the
    /// units of the rule's level under its unit; or, for a rule on one unit, its province's
    /// communes (the query the rules watching those communes ask too), of which the province is
    /// the total and a commune its row. `None` for an unknown unit.
    fn source(
        &mut self,
        rule: &AlertRule,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<(StatsQuery, Pick)>, StoreFailure> {
        let period = Period { from, to };
        let query = |level: Level, parent: Option<String>| StatsQuery {
            period,
            level,
            parent,
            field: None,
            channel: None,
            dossier_level: None,
            units: Default::default(),
        };
        let unit = &rule.rule.unit;
        if let Some(level) = rule.rule.level {
            return Ok(Some((query(level, Some(unit.clone())), Pick::Units)));
        }
        let key = app::era::Era::on(to)
            .key(unit)
            .unwrap_or_else(|| unit.clone());
        Ok(self.place(&key)?.map(|(is_province, province)| {
            let pick = if is_province {
                Pick::Total
            } else {
                Pick::Unit(unit.clone())
            };
            (query(Level::Commune, Some(province)), pick)
        }))
    }

    /// The rows a rule watches in a period.
    fn rows(
        &mut self,
        rule: &AlertRule,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IndicatorRow>, AlertError> {
        let Some((query, pick)) = self.source(rule, from, to)? else {
            return Ok(Vec::new());
        };
        let answer = self.stats(query)?;
        Ok(match pick {
            Pick::Units => answer.units.clone(),
            Pick::Total => vec![answer.total.clone()],
            Pick::Unit(code) => answer
                .units
                .iter()
                .filter(|r| r.code == code)
                .cloned()
                .collect(),
        })
    }

    /// Reads the figures of the current periods the rules ask for before measuring them, two
    /// at a time (the store has two readers), with the due-soon counts if a rule needs them:
    /// after a commit these are the evaluation's longest reads, and they do not depend on one
    /// another. A read that fails here is left to the rule that asks for it, which then meets
    /// the error itself.
    fn prefetch(&mut self, rules: &[AlertRule]) -> Result<(), StoreFailure> {
        // The due-soon rules on one unit each need that unit's coverage: read together.
        let single: Vec<String> = rules
            .iter()
            .filter(|r| r.rule.indicator == AlertIndicator::DueSoon && r.rule.level.is_none())
            .map(|r| r.rule.unit.clone())
            .collect();
        self.cover(&single)?;
        let mut wanted: Vec<StatsQuery> = Vec::new();
        for rule in rules {
            let (now, _) = rule.rule.period.periods(self.today);
            if let Some((query, _)) = self.source(rule, now.0, now.1)? {
                if !self.stats.contains_key(&query) && !wanted.contains(&query) {
                    wanted.push(query);
                }
            }
        }
        // A commit of one office touches one province: its few periods are read side by side.
        // A bulk load touches them all: then the rules read one after another, leaving the
        // other core to the ingest.
        if wanted.len() < 2 || wanted.len() > PREFETCH_MOST {
            return Ok(());
        }
        let due_until = (self.due_counts.is_none()
            && rules
                .iter()
                .any(|r| r.rule.indicator == AlertIndicator::DueSoon))
        .then(|| {
            self.store
                .calendar()
                .last_due_within(self.today, app::due::DEFAULT_WITHIN)
        });
        let (store, today) = (self.store, self.today);
        // The first period alone (beside the grouped due-soon read, when a rule needs it): the
        // periods ending today share the days of this month, which the store then keeps until
        // the next commit, so the others read side by side without reading them again.
        let (first, rest) = wanted.split_at(1);
        let (mut read, due_counts) = std::thread::scope(|scope| {
            let due = due_until.map(|until| scope.spawn(move || store.due_counts(today, until)));
            let read = read_all(store, first);
            let due = due.and_then(|d| d.join().ok()).and_then(Result::ok);
            (read, due)
        });
        let half = rest.len().div_ceil(2);
        std::thread::scope(|scope| {
            let readers: Vec<_> = rest
                .chunks(half)
                .map(|chunk| scope.spawn(move || read_all(store, chunk)))
                .collect();
            for reader in readers {
                read.extend(reader.join().unwrap_or_default());
            }
        });
        for (query, answer) in read {
            self.stats.insert(query, Arc::new(answer));
        }
        if due_counts.is_some() {
            self.due_counts = due_counts;
        }
        Ok(())
    }

    fn measure(&mut self, rule: &AlertRule) -> Result<Vec<Measured>, AlertError> {
        let (now, before) = rule.rule.period.periods(self.today);
        let indicator = rule.rule.indicator;
        let condition = rule.rule.condition;
        let rows = self.rows(rule, now.0, now.1)?;
        let previous: HashMap<String, Option<f64>> = if condition.compares_periods() {
            self.rows(rule, before.0, before.1)?
                .iter()
                .map(|r| (r.code.clone(), indicator.value(r)))
                .collect()
        } else {
            HashMap::new()
        };
        if indicator == AlertIndicator::DueSoon {
            let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
            self.cover(&codes)?;
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let value = if indicator == AlertIndicator::DueSoon {
                Some(self.due_soon(&row.code)? as f64)
            } else {
                indicator.value(&row)
            };
            let previous = previous.get(&row.code).copied().flatten();
            out.push(Measured {
                excess: condition.excess(value, previous),
                code: row.code,
                name: row.name,
                value,
                previous,
                from: now.0,
            });
        }
        Ok(out)
    }
}

fn alert_of(
    rule: &AlertRule,
    m: &Measured,
    today: NaiveDate,
    now: DateTime<Utc>,
    n: usize,
) -> Alert {
    let indicator = match rule.rule.indicator {
        AlertIndicator::DueSoon | AlertIndicator::PendingOverdue => "late_rate_incl_pending",
        other => other.as_str(),
    };
    // The dashboard view of the unit's figures for the period: the unit among its siblings,
    // or the watched level under the rule's unit.
    let link = match rule.rule.level {
        Some(level) => format!(
            "/?unit={}&level={}&from={}&to={today}&indicator={indicator}",
            rule.rule.unit,
            level.as_str(),
            m.from
        ),
        None => format!(
            "/?unit={}&from={}&to={today}&indicator={indicator}",
            m.code, m.from
        ),
    };
    Alert {
        id: format!("{}-{}-{n}", rule.id, now.timestamp_millis()),
        rule_id: rule.id.clone(),
        rule_name: rule.rule.name.clone(),
        fired_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        indicator: rule.rule.indicator,
        condition: rule.rule.condition,
        unit_code: m.code.clone(),
        unit_name: m.name.clone(),
        from: m.from,
        to: today,
        value: m.value.unwrap_or_default(),
        previous: m.previous,
        link,
        read: false,
    }
}

/// Today in Vietnam.
pub fn vietnam_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&app::indicators::vietnam_offset())
        .date_naive()
}

/// How long commits must pause before the evaluator looks at them, and the longest it waits for
/// such a pause. A bulk load (an import, a day's backlog) is evaluated once it ends, not halfway
/// through: mid-load figures would fire alerts about a state that never was, and the load keeps
/// the cores. Offices' commits come seconds apart and are evaluated a quarter second later.
const QUIET: Duration = Duration::from_millis(250);
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Waits until commits pause for `quiet`, or `longest` has passed; false when the feed has closed.
async fn settle(
    commits: &mut tokio::sync::watch::Receiver<i64>,
    quiet: Duration,
    longest: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + longest;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        match tokio::time::timeout(quiet.min(left), commits.changed()).await {
            Err(_) => return true,
            Ok(Err(_)) => return false,
            Ok(Ok(())) => {}
        }
    }
}

/// The evaluator's share of a core under a stream of commits: one part evaluating, this many
/// pausing.
const PAUSE_PER_EVALUATION: u32 = 9;

/// How long the evaluator waits after an evaluation that took `took`.
fn pause_after(took: Duration, min_interval: Duration) -> Duration {
    min_interval.max(took.saturating_mul(PAUSE_PER_EVALUATION))
}

/// Evaluates after commits (once they pause for a quarter second, 30 s late at most; at most once
/// per `min_interval`, and pausing nine times as long as the last evaluation took) and once a day,
/// delivering what
/// fires. After a commit only the rules of the provinces it touched are evaluated (all of them
/// on a store that cannot tell); once a day, and when a rule changes, every rule. Runs until the
/// feed closes.
pub async fn run(alerts: Arc<Alerts>, store: Arc<dyn ServedStore>, feed: crate::live::ChangeFeed) {
    let mut commits = feed.subscribe();
    let mut daily = tokio::time::interval(Duration::from_secs(24 * 3600));
    // The newest change the last evaluation saw.
    let mut seen: Option<i64> = None;
    loop {
        let after_commit = tokio::select! {
            changed = commits.changed() => if changed.is_err() { return } else { true },
            _ = daily.tick() => false,
            _ = alerts.wake.notified() => false,
        };
        if after_commit && !settle(&mut commits, QUIET, LONGEST_WAIT).await {
            return;
        }
        let (a, s) = (alerts.clone(), store.clone());
        let now = Utc::now();
        let started = std::time::Instant::now();
        let since = seen.filter(|_| after_commit);
        let evaluated = tokio::task::spawn_blocking(move || {
            let touched = match since {
                Some(after) => s.touched_provinces(after).transpose()?,
                None => None,
            };
            // A full evaluation notes the newest change first: what commits during it is
            // evaluated next time.
            let newest = match &touched {
                Some((newest, _)) => Some(*newest),
                None => s
                    .touched_provinces(i64::MAX)
                    .and_then(|r| r.ok())
                    .map(|(newest, _)| newest),
            };
            let fired = a.evaluate_in(
                &*s,
                vietnam_today(now),
                now,
                touched.as_ref().map(|(_, p)| p),
            )?;
            Ok::<_, AlertError>((fired, newest))
        })
        .await;
        match evaluated {
            Ok(Ok((fired, newest))) => {
                tracing::debug!(
                    after_commit,
                    ms = started.elapsed().as_millis() as u64,
                    "alert rules evaluated"
                );
                seen = newest.or(seen);
                if !fired.is_empty() {
                    tracing::info!(
                        alerts = fired.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "alert rules fired"
                    );
                }
                alerts.deliver(fired).await;
            }
            Ok(Err(e)) => tracing::error!(error = %e, "alert rules could not be evaluated"),
            Err(e) => tracing::error!(error = %e, "alert evaluation panicked"),
        }
        alerts
            .evaluations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Nine times as long as the evaluation took, at least: under a stream of commits that
        // touch every province (a bulk load), the evaluator keeps to a tenth of a core and the
        // ingest keeps the rest, alerts coming later (a 1 s evaluation: 10 s). An office's
        // commit is evaluated in tens of milliseconds, so `min_interval` rules there.
        tokio::time::sleep(pause_after(started.elapsed(), alerts.settings.min_interval)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evaluator_keeps_to_a_tenth_of_a_core_under_a_stream_of_commits() {
        let second = Duration::from_secs(1);
        // An office's commit: evaluated in tens of milliseconds, at most once a second.
        assert_eq!(pause_after(Duration::from_millis(40), second), second);
        // A bulk load touching every province: 2 s evaluating, 18 s paused.
        let pause = pause_after(Duration::from_secs(2), second);
        assert_eq!(pause, Duration::from_secs(18));
        assert!((2.0 / (2.0 + pause.as_secs_f64()) - 0.1).abs() < 1e-9);
    }

    /// Commits every 10 ms for `for_ms`, numbered from 1; the last number.
    fn stream_of_commits(
        sender: tokio::sync::watch::Sender<i64>,
        for_ms: u64,
    ) -> tokio::task::JoinHandle<i64> {
        tokio::spawn(async move {
            let mut n = 0;
            while n * 10 < for_ms {
                n += 1;
                let _ = sender.send(n as i64);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            n as i64
        })
    }

    #[tokio::test]
    async fn a_stream_of_commits_is_evaluated_once_it_pauses() {
        let (sender, mut commits) = tokio::sync::watch::channel(0);
        let last = stream_of_commits(sender.clone(), 300);
        // Quiet means two seconds without a commit: only the stream's end gives that.
        assert!(
            settle(
                &mut commits,
                Duration::from_secs(2),
                Duration::from_secs(60)
            )
            .await
        );
        assert_eq!(*commits.borrow_and_update(), last.await.unwrap());
        drop(sender);
        assert!(
            !settle(
                &mut commits,
                Duration::from_secs(2),
                Duration::from_secs(60)
            )
            .await
        );
    }

    #[tokio::test]
    async fn a_stream_that_never_pauses_is_evaluated_after_the_longest_wait() {
        let (sender, mut commits) = tokio::sync::watch::channel(0);
        let last = stream_of_commits(sender, 1_500);
        assert!(
            settle(
                &mut commits,
                Duration::from_secs(60),
                Duration::from_millis(300)
            )
            .await
        );
        let seen = *commits.borrow_and_update();
        assert!(
            seen < last.await.unwrap(),
            "evaluated while the commits went on"
        );
    }
}
