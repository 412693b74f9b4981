//! Command-line flags, as close to what the user types as possible.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Code-Mode MCP server for PingOne: agents find actions with `search_tools` and
/// run JavaScript that calls them with `execute`.
#[derive(Debug, Parser)]
#[command(name = "pingone-mcp", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Extra directory of action YAML files, loaded after the built-in ones (repeatable).
    #[arg(long = "actions-dir", value_name = "DIR", global = true)]
    pub actions_dirs: Vec<PathBuf>,
    /// Configuration file of named profiles [default: ~/.config/pingone-mcp/config.toml].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Profile of the configuration file to use (e.g. dev, staging, prod).
    #[arg(long, global = true, env = "PINGONE_PROFILE")]
    pub profile: Option<String>,
    /// More logging on stderr (-v info, -vv debug). PINGONE_MCP_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and check the action catalog.
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// Call one action and print its JSON result.
    Call(CallArgs),
    /// Run a JavaScript file in the sandbox, with PingOne actions as `pingone.*`.
    Run(RunArgs),
    /// Scan text for prompt injection, as the server scans what returns to the model.
    Scan(ScanArgs),
    /// Serve MCP: over stdio (for Claude Desktop, Cursor, VS Code), or HTTP with --http.
    Serve(ServeArgs),
    /// Run the built-in PingOne simulator and print how to connect to it.
    Simulator(pingone_mcp::simulator::cli::SimulatorArgs),
    /// Find the actions that fit a need, best first (what the `search_tools` tool answers).
    Search(SearchArgs),
    /// Sign in as yourself (authorization code with PKCE in a browser, or --device);
    /// then --as-user acts with your PingOne roles.
    Login(LoginArgs),
    /// Forget the stored sign-in of the profile (and revoke its refresh token).
    Logout,
    /// Show who is signed in for the profile (PingOne's userinfo).
    Whoami {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mint, list and revoke session tokens for the HTTP server, each limited to some
    /// actions and one profile's environment.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new session token (stdout) limited to the actions matching --allow.
    Issue {
        /// Action id glob the token may call, e.g. 'list_*' (repeatable; at least one).
        #[arg(long = "allow", value_name = "GLOB", required = true)]
        allow: Vec<String>,
        /// How long the token lives, e.g. 30m, 8h, 7d.
        #[arg(long, value_name = "DURATION", default_value = "8h")]
        ttl: humantime::Duration,
        /// Who the token is for; shows in the server's audit lines [default: session-token].
        #[arg(long, value_name = "NAME")]
        subject: Option<String>,
    },
    /// List the tokens issued on this machine (ids, states, expiry, subjects, profiles,
    /// actions; never the tokens).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (from `token list`); servers refuse it from the next request.
    Revoke {
        /// The token's id, from `token list`.
        id: String,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "Needs the environment id and region (or PINGONE_AUTH_URL) and a PingOne native app for \
sign-in: PINGONE_LOGIN_CLIENT_ID or `login_client_id` in the profile (PKCE, token auth method None, \
redirect URI http://127.0.0.1/callback, authorization-code or device grant). The session is kept in the OS \
keyring, or in a file only you can read (PINGONE_MCP_TOKEN_STORE=auto|keyring|file).")]
pub struct LoginArgs {
    /// Sign in on another device: show a code and a URL instead of a browser redirect.
    #[arg(long)]
    pub device: bool,
    /// Print the sign-in URL but do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Scopes to ask for [default: the profile's login_scope, else "openid profile email"].
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
    /// The resource (audience) the token is for, when not PingOne's own API (RFC 8707).
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// List every action: id, method, path and flags.
    List {
        /// Print a JSON array of objects (id, title, group, method, path, host, read_only, destructive, idempotent).
        #[arg(long)]
        json: bool,
    },
    /// Show one action in full: parameters, result, flags and an example.
    Show {
        /// The action id, e.g. list_users.
        id: String,
    },
    /// Print TypeScript declarations of every action's arguments and result.
    Types,
    /// Validate action files without running anything (the built-ins, plus DIRs).
    Check {
        /// Directories of *.yaml action files to validate.
        dirs: Vec<PathBuf>,
    },
    /// Print the format of an action file (for --actions-dir), with every field explained.
    Format,
}

