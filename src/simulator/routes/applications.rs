//! Applications and what hangs off them: the client secret (a rotation given
//! `previous.expiresAt` keeps the previous one until then or until it is retired;
//! without it the old one stops working at once, as PingOne's does), resource grants, sign-on policy
//! assignments and attribute mappings. Role assignments are in `role_assignments.rs`.

use serde_json::{json, Map, Value};

use super::oidc_settings::check_oidc;
use super::{id_ref, new_record, not_allowed, ref_of, replaced, with_self};
use crate::simulator::clock::{iso, now_secs};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, check_non_empty, check_range, field_at, ref_id, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::{AppSecret, Holder, PreviousSecret, State, Subject, Table};

const SECRET_IMPORT: &str = "application/vnd.pingidentity.secret+json";
pub(crate) const PROTOCOLS: [&str; 4] = ["OPENID_CONNECT", "SAML", "WS_FED", "EXTERNAL_LINK"];
pub(crate) const TYPES: [&str; 11] = [
    "WEB_APP", "NATIVE_APP", "SINGLE_PAGE_APP", "WORKER", "SERVICE", "CUSTOM_APP", "PING_ONE_SELF_SERVICE", "PING_ONE_ADMIN_CONSOLE", "PING_ONE_PORTAL", "TEMPLATE_APP", "PORTAL_LINK_APP",
];
const WS_FED_SIGNING: [&str; 6] = ["SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA"];
const AUTH_METHODS: [&str; 5] = ["NONE", "CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "PRIVATE_KEY_JWT", "CLIENT_SECRET_JWT"];
/// MGMT `ApplicationAttributeMapping.name`: reserved for OpenID Connect applications.
const OIDC_RESERVED_CLAIMS: [&str; 17] = ["acr", "amr", "at_hash", "aud", "auth_time", "azp", "client_id", "exp", "iat", "iss", "jti", "nbf", "nonce", "org", "scope", "sid", "sub"];
/// Whether every `${` in a mapping's value has its `}` (PingOne's expression parser
/// refuses `${user.email`, review 57 M3).
fn placeholders_closed(value: &str) -> bool {
    value.split("${").skip(1).all(|rest| rest.contains('}'))
}

/// MGMT `ApplicationAttributeMapping.name`: the reserved name of a SAML application's
/// subject mapping.
pub(crate) const SAML_SUBJECT: &str = "samlAssertion.subject";
/// How long a rotated-out secret may stay valid (the spec: "Supported time range is 1
/// minute to 30 days").
const MIN_PREVIOUS_SECS: i64 = 60;
const MAX_PREVIOUS_SECS: i64 = 30 * 86_400;

/// The sub-resources of an application kept as tables of records.
#[derive(Clone, Copy)]
enum Child {
    Grant,
    Sop,
    Attribute,
}

impl Child {
    fn path(self) -> &'static str {
        match self {
            Child::Grant => "grants",
            Child::Sop => "signOnPolicyAssignments",
            Child::Attribute => "attributes",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Child::Grant => "grant",
            Child::Sop => "sign-on policy assignment",
            Child::Attribute => "attribute mapping",
        }
    }
    fn table(self, st: &State) -> &Table {
        match self {
            Child::Grant => &st.grants,
            Child::Sop => &st.sop_assignments,
            Child::Attribute => &st.app_attributes,
        }
    }
    fn table_mut(self, st: &mut State) -> &mut Table {
        match self {
            Child::Grant => &mut st.grants,
            Child::Sop => &mut st.sop_assignments,
            Child::Attribute => &mut st.app_attributes,
        }
    }
}

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["applications"] => Some(match m {
            "GET" => {
                let url = st.env_url("applications");
                hal::filtered(req, st.applications.iter()).and_then(|matched| hal::page(req, &url, "applications", &matched, |a| view(st, a)))
            }
            "POST" => create(st, req),
            _ => return not_allowed(req),
        }),
        ["applications", id] => Some(match m {
            "GET" => app(st, id).map(|a| Reply::ok(view(st, a))),
            "PUT" => update(st, req, id),
            "DELETE" => delete(st, id),
            _ => return not_allowed(req),
        }),
        ["applications", id, "secret"] => Some(match m {
            "GET" => read_secret(st, id),
            "POST" => rotate_secret(st, req, id),
            "DELETE" => retire_previous(st, id),
            _ => return not_allowed(req),
        }),
        ["applications", app_id, child, tail @ ..] => {
            let child = match *child {
                "grants" => Child::Grant,
                "signOnPolicyAssignments" => Child::Sop,
                "attributes" => Child::Attribute,
                _ => return None,
            };
            Some(match (m, tail) {
                ("GET", []) => list_children(st, req, app_id, child),
                ("POST", []) => save_child(st, req, app_id, child, None),
                ("GET", [id]) => find_child(st, app_id, child, id).map(|c| Reply::ok(c.clone())),
                ("PUT", [id]) => save_child(st, req, app_id, child, Some(id)),
                ("DELETE", [id]) => delete_child(st, app_id, child, id),
                (_, [] | [_]) => return not_allowed(req),
                _ => Err(ApiError::no_route(&req.path)),
            })
        }
        _ => None,
    }
}

