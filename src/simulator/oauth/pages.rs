//! What the browser-facing endpoints answer: small HTML pages (sign-on form, device
//! code form, messages) and redirects. Forms are plain `method="post"` forms so a test
//! can play the browser: read the `action` and the hidden fields, post them back.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::simulator::reply::Reply;

/// An answer of the auth host: JSON (the OAuth endpoints), a page, or a redirect.
pub(crate) enum Answer {
    Json(Reply),
    Page { status: u16, html: String },
    Redirect(String),
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Self {
        Answer::Json(reply)
    }
}

impl Answer {
    pub fn into_response(self, transaction: Option<String>) -> Response {
        let (status, body, header) = match self {
            Answer::Json(reply) => return crate::simulator::server::respond(reply, transaction),
            Answer::Page { status, html } => (status, Body::from(html), ("content-type", "text/html; charset=utf-8".to_owned())),
            Answer::Redirect(location) => (302, Body::empty(), ("location", location)),
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        if let Ok(value) = HeaderValue::from_str(&header.1) {
            response.headers_mut().insert(header.0, value);
        }
        // Sign-on pages and redirects carry codes: never cache them.
        response.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
        response
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: u16, title: &str, inner: &str) -> Answer {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body><h1>{t}</h1>\n{inner}\n<p><small>PingOne simulator (pingone-mcp)</small></p></body></html>\n",
        t = escape(title)
    );
    Answer::Page { status, html }
}

fn error_line(error: Option<&str>) -> String {
    error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e))).unwrap_or_default()
}

/// The sign-on form of an authorization request: `flowId` (hidden), `username`, `password`.
pub(crate) fn sign_on_form(action: &str, flow_id: &str, app_name: &str, error: Option<&str>) -> Answer {
    let inner = format!(
        "<p>Sign on to continue to {app}.</p>\n{err}<form method=\"post\" action=\"{action}\">\n<input type=\"hidden\" name=\"flowId\" value=\"{flow}\">\n<label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\"></label>\n<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\n<button type=\"submit\">Sign on</button>\n</form>",
        app = escape(app_name),
        err = error_line(error),
        action = escape(action),
        flow = escape(flow_id),
    );
    page(200, "Sign On", &inner)
}

/// The device activation form: `user_code`, `username`, `password`; a `deny` button.
pub(crate) fn device_form(action: &str, user_code: &str, error: Option<&str>) -> Answer {
    let inner = format!(
        "<p>Enter the code shown on your device, then sign on to allow it.</p>\n{err}<form method=\"post\" action=\"{action}\">\n<label>Code <input type=\"text\" name=\"user_code\" value=\"{code}\"></label>\n<label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\"></label>\n<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\n<button type=\"submit\" name=\"approve\" value=\"true\">Allow</button>\n<button type=\"submit\" name=\"deny\" value=\"true\">Deny</button>\n</form>",
        err = error_line(error),
        action = escape(action),
        code = escape(user_code),
    );
    page(200, "Connect a Device", &inner)
}

/// A page that only says something (errors the browser must not be redirected for).
pub(crate) fn message(status: u16, title: &str, text: &str) -> Answer {
    page(status, title, &format!("<p>{}</p>", escape(text)))
}
