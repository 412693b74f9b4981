//! `pingone-mcp serve`: the MCP server over stdio or streamable HTTP.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use pingone_mcp::auth::AuthServer;
use pingone_mcp::config::{config_dir, ConfigFile, Connection};
use pingone_mcp::mcp::{bind, check_exposure, serve_http, HttpOptions, PingOneMcp, ServerOptions, METADATA_PATH};
use pingone_mcp::policy::default_scope_grants;
use pingone_mcp::resource_server::{JwtValidator, ResourceServer, ServedProfile, SessionTokens};
use pingone_mcp::sandbox::{Limits, Sandbox};
use pingone_mcp::secret::Secret;
use rmcp::ServiceExt;

use super::{session, session_with, Needed};
use crate::cli::{GlobalArgs, ServeArgs};
use crate::output::note;

const TOKEN_ENV: &str = "PINGONE_MCP_HTTP_TOKEN";
/// How long stopped scripts get to tell what they changed before the process exits.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The largest result an `execute` script may return before it is trimmed.
const SERVE_RESULT_BYTES: usize = 8 << 20;

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let main = session(global, &args.policy, &args.simulator, args.replay.as_deref(), Needed::Always).await?;
    // A result is cut to the reply's token budget, with a note on narrowing the script:
    // one up to SERVE_RESULT_BYTES is cut too, rather than refused with nothing shown.
    let limits = Limits { wall_time: Duration::from_secs(args.timeout), host_calls: args.max_calls, result_bytes: SERVE_RESULT_BYTES, ..Limits::default() };
    main.search.preload();
    if let Some(warning) = main.search.warning() {
        note(&warning);
    }
    let defender = Arc::new(args.defender.load()?);
    if let Some(allowing) = defender.allowing_summary() {
        note(&allowing);
    }
    // The classifier loads on its own thread; its fallback is announced as soon as known.
    let loading = defender.clone();
    std::thread::spawn(move || {
        if let Some(warning) = loading.warning() {
            note(&warning);
        }
    });
    let policy = &main.dispatcher.policy().config;
    if policy.allow_writes && !policy.dry_run {
        const ACCESS: &str = "grants and changes of access (roles, group memberships, MFA devices, identity providers, a user's new email or phone, disabling, re-enabling, locking or unlocking a user, disabling or re-enabling an application, population moves, an application's redirect URLs and sign-on policies, default and weakened password, MFA and sign-on policies; see the README)";
        let kinds = if policy.allow_destructive { format!("destructive calls and {ACCESS}") } else { ACCESS.to_owned() };
        note(&if args.no_confirm {
            format!("{kinds} run unasked (--no-confirm); the audit log marks each `confirmed: false`")
        } else if args.http.is_some() {
            format!("{kinds} are confirmed by the person at the client; over HTTP only clients on protocol 2026-07-28 that support elicitation can be asked, and other clients' such calls are refused (NOT_CONFIRMED; --no-confirm runs them unasked)")
        } else {
            format!("{kinds} are confirmed by the person at a client that supports elicitation; a client that cannot be asked has such calls refused (NOT_CONFIRMED; --no-confirm runs them unasked)")
        });
    }
    let options = ServerOptions { mode: args.mode, limits, result_budget: args.max_result_tokens, defender, confirm_destructive: !args.no_confirm, scripts_per_caller: args.max_scripts_per_caller };
    let default_profile = main.connection.as_ref().map(|c| c.profile.clone()).unwrap_or_else(|| "default".into());
    let mut connections = vec![(default_profile.clone(), main.connection)];
    let dispatcher = Arc::new(main.dispatcher);
    let _simulator = main.simulator;
    let (catalog, search) = (main.catalog.clone(), main.search.clone());
    let mut server = PingOneMcp::new(main.catalog, main.search, Sandbox::new().await?, dispatcher, options);

    let Some(addr) = args.http else {
        let transport = server.stdio();
        let stopping = server.clone();
        let running = server.serve(transport).await?;
        let service = running.cancellation_token();
        // Kept alive until the scripts are stopped: dropping it cancels every call,
        // which its script would take for its client cancelling, not the shutdown.
        let waiting = running.waiting();
        tokio::pin!(waiting);
        // A desktop client quitting or restarting the server sends SIGTERM: running
        // scripts stop at once and tell what they changed (the reply, the log, the
        // audit log).
        let signal = tokio::select! {
            done = &mut waiting => return done.map(|_| ExitCode::SUCCESS).map_err(Into::into),
            signal = pingone_mcp::stop_signal::stop_requested() => signal,
        };
        tracing::warn!("shutting down: stopping running scripts; each says what it changed");
        stopping.stop_scripts();
        stopping.scripts_stopped(STOP_GRACE).await;
        // The library writes the replies still on their way before it ends.
        service.cancel();
        let _ = tokio::time::timeout(STOP_GRACE, waiting).await;
        return Ok(ExitCode::from(signal.exit_status()));
    };
    let mut extra = BTreeMap::new();
    for name in &args.serve_profiles {
        let scoped = GlobalArgs { profile: Some(name.clone()), ..global.clone() };
        let profile = session_with(&scoped, &args.policy, &args.simulator, None, catalog.clone(), search.clone(), Needed::Always)
            .await
            .with_context(|| format!("cannot serve profile `{name}`"))?;
        connections.push((name.clone(), profile.connection));
        extra.insert(name.clone(), Arc::new(profile.dispatcher));
    }
    server = server.with_profiles(&default_profile, extra);

    let listener = bind(addr).await?;
    let bound = listener.local_addr()?;
    // Bound to every interface, the address to show is one that answers: loopback.
    let shown = if bound.ip().is_unspecified() { std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port()) } else { bound };
    let public = args.public_url.map(|u| u.as_str().trim_end_matches('/').to_owned()).unwrap_or_else(|| format!("http://{shown}"));
    // A port the system chose changes at every start, so its generated token is this
    // run's only, and its file goes when the server stops.
    let for_this_run = addr.port() == 0;
    let mut generated = None;
    let auth = if args.no_auth {
        no_auth()?
    } else {
        let static_token = match configured_token() {
            Some(token) => Some(long_enough(token)?),
            None if !args.oauth => {
                let (token, file) = generated_token(bound.port(), for_this_run)?;
                generated = file;
                Some(token)
            }
            None => None,
        };
        Some(Arc::new(resource_server(global, args.oauth, connections, &public, static_token)?))
    };
    check_exposure(bound, auth.is_some())?;
    pingone_mcp::mcp::check_origins(&args.allowed_origins)?;
    note(&format!("pingone-mcp: MCP over streamable HTTP at {public}/mcp"));
    if let Some(auth) = &auth {
        let servers: Vec<&str> = auth.profiles.iter().filter_map(|p| p.validator.as_ref()).map(|v| v.issuer.as_str()).collect();
        if !servers.is_empty() {
            note(&format!("accepting access tokens for audience {} from {}", auth.resource, servers.join(", ")));
        }
    }
    serve_http(server, listener, HttpOptions { addr, auth, allowed_hosts: args.allowed_hosts, allowed_origins: args.allowed_origins }).await?;
    drop(generated);
    Ok(ExitCode::SUCCESS)
}