fn app<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.applications.get(id).ok_or_else(|| ApiError::not_found("application", id))
}

fn view(st: &State, a: &Value) -> Value {
    with_self(a.clone(), st.env_url(&format!("applications/{}", a["id"].as_str().unwrap_or_default())))
}

/// Whether an application of this shape has a client secret.
pub(crate) fn has_secret(a: &Value) -> bool {
    a["protocol"] == json!("OPENID_CONNECT") && a["tokenEndpointAuthMethod"].as_str().is_some_and(|m| m != "NONE" && m != "PRIVATE_KEY_JWT")
}

fn check(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["name", "enabled", "protocol", "type"])?;
    check_bool(body, "enabled")?;
    check_enum(body, "protocol", &PROTOCOLS)?;
    check_enum(body, "type", &TYPES)?;
    check_enum(body, "tokenEndpointAuthMethod", &AUTH_METHODS)?;
    match body["protocol"].as_str() {
        Some("OPENID_CONNECT") => {
            require(body, &["tokenEndpointAuthMethod"])?;
            check_oidc(body)?;
            check_client_keys(body)?;
        }
        Some("SAML") => check_saml(st, body, except)?,
        Some("WS_FED") => check_ws_fed(body)?,
        Some("EXTERNAL_LINK") => require(body, &["homePageUrl"])?,
        _ => {}
    }
    if body["type"] == json!("WORKER") && body["protocol"] != json!("OPENID_CONNECT") {
        return Err(ApiError::invalid_value("protocol", "a WORKER application must use OPENID_CONNECT"));
    }
    check_access_control(st, body)
}

/// MGMT `ApplicationOIDC.jwks` / `jwksUrl`: one of them "is required when
/// `tokenEndpointAuthMethod` is `PRIVATE_KEY_JWT`"; `jwksUrl` "supports `https://` only".
fn check_client_keys(body: &Map<String, Value>) -> Result<(), ApiError> {
    let given = |field: &str| str_field(body, field).is_some_and(|v| !v.trim().is_empty());
    if let Some(url) = str_field(body, "jwksUrl").filter(|u| !u.trim().is_empty()) {
        if url::Url::parse(url).map_or(true, |u| u.scheme() != "https") {
            return Err(ApiError::invalid_value("jwksUrl", format!("`{url}` is not an https:// URL; jwksUrl supports https:// only")));
        }
    }
    if str_field(body, "tokenEndpointAuthMethod") == Some("PRIVATE_KEY_JWT") && !given("jwks") && !given("jwksUrl") {
        return Err(ApiError::invalid_value("jwks", "tokenEndpointAuthMethod PRIVATE_KEY_JWT needs the client's public keys: give jwks (a JWKS string) or jwksUrl (an https:// URL serving it)"));
    }
    Ok(())
}

