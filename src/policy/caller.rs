//! Who a call is made for, over HTTP: the token's subject, and what its scopes (or a
//! session token's action list) grant. A grant only narrows the server's policy.

use std::collections::BTreeMap;

use serde::Deserialize;
use wildmatch::WildMatch;

use crate::catalog::Action;

/// What one scope lets a caller do (`[scopes."NAME"]` in the config file).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScopeGrant {
    /// Actions that change PingOne.
    #[serde(default)]
    pub writes: bool,
    /// Deletes, secret rotation, password resets, MFA off.
    #[serde(default)]
    pub destructive: bool,
    /// Action id globs; empty means every action (of the kinds above).
    #[serde(default)]
    pub actions: Vec<String>,
}

/// The scopes understood when the config file names none.
pub fn default_scope_grants() -> BTreeMap<String, ScopeGrant> {
    let grant = |writes, destructive| ScopeGrant { writes, destructive, actions: vec![] };
    BTreeMap::from([
        ("pingone-mcp:read".to_owned(), grant(false, false)),
        ("pingone-mcp:write".to_owned(), grant(true, false)),
        ("pingone-mcp:admin".to_owned(), grant(true, true)),
    ])
}

/// What a caller may do: the union of its grants.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Where the grant came from, for refusals (e.g. "scopes pingone-mcp:read").
    pub source: String,
    parts: Vec<(ScopeGrant, Vec<WildMatch>)>,
    /// Secrets (on a server run with `--reveal-secrets`) only from actions the grant
    /// names, not from those a glob covers: a session token for `get_*` was not meant
    /// to read client secrets.
    secrets_by_name_only: bool,
}

impl Grant {
    pub fn new(source: impl Into<String>, grants: Vec<ScopeGrant>) -> Self {
        let parts = grants.into_iter().map(|g| {
            let globs = g.actions.iter().map(|a| WildMatch::new(a)).collect();
            (g, globs)
        });
        Self { source: source.into(), parts: parts.collect(), secrets_by_name_only: false }
    }

    /// This grant, showing secrets only from the actions it names ([`Grant::reveals_secrets_of`]).
    pub fn secrets_by_name_only(self) -> Self {
        Self { secrets_by_name_only: true, ..self }
    }

    /// Whether a server that reveals secrets may show this caller the secrets in
    /// `action`'s result.
    pub fn reveals_secrets_of(&self, action: &str) -> bool {
        !self.secrets_by_name_only || self.parts.iter().any(|(g, _)| g.actions.iter().any(|a| a == action))
    }

    /// The grant of `scopes` under `mapping`; `None` when no scope is known there.
    pub fn from_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>, mapping: &BTreeMap<String, ScopeGrant>) -> Option<Self> {
        let (names, grants): (Vec<&str>, Vec<ScopeGrant>) = scopes.into_iter().filter_map(|s| mapping.get(s).map(|g| (s, g.clone()))).unzip();
        (!grants.is_empty()).then(|| Self::new(format!("scopes {}", names.join(" ")), grants))
    }

    pub fn allows_writes(&self) -> bool {
        self.parts.iter().any(|(g, _)| g.writes)
    }

    pub fn allows_destructive(&self) -> bool {
        self.parts.iter().any(|(g, _)| g.destructive)
    }

    /// The action globs the grant is limited to; empty when some part allows every action.
    pub fn action_globs(&self) -> Vec<&str> {
        if self.parts.iter().any(|(g, _)| g.actions.is_empty() || g.actions.iter().any(|a| a == "*")) {
            return Vec::new();
        }
        self.parts.iter().flat_map(|(g, _)| g.actions.iter().map(String::as_str)).collect()
    }

    /// Whether some part of the grant covers some call of `action`; the refusal says
    /// which grant fell short.
    pub fn check(&self, action: &Action) -> Result<(), String> {
        self.check_call(action, &serde_json::Value::Null)
    }

    /// Whether some part of the grant covers this call of `action` (its arguments can
    /// make it destructive).
    pub fn check_call(&self, action: &Action, args: &serde_json::Value) -> Result<(), String> {
        let destructive = action.is_destructive_call(args);
        let covers = |(g, globs): &(ScopeGrant, Vec<WildMatch>)| {
            (globs.is_empty() || globs.iter().any(|m| m.matches(&action.id))) && (!action.writes() || g.writes) && (!destructive || g.destructive)
        };
        if self.parts.iter().any(covers) {
            return Ok(());
        }
        let kind = if destructive { "a destructive action" } else if action.writes() { "a write" } else { "an action" };
        Err(format!("`{}` is {kind} your token does not grant ({}); ask for a token that covers it", action.id, self.source))
    }
}

/// The authenticated caller of an HTTP request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's subject (a PingOne user id, or the name a session token was issued to).
    pub subject: String,
    /// The token's id (a session token's, or an access token's `jti`), for the audit.
    pub token_id: Option<String>,
    /// The profile (environment) the caller is bound to; `None`: the server's default.
    pub profile: Option<String>,
    /// `None` for the server's own static token: the server policy alone applies.
    pub grant: Option<Grant>,
    /// What is checked again at each action call: a token revoked or expired while a
    /// script runs stops the script's next call (`None`: the static token).
    pub validity: Option<TokenValidity>,
}

/// How long a caller's token holds, and where its revocation would be written.
#[derive(Debug, Clone)]
pub struct TokenValidity {
    /// Unix seconds.
    pub expires_at: Option<u64>,
    /// A session token's id and the server's file of revoked ids.
    pub revocation: Option<(String, std::path::PathBuf)>,
}

impl Caller {
    /// Why the caller's token no longer holds, if it does not: revoked (a revocation
    /// list that cannot be read counts as revoked) or expired.
    pub fn lapsed(&self) -> Option<String> {
        let validity = self.validity.as_ref()?;
        // Named, so the person knows which token to replace.
        let token = match (&validity.revocation, &self.token_id) {
            (Some((id, _)), _) => format!("the session token {id}"),
            (None, Some(id)) => format!("the token {id}"),
            (None, None) => "the token".to_owned(),
        };
        if let Some((id, list)) = &validity.revocation {
            match crate::resource_server::is_revoked(list, id) {
                Ok(true) => return Some(format!("{token} was revoked")),
                Ok(false) => {}
                Err(e) => return Some(format!("the revocation list cannot be read ({e:#}), so no session token is trusted")),
            }
        }
        validity.expires_at.filter(|&at| crate::auth::now_secs() >= at).map(|_| format!("{token} has expired"))
    }
}
