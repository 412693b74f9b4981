//! One function per subcommand.

mod actions;
mod call;
pub mod exit_status;
mod login;
mod run;
mod run_account;
mod scan;
mod serve;
mod simulator;
mod token;
mod search;

use std::process::ExitCode;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pingone_mcp::config::{overridden_settings, profile_as_user, profile_name, profile_policy, resolve_as, ConfigFile, Connection};
use pingone_mcp::simulator::{Simulator, SimulatorConfig};
use pingone_mcp::dispatch::{Backend, Cassette, Dispatcher, Replay};
use pingone_mcp::pingone::{PingOneClient, RateLimiter, RetryPolicy};
use pingone_mcp::policy::{flag_of, AuditLog, Policy, PolicyConfig, DEFAULT_RATE_LIMIT};
use pingone_mcp::search::SearchIndex;
use pingone_mcp::catalog::{load_builtin, load_dir, Catalog, CatalogError};

use crate::cli::{Cli, Command, GlobalArgs, PolicyArgs, SimulatorFlags};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Actions(command) => actions::run(&cli.global, command),
        Command::Call(args) => call::run(&cli.global, args).await,
        Command::Run(args) => run::run(&cli.global, args).await,
        Command::Scan(args) => scan::run(args),
        Command::Serve(args) => serve::run(&cli.global, args).await,
        Command::Simulator(args) => simulator::run(args).await,
        Command::Search(args) => search::run(&cli.global, args),
        Command::Login(args) => login::login(&cli.global, args).await,
        Command::Logout => login::logout(&cli.global).await,
        Command::Whoami { json } => login::whoami(&cli.global, json).await,
        Command::Token(command) => token::run(&cli.global, command),
    }
}

/// The built-in catalog plus every `--actions-dir`.
pub fn load_catalog(global: &GlobalArgs) -> anyhow::Result<Catalog> {
    let mut catalog = load_builtin().map_err(catalog_errors).context("the built-in action catalog is invalid")?;
    add_action_dirs(&mut catalog, &global.actions_dirs)?;
    Ok(catalog)
}

/// Adds the actions of each directory, once: a directory given twice (or also named
/// to `actions check`) holds no duplicates of itself.
pub fn add_action_dirs<'a>(catalog: &mut Catalog, dirs: impl IntoIterator<Item = &'a std::path::PathBuf>) -> anyhow::Result<()> {
    let mut loaded = Vec::new();
    for dir in dirs {
        let same = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if loaded.contains(&same) {
            continue;
        }
        loaded.push(same);
        let files = load_dir(dir).map_err(catalog_errors)?;
        catalog.add_files(&files).map_err(catalog_errors).with_context(|| format!("cannot load actions from {}", dir.display()))?;
    }
    Ok(())
}

/// Everything a script runner needs: the catalog, its search index, and the
/// dispatcher with the policy, audit log and backend (a cassette when replaying,
/// else the configured PingOne).
/// `fields` with who ran the command and where (the OS user, host and process), for
/// its audit line: calls tied to a cron job or a CI pipeline.
pub(super) fn with_who_ran(mut fields: serde_json::Value) -> serde_json::Value {
    // The account by the process's real uid, which no caller sets as it sets $USER
    // (review 59 M5: `USER=alice` was logged as alice); $USER beside it when it differs.
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| status.lines().find_map(|l| l.strip_prefix("Uid:")?.split_whitespace().next()?.parse::<u32>().ok()));
    let account = uid.and_then(|uid| {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.get(2)?.parse::<u32>().ok()? == uid).then(|| fields[0].to_owned())
        })
    });
    let env_user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    let user = account.clone().or_else(|| uid.map(|uid| format!("uid {uid}"))).or_else(|| env_user.clone());
    if uid.is_some() && env_user.is_some() && env_user != account {
        fields["env_user"] = serde_json::json!(env_user);
    }
    fields["uid"] = serde_json::json!(uid);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()).or_else(|| std::env::var("HOSTNAME").ok());
    fields["user"] = serde_json::json!(user);
    fields["host"] = serde_json::json!(host);
    fields["pid"] = serde_json::json!(std::process::id());
    fields
}

