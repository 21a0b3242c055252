//! `STORE_URL` for a cluster: `clickhouse://HOST:PORT[,HOST:PORT…]/DATABASE[?cluster=NAME]`, one
//! address per shard (HTTP ports); the first shard also answers queries over the whole cluster.

/// Where the cluster's shards listen and which database and cluster definition the store uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAddress {
    /// `host:port` of each shard's HTTP interface, in shard order.
    pub shards: Vec<String>,
    pub database: String,
    /// The cluster's name in the shards' `remote_servers` configuration.
    pub cluster: String,
}

impl std::str::FromStr for ClusterAddress {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| format!("expected clickhouse://HOST:PORT/DATABASE, got {url:?}"))?;
        // Credentials in the address would be echoed in messages and logs; the servers' users
        // are configured on the servers (and the loopback/private network is the boundary).
        if rest.contains('@') {
            return Err("credentials (user@) are not supported in the address; configure access on the ClickHouse servers".into());
        }
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (hosts, database) = rest
            .split_once('/')
            .ok_or_else(|| format!("no database after the hosts in {url:?}"))?;
        let valid_name =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name(database) {
            return Err(format!(
                "the database name {database:?} must be letters, digits and _"
            ));
        }
        let mut shards = Vec::new();
        for host in hosts.split(',') {
            let (name, port) = host
                .rsplit_once(':')
                .ok_or_else(|| format!("{host:?} has no port"))?;
            if name.is_empty() || port.parse::<u16>().is_err() {
                return Err(format!("{host:?} is not HOST:PORT"));
            }
            shards.push(host.to_string());
        }
        let mut cluster = "iem".to_string();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("cluster", name)) if valid_name(name) => cluster = name.to_string(),
                _ => {
                    return Err(format!(
                        "unknown or invalid option {pair:?} (known: cluster=NAME)"
                    ))
                }
            }
        }
        Ok(ClusterAddress {
            shards,
            database: database.to_string(),
            cluster,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_shards_database_and_cluster() {
        let a: ClusterAddress = "clickhouse://127.0.0.1:18123,127.0.0.1:18133/iem?cluster=national"
            .parse()
            .unwrap();
        assert_eq!(a.shards, ["127.0.0.1:18123", "127.0.0.1:18133"]);
        assert_eq!(a.database, "iem");
        assert_eq!(a.cluster, "national");
        let one: ClusterAddress = "clickhouse://ch1:8123/iem".parse().unwrap();
        assert_eq!(one.cluster, "iem");
    }

    #[test]
    fn refuses_what_it_cannot_use_and_says_why() {
        for (url, says) in [
            ("duckdb:///var/iem.duckdb", "expected clickhouse://"),
            ("clickhouse://127.0.0.1:8123", "no database"),
            ("clickhouse://127.0.0.1/iem", "has no port"),
            ("clickhouse://127.0.0.1:http/iem", "is not HOST:PORT"),
            ("clickhouse://127.0.0.1:8123/iem;drop", "must be letters"),
            (
                "clickhouse://127.0.0.1:8123/iem?shards=2",
                "unknown or invalid option",
            ),
        ] {
            let e = url.parse::<ClusterAddress>().unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
        }
    }
}
