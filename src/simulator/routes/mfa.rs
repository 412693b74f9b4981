//! MFA: a user's devices (pair, activate, nickname, order, delete), the user's
//! mfaEnabled flag, and device authentication policies (the default cannot be
//! deleted).

use serde_json::{json, Map, Value};

use super::{id_ref, new_record, not_allowed, ref_of, replaced, with_self};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::simulator::clock::{now_iso, now_secs};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, check_int, check_range, field_at, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

const ACTIVATE: &str = "application/vnd.pingidentity.device.activate+json";
const REORDER: &str = "application/vnd.pingidentity.devices.reorder+json";
const ORDER_REMOVE: &str = "application/vnd.pingidentity.devices.order.remove+json";
const FIDO2_MIGRATE: &str = "application/vnd.pingidentity.deviceauthenticationpolicy.fido2.migrate+json";
pub(crate) const DEVICE_TYPES: [&str; 7] = ["SMS", "VOICE", "EMAIL", "TOTP", "MOBILE", "FIDO2", "OATH_TOKEN"];
/// The methods every device authentication policy configures.
const METHODS: [&str; 5] = ["sms", "voice", "email", "mobile", "totp"];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["users", user, "devices"] => Some(match m {
            "GET" => list_devices(st, req, user),
            "POST" => pair_or_reorder(st, req, user),
            "DELETE" => remove_order(st, req, user),
            _ => return not_allowed(req),
        }),
        ["users", user, "devices", id] => Some(match m {
            "GET" => device(st, user, id).map(|d| Reply::ok(d.clone())),
            "POST" => activate(st, req, user, id),
            "DELETE" => device(st, user, id).map(|_| ()).map(|()| {
                st.devices.remove(id);
                if let Some(order) = st.device_order.get_mut(*user) {
                    order.retain(|d| d != id);
                }
                Reply::no_content()
            }),
            _ => return not_allowed(req),
        }),
        ["users", user, "devices", id, "nickname"] => Some(match m {
            "PUT" => nickname(st, req, user, id),
            _ => return not_allowed(req),
        }),
        ["users", user, "mfaEnabled"] => Some(match m {
            "GET" => user_rec(st, user).map(|u| Reply::ok(json!({ "mfaEnabled": u["mfaEnabled"] }))),
            "PUT" => set_mfa_enabled(st, req, user),
            _ => return not_allowed(req),
        }),
        ["deviceAuthenticationPolicies"] => Some(match m {
            "GET" => {
                let url = st.env_url("deviceAuthenticationPolicies");
                hal::filtered(req, st.device_policies.iter()).and_then(|matched| hal::page(req, &url, "deviceAuthenticationPolicies", &matched, |v| v))
            }
            "POST" => save_policy(st, req, None),
            _ => return not_allowed(req),
        }),
        ["deviceAuthenticationPolicies", id] => Some(match m {
            "GET" => policy(st, id).map(|p| Reply::ok(p.clone())),
            "PUT" => save_policy(st, req, Some(id)),
            "DELETE" => delete_policy(st, id),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

fn user_rec<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.users.get(id).ok_or_else(|| ApiError::not_found("user", id))
}

fn device<'a>(st: &'a State, user: &str, id: &str) -> Result<&'a Value, ApiError> {
    user_rec(st, user)?;
    st.devices.get(id).filter(|d| ref_of(d, "user") == Some(user)).ok_or_else(|| ApiError::not_found("device", id))
}

fn list_devices(st: &State, req: &Req, user: &str) -> Outcome {
    user_rec(st, user)?;
    let mut mine: Vec<&Value> = st.devices.iter().filter(|d| ref_of(d, "user") == Some(user)).collect();
    if let Some(order) = st.device_order.get(user) {
        mine.sort_by_key(|d| order.iter().position(|o| d["id"].as_str() == Some(o.as_str())).unwrap_or(usize::MAX));
    }
    let matched = hal::filtered(req, mine.into_iter())?;
    hal::page(req, &st.env_url(&format!("users/{user}/devices")), "devices", &matched, |v| v)
}

