//! Every setting of the server and its tools, in one place: each is a flag and an environment
//! variable, read once at start (by clap, so each shows in `server --help` with its variable and
//! default), checked here, and handed down as typed values. Nothing else reads the environment.
//!
//! Values are read as written and checked by [`SettingsArgs::settings`] and
//! [`ServeArgs::settings`], so that a bad value stops the start with a message naming its flag
//! and variable (clap's own message names only the flag), and so that a bad serving setting
//! stops `server serve`, not `server users list`.
use crate::auth::rate_limit::Limit;
use crate::auth::AuthSettings;
use crate::demo::simulator::SimulatorSettings;
use crate::store::clickhouse::ClusterAddress;
use crate::store::duckdb::EngineSettings;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The settings every command reads: where the data is, which store, how hard it may work.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Settings of every command")]
pub struct SettingsArgs {
    /// Directory of the DuckDB file (iem.duckdb), the ingest token, accounts and the audit log,
    /// all owner-only.
    #[arg(
        long,
        env = "IEM_DATA_DIR",
        default_value = "var",
        value_name = "DIR",
        global = true
    )]
    pub data_dir: String,
    /// The project's authored data: unit lists, conversion table, catalogues, boundaries, demo.
    #[arg(
        long,
        env = "IEM_CONFIG_DIR",
        default_value = "data",
        value_name = "DIR",
        global = true
    )]
    pub config_dir: String,
    /// Store dossiers on a ClickHouse cluster instead of the embedded DuckDB file:
    /// clickhouse://HOST:PORT[,HOST:PORT…]/DATABASE[?cluster=NAME].
    #[arg(long, env = "STORE_URL", value_name = "URL", global = true)]
    pub store_url: Option<String>,
    /// Cap on DuckDB's memory, e.g. 2GB (beyond it DuckDB spills to disk); unset: DuckDB's own,
    /// 80 % of the RAM.
    #[arg(
        long,
        env = "IEM_DUCKDB_MEMORY_LIMIT",
        value_name = "SIZE",
        global = true
    )]
    pub duckdb_memory_limit: Option<String>,
    /// Most threads running store calls at once (at least 1); more calls wait in a queue, which
    /// costs nothing while they wait.
    #[arg(
        long,
        env = "IEM_BLOCKING_THREADS",
        default_value = "16",
        value_name = "N",
        global = true
    )]
    pub blocking_threads: String,
    /// Log lines as `text` or `json` (one object a line).
    #[arg(
        long,
        env = "IEM_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT",
        global = true
    )]
    pub log_format: String,
    /// Which log lines to write: a tracing filter, e.g. `warn` or `info,server=debug`.
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,tower_http=info",
        value_name = "FILTER",
        global = true
    )]
    pub log_filter: String,
}

/// The checked settings every command reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The directory holding the DuckDB file, tokens, accounts and the audit log.
    pub data_dir: PathBuf,
    /// The project's authored data (unit lists, catalogues).
    pub authored_data_dir: PathBuf,
    /// A ClickHouse cluster to store dossiers on instead of the embedded DuckDB file.
    pub cluster: Option<ClusterAddress>,
    /// What the embedded store's engine may use.
    pub engine: EngineSettings,
    /// Most threads running store calls at once.
    pub blocking_threads: usize,
    /// Log lines as JSON rather than text.
    pub log_json: bool,
    /// Which log lines to write (a tracing filter, checked).
    pub log_filter: String,
}

/// A setting that cannot be read; the start stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    /// The flag and its variable, e.g. `--blocking-threads / IEM_BLOCKING_THREADS`.
    pub name: &'static str,
    pub message: String,
}

fn invalid(name: &'static str, message: String) -> ConfigError {
    ConfigError { name, message }
}

/// An empty value counts as unset (`VAR=` in a unit file or a shell), as it always has.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn or_default<'a>(value: &'a str, default: &'a str) -> &'a str {
    match value.trim() {
        "" => default,
        v => v,
    }
}

