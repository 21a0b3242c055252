//! Soak: ingest writers and dashboard readers at once against the release server for minutes,
//! reporting latencies and memory minute by minute, then proving that no acknowledged event
//! was dropped.
//!
//! Every writer has its own ingest token. Most post at a pace under the per-token limit and must
//! never be refused; a few post as fast as they can, are refused with 429 deliberately, wait
//! the `Retry-After` they are told and send the same batch again.
use super::live::{rss_kib, start, Server};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Options {
    pub minutes: f64,
    pub writers: usize,
    pub greedy: usize,
    pub readers: usize,
}

/// The per-token limit the soak server runs with (requests per second; burst twice that).
const TOKEN_RATE: u32 = 10;
/// A paced writer's interval: 4 requests a second, well under the limit.
const PACE: Duration = Duration::from_millis(250);

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    addr: String,
    reader: Option<BufReader<TcpStream>>,
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
}

impl Connection {
    fn new(addr: &str) -> Self {
        Connection {
            addr: addr.to_string(),
            reader: None,
        }
    }

    async fn request(&mut self, head: &str, body: &str) -> Result<Answer, String> {
        if self.reader.is_none() {
            let stream = TcpStream::connect(&self.addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            self.reader = Some(BufReader::new(stream));
        }
        let result = self.exchange(head, body).await;
        if result.is_err() {
            self.reader = None;
        }
        result
    }

    async fn exchange(&mut self, head: &str, body: &str) -> Result<Answer, String> {
        let reader = self.reader.as_mut().ok_or("no connection")?;
        let request = format!(
            "{head}\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line: {line:?}"))?;
        let (mut length, mut retry_after) = (None, None);
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .await
                .map_err(|e| format!("read: {e}"))?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if let Some(v) = lower.strip_prefix("retry-after:") {
                retry_after = v.trim().parse::<u64>().ok();
            }
        }
        let length = length.ok_or("an answer without Content-Length")?;
        let mut body = vec![0u8; length];
        reader
            .read_exact(&mut body)
            .await
            .map_err(|e| format!("read body: {e}"))?;
        Ok(Answer {
            status,
            retry_after,
        })
    }
}

/// Latencies (ms) and counts for one minute.
#[derive(Default, Clone)]
struct Minute {
    ingest_ms: Vec<f64>,
    read_ms: Vec<f64>,
    refused_429: u64,
    events: u64,
    rss_kib: Vec<u64>,
}

#[derive(Default)]
struct Tally {
    minutes: Vec<Minute>,
    errors: Vec<String>,
    /// 429s that paced writers got (there should be none).
    paced_429: u64,
}

