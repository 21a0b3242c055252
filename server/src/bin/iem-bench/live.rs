//! `iem-bench live`: many stream clients on the release server, latency from an ingest's reply to
//! each client receiving the change, the server's memory per idle client, ingest held meanwhile.
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Options {
    pub clients: usize,
    pub rounds: usize,
    /// Clients that connect and never read (they must not slow the others).
    pub stuck: usize,
}

/// Views the clients watch: each includes a district-level land dossier received online today
/// in Tam Kỳ (502), so every commit in the rounds changes every client's figures.
fn views(today: chrono::NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let year_start = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("date");
    let month_start = today.with_day(1).expect("date");
    let mut out = Vec::new();
    for from in [year_start, month_start] {
        let span = format!("from={from}&to={today}");
        out.push(format!("{span}&level=province"));
        out.push(format!("{span}&level=district&parent=49"));
        out.push(format!(
            "{span}&level=district&parent=49&field=%C4%90%E1%BA%A5t%20%C4%91ai"
        ));
        out.push(format!("{span}&level=district&parent=49&channel=online"));
        out.push(format!("{span}&level=district&dossier_level=district"));
    }
    out
}

pub(super) fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read the server's memory: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc status".to_string())
}

pub(super) struct Server {
    pub(super) child: Child,
    pub(super) addr: String,
    pub(super) token: String,
}

/// The release server on a fresh store in `dir`; `token_rate` is its per-token ingest limit
/// (requests per second), none for no limit.
pub(super) async fn start(
    data: &Path,
    dir: &Path,
    token_rate: Option<u32>,
) -> Result<Server, String> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let addr = format!("127.0.0.1:{port}");
    let binary = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("server");
    let mut child = Command::new(&binary)
        .args(["serve", "--no-demo"])
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("IEM_DATA_DIR", dir)
        .env("IEM_CONFIG_DIR", data)
        .env("RUST_LOG", "warn")
        .env(
            "IEM_INGEST_RATE_LIMIT",
            token_rate.map_or("0".to_string(), |r| r.to_string()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (token_tx, token_rx) = std::sync::mpsc::channel();
    let token_file = dir.join("ingest-token");
    // Waits for the token line, then keeps draining stdout so the server never blocks on it.
    // The token itself comes from its file: the server prints it only when it creates it, and
    // a directory left by an interrupted run may hold one already.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if line.trim_start().starts_with("ingest token") {
                // IEM_INGEST_TOKEN when set: the server inherits this process's environment.
                let token = std::env::var("IEM_INGEST_TOKEN")
                    .ok()
                    .filter(|t| !t.trim().is_empty())
                    .or_else(|| std::fs::read_to_string(&token_file).ok());
                if let Some(token) = token {
                    let _ = token_tx.send(token.trim().to_string());
                }
            }
        }
    });
    let token = tokio::task::spawn_blocking(move || token_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "the server did not print its token within 60 s".to_string())?;
    Ok(Server { child, addr, token })
}

/// One stream client: records when each message (an `id:` line) arrives.
async fn client(
    addr: String,
    view: String,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    connected: tokio::sync::mpsc::Sender<()>,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    let request = format!(
        "GET /api/v1/stream?{view} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    if !line.contains(" 200 ") {
        return Err(format!("stream answered {}", line.trim()));
    }
    let _ = connected.send(()).await;
    loop {
        line.clear();
        if reader
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Ok(());
        }
        if line.starts_with("id:") {
            arrivals
                .lock()
                .map_err(|_| "poisoned")?
                .push(Instant::now());
        }
    }
}

/// A client that sends its request and then never reads.
async fn stuck_client(addr: String, view: String) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    let request = format!("GET /api/v1/stream?{view} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

async fn post(addr: &str, token: &str, body: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(body.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "ingest answered {}",
            answer.lines().next().unwrap_or("nothing")
        ))
    }
}