impl SettingsArgs {
    /// The checked settings, or the first one that cannot be read.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let cluster = given(&self.store_url)
            .map(|url| url.parse())
            .transpose()
            .map_err(|message| invalid("--store-url / STORE_URL", message))?;
        let memory_limit = given(&self.duckdb_memory_limit)
            .map(|v| {
                memory_size(v)
                    .map_err(|m| invalid("--duckdb-memory-limit / IEM_DUCKDB_MEMORY_LIMIT", m))
            })
            .transpose()?;
        let threads = or_default(&self.blocking_threads, "16");
        let blocking_threads = threads
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                invalid(
                    "--blocking-threads / IEM_BLOCKING_THREADS",
                    format!("'{threads}' is not a whole number from 1 to 100000"),
                )
            })?;
        let log_json = match or_default(&self.log_format, "text")
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => false,
            "json" => true,
            other => {
                return Err(invalid(
                    "--log-format / IEM_LOG_FORMAT",
                    format!("'{other}' is neither text nor json"),
                ))
            }
        };
        let log_filter = or_default(&self.log_filter, "info,tower_http=info").to_string();
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_filter) {
            return Err(invalid(
                "--log / RUST_LOG",
                format!("'{log_filter}' is not a log filter ({e})"),
            ));
        }
        Ok(Settings {
            data_dir: or_default(&self.data_dir, "var").into(),
            authored_data_dir: or_default(&self.config_dir, "data").into(),
            cluster,
            engine: EngineSettings { memory_limit },
            blocking_threads,
            log_json,
            log_filter,
        })
    }
}

/// A DuckDB memory limit, checked by DuckDB itself on an in-memory database (so every spelling
/// DuckDB takes is taken: `2GB`, `512MiB`, `4G`, `none`…), at start rather than once the store
/// is half open.
fn memory_size(value: &str) -> Result<String, String> {
    let checked = ::duckdb::Connection::open_in_memory()
        .and_then(|conn| conn.execute("SET memory_limit = ?", [value]));
    match checked {
        Ok(_) => Ok(value.to_string()),
        Err(e) => Err(format!(
            "'{value}' is not a memory size DuckDB reads, like 512MB or 2GB ({e})"
        )),
    }
}

impl Settings {
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("iem.duckdb")
    }

    /// A cluster server's local reference data (units, catalogue, maps).
    pub fn reference_path(&self) -> PathBuf {
        self.data_dir.join("reference.duckdb")
    }
}

