//! Crash test: writers ingest in batches while the server is killed with SIGKILL at random
//! moments and restarted. After every kill: each event of a request answered 200 is stored
//! exactly once, a request that got no answer is stored whole or not at all, a refused request
//! left nothing, and `server store verify` finds dossier states and rollups equal to their
//! recomputation from the events.
//!
//! `make test` runs 20 kills; `IEM_CRASH_KILLS=200 make crash-test` a longer run, and
//! `IEM_CRASH_SEED` repeats a run.
use crate::process::{http, ingest_token, output_text, start, store_command, Server};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), so that a seed repeats a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the test knows about the store.
#[derive(Default)]
struct Ledger {
    /// Events of requests answered 200.
    acked: HashSet<String>,
    /// Requests that got no answer (or a 5xx): stored whole or not at all; resent after restart.
    unanswered: Vec<Batch>,
    /// Events of requests refused with 422: never stored.
    refused: HashSet<String>,
    requests: u64,
}

#[derive(Clone)]
struct Batch {
    writer: usize,
    ids: Vec<String>,
    body: String,
    /// Dossiers this batch resolves or withdraws (taken from the writer's open list).
    closes: Vec<(String, u32)>,
    /// Dossiers this batch receives, with their reception day of year.
    opens: Vec<(String, u32)>,
    /// It carries an invalid line, so it must be refused whole.
    invalid: bool,
}

/// One writer's dossiers: open ones (received and acknowledged) with their reception day.
struct WriterState {
    id: usize,
    next_event: u64,
    next_dossier: u64,
    open: Vec<(String, u32)>,
}

/// A day of 2024: the units below (a province, districts, a commune of Quảng Nam) are those in
/// force before the 2025 reform.
fn day(day_of_year: u32) -> String {
    let date = chrono::NaiveDate::from_yo_opt(2024, day_of_year.clamp(1, 365)).expect("a day");
    format!("{date}T08:00:00+07:00")
}

const UNITS: [(&str, &str); 4] = [
    ("502", "district"),
    ("503", "district"),
    ("20398", "commune"),
    ("49", "province"),
];

impl WriterState {
    fn event_id(&mut self) -> String {
        self.next_event += 1;
        format!("w{}-e{}", self.id, self.next_event)
    }

    /// A batch of 1–150 events: new receptions, resolutions, due date changes and withdrawals
    /// of acknowledged open dossiers; one in fifteen also carries an invalid line (refused).
    fn batch(&mut self, rng: &mut Rng) -> (Batch, bool) {
        let size = 1 + rng.below(150) as usize;
        let mut lines = Vec::with_capacity(size);
        let mut batch = Batch {
            writer: self.id,
            ids: Vec::new(),
            body: String::new(),
            closes: Vec::new(),
            opens: Vec::new(),
            invalid: false,
        };
        for _ in 0..size {
            let id = self.event_id();
            let roll = rng.below(100);
            let line = if roll < 60 || self.open.is_empty() {
                self.next_dossier += 1;
                let dossier = format!("w{}-d{}", self.id, self.next_dossier);
                let received = 1 + rng.below(300) as u32;
                let (unit, level) = UNITS[rng.below(UNITS.len() as u64) as usize];
                let online = rng.below(2) == 0;
                batch.opens.push((dossier.clone(), received));
                format!(
                    r#"{{"event_id":"{id}","dossier_id":"{dossier}","type":"received","at":"{}","unit":"{unit}","level":"{level}","procedure":"DD-01","field":"Đất đai","channel":"{}","due":"{}","fee":{online},"paid_online":{online}}}"#,
                    day(received),
                    if online { "online" } else { "direct" },
                    day(received + 5 + rng.below(15) as u32)
                )
            } else {
                let (dossier, received) = self
                    .open
                    .swap_remove(rng.below(self.open.len() as u64) as usize);
                let at = day(received + rng.below(25) as u32);
                if roll < 85 {
                    batch.closes.push((dossier.clone(), received));
                    format!(
                        r#"{{"event_id":"{id}","dossier_id":"{dossier}","type":"resolved","at":"{at}"}}"#
                    )
                } else if roll < 95 {
                    // Still open after a due date change.
                    self.open.push((dossier.clone(), received));
                    format!(
                        r#"{{"event_id":"{id}","dossier_id":"{dossier}","type":"due_changed","at":"{at}","due":"{}"}}"#,
                        day(received + 30)
                    )
                } else {
                    batch.closes.push((dossier.clone(), received));
                    format!(
                        r#"{{"event_id":"{id}","dossier_id":"{dossier}","type":"withdrawn","at":"{at}"}}"#
                    )
                }
            };
            batch.ids.push(id);
            lines.push(line);
        }
        let invalid = rng.below(15) == 0;
        if invalid {
            let id = self.event_id();
            lines.insert(
                rng.below(lines.len() as u64 + 1) as usize,
                format!(
                    r#"{{"event_id":"{id}","dossier_id":"w{}-bad","type":"received","at":"{}","unit":"no-such-unit","level":"district","procedure":"DD-01","field":"Đất đai","channel":"online","due":"{}"}}"#,
                    self.id,
                    day(10),
                    day(20)
                ),
            );
            batch.ids.push(id);
        }
        batch.body = lines.join("\n");
        batch.invalid = invalid;
        (batch, invalid)
    }

    /// The batch was not stored: its dossiers are back as they were.
    fn undo(&mut self, batch: &Batch) {
        self.open.extend(batch.closes.iter().cloned());
    }

    /// The batch was stored: its receptions are open dossiers now.
    fn stored(&mut self, batch: &Batch) {
        self.open.extend(batch.opens.iter().cloned());
    }
}

