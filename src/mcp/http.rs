//! Streamable HTTP at `/mcp`: stateless (any instance behind a load balancer can
//! answer), with Host and Origin checks, and a bearer token unless the operator
//! turned it off for a loopback address.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::PingOneMcp;
use crate::secret::Secret;

pub struct HttpOptions {
    pub addr: SocketAddr,
    /// Required as `Authorization: Bearer …`; `None` only on loopback, by choice.
    pub token: Option<Secret>,
    /// Extra `Host` values to accept (public hostnames behind a proxy).
    pub allowed_hosts: Vec<String>,
    /// Browser origins to accept; others are refused.
    pub allowed_origins: Vec<String>,
}

/// Serves until the process ends. `ready` gets the bound address (port 0 picks one).
pub async fn serve_http(server: PingOneMcp, options: HttpOptions, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    if options.token.is_none() && !options.addr.ip().is_loopback() {
        bail!("refusing to serve {} without a bearer token: set PINGONE_MCP_HTTP_TOKEN, or bind a loopback address", options.addr);
    }
    let listener = tokio::net::TcpListener::bind(options.addr).await.with_context(|| format!("cannot listen on {}", options.addr))?;
    let addr = listener.local_addr()?;
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned(), format!("localhost:{}", addr.port()), format!("127.0.0.1:{}", addr.port())];
    hosts.extend(options.allowed_hosts);
    let mut config = StreamableHttpServerConfig::default().with_legacy_session_mode(false).with_json_response(true).with_allowed_hosts(hosts);
    if !options.allowed_origins.is_empty() {
        config = config.with_allowed_origins(options.allowed_origins);
    }
    let service = StreamableHttpService::new(move || Ok(server.clone()), LocalSessionManager::default().into(), config);
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(options.token.map(std::sync::Arc::new), require_token));
    ready(addr);
    axum::serve(listener, app).await.context("the HTTP server failed")
}

async fn require_token(State(token): State<Option<std::sync::Arc<Secret>>>, request: Request, next: Next) -> Response {
    if let Some(expected) = token {
        let presented = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !presented.is_some_and(|p| constant_time_eq(p.as_bytes(), expected.expose().as_bytes())) {
            let body = "missing or wrong bearer token: send `Authorization: Bearer <PINGONE_MCP_HTTP_TOKEN>`";
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
    }
    next.run(request).await
}

/// Compares without leaking, through timing, how much of the token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
