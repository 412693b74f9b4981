//! Populations: CRUD (a population must be empty, and not the default, to be
//! deleted) and the population's default identity provider.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{id_ref, new_record, not_allowed, ref_of, replaced, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, ref_id, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["populations"] => Some(match m {
            "GET" => list(st, req),
            "POST" => create(st, req),
            _ => return not_allowed(req),
        }),
        ["populations", id] => Some(match m {
            "GET" => population(st, id).map(|p| Reply::ok(view(st, p, None))),
            "PUT" => update(st, req, id),
            "DELETE" => delete(st, id),
            _ => return not_allowed(req),
        }),
        ["populations", id, "defaultIdentityProvider"] => Some(match m {
            "GET" => population(st, id).map(|p| Reply::ok(default_idp(p))),
            "PUT" => set_default_idp(st, req, id),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

fn population<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.populations.get(id).ok_or_else(|| ApiError::not_found("population", id))
}

fn user_count(st: &State, id: &str) -> usize {
    st.users.iter().filter(|u| ref_of(u, "population") == Some(id)).count()
}

fn view(st: &State, p: &Value, counts: Option<&HashMap<&str, usize>>) -> Value {
    let id = p["id"].as_str().unwrap_or_default();
    let mut out = with_self(p.clone(), st.env_url(&format!("populations/{id}")));
    let n = counts.map(|c| c.get(id).copied().unwrap_or(0)).unwrap_or_else(|| user_count(st, id));
    out["userCount"] = json!(n);
    out
}

/// REFERENCE.md: "/populations `name sw`, `id eq`"; the spec: "Only the id and name
/// parameters are supported".
const FILTER: hal::FilterRules = hal::FilterRules { collection: "populations", attributes: &[("id", &["eq"]), ("name", &["sw"])] };

fn list(st: &State, req: &Req) -> Outcome {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for u in st.users.iter() {
        if let Some(p) = ref_of(u, "population") {
            *counts.entry(p).or_default() += 1;
        }
    }
    let matched = hal::filtered_by(req, st.populations.iter(), &FILTER)?;
    hal::page(req, &st.env_url("populations"), "populations", &matched, |p| view(st, p, Some(&counts)))
}

fn check(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["name"])?;
    check_bool(body, "default")?;
    let name = str_field(body, "name").unwrap_or_default();
    if st.populations.iter().any(|p| p["name"].as_str() == Some(name) && p["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("a population named `{name}` already exists")));
    }
    if let Some(pp) = ref_id(body, "passwordPolicy") {
        if !st.password_policies.contains(pp) {
            return Err(ApiError::invalid_value("passwordPolicy.id", format!("password policy `{pp}` does not exist")));
        }
    }
    Ok(())
}

/// Only one population is the default: setting it on one clears the others.
fn take_default(st: &mut State, rec: &Map<String, Value>) {
    if rec.get("default") == Some(&Value::Bool(true)) {
        st.populations.clear_default_except(rec.get("id").and_then(Value::as_str).unwrap_or_default());
    }
}

fn create(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON])?;
    check(st, &body, None)?;
    let mut rec = new_record(st, &body);
    rec.remove("userCount");
    rec.entry("default").or_insert(Value::Bool(false));
    take_default(st, &rec);
    let rec = Value::Object(rec);
    st.populations.put(rec.clone());
    Ok(Reply::created(view(st, &rec, None)))
}

fn update(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = population(st, id)?.clone();
    check(st, &body, Some(id))?;
    let mut rec = replaced(&old, &body, &["defaultIdentityProvider"]);
    rec.remove("userCount");
    rec.entry("default").or_insert(Value::Bool(false));
    take_default(st, &rec);
    let rec = Value::Object(rec);
    st.populations.put(rec.clone());
    Ok(Reply::ok(view(st, &rec, None)))
}

fn delete(st: &mut State, id: &str) -> Outcome {
    let p = population(st, id)?;
    if p["default"] == json!(true) {
        return Err(ApiError::invalid_value("default", "the default population cannot be deleted; make another population the default first"));
    }
    let n = user_count(st, id);
    if n > 0 {
        return Err(ApiError::request_failed(format!("population `{id}` still contains {n} user(s); move or delete them before deleting the population")));
    }
    st.populations.remove(id);
    st.groups.retain(|g| ref_of(g, "population") != Some(id));
    Ok(Reply::no_content())
}

fn default_idp(p: &Value) -> Value {
    match p.get("defaultIdentityProvider") {
        Some(v) if !v.is_null() => v.clone(),
        _ => json!({ "type": "PING_ONE" }),
    }
}

fn set_default_idp(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    population(st, id)?;
    let link = match str_field(&body, "id") {
        None => Value::Null,
        Some(idp) => {
            let found = st.identity_providers.get(idp).ok_or_else(|| ApiError::invalid_value("id", format!("identity provider `{idp}` does not exist")))?;
            let mut v = id_ref(idp);
            v["type"] = found["type"].clone();
            v
        }
    };
    let mut p = st.populations.get_mut(id).ok_or_else(|| ApiError::not_found("population", id))?;
    p["defaultIdentityProvider"] = link;
    let out = default_idp(&p);
    Ok(Reply::ok(out))
}