fn pair_or_reorder(st: &mut State, req: &Req, user: &str) -> Outcome {
    let body = req.json(&[JSON, REORDER])?;
    user_rec(st, user)?;
    if req.media_type().as_deref() == Some(REORDER) {
        require(&body, &["order"])?;
        let ids: Vec<String> = body["order"].as_array().into_iter().flatten().filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned)).collect();
        if let Some(bad) = ids.iter().find(|d| st.devices.get(d).is_none_or(|dev| ref_of(dev, "user") != Some(user))) {
            return Err(ApiError::invalid_value("order", format!("device `{bad}` is not one of the user's devices")));
        }
        st.device_order.insert(user.to_owned(), ids.clone());
        return Ok(Reply::ok(json!({ "order": ids.iter().map(|d| id_ref(d)).collect::<Vec<_>>() })));
    }
    require(&body, &["type"])?;
    check_enum(&body, "type", &DEVICE_TYPES)?;
    match body["type"].as_str() {
        Some("EMAIL") => require(&body, &["email"])?,
        Some("SMS" | "VOICE") => {
            require(&body, &["phone"])?;
            // A number a code can be sent to: its country code after `+`, 8 to 15 digits
            // in all (E.164), written with or without separators (`+1.4155550100`).
            let phone = str_field(&body, "phone").unwrap_or_default();
            let digits = phone.strip_prefix('+').map(|rest| rest.chars().filter(|c| !" .-()".contains(*c)).collect::<String>());
            if !digits.is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())) {
                return Err(ApiError::invalid_value("phone", format!("`{phone}` is not a phone number with its country code, such as +14155550100")));
            }
        }
        _ => {}
    }
    check_enum(&body, "status", &["ACTIVE", "ACTIVATION_REQUIRED"])?;
    let mut rec = new_record(st, &body);
    rec.insert("user".into(), id_ref(user));
    let needs_activation = matches!(body["type"].as_str(), Some("TOTP" | "MOBILE" | "FIDO2" | "OATH_TOKEN"));
    rec.entry("status").or_insert(json!(if needs_activation { "ACTIVATION_REQUIRED" } else { "ACTIVE" }));
    if body["type"] == json!("TOTP") {
        let Secret::Encoded(secret) = Secret::Raw(st.random_text(20).into_bytes()).to_encoded() else { unreachable!("to_encoded encodes") };
        rec.insert("secret".into(), json!(secret));
        rec.insert("keyUri".into(), json!(format!("otpauth://totp/PingOne:{user}?secret={secret}&issuer=PingOne")));
    }
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    let rec = with_self(Value::Object(rec), st.env_url(&format!("users/{user}/devices/{id}")));
    st.devices.put(rec.clone());
    Ok(Reply::created(rec))
}

fn remove_order(st: &mut State, req: &Req, user: &str) -> Outcome {
    req.json(&[ORDER_REMOVE])?;
    user_rec(st, user)?;
    st.device_order.remove(user);
    Ok(Reply::no_content())
}

fn activate(st: &mut State, req: &Req, user: &str, id: &str) -> Outcome {
    let body = req.json(&[ACTIVATE])?;
    require(&body, &["otp"])?;
    let d = device(st, user, id)?;
    if d["status"] == json!("ACTIVE") {
        return Err(ApiError::request_failed(format!("device `{id}` is already active")));
    }
    let otp = str_field(&body, "otp").unwrap_or_default();
    if otp.len() != 6 || !otp.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid_value("otp", "the one-time passcode is not valid"));
    }
    // A TOTP device's passcode is the one its authenticator app shows now (a step either
    // side allowed); the simulator sends no e-mail or SMS, so a sent code is any six digits.
    if let Some(authenticator) = d["secret"].as_str().and_then(totp) {
        if !authenticator.check(otp, now_secs().max(0) as u64) {
            return Err(ApiError::invalid_otp());
        }
    }
    let mut d = st.devices.get_mut(id).ok_or_else(|| ApiError::not_found("device", id))?;
    d["status"] = json!("ACTIVE");
    d["activatedAt"] = json!(now_iso());
    d["updatedAt"] = d["activatedAt"].clone();
    Ok(Reply::ok(d.clone()))
}

