//! FIDO2 (passkey and security key) policies and the environment's MFA settings (MFA
//! `FIDO2Policy`, `MFASettings`). One FIDO2 policy is the default, which cannot be
//! deleted, nor can one an MFA policy names in `fido2.fido2PolicyId`.

use serde_json::{json, Map, Value};

use super::{new_record, not_allowed, replaced, with_self};
use crate::simulator::clock::now_iso;
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, check_int, field_at, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

/// MFA `FIDO2Policy`'s required fields.
const REQUIRED: [&str; 13] = [
    "name", "deviceDisplayName", "relyingPartyId", "attestationRequirements", "authenticatorAttachment", "discoverableCredentials",
    "backupEligibility.allow", "backupEligibility.enforceDuringAuthentication", "mdsAuthenticatorsRequirements.option",
    "mdsAuthenticatorsRequirements.enforceDuringAuthentication", "userDisplayNameAttributes.attributes", "userVerification.option",
    "userVerification.enforceDuringAuthentication",
];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["fido2Policies"] => Some(match m {
            "GET" => {
                let url = st.env_url("fido2Policies");
                hal::filtered(req, st.fido2_policies.iter()).and_then(|matched| hal::page(req, &url, "fido2Policies", &matched, |p| view(st, p)))
            }
            "POST" => save(st, req, None),
            _ => return not_allowed(req),
        }),
        ["fido2Policies", id] => Some(match m {
            "GET" => policy(st, id).map(|p| Reply::ok(view(st, p))),
            "PUT" => save(st, req, Some(id)),
            "DELETE" => delete(st, id),
            _ => return not_allowed(req),
        }),
        ["mfaSettings"] => Some(match m {
            "GET" => Ok(Reply::ok(settings_view(st))),
            "PUT" => save_settings(st, req),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

fn policy<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.fido2_policies.get(id).ok_or_else(|| ApiError::not_found("FIDO2 policy", id))
}

fn view(st: &State, p: &Value) -> Value {
    with_self(p.clone(), st.env_url(&format!("fido2Policies/{}", p["id"].as_str().unwrap_or_default())))
}

fn check(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &REQUIRED)?;
    check_enum(body, "attestationRequirements", &["DIRECT", "NONE"])?;
    check_enum(body, "authenticatorAttachment", &["PLATFORM", "CROSS_PLATFORM", "BOTH"])?;
    check_enum(body, "discoverableCredentials", &["DISCOURAGED", "REQUIRED", "PREFERRED"])?;
    check_enum(body, "userVerification.option", &["REQUIRED", "DISCOURAGED", "PREFERRED"])?;
    check_enum(body, "mdsAuthenticatorsRequirements.option", &["NONE", "AUDIT_ONLY", "GLOBAL", "CERTIFIED", "SPECIFIC"])?;
    for flag in ["default", "backupEligibility.allow", "backupEligibility.enforceDuringAuthentication", "userVerification.enforceDuringAuthentication", "mdsAuthenticatorsRequirements.enforceDuringAuthentication"] {
        check_bool(body, flag)?;
    }
    for (field, most) in [("name", 256), ("deviceDisplayName", 100)] {
        if str_field(body, field).is_some_and(|text| text.chars().count() > most) {
            return Err(ApiError::size_limit(field, format!("`{field}` may be at most {most} characters")));
        }
    }
    let relying_party = str_field(body, "relyingPartyId").unwrap_or_default();
    if relying_party.is_empty() || relying_party.chars().any(|c| c.is_uppercase() || c == '/' || c == ':' || c.is_whitespace()) {
        return Err(ApiError::invalid_value("relyingPartyId", format!("`{relying_party}` is not a domain name in lower case, such as example.com")));
    }
    let attributes = field_at(body, "userDisplayNameAttributes.attributes").and_then(Value::as_array).cloned().unwrap_or_default();
    if attributes.len() > 6 || !attributes.iter().any(|a| a["name"] == "username") {
        return Err(ApiError::invalid_value("userDisplayNameAttributes.attributes", "list at most six user attributes, username among them"));
    }
    // "If you want to use the name attribute … you must also specify the subAttributes."
    if attributes.iter().any(|a| a["name"] == "name" && a["subAttributes"].as_array().is_none_or(Vec::is_empty)) {
        return Err(ApiError::invalid_value("userDisplayNameAttributes.attributes", "the name attribute needs its subAttributes: given and family, or formatted"));
    }
    if field_at(body, "mdsAuthenticatorsRequirements.option") == Some(&json!("SPECIFIC")) && field_at(body, "mdsAuthenticatorsRequirements.allowedAuthenticators").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return Err(ApiError::invalid_value("mdsAuthenticatorsRequirements.allowedAuthenticators", "option SPECIFIC needs the authenticators allowed"));
    }
    if let Some(hints) = body.get("publicKeyCredentialHints").filter(|h| !h.is_null()) {
        let known = hints.as_array().is_some_and(|h| !h.is_empty() && h.iter().all(|h| matches!(h.as_str(), Some("SECURITY_KEY" | "CLIENT_DEVICE" | "HYBRID"))));
        if !known {
            return Err(ApiError::invalid_value("publicKeyCredentialHints", "give one or more of SECURITY_KEY, CLIENT_DEVICE, HYBRID"));
        }
    }
    // "Minimum is one minute, maximum is ten minutes."
    if let Some(timeout) = body.get("userPresenceTimeout").filter(|t| !t.is_null()) {
        let unit = if timeout["timeUnit"] == "MINUTES" { 60 } else { 1 };
        if !timeout["duration"].as_i64().is_some_and(|d| (60..=600).contains(&(d * unit))) {
            return Err(ApiError::invalid_value("userPresenceTimeout.duration", "the user presence timeout is from 1 to 10 minutes"));
        }
    }
    let name = str_field(body, "name").unwrap_or_default();
    if st.fido2_policies.iter().any(|p| p["name"].as_str() == Some(name) && p["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("a FIDO2 policy named `{name}` already exists")));
    }
    Ok(())
}

