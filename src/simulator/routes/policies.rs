//! Password policies and sign-on policies. The default policy of each kind cannot
//! be deleted, and a sign-on policy still assigned to an application cannot either.
//! A sign-on policy's steps are in `sign_on_actions`.

use serde_json::{json, Map, Value};

use super::{new_record, not_allowed, ref_of, replaced, sign_on_actions, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_range, field_at, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::{State, Table};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Password,
    SignOn,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Password => "passwordPolicies",
            Kind::SignOn => "signOnPolicies",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Kind::Password => "password policy",
            Kind::SignOn => "sign-on policy",
        }
    }
    fn table(self, st: &State) -> &Table {
        match self {
            Kind::Password => &st.password_policies,
            Kind::SignOn => &st.sign_on_policies,
        }
    }
    fn table_mut(self, st: &mut State) -> &mut Table {
        match self {
            Kind::Password => &mut st.password_policies,
            Kind::SignOn => &mut st.sign_on_policies,
        }
    }
}

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let (kind, tail) = match rest {
        ["passwordPolicies", tail @ ..] => (Kind::Password, tail),
        ["signOnPolicies", tail @ ..] => (Kind::SignOn, tail),
        _ => return None,
    };
    Some(match (req.method.as_str(), tail) {
        ("GET", []) => {
            let url = st.env_url(kind.path());
            hal::filtered(req, kind.table(st).iter()).and_then(|m| hal::page(req, &url, kind.path(), &m, |p| view(st, kind, p)))
        }
        ("POST", []) => save(st, req, kind, None),
        ("GET", [id]) => find(st, kind, id).map(|p| Reply::ok(view(st, kind, p))),
        ("PUT", [id]) => save(st, req, kind, Some(id)),
        ("DELETE", [id]) => delete(st, kind, id),
        (_, [] | [_]) => return not_allowed(req),
        (_, [id, "actions", step @ ..]) if kind == Kind::SignOn && step.len() <= 1 => {
            match find(st, kind, id).err() {
                Some(missing) => Err(missing),
                None => sign_on_actions::route(st, req, id, step.first().copied()),
            }
        }
        _ => Err(ApiError::no_route(&req.path)),
    })
}

fn find<'a>(st: &'a State, kind: Kind, id: &str) -> Result<&'a Value, ApiError> {
    kind.table(st).get(id).ok_or_else(|| ApiError::not_found(kind.what(), id))
}

fn view(st: &State, kind: Kind, p: &Value) -> Value {
    let id = p["id"].as_str().unwrap_or_default();
    let mut out = with_self(p.clone(), st.env_url(&format!("{}/{id}", kind.path())));
    if kind == Kind::Password {
        let n = st.populations.iter().filter(|pop| ref_of(pop, "passwordPolicy") == Some(id)).count();
        out["populationCount"] = json!(n);
    }
    out
}

