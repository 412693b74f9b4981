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
    let mut origins = options.allowed_origins;
    origins.extend(["localhost", "127.0.0.1", "[::1]"].map(|host| format!("http://{host}:{}", addr.port())));
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
        .layer(middleware::from_fn_with_state(stopping.clone(), cancellations))
        .layer(middleware::from_fn_with_state(options.auth.clone(), authenticate));
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
