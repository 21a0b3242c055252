//! The figures of the months before a period's last, kept between reads until a commit changes
//! one of those months.
//!
//! A period's pending figures sum every month of the store up to the period's end, and a
//! quarter's or a rolling window's range sums reach into earlier months (see [`super::query`]):
//! after years of history the months before the current one were most of a stats query's
//! time, read again at every call. Commits nearly always change only the current month (today's
//! receptions and resolutions; a new dossier's due date lies ahead), so those months' sums stay
//! valid. The writer reports the months each commit changed ([`PastCache::wrote`]); kept sums
//! that cover one of them are not used again.
//!
//! The days of the period's last month are read at every call, but kept until the next commit
//! ([`PastCache::current`]): the alert rules' month, quarter and rolling 30 days ending today
//! read the same days, and so do a dashboard's views between two commits.
use app::model::Counts;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap, VecDeque};
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

impl Sums {
    /// Grouping keys held, the measure of its size.
    fn keys(&self) -> usize {
        self.range.len() + self.open.len()
    }
}

/// Most grouping keys held over all kept figures of past months (a country's communes are
/// 3,321 per period), and a quarter of it for the current month's: with a key's two rows about
/// 110 bytes, 30 MB at most. The oldest make room for new ones.
const MOST_KEYS: usize = 200_000;

/// The kept sums and what the writer has changed since they were read.
#[derive(Default)]
pub struct PastCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts the writes reported: a sum read at generation g is valid while no write after g
    /// changed a month it covers.
    generation: u64,
    /// The generation of the last write that changed each month (its first day).
    changed: BTreeMap<NaiveDate, u64>,
    /// The generation of the last write that replaced the rollups whole (a rebuild).
    replaced: u64,
    sums: HashMap<(String, NaiveDate), Kept>,
    /// Insertion order, oldest first, for making room.
    order: VecDeque<(String, NaiveDate)>,
    keys_held: usize,
    /// Figures of days of the current month, all read at `current_generation`.
    current: HashMap<String, Arc<Sums>>,
    current_generation: u64,
    current_keys: usize,
}

struct Kept {
    generation: u64,
    past: Arc<Sums>,
}

impl Inner {
    fn valid(&self, kept: &Kept, through: NaiveDate) -> bool {
        kept.generation >= self.replaced
            && self
                .changed
                .range(..=through)
                .all(|(_, g)| *g <= kept.generation)
    }

    fn remove(&mut self, key: &(String, NaiveDate)) {
        if let Some(old) = self.sums.remove(key) {
            self.keys_held -= old.past.keys();
        }
    }
}

