//! What a script may do: the gate every action call passes (the guest cannot go
//! around it), plus the settings that shape calls (dry run, secrets, rate).

mod audit;
mod caller;
mod confirm;

use serde::Deserialize;
use wildmatch::WildMatch;

pub use audit::{AuditEntry, AuditLog};
pub use caller::{default_scope_grants, Caller, Grant, ScopeGrant, TokenValidity};
pub use confirm::{Blanket, Confirm, ConfirmReason, ConfirmRequest, Refusal, Yes};

use crate::catalog::Action;

/// Policy settings, from flags and from a profile's `[profiles.NAME.policy]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, from = "ProfilePolicy")]
pub struct PolicyConfig {
    /// Let scripts call actions that change PingOne.
    #[serde(default)]
    pub allow_writes: bool,
    /// Let scripts delete, rotate secrets, set passwords, turn MFA off.
    #[serde(default)]
    pub allow_destructive: bool,
    /// Let the server act on an environment of type PRODUCTION.
    #[serde(default)]
    pub allow_production: bool,
    /// Action id globs; when any are given, only matching actions run.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Action id globs that never run (deny wins over allow).
    #[serde(default)]
    pub deny: Vec<String>,
    /// Don't send writes; show the request that would have been made.
    #[serde(default)]
    pub dry_run: bool,
    /// Return secrets and passwords as they are instead of masked.
    #[serde(default)]
    pub reveal_secrets: bool,
    /// Requests per second, shared by every script of the process.
    #[serde(default)]
    pub rate_limit: Option<f64>,
    /// Tries after the first for a request PingOne throttled or did not answer.
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Append one JSON line per action call to each of these files ("-" for stderr); a
    /// profile's is kept whoever starts pingone-mcp, and `--audit-log` adds another.
    #[serde(default)]
    pub audit_logs: Vec<std::path::PathBuf>,
    /// The permissions a profile sets to `false` itself (`allow_writes = false` for a
    /// production profile served beside a writable one): no command-line flag lifts them.
    pub kept_off: Vec<&'static str>,
}

/// The command-line flag of a permission setting: `allow_writes` → `--allow-writes`.
impl PolicyConfig {
    /// The flags in force, as the command line spells them: what a run was allowed, for
    /// its audit line.
    pub fn flags_in_force(&self) -> Vec<String> {
        let switches = [
            (self.allow_writes, "--allow-writes"),
            (self.allow_destructive, "--allow-destructive"),
            (self.allow_production, "--allow-production"),
            (self.dry_run, "--dry-run"),
            (self.reveal_secrets, "--reveal-secrets"),
        ];
        let mut flags: Vec<String> = switches.into_iter().filter(|(on, _)| *on).map(|(_, flag)| flag.to_owned()).collect();
        flags.extend(self.allow.iter().map(|pattern| format!("--allow {pattern}")));
        flags.extend(self.deny.iter().map(|pattern| format!("--deny {pattern}")));
        flags.extend(self.rate_limit.map(|rate| format!("--rate-limit {rate}")));
        flags.extend(self.max_retries.map(|tries| format!("--max-retries {tries}")));
        flags
    }
}

pub fn flag_of(setting: &str) -> String {
    format!("--{}", setting.replace('_', "-"))
}

/// A profile's `[policy]` table as written: a permission it sets to `false` is kept off.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilePolicy {
    allow_writes: Option<bool>,
    allow_destructive: Option<bool>,
    allow_production: Option<bool>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    reveal_secrets: bool,
    rate_limit: Option<f64>,
    max_retries: Option<u32>,
    audit_log: Option<std::path::PathBuf>,
}

impl From<ProfilePolicy> for PolicyConfig {
    fn from(p: ProfilePolicy) -> Self {
        let set = [("allow_writes", p.allow_writes), ("allow_destructive", p.allow_destructive), ("allow_production", p.allow_production)];
        PolicyConfig {
            allow_writes: p.allow_writes.unwrap_or(false),
            allow_destructive: p.allow_destructive.unwrap_or(false),
            allow_production: p.allow_production.unwrap_or(false),
            allow: p.allow,
            deny: p.deny,
            dry_run: p.dry_run,
            reveal_secrets: p.reveal_secrets,
            rate_limit: p.rate_limit,
            max_retries: p.max_retries,
            audit_logs: p.audit_log.into_iter().collect(),
            kept_off: set.into_iter().filter(|(_, value)| *value == Some(false)).map(|(name, _)| name).collect(),
        }
    }
}

