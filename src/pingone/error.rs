//! Errors of the client. PingOne's error body is kept whole, with the HTTP status.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::ArgsError;

/// PingOne's error body: `{id, code, message, details[]}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct PingOneErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "innerError", skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Args(#[from] ArgsError),

    /// PingOne answered with an error status. `gave_up` says why a status worth another
    /// try (429, 5xx on a read) was not tried again: the tries ran out, or the wait
    /// PingOne asked for was too long.
    #[error("{action}: PingOne answered {status} {}: {}{}{}", body.code, body.message, details_text(&body.details), gave_up_text(gave_up))]
    Api { action: String, method: &'static str, path: String, status: u16, body: Box<PingOneErrorBody>, transaction_id: String, gave_up: Option<String> },

    /// The token endpoint refused the credentials (or sent an unusable answer).
    #[error("cannot get an access token from {url}: {message}")]
    Auth { url: String, status: Option<u16>, message: String },

    /// The token endpoint could not be reached or failed (a 5xx, a 429): nothing about
    /// the credentials is known, and no call was made.
    #[error("cannot get an access token: the token endpoint {url} {problem}. No call was made; check the auth URL or region (the profile's `region` or `auth_url`, PINGONE_REGION, PINGONE_AUTH_URL) and the network, then try again")]
    AuthUnavailable { url: String, status: Option<u16>, problem: String },

    /// The request may have reached PingOne, and retrying a non-idempotent call
    /// could repeat it: the caller must check the state before trying again.
    /// `answer` is PingOne's error body when a 5xx left the outcome unknown. It is kept
    /// out of the message, so that scanning it (it can echo the request's values)
    /// never withholds the guidance.
    /// `tries` is how many of its tries may have been applied: more than one only for
    /// an idempotent write, which is safe to repeat, whose every try went unanswered.
    #[error("{action}: the outcome is unknown: {reason}. {}; check the current state (e.g. with a get or list action) before trying again (transaction id {transaction_id})", unanswered_tries_text(.method, .tries))]
    OutcomeUnknown { action: String, method: &'static str, reason: String, status: Option<u16>, answer: Option<Box<PingOneErrorBody>>, transaction_id: String, tries: u32 },

    /// Retries ran out on a retryable failure.
    #[error("{action}: gave up after {attempts} attempts: {last}")]
    RetriesExhausted { action: String, attempts: u32, last: String, transaction_id: String },

    #[error("{action}: cannot reach PingOne at {url}: {message}")]
    Transport { action: String, url: String, message: String },

    #[error("{action}: {message}")]
    Unusable { action: String, message: String },

    /// PingOne answered with a success status and a body that is not JSON: the call was
    /// carried out (a write applied), only its answer cannot be read. A read is tried
    /// again first, and told apart: it changed nothing.
    #[error("{action}: PingOne answered {status} with a body that is not JSON ({problem}); {}", if *wrote {
        "the request itself succeeded (a write was applied): read the record back with a get or list action rather than send it again"
    } else {
        "nothing was changed (a read), and the tries after it were answered the same way: try again later"
    })]
    AnswerUnreadable { action: String, status: u16, problem: String, wrote: bool, transaction_id: String },

    /// `all: true` gave up: the list is longer than one call should gather.
    #[error("{action}: {message}")]
    ListTooLarge { action: String, message: String },
}

/// The code of [`ClientError::AnswerUnreadable`]: a write with it was applied.
pub const ANSWER_UNREADABLE: &str = "ANSWER_UNREADABLE";

/// Why an unknown outcome was not settled by trying again.
fn unanswered_tries_text(method: &str, tries: &u32) -> String {
    match tries {
        0 | 1 => format!("The {method} was not retried because it may have been applied"),
        // Worded with the classifier in mind: "none of its tries was answered" reads as an order to it.
        n => format!("The {method} was sent {n} times and may have been applied"),
    }
}

/// ` (why)`, after the message of an error whose retries were given up.
pub fn gave_up_text(gave_up: &Option<String>) -> String {
    gave_up.as_deref().map(|why| format!(" ({why})")).unwrap_or_default()
}

fn details_text(details: &[ErrorDetail]) -> String {
    if details.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = details
        .iter()
        .map(|d| match &d.target {
            Some(target) => format!("{} `{target}`: {}", d.code, d.message),
            None => format!("{}: {}", d.code, d.message),
        })
        .collect();
    format!(" ({})", parts.join("; "))
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::AnswerUnreadable { status, .. } => Some(*status),
            ClientError::Auth { status, .. } | ClientError::AuthUnavailable { status, .. } | ClientError::OutcomeUnknown { status, .. } => *status,
            _ => None,
        }
    }

    /// A JSON form for scripts and `--json` output: `{status, code, message, details}`, and
    /// `transactionId` when a request was sent.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ClientError::Api { status, body, transaction_id, gave_up, .. } => serde_json::json!({
                "status": status, "code": body.code, "message": format!("{}{}", body.message, gave_up_text(gave_up)),
                "details": body.details, "transactionId": transaction_id,
            }),
            other => {
                let code = match other {
                    ClientError::Args(_) => "INVALID_ARGUMENTS",
                    ClientError::Auth { .. } => "AUTHENTICATION_FAILED",
                    ClientError::AuthUnavailable { .. } => "AUTH_UNAVAILABLE",
                    ClientError::OutcomeUnknown { .. } => "OUTCOME_UNKNOWN",
                    ClientError::RetriesExhausted { .. } => "RETRIES_EXHAUSTED",
                    ClientError::Transport { .. } => "TRANSPORT_ERROR",
                    ClientError::ListTooLarge { .. } => "LIST_TOO_LARGE",
                    ClientError::AnswerUnreadable { .. } => ANSWER_UNREADABLE,
                    _ => "CLIENT_ERROR",
                };
                let details = match other {
                    ClientError::OutcomeUnknown { answer: Some(body), .. } => serde_json::json!([body]),
                    _ => serde_json::json!([]),
                };
                let mut json = serde_json::json!({ "status": other.status(), "code": code, "message": other.to_string(), "details": details });
                if let ClientError::OutcomeUnknown { transaction_id, .. } | ClientError::RetriesExhausted { transaction_id, .. } | ClientError::AnswerUnreadable { transaction_id, .. } = other {
                    json["transactionId"] = serde_json::json!(transaction_id);
                }
                json
            }
        }
    }
}

/// Parses an error body; a non-PingOne body (a proxy's HTML, say) becomes its text.
pub(crate) fn parse_error_body(status: u16, text: &str) -> PingOneErrorBody {
    match serde_json::from_str::<PingOneErrorBody>(text) {
        Ok(body) if !body.code.is_empty() || !body.message.is_empty() => body,
        _ => {
            // OAuth errors: {error, error_description}
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                if let Some(code) = v.get("error").and_then(|e| e.as_str()) {
                    let message = v.get("error_description").and_then(|d| d.as_str()).unwrap_or("").to_owned();
                    return PingOneErrorBody { code: code.to_owned(), message, ..Default::default() };
                }
            }
            let snippet: String = text.chars().take(300).collect();
            PingOneErrorBody { code: format!("HTTP_{status}"), message: snippet, ..Default::default() }
        }
    }
}

impl fmt::Display for PingOneErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.code, self.message, details_text(&self.details))
    }
}
