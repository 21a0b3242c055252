//! Where alert rules, their firing state and the alerts they raised are kept: one owner-only
//! JSON file in the data directory, held in memory and replaced atomically on every change
//! (written beside it, synced, renamed), so a crash leaves the old or the new, never half.
use crate::private_file::create_private;
use app::alerts::{Alert, AlertRule};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Most alerts kept per owner; older ones are dropped first.
pub const MAX_ALERTS_PER_OWNER: usize = 500;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AlertFile {
    pub rules: Vec<AlertRule>,
    /// Per rule id, the units whose condition held at the last evaluation (the rule fired for
    /// them and has not re-armed).
    #[serde(default)]
    pub firing: BTreeMap<String, Vec<String>>,
    /// Per owner, newest last.
    #[serde(default)]
    pub alerts: BTreeMap<String, Vec<Alert>>,
}

pub struct AlertBook {
    path: PathBuf,
    file: AlertFile,
}

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} does not read as the alert file: {message}")]
    Corrupt { path: String, message: String },
}

impl AlertBook {
    /// Reads `alerts.json` in `data_dir` (none yet: no rules).
    pub fn open(data_dir: &Path) -> Result<Self, BookError> {
        let path = data_dir.join("alerts.json");
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| BookError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AlertFile::default(),
            Err(source) => {
                return Err(BookError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        Ok(AlertBook { path, file })
    }

    pub fn file(&self) -> &AlertFile {
        &self.file
    }

    /// Applies `change` and writes the file; when the write fails the change is undone, so
    /// memory never holds what the disk does not.
    pub fn update<T>(&mut self, change: impl FnOnce(&mut AlertFile) -> T) -> Result<T, BookError> {
        let before = self.file.clone();
        let out = change(&mut self.file);
        for alerts in self.file.alerts.values_mut() {
            let excess = alerts.len().saturating_sub(MAX_ALERTS_PER_OWNER);
            alerts.drain(..excess);
        }
        if let Err(e) = self.write() {
            self.file = before;
            return Err(e);
        }
        Ok(out)
    }

    /// [`Self::update`] for a change that may be none: the file is written only when `change`
    /// says it changed something (an evaluation that fires nothing writes nothing).
    ///
    /// No copy is taken beforehand (after every commit, with a thousand rules and their
    /// alerts, the copy took longer than the rest of the bookkeeping): when the write fails,
    /// the file is read back instead, which holds the state before the change since every
    /// change is written.
    pub fn update_when<T>(
        &mut self,
        change: impl FnOnce(&mut AlertFile) -> (T, bool),
    ) -> Result<T, BookError> {
        let (out, changed) = change(&mut self.file);
        if changed {
            for alerts in self.file.alerts.values_mut() {
                let excess = alerts.len().saturating_sub(MAX_ALERTS_PER_OWNER);
                alerts.drain(..excess);
            }
            if let Err(e) = self.write() {
                match Self::open(self.path.parent().unwrap_or(Path::new("."))) {
                    Ok(before) => self.file = before.file,
                    Err(again) => tracing::error!(
                        error = %again,
                        "the alert file cannot be read back after a failed write; memory keeps the change"
                    ),
                }
                return Err(e);
            }
        }
        Ok(out)
    }

    fn write(&self) -> Result<(), BookError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| BookError::Io { path, source }
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&self.file).map_err(|e| BookError::Corrupt {
            path: tmp.display().to_string(),
            message: e.to_string(),
        })?;
        let mut f = create_private(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }
}
