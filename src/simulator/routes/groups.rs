//! Groups: CRUD, member counts; deleting a group drops its memberships, its
//! nesting and its role assignments.

use serde_json::{json, Map, Value};

use super::{new_record, not_allowed, ref_of, replaced, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{ref_id, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::{Holder, State};

/// The spec's group schema: "Search all groups for a specific group ID / group name /
/// external ID with a SCIM filter"; its example is `name eq "Training"`.
const FILTER: hal::FilterRules =
    hal::FilterRules { collection: "groups", attributes: &[("id", &["eq"]), ("name", &["eq", "sw"]), ("externalId", &["eq", "sw"])] };

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["groups"] => Some(match m {
            "GET" => {
                let url = st.env_url("groups");
                hal::filtered_by(req, st.groups.iter(), &FILTER).and_then(|matched| hal::page(req, &url, "groups", &matched, |g| view(st, g)))
            }
            "POST" => create(st, req),
            _ => return not_allowed(req),
        }),
        ["groups", id] => Some(match m {
            "GET" => get(st, req, id),
            "PUT" => update(st, req, id),
            "DELETE" => delete(st, id),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

fn view(st: &State, g: &Value) -> Value {
    with_self(g.clone(), st.env_url(&format!("groups/{}", g["id"].as_str().unwrap_or_default())))
}

fn get(st: &State, req: &Req, id: &str) -> Outcome {
    let g = st.groups.get(id).ok_or_else(|| ApiError::not_found("group", id))?;
    let mut out = view(st, g);
    if let Some(include) = req.q("include") {
        let direct_users = st.memberships.values().filter(|s| s.contains(id)).count();
        let direct_groups = st.nesting.values().filter(|s| s.contains(id)).count();
        match include {
            "directMemberCounts" => out["directMemberCounts"] = json!({ "users": direct_users, "groups": direct_groups }),
            "totalMemberCounts" => {
                let total_users = st.memberships.keys().filter(|u| st.user_groups(u).iter().any(|(g, _)| g == id)).count();
                let total_groups = st.groups.iter().filter(|g| g["id"].as_str().is_some_and(|gid| st.ancestors(gid).contains(id))).count();
                out["totalMemberCounts"] = json!({ "users": total_users, "groups": total_groups });
            }
            other => return Err(ApiError::invalid_value("include", format!("`include` must be directMemberCounts or totalMemberCounts, got `{other}`"))),
        }
    }
    Ok(Reply::ok(out))
}

fn check(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["name"])?;
    let name = str_field(body, "name").unwrap_or_default();
    let population = ref_id(body, "population");
    if let Some(p) = population {
        if !st.populations.contains(p) {
            return Err(ApiError::invalid_value("population.id", format!("population `{p}` does not exist")));
        }
    }
    let clash = st.groups.iter().any(|g| g["name"].as_str() == Some(name) && ref_of(g, "population") == population && g["id"].as_str() != except);
    if clash {
        return Err(ApiError::uniqueness("name", format!("a group named `{name}` already exists")));
    }
    Ok(())
}

fn create(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON])?;
    check(st, &body, None)?;
    let rec = Value::Object(new_record(st, &body));
    st.groups.put(rec.clone());
    Ok(Reply::created(view(st, &rec)))
}

fn update(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = st.groups.get(id).ok_or_else(|| ApiError::not_found("group", id))?.clone();
    check(st, &body, Some(id))?;
    // The population is set at creation only: a PUT keeps it.
    let rec = Value::Object(replaced(&old, &body, &["population"]));
    st.groups.put(rec.clone());
    Ok(Reply::ok(view(st, &rec)))
}

fn delete(st: &mut State, id: &str) -> Outcome {
    st.groups.remove(id).ok_or_else(|| ApiError::not_found("group", id))?;
    for set in st.memberships.values_mut() {
        set.remove(id);
    }
    st.nesting.remove(id);
    for set in st.nesting.values_mut() {
        set.remove(id);
    }
    st.drop_assignments_of(Holder::Group, id);
    Ok(Reply::no_content())
}
