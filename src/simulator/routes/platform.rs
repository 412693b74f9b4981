//! The auth host (token and userinfo) and the organisation-level endpoints:
//! environments and system roles.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use super::with_self;
use crate::simulator::errors::{oauth_error, ApiError};
use crate::simulator::hal;
use crate::simulator::reply::{Outcome, Reply, Req};
use crate::simulator::store::{State, Subject};
use crate::simulator::clock::now_secs;

/// `POST /{envId}/as/token`: client credentials, by Basic auth or in the form.
pub fn token(st: &mut State, req: &Req) -> Reply {
    if req.method != "POST" {
        return oauth_error(405, "invalid_request", "use POST");
    }
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "the token request must be application/x-www-form-urlencoded");
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let basic = req.authorization.as_deref().and_then(|a| a.strip_prefix("Basic ").or_else(|| a.strip_prefix("basic "))).and_then(|b| STANDARD.decode(b.trim()).ok()).and_then(|b| String::from_utf8(b).ok());
    let (client_id, secret, method) = match (&basic, field("client_id"), field("client_secret")) {
        (Some(pair), _, _) => {
            let (id, secret) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
            let dec = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
            (dec(id), dec(secret), "CLIENT_SECRET_BASIC")
        }
        (None, Some(id), Some(secret)) => (id, secret, "CLIENT_SECRET_POST"),
        _ => return oauth_error(401, "invalid_client", "Request denied: Unsupported authentication method or missing client credentials"),
    };
    match field("grant_type").as_deref() {
        Some("client_credentials") => {}
        Some(other) => return oauth_error(400, "unsupported_grant_type", &format!("Request denied: unsupported grant type `{other}`")),
        None => return oauth_error(400, "invalid_request", "Request denied: grant_type is required"),
    }
    let Some(app) = st.applications.get(&client_id) else {
        return oauth_error(401, "invalid_client", "Request denied: Invalid client credentials (unknown client id)");
    };
    if app["enabled"] != json!(true) {
        return oauth_error(401, "invalid_client", "Request denied: the application is disabled");
    }
    let app_method = app["tokenEndpointAuthMethod"].as_str().unwrap_or("CLIENT_SECRET_BASIC");
    if app_method != method {
        return oauth_error(401, "invalid_client", &format!("Request denied: the application authenticates with {app_method}, not {method}"));
    }
    let grants = app["grantTypes"].as_array().cloned().unwrap_or_default();
    if !grants.contains(&json!("CLIENT_CREDENTIALS")) {
        return oauth_error(400, "unauthorized_client", "Request denied: the application may not use the client_credentials grant");
    }
    let valid = st.secrets.get(&client_id).is_some_and(|s| s.current == secret || s.previous.as_ref().is_some_and(|(p, exp)| *p == secret && *exp > now_secs()));
    if !valid {
        return oauth_error(401, "invalid_client", "Request denied: Invalid client credentials");
    }
    let ttl = st.token_ttl.as_secs();
    let access_token = st.issue_token(Subject::Client(client_id));
    Reply::ok(json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": "" }))
}

/// `GET|POST /{envId}/as/userinfo` with a user's access token.
pub fn userinfo(st: &State, req: &Req) -> Reply {
    if req.method != "GET" && req.method != "POST" {
        return oauth_error(405, "invalid_request", "use GET or POST");
    }
    let token = req.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
    let user_id = match st.token_subject(token) {
        Some(Subject::User(u)) => u.clone(),
        Some(Subject::Client(_)) => return oauth_error(401, "invalid_token", "the access token was issued to a client, not a user; userinfo needs a user's token"),
        None => return oauth_error(401, "invalid_token", "the access token is missing, unknown or expired"),
    };
    let Some(u) = st.users.get(&user_id) else {
        return oauth_error(401, "invalid_token", "the token's user no longer exists");
    };
    Reply::ok(json!({
        "sub": user_id,
        "preferred_username": u["username"],
        "email": u["email"],
        "email_verified": u["emailVerified"],
        "given_name": u["name"]["given"],
        "family_name": u["name"]["family"],
        "name": u["name"]["formatted"],
        "updated_at": u["updatedAt"],
        "env": st.environment_id,
        "org": st.organization_id,
        "p1.userId": user_id,
    }))
}

/// `GET /v1/environments/{id}`.
pub fn environment(st: &State, req: &Req, id: &str) -> Outcome {
    if req.method != "GET" {
        return Err(ApiError::method_not_allowed(&req.method, &req.path));
    }
    if id != st.environment_id {
        return Err(ApiError::not_found("environment", id));
    }
    Ok(Reply::ok(with_self(
        json!({
            "id": st.environment_id,
            "name": format!("Simulated {}", if st.environment_type == "PRODUCTION" { "Production" } else { "Sandbox" }),
            "description": "An in-process PingOne simulator (pingone-mcp)",
            "type": st.environment_type,
            "region": "NA",
            "organization": { "id": st.organization_id },
            "license": { "id": "00000000-0000-4000-8000-00000000c0de" },
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-01-01T00:00:00.000Z",
        }),
        format!("{}/v1/environments/{}", st.base_url, st.environment_id),
    )))
}

/// `GET /v1/roles` and `GET /v1/roles/{id}`: the fixed system roles.
pub fn org_roles(st: &State, req: &Req, id: Option<&str>) -> Outcome {
    if req.method != "GET" {
        return Err(ApiError::method_not_allowed(&req.method, &req.path));
    }
    match id {
        None => hal::page_all(req, &format!("{}/v1/roles", st.base_url), "roles", st.system_roles.iter()),
        Some(id) => st.system_roles.get(id).map(|r| Reply::ok(r.clone())).ok_or_else(|| ApiError::not_found("role", id)),
    }
}

