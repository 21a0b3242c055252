//! The account book: users (argon2id password hashes) and API tokens (SHA-256 digests) in one JSON
//! file that the CLI edits under a lock and the server re-reads when it changes.
use super::principal::Role;
use super::token;
use crate::private_file::create_private;
use crate::scope::Scope;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UserRecord {
    pub username: String,
    pub role: Role,
    /// The province of a leader, the district of a chair; none for an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenRecord {
    /// Public part of the token (`iem_<id>_<secret>`): finds the record without a scan.
    pub id: String,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Hex SHA-256 of the whole token; the token itself is shown once and never stored.
    pub digest: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl UserRecord {
    pub fn scope(&self) -> Scope {
        Scope::of(self.role, self.unit.as_deref())
    }

    /// What a session remembers of the password it was opened with: a digest of the password's
    /// hash. Every new password gets a new salt, hence a new stamp, so a password change or
    /// reset (by the CLI too) ends the older sessions. A digest rather than the hash itself:
    /// the sessions' memory then holds nothing to guess passwords against.
    pub fn credentials_stamp(&self) -> String {
        token::digest_hex(&self.password_hash)
    }
}

impl TokenRecord {
    pub fn scope(&self) -> Scope {
        Scope::of(self.role, self.unit.as_deref())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AccountFile {
    #[serde(default)]
    pub users: Vec<UserRecord>,
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid account file: {message}")]
    Corrupt { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AccountError + '_ {
    move |source| AccountError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks a password against a stored hash (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody has: unknown usernames are verified against it so that a
/// sign-in takes as long whether or not the user exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password("decoy password nobody has").expect("argon2 with fixed parameters")
    })
}

pub fn validate_username(name: &str) -> Result<(), AccountError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!(
            "username '{name}': use 2 to 64 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

pub fn validate_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < 12 {
        return Err(AccountError::Invalid(
            "password: at least 12 characters".into(),
        ));
    }
    if password.len() > 1024 {
        return Err(AccountError::Invalid("password: at most 1024 bytes".into()));
    }
    Ok(())
}

/// The account file on disk. Reads are cached and refreshed when the file changes, so users
/// and tokens the CLI adds or revokes, and passwords it resets, take effect without a restart.
pub struct AccountBook {
    path: PathBuf,
    cache: Mutex<(Option<FileVersion>, Arc<AccountFile>)>,
}

/// What tells one version of the account file from the next. The modification time alone
/// misses an update made within the same clock tick as the last read (file times are coarse);
/// every update renames a new file into place, so its inode changes as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileVersion {
    modified: SystemTime,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl FileVersion {
    fn of(metadata: &std::fs::Metadata) -> std::io::Result<Self> {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Ok(FileVersion {
            modified: metadata.modified()?,
            len: metadata.len(),
            #[cfg(unix)]
            inode: metadata.ino(),
        })
    }
}

impl AccountBook {
    pub fn at(data_dir: &Path) -> Self {
        Self::with_path(data_dir.join("accounts.json"))
    }

    /// The directory the book lives in (the server's data directory).
    pub fn data_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    pub fn with_path(path: PathBuf) -> Self {
        AccountBook {
            path,
            cache: Mutex::new((None, Arc::new(AccountFile::default()))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_file(path: &Path) -> Result<AccountFile, AccountError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AccountError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AccountFile::default()),
            Err(e) => Err(io_err(path)(e)),
        }
    }

    /// The accounts as the file holds them now.
    pub fn current(&self) -> Result<Arc<AccountFile>, AccountError> {
        let version = match std::fs::metadata(&self.path) {
            Ok(m) => Some(FileVersion::of(&m).map_err(io_err(&self.path))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        // A cache of the file: after a panic elsewhere it is still whole (each update replaces
        // it at once), so a poisoned lock is taken back rather than failing every request.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != version || version.is_none() {
            let file = Self::read_file(&self.path)?;
            *cache = (version, Arc::new(file));
        }
        Ok(cache.1.clone())
    }

    /// Changes the file under an exclusive lock; the new content replaces the old atomically
    /// (written beside it, synced, renamed), so a crash leaves one or the other, never half.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut AccountFile) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = self.path.with_extension("lock");
        let mut lock_options = std::fs::OpenOptions::new();
        lock_options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            lock_options.mode(0o600);
        }
        let lock = lock_options.open(&lock_path).map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        let mut file = Self::read_file(&self.path)?;
        let out = change(&mut file)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = create_private(&tmp).map_err(io_err(&tmp))?;
            let bytes = serde_json::to_vec_pretty(&file)
                .map_err(|e| AccountError::Invalid(e.to_string()))?;
            f.write_all(&bytes).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io_err(&self.path))?;
        // Dropping the file handle releases the lock.
        drop(lock);
        Ok(out)
    }

    pub fn user(&self, username: &str) -> Result<Option<UserRecord>, AccountError> {
        Ok(self
            .current()?
            .users
            .iter()
            .find(|u| u.username == username)
            .cloned())
    }

    /// The live record of a presented token, if it is one of ours and not revoked.
    pub fn token(&self, presented: &str) -> Result<Option<TokenRecord>, AccountError> {
        let Some(id) = token::id_of(presented) else {
            return Ok(None);
        };
        let digest = token::digest_hex(presented);
        Ok(self
            .current()?
            .tokens
            .iter()
            .find(|t| {
                t.id == id && t.revoked_at.is_none() && token::equal_digests(&t.digest, &digest)
            })
            .cloned())
    }

    pub fn add_user(
        &self,
        username: &str,
        role: Role,
        unit: Option<&str>,
        password: &str,
    ) -> Result<(), AccountError> {
        validate_username(username)?;
        validate_password(password)?;
        Scope::check(role, unit).map_err(AccountError::Invalid)?;
        if role == Role::Ingest {
            return Err(AccountError::Invalid(
                "role: ingest is for tokens (tokens create --role ingest), not for people".into(),
            ));
        }
        let password_hash = hash_password(password)?;
        self.update(|f| {
            if f.users.iter().any(|u| u.username == username) {
                return Err(AccountError::Invalid(format!(
                    "username '{username}' is taken"
                )));
            }
            f.users.push(UserRecord {
                username: username.into(),
                role,
                unit: unit.map(str::to_string),
                password_hash,
                created_at: Utc::now(),
                disabled_at: None,
            });
            Ok(())
        })
    }

    /// Sets a new password; the user's sessions end at their next request (see
    /// [`UserRecord::credentials_stamp`]).
    pub fn set_password(&self, username: &str, password: &str) -> Result<(), AccountError> {
        validate_password(password)?;
        let hash = hash_password(password)?;
        self.update(|f| {
            let user = f
                .users
                .iter_mut()
                .find(|u| u.username == username)
                .ok_or_else(|| AccountError::Invalid(format!("no user '{username}'")))?;
            user.password_hash = hash;
            Ok(())
        })
    }

    /// Disables a user: their sessions stop working at the next request.
    pub fn disable_user(&self, username: &str) -> Result<(), AccountError> {
        self.update(|f| {
            let user = f
                .users
                .iter_mut()
                .find(|u| u.username == username)
                .ok_or_else(|| AccountError::Invalid(format!("no user '{username}'")))?;
            user.disabled_at.get_or_insert_with(Utc::now);
            Ok(())
        })
    }

    /// Creates a token and returns its record and the plain token (to be shown once).
    pub fn create_token(
        &self,
        name: &str,
        role: Role,
        unit: Option<&str>,
    ) -> Result<(TokenRecord, String), AccountError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(AccountError::Invalid(
                "name: 1 to 100 characters saying who uses the token".into(),
            ));
        }
        if role == Role::Admin {
            return Err(AccountError::Invalid(
                "role: admin rights are for signed-in people, not tokens".into(),
            ));
        }
        Scope::check(role, unit).map_err(AccountError::Invalid)?;
        let (id, plain) = token::generate().map_err(io_err(&self.path))?;
        let record = TokenRecord {
            id,
            name: name.trim().into(),
            role,
            unit: unit.map(str::to_string),
            digest: token::digest_hex(&plain),
            created_at: Utc::now(),
            revoked_at: None,
        };
        let stored = record.clone();
        self.update(move |f| {
            f.tokens.push(stored);
            Ok(())
        })?;
        Ok((record, plain))
    }

    pub fn revoke_token(&self, id: &str) -> Result<TokenRecord, AccountError> {
        self.update(|f| {
            let t = f
                .tokens
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or_else(|| AccountError::Invalid(format!("no token with id '{id}'")))?;
            t.revoked_at.get_or_insert_with(Utc::now);
            Ok(t.clone())
        })
    }

    /// Revokes a token and creates its successor with the same name, role and unit.
    pub fn rotate_token(&self, id: &str) -> Result<(TokenRecord, String), AccountError> {
        let old = self
            .current()?
            .tokens
            .iter()
            .find(|t| t.id == id && t.revoked_at.is_none())
            .cloned()
            .ok_or_else(|| AccountError::Invalid(format!("no live token with id '{id}'")))?;
        // An ingest token made before scopes existed (no unit) wrote for every unit: its
        // successor says so explicitly.
        let unit = match (old.role, old.unit.as_deref()) {
            (Role::Ingest, None) => Some(super::ALL_UNITS),
            (_, unit) => unit,
        };
        let created = self.create_token(&old.name, old.role, unit)?;
        self.revoke_token(id)?;
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_stored_hashed_found_by_id_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let book = AccountBook::at(dir.path());
        let (record, plain) = book
            .create_token("one-stop", Role::Ingest, Some("*"))
            .unwrap();
        let text = std::fs::read_to_string(book.path()).unwrap();
        assert!(!text.contains(&plain), "the plain token is not stored");
        assert_eq!(book.token(&plain).unwrap().unwrap().id, record.id);
        assert!(book.token(&format!("{plain}x")).unwrap().is_none());
        let (_, next) = book.rotate_token(&record.id).unwrap();
        assert!(book.token(&plain).unwrap().is_none(), "rotated away");
        assert!(book.token(&next).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn the_account_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let book = AccountBook::at(dir.path());
        book.create_token("one-stop", Role::Ingest, Some("*"))
            .unwrap();
        for path in [
            book.path().to_path_buf(),
            book.path().with_extension("lock"),
        ] {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
        }
    }

    #[test]
    fn users_need_a_fitting_scope_and_a_long_password() {
        let dir = tempfile::tempdir().unwrap();
        let book = AccountBook::at(dir.path());
        assert!(book
            .add_user("chair", Role::Chair, None, "long enough password")
            .is_err());
        assert!(book
            .add_user("chair", Role::Chair, Some("502"), "short")
            .is_err());
        book.add_user("chair", Role::Chair, Some("502"), "long enough password")
            .unwrap();
        assert!(book
            .add_user("chair", Role::Leader, Some("49"), "long enough password")
            .is_err());
        let user = book.user("chair").unwrap().unwrap();
        assert!(verify_password("long enough password", &user.password_hash));
        book.disable_user("chair").unwrap();
        assert!(book.user("chair").unwrap().unwrap().disabled_at.is_some());
    }

    #[test]
    fn a_new_password_changes_the_credentials_stamp_another_reader_sees() {
        let dir = tempfile::tempdir().unwrap();
        // Two books on one file: the CLI's and the running server's.
        let cli = AccountBook::at(dir.path());
        let server = AccountBook::at(dir.path());
        cli.add_user("chair", Role::Chair, Some("502"), "long enough password")
            .unwrap();
        let before = server.user("chair").unwrap().unwrap().credentials_stamp();
        // Even the same password again: a reset must end the sessions opened before it.
        cli.set_password("chair", "long enough password").unwrap();
        let after = server.user("chair").unwrap().unwrap().credentials_stamp();
        assert_ne!(before, after);
        assert!(!after.contains("argon2"), "a digest, not the hash");
    }
}
