//! The demo's accounts: one per role, created with random passwords on the first start and
//! kept in `demo-accounts.txt` (owner-readable only) so that each start can print them.
use super::accounts::AccountBook;
use super::cli::random_password;
use super::principal::Role;
use std::path::Path;

/// Creates the demo accounts unless users exist already; returns the text to print.
pub fn ensure(data_dir: &Path, province: &str, district: Option<&str>) -> Result<String, String> {
    let book = AccountBook::at(data_dir);
    let file = data_dir.join("demo-accounts.txt");
    let has_users = !book.current().map_err(|e| e.to_string())?.users.is_empty();
    if has_users {
        return Ok(std::fs::read_to_string(&file)
            .unwrap_or_else(|_| "accounts exist; list them with `server users list`\n".into()));
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
        .create_token("demo one-stop system", Role::Ingest, None)
        .map_err(|e| e.to_string())?;
    lines.push(format!("  ingest  token {} : {token}", record.id));
    let text = lines.join("\n") + "\n";
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(text)
}
