//! The token endpoint: one form POST, PingOne's OAuth error body on failure.

use serde::Deserialize;

use crate::pingone::without_url;

#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse").field("expires_in", &self.expires_in).field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// An OAuth error (`error`, `error_description`), or a transport failure.
#[derive(Debug, thiserror::Error)]
#[error("{}{}", error, if description.is_empty() { String::new() } else { format!(": {description}") })]
pub struct OAuthError {
    pub error: String,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &str, description: impl Into<String>) -> Self {
        Self { error: error.to_owned(), description: description.into() }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// POSTs `form` to `url` and reads a token response.
pub async fn exchange(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Result<TokenResponse, OAuthError> {
    let text = post_form(http, url, form).await?;
    serde_json::from_str(&text).map_err(|e| OAuthError::new("invalid_response", format!("the token response from {url} is not valid JSON: {e}")))
}

/// POSTs `form` and returns the body of a 2xx reply; an OAuth error otherwise.
pub(crate) async fn post_form(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Result<String, OAuthError> {
    let response = http.post(url).form(form).send().await.map_err(|e| OAuthError::new("unreachable", format!("{url}: {}", without_url(&e))))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| OAuthError::new("unreachable", format!("{url}: {}", without_url(&e))))?;
    if status.is_success() {
        return Ok(text);
    }
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    let error = body.as_ref().and_then(|b| b.error.clone()).unwrap_or_else(|| format!("http_{}", status.as_u16()));
    let description = body.and_then(|b| b.error_description.or(b.message)).unwrap_or_else(|| format!("{url} answered {status}"));
    Err(OAuthError { error, description })
}

/// RFC 7009: asks the server to forget a token (best effort at logout).
pub async fn revoke(http: &reqwest::Client, url: &str, client_id: &str, token: &str, hint: &str) -> Result<(), OAuthError> {
    post_form(http, url, &[("token", token), ("token_type_hint", hint), ("client_id", client_id)]).await.map(|_| ())
}
