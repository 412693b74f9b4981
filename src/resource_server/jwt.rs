//! Access tokens from an authorization server, checked as JWTs: RS256 signature
//! against the issuer's JWKS (cached; fetched again when a token names a key id the
//! cache lacks, at most once per `min_refetch`), issuer, audience, expiry and
//! not-before with a small clock skew.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// Claims the server reads from an access token.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// The token's own id, when the issuer gives one: audit lines name it, so a
    /// token can be traced and revoked at its issuer.
    #[serde(default)]
    pub jti: Option<String>,
    /// Expiry (unix seconds), checked again at each action call of a running script.
    #[serde(default)]
    pub exp: Option<u64>,
}

impl AccessClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_whitespace()
    }
}

/// Why a token was refused; the text goes into `WWW-Authenticate` and the 401 body.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with key `{0}`, which the issuer's JWKS does not list")]
    UnknownKey(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token was issued by another authorization server")]
    WrongIssuer,
    #[error("the token is for another audience, not this server")]
    WrongAudience,
    #[error("the token was revoked")]
    Revoked,
    #[error("cannot fetch the issuer's keys: {0}")]
    Jwks(String),
    #[error("the token is invalid: {0}")]
    Invalid(String),
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => TokenError::Malformed(e.to_string()),
            _ => TokenError::Invalid(e.to_string()),
        }
    }
}

struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
}

pub struct JwtValidator {
    pub issuer: String,
    audience: String,
    jwks_url: String,
    http: reqwest::Client,
    min_refetch: Duration,
    cache: Mutex<Option<CachedKeys>>,
}

impl JwtValidator {
    pub fn new(issuer: &str, jwks_url: &str, audience: &str) -> Self {
        #[allow(clippy::disallowed_methods)]
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { issuer: issuer.to_owned(), audience: audience.to_owned(), jwks_url: jwks_url.to_owned(), http, min_refetch: Duration::from_secs(10), cache: Mutex::new(None) }
    }

    /// How soon an unknown key id may trigger another JWKS fetch (default 10 s), so a
    /// flood of forged key ids cannot turn into a flood of fetches.
    pub fn with_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    pub async fn validate(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = decode_header(token)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Invalid(format!("tokens must be signed with RS256, not {:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| TokenError::Invalid("the token's header names no key id (kid)".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(decode::<AccessClaims>(token, &key, &validation)?.claims)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        let mut cache = self.cache.lock().await;
        let find = |cache: &Option<CachedKeys>| cache.as_ref().and_then(|c| c.keys.find(kid)).map(DecodingKey::from_jwk);
        if let Some(key) = find(&cache) {
            return key.map_err(|e| TokenError::Jwks(format!("key `{kid}` is unusable: {e}")));
        }
        let stale = cache.as_ref().is_none_or(|c| c.fetched.elapsed() >= self.min_refetch);
        if stale {
            *cache = Some(CachedKeys { keys: self.fetch().await?, fetched: Instant::now() });
        }
        find(&cache).ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))?.map_err(|e| TokenError::Jwks(format!("key `{kid}` is unusable: {e}")))
    }

    async fn fetch(&self) -> Result<JwkSet, TokenError> {
        let response = self.http.get(&self.jwks_url).send().await.map_err(|e| TokenError::Jwks(format!("{}: {}", self.jwks_url, crate::pingone::without_url(&e))))?;
        if !response.status().is_success() {
            return Err(TokenError::Jwks(format!("{} answered {}", self.jwks_url, response.status())));
        }
        let keys: JwkSet = response.json().await.map_err(|e| TokenError::Jwks(format!("{} is not a JWK set: {e}", self.jwks_url)))?;
        tracing::info!(issuer = %self.issuer, keys = keys.keys.len(), "fetched the issuer's signing keys");
        Ok(keys)
    }
}

/// The `iss` of a token, read without checking anything (to pick its validator).
pub fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Iss>(&bytes).ok()?.iss
}
