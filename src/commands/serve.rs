//! `pingone-mcp serve`: the MCP server over stdio or streamable HTTP.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use pingone_mcp::auth::AuthServer;
use pingone_mcp::config::{config_dir, ConfigFile};
use pingone_mcp::defender::Defender;
use pingone_mcp::mcp::{bind, serve_http, HttpOptions, PingOneMcp, ServerOptions, METADATA_PATH};
use pingone_mcp::policy::default_scope_grants;
use pingone_mcp::resource_server::{JwtValidator, ResourceServer, ServedProfile, SessionTokens};
use pingone_mcp::sandbox::{Limits, Sandbox};
use pingone_mcp::secret::Secret;
use rmcp::ServiceExt;

use super::{session, Session};
use crate::cli::{GlobalArgs, ServeArgs};
use crate::output::note;

const TOKEN_ENV: &str = "PINGONE_MCP_HTTP_TOKEN";

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let main = session(global, &args.policy, &args.simulator, args.replay.as_deref()).await?;
    let limits = Limits { wall_time: Duration::from_secs(args.timeout), ..Limits::default() };
    if !(0.0..=1.0).contains(&args.defender_threshold) {
        anyhow::bail!("--defender-threshold is a classifier score between 0 and 1, got {}", args.defender_threshold);
    }
    let defender = Arc::new(Defender::load(args.defender, args.defender_threshold));
    if let Some(warning) = defender.warning() {
        note(warning);
    }
    let options = ServerOptions { mode: args.mode, limits, result_budget: args.max_result_tokens, defender };
    let default_profile = main.connection.as_ref().map(|c| c.profile.clone()).unwrap_or_else(|| "default".into());
    let mut served = vec![served_profile(&main, &default_profile)];
    let dispatcher = Arc::new(main.dispatcher);
    let _simulator = main.simulator;
    let mut server = PingOneMcp::new(main.catalog, main.search, Sandbox::new().await?, dispatcher, options);

    let Some(addr) = args.http else {
        let running = server.serve(rmcp::transport::stdio()).await?;
        running.waiting().await?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut extra = BTreeMap::new();
    for name in &args.serve_profiles {
        let scoped = GlobalArgs { profile: Some(name.clone()), ..global.clone() };
        let profile = session(&scoped, &args.policy, &args.simulator, None).await.with_context(|| format!("cannot serve profile `{name}`"))?;
        served.push(served_profile(&profile, name));
        extra.insert(name.clone(), Arc::new(profile.dispatcher));
    }
    server = server.with_profiles(&default_profile, extra);

    let listener = bind(addr).await?;
    let bound = listener.local_addr()?;
    let public = args.public_url.map(|u| u.as_str().trim_end_matches('/').to_owned()).unwrap_or_else(|| format!("http://{bound}"));
    note(&format!("pingone-mcp: MCP over streamable HTTP at {public}/mcp"));
    let auth = if args.no_auth { None } else { Some(Arc::new(resource_server(global, args.oauth, served, &public)?)) };
    if let Some(auth) = &auth {
        let servers: Vec<&str> = auth.profiles.iter().filter_map(|p| p.validator.as_ref()).map(|v| v.issuer.as_str()).collect();
        if !servers.is_empty() {
            note(&format!("accepting access tokens for audience {} from {}", auth.resource, servers.join(", ")));
        }
    }
    serve_http(server, listener, HttpOptions { addr, auth, allowed_hosts: args.allowed_hosts, allowed_origins: args.allowed_origins }).await?;
    Ok(ExitCode::SUCCESS)
}

/// An environment served over HTTP; its validator is added when `--oauth` is on.
fn served_profile(session: &Session, profile: &str) -> ServedProfile {
    let environment_id = session.connection.as_ref().map(|c| c.environment_id.clone()).unwrap_or_default();
    ServedProfile { profile: profile.to_owned(), environment_id, validator: None }
}

/// Who may call: PingOne access tokens (with --oauth), session tokens (once any were
/// issued here), and the static token (from the environment, else generated, unless
/// --oauth stands in for it).
fn resource_server(global: &GlobalArgs, oauth: bool, mut served: Vec<ServedProfile>, public: &str) -> anyhow::Result<ResourceServer> {
    let file = ConfigFile::load(global.config.as_deref())?;
    let resource = format!("{public}/mcp");
    if oauth {
        for profile in &mut served {
            let conn = pingone_mcp::config::resolve_as(&file, Some(&profile.profile), true).ok();
            let Some(conn) = conn else { bail!("--oauth needs the environment of profile `{}` (its id and region or auth URL)", profile.profile) };
            let server = AuthServer::for_environment(&conn.auth_base, &conn.environment_id);
            profile.validator = Some(JwtValidator::new(&server.issuer, &server.jwks(), &resource));
        }
    }
    let session_tokens = match config_dir() {
        Some(dir) => SessionTokens::open(&dir)?,
        None => None,
    };
    if session_tokens.is_some() {
        note("accepting session tokens issued with `pingone-mcp token issue` on this machine");
    }
    #[allow(clippy::disallowed_methods)]
    let from_env = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()).map(Secret::new);
    let static_token = match from_env {
        Some(token) => Some(token),
        None if !oauth => Some(generated_token()?),
        None => None,
    };
    let scopes = if file.scopes.is_empty() { default_scope_grants() } else { file.scopes.clone() };
    Ok(ResourceServer { profiles: served, session_tokens, static_token, scopes, resource, metadata_url: format!("{public}{METADATA_PATH}") })
}

/// A fresh token, written to a file only the user can read (never to the log).
fn generated_token() -> anyhow::Result<Secret> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let dir = pingone_mcp::sandbox::cache_dir().and_then(|d| d.parent().map(|p| p.to_path_buf())).unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("http-token");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
    file.write_all(token.as_bytes())?;
    note(&format!("no {TOKEN_ENV} set: generated a bearer token for this run in {} (readable only by you)", path.display()));
    Ok(Secret::new(token))
}
