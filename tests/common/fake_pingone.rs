//! A scripted PingOne on loopback for the client's failure paths: each route answers
//! from a queue of canned replies (the last one repeats), every request is recorded,
//! and the token endpoint issues numbered tokens. The stateful simulator covers
//! behaviour; this covers exact sequences of faults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const ENV_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-do-not-print";

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
    pub delay: Duration,
    /// Send the status and headers, then break the connection mid-body.
    pub cut_body: bool,
    /// Answer with the request written back in the error's message, as a debugging
    /// proxy or a misconfigured endpoint may.
    pub echo: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self { status, headers: Vec::new(), body, delay: Duration::ZERO, cut_body: false, echo: false }
    }
    /// An error whose message writes the request back: its Authorization header and body.
    pub fn echo(status: u16) -> Self {
        Self { echo: true, ..Self::json(status, Value::Null) }
    }
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, json!({ "id": "err-1", "code": code, "message": message }))
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn cut(mut self) -> Self {
        self.cut_body = true;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

#[derive(Default)]
struct Script {
    routes: HashMap<String, VecDeque<Reply>>,
    requests: Vec<Recorded>,
    tokens_issued: usize,
    token_lifetime_secs: u64,
    token_delay: Duration,
    /// Statuses the token endpoint answers with, in order, before issuing tokens again.
    token_failures: VecDeque<u16>,
    /// The token endpoint refuses every request, writing it back in its error.
    echo_token_requests: bool,
}

#[derive(Clone)]
pub struct FakePingOne {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl FakePingOne {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script { token_lifetime_secs: 3600, ..Default::default() }));
        let app = axum::Router::new().fallback(handle).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let fake = Self { base_url, script };
        // What the production guard reads; tests that need PRODUCTION replace it.
        fake.on("GET", &format!("/v1/environments/{ENV_ID}"), vec![Reply::json(200, json!({ "id": ENV_ID, "name": "Test", "type": "SANDBOX" }))]);
        fake
    }

    /// Replies for `METHOD /v1/path` (path without the query), in order.
    pub fn on(&self, method: &str, path: &str, replies: Vec<Reply>) {
        self.script.lock().unwrap().routes.insert(format!("{method} {path}"), replies.into());
    }

    pub fn token_lifetime(&self, secs: u64) {
        self.script.lock().unwrap().token_lifetime_secs = secs;
    }

    pub fn token_delay(&self, delay: Duration) {
        self.script.lock().unwrap().token_delay = delay;
    }

    /// The token endpoint fails with these statuses, one a request, then works again.
    pub fn fail_tokens(&self, statuses: &[u16]) {
        self.script.lock().unwrap().token_failures = statuses.iter().copied().collect();
    }

    /// The token endpoint refuses every request from now on, writing the request back.
    pub fn echo_token_requests(&self) {
        self.script.lock().unwrap().echo_token_requests = true;
    }

    /// Requests to the token endpoint.
    pub fn token_requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().requests.iter().filter(|r| r.path.ends_with("/as/token")).cloned().collect()
    }

    pub fn tokens_issued(&self) -> usize {
        self.script.lock().unwrap().tokens_issued
    }

    /// Requests to the management API (not the token endpoint, nor the production
    /// guard's read of the environment).
    pub fn api_requests(&self) -> Vec<Recorded> {
        let environment = format!("/v1/environments/{ENV_ID}");
        self.script.lock().unwrap().requests.iter().filter(|r| !r.path.ends_with("/as/token") && r.path != environment).cloned().collect()
    }

    pub fn env_path(&self, rest: &str) -> String {
        format!("/v1/environments/{ENV_ID}{rest}")
    }

    /// Connection settings for a client of this server (the right secret, basic auth).
    pub fn connection(&self) -> pingone_mcp::config::Connection {
        pingone_mcp::config::Connection {
            profile: "test".into(),
            environment_id: ENV_ID.into(),
            credentials: worker(CLIENT_SECRET, pingone_mcp::config::AuthMethod::Basic),
            api_base: format!("{}/v1", self.base_url).parse().unwrap(),
            auth_base: self.base_url.parse().unwrap(),
            user_token: None,
            request_timeout: Duration::from_secs(10),
        }
    }

    /// The environment variables that point the binary at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PINGONE_ENVIRONMENT_ID", ENV_ID.to_owned()),
            ("PINGONE_CLIENT_ID", CLIENT_ID.to_owned()),
            ("PINGONE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("PINGONE_API_URL", format!("{}/v1", self.base_url)),
            ("PINGONE_AUTH_URL", self.base_url.clone()),
        ]
    }
}

