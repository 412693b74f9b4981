//! Connection settings: a TOML file of named profiles, overridden by `PINGONE_*`
//! environment variables. The only module that reads the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::secret::Secret;

pub const ENV_ENVIRONMENT_ID: &str = "PINGONE_ENVIRONMENT_ID";
pub const ENV_CLIENT_ID: &str = "PINGONE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "PINGONE_CLIENT_SECRET";
pub const ENV_REGION: &str = "PINGONE_REGION";
pub const ENV_API_URL: &str = "PINGONE_API_URL";
pub const ENV_AUTH_URL: &str = "PINGONE_AUTH_URL";
pub const ENV_AUTH_METHOD: &str = "PINGONE_AUTH_METHOD";
pub const ENV_USER_TOKEN: &str = "PINGONE_USER_TOKEN";
pub const ENV_REQUEST_TIMEOUT: &str = "PINGONE_REQUEST_TIMEOUT_SECS";
pub const ENV_PROFILE: &str = "PINGONE_PROFILE";
pub const ENV_CONFIG: &str = "PINGONE_CONFIG";
pub const ENV_LOGIN_CLIENT_ID: &str = "PINGONE_LOGIN_CLIENT_ID";
pub const ENV_TOKEN_STORE: &str = "PINGONE_MCP_TOKEN_STORE";
/// Set to `1` to let the API and auth URLs use plain http to a host other than this
/// machine (a test server on a private network): the client secret and every token
/// then cross the network unencrypted.
pub const ENV_ALLOW_PLAIN_HTTP: &str = "PINGONE_MCP_ALLOW_PLAIN_HTTP";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// How the worker app sends its credentials to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// `client_secret_basic`: HTTP Basic authentication.
    #[default]
    #[serde(alias = "client_secret_basic")]
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    #[serde(alias = "client_secret_post")]
    Post,
}

/// Whose token calls the management API.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A worker application's, by client credentials: the app's roles apply.
    Worker { client_id: String, client_secret: Secret, auth_method: AuthMethod },
    /// The person signed in with `pingone-mcp login` for this profile: their roles apply.
    Person,
}

/// Everything the client needs to talk to one PingOne environment.
#[derive(Debug, Clone)]
pub struct Connection {
    pub profile: String,
    pub environment_id: String,
    pub credentials: Credentials,
    /// Management API base, e.g. `https://api.pingone.eu/v1`.
    pub api_base: Url,
    /// Auth host base, e.g. `https://auth.pingone.eu`.
    pub auth_base: Url,
    /// A signed-in user's access token, for actions on the auth host.
    pub user_token: Option<Secret>,
    pub request_timeout: Duration,
}

/// One `[profiles.NAME]` table of the config file; every field may also come from
/// the environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub environment_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Name of an environment variable holding the secret, to keep it out of the file.
    pub client_secret_env: Option<String>,
    pub region: Option<String>,
    pub api_url: Option<String>,
    pub auth_url: Option<String>,
    pub auth_method: Option<AuthMethod>,
    pub request_timeout_secs: Option<u64>,
    /// The public (PKCE) application people sign in through with `pingone-mcp login`.
    pub login_client_id: Option<String>,
    /// Scopes `pingone-mcp login` asks for.
    pub login_scope: Option<String>,
    /// Act as the signed-in person rather than the worker app (like `--as-user`).
    #[serde(default)]
    pub as_user: bool,
    /// What scripts may do in this environment (`[profiles.NAME.policy]`).
    #[serde(default)]
    pub policy: crate::policy::PolicyConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// What each OAuth scope grants HTTP callers (`[scopes."NAME"]`); the built-in
    /// pingone-mcp:read / :write / :admin when absent.
    #[serde(default)]
    pub scopes: BTreeMap<String, crate::policy::ScopeGrant>,
    /// Where the settings were looked for, for error messages.
    #[serde(skip)]
    pub source: Source,
}

/// Where a [`ConfigFile`] came from.
#[derive(Debug, Clone, Default)]
pub enum Source {
    /// No config file was looked for (no home directory), or it is built in code.
    #[default]
    Nowhere,
    /// The default location, where there is no file.
    Absent(PathBuf),
    Read(PathBuf),
}

