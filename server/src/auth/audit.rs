//! The audit log: one JSON line per sign-in, sign-out, token use and view of dossier-level data,
//! appended to `audit.log` in the data directory.
use chrono::Utc;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl AuditLog {
    pub fn at(data_dir: &Path) -> Self {
        AuditLog {
            path: data_dir.join("audit.log"),
            file: Mutex::new(None),
        }
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
            *guard = Some(options.open(&self.path)?);
        }
        let file = guard.as_mut().expect("opened above");
        // One write per line on an O_APPEND file: lines from concurrent requests never interleave.
        let written = file.write_all(&line);
        if written.is_err() {
            *guard = None;
        }
        written
    }

    /// The last `limit` lines, newest last.
    pub fn tail(&self, limit: usize) -> std::io::Result<Vec<serde_json::Value>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let lines: Vec<&str> = text.lines().collect();
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
}
