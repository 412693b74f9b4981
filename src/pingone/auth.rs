//! The token management calls carry: a worker app's (fetched with client
//! credentials, cached, refreshed shortly before it expires, and fetched once however
//! many calls need it at the same time), or a signed-in person's.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::{parse_error_body, ClientError};
use super::retry::RETRYABLE_STATUSES;
use crate::auth::{AuthServer, PersonTokens, TokenStore};
use crate::config::{AuthMethod, Connection, Credentials};
use crate::secret::{without_echoed, Secret};

/// Refresh this long before the token's stated expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

#[derive(Debug)]
pub enum TokenSource {
    Worker(WorkerTokens),
    Person(PersonTokens),
}

impl TokenSource {
    pub fn new(http: reqwest::Client, conn: &Connection) -> Result<Self, ClientError> {
        Ok(match &conn.credentials {
            Credentials::Worker { client_id, client_secret, auth_method } => {
                let token_url = AuthServer::for_environment(&conn.auth_base, &conn.environment_id).token();
                TokenSource::Worker(WorkerTokens { http, token_url, client_id: client_id.clone(), client_secret: client_secret.clone(), method: *auth_method, cache: Mutex::new(None) })
            }
            Credentials::Person => {
                let store = TokenStore::from_env().map_err(|e| ClientError::Unusable { action: "sign-in".into(), message: format!("{e:#}") })?;
                TokenSource::Person(PersonTokens::new(http, store, &conn.profile, &conn.environment_id))
            }
        })
    }

    /// A valid token, from the cache or freshly fetched (or refreshed).
    pub async fn token(&self) -> Result<Secret, ClientError> {
        match self {
            TokenSource::Worker(worker) => worker.token().await,
            TokenSource::Person(person) => person.token().await.map_err(|message| ClientError::Auth { url: "the stored sign-in".into(), status: None, message }),
        }
    }

    /// Drops `rejected` (PingOne answered 401 to it), unless already replaced.
    pub async fn invalidate(&self, rejected: &Secret) {
        match self {
            TokenSource::Worker(worker) => worker.invalidate(rejected).await,
            TokenSource::Person(person) => person.invalidate(rejected).await,
        }
    }

    pub fn is_person(&self) -> bool {
        matches!(self, TokenSource::Person(_))
    }

    /// The user id of the person signed in (their access token's `sub`), when this
    /// source is a person's and their token can be read.
    pub async fn person_id(&self) -> Option<String> {
        let TokenSource::Person(person) = self else { return None };
        let token = person.token().await.ok()?;
        jwt_subject(token.expose())
    }
}

#[derive(Debug)]
pub struct WorkerTokens {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    method: AuthMethod,
    /// Held across the fetch: concurrent callers wait for one request, then share it.
    cache: Mutex<Option<CachedToken>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl WorkerTokens {
    /// A valid token, from the cache or freshly fetched.
    pub async fn token(&self) -> Result<Secret, ClientError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    /// Drops `rejected` from the cache (PingOne answered 401 to it), unless another
    /// caller already replaced it.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == rejected) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<CachedToken, ClientError> {
        let mut form = vec![("grant_type", "client_credentials")];
        let mut request = self.http.post(&self.token_url);
        match self.method {
            AuthMethod::Basic => request = request.basic_auth(&self.client_id, Some(self.client_secret.expose())),
            AuthMethod::Post => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", self.client_secret.expose()));
            }
        }
        let started = Instant::now();
        let auth_error = |status: Option<u16>, message: String| ClientError::Auth { url: self.token_url.clone(), status, message };
        let unavailable = |status: Option<u16>, problem: String| ClientError::AuthUnavailable { url: self.token_url.clone(), status, problem };
        let response = request.form(&form).send().await.map_err(|e| unavailable(None, format!("could not be reached ({})", without_url(&e))))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| unavailable(Some(status), format!("cut its answer off ({})", without_url(&e))))?;
        if status != 200 {
            // An endpoint that echoes the request must not put the secret in the error.
            use base64::Engine as _;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret.expose()));
            let text = without_echoed(&text, &[self.client_secret.expose(), &basic]);
            let body = parse_error_body(status, &text);
            if RETRYABLE_STATUSES.contains(&status) {
                return Err(unavailable(Some(status), format!("answered {status} {}: {}", body.code, body.message)));
            }
            let hint = if status == 401 { " (check the client id and secret, and the app's token endpoint auth method)" } else { "" };
            return Err(auth_error(Some(status), format!("{status} {}: {}{hint}", body.code, body.message)));
        }
        let parsed: TokenResponse = serde_json::from_str(&text)
            .map_err(|e| auth_error(Some(status), format!("the token response is not valid JSON: {e}")))?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        let refresh_at = started + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2));
        tracing::debug!(expires_in = lifetime.as_secs(), "fetched a worker token");
        Ok(CachedToken { token: Secret::new(parsed.access_token), refresh_at })
    }
}

/// reqwest's error text without the URL (which is ours anyway, and kept elsewhere).
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    if let Some(url) = e.url() {
        message = message.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    message
}

/// The `sub` claim of a JWT, read without checking its signature: the token is our
/// own, just issued to us; what it names is only used to keep a person from removing
/// their own roles.
pub fn jwt_subject(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?.get("sub")?.as_str().map(str::to_owned)
}
