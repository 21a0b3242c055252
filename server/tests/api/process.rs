//! The server as a child process on a free port, and plain HTTP/1.1 requests to it: for the
//! tests that kill it or limit what it may write.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: String,
}

/// A failing test must not leave a server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn authored_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

pub fn start(dir: &Path) -> Server {
    start_with(dir, &[])
}

/// [`start`] with more environment variables (e.g. `STORE_URL`).
pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
    start_args(dir, &["serve", "--no-demo"], env, Stdio::null())
}

/// The server binary with `args` (none: the bare command) on the data directory `dir`, its
/// standard output sent to `stdout`; returns once it answers `/readyz`.
pub fn start_args(dir: &Path, args: &[&str], env: &[(&str, &str)], stdout: Stdio) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        // The demo is chosen by the test, not by the environment the tests run in.
        .env_remove("IEM_DEMO")
        .env_remove("IEM_NO_DEMO")
        .envs(env.iter().copied())
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("IEM_DATA_DIR", dir)
        .env("IEM_CONFIG_DIR", authored_data())
        .env("IEM_INGEST_RATE_LIMIT", "0")
        .env("RUST_LOG", "warn")
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    // Owned at once, so that a panic below still stops it.
    let server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = http(&server.addr, "GET", "/readyz", None, "") {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "the server was not ready within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 request on its own connection: the status and body, or an error when the
/// connection failed or ended without a whole answer.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String), String> {
    http_with_head(addr, method, path, token, body).map(|(status, _, body)| (status, body))
}

/// As `http`, with the answer's head (status line and headers) too.
pub fn http_with_head(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, rest) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no whole answer ({} bytes)", answer.len()))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let length: Option<usize> = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok());
    if length.is_some_and(|n| rest.len() < n) {
        return Err("the answer was cut short".into());
    }
    Ok((status, head.to_string(), rest.to_string()))
}

/// The ingest token a server wrote into its data directory.
pub fn ingest_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("ingest-token"))
        .expect("the ingest token file")
        .trim()
        .to_string()
}

/// Posts an NDJSON batch to the ingest API and requires 200.
pub fn ingest(addr: &str, token: &str, body: &str) {
    let (status, answer) = http(addr, "POST", "/api/v1/events", Some(token), body).unwrap();
    assert_eq!(status, 200, "{answer}");
}

/// A command's standard output and error, for messages and `contains` checks.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `server store …` on a data directory (handed to a server running there, if any).
pub fn store_command(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("store")
        .args(args)
        .env("IEM_DATA_DIR", data_dir)
        .env("IEM_CONFIG_DIR", authored_data())
        .output()
        .expect("server store runs")
}
