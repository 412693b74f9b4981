//! Files that must be their owner's alone (stored sign-ins, signing keys, tokens,
//! cassettes and audit logs, which hold ids, names and sometimes secrets): read only
//! when no one else can read them, written readable by their owner only.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{bail, Context};

/// The file's text; `None` when it does not exist; an error when group or others may read it.
pub fn read_private(path: &Path) -> anyhow::Result<Option<String>> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if let Some(mode) = open_to_others(&metadata) {
        bail!("{} is readable by other users (mode {mode:o}); run `chmod 600 {}`", path.display(), path.display());
    }
    std::fs::read_to_string(path).map(Some).with_context(|| format!("cannot read {}", path.display()))
}

/// The file's permission bits when its group or others have any access to it.
pub fn open_to_others(metadata: &std::fs::Metadata) -> Option<u32> {
    let mode = metadata.permissions().mode();
    (mode & 0o077 != 0).then_some(mode & 0o777)
}

/// `path` emptied (created when missing) for writing, readable by its owner only,
/// whatever mode a file already there had.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    open_private(path, std::fs::OpenOptions::new().write(true).truncate(true))
}

/// `path` opened to append to (created when missing), readable by its owner only.
pub fn append_private(path: &Path) -> std::io::Result<std::fs::File> {
    open_private(path, std::fs::OpenOptions::new().append(true))
}

/// Never through a symbolic link: in a shared directory someone could plant one that
/// points at a file of theirs (or of ours) to be overwritten.
fn open_private(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = options.create(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_privately_loses_a_wider_mode_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(append_private(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n", "appending keeps what was there");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        drop(create_private(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "creating empties it");
        assert!(read_private(&path).unwrap().is_some());
        let link = dir.path().join("planted");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(create_private(&link).is_err() && append_private(&link).is_err(), "a planted link is not followed");
    }
}
