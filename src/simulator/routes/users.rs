//! Users: CRUD, account lock, enabled, population, linked identity provider,
//! verify status, password, sessions, and the environment's user-activity report.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{id_ref, new_record, not_allowed, patch, ref_of, replaced, with_self};
use crate::simulator::clock::{iso, now_iso};
use super::applications::parse_iso;
use crate::simulator::errors::ApiError;
use crate::scim_filter::Filter;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, ref_id, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::{Holder, Password, RowMut, State};

const USER_IMPORT: &str = "application/vnd.pingidentity.user.import+json";
const LOCK: &str = "application/vnd.pingidentity.account.lock+json";
const UNLOCK: &str = "application/vnd.pingidentity.account.unlock+json";
const PASSWORD_SET: &str = "application/vnd.pingidentity.password.set+json";
const PASSWORD_SET_VALUE: &str = "application/vnd.pingidentity.password.setvalue+json";
const PASSWORD_FORCE_CHANGE: &str = "application/vnd.pingidentity.password.forcechange";
const PASSWORD_FORCE_CHANGE_JSON: &str = "application/vnd.pingidentity.password.forcechange+json";
const PASSWORD_RECOVER: &str = "application/vnd.pingidentity.password.recover+json";
const PASSWORD_SEND_CODE: &str = "application/vnd.pingidentity.password.sendrecoverycode+json";
/// Fields that have their own endpoints (`mfaEnabled` too: turning MFA off is its own,
/// destructive, action), or that only PingOne writes (`lastSignOn`, set by a
/// sign-in): PATCH and PUT leave them alone.
const OWN_ENDPOINTS: [&str; 9] = ["population", "enabled", "password", "identityProvider", "verifyStatus", "account", "lifecycle", "lastSignOn", "mfaEnabled"];
const VERIFY_STATUSES: [&str; 3] = ["ENABLED", "DISABLED", "NOT_INITIATED"];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["userActivities"] => Some(match m {
            "GET" => activities(st, req),
            _ => return not_allowed(req),
        }),
        ["users"] => Some(match m {
            "GET" => list(st, req),
            "POST" => create(st, req),
            _ => return not_allowed(req),
        }),
        ["users", id] => Some(match m {
            "GET" => get(st, req, id),
            "PATCH" => update(st, req, id, false),
            "PUT" => update(st, req, id, true),
            "DELETE" => delete(st, id),
            "POST" => lock(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "enabled"] => Some(match m {
            "GET" => user(st, id).map(|u| Reply::ok(json!({ "enabled": u["enabled"] }))),
            "PUT" => set_enabled(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "population"] => Some(match m {
            "GET" => user_population(st, id),
            "PUT" => move_population(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "identityProvider"] => Some(match m {
            "GET" => user(st, id).map(|u| Reply::ok(json!({ "identityProvider": u["identityProvider"] }))),
            "PUT" => link_idp(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "verifyStatus"] => Some(match m {
            "GET" => user(st, id).map(|u| Reply::ok(json!({ "verifyStatus": u["verifyStatus"] }))),
            "PUT" => set_verify_status(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "sessions"] => Some(match m {
            "GET" => sessions(st, req, id),
            _ => return not_allowed(req),
        }),
        ["users", id, "sessions", session] => Some(match m {
            "GET" => user_session(st, id, session).map(|s| Reply::ok(s.clone())),
            "DELETE" => end_session(st, id, session),
            _ => return not_allowed(req),
        }),
        ["users", id, "password"] => Some(match m {
            "GET" => password_state(st, id).map(Reply::ok),
            "PUT" | "POST" => password(st, req, id),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

pub(crate) fn user<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.users.get(id).ok_or_else(|| ApiError::not_found("user", id))
}

fn user_mut<'a>(st: &'a mut State, id: &str) -> Result<RowMut<'a>, ApiError> {
    st.users.get_mut(id).ok_or_else(|| ApiError::not_found("user", id))
}

fn list(st: &State, req: &Req) -> Outcome {
    let filter = hal::parse_filter(req)?;
    if let Some(filter) = &filter {
        check_filter_attributes(st, filter)?;
        check_filter_operators(filter)?;
    }
    let url = st.env_url("users");
    let needs_groups = filter.as_ref().is_some_and(|f| f.attributes().iter().any(|a| a.to_ascii_lowercase().starts_with("memberofgroups")));
    let view = |u| hal::WithSelf { record: u, href: st.env_url(&format!("users/{}", u["id"].as_str().unwrap_or_default())) };
    let matched: Vec<&Value> = match &filter {
        None => return hal::page_of(req, &url, "users", st.users.iter(), view),
        Some(f) if needs_groups => {
            let roots: Vec<String> = f.attributes().iter().map(|a| a.split('.').next().unwrap_or_default().to_ascii_lowercase()).collect();
            st.users.select(f, |u| f.matches(&with_groups(st, u, &roots)))
        }
        Some(f) => st.users.select(f, |u| f.matches(u)),
    };
    hal::page(req, &url, "users", &matched, view)
}

/// What PingOne lets a users filter name (REFERENCE.md, from its read-all-users and
/// SCIM filter documentation), compared case-insensitively; `name.*` covers every
/// sub-path.
const FILTERABLE: [&str; 19] = [
    "username", "email", "name.*", "enabled", "population.id", "memberOfGroups.id", "externalId", "accountId", "address.*", "mobilePhone",
    "primaryPhone", "nickname", "title", "type", "locale", "preferredLanguage", "timezone", "photo.href", "updatedAt",
];
/// Standard user attributes a filter may not name, and SCIM core names PingOne's users
/// do not have (anything else unknown is taken for a custom attribute, which PingOne
/// filters on).
const STANDARD_ROOTS: [&str; 22] = [
    "id", "mfaenabled", "lastsignon", "account", "createdat", "identityprovider", "verifystatus", "lifecycle", "emailverified",
    "environment", "population", "photo", "memberofgroups", "memberofgroupids", "memberofgroupnames", "name",
    "active", "emails", "phones", "phonenumbers", "displayname", "address",
];

/// Refuses a filter naming an attribute PingOne does not filter users on: a standard
/// one it does not allow, or one no user has, which PingOne's schema would not know
/// (a misspelling such as `usrname` would otherwise quietly match nobody).
fn check_filter_attributes(st: &State, filter: &Filter) -> Result<(), ApiError> {
    for path in filter.attributes() {
        let lower = path.to_ascii_lowercase();
        let root = lower.split('.').next().unwrap_or_default();
        let listed = FILTERABLE.iter().any(|f| match f.strip_suffix(".*") {
            Some(prefix) => root.eq_ignore_ascii_case(prefix) && known_part(&lower),
            None => lower.eq_ignore_ascii_case(f),
        });
        if listed {
            continue;
        }
        let problem = if STANDARD_ROOTS.contains(&root) {
            format!("the attribute `{path}` cannot be used in a users filter")
        } else {
            // A user that has it ends the search early; only a name nobody has pays for the hint.
            if st.users.iter().filter_map(Value::as_object).any(|o| o.keys().any(|k| k.eq_ignore_ascii_case(root))) {
                continue;
            }
            let custom: BTreeSet<&str> = st.users.iter().filter_map(Value::as_object).flat_map(|o| o.keys().map(String::as_str)).collect();
            let names = FILTERABLE.iter().map(|f| f.trim_end_matches(".*")).chain(custom.into_iter().filter(|k| !STANDARD_ROOTS.contains(&k.to_ascii_lowercase().as_str())));
            let near = names.map(|name| (strsim::osa_distance(root, &name.to_ascii_lowercase()), name)).min_by_key(|(distance, _)| *distance).filter(|(distance, _)| *distance <= 2);
            let hint = near.map(|(_, name)| format!(" (did you mean `{name}`?)")).unwrap_or_default();
            format!("the attribute `{path}` is not a user attribute of this environment{hint}")
        };
        return Err(ApiError::invalid_filter(format!(
            "{problem}; filterable: {} (and custom string attributes). Filter on anything else after listing",
            FILTERABLE.join(", ")
        )));
    }
    Ok(())
}

/// Whether `path` (lower case) names a part of a user's name or address that exists:
/// `name.givne` would match nobody rather than be refused.
fn known_part(path: &str) -> bool {
    const PARTS: [&str; 11] = [
        "name.given", "name.family", "name.middle", "name.formatted", "name.honorificprefix", "name.honorificsuffix",
        "address.streetaddress", "address.locality", "address.region", "address.postalcode", "address.countrycode",
    ];
    PARTS.contains(&path)
}

/// Refuses an operator PingOne's users filter does not take on the attribute
/// (REFERENCE.md): `eq`, `sw` and `co` on any, `ew` on the e-mail address and the names,
/// `ge`/`le` on updatedAt (a range), and no `gt` or `lt`.
fn check_filter_operators(filter: &Filter) -> Result<(), ApiError> {
    for comparison in filter.comparisons() {
        let path = comparison.path.to_ascii_lowercase();
        let allowed = match comparison.op {
            "eq" | "sw" | "co" => true,
            "ew" => matches!(path.as_str(), "email" | "name.family" | "name.given"),
            "ge" | "le" => path == "updatedat",
            _ => false,
        };
        if !allowed {
            return Err(ApiError::invalid_filter(format!(
                "`{} {}` cannot be used in a users filter: PingOne takes eq, sw and co, ew only on email, name.family and name.given, and ge or le only on updatedAt; compare anything else in the script after listing",
                comparison.path, comparison.op
            )));
        }
    }
    Ok(())
}

/// What a filter naming the attributes `roots` (lower case) reads of the user: those
/// attributes, and `memberOfGroups: [{id, type}]` (direct and nested). The rest of the
/// record is not copied: on a large tenant every user is viewed for every page.
fn with_groups(st: &State, u: &Value, roots: &[String]) -> Value {
    let mut v: serde_json::Map<String, Value> = u.as_object().into_iter().flatten().filter(|(k, _)| roots.iter().any(|r| k.eq_ignore_ascii_case(r))).map(|(k, x)| (k.clone(), x.clone())).collect();
    let groups: Vec<Value> = st.user_groups(u["id"].as_str().unwrap_or_default()).into_iter().map(|(id, t)| json!({ "id": id, "type": t })).collect();
    v.insert("memberOfGroups".into(), Value::Array(groups));
    Value::Object(v)
}

fn get(st: &State, req: &Req, id: &str) -> Outcome {
    let u = user(st, id)?;
    let mut out = u.clone();
    match req.q("include") {
        None => {}
        Some("memberOfGroupIDs") => {
            out["memberOfGroupIDs"] = st.user_groups(id).into_iter().map(|(g, _)| Value::String(g)).collect();
        }
        Some("memberOfGroupNames") => {
            out["memberOfGroupNames"] = st.user_groups(id).into_iter().filter_map(|(g, _)| st.groups.get(&g).map(|g| g["name"].clone())).collect();
        }
        Some(other) => return Err(ApiError::invalid_value("include", format!("`include` must be memberOfGroupIDs or memberOfGroupNames, got `{other}`"))),
    }
    if req.q("expand") == Some("population") {
        if let Some(p) = ref_of(u, "population").and_then(|p| st.populations.get(p)) {
            out["_embedded"] = json!({ "population": p });
        }
    }
    Ok(Reply::ok(with_self(out, st.env_url(&format!("users/{id}")))))
}

fn check_profile(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["username", "email"])?;
    let username = str_field(body, "username").unwrap_or_default();
    if let Some(other) = st.usernames.get(&username.to_lowercase()).filter(|other| Some(other.as_str()) != except) {
        return Err(ApiError::uniqueness("username", format!("a user with username `{username}` already exists (id {other})")));
    }
    let email = str_field(body, "email").unwrap_or_default();
    if !crate::email::is_address(email) {
        return Err(ApiError::invalid_value("email", format!("`{email}` is not a valid email address")));
    }
    check_bool(body, "enabled")?;
    check_bool(body, "mfaEnabled")?;
    check_lengths(body)
}

/// The longest text PingOne's user schema allows in each field (`maxLength` in the
/// management API spec): a script tried here must not store what a tenant refuses.
const FIELD_LIMITS: [(&str, usize); 16] = [
    ("username", 128),
    ("externalId", 1024),
    ("locale", 256),
    ("mobilePhone", 32),
    ("primaryPhone", 32),
    ("nickname", 256),
    ("title", 256),
    ("type", 256),
    ("name.family", 256),
    ("name.formatted", 256),
    ("name.given", 256),
    ("name.middle", 256),
    ("address.locality", 256),
    ("address.postalCode", 40),
    ("address.region", 256),
    ("address.streetAddress", 256),
];

fn check_lengths(body: &Map<String, Value>) -> Result<(), ApiError> {
    for (field, limit) in FIELD_LIMITS {
        let mut parts = field.split('.');
        let first = body.get(parts.next().unwrap_or_default());
        let text = parts.fold(first, |value, part| value.and_then(|v| v.get(part))).and_then(Value::as_str);
        let length = text.map_or(0, |text| text.chars().count());
        if length > limit {
            return Err(ApiError::size_limit(field, format!("`{field}` may be at most {limit} characters long; it has {length}")));
        }
    }
    Ok(())
}

fn create(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON, USER_IMPORT])?;
    check_profile(st, &body, None)?;
    let population = match ref_id(&body, "population") {
        Some(p) if st.populations.contains(p) => p.to_owned(),
        Some(p) => return Err(ApiError::invalid_value("population.id", format!("population `{p}` does not exist"))),
        None => default_population(st).ok_or_else(|| ApiError::required(&["population.id"]))?,
    };
    let password = match body.get("password") {
        None | Some(Value::Null) => None,
        Some(p) => {
            let value = p.get("value").and_then(Value::as_str).ok_or_else(|| ApiError::required(&["password.value"]))?;
            let bypass = req.media_type().as_deref() == Some(USER_IMPORT);
            if !bypass {
                check_password(st, &population, value, None)?;
            }
            Some(Password { value: value.to_owned(), must_change: p.get("forceChange").and_then(Value::as_bool).unwrap_or(false), last_changed: now_iso() })
        }
    };
    let mut rec = new_record(st, &body);
    rec.remove("password");
    for k in ["account", "lifecycle", "identityProvider", "verifyStatus", "lastSignOn"] {
        rec.remove(k);
    }
    rec.insert("population".into(), id_ref(&population));
    rec.entry("enabled").or_insert(Value::Bool(true));
    rec.entry("mfaEnabled").or_insert(Value::Bool(false));
    rec.insert("emailVerified".into(), Value::Bool(false));
    rec.insert("account".into(), json!({ "canAuthenticate": true, "status": "OK" }));
    rec.insert("identityProvider".into(), json!({ "type": "PING_ONE" }));
    rec.insert("lifecycle".into(), json!({ "status": "ACCOUNT_OK" }));
    rec.insert("verifyStatus".into(), json!("NOT_INITIATED"));
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    st.usernames.insert(rec["username"].as_str().unwrap_or_default().to_lowercase(), id.clone());
    if let Some(p) = password {
        st.passwords.insert(id.clone(), p);
    }
    let rec = Value::Object(rec);
    st.users.put(rec.clone());
    Ok(Reply::created(with_self(rec, st.env_url(&format!("users/{id}")))))
}

fn update(st: &mut State, req: &Req, id: &str, replace: bool) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = user(st, id)?.clone();
    let mut merged = old.as_object().cloned().unwrap_or_default();
    if replace {
        check_profile(st, &body, Some(id))?;
    } else {
        for (k, v) in &body {
            merged.insert(k.clone(), v.clone());
        }
        check_profile(st, &merged, Some(id))?;
    }
    let rec = if replace {
        Value::Object(replaced(&old, &body, &OWN_ENDPOINTS))
    } else {
        let mut rec = old.clone();
        patch(&mut rec, &body, &OWN_ENDPOINTS);
        rec
    };
    let old_name = old["username"].as_str().unwrap_or_default().to_lowercase();
    st.usernames.remove(&old_name);
    st.usernames.insert(rec["username"].as_str().unwrap_or_default().to_lowercase(), id.to_owned());
    st.users.put(rec.clone());
    Ok(Reply::ok(with_self(rec, st.env_url(&format!("users/{id}")))))
}

fn delete(st: &mut State, id: &str) -> Outcome {
    let u = st.users.remove(id).ok_or_else(|| ApiError::not_found("user", id))?;
    st.usernames.remove(&u["username"].as_str().unwrap_or_default().to_lowercase());
    st.memberships.remove(id);
    st.passwords.remove(id);
    st.device_order.remove(id);
    st.devices.retain(|d| ref_of(d, "user") != Some(id));
    st.sessions.retain(|s| ref_of(s, "user") != Some(id));
    st.drop_assignments_of(Holder::User, id);
    Ok(Reply::no_content())
}

/// A user's sessions, newest first.
fn sessions(st: &State, req: &Req, id: &str) -> Outcome {
    user(st, id)?;
    let mut mine: Vec<&Value> = st.sessions.iter().filter(|s| ref_of(s, "user") == Some(id)).collect();
    mine.sort_by(|a, b| b["createdAt"].as_str().cmp(&a["createdAt"].as_str()));
    let url = st.env_url(&format!("users/{id}/sessions"));
    hal::page(req, &url, "sessions", &mine, |s| hal::WithSelf { record: s, href: format!("{url}/{}", s["id"].as_str().unwrap_or_default()) })
}

fn user_session<'a>(st: &'a State, id: &str, session: &str) -> Result<&'a Value, ApiError> {
    user(st, id)?;
    st.sessions.get(session).filter(|s| ref_of(s, "user") == Some(id)).ok_or_else(|| ApiError::not_found("session", session))
}

fn end_session(st: &mut State, id: &str, session: &str) -> Outcome {
    user_session(st, id, session)?;
    st.sessions.remove(session);
    Ok(Reply::no_content())
}

fn lock(st: &mut State, req: &Req, id: &str) -> Outcome {
    req.json(&[LOCK, UNLOCK])?;
    let locking = req.media_type().as_deref() == Some(LOCK);
    let mut u = user_mut(st, id)?;
    u["account"] = if locking {
        json!({ "canAuthenticate": false, "status": "LOCKED", "lockedAt": now_iso() })
    } else {
        // A disabled user stays unable to sign on.
        json!({ "canAuthenticate": u["enabled"] != json!(false), "status": "OK" })
    };
    u["updatedAt"] = json!(now_iso());
    Ok(Reply::ok(u.clone()))
}

fn set_enabled(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["enabled"])?;
    check_bool(&body, "enabled")?;
    let mut u = user_mut(st, id)?;
    u["enabled"] = body["enabled"].clone();
    u["updatedAt"] = json!(now_iso());
    Ok(Reply::ok(json!({ "enabled": body["enabled"] })))
}

fn user_population(st: &State, id: &str) -> Outcome {
    let u = user(st, id)?;
    let p = ref_of(u, "population").unwrap_or_default();
    let pop = st.populations.get(p).ok_or_else(|| ApiError::not_found("population", p))?;
    Ok(Reply::ok(json!({ "id": p, "name": pop["name"] })))
}

fn move_population(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["id"])?;
    let p = str_field(&body, "id").unwrap_or_default().to_owned();
    if !st.populations.contains(&p) {
        return Err(ApiError::invalid_value("id", format!("population `{p}` does not exist")));
    }
    {
        let mut u = user_mut(st, id)?;
        u["population"] = id_ref(&p);
        u["updatedAt"] = json!(now_iso());
    }
    user_population(st, id)
}

fn link_idp(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    let idp_id = body.get("identityProvider").and_then(|v| v.get("id")).and_then(Value::as_str).map(str::to_owned);
    let link = match &idp_id {
        None => json!({ "type": "PING_ONE" }),
        Some(i) => {
            let idp = st.identity_providers.get(i).ok_or_else(|| ApiError::invalid_value("identityProvider.id", format!("identity provider `{i}` does not exist")))?;
            json!({ "id": i, "type": idp["type"] })
        }
    };
    let mut u = user_mut(st, id)?;
    u["identityProvider"] = link.clone();
    Ok(Reply::ok(json!({ "identityProvider": link })))
}

fn set_verify_status(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    require(&body, &["verifyStatus"])?;
    check_enum(&body, "verifyStatus", &VERIFY_STATUSES)?;
    let mut u = user_mut(st, id)?;
    u["verifyStatus"] = body["verifyStatus"].clone();
    Ok(Reply::ok(json!({ "verifyStatus": body["verifyStatus"] })))
}

fn default_population(st: &State) -> Option<String> {
    st.populations.iter().find(|p| p["default"] == json!(true)).or_else(|| st.populations.iter().next()).and_then(|p| p["id"].as_str()).map(str::to_owned)
}

/// The password policy of a population (its own, else the environment default).
fn policy_for<'a>(st: &'a State, population: &str) -> Option<&'a Value> {
    let own = st.populations.get(population).and_then(|p| ref_of(p, "passwordPolicy")).and_then(|id| st.password_policies.get(id));
    own.or_else(|| st.password_policies.iter().find(|p| p["default"] == json!(true)))
}