impl PolicyConfig {
    /// The permissions `flags` would grant that this profile keeps off (`allow_writes`).
    pub fn flags_kept_off(&self, flags: &PolicyConfig) -> Vec<&'static str> {
        let granted = [("allow_writes", flags.allow_writes), ("allow_destructive", flags.allow_destructive), ("allow_production", flags.allow_production)];
        granted.into_iter().filter(|(name, on)| *on && self.kept_off.contains(name)).map(|(name, _)| name).collect()
    }

    /// Both sets of settings: a permission granted by either holds, unless this one (a
    /// profile) sets it to `false`; lists add up.
    pub fn merged(mut self, other: &PolicyConfig) -> Self {
        let kept_off = |name: &str| self.kept_off.contains(&name);
        self.allow_writes = (self.allow_writes || other.allow_writes) && !kept_off("allow_writes");
        self.allow_destructive = (self.allow_destructive || other.allow_destructive) && !kept_off("allow_destructive");
        self.allow_production = (self.allow_production || other.allow_production) && !kept_off("allow_production");
        self.dry_run |= other.dry_run;
        self.reveal_secrets |= other.reveal_secrets;
        self.allow.extend(other.allow.iter().cloned());
        self.deny.extend(other.deny.iter().cloned());
        self.rate_limit = other.rate_limit.or(self.rate_limit);
        self.max_retries = other.max_retries.or(self.max_retries);
        // --audit-log adds a file: the profile's audit trail is kept whoever runs it.
        // The same file named twice (another spelling of its path) is written once.
        for path in &other.audit_logs {
            if !self.audit_logs.iter().any(|kept| same_file(kept, path)) {
                self.audit_logs.push(path.clone());
            }
        }
        self
    }
}

/// Whether two paths name one file: the same text, or, once their directories are
/// resolved, the same place (the file itself may not exist yet).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    let resolved = |p: &std::path::Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    a == b || resolved(a).is_some_and(|a| Some(a) == resolved(b))
}

/// Default client-side rate: below PingOne's usual per-environment limits.
pub const DEFAULT_RATE_LIMIT: f64 = 50.0;


#[derive(Debug, Clone)]
pub struct Policy {
    pub config: PolicyConfig,
    allow: Vec<WildMatch>,
    deny: Vec<WildMatch>,
}

impl Policy {
    pub fn new(config: PolicyConfig) -> Self {
        let compile = |globs: &[String]| globs.iter().map(|g| WildMatch::new(g)).collect();
        Self { allow: compile(&config.allow), deny: compile(&config.deny), config }
    }

