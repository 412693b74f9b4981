//! `pingone-mcp token issue|list|revoke`: session tokens for the HTTP server.

use std::process::ExitCode;

use anyhow::{bail, Context};
use pingone_mcp::config::{config_dir, resolve_as, ConfigFile};
use pingone_mcp::policy::{Policy, PolicyConfig};
use pingone_mcp::resource_server::SessionTokens;
use serde_json::json;

use crate::cli::{GlobalArgs, TokenCommand};
use crate::output::{note, print, print_json};

/// The longest a session token may live.
const MAX_TTL: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);
/// The shortest: a token that expires before a client connects is no token.
const MIN_TTL: std::time::Duration = std::time::Duration::from_secs(60);

pub fn run(global: &GlobalArgs, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let dir = config_dir().context("cannot find a config directory: set HOME or XDG_CONFIG_HOME")?;
    match command {
        TokenCommand::Issue { allow, ttl, subject } => {
            let file = ConfigFile::load(global.config.as_deref())?;
            // Only the environment is needed: the server calls PingOne with its own credentials.
            let conn = resolve_as(&file, global.profile.as_deref(), true)?;
            let allowing = Policy::new(PolicyConfig { allow: allow.clone(), ..PolicyConfig::default() });
            super::refuse_patterns_matching_nothing(&allowing, &super::load_catalog(global)?, "--allow")?;
            let tokens = SessionTokens::open_or_create(&dir)?;
            let ttl: std::time::Duration = ttl.into();
            if ttl < MIN_TTL {
                bail!("--ttl of {} would expire before a client could use the token: give a minute or more, e.g. 8h", humantime::format_duration(ttl));
            }
            // A bearer token that outlives whoever issued it is a standing credential: a
            // long job gets a new token, not one for years.
            if ttl > MAX_TTL {
                bail!(
                    "--ttl of {:.1} days is longer than {} days: issue a shorter token (e.g. 8h for a working day, 30d for a scheduled job) and another when it expires",
                    ttl.as_secs_f64() / 86_400.0,
                    MAX_TTL.as_secs() / 86_400
                );
            }
            let subject = subject.unwrap_or_else(|| "session-token".to_owned());
            let (token, claims) = tokens.issue(&subject, &conn.profile, &conn.environment_id, &allow, ttl)?;
            print(&token);
            note(&format!(
                "issued token {} for `{}`: profile `{}` (environment {}), actions {}, expires in {}. Revoke it with `pingone-mcp token revoke {}`.",
                claims.jti, claims.sub, claims.profile, claims.env, claims.allow.join(" "), humantime::format_duration(ttl), claims.jti
            ));
        }
        TokenCommand::List { json: as_json } => {
            let Some(tokens) = SessionTokens::open(&dir)? else {
                note("no session tokens were issued on this machine");
                return Ok(ExitCode::SUCCESS);
            };
            let revoked = tokens.revoked()?;
            let now = pingone_mcp::auth::now_secs();
            let rows: Vec<serde_json::Value> = tokens
                .issued()?
                .into_iter()
                .map(|t| {
                    let state = if revoked.contains(&t.id) { "revoked" } else if t.expires_at <= now { "expired" } else { "valid" };
                    json!({ "id": t.id, "subject": t.subject, "profile": t.profile, "environmentId": t.environment_id, "allow": t.allow, "expiresAt": t.expires_at, "state": state })
                })
                .collect();
            if as_json {
                print_json(&serde_json::Value::Array(rows));
            } else {
                for r in rows {
                    let expires = r["expiresAt"].as_u64().map(|at| humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at)).to_string()).unwrap_or_default();
                    print(&format!(
                        "{}  {:8} expiry {expires}  {:20} {:10} {}",
                        r["id"].as_str().unwrap_or(""),
                        r["state"].as_str().unwrap_or(""),
                        r["subject"].as_str().unwrap_or(""),
                        r["profile"].as_str().unwrap_or(""),
                        r["allow"]
                    ));
                }
            }
        }
        TokenCommand::Revoke { id } => {
            let tokens = SessionTokens::open(&dir)?.context("no session tokens were issued on this machine")?;
            if !tokens.revoke(&id)? {
                bail!("no token with id `{id}` was issued here; see `pingone-mcp token list`");
            }
            note(&format!("revoked token {id}; servers refuse it from their next request"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
