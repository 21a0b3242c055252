//! The monthly meeting report (`GET /api/v1/reports/monthly`): a unit's month as a PDF a leader
//! prints for the meeting — headline figures against the previous month and a year earlier, the
//! map, the ranking against the 95% threshold, the trend, what causes late dossiers and who
//! crossed the threshold. Public figures only, unless a signed-in reader's report adds the late
//! dossiers by agency.
mod data;
mod draw;
mod pages;

pub use data::{gather, month_period, AgencyLate, ReportData, ReportRequest};

use app::store::StoreError;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The PDF's creator field.
pub const CREATOR: &str = "Institutional Enforcement Map";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unit: no unit with code '{0}' in force in that month")]
    UnknownUnit(String),
    #[error("month: {0}")]
    BadMonth(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report could not be drawn: {0}")]
    Render(String),
}

/// A drawn report.
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
}

/// The report as PDF.
pub fn render(data: &ReportData) -> Result<Rendered, ReportError> {
    pages::render(data).map_err(ReportError::Render)
}

/// How many reports may be drawn at once: each takes a blocking thread and a few store reads,
/// and anyone may ask for one.
const AT_ONCE: usize = 2;
/// Public reports kept, each for as long as the data it was drawn from has not changed.
const KEPT: usize = 32;

/// What a kept report was drawn from: the request and the data's last change.
type KeptKey = (
    ReportRequest,
    Option<chrono::DateTime<chrono::Utc>>,
    chrono::NaiveDate,
);

/// The server's report desk: a bound on reports drawn at once and the last public reports drawn,
/// so that a link shared in a newsroom costs one drawing, not one per reader.
pub struct Reports {
    permits: Arc<tokio::sync::Semaphore>,
    kept: Mutex<VecDeque<(KeptKey, Arc<Vec<u8>>)>>,
    /// Reports drawn per client: a kept one is free, a new drawing takes a token.
    per_client: crate::auth::rate_limit::RateLimiter,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            permits: Arc::new(tokio::sync::Semaphore::new(AT_ONCE)),
            kept: Mutex::new(VecDeque::new()),
            // Ten at once, then one every six seconds: a leader's month of reports, not a crawl.
            per_client: crate::auth::rate_limit::RateLimiter::new(crate::auth::rate_limit::Limit {
                burst: 10.0,
                per_second: 1.0 / 6.0,
            }),
        }
    }
}

impl Reports {
    /// Takes one drawing from `client`'s allowance, or says how long to wait.
    pub fn allow(&self, client: &str) -> Result<(), std::time::Duration> {
        self.per_client.check(client)
    }

    /// A permit to draw a report, or `None` when [`AT_ONCE`] are being drawn.
    pub fn permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    pub fn kept(&self, key: &KeptKey) -> Option<Arc<Vec<u8>>> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|(k, _)| k == key)
            .map(|(_, pdf)| pdf.clone())
    }

    pub fn keep(&self, key: KeptKey, pdf: Arc<Vec<u8>>) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(k, _)| k.0 != key.0);
        if kept.len() >= KEPT {
            kept.pop_front();
        }
        kept.push_back((key, pdf));
    }
}
