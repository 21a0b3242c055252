//! Bearer tokens: generated from the OS's randomness, kept only as SHA-256 digests, compared in
//! constant time. A token reads `iem_<id>_<secret>`; the id finds its record without a scan.
use sha2::{Digest, Sha256};
use std::path::Path;

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

impl IngestToken {
    pub fn from_plain(token: &str) -> Self {
        IngestToken {
            digest: digest_hex(token),
        }
    }

    pub fn matches(&self, presented: &str) -> bool {
        equal_digests(&self.digest, &digest_hex(presented))
    }

    /// The token from `IEM_INGEST_TOKEN`, else the demo token kept in the data directory
    /// (created on first start, readable by the owner only). Returns the plain token to print.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<(Self, String)> {
        if let Ok(token) = std::env::var("IEM_INGEST_TOKEN") {
            if !token.trim().is_empty() {
                let token = token.trim().to_string();
                return Ok((IngestToken::from_plain(&token), token));
            }
        }
        let file = data_dir.join("ingest-token");
        let token = match std::fs::read_to_string(&file) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                std::fs::create_dir_all(data_dir)?;
                let (_, token) = generate()?;
                std::fs::write(&file, &token)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                token
            }
        };
        Ok((IngestToken::from_plain(&token), token))
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
