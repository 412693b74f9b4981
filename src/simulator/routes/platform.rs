//! The userinfo endpoint of the auth host (the rest of it is `simulator::oauth`) and
//! the organisation-level endpoints: environments and system roles.

use serde_json::json;

use super::with_self;
use crate::simulator::errors::{oauth_error, ApiError};
use crate::simulator::hal;
use crate::simulator::reply::{Outcome, Reply, Req};
use crate::simulator::store::{State, Subject};

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
        // OpenID Connect's updated_at: seconds since the epoch.
        "updated_at": u["updatedAt"].as_str().and_then(|at| humantime::parse_rfc3339_weak(at).ok()).and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs()),
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

