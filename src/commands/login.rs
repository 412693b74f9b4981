//! `pingone-mcp login`, `logout` and `whoami`: a person signs in to an environment,
//! and `--as-user` then acts with that person's roles.

use std::process::ExitCode;

use anyhow::Context;
use pingone_mcp::auth::{browser_login, device_login, revoke, AuthServer, LoginRequest, PersonSession, TokenStore, DEFAULT_SCOPE};
use pingone_mcp::config::{resolve_as, resolve_login, ConfigFile};
use pingone_mcp::pingone::{CallOptions, PingOneClient, RetryPolicy};
use serde_json::json;

use super::load_catalog;
use crate::cli::{GlobalArgs, LoginArgs};
use crate::output::{note, print, print_json};

pub async fn login(global: &GlobalArgs, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let file = ConfigFile::load(global.config.as_deref())?;
    let target = resolve_login(&file, global.profile.as_deref())?;
    let server = AuthServer::for_environment(&target.auth_base, &target.environment_id);
    let scope = args.scope.or(target.scope).unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
    let request = LoginRequest { server: server.clone(), client_id: target.client_id.clone(), scope, resource: args.resource };
    let http = http_client()?;
    let response = if args.device {
        device_login(&http, &request, |code| {
            let direct = code.verification_uri_complete.as_deref().map(|u| format!("\n  or open directly: {u}")).unwrap_or_default();
            note(&format!("To sign in, open {} and enter the code {}{direct}\n  (the code expires in {} minutes; waiting...)", code.verification_uri, code.user_code, code.expires_in / 60));
        })
        .await
    } else {
        browser_login(&http, &request, |url| {
            note(&format!("Sign in to PingOne in your browser:\n  {url}"));
            if !args.no_browser {
                open_browser(url.as_str());
            }
        })
        .await
    }
    .map_err(|e| anyhow::anyhow!("sign-in failed: {e}"))?;
    let session = PersonSession::from_response(&target.environment_id, &server.auth_base, &target.client_id, response, None);
    let store = TokenStore::from_env()?;
    let place = store.save(&target.profile, &session).await?;
    note(&format!(
        "Signed in to environment {} (profile `{}`); the session is stored in {place}. Use --as-user (or `as_user = true` in the profile) to act as yourself.",
        target.environment_id, target.profile
    ));
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let file = ConfigFile::load(global.config.as_deref())?;
    let profile = pingone_mcp::config::profile_name(&file, global.profile.as_deref());
    let store = TokenStore::from_env()?;
    if let Some(session) = store.load(&profile).await? {
        // Revocation is a courtesy to the server; the local copy goes regardless.
        if let (Some(refresh), Ok(base)) = (&session.refresh_token, url::Url::parse(&session.auth_base)) {
            let server = AuthServer::for_environment(&base, &session.environment_id);
            if let Err(e) = revoke(&http_client()?, &server.revocation(), &session.client_id, refresh, "refresh_token").await {
                note(&format!("could not revoke the refresh token at PingOne ({e}); it is deleted here anyway"));
            }
        }
    }
    if store.delete(&profile).await? {
        note(&format!("Signed out of profile `{profile}`."));
    } else {
        note(&format!("Nobody was signed in for profile `{profile}`."));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn whoami(global: &GlobalArgs, json_out: bool) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(global)?;
    let action = catalog.get("get_current_user_info").context("the catalog has no get_current_user_info action")?;
    let file = ConfigFile::load(global.config.as_deref())?;
    let conn = resolve_as(&file, global.profile.as_deref(), true)?;
    let (profile, environment) = (conn.profile.clone(), conn.environment_id.clone());
    let client = PingOneClient::new(conn, RetryPolicy::default())?;
    let info = client.call(action, &json!({}), &CallOptions::default()).await?;
    if json_out {
        print_json(&json!({ "profile": profile, "environmentId": environment, "userinfo": info }));
    } else {
        let field = |k: &str| info.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
        print(&format!("{} ({}) <{}>\n  user id:     {}\n  environment: {environment} (profile `{profile}`)", field("preferred_username"), field("name"), field("email"), field("sub")));
    }
    Ok(ExitCode::SUCCESS)
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("pingone-mcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")
}

/// Best effort: the URL is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") { "open" } else if cfg!(windows) { "explorer" } else { "xdg-open" };
    if let Err(e) = std::process::Command::new(opener).arg(url).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn() {
        tracing::debug!("cannot start {opener}: {e}; open the URL by hand");
    }
}
