//! The access token of a signed-in person: read from the store, refreshed with the
//! refresh token shortly before it expires (and saved back), fetched once however
//! many calls need it at the same time.

use tokio::sync::Mutex;

use super::endpoints::AuthServer;
use super::exchange::exchange;
use super::session::PersonSession;
use super::store::TokenStore;
use crate::secret::Secret;

/// Refresh when fewer seconds than this remain.
const REFRESH_MARGIN_SECS: i64 = 60;

#[derive(Debug)]
pub struct PersonTokens {
    http: reqwest::Client,
    store: TokenStore,
    profile: String,
    environment_id: String,
    session: Mutex<Option<PersonSession>>,
}

impl PersonTokens {
    pub fn new(http: reqwest::Client, store: TokenStore, profile: &str, environment_id: &str) -> Self {
        Self { http, store, profile: profile.to_owned(), environment_id: environment_id.to_owned(), session: Mutex::new(None) }
    }

    /// A valid access token, refreshed first when it is about to expire.
    pub async fn token(&self) -> Result<Secret, String> {
        let mut cached = self.session.lock().await;
        if cached.is_none() {
            *cached = Some(self.load().await?);
        }
        let session = cached.as_mut().expect("loaded above");
        if session.expires_in() < REFRESH_MARGIN_SECS {
            *session = self.refresh(session).await?;
        }
        Ok(Secret::new(session.access_token.clone()))
    }

    /// PingOne refused `rejected`: refresh on the next call, unless already replaced.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut cached = self.session.lock().await;
        if let Some(session) = cached.as_mut().filter(|s| s.access_token == rejected.expose()) {
            session.expires_at = 0;
        }
    }

    async fn load(&self) -> Result<PersonSession, String> {
        let login = format!("run `pingone-mcp login --profile {}`", self.profile);
        let session = self.store.load(&self.profile).await.map_err(|e| format!("{e:#}"))?.ok_or_else(|| format!("nobody is signed in for profile `{}`: {login}", self.profile))?;
        if session.environment_id != self.environment_id {
            return Err(format!("the stored sign-in is for environment {}, not {}: {login}", session.environment_id, self.environment_id));
        }
        Ok(session)
    }

    async fn refresh(&self, session: &PersonSession) -> Result<PersonSession, String> {
        let expired = format!("the sign-in for profile `{}` has expired: run `pingone-mcp login --profile {}`", self.profile, self.profile);
        let Some(refresh_token) = session.refresh_token.clone() else {
            return Err(expired);
        };
        let base = url::Url::parse(&session.auth_base).map_err(|e| format!("the stored auth host is not a URL: {e}"))?;
        let server = AuthServer::for_environment(&base, &session.environment_id);
        let form = [("grant_type", "refresh_token"), ("client_id", session.client_id.as_str()), ("refresh_token", refresh_token.as_str())];
        let response = exchange(&self.http, &server.token(), &form).await.map_err(|e| format!("{expired} (refresh failed: {e})"))?;
        let fresh = PersonSession::from_response(&session.environment_id, &session.auth_base, &session.client_id, response, Some(refresh_token));
        self.store.save(&self.profile, &fresh).await.map_err(|e| format!("refreshed the sign-in but cannot store it: {e:#}"))?;
        tracing::debug!(profile = %self.profile, "refreshed the signed-in person's access token");
        Ok(fresh)
    }
}
