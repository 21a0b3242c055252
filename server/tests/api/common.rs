//! A test harness: the real router over a fresh store, driven in-process. The store is a DuckDB
//! file, or, when `IEM_TEST_CLUSTER` names a cluster's shards (`HOST:PORT,HOST:PORT`), a fresh
//! database on that cluster with the file as its reference data: `make test` runs the API suite
//! both ways.
#![allow(dead_code)]
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use server::auth::{Auth, AuthSettings, IngestToken};
use server::http::{router, AppState};
use server::store::clickhouse::ClusterStore;
use server::store::served::ServedStore;
use server::store::DuckStore;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

pub const TOKEN: &str = "test-ingest-token";

pub struct TestApp {
    pub router: Router,
    /// The alert rules the router serves (evaluated by a test when it wants).
    pub alerts: Arc<server::alerts::Alerts>,
    /// The embedded store, or the cluster store's local reference data.
    pub store: Arc<DuckStore>,
    /// What the router serves from: `store`, or the cluster.
    pub served: Arc<dyn ServedStore>,
    pub dir: tempfile::TempDir,
}

/// The cluster the in-process API tests run on, if `IEM_TEST_CLUSTER` names one.
pub fn test_cluster() -> Option<String> {
    std::env::var("IEM_TEST_CLUSTER")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A database of its own on the test cluster for each test app.
fn cluster_store(
    shards: &str,
    reference: &std::path::Path,
    data: &std::path::Path,
) -> ClusterStore {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let address = format!("clickhouse://{shards}/t{}_{n}", std::process::id())
        .parse()
        .expect("IEM_TEST_CLUSTER is HOST:PORT,HOST:PORT");
    ClusterStore::open(address, reference, data).expect("the cluster store opens")
}

pub fn authored_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

pub fn app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.duckdb");
    with_store(&path, dir)
}

/// The router over an existing (or new) store file.
pub fn app_at(path: &std::path::Path) -> TestApp {
    with_store(path, tempfile::tempdir().expect("temp dir"))
}

fn with_store(path: &std::path::Path, dir: tempfile::TempDir) -> TestApp {
    with_store_and_data(path, dir, &authored_data())
}

/// A fresh store seeded from another reference-data directory (laid out like `data/`).
pub fn app_with_data(data: &std::path::Path) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.duckdb");
    with_store_and_data(&path, dir, data)
}

fn with_store_and_data(
    path: &std::path::Path,
    dir: tempfile::TempDir,
    data: &std::path::Path,
) -> TestApp {
    with_settings(path, dir, data, AuthSettings::default())
}

/// A fresh store with these authentication settings (limits, session times).
pub fn app_with_auth(settings: AuthSettings) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.duckdb");
    with_settings(&path, dir, &authored_data(), settings)
}

fn with_settings(
    path: &std::path::Path,
    dir: tempfile::TempDir,
    data: &std::path::Path,
    settings: AuthSettings,
) -> TestApp {
    with_alert_settings(path, dir, data, settings, Default::default())
}

/// A fresh store whose alerts may use these settings (webhook hosts, retry waits).
pub fn app_with_alerts(alerts: server::alerts::AlertSettings) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.duckdb");
    with_alert_settings(
        &path,
        dir,
        &authored_data(),
        AuthSettings::default(),
        alerts,
    )
}

fn with_alert_settings(
    path: &std::path::Path,
    dir: tempfile::TempDir,
    data: &std::path::Path,
    settings: AuthSettings,
    alert_settings: server::alerts::AlertSettings,
) -> TestApp {
    let (store, served): (Arc<DuckStore>, Arc<dyn ServedStore>) = match test_cluster() {
        Some(shards) => {
            let cluster = cluster_store(&shards, path, data);
            (cluster.reference(), Arc::new(cluster))
        }
        None => {
            let store = Arc::new(DuckStore::open(path, data).expect("store opens"));
            (store.clone(), store)
        }
    };
    let mut state = AppState::new(
        LeptosOptions::builder().output_name("iem").build(),
        served.clone(),
        Auth::new(dir.path(), Some(IngestToken::from_plain(TOKEN)), settings),
        Default::default(),
    );
    let alerts = Arc::new(
        server::alerts::Alerts::open(dir.path(), alert_settings).expect("alert file opens"),
    );
    state.alerts = Some(alerts.clone());
    TestApp {
        alerts,
        router: router(state),
        store,
        served,
        dir,
    }
}

impl TestApp {
    pub async fn request(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_ndjson(&self, lines: &[Value]) -> (StatusCode, Value) {
        let body = lines
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        self.post_raw("application/x-ndjson", body.into_bytes())
            .await
    }

    pub async fn post_raw(&self, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        self.request(
            Request::post("/api/v1/events")
                .header("content-type", content_type)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Province-level stats for Quảng Nam (49) over a period, as the API answers them.
    pub async fn province_total(&self, from: &str, to: &str) -> Value {
        let (status, body) = self
            .get(&format!("/api/v1/stats?from={from}&to={to}&level=province"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == "49")
            .cloned()
            .expect("Quảng Nam listed")
    }
}

/// A `received` event for a district of Quảng Nam (502, Tam Kỳ) unless changed.
pub fn received(event_id: &str, dossier_id: &str, at: &str, due: &str) -> Value {
    serde_json::json!({
        "event_id": event_id, "dossier_id": dossier_id, "type": "received", "at": at,
        "unit": "502", "level": "district", "procedure": "DD-01", "field": "Đất đai",
        "channel": "online", "due": due, "fee": true, "paid_online": true
    })
}

pub fn resolved(event_id: &str, dossier_id: &str, at: &str) -> Value {
    serde_json::json!({"event_id": event_id, "dossier_id": dossier_id, "type": "resolved", "at": at})
}

/// The `(line, code)` pairs of a rejection body.
pub fn error_codes(body: &Value) -> Vec<(u64, String)> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["line"].as_u64().unwrap(),
                        e["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A tiny deterministic generator for test data (variety, not statistics).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}
