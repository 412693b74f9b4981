//! External identity providers and their attribute mappings. A new provider gets the
//! CORE `username` mapping the schema requires. Deleting a provider a sign-on policy
//! step uses is refused; otherwise it unlinks its users (they keep their accounts) and
//! clears population defaults.

use serde_json::{json, Map, Value};

use super::{id_ref, new_record, not_allowed, ref_of, replaced, with_self};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{check_bool, check_enum, require, str_field, Outcome, Reply, Req, JSON};
use crate::simulator::store::State;

pub(crate) const TYPES: [&str; 13] = [
    "FACEBOOK", "GOOGLE", "LINKEDIN", "LINKEDIN_OIDC", "APPLE", "TWITTER", "AMAZON", "YAHOO", "MICROSOFT", "PAYPAL", "GITHUB", "OPENID_CONNECT", "SAML",
];
const UPDATE_MODES: [&str; 2] = ["EMPTY_ONLY", "ALWAYS"];
/// MGMT `IdentityProviderAttribute.name`: "The following attributes may not be used".
const FORBIDDEN_ATTRIBUTES: [&str; 7] = ["account", "id", "created", "updated", "lifecycle", "mfaEnabled", "enabled"];
/// The user schema's attributes a provider may map; a COMPLEX one (`name`, `address`)
/// only by its parts (MGMT `IdentityProviderAttribute.name`: "must not be … of type
/// COMPLEX"). Other names are custom attributes, which some user must hold.
const MAPPABLE_ATTRIBUTES: [&str; 22] = [
    "username", "email", "nickname", "title", "preferredLanguage", "locale", "timezone", "type", "primaryPhone", "mobilePhone", "externalId", "photo.href",
    "name.given", "name.family", "name.middle", "name.formatted", "name.honorificPrefix", "name.honorificSuffix",
    "address.streetAddress", "address.locality", "address.region", "address.postalCode",
];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["identityProviders"] => Some(match m {
            "GET" => {
                let url = st.env_url("identityProviders");
                hal::filtered(req, st.identity_providers.iter()).and_then(|matched| hal::page(req, &url, "identityProviders", &matched, |p| view(st, p)))
            }
            "POST" => save(st, req, None),
            _ => return not_allowed(req),
        }),
        ["identityProviders", id] => Some(match m {
            "GET" => idp(st, id).map(|p| Reply::ok(view(st, p))),
            "PUT" => save(st, req, Some(id)),
            "DELETE" => delete(st, id),
            _ => return not_allowed(req),
        }),
        ["identityProviders", idp_id, "attributes", tail @ ..] => Some(match (m, tail) {
            ("GET", []) => idp(st, idp_id).and_then(|_| {
                let mine = st.idp_attributes.iter().filter(|a| ref_of(a, "identityProvider") == Some(*idp_id));
                hal::page_all(req, &st.env_url(&format!("identityProviders/{idp_id}/attributes")), "attributes", mine)
            }),
            ("POST", []) => save_attribute(st, req, idp_id, None),
            ("GET", [id]) => attribute(st, idp_id, id).map(|a| Reply::ok(a.clone())),
            ("PUT", [id]) => save_attribute(st, req, idp_id, Some(id)),
            ("DELETE", [id]) => delete_attribute(st, idp_id, id),
            (_, [] | [_]) => return not_allowed(req),
            _ => Err(ApiError::no_route(&req.path)),
        }),
        _ => None,
    }
}

fn idp<'a>(st: &'a State, id: &str) -> Result<&'a Value, ApiError> {
    st.identity_providers.get(id).ok_or_else(|| ApiError::not_found("identity provider", id))
}

fn view(st: &State, p: &Value) -> Value {
    with_self(p.clone(), st.env_url(&format!("identityProviders/{}", p["id"].as_str().unwrap_or_default())))
}

fn check(st: &State, body: &Map<String, Value>, except: Option<&str>) -> Result<(), ApiError> {
    require(body, &["name", "type", "enabled"])?;
    check_bool(body, "enabled")?;
    check_enum(body, "type", &TYPES)?;
    if let Some(kind) = body["type"].as_str() {
        require(body, required_fields(kind))?;
    }
    match body["type"].as_str() {
        Some("OPENID_CONNECT") => check_https(body, &["authorizationEndpoint", "discoveryEndpoint", "issuer", "jwksEndpoint"])?,
        Some("APPLE") => check_apple(body)?,
        Some("PAYPAL") => check_enum(body, "clientEnvironment", &["sandbox", "live"])?,
        _ => {}
    }
    let name = str_field(body, "name").unwrap_or_default();
    if st.identity_providers.iter().any(|p| p["name"].as_str() == Some(name) && p["id"].as_str() != except) {
        return Err(ApiError::uniqueness("name", format!("an identity provider named `{name}` already exists")));
    }
    Ok(())
}

