//! The cluster's write lock: one web server at a time checks a batch against the stored
//! dossiers and inserts it, however many servers share the cluster.
//!
//! Why a lock: each server checks a batch against the dossiers' state, then inserts it, and the
//! rollups are materialised views that sum what is inserted. Two servers doing that at once for
//! the same events (a client resending through the other server) count them twice, and two
//! conflicting events for one dossier (resolved here, withdrawn there) can both be accepted.
//!
//! How, on ClickHouse 18.16 (no transactions, no compare-and-set): creating a table whose name
//! exists fails atomically. Each holding of the lock is a table `ingest_lock_<n>` on the first
//! shard; releasing it creates `ingest_lock_<n>_done`. A server takes the lock by creating the
//! next number after a released (or expired) one; of two servers trying the same number, one
//! gets "already exists" and tries again. A holder that died is passed over once its lease
//! (counted on the shard's own clock) has run out.
use super::client::{ClickHouse, ClickHouseError};
use crate::store::StoreFailure;
use std::time::{Duration, Instant};

/// A holding older than this (a server that died while holding it) is passed over. Far above
/// the time one batch takes (under a second for 50,000 events), so a live holder never loses it.
pub const LEASE_SECONDS: u64 = 30;

/// How long a writer waits for the lock before answering that the store is busy.
pub const WAIT: Duration = Duration::from_secs(2 * LEASE_SECONDS);

/// The lock, held; released when dropped.
pub struct Held<'a> {
    shard: &'a ClickHouse,
    db: &'a str,
    number: u64,
}

/// The holdings the shard knows: the newest number, whether it was released, and its age.
#[derive(Debug, Default, PartialEq)]
struct State {
    newest: u64,
    released: bool,
    age_seconds: u64,
}

#[derive(serde::Deserialize)]
struct Table {
    name: String,
    #[serde(deserialize_with = "number")]
    age: u64,
}

/// ClickHouse writes 64-bit numbers as strings in JSON.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        U(u64),
    }
    match serde::Deserialize::deserialize(d)? {
        N::U(n) => Ok(n),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

fn state_of(tables: &[Table]) -> State {
    let holding = |name: &str| -> Option<(u64, bool)> {
        let rest = name.strip_prefix("ingest_lock_")?;
        match rest.strip_suffix("_done") {
            Some(n) => Some((n.parse().ok()?, true)),
            None => Some((rest.parse().ok()?, false)),
        }
    };
    let mut state = State::default();
    for t in tables {
        if let Some((n, false)) = holding(&t.name) {
            if n > state.newest {
                state.newest = n;
                state.age_seconds = t.age;
            }
        }
    }
    state.released = state.newest == 0
        || tables
            .iter()
            .any(|t| holding(&t.name) == Some((state.newest, true)));
    state
}

fn already_exists(e: &ClickHouseError) -> bool {
    matches!(e, ClickHouseError::Refused { message, .. } if message.contains("Code: 57"))
}

/// Takes the lock on `shard` (the first shard) for database `db`, waiting at most [`WAIT`].
pub fn acquire<'a>(shard: &'a ClickHouse, db: &'a str) -> Result<Held<'a>, StoreFailure> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let tables: Vec<Table> = shard.rows(&format!(
            "SELECT name, toUInt64(now() - metadata_modification_time) AS age
             FROM system.tables WHERE database = '{db}' AND name LIKE 'ingest_lock_%'"
        ))?;
        let state = state_of(&tables);
        let expired = !state.released && state.age_seconds >= LEASE_SECONDS;
        if state.released || expired {
            let number = state.newest + 1;
            match shard.execute(
                &format!("CREATE TABLE {db}.ingest_lock_{number} (held UInt8) ENGINE = Memory"),
                b"",
            ) {
                Ok(_) => {
                    if expired {
                        tracing::warn!(
                            holding = state.newest,
                            seconds = state.age_seconds,
                            "the cluster's write lock was held past its lease (a server died while writing?); taken over"
                        );
                    }
                    // The holdings before the previous one are of no use any more.
                    if number > 2 {
                        let old = number - 2;
                        for name in [format!("ingest_lock_{old}"), format!("ingest_lock_{old}_done")] {
                            if let Err(error) =
                                shard.execute(&format!("DROP TABLE IF EXISTS {db}.{name}"), b"")
                            {
                                tracing::warn!(%error, "an old holding of the write lock stays");
                            }
                        }
                    }
                    return Ok(Held { shard, db, number });
                }
                Err(e) if already_exists(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if started.elapsed() > WAIT {
            return Err(StoreFailure::Cluster(ClickHouseError::Unreachable {
                shard: shard.shard().to_string(),
                message: format!(
                    "the cluster's write lock stayed taken for {} s; try again",
                    WAIT.as_secs()
                ),
            }));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let released = self.shard.execute(
            &format!(
                "CREATE TABLE IF NOT EXISTS {}.ingest_lock_{}_done (held UInt8) ENGINE = Memory",
                self.db, self.number
            ),
            b"",
        );
        if let Err(error) = released {
            // The lease frees it in LEASE_SECONDS; writers wait until then.
            tracing::error!(%error, holding = self.number, "the cluster's write lock was not released");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, age: u64) -> Table {
        Table {
            name: name.into(),
            age,
        }
    }

    #[test]
    fn the_newest_holding_decides_whether_the_lock_is_free() {
        assert_eq!(
            state_of(&[]),
            State {
                newest: 0,
                released: true,
                age_seconds: 0
            }
        );
        let held = state_of(&[
            table("ingest_lock_7", 40),
            table("ingest_lock_7_done", 40),
            table("ingest_lock_8", 3),
        ]);
        assert_eq!((held.newest, held.released, held.age_seconds), (8, false, 3));
        let free = state_of(&[table("ingest_lock_8", 3), table("ingest_lock_8_done", 1)]);
        assert_eq!((free.newest, free.released), (8, true));
        // Numbers compare as numbers, not as text ("10" after "9").
        let ten = state_of(&[table("ingest_lock_9", 5), table("ingest_lock_10", 1)]);
        assert_eq!(ten.newest, 10);
        // Other tables are no holdings.
        assert_eq!(
            state_of(&[table("ingest_lock_x", 1), table("other", 1)]).newest,
            0
        );
    }

    #[test]
    fn only_an_existing_table_means_someone_else_took_it() {
        let refused = |message: &str| ClickHouseError::Refused {
            shard: "s".into(),
            status: 500,
            message: message.into(),
        };
        assert!(already_exists(&refused(
            "Code: 57, e.displayText() = DB::Exception: Table iem.ingest_lock_3 already exists."
        )));
        assert!(!already_exists(&refused("Code: 241, memory limit exceeded")));
    }
}
