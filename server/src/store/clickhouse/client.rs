//! A blocking client for ClickHouse's HTTP interface: statements and queries to one shard, rows
//! as JSON lines. Called from blocking threads, like DuckDB.
use std::time::Duration;

/// A failed ClickHouse call: the shard could not be reached, or it answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    #[error("ClickHouse at {shard} cannot be reached: {message}")]
    Unreachable { shard: String, message: String },
    #[error("ClickHouse at {shard} refused the statement (HTTP {status}): {message}")]
    Refused {
        shard: String,
        status: u16,
        message: String,
    },
    #[error("ClickHouse at {shard} sent a row that cannot be read: {message}")]
    BadRow { shard: String, message: String },
    #[error("the cluster at {shard} has schema version {found}, newer than this build knows ({known}); use a newer server")]
    NewerSchema {
        shard: String,
        found: u32,
        known: u32,
    },
}

/// One shard's HTTP interface.
pub struct ClickHouse {
    shard: String,
    agent: ureq::Agent,
}

impl ClickHouse {
    pub fn new(shard: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(300)))
            // Errors are read from the body (ClickHouse puts the reason there), not turned into Err.
            .http_status_as_error(false)
            .build()
            .into();
        ClickHouse {
            shard: shard.to_string(),
            agent,
        }
    }

    pub fn shard(&self) -> &str {
        &self.shard
    }

    /// Runs a statement; `body` follows the statement (rows of an `INSERT … FORMAT …`).
    pub fn execute(&self, statement: &str, body: &[u8]) -> Result<String, ClickHouseError> {
        self.execute_with(statement, body, &[])
    }

    /// [`Self::execute`] with settings for this statement only.
    pub fn execute_with(
        &self,
        statement: &str,
        body: &[u8],
        settings: &[(&str, &str)],
    ) -> Result<String, ClickHouseError> {
        let url = format!("http://{}/", self.shard);
        let mut request = self.agent.post(&url);
        // A statement without rows travels as the body: long ones (a batch's dossier ids) would
        // not fit in a URL. An insert's statement goes in the URL, its rows in the body.
        let body = if body.is_empty() {
            statement.as_bytes()
        } else {
            request = request.query("query", statement);
            body
        };
        for (name, value) in settings {
            request = request.query(*name, *value);
        }
        let mut response = request
            .send(body)
            .map_err(|e| ClickHouseError::Unreachable {
                shard: self.shard.clone(),
                message: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| ClickHouseError::Unreachable {
                shard: self.shard.clone(),
                message: e.to_string(),
            })?;
        if status != 200 {
            return Err(ClickHouseError::Refused {
                shard: self.shard.clone(),
                status,
                message: text.trim().to_string(),
            });
        }
        Ok(text)
    }

    /// Runs a query and reads each row of its `FORMAT JSONEachRow` answer.
    pub fn rows<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
    ) -> Result<Vec<T>, ClickHouseError> {
        let text = self.execute(&format!("{query} FORMAT JSONEachRow"), b"")?;
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                serde_json::from_str(line).map_err(|e| ClickHouseError::BadRow {
                    shard: self.shard.clone(),
                    message: format!("{e}: {line}"),
                })
            })
            .collect()
    }

    /// Inserts rows, one JSON object per row.
    pub fn insert<T: serde::Serialize>(
        &self,
        table: &str,
        rows: &[T],
    ) -> Result<(), ClickHouseError> {
        let mut body = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut body, row).map_err(|e| ClickHouseError::BadRow {
                shard: self.shard.clone(),
                message: e.to_string(),
            })?;
            body.push(b'\n');
        }
        // Through a Distributed table, return only once every shard has its rows, whatever the
        // server's profile says: an acknowledged event is on its shard's disk, not in a queue.
        self.execute_with(
            &format!("INSERT INTO {table} FORMAT JSONEachRow"),
            &body,
            &[("insert_distributed_sync", "1")],
        )
        .map(drop)
    }
}

/// Reads a number that ClickHouse may send quoted (64-bit integers in JSON) or bare.
pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use serde::de::Error;
    match <serde_json::Value as serde::Deserialize>::deserialize(deserializer)? {
        serde_json::Value::String(s) => s.parse().map_err(D::Error::custom),
        serde_json::Value::Number(n) => n.to_string().parse().map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "expected a number, found {other}"
        ))),
    }
}
