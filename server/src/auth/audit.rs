//! The audit log: one JSON line per sign-in, sign-out, token use and view of dossier-level data,
//! appended to `audit.log` in the data directory, rotated by size.
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The log is rotated past this size: `audit.log` becomes `audit.log.1`, the one before
/// `audit.log.2`, and so on; [`KEPT_ROTATIONS`] are kept, so the files together hold at most
/// five times this.
pub const MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// Rotated logs kept beside the current one.
pub const KEPT_ROTATIONS: u32 = 4;

/// Refusals of anonymous or wrongly authenticated requests (anyone on the internet can cause
/// them) are written at most once per client address per window; the ones in between are
/// counted into the next line written for that address.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(60);

/// Most client addresses whose refusals are tracked one by one; beyond it they share one
/// entry (`*`), so spoofed or rotating addresses cannot grow memory without bound.
const MAX_TRACKED_CLIENTS: usize = 10_000;

#[derive(Serialize, Clone, Debug)]
pub struct AuditEntry<'a> {
    pub action: &'a str,
    /// `user:<name>`, `token:<id>`, `anonymous`, or the username tried at a failed sign-in.
    pub actor: &'a str,
    /// What was touched: a unit and period, a dossier id, a token id.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub target: &'a str,
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub client: &'a str,
}

/// The open log file and how many bytes it holds (for rotation without a `stat` per line).
struct Open {
    file: std::fs::File,
    bytes: u64,
}

/// Per client address: when its last refusal line was written, and how many since.
struct Refusals {
    since: Instant,
    suppressed: u64,
}

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Option<Open>>,
    refusals: Mutex<HashMap<String, Refusals>>,
}

impl AuditLog {
    pub fn at(data_dir: &Path) -> Self {
        AuditLog {
            path: data_dir.join("audit.log"),
            file: Mutex::new(None),
            refusals: Mutex::new(HashMap::new()),
        }
    }