/// `serve`'s settings. The bare `server` runs `serve` with these too, parsed by the same
/// declarations (flattened), so no setting is read twice.
// No `Debug`: it holds the ingest token as given.
#[derive(clap::Args, Clone)]
#[command(next_help_heading = "Settings of serve")]
pub struct ServeArgs {
    /// Show the demo: write the demo history into an empty store, create demo accounts and run
    /// the live simulator. Off by default, so that a real deployment's empty store stays empty.
    #[arg(long, env = "IEM_DEMO", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub demo: Option<String>,
    /// No demo: the default, kept for older scripts; wins over --demo.
    #[arg(long, env = "IEM_NO_DEMO", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_demo: Option<String>,
    /// Do not run the live simulator (demo events in real time; on by default with the demo).
    #[arg(long, env = "IEM_NO_SIMULATOR", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_simulator: Option<String>,
    /// The live simulator's average rate, in events per second (above 0, at most 1000).
    #[arg(
        long,
        env = "IEM_SIMULATOR_RATE",
        value_name = "RATE",
        default_value = "3"
    )]
    pub simulator_rate: String,
    /// Address and port the server listens on.
    #[arg(
        long,
        env = "LEPTOS_SITE_ADDR",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub site_addr: String,
    /// Directory holding the built browser bundles (`pkg/`); `make` points it at the build.
    #[arg(
        long,
        env = "IEM_SITE_ROOT",
        value_name = "DIR",
        default_value = "site"
    )]
    pub site_root: String,
    /// The province the dashboard opens on for a period before the 2025 reform, and the demo
    /// accounts' province (49: Quảng Nam).
    #[arg(
        long,
        env = "IEM_DEFAULT_PROVINCE",
        value_name = "CODE",
        default_value = "49"
    )]
    pub default_province: String,
    /// The province of today the dashboard opens on (periods from 2025-07-01, the default view;
    /// 48: Đà Nẵng, which took in Quảng Nam).
    #[arg(
        long,
        env = "IEM_DEFAULT_PROVINCE_2025",
        value_name = "CODE",
        default_value = "48"
    )]
    pub default_province_2025: String,
    /// The bearer token that may post events for every unit (at least 16 characters); unset: one
    /// is generated into the data directory and printed once. Prefer the variable: a flag shows
    /// in `ps` to every local user.
    #[arg(
        long,
        env = "IEM_INGEST_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub ingest_token: Option<String>,
    /// A signed-in session unused this many minutes ends.
    #[arg(
        long,
        env = "IEM_SESSION_IDLE_MINUTES",
        value_name = "MINUTES",
        default_value = "30"
    )]
    pub session_idle_minutes: String,
    /// A session ends this many hours after sign-in, used or not.
    #[arg(
        long,
        env = "IEM_SESSION_HOURS",
        value_name = "HOURS",
        default_value = "8"
    )]
    pub session_hours: String,
    /// Sign-in attempts per minute per client address, then 429 with Retry-After.
    #[arg(
        long,
        env = "IEM_SIGNIN_RATE_LIMIT",
        value_name = "PER_MINUTE",
        default_value = "10"
    )]
    pub signin_rate_limit: String,
    /// Ingest requests per second per token, twice that as a burst; 0 turns the limit off.
    #[arg(
        long,
        env = "IEM_INGEST_RATE_LIMIT",
        value_name = "PER_SECOND",
        default_value = "100"
    )]
    pub ingest_rate_limit: String,
    /// Mark the session cookie Secure even when no proxy says the request came over TLS.
    #[arg(long, env = "IEM_SECURE_COOKIES", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub secure_cookies: Option<String>,
    /// Hosts alert webhooks may be sent to, comma-separated (`hooks.example.vn`,
    /// `10.0.0.5:8080`); none by default, so no rule can make the server POST into its own network.
    #[arg(
        long,
        env = "IEM_ALERT_WEBHOOK_HOSTS",
        value_name = "HOSTS",
        default_value = ""
    )]
    pub alert_webhook_hosts: String,
    /// The SMTP relay alert e-mails go through (`host:port`); unset: e-mail channels are refused.
    #[arg(
        long,
        env = "IEM_SMTP_RELAY",
        value_name = "HOST:PORT",
        default_value = ""
    )]
    pub smtp_relay: String,
    /// The sender address of alert e-mails.
    #[arg(
        long,
        env = "IEM_SMTP_FROM",
        value_name = "ADDRESS",
        default_value = ""
    )]
    pub smtp_from: String,
    /// Domains alert e-mails may go to, comma-separated; any when unset.
    #[arg(
        long,
        env = "IEM_SMTP_RECIPIENT_DOMAINS",
        value_name = "DOMAINS",
        default_value = ""
    )]
    pub smtp_recipient_domains: String,
    /// How the connection to the relay is protected: `none` (plain SMTP on the trusted network),
    /// `starttls` (upgraded before anything is sent; refused if the relay cannot) or `tls`.
    #[arg(
        long,
        env = "IEM_SMTP_SECURITY",
        value_name = "none|starttls|tls",
        default_value = "none"
    )]
    pub smtp_security: String,
    /// The user the relay asks for (with `IEM_SMTP_PASSWORD`; needs starttls or tls).
    #[arg(long, env = "IEM_SMTP_USER", value_name = "USER", default_value = "")]
    pub smtp_user: String,
    /// The relay user's password (prefer the variable: a flag shows in `ps`).
    #[arg(
        long,
        env = "IEM_SMTP_PASSWORD",
        value_name = "PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub smtp_password: String,
    /// A PEM file of the certificate authorities trusted for webhooks over https:// and the
    /// relay's TLS, instead of the public ones compiled in (for receivers behind an internal CA).
    #[arg(long, env = "IEM_ALERT_CA_FILE", value_name = "PATH")]
    pub alert_ca_file: Option<std::path::PathBuf>,
}

