//! The management API, one module per resource group. Each `route` answers the
//! paths it owns (`None` means "not mine") below `/v1/environments/{envId}`.

mod applications;
mod certificates;
mod fido2_policies;
mod groups;
mod identity_providers;
mod memberships;
mod mfa;
mod oidc_settings;
mod platform;
mod policies;
mod populations;
mod resources;
mod role_assignments;
mod sign_on_actions;
mod sign_on_conditions;
mod users;

pub use platform::{environment, org_roles, userinfo};
pub(crate) use applications::SAML_SUBJECT;

use serde_json::{Map, Value};

use super::clock::now_iso;
use super::errors::ApiError;
use super::reply::{Outcome, Req};
use super::store::State;

/// A resource group's router: `None` when the path is not its own.
type Route = fn(&mut State, &Req, &[&str]) -> Option<Outcome>;

/// Dispatches an environment-level call; `rest` is the path after the environment id.
pub fn environment_call(st: &mut State, req: &Req, rest: &[&str]) -> Outcome {
    let routes: [Route; 12] = [
        users::route,
        memberships::route,
        role_assignments::route,
        groups::route,
        populations::route,
        applications::route,
        policies::route,
        identity_providers::route,
        mfa::route,
        fido2_policies::route,
        certificates::route,
        resources::route,
    ];
    for route in routes {
        if let Some(outcome) = route(st, req, rest) {
            return outcome;
        }
    }
    Err(ApiError::no_route(&req.path))
}

/// The 405 for a known path with an unknown method.
pub(crate) fn not_allowed(req: &Req) -> Option<Outcome> {
    Some(Err(ApiError::method_not_allowed(&req.method, &req.path)))
}

/// Fields a client may not set: the server owns them.
const READ_ONLY: [&str; 5] = ["id", "environment", "createdAt", "updatedAt", "_links"];

/// A new record from a request body: the body's fields, minus server-owned ones,
/// plus `id`, `environment`, `createdAt` and `updatedAt`.
pub(crate) fn new_record(st: &mut State, body: &Map<String, Value>) -> Map<String, Value> {
    let mut rec = Map::new();
    rec.insert("id".into(), Value::String(st.new_id()));
    rec.insert("environment".into(), st.env_ref());
    for (k, v) in body {
        if !READ_ONLY.contains(&k.as_str()) {
            rec.insert(k.clone(), v.clone());
        }
    }
    let now = now_iso();
    rec.insert("createdAt".into(), Value::String(now.clone()));
    rec.insert("updatedAt".into(), Value::String(now));
    rec
}

/// PUT semantics: the body replaces every client-settable field of `old`.
pub(crate) fn replaced(old: &Value, body: &Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
    let mut rec = Map::new();
    for k in READ_ONLY.iter().chain(keep) {
        if let Some(v) = old.get(*k) {
            rec.insert((*k).to_owned(), v.clone());
        }
    }
    for (k, v) in body {
        if !READ_ONLY.contains(&k.as_str()) && !keep.contains(&k.as_str()) {
            rec.insert(k.clone(), v.clone());
        }
    }
    rec.insert("updatedAt".into(), Value::String(now_iso()));
    rec
}

/// PATCH semantics: the body's fields overwrite those of `rec`.
pub(crate) fn patch(rec: &mut Value, body: &Map<String, Value>, keep: &[&str]) {
    if let Some(obj) = rec.as_object_mut() {
        for (k, v) in body {
            if !READ_ONLY.contains(&k.as_str()) && !keep.contains(&k.as_str()) {
                obj.insert(k.clone(), v.clone());
            }
        }
        obj.insert("updatedAt".into(), Value::String(now_iso()));
    }
}

/// A `{"id": …}` reference.
pub(crate) fn id_ref(id: &str) -> Value {
    serde_json::json!({ "id": id })
}

/// `rec[name].id`.
pub(crate) fn ref_of<'a>(rec: &'a Value, name: &str) -> Option<&'a str> {
    rec.get(name).and_then(|v| v.get("id")).and_then(Value::as_str)
}

/// Adds `_links.self` to a record shown at `url`, first, as PingOne writes it.
pub(crate) fn with_self(rec: Value, url: String) -> Value {
    match rec {
        Value::Object(fields) => {
            let mut shown = serde_json::Map::with_capacity(fields.len() + 1);
            shown.insert("_links".into(), serde_json::json!({ "self": { "href": url } }));
            shown.extend(fields.into_iter().filter(|(k, _)| k != "_links"));
            Value::Object(shown)
        }
        other => other,
    }
}
