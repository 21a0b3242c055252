//! Webhook delivery: the alert POSTed as JSON, signed with HMAC-SHA256 of the body under the
//! rule's secret (`X-IEM-Signature: sha256=<hex>`), retried with doubling waits while the
//! receiver is unreachable or answers 429 or 5xx; every attempt is logged. Over `http://` or
//! `https://` (certificates checked against [`super::tls::TrustedRoots`]).
use super::AlertSettings;
use crate::private_file::create_private;
use app::alerts::Alert;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "X-IEM-Signature";
pub const DELIVERY_HEADER: &str = "X-IEM-Delivery";

/// `sha256=<hex of HMAC-SHA256(secret, body)>`, as the receiver recomputes it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// `alert-deliveries.log` in the data directory: one JSON object per attempt (owner-only).
pub struct DeliveryLog {
    path: PathBuf,
    lock: Mutex<()>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attempt {
    pub at: String,
    pub alert_id: String,
    pub url: String,
    pub attempt: u32,
    /// The receiver's status; none when it could not be reached.
    pub status: Option<u16>,
    /// delivered, retrying, or failed.
    pub outcome: String,
    pub error: Option<String>,
}

impl DeliveryLog {
    pub fn at(data_dir: &Path) -> Self {
        DeliveryLog {
            path: data_dir.join("alert-deliveries.log"),
            lock: Mutex::new(()),
        }
    }

    pub(crate) fn append(&self, attempt: &Attempt) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let line = match serde_json::to_string(attempt) {
            Ok(line) => line,
            Err(_) => return,
        };
        let written = (|| -> std::io::Result<()> {
            let mut f = match std::fs::OpenOptions::new().append(true).open(&self.path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private(&self.path)?,
                Err(e) => return Err(e),
            };
            writeln!(f, "{line}")
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %self.path.display(), "cannot log a webhook attempt");
        }
    }

    /// Every attempt logged, oldest first.
    pub fn read(&self) -> Vec<Attempt> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// POSTs `alert` to `url` until it is taken, refused for good, or the attempts run out.
pub async fn deliver(
    settings: &AlertSettings,
    log: &DeliveryLog,
    url: &str,
    secret: &str,
    alert: &Alert,
) {
    let body = match serde_json::to_vec(alert) {
        Ok(body) => body,
        Err(_) => return,
    };
    let signed = signature(secret, &body);
    let mut wait = settings.retry_base;
    for attempt in 1..=settings.attempts.max(1) {
        let (url_, body_, signed_, id, roots) = (
            url.to_string(),
            body.clone(),
            signed.clone(),
            alert.id.clone(),
            settings.roots.clone(),
        );
        let result =
            tokio::task::spawn_blocking(move || post(&url_, &body_, &signed_, &id, &roots)).await;
        let (status, error) = match result {
            Ok(Ok(status)) => (Some(status), None),
            Ok(Err(e)) => (None, Some(e)),
            Err(e) => (None, Some(e.to_string())),
        };
        let retry = match status {
            Some(s) => s == 429 || s >= 500,
            None => true,
        };
        let last = attempt == settings.attempts.max(1);
        let outcome = match (status, retry, last) {
            (Some(s), _, _) if (200..300).contains(&s) => "delivered",
            (_, true, false) => "retrying",
            _ => "failed",
        };
        log.append(&Attempt {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            alert_id: alert.id.clone(),
            url: url.to_string(),
            attempt,
            status,
            outcome: outcome.to_string(),
            error: error.clone(),
        });
        match outcome {
            "delivered" => return,
            "retrying" => {
                tracing::info!(url, attempt, ?status, error, "webhook not taken; retrying");
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            _ => {
                tracing::warn!(url, attempt, ?status, error, "webhook delivery failed");
                return;
            }
        }
    }
}

fn post(
    url: &str,
    body: &[u8],
    signed: &str,
    id: &str,
    roots: &super::tls::TrustedRoots,
) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .tls_config(roots.for_http())
        .http_status_as_error(false)
        // A redirect could lead anywhere, past the allowed hosts; so could a proxy named in the
        // environment (the allowed host is the one connected to).
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    agent
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signed)
        .header(DELIVERY_HEADER, id)
        .send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