/// The fields each type requires (MGMT `IdentityProvider` and the schemas of its `oneOf`).
fn required_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "OPENID_CONNECT" => &["authorizationEndpoint", "clientId", "clientSecret", "issuer", "jwksEndpoint", "scopes", "tokenEndpoint", "tokenEndpointAuthMethod"],
        "SAML" => &["idpEntityId", "idpVerification", "spEntityId", "ssoBinding", "ssoEndpoint"],
        "FACEBOOK" => &["appId", "appSecret"],
        "APPLE" => &["clientId", "clientSecretSigningKey", "keyId", "teamId"],
        "PAYPAL" => &["clientEnvironment", "clientId", "clientSecret"],
        _ => &["clientId", "clientSecret"],
    }
}

/// MGMT `IdentityProviderOIDC`: these endpoints, when given, "must be a URL that uses https".
fn check_https(body: &Map<String, Value>, fields: &[&str]) -> Result<(), ApiError> {
    for f in fields {
        if let Some(url) = str_field(body, f).filter(|u| !u.to_ascii_lowercase().starts_with("https://")) {
            return Err(ApiError::invalid_value(f, format!("`{f}` must be a URL that uses https, got `{url}`")));
        }
    }
    Ok(())
}

/// MGMT `IdentityProviderApple`: `keyId` and `teamId` are the 10-character identifiers Apple issues.
fn check_apple(body: &Map<String, Value>) -> Result<(), ApiError> {
    for f in ["keyId", "teamId"] {
        let value = str_field(body, f).unwrap_or_default();
        if value.chars().count() != 10 {
            return Err(ApiError::invalid_value(f, format!("`{f}` must be the 10-character identifier from Apple's developer portal, got `{value}`")));
        }
    }
    Ok(())
}

fn save(st: &mut State, req: &Req, id: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    let old = match id {
        Some(id) => Some(idp(st, id)?.clone()),
        None => None,
    };
    // Said first: the fields another type requires are no help (review 49).
    if let Some(old) = &old {
        if old["type"] != body["type"] {
            return Err(ApiError::invalid_value("type", format!("`type` cannot be changed (it is {})", old["type"])));
        }
    }
    check(st, &body, id)?;
    let rec = match &old {
        Some(old) => replaced(old, &body, &[]),
        None => new_record(st, &body),
    };
    let rec = Value::Object(rec);
    st.identity_providers.put(rec.clone());
    if old.is_none() {
        add_core_mapping(st, &rec);
    }
    let out = view(st, &rec);
    Ok(if old.is_some() { Reply::ok(out) } else { Reply::created(out) })
}

/// The CORE `username` mapping PingOne gives a new provider (MGMT
/// `EnumIdentityProviderAttributeMappingType`: "required by the schema and cannot be removed").
fn add_core_mapping(st: &mut State, provider: &Value) {
    let value = match provider["type"].as_str() {
        Some("SAML") => "${samlAssertion.subject}",
        Some("OPENID_CONNECT") => "${providerAttributes.sub}",
        _ => "${providerAttributes.email}",
    };
    let fields = json!({ "name": "username", "value": value, "update": "EMPTY_ONLY", "mappingType": "CORE" });
    let Value::Object(fields) = fields else { return };
    let mut rec = new_record(st, &fields);
    rec.insert("identityProvider".into(), id_ref(provider["id"].as_str().unwrap_or_default()));
    st.idp_attributes.put(Value::Object(rec));
}

/// Why a provider may not map attribute `name` with `value`, if it may not.
fn mapping_problem(st: &State, name: &str, value: &str) -> Option<(&'static str, String)> {
    if FORBIDDEN_ATTRIBUTES.contains(&name) {
        return Some(("name", format!("`{name}` cannot be mapped from an identity provider (not allowed: {})", FORBIDDEN_ATTRIBUTES.join(", "))));
    }
    if let Some(part) = MAPPABLE_ATTRIBUTES.iter().find(|a| a.strip_prefix(name).is_some_and(|rest| rest.starts_with('.'))) {
        return Some(("name", format!("`{name}` is of type COMPLEX in the user schema; map its parts instead, such as `{part}`")));
    }
    let custom = || st.users.iter().filter_map(Value::as_object).any(|u| u.contains_key(name));
    if !MAPPABLE_ATTRIBUTES.contains(&name) && !custom() {
        return Some(("name", format!("`{name}` is not an attribute of the user schema")));
    }
    let placeholder = value.find("${").is_some_and(|open| value[open..].contains('}'));
    if !placeholder {
        return Some(("value", format!("`{value}` is not a placeholder: use the ${{}} syntax, such as ${{providerAttributes.email}}")));
    }
    None
}