    /// The allow and deny patterns no action id matches, each with its kind: a typo
    /// there would refuse everything (`--allow lsit_*`) or deny nothing.
    pub fn patterns_matching_nothing<'a>(&'a self, ids: &[&str]) -> Vec<String> {
        let unmatched = |flag: &'a str, globs: &'a [String], compiled: &'a [WildMatch]| {
            globs.iter().zip(compiled).filter(|(_, m)| !ids.iter().any(|id| m.matches(id))).map(move |(glob, _)| format!("{flag} `{glob}`"))
        };
        unmatched("allow", &self.config.allow, &self.allow).chain(unmatched("deny", &self.config.deny, &self.deny)).collect()
    }

    /// Everything allowed (tests, replays of trusted cassettes).
    pub fn permissive() -> Self {
        Self::new(PolicyConfig { allow_writes: true, allow_destructive: true, allow_production: true, ..PolicyConfig::default() })
    }

    /// Whether `action` may run at all (some call of it); the refusal says why and
    /// which setting changes it.
    pub fn check(&self, action: &Action) -> Result<(), String> {
        self.check_call(action, &serde_json::Value::Null)
    }

    /// Why every call of `action` would be refused to a caller with `grant`, in a few
    /// words for a search hit (the refusal itself says how to change it); `None` when
    /// some call of it may run.
    pub fn refused_briefly(&self, action: &Action, grant: Option<&Grant>) -> Option<&'static str> {
        if self.check(action).is_err() {
            return Some(if action.writes() && !self.config.allow_writes {
                "writes are off here"
            } else if action.may_be_destructive() && !self.config.allow_destructive {
                "destructive calls are off here"
            } else {
                "this server's policy denies it"
            });
        }
        grant.is_some_and(|g| g.check(action).is_err()).then_some("your token does not grant it")
    }

    /// Whether this call of `action` may run: with `args` that make it destructive
    /// (`mfaEnabled: false`), it needs --allow-destructive.
    pub fn check_call(&self, action: &Action, args: &serde_json::Value) -> Result<(), String> {
        let id = action.id.as_str();
        if let Some((glob, _)) = self.config.deny.iter().zip(&self.deny).find(|(_, m)| m.matches(id)) {
            return Err(format!("`{id}` is denied by the policy (deny pattern `{glob}`)"));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|m| m.matches(id)) {
            return Err(format!("`{id}` is not in the policy's allow list ({}); add a matching --allow pattern", self.config.allow.join(", ")));
        }
        if action.writes() && !self.config.allow_writes && !self.config.dry_run {
            if self.config.kept_off.contains(&"allow_writes") {
                return Err(format!("`{id}` changes PingOne and this profile's policy sets `allow_writes = false` in the configuration file, which no command-line flag lifts (a run started with --dry-run shows what it would send)"));
            }
            // A destructive call says both flags it needs at once, not one per try.
            let also = if action.is_destructive_call(args) && !self.config.allow_destructive { " and, as it is destructive, --allow-destructive" } else { "" };
            // Review 46: a person who gave --allow-destructive alone meant to delete.
            let given = if self.config.allow_destructive { "; --allow-destructive is given, but it only adds deletes, rotations and resets to the writes --allow-writes allows" } else { "" };
            return Err(format!(
                "`{id}` changes PingOne and writes are off (the default): they need --allow-writes{also}, which only whoever starts pingone-mcp can give, not a call or script (a run started with --dry-run shows what it would send instead){given}"
            ));
        }
        if action.is_destructive_call(args) && !self.config.allow_destructive && !self.config.dry_run {
            let what = if action.destructive {
                format!("`{id}` is destructive (it deletes, rotates or resets something)")
            } else {
                format!("`{id}` with {} is destructive", destructive_values(action, args))
            };
            if self.config.kept_off.contains(&"allow_destructive") {
                return Err(format!("{what}, and this profile's policy sets `allow_destructive = false` in the configuration file, which no command-line flag lifts"));
            }
            return Err(format!("{what}: it needs --allow-destructive as well, given by whoever starts pingone-mcp"));
        }
        Ok(())
    }

    /// Whether `action` is sent, or only shown (dry run).
    pub fn is_dry_run(&self, action: &Action) -> bool {
        self.config.dry_run && action.writes()
    }

    /// The flags this call would need to be sent that this run was not given: a dry
    /// run shows every write, and its rehearsal must not hide that the real run would
    /// be refused half-way.
    pub fn flags_needed(&self, action: &Action, args: &serde_json::Value) -> Vec<&'static str> {
        let mut needed = Vec::new();
        if action.writes() && !self.config.allow_writes {
            needed.push("--allow-writes");
        }
        if action.is_destructive_call(args) && !self.config.allow_destructive {
            needed.push("--allow-destructive");
        }
        needed
    }
}

/// The arguments that make a call destructive: `mfaEnabled: false`.
fn destructive_values(action: &Action, args: &serde_json::Value) -> String {
    let named: Vec<String> = action.destructive_args(args).map(|(name, value)| format!("{name}: {value}")).collect();
    named.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load_builtin;

    #[test]
    fn read_only_by_default_and_deny_wins() {
        let catalog = load_builtin().unwrap();
        let get = |id: &str| catalog.get(id).unwrap();
        let policy = Policy::new(PolicyConfig::default());
        assert!(policy.check(get("list_users")).is_ok());
        assert!(policy.check(get("update_user_enabled_status")).unwrap_err().contains("--allow-writes,"));
        assert!(policy.check(get("delete_user")).unwrap_err().contains("--allow-writes and, as it is destructive, --allow-destructive,"), "both flags at once (review 43)");
        let writes = Policy::new(PolicyConfig { allow_writes: true, ..Default::default() });
        assert!(writes.check(get("update_user_enabled_status")).is_ok());
        assert!(writes.check(get("delete_user")).unwrap_err().contains("--allow-destructive"));
        let lists = Policy::new(PolicyConfig { allow: vec!["list_*".into()], deny: vec!["*_secret*".into(), "list_users".into()], ..Policy::permissive().config });
        assert!(lists.patterns_matching_nothing(&["list_users", "get_application_secret"]).is_empty());
        let typos = Policy::new(PolicyConfig { allow: vec!["lsit_*".into(), "list_*".into()], deny: vec!["delete_usr".into()], ..Default::default() });
        assert_eq!(typos.patterns_matching_nothing(&["list_users", "delete_user"]), ["allow `lsit_*`", "deny `delete_usr`"]);
        assert!(lists.check(get("list_groups")).is_ok());
        assert!(lists.check(get("get_user")).unwrap_err().contains("allow list"));
        assert!(lists.check(get("list_users")).unwrap_err().contains("deny pattern `list_users`"));
    }
}