pub struct Session {
    pub catalog: Arc<Catalog>,
    pub search: Arc<SearchIndex>,
    pub dispatcher: Dispatcher,
    /// The in-process simulator, when one was asked for; it serves while this lives.
    pub simulator: Option<Simulator>,
    /// Where PingOne is (none when replaying a cassette).
    pub connection: Option<Connection>,
    /// The cassette being replayed, if any.
    pub replay: Option<Arc<Replay>>,
}

/// The JSON of `--args`: the text itself, or with `@FILE` the file's contents (a large
/// input, a list of new hires, does not fit on a command line).
pub fn json_args(text: &str, example: &str) -> anyhow::Result<serde_json::Value> {
    let (json, from) = match text.strip_prefix('@') {
        Some(path) => (std::fs::read_to_string(path).with_context(|| format!("cannot read --args file {path}"))?, format!("the --args file {path}")),
        None => (text.to_owned(), "--args".to_owned()),
    };
    serde_json::from_str(&json).with_context(|| format!("{from} is not valid JSON; pass an object such as '{example}', or @FILE to read it from a file"))
}

/// Where PingOne is: a simulator started here (`--simulator`), or the configured
/// environment (profiles and environment variables).
pub async fn connect(global: &GlobalArgs, file: &ConfigFile, flags: &SimulatorFlags) -> anyhow::Result<(Connection, Option<Simulator>)> {
    if !flags.simulator {
        let as_user = flags.as_user || profile_as_user(file, global.profile.as_deref());
        let connection = resolve_as(file, global.profile.as_deref(), as_user)?;
        let overridden = overridden_settings(file, global.profile.as_deref());
        if !overridden.is_empty() {
            crate::output::note(&format!(
                "warning: environment variables override profile `{}`: {} (unset them to use the profile as written)",
                connection.profile,
                overridden.join(", ")
            ));
        }
        if let Some(mismatch) = hosts_apart(&connection) {
            crate::output::note(&mismatch);
        }
        tracing::info!(environment = %connection.environment_id, profile = %connection.profile, api = %connection.api_base, auth = %connection.auth_base, "acting on this PingOne environment");
        return Ok((connection, None));
    }
    let config = SimulatorConfig { users: flags.simulator_users, seed: flags.simulator_seed, ..SimulatorConfig::default() };
    let simulator = Simulator::start(config, 0).await?;
    Ok((simulator.connection(), Some(simulator)))
}

/// A warning when the API is somewhere other than PingOne (a proxy, a simulator) but
/// tokens still come from PingOne's own auth host: usually `api_url` set without
/// `auth_url`, which fails as a 401 that does not say why.
fn hosts_apart(connection: &Connection) -> Option<String> {
    let host = |url: &url::Url| url.host_str().unwrap_or_default().to_owned();
    let (api, auth) = (host(&connection.api_base), host(&connection.auth_base));
    let pingone = |host: &str, prefix: &str| host.strip_prefix(prefix).is_some_and(|rest| rest.starts_with("pingone."));
    (!pingone(&api, "api.") && pingone(&auth, "auth.")).then(|| {
        format!("warning: the API is at {api} but tokens are asked of PingOne's {auth}: set PINGONE_AUTH_URL (or `auth_url`) too, unless that is meant")
    })
}

/// Refuses allow and deny patterns (from `source`) that no action id matches: a typo
/// there would refuse everything (`--allow lsit_*`) or deny nothing.
pub fn refuse_patterns_matching_nothing(policy: &Policy, catalog: &Catalog, source: &str) -> anyhow::Result<()> {
    let ids: Vec<&str> = catalog.actions().map(|action| action.id.as_str()).collect();
    let typos = policy.patterns_matching_nothing(&ids);
    if !typos.is_empty() {
        anyhow::bail!("no action matches {} (from {source}); action ids look like list_users, and `*` stands for any text: see `pingone-mcp actions list`", typos.join(", "));
    }
    Ok(())
}

pub async fn session(global: &GlobalArgs, flags: &PolicyArgs, simulator: &SimulatorFlags, replay: Option<&Path>, needed: Needed) -> anyhow::Result<Session> {
    let catalog = Arc::new(load_catalog(global)?);
    let search = Arc::new(SearchIndex::new(&catalog));
    session_with(global, flags, simulator, replay, catalog, search, needed).await
}

/// Whether a command needs a configured PingOne environment before it starts.
#[derive(Clone, Copy, PartialEq)]
pub enum Needed {
    Always,
    /// Only when an action is called (`run`: a script may call none).
    OnFirstCall,
}