impl ConfigFile {
    /// "the config file /path/config.toml", or where there is none, for messages.
    fn described(&self) -> String {
        match &self.source {
            Source::Read(path) => format!("the config file {}", path.display()),
            Source::Absent(path) => format!("the config file (there is none at {})", path.display()),
            Source::Nowhere => "the config file".to_owned(),
        }
    }
}

/// The regions PingOne runs in, by top-level domain.
pub const REGIONS: [(&str, &str); 6] = [
    ("com", "North America"),
    ("ca", "Canada"),
    ("eu", "Europe"),
    ("asia", "Asia-Pacific"),
    ("com.au", "Australia"),
    ("sg", "Singapore"),
];

/// Maps a region name (or its common aliases) to PingOne's top-level domain.
pub fn region_tld(region: &str) -> Result<&'static str, ConfigError> {
    let tld = match region.trim().to_ascii_lowercase().as_str() {
        "com" | "na" | "us" | "north_america" | "northamerica" => "com",
        "ca" | "canada" => "ca",
        "eu" | "europe" => "eu",
        "asia" | "ap" | "asia_pacific" | "asiapacific" => "asia",
        "com.au" | "au" | "australia" => "com.au",
        "sg" | "singapore" => "sg",
        other => {
            let known: Vec<&str> = REGIONS.iter().map(|(tld, _)| *tld).collect();
            return Err(ConfigError::Invalid(format!(
                "unknown region `{other}` ({ENV_REGION} or `region`): use one of {}",
                known.join(", ")
            )));
        }
    };
    Ok(tld)
}

impl ConfigFile {
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::File { path: path.display().to_string(), message: parse_error(&e, text) })
    }

    /// Reads the file named by `--config`, `PINGONE_CONFIG`, or the default location
    /// (`~/.config/pingone-mcp/config.toml`); a missing default file is not an error.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let env_path = read_env(ENV_CONFIG).map(PathBuf::from);
        let (path, required) = match explicit.map(Path::to_path_buf).or(env_path) {
            Some(path) => (path, true),
            None => match default_config_path() {
                Some(path) => (path, false),
                None => return Ok(Self::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut file = Self { source: Source::Read(path.clone()), ..Self::parse(&path, &text)? };
                // A profile's relative audit log is beside the file, wherever the command
                // runs from: one trail, not one per working directory.
                let beside = path.parent().unwrap_or(Path::new("."));
                for profile in file.profiles.values_mut() {
                    for log in &mut profile.policy.audit_logs {
                        if log.is_relative() && log.as_os_str() != "-" {
                            *log = beside.join(&*log);
                        }
                    }
                }
                if let Some(warning) = file.exposed_secret_warning(&path) {
                    tracing::warn!("{warning}");
                }
                Ok(file)
            }
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Self { source: Source::Absent(path), ..Self::default() }),
            Err(e) => Err(ConfigError::File { path: path.display().to_string(), message: format!("cannot read: {e}") }),
        }
    }

    /// A warning when the file holds a client secret that other users can read.
    fn exposed_secret_warning(&self, path: &Path) -> Option<String> {
        let mode = crate::private_file::open_to_others(&std::fs::metadata(path).ok()?)?;
        let holders: Vec<&str> = self.profiles.iter().filter(|(_, p)| p.client_secret.is_some()).map(|(name, _)| name.as_str()).collect();
        (!holders.is_empty()).then(|| {
            format!(
                "{} holds the client secret of profile(s) {} and other users can read it (mode {mode:o}): run `chmod 600 {}`, or keep the secret in an environment variable named by client_secret_env",
                path.display(),
                holders.join(", "),
                path.display()
            )
        })
    }
}

/// Where and what the TOML error is, without the quoted line toml's own message
/// carries: that line can hold a client secret.
fn parse_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end_matches('\n');
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

fn default_config_path() -> Option<PathBuf> {
    Some(config_dir()?.join("config.toml"))
}

