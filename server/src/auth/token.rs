//! Bearer tokens: generated from the OS's randomness, kept only as SHA-256 digests, compared in
//! constant time. A token reads `iem_<id>_<secret>`; the id finds its record without a scan.
use crate::private_file::create_private;
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn digest_hex(token: &str) -> String {
    hex(&digest(token))
}

/// Constant time over the whole digest: how much of a guess matches leaks nothing.
pub fn equal_digests(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A fresh token and its id: 8 random bytes of id, 32 of secret.
pub fn generate() -> std::io::Result<(String, String)> {
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let id = hex(&bytes[..8]);
    let token = format!("iem_{id}_{}", hex(&bytes[8..]));
    Ok((id, token))
}

/// The id part of a token in our format.
pub fn id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("iem_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && secret.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(id)
}

/// The deployment's own ingest token (`IEM_INGEST_TOKEN`, or one kept in the data directory):
/// what one-stop systems used before tokens were managed with the CLI; still accepted.
pub struct IngestToken {
    digest: String,
}

/// Where the deployment's ingest token came from, for the start-up message. Only a token
/// created at this start carries its plain text: it is printed once, like
/// `server tokens create` prints one, and never again at later starts, since logs are kept and
/// read more widely than the data directory.
pub enum TokenOrigin {
    /// `IEM_INGEST_TOKEN`: the operator knows it already.
    Environment,
    /// Kept in this file since an earlier start.
    Kept(PathBuf),
    /// Created in this file just now.
    Created { file: PathBuf, token: String },
}

impl IngestToken {
    pub fn from_plain(token: &str) -> Self {
        IngestToken {
            digest: digest_hex(token),
        }
    }

    pub fn matches(&self, presented: &str) -> bool {
        equal_digests(&self.digest, &digest_hex(presented))
    }

    /// The operator's token (`IEM_INGEST_TOKEN`, read by the configuration), else the one kept
    /// in the data directory (created on first start, readable by the owner only from its first
    /// byte).
    pub fn load_or_create(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> std::io::Result<(Self, TokenOrigin)> {
        if let Some(token) = configured.map(str::trim).filter(|t| !t.is_empty()) {
            return Ok((IngestToken::from_plain(token), TokenOrigin::Environment));
        }
        Self::kept_in(data_dir)
    }

    /// The token in `data_dir/ingest-token`, created there when there is none.
    fn kept_in(data_dir: &Path) -> std::io::Result<(Self, TokenOrigin)> {
        let file = data_dir.join("ingest-token");
        match std::fs::read_to_string(&file) {
            Ok(t) if !t.trim().is_empty() => {
                let token = IngestToken::from_plain(t.trim());
                return Ok((token, TokenOrigin::Kept(file)));
            }
            // Empty (a start killed between creating and writing it) or not text: replaced.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidData) => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(data_dir)?;
        let (_, token) = generate()?;
        let mut f = create_private(&file)?;
        f.write_all(token.as_bytes())?;
        f.sync_all()?;
        Ok((
            IngestToken::from_plain(&token),
            TokenOrigin::Created { file, token },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let t = IngestToken::from_plain("secret-token");
        assert!(t.matches("secret-token"));
        assert!(!t.matches("secret-tokem"));
        assert!(!t.matches(""));
    }

    #[test]
    fn the_kept_token_is_created_once_owner_only_and_only_then_shown() {
        let dir = tempfile::tempdir().unwrap();
        let (first, origin) = IngestToken::kept_in(dir.path()).unwrap();
        let TokenOrigin::Created { file, token } = origin else {
            panic!("a new data directory gets a new token");
        };
        assert!(first.matches(&token));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        let (again, origin) = IngestToken::kept_in(dir.path()).unwrap();
        assert!(
            matches!(origin, TokenOrigin::Kept(_)),
            "kept, not shown again"
        );
        assert!(again.matches(&token));
    }

    #[test]
    fn an_empty_token_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ingest-token"), "").unwrap();
        let (_, origin) = IngestToken::kept_in(dir.path()).unwrap();
        assert!(matches!(origin, TokenOrigin::Created { .. }));
    }

    #[test]
    fn generated_tokens_are_long_distinct_and_carry_their_id() {
        let (id_a, a) = generate().unwrap();
        let (_, b) = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.len() > 64);
        assert_eq!(id_of(&a), Some(id_a.as_str()));
        assert_eq!(id_of("iem_ingest_abc"), None);
        assert_eq!(id_of("Bearer x"), None);
    }
}
