//! Live figures: the commit feed, and one shared computation per watched view after each commit.
//!
//! A thousand browsers watching the same district cost one stats query per commit, not a
//! thousand: each distinct view (a `StatsQuery`) has one task that recomputes its figures when
//! an ingest commits and publishes them, serialised once, on a `watch` channel. A `watch`
//! channel holds only the newest value, so a slow client never queues messages: it skips to the
//! latest figures, which are always the whole view (a resync, never a diff).
use app::model::StatsQuery;
use app::store::IndicatorStore;
use app::views::LiveFigures;
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
    /// Open streams per client address.
    streams: Arc<Mutex<HashMap<String, u32>>>,
    min_interval: Duration,
    limits: LiveLimits,
}

/// What one server gives the live stream: every distinct view costs a task and a stats query
/// per commit, every connection a socket, so both are capped.
#[derive(Clone, Copy, Debug)]
pub struct LiveLimits {
    /// Most distinct views watched at once (a new view beyond it: 503).
    pub max_views: usize,
    /// Most open streams per client address (one more: 429).
    pub max_streams_per_client: u32,
    /// Most open streams in all (one more: 503), so sockets and memory stay bounded however
    /// many addresses ask.
    pub max_streams: u32,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            max_views: 1_000,
            max_streams_per_client: 20,
            max_streams: 10_000,
        }
    }
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum LiveRefusal {
    /// The client has `max_streams_per_client` streams open already.
    TooManyStreams(u32),
    /// The server watches `max_views` distinct views already and this one is new.
    TooManyViews(usize),
    /// The server holds `max_streams` streams already.
    TooManyStreamsInAll(u32),
}

/// A watched view for one client; dropping it (the connection closes) frees the client's slot.
pub struct Subscription {
    pub figures: ViewReceiver,
    _slot: StreamSlot,
}

struct StreamSlot {
    streams: Arc<Mutex<HashMap<String, u32>>>,
    client: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = streams.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.client);
            }
        }
    }
}

/// About four messages a second per view, hence per client, however fast ingests commit.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

impl LiveHub {
    pub fn new(store: Arc<dyn IndicatorStore>, feed: ChangeFeed) -> Self {
        Self::with_limits(store, feed, LiveLimits::default())
    }

    pub fn with_limits(
        store: Arc<dyn IndicatorStore>,
        feed: ChangeFeed,
        limits: LiveLimits,
    ) -> Self {
        LiveHub {
            feed,
            store,
            views: Arc::new(Mutex::new(HashMap::new())),
            streams: Arc::new(Mutex::new(HashMap::new())),
            min_interval: MIN_INTERVAL,
            limits,
        }
    }

    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// How many distinct views are being watched.
    pub fn watched_views(&self) -> usize {
        self.views.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Watches a view for `client`; its figures arrive on the receiver (first `None` until
    /// computed). Refused past the client's stream limit or, for a new view, the view limit.
    pub fn subscribe(&self, query: StatsQuery, client: &str) -> Result<Subscription, LiveRefusal> {
        let slot = {
            let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
            if streams.values().sum::<u32>() >= self.limits.max_streams {
                return Err(LiveRefusal::TooManyStreamsInAll(self.limits.max_streams));
            }
            let open = streams.entry(client.to_string()).or_insert(0);
            if *open >= self.limits.max_streams_per_client {
                return Err(LiveRefusal::TooManyStreams(
                    self.limits.max_streams_per_client,
                ));
            }
            *open += 1;
            StreamSlot {
                streams: self.streams.clone(),
                client: client.to_string(),
            }
        };
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        let figures = match views.get(&query) {
            Some(sender) => sender.subscribe(),
            None => {
                if views.len() >= self.limits.max_views {
                    // `slot` is dropped on return: the client's count goes back down.
                    return Err(LiveRefusal::TooManyViews(self.limits.max_views));
                }
                let (sender, receiver) = watch::channel(None);
                views.insert(query.clone(), sender.clone());
                tokio::spawn(self.clone().follow(query, sender));
                receiver
            }
        };
        Ok(Subscription {
            figures,
            _slot: slot,
        })
    }

    /// How many streams `client` has open.
    pub fn open_streams(&self, client: &str) -> u32 {
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams.get(client).copied().unwrap_or(0)
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
            Err(e) => {
                // A panic: its text is for the log, not for every viewer of the stream.
                tracing::error!(error = %e, "the live figures task failed");
                error("internal", app::error::INTERNAL_MESSAGE.to_string())
            }
        }
    }
}