/// MGMT `ApplicationSAML`: at least one ACS URL, and an `spEntityId` "unique within the environment";
/// `assertionDuration`, "the assertion validity duration in seconds", is at least 1.
fn check_saml(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["acsUrls", "assertionDuration", "spEntityId"])?;
    check_non_empty(body, "acsUrls")?;
    for (at, url) in body.get("acsUrls").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let text = url.as_str().unwrap_or_default();
        if url::Url::parse(text).map_or(true, |u| u.cannot_be_a_base()) {
            return Err(ApiError::invalid_value(&format!("acsUrls[{at}]"), format!("`{text}` is not an absolute URL (an Assertion Consumer Service URL, such as https://sp.example.com/saml/acs)")));
        }
    }
    check_range(body, "assertionDuration", 1, None)?;
    let entity = str_field(body, "spEntityId").unwrap_or_default();
    let taken = st.applications.iter().find(|a| a["protocol"] == json!("SAML") && a["spEntityId"].as_str() == Some(entity) && a["id"].as_str() != except);
    if let Some(other) = taken {
        return Err(ApiError::uniqueness("spEntityId", format!("`spEntityId` `{entity}` is already used by application `{}`; give each SAML application its own", other["name"].as_str().unwrap_or_default())));
    }
    Ok(())
}

/// MGMT `ApplicationWSFED`: `domainName`, `idpSigning` ({algorithm, key.id}) and `replyUrl`
/// are required; `assertionDuration` is 300 to 3932100 seconds.
fn check_ws_fed(body: &Map<String, Value>) -> Result<(), ApiError> {
    require(body, &["domainName", "idpSigning.algorithm", "idpSigning.key.id", "replyUrl"])?;
    check_enum(body, "idpSigning.algorithm", &WS_FED_SIGNING)?;
    check_range(body, "assertionDuration", 300, Some(3_932_100))
}

/// MGMT `Application_accessControl`: `role.type` is ADMIN_USERS_ONLY; `group.type` is
/// ANY_GROUP or ALL_GROUPS over a non-empty list of existing groups.
fn check_access_control(st: &State, body: &Map<String, Value>) -> Result<(), ApiError> {
    let present = |path: &str| field_at(body, path).is_some_and(|v| !v.is_null());
    if present("accessControl.role") {
        require(body, &["accessControl.role.type"])?;
        check_enum(body, "accessControl.role.type", &["ADMIN_USERS_ONLY"])?;
    }
    if present("accessControl.group") {
        require(body, &["accessControl.group.type", "accessControl.group.groups"])?;
        check_enum(body, "accessControl.group.type", &["ANY_GROUP", "ALL_GROUPS"])?;
        check_non_empty(body, "accessControl.group.groups")?;
        for g in field_at(body, "accessControl.group.groups").and_then(Value::as_array).into_iter().flatten() {
            let gid = g.get("id").and_then(Value::as_str).unwrap_or_default();
            if !st.groups.contains(gid) {
                return Err(ApiError::invalid_value("accessControl.group.groups", format!("group `{gid}` does not exist; give each group as {{\"id\": …}} with an id from list_groups")));
            }
        }
    }
    Ok(())
}

fn create(st: &mut State, req: &Req) -> Outcome {
    let body = req.json(&[JSON])?;
    check(st, &body, None)?;
    let imported = imported_secret(st, &body)?;
    let mut rec = new_record(st, &body);
    rec.remove("clientSecret");
    if rec["protocol"] == json!("OPENID_CONNECT") && !rec.contains_key("grantTypes") {
        let grants = match rec["type"].as_str() {
            Some("WORKER" | "SERVICE") => json!(["CLIENT_CREDENTIALS"]),
            _ => {
                rec.entry("responseTypes").or_insert(json!(["CODE"]));
                json!(["AUTHORIZATION_CODE"])
            }
        };
        rec.insert("grantTypes".into(), grants);
    }
    saml_defaults(&mut rec);
    let rec = Value::Object(rec);
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    if has_secret(&rec) {
        let secret = imported.unwrap_or_else(|| st.random_text(64));
        st.secrets.insert(id.clone(), AppSecret { current: secret, previous: None });
    }
    st.applications.put(rec.clone());
    add_core_mapping(st, &rec);
    Ok(Reply::created(view(st, &rec)))
}

