//! Per-user sign-in, end to end with the real binary against the simulator's
//! authorization server on loopback: PKCE in a browser (this test plays the browser),
//! the device flow, refresh, the stored session's permissions, acting as the person,
//! and an HTTP MCP session with the Python `mcp` client carrying a token. Every log
//! line written along the way is then searched for tokens, secrets and passwords.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pingone_mcp::simulator::{Person, Simulator, SimulatorConfig};
use regex::Regex;
use serde_json::Value;

struct Setup {
    sim: Simulator,
    home: tempfile::TempDir,
    /// Everything the binary wrote to stderr, for the final search for secrets.
    logs: std::sync::Mutex<String>,
}

impl Setup {
    async fn new() -> Setup {
        let sim = Simulator::start(SimulatorConfig { users: 30, ..SimulatorConfig::default() }, 0).await.unwrap();
        Setup { sim, home: tempfile::tempdir().unwrap(), logs: Default::default() }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PINGONE_ENVIRONMENT_ID", self.sim.environment_id.clone()),
            ("PINGONE_API_URL", self.sim.api_base()),
            ("PINGONE_AUTH_URL", self.sim.auth_base()),
            ("PINGONE_LOGIN_CLIENT_ID", self.sim.login_client_id.clone()),
            ("PINGONE_MCP_TOKEN_STORE", "file".into()),
            ("XDG_CONFIG_HOME", self.home.path().display().to_string()),
            ("PINGONE_MCP_LOG", "debug".into()),
        ]
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pingone-mcp"));
        command.args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("PINGONE_") {
                command.env_remove(key);
            }
        }
        for (key, value) in self.env() {
            command.env(key, value);
        }
        command
    }

    /// Runs to the end; stderr is kept for the secret search.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = self.command(args).output().unwrap();
        self.logs.lock().unwrap().push_str(&common::stderr(&out));
        out
    }

    fn session_file(&self) -> PathBuf {
        self.home.path().join("pingone-mcp/sessions/default.json")
    }

    fn session(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.session_file()).unwrap()).unwrap()
    }

    /// `login` with the browser flow: waits for the URL it prints, signs `person` in
    /// through the simulator's form, follows the redirect to the CLI's loopback listener.
    async fn browser_login(&self, person: &Person, extra: &[&str]) {
        let mut args = vec!["login", "--no-browser"];
        args.extend_from_slice(extra);
        let (mut child, lines) = spawn_with_stderr(self.command(&args));
        let url = wait_for_line(&lines, |l| l.contains("/as/authorize?")).trim().to_owned();
        let redirect = sign_in(&url, person).await;
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.contains("code="), "{redirect}");
        let page = reqwest::get(&redirect).await.unwrap();
        assert_eq!(page.status(), 200);
        self.finish(&mut child, lines);
    }

    fn finish(&self, child: &mut Child, lines: mpsc::Receiver<String>) {
        let status = child.wait().unwrap();
        let rest: Vec<String> = lines.iter().collect();
        let text = rest.join("\n");
        self.logs.lock().unwrap().push_str(&text);
        assert!(status.success(), "login failed: {text}");
        assert!(text.contains("Signed in"), "{text}");
    }
}

fn spawn_with_stderr(mut command: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn wait_for_line(lines: &mpsc::Receiver<String>, wanted: impl Fn(&str) -> bool) -> String {
    loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("the expected line never came");
        if wanted(&line) {
            return line;
        }
    }
}

/// Plays the browser on a sign-on page: fills the form's username and password,
/// keeps its hidden fields, posts it, and returns where the server redirects.
async fn sign_in(url: &str, person: &Person) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "the sign-on page");
    let html = page.text().await.unwrap();
    let (action, mut fields) = parse_form(&html);
    fields.retain(|(k, _)| k != "username" && k != "password" && k != "deny");
    fields.push(("username".into(), person.username.clone()));
    fields.push(("password".into(), person.password.clone()));
    let target = url::Url::parse(url).unwrap().join(&action).unwrap();
    let reply = http.post(target).form(&fields).send().await.unwrap();
    match reply.status().as_u16() {
        302 | 303 => reply.headers()["location"].to_str().unwrap().to_owned(),
        status => {
            let body = reply.text().await.unwrap_or_default();
            assert_eq!(status, 200, "{body}");
            body
        }
    }
}