/// `$XDG_CONFIG_HOME/pingone-mcp` (else `~/.config/pingone-mcp`): the config file,
/// stored sign-ins and token signing keys.
pub fn config_dir() -> Option<PathBuf> {
    let base = read_env("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| read_env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("pingone-mcp"))
}

/// `PINGONE_MCP_TOKEN_STORE`, lowercased.
pub fn token_store_setting() -> Option<String> {
    read_env(ENV_TOKEN_STORE).map(|v| v.trim().to_ascii_lowercase())
}

#[allow(clippy::disallowed_methods)]
fn read_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where a value came from, for error messages.
fn missing(field: &str, env: &str, profile: &str, file: &ConfigFile) -> ConfigError {
    // The implicit `default` of a file whose profiles have other names: say them.
    let others = if file.profiles.contains_key(profile) || file.profiles.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = file.profiles.keys().map(|n| format!("--profile {n}")).collect();
        format!("; that file has no profile `{profile}` but has others: pass {} (or set `default_profile`)", names.join(" or "))
    };
    ConfigError::Invalid(format!(
        "missing {field}: set {env}, or `{}` in profile `{profile}` of {}{others} (run, call and serve also take --simulator, to try without a tenant)",
        field.replace(' ', "_"),
        file.described()
    ))
}

/// The name of the profile in use (`--profile`, `PINGONE_PROFILE`, the file's
/// `default_profile`, else `default`).
pub fn profile_name(file: &ConfigFile, profile: Option<&str>) -> String {
    profile
        .map(str::to_owned)
        .or_else(|| read_env(ENV_PROFILE))
        .or_else(|| file.default_profile.clone())
        .unwrap_or_else(|| "default".to_owned())
}

/// The policy settings of the profile in use (empty when it has none).
/// A profile that is named but not in the file is an error here too, so that a
/// misspelt `--profile` never runs with no policy (the simulator needs no profile).
pub fn profile_policy(file: &ConfigFile, profile: Option<&str>) -> Result<crate::policy::PolicyConfig, ConfigError> {
    Ok(named_profile(file, profile)?.1.policy)
}

/// The profile in use and its settings (empty for an implicit `default`).
fn named_profile(file: &ConfigFile, profile: Option<&str>) -> Result<(String, Profile), ConfigError> {
    let name = profile_name(file, profile);
    match file.profiles.get(&name) {
        Some(p) => Ok((name, p.clone())),
        // Without a file, only the implicit `default` (the variables alone) exists: a
        // named profile there is a mistake that would run against the variables' tenant.
        None if name == "default" => Ok((name, Profile::default())),
        None => {
            // `--profile` reads PINGONE_PROFILE when it is not given.
            let from_env = read_env(ENV_PROFILE).is_some_and(|v| v == name);
            let from = if from_env { ENV_PROFILE } else if profile.is_some() { "--profile" } else { "default_profile" };
            let has = if file.profiles.is_empty() {
                "no profiles: add a [profiles.NAME] table there, or leave the profile out to use the PINGONE_* variables alone".to_owned()
            } else {
                file.profiles.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            };
            Err(ConfigError::Invalid(format!("unknown profile `{name}` (from {from}): {} has {has}", file.described())))
        }
    }
}

/// The settings of a profile chosen by name (`--profile`, `PINGONE_PROFILE`, the file's
/// `default_profile`) that a `PINGONE_*` variable overrides with another value, each as
/// "PINGONE_API_URL over `api_url`": the variables win, as documented, but a person
/// who named a profile meant it, and a variable left in the shell (the simulator
/// prints `export` lines) would point the run at another tenant unseen.
pub fn overridden_settings(file: &ConfigFile, profile: Option<&str>) -> Vec<String> {
    if profile.is_none() && read_env(ENV_PROFILE).is_none() && file.default_profile.is_none() {
        return vec![];
    }
    let Ok((_, p)) = named_profile(file, profile) else { return vec![] };
    let settings = [
        (ENV_ENVIRONMENT_ID, "environment_id", &p.environment_id),
        (ENV_CLIENT_ID, "client_id", &p.client_id),
        (ENV_REGION, "region", &p.region),
        (ENV_API_URL, "api_url", &p.api_url),
        (ENV_AUTH_URL, "auth_url", &p.auth_url),
    ];
    let mut over: Vec<String> = settings
        .into_iter()
        .filter_map(|(env, key, value)| {
            let (set, own) = (read_env(env)?, value.as_deref()?);
            (own != set).then(|| format!("{env} over `{key}`"))
        })
        .collect();
    let profile_secret = p.client_secret_env.as_deref().and_then(read_env).or(p.client_secret.clone());
    if let (Some(set), Some(own)) = (read_env(ENV_CLIENT_SECRET), profile_secret) {
        if set != own {
            over.push(format!("{ENV_CLIENT_SECRET} over the profile's client secret"));
        }
    }
    over
}