const COMMON_PASSWORDS: [&str; 6] = ["password", "123456", "12345678", "qwerty", "letmein", "password1"];

fn check_password(st: &State, population: &str, value: &str, user: Option<&Value>) -> Result<(), ApiError> {
    let Some(policy) = policy_for(st, population) else { return Ok(()) };
    let min = policy.pointer("/length/min").and_then(Value::as_u64).unwrap_or(8) as usize;
    let max = policy.pointer("/length/max").and_then(Value::as_u64).unwrap_or(255) as usize;
    let n = value.chars().count();
    let violation = |msg: String| {
        ApiError::new(400, "INVALID_DATA", "The password does not satisfy the password policy.").with_detail("INVALID_VALUE", Some("value"), msg)
    };
    if n < min || n > max {
        return Err(violation(format!("the password must be {min} to {max} characters long (policy `{}`)", policy["name"].as_str().unwrap_or_default())));
    }
    if policy["excludesCommonlyUsed"] == json!(true) && COMMON_PASSWORDS.contains(&value.to_lowercase().as_str()) {
        return Err(violation("the password is too commonly used".into()));
    }
    if policy["excludesProfileData"] == json!(true) {
        if let Some(name) = user.and_then(|u| u["username"].as_str()).filter(|n| n.len() >= 3) {
            if value.to_lowercase().contains(&name.to_lowercase()) {
                return Err(violation("the password must not contain the username".into()));
            }
        }
    }
    Ok(())
}

