//! Files that hold a secret or dossier-level data (the account book, tokens, backups, exports),
//! created owner-only from their first byte; used by auth and by the store's upkeep commands alike.
use std::path::Path;

/// A new file at `path` (replacing any there) that only the owner may read, from its first
/// byte: the mode is given when the file is created, not set after a window in which another
/// local user could open it. A file left at `path` (by a crash) is removed first, because an
/// existing file would keep whatever mode it was made with.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    // `create_new` also refuses to follow a symbolic link planted at `path`.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[cfg(unix)]
    #[test]
    fn a_private_file_is_owner_only_even_where_a_readable_one_was_left() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("left.tmp");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&path).unwrap().write_all(b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
