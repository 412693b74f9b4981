//! `POST /{envId}/as/token` for every grant type, and `POST /{envId}/as/revoke`.
//!
//! Errors follow RFC 6749 §5.2 and RFC 8628 §3.5 in PingOne's OAuth error body:
//! `invalid_client` (401) for client authentication, `invalid_grant` (400) for a bad,
//! used, expired or foreign code or refresh token, and the device flow's
//! `authorization_pending`, `slow_down`, `access_denied` and `expired_token`.

use std::time::Instant;

use serde_json::json;

use super::clients::{allows_grant, authenticated_post};
use super::discovery::DEVICE_CODE_GRANT;
use super::flows::DeviceStatus;
use super::form::Params;
use super::front::Ctx;
use super::pkce;
use super::tokens::{self, issue};
use crate::simulator::errors::oauth_error;
use crate::simulator::reply::{Reply, Req};
use crate::simulator::store::Subject;

/// A handler's outcome: the success body or the OAuth error, both sent as they are.
type Answered = Result<Reply, Reply>;

/// The token endpoint.
pub(crate) fn token(ctx: &mut Ctx, req: &Req) -> Reply {
    grant(ctx, req).unwrap_or_else(|error| error)
}

fn grant(ctx: &mut Ctx, req: &Req) -> Answered {
    let (params, client_id) = authenticated_post(ctx.st, req, "token request")?;
    let grant_type = params.require("grant_type")?;
    // PingOne's name for the grant in an application's `grantTypes`.
    let app_grant = match grant_type {
        "client_credentials" => "CLIENT_CREDENTIALS",
        "authorization_code" => "AUTHORIZATION_CODE",
        "refresh_token" => "REFRESH_TOKEN",
        DEVICE_CODE_GRANT => "DEVICE_CODE",
        other => return Err(oauth_error(400, "unsupported_grant_type", &format!("Request denied: unsupported grant type `{other}`"))),
    };
    let app = ctx.st.applications.get(&client_id).ok_or_else(|| oauth_error(401, "invalid_client", "Request denied: Invalid client credentials (unknown client id)"))?;
    if !allows_grant(app, app_grant) {
        return Err(oauth_error(400, "unauthorized_client", &format!("Request denied: the application may not use the {grant_type} grant")));
    }
    let with_refresh = allows_grant(app, "REFRESH_TOKEN");
    match grant_type {
        "client_credentials" => Ok(client_credentials(ctx, client_id)),
        "authorization_code" => authorization_code(ctx, &client_id, &params, with_refresh),
        "refresh_token" => refresh_token(ctx, &client_id, &params),
        _ => device_code(ctx, &client_id, &params, with_refresh),
    }
}

