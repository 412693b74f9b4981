//! The simulator's own view of one request and one response, independent of axum,
//! so the routes are plain functions over the state.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::errors::ApiError;

pub const JSON: &str = "application/json";

/// One incoming request, read in full.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }

    /// Checks the Content-Type against `allowed` (415 otherwise) and parses a JSON object.
    pub fn json(&self, allowed: &[&str]) -> Result<Map<String, Value>, ApiError> {
        let media = self.media_type();
        if !media.as_deref().is_some_and(|m| allowed.iter().any(|a| a.eq_ignore_ascii_case(m))) {
            return Err(ApiError::unsupported_media_type(self.content_type.as_deref(), allowed));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::invalid_json("expected a JSON object")),
            Err(e) => Err(ApiError::invalid_json(e.to_string())),
        }
    }

    /// The `limit` query parameter, checked: 1 to 1000.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.q("limit") {
            None => Ok(None),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::invalid_value("limit", format!("`limit` must be a number from 1 to 1000, got `{text}`"))),
            },
        }
    }
}

/// One response: status, body, extra headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Body,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    /// A HAL list page, serialized straight from the stored records so a page of
    /// large records is never copied first.
    Hal(Vec<u8>),
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self { status, body: Body::Json(body), headers: Vec::new() }
    }

    pub fn ok(body: Value) -> Self {
        Self::json(200, body)
    }

    pub fn created(body: Value) -> Self {
        Self::json(201, body)
    }

    pub fn no_content() -> Self {
        Self { status: 204, body: Body::Empty, headers: Vec::new() }
    }

    pub fn hal(body: Vec<u8>) -> Self {
        Self { status: 200, body: Body::Hal(body), headers: Vec::new() }
    }
}

pub type Outcome = Result<Reply, ApiError>;

/// Helpers for request bodies.
pub fn str_field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// `body.<name>.id` as a string.
pub fn ref_id<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(|v| v.get("id")).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `body.<a>.<b>…` for a dotted name.
pub fn field_at<'a>(body: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = body.get(parts.next().unwrap_or(""));
    for p in parts {
        v = v.and_then(|x| x.get(p));
    }
    v
}

/// Fails with INVALID_DATA naming every missing field (dotted names look inside objects).
pub fn require(body: &Map<String, Value>, fields: &[&str]) -> Result<(), ApiError> {
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| match field_at(body, f) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            _ => false,
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::required(&missing))
    }
}

/// Fails unless `body[name]` (dotted), when present, is a boolean (null is not).
pub fn check_bool(body: &Map<String, Value>, name: &str) -> Result<(), ApiError> {
    match field_at(body, name) {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(other) => Err(ApiError::invalid_value(name, format!("`{name}` must be a boolean, got {other}"))),
    }
}

/// Fails unless `body[name]` (dotted), when present, is one of `allowed`.
pub fn check_enum(body: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<(), ApiError> {
    match field_at(body, name) {
        None => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(ApiError::invalid_value(name, format!("`{name}` must be one of {}, got {other}", allowed.join(", ")))),
    }
}

/// Fails unless the integer at `path` (dotted), when present, lies in `min..=max`
/// (`max` None: no upper bound).
pub fn check_range(body: &Map<String, Value>, path: &str, min: i64, max: Option<i64>) -> Result<(), ApiError> {
    check_int(field_at(body, path), path, min, max)
}

/// Fails unless `value`, when present, is an integer in `min..=max`; `target` names it.
pub fn check_int(value: Option<&Value>, target: &str, min: i64, max: Option<i64>) -> Result<(), ApiError> {
    let Some(v) = value.filter(|v| !v.is_null()) else { return Ok(()) };
    let bounds = match max {
        Some(max) => format!("from {min} to {max}"),
        None => format!("at least {min}"),
    };
    match v.as_i64() {
        Some(n) if n >= min && max.is_none_or(|max| n <= max) => Ok(()),
        _ => Err(ApiError::invalid_value(target, format!("`{target}` must be an integer {bounds}, got {v}"))),
    }
}

/// Fails unless `body[name]` (dotted), when present, is an array with at least one item.
pub fn check_non_empty(body: &Map<String, Value>, name: &str) -> Result<(), ApiError> {
    match field_at(body, name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(a)) if !a.is_empty() => Ok(()),
        Some(other) => Err(ApiError::invalid_value(name, format!("`{name}` must be an array with at least one item, got {other}"))),
    }
}
