//! Bearer tokens for machine ingest: kept as a SHA-256 digest and compared in constant time.
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct IngestToken {
    digest: [u8; 32],
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh random token: 32 bytes from the OS, hex-encoded, with a readable prefix.
pub fn generate_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(format!(
        "iem_ingest_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

impl IngestToken {
    pub fn from_plain(token: &str) -> Self {
        IngestToken {
            digest: digest(token),
        }
    }

    /// Constant time over the digest: how much of a guess matches leaks nothing.
    pub fn matches(&self, presented: &str) -> bool {
        let other = digest(presented);
        self.digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
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
                let token = generate_token()?;
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
    fn generated_tokens_are_long_and_distinct() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        assert!(a.len() > 64);
    }
}