/// The CORE subject mapping PingOne gives every new OIDC (`sub`) and SAML
/// (`samlAssertion.subject`) application; it can be updated but not removed.
fn add_core_mapping(st: &mut State, app: &Value) {
    let app_id = app["id"].as_str().unwrap_or_default().to_owned();
    let mut rec = match app["protocol"].as_str() {
        Some("OPENID_CONNECT") => json!({ "name": "sub", "idToken": true, "userInfo": true }),
        Some("SAML") => json!({ "name": SAML_SUBJECT }),
        _ => return,
    };
    rec["value"] = json!("${user.id}");
    rec["required"] = json!(true);
    rec["mappingType"] = json!("CORE");
    let Value::Object(fields) = rec else { return };
    let mut rec = new_record(st, &fields);
    rec.insert("application".into(), id_ref(&app_id));
    let rec_id = rec["id"].as_str().unwrap_or_default().to_owned();
    let rec = with_self(Value::Object(rec), st.env_url(&format!("applications/{app_id}/attributes/{rec_id}")));
    st.app_attributes.put(rec);
}

/// MGMT `ApplicationSAML`: `assertionSigned` defaults to true, `responseSigned` to false.
fn saml_defaults(rec: &mut Map<String, Value>) {
    if rec.get("protocol") == Some(&json!("SAML")) {
        rec.entry("assertionSigned").or_insert(Value::Bool(true));
        rec.entry("responseSigned").or_insert(Value::Bool(false));
    }
}

/// The secret of an OIDC application migrated with its own `clientId` and `clientSecret`
/// (MGMT `ApplicationOIDC`: each is required when the other is given, at least 8
/// characters; the secret is write-only, read back from `/secret`).
fn imported_secret(st: &State, body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    if body["protocol"] != json!("OPENID_CONNECT") || (body.get("clientId").is_none() && body.get("clientSecret").is_none()) {
        return Ok(None);
    }
    require(body, &["clientId", "clientSecret"])?;
    for field in ["clientId", "clientSecret"] {
        if str_field(body, field).unwrap_or_default().chars().count() < 8 {
            return Err(ApiError::invalid_value(field, format!("an imported `{field}` must be at least 8 characters long")));
        }
    }
    let client_id = str_field(body, "clientId").unwrap_or_default();
    if st.applications.contains(client_id) || st.applications.iter().any(|a| a["clientId"].as_str() == Some(client_id)) {
        return Err(ApiError::uniqueness("clientId", format!("client id `{client_id}` is already in use; an imported client id must be unique")));
    }
    Ok(str_field(body, "clientSecret").map(str::to_owned))
}

fn update(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = app(st, id)?.clone();
    check(st, &body, Some(id))?;
    for field in ["protocol", "type"] {
        if body[field] != old[field] {
            return Err(ApiError::invalid_value(field, format!("`{field}` cannot be changed (it is {})", old[field])));
        }
    }
    // `clientSecret` is set on creation only and never kept on the record.
    let mut rec = replaced(&old, &body, &["clientSecret"]);
    saml_defaults(&mut rec);
    let rec = Value::Object(rec);
    if has_secret(&rec) && !st.secrets.contains_key(id) {
        let secret = st.random_text(64);
        st.secrets.insert(id.to_owned(), AppSecret { current: secret, previous: None });
    }
    st.applications.put(rec.clone());
    Ok(Reply::ok(view(st, &rec)))
}

