//! `/.well-known/openid-configuration` and the JWKS: what a client or resource server
//! reads to find the endpoints and verify tokens.

use serde_json::json;

use super::keys::SigningKeys;
use super::tokens::issuer;
use crate::simulator::reply::Reply;
use crate::simulator::store::State;

/// The grant type URN of RFC 8628.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// OpenID Provider metadata (OpenID Connect Discovery 1.0 §3).
pub(crate) fn openid_configuration(st: &State) -> Reply {
    let iss = issuer(st);
    Reply::ok(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "device_authorization_endpoint": format!("{iss}/device_authorization"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "jwks_uri": format!("{iss}/jwks"),
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token", DEVICE_CODE_GRANT],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
        "claims_supported": ["sub", "iss", "auth_time", "acr", "name", "given_name", "family_name", "preferred_username", "email", "email_verified", "env", "org", "sid"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}

/// The JSON Web Key Set: the current signing key and the previous one.
pub(crate) fn jwks(keys: &SigningKeys) -> Reply {
    Reply::ok(keys.jwks())
}
