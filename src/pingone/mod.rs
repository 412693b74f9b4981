//! The PingOne HTTP client: worker token, request building, retries, pagination and
//! PingOne's error bodies.

mod auth;
mod client;
mod cursor;
mod error;
mod request;
mod rate;
mod retry;

pub use auth::{jwt_subject, TokenSource};
pub(crate) use auth::without_url;
pub use client::{CallOptions, PingOneClient};
pub use error::{gave_up_text, ClientError, ErrorDetail, PingOneErrorBody, ANSWER_UNREADABLE};
pub use rate::RateLimiter;
pub use retry::{RetryPolicy, Waits};