fn delete(st: &mut State, id: &str) -> Outcome {
    st.applications.remove(id).ok_or_else(|| ApiError::not_found("application", id))?;
    for child in [Child::Grant, Child::Sop, Child::Attribute] {
        child.table_mut(st).retain(|c| ref_of(c, "application") != Some(id));
    }
    st.secrets.remove(id);
    st.drop_assignments_of(Holder::Application, id);
    st.tokens.retain(|_, t| !matches!(&t.subject, Subject::Client(c) if c == id));
    Ok(Reply::no_content())
}

/// The secret record; the previous secret only while it is valid (the spec: "returned
/// in the response if the previous secret is not expired").
fn secret_body(s: &AppSecret) -> Value {
    let mut v = json!({ "secret": s.current });
    if let Some(previous) = s.previous_at(now_secs()) {
        v["previous"] = json!({ "secret": previous.secret, "expiresAt": iso(previous.expires_at) });
        if let Some(used) = previous.last_used.get() {
            v["previous"]["lastUsed"] = json!(iso(used));
        }
    }
    v
}

fn secret_of<'a>(st: &'a State, id: &str) -> Result<&'a AppSecret, ApiError> {
    let a = app(st, id)?;
    st.secrets.get(id).ok_or_else(|| {
        ApiError::invalid_value("tokenEndpointAuthMethod", format!("application `{}` has no client secret (protocol {}, auth method {})", id, a["protocol"], a["tokenEndpointAuthMethod"]))
    })
}

fn read_secret(st: &State, id: &str) -> Outcome {
    let s = secret_of(st, id)?;
    if matches!(&st.caller, Some(Subject::Client(c)) if c == id) {
        return Err(ApiError::new(403, "ACCESS_FAILED", "a worker application cannot read its own secret")
            .with_detail("INSUFFICIENT_PERMISSIONS", Some("secret"), "use another worker application to read this secret"));
    }
    Ok(Reply::ok(secret_body(s)))
}

fn rotate_secret(st: &mut State, req: &Req, id: &str) -> Outcome {
    let body = req.json(&[JSON, SECRET_IMPORT])?;
    let old = secret_of(st, id)?.clone();
    let now = now_secs();
    let new_secret = if req.media_type().as_deref() == Some(SECRET_IMPORT) {
        require(&body, &["secret"])?;
        let s = str_field(&body, "secret").unwrap_or_default().to_owned();
        if s.len() < 64 || s.len() > 100 {
            return Err(ApiError::invalid_value("secret", "an imported secret must be 64 to 100 characters long"));
        }
        s
    } else {
        st.random_text(64)
    };
    let expires = match body.get("previous").and_then(|p| p.get("expiresAt")) {
        None | Some(Value::Null) => None,
        Some(v) => {
            let text = v.as_str().unwrap_or_default();
            let when = httpdate::parse_http_date(text).ok().map(|t| t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)).or_else(|| parse_iso(text));
            match when {
                Some(t) if t - now >= MIN_PREVIOUS_SECS && t - now <= MAX_PREVIOUS_SECS => Some(t),
                Some(_) => return Err(ApiError::invalid_value("previous.expiresAt", "`previous.expiresAt` must be 1 minute to 30 days from now")),
                None => return Err(ApiError::invalid_value("previous.expiresAt", format!("`{text}` is not an ISO 8601 date-time"))),
            }
        }
    };
    let s = AppSecret { current: new_secret, previous: expires.map(|expires_at| PreviousSecret { secret: old.current, expires_at, last_used: Default::default() }) };
    let out = secret_body(&s);
    st.secrets.insert(id.to_owned(), s);
    Ok(Reply::ok(out))
}

