//! Runtime settings, read from the environment with defaults a newcomer can run as they are.
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the dashboard listens (`LEPTOS_SITE_ADDR`, default 127.0.0.1:3000).
    pub site_addr: SocketAddr,
    /// The directory with the built browser bundle (`pkg/`): `IEM_SITE_ROOT`, default `site`.
    pub site_root: PathBuf,
    /// The directory holding the DuckDB file: `IEM_DATA_DIR`, default `var`.
    pub data_dir: PathBuf,
    /// The project's authored data (unit lists, catalogues): `IEM_CONFIG_DIR`, default `data`.
    pub authored_data_dir: PathBuf,
    /// The province the dashboard opens on for a period before the 2025 reform (and the demo
    /// accounts' province): `IEM_DEFAULT_PROVINCE`, default 49 (Quảng Nam).
    pub default_province: String,
    /// The province of today the dashboard opens on (periods from 2025-07-01, and the default
    /// view): `IEM_DEFAULT_PROVINCE_2025`, default 48 (the new Đà Nẵng, which took in Quảng Nam).
    pub default_province_2025: String,
    /// `STORE_URL`: a ClickHouse cluster (`clickhouse://HOST:PORT[,HOST:PORT…]/DB`) to store
    /// dossiers on instead of the embedded DuckDB file.
    pub cluster: Option<crate::store::clickhouse::ClusterAddress>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let site_addr = match var("LEPTOS_SITE_ADDR") {
            Some(v) => v.parse().map_err(|e| ConfigError::Invalid {
                name: "LEPTOS_SITE_ADDR",
                message: format!("'{v}' is not an address like 127.0.0.1:3000 ({e})"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        Ok(Settings {
            site_addr,
            site_root: var("IEM_SITE_ROOT").unwrap_or_else(|| "site".into()).into(),
            data_dir: var("IEM_DATA_DIR").unwrap_or_else(|| "var".into()).into(),
            authored_data_dir: var("IEM_CONFIG_DIR")
                .unwrap_or_else(|| "data".into())
                .into(),
            default_province: var("IEM_DEFAULT_PROVINCE").unwrap_or_else(|| "49".into()),
            default_province_2025: var("IEM_DEFAULT_PROVINCE_2025").unwrap_or_else(|| "48".into()),
            cluster: var("STORE_URL")
                .map(|url| url.parse())
                .transpose()
                .map_err(|message| ConfigError::Invalid {
                    name: "STORE_URL",
                    message,
                })?,
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("iem.duckdb")
    }

    /// A cluster server's local reference data (units, catalogue, maps).
    pub fn reference_path(&self) -> PathBuf {
        self.data_dir.join("reference.duckdb")
    }
}