/// The authenticator app paired with a TOTP device's base32 secret: six digits every
/// 30 s (RFC 6238, as `keyUri` gives it).
fn totp(secret: &str) -> Option<TOTP> {
    let secret = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    Some(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret))
}

fn nickname(st: &mut State, req: &Req, user: &str, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["nickname"])?;
    device(st, user, id)?;
    let nickname = str_field(&body, "nickname").unwrap_or_default().to_owned();
    if nickname.chars().count() > 100 {
        return Err(ApiError::invalid_value("nickname", "`nickname` must be at most 100 characters"));
    }
    let mut d = st.devices.get_mut(id).ok_or_else(|| ApiError::not_found("device", id))?;
    d["nickname"] = json!(nickname);
    d["updatedAt"] = json!(now_iso());
    Ok(Reply::ok(d.clone()))
}

fn set_mfa_enabled(st: &mut State, req: &Req, user: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["mfaEnabled"])?;
    check_bool(&body, "mfaEnabled")?;
    user_rec(st, user)?;
    let mut u = st.users.get_mut(user).ok_or_else(|| ApiError::not_found("user", user))?;
    u["mfaEnabled"] = body["mfaEnabled"].clone();
    Ok(Reply::ok(json!({ "mfaEnabled": body["mfaEnabled"] })))
}

fn policy<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.device_policies.get(id).ok_or_else(|| ApiError::not_found("device authentication policy", id))
}

