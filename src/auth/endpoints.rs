//! Where an environment's authorization server answers (PingOne's paths on the
//! auth host, `https://auth.pingone.<tld>/<envId>/as/...`).

use url::Url;

#[derive(Debug, Clone)]
pub struct AuthServer {
    /// The `iss` of the environment's tokens.
    pub issuer: String,
    pub environment_id: String,
    /// The auth host, e.g. `https://auth.pingone.eu`.
    pub auth_base: String,
}

impl AuthServer {
    pub fn for_environment(auth_base: &Url, environment_id: &str) -> Self {
        let auth_base = auth_base.as_str().trim_end_matches('/').to_owned();
        Self { issuer: format!("{auth_base}/{environment_id}/as"), environment_id: environment_id.to_owned(), auth_base }
    }

    pub fn authorize(&self) -> String {
        format!("{}/authorize", self.issuer)
    }

    pub fn token(&self) -> String {
        format!("{}/token", self.issuer)
    }

    pub fn device_authorization(&self) -> String {
        format!("{}/device_authorization", self.issuer)
    }

    pub fn revocation(&self) -> String {
        format!("{}/revoke", self.issuer)
    }

    pub fn jwks(&self) -> String {
        format!("{}/jwks", self.issuer)
    }
}