#[derive(Debug, Args)]
#[command(after_help = "Like a script's calls, `call` is read-only unless --allow-writes (and, for deletes, secret \
rotation, password sets and MFA off, --allow-destructive) is given; --deny, --allow, --dry-run, --allow-production \
and --audit-log apply too, and secrets are masked unless --reveal-secrets.")]
pub struct CallArgs {
    /// The action id, e.g. list_users (see `pingone-mcp actions list`).
    pub id: String,
    /// The arguments as a JSON object, e.g. '{"filter": "enabled eq false", "all": true}', or @FILE to read them from a file.
    #[arg(long, default_value = "{}")]
    pub args: String,
    /// Print the result as compact JSON on one line.
    #[arg(long)]
    pub compact: bool,
    /// Print one JSON object: {ok, result, withheld?} or {ok: false, error, code, status?, transactionId?, details, sent, writeState?}.
    #[arg(long, conflicts_with = "compact")]
    pub json: bool,
    // The result is scanned before it is printed, as `run`'s is.
    #[command(flatten)]
    pub defender: DefenderArgs,
    // The same gate as a script's calls: read-only unless told otherwise.
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub simulator: SimulatorFlags,
}

#[derive(Debug, Args)]
#[command(after_help = "The script may be a function body (top-level await and return work) or an async \
arrow function, which is called with --args:\n\n  const page = await pingone.list_users({ filter: 'enabled eq false', limit: 10 });\n  return page.items.map(u => u.username);")]
pub struct RunArgs {
    /// The script file, or - for standard input.
    pub script: PathBuf,
    /// JSON passed to the script as `args`, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    pub args: String,
    /// Print one JSON object: {ok, result | error (and hint, at: {line, column}, code), logs, calls, writes, duration_ms}.
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// Print a text result as it is (a CSV the script built), not as a JSON string.
    #[arg(long)]
    pub raw: bool,
    /// Largest result, in MiB (an export of many records may need more than 1).
    #[arg(long, value_name = "MIB", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=48))]
    pub max_result_mib: u32,
    /// Write every action call and its reply to this cassette file (secrets masked).
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Answer action calls from this cassette, with no network and no credentials.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Wall-time limit in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Most action calls the script may make.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_calls: u32,
    // The result, console lines and error are scanned before they are printed, as
    // `serve` scans what returns to the model: an agent may be the one reading.
    #[command(flatten)]
    pub defender: DefenderArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub simulator: SimulatorFlags,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// code: search_tools + execute; tools: one tool per action; both.
    #[arg(long, value_enum, default_value_t = pingone_mcp::mcp::Mode::Code)]
    pub mode: pingone_mcp::mcp::Mode,
    /// Answer action calls from a cassette (see `run --record`) instead of PingOne.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// HTTP: serve without a bearer token. Allowed only on a loopback address.
    #[arg(long, requires = "http", conflicts_with = "oauth")]
    pub no_auth: bool,
    /// HTTP: accept access tokens (JWTs) from the PingOne environment of each served
    /// profile, whose audience is this server (--public-url + /mcp); their scopes map
    /// to what the caller may do (`[scopes."NAME"]` in the config file).
    #[arg(long, requires = "http")]
    pub oauth: bool,
    /// HTTP: this server's public base URL, e.g. https://mcp.example.com [default: http://ADDR].
    #[arg(long, value_name = "URL", requires = "http")]
    pub public_url: Option<url::Url>,
    /// HTTP: also serve this profile's environment; callers are bound to one by their
    /// token (repeatable; the default environment is --profile's).
    #[arg(long = "serve-profile", value_name = "NAME", requires = "http", conflicts_with = "simulator")]
    pub serve_profiles: Vec<String>,
    /// HTTP: another Host header value to accept (a public name behind a proxy); repeatable.
    #[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
    pub allowed_hosts: Vec<String>,
    /// HTTP: the origin of a browser client to accept (CORS), e.g. https://app.example.com
    /// (that port only: the scheme's default when none is given); repeatable.
    #[arg(long = "allowed-origin", value_name = "ORIGIN", requires = "http")]
    pub allowed_origins: Vec<String>,
    /// Wall-time limit per script, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Most action calls one script may make (a bulk job of many writes may need more).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_calls: u32,
    /// Most tokens (o200k_base) an execute reply may take; larger results are trimmed.
    #[arg(long, value_name = "N", default_value_t = pingone_mcp::trim::DEFAULT_BUDGET)]
    pub max_result_tokens: usize,
    /// Over HTTP, most scripts one caller (a token's subject) may run at once; more are
    /// refused until one ends, so one caller's loops cannot take the cores from the rest.
    #[arg(long, value_name = "N", default_value_t = pingone_mcp::mcp::SCRIPTS_PER_CALLER, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_scripts_per_caller: u64,
    #[command(flatten)]
    pub defender: DefenderArgs,
    /// Run destructive actions and grants and changes of access (role assignments, group
    /// memberships, application grants, new MFA devices, identity providers and their
    /// links, a user's new email or phone, disabling, re-enabling, locking or unlocking a user or
    /// disabling or re-enabling an application, population
    /// moves, sign-on and password policy changes; the README lists them) without asking
    /// first. By default a client that supports elicitation is asked to confirm each one
    /// (action, target, arguments) before it runs.
    #[arg(long)]
    pub no_confirm: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub simulator: SimulatorFlags,
}

