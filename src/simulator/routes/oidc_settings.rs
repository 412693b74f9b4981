//! An OIDC application's settings that PingOne refuses together or alone (review 49:
//! the simulator stored a relative redirect URI and AUTHORIZATION_CODE without CODE,
//! so a change rehearsed here passed and then failed on a tenant):
//! - a redirect URI is absolute and has no fragment (RFC 6749 §3.1.2); a `*` needs
//!   `allowWildcardInRedirectUris`, once per URI, after the authority (PingOne's
//!   "Redirect URIs", p1_wildcard_redirect_uri);
//! - response types follow the grant types (PingOne's "Response types",
//!   p1_responsetypes: CODE for AUTHORIZATION_CODE, ID_TOKEN for IMPLICIT, TOKEN for
//!   IMPLICIT or CLIENT_CREDENTIALS), and AUTHORIZATION_CODE and IMPLICIT each need
//!   theirs among those given;
//! - REFRESH_TOKEN is not a grant of its own: it renews tokens another grant issued.

use serde_json::{Map, Value};

use crate::simulator::errors::ApiError;

/// The grants a refresh token can renew the tokens of.
const RENEWABLE: [&str; 4] = ["AUTHORIZATION_CODE", "DEVICE_CODE", "CIBA", "TOKEN_EXCHANGE"];

pub(super) fn check_oidc(body: &Map<String, Value>) -> Result<(), ApiError> {
    let texts = |field: &str| -> Vec<&str> { body.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect() };
    let (grants, responses) = (texts("grantTypes"), texts("responseTypes"));
    let has = |list: &[&str], what: &str| list.contains(&what);
    // Response types left out are PingOne's to choose.
    let responses_given = body.get("responseTypes").is_some_and(|r| !r.is_null());
    if responses_given && has(&grants, "AUTHORIZATION_CODE") && !has(&responses, "CODE") {
        return Err(ApiError::invalid_value("responseTypes", "grant type AUTHORIZATION_CODE requires response type CODE"));
    }
    if responses_given && has(&grants, "IMPLICIT") && !has(&responses, "TOKEN") && !has(&responses, "ID_TOKEN") {
        return Err(ApiError::invalid_value("responseTypes", "grant type IMPLICIT requires response type TOKEN or ID_TOKEN"));
    }
    for response in &responses {
        let needs: &[&str] = match *response {
            "CODE" => &["AUTHORIZATION_CODE"],
            "ID_TOKEN" => &["IMPLICIT"],
            "TOKEN" => &["IMPLICIT", "CLIENT_CREDENTIALS"],
            _ => continue,
        };
        if !needs.iter().any(|grant| has(&grants, grant)) {
            return Err(ApiError::invalid_value("responseTypes", format!("response type {response} requires grant type {}", needs.join(" or "))));
        }
    }
    if has(&grants, "REFRESH_TOKEN") && !RENEWABLE.iter().any(|grant| has(&grants, grant)) {
        return Err(ApiError::invalid_value("grantTypes", format!("grant type REFRESH_TOKEN requires one of {}", RENEWABLE.join(", "))));
    }
    let wildcards = body.get("allowWildcardInRedirectUris") == Some(&Value::Bool(true));
    for field in ["redirectUris", "postLogoutRedirectUris"] {
        for (at, uri) in texts(field).into_iter().enumerate() {
            if let Some(problem) = redirect_uri_problem(uri, wildcards && field == "redirectUris") {
                return Err(ApiError::invalid_value(&format!("{field}[{at}]"), format!("`{uri}` {problem}")));
            }
        }
    }
    Ok(())
}

fn redirect_uri_problem(uri: &str, wildcards: bool) -> Option<&'static str> {
    let Ok(parsed) = url::Url::parse(uri) else { return Some("is not an absolute URI") };
    if parsed.fragment().is_some() {
        return Some("must not have a fragment (#…)");
    }
    if uri.contains('*') {
        if !wildcards {
            return Some("has a wildcard, which requires allowWildcardInRedirectUris set to true");
        }
        if uri.matches('*').count() > 1 || parsed.host_str().is_some_and(|host| host.contains('*')) || parsed.scheme().contains('*') {
            return Some("may have one wildcard, in its path or query only");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(body: Value) -> Option<String> {
        check_oidc(body.as_object().unwrap()).err().map(|e| format!("{}: {}", e.details[0].target.clone().unwrap_or_default(), e.details[0].message))
    }

    #[test]
    fn settings_pingone_refuses_are_refused_and_the_usual_ones_pass() {
        let web = |extra: Value| {
            let mut body = json!({ "grantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN"], "responseTypes": ["CODE"], "redirectUris": ["https://portal.example.com/callback"] });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        assert_eq!(problem(web(json!({}))), None);
        assert_eq!(problem(web(json!({ "redirectUris": ["com.example.app://callback", "http://127.0.0.1:8080/cb"] }))), None);
        assert_eq!(problem(web(json!({ "redirectUris": ["https://portal.example.com/*"], "allowWildcardInRedirectUris": true }))), None);
        assert_eq!(problem(json!({ "grantTypes": ["CLIENT_CREDENTIALS"] })), None);
        assert_eq!(problem(json!({ "grantTypes": ["IMPLICIT"], "responseTypes": ["ID_TOKEN", "TOKEN"], "redirectUris": ["https://spa.example.com/"] })), None);

        assert!(problem(web(json!({ "redirectUris": ["/callback"] }))).unwrap().starts_with("redirectUris[0]: `/callback` is not an absolute URI"));
        assert!(problem(web(json!({ "redirectUris": ["portal example com"] }))).unwrap().contains("not an absolute URI"));
        assert!(problem(web(json!({ "redirectUris": ["https://portal.example.com/cb#frag"] }))).unwrap().contains("fragment"));
        assert!(problem(web(json!({ "redirectUris": ["https://*.example.com/callback"] }))).unwrap().contains("allowWildcardInRedirectUris"));
        assert!(problem(web(json!({ "redirectUris": ["https://*.example.com/callback"], "allowWildcardInRedirectUris": true }))).unwrap().contains("path or query only"));
        assert!(problem(web(json!({ "responseTypes": ["TOKEN"] }))).unwrap().contains("AUTHORIZATION_CODE requires response type CODE"));
        assert!(problem(json!({ "grantTypes": ["IMPLICIT"], "responseTypes": ["CODE"] })).unwrap().contains("IMPLICIT requires response type TOKEN or ID_TOKEN"));
        assert!(problem(json!({ "grantTypes": ["CLIENT_CREDENTIALS"], "responseTypes": ["CODE"] })).unwrap().contains("response type CODE requires grant type AUTHORIZATION_CODE"));
        assert!(problem(json!({ "grantTypes": ["REFRESH_TOKEN"], "responseTypes": [] })).unwrap().starts_with("grantTypes: grant type REFRESH_TOKEN requires"));
    }
}