fn save(st: &mut State, req: &Req, id: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = id.map(|id| policy(st, id).cloned()).transpose()?;
    check(st, &body, id)?;
    if old.as_ref().is_some_and(|o| o["default"] == json!(true)) && body.get("default") == Some(&json!(false)) {
        return Err(ApiError::invalid_value("default", "the default FIDO2 policy stays the default until another policy is made the default"));
    }
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &[]),
        None => new_record(st, &body),
    };
    let was_default = old.as_ref().is_some_and(|o| o["default"] == json!(true));
    let default = was_default || rec.get("default") == Some(&json!(true));
    rec.insert("default".into(), json!(default));
    let rec = Value::Object(rec);
    if default {
        st.fido2_policies.clear_default_except(rec["id"].as_str().unwrap_or_default());
    }
    st.fido2_policies.put(rec.clone());
    let out = view(st, &rec);
    Ok(if old.is_some() { Reply::ok(out) } else { Reply::created(out) })
}

fn delete(st: &mut State, id: &str) -> Outcome {
    if policy(st, id)?["default"] == json!(true) {
        return Err(ApiError::invalid_value("default", "the default FIDO2 policy cannot be deleted"));
    }
    let users = st.device_policies.iter().filter(|p| p.pointer("/fido2/fido2PolicyId").and_then(Value::as_str) == Some(id)).count();
    if users > 0 {
        return Err(ApiError::request_failed(format!("FIDO2 policy `{id}` is used by {users} device authentication policy(ies); change their fido2.fido2PolicyId first")));
    }
    st.fido2_policies.remove(id);
    Ok(Reply::no_content())
}

fn settings_view(st: &State) -> Value {
    let mut settings = st.mfa_settings.clone();
    settings["environment"] = st.env_ref();
    with_self(settings, st.env_url("mfaSettings"))
}

/// MFA `MFASettings`: `pairing` is required, its `maxAllowedDevices` at most 15; a
/// full replace, so `lockout` left out is no lockout.
fn save_settings(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["pairing.maxAllowedDevices", "pairing.pairingKeyFormat"])?;
    check_int(field_at(&body, "pairing.maxAllowedDevices"), "pairing.maxAllowedDevices", 1, Some(15))?;
    check_enum(&body, "pairing.pairingKeyFormat", &["NUMERIC", "ALPHANUMERIC"])?;
    if body.get("lockout").is_some_and(|l| !l.is_null()) {
        require(&body, &["lockout.failureCount"])?;
        check_int(field_at(&body, "lockout.failureCount"), "lockout.failureCount", 1, None)?;
        check_int(field_at(&body, "lockout.durationSeconds"), "lockout.durationSeconds", 1, None)?;
    }
    check_bool(&body, "phoneExtensions.enabled")?;
    check_bool(&body, "users.mfaEnabled")?;
    let mut settings: Map<String, Value> = body.into_iter().filter(|(k, _)| ["pairing", "lockout", "phoneExtensions", "users", "authentication"].contains(&k.as_str())).collect();
    settings.insert("updatedAt".into(), json!(now_iso()));
    st.mfa_settings = Value::Object(settings);
    Ok(Reply::ok(settings_view(st)))
}
