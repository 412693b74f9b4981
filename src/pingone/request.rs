//! Turning an action and its arguments into an HTTP request description.

use serde_json::{Map, Value};
use url::Url;

use super::error::ClientError;
use crate::catalog::{path_segment_problem, Action, Host, ParamLocation, PAGING_ARGS};
use crate::config::Connection;

/// Everything needed to send (and re-send) one request.
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    pub method: reqwest::Method,
    pub url: Url,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json { content_type: String, value: Value },
    /// multipart/form-data fields; a field named `file` is sent as a file part.
    Form(Vec<(String, String)>),
}

pub(crate) fn build(action: &Action, args: &Map<String, Value>, conn: &Connection) -> Result<RequestSpec, ClientError> {
    let unusable = |message: String| ClientError::Unusable { action: action.id.clone(), message };
    let mut path = action.path.replace("{environmentId}", &conn.environment_id);
    for p in action.params_in(ParamLocation::Path) {
        let value = args.get(&p.name).map(as_text).unwrap_or_default();
        // Checked with the arguments too; here because this is where a URL is made.
        if let Some(problem) = path_segment_problem(&p.name, &value) {
            return Err(unusable(problem));
        }
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        path = path.replace(&format!("{{{}}}", p.name), &encoded.replace('+', "%20"));
    }
    let base = match action.host {
        Host::Api => &conn.api_base,
        Host::Auth => &conn.auth_base,
    };
    let mut url = Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
        .map_err(|e| unusable(format!("cannot build the request URL: {e}")))?;
    {
        let mut query = url.query_pairs_mut();
        for p in action.params_in(ParamLocation::Query) {
            if let Some(value) = args.get(&p.name).filter(|v| !v.is_null()).or(p.default.as_ref()) {
                query.append_pair(&p.name, &as_text(value));
            }
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    let body = match action.content_type.as_deref() {
        None => Body::None,
        Some("multipart/form-data") => Body::Form(
            action
                .params_in(ParamLocation::Form)
                .filter_map(|p| args.get(&p.name).map(|v| (p.name.clone(), as_text(v))))
                .collect(),
        ),
        Some(content_type) => {
            let mut body = Map::new();
            for (key, value) in args {
                let location = action.param(key).and_then(|p| p.location);
                let is_body = match location {
                    Some(ParamLocation::Body) => true,
                    Some(_) => false,
                    None => action.body_open && !PAGING_ARGS.contains(&key.as_str()),
                };
                if is_body {
                    body.insert(key.clone(), value.clone());
                }
            }
            Body::Json { content_type: content_type.to_owned(), value: Value::Object(body) }
        }
    };
    let method = reqwest::Method::from_bytes(action.method.as_str().as_bytes()).expect("catalog methods are valid HTTP methods");
    Ok(RequestSpec { method, url, body })
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