fn password_state(st: &State, id: &str) -> Result<Value, ApiError> {
    let u = user(st, id)?;
    let policy = policy_for(st, ref_of(u, "population").unwrap_or_default()).map(|p| p["id"].clone()).unwrap_or(Value::Null);
    let mut out = json!({
        "environment": st.env_ref(),
        "user": id_ref(id),
        "passwordPolicy": { "id": policy },
        "status": "NO_PASSWORD",
    });
    if let Some(p) = st.passwords.get(id) {
        out["status"] = json!(if p.must_change { "MUST_CHANGE_PASSWORD" } else { "OK" });
        out["lastChangedAt"] = json!(p.last_changed);
    }
    Ok(out)
}

fn password(st: &mut State, req: &Req, id: &str) -> Outcome {
    let allowed: &[&str] = if req.method == "PUT" {
        &[PASSWORD_SET, PASSWORD_SET_VALUE]
    } else {
        &[PASSWORD_FORCE_CHANGE, PASSWORD_FORCE_CHANGE_JSON, PASSWORD_RECOVER, PASSWORD_SEND_CODE]
    };
    let body = req.json(allowed)?;
    let u = user(st, id)?.clone();
    let media = req.media_type().unwrap_or_default();
    match media.as_str() {
        PASSWORD_SET | PASSWORD_SET_VALUE => {
            require(&body, &["value"])?;
            check_bool(&body, "forceChange")?;
            let value = str_field(&body, "value").unwrap_or_default().to_owned();
            let bypass = ["bypassPolicy", "bypassPasswordPolicy"].iter().any(|k| body.get(*k).and_then(Value::as_bool).unwrap_or(false)) || media == PASSWORD_SET_VALUE;
            if !bypass {
                check_password(st, ref_of(&u, "population").unwrap_or_default(), &value, Some(&u))?;
                let same = st.passwords.get(id).is_some_and(|p| p.value == value);
                let policy_says = policy_for(st, ref_of(&u, "population").unwrap_or_default()).is_some_and(|p| p["notSimilarToCurrent"] == json!(true));
                if same && policy_says {
                    return Err(ApiError::new(400, "INVALID_DATA", "The password does not satisfy the password policy.").with_detail("INVALID_VALUE", Some("value"), "the new password must differ from the current one"));
                }
            }
            let must_change = body.get("forceChange").and_then(Value::as_bool).unwrap_or(false);
            st.passwords.insert(id.to_owned(), Password { value, must_change, last_changed: now_iso() });
        }
        PASSWORD_FORCE_CHANGE | PASSWORD_FORCE_CHANGE_JSON => match st.passwords.get_mut(id) {
            Some(p) => p.must_change = true,
            None => return Err(ApiError::request_failed("the user has no password to force a change of")),
        },
        PASSWORD_RECOVER => {
            require(&body, &["recoveryCode", "newPassword"])?;
            let value = str_field(&body, "newPassword").unwrap_or_default().to_owned();
            check_password(st, ref_of(&u, "population").unwrap_or_default(), &value, Some(&u))?;
            st.passwords.insert(id.to_owned(), Password { value, must_change: false, last_changed: now_iso() });
        }
        _ => {}
    }
    password_state(st, id).map(Reply::ok)
}

