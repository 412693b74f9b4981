//! Files that must be their owner's alone (stored sign-ins, signing keys): read only
//! when no one else can read them.

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
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        bail!("{} is readable by other users (mode {:o}); run `chmod 600 {}`", path.display(), mode & 0o777, path.display());
    }
    std::fs::read_to_string(path).map(Some).with_context(|| format!("cannot read {}", path.display()))
}
