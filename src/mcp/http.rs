//! Streamable HTTP at `/mcp`: stateless (any instance behind a load balancer can
//! answer), with Host and Origin checks, and every caller authenticated (unless the
//! operator turned that off for a loopback address). The RFC 9728 metadata at
//! `/.well-known/oauth-protected-resource` tells clients where to get a token.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::PingOneMcp;
use crate::resource_server::{Refusal, ResourceServer};

pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

pub struct HttpOptions {
    pub addr: SocketAddr,
    /// Who may call; `None` only on loopback, by choice.
    pub auth: Option<Arc<ResourceServer>>,
    /// Extra `Host` values to accept (public hostnames behind a proxy).
    pub allowed_hosts: Vec<String>,
    /// Browser origins to accept besides the server's own; others are refused.
    pub allowed_origins: Vec<String>,
}

/// Binds `addr` (port 0 picks one); `serve_http` then serves on it.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
}

/// Refuses to serve anything but loopback without authentication.
pub fn check_exposure(addr: SocketAddr, authenticated: bool) -> anyhow::Result<()> {
    if !authenticated && !addr.ip().is_loopback() {
        bail!("refusing to serve {addr} without a bearer token: set PINGONE_MCP_HTTP_TOKEN, use --oauth, or bind a loopback address");
    }
    Ok(())
}

/// Refuses an `--allowed-origin` that is no origin, before the server says where it is.
pub fn check_origins(origins: &[String]) -> anyhow::Result<()> {
    origins.iter().try_for_each(|origin| BrowserOrigin::parse(origin).map(|_| ()))
}

/// Serves until the process ends.
pub async fn serve_http(server: PingOneMcp, listener: tokio::net::TcpListener, options: HttpOptions) -> anyhow::Result<()> {
    check_exposure(options.addr, options.auth.is_some())?;
    let addr = listener.local_addr()?;
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned(), format!("localhost:{}", addr.port()), format!("127.0.0.1:{}", addr.port())];
    // The address it was bound to, by number: a name is what a rebinding attack needs.
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        hosts.push(addr.to_string());
    }
    if addr.ip().is_unspecified() && options.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on every interface, but requests are accepted only with a loopback Host header (DNS-rebinding protection): \
             name each host clients use with --allowed-host (e.g. --allowed-host mcp.example.com:{port} --allowed-host 10.0.0.5:{port})",
            port = addr.port()
        );
    }
    hosts.extend(options.allowed_hosts);
    // A browser page may call only from this server's own loopback origins or those
    // allowed by name; clients that are not browsers send no Origin and pass.
    let allowed = options.allowed_origins.iter().map(|o| BrowserOrigin::parse(o)).collect::<anyhow::Result<Vec<_>>>()?;
    let own = ["localhost", "127.0.0.1", "[::1]"].map(|host| BrowserOrigin::parse(&format!("http://{host}:{}", addr.port())));
    let allowed: Vec<BrowserOrigin> = allowed.into_iter().chain(own.into_iter().flatten()).collect();
    let origins: Vec<String> = allowed.iter().map(|o| o.with_port.clone()).collect();
    let cors = cors_layer(&allowed);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation();
    let stopping = server.clone();
    let service = StreamableHttpService::new(move || Ok(server.clone()), LocalSessionManager::default().into(), config);
    let mcp = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn(unreadable_messages))
        .layer(middleware::from_fn_with_state(stopping.clone(), cancellations))
        .layer(middleware::from_fn_with_state(options.auth.clone(), authenticate))
        // Outermost: a browser's preflight carries no token, and is answered here.
        .layer(cors);
    let mut app = axum::Router::new().merge(mcp);
    if let Some(auth) = options.auth {
        let metadata = Json(auth.metadata());
        let nested = metadata.clone();
        app = app.route(METADATA_PATH, axum::routing::get(move || async move { metadata })).route(&format!("{METADATA_PATH}/mcp"), axum::routing::get(move || async move { nested }));
    }
    // On SIGTERM, SIGHUP or Ctrl-C (a redeploy, a closed terminal), running scripts stop
    // at once and their calls answer: each reply says what its script changed, and the
    // audit log has every call sent, before the process exits.
    let shutdown = async move {
        crate::stop_signal::stop_requested().await;
        tracing::warn!("shutting down: stopping running scripts; each says what it changed");
        stopping.stop_scripts();
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("the HTTP server failed")
}

