//! The parameters of an OAuth request: the form body of a POST, or the query of a GET.

use crate::simulator::reply::Req;

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
