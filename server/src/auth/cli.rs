//! `server users …` and `server tokens …`: manage accounts and API tokens in the data directory.
//! They work while the server runs (the server re-reads the account file when it changes).
use super::accounts::{AccountBook, AccountError};
use super::audit::AuditLog;
use super::principal::Role;
use clap::Subcommand;
use std::io::BufRead;
use std::path::Path;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create a user. Without --password-stdin a random password is generated and shown once.
    Add {
        username: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The leader's province code, or the chair's commune code (a district code with
        /// --before-2025): a unit of today unless --before-2025.
        #[arg(long)]
        unit: Option<String>,
        /// --unit names a unit in force before the 2025 reform (a province or district then).
        #[arg(long)]
        before_2025: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (never their password hashes).
    List,
    /// Set a new password (random unless --password-stdin).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user; their sessions end at their next request.
    Disable { username: String },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create a token; it is shown once and stored only as a digest.
    Create {
        /// Who uses it, e.g. the one-stop system's name.
        #[arg(long)]
        name: String,
        /// ingest (post events only), leader or chair (read dossier-level data of --unit).
        #[arg(long, value_enum)]
        role: Role,
        /// Unit codes of today (comma-separated for ingest, or '*'), unless --before-2025.
        #[arg(long)]
        unit: Option<String>,
        /// --unit names units in force before the 2025 reform.
        #[arg(long)]
        before_2025: bool,
    },
    /// List tokens (ids, names, roles; never the tokens).
    List,
    /// Revoke a token at once.
    Revoke { id: String },
    /// Revoke a token and create its successor with the same name, role and unit.
    Rotate { id: String },
}

/// A random password of 20 letters and digits (about 119 bits).
pub fn random_password() -> std::io::Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
        // Rejection sampling keeps every letter equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        out.extend(
            b.iter()
                .filter(|&&x| (x as usize) < limit)
                .map(|&x| ALPHABET[x as usize % ALPHABET.len()] as char),
        );
    }
    out.truncate(20);
    Ok(out)
}

fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((random_password().map_err(|e| e.to_string())?, true))
    }
}

fn err(e: AccountError) -> String {
    e.to_string()
}

/// The store keys of the units a command names: a unit is a code in force in an era (today's
/// unless `before_2025`), since codes are reused across the 2025 reform.
fn unit_keys(unit: Option<String>, before_2025: bool) -> Result<Option<String>, String> {
    let era = if before_2025 {
        app::era::Era::Before2025
    } else {
        app::era::Era::From2025
    };
    let Some(list) = unit else { return Ok(None) };
    if list == super::ALL_UNITS {
        return Ok(Some(list));
    }
    list.split(',')
        .map(|code| {
            era.key(code.trim())
                .ok_or_else(|| format!("unit: '{}' is not a unit code (digits)", code.trim()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|keys| Some(keys.join(",")))
}

pub fn run_users(data_dir: &Path, command: UsersCommand) -> Result<(), String> {
    let book = AccountBook::at(data_dir);
    match command {
        UsersCommand::Add {
            username,
            role,
            unit,
            before_2025,
            password_stdin,
        } => {
            let unit = unit_keys(unit, before_2025)?;
            let (password, generated) = password(password_stdin)?;
            book.add_user(&username, role, unit.as_deref(), &password)
                .map_err(err)?;
            println!(
                "created {} '{username}'{}",
                role.as_str(),
                unit.map(|u| format!(" for unit {u}")).unwrap_or_default()
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UsersCommand::List => {
            let file = book.current().map_err(err)?;
            println!(
                "{:<24} {:<8} {:<8} {:<25} status",
                "username", "role", "unit", "created"
            );
            for u in &file.users {
                println!(
                    "{:<24} {:<8} {:<8} {:<25} {}",
                    u.username,
                    u.role.as_str(),
                    u.unit.as_deref().unwrap_or("-"),
                    u.created_at.format("%Y-%m-%d %H:%M UTC"),
                    if u.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    }
                );
            }
            if file.users.is_empty() {
                println!("(no users; add one with `server users add NAME --role admin`)");
            }
        }
        UsersCommand::Passwd {
            username,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            book.set_password(&username, &password).map_err(err)?;
            println!("password of '{username}' changed");
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UsersCommand::Disable { username } => {
            book.disable_user(&username).map_err(err)?;
            println!("'{username}' disabled; their sessions end at their next request");
        }
    }
    Ok(())
}

pub fn run_tokens(data_dir: &Path, command: TokensCommand) -> Result<(), String> {
    let book = AccountBook::at(data_dir);
    let show = |record: &super::accounts::TokenRecord, plain: &str| {
        println!(
            "token {} ({}, {}{}) created; shown once, keep it safe:\n{plain}",
            record.id,
            record.name,
            record.role.as_str(),
            record
                .unit
                .as_deref()
                .map(|u| format!(" of {u}"))
                .unwrap_or_default()
        );
    };
    match command {
        TokensCommand::Create {
            name,
            role,
            unit,
            before_2025,
        } => {
            let unit = unit_keys(unit, before_2025)?;
            let (record, plain) = book
                .create_token(&name, role, unit.as_deref())
                .map_err(err)?;
            show(&record, &plain);
        }
        TokensCommand::List => {
            let file = book.current().map_err(err)?;
            println!(
                "{:<17} {:<24} {:<8} {:<8} {:<25} status",
                "id", "name", "role", "unit", "created"
            );
            for t in &file.tokens {
                println!(
                    "{:<17} {:<24} {:<8} {:<8} {:<25} {}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    t.unit.as_deref().unwrap_or("-"),
                    t.created_at.format("%Y-%m-%d %H:%M UTC"),
                    match t.revoked_at {
                        Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M UTC")),
                        None => "live".into(),
                    }
                );
            }
        }
        TokensCommand::Revoke { id } => {
            let t = book.revoke_token(&id).map_err(err)?;
            println!("token {} ({}) revoked", t.id, t.name);
        }
        TokensCommand::Rotate { id } => {
            let (record, plain) = book.rotate_token(&id).map_err(err)?;
            println!("token {id} revoked");
            show(&record, &plain);
        }
    }
    Ok(())
}

/// `server audit`: the last lines of the audit log.
pub fn run_audit(data_dir: &Path, tail: usize) -> Result<(), String> {
    let log = AuditLog::at(data_dir);
    for line in log
        .tail(tail)
        .map_err(|e| format!("cannot read {}: {e}", log.path().display()))?
    {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_are_long_and_differ() {
        let a = random_password().unwrap();
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, random_password().unwrap());
    }
}
