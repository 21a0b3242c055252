//! The control socket: how `server store …` reaches a running server's store.
//!
//! DuckDB lets one process open a database file for writing, so while the server runs the CLI
//! cannot open the store itself. The server therefore listens on a Unix socket in its data
//! directory (mode 0600: whoever may read the data directory may use it, nobody else) and does
//! the work on its own connections: a verify on one snapshot, a backup holding the writer.
use crate::store::{maintenance::VerifyReport, DuckStore};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const SOCKET_NAME: &str = "control.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct FileRequest {
    pub file: PathBuf,
}

/// A finished operation: what it reports, and the progress lines it went through.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct Done {
    pub steps: Vec<String>,
    #[serde(default)]
    pub events: Option<u64>,
    #[serde(default)]
    pub report: Option<VerifyReport>,
}

struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(serde_json::json!({"status": self.0.as_u16(), "message": self.1})),
        )
            .into_response()
    }
}

/// Runs store work off the async workers, collecting its progress lines.
async fn blocking(
    store: Arc<DuckStore>,
    work: impl FnOnce(&DuckStore, &mut dyn FnMut(&str)) -> Result<Done, crate::store::StoreFailure>
        + Send
        + 'static,
) -> Result<Json<Done>, Failure> {
    let answer = tokio::task::spawn_blocking(move || {
        let mut steps = Vec::new();
        let started = std::time::Instant::now();
        let mut progress = |s: &str| {
            tracing::info!(step = s, "store maintenance");
            steps.push(format!("{s} ({:.1} s)", started.elapsed().as_secs_f64()));
        };
        let mut done = work(&store, &mut progress)?;
        done.steps = steps;
        Ok::<_, crate::store::StoreFailure>(done)
    })
    .await;
    match answer {
        Ok(Ok(done)) => Ok(Json(done)),
        Ok(Err(crate::store::StoreFailure::BadQuery { message, .. })) => {
            Err(Failure(StatusCode::BAD_REQUEST, message))
        }
        Ok(Err(e)) => Err(Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the task failed: {e}"),
        )),
    }
}

async fn verify(State(store): State<Arc<DuckStore>>) -> Result<Json<Done>, Failure> {
    blocking(store, |s, p| {
        Ok(Done {
            report: Some(s.verify(p)?),
            ..Done::default()
        })
    })
    .await
}

async fn rebuild(State(store): State<Arc<DuckStore>>) -> Result<Json<Done>, Failure> {
    blocking(store, |s, p| {
        s.rebuild(p)?;
        Ok(Done::default())
    })
    .await
}

async fn backup(
    State(store): State<Arc<DuckStore>>,
    Json(request): Json<FileRequest>,
) -> Result<Json<Done>, Failure> {
    blocking(store, move |s, p| {
        Ok(Done {
            events: Some(s.backup(&request.file, p)?),
            ..Done::default()
        })
    })
    .await
}

async fn export_events(
    State(store): State<Arc<DuckStore>>,
    Json(request): Json<FileRequest>,
) -> Result<Json<Done>, Failure> {
    blocking(store, move |s, p| {
        Ok(Done {
            events: Some(s.export_events(&request.file, p)?),
            ..Done::default()
        })
    })
    .await
}

/// Listens on the data directory's control socket until the process ends.
pub async fn serve(data_dir: &Path, store: Arc<DuckStore>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(data_dir);
    // A socket file left by a killed server: nothing listens on it (this process holds the
    // store's lock, so no other server does).
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let app = Router::new()
        .route("/verify", post(verify))
        .route("/rebuild", post(rebuild))
        .route("/backup", post(backup))
        .route("/export-events", post(export_events))
        .with_state(store);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the control socket stopped");
        }
    });
    Ok(())
}

/// Whether a server listens on the data directory's control socket.
pub fn is_listening(data_dir: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket_path(data_dir)).is_ok()
}

/// Asks the server running on `data_dir` to do `operation`. `Ok(None)` when no server listens
/// there (the caller then opens the store itself).
pub fn request(
    data_dir: &Path,
    operation: &str,
    body: Option<&FileRequest>,
) -> Result<Option<Done>, String> {
    let path = socket_path(data_dir);
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(format!(
                "cannot reach the server at {}: {e}",
                path.display()
            ))
        }
    };
    let body = match body {
        Some(b) => serde_json::to_string(b).map_err(|e| e.to_string())?,
        None => String::new(),
    };
    let request = format!(
        "POST /{operation} HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let io = |e: std::io::Error| format!("talking to the server at {}: {e}", path.display());
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(io)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, payload) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| "the server's answer has no body".to_string())?;
    let ok = head.starts_with("HTTP/1.1 200");
    if !ok {
        let message = serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| head.lines().next().unwrap_or("").to_string());
        return Err(format!("the running server refused: {message}"));
    }
    serde_json::from_str(payload)
        .map(Some)
        .map_err(|e| format!("cannot read the server's answer: {e}"))
}
