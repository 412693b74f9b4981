//! Session tokens this server mints itself (`pingone-mcp token issue`), for teams
//! without their own authorization server: HS256 JWTs limited to a list of action
//! globs and to one profile's environment, with an expiry, revocable by id. The
//! signing key, the ledger of issued tokens and the revocation list live in the
//! config directory; the server re-reads the revocation list on every request, so a
//! revocation takes effect at once.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::jwt::TokenError;
use crate::auth::now_secs;
use crate::private_file::{append_private, read_private};

/// `iss` and `aud` of session tokens.
pub const SESSION_ISSUER: &str = "pingone-mcp";
const KEY_FILE: &str = "session-signing.key";
const LEDGER_FILE: &str = "issued-tokens.jsonl";
const REVOKED_FILE: &str = "revoked-tokens";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionClaims {
    pub iss: String,
    pub aud: String,
    /// Who the token was issued to (a person's or a service's name).
    pub sub: String,
    /// The token's id, for `token revoke`.
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    /// The profile whose environment the token is bound to.
    pub profile: String,
    pub env: String,
    /// Action id globs the token may call.
    pub allow: Vec<String>,
}

/// One line of the ledger: what was issued (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub id: String,
    pub subject: String,
    pub profile: String,
    pub environment_id: String,
    pub allow: Vec<String>,
    pub issued_at: u64,
    pub expires_at: u64,
}

pub struct SessionTokens {
    dir: PathBuf,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SessionTokens {
    /// The tokens signed with the key in `dir`, creating the key (mode 0600) if needed.
    pub fn open_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let key = crate::auth::random_url_safe(32);
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(key.as_bytes())?;
        }
        Self::open(dir)?.with_context(|| format!("{} vanished", path.display()))
    }

    /// The tokens signed with the key in `dir`; `None` when no token was ever issued there.
    pub fn open(dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = dir.join(KEY_FILE);
        let Some(key) = read_private(&path)? else { return Ok(None) };
        let key = key.trim().as_bytes();
        if key.len() < 32 {
            bail!("{} holds too short a key; delete it and issue tokens again", path.display());
        }
        Ok(Some(Self { dir: dir.to_owned(), encoding: EncodingKey::from_secret(key), decoding: DecodingKey::from_secret(key) }))
    }

    /// Mints a token for `subject`, bound to `profile`'s environment and limited to `allow`.
    pub fn issue(&self, subject: &str, profile: &str, environment_id: &str, allow: &[String], ttl: Duration) -> anyhow::Result<(String, SessionClaims)> {
        if allow.is_empty() {
            bail!("a session token must name the actions it may call: pass --allow GLOB (e.g. --allow 'list_*' --allow 'get_*')");
        }
        let now = now_secs();
        let claims = SessionClaims {
            iss: SESSION_ISSUER.into(),
            aud: SESSION_ISSUER.into(),
            sub: subject.into(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now,
            exp: now + ttl.as_secs(),
            profile: profile.into(),
            env: environment_id.into(),
            allow: allow.to_vec(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let issued = Issued {
            id: claims.jti.clone(),
            subject: claims.sub.clone(),
            profile: claims.profile.clone(),
            environment_id: claims.env.clone(),
            allow: claims.allow.clone(),
            issued_at: claims.iat,
            expires_at: claims.exp,
        };
        append_line(&self.dir.join(LEDGER_FILE), &serde_json::to_string(&issued)?)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<SessionClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Minted and checked on this machine's clock: no leeway, so a token stops
        // working when `token list` says it expired.
        validation.leeway = 0;
        validation.set_issuer(&[SESSION_ISSUER]);
        validation.set_audience(&[SESSION_ISSUER]);
        let claims = decode::<SessionClaims>(token, &self.decoding, &validation)?.claims;
        if is_revoked(&self.revocation_list(), &claims.jti).map_err(|e| TokenError::Invalid(format!("cannot read the revocation list: {e:#}")))? {
            return Err(TokenError::Revoked);
        }
        Ok(claims)
    }

    /// Revokes the token with id `id` (from `token list`); whether it was issued here.
    pub fn revoke(&self, id: &str) -> anyhow::Result<bool> {
        let known = self.issued()?.iter().any(|t| t.id == id);
        if known && !self.revoked()?.iter().any(|r| r == id) {
            append_line(&self.dir.join(REVOKED_FILE), id)?;
        }
        Ok(known)
    }

    /// Every token issued with this key, oldest first.
    pub fn issued(&self) -> anyhow::Result<Vec<Issued>> {
        read_lines(&self.dir.join(LEDGER_FILE))?.iter().map(|l| serde_json::from_str(l).context("the ledger of issued tokens has a bad line")).collect()
    }

    pub fn revoked(&self) -> anyhow::Result<Vec<String>> {
        read_lines(&self.revocation_list())
    }

    /// The file of revoked token ids.
    pub fn revocation_list(&self) -> PathBuf {
        self.dir.join(REVOKED_FILE)
    }
}

/// Whether the revocation list at `list` holds `id`; read each time, so a revocation
/// applies at once (also to a script already running with the token).
pub fn is_revoked(list: &Path, id: &str) -> anyhow::Result<bool> {
    Ok(read_lines(list)?.iter().any(|line| line == id))
}

/// Whether `token` claims to be one of ours (read without checking anything).
pub fn looks_like_session_token(token: &str) -> bool {
    super::jwt::unverified_issuer(token).as_deref() == Some(SESSION_ISSUER)
}

fn append_line(path: &Path, line: &str) -> anyhow::Result<()> {
    let mut file = append_private(path).with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{line}")?;
    file.sync_all()?;
    Ok(())
}

fn read_lines(path: &Path) -> anyhow::Result<Vec<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