/// Environment-wide sign-on counts per time bucket (the documented shape:
/// `startDate`, `endDate`, `userSignOns { successes, failures }`, `passwordResets`),
/// derived from the users so they are stable for a seed.
fn activities(st: &State, req: &Req) -> Outcome {
    const DAY: i64 = 86_400;
    let filter = req.q("filter").unwrap_or_default();
    if !filter.trim().is_empty() {
        Filter::parse(filter).map_err(|e| ApiError::invalid_filter(format!("{} (at character {})", e.message, e.position)))?;
    }
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        let Some(at) = filter.find(name) else { return Ok(None) };
        let quoted = filter[at..].split('"').nth(1).unwrap_or_default();
        parse_iso(quoted).map(Some).ok_or_else(|| ApiError::invalid_filter(format!("`{name}` needs an ISO 8601 date-time, got `{quoted}`")))
    };
    let now = crate::simulator::clock::now_secs();
    let (start, end) = match (date("startDate")?, date("endDate")?) {
        (Some(start), Some(end)) if start < end => (start, end),
        (Some(_), Some(_)) => return Err(ApiError::invalid_filter("`startDate` must come before `endDate`")),
        (None, None) => (now - 30 * DAY, now),
        _ => return Err(ApiError::invalid_filter("a date filter needs both startDate and endDate")),
    };
    let bucket = match filter.split("sampleSize").nth(1).and_then(|rest| rest.split('"').nth(1)) {
        None | Some("DAY") => DAY,
        Some("HOUR") => 3_600,
        Some("WEEK") => 7 * DAY,
        Some(other) => return Err(ApiError::invalid_filter(format!("`sampleSize` must be HOUR, DAY or WEEK, got `{other}`"))),
    };
    let enabled = st.users.iter().filter(|u| u["enabled"] == json!(true)).count() as i64;
    let users = st.users.len() as i64;
    let buckets: Vec<Value> = (0..)
        .map(|n| start + n * bucket)
        .take_while(|from| *from < end)
        .take(400)
        .enumerate()
        .map(|(n, from)| {
            let scale = bucket / 3_600;
            json!({
                "startDate": iso(from),
                "endDate": iso((from + bucket).min(end)),
                "userSignOns": { "successes": enabled * scale / 6 + (n as i64 % 5), "failures": users * scale / 72 + (n as i64 % 3) },
                "passwordResets": users * scale / 480,
            })
        })
        .collect();
    let count = buckets.len();
    let url = st.env_url("userActivities");
    Ok(Reply::ok(json!({
        "_links": { "self": { "href": url } },
        "_embedded": { "userActivities": buckets },
        "count": count,
        "size": count,
    })))
}