async fn handle(State(script): State<Arc<Mutex<Script>>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let recorded = Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().map(str::to_owned),
        headers: headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    if path == format!("/{ENV_ID}/as/token") {
        return token(script, recorded).await;
    }
    let echo = echoed(&recorded);
    let reply = {
        let mut script = script.lock().unwrap();
        script.requests.push(recorded);
        let key = format!("{method} {path}");
        match script.routes.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let Some(reply) = reply else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"id": "nf", "code": "NOT_FOUND", "message": format!("no route {method} {path}")}))).into_response();
    };
    if !headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer tok-")) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"id": "u", "code": "ACCESS_FAILED", "message": "missing or bad token"}))).into_response();
    }
    tokio::time::sleep(reply.delay).await;
    let mut response = if reply.echo {
        Response::new(Body::from(json!({ "id": "echo", "code": "INVALID_DATA", "message": echo }).to_string()))
    } else if reply.cut_body {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"{\"_embedded\": {")), Err(std::io::Error::other("connection dropped"))];
        Response::new(Body::from_stream(futures::stream::iter(chunks)))
    } else if reply.body.is_null() {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(reply.body.to_string()))
    };
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    response.headers_mut().insert("content-type", "application/json".parse().unwrap());
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn token(script: Arc<Mutex<Script>>, recorded: Recorded) -> Response {
    let expected = format!("Basic {}", base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    let basic = recorded.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    let form: HashMap<String, String> = url::form_urlencoded::parse(recorded.body.as_bytes()).into_owned().collect();
    let post = form.get("client_id").map(String::as_str) == Some(CLIENT_ID) && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    let authorized = (basic || post) && form.get("grant_type").map(String::as_str) == Some("client_credentials");
    let (delay, lifetime, number) = {
        let mut script = script.lock().unwrap();
        if script.echo_token_requests {
            let body = json!({"error": "invalid_client", "error_description": echoed(&recorded)});
            script.requests.push(recorded);
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        script.requests.push(recorded);
        if let Some(status) = script.token_failures.pop_front() {
            let body = json!({"id": "t", "code": "SERVICE_UNAVAILABLE", "message": "try again later"});
            return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
        }
        if authorized {
            script.tokens_issued += 1;
        }
        (script.token_delay, script.token_lifetime_secs, script.tokens_issued)
    };
    tokio::time::sleep(delay).await;
    if !authorized {
        let body = json!({"error": "invalid_client", "error_description": "Request denied: Invalid client credentials"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    axum::Json(json!({"access_token": format!("tok-{number}-fake-access-token"), "token_type": "Bearer", "expires_in": lifetime})).into_response()
}

/// A request written back as an echoing endpoint would: its Authorization header and body.
fn echoed(request: &Recorded) -> String {
    let authorization = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("none");
    format!("bad request; got Authorization {authorization} body {}", request.body)
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Worker credentials for the fake's client id.
pub fn worker(secret: &str, auth_method: pingone_mcp::config::AuthMethod) -> pingone_mcp::config::Credentials {
    pingone_mcp::config::Credentials::Worker { client_id: CLIENT_ID.into(), client_secret: pingone_mcp::secret::Secret::new(secret), auth_method }
}
