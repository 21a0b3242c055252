//! Alert deliveries over TLS: a webhook over `https://` reaches a receiver whose certificate the
//! configured authority vouches for and never one it does not; an e-mail goes to a relay only
//! after STARTTLS (or over TLS from the first byte), with the relay's user and password, and
//! neither the password nor the mail to a relay that cannot upgrade or whose certificate no
//! trusted authority signed. The receiver and the relay run on loopback with the test
//! certificates of `tests/fixtures/tls`.
use crate::alerts::{
    bearer, below_95, call, evaluate, quoted_printable, resolve, smtp_sink, Seen, HAI_VAN,
};
use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;
use server::alerts::email::{SmtpCredentials, SmtpSecurity, SmtpSettings};
use server::alerts::tls::TrustedRoots;
use server::alerts::AlertSettings;
use server::auth::Role;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// The test authority, as an administrator names it (`IEM_ALERT_CA_FILE`).
fn test_ca() -> TrustedRoots {
    TrustedRoots::from_pem_file(&fixture("ca.pem")).expect("the test CA reads")
}

/// The loopback servers' TLS: the certificate for `localhost` and `127.0.0.1` the test CA signed.
fn server_tls() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(fixture("leaf.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("leaf.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    )
}

/// One line (up to `\n`, without `\r\n`); `None` when the peer is gone.
fn read_line(s: &mut impl Read) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match s.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&line).trim_end().to_string())
}

/// An HTTPS receiver on loopback that answers 200 to every POST it can read; what it saw, as
/// the plain receiver of `alerts.rs` keeps it. A client that refuses its certificate gets nowhere.
fn https_receiver() -> (SocketAddr, Seen) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let config = server_tls();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut head = Vec::new();
            while let Some(line) = read_line(&mut tls) {
                if line.is_empty() {
                    break;
                }
                head.push(line);
            }
            let header = |name: &str| {
                head.iter().find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim().to_string())
                })
            };
            let Some(length) = header("content-length").and_then(|v| v.parse().ok()) else {
                continue;
            };
            let mut body = vec![0; length];
            if tls.read_exact(&mut body).is_err() {
                continue;
            }
            log.lock()
                .unwrap()
                .push((header("x-iem-signature").unwrap_or_default(), body));
            let _ =
                tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (addr, seen)
}