fn post(addr: &str, token: &str, body: &str) -> Result<(u16, String), String> {
    http(addr, "POST", "/api/v1/events", Some(token), body)
}

/// Posts batches until `stop`, or until a request fails (the server was killed).
fn write_until_killed(
    addr: String,
    token: String,
    writer: Arc<Mutex<WriterState>>,
    ledger: Arc<Mutex<Ledger>>,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let (batch, invalid) = writer.lock().unwrap().batch(&mut rng);
        let answer = post(&addr, &token, &batch.body);
        let mut ledger = ledger.lock().unwrap();
        ledger.requests += 1;
        match answer {
            Ok((200, _)) => {
                assert!(!invalid, "a batch with an invalid line was accepted");
                ledger.acked.extend(batch.ids.iter().cloned());
                writer.lock().unwrap().stored(&batch);
            }
            Ok((422, _)) if invalid => {
                ledger.refused.extend(batch.ids.iter().cloned());
                writer.lock().unwrap().undo(&batch);
            }
            Ok((status, body)) if status >= 500 => {
                ledger.unanswered.push(batch);
                eprintln!("crash: answered {status} ({body}); resent after the restart");
                return;
            }
            Ok((status, body)) => panic!("unexpected answer {status}: {body}"),
            Err(_) => {
                // Killed mid-request: the batch may or may not be stored.
                ledger.unanswered.push(batch);
                return;
            }
        }
    }
}

fn stored_event_ids(dir: &Path) -> HashMap<String, i64> {
    let conn = duckdb::Connection::open_with_flags(
        dir.join("iem.duckdb"),
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .expect("the store opens after the kill");
    let mut stmt = conn
        .prepare("SELECT event_id, count(*) FROM events GROUP BY event_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

fn verify_offline(dir: &Path) {
    let output = store_command(dir, &["verify"]);
    assert!(
        output.status.success(),
        "store verify found differences:\n{}",
        output_text(&output)
    );
}

/// Checks the store against the ledger; returns how many events were checked.
fn check(dir: &Path, ledger: &Ledger) -> usize {
    let stored = stored_event_ids(dir);
    let repeated: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "events stored twice: {repeated:?}");
    let lost: Vec<_> = ledger
        .acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let leaked: Vec<_> = ledger
        .refused
        .iter()
        .filter(|id| stored.contains_key(*id))
        .collect();
    assert!(
        leaked.is_empty(),
        "events of refused requests stored: {leaked:?}"
    );
    for batch in &ledger.unanswered {
        let present = batch
            .ids
            .iter()
            .filter(|id| stored.contains_key(*id))
            .count();
        assert!(
            present == 0 || present == batch.ids.len(),
            "an unanswered request is half stored: {present} of {} events",
            batch.ids.len()
        );
    }
    verify_offline(dir);
    stored.len()
}

fn kill(server: &mut Server) {
    // SIGKILL: no shutdown, no checkpoint, nothing flushed that was not already.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("the server is gone");
}

#[test]
fn acknowledged_events_survive_sigkill() {
    let kills: usize = std::env::var("IEM_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("IEM_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(1)
        });
    eprintln!("crash: {kills} kills, seed {seed} (IEM_CRASH_SEED repeats it)");
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let writers: Vec<_> = (0..2)
        .map(|id| {
            Arc::new(Mutex::new(WriterState {
                id,
                next_event: 0,
                next_dossier: 0,
                open: Vec::new(),
            }))
        })
        .collect();
    let started = Instant::now();
    let mut checked = 0usize;
    let mut resent = 0usize;
    for round in 0..kills {
        let mut server = start(dir.path());
        let token = ingest_token(dir.path());
        // First, what the last kill left unanswered: resending is safe (event ids make it
        // idempotent) and must now be answered: 200, or 422 for one with an invalid line.
        let unanswered = std::mem::take(&mut ledger.lock().unwrap().unanswered);
        for batch in unanswered {
            let (status, body) =
                post(&server.addr, &token, &batch.body).expect("the resend is answered");
            let mut l = ledger.lock().unwrap();
            if batch.invalid {
                assert_eq!(status, 422, "resending an invalid request: {body}");
                l.refused.extend(batch.ids.iter().cloned());
                writers[batch.writer].lock().unwrap().undo(&batch);
            } else {
                assert_eq!(status, 200, "resending an unanswered request: {body}");
                l.acked.extend(batch.ids.iter().cloned());
                writers[batch.writer].lock().unwrap().stored(&batch);
            }
            resent += 1;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = writers
            .iter()
            .map(|w| {
                let (addr, token, w, l, s) = (
                    server.addr.clone(),
                    token.clone(),
                    w.clone(),
                    ledger.clone(),
                    stop.clone(),
                );
                let rng = Rng(rng.next() | 1);
                std::thread::spawn(move || write_until_killed(addr, token, w, l, rng, s))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + rng.below(1100)));
        kill(&mut server);
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().expect("a writer panicked");
        }
        let l = ledger.lock().unwrap();
        checked = check(dir.path(), &l);
        eprintln!(
            "crash: kill {} of {kills}: {} events stored, {} acknowledged, {} unanswered requests, {} refused events ({:.0} s)",
            round + 1,
            checked,
            l.acked.len(),
            l.unanswered.len(),
            l.refused.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let l = ledger.lock().unwrap();
    assert!(
        l.acked.len() > 1000,
        "too little was written to prove anything: {}",
        l.acked.len()
    );
    eprintln!(
        "crash: survived {kills} kills; {} requests, {} acknowledged events all present once, {checked} stored, {resent} unanswered requests resent",
        l.requests,
        l.acked.len()
    );
}
