//! OAuth clients: who a token request comes from (client authentication, including
//! public clients that present only their id), and which redirect URIs they own.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::form::{post_form, Params};
use crate::simulator::clock::now_secs;
use crate::simulator::errors::oauth_error;
use crate::simulator::reply::{Reply, Req};
use crate::simulator::store::State;

/// The credentials a request presents, and how.
struct Presented {
    client_id: String,
    secret: Option<String>,
    /// As PingOne names it in `tokenEndpointAuthMethod`.
    method: &'static str,
}

/// Basic auth, else `client_id` and `client_secret` in the form, else a bare `client_id`
/// (a public client).
fn presented(req: &Req, params: &Params) -> Option<Presented> {
    let basic = req.authorization.as_deref().and_then(|a| a.strip_prefix("Basic ").or_else(|| a.strip_prefix("basic "))).and_then(|b| STANDARD.decode(b.trim()).ok()).and_then(|b| String::from_utf8(b).ok());
    if let Some(pair) = basic {
        // RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
        let (id, secret) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
        let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
        return Some(Presented { client_id: decode(id), secret: Some(decode(secret)), method: "CLIENT_SECRET_BASIC" });
    }
    let client_id = params.get("client_id")?.to_owned();
    match params.get("client_secret") {
        Some(secret) => Some(Presented { client_id, secret: Some(secret.to_owned()), method: "CLIENT_SECRET_POST" }),
        None => Some(Presented { client_id, secret: None, method: "NONE" }),
    }
}

/// The application a client id names: its id, or the `clientId` it was imported with.
fn app_of_client<'a>(st: &'a State, client_id: &str) -> Option<&'a Value> {
    st.applications.get(client_id).or_else(|| st.applications.iter().find(|app| app["clientId"].as_str() == Some(client_id)))
}

/// An enabled application that `client_id` names.
pub(crate) fn enabled_app<'a>(st: &'a State, client_id: &str) -> Option<&'a Value> {
    app_of_client(st, client_id).filter(|app| app["enabled"] == json!(true))
}

/// Whether the application may use `grant` (`AUTHORIZATION_CODE`, `DEVICE_CODE`, …).
pub(crate) fn allows_grant(app: &Value, grant: &str) -> bool {
    app["grantTypes"].as_array().is_some_and(|g| g.iter().any(|v| v == grant))
}

/// Authenticates the client of a token-endpoint request by the method its application
/// is configured for; answers the application's id, or the OAuth error to send.
pub(crate) fn authenticate(st: &State, req: &Req, params: &Params) -> Result<String, Reply> {
    let Some(p) = presented(req, params) else {
        return Err(oauth_error(401, "invalid_client", "Request denied: Unsupported authentication method or missing client credentials"));
    };
    let Some(app) = app_of_client(st, &p.client_id) else {
        return Err(oauth_error(401, "invalid_client", "Request denied: Invalid client credentials (unknown client id)"));
    };
    if app["enabled"] != json!(true) {
        return Err(oauth_error(401, "invalid_client", "Request denied: the application is disabled"));
    }
    let configured = app["tokenEndpointAuthMethod"].as_str().unwrap_or("CLIENT_SECRET_BASIC");
    if configured != p.method {
        return Err(oauth_error(401, "invalid_client", &format!("Request denied: the application authenticates with {configured}, not {}", p.method)));
    }
    let app_id = app["id"].as_str().unwrap_or_default().to_owned();
    if let Some(secret) = &p.secret {
        let now = now_secs();
        let stored = st.secrets.get(&app_id);
        let previous = stored.and_then(|s| s.previous_at(now)).filter(|p| p.secret == *secret);
        if let Some(previous) = previous {
            previous.last_used.set(Some(now));
        }
        let valid = stored.is_some_and(|s| s.current == *secret) || previous.is_some();
        if !valid {
            return Err(oauth_error(401, "invalid_client", "Request denied: Invalid client credentials"));
        }
    }
    Ok(app_id)
}

/// The form of a client's `POST` to a token-style endpoint, and the authenticated
/// client id.
pub(crate) fn authenticated_post(st: &State, req: &Req, what: &str) -> Result<(Params, String), Reply> {
    let params = post_form(req, what)?;
    let client_id = authenticate(st, req, &params)?;
    Ok((params, client_id))
}

/// Whether `requested` is one of the application's redirect URIs. A registered
/// loopback URI (`http://127.0.0.1/…`, `http://[::1]/…`) matches on any port, because
/// native apps listen on an ephemeral one (RFC 8252 §7.3); all others match exactly.
pub(crate) fn redirect_allowed(app: &Value, requested: &str) -> bool {
    let registered = app["redirectUris"].as_array().into_iter().flatten().filter_map(Value::as_str);
    registered.into_iter().any(|r| r == requested || loopback_match(r, requested))
}

fn loopback_match(registered: &str, requested: &str) -> bool {
    let (Ok(reg), Ok(req)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    let loopback = matches!(reg.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback()) || matches!(reg.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    loopback && reg.scheme() == "http" && req.scheme() == "http" && reg.host() == req.host() && reg.path() == req.path() && reg.query() == req.query() && req.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port_only() {
        let app = json!({ "redirectUris": ["http://127.0.0.1/callback", "https://app.example.com/cb"] });
        assert!(redirect_allowed(&app, "http://127.0.0.1:53682/callback"));
        assert!(redirect_allowed(&app, "http://127.0.0.1/callback"));
        assert!(!redirect_allowed(&app, "http://127.0.0.1:53682/other"));
        assert!(!redirect_allowed(&app, "http://localhost:53682/callback"), "only the registered host");
        assert!(!redirect_allowed(&app, "https://app.example.com:8443/cb"), "non-loopback URIs match exactly");
        assert!(redirect_allowed(&app, "https://app.example.com/cb"));
    }
}