/// The first form's action and its named inputs (with their values).
fn parse_form(html: &str) -> (String, Vec<(String, String)>) {
    let form = Regex::new(r#"(?is)<form[^>]*action="([^"]*)""#).unwrap();
    let action = form.captures(html).map(|c| c[1].replace("&amp;", "&")).unwrap_or_default();
    let input = Regex::new(r#"(?is)<input([^>]*)>"#).unwrap();
    let attr = |tag: &str, name: &str| Regex::new(&format!(r#"(?i){name}="([^"]*)""#)).unwrap().captures(tag).map(|c| c[1].replace("&amp;", "&"));
    let fields = input.captures_iter(html).filter_map(|c| Some((attr(&c[1], "name")?, attr(&c[1], "value").unwrap_or_default()))).collect();
    (action, fields)
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_login_then_whoami_refresh_and_logout() {
    let s = Setup::new().await;
    s.browser_login(&s.sim.admin, &[]).await;

    let file = s.session_file();
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the session file is the user's alone");
    assert_eq!(std::fs::metadata(file.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    let first = s.session();

    let who = s.run(&["whoami", "--json"]);
    assert!(who.status.success(), "{}", common::stderr(&who));
    let who: Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(who["userinfo"]["sub"], s.sim.admin.user_id.as_str());
    assert_eq!(who["userinfo"]["preferred_username"], s.sim.admin.username.as_str());

    // An access token about to expire is refreshed (and the refresh token rotated) before use.
    let mut stale = first.clone();
    stale["expires_at"] = 0.into();
    std::fs::write(&file, stale.to_string()).unwrap();
    let who = s.run(&["whoami"]);
    assert!(who.status.success(), "{}", common::stderr(&who));
    let refreshed = s.session();
    assert_ne!(refreshed["access_token"], first["access_token"], "a new access token");
    assert_ne!(refreshed["refresh_token"], first["refresh_token"], "the refresh token was rotated");
    assert!(refreshed["expires_at"].as_u64().unwrap() > 0);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "still the user's alone after the refresh");

    // A session file others can read is refused, not used.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = s.run(&["whoami"]);
    assert!(!refused.status.success());
    assert!(common::stderr(&refused).contains("readable by other users"), "{}", common::stderr(&refused));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = s.run(&["logout"]);
    assert!(out.status.success() && common::stderr(&out).contains("Signed out"), "{}", common::stderr(&out));
    assert!(!file.exists());
    let out = s.run(&["whoami"]);
    assert!(!out.status.success() && common::stderr(&out).contains("pingone-mcp login"), "{}", common::stderr(&out));
    assert_no_secrets(&s, &[first["access_token"].as_str().unwrap(), first["refresh_token"].as_str().unwrap(), refreshed["access_token"].as_str().unwrap()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn device_login_and_acting_with_the_persons_roles() {
    let s = Setup::new().await;
    let (mut child, lines) = spawn_with_stderr(s.command(&["login", "--device"]));
    let line = wait_for_line(&lines, |l| l.contains("or open directly:"));
    let url = line.split("or open directly:").nth(1).unwrap().trim().to_owned();
    let page = sign_in(&url, &s.sim.reader).await;
    assert!(!page.contains("error"), "the device approval page: {page}");
    s.finish(&mut child, lines);

    // The read-only person can read as themselves...
    let script = "const me = await pingone.get_current_user_info({}); const page = await pingone.list_users({ limit: 2 }); return { me: me.sub, users: page.items.length };";
    let out = run_script(&s, script, &["--as-user"]);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["result"]["me"], s.sim.reader.user_id.as_str());
    assert_eq!(out["result"]["users"], 2);
    // ...but PingOne (the simulator) refuses their writes, even with our policy open.
    let write = format!("return await pingone.update_user_enabled_status({{ userId: '{}', enabled: true }});", s.sim.admin.user_id);
    let out = run_script(&s, &write, &["--as-user", "--allow-writes"]);
    assert_eq!(out["ok"], false, "{out}");
    assert!(out["error"].as_str().unwrap().contains("403"), "{out}");
    // Nor does the server remove the person's own role (review 52): refused before
    // PingOne is asked, so it says why rather than answering 403.
    let me = s.sim.reader.user_id.as_str();
    let own = format!("const [mine] = await pingone.list_user_role_assignments({{ userId: '{me}', all: true }}); try {{ await pingone.delete_user_role_assignment({{ userId: '{me}', roleAssignmentId: mine.id }}); return 'sent' }} catch (e) {{ return [e.code, e.message] }}");
    let out = run_script(&s, &own, &["--as-user", "--allow-writes", "--allow-destructive"]);
    assert_eq!(out["result"][0], "OWN_CREDENTIAL", "{out}");
    assert!(out["result"][1].as_str().unwrap().contains("is you, the person this server acts as"), "{out}");
    let token = s.session()["access_token"].as_str().unwrap().to_owned();
    assert_no_secrets(&s, &[&token]);
}

fn run_script(s: &Setup, script: &str, flags: &[&str]) -> Value {
    let mut args = vec!["run", "-", "--json"];
    args.extend_from_slice(flags);
    let mut child = s.command(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    s.logs.lock().unwrap().push_str(&common::stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", common::stdout(&out), common::stderr(&out)))
}

/// No token, secret or password in anything the binary logged.
fn assert_no_secrets(s: &Setup, tokens: &[&str]) {
    let logs = s.logs.lock().unwrap();
    assert!(logs.len() > 200, "the logs were captured (debug level): {} bytes", logs.len());
    for secret in tokens.iter().copied().chain([s.sim.client_secret.as_str(), s.sim.admin.password.as_str(), s.sim.reader.password.as_str()]) {
        assert!(secret.len() >= 8, "a real secret to search for");
        assert!(!logs.contains(secret), "a secret leaked into the logs: …{}", &secret[secret.len() - 4..]);
    }
}

/// The report of one run of the Python client over HTTP with `token`, executing `script`.
fn python_client(python: &PathBuf, url: &str, token: &str, script: &str) -> Value {
    let output = Command::new(python).arg(common::client_script("mcp_client.py")).args(["http", url, token]).env("MCP_TEST_SCRIPT", script).output().unwrap();
    assert!(output.status.success(), "the MCP client failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}


/// A server started before any session token was issued on the machine accepts one
/// issued while it runs: the signing key is made at start, not at the first issue. A
/// token for a pattern no action matches is refused, as `serve --allow` refuses one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_issued_after_the_server_started_is_accepted() {
    let s = Setup::new().await;
    let port = common::listen_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let mut command = s.command(&["serve", "--http", &format!("127.0.0.1:{port}")]);
    command.env("PINGONE_CLIENT_ID", &s.sim.client_id).env("PINGONE_CLIENT_SECRET", &s.sim.client_secret);
    let (mut server, lines) = spawn_with_stderr(command);
    wait_for_line(&lines, |l| l.contains("streamable HTTP at"));
    let typo = s.run(&["token", "issue", "--allow", "lisst_*", "--ttl", "10m"]);
    assert!(!typo.status.success() && common::stderr(&typo).contains("no action matches allow `lisst_*` (from --allow)"), "a token for no action is refused: {}", common::stderr(&typo));
    let forever = s.run(&["token", "issue", "--allow", "list_*", "--ttl", "10years"]);
    assert!(!forever.status.success() && common::stderr(&forever).contains("longer than 90 days"), "a standing credential is refused: {}", common::stderr(&forever));
    let issued = s.run(&["token", "issue", "--allow", "list_*", "--subject", "late-bot", "--ttl", "10m"]);
    assert!(issued.status.success(), "{}", common::stderr(&issued));
    let token = common::stdout(&issued).trim().to_owned();
    let initialize = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let reply = reqwest::Client::new().post(&resource).header("accept", "application/json, text/event-stream").bearer_auth(&token).json(&initialize).send().await.unwrap();
    let status = reply.status();
    assert_eq!(status, 200, "{}", reply.text().await.unwrap());
    server.kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_mcp_sessions_carry_a_persons_token_or_a_session_token() {
    let Some(python) = common::python_with_mcp("http_mcp_sessions_carry_a_persons_token_or_a_session_token") else { return };
    let s = Setup::new().await;
    let port = common::listen_port();
    let base = format!("http://127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    s.browser_login(&s.sim.admin, &["--resource", &resource, "--scope", "openid pingone-mcp:read"]).await;
    let person_token = s.session()["access_token"].as_str().unwrap().to_owned();
    let issued = s.run(&["token", "issue", "--allow", "list_*", "--subject", "ci-bot", "--ttl", "10m"]);
    assert!(issued.status.success(), "{}", common::stderr(&issued));
    let session_token = common::stdout(&issued).trim().to_owned();
    let listed: Value = serde_json::from_slice(&s.run(&["token", "list", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["subject"], "ci-bot");
    assert_eq!(listed[0]["state"], "valid");
    let token_id = listed[0]["id"].as_str().unwrap().to_owned();
    let text = common::stdout(&s.run(&["token", "list"]));
    let expires = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(listed[0]["expiresAt"].as_u64().unwrap())).to_string();
    assert!(text.contains(&token_id) && text.contains(&format!("valid    expiry {expires}")), "the text form shows the expiry: {text}");
    assert!(!listed.to_string().contains(&session_token), "the ledger never holds the token itself");

    let audit = s.home.path().join("audit.jsonl");
    let mut command = s.command(&["serve", "--http", &format!("127.0.0.1:{port}"), "--oauth", "--allow-writes", "--audit-log", audit.to_str().unwrap()]);
    command.env("PINGONE_CLIENT_ID", &s.sim.client_id).env("PINGONE_CLIENT_SECRET", &s.sim.client_secret);
    let (mut server, lines) = spawn_with_stderr(command);
    wait_for_line(&lines, |l| l.contains("streamable HTTP at"));

    let http = reqwest::Client::new();
    let metadata: Value = http.get(format!("{base}/.well-known/oauth-protected-resource")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["resource"], resource.as_str());
    assert_eq!(metadata["authorization_servers"], serde_json::json!([s.sim.issuer()]));
    let initialize = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let anonymous = http.post(&resource).header("accept", "application/json, text/event-stream").json(&initialize).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(&format!("resource_metadata=\"{base}/.well-known/oauth-protected-resource\"")), "{challenge}");

    // The person's token: a read scope reads, and cannot write (the server itself allows writes).
    let report = tokio::task::block_in_place(|| python_client(&python, &resource, &person_token, "const p = await pingone.list_users({ limit: 3 }); return p.items.length"));
    assert_eq!(report["execute"]["structured"]["result"], 3, "{report}");
    // What it is told and shown follows its grant, not only the server's policy.
    assert!(report["instructions"].as_str().unwrap().contains("Writes are off: actions that change PingOne are refused; your token does not grant them (scopes pingone-mcp:read)"), "{report}");
    assert_eq!(report["tools"][1]["annotations"]["readOnlyHint"], true, "{report}");
    assert_eq!(report["search"]["structured"]["actions"][0]["refused"], "your token does not grant it", "a write found for a read-only token: {report}");
    let write = format!("return await pingone.update_user_enabled_status({{ userId: '{}', enabled: true }})", s.sim.reader.user_id);
    let report = tokio::task::block_in_place(|| python_client(&python, &resource, &person_token, &write));
    assert_eq!(report["execute"]["is_error"], true, "{report}");
    assert!(report["execute"]["text"].as_str().unwrap().contains("pingone-mcp:read"), "{report}");

    // The session token: only the actions it names.
    let report = tokio::task::block_in_place(|| python_client(&python, &resource, &session_token, "return (await pingone.list_groups({ limit: 1 })).items.length"));
    assert_eq!(report["execute"]["structured"]["result"], 1, "{report}");
    assert!(report["execute_error"]["text"].as_str().unwrap().contains("session token"), "get_user is outside list_*: {report}");

    let revoked = s.run(&["token", "revoke", &token_id]);
    assert!(revoked.status.success(), "{}", common::stderr(&revoked));
    let refused = http.post(&resource).bearer_auth(&session_token).header("accept", "application/json, text/event-stream").json(&initialize).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("revoked"));

    // Audit lines carry who the call was for.
    let audit = std::fs::read_to_string(&audit).unwrap();
    assert!(audit.lines().any(|l| l.contains(&format!("\"subject\":\"{}\"", s.sim.admin.user_id)) && l.contains("\"token_id\":\"") && l.contains("list_users")), "the access token's jti too: {audit}");
    assert!(audit.lines().any(|l| l.contains("\"subject\":\"ci-bot\"") && l.contains(&format!("\"token_id\":\"{token_id}\"")) && l.contains("list_groups")), "and the id of the token it came with: {audit}");

    let _ = server.kill();
    let _ = server.wait();
    let server_log: Vec<String> = lines.iter().collect();
    s.logs.lock().unwrap().push_str(&server_log.join("\n"));
    s.logs.lock().unwrap().push_str(&audit);
    assert_no_secrets(&s, &[&person_token, &session_token, s.session()["refresh_token"].as_str().unwrap()]);
}
