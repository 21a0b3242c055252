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
/// the time one batch takes (about a second for 50,000 events), and a holder checks that it
/// still holds the lock just before it inserts ([`Held::confirm`]).
pub const LEASE_SECONDS: u64 = 15;

/// How long a writer waits for the lock before answering that the store is busy: long enough
/// to outlast the lease of a holder that died.
pub const WAIT: Duration = Duration::from_secs(LEASE_SECONDS + 15);

/// Holdings further behind the newest than this are dropped (kept a while, so that a server
/// that stalled between reading the state and creating its table cannot take a number that
/// was already used and dropped; it would also see a newer number and back off).
const KEEP: u64 = 16;

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
    #[serde(deserialize_with = "age")]
    age: u64,
}

/// The age in seconds, as ClickHouse writes a 64-bit number (a string in JSON). Negative
/// (the shard's clock stepped back) counts as new: a step back must not expire a holding.
fn age<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
    }
    let seconds = match serde::Deserialize::deserialize(d)? {
        N::I(n) => n,
        N::S(s) => s.parse().map_err(serde::de::Error::custom)?,
    };
    Ok(u64::try_from(seconds).unwrap_or(0))
}

/// The holdings on the shard now. ClickHouse 18.16 fails a read of `system.tables` that meets
/// a table dropped meanwhile ("doesn't exist", code 60): such a read is simply made again.
fn read_state(shard: &ClickHouse, db: &str) -> Result<State, StoreFailure> {
    let query = format!(
        "SELECT name, toInt64(now()) - toInt64(metadata_modification_time) AS age
         FROM system.tables WHERE database = '{db}' AND name LIKE 'ingest_lock_%'"
    );
    let mut attempt = 0;
    loop {
        match shard.rows::<Table>(&query) {
            Ok(tables) => return Ok(state_of(&tables)),
            Err(e) if attempt < 10 && error_code(&e) == Some(60) => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The number ClickHouse gives an error (`Code: N, …`).
fn error_code(e: &ClickHouseError) -> Option<u32> {
    let ClickHouseError::Refused { message, .. } = e else {
        return None;
    };
    let rest = message.split("Code: ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
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
    error_code(e) == Some(57)
}

/// Takes the lock on `shard` (the first shard) for database `db`, waiting at most [`WAIT`].
pub fn acquire<'a>(shard: &'a ClickHouse, db: &'a str) -> Result<Held<'a>, StoreFailure> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let state = read_state(shard, db)?;
        let expired = !state.released && state.age_seconds >= LEASE_SECONDS;
        if state.released || expired {
            let number = state.newest + 1;
            match shard.execute(
                &format!("CREATE TABLE {db}.ingest_lock_{number} (held UInt8) ENGINE = Memory"),
                b"",
            ) {
                Ok(_) => {
                    let held = Held { shard, db, number };
                    // Created, but a server that stalled may have made a number already
                    // passed: only the newest holding holds. Otherwise give it up (dropping
                    // `held` marks it released) and try again.
                    if read_state(shard, db)?.newest != number {
                        drop(held);
                        continue;
                    }
                    if expired {
                        tracing::warn!(
                            holding = state.newest,
                            seconds = state.age_seconds,
                            "the cluster's write lock was held past its lease (a server died while writing?); taken over"
                        );
                    }
                    // Old holdings are dropped a batch at a time, now and then: each drop can
                    // make another server's read of the state fail once (and be made again).
                    if number > KEEP && number % KEEP == 0 {
                        for old in number - 2 * KEEP..number - KEEP {
                            for name in [
                                format!("ingest_lock_{old}"),
                                format!("ingest_lock_{old}_done"),
                            ] {
                                if let Err(error) =
                                    shard.execute(&format!("DROP TABLE IF EXISTS {db}.{name}"), b"")
                                {
                                    tracing::warn!(%error, "an old holding of the write lock stays");
                                }
                            }
                        }
                    }
                    return Ok(held);
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

impl Held<'_> {
    /// Checks, just before the insert, that this is still the newest holding: a holder that
    /// stalled past its lease finds a newer one and writes nothing.
    pub fn confirm(&self) -> Result<(), StoreFailure> {
        if read_state(self.shard, self.db)?.newest == self.number {
            Ok(())
        } else {
            Err(StoreFailure::Cluster(ClickHouseError::Unreachable {
                shard: self.shard.shard().to_string(),
                message: "this server lost the cluster's write lock (it stalled past its lease); nothing was stored, try again".into(),
            }))
        }
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
        assert_eq!(
            (held.newest, held.released, held.age_seconds),
            (8, false, 3)
        );
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
    fn clickhouse_error_codes_are_read_from_the_message() {
        let refused = |message: &str| ClickHouseError::Refused {
            shard: "s".into(),
            status: 404,
            message: message.into(),
        };
        assert_eq!(
            error_code(&refused(
                "Code: 60, e.displayText() = DB::Exception: Table iem.x doesn't exist."
            )),
            Some(60)
        );
        assert_eq!(error_code(&refused("no code here")), None);
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
        assert!(!already_exists(&refused(
            "Code: 241, memory limit exceeded"
        )));
    }
}
