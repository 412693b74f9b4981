//! Where sessions live between runs: the OS keyring (macOS Keychain, Windows
//! Credential Manager, the Secret Service on Linux desktops) when one answers, else
//! a file only the user can read. `PINGONE_MCP_TOKEN_STORE=keyring|file` forces one.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{bail, Context};

use super::session::PersonSession;
use crate::private_file::read_private;

const KEYRING_SERVICE: &str = "pingone-mcp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The keyring when it works, else the file.
    Auto,
    Keyring,
    File,
}

#[derive(Debug, Clone)]
pub struct TokenStore {
    kind: StoreKind,
    /// `<config dir>/sessions`, created with mode 0700.
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(kind: StoreKind, dir: PathBuf) -> Self {
        Self { kind, dir }
    }

    /// The store named by `PINGONE_MCP_TOKEN_STORE`, under the config directory.
    pub fn from_env() -> anyhow::Result<Self> {
        let kind = match crate::config::token_store_setting().as_deref() {
            None | Some("auto") => StoreKind::Auto,
            Some("keyring") => StoreKind::Keyring,
            Some("file") => StoreKind::File,
            Some(other) => bail!("PINGONE_MCP_TOKEN_STORE is `{other}`: use auto, keyring or file"),
        };
        let dir = crate::config::config_dir().context("cannot find a config directory: set HOME or XDG_CONFIG_HOME")?.join("sessions");
        Ok(Self::new(kind, dir))
    }

    fn file(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{profile}.json"))
    }

    /// Saves `session` under `profile`; says where it went.
    pub async fn save(&self, profile: &str, session: &PersonSession) -> anyhow::Result<String> {
        let text = serde_json::to_string(session)?;
        if self.kind != StoreKind::File {
            match keyring_call(profile, move |entry| entry.set_password(&text)).await {
                Ok(()) => {
                    // A stale file would shadow nothing, but should not linger with old tokens.
                    let _ = std::fs::remove_file(self.file(profile));
                    return Ok("the OS keyring".to_owned());
                }
                Err(e) if self.kind == StoreKind::Keyring => bail!("cannot write to the OS keyring: {e}"),
                Err(e) => tracing::info!("no usable OS keyring ({e}); storing the session in a file"),
            }
        }
        self.save_file(profile, session)
    }

    fn save_file(&self, profile: &str, session: &PersonSession) -> anyhow::Result<String> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let path = self.file(profile);
        let partial = path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
        // A file left by an older run may have kept wider permissions.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(serde_json::to_string_pretty(session)?.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)?;
        Ok(path.display().to_string())
    }

    /// The session saved under `profile`, if any.
    pub async fn load(&self, profile: &str) -> anyhow::Result<Option<PersonSession>> {
        if self.kind != StoreKind::File {
            match keyring_call(profile, |entry| entry.get_password()).await {
                Ok(text) => return Ok(Some(serde_json::from_str(&text).context("the session in the OS keyring is not valid; run `pingone-mcp login` again")?)),
                Err(keyring::Error::NoEntry) if self.kind == StoreKind::Keyring => return Ok(None),
                Err(e) if self.kind == StoreKind::Keyring => bail!("cannot read the OS keyring: {e}"),
                Err(_) => {}
            }
        }
        let path = self.file(profile);
        let Some(text) = read_private(&path)? else { return Ok(None) };
        Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} is not a valid session; run `pingone-mcp login` again", path.display()))?))
    }

    /// Forgets the session under `profile`; whether there was one.
    pub async fn delete(&self, profile: &str) -> anyhow::Result<bool> {
        let mut deleted = false;
        if self.kind != StoreKind::File {
            match keyring_call(profile, |entry| entry.delete_credential()).await {
                Ok(()) => deleted = true,
                Err(keyring::Error::NoEntry) => {}
                Err(e) if self.kind == StoreKind::Keyring => bail!("cannot delete from the OS keyring: {e}"),
                Err(_) => {}
            }
        }
        match std::fs::remove_file(self.file(profile)) {
            Ok(()) => deleted = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("cannot delete the session file"),
        }
        Ok(deleted)
    }
}

/// Keyring calls block (D-Bus, Keychain): run them off the async executor.
async fn keyring_call<T: Send + 'static>(profile: &str, call: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static) -> keyring::Result<T> {
    let user = profile.to_owned();
    tokio::task::spawn_blocking(move || keyring::Entry::new(KEYRING_SERVICE, &user).and_then(|entry| call(&entry)))
        .await
        .unwrap_or_else(|e| Err(keyring::Error::PlatformFailure(Box::new(e))))
}