impl Tally {
    fn minute(&mut self, started: Instant) -> &mut Minute {
        let m = (started.elapsed().as_secs() / 60) as usize;
        if self.minutes.len() <= m {
            self.minutes.resize(m + 1, Minute::default());
        }
        &mut self.minutes[m]
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

/// A batch of 10 receptions and up to 5 resolutions of this writer's earlier dossiers.
fn batch(writer: usize, n: u64, open: &mut Vec<String>) -> (String, Vec<String>, Vec<String>) {
    let now = chrono::Utc::now().with_timezone(&app::indicators::vietnam_offset());
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let due = (now + chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let (unit, level) = [
        ("502", "district"),
        ("503", "district"),
        ("20398", "commune"),
    ][writer % 3];
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    let mut received = Vec::new();
    for k in 0..10 {
        let id = format!("soak-{writer}-{n}-{k}");
        lines.push(format!(
            r#"{{"event_id":"{id}","dossier_id":"{id}","type":"received","at":"{at}","unit":"{unit}","level":"{level}","procedure":"DD-01","field":"Đất đai","channel":"online","due":"{due}"}}"#
        ));
        ids.push(id.clone());
        received.push(id);
    }
    for k in 0..5 {
        let Some(dossier) = open.pop() else { break };
        let id = format!("soak-{writer}-{n}-x{k}");
        lines.push(format!(
            r#"{{"event_id":"{id}","dossier_id":"{dossier}","type":"resolved","at":"{at}"}}"#
        ));
        ids.push(id);
    }
    (lines.join("\n"), ids, received)
}

async fn writer(
    addr: String,
    token: String,
    id: usize,
    greedy: bool,
    until: Instant,
    started: Instant,
    tally: Arc<Mutex<Tally>>,
) -> HashSet<String> {
    let mut conn = Connection::new(&addr);
    let mut acked = HashSet::new();
    let mut open = Vec::new();
    let mut n = 0u64;
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/x-ndjson"
    );
    while Instant::now() < until {
        let (body, ids, received) = batch(id, n, &mut open);
        n += 1;
        // The same batch until it is stored: a 429 is an invitation to come back, not a loss.
        loop {
            let sent = Instant::now();
            let answer = conn.request(&head, &body).await;
            let ms = sent.elapsed().as_secs_f64() * 1000.0;
            // The tally's lock is never held across an await.
            let wait = {
                let mut t = tally.lock().expect("tally");
                match answer {
                    Ok(Answer { status: 200, .. }) => {
                        let minute = t.minute(started);
                        minute.ingest_ms.push(ms);
                        minute.events += ids.len() as u64;
                        None
                    }
                    Ok(Answer {
                        status: 429,
                        retry_after,
                    }) => {
                        t.minute(started).refused_429 += 1;
                        if !greedy {
                            t.paced_429 += 1;
                        }
                        match retry_after {
                            Some(wait) => Some(wait.max(1)),
                            None => {
                                t.errors.push("a 429 without Retry-After".into());
                                return acked;
                            }
                        }
                    }
                    Ok(Answer { status, .. }) => {
                        t.errors.push(format!("ingest answered {status}"));
                        return acked;
                    }
                    Err(e) => {
                        t.errors.push(format!("ingest: {e}"));
                        return acked;
                    }
                }
            };
            match wait {
                None => {
                    acked.extend(ids.iter().cloned());
                    open.extend(received.iter().cloned());
                    break;
                }
                Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            }
        }
        if !greedy {
            tokio::time::sleep(PACE).await;
        }
    }
    acked
}

fn read_paths(today: chrono::NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let month = today.with_day(1).expect("date");
    let year = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("date");
    let mut out = Vec::new();
    for from in [month, year] {
        let span = format!("from={from}&to={today}");
        out.push(format!("/api/v1/stats?{span}&level=district&parent=49"));
        out.push(format!("/api/v1/stats?{span}&level=commune&parent=502"));
        out.push(format!("/api/v1/stats?{span}&level=province"));
        out.push(format!(
            "/api/v1/stats?{span}&level=district&parent=49&channel=online"
        ));
        out.push(format!("/api/v1/trend?unit=502&from={year}&to={today}"));
    }
    out.push("/api/v1/tiles?level=district&parent=49".into());
    out
}

async fn reader(
    addr: String,
    id: usize,
    until: Instant,
    started: Instant,
    tally: Arc<Mutex<Tally>>,
) {
    let today = chrono::Utc::now()
        .with_timezone(&app::indicators::vietnam_offset())
        .date_naive();
    let paths = read_paths(today);
    let mut conn = Connection::new(&addr);
    let mut k = id;
    while Instant::now() < until {
        let path = &paths[k % paths.len()];
        k = k.wrapping_mul(31).wrapping_add(7);
        let sent = Instant::now();
        let answer = conn.request(&format!("GET {path} HTTP/1.1"), "").await;
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        {
            let mut t = tally.lock().expect("tally");
            match answer {
                Ok(Answer { status: 200, .. }) => t.minute(started).read_ms.push(ms),
                Ok(Answer { status, .. }) => t.errors.push(format!("GET {path} answered {status}")),
                Err(e) => t.errors.push(format!("GET {path}: {e}")),
            }
        }
        // About one read a second per reader, spread so they do not move in step.
        tokio::time::sleep(Duration::from_millis(500 + (k % 1000) as u64)).await;
    }
}

pub async fn run(data: &Path, options: Options) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("iem-bench-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let book = server::auth::accounts::AccountBook::at(&dir);
    let mut tokens = Vec::new();
    for i in 0..options.writers {
        let (_, plain) = book
            .create_token(
                &format!("soak-writer-{i}"),
                server::auth::Role::Ingest,
                Some(server::auth::ALL_UNITS),
            )
            .map_err(|e| e.to_string())?;
        tokens.push(plain);
    }
    let result = async {
        let mut server = start(data, &dir, Some(TOKEN_RATE)).await?;
        let outcome = soak(&server, &tokens, &options).await;
        // A clean stop (SIGTERM) so the store can be opened to count what it holds.
        let pid = server.child.id();
        // SAFETY: sending SIGTERM to the child we started.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        let _ = tokio::task::spawn_blocking(move || server.child.wait()).await;
        let acked = outcome?;
        check_stored(&dir, &acked)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn soak(
    server: &Server,
    tokens: &[String],
    options: &Options,
) -> Result<HashSet<String>, String> {
    let pid = server.child.id();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(options.minutes * 60.0);
    let tally = Arc::new(Mutex::new(Tally::default()));
    println!(
        "soak: {} writers ({} of them as fast as they can, over the {TOKEN_RATE} requests/s per-token limit) and {} readers for {} min …",
        options.writers, options.greedy, options.readers, options.minutes
    );
    let mut writers = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        writers.push(tokio::spawn(writer(
            server.addr.clone(),
            token.clone(),
            i,
            i < options.greedy,
            until,
            started,
            tally.clone(),
        )));
    }
    let mut readers = Vec::new();
    for i in 0..options.readers {
        readers.push(tokio::spawn(reader(
            server.addr.clone(),
            i,
            until,
            started,
            tally.clone(),
        )));
    }
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let rss = rss_kib(pid)?;
        let mut t = tally.lock().map_err(|_| "poisoned")?;
        t.minute(started).rss_kib.push(rss);
        if !t.errors.is_empty() {
            return Err(format!(
                "soak: errors: {:?}",
                &t.errors[..t.errors.len().min(5)]
            ));
        }
    }
    let mut acked = HashSet::new();
    for w in writers {
        acked.extend(w.await.map_err(|e| e.to_string())?);
    }
    for r in readers {
        r.await.map_err(|e| e.to_string())?;
    }
    let mut t = tally.lock().map_err(|_| "poisoned")?;
    println!("soak: minute | events/s | ingest p50 / p95 / max ms | reads/s | read p50 / p95 / max ms | 429s | server RSS MiB");
    let (mut all_ingest, mut all_read) = (Vec::new(), Vec::new());
    let mut total_429 = 0;
    for (i, m) in t.minutes.iter_mut().enumerate() {
        all_ingest.extend_from_slice(&m.ingest_ms);
        all_read.extend_from_slice(&m.read_ms);
        total_429 += m.refused_429;
        let rss = m
            .rss_kib
            .last()
            .map(|k| *k as f64 / 1024.0)
            .unwrap_or(f64::NAN);
        let reads = m.read_ms.len();
        println!(
            "soak: {:>6} | {:>8.0} | {:>5.1} / {:>6.1} / {:>7.1} | {:>7.0} | {:>5.1} / {:>6.1} / {:>7.1} | {:>4} | {:>8.1}",
            i + 1,
            m.events as f64 / 60.0,
            percentile(&mut m.ingest_ms, 0.5),
            percentile(&mut m.ingest_ms, 0.95),
            percentile(&mut m.ingest_ms, 1.0),
            reads as f64 / 60.0,
            percentile(&mut m.read_ms, 0.5),
            percentile(&mut m.read_ms, 0.95),
            percentile(&mut m.read_ms, 1.0),
            m.refused_429,
            rss
        );
    }
    println!(
        "soak: overall ingest p50 {:.1} ms, p95 {:.1} ms; reads p50 {:.1} ms, p95 {:.1} ms; {} requests refused with 429 ({} of them to paced writers); {} events acknowledged; errors {}",
        percentile(&mut all_ingest, 0.5),
        percentile(&mut all_ingest, 0.95),
        percentile(&mut all_read, 0.5),
        percentile(&mut all_read, 0.95),
        total_429,
        t.paced_429,
        acked.len(),
        t.errors.len()
    );
    if !t.errors.is_empty() {
        return Err(format!(
            "soak: errors: {:?}",
            &t.errors[..t.errors.len().min(5)]
        ));
    }
    if t.paced_429 > 0 {
        return Err(format!(
            "soak: {} 429s to writers under the limit",
            t.paced_429
        ));
    }
    Ok(acked)
}

/// Every acknowledged event is in the store exactly once.
fn check_stored(dir: &Path, acked: &HashSet<String>) -> Result<(), String> {
    let conn = duckdb::Connection::open_with_flags(
        dir.join("iem.duckdb"),
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot open the soaked store: {e}"))?;
    let mut stmt = conn
        .prepare("SELECT event_id, count(*) FROM events GROUP BY event_id")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(|e| e.to_string())?;
    let mut stored = HashSet::new();
    for row in rows {
        let (id, n) = row.map_err(|e| e.to_string())?;
        if n != 1 {
            return Err(format!("event {id} stored {n} times"));
        }
        stored.insert(id);
    }
    let missing = acked.iter().filter(|id| !stored.contains(*id)).count();
    println!(
        "soak: the store holds {} events; {} acknowledged, {missing} of them missing",
        stored.len(),
        acked.len()
    );
    if missing > 0 {
        return Err(format!("{missing} acknowledged events were lost"));
    }
    Ok(())
}