fn check_policy(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    let mut required = vec!["name"];
    let enabled: Vec<String> = METHODS.iter().map(|m| format!("{m}.enabled")).collect();
    required.extend(enabled.iter().map(String::as_str));
    require(body, &required)?;
    for m in METHODS {
        if !body[m]["enabled"].is_boolean() {
            return Err(ApiError::invalid_value(&format!("{m}.enabled"), format!("`{m}.enabled` must be a boolean")));
        }
    }
    check_policy_ranges(body)?;
    if let Some(fido2) = field_at(body, "fido2.fido2PolicyId").and_then(Value::as_str) {
        if st.fido2_policies.get(fido2).is_none() {
            return Err(ApiError::invalid_value("fido2.fido2PolicyId", format!("no FIDO2 policy has id `{fido2}`")));
        }
    }
    let name = str_field(body, "name").unwrap_or_default();
    if st.device_policies.iter().any(|p| p["name"].as_str() == Some(name) && p["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("a device authentication policy named `{name}` already exists")));
    }
    Ok(())
}

/// The numeric limits MFA `DeviceAuthenticationPolicy` states: `otpLength` 6 to 10 for
/// the methods that send a passcode, `pushTimeout.duration` 40 to 150 and `pushLimit.count`
/// 1 to 50 per mobile application, `rememberMe.web.lifeTime.duration` at least 1, and
/// `totp.passcodeGracePeriod` from 1 to 10 windows; as their descriptions state,
/// `fido2.failure.count` 1 to 7, its cool-down 2 to 30 minutes, and the remember-me
/// period 1 hour to 90 days.
fn check_policy_ranges(body: &Map<String, Value>) -> Result<(), ApiError> {
    for m in ["sms", "voice", "email", "whatsApp"] {
        check_range(body, &format!("{m}.otp.otpLength"), 6, Some(10))?;
    }
    check_range(body, "totp.passcodeGracePeriod", 1, Some(10))?;
    check_range(body, "rememberMe.web.lifeTime.duration", 1, None)?;
    check_range(body, "fido2.failure.count", 1, Some(7))?;
    check_period(body, "fido2.failure.coolDown", 2 * 60, 30 * 60, "2 minutes to 30 minutes")?;
    check_period(body, "rememberMe.web.lifeTime", 3_600, 90 * 86_400, "1 hour to 90 days")?;
    let apps = field_at(body, "mobile.applications").and_then(Value::as_array).into_iter().flatten();
    for (i, app) in apps.enumerate() {
        check_int(app.pointer("/pushTimeout/duration"), &format!("mobile.applications[{i}].pushTimeout.duration"), 40, Some(150))?;
        check_int(app.pointer("/pushLimit/count"), &format!("mobile.applications[{i}].pushLimit.count"), 1, Some(50))?;
    }
    Ok(())
}

/// Fails unless the period at `path` (`{ duration, timeUnit }`), when present, lasts
/// `min_secs` to `max_secs`.
fn check_period(body: &Map<String, Value>, path: &str, min_secs: i64, max_secs: i64, bounds: &str) -> Result<(), ApiError> {
    let Some(period) = field_at(body, path).filter(|p| !p.is_null()) else { return Ok(()) };
    let unit_secs = match period["timeUnit"].as_str() {
        Some("SECONDS") => 1,
        Some("MINUTES") => 60,
        Some("HOURS") => 3_600,
        Some("DAYS") => 86_400,
        _ => return Ok(()),
    };
    match period["duration"].as_i64() {
        Some(n) if (min_secs..=max_secs).contains(&(n * unit_secs)) => Ok(()),
        _ => Err(ApiError::invalid_value(&format!("{path}.duration"), format!("`{path}` must be from {bounds}, got {} {}", period["duration"], period["timeUnit"].as_str().unwrap_or_default()))),
    }
}

fn save_policy(st: &mut State, req: &Req, id: Option<&str>) -> Outcome {
    let allowed: &[&str] = if id.is_none() { &[JSON, FIDO2_MIGRATE] } else { &[JSON] };
    let body = req.json(allowed)?;
    if req.media_type().as_deref() == Some(FIDO2_MIGRATE) {
        let url = st.env_url("deviceAuthenticationPolicies");
        let all: Vec<&Value> = st.device_policies.iter().collect();
        return hal::page(req, &url, "deviceAuthenticationPolicies", &all, |v| v);
    }
    let old = match id {
        Some(id) => Some(policy(st, id)?.clone()),
        None => None,
    };
    check_policy(st, &body, id)?;
    if old.as_ref().is_some_and(|o| o["default"] == json!(true)) && body.get("default") == Some(&json!(false)) {
        return Err(ApiError::invalid_value("default", "the default device authentication policy stays the default until another policy is made the default"));
    }
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &["forSignOnPolicy"]),
        None => new_record(st, &body),
    };
    if old.as_ref().is_some_and(|o| o["default"] == json!(true)) {
        rec.insert("default".into(), json!(true));
    }
    rec.entry("default").or_insert(json!(false));
    // Read-only and deprecated, but listed as required in every response.
    rec.insert("forSignOnPolicy".into(), json!(old.as_ref().is_some_and(|o| o["forSignOnPolicy"] == json!(true))));
    if rec["default"] == json!(true) {
        // "The default for the environment": one, as for password and sign-on policies.
        st.device_policies.clear_default_except(rec["id"].as_str().unwrap_or_default());
    }
    // PingOne's documented default when the field is not provided.
    rec.entry("newDeviceNotification").or_insert(json!("EMAIL_THEN_SMS"));
    let rec_id = rec["id"].as_str().unwrap_or_default().to_owned();
    let rec = with_self(Value::Object(rec), st.env_url(&format!("deviceAuthenticationPolicies/{rec_id}")));
    st.device_policies.put(rec.clone());
    Ok(if old.is_some() { Reply::ok(rec) } else { Reply::created(rec) })
}

fn delete_policy(st: &mut State, id: &str) -> Outcome {
    if policy(st, id)?["default"] == json!(true) {
        return Err(ApiError::invalid_value("default", "the default device authentication policy cannot be deleted"));
    }
    let steps = st.sign_on_actions.iter().filter(|s| ref_of(s, "deviceAuthenticationPolicy") == Some(id)).count();
    if steps > 0 {
        return Err(ApiError::request_failed(format!("device authentication policy `{id}` is used by {steps} sign-on policy action(s); change them to another policy first")));
    }
    st.device_policies.remove(id);
    Ok(Reply::no_content())
}
