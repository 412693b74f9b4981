//! Signing in as a person: PingOne's authorization-code flow with PKCE (a loopback
//! redirect) or the device authorization grant, the stored session, and the token
//! source that refreshes it before it expires.

mod device;
mod endpoints;
mod exchange;
mod loopback;
mod person;
mod pkce;
mod session;
mod store;

pub use device::{device_login, DeviceCode};
pub use endpoints::AuthServer;
pub use exchange::{revoke, OAuthError, TokenResponse};
pub use loopback::browser_login;
pub use person::PersonTokens;
pub use pkce::random_url_safe;
pub use session::{now_secs, PersonSession};
pub use store::{StoreKind, TokenStore};

/// What a login asks PingOne for.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub server: AuthServer,
    /// The public (PKCE, no secret) application people sign in through.
    pub client_id: String,
    pub scope: String,
    /// RFC 8707 resource indicator: the audience the access token is for.
    pub resource: Option<String>,
}

/// Scopes asked for when neither the profile nor `--scope` names any.
pub const DEFAULT_SCOPE: &str = "openid profile email";
