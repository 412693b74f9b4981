//! A signed-in person's tokens, as stored between runs.

use serde::{Deserialize, Serialize};

use super::exchange::TokenResponse;

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct PersonSession {
    pub environment_id: String,
    /// The auth host the session was made on, e.g. `https://auth.pingone.eu`.
    pub auth_base: String,
    /// The public application the person signed in through (needed to refresh).
    pub client_id: String,
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: u64,
    #[serde(default)]
    pub scope: String,
}

impl PersonSession {
    pub fn from_response(environment_id: &str, auth_base: &str, client_id: &str, response: TokenResponse, previous_refresh: Option<String>) -> Self {
        Self {
            environment_id: environment_id.to_owned(),
            auth_base: auth_base.to_owned(),
            client_id: client_id.to_owned(),
            access_token: response.access_token,
            // A server that does not rotate refresh tokens leaves the old one valid.
            refresh_token: response.refresh_token.or(previous_refresh),
            expires_at: now_secs() + response.expires_in.unwrap_or(3600),
            scope: response.scope.unwrap_or_default(),
        }
    }

    /// Seconds until the access token expires (negative once it has).
    pub fn expires_in(&self) -> i64 {
        self.expires_at as i64 - now_secs() as i64
    }
}

impl std::fmt::Debug for PersonSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonSession")
            .field("environment_id", &self.environment_id)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
