//! The parameters of an OAuth request: the form body of a POST, or the query of a GET.

use crate::simulator::errors::oauth_error;
use crate::simulator::reply::{Reply, Req};

pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The form body (`application/x-www-form-urlencoded`) of a POST.
    pub fn form(req: &Req) -> Self {
        Self(url::form_urlencoded::parse(&req.body).into_owned().collect())
    }

    /// The query of a GET.
    pub fn query(req: &Req) -> Self {
        Self(req.query.clone())
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// A parameter the request must carry, or the `invalid_request` error to send.
    pub fn require(&self, name: &str) -> Result<&str, Reply> {
        self.get(name).ok_or_else(|| oauth_error(400, "invalid_request", &format!("Request denied: {name} is required")))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The `scope` parameter, normalised to single spaces; `openid` when absent.
    pub fn scope(&self) -> String {
        let words: Vec<&str> = self.get("scope").unwrap_or("openid").split_whitespace().collect();
        words.join(" ")
    }
}

/// Whether the request body is a form, as the OAuth endpoints require.
pub(crate) fn is_form(req: &Req) -> bool {
    req.media_type().as_deref() == Some("application/x-www-form-urlencoded")
}

/// The form of an OAuth endpoint that takes only `POST` with a form body (`what` names
/// the request in the error).
pub(crate) fn post_form(req: &Req, what: &str) -> Result<Params, Reply> {
    if req.method != "POST" {
        return Err(oauth_error(405, "invalid_request", "use POST"));
    }
    if !is_form(req) {
        return Err(oauth_error(400, "invalid_request", &format!("the {what} must be application/x-www-form-urlencoded")));
    }
    Ok(Params::form(req))
}
