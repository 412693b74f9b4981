//! Role assignments held by users, groups and (worker) applications, and the
//! environment's roles (its custom ones, listed beside the built-in ones). System
//! roles also live at the organisation level (`platform.rs`).

use serde_json::{json, Map, Value};

use super::{id_ref, new_record, not_allowed, ref_of, replaced, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::oauth::{may_assign, not_assignable};
use crate::simulator::reply::{require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::{Holder, State};

const SCOPE_TYPES: [&str; 4] = ["ORGANIZATION", "ENVIRONMENT", "POPULATION", "APPLICATION"];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    let (holder, holder_id, tail) = match rest {
        ["users", id, "roleAssignments", tail @ ..] => (Holder::User, *id, tail),
        ["groups", id, "roleAssignments", tail @ ..] => (Holder::Group, *id, tail),
        ["applications", id, "roleAssignments", tail @ ..] => (Holder::Application, *id, tail),
        ["roles"] => {
            return Some(match m {
                "GET" => list_roles(st, req),
                "POST" => create_custom(st, req),
                _ => return not_allowed(req),
            })
        }
        ["roles", id] => {
            return Some(match m {
                "GET" => role(st, id).map(|r| Reply::ok(role_view(st, r))),
                "PUT" => update_custom(st, req, id),
                "DELETE" => delete_custom(st, id),
                _ => return not_allowed(req),
            })
        }
        _ => return None,
    };
    Some(match (m, tail) {
        (_, [_, _, ..]) => Err(ApiError::no_route(&req.path)),
        ("GET", []) => list(st, req, holder, holder_id),
        ("POST", []) => create(st, req, holder, holder_id),
        ("GET", [id]) => get(st, holder, holder_id, id).map(|v| Reply::ok(view(st, v))),
        ("DELETE", [id]) => remove(st, holder, holder_id, id),
        _ => return not_allowed(req),
    })
}

fn check_holder(st: &State, holder: Holder, id: &str) -> Result<(), ApiError> {
    let exists = match holder {
        Holder::User => st.users.contains(id),
        Holder::Group => st.groups.contains(id),
        Holder::Application => st.applications.contains(id),
    };
    if exists {
        Ok(())
    } else {
        Err(ApiError::not_found(holder.key(), id))
    }
}

fn base(holder: Holder, id: &str) -> String {
    let coll = match holder {
        Holder::User => "users",
        Holder::Group => "groups",
        Holder::Application => "applications",
    };
    format!("{coll}/{id}/roleAssignments")
}

fn list(st: &State, req: &Req, holder: Holder, holder_id: &str) -> Outcome {
    check_holder(st, holder, holder_id)?;
    let mine = st.role_assignments.iter().filter(|a| a["id"].as_str().and_then(|id| st.holders.get(id)).is_some_and(|(k, h)| *k == holder && h == holder_id));
    let matched = hal::filtered(req, mine)?;
    hal::page(req, &st.env_url(&base(holder, holder_id)), "roleAssignments", &matched, |a| view(st, a))
}

/// The role and scope an assignment grants: (role id, scope type, scope id).
fn grant_of(assignment: &Value) -> (&str, &str, &str) {
    let text = |pointer: &str| assignment.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
    (text("/role/id"), text("/scope/type"), text("/scope/id"))
}

/// Whether the caller may not remove this assignment (PingOne's `readOnly`: "whether
/// this role assignment can be deleted by the current actor").
fn read_only_for_caller(st: &State, assignment: &Value) -> bool {
    let (role, scope_type, scope_id) = grant_of(assignment);
    st.caller.as_ref().is_some_and(|actor| !may_assign(st, actor, role, scope_type, scope_id))
}

fn view(st: &State, assignment: &Value) -> Value {
    let mut out = assignment.clone();
    out["readOnly"] = Value::Bool(read_only_for_caller(st, assignment));
    out
}

fn remove(st: &mut State, holder: Holder, holder_id: &str, id: &str) -> Outcome {
    let assignment = get(st, holder, holder_id, id)?;
    if read_only_for_caller(st, assignment) {
        let (role, scope_type, scope_id) = grant_of(assignment);
        return Err(not_assignable(st, "remove", role, scope_type, scope_id));
    }
    st.role_assignments.remove(id);
    st.holders.remove(id);
    Ok(Reply::no_content())
}

fn get<'a>(st: &'a State, holder: Holder, holder_id: &str, id: &str) -> Result<&'a Value, ApiError> {
    check_holder(st, holder, holder_id)?;
    match st.holders.get(id) {
        Some((k, h)) if *k == holder && h == holder_id => st.role_assignments.get(id).ok_or_else(|| ApiError::not_found("role assignment", id)),
        _ => Err(ApiError::not_found("role assignment", id)),
    }
}

