//! The HTTP server as an OAuth resource server (the MCP authorization spec): who may
//! call, for which environment, with what grant. Three kinds of bearer token are
//! understood: access tokens (JWTs) from a profile's PingOne authorization server,
//! session tokens minted by `pingone-mcp token issue`, and the server's own static
//! token. The caller's token is never passed on to PingOne: the server calls PingOne
//! with its own credentials, narrowed by the caller's grant.

mod jwt;
mod session_token;

use std::collections::BTreeMap;

use serde_json::{json, Value};

pub use jwt::{unverified_issuer, AccessClaims, JwtValidator, TokenError, LEEWAY_SECS};
pub use session_token::{is_revoked, looks_like_session_token, Issued, SessionClaims, SessionTokens, SESSION_ISSUER};

use crate::policy::{Caller, Grant, ScopeGrant, TokenValidity};
use crate::secret::Secret;

/// An environment this server acts on, and the authorization server whose tokens bind
/// callers to it.
pub struct ServedProfile {
    pub profile: String,
    pub environment_id: String,
    /// Validates the environment's access tokens (absent without `--oauth`).
    pub validator: Option<JwtValidator>,
}

pub struct ResourceServer {
    pub profiles: Vec<ServedProfile>,
    pub session_tokens: Option<SessionTokens>,
    pub static_token: Option<Secret>,
    /// Scope name → what it grants.
    pub scopes: BTreeMap<String, ScopeGrant>,
    /// This server's identifier (`<public URL>/mcp`): the audience access tokens must name.
    pub resource: String,
    /// Where the RFC 9728 metadata is served.
    pub metadata_url: String,
}

/// Why a request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// No bearer token: 401.
    Missing,
    /// A token that does not check out: 401.
    Invalid(String),
    /// A good token that grants nothing here: 403.
    Forbidden(String),
}

impl ResourceServer {
    pub fn oauth_enabled(&self) -> bool {
        self.profiles.iter().any(|p| p.validator.is_some())
    }

    /// Who is calling, from the `Authorization` header.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, Refusal> {
        let token = authorization.and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer "))).map(str::trim).filter(|t| !t.is_empty()).ok_or(Refusal::Missing)?;
        if let Some(expected) = &self.static_token {
            if constant_time_eq(token.as_bytes(), expected.expose().as_bytes()) {
                return Ok(Caller { subject: "static-token".into(), token_id: None, profile: None, grant: None, validity: None });
            }
        }
        if looks_like_session_token(token) {
            return self.session_caller(token);
        }
        self.access_token_caller(token).await
    }

    fn session_caller(&self, token: &str) -> Result<Caller, Refusal> {
        let tokens = self.session_tokens.as_ref().ok_or_else(|| Refusal::Invalid("this server accepts no session tokens (it has no signing key)".into()))?;
        let claims = tokens.verify(token).map_err(|e| Refusal::Invalid(e.to_string()))?;
        let served = self.profiles.iter().find(|p| p.profile == claims.profile).ok_or_else(|| Refusal::Forbidden(format!("the token is for profile `{}`, which this server does not serve", claims.profile)))?;
        if served.environment_id != claims.env {
            return Err(Refusal::Forbidden(format!("the token is for environment {}, but profile `{}` here is environment {}", claims.env, claims.profile, served.environment_id)));
        }
        let grant = Grant::new(format!("session token {}", claims.jti), vec![ScopeGrant { writes: true, destructive: true, actions: claims.allow }]).secrets_by_name_only();
        let validity = TokenValidity { expires_at: Some(claims.exp), revocation: Some((claims.jti.clone(), tokens.revocation_list())) };
        Ok(Caller { subject: claims.sub, token_id: Some(claims.jti), profile: Some(claims.profile), grant: Some(grant), validity: Some(validity) })
    }

    async fn access_token_caller(&self, token: &str) -> Result<Caller, Refusal> {
        let issuer = unverified_issuer(token).ok_or_else(|| Refusal::Invalid("the bearer token is neither this server's token nor a JWT".into()))?;
        let served = self
            .profiles
            .iter()
            .find(|p| p.validator.as_ref().is_some_and(|v| v.issuer == issuer))
            .ok_or_else(|| Refusal::Invalid("the token was issued by an authorization server this server does not trust".into()))?;
        let validator = served.validator.as_ref().expect("matched on the validator");
        let claims = validator.validate(token).await.map_err(|e| Refusal::Invalid(e.to_string()))?;
        let grant = Grant::from_scopes(claims.scopes(), &self.scopes).ok_or_else(|| {
            let known: Vec<&str> = self.scopes.keys().map(String::as_str).collect();
            Refusal::Forbidden(format!("the token carries none of the scopes this server understands ({})", known.join(", ")))
        })?;
        // With the skew the token was accepted with: not lapsed at the first call.
        let validity = TokenValidity { expires_at: claims.exp.map(|exp| exp + LEEWAY_SECS), revocation: None };
        Ok(Caller { subject: claims.sub, token_id: claims.jti, profile: Some(served.profile.clone()), grant: Some(grant), validity: Some(validity) })
    }

    /// RFC 9728 protected-resource metadata.
    pub fn metadata(&self) -> Value {
        let servers: Vec<&str> = self.profiles.iter().filter_map(|p| p.validator.as_ref()).map(|v| v.issuer.as_str()).collect();
        json!({
            "resource": self.resource,
            "authorization_servers": servers,
            "scopes_supported": self.scopes.keys().collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "pingone-mcp",
        })
    }

    /// The `WWW-Authenticate` value for a refusal (RFC 6750 §3, RFC 9728 §5.1).
    pub fn challenge(&self, refusal: &Refusal) -> String {
        let metadata = format!("resource_metadata=\"{}\"", self.metadata_url);
        match refusal {
            Refusal::Missing => format!("Bearer {metadata}"),
            Refusal::Invalid(why) => format!("Bearer error=\"invalid_token\", error_description=\"{}\", {metadata}", quote_safe(why)),
            Refusal::Forbidden(why) => {
                let scopes: Vec<&str> = self.scopes.keys().map(String::as_str).collect();
                format!("Bearer error=\"insufficient_scope\", error_description=\"{}\", scope=\"{}\", {metadata}", quote_safe(why), scopes.join(" "))
            }
        }
    }
}

fn quote_safe(text: &str) -> String {
    text.chars().map(|c| if c == '"' || c == '\\' || c.is_control() { '\'' } else { c }).collect()
}

/// Compares without leaking, through timing, how much of the token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
