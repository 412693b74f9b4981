//! The HTTP front: reads a request, applies the fault knobs, checks the bearer
//! token, hands the request to the routes under the state lock, and writes the
//! reply (or breaks it, when a fault says so).

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;

use super::errors::ApiError;
use super::faults::{FaultKind, Faults};
use super::oauth::{self, AuthServer};
use super::reply::{self, Reply, Req};
use super::routes;
use super::store::{State, Subject};

/// Largest request body read (certificates are the biggest legitimate ones).
const MAX_BODY: usize = 16 << 20;
const TRANSACTION_HEADER: &str = "x-ping-external-transaction-id";
const HAL: &str = "application/hal+json;charset=UTF-8";

/// Shared by every request.
pub(crate) struct App {
    pub state: Mutex<State>,
    pub faults: RwLock<Faults>,
    pub auth: AuthServer,
}

impl App {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

async fn handle(AxumState(app): AxumState<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return respond(ApiError::new(413, "INVALID_REQUEST", "the request body is too large or was cut off").into_reply(), None);
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let req = Req {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect(),
        content_type: header("content-type"),
        authorization: header("authorization"),
        body: bytes,
    };
    let transaction = header(TRANSACTION_HEADER);
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();

    // The auth host (OAuth and sign-on pages), never faulted.
    if let Some(answer) = oauth::handle(&app, &req, &segs).await {
        return answer.into_response(transaction);
    }
    if segs.first() != Some(&"v1") {
        return respond(ApiError::no_route(&req.path).into_reply(), transaction);
    }

    let relative = match segs.as_slice() {
        ["v1", "environments", _, rest @ ..] => format!("/{}", rest.join("/")),
        _ => req.path.clone(),
    };
    let decision = app.faults.read().unwrap_or_else(|p| p.into_inner()).decide(&req.method, &req.path, &relative);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.fault {
        Some(FaultKind::RateLimit { retry_after_ms }) => {
            let mut reply = ApiError::rate_limited().into_reply();
            let secs = if retry_after_ms % 1000 == 0 { (retry_after_ms / 1000).to_string() } else { format!("{:.3}", retry_after_ms as f64 / 1000.0) };
            reply.headers.push(("Retry-After".into(), secs));
            return respond(reply, transaction);
        }
        Some(FaultKind::ServerError { status, applied: false }) => return respond(server_error(status), transaction),
        _ => {}
    }

    let reply = {
        let mut st = app.state();
        match authorize(&st, &req) {
            Err(e) => e.into_reply(),
            Ok(subject) => {
                st.caller = Some(subject);
                let outcome = management(&mut st, &req, &segs);
                st.caller = None;
                outcome.unwrap_or_else(ApiError::into_reply)
            }
        }
    };
    // What was carried out stays so; only its answer is lost.
    match decision.fault {
        Some(FaultKind::Malformed) => malformed(reply.status),
        Some(FaultKind::Drop) => dropped(),
        Some(FaultKind::ServerError { status, applied: true }) => respond(server_error(status), transaction),
        _ => respond(reply, transaction),
    }
}

/// PingOne's UNEXPECTED_ERROR, with `Retry-After` on a 503.
fn server_error(status: u16) -> Reply {
    let mut reply = ApiError::unexpected(status).into_reply();
    if status == 503 {
        reply.headers.push(("Retry-After".into(), "0".into()));
    }
    reply
}

/// The bearer token of a management call: a live client-credentials token, or a
/// person's token for the API whose roles allow the call.
fn authorize(st: &State, req: &Req) -> Result<Subject, ApiError> {
    let token = req.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer "))).map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ApiError::access_failed("The request could not be completed. You must provide an access token.").with_detail("INVALID_TOKEN", None, "no bearer token in the Authorization header"));
    };
    match st.token_subject(token) {
        Some(Subject::Client(client_id)) => oauth::application_may_call(st, client_id, &req.method).map(|()| Subject::Client(client_id.clone())),
        Some(Subject::User(user_id)) => oauth::person_may_call(st, token, user_id, &req.method).map(|()| Subject::User(user_id.clone())),
        None => Err(ApiError::access_failed("The request could not be completed. The access token is invalid or has expired.").with_detail("INVALID_TOKEN", None, "the access token is unknown or expired")),
    }
}

fn management(st: &mut State, req: &Req, segs: &[&str]) -> Result<Reply, ApiError> {
    match segs {
        ["v1", "roles"] => routes::org_roles(st, req, None),
        ["v1", "roles", id] => routes::org_roles(st, req, Some(id)),
        ["v1", "environments", env] => routes::environment(st, req, env),
        ["v1", "environments", env, rest @ ..] => {
            if *env != st.environment_id {
                return Err(ApiError::new(403, "ACCESS_FAILED", format!("The request could not be completed. Environment `{env}` does not exist or you do not have access to it.")));
            }
            routes::environment_call(st, req, rest)
        }
        _ => Err(ApiError::no_route(&req.path)),
    }
}

pub(crate) fn respond(reply: Reply, transaction: Option<String>) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    let body = match reply.body {
        reply::Body::Json(value) => {
            let hal = value.get("_links").is_some() && reply.status < 300;
            headers.insert("content-type", HeaderValue::from_static(if hal { HAL } else { "application/json" }));
            Body::from(serde_json::to_vec(&value).unwrap_or_default())
        }
        reply::Body::Hal(bytes) => {
            headers.insert("content-type", HeaderValue::from_static(HAL));
            Body::from(bytes)
        }
        reply::Body::Empty => Body::empty(),
    };
    for (k, v) in &reply.headers {
        if let (Ok(name), Ok(value)) = (axum::http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            headers.insert(name, value);
        }
    }
    if let Some(value) = transaction.and_then(|t| HeaderValue::from_str(&t).ok()) {
        headers.insert(TRANSACTION_HEADER, value);
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Headers go out, then the connection breaks before the promised body ends.
fn dropped() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"{\"_embedded\":")), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated dropped connection"))];
    let mut response = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response.headers_mut().insert("content-length", HeaderValue::from_static("4096"));
    response
}

/// A success status with a body that is not JSON.
fn malformed(status: u16) -> Response {
    let mut response = Response::new(Body::from("{\"_links\":{\"self\":{\"href\":\"<html><body>502 Bad Gateway</body>"));
    *response.status_mut() = StatusCode::from_u16(if status < 300 { status } else { 200 }).unwrap_or(StatusCode::OK);
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}