/// `--no-auth`, refused when a token was also configured (one of the two is a mistake).
fn no_auth() -> anyhow::Result<Option<Arc<ResourceServer>>> {
    if configured_token().is_some() {
        bail!("--no-auth and {TOKEN_ENV} contradict each other; drop one");
    }
    Ok(None)
}

/// Fewest characters of a bearer token set by hand: a short one can be guessed by
/// anyone who reaches the port.
const MIN_TOKEN_LEN: usize = 24;

fn long_enough(token: Secret) -> anyhow::Result<Secret> {
    let length = token.expose().chars().count();
    if length < MIN_TOKEN_LEN {
        bail!("{TOKEN_ENV} is {length} characters, short enough to guess: use {MIN_TOKEN_LEN} or more random ones (e.g. `openssl rand -hex 32`), or unset it and a token is generated");
    }
    Ok(token)
}

#[allow(clippy::disallowed_methods)]
fn configured_token() -> Option<Secret> {
    std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()).map(Secret::new)
}

/// Who may call: PingOne access tokens (with --oauth), session tokens (once any were
/// issued here), and the static token (from the environment, else generated, unless
/// --oauth stands in for it).
fn resource_server(global: &GlobalArgs, oauth: bool, connections: Vec<(String, Option<Connection>)>, public: &str, static_token: Option<Secret>) -> anyhow::Result<ResourceServer> {
    let resource = format!("{public}/mcp");
    let mut served = Vec::new();
    for (profile, conn) in connections {
        let validator = match (&conn, oauth) {
            (_, false) => None,
            (Some(conn), true) => {
                let server = AuthServer::for_environment(&conn.auth_base, &conn.environment_id);
                Some(JwtValidator::new(&server.issuer, &server.jwks(), &resource))
            }
            (None, true) => bail!("--oauth needs a PingOne environment to trust tokens from; it cannot be combined with --replay"),
        };
        let environment_id = conn.map(|c| c.environment_id).unwrap_or_default();
        served.push(ServedProfile { profile, environment_id, validator });
    }
    // The signing key is made now if no token was issued yet, so that tokens issued
    // while the server runs are accepted without a restart.
    let session_tokens = match config_dir() {
        Some(dir) => match SessionTokens::open(&dir)? {
            Some(tokens) => Some(tokens),
            None => SessionTokens::open_or_create(&dir).map_err(|e| note(&format!("session tokens (`pingone-mcp token issue`) will not be accepted: {e:#}"))).ok(),
        },
        None => None,
    };
    if session_tokens.is_some() {
        note("accepting session tokens issued with `pingone-mcp token issue` on this machine");
    }
    let file = ConfigFile::load(global.config.as_deref())?;
    let scopes = if file.scopes.is_empty() { default_scope_grants() } else { file.scopes };
    Ok(ResourceServer { profiles: served, session_tokens, static_token, scopes, resource, metadata_url: format!("{public}{METADATA_PATH}") })
}

