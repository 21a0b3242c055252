//! Live figures: the commit feed, and one shared computation per watched view after each commit.
//!
//! A thousand browsers watching the same district cost one stats query per commit, not a
//! thousand: each distinct view (a `StatsQuery`) has one task that recomputes its figures when
//! an ingest commits and publishes them, serialised once, on a `watch` channel. A `watch`
//! channel holds only the newest value, so a slow client never queues messages: it skips to the
//! latest figures, which are always the whole view (a resync, never a diff).
use app::api::LiveFigures;
use app::model::StatsQuery;
use app::store::IndicatorStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The commit feed: every ingest that stores something announces its last sequence number.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: watch::Sender<i64>,
}

impl ChangeFeed {
    /// A feed starting at `last_seq`, the store's highest sequence number.
    pub fn starting_at(last_seq: i64) -> Self {
        ChangeFeed {
            sender: watch::Sender::new(last_seq),
        }
    }

    pub fn notify(&self, last_seq: i64) {
        self.sender.send_if_modified(|current| {
            let newer = last_seq > *current;
            if newer {
                *current = last_seq;
            }
            newer
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.sender.subscribe()
    }
}

/// A view's figures (`None` when they could not be computed) and the message carrying them.
struct Computed {
    stats: Option<app::model::StatsResponse>,
    snapshot: Snapshot,
}

/// One published state of a view: an SSE event name, id and JSON data.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub seq: i64,
    /// `figures` (a `LiveFigures`) or `error` (`{"code", "message"}`).
    pub event: &'static str,
    pub json: String,
}

type ViewSender = watch::Sender<Option<Arc<Snapshot>>>;
pub type ViewReceiver = watch::Receiver<Option<Arc<Snapshot>>>;

/// How often a server behind a shared store asks it for commits made through other servers.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Announces commits made through other web servers when the store is shared (a cluster);
/// returns at once for the embedded store, whose commits all pass through this process.
pub async fn follow_store(store: Arc<dyn crate::store::served::ServedStore>, feed: ChangeFeed) {
    let mut failing = false;
    loop {
        let s = store.clone();
        let polled = match tokio::task::spawn_blocking(move || s.poll_changes()).await {
            Ok(None) => return,
            Ok(Some(result)) => result.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match polled {
            Ok(change) => {
                if failing {
                    tracing::info!("the store answers the commit poll again");
                    failing = false;
                }
                feed.notify(change);
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "cannot read the store's commits; the live stream waits");
                    failing = true;
                }
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Recomputes watched views after commits; at most one message per view per `min_interval`.
#[derive(Clone)]
pub struct LiveHub {
    feed: ChangeFeed,
    store: Arc<dyn IndicatorStore>,
    views: Arc<Mutex<HashMap<StatsQuery, ViewSender>>>,
    min_interval: Duration,
}

/// About four messages a second per view, hence per client, however fast ingests commit.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

impl LiveHub {
    pub fn new(store: Arc<dyn IndicatorStore>, feed: ChangeFeed) -> Self {
        LiveHub {
            feed,
            store,
            views: Arc::new(Mutex::new(HashMap::new())),
            min_interval: MIN_INTERVAL,
        }
    }

    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// How many distinct views are being watched.
    pub fn watched_views(&self) -> usize {
        self.views.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Watches a view; its figures arrive on the receiver (first `None` until computed).
    pub fn subscribe(&self, query: StatsQuery) -> ViewReceiver {
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = views.get(&query) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        views.insert(query.clone(), sender.clone());
        tokio::spawn(self.clone().follow(query, sender));
        receiver
    }

    /// The view's task: compute, publish, wait for a commit (or for the last client to leave),
    /// then let a burst of commits settle for `min_interval` before computing again.
    async fn follow(self, query: StatsQuery, sender: ViewSender) {
        let mut commits = self.feed.subscribe();
        let mut shown: Option<Computed> = None;
        loop {
            let seq = *commits.borrow_and_update();
            let computed = self.compute(&query, seq).await;
            // A commit elsewhere leaves this view's figures as they were: nothing to send.
            if shown.as_ref().map(|s| &s.stats) != Some(&computed.stats) || computed.stats.is_none()
            {
                sender.send_replace(Some(Arc::new(computed.snapshot.clone())));
                shown = Some(computed);
            }
            tokio::select! {
                changed = commits.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = sender.closed() => {}
            }
            if self.retire_if_unwatched(&query, &sender) {
                return;
            }
            tokio::time::sleep(self.min_interval).await;
            if self.retire_if_unwatched(&query, &sender) {
                return;
            }
        }
        self.retire_if_unwatched(&query, &sender);
    }

    /// Removes the view when nobody watches it; under the lock, so a client subscribing at the
    /// same moment either gets this task or starts a new one.
    fn retire_if_unwatched(&self, query: &StatsQuery, sender: &ViewSender) -> bool {
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if sender.receiver_count() == 0 {
            views.remove(query);
            true
        } else {
            false
        }
    }

    async fn compute(&self, query: &StatsQuery, seq: i64) -> Computed {
        let store = self.store.clone();
        let q = query.clone();
        let answer =
            tokio::task::spawn_blocking(move || store.stats(&q).map(|s| (s, store.data_as_of())))
                .await;
        let error = |code: &str, message: String| {
            tracing::error!(%code, %message, query = %query.to_query_string(), "live figures failed");
            Computed {
                stats: None,
                snapshot: Snapshot {
                    seq,
                    event: "error",
                    json: serde_json::json!({"code": code, "message": message}).to_string(),
                },
            }
        };
        match answer {
            Ok(Ok((stats, data_as_of))) => {
                let figures = LiveFigures {
                    seq,
                    data_as_of,
                    stats,
                };
                match serde_json::to_string(&figures) {
                    Ok(json) => Computed {
                        stats: Some(figures.stats),
                        snapshot: Snapshot {
                            seq,
                            event: "figures",
                            json,
                        },
                    },
                    Err(e) => error("internal", format!("cannot write the figures: {e}")),
                }
            }
            Ok(Err(e)) => {
                let e = app::error::AppError::from(e);
                error(&e.code, e.message)
            }
            Err(e) => error("internal", format!("the figures task failed: {e}")),
        }
    }
}