fn create(st: &mut State, req: &Req, holder: Holder, holder_id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    check_holder(st, holder, holder_id)?;
    require(&body, &["role.id", "scope.id", "scope.type"])?;
    let role_id = body["role"]["id"].as_str().unwrap_or_default().to_owned();
    let scope_id = body["scope"]["id"].as_str().unwrap_or_default().to_owned();
    let scope_type = body["scope"]["type"].as_str().unwrap_or_default().to_owned();
    if !SCOPE_TYPES.contains(&scope_type.as_str()) {
        return Err(ApiError::invalid_value("scope.type", format!("`scope.type` must be one of {}, got `{scope_type}`", SCOPE_TYPES.join(", "))));
    }
    let role = st.role(&role_id).ok_or_else(|| ApiError::invalid_value("role.id", format!("role `{role_id}` does not exist")))?;
    let applicable: Vec<&str> = role["applicableTo"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if !applicable.is_empty() && !applicable.contains(&scope_type.as_str()) {
        return Err(ApiError::invalid_value("scope.type", format!("role `{}` can be assigned at {} scope, not {scope_type}", role["name"].as_str().unwrap_or_default(), applicable.join(", "))));
    }
    let scope_ok = match scope_type.as_str() {
        "ORGANIZATION" => scope_id == st.organization_id,
        "ENVIRONMENT" => scope_id == st.environment_id,
        "POPULATION" => st.populations.contains(&scope_id),
        _ => st.applications.contains(&scope_id),
    };
    if !scope_ok {
        return Err(ApiError::invalid_value("scope.id", format!("no {} with id `{scope_id}` exists", scope_type.to_lowercase())));
    }
    if st.caller.as_ref().is_some_and(|actor| !may_assign(st, actor, &role_id, &scope_type, &scope_id)) {
        return Err(not_assignable(st, "assign", &role_id, &scope_type, &scope_id));
    }
    if holder == Holder::Application {
        let app = st.applications.get(holder_id).map(|a| a["type"].clone()).unwrap_or(Value::Null);
        if app != json!("WORKER") {
            return Err(ApiError::invalid_value("application.type", "roles can be assigned only to WORKER applications"));
        }
        // "Currently, you're not able to assign the DaVinci Admin and DaVinci Read-Only
        // Admin roles to a Worker app."
        if st.role(&role_id).and_then(|r| r["name"].as_str()).is_some_and(|name| name.starts_with("DaVinci")) {
            return Err(ApiError::invalid_value("role.id", "the DaVinci roles cannot be assigned to a worker application"));
        }
    }
    let duplicate = st.role_assignments.iter().any(|a| {
        ref_of(a, "role") == Some(role_id.as_str())
            && ref_of(a, "scope") == Some(scope_id.as_str())
            && a["id"].as_str().and_then(|id| st.holders.get(id)).is_some_and(|(k, h)| *k == holder && h == holder_id)
    });
    if duplicate {
        return Err(ApiError::uniqueness("role.id", format!("the {} already has role `{role_id}` at this scope", holder.key())));
    }
    let mut rec = new_record(st, &Map::new());
    rec.insert("role".into(), id_ref(&role_id));
    rec.insert("scope".into(), json!({ "id": scope_id, "type": scope_type }));
    rec.insert(holder.key().into(), id_ref(holder_id));
    rec.insert("readOnly".into(), Value::Bool(false));
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    st.holders.insert(id.clone(), (holder, holder_id.to_owned()));
    let rec = with_self(Value::Object(rec), st.env_url(&format!("{}/{id}", base(holder, holder_id))));
    st.role_assignments.put(rec.clone());
    Ok(Reply::created(view(st, &rec)))
}

/// A role of the environment's collection: custom, or built-in (which it lists too).
fn role<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.custom_roles.get(id).or_else(|| st.system_roles.get(id)).ok_or_else(|| ApiError::not_found("role", id))
}