fn reception(id: &str, now: chrono::DateTime<chrono::FixedOffset>) -> String {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let due =
        (now + chrono::Duration::days(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    format!(
        r#"{{"event_id":"{id}","dossier_id":"{id}","type":"received","at":"{at}","unit":"502","level":"district","procedure":"DD-01","field":"Đất đai","channel":"online","due":"{due}","fee":false,"paid_online":false}}"#
    )
}

pub async fn run(data: &Path, options: Options) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("iem-bench-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // The live bench measures what the server can take, not the per-token limit.
    let mut server = start(data, &dir, None).await?;
    let pid = server.child.id();
    let result = measure(&server, pid, &options).await;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(server: &Server, pid: u32, options: &Options) -> Result<(), String> {
    let tz = app::indicators::vietnam_offset();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let views = views(today);
    let addr = server.addr.clone();
    // Warm up: one client on each view (kept open to the end) and one ingest, so the baseline
    // holds the allocator's working set and each view's task and first computation. Those are
    // per view, not per client; what remains after the baseline is the cost of a client.
    let (warm_tx, mut warm_rx) = tokio::sync::mpsc::channel(views.len());
    let mut warm_clients = Vec::new();
    for view in &views {
        warm_clients.push(tokio::spawn(client(
            addr.clone(),
            view.clone(),
            Arc::new(Mutex::new(Vec::new())),
            warm_tx.clone(),
        )));
    }
    for _ in 0..views.len() {
        tokio::time::timeout(Duration::from_secs(60), warm_rx.recv())
            .await
            .map_err(|_| "the warm-up clients did not connect within 60 s".to_string())?;
    }
    let warm_events = reception("warm-0", chrono::Utc::now().with_timezone(&tz));
    post(&addr, &server.token, &warm_events).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let baseline = rss_kib(pid)?;

    println!(
        "live: connecting {} stream clients over {} views (+{} that never read) …",
        options.clients,
        views.len(),
        options.stuck
    );
    let (connected_tx, mut connected_rx) = tokio::sync::mpsc::channel(options.clients);
    let mut arrivals = Vec::with_capacity(options.clients);
    let mut tasks = Vec::with_capacity(options.clients);
    let connect_started = Instant::now();
    for i in 0..options.clients {
        let log = Arc::new(Mutex::new(Vec::new()));
        arrivals.push(log.clone());
        tasks.push(tokio::spawn(client(
            addr.clone(),
            views[i % views.len()].clone(),
            log,
            connected_tx.clone(),
        )));
        if i % 100 == 99 {
            // Do not overflow the listen backlog.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..options.clients {
        tokio::time::timeout(Duration::from_secs(60), connected_rx.recv())
            .await
            .map_err(|_| "clients did not all connect within 60 s".to_string())?;
    }
    let mut stuck = Vec::new();
    for i in 0..options.stuck {
        stuck.push(stuck_client(addr.clone(), views[i % views.len()].clone()).await?);
    }
    println!(
        "live: {} clients connected in {:.1} s",
        options.clients,
        connect_started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(pid)?;
    let first_batch = options.clients + options.stuck;
    let first_per_client = idle.saturating_sub(baseline) as f64 / first_batch as f64;
    // The first batch may be housed in memory the warm-up's queries freed, which flatters it;
    // a second batch of the same size, on top, shows what one more client really costs. The
    // figure reported is the larger of the two.
    let (extra_tx, mut extra_rx) = tokio::sync::mpsc::channel(first_batch);
    let mut extra = Vec::with_capacity(first_batch);
    for i in 0..first_batch {
        extra.push(tokio::spawn(client(
            addr.clone(),
            views[i % views.len()].clone(),
            Arc::new(Mutex::new(Vec::new())),
            extra_tx.clone(),
        )));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..first_batch {
        tokio::time::timeout(Duration::from_secs(60), extra_rx.recv())
            .await
            .map_err(|_| "the second batch did not connect within 60 s".to_string())?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_doubled = rss_kib(pid)?;
    let second_per_client = idle_doubled.saturating_sub(idle) as f64 / first_batch as f64;
    for task in extra {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_client = first_per_client.max(second_per_client);

    // Rounds: one ingest, then every client should see the change.
    let mut latencies = Vec::new();
    let mut missed = 0usize;
    for round in 0..options.rounds {
        let body = reception(
            &format!("live-{round}"),
            chrono::Utc::now().with_timezone(&tz),
        );
        post(&addr, &server.token, &body).await?;
        let replied = Instant::now();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for log in &arrivals {
            let log = log.lock().map_err(|_| "poisoned")?;
            match log.iter().find(|t| **t >= replied) {
                Some(t) => latencies.push(t.duration_since(replied).as_secs_f64() * 1000.0),
                None => missed += 1,
            }
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pick = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "live: ingest reply → client received, {} deliveries over {} rounds: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; missed {missed}",
        latencies.len(),
        options.rounds,
        pick(0.5),
        pick(0.95),
        pick(1.0)
    );
    println!(
        "live: server memory {:.1} MiB before the clients, {:.1} MiB with {first_batch} idle ({first_per_client:.1} KiB each), {:.1} MiB with {} ({second_per_client:.1} KiB each for the second {first_batch}): {per_client:.1} KiB per idle client",
        baseline as f64 / 1024.0,
        idle as f64 / 1024.0,
        idle_doubled as f64 / 1024.0,
        2 * first_batch
    );

    // Sustained ingest while every client stays connected: batches of 100 on 4 connections.
    let counts: Vec<usize> = arrivals
        .iter()
        .map(|l| l.lock().map(|l| l.len()).unwrap_or(0))
        .collect();
    let seconds = 10.0;
    let started = Instant::now();
    let mut posters = Vec::new();
    for c in 0..4 {
        let (addr, token) = (addr.clone(), server.token.clone());
        posters.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed().as_secs_f64() < seconds {
                let now = chrono::Utc::now().with_timezone(&tz);
                let body: Vec<String> = (0..100)
                    .map(|k| reception(&format!("load-{c}-{n}-{k}"), now))
                    .collect();
                post(&addr, &token, &body.join("\n")).await?;
                n += 100;
            }
            Ok::<u64, String>(n)
        }));
    }
    let mut events = 0u64;
    for p in posters {
        events += p.await.map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut rates: Vec<f64> = arrivals
        .iter()
        .zip(&counts)
        .map(|(l, before)| {
            let n = l.lock().map(|l| l.len()).unwrap_or(0);
            (n - before) as f64 / elapsed
        })
        .collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "live: sustained ingest with the clients connected: {:.0} events/s; messages per client {:.1}/s median, {:.1}/s max (coalesced)",
        events as f64 / elapsed,
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    );
    for t in tasks.into_iter().chain(warm_clients) {
        t.abort();
    }
    drop(stuck);
    Ok(())
}