/// A session for another profile that shares `catalog` and `search` (and so the
/// search encoder, loaded once) with the first: profiles differ only in where
/// PingOne is and in policy.
pub async fn session_with(
    global: &GlobalArgs,
    flags: &PolicyArgs,
    simulator: &SimulatorFlags,
    replay: Option<&Path>,
    catalog: Arc<Catalog>,
    search: Arc<SearchIndex>,
    needed: Needed,
) -> anyhow::Result<Session> {
    let file = ConfigFile::load(global.config.as_deref())?;
    let profile = profile_policy(&file, global.profile.as_deref())?;
    let kept_off = profile.flags_kept_off(&flags.to_config());
    if !kept_off.is_empty() {
        let name = profile_name(&file, global.profile.as_deref());
        let settings: Vec<String> = kept_off.iter().map(|setting| format!("{setting} = false")).collect();
        let flags: Vec<String> = kept_off.iter().map(|setting| flag_of(setting)).collect();
        crate::output::note(&format!("pingone-mcp: profile `{name}` sets {} in its policy, so {} does not apply to it", settings.join(" and "), flags.join(" and ")));
    }
    let policy = profile.merged(&flags.to_config());
    if let Some(rate) = policy.rate_limit.filter(|r| !(r.is_finite() && *r > 0.0)) {
        anyhow::bail!("the rate limit must be a positive number of requests per second, got {rate} (--rate-limit or rate_limit in the profile's policy)");
    }
    let mut running = None;
    let mut connection = None;
    let mut replaying = None;
    let backend = match replay {
        Some(path) => {
            let cassette = Cassette::load(path)?;
            // Its writes answer with previews and stand-in ids: replayed as a real run,
            // a script would take them for PingOne's records.
            if cassette.dry_run && !policy.dry_run {
                anyhow::bail!(
                    "the cassette {} was recorded in a dry run: its writes answer with the requests that run showed (`dryRun: true`, stand-in ids), not with PingOne's records; replay it with --dry-run, as it was recorded",
                    path.display()
                );
            }
            let cassette = Arc::new(Replay::new(cassette));
            replaying = Some(cassette.clone());
            Backend::Replay(cassette)
        }
        None => match connect(global, &file, simulator).await {
            Ok((conn, sim)) => {
                running = sim;
                connection = Some(conn.clone());
                let rate = Arc::new(RateLimiter::new(policy.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT)));
                let retry = RetryPolicy { max_retries: policy.max_retries.unwrap_or(RetryPolicy::default().max_retries), ..RetryPolicy::default() };
                Backend::Live(PingOneClient::with_rate_limit(conn, retry, Some(rate))?)
            }
            // Settings missing (not a simulator that failed to start): told at the first call.
            Err(e) if needed == Needed::OnFirstCall && !simulator.simulator => Backend::Unconfigured(format!("{e:#}")),
            Err(e) => return Err(e),
        },
    };
    let audit_logs = policy.audit_logs.clone();
    let policy = Policy::new(policy);
    refuse_patterns_matching_nothing(&policy, &catalog, "--allow/--deny or the profile's policy")?;
    let mut dispatcher = Dispatcher::new(catalog.clone(), search.clone(), backend).with_policy(policy);
    if !audit_logs.is_empty() {
        let audit = AuditLog::open(&audit_logs).map_err(|(path, e)| anyhow::Error::new(e).context(format!("cannot open the audit log {}", path.display())))?;
        dispatcher = dispatcher.with_audit(Arc::new(audit));
    }
    Ok(Session { catalog, search, dispatcher, simulator: running, connection, replay: replaying })
}

impl PolicyArgs {
    fn to_config(&self) -> PolicyConfig {
        PolicyConfig {
            allow_writes: self.allow_writes,
            allow_destructive: self.allow_destructive,
            allow_production: self.allow_production,
            allow: self.allow.clone(),
            deny: self.deny.clone(),
            dry_run: self.dry_run,
            reveal_secrets: self.reveal_secrets,
            rate_limit: self.rate_limit,
            max_retries: self.max_retries,
            audit_logs: self.audit_log.clone(),
            kept_off: Vec::new(),
        }
    }
}

pub fn catalog_errors(errors: Vec<CatalogError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{} problem(s) in action files:\n  {}", errors.len(), lines.join("\n  "))
}