fn check(st: &State, kind: Kind, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    match kind {
        Kind::Password => {
            require(body, &["name", "excludesProfileData", "excludesCommonlyUsed", "notSimilarToCurrent"])?;
            for f in ["excludesProfileData", "excludesCommonlyUsed", "notSimilarToCurrent", "default", "bypassPolicy"] {
                check_bool(body, f)?;
            }
            check_password_limits(body)?;
        }
        Kind::SignOn => {
            require(body, &["name"])?;
            check_bool(body, "default")?;
            check_sign_on_name(str_field(body, "name").unwrap_or_default())?;
        }
    }
    let name = str_field(body, "name").unwrap_or_default();
    if kind.table(st).iter().any(|p| p["name"].as_str() == Some(name) && p["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("a {} named `{name}` already exists", kind.what())));
    }
    Ok(())
}

/// The limits of MGMT `PasswordPolicy` and its sub-objects, by their `minimum`/`maximum`.
fn check_password_limits(body: &Map<String, Value>) -> Result<(), ApiError> {
    let ranges: [(&str, i64, Option<i64>); 11] = [
        ("length.min", 8, Some(32)),
        ("minAgeDays", 1, None),
        ("maxAgeDays", 1, None),
        ("history.count", 1, None),
        ("history.retentionDays", 1, None),
        ("lockout.failureCount", 1, None),
        ("lockout.durationSeconds", 1, None),
        ("alphabetSequenceRule.maxLength", 2, Some(3)),
        ("numberSequenceRule.maxLength", 2, Some(3)),
        ("qwertySequenceRule.maxLength", 3, Some(3)),
        ("shiftedNumberRowSequenceRule.maxLength", 3, Some(3)),
    ];
    for (path, min, max) in ranges {
        check_range(body, path, min, max)?;
    }
    let int = |path: &str| field_at(body, path).and_then(Value::as_i64);
    if let Some(max) = int("length.max") {
        // `length.min` defaults to 8.
        let min = int("length.min").unwrap_or(8);
        if max < min {
            return Err(ApiError::invalid_value("length.max", format!("`length.max` ({max}) must not be below `length.min` ({min})")));
        }
    }
    // "The value must be greater than the sum of minAgeDays (if set) + 21 (the expiration
    // warning interval for passwords)."
    if let Some(max_age) = int("maxAgeDays") {
        let floor = int("minAgeDays").unwrap_or(0) + 21;
        if max_age <= floor {
            return Err(ApiError::invalid_value("maxAgeDays", format!("`maxAgeDays` must be greater than `minAgeDays` (if set) + 21, that is more than {floor}, got {max_age}")));
        }
    }
    check_min_characters(body)
}

/// MGMT `PasswordPolicy_minCharacters`: "The only allowed key values are" these four sets,
/// each with a count of at least 0.
fn check_min_characters(body: &Map<String, Value>) -> Result<(), ApiError> {
    const SETS: [&str; 4] = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", "~!@#$%^&*()-_=+[]{}|;:,.<>/?"];
    let Some(counts) = body.get("minCharacters").filter(|v| !v.is_null()) else { return Ok(()) };
    let Some(counts) = counts.as_object() else {
        return Err(ApiError::invalid_value("minCharacters", "`minCharacters` must be an object of character set to count"));
    };
    for (set, count) in counts {
        if !SETS.contains(&set.as_str()) {
            return Err(ApiError::invalid_value("minCharacters", format!("`{set}` is not an allowed key of `minCharacters`; use one of {}", SETS.map(|k| format!("`{k}`")).join(", "))));
        }
        if count.as_i64().is_none_or(|n| n < 0) {
            return Err(ApiError::invalid_value("minCharacters", format!("the count for `{set}` must be an integer of at least 0, got {count}")));
        }
    }
    Ok(())
}

/// MGMT `SignOnPolicy.name`: letters, digits, underscore, hyphen, period and space
/// (`^[a-zA-Z0-9_. -]+$`), or an absolute URI when it contains a `:`.
fn check_sign_on_name(name: &str) -> Result<(), ApiError> {
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_. -".contains(c));
    let uri = name.contains(':') && url::Url::parse(name).is_ok();
    if plain || uri {
        return Ok(());
    }
    Err(ApiError::invalid_value("name", format!("`{name}` is not a valid sign-on policy name: use only letters, digits, underscore, hyphen, period and space (^[a-zA-Z0-9_. -]+$), or an absolute URI")))
}

fn save(st: &mut State, req: &Req, kind: Kind, id: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = match id {
        Some(id) => Some(find(st, kind, id)?.clone()),
        None => None,
    };
    check(st, kind, &body, id)?;
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &[]),
        None => new_record(st, &body),
    };
    rec.remove("populationCount");
    if kind == Kind::Password {
        rec.entry("length").or_insert(json!({ "min": 8, "max": 255 }));
    }
    let was_default = old.as_ref().is_some_and(|o| o["default"] == json!(true));
    if was_default && rec.get("default") != Some(&Value::Bool(true)) {
        return Err(ApiError::invalid_value("default", format!("the default {} stays the default until another policy is made the default", kind.what())));
    }
    rec.entry("default").or_insert(Value::Bool(false));
    if rec["default"] == json!(true) {
        let id = rec["id"].as_str().unwrap_or_default().to_owned();
        kind.table_mut(st).clear_default_except(&id);
    }
    let rec = Value::Object(rec);
    kind.table_mut(st).put(rec.clone());
    let out = view(st, kind, &rec);
    Ok(if old.is_some() { Reply::ok(out) } else { Reply::created(out) })
}

fn delete(st: &mut State, kind: Kind, id: &str) -> Outcome {
    let p = find(st, kind, id)?;
    if p["default"] == json!(true) {
        return Err(ApiError::invalid_value("default", format!("the default {} cannot be deleted", kind.what())));
    }
    match kind {
        Kind::SignOn => {
            let n = st.sop_assignments.iter().filter(|a| ref_of(a, "signOnPolicy") == Some(id)).count();
            if n > 0 {
                return Err(ApiError::request_failed(format!("sign-on policy `{id}` is assigned to {n} application(s); remove those assignments first")));
            }
        }
        Kind::Password => {
            let pops: Vec<String> = st.populations.iter().filter(|p| ref_of(p, "passwordPolicy") == Some(id)).filter_map(|p| p["id"].as_str().map(str::to_owned)).collect();
            for pop in pops {
                if let Some(p) = st.populations.get_mut(&pop).as_deref_mut().and_then(Value::as_object_mut) {
                    p.remove("passwordPolicy");
                }
            }
        }
    }
    if kind == Kind::SignOn {
        let steps: Vec<String> = st.sign_on_actions.iter().filter(|s| ref_of(s, "signOnPolicy") == Some(id)).filter_map(|s| s["id"].as_str().map(str::to_owned)).collect();
        for step in steps {
            st.sign_on_actions.remove(&step);
        }
    }
    kind.table_mut(st).remove(id);
    Ok(Reply::no_content())
}