fn delete(st: &mut State, id: &str) -> Outcome {
    idp(st, id)?;
    let uses = |step: &Value| ref_of(step, "identityProvider") == Some(id) || step["socialProviders"].as_array().into_iter().flatten().any(|p| p["id"].as_str() == Some(id));
    let steps = st.sign_on_actions.iter().filter(|step| uses(step)).count();
    if steps > 0 {
        return Err(ApiError::request_failed(format!("identity provider `{id}` is used by {steps} sign-on policy action(s); change them to another provider first")));
    }
    st.identity_providers.remove(id);
    st.idp_attributes.retain(|a| ref_of(a, "identityProvider") != Some(id));
    let linked: Vec<String> = st.users.iter().filter(|u| ref_of(u, "identityProvider") == Some(id)).filter_map(|u| u["id"].as_str().map(str::to_owned)).collect();
    for u in linked {
        if let Some(mut u) = st.users.get_mut(&u) {
            u["identityProvider"] = json!({ "type": "PING_ONE" });
        }
    }
    let pops: Vec<String> = st.populations.iter().filter(|p| ref_of(p, "defaultIdentityProvider") == Some(id)).filter_map(|p| p["id"].as_str().map(str::to_owned)).collect();
    for p in pops {
        if let Some(mut p) = st.populations.get_mut(&p) {
            p["defaultIdentityProvider"] = Value::Null;
        }
    }
    Ok(Reply::no_content())
}

fn attribute<'a>(st: &'a State, idp_id: &str, id: &str) -> Result<&'a Value, ApiError> {
    idp(st, idp_id)?;
    st.idp_attributes.get(id).filter(|a| ref_of(a, "identityProvider") == Some(idp_id)).ok_or_else(|| ApiError::not_found("identity provider attribute", id))
}

/// MGMT `EnumIdentityProviderAttributeMappingType`: a CORE mapping "cannot be removed".
fn delete_attribute(st: &mut State, idp_id: &str, id: &str) -> Outcome {
    let mapping = attribute(st, idp_id, id)?;
    if mapping["mappingType"] == "CORE" {
        return Err(ApiError::request_failed(format!("`{}` is a CORE mapping, which the schema requires: it cannot be removed (change its value instead)", mapping["name"].as_str().unwrap_or_default())));
    }
    st.idp_attributes.remove(id);
    Ok(Reply::no_content())
}

fn save_attribute(st: &mut State, req: &Req, idp_id: &str, id: Option<&str>) -> Outcome {
    let body = req.json(&[JSON])?;
    idp(st, idp_id)?;
    let old = match id {
        Some(id) => Some(attribute(st, idp_id, id)?.clone()),
        None => None,
    };
    require(&body, &["name", "value", "update"])?;
    check_enum(&body, "update", &UPDATE_MODES)?;
    let name = str_field(&body, "name").unwrap_or_default();
    if let Some((field, problem)) = mapping_problem(st, name, str_field(&body, "value").unwrap_or_default()) {
        return Err(ApiError::invalid_value(field, problem));
    }
    if st.idp_attributes.iter().any(|a| ref_of(a, "identityProvider") == Some(idp_id) && a["name"].as_str() == Some(name) && a["id"].as_str() != id) {
        return Err(ApiError::uniqueness("name", format!("the identity provider already maps attribute `{name}`")));
    }
    // MGMT `EnumIdentityProviderAttributeMappingType`: on CORE, "the name and update
    // properties cannot be changed".
    if let Some(core) = old.as_ref().filter(|old| old["mappingType"] == "CORE") {
        for field in ["name", "update"] {
            if body[field] != core[field] {
                return Err(ApiError::invalid_value(field, format!("`{field}` of a CORE mapping cannot be changed (it is {}); send its current value and change only `value`", core[field])));
            }
        }
    }
    let mut rec = match &old {
        Some(old) => replaced(old, &body, &["identityProvider", "mappingType"]),
        None => new_record(st, &body),
    };
    rec.insert("identityProvider".into(), id_ref(idp_id));
    rec.entry("mappingType").or_insert(json!("CUSTOM"));
    let rec = Value::Object(rec);
    st.idp_attributes.put(rec.clone());
    Ok(if old.is_some() { Reply::ok(rec) } else { Reply::created(rec) })
}