/// Whether the profile says to act as the signed-in person.
pub fn profile_as_user(file: &ConfigFile, profile: Option<&str>) -> bool {
    named_profile(file, profile).is_ok_and(|(_, p)| p.as_user)
}

/// Where and how `pingone-mcp login` signs a person in.
#[derive(Debug, Clone)]
pub struct LoginTarget {
    pub profile: String,
    pub environment_id: String,
    pub auth_base: Url,
    pub client_id: String,
    pub scope: Option<String>,
}

pub fn resolve_login(file: &ConfigFile, profile: Option<&str>) -> Result<LoginTarget, ConfigError> {
    let (name, p) = named_profile(file, profile)?;
    let environment_id = environment_id(&name, &p, file)?;
    let client_id = read_env(ENV_LOGIN_CLIENT_ID).or(p.login_client_id.clone()).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "missing the login application: set {ENV_LOGIN_CLIENT_ID}, or `login_client_id` in profile `{name}`, to the client id of a PingOne native app with PKCE and the authorization-code (or device) grant"
        ))
    })?;
    let (_, auth_base) = hosts(&name, &p)?;
    Ok(LoginTarget { profile: name, environment_id, auth_base, client_id, scope: p.login_scope })
}

/// A setting's value and where it came from ("PINGONE_API_URL", "`api_url` in profile
/// `dev`"), for messages that point at what to fix.
struct Setting {
    value: String,
    source: String,
}

/// The variable's value, else the profile's.
fn setting(env: &str, key: &str, own: &Option<String>, profile: &str) -> Option<Setting> {
    read_env(env)
        .map(|value| Setting { value, source: env.to_owned() })
        .or_else(|| own.clone().map(|value| Setting { value, source: format!("`{key}` in profile `{profile}`") }))
}

/// The API and auth hosts of a profile (region, or explicit URLs).
fn hosts(name: &str, p: &Profile) -> Result<(Url, Url), ConfigError> {
    let region = setting(ENV_REGION, "region", &p.region, name);
    let tld = region_tld(region.as_ref().map_or("com", |r| r.value.as_str()))?;
    let api_base = explicit_url(setting(ENV_API_URL, "api_url", &p.api_url, name), region.as_ref(), tld)?.unwrap_or(default_url(&format!("https://api.pingone.{tld}/v1")));
    let auth_base = explicit_url(setting(ENV_AUTH_URL, "auth_url", &p.auth_url, name), region.as_ref(), tld)?.unwrap_or(default_url(&format!("https://auth.pingone.{tld}")));
    Ok((api_base, auth_base))
}

#[allow(clippy::expect_used)]
fn default_url(text: &str) -> Url {
    Url::parse(text).expect("the region URLs are valid")
}