/// A custom role, for a change; a built-in one is refused as PingOne refuses it.
fn custom<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    if st.system_roles.get(id).is_some() {
        return Err(ApiError::request_failed(format!("role `{id}` is a built-in (PLATFORM) role; only custom roles can be changed or deleted")));
    }
    st.custom_roles.get(id).ok_or_else(|| ApiError::not_found("custom role", id))
}

/// The environment's collection holds the built-in roles as well as the custom ones
/// (`filter=type eq "CUSTOM"` keeps the custom ones).
fn list_roles(st: &State, req: &Req) -> Outcome {
    let matched = hal::filtered(req, st.system_roles.iter().chain(st.custom_roles.iter()))?;
    hal::page(req, &st.env_url("roles"), "roles", &matched, |r| role_view(st, r))
}

/// A custom role as PingOne shows it: with `canAssign`, derived from the other custom
/// roles' `canBeAssignedBy` (the roles its holders may assign).
fn role_view(st: &State, role: &Value) -> Value {
    let mut out = role.clone();
    if role["type"] == json!("CUSTOM") {
        let id = role["id"].as_str().unwrap_or_default();
        let assignable: Vec<Value> = st
            .custom_roles
            .iter()
            .filter(|r| r["canBeAssignedBy"].as_array().is_some_and(|by| by.iter().any(|b| b.get("id").and_then(Value::as_str) == Some(id))))
            .filter_map(|r| r["id"].as_str().map(id_ref))
            .collect();
        out["canAssign"] = Value::Array(assignable);
    }
    out
}

fn check_role_body(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["name", "permissions", "canBeAssignedBy"])?;
    let name = str_field(body, "name").unwrap_or_default();
    if st.custom_roles.iter().chain(st.system_roles.iter()).any(|r| r["name"].as_str() == Some(name) && r["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("a role named `{name}` already exists")));
    }
    let perms = body["permissions"].as_array().filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid_value("permissions", "`permissions` must be a non-empty array of {id}"))?;
    if let Some(bad) = perms.iter().find(|p| p.get("id").and_then(Value::as_str).is_none()) {
        return Err(ApiError::invalid_value("permissions", format!("each permission needs an `id`, got {bad}")));
    }
    let assigners = body["canBeAssignedBy"].as_array().filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid_value("canBeAssignedBy", "`canBeAssignedBy` must be a non-empty array of {id}"))?;
    for assigner in assigners {
        let id = assigner.get("id").and_then(Value::as_str).ok_or_else(|| ApiError::invalid_value("canBeAssignedBy", format!("each entry needs an `id`, got {assigner}")))?;
        role(st, id).map_err(|_| ApiError::invalid_value("canBeAssignedBy", format!("no role with id `{id}`")))?;
    }
    if let Some(scopes) = body.get("applicableTo") {
        let scopes = scopes.as_array().ok_or_else(|| ApiError::invalid_value("applicableTo", "`applicableTo` must be an array"))?;
        if let Some(bad) = scopes.iter().find(|s| !s.as_str().is_some_and(|s| SCOPE_TYPES.contains(&s))) {
            return Err(ApiError::invalid_value("applicableTo", format!("`applicableTo` values must be among {}, got {bad}", SCOPE_TYPES.join(", "))));
        }
    }
    Ok(())
}

fn create_custom(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON])?;
    check_role_body(st, &body, None)?;
    let mut rec = new_record(st, &body);
    rec.insert("type".into(), json!("CUSTOM"));
    let rec = Value::Object(rec);
    st.custom_roles.put(rec.clone());
    Ok(Reply::created(role_view(st, &rec)))
}

fn update_custom(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = custom(st, id)?.clone();
    check_role_body(st, &body, Some(id))?;
    let rec = Value::Object(replaced(&old, &body, &["type"]));
    st.custom_roles.put(rec.clone());
    Ok(Reply::ok(role_view(st, &rec)))
}

fn delete_custom(st: &mut State, id: &str) -> Outcome {
    custom(st, id)?;
    let in_use = st.role_assignments.iter().filter(|a| ref_of(a, "role") == Some(id)).count();
    if in_use > 0 {
        return Err(ApiError::request_failed(format!("custom role `{id}` still has {in_use} assignment(s); revoke them first")));
    }
    st.custom_roles.remove(id);
    Ok(Reply::no_content())
}