/// A fresh token, written to a file only the user can read (never to the log), and
/// that file when it is for this run only, to be removed when the server stops.
fn generated_token(port: u16, for_this_run: bool) -> anyhow::Result<(Secret, Option<RemovedOnDrop>)> {
    use std::io::Write;
    let dir = pingone_mcp::sandbox::cache_dir().and_then(|d| d.parent().map(|p| p.to_path_buf())).unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir)?;
    // One file a port, kept across restarts: a second server does not take the first's
    // token away, and a restart does not break every client set up with it.
    let path = dir.join(format!("http-token-{port}"));
    if !for_this_run {
        if let Some(kept) = pingone_mcp::private_file::read_private(&path)?.map(|t| t.trim().to_owned()).filter(|t| t.len() >= GENERATED_TOKEN_LEN) {
            note(&format!("no {TOKEN_ENV} set: using the bearer token generated for port {port} in {} (readable only by you)", path.display()));
            return Ok((Secret::new(kept), None));
        }
    }
    let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let mut file = pingone_mcp::private_file::create_private(&path)?;
    file.write_all(token.as_bytes())?;
    if for_this_run {
        note(&format!("no {TOKEN_ENV} set: generated a bearer token for this run in {} (readable only by you; removed when the server stops, since the system chose the port)", path.display()));
        return Ok((Secret::new(token), Some(RemovedOnDrop(path))));
    }
    note(&format!("no {TOKEN_ENV} set: generated a bearer token for port {port} in {} (readable only by you; kept for the next start on this port)", path.display()));
    Ok((Secret::new(token), None))
}

/// A file removed when this is dropped, however the server's run ends.
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Characters of a generated token: two UUIDs in hex.
const GENERATED_TOKEN_LEN: usize = 64;