/// An explicit API or auth URL, checked: http(s), encrypted unless the host is this
/// machine, and not another region's PingOne when a region is set too.
fn explicit_url(url: Option<Setting>, region: Option<&Setting>, tld: &str) -> Result<Option<Url>, ConfigError> {
    let Some(Setting { value, source }) = url else { return Ok(None) };
    let url = Url::parse(value.trim_end_matches('/')).map_err(|e| ConfigError::Invalid(format!("{source} is not a valid URL (`{value}`): {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" if read_env(ENV_ALLOW_PLAIN_HTTP).is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")) => {
            tracing::warn!("{source} uses plain http to {}: the client secret and every token cross the network unencrypted ({ENV_ALLOW_PLAIN_HTTP}=1)", url.host_str().unwrap_or("?"));
        }
        "http" => {
            return Err(ConfigError::Invalid(format!(
                "{source} (`{value}`) uses plain http to {}, which would send the client secret and every token unencrypted: use https:// (plain http is for a server on this machine, such as the simulator; for a test server on a private network set {ENV_ALLOW_PLAIN_HTTP}=1)",
                url.host_str().unwrap_or("another host")
            )))
        }
        _ => return Err(ConfigError::Invalid(format!("{source} must be an http(s) URL, got `{value}`"))),
    }
    if let (Some(region), Some(host)) = (region, url.host_str()) {
        let other = REGIONS.iter().map(|(t, _)| *t).filter(|t| *t != tld).find(|t| host.ends_with(&format!(".pingone.{t}")));
        if let Some(other) = other {
            return Err(ConfigError::Invalid(format!(
                "{} is `{}` but {source} (`{value}`) is PingOne's {other} region: remove one of them (the URL alone decides where calls go)",
                region.source, region.value
            )));
        }
    }
    Ok(Some(url))
}

/// Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Resolves the connection for a profile (`--profile`, `PINGONE_PROFILE`, the file's
/// `default_profile`, else `default`), environment variables taking precedence.
pub fn resolve(file: &ConfigFile, profile: Option<&str>) -> Result<Connection, ConfigError> {
    resolve_as(file, profile, false)
}

/// Like [`resolve`]; with `as_user`, calls are made with the signed-in person's token
/// and no worker credentials are needed.
pub fn resolve_as(file: &ConfigFile, profile: Option<&str>, as_user: bool) -> Result<Connection, ConfigError> {
    let (name, p) = named_profile(file, profile)?;
    let environment_id = environment_id(&name, &p, file)?;
    let (api_base, auth_base) = hosts(&name, &p)?;
    if p.request_timeout_secs == Some(0) {
        return Err(ConfigError::Invalid(format!("`request_timeout_secs` in profile `{name}` of {} is 0, so no call could finish: give the seconds a call may take (default 30)", file.described())));
    }
    // The variable wins over the profile, as every PINGONE_* one does (review 58: it was ignored).
    let request_timeout_secs = match read_env(ENV_REQUEST_TIMEOUT) {
        Some(text) => match text.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Some(secs),
            _ => return Err(ConfigError::Invalid(format!("{ENV_REQUEST_TIMEOUT} is `{text}`: give the whole seconds a call may take, 1 or more (default 30)"))),
        },
        None => p.request_timeout_secs,
    };
    let credentials = if as_user || p.as_user { Credentials::Person } else { worker_credentials(&name, &p, file)? };
    Ok(Connection {
        profile: name,
        environment_id,
        credentials,
        api_base,
        auth_base,
        user_token: read_env(ENV_USER_TOKEN).map(Secret::new),
        request_timeout: Duration::from_secs(request_timeout_secs.unwrap_or(30)),
    })
}

fn worker_credentials(name: &str, p: &Profile, file: &ConfigFile) -> Result<Credentials, ConfigError> {
    let p = p.clone();
    let client_id = read_env(ENV_CLIENT_ID).or(p.client_id).ok_or_else(|| missing("client id", ENV_CLIENT_ID, name, file))?;
    if let Some(var) = p.client_secret_env.as_deref().filter(|v| !is_variable_name(v)) {
        // Most likely the secret itself, put in the wrong key: never echoed.
        return Err(ConfigError::Invalid(format!(
            "`client_secret_env` in profile `{name}` of {} is not a variable name ({} characters, not only letters, digits and _; it may be the secret itself): name the variable that holds the secret there, or put the secret in `client_secret` (in a file only you can read)",
            file.described(),
            var.chars().count()
        )));
    }
    if p.client_secret.is_some() && p.client_secret_env.is_some() {
        return Err(ConfigError::Invalid(format!(
            "profile `{name}` of {} has both `client_secret` and `client_secret_env`: keep one (`client_secret_env` keeps the secret out of the file)",
            file.described()
        )));
    }
    let secret_from_named_env = p.client_secret_env.as_deref().and_then(read_env);
    let client_secret = read_env(ENV_CLIENT_SECRET).or(secret_from_named_env).or(p.client_secret).ok_or_else(|| match &p.client_secret_env {
        // The profile names where the secret is: that is what to fix.
        Some(var) => ConfigError::Invalid(format!("missing client secret: profile `{name}` of {} reads it from ${var}, which is not set (or set {ENV_CLIENT_SECRET})", file.described())),
        None => missing("client secret", ENV_CLIENT_SECRET, name, file),
    })?;
    if client_secret.trim() != client_secret {
        // Never in a secret PingOne generates: a copy-paste slip, which PingOne answers
        // with a bare invalid_client.
        tracing::warn!("the client secret of profile `{name}` starts or ends with spaces or a line break, which PingOne's secrets never do: check how it was set");
    }
    let auth_method = match read_env(ENV_AUTH_METHOD) {
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "basic" | "client_secret_basic" => AuthMethod::Basic,
            "post" | "client_secret_post" => AuthMethod::Post,
            other => return Err(ConfigError::Invalid(format!("{ENV_AUTH_METHOD} is `{other}`: use client_secret_basic or client_secret_post"))),
        },
        None => p.auth_method.unwrap_or_default(),
    };
    Ok(Credentials::Worker { client_id, client_secret: Secret::new(client_secret), auth_method })
}