/// An origin a browser page may call from, as `--allowed-origin` gave it.
struct BrowserOrigin {
    /// With its port always written (`https://app.example.com:443`): the MCP library
    /// reads an origin without a port as "any port".
    with_port: String,
    /// As browsers send it in `Origin` (the scheme's default port left out).
    as_sent: String,
}

impl BrowserOrigin {
    fn parse(text: &str) -> anyhow::Result<Self> {
        if text.contains('*') {
            bail!("--allowed-origin `{text}`: wildcards are not understood; name each origin, e.g. --allowed-origin https://app.example.com --allowed-origin https://admin.example.com");
        }
        let url = url::Url::parse(text).with_context(|| format!("--allowed-origin `{text}` is not an origin such as https://app.example.com"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none() && url.username().is_empty();
        let (Some(host), Some(port), true, true) = (url.host_str(), url.port_or_known_default(), matches!(url.scheme(), "http" | "https"), bare) else {
            bail!("--allowed-origin `{text}` is not an origin: give the scheme, host and (if not the default) port of the page, such as https://app.example.com or http://localhost:5173, with no path");
        };
        Ok(Self { with_port: format!("{}://{host}:{port}", url.scheme()), as_sent: url.origin().ascii_serialization() })
    }
}

/// CORS for the allowed origins: a browser client's preflight is answered, and its
/// page may read the replies and the headers MCP needs.
fn cors_layer(allowed: &[BrowserOrigin]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method};
    let origins: Vec<HeaderValue> = allowed.iter().filter_map(|o| HeaderValue::from_str(&o.as_sent).ok()).collect();
    let mcp = |name: &'static str| HeaderName::from_static(name);
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, mcp("mcp-session-id"), mcp("mcp-protocol-version"), mcp("last-event-id")])
        .expose_headers([header::WWW_AUTHENTICATE, mcp("mcp-session-id")])
        .max_age(std::time::Duration::from_secs(600))
}

/// How the MCP library answers a body it cannot read as a JSON-RPC message: 415, as
/// if the content type were wrong.
const UNREADABLE: &str = "fail to deserialize request body ";

/// The words (the MCP library's and serde_json's) for JSON that parses but is no
/// JSON-RPC message; any other failure is the JSON itself.
const NOT_A_MESSAGE: [&str; 8] = ["unrecognized JSON-RPC message", "missing field", "unknown field", "invalid type", "invalid value", "invalid length", "unknown variant", "data did not match"];

/// The most a request body may hold: the MCP library's own limit.
const MOST_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Every refusal of a request before it reaches the server, answered as JSON-RPC says:
/// the MCP library's 415 for a body it cannot read becomes a 400 with a parse error
/// (-32700) for broken JSON or an invalid request (-32600) for JSON that is no message,
/// saying where and what (`EOF while parsing a value at line 1 column 46`; a batch is
/// named as one), with the request's id when it has one; its plain-text 405, 406, 413
/// and 415 keep their status with the same JSON error body, so a client author reads
/// their bug in the shape their client reads, not a content-type puzzle.
async fn unreadable_messages(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let request_headers = parts.headers.clone();
    let Ok(sent) = axum::body::to_bytes(body, MOST_BODY_BYTES).await else {
        let why = format!("the request body is larger than {} MiB", MOST_BODY_BYTES >> 20);
        return json_rpc_error(StatusCode::PAYLOAD_TOO_LARGE, &serde_json::Value::Null, -32600, &why);
    };
    let response = next.run(Request::from_parts(parts, axum::body::Body::from(sent.clone()))).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json || status == StatusCode::UNAUTHORIZED {
        return response;
    }
    let (parts, body) = response.into_parts();
    let said = axum::body::to_bytes(body, NOTIFICATION_BYTES).await.unwrap_or_default();
    let said = String::from_utf8_lossy(&said).trim().to_owned();
    let request: Option<serde_json::Value> = serde_json::from_slice(&sent).ok();
    let id = request.as_ref().and_then(|r| r.get("id")).filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or_default();
    let Some(why) = said.strip_prefix(UNREADABLE) else {
        let what = match parts.status {
            StatusCode::METHOD_NOT_ALLOWED => "the MCP endpoint takes POST: this server is stateless, with no GET event stream and no session to DELETE".to_owned(),
            StatusCode::FORBIDDEN => refused_by_name(&request_headers, &said),
            _ if said.is_empty() => parts.status.canonical_reason().unwrap_or("refused").to_owned(),
            _ => said,
        };
        return json_rpc_error(parts.status, &id, -32600, &what);
    };
    let (code, what) = match &request {
        Some(serde_json::Value::Array(_)) => (-32600, "the request body is a JSON-RPC batch, which MCP (2025-06-18 and later) does not take: send each message in a POST of its own".to_owned()),
        Some(message) if message.get("jsonrpc").and_then(serde_json::Value::as_str) != Some("2.0") => (-32600, format!("the request body is JSON but not a JSON-RPC 2.0 message: \"jsonrpc\" must be \"2.0\" ({why})")),
        Some(_) if NOT_A_MESSAGE.iter().any(|words| why.starts_with(words)) => (-32600, format!("the request body is JSON but not a JSON-RPC 2.0 request or notification: {why}")),
        _ => (-32700, format!("the request body is not valid JSON: {why}")),
    };
    json_rpc_error(StatusCode::BAD_REQUEST, &id, code, &what)
}

