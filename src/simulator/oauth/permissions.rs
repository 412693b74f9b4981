//! PingOne's role enforcement for an actor of the management API: a worker
//! application with its own token, or a person with theirs (which must be meant for
//! the API, `aud`). The actor's role assignments (a person's direct or through groups)
//! decide what it may do, and which roles it may assign or remove, at its own scope or
//! one within it ("the same jurisdiction or sub-jurisdiction"): a built-in role as
//! PingOne's table of built-in admin roles says ([`ASSIGNS`]), a custom role when it
//! holds that role or one the role's `canBeAssignedBy` names.
//!
//! Simplified: any role whose name says "Read Only" allows reads (GET) only; any other
//! role allows every call; the scope of an assignment is not narrowed to its
//! population or application for calls other than role assignments.

use serde_json::Value;

use super::tokens::management_audience;
use crate::simulator::errors::ApiError;
use crate::simulator::store::{Holder, State, Subject};

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

/// The role assignments `actor` holds: a worker application's own, a person's own and
/// their groups'.
pub(crate) fn held_assignments<'a>(st: &'a State, actor: &Subject) -> Vec<&'a Value> {
    let (person, application) = match actor {
        Subject::User(id) => (Some(id.as_str()), None),
        Subject::Client(id) => (None, Some(id.as_str())),
    };
    let groups: Vec<String> = person.map(|id| st.user_groups(id).into_iter().map(|(g, _)| g).collect()).unwrap_or_default();
    st.holders
        .iter()
        .filter(|(_, (kind, holder))| match kind {
            Holder::User => person == Some(holder.as_str()),
            Holder::Group => groups.contains(holder),
            Holder::Application => application == Some(holder.as_str()),
        })
        .filter_map(|(assignment_id, _)| st.role_assignments.get(assignment_id))
        .collect()
}

fn access_of(st: &State, actor: &Subject) -> Access {
    let mut access = Access::None;
    for assignment in held_assignments(st, actor) {
        let Some(name) = assignment["role"]["id"].as_str().and_then(|r| st.role(r)).and_then(|r| r["name"].as_str()) else {
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
    may_call(st, &Subject::User(user_id.to_owned()), method, ("user", ""))
}

/// Whether the application `client_id`, with its own token, may make a `method` call:
/// a worker without roles (it removed its own, or was never given one) may not.
pub(crate) fn application_may_call(st: &State, client_id: &str, method: &str) -> Result<(), ApiError> {
    may_call(st, &Subject::Client(client_id.to_owned()), method, ("application", "; an administrator must assign it one"))
}

/// What `actor`'s roles let it call; `who` names it in a refusal (and what to do).
fn may_call(st: &State, actor: &Subject, method: &str, (who, remedy): (&str, &str)) -> Result<(), ApiError> {
    match access_of(st, actor) {
        Access::Full => Ok(()),
        Access::ReadOnly if method == "GET" || method == "HEAD" => Ok(()),
        Access::ReadOnly => Err(insufficient(&format!("the {who}'s roles are read-only"))),
        Access::None => Err(insufficient(&format!("the {who} has no administrator role in this environment{remedy}"))),
    }
}

/// The built-in roles each built-in role may assign (PingOne's "Built-in Admin Roles":
/// Organization Admin assigns Environment Admin; Environment Admin all roles but
/// Organization Admin; Identity Data Admin itself and its read-only variant; DaVinci
/// Admin itself; the others none). `None`: every role but Organization Admin.
const ASSIGNS: [(&str, Option<&[&str]>); 4] = [
    ("Organization Admin", Some(&["Environment Admin"])),
    ("Environment Admin", None),
    ("Identity Data Admin", Some(&["Identity Data Admin", "Identity Data Read Only"])),
    ("DaVinci Admin", Some(&["DaVinci Admin"])),
];

/// Whether holding `held` lets an actor assign `wanted` (both role records).
fn role_assigns(held: &Value, wanted: &Value) -> bool {
    if wanted["type"] == "CUSTOM" {
        let assigners = wanted["canBeAssignedBy"].as_array().into_iter().flatten();
        return held["id"] == wanted["id"] || assigners.into_iter().any(|by| by["id"] == held["id"]);
    }
    let wanted_name = wanted["name"].as_str().unwrap_or_default();
    match ASSIGNS.iter().find(|(name, _)| held["name"] == *name && held["type"] != "CUSTOM") {
        Some((_, Some(names))) => names.contains(&wanted_name),
        Some((_, None)) => wanted_name != "Organization Admin",
        None => false,
    }
}

/// Whether `actor` may assign (or remove) `role_id` at the scope `scope_type` `scope_id`:
/// it holds a role that assigns it, at that scope or one that holds it (the
/// organisation holds the environment, which holds its populations and applications).
pub(crate) fn may_assign(st: &State, actor: &Subject, role_id: &str, scope_type: &str, scope_id: &str) -> bool {
    let Some(wanted) = st.role(role_id) else { return false };
    held_assignments(st, actor).into_iter().any(|held| {
        let assigns = held["role"]["id"].as_str().and_then(|id| st.role(id)).is_some_and(|role| role_assigns(role, wanted));
        assigns && covers(st, &held["scope"], scope_type, scope_id)
    })
}

fn covers(st: &State, held: &Value, scope_type: &str, scope_id: &str) -> bool {
    let held_id = held["id"].as_str().unwrap_or_default();
    match held["type"].as_str().unwrap_or_default() {
        "ORGANIZATION" => held_id == st.organization_id,
        "ENVIRONMENT" => held_id == st.environment_id && scope_type != "ORGANIZATION",
        same => same == scope_type && held_id == scope_id,
    }
}

/// Why `actor` may not assign or remove (`doing`) the role at that scope.
pub(crate) fn not_assignable(st: &State, doing: &str, role_id: &str, scope_type: &str, scope_id: &str) -> ApiError {
    let name = st.role(role_id).and_then(|r| r["name"].as_str()).unwrap_or(role_id);
    insufficient(&format!(
        "the caller cannot {doing} role `{name}` at {scope_type} {scope_id}: an administrator assigns and removes only the roles its own roles may assign (Environment Admin: all but Organization Admin; Organization Admin: Environment Admin; Identity Data Admin: itself and Identity Data Read Only; a custom role: whoever holds it or a role its canBeAssignedBy names), at its own scope or one within it"
    ))
}
