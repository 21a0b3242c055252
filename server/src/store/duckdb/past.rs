//! The figures of the months before a period's last, kept between reads until a commit changes
//! one of those months; and the days of the last month, kept until the next commit.
//!
//! A period's pending figures sum every month of the store up to the period's end, and a
//! quarter's or a rolling window's range sums reach into earlier months (see [`super::query`]):
//! after years of history the months before the current one were most of a stats query's
//! time, read again at every call. Commits nearly always change only the current month (today's
//! receptions and resolutions; a new dossier's due date lies ahead), so those months' sums stay
//! valid. The writer reports the months each commit changes, before it commits
//! ([`PastCache::committing`]) and after ([`PastCache::wrote`]); kept sums that cover one of them
//! are not used again, and nothing read while a commit is under way is kept.
//!
//! The days of the period's last month ([`PastCache::current`]) are kept until the next commit:
//! the alert rules' month, quarter and rolling 30 days ending today read the same days, and so
//! do a dashboard's views between two commits.
//!
//! Both are bounded by an estimate of the memory they hold (the filter's text included, since
//! a request chooses it), the least recently used making room.
use app::model::Counts;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Figures of part of a period per grouping key: the range sums of its days in the part, and
/// the pending sums (received − closed, due − due or closed) of every day in it, signed: only
/// a whole period's sum is clamped. The part before the period's last month also holds every
/// earlier month's pending sums.
#[derive(Debug, Default)]
pub struct Sums {
    pub range: HashMap<Option<String>, Counts>,
    pub open: HashMap<Option<String>, [i64; 2]>,
}

/// Most bytes held by the kept figures of past months, by [`weight`]'s estimate.
const PAST_BYTES: usize = 32 << 20;
/// Most bytes held by the kept figures of the current month.
const CURRENT_BYTES: usize = 8 << 20;

/// An estimate of the memory a kept entry holds: its filter's text (kept once, and once in
/// the key's hash table), and per grouping key a row of each map with its code and the hash
/// tables' slack; an empty entry still weighs its bookkeeping.
fn weight(filter: &str, sums: &Sums) -> usize {
    let codes: usize = (sums.range.keys().chain(sums.open.keys()))
        .map(|k| k.as_ref().map_or(0, String::len))
        .sum();
    256 + 2 * filter.len() + 200 * (sums.range.len() + sums.open.len()) + codes
}

/// The kept figures and what the writer has changed since they were read.
#[derive(Default)]
pub struct PastCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts the writes reported: a sum read at generation g is valid while no write after g
    /// changed a month it covers.
    generation: u64,
    /// Commits (or a rebuild) told as starting and not yet as ended.
    writing: u32,
    /// The generation of the last write that changed each month (its first day).
    changed: BTreeMap<NaiveDate, u64>,
    /// The generation of the last write that replaced the rollups whole (a rebuild).
    replaced: u64,
    /// Ticks of use, for making room.
    tick: u64,
    past: HashMap<(String, NaiveDate), Kept>,
    past_bytes: usize,
    /// Figures of days of the current month, all read at `current_generation`.
    current: HashMap<String, Kept>,
    current_generation: u64,
    current_bytes: usize,
}

struct Kept {
    generation: u64,
    used: u64,
    bytes: usize,
    sums: Arc<Sums>,
}