/// A rule on Hải Vân delivering to `channel`, defined by its chair; evaluated after 8 on-time
/// and 2 late dossiers, so it fires once.
async fn fire(app: &TestApp, channel: serde_json::Value) {
    let chair = bearer(app, Role::Chair, Some("20194@2025"));
    let rule = below_95(HAI_VAN, json!([channel]));
    let (status, rule) = call(
        app,
        "POST",
        "/api/v1/alerts/rules",
        Some(&chair),
        Some(rule),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    resolve(app, "tls", 8, 2).await;
    assert_eq!(evaluate(app).await, 1);
}

/// A server whose alerts go to the webhook host `hook` and the relay `smtp`, trusting `roots`,
/// retrying quickly.
fn delivering(
    hook: Option<SocketAddr>,
    smtp: Option<SmtpSettings>,
    roots: TrustedRoots,
) -> TestApp {
    app_with_alerts(AlertSettings {
        webhook_hosts: hook.iter().map(|a| a.to_string()).collect(),
        smtp,
        roots,
        retry_base: Duration::from_millis(20),
        ..Default::default()
    })
}

/// Each attempt's outcome, in order.
fn outcomes(log: &[server::alerts::webhook::Attempt]) -> Vec<&str> {
    log.iter().map(|a| a.outcome.as_str()).collect()
}

/// Waits (bounded) until the delivery log holds a final outcome.
async fn settled(app: &TestApp) -> Vec<server::alerts::webhook::Attempt> {
    for _ in 0..500 {
        let log = app.alerts.deliveries().read();
        if log.iter().any(|a| a.outcome != "retrying") {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.alerts.deliveries().read()
}

#[tokio::test]
async fn a_webhook_over_https_reaches_a_receiver_the_configured_authority_vouches_for() {
    let (addr, seen) = https_receiver();
    let app = delivering(Some(addr), None, test_ca());
    fire(
        &app,
        json!({"kind": "webhook", "url": format!("https://{addr}/hook")}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(
        log.iter()
            .map(|a| (a.status, a.outcome.as_str()))
            .collect::<Vec<_>>(),
        vec![(Some(200), "delivered")],
        "{log:?}"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].0.starts_with("sha256="), "signed: {:?}", seen[0].0);
    let alert: serde_json::Value = serde_json::from_slice(&seen[0].1).unwrap();
    assert_eq!(alert["unit_code"], HAI_VAN);
}

#[tokio::test]
async fn a_webhook_over_https_is_never_sent_to_a_certificate_no_trusted_authority_signed() {
    let (addr, seen) = https_receiver();
    // The public authorities only: none of them signed the loopback certificate.
    let app = delivering(Some(addr), None, TrustedRoots::Public);
    fire(
        &app,
        json!({"kind": "webhook", "url": format!("https://{addr}/hook")}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(log.len(), 5, "every attempt logged: {log:?}");
    assert_eq!(log.last().unwrap().outcome, "failed");
    for attempt in &log {
        assert_eq!(attempt.status, None, "{attempt:?}");
        let error = attempt.error.as_deref().unwrap_or_default().to_lowercase();
        assert!(
            error.contains("certificate") || error.contains("issuer"),
            "{error}"
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "no alert crossed");
}

/// `s` read as standard base64 (the SMTP AUTH PLAIN response); `None` if it is not.
fn base64(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut bits, mut n) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes() {
        bits = bits << 6 | ALPHABET.iter().position(|&a| a == c)? as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

/// What the STARTTLS relay saw: the user and password given, and each message.
#[derive(Default)]
struct Relayed {
    credentials: Vec<(String, String)>,
    messages: Vec<String>,
    /// Commands that came before the upgrade, the greeting's EHLO aside.
    before_tls: Vec<String>,
}

/// One SMTP conversation on `s`, plain or over TLS; `true` when the client asked to upgrade.
fn converse(s: &mut (impl Read + Write), tls: bool, seen: &Mutex<Relayed>) -> bool {
    let mut signed_in = false;
    while let Some(line) = read_line(s) {
        let command = line.to_ascii_uppercase();
        if !tls && !command.starts_with("EHLO") {
            seen.lock().unwrap().before_tls.push(line.clone());
        }
        let reply: &[u8] = if command.starts_with("EHLO") {
            if tls {
                b"250-relay\r\n250 AUTH PLAIN\r\n"
            } else {
                b"250-relay\r\n250 STARTTLS\r\n"
            }
        } else if command.starts_with("STARTTLS") && !tls {
            let _ = s.write_all(b"220 go ahead\r\n");
            return true;
        } else if command.starts_with("AUTH PLAIN ") && tls {
            let decoded = base64(&line["AUTH PLAIN ".len()..]).unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|&b| b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            signed_in = parts.len() == 3 && parts[1] == "iem" && parts[2] == "s3cret-pass";
            if let [_, user, password] = &parts[..] {
                seen.lock()
                    .unwrap()
                    .credentials
                    .push((user.clone(), password.clone()));
            }
            if signed_in {
                b"235 accepted\r\n"
            } else {
                b"535 wrong user or password\r\n"
            }
        } else if command.starts_with("MAIL") && !signed_in {
            b"530 authenticate first\r\n"
        } else if command.starts_with("DATA") {
            let _ = s.write_all(b"354 go ahead\r\n");
            let mut data = String::new();
            while let Some(l) = read_line(s) {
                if l == "." {
                    break;
                }
                data.push_str(&l);
                data.push('\n');
            }
            seen.lock().unwrap().messages.push(data);
            b"250 queued\r\n"
        } else if command.starts_with("QUIT") {
            let _ = s.write_all(b"221 bye\r\n");
            return false;
        } else {
            b"250 OK\r\n"
        };
        if s.write_all(reply).is_err() {
            return false;
        }
    }
    false
}

/// A relay on loopback that offers STARTTLS (or, `implicit`, speaks TLS from the first byte) with
/// the test certificate, then AUTH PLAIN, and takes mail only from a client signed in as `iem` /
/// `s3cret-pass`.
fn tls_relay(implicit: bool) -> (SocketAddr, Arc<Mutex<Relayed>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Relayed>> = Arc::default();
    let kept = seen.clone();
    let config = server_tls();
    std::thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            if !implicit {
                let _ = tcp.write_all(b"220 relay ESMTP\r\n");
                if !converse(&mut tcp, false, &kept) {
                    continue;
                }
            }
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            if implicit && tls.write_all(b"220 relay ESMTP\r\n").is_err() {
                continue;
            }
            converse(&mut tls, true, &kept);
        }
    });
    (addr, seen)
}

fn relay_settings(addr: SocketAddr) -> SmtpSettings {
    SmtpSettings {
        relay: addr.to_string(),
        from: "canh-bao@iem.danang.gov.vn".into(),
        recipient_domains: vec!["danang.gov.vn".into()],
        security: SmtpSecurity::StartTls,
        credentials: Some(SmtpCredentials {
            user: "iem".into(),
            password: "s3cret-pass".into(),
        }),
    }
}

#[tokio::test]
async fn an_e_mail_goes_to_the_relay_only_after_starttls_and_with_its_user_and_password() {
    let (addr, seen) = tls_relay(false);
    let app = delivering(None, Some(relay_settings(addr)), test_ca());
    fire(
        &app,
        json!({"kind": "email", "to": "chu-tich@danang.gov.vn"}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(outcomes(&log), vec!["delivered"], "{log:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.credentials,
        vec![("iem".to_string(), "s3cret-pass".to_string())]
    );
    assert_eq!(
        seen.before_tls,
        vec!["STARTTLS".to_string()],
        "nothing else in the clear"
    );
    assert_eq!(seen.messages.len(), 1);
    let mail = quoted_printable(&seen.messages[0]);
    assert!(mail.contains("Đơn vị: Phường Hải Vân (20194)"), "{mail}");
}

#[tokio::test]
async fn an_e_mail_is_not_sent_to_a_relay_that_cannot_upgrade_to_tls() {
    // The plain relay of `alerts.rs`: it offers no STARTTLS, and takes anything.
    let (addr, messages) = smtp_sink().await;
    let app = delivering(None, Some(relay_settings(addr)), test_ca());
    fire(
        &app,
        json!({"kind": "email", "to": "chu-tich@danang.gov.vn"}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(
        log.last().map(|a| a.outcome.as_str()),
        Some("failed"),
        "{log:?}"
    );
    assert!(
        messages.lock().unwrap().is_empty(),
        "nothing sent in the clear"
    );
}

#[tokio::test]
async fn an_e_mail_goes_over_tls_from_the_first_byte_when_asked() {
    let (addr, seen) = tls_relay(true);
    let mut smtp = relay_settings(addr);
    smtp.security = SmtpSecurity::Tls;
    let app = delivering(None, Some(smtp), test_ca());
    fire(
        &app,
        json!({"kind": "email", "to": "chu-tich@danang.gov.vn"}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(outcomes(&log), vec!["delivered"], "{log:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.credentials.len(), 1);
    assert_eq!(seen.messages.len(), 1);
}

#[tokio::test]
async fn neither_the_password_nor_the_mail_reaches_a_relay_whose_certificate_no_trusted_authority_signed(
) {
    let (addr, seen) = tls_relay(false);
    // The public authorities only: none of them signed the relay's certificate.
    let app = delivering(None, Some(relay_settings(addr)), TrustedRoots::Public);
    fire(
        &app,
        json!({"kind": "email", "to": "chu-tich@danang.gov.vn"}),
    )
    .await;
    let log = settled(&app).await;
    assert_eq!(log.len(), 5, "every attempt logged: {log:?}");
    assert_eq!(log.last().unwrap().outcome, "failed");
    let seen = seen.lock().unwrap();
    assert!(seen.credentials.is_empty(), "no password given");
    assert!(seen.messages.is_empty(), "no mail given");
    assert!(
        seen.before_tls.iter().all(|c| c == "STARTTLS"),
        "nothing but STARTTLS in the clear: {:?}",
        seen.before_tls
    );
}
