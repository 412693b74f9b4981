//! PingOne's error body, `{id, code, message, details:[{code, target, message}]}`,
//! and the OAuth error body of the auth host, `{error, error_description}`.

use serde_json::{json, Value};

use super::reply::Reply;

/// One `details[]` entry.
#[derive(Debug, Clone)]
pub struct Detail {
    pub code: &'static str,
    pub target: Option<String>,
    pub message: String,
}

/// A PingOne error response: the HTTP status plus the body's fields.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new() }
    }

    pub fn with_detail(mut self, code: &'static str, target: Option<&str>, message: impl Into<String>) -> Self {
        self.details.push(Detail { code, target: target.map(str::to_owned), message: message.into() });
        self
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, "NOT_FOUND", format!("Unable to find {what} with id `{id}`"))
    }

    pub fn no_route(path: &str) -> Self {
        Self::new(404, "NOT_FOUND", format!("The requested resource `{path}` was not found"))
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(405, "INVALID_REQUEST", format!("The method {method} is not supported on `{path}`"))
    }

    /// A field that is required and missing (INVALID_DATA, detail REQUIRED_VALUE).
    pub fn required(targets: &[&str]) -> Self {
        let mut e = Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.");
        for t in targets {
            e = e.with_detail("REQUIRED_VALUE", Some(t), format!("`{t}` is required and must not be empty"));
        }
        e
    }

    /// A field with a bad value (INVALID_DATA, detail INVALID_VALUE).
    pub fn invalid_value(target: &str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.")
            .with_detail("INVALID_VALUE", Some(target), message)
    }

    /// A text longer than its field allows.
    pub fn size_limit(target: &str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.")
            .with_detail("SIZE_LIMIT_EXCEEDED", Some(target), message)
    }

    /// A one-time passcode that is not the device's.
    pub fn invalid_otp() -> Self {
        Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.")
            .with_detail("INVALID_OTP", Some("otp"), "the one-time passcode is not valid")
    }

    pub fn uniqueness(target: &str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.")
            .with_detail("UNIQUENESS_VIOLATION", Some(target), message)
    }

    pub fn invalid_filter(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_DATA", "The request could not be completed. One or more validation errors were in the request.")
            .with_detail("INVALID_FILTER", Some("filter"), message)
    }

    /// A rule of the data forbids the change (e.g. deleting a non-empty population).
    pub fn request_failed(message: impl Into<String>) -> Self {
        Self::new(400, "REQUEST_FAILED", message)
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_REQUEST", format!("The request body is not valid JSON: {}", message.into()))
    }

    pub fn unsupported_media_type(got: Option<&str>, allowed: &[&str]) -> Self {
        let got = got.unwrap_or("(none)");
        Self::new(415, "INVALID_REQUEST", format!("Content-Type `{got}` is not supported here; use {}", allowed.join(" or ")))
    }

    pub fn access_failed(message: impl Into<String>) -> Self {
        Self::new(401, "ACCESS_FAILED", message)
    }

    pub fn rate_limited() -> Self {
        Self::new(429, "REQUEST_LIMITED", "The request was rate limited. Try again after the time in the Retry-After header.")
            .with_detail("LIMIT_EXCEEDED", None, "request rate limit exceeded")
    }

    pub fn unexpected(status: u16) -> Self {
        Self::new(status, "UNEXPECTED_ERROR", "An unexpected error occurred.")
    }

    pub fn body(&self, id: &str) -> Value {
        let details: Vec<Value> = self
            .details
            .iter()
            .map(|d| {
                let mut v = json!({ "code": d.code, "message": d.message });
                if let Some(t) = &d.target {
                    v["target"] = json!(t);
                }
                v
            })
            .collect();
        let mut body = json!({ "id": id, "code": self.code, "message": self.message });
        if !details.is_empty() {
            body["details"] = Value::Array(details);
        }
        body
    }

    pub fn into_reply(self) -> Reply {
        let id = uuid::Uuid::new_v4().to_string();
        Reply::json(self.status, self.body(&id))
    }
}

/// The auth host's OAuth 2 error body.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    let mut reply = Reply::json(status, json!({ "error": error, "error_description": description }));
    if status == 401 {
        reply.headers.push(("WWW-Authenticate".into(), format!("Bearer error=\"{error}\"")));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_pingone_shape() {
        let b = ApiError::required(&["username", "email"]).body("x");
        assert_eq!(b["code"], "INVALID_DATA");
        assert_eq!(b["details"][1]["target"], "email");
        assert_eq!(b["details"][0]["code"], "REQUIRED_VALUE");
        assert!(ApiError::not_found("user", "1").body("x").get("details").is_none());
    }
}
