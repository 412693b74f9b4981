//! A sign-on policy's steps (`signOnPolicies/{id}/actions`): listed in evaluation order,
//! created, replaced and deleted. A step must name what its type needs (an identity
//! provider, an agreement, a profiling prompt), and what it names must exist.

use serde_json::{Map, Value};

use super::sign_on_conditions::check_condition;
use super::{new_record, ref_of, replaced, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, check_range, field_at, ref_id, require, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

/// MGMT `EnumSignOnPolicyType`.
const TYPES: [&str; 8] = [
    "LOGIN",
    "MULTI_FACTOR_AUTHENTICATION",
    "IDENTIFIER_FIRST",
    "IDENTITY_PROVIDER",
    "PROGRESSIVE_PROFILING",
    "AGREEMENT",
    "PINGID_WINLOGIN_PASSWORDLESS_AUTHENTICATION",
    "PINGID_AUTHENTICATION",
];

/// `signOnPolicies/{policy}/actions[/{step}]`; the policy itself was found by the caller.
pub(super) fn route(st: &mut State, req: &Req, policy: &str, step: Option<&str>) -> Outcome {
    match (req.method.as_str(), step) {
        ("GET", None) => list(st, req, policy),
        ("POST", None) => save(st, req, policy, None),
        ("GET", Some(step)) => find(st, policy, step).map(|s| Reply::ok(view(st, s))),
        ("PUT", Some(step)) => save(st, req, policy, Some(step)),
        ("DELETE", Some(step)) => {
            find(st, policy, step)?;
            st.sign_on_actions.remove(step);
            Ok(Reply::no_content())
        }
        _ => Err(ApiError::method_not_allowed(&req.method, &req.path)),
    }
}

/// The policy's steps in evaluation order (priority, then age).
fn list(st: &State, req: &Req, policy: &str) -> Outcome {
    let mut steps: Vec<&Value> = st.sign_on_actions.iter().filter(|s| ref_of(s, "signOnPolicy") == Some(policy)).collect();
    steps.sort_by(|a, b| (a["priority"].as_u64(), a["createdAt"].as_str()).cmp(&(b["priority"].as_u64(), b["createdAt"].as_str())));
    let url = st.env_url(&format!("signOnPolicies/{policy}/actions"));
    hal::page(req, &url, "actions", &steps, |s| view(st, s))
}

fn find<'a>(st: &'a State, policy: &str, step: &str) -> Result<&'a Value, ApiError> {
    st.sign_on_actions.get(step).filter(|s| ref_of(s, "signOnPolicy") == Some(policy)).ok_or_else(|| ApiError::not_found("sign-on policy action", step))
}

fn view(st: &State, s: &Value) -> Value {
    let policy = ref_of(s, "signOnPolicy").unwrap_or_default();
    with_self(s.clone(), st.env_url(&format!("signOnPolicies/{policy}/actions/{}", s["id"].as_str().unwrap_or_default())))
}

fn save(st: &mut State, req: &Req, policy: &str, step: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = step.map(|step| find(st, policy, step).cloned()).transpose()?;
    check(st, &body)?;
    if let Some(old) = &old {
        if old["type"] != body["type"] {
            return Err(ApiError::invalid_value("type", format!("a step's type cannot change (it is {}); delete the step and create one of the new type", old["type"])));
        }
    }
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &["signOnPolicy"]),
        None => new_record(st, &body),
    };
    rec.insert("signOnPolicy".into(), super::id_ref(policy));
    let rec = Value::Object(rec);
    st.sign_on_actions.put(rec.clone());
    let out = view(st, &rec);
    Ok(if old.is_some() { Reply::ok(out) } else { Reply::created(out) })
}

/// MGMT `SignOnPolicyActionCommon` and the fields each type requires.
fn check(st: &State, body: &Map<String, Value>) -> Result<(), ApiError> {
    require(body, &["type", "priority"])?;
    check_enum(body, "type", &TYPES)?;
    check_range(body, "priority", 1, None)?;
    check_enum(body, "noDevicesMode", &["BYPASS", "BLOCK"])?;
    for flag in ["enforceLockoutForIdentityProviders", "passUserContext", "disableDeclineOption", "preventMultiplePromptsPerFlow"] {
        check_bool(body, flag)?;
    }
    for object in ["registration", "recovery"] {
        if body.get(object).is_some_and(|v| !v.is_null()) {
            require(body, &[&format!("{object}.enabled")])?;
            if !field_at(body, &format!("{object}.enabled")).is_some_and(Value::is_boolean) {
                return Err(ApiError::invalid_value(&format!("{object}.enabled"), format!("`{object}.enabled` must be a boolean")));
            }
        }
    }
    if let Some(condition) = body.get("condition").filter(|c| !c.is_null()) {
        check_condition(condition, "condition")?;
    }
    let kind = body["type"].as_str().unwrap_or_default();
    // A field of another type's step (SignOnPolicyActionIDP's identityProvider,
    // SignOnPolicyActionMFA's deviceAuthenticationPolicy) is not this step's.
    for (field, owner) in [("identityProvider", "IDENTITY_PROVIDER"), ("deviceAuthenticationPolicy", "MULTI_FACTOR_AUTHENTICATION"), ("agreement", "AGREEMENT")] {
        if kind != owner && body.get(field).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::invalid_value(field, format!("`{field}` belongs to a {owner} step, not to a {kind} step")));
        }
    }
    match kind {
        "MULTI_FACTOR_AUTHENTICATION" => {
            if let Some(id) = ref_id(body, "deviceAuthenticationPolicy") {
                st.device_policies.get(id).ok_or_else(|| ApiError::invalid_value("deviceAuthenticationPolicy.id", format!("no device authentication policy has id `{id}`; list_device_authentication_policies gives the ids")))?;
            }
        }
        "IDENTITY_PROVIDER" => {
            require(body, &["identityProvider.id"])?;
        }
        "AGREEMENT" => require(body, &["agreement.id"])?,
        "PROGRESSIVE_PROFILING" => {
            require(body, &["attributes", "preventMultiplePromptsPerFlow", "promptIntervalSeconds", "promptText"])?;
            check_range(body, "promptIntervalSeconds", 1, None)?;
        }
        _ => {}
    }
    let providers = ref_id(body, "identityProvider").into_iter().chain(body.get("socialProviders").and_then(Value::as_array).into_iter().flatten().filter_map(|p| p.get("id").and_then(Value::as_str)));
    for id in providers {
        st.identity_providers.get(id).ok_or_else(|| ApiError::invalid_value("identityProvider.id", format!("no identity provider has id `{id}`; list_identity_providers gives the ids")))?;
    }
    Ok(())
}