fn retire_previous(st: &mut State, id: &str) -> Outcome {
    secret_of(st, id)?;
    if let Some(s) = st.secrets.get_mut(id) {
        s.previous = None;
    }
    Ok(Reply::no_content())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` to Unix seconds.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, "Z"),
    };
    let mut c = clock.split(':');
    let h: i64 = c.next()?.parse().ok()?;
    let mi: i64 = c.next()?.parse().ok()?;
    let s: f64 = c.next().unwrap_or("0").parse().ok()?;
    let off = if offset == "Z" {
        0
    } else {
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (oh, om) = offset[1..].split_once(':')?;
        sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
    };
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s as i64 - off)
}

fn list_children(st: &State, req: &Req, app_id: &str, child: Child) -> Outcome {
    app(st, app_id)?;
    let mine = child.table(st).iter().filter(|c| ref_of(c, "application") == Some(app_id));
    let mut matched = hal::filtered(req, mine)?;
    if let Child::Sop = child {
        matched.sort_by_key(|c| c["priority"].as_i64().unwrap_or(i64::MAX));
    }
    hal::page(req, &st.env_url(&format!("applications/{app_id}/{}", child.path())), child.path(), &matched, |v| v)
}

fn find_child<'a>(st: &'a State, app_id: &str, child: Child, id: &str) -> Result<&'a Value, ApiError> {
    app(st, app_id)?;
    child.table(st).get(id).filter(|c| ref_of(c, "application") == Some(app_id)).ok_or_else(|| ApiError::not_found(child.what(), id))
}

fn check_child(st: &State, app_id: &str, child: Child, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    let siblings = || child.table(st).iter().filter(|c| ref_of(c, "application") == Some(app_id) && c["id"].as_str() != except);
    match child {
        Child::Grant => {
            require(body, &["resource.id", "scopes"])?;
            let resource_id = ref_id(body, "resource").unwrap_or_default();
            let resource = st.resources.get(resource_id).ok_or_else(|| ApiError::invalid_value("resource.id", format!("resource `{resource_id}` does not exist")))?;
            let scopes = body["scopes"].as_array().filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid_value("scopes", "`scopes` must be a non-empty array of {id}"))?;
            let known: Vec<&str> = resource["scopes"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str()).collect();
            for s in scopes {
                let sid = s.get("id").and_then(Value::as_str).unwrap_or_default();
                if !known.contains(&sid) {
                    return Err(ApiError::invalid_value("scopes", format!("scope `{sid}` does not belong to resource `{}`", resource["name"].as_str().unwrap_or_default())));
                }
            }
            if siblings().any(|g| ref_of(g, "resource") == Some(resource_id)) {
                return Err(ApiError::uniqueness("resource.id", format!("the application already has a grant for resource `{resource_id}`")));
            }
        }
        Child::Sop => {
            require(body, &["signOnPolicy.id", "priority"])?;
            let policy = ref_id(body, "signOnPolicy").unwrap_or_default();
            if !st.sign_on_policies.contains(policy) {
                return Err(ApiError::invalid_value("signOnPolicy.id", format!("sign-on policy `{policy}` does not exist")));
            }
            if body["priority"].as_i64().is_none_or(|p| p < 1) {
                return Err(ApiError::invalid_value("priority", "`priority` must be an integer of at least 1"));
            }
            if siblings().any(|s| ref_of(s, "signOnPolicy") == Some(policy)) {
                return Err(ApiError::uniqueness("signOnPolicy.id", format!("sign-on policy `{policy}` is already assigned to this application")));
            }
        }
        Child::Attribute => {
            require(body, &["name", "value"])?;
            for flag in ["required", "idToken", "userInfo"] {
                check_bool(body, flag)?;
            }
            let name = str_field(body, "name").unwrap_or_default();
            let value = str_field(body, "value").unwrap_or_default();
            if !placeholders_closed(value) {
                return Err(ApiError::invalid_value("value", format!("`{value}` opens a ${{…}} expression it does not close: write it as ${{user.email}}")));
            }
            if is_oidc(st, app_id) {
                check_oidc_mapping(body, name, except.and_then(|id| child.table(st).get(id)))?;
            }
            // MGMT: "samlAssertion.subject … is a reserved case-insensitive name": the
            // subject's one mapping, the CORE one every SAML application has.
            if name.eq_ignore_ascii_case(SAML_SUBJECT) && siblings().any(|a| a["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(SAML_SUBJECT))) {
                return Err(ApiError::uniqueness("name", format!("`{name}` is the assertion subject's mapping, which every SAML application has already: change its value with update_application_attribute")));
            }
            if siblings().any(|a| a["name"].as_str() == Some(name)) {
                return Err(ApiError::uniqueness("name", format!("the application already maps an attribute named `{name}`")));
            }
        }
    }
    Ok(())
}

fn is_oidc(st: &State, app_id: &str) -> bool {
    st.applications.get(app_id).is_some_and(|a| a["protocol"] == json!("OPENID_CONNECT"))
}

/// MGMT `ApplicationAttributeMapping`: the reserved claim names of an OIDC application
/// cannot be used (its own CORE mapping keeps its name), and `idToken` and `userInfo`
/// cannot both be false.
fn check_oidc_mapping(body: &Map<String, Value>, name: &str, old: Option<&Value>) -> Result<(), ApiError> {
    let keeps_core_name = old.is_some_and(|o| o["mappingType"] != json!("CUSTOM") && o["name"].as_str() == Some(name));
    if OIDC_RESERVED_CLAIMS.contains(&name) && !keeps_core_name {
        return Err(ApiError::invalid_value("name", format!("`{name}` is a reserved OpenID Connect claim name ({}); choose another name", OIDC_RESERVED_CLAIMS.join(", "))));
    }
    if body.get("idToken") == Some(&json!(false)) && body.get("userInfo") == Some(&json!(false)) {
        return Err(ApiError::invalid_value("idToken", "`idToken` and `userInfo` cannot both be false: the mapping must reach the ID token, the userinfo endpoint, or both"));
    }
    Ok(())
}

fn save_child(st: &mut State, req: &Req, app_id: &str, child: Child, id: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    app(st, app_id)?;
    let old = match id {
        Some(id) => Some(find_child(st, app_id, child, id)?.clone()),
        None => None,
    };
    check_child(st, app_id, child, &body, id)?;
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &["application", "mappingType"]),
        None => new_record(st, &body),
    };
    rec.insert("application".into(), id_ref(app_id));
    if let Child::Attribute = child {
        rec.entry("required").or_insert(Value::Bool(false));
        rec.entry("mappingType").or_insert(json!("CUSTOM"));
        if is_oidc(st, app_id) {
            // MGMT `ApplicationAttributeMapping`: both default to true.
            rec.entry("idToken").or_insert(Value::Bool(true));
            rec.entry("userInfo").or_insert(Value::Bool(true));
        }
    }
    let rec_id = rec["id"].as_str().unwrap_or_default().to_owned();
    let rec = with_self(Value::Object(rec), st.env_url(&format!("applications/{app_id}/{}/{rec_id}", child.path())));
    child.table_mut(st).put(rec.clone());
    Ok(if old.is_some() { Reply::ok(rec) } else { Reply::created(rec) })
}

fn delete_child(st: &mut State, app_id: &str, child: Child, id: &str) -> Outcome {
    let found = find_child(st, app_id, child, id)?;
    if found["mappingType"] == json!("CORE") {
        return Err(ApiError::invalid_value("mappingType", format!("core attribute mapping `{}` cannot be deleted", found["name"].as_str().unwrap_or_default())));
    }
    child.table_mut(st).remove(id);
    Ok(Reply::no_content())
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_parses() {
        assert_eq!(super::parse_iso("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(super::parse_iso("2024-02-29T23:59:59.000Z"), Some(1_709_251_199));
        assert_eq!(super::parse_iso("1970-01-01T01:00:00+01:00"), Some(0));
    }
}