/// The SMTP relay settings: none without a relay; with one, a sender address is required, and a
/// password only over TLS.
fn smtp(
    relay: &str,
    from: &str,
    domains: &str,
    security: &str,
    user: &str,
    password: &str,
) -> Result<Option<crate::alerts::email::SmtpSettings>, ConfigError> {
    use crate::alerts::email::{SmtpCredentials, SmtpSecurity};
    let relay = relay.trim();
    if relay.is_empty() {
        return Ok(None);
    }
    let security: SmtpSecurity = security
        .parse()
        .map_err(|m| invalid("--smtp-security / IEM_SMTP_SECURITY", m))?;
    let credentials = match (user.trim(), password) {
        ("", "") => None,
        ("", _) | (_, "") => {
            return Err(invalid(
                "--smtp-user / IEM_SMTP_USER",
                "a relay user and password go together: set both or neither".into(),
            ))
        }
        (user, password) => Some(SmtpCredentials {
            user: user.to_string(),
            password: password.to_string(),
        }),
    };
    if credentials.is_some() && security == SmtpSecurity::None {
        return Err(invalid(
            "--smtp-security / IEM_SMTP_SECURITY",
            "a relay password is never sent over a plain connection: use starttls or tls".into(),
        ));
    }
    // host:port only: no user part, no brackets (an IPv6 relay is named by a host name).
    if relay.contains(['@', '['])
        || relay
            .parse::<axum::http::uri::Authority>()
            .map_or(true, |a| a.port_u16().is_none() || a.as_str() != relay)
    {
        return Err(invalid(
            "--smtp-relay / IEM_SMTP_RELAY",
            format!("'{relay}' is not host:port"),
        ));
    }
    let from = from.trim();
    if from.parse::<lettre::Address>().is_err() {
        return Err(invalid(
            "--smtp-from / IEM_SMTP_FROM",
            format!("'{from}' is not an e-mail address (needed with a relay)"),
        ));
    }
    Ok(Some(crate::alerts::email::SmtpSettings {
        relay: relay.to_string(),
        from: from.to_string(),
        security,
        credentials,
        recipient_domains: domains
            .split(',')
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
    }))
}

/// `host` or `host:port` entries, comma-separated; blanks ignored.
fn webhook_hosts(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let ok = h.len() <= 253
                && h.parse::<axum::http::uri::Authority>()
                    .is_ok_and(|a| a.as_str() == h && !h.contains('@'));
            if ok {
                Ok(h.to_ascii_lowercase())
            } else {
                Err(format!("'{h}' is not a host or host:port"))
            }
        })
        .collect()
}

/// A secret setting: kept out of `Debug` output, so that a settings value logged by mistake does
/// not carry it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The checked settings of `serve`.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// Write the demo history into an empty store and create the demo accounts.
    pub demo: bool,
    /// Run the live simulator (demo events in real time) with these settings.
    pub simulator: Option<SimulatorSettings>,
    pub site_addr: SocketAddr,
    pub site_root: PathBuf,
    /// The province the dashboard opens on before the reform (a code of the 2020 lists).
    pub default_province: String,
    /// The province of today the dashboard opens on.
    pub default_province_2025: String,
    /// The operator's ingest token, when set (else the kept or generated one).
    pub ingest_token: Option<Secret>,
    pub auth: AuthSettings,
    pub alerts: crate::alerts::AlertSettings,
}