impl Inner {
    /// Whether figures read at `generation` over the months up to `through` still hold. Used
    /// while a commit is under way too: its months are marked from its start, and a read that
    /// a commit overtakes is read again whole ([`super::query`]).
    fn valid(&self, generation: u64, through: NaiveDate) -> bool {
        generation >= self.replaced
            && self
                .changed
                .range(..=through)
                .all(|(_, g)| *g <= generation)
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn remove_past(&mut self, key: &(String, NaiveDate)) {
        if let Some(old) = self.past.remove(key) {
            self.past_bytes -= old.bytes;
        }
    }

    fn changed(&mut self, months: &[NaiveDate]) {
        self.generation += 1;
        let generation = self.generation;
        for month in months {
            self.changed.insert(*month, generation);
        }
    }
}

/// Makes room for `bytes` more in `map` (holding `held` of at most `most`): when they do not
/// fit, the least recently used entries go, in one pass, until three quarters of `most` is
/// left for what stays and the new entry.
fn make_room<K: Eq + std::hash::Hash>(
    map: &mut HashMap<K, Kept>,
    held: &mut usize,
    bytes: usize,
    most: usize,
) {
    if *held + bytes <= most {
        return;
    }
    let target = (most / 4 * 3).saturating_sub(bytes);
    let mut by_use: Vec<(u64, usize)> = map.values().map(|k| (k.used, k.bytes)).collect();
    by_use.sort_unstable();
    // The most recently used that fit under the target stay: the cut-off is the newest tick
    // that goes.
    let mut kept_bytes = 0;
    let mut cutoff = 0;
    for (used, size) in by_use.iter().rev() {
        if kept_bytes + size > target {
            cutoff = *used;
            break;
        }
        kept_bytes += size;
    }
    map.retain(|_, k| k.used > cutoff);
    *held = map.values().map(|k| k.bytes).sum();
}

impl PastCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a cache: whatever a panic left is still consistent enough to be
        // checked (each entry carries its own generation).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation to read at: taken *before* the read, so that a commit landing during it
    /// makes what was read stale rather than wrong.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The figures of `filter` (the grouping key, filters, scope and first day, written out) over
    /// the months up to `through`, if kept and no write since changed one of those months.
    pub fn get(&self, filter: &str, through: NaiveDate) -> Option<Arc<Sums>> {
        let mut inner = self.lock();
        let key = (filter.to_string(), through);
        let generation = inner.past.get(&key)?.generation;
        if !inner.valid(generation, through) {
            inner.remove_past(&key);
            return None;
        }
        let tick = inner.next_tick();
        let kept = inner.past.get_mut(&key)?;
        kept.used = tick;
        Some(kept.sums.clone())
    }

    /// Keeps figures read at `generation` (from [`PastCache::generation`]).
    pub fn put(&self, filter: String, through: NaiveDate, generation: u64, sums: Arc<Sums>) {
        let bytes = weight(&filter, &sums);
        let mut inner = self.lock();
        // Nothing read while a commit is under way is kept: it may or may not have seen it.
        if inner.writing > 0 || bytes > PAST_BYTES / 4 || !inner.valid(generation, through) {
            return;
        }
        let key = (filter, through);
        inner.remove_past(&key);
        let Inner {
            past, past_bytes, ..
        } = &mut *inner;
        make_room(past, past_bytes, bytes, PAST_BYTES);
        let used = inner.next_tick();
        inner.past_bytes += bytes;
        inner.past.insert(
            key,
            Kept {
                generation,
                used,
                bytes,
                sums,
            },
        );
    }

    /// The figures of `filter` (the grouping key, filters, scope and days, written out) kept
    /// since the last commit.
    pub fn current(&self, filter: &str) -> Option<Arc<Sums>> {
        let mut inner = self.lock();
        if inner.current_generation != inner.generation {
            return None;
        }
        let tick = inner.next_tick();
        let kept = inner.current.get_mut(filter)?;
        kept.used = tick;
        Some(kept.sums.clone())
    }

    /// Keeps figures of days read at `generation`, until the next commit.
    pub fn put_current(&self, filter: String, generation: u64, sums: Arc<Sums>) {
        let bytes = weight(&filter, &sums);
        let mut inner = self.lock();
        if inner.writing > 0 || generation != inner.generation || bytes > CURRENT_BYTES / 4 {
            return;
        }
        if inner.current_generation != generation {
            inner.current.clear();
            inner.current_bytes = 0;
            inner.current_generation = generation;
        }
        if let Some(old) = inner.current.remove(&filter) {
            inner.current_bytes -= old.bytes;
        }
        let Inner {
            current,
            current_bytes,
            ..
        } = &mut *inner;
        make_room(current, current_bytes, bytes, CURRENT_BYTES);
        let used = inner.next_tick();
        inner.current_bytes += bytes;
        inner.current.insert(
            filter,
            Kept {
                generation,
                used,
                bytes,
                sums,
            },
        );
    }