/// What scripts may do. Read-only unless told otherwise; also settable per profile in
/// the config file (`[profiles.NAME.policy]`).
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyArgs {
    /// Let scripts call actions that change PingOne.
    #[arg(long)]
    pub allow_writes: bool,
    /// Let scripts delete, rotate secrets, set passwords and turn MFA off (with --allow-writes).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Act on an environment of type PRODUCTION (refused otherwise).
    #[arg(long)]
    pub allow_production: bool,
    /// Only actions matching this id glob run, e.g. 'list_*' (repeatable).
    #[arg(long = "allow", value_name = "GLOB")]
    pub allow: Vec<String>,
    /// Actions matching this id glob never run, e.g. '*_secret*' (repeatable; wins over --allow).
    #[arg(long = "deny", value_name = "GLOB")]
    pub deny: Vec<String>,
    /// Don't send writes: the script gets the request that would have been made.
    #[arg(long)]
    pub dry_run: bool,
    /// Return client secrets, passwords and tokens unmasked.
    #[arg(long)]
    pub reveal_secrets: bool,
    /// Requests per second to PingOne, shared by all scripts [default: 50].
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<f64>,
    /// Tries after the first for a request PingOne throttled (429) or that failed where
    /// a retry is safe, with backoff from 250 ms doubling to 8 s, or PingOne's
    /// Retry-After [default: 4].
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Append one JSON line per action call to FILE ("-" for stderr); repeatable, and
    /// added to the profile's own audit log, which is always kept.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Vec<PathBuf>,
}

/// Which PingOne to talk to, and as whom: a built-in simulator instead of a tenant,
/// or the signed-in person instead of the worker app.
#[derive(Debug, Args, Clone, Default)]
pub struct SimulatorFlags {
    /// Start a seeded PingOne simulator in this process and talk to it over loopback
    /// HTTP (no tenant or credentials needed).
    #[arg(long)]
    pub simulator: bool,
    /// Users the simulator seeds.
    #[arg(long, value_name = "N", default_value_t = 200, requires = "simulator")]
    pub simulator_users: usize,
    /// Seed of the simulator's data (the same seed gives the same environment).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "simulator")]
    pub simulator_seed: u64,
    /// Call PingOne as the person signed in with `pingone-mcp login`, so PingOne applies
    /// their roles (instead of the worker app's).
    #[arg(long, conflicts_with = "simulator")]
    pub as_user: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What you need, in your own words, e.g. "turn off sign-in for john's account".
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Most actions to show.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 8)]
    pub limit: usize,
    /// Print a JSON array, best first, of objects (id, score, similarity, signature,
    /// description; writes and destructive when true).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "With --jsonl, each line is an object with a `text` field (and optionally `label` 0|1, \
