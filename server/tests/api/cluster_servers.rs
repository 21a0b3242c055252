//! Two web servers in front of one cluster: an event ingested through one reaches the other's
//! live-stream clients within a second, and stopping either loses no acknowledged event.
use crate::clickhouse::Cluster;
use crate::process::{http, ingest, ingest_token, start_with, Server};
use server::store::clickhouse::ClickHouse;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const VIEW: &str = "from=2025-05-01&to=2025-05-31&level=district&parent=49";
/// Receptions per request while server A is killed.
const KILL_BATCH: u32 = 10;

/// Quảng Nam's received count in each `figures` message of a server's live stream, with when it
/// arrived.
fn follow(addr: &str) -> mpsc::Receiver<(Instant, u64)> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/v1/stream?{VIEW} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data:") {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                    continue;
                };
                if let Some(n) = v["stats"]["total"]["received"].as_u64() {
                    if send.send((Instant::now(), n)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    receive
}

fn receptions(prefix: &str, n: u32) -> String {
    (0..n)
        .map(|k| {
            format!(
                r#"{{"event_id":"{prefix}-{k}","dossier_id":"{prefix}-{k}","type":"received","at":"2025-05-0{}T08:00:00+07:00","unit":"502","level":"district","procedure":"DD-01","field":"Đất đai","channel":"online","due":"2025-05-20T17:00:00+07:00"}}"#,
                1 + k % 9
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn received(server: &Server) -> u64 {
    figures(server)["total"]["received"].as_u64().unwrap()
}

#[test]
fn two_servers_share_a_cluster_and_its_live_stream() {
    let cluster = Cluster::start();
    let env = [("STORE_URL", cluster.url.as_str())];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start_with(dir_a.path(), &env);
    let b = start_with(dir_b.path(), &env);
    let (token_a, token_b) = (ingest_token(dir_a.path()), ingest_token(dir_b.path()));

    // A client of B sees what is ingested through A, within a second, five times over.
    let stream = follow(&b.addr);
    let (_, mut shown) = stream
        .recv_timeout(Duration::from_secs(10))
        .expect("first figures");
    let mut delays = Vec::new();
    for round in 0..5 {
        let sent = Instant::now();
        ingest(&a.addr, &token_a, &receptions(&format!("a{round}"), 20));
        let (arrived, n) = loop {
            let (at, n) = stream
                .recv_timeout(Duration::from_secs(5))
                .expect("B's stream shows A's ingest");
            if n > shown {
                break (at, n);
            }
        };
        assert_eq!(n, shown + 20);
        shown = n;
        delays.push(arrived - sent);
    }
    let slowest = delays.iter().max().unwrap();
    eprintln!("ingest through A → B's live stream: {delays:?}");
    assert!(*slowest < Duration::from_secs(1), "{delays:?}");

    // An event resent through the other server is still one event.
    ingest(&b.addr, &token_b, &receptions("a0", 20));
    ingest(&b.addr, &token_b, &receptions("b", 10));
    assert_eq!(received(&a), 110);
    assert_eq!(received(&b), 110);

    // A server killed while ingesting loses nothing it acknowledged.
    let (acked_send, acked) = mpsc::channel();
    let writer = {
        let (addr, token) = (a.addr.clone(), token_a.clone());
        std::thread::spawn(move || {
            for k in 0.. {
                let body = receptions(&format!("k{k}"), KILL_BATCH);
                match http(&addr, "POST", "/api/v1/events", Some(&token), &body) {
                    Ok((200, _)) => acked_send.send(k).unwrap(),
                    _ => return,
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    writer.join().unwrap();
    let acknowledged: Vec<u32> = acked.try_iter().collect();
    assert!(acknowledged.len() >= 3, "{} batches", acknowledged.len());
    // A request A had already sent to the cluster may still land after A died (unacknowledged,
    // so allowed): wait until the count settles.
    let mut total = received(&b);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = received(&b);
        if now == total {
            break;
        }
        total = now;
    }
    assert!(
        total >= 110 + u64::from(KILL_BATCH) * acknowledged.len() as u64,
        "{total} received, {} batches acknowledged",
        acknowledged.len()
    );
    // The count could hide a lost acknowledged event behind an unacknowledged one that landed:
    // look each acknowledged dossier up on the cluster itself.
    let stored: std::collections::HashSet<String> =
        ClickHouse::new(&cluster.address.shards[0])
            .execute(
                &format!(
                    "SELECT DISTINCT dossier_id FROM {}.events WHERE dossier_id LIKE 'k%' FORMAT TabSeparated",
                    cluster.address.database
                ),
                b"",
            )
            .expect("the cluster lists the killed server's dossiers")
            .lines()
            .map(str::to_string)
            .collect();
    for k in &acknowledged {
        for j in 0..KILL_BATCH {
            let id = format!("k{k}-{j}");
            assert!(stored.contains(&id), "acknowledged {id} is not stored");
        }
    }
    eprintln!(
        "killed A after {} acknowledged batches, all {} of their dossiers stored; B counts {total} receptions",
        acknowledged.len(),
        KILL_BATCH as usize * acknowledged.len()
    );
    // B goes on taking events alone.
    ingest(&b.addr, &token_b, &receptions("after", 5));
    assert_eq!(received(&b), total + 5);

    // A file imported into the cluster while B runs, with B's data directory.
    let file = dir_b.path().join("import.ndjson");
    std::fs::write(&file, receptions("file", 7)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("import")
        .arg(&file)
        .env("STORE_URL", &cluster.url)
        .env("IEM_DATA_DIR", dir_b.path())
        .env("IEM_CONFIG_DIR", crate::process::authored_data())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        crate::process::output_text(&out)
    );
    assert_eq!(received(&b), total + 12);
}

/// Sends `bodies[i]` to `targets[i]` (address, token) all at the same moment; their statuses
/// and answers, in order.
fn at_once(targets: &[(&str, &str)], bodies: &[String]) -> Vec<(u16, serde_json::Value)> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(targets.len()));
    let threads: Vec<_> = targets
        .iter()
        .zip(bodies)
        .map(|((addr, token), body)| {
            let (addr, token, body) = (addr.to_string(), token.to_string(), body.clone());
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let (status, text) =
                    http(&addr, "POST", "/api/v1/events", Some(&token), &body).unwrap();
                (status, serde_json::from_str(&text).unwrap_or_default())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// The figures of the view, without what differs between stores by nature (when data arrived).
fn figures(server: &Server) -> serde_json::Value {
    let (status, body) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/stats?{VIEW}"),
        None,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    serde_json::json!({"total": v["total"], "units": v["units"]})
}

#[test]
fn two_servers_count_each_event_once_whatever_races_them() {
    let cluster = Cluster::start();
    let env = [("STORE_URL", cluster.url.as_str())];
    let (dir_a, dir_b, dir_one) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let a = start_with(dir_a.path(), &env);
    let b = start_with(dir_b.path(), &env);
    // The reference: one server on its own embedded store, fed each accepted event once.
    let one = crate::process::start(dir_one.path());
    let (token_a, token_b, token_one) = (
        ingest_token(dir_a.path()),
        ingest_token(dir_b.path()),
        ingest_token(dir_one.path()),
    );
    let targets = [
        (a.addr.as_str(), token_a.as_str()),
        (b.addr.as_str(), token_b.as_str()),
    ];

    // The same batch through both servers at the same moment, 100 times: each event once.
    for round in 0..100 {
        let body = receptions(&format!("r{round}"), 10);
        let answers = at_once(&targets, &[body.clone(), body.clone()]);
        let accepted: u64 = answers
            .iter()
            .map(|(status, v)| {
                assert_eq!(*status, 200, "round {round}: {v}");
                v["accepted"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(accepted, 10, "round {round}: {answers:?}");
        ingest(&one.addr, &token_one, &body);
    }

    // Conflicting events racing: a dossier resolved through A and withdrawn through B at once;
    // exactly one of the two is accepted, and the reference gets that one.
    for k in 0..30 {
        let dossier = format!("r{k}-0");
        let resolve = format!(
            r#"{{"event_id":"x{k}","dossier_id":"{dossier}","type":"resolved","at":"2025-05-15T08:00:00+07:00"}}"#
        );
        let withdraw = format!(
            r#"{{"event_id":"w{k}","dossier_id":"{dossier}","type":"withdrawn","at":"2025-05-15T09:00:00+07:00"}}"#
        );
        let answers = at_once(&targets, &[resolve.clone(), withdraw.clone()]);
        let won: Vec<usize> = (0..2).filter(|i| answers[*i].0 == 200).collect();
        assert_eq!(won.len(), 1, "dossier {dossier}: {answers:?}");
        let loser = &answers[1 - won[0]];
        assert_eq!(loser.0, 422, "dossier {dossier}: {answers:?}");
        ingest(
            &one.addr,
            &token_one,
            if won[0] == 0 { &resolve } else { &withdraw },
        );
    }

    let reference = figures(&one);
    assert_eq!(reference["total"]["received"], 1000, "{reference}");
    assert_eq!(figures(&a), reference);
    assert_eq!(figures(&b), reference);
}
