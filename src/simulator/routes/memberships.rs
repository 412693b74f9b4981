//! Group memberships of users (direct and, through nesting, indirect) and group
//! nesting (`/groups/{id}/memberOfGroups` lists the parents of a group).

use serde_json::{json, Value};

use super::{not_allowed, ref_of};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["users", user, "memberOfGroups"] => Some(match m {
            "GET" => list_user_groups(st, req, user),
            "POST" => add_user(st, req, user),
            _ => return not_allowed(req),
        }),
        ["users", user, "memberOfGroups", group] => Some(match m {
            "GET" => get_user_group(st, req, user, group),
            "DELETE" => remove_user(st, user, group),
            _ => return not_allowed(req),
        }),
        ["groups", group, "memberOfGroups"] => Some(match m {
            "GET" => list_parents(st, req, group),
            "POST" => nest(st, req, group),
            _ => return not_allowed(req),
        }),
        ["groups", group, "memberOfGroups", parent] => Some(match m {
            "GET" => get_parent(st, req, group, parent),
            "DELETE" => unnest(st, group, parent),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

/// A membership record: `{id: groupId, name, type}`, with the group when expanded.
fn membership(st: &State, req: &Req, group_id: &str, kind: &str, url: String) -> Value {
    let group = st.groups.get(group_id);
    let mut v = json!({
        "id": group_id,
        "name": group.map(|g| g["name"].clone()).unwrap_or(Value::Null),
        "type": kind,
        "_links": { "self": { "href": url }, "group": { "href": st.env_url(&format!("groups/{group_id}")) } },
    });
    if req.q("expand") == Some("group") {
        if let Some(g) = group {
            v["_embedded"] = json!({ "group": g });
        }
    }
    v
}

fn check_user(st: &State, user: &str) -> Result<(), ApiError> {
    if st.users.contains(user) {
        Ok(())
    } else {
        Err(ApiError::not_found("user", user))
    }
}

fn check_group(st: &State, group: &str) -> Result<(), ApiError> {
    if st.groups.contains(group) {
        Ok(())
    } else {
        Err(ApiError::not_found("group", group))
    }
}

fn list_user_groups(st: &State, req: &Req, user: &str) -> Outcome {
    check_user(st, user)?;
    let base = format!("users/{user}/memberOfGroups");
    let items: Vec<Value> = st.user_groups(user).into_iter().map(|(g, t)| membership(st, req, &g, t, st.env_url(&format!("{base}/{g}")))).collect();
    let matched = hal::filtered(req, items.iter())?;
    hal::page(req, &st.env_url(&base), "groupMemberships", &matched, |v| v)
}

fn get_user_group(st: &State, req: &Req, user: &str, group: &str) -> Outcome {
    check_user(st, user)?;
    let found = st.user_groups(user).into_iter().find(|(g, _)| g == group);
    match found {
        Some((g, t)) => Ok(Reply::ok(membership(st, req, &g, t, st.env_url(&format!("users/{user}/memberOfGroups/{g}"))))),
        None => Err(ApiError::not_found("group membership", group)),
    }
}

fn add_user(st: &mut State, req: &Req, user: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    check_user(st, user)?;
    require(&body, &["id"])?;
    let group = str_field(&body, "id").unwrap_or_default().to_owned();
    let g = st.groups.get(&group).ok_or_else(|| ApiError::invalid_value("id", format!("group `{group}` does not exist")))?;
    if let Some(pop) = ref_of(g, "population") {
        let user_pop = st.users.get(user).and_then(|u| ref_of(u, "population"));
        if user_pop != Some(pop) {
            return Err(ApiError::invalid_value("id", format!("group `{group}` is restricted to population `{pop}` and the user is in another population")));
        }
    }
    let set = st.memberships.entry(user.to_owned()).or_default();
    if !set.insert(group.clone()) {
        return Err(ApiError::uniqueness("id", format!("the user is already a direct member of group `{group}`")));
    }
    let url = st.env_url(&format!("users/{user}/memberOfGroups/{group}"));
    Ok(Reply::created(membership(st, req, &group, "DIRECT", url)))
}

fn remove_user(st: &mut State, user: &str, group: &str) -> Outcome {
    check_user(st, user)?;
    let removed = st.memberships.get_mut(user).is_some_and(|set| set.remove(group));
    if !removed {
        return Err(ApiError::not_found("direct group membership", group));
    }
    Ok(Reply::no_content())
}

fn list_parents(st: &State, req: &Req, group: &str) -> Outcome {
    check_group(st, group)?;
    let base = format!("groups/{group}/memberOfGroups");
    let items: Vec<Value> = st.nesting.get(group).into_iter().flatten().map(|p| membership(st, req, p, "DIRECT", st.env_url(&format!("{base}/{p}")))).collect();
    let matched = hal::filtered(req, items.iter())?;
    hal::page(req, &st.env_url(&base), "groupMemberships", &matched, |v| v)
}

fn get_parent(st: &State, req: &Req, group: &str, parent: &str) -> Outcome {
    check_group(st, group)?;
    if !st.nesting.get(group).is_some_and(|s| s.contains(parent)) {
        return Err(ApiError::not_found("group nesting", parent));
    }
    Ok(Reply::ok(membership(st, req, parent, "DIRECT", st.env_url(&format!("groups/{group}/memberOfGroups/{parent}")))))
}

fn nest(st: &mut State, req: &Req, group: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    check_group(st, group)?;
    require(&body, &["id"])?;
    let parent = str_field(&body, "id").unwrap_or_default().to_owned();
    if !st.groups.contains(&parent) {
        return Err(ApiError::invalid_value("id", format!("group `{parent}` does not exist")));
    }
    if parent == group || st.ancestors(&parent).contains(group) {
        return Err(ApiError::invalid_value("id", format!("nesting group `{group}` in `{parent}` would make a cycle")));
    }
    if !st.nesting.entry(group.to_owned()).or_default().insert(parent.clone()) {
        return Err(ApiError::uniqueness("id", format!("group `{group}` is already nested in `{parent}`")));
    }
    let url = st.env_url(&format!("groups/{group}/memberOfGroups/{parent}"));
    Ok(Reply::created(membership(st, req, &parent, "DIRECT", url)))
}

fn unnest(st: &mut State, group: &str, parent: &str) -> Outcome {
    check_group(st, group)?;
    if !st.nesting.get_mut(group).is_some_and(|s| s.remove(parent)) {
        return Err(ApiError::not_found("group nesting", parent));
    }
    Ok(Reply::no_content())
}