/// The MCP library's Host and Origin refusals (DNS rebinding, a foreign web page), with
/// the name it refused and the flag that allows it.
fn refused_by_name(headers: &axum::http::HeaderMap, said: &str) -> String {
    let named = |name: header::HeaderName| headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
    if said.contains("Origin") {
        format!("a web page from origin `{}` may not call this server; if it is yours, start the server with --allowed-origin {0}", named(header::ORIGIN))
    } else if said.contains("Host") {
        format!("this server does not answer to the Host `{}` (DNS-rebinding protection); if clients reach it by that name, start it with --allowed-host {0}", named(header::HOST))
    } else {
        said.to_owned()
    }
}

fn json_rpc_error(status: StatusCode, id: &serde_json::Value, code: i64, message: &str) -> Response {
    (status, Json(serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }))).into_response()
}

/// A message this short may be a notification; longer ones are left to the MCP library.
const NOTIFICATION_BYTES: usize = 4096;

/// The stateless MCP library drops notifications, so a client's `notifications/cancelled`
/// is read here (after authentication) and handed to the server, which stops that
/// caller's call. Every message then goes on as it came.
async fn cancellations(State(server): State<PingOneMcp>, request: Request, next: Next) -> Response {
    let small = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok()).is_some_and(|len| len <= NOTIFICATION_BYTES);
    if request.method() != axum::http::Method::POST || !small {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, NOTIFICATION_BYTES).await else {
        return (StatusCode::BAD_REQUEST, "the request body is not what its Content-Length says").into_response();
    };
    if let Ok(message) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        if message["method"] == "notifications/cancelled" {
            let id = &message["params"]["requestId"];
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
            server.cancel_call(parts.extensions.get::<crate::policy::Caller>().map(|c| c.subject.as_str()), &id);
        }
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Puts the authenticated [`crate::policy::Caller`] into the request's extensions
/// (rmcp hands them to the tool call), or answers 401/403 with a challenge.
async fn authenticate(State(auth): State<Option<Arc<ResourceServer>>>, mut request: Request, next: Next) -> Response {
    let Some(auth) = auth else {
        return next.run(request).await;
    };
    let header_value = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match auth.authenticate(header_value).await {
        Ok(caller) => {
            tracing::debug!(subject = %caller.subject, profile = ?caller.profile, "authenticated an HTTP caller");
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refusal) => {
            let (status, body) = match &refusal {
                Refusal::Missing => (StatusCode::UNAUTHORIZED, "missing bearer token: send `Authorization: Bearer <token>`".to_owned()),
                Refusal::Invalid(why) => (StatusCode::UNAUTHORIZED, format!("invalid bearer token: {why}")),
                Refusal::Forbidden(why) => (StatusCode::FORBIDDEN, format!("forbidden: {why}")),
            };
            tracing::info!(status = status.as_u16(), "refused an HTTP caller: {body}");
            (status, [(header::WWW_AUTHENTICATE, auth.challenge(&refusal))], body).into_response()
        }
    }
}