`source`, `id`); each output line has `score`, `flagged`, `tier`, `reasons` and `ms`. When lines have labels, a \
last line `{\"summary\": ...}` gives TPR, FPR, balanced accuracy, AUC and p50/p95 latency.")]
pub struct ScanArgs {
    /// The text to scan.
    #[arg(conflicts_with_all = ["file", "jsonl"])]
    pub text: Option<String>,
    /// Scan the contents of this file as one text.
    #[arg(long, value_name = "F", conflicts_with = "jsonl")]
    pub file: Option<PathBuf>,
    /// Scan each line of this JSONL file (- for standard input).
    #[arg(long, value_name = "F")]
    pub jsonl: Option<PathBuf>,
    /// off: no scanning; patterns: normalisation and patterns; full: patterns then the classifier.
    #[arg(long, value_enum, default_value_t = pingone_mcp::defender::Mode::Full)]
    pub defender: pingone_mcp::defender::Mode,
    /// Flag a text when its score (0-1) reaches this.
    #[arg(long, value_name = "X", default_value_t = pingone_mcp::defender::DEFAULT_THRESHOLD, value_parser = classifier_score)]
    pub threshold: f32,
    /// Let through the texts whose digests this file lists (as --defender-allow on serve).
    #[arg(long = "defender-allow", value_name = "FILE")]
    pub allow: Option<PathBuf>,
}

/// How what returns to the model (or to whoever reads `run`'s output) is scanned for
/// prompt injection.
#[derive(Debug, Clone, Args)]
pub struct DefenderArgs {
    /// Prompt-injection scanning: off, patterns, or full (patterns, then the
    /// classifier on prose; see models/MODEL_CARD.md). Without libonnxruntime or the
    /// model, full falls back to patterns and says so.
    #[arg(id = "defender", long = "defender", value_name = "MODE", value_enum, default_value_t = pingone_mcp::defender::Mode::Full)]
    pub mode: pingone_mcp::defender::Mode,
    /// Classifier score (0-1) from which a string is withheld.
    #[arg(id = "defender_threshold", long = "defender-threshold", value_name = "X", default_value_t = pingone_mcp::defender::DEFAULT_THRESHOLD, value_parser = classifier_score)]
    pub threshold: f32,
    /// Texts you have read and allow through: a file of `sha256:<digest>` lines, one per
    /// text, as the server log prints them for what it withholds (a note may follow
    /// each; `#` starts a comment). Read again whenever it changes.
    #[arg(id = "defender_allow", long = "defender-allow", value_name = "FILE")]
    pub allow: Option<PathBuf>,
}

impl DefenderArgs {
    pub fn load(&self) -> anyhow::Result<pingone_mcp::defender::Defender> {
        Ok(self.load_with(self.allow_file()?))
    }

    /// The allow file, read: a missing or broken one is an error, to stop a command
    /// before it does anything.
    pub fn allow_file(&self) -> anyhow::Result<Option<pingone_mcp::defender::AllowFile>> {
        open_allow_file(self.allow.as_deref())
    }

    /// The defender, allowing what `allow` lists.
    pub fn load_with(&self, allow: Option<pingone_mcp::defender::AllowFile>) -> pingone_mcp::defender::Defender {
        pingone_mcp::defender::Defender::load(self.mode, self.threshold).allowing(allow)
    }
}

/// The allow file at `path` (`--defender-allow`), read now.
pub fn open_allow_file(path: Option<&std::path::Path>) -> anyhow::Result<Option<pingone_mcp::defender::AllowFile>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let file = pingone_mcp::defender::AllowFile::open(path).map_err(|why| anyhow::anyhow!("--defender-allow {}: {why}", path.display()))?;
    Ok(Some(file))
}

/// A defender threshold: a classifier score between 0 and 1.
fn classifier_score(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{text}` is not a classifier score: give a number between 0 and 1, e.g. 0.9")),
    }
}