impl ServeArgs {
    /// What `serve` does, checked: the demo only when asked for (`--no-demo` wins, as it did
    /// when the demo was the default), the simulator only with the demo. A value that cannot be
    /// read is an error naming its flag and variable.
    pub fn settings(&self) -> Result<ServeSettings, ConfigError> {
        let yes = |value: &Option<String>, name: &'static str| -> Result<bool, ConfigError> {
            value
                .as_deref()
                .map_or(Ok(false), switch)
                .map_err(|m| invalid(name, m))
        };
        let demo = yes(&self.demo, "--demo / IEM_DEMO")?
            && !yes(&self.no_demo, "--no-demo / IEM_NO_DEMO")?;
        let no_simulator = yes(&self.no_simulator, "--no-simulator / IEM_NO_SIMULATOR")?;
        let simulator = SimulatorSettings {
            rate: simulator_rate(or_default(&self.simulator_rate, "3"))
                .map_err(|m| invalid("--simulator-rate / IEM_SIMULATOR_RATE", m))?,
        };
        let addr = or_default(&self.site_addr, "127.0.0.1:3000");
        let site_addr = addr.parse().map_err(|e| {
            invalid(
                "--site-addr / LEPTOS_SITE_ADDR",
                format!("'{addr}' is not an address like 127.0.0.1:3000 ({e})"),
            )
        })?;
        let province = |value: &str, default: &str, name: &'static str| {
            let code = or_default(value, default);
            match app::era::Era::Before2025.key(code) {
                Some(_) => Ok(code.to_string()),
                None => Err(invalid(
                    name,
                    format!("'{code}' is not a unit code (digits)"),
                )),
            }
        };
        let mut auth = AuthSettings::default();
        let minutes = number(&self.session_idle_minutes, "30", false, 525_600.0)
            .map_err(|m| invalid("--session-idle-minutes / IEM_SESSION_IDLE_MINUTES", m))?;
        auth.session.idle = Duration::from_secs_f64(minutes * 60.0);
        let hours = number(&self.session_hours, "8", false, 8_760.0)
            .map_err(|m| invalid("--session-hours / IEM_SESSION_HOURS", m))?;
        auth.session.lifetime = Duration::from_secs_f64(hours * 3600.0);
        // Never 0: that would turn off the guard against guessing passwords.
        let per_minute = number(&self.signin_rate_limit, "10", false, 1_000_000.0)
            .map_err(|m| invalid("--signin-rate-limit / IEM_SIGNIN_RATE_LIMIT", m))?;
        auth.signin = Limit {
            burst: per_minute.max(1.0),
            per_second: per_minute / 60.0,
        };
        let per_second = number(&self.ingest_rate_limit, "100", true, 1_000_000.0)
            .map_err(|m| invalid("--ingest-rate-limit / IEM_INGEST_RATE_LIMIT", m))?;
        // Two seconds' worth as the burst; 0: no limit.
        auth.ingest = Limit {
            burst: (2.0 * per_second).max(1.0),
            per_second,
        };
        auth.secure_cookies = yes(
            &self.secure_cookies,
            "--secure-cookies / IEM_SECURE_COOKIES",
        )?;
        Ok(ServeSettings {
            demo,
            simulator: (demo && !no_simulator).then_some(simulator),
            site_addr,
            site_root: or_default(&self.site_root, "site").into(),
            default_province: province(
                &self.default_province,
                "49",
                "--default-province / IEM_DEFAULT_PROVINCE",
            )?,
            default_province_2025: province(
                &self.default_province_2025,
                "48",
                "--default-province-2025 / IEM_DEFAULT_PROVINCE_2025",
            )?,
            ingest_token: given(&self.ingest_token)
                .map(|token| {
                    if token.chars().count() >= 16 {
                        Ok(Secret(token.to_string()))
                    } else {
                        // The value itself is not repeated: it is a secret, if a weak one.
                        Err(invalid(
                            "--ingest-token / IEM_INGEST_TOKEN",
                            "the token is shorter than 16 characters; use a long random one".into(),
                        ))
                    }
                })
                .transpose()?,
            auth,
            alerts: crate::alerts::AlertSettings {
                webhook_hosts: webhook_hosts(&self.alert_webhook_hosts)
                    .map_err(|m| invalid("--alert-webhook-hosts / IEM_ALERT_WEBHOOK_HOSTS", m))?,
                smtp: smtp(
                    &self.smtp_relay,
                    &self.smtp_from,
                    &self.smtp_recipient_domains,
                    &self.smtp_security,
                    &self.smtp_user,
                    &self.smtp_password,
                )?,
                roots: match &self.alert_ca_file {
                    Some(path) => crate::alerts::tls::TrustedRoots::from_pem_file(path)
                        .map_err(|m| invalid("--alert-ca-file / IEM_ALERT_CA_FILE", m))?,
                    None => crate::alerts::tls::TrustedRoots::Public,
                },
                ..Default::default()
            },
        })
    }
}

