//! `pingone-mcp serve`: the MCP server over stdio or streamable HTTP.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use pingone_mcp::defender::Defender;
use pingone_mcp::mcp::{serve_http, HttpOptions, PingOneMcp, ServerOptions};
use pingone_mcp::sandbox::{Limits, Sandbox};
use pingone_mcp::secret::Secret;
use rmcp::ServiceExt;

use super::session;
use crate::cli::{GlobalArgs, ServeArgs};
use crate::output::note;

const TOKEN_ENV: &str = "PINGONE_MCP_HTTP_TOKEN";

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.policy, &args.simulator, args.replay.as_deref()).await?;
    let (catalog, search, dispatcher) = (session.catalog, session.search, Arc::new(session.dispatcher));
    let _simulator = session.simulator;
    let limits = Limits { wall_time: Duration::from_secs(args.timeout), ..Limits::default() };
    if !(0.0..=1.0).contains(&args.defender_threshold) {
        anyhow::bail!("--defender-threshold is a classifier score between 0 and 1, got {}", args.defender_threshold);
    }
    let defender = Arc::new(Defender::load(args.defender, args.defender_threshold));
    if let Some(warning) = defender.warning() {
        note(warning);
    }
    let options = ServerOptions { mode: args.mode, limits, result_budget: args.max_result_tokens, defender };
    let server = PingOneMcp::new(catalog, search, Sandbox::new().await?, dispatcher, options);

    let Some(addr) = args.http else {
        let running = server.serve(rmcp::transport::stdio()).await?;
        running.waiting().await?;
        return Ok(ExitCode::SUCCESS);
    };
    #[allow(clippy::disallowed_methods)]
    let from_env = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()).map(Secret::new);
    let token = match (from_env, args.no_auth) {
        (Some(_), true) => bail!("--no-auth and {TOKEN_ENV} contradict each other; drop one"),
        (Some(token), false) => Some(token),
        (None, true) => None,
        (None, false) => Some(generated_token()?),
    };
    let options = HttpOptions { addr, token, allowed_hosts: args.allowed_hosts, allowed_origins: args.allowed_origins };
    serve_http(server, options, |bound| note(&format!("pingone-mcp: MCP over streamable HTTP at http://{bound}/mcp"))).await?;
    Ok(ExitCode::SUCCESS)
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
