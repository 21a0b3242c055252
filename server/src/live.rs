//! The commit feed: every ingest that stores something announces its last sequence number.
use tokio::sync::watch;

#[derive(Clone)]
pub struct ChangeFeed {
    sender: watch::Sender<i64>,
}

impl ChangeFeed {
    pub fn new() -> Self {
        ChangeFeed {
            sender: watch::Sender::new(0),
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

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}