    /// A commit that changes the rollup rows of these months (any day in them) is about to
    /// commit: until [`PastCache::wrote`], nothing read is kept, nor the current month's days used.
    pub fn committing(&self, months: &[NaiveDate]) {
        let mut inner = self.lock();
        inner.writing += 1;
        inner.changed(months);
    }

    /// The commit told by [`PastCache::committing`] ended (committed or not).
    pub fn wrote(&self, months: &[NaiveDate]) {
        let mut inner = self.lock();
        inner.writing = inner.writing.saturating_sub(1);
        inner.changed(months);
    }

    /// Drops everything kept (still valid or not).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.past.clear();
        inner.past_bytes = 0;
        inner.current.clear();
        inner.current_bytes = 0;
    }

    /// The rollups are about to be replaced whole (a rebuild): until [`PastCache::replaced`],
    /// nothing kept is used or kept.
    pub fn replacing(&self) {
        let mut inner = self.lock();
        inner.writing += 1;
        inner.generation += 1;
        inner.replaced = inner.generation;
        drop(inner);
        self.clear();
    }

    /// The writer was recovered after a panic: no commit or rebuild is under way any more
    /// (whoever holds the writer has none), and what was kept may predate what that one left.
    pub fn recovered(&self) {
        let mut inner = self.lock();
        inner.writing = 0;
        inner.generation += 1;
        inner.replaced = inner.generation;
        drop(inner);
        self.clear();
    }

    /// The rollups were replaced whole: nothing kept before is valid.
    pub fn replaced(&self) {
        let mut inner = self.lock();
        inner.writing = inner.writing.saturating_sub(1);
        inner.generation += 1;
        inner.replaced = inner.generation;
        drop(inner);
        self.clear();
    }

    /// How many entries are kept.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.lock().past.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sums(n: i64) -> Arc<Sums> {
        Arc::new(Sums {
            range: HashMap::new(),
            open: HashMap::from([(Some("20341".to_string()), [n, 0])]),
        })
    }

    fn open(past: Option<Arc<Sums>>) -> [i64; 2] {
        past.unwrap().open[&Some("20341".to_string())]
    }

    #[test]
    fn a_sum_stays_valid_while_commits_change_only_later_months() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        cache.wrote(&[d("2026-12-01"), d("2027-01-01")]);
        assert_eq!(open(cache.get("f", d("2026-11-01"))), [7, 0]);
    }

    #[test]
    fn a_commit_that_changes_a_covered_month_makes_the_sum_stale() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        cache.put("f".into(), d("2026-09-01"), g, sums(5));
        cache.wrote(&[d("2026-10-01")]);
        assert!(cache.get("f", d("2026-11-01")).is_none());
        assert!(cache.get("f", d("2026-09-01")).is_some());
    }

    #[test]
    fn a_sum_read_while_a_commit_landed_is_not_kept() {
        let cache = PastCache::default();
        let g = cache.generation();
        // The commit lands between taking the generation and keeping the sum: the read may
        // or may not have seen it, so the sum is refused.
        cache.wrote(&[d("2026-03-01")]);
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        assert!(cache.get("f", d("2026-11-01")).is_none());
        // Read again after the commit, it is kept.
        cache.put("f".into(), d("2026-11-01"), cache.generation(), sums(8));
        assert_eq!(open(cache.get("f", d("2026-11-01"))), [8, 0]);
    }

    #[test]
    fn figures_of_the_current_month_are_kept_until_the_next_commit() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put_current("f".into(), g, sums(3));
        assert_eq!(open(cache.current("f")), [3, 0]);
        cache.wrote(&[d("2027-01-01")]);
        assert!(cache.current("f").is_none());
        // Read before that commit, kept after it: refused.
        cache.put_current("f".into(), g, sums(3));
        assert!(cache.current("f").is_none());
    }

    #[test]
    fn a_rebuild_makes_every_sum_stale() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        cache.replaced();
        assert!(cache.get("f", d("2026-11-01")).is_none());
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        assert!(cache.get("f", d("2026-11-01")).is_none());
    }

    #[test]
    fn nothing_read_while_a_commit_is_under_way_is_kept() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put("f".into(), d("2026-09-01"), g, sums(5));
        cache.put_current("c".into(), g, sums(1));
        // Even figures of months the commit does not change: a read now may see the commit's
        // other months or not, and must not be mixed with them.
        cache.committing(&[d("2026-12-01")]);
        // Months the commit does not change stay usable (a read the commit overtakes is read
        // again whole); the current month's days do not.
        assert_eq!(open(cache.get("f", d("2026-09-01"))), [5, 0]);
        assert!(cache.current("c").is_none());
        cache.put("g".into(), d("2026-09-01"), cache.generation(), sums(6));
        cache.put_current("c".into(), cache.generation(), sums(2));
        assert!(cache.get("g", d("2026-09-01")).is_none());
        assert!(cache.current("c").is_none());
        cache.wrote(&[d("2026-12-01")]);
        assert_eq!(open(cache.get("f", d("2026-09-01"))), [5, 0]);
        assert!(cache.get("g", d("2026-09-01")).is_none());
        // A writer recovered after a panic mid-commit: nothing stays under way, nothing kept.
        cache.committing(&[d("2026-12-01")]);
        cache.recovered();
        assert!(cache.get("f", d("2026-09-01")).is_none());
        cache.put("f".into(), d("2026-09-01"), cache.generation(), sums(9));
        assert_eq!(open(cache.get("f", d("2026-09-01"))), [9, 0]);
    }

    #[test]
    fn the_least_recently_used_make_room_and_a_long_filter_weighs_its_length() {
        let cache = PastCache::default();
        let big = |tag: &str| -> Arc<Sums> {
            Arc::new(Sums {
                range: HashMap::new(),
                open: (0..PAST_BYTES / 4 / 210)
                    .map(|i| (Some(format!("{tag}{i:05}")), [1, 0]))
                    .collect(),
            })
        };
        let g = cache.generation();
        for tag in ["a", "b", "c"] {
            cache.put(tag.into(), d("2026-11-01"), g, big(tag));
        }
        // "a" used since: "b" and "c" are the least recently used. Four fit; the fifth makes
        // room down to three quarters, the least recently used going.
        assert!(cache.get("a", d("2026-11-01")).is_some());
        cache.put("d".into(), d("2026-11-01"), g, big("d"));
        cache.put("e".into(), d("2026-11-01"), g, big("e"));
        assert!(cache.get("b", d("2026-11-01")).is_none());
        assert!(cache.get("c", d("2026-11-01")).is_none());
        for kept in ["a", "d", "e"] {
            assert!(cache.get(kept, d("2026-11-01")).is_some(), "{kept}");
        }
        assert!(cache.lock().past_bytes <= PAST_BYTES);
        // Empty figures under long filters (a request's free text) still count, the text
        // twice: 2,000 of 60 KB would be 240 MB.
        for i in 0..2_000 {
            let filter = format!("{i}{}", "x".repeat(60_000));
            cache.put(filter, d("2026-11-01"), g, Arc::new(Sums::default()));
        }
        let inner = cache.lock();
        assert!(inner.past_bytes <= PAST_BYTES, "{} bytes", inner.past_bytes);
        assert!(
            inner.past.len() <= PAST_BYTES / 120_000,
            "{} entries",
            inner.past.len()
        );
        let held: usize = inner.past.values().map(|k| k.bytes).sum();
        assert_eq!(held, inner.past_bytes);
    }

    #[test]
    fn the_current_months_figures_make_room_by_use_too() {
        let cache = PastCache::default();
        let big = |tag: &str| -> Arc<Sums> {
            Arc::new(Sums {
                range: HashMap::new(),
                open: (0..CURRENT_BYTES / 4 / 210)
                    .map(|i| (Some(format!("{tag}{i:05}")), [1, 0]))
                    .collect(),
            })
        };
        let g = cache.generation();
        for tag in ["a", "b", "c"] {
            cache.put_current(tag.into(), g, big(tag));
        }
        assert!(cache.current("a").is_some());
        cache.put_current("d".into(), g, big("d"));
        cache.put_current("e".into(), g, big("e"));
        assert!(cache.current("b").is_none());
        assert!(cache.current("c").is_none());
        for kept in ["a", "d", "e"] {
            assert!(cache.current(kept).is_some(), "{kept}");
        }
        assert!(cache.lock().current_bytes <= CURRENT_BYTES);
    }
}
