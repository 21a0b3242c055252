//! The demo's accounts: one per role, created with random passwords on the first demo start and
//! kept in `demo-accounts.txt` (owner-readable from its first byte) for whoever runs the demo.
use super::accounts::AccountBook;
use super::cli::random_password;
use super::principal::Role;
use crate::private_file::create_private;
use std::io::Write;
use std::path::Path;

/// The file the demo's accounts are written to.
pub fn accounts_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("demo-accounts.txt")
}

/// Creates the demo accounts unless users exist already. Returns the text to print when they
/// were created just now, `None` when they existed: passwords are shown once, when made, not
/// into the logs of every later start.
/// `province` and `district` are store keys of units before the 2025 reform, `today` of a
/// province and a commune of today: a leader and a chair of each era.
pub fn ensure(
    data_dir: &Path,
    province: &str,
    district: Option<&str>,
    today: Option<(&str, &str)>,
) -> Result<Option<String>, String> {
    let book = AccountBook::at(data_dir);
    let file = accounts_file(data_dir);
    let has_users = !book.current().map_err(|e| e.to_string())?.users.is_empty();
    if has_users {
        return Ok(None);
    }
    let mut lines =
        vec!["Demo accounts (sign in at /signin; change them before any real use):".to_string()];
    let mut people: Vec<(String, Role, Option<String>)> = vec![
        ("admin".into(), Role::Admin, None),
        (
            format!("leader.{province}"),
            Role::Leader,
            Some(province.into()),
        ),
    ];
    if let Some(d) = district {
        people.push((format!("chair.{d}"), Role::Chair, Some(d.into())));
    }
    if let Some((province, commune)) = today {
        let code = app::era::code_of;
        people.push((
            format!("leader.{}.2025", code(province)),
            Role::Leader,
            Some(province.into()),
        ));
        people.push((
            format!("chair.{}.2025", code(commune)),
            Role::Chair,
            Some(commune.into()),
        ));
    }
    for (name, role, unit) in people {
        let password = random_password().map_err(|e| e.to_string())?;
        book.add_user(&name, role, unit.as_deref(), &password)
            .map_err(|e| e.to_string())?;
        lines.push(format!(
            "  {:<7} {name:<14} password {password}{}",
            role.as_str(),
            unit.map(|u| format!("  (unit {u})")).unwrap_or_default()
        ));
    }
    let (record, token) = book
        .create_token("demo one-stop system", Role::Ingest, Some(super::ALL_UNITS))
        .map_err(|e| e.to_string())?;
    lines.push(format!("  ingest  token {} : {token}", record.id));
    let text = lines.join("\n") + "\n";
    create_private(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_are_shown_when_created_and_not_at_later_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure(dir.path(), "49", Some("502"), None).unwrap();
        let text = first.expect("the first start creates the accounts");
        assert!(
            text.contains("admin") && text.contains("chair.502"),
            "{text}"
        );
        assert_eq!(
            std::fs::read_to_string(accounts_file(dir.path())).unwrap(),
            text
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(accounts_file(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        assert_eq!(ensure(dir.path(), "49", Some("502"), None).unwrap(), None);
    }
}