/// A worker app's own token: opaque, as the management API's bearer table knows it.
fn client_credentials(ctx: &mut Ctx, client_id: String) -> Reply {
    let ttl = ctx.st.token_ttl.as_secs();
    let access_token = ctx.st.issue_token(Subject::Client(client_id));
    Reply::ok(json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": "" }))
}

fn invalid_grant(description: &str) -> Reply {
    oauth_error(400, "invalid_grant", description)
}

fn authorization_code(ctx: &mut Ctx, client_id: &str, params: &Params, with_refresh: bool) -> Answered {
    let code_value = params.require("code")?;
    let code = ctx.flows.codes.get(code_value).cloned().ok_or_else(|| invalid_grant("the authorization code is unknown or expired"))?;
    if let Some(issued) = &code.redeemed {
        // A replayed code may be stolen: end what it was exchanged for (RFC 6749 §4.1.2).
        tokens::revoke(ctx.st, ctx.flows, issued);
        ctx.flows.codes.remove(code_value);
        return Err(invalid_grant("the authorization code was already used; the tokens issued for it are revoked"));
    }
    if code.expires <= Instant::now() {
        ctx.flows.codes.remove(code_value);
        return Err(invalid_grant("the authorization code expired"));
    }
    if code.grant.client_id != client_id {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    if params.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri does not match the one of the authorization request"));
    }
    if let Some(challenge) = &code.code_challenge {
        let verifier = params.get("code_verifier").ok_or_else(|| invalid_grant("code_verifier is required: the authorization request had a code_challenge"))?;
        if !pkce::verifies(verifier, challenge) {
            return Err(invalid_grant("code_verifier does not match the code_challenge"));
        }
    }
    let issued = issue(ctx.st, ctx.flows, ctx.keys, &code.grant, &code.grant.scope, with_refresh, code.nonce.as_deref());
    if let Some(c) = ctx.flows.codes.get_mut(code_value) {
        c.redeemed = Some(issued.tokens);
    }
    Ok(Reply::ok(issued.body))
}

/// Rotates the refresh token: the old one stops working, the grant carries over.
fn refresh_token(ctx: &mut Ctx, client_id: &str, params: &Params) -> Answered {
    let presented = params.require("refresh_token")?;
    let refresh = ctx.flows.refresh_tokens.get(presented).cloned().ok_or_else(|| invalid_grant("the refresh token is unknown, expired or already used"))?;
    if refresh.grant.client_id != client_id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    let user_ok = ctx.st.users.get(&refresh.grant.user_id).is_some_and(|u| u["enabled"] == json!(true));
    if !user_ok {
        ctx.flows.refresh_tokens.remove(presented);
        return Err(invalid_grant("the refresh token's user no longer exists or is disabled"));
    }
    // A refresh may ask for less than was granted, never more (RFC 6749 §6).
    let granted: Vec<&str> = refresh.grant.scope.split_whitespace().collect();
    let scope = match params.get("scope") {
        None => refresh.grant.scope.clone(),
        Some(asked) if asked.split_whitespace().all(|s| granted.contains(&s)) => asked.split_whitespace().collect::<Vec<_>>().join(" "),
        Some(_) => return Err(oauth_error(400, "invalid_scope", "the requested scope exceeds the scope originally granted")),
    };
    ctx.flows.refresh_tokens.remove(presented);
    Ok(Reply::ok(issue(ctx.st, ctx.flows, ctx.keys, &refresh.grant, &scope, true, None).body))
}

fn device_code(ctx: &mut Ctx, client_id: &str, params: &Params, with_refresh: bool) -> Answered {
    let device_code = params.require("device_code")?;
    let interval = ctx.settings.device_interval;
    let device = ctx.flows.devices.get_mut(device_code).ok_or_else(|| invalid_grant("the device code is unknown or was already used"))?;
    if device.client_id != client_id {
        return Err(invalid_grant("the device code was issued to another client"));
    }
    let now = Instant::now();
    if device.expires <= now {
        ctx.flows.drop_device(device_code);
        return Err(oauth_error(400, "expired_token", "the device code expired; start again"));
    }
    match device.status.clone() {
        DeviceStatus::Pending => {
            let too_soon = device.last_poll.is_some_and(|last| now.duration_since(last) < interval);
            device.last_poll = Some(now);
            Err(if too_soon {
                oauth_error(400, "slow_down", &format!("poll no more often than every {} s", interval.as_secs()))
            } else {
                oauth_error(400, "authorization_pending", "the person has not approved the device yet")
            })
        }
        DeviceStatus::Denied => {
            ctx.flows.drop_device(device_code);
            Err(oauth_error(400, "access_denied", "the person denied the device"))
        }
        DeviceStatus::Approved(grant) => {
            ctx.flows.drop_device(device_code);
            let scope = grant.scope.clone();
            Ok(Reply::ok(issue(ctx.st, ctx.flows, ctx.keys, &grant, &scope, with_refresh, None).body))
        }
    }
}

/// Token revocation (RFC 7009): refresh tokens of the calling client, and access
/// tokens. Unknown tokens are answered 200 too, as §2.2 says.
pub(crate) fn revoke(ctx: &mut Ctx, req: &Req) -> Reply {
    revocation(ctx, req).unwrap_or_else(|error| error)
}

fn revocation(ctx: &mut Ctx, req: &Req) -> Answered {
    let (params, client_id) = authenticated_post(ctx.st, req, "revocation request")?;
    let token = params.require("token")?;
    if ctx.flows.refresh_tokens.get(token).is_some_and(|r| r.grant.client_id != client_id) {
        return Err(oauth_error(400, "invalid_grant", "the token was issued to another client"));
    }
    let is_person_token = matches!(ctx.st.tokens.get(token), Some(t) if matches!(t.subject, Subject::User(_)));
    if ctx.flows.refresh_tokens.contains_key(token) || is_person_token {
        tokens::revoke(ctx.st, ctx.flows, &[token.to_owned()]);
    }
    Ok(Reply::ok(json!({})))
}