/// An environment variable's name as shells write them: letters, digits and `_`, not
/// starting with a digit.
fn is_variable_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The profile's environment id, checked: PingOne's ids are UUIDs, and anything else
/// would only fail later, as a 404 from the token endpoint.
fn environment_id(name: &str, p: &Profile, file: &ConfigFile) -> Result<String, ConfigError> {
    let Setting { value, source } = setting(ENV_ENVIRONMENT_ID, "environment_id", &p.environment_id, name).ok_or_else(|| missing("environment id", ENV_ENVIRONMENT_ID, name, file))?;
    // As PingOne writes its ids: a copy-paste's spaces and capitals are no other id.
    let value = value.trim().to_ascii_lowercase();
    if uuid::Uuid::try_parse(&value).is_err() || value.len() != 36 {
        let shown: String = value.chars().take(64).collect();
        return Err(ConfigError::Invalid(format!(
            "{source} (`{shown}`) is not a PingOne environment id: it is a UUID such as 2f6c4e3a-8b1d-4c2e-9f70-1a2b3c4d5e6f (Environment → Settings → Environment ID in the admin console)"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_aliases() {
        assert_eq!(region_tld("EU").unwrap(), "eu");
        assert_eq!(region_tld("au").unwrap(), "com.au");
        assert_eq!(region_tld("ap").unwrap(), "asia");
        assert_eq!(region_tld("sg").unwrap(), "sg");
        let err = region_tld("mars").unwrap_err().to_string();
        assert!(err.contains("mars") && err.contains("com.au"), "{err}");
    }

    #[test]
    fn profiles_resolve_with_region_urls() {
        let text = r#"
default_profile = "dev"
[profiles.dev]
environment_id = "11111111-2222-3333-4444-555555555555"
client_id = "abc"
client_secret = "s3cret"
region = "eu"
[profiles.prod]
environment_id = "99999999-2222-3333-4444-555555555555"
client_id = "def"
client_secret = "x"
region = "com.au"
auth_method = "client_secret_post"
"#;
        let file = ConfigFile::parse(Path::new("t.toml"), text).unwrap();
        let prod = resolve(&file, Some("prod")).unwrap();
        assert_eq!(prod.api_base.as_str(), "https://api.pingone.com.au/v1");
        assert_eq!(prod.auth_base.as_str(), "https://auth.pingone.com.au/");
        assert!(matches!(prod.credentials, Credentials::Worker { auth_method: AuthMethod::Post, .. }));
        let err = resolve(&file, Some("staging")).unwrap_err().to_string();
        assert!(err.contains("staging") && err.contains("dev, prod"), "{err}");
    }

    #[test]
    fn malformed_file_names_the_problem() {
        let err = ConfigFile::parse(Path::new("c.toml"), "[profiles.dev]\nregoin = \"eu\"\n").unwrap_err().to_string();
        assert!(err.contains("c.toml") && err.contains("line 2, column 1") && err.contains("regoin"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_what_to_set() {
        let text = "[profiles.dev]\nenvironment_id = \"11111111-2222-3333-4444-555555555555\"\nclient_id = \"abc\"\nclient_secret_env = \"PINGONE_MCP_TEST_UNSET_SECRET\"\n";
        let mut file = ConfigFile::parse(Path::new("c.toml"), text).unwrap();
        file.source = Source::Read(PathBuf::from("/etc/p1/c.toml"));
        let err = resolve(&file, Some("dev")).unwrap_err().to_string();
        assert!(err.contains("reads it from $PINGONE_MCP_TEST_UNSET_SECRET, which is not set") && err.contains("/etc/p1/c.toml"), "{err}");
        let err = resolve(&file, Some("nope")).unwrap_err().to_string();
        assert!(err.contains("unknown profile `nope` (from --profile): the config file /etc/p1/c.toml has dev"), "{err}");
        let absent = ConfigFile { source: Source::Absent(PathBuf::from("/home/a/.config/pingone-mcp/config.toml")), ..ConfigFile::default() };
        let err = resolve(&absent, Some("dev")).unwrap_err().to_string();
        assert!(err.contains("there is none at /home/a/.config/pingone-mcp/config.toml"), "{err}");
    }

    /// Review 32: settings that contradict each other or could never work are refused,
    /// each naming where it was set; plain http leaves this machine only when asked to.
    #[test]
    fn contradictory_or_unsafe_settings_are_refused() {
        let profile = |extra: &str| {
            let text = format!("[profiles.dev]\nenvironment_id = \"11111111-2222-3333-4444-555555555555\"\nclient_id = \"c\"\nclient_secret = \"s\"\n{extra}");
            resolve(&ConfigFile::parse(Path::new("c.toml"), &text).unwrap(), Some("dev"))
        };
        let err = profile("api_url = \"http://192.0.2.2:18302/v1\"\n").unwrap_err().to_string();
        assert!(err.contains("`api_url` in profile `dev`") && err.contains("plain http to 192.0.2.2") && err.contains("PINGONE_MCP_ALLOW_PLAIN_HTTP"), "{err}");
        assert!(profile("api_url = \"http://127.0.0.1:9/v1\"\nauth_url = \"http://localhost:9\"\n").is_ok());
        let err = profile("region = \"eu\"\napi_url = \"https://api.pingone.com/v1\"\n").unwrap_err().to_string();
        assert!(err.contains("`region` in profile `dev` is `eu`") && err.contains("PingOne's com region"), "{err}");
        assert!(profile("region = \"eu\"\napi_url = \"https://api.pingone.eu/v1\"\n").is_ok());
        let err = profile("client_secret_env = \"X\"\n").unwrap_err().to_string();
        assert!(err.contains("both `client_secret` and `client_secret_env`"), "{err}");
        let err = profile("request_timeout_secs = 0\n").unwrap_err().to_string();
        assert!(err.contains("`request_timeout_secs` in profile `dev`") && err.contains("is 0"), "{err}");
        let text = "[profiles.dev]\nenvironment_id = \"my-env\"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        let err = resolve(&ConfigFile::parse(Path::new("c.toml"), text).unwrap(), Some("dev")).unwrap_err().to_string();
        assert!(err.contains("`environment_id` in profile `dev` (`my-env`) is not a PingOne environment id"), "{err}");
        // A pasted id with spaces or capitals is the id PingOne writes.
        let text = "[profiles.dev]\nenvironment_id = \" 2F6C4E3A-8B1D-4C2E-9F70-1A2B3C4D5E6F \"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        let conn = resolve(&ConfigFile::parse(Path::new("c.toml"), text).unwrap(), Some("dev")).unwrap();
        assert_eq!(conn.environment_id, "2f6c4e3a-8b1d-4c2e-9f70-1a2b3c4d5e6f");
    }

    #[test]
    fn a_secret_others_can_read_is_warned_of() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[profiles.dev]\nclient_secret = \"s3cret-value\"\n[profiles.ci]\nclient_secret_env = \"CI_SECRET\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = ConfigFile::load(Some(&path)).unwrap();
        let warning = file.exposed_secret_warning(&path).unwrap();
        assert!(warning.contains("profile(s) dev and") && warning.contains("mode 644") && warning.contains("chmod 600") && !warning.contains("s3cret"), "{warning}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(file.exposed_secret_warning(&path).is_none());
    }

    #[test]
    fn a_malformed_line_with_a_secret_is_not_quoted() {
        let text = "[profiles.dev]\nclient_secret = \"Zq8-TOPSECRET-value-77\n";
        let err = ConfigFile::parse(Path::new("c.toml"), text).unwrap_err().to_string();
        assert!(err.contains("c.toml") && err.contains("line 2") && !err.contains("TOPSECRET"), "{err}");
    }
}
