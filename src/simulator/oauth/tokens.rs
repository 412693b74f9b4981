//! Tokens for people: RS256 access tokens with PingOne's claims, ID tokens, opaque
//! refresh tokens, and the token endpoint's success body.
//!
//! Access tokens are also registered in the state's bearer table, so the simulator's
//! own APIs (management, userinfo) know them and `Simulator::expire_tokens` ends them.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::flows::{Flows, Grant, Refresh};
use super::keys::SigningKeys;
use crate::simulator::clock::now_secs;
use crate::simulator::store::{State, Subject, Token};

/// Refresh tokens outlive access tokens by far; 30 days as PingOne's default.
const REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);

/// An access token to mint directly (for testing resource servers): signed with the
/// current key exactly as the token endpoint signs.
#[derive(Debug, Clone)]
pub struct JwtSpec {
    pub subject: String,
    pub audience: String,
    pub scope: String,
    /// Seconds from now to `exp`; negative for a token that has already expired.
    pub lifetime_secs: i64,
    /// Seconds from now to `nbf`; positive for a token that is not valid yet.
    pub not_before_offset_secs: i64,
    pub client_id: Option<String>,
}

/// The sign-on session a token belongs to.
pub(crate) struct Session<'a> {
    pub id: &'a str,
    pub auth_time: i64,
}

/// `{base}/{envId}/as`, the `iss` of every token.
pub(crate) fn issuer(st: &State) -> String {
    format!("{}/{}/as", st.base_url, st.environment_id)
}

/// The `aud` of a person's token for the management API. PingOne's is its API host
/// (`https://api.pingone.com`); the simulator serves the API on its own host.
pub(crate) fn management_audience(st: &State) -> String {
    st.base_url.clone()
}

/// A `resource` parameter that cannot be an audience.
pub(crate) struct InvalidTarget(pub &'static str);

/// The audience a token request asks for: its `resource` (RFC 8707), which must be an
/// absolute URI without a fragment, else the management API.
pub(crate) fn audience_for(st: &State, resource: Option<&str>) -> Result<String, InvalidTarget> {
    match resource {
        None => Ok(management_audience(st)),
        Some(r) => match url::Url::parse(r) {
            Ok(url) if url.fragment().is_none() => Ok(r.to_owned()),
            _ => Err(InvalidTarget("resource must be an absolute URI without a fragment")),
        },
    }
}

/// Signs an access token for `spec` and registers it as a bearer token.
pub(crate) fn mint_access(st: &mut State, keys: &SigningKeys, spec: &JwtSpec, session: Option<Session>) -> String {
    let iat = now_secs();
    let session_id = session.as_ref().map_or_else(|| st.new_id(), |s| s.id.to_owned());
    let mut claims = json!({
        "iss": issuer(st), "sub": spec.subject, "aud": spec.audience, "scope": spec.scope,
        "env": st.environment_id, "org": st.organization_id,
        "iat": iat, "nbf": iat + spec.not_before_offset_secs, "exp": iat + spec.lifetime_secs,
        "jti": st.new_id(), "sid": session_id, "auth_time": session.as_ref().map_or(iat, |s| s.auth_time),
    });
    if let Some(client_id) = &spec.client_id {
        claims["client_id"] = json!(client_id);
    }
    let jwt = keys.sign(&claims);
    // A token that is not valid yet stays unknown to the simulator's own APIs.
    if spec.not_before_offset_secs <= 0 {
        let now = Instant::now();
        let expires = if spec.lifetime_secs > 0 { now + Duration::from_secs(spec.lifetime_secs as u64) } else { now };
        st.tokens.insert(jwt.clone(), Token { subject: Subject::User(spec.subject.clone()), expires, audience: Some(spec.audience.clone()) });
    }
    jwt
}

/// An OpenID Connect ID token for the client (`aud` = client id).
fn mint_id_token(st: &mut State, keys: &SigningKeys, grant: &Grant, nonce: Option<&str>) -> String {
    let iat = now_secs();
    let username = st.users.get(&grant.user_id).and_then(|u| u["username"].as_str()).map(str::to_owned);
    let mut claims = json!({
        "iss": issuer(st), "sub": grant.user_id, "aud": grant.client_id, "iat": iat, "exp": iat + st.token_ttl.as_secs() as i64,
        "auth_time": grant.auth_time, "sid": grant.session_id, "env": st.environment_id, "org": st.organization_id,
        "preferred_username": username,
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    keys.sign(&claims)
}

/// What one successful token request hands out.
pub(crate) struct Issued {
    /// The token endpoint's JSON body.
    pub body: Value,
    /// The access and refresh tokens, to revoke should the grant be replayed.
    pub tokens: Vec<String>,
}

/// Issues an access token (and a refresh token when `with_refresh`, an ID token when
/// the scope has `openid`) for `grant`; `scope` may narrow the grant's scope.
pub(crate) fn issue(st: &mut State, flows: &mut Flows, keys: &SigningKeys, grant: &Grant, scope: &str, with_refresh: bool, nonce: Option<&str>) -> Issued {
    let ttl = st.token_ttl.as_secs() as i64;
    let spec = JwtSpec { subject: grant.user_id.clone(), audience: grant.audience.clone(), scope: scope.to_owned(), lifetime_secs: ttl, not_before_offset_secs: 0, client_id: Some(grant.client_id.clone()) };
    let access_token = mint_access(st, keys, &spec, Some(Session { id: &grant.session_id, auth_time: grant.auth_time }));
    let mut body = json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": scope });
    let mut tokens = vec![access_token];
    if with_refresh {
        let refresh_token = st.random_text(64);
        flows.refresh_tokens.insert(refresh_token.clone(), Refresh { grant: grant.clone(), expires: Instant::now() + REFRESH_TTL });
        body["refresh_token"] = json!(refresh_token);
        tokens.push(refresh_token);
    }
    if scope.split_whitespace().any(|s| s == "openid") {
        body["id_token"] = json!(mint_id_token(st, keys, grant, nonce));
    }
    Issued { body, tokens }
}

/// Ends tokens: access tokens leave the bearer table, refresh tokens the flows.
pub(crate) fn revoke(st: &mut State, flows: &mut Flows, tokens: &[String]) {
    for t in tokens {
        st.tokens.remove(t);
        flows.refresh_tokens.remove(t);
    }
}
