//! The ingest pipeline every writer goes through (the HTTP handler, the file import and the demo
//! simulator): read each line into an event, store a batch whole or not at all, and announce
//! the commit to the live stream. It sits below the HTTP layer, so none of its callers climbs
//! into another's module to ingest.
use super::event::{parse_event, Event, LineError};
use crate::live::ChangeFeed;
use crate::scope::Scope;
use crate::store::check::{BatchError, BatchOutcome};
use crate::store::served::ServedStore;
use crate::store::StoreFailure;
use serde_json::Value;
use std::sync::Arc;

/// Each line (or array element) with its number: a JSON value, or why it is not one.
pub type NumberedLines = Vec<(u32, Result<Value, LineError>)>;

/// Why nothing of a batch was stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Lines that are not valid events, or that the store refuses (every one is listed).
    #[error("{} invalid line(s)", .0.len())]
    Rejected(Vec<LineError>),
    /// Events outside the writer's units: refused for that alone.
    #[error("{} line(s) outside the writer's units", .0.len())]
    OutOfScope(Vec<LineError>),
    /// A request with no events in it.
    #[error("the request holds no events")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreFailure),
    #[error("an ingest task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<BatchError> for IngestError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Rejected(errors) => IngestError::Rejected(errors),
            BatchError::OutOfScope(lines) => IngestError::OutOfScope(lines),
            BatchError::Store(e) => IngestError::Store(e),
        }
    }
}

/// The lines that are events, and why each other line is not one.
pub fn read_events(
    lines: NumberedLines,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<(u32, Event)>, Vec<LineError>) {
    let mut errors = Vec::new();
    let mut events = Vec::new();
    for (line, value) in lines {
        match value {
            Err(e) => errors.push(e),
            Ok(v) => match parse_event(line, &v, now) {
                Ok(e) => events.push((line, e)),
                Err(es) => errors.extend(es),
            },
        }
    }
    (events, errors)
}

/// What the store would refuse of well-formed events, without storing anything: so that a
/// refused request or file lists every problem at once, not only its unreadable lines.
/// Blocking: call it off the async workers.
pub fn problems(
    store: &dyn ServedStore,
    events: &[(u32, Event)],
    scope: &Scope,
) -> Result<Vec<LineError>, IngestError> {
    match store.check(events, scope) {
        Ok(()) => Ok(Vec::new()),
        Err(BatchError::Rejected(errors)) => Ok(errors),
        Err(e) => Err(e.into()),
    }
}

/// Stores a batch whole or not at all, checked against the writer's scope under the writer's
/// lock (and the cluster's), so that no reception of another unit can slip in between.
/// Blocking: call it off the async workers.
pub fn store_batch(
    store: &dyn ServedStore,
    events: Vec<(u32, Event)>,
    scope: &Scope,
) -> Result<BatchOutcome, IngestError> {
    Ok(store.ingest(events, scope)?)
}

/// The whole pipeline for a running server: read every line, store all or nothing, then wake
/// the live stream. A batch with bad lines lists them all (the store's objections to the good
/// lines too) and stores nothing.
pub async fn ingest(
    store: &Arc<dyn ServedStore>,
    feed: &ChangeFeed,
    lines: NumberedLines,
    scope: &Scope,
) -> Result<BatchOutcome, IngestError> {
    let (events, mut errors) = read_events(lines, chrono::Utc::now());
    if !errors.is_empty() {
        let (s, token_scope) = (store.clone(), scope.clone());
        let more =
            tokio::task::spawn_blocking(move || problems(&*s, &events, &token_scope)).await??;
        errors.extend(more);
        errors.sort_by_key(|e| e.line);
        return Err(IngestError::Rejected(errors));
    }
    if events.is_empty() {
        return Err(IngestError::Empty);
    }
    let (s, token_scope) = (store.clone(), scope.clone());
    let outcome =
        tokio::task::spawn_blocking(move || store_batch(&*s, events, &token_scope)).await??;
    if outcome.accepted > 0 {
        feed.notify(outcome.last_seq.unwrap_or_default());
    }
    Ok(outcome)
}
