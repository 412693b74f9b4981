//! The authorization-code flow with PKCE and a loopback redirect (RFC 8252): a
//! one-shot listener on 127.0.0.1 receives the code, which is then exchanged.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::exchange::{exchange, OAuthError, TokenResponse};
use super::pkce::{random_url_safe, Pkce};
use super::LoginRequest;

/// How long to wait for the person to finish signing in.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

type Callback = std::collections::HashMap<String, String>;

/// Runs the flow: `open` gets the authorization URL to show or open in a browser.
pub async fn browser_login(http: &reqwest::Client, request: &LoginRequest, open: impl FnOnce(&Url)) -> Result<TokenResponse, OAuthError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| OAuthError::new("local_error", format!("cannot listen on a loopback port for the redirect: {e}")))?;
    let port = listener.local_addr().map_err(|e| OAuthError::new("local_error", e.to_string()))?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pkce = Pkce::new();
    let state = random_url_safe(16);

    let mut url = Url::parse(&request.server.authorize()).map_err(|e| OAuthError::new("local_error", format!("bad authorization URL: {e}")))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &request.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &request.scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(resource) = &request.resource {
            query.append_pair("resource", resource);
        }
    }

    let (sender, mut received) = mpsc::channel::<Callback>(1);
    let (stop, stopped) = oneshot::channel::<()>();
    let app = axum::Router::new().route("/callback", axum::routing::get(callback)).with_state(sender);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(async { let _ = stopped.await; }).await;
    });
    open(&url);

    let params = tokio::time::timeout(SIGN_IN_TIMEOUT, received.recv()).await;
    let _ = stop.send(());
    let _ = server.await;
    let params = match params {
        Ok(Some(params)) => params,
        _ => return Err(OAuthError::new("timeout", format!("no sign-in came back to {redirect_uri} within {} minutes; run `pingone-mcp login` again (or use --device)", SIGN_IN_TIMEOUT.as_secs() / 60))),
    };
    if params.get("state") != Some(&state) {
        return Err(OAuthError::new("invalid_state", "the redirect's state does not match this login (a stale or forged redirect); sign in again"));
    }
    if let Some(error) = params.get("error") {
        return Err(OAuthError::new(error, params.get("error_description").cloned().unwrap_or_default()));
    }
    let code = params.get("code").ok_or_else(|| OAuthError::new("invalid_response", "the redirect carried neither a code nor an error"))?;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", request.client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    exchange(http, &request.server.token(), &form).await
}

async fn callback(State(sender): State<mpsc::Sender<Callback>>, Query(params): Query<Callback>) -> Html<&'static str> {
    let failed = params.contains_key("error");
    let _ = sender.try_send(params);
    Html(if failed {
        "<!doctype html><title>pingone-mcp</title><p>Sign-in failed. Return to the terminal for details.</p>"
    } else {
        "<!doctype html><title>pingone-mcp</title><p>Signed in. You can close this tab and return to the terminal.</p>"
    })
}
