//! API resources (what an application's grant gives access to) and their scopes, read
//! only: the seeded OpenID Connect, PingOne API and custom resources.

use serde_json::{json, Value};

use super::not_allowed;
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{Outcome, Reply, Req};
use crate::simulator::store::State;

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["resources"] => Some(match m {
            "GET" => {
                let listed: Vec<Value> = st.resources.iter().map(without_scopes).collect();
                hal::page_all(req, &st.env_url("resources"), "resources", listed.iter())
            }
            _ => return not_allowed(req),
        }),
        ["resources", id] => Some(match m {
            "GET" => st.resources.get(id).map(|r| Reply::ok(without_scopes(r))).ok_or_else(|| ApiError::not_found("resource", id)),
            _ => return not_allowed(req),
        }),
        ["resources", id, "scopes"] => Some(match m {
            "GET" => {
                let Some(resource) = st.resources.get(id) else { return Some(Err(ApiError::not_found("resource", id))) };
                let scopes: Vec<Value> = resource["scopes"].as_array().into_iter().flatten().map(|s| scope_of(resource, s)).collect();
                hal::page_all(req, &st.env_url(&format!("resources/{id}/scopes")), "scopes", scopes.iter())
            }
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

/// A resource as PingOne lists it: its scopes are read from their own path.
fn without_scopes(resource: &Value) -> Value {
    let mut listed = resource.clone();
    if let Some(fields) = listed.as_object_mut() {
        fields.remove("scopes");
    }
    listed
}

/// A scope as its own record, naming its resource.
fn scope_of(resource: &Value, scope: &Value) -> Value {
    json!({ "id": scope["id"], "name": scope["name"], "resource": { "id": resource["id"] }, "environment": resource["environment"] })
}
