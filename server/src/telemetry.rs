//! Structured logs: one line per request with its id, status and latency.
use axum::http::{HeaderName, Request};
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing_subscriber::{fmt, EnvFilter};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Logs as JSON (`--log-format json`) or human-readable, filtered by `filter` (`--log`, checked
/// by the configuration; a filter that cannot be read falls back to the default).
pub fn init(json: bool, filter: &str) {
    let filter =
        EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.compact().init();
    }
}

/// Request ids: a per-process random prefix and a counter, so ids are unique and cheap.
#[derive(Clone)]
pub struct SequentialRequestId {
    prefix: u32,
    counter: std::sync::Arc<AtomicU64>,
}

impl Default for SequentialRequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl SequentialRequestId {
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        SequentialRequestId {
            prefix: nanos ^ std::process::id(),
            counter: Default::default(),
        }
    }
}

impl MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n:06}", self.prefix)
            .parse()
            .ok()
            .map(RequestId::new)
    }
}