    /// The `n`th rotated log (1 the newest).
    pub fn rotated_path(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    /// Shifts the rotated logs by one (the oldest is dropped) and makes the log the newest.
    fn rotate(&self) -> std::io::Result<()> {
        for n in (1..KEPT_ROTATIONS).rev() {
            match std::fs::rename(self.rotated_path(n), self.rotated_path(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, self.rotated_path(1))
    }

    /// Records a refused request, at most one line per action and client address per
    /// [`REFUSAL_WINDOW`]; a line written after suppressed ones says how many there were.
    pub fn record_refusal(&self, entry: AuditEntry<'_>) -> std::io::Result<()> {
        let key = format!("{} {}", entry.action, entry.client);
        let suppressed = {
            let mut map = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if map.len() >= MAX_TRACKED_CLIENTS {
                map.retain(|_, r| now.duration_since(r.since) < REFUSAL_WINDOW);
            }
            let key = if map.len() >= MAX_TRACKED_CLIENTS && !map.contains_key(&key) {
                format!("{} *", entry.action)
            } else {
                key
            };
            match map.get_mut(&key) {
                Some(r) if now.duration_since(r.since) < REFUSAL_WINDOW => {
                    r.suppressed += 1;
                    return Ok(());
                }
                Some(r) => {
                    let suppressed = r.suppressed;
                    *r = Refusals {
                        since: now,
                        suppressed: 0,
                    };
                    suppressed
                }
                None => {
                    map.insert(
                        key,
                        Refusals {
                            since: now,
                            suppressed: 0,
                        },
                    );
                    0
                }
            }
        };
        if suppressed == 0 {
            return self.record(entry);
        }
        let outcome = format!(
            "{} (and {suppressed} more from this client since the last line)",
            entry.outcome
        );
        self.record(AuditEntry {
            outcome: &outcome,
            ..entry
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry. An audit line that cannot be written is an error for the caller:
    /// dossier-level data is not shown unless its viewing is recorded.
    pub fn record(&self, entry: AuditEntry<'_>) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Line<'a> {
            at: String,
            #[serde(flatten)]
            entry: AuditEntry<'a>,
        }
        let mut line = serde_json::to_vec(&Line {
            at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            entry,
        })
        .map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard
            .as_ref()
            .is_some_and(|open| open.bytes + line.len() as u64 > MAX_LOG_BYTES)
        {
            *guard = None;
            self.rotate()?;
        }
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options.open(&self.path)?;
            let bytes = file.metadata()?.len();
            *guard = Some(Open { file, bytes });
        }
        let Some(open) = guard.as_mut() else {
            return Err(std::io::Error::other("the audit log is not open"));
        };
        // One write per line on an O_APPEND file: lines from concurrent requests never interleave.
        let written = open.file.write_all(&line);
        match written {
            Ok(()) => open.bytes += line.len() as u64,
            Err(_) => *guard = None,
        }
        written
    }

    /// The last `limit` lines, newest last. Read backwards from the end in blocks, so the
    /// cost follows `limit`, not the size of the log.
    pub fn tail(&self, limit: usize) -> std::io::Result<Vec<serde_json::Value>> {
        const BLOCK: u64 = 64 * 1024;
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut end = file.metadata()?.len();
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        let mut newlines = 0usize;
        // Until the blocks read hold `limit` whole lines (and the newline before the first).
        while end > 0 && newlines <= limit {
            let start = end.saturating_sub(BLOCK);
            let mut block = vec![0; (end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut block)?;
            newlines += block.iter().filter(|b| **b == b'\n').count();
            blocks.push(block);
            end = start;
        }
        let tail: Vec<u8> = blocks.into_iter().rev().flatten().collect();
        let text = String::from_utf8_lossy(&tail);
        let mut lines: Vec<&str> = text.lines().collect();
        if end > 0 {
            // The first line is cut unless the block reached the file's start.
            lines.remove(0);
        }
        Ok(lines[lines.len().saturating_sub(limit)..]
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path());
        for outcome in ["ok", "denied"] {
            log.record(AuditEntry {
                action: "signin",
                actor: "alice",
                target: "",
                outcome,
                client: "127.0.0.1",
            })
            .unwrap();
        }
        let tail = log.tail(10).unwrap();
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[1]["outcome"], "denied");
        assert_eq!(tail[0]["action"], "signin");
        assert!(tail[0]["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(log.tail(1).unwrap().len(), 1);
    }

    fn refusal(client: &str) -> AuditEntry<'_> {
        AuditEntry {
            action: "ingest",
            actor: "anonymous",
            target: "",
            outcome: "refused",
            client,
        }
    }

    #[test]
    fn refusals_from_one_client_are_written_once_per_window_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path());
        for _ in 0..1000 {
            log.record_refusal(refusal("203.0.113.9")).unwrap();
        }
        log.record_refusal(refusal("198.51.100.1")).unwrap();
        assert_eq!(log.tail(10).unwrap().len(), 2);
        // When the window has passed, the next line tells how many were not written.
        log.refusals
            .lock()
            .unwrap()
            .get_mut("ingest 203.0.113.9")
            .unwrap()
            .since -= REFUSAL_WINDOW;
        log.record_refusal(refusal("203.0.113.9")).unwrap();
        let tail = log.tail(10).unwrap();
        assert_eq!(
            tail[2]["outcome"],
            "refused (and 999 more from this client since the last line)"
        );
    }

    #[test]
    fn many_client_addresses_share_one_entry_beyond_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path());
        for i in 0..(MAX_TRACKED_CLIENTS + 5_000) {
            log.record_refusal(refusal(&format!("client-{i}"))).unwrap();
        }
        assert!(log.refusals.lock().unwrap().len() <= MAX_TRACKED_CLIENTS + 1);
        assert_eq!(log.tail(20_000).unwrap().len(), MAX_TRACKED_CLIENTS + 1);
    }

    #[test]
    fn the_tail_is_read_from_the_end_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path());
        let target = "x".repeat(300);
        for i in 0..2_000 {
            log.record(AuditEntry {
                action: "late_list",
                actor: &format!("user:{i}"),
                target: &target,
                outcome: "ok",
                client: "",
            })
            .unwrap();
        }
        let tail = log.tail(700).unwrap();
        assert_eq!(tail.len(), 700);
        assert_eq!(tail[0]["actor"], "user:1300");
        assert_eq!(tail[699]["actor"], "user:1999");
        assert_eq!(log.tail(5_000).unwrap().len(), 2_000);
    }

    #[test]
    fn the_log_is_rotated_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path());
        log.record(refusal("a")).unwrap();
        // As if the file were nearly full: the next line goes to a new file.
        log.file.lock().unwrap().as_mut().unwrap().bytes = MAX_LOG_BYTES - 10;
        log.record(refusal("b")).unwrap();
        assert!(log.rotated_path(1).exists());
        let tail = log.tail(10).unwrap();
        assert_eq!((tail.len(), tail[0]["client"].as_str()), (1, Some("b")));
        // Older rotations move down; the oldest kept is the fourth.
        for _ in 0..KEPT_ROTATIONS + 2 {
            log.file.lock().unwrap().as_mut().unwrap().bytes = MAX_LOG_BYTES - 10;
            log.record(refusal("c")).unwrap();
        }
        assert!(log.rotated_path(KEPT_ROTATIONS).exists());
        assert!(!log.rotated_path(KEPT_ROTATIONS + 1).exists());
    }
}
