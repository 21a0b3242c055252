//! Signed-in sessions: random ids in an HttpOnly cookie, kept in memory by their digest, ending
//! at sign-out, after an idle time, at an absolute lifetime, or when the account's password
//! changes.
use super::token::digest_hex;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "iem_session";

#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// A session unused this long ends (`IEM_SESSION_IDLE_MINUTES`, default 30).
    pub idle: Duration,
    /// A session ends this long after sign-in whatever its use (`IEM_SESSION_HOURS`, default 8).
    pub lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(8 * 3600),
        }
    }
}

struct Session {
    username: String,
    /// The account's credentials when the session began (see `UserRecord::credentials_stamp`).
    credentials: String,
    started: Instant,
    last_used: Instant,
}

/// Whom a live session was opened for, and with which credentials: the caller compares them with
/// the account file as it is now, so that a new password ends every older session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOwner {
    pub username: String,
    pub credentials: String,
}

/// Sessions live in the server's memory: a restart signs everybody out, which is safe and
/// keeps no session secret on disk.
pub struct Sessions {
    policy: SessionPolicy,
    by_digest: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(policy: SessionPolicy) -> Self {
        Sessions {
            policy,
            by_digest: Mutex::new(HashMap::new()),
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Starts a session for `username`, remembering the account's credentials stamp (see
    /// `UserRecord::credentials_stamp`), and returns the id to put in the cookie.
    pub fn start(&self, username: &str, credentials: &str) -> std::io::Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut map = self.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        // Forget expired sessions now and then, so that the map does not grow without bound.
        if map.len() > 1024 {
            map.retain(|_, s| !self.expired(s, now));
        }
        map.insert(
            digest_hex(&id),
            Session {
                username: username.into(),
                credentials: credentials.into(),
                started: now,
                last_used: now,
            },
        );
        Ok(id)
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_used) > self.policy.idle
            || now.duration_since(s.started) > self.policy.lifetime
    }

    /// The owner of a live session, which counts as a use.
    pub fn resolve(&self, id: &str) -> Option<SessionOwner> {
        let key = digest_hex(id);
        let now = Instant::now();
        let mut map = self.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        let expired = self.expired(map.get(&key)?, now);
        if expired {
            map.remove(&key);
            return None;
        }
        let s = map.get_mut(&key)?;
        s.last_used = now;
        Some(SessionOwner {
            username: s.username.clone(),
            credentials: s.credentials.clone(),
        })
    }

    pub fn end(&self, id: &str) -> bool {
        let mut map = self.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&digest_hex(id)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_on_sign_out_and_when_idle() {
        let sessions = Sessions::new(SessionPolicy {
            idle: Duration::from_millis(50),
            lifetime: Duration::from_secs(60),
        });
        let a = sessions.start("alice", "stamp-a").unwrap();
        assert_eq!(
            sessions.resolve(&a),
            Some(SessionOwner {
                username: "alice".into(),
                credentials: "stamp-a".into(),
            })
        );
        assert!(sessions.end(&a));
        assert_eq!(sessions.resolve(&a), None);
        let b = sessions.start("bob", "stamp-b").unwrap();
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(sessions.resolve(&b), None, "idle too long");
        assert_eq!(sessions.resolve("made-up"), None);
    }
}