/// A yes/no setting, from a flag or its environment variable: an empty variable counts as
/// unset, and a value that is neither yes nor no is refused rather than guessed.
fn switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(format!("'{value}' is neither true nor false")),
    }
}

fn simulator_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1000.0 => Ok(rate),
        _ => Err(format!(
            "'{value}' is not a rate between 0 and 1000 events per second"
        )),
    }
}

/// A number of minutes, hours or requests: at most `max`, and above 0 (or 0 too where 0 means
/// "no limit"). Above 0 means at least 0.001: smaller rates make durations that overflow.
fn number(value: &str, default: &str, zero_allowed: bool, max: f64) -> Result<f64, String> {
    let value = or_default(value, default);
    match value.parse::<f64>() {
        Ok(n) if (n >= 0.001 || (zero_allowed && n == 0.0)) && n <= max => Ok(n),
        _ if zero_allowed => Err(format!("'{value}' is not a number from 0 to {max}")),
        _ => Err(format!("'{value}' is not a number from 0.001 to {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        settings: SettingsArgs,
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(flags: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("server").chain(flags.iter().copied())).unwrap()
    }

    fn serve(flags: &[&str]) -> Result<ServeSettings, ConfigError> {
        parse(flags).serve.settings()
    }

    fn demo(flags: &[&str]) -> bool {
        serve(flags).unwrap().demo
    }

    fn simulator_rate_of(flags: &[&str]) -> Option<f64> {
        serve(flags).unwrap().simulator.map(|s| s.rate)
    }

    #[test]
    fn without_the_demo_switch_there_is_no_demo_and_no_simulator() {
        assert!(!demo(&[]));
        assert_eq!(simulator_rate_of(&["--simulator-rate", "5"]), None);
    }

    #[test]
    fn the_demo_switch_brings_the_simulator_unless_it_is_turned_off() {
        assert!(demo(&["--demo"]));
        assert_eq!(
            simulator_rate_of(&["--demo", "--simulator-rate", "5"]),
            Some(5.0)
        );
        assert!(demo(&["--demo", "--no-simulator"]));
        assert_eq!(simulator_rate_of(&["--demo", "--no-simulator"]), None);
        assert!(!demo(&["--demo=false"]));
    }

    #[test]
    fn no_demo_wins_over_demo() {
        assert!(!demo(&["--demo", "--no-demo"]));
        assert_eq!(simulator_rate_of(&["--demo", "--no-demo"]), None);
    }

    #[test]
    fn a_relay_password_goes_only_over_tls_and_only_with_its_user() {
        let relay = [
            "--smtp-relay",
            "mail.tinh.gov.vn:587",
            "--smtp-from",
            "iem@tinh.gov.vn",
        ];
        let with = |more: &[&str]| serve(&[&relay[..], more].concat());
        let e = with(&["--smtp-user", "iem", "--smtp-password", "s3cret-pass"]).unwrap_err();
        assert_eq!(e.name, "--smtp-security / IEM_SMTP_SECURITY");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = with(&["--smtp-security", "starttls", "--smtp-user", "iem"]).unwrap_err();
        assert_eq!(e.name, "--smtp-user / IEM_SMTP_USER");
        let e = with(&["--smtp-security", "ssl"]).unwrap_err();
        assert_eq!(e.name, "--smtp-security / IEM_SMTP_SECURITY");
        let smtp = with(&[
            "--smtp-security",
            "starttls",
            "--smtp-user",
            "iem",
            "--smtp-password",
            "s3cret-pass",
        ])
        .unwrap()
        .alerts
        .smtp
        .unwrap();
        assert_eq!(smtp.security, crate::alerts::email::SmtpSecurity::StartTls);
        assert!(!format!("{smtp:?}").contains("s3cret"), "{smtp:?}");
        assert_eq!(smtp.credentials.unwrap().password, "s3cret-pass");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let path = path.to_str().unwrap();
        let e = serve(&["--alert-ca-file", path]).unwrap_err();
        assert_eq!(e.name, "--alert-ca-file / IEM_ALERT_CA_FILE");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        // A PEM block whose content is no certificate: refused at start, not at the first e-mail.
        std::fs::write(
            dir.path().join("ca.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = serve(&["--alert-ca-file", path]).unwrap_err();
        assert_eq!(e.name, "--alert-ca-file / IEM_ALERT_CA_FILE", "{e}");
        let e = serve(&["--alert-ca-file", "/nonexistent/ca.pem"]).unwrap_err();
        assert_eq!(e.name, "--alert-ca-file / IEM_ALERT_CA_FILE");
    }

    #[test]
    fn defaults_are_what_the_help_says() {
        let cli = parse(&[]);
        let s = cli.settings.settings().unwrap();
        assert_eq!(s.data_dir, PathBuf::from("var"));
        assert_eq!(s.authored_data_dir, PathBuf::from("data"));
        assert!(s.cluster.is_none() && s.engine.memory_limit.is_none());
        assert_eq!(s.blocking_threads, 16);
        assert!(!s.log_json);
        let v = cli.serve.settings().unwrap();
        assert_eq!(v.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            (
                v.default_province.as_str(),
                v.default_province_2025.as_str()
            ),
            ("49", "48")
        );
        assert_eq!(v.auth.session.idle, Duration::from_secs(30 * 60));
        assert_eq!(v.auth.session.lifetime, Duration::from_secs(8 * 3600));
        assert_eq!(v.auth.ingest.per_second, 100.0);
        assert_eq!(v.auth.signin.burst, 10.0);
        assert!(!v.auth.secure_cookies && v.ingest_token.is_none());
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_flag_and_variable() {
        let cases: [(&[&str], &str); 12] = [
            (&["--demo=maybe"], "--demo / IEM_DEMO"),
            (
                &["--simulator-rate", "0"],
                "--simulator-rate / IEM_SIMULATOR_RATE",
            ),
            (
                &["--site-addr", "localhost"],
                "--site-addr / LEPTOS_SITE_ADDR",
            ),
            (
                &["--default-province", "Quảng Nam"],
                "--default-province / IEM_DEFAULT_PROVINCE",
            ),
            (
                &["--session-hours", "0"],
                "--session-hours / IEM_SESSION_HOURS",
            ),
            (
                &["--session-idle-minutes", "soon"],
                "--session-idle-minutes / IEM_SESSION_IDLE_MINUTES",
            ),
            (
                &["--ingest-rate-limit=-1"],
                "--ingest-rate-limit / IEM_INGEST_RATE_LIMIT",
            ),
            (
                &["--signin-rate-limit", "inf"],
                "--signin-rate-limit / IEM_SIGNIN_RATE_LIMIT",
            ),
            (
                &["--signin-rate-limit", "0"],
                "--signin-rate-limit / IEM_SIGNIN_RATE_LIMIT",
            ),
            (
                &["--signin-rate-limit", "1e-300"],
                "--signin-rate-limit / IEM_SIGNIN_RATE_LIMIT",
            ),
            (
                &["--session-hours", "1e16"],
                "--session-hours / IEM_SESSION_HOURS",
            ),
            (
                &["--secure-cookies=sometimes"],
                "--secure-cookies / IEM_SECURE_COOKIES",
            ),
        ];
        for (flags, name) in cases {
            let e = serve(flags).unwrap_err();
            assert_eq!(e.name, name, "{flags:?}");
            assert!(e.to_string().starts_with(&format!("{name}: '")), "{e}");
        }
        let cases: [(&[&str], &str); 5] = [
            (
                &["--blocking-threads", "many"],
                "--blocking-threads / IEM_BLOCKING_THREADS",
            ),
            (
                &["--blocking-threads", "0"],
                "--blocking-threads / IEM_BLOCKING_THREADS",
            ),
            (
                &["--duckdb-memory-limit", "lots"],
                "--duckdb-memory-limit / IEM_DUCKDB_MEMORY_LIMIT",
            ),
            (&["--log-format", "xml"], "--log-format / IEM_LOG_FORMAT"),
            (&["--store-url", "http://x"], "--store-url / STORE_URL"),
        ];
        for (flags, name) in cases {
            let e = parse(flags).settings.settings().unwrap_err();
            assert_eq!(e.name, name, "{flags:?}");
        }
    }

    #[test]
    fn an_empty_value_counts_as_unset() {
        let v = serve(&[
            "--site-addr",
            "",
            "--session-hours",
            " ",
            "--ingest-token",
            "",
        ])
        .unwrap();
        assert_eq!(v.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(v.auth.session.lifetime, Duration::from_secs(8 * 3600));
        assert!(v.ingest_token.is_none());
        let s = parse(&["--blocking-threads", "", "--store-url", ""])
            .settings
            .settings()
            .unwrap();
        assert_eq!(s.blocking_threads, 16);
        assert!(s.cluster.is_none());
    }

    #[test]
    fn memory_sizes_are_the_ones_duckdb_reads() {
        for good in ["2GB", "512 MB", "1.5GiB", "4G", "512M"] {
            assert_eq!(memory_size(good).as_deref(), Ok(good), "{good}");
        }
        for bad in ["", "GB", "lots", "2 parsecs", "2GB; DROP TABLE x"] {
            assert!(memory_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_ingest_token_is_long_and_never_printed_by_debug() {
        let e = serve(&["--ingest-token", "tok3n!"]).unwrap_err();
        assert!(!e.to_string().contains("tok3n!"), "{e}");
        let v = serve(&["--ingest-token", "a-long-enough-token-0123"]).unwrap();
        assert_eq!(
            v.ingest_token.as_ref().map(Secret::expose),
            Some("a-long-enough-token-0123")
        );
        assert!(!format!("{v:?}").contains("a-long-enough"));
    }

    #[test]
    fn switches_read_the_usual_spellings_and_refuse_the_rest() {
        for yes in ["true", "1", "yes", "on", "TRUE"] {
            assert_eq!(switch(yes), Ok(true), "{yes}");
        }
        for no in ["", "false", "0", "no", "off"] {
            assert_eq!(switch(no), Ok(false), "{no}");
        }
        assert!(switch("maybe").is_err());
        assert!(simulator_rate("0").is_err());
        assert_eq!(simulator_rate("2.5"), Ok(2.5));
    }
}
