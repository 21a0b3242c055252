//! The control socket: how `server store …` reaches a running server's store.
//!
//! DuckDB lets one process open a database file for writing, so while the server runs the CLI
//! cannot open the store itself. The server therefore listens on a Unix socket and does the work
//! on its own connections: a verify on one snapshot, a backup holding the writer. The socket
//! lives in a directory of the data directory that only the server's user may enter (0700 from
//! its creation, checked at every start): a socket's own mode is set only after `bind` has
//! created it, too late to keep other local users out.
use crate::store::{duckdb::maintenance::VerifyReport, DuckStore};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const SOCKET_NAME: &str = "control.sock";
/// The private directory, inside the data directory, that holds the socket.
pub const SOCKET_DIR: &str = "control";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_DIR).join(SOCKET_NAME)
}

/// The socket's directory, made (mode 0700 from its creation) or checked: it must be a real
/// directory owned by this process's user. One that is ours but open to group or others (a copy
/// of the data directory made without keeping modes) is closed before use.
pub fn private_socket_dir(data_dir: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let dir = data_dir.join(SOCKET_DIR);
    std::fs::create_dir_all(data_dir)?;
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    // Not followed if it is a symbolic link: the link itself is checked, and refused.
    let meta = std::fs::symlink_metadata(&dir)?;
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory of ours.
    let user = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != user {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a directory of this user's; remove it and start again",
                dir.display()
            ),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = %format!("{:o}", meta.mode() & 0o777),
            "the control socket's directory was open to other users; closing it (0700)"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        if std::fs::symlink_metadata(&dir)?.mode() & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("cannot make {} private to this user", dir.display()),
            ));
        }
    }
    Ok(dir)
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
    let path = private_socket_dir(data_dir)?.join(SOCKET_NAME);
    // A socket file left by a killed server: nothing listens on it (this process holds the
    // store's lock, so no other server does). Also one where earlier versions kept it, in the
    // data directory itself.
    for old in [path.clone(), data_dir.join(SOCKET_NAME)] {
        match std::fs::remove_file(&old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    // Only belt and braces now: the directory keeps others out from the socket's first moment.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_socket_directory_is_made_private() {
        let data = tempfile::tempdir().unwrap();
        let dir = private_socket_dir(data.path()).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(socket_path(data.path()).parent(), Some(dir.as_path()));
    }

    #[test]
    fn an_open_socket_directory_of_ours_is_closed_before_use() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join(SOCKET_DIR);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_socket_dir(data.path()).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_file_or_a_link_in_the_socket_directorys_place_is_refused() {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join(SOCKET_DIR), "").unwrap();
        assert!(private_socket_dir(data.path()).is_err());
        let linked = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), linked.path().join(SOCKET_DIR)).unwrap();
        assert!(private_socket_dir(linked.path()).is_err());
    }
}
