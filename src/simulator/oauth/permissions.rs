//! PingOne's role enforcement for a person calling the management API with their own
//! access token: the token must be meant for the API (`aud`), and the person's role
//! assignments (direct or through groups) decide what they may do.
//!
//! Simplified: any role whose name says "Read Only" allows reads (GET) only; any other
//! role allows everything; the scope of an assignment is not narrowed to its
//! population or application.

use super::tokens::management_audience;
use crate::simulator::errors::ApiError;
use crate::simulator::store::{Holder, State};

fn insufficient(why: &str) -> ApiError {
    ApiError::new(403, "ACCESS_FAILED", "The request could not be completed. You do not have access to this resource.").with_detail("INSUFFICIENT_PERMISSIONS", None, why)
}

fn invalid_token(why: &str) -> ApiError {
    ApiError::access_failed("The request could not be completed. The access token is invalid or has expired.").with_detail("INVALID_TOKEN", None, why)
}

/// What the person's roles allow.
#[derive(Debug, PartialEq, Eq)]
enum Access {
    None,
    ReadOnly,
    Full,
}

fn access_of(st: &State, user_id: &str) -> Access {
    let groups: Vec<String> = st.user_groups(user_id).into_iter().map(|(g, _)| g).collect();
    let held = st.holders.iter().filter(|(_, (kind, holder))| match kind {
        Holder::User => holder == user_id,
        Holder::Group => groups.contains(holder),
        Holder::Application => false,
    });
    let mut access = Access::None;
    for (assignment_id, _) in held {
        let role_id = st.role_assignments.get(assignment_id).and_then(|a| a["role"]["id"].as_str());
        let Some(name) = role_id.and_then(|r| st.role(r)).and_then(|r| r["name"].as_str()) else {
            continue;
        };
        if name.to_ascii_lowercase().contains("read only") {
            access = Access::ReadOnly;
        } else {
            return Access::Full;
        }
    }
    access
}

/// Whether the person `user_id`, holding `token`, may make a `method` call.
pub(crate) fn person_may_call(st: &State, token: &str, user_id: &str, method: &str) -> Result<(), ApiError> {
    let Some(audience) = st.tokens.get(token).and_then(|t| t.audience.as_deref()) else {
        // An opaque user token: the userinfo endpoint's, not the API's.
        return Err(insufficient("a user's userinfo token cannot call the management API; sign on for an API token"));
    };
    if audience != management_audience(st) {
        return Err(invalid_token("the access token is not meant for the PingOne API (its audience is another resource)"));
    }
    if !st.users.get(user_id).is_some_and(|u| u["enabled"] == serde_json::json!(true)) {
        return Err(invalid_token("the token's user no longer exists or is disabled"));
    }
    match access_of(st, user_id) {
        Access::Full => Ok(()),
        Access::ReadOnly if method == "GET" || method == "HEAD" => Ok(()),
        Access::ReadOnly => Err(insufficient("the user's roles are read-only")),
        Access::None => Err(insufficient("the user has no administrator role in this environment")),
    }
}