impl PastCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a cache: whatever a panic left is still consistent enough to be
        // checked (each sum carries its own generation).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation to read at: taken *before* the read, so that a commit landing during it
    /// makes the sum stale rather than wrong.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The figures of `filter` (the grouping key, filters, scope and first day, written out) over
    /// the months up to `through`, if kept and no write since changed one of those months.
    pub fn get(&self, filter: &str, through: NaiveDate) -> Option<Arc<Sums>> {
        let mut inner = self.lock();
        let key = (filter.to_string(), through);
        let kept = inner.sums.get(&key)?;
        if inner.valid(kept, through) {
            return Some(kept.past.clone());
        }
        inner.remove(&key);
        None
    }

    /// Keeps figures read at `generation` (from [`PastCache::generation`]).
    pub fn put(&self, filter: String, through: NaiveDate, generation: u64, past: Arc<Sums>) {
        if past.keys() > MOST_KEYS {
            return;
        }
        let mut inner = self.lock();
        let kept = Kept { generation, past };
        if !inner.valid(&kept, through) {
            return;
        }
        let key = (filter, through);
        inner.remove(&key);
        while inner.keys_held + kept.past.keys() > MOST_KEYS {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.remove(&oldest);
        }
        inner.keys_held += kept.past.keys();
        inner.order.push_back(key.clone());
        inner.sums.insert(key, kept);
        // The order may still name sums replaced or removed since: trimmed when it outgrows
        // what is held.
        if inner.order.len() > 2 * inner.sums.len() + 64 {
            let Inner { order, sums, .. } = &mut *inner;
            order.retain(|k| sums.contains_key(k));
        }
    }

    /// The figures of `filter` (the grouping key, filters, scope and days, written out) kept
    /// since the last commit.
    pub fn current(&self, filter: &str) -> Option<Arc<Sums>> {
        let inner = self.lock();
        if inner.current_generation != inner.generation {
            return None;
        }
        inner.current.get(filter).cloned()
    }

    /// Keeps figures of days read at `generation`, until the next commit.
    pub fn put_current(&self, filter: String, generation: u64, sums: Arc<Sums>) {
        let mut inner = self.lock();
        if generation != inner.generation || sums.keys() > MOST_KEYS / 4 {
            return;
        }
        if inner.current_generation != generation
            || inner.current_keys + sums.keys() > MOST_KEYS / 4
        {
            inner.current.clear();
            inner.current_keys = 0;
            inner.current_generation = generation;
        }
        inner.current_keys += sums.keys();
        if let Some(old) = inner.current.insert(filter, sums) {
            inner.current_keys -= old.keys();
        }
    }

    /// A commit changed the rollup rows of these months (any day in them): called after it
    /// committed.
    pub fn wrote(&self, months: impl IntoIterator<Item = NaiveDate>) {
        let mut inner = self.lock();
        inner.generation += 1;
        let generation = inner.generation;
        for month in months {
            inner.changed.insert(month, generation);
        }
    }

    /// How many sums are kept.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.lock().sums.len()
    }

    /// Drops everything kept (still valid or not).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.sums.clear();
        inner.order.clear();
        inner.keys_held = 0;
        inner.current.clear();
        inner.current_keys = 0;
    }

    /// The rollups were replaced whole: nothing kept is valid.
    pub fn replaced(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.replaced = inner.generation;
        drop(inner);
        self.clear();
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
        cache.wrote([d("2026-12-01"), d("2027-01-01")]);
        assert_eq!(open(cache.get("f", d("2026-11-01"))), [7, 0]);
    }

    #[test]
    fn a_commit_that_changes_a_covered_month_makes_the_sum_stale() {
        let cache = PastCache::default();
        let g = cache.generation();
        cache.put("f".into(), d("2026-11-01"), g, sums(7));
        cache.put("f".into(), d("2026-09-01"), g, sums(5));
        cache.wrote([d("2026-10-01")]);
        assert!(cache.get("f", d("2026-11-01")).is_none());
        assert!(cache.get("f", d("2026-09-01")).is_some());
    }

    #[test]
    fn a_sum_read_while_a_commit_landed_is_not_kept() {
        let cache = PastCache::default();
        let g = cache.generation();
        // The commit lands between taking the generation and keeping the sum: the read may
        // or may not have seen it, so the sum is refused.
        cache.wrote([d("2026-03-01")]);
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
        cache.wrote([d("2027-01-01")]);
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
    fn the_oldest_sums_make_room_when_the_keys_held_reach_the_bound() {
        let cache = PastCache::default();
        let big = |tag: &str| -> Arc<Sums> {
            Arc::new(Sums {
                range: HashMap::new(),
                open: (0..MOST_KEYS / 2)
                    .map(|i| (Some(format!("{tag}{i}")), [1, 0]))
                    .collect(),
            })
        };
        let g = cache.generation();
        cache.put("a".into(), d("2026-11-01"), g, big("a"));
        cache.put("b".into(), d("2026-11-01"), g, big("b"));
        cache.put("c".into(), d("2026-11-01"), g, big("c"));
        assert!(cache.get("a", d("2026-11-01")).is_none());
        assert!(cache.get("b", d("2026-11-01")).is_some());
        assert!(cache.get("c", d("2026-11-01")).is_some());
        assert!(cache.lock().keys_held <= MOST_KEYS);
    }
}
