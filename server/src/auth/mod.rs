//! Authentication and its records: accounts and tokens, sessions, rate limits, the audit log, and
//! the resolution of a request's credentials into a [`Principal`].
pub mod accounts;
pub mod audit;
pub mod cli;
pub mod demo;
pub mod principal;
pub mod rate_limit;
pub mod sessions;
pub mod token;

pub use crate::scope::{Scope, Today, UnitPlace, ALL_UNITS};
pub use principal::{public_unit, Principal, Role};
pub use token::IngestToken;

use accounts::{AccountBook, AccountError};
use audit::{AuditEntry, AuditLog};
use rate_limit::{Limit, RateLimiter};
use sessions::{SessionPolicy, Sessions};
use std::path::Path;

/// The limits and policies of [`Auth`]; `crate::config` reads the deployment's settings.
#[derive(Clone, Copy, Debug)]
pub struct AuthSettings {
    pub session: SessionPolicy,
    /// Sign-in attempts per client address.
    pub signin: Limit,
    /// Ingest requests per token.
    pub ingest: Limit,
    /// Mark cookies `Secure` even when no proxy says the request came over TLS.
    pub secure_cookies: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session: SessionPolicy::default(),
            // Ten attempts, then one every six seconds: enough for typos, too slow for guessing.
            signin: Limit {
                burst: 10.0,
                per_second: 1.0 / 6.0,
            },
            // Generous for batch pushes (a one-stop system sends a few requests a second).
            ingest: Limit {
                burst: 200.0,
                per_second: 100.0,
            },
            secure_cookies: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Credentials were presented and are wrong: answered 401, never downgraded to anonymous.
    #[error("{0}")]
    BadCredentials(String),
    #[error("the account file cannot be read: {0}")]
    Accounts(#[from] AccountError),
}

/// Everything a request's authentication needs, shared by the HTTP handlers.
pub struct Auth {
    pub accounts: AccountBook,
    pub sessions: Sessions,
    pub audit: AuditLog,
    /// The deployment's own ingest token, when one is configured.
    pub ingest_token: Option<IngestToken>,
    pub signin_limit: RateLimiter,
    pub ingest_limit: RateLimiter,
    pub settings: AuthSettings,
}

impl Auth {
    pub fn new(data_dir: &Path, ingest_token: Option<IngestToken>, settings: AuthSettings) -> Self {
        Auth {
            accounts: AccountBook::at(data_dir),
            sessions: Sessions::new(settings.session),
            audit: AuditLog::at(data_dir),
            ingest_token,
            signin_limit: RateLimiter::new(settings.signin),
            ingest_limit: RateLimiter::new(settings.ingest),
            settings,
        }
    }

    /// The caller behind a bearer token or a session cookie; anonymous with neither.
    pub fn principal(
        &self,
        bearer: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<Principal, AuthError> {
        if let Some(presented) = bearer {
            if self
                .ingest_token
                .as_ref()
                .is_some_and(|t| t.matches(presented))
            {
                return Ok(Principal::Token {
                    id: "configured".into(),
                    name: "IEM_INGEST_TOKEN".into(),
                    role: Role::Ingest,
                    // The operator's own token (set in the server's environment): every unit.
                    scope: Scope::Everything,
                });
            }
            return match self.accounts.token(presented)? {
                Some(t) => Ok(Principal::Token {
                    scope: t.scope(),
                    id: t.id,
                    name: t.name,
                    role: t.role,
                }),
                None => Err(AuthError::BadCredentials(
                    "the bearer token is not valid (unknown, revoked or mistyped)".into(),
                )),
            };
        }
        if let Some(id) = session_id {
            if let Some(owner) = self.sessions.resolve(id) {
                // Re-read on every request: a disabled or deleted user is out at once, and so is
                // a session opened before the password was changed or reset (by the CLI too:
                // the book re-reads the file it rewrites).
                if let Some(user) = self.accounts.user(&owner.username)? {
                    if user.disabled_at.is_none()
                        && token::equal_digests(&user.credentials_stamp(), &owner.credentials)
                    {
                        return Ok(Principal::User {
                            scope: user.scope(),
                            username: user.username,
                            role: user.role,
                        });
                    }
                }
                self.sessions.end(id);
            }
        }
        Ok(Principal::Anonymous)
    }

    /// The user a username and password identify (`None`: wrong, unknown or disabled); the
    /// same work is done for unknown users.
    pub fn verify(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<accounts::UserRecord>, AuthError> {
        let user = self.accounts.user(username)?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.as_str())
            .unwrap_or(accounts::decoy_hash());
        let matches = accounts::verify_password(password, hash);
        Ok(user.filter(|u| matches && u.disabled_at.is_none()))
    }

    pub fn record(
        &self,
        action: &str,
        actor: &str,
        target: &str,
        outcome: &str,
        client: &str,
    ) -> std::io::Result<()> {
        self.audit.record(AuditEntry {
            action,
            actor,
            target,
            outcome,
            client,
        })
    }
}
