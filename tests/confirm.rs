//! Destructive calls confirmed by the person at the MCP client (elicitation): the
//! real binary against its simulator, asked through the official Python client
//! (protocol 2026-07-28: an `input_required` result and a retry) and through a
//! handshake-era client on raw stdio (an `elicitation/create` request mid-call).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

const SERVE: [&str; 4] = ["serve", "--simulator", "--allow-writes", "--allow-destructive"];

fn confirm_with(answer: &str, extra: &[&str]) -> Option<Value> {
    let mut target = vec!["stdio", env!("CARGO_BIN_EXE_pingone-mcp")];
    target.extend(SERVE);
    target.extend(extra);
    run_client(answer, &target)
}

/// Runs tests/clients/confirm_client.py; its report.
fn run_client(answer: &str, target: &[&str]) -> Option<Value> {
    let python = common::python_with_mcp(&format!("confirmation answered {answer}"))?;
    let output = Command::new(python).arg(common::client_script("confirm_client.py")).arg(answer).args(target).env("XDG_CONFIG_HOME", "/nonexistent").output().expect("python runs");
    assert!(output.status.success(), "the MCP client failed:\n{}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// The audit outcomes of the destructive calls.
fn outcomes_in(audit: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(audit).unwrap();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|e| e["action"] == "delete_user").map(|e| e["outcome"].as_str().unwrap().to_owned()).collect()
}

/// The audit lines of the destructive calls: whether a person confirmed each, and how.
fn confirmed_in(audit: &std::path::Path) -> Vec<(Value, Value)> {
    let text = std::fs::read_to_string(audit).unwrap();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|e| e["action"] == "delete_user").map(|e| (e["confirmed"].clone(), e["confirmed_by"].clone())).collect()
}

#[test]
fn an_accepted_confirmation_lets_the_delete_run() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let Some(report) = confirm_with("accept", &["--audit-log", audit.to_str().unwrap()]) else { return };
    let asked = (json!(true), json!("asked"));
    assert_eq!(confirmed_in(&audit), [asked.clone(), asked], "the audit log says a person confirmed each, asked about it");
    assert_eq!(report["protocol"], "2026-07-28");
    assert_eq!(report["delete"]["is_error"], false, "{report}");
    assert_eq!(report["users_after"], json!(["NOT_FOUND", "NOT_FOUND"]), "{report}");
    let asked = report["asked"].as_array().unwrap();
    assert_eq!(asked.len(), 2, "one question per destructive call, none for reads: {report}");
    let message = asked[0]["message"].as_str().unwrap();
    assert!(message.contains("delete_user") && message.contains("Environment: ") && message.contains("(profile `"), "{message}");
    assert!(message.contains("DELETE /environments/") && !message.contains("{environmentId}"), "the environment is filled in: {message}");
    assert_eq!(asked[0]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
}

#[test]
fn confirming_all_covers_the_scripts_other_calls_of_that_action() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let Some(report) = confirm_with("accept-all", &["--audit-log", audit.to_str().unwrap()]) else { return };
    // The audit log tells the call the person read from the one their yes covered (review 40).
    assert_eq!(confirmed_in(&audit), [(json!(true), json!("asked")), (json!(true), json!("yes_to_the_rest"))]);
    assert_eq!(report["asked"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["users_after"], json!(["NOT_FOUND", "NOT_FOUND"]), "{report}");
    // The reply counts what ran on that one yes, for the agent to report (review 27).
    let text = report["delete"]["text"].as_str().unwrap();
    assert!(text.contains("delete_user ×1 on userId ") && text.contains(" ran without asking, on the person's yes to the rest of this script's calls of that action"), "{text}");
    // On which records, for the person who saw only the first (review 60 H4).
    assert!(text.contains("tell the person which records these are, by name: they saw only the first"), "{text}");
}

/// A yes to the rest of a script's calls that grant access covers those giving the
/// same: more users added to the first group run unasked, an add to another group is
/// asked again (review 30: a yes for Finance let an add to Identity Admins through).
#[test]
fn confirming_all_grants_covers_only_the_same_grant() {
    let Some(report) = run_scenario("two-groups", "accept-all") else { return };
    assert_eq!(report["run"]["is_error"], false, "{report}");
    let [first, second] = [0, 1].map(|i| report["run"]["result"][i].as_str().unwrap_or_default().to_owned());
    let asked: Vec<&str> = report["asked"].as_array().unwrap().iter().map(|q| q["message"].as_str().unwrap_or_default()).collect();
    assert_eq!(asked.len(), 2, "the first group's first add and the second group's add: {report}");
    assert!(asked[0].contains(&first) && asked[1].contains(&second), "{asked:?}");
    let title = report["asked"][0]["requestedSchema"]["properties"]["confirmAll"]["title"].as_str().unwrap_or_default();
    assert!(title.contains("that gives the same") && title.contains(&first), "{title}");
    assert!(report["run"]["text"].as_str().unwrap().contains("add_user_to_group ×1 on userId "), "{report}");
}

/// Runs one of confirm_client.py's other scripts (CONFIRM_SCENARIO) on the simulator.
fn run_scenario(scenario: &str, answer: &str) -> Option<Value> {
    run_scenario_with(scenario, answer, &[])
}

fn run_scenario_with(scenario: &str, answer: &str, extra: &[&str]) -> Option<Value> {
    let python = common::python_with_mcp(&format!("confirmation scenario {scenario}"))?;
    let output = Command::new(python)
        .arg(common::client_script("confirm_client.py"))
        .args([answer, "stdio", env!("CARGO_BIN_EXE_pingone-mcp")])
        .args(SERVE)
        .args(extra)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("CONFIRM_SCENARIO", scenario)
        .output()
        .expect("python runs");
    assert!(output.status.success(), "the MCP client failed:\n{}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// A refusal says what made the call a question, so the agent can send it without the
/// change it did not mean (review 30: a full replace that dropped a population's
/// password policy was refused with no word of it).
#[test]
fn a_refused_change_of_access_says_what_it_changes() {
    let Some(report) = run_scenario("population-replace", "none") else { return };
    let text = report["run"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("NOT_CONFIRMED") && text.contains("It needs a person because it changes access: passwordPolicy"), "{text}");
}

/// A question about a call naming a record that does not exist says so, rather than
/// leaving the id unnamed (review 30).
#[test]
fn a_question_says_when_a_named_record_does_not_exist() {
    let Some(report) = run_scenario("missing-population", "decline") else { return };
    let asked = report["asked"][0]["message"].as_str().unwrap_or_default();
    assert!(asked.contains("population 00000000-0000-4000-8000-000000000000: PingOne has no such record (404)"), "{report}");
}

/// Retiring a previous secret is asked with what is retired: when it expires and, once
/// used, when it was last used; the secret itself masked (review 57 M4).
#[test]
fn a_question_to_retire_a_previous_secret_shows_it() {
    let Some(report) = run_scenario("retire-secret", "accept") else { return };
    let asked: Vec<&str> = report["asked"].as_array().unwrap().iter().filter_map(|q| q["message"].as_str()).collect();
    let retire = asked.iter().find(|q| q.contains("delete_application_secret")).unwrap_or_else(|| panic!("{report}"));
    assert!(retire.contains("previous {secret: ****, expiresAt: \"") && retire.contains("-> (removed)"), "{retire}");
}

/// A delete of one of two records of the same name says what tells it apart (review
/// 57 M5: two "Customer Portal" questions read alike).
#[test]
fn a_question_tells_a_record_from_its_namesakes() {
    let Some(report) = run_scenario("delete-namesake", "decline") else { return };
    let asked = report["asked"][0]["message"].as_str().unwrap_or_default();
    assert!(asked.contains("one of 2 records named \"Customer Portal\"; this one has enabled false, createdAt \"") && asked.contains("redirectUris [\"https://copy.example.com/cb\"]"), "{report}");
}

#[test]
fn a_declined_or_cancelled_confirmation_stops_the_call_and_sends_nothing() {
    for answer in ["decline", "cancel", "refuse"] {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.jsonl");
        let Some(report) = confirm_with(answer, &["--audit-log", audit.to_str().unwrap()]) else { return };
        assert_eq!(outcomes_in(&audit), ["declined"], "{answer}: a person said no");
        assert_eq!(report["delete"]["is_error"], true, "{report}");
        let text = report["delete"]["text"].as_str().unwrap();
        assert!(text.contains("NOT_CONFIRMED") && text.contains("Nothing of it was sent to PingOne"), "{text}");
        assert_eq!(report["users_after"], json!(["exists", "exists"]), "{answer}: the first refusal ends the script: {report}");
    }
}

/// A person's no to the rest of a script's calls like one is on the audit log as
/// theirs (`declined`), not as calls nobody could be asked about (review 43, M2).
#[test]
fn a_no_to_the_rest_is_audited_as_declined() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let Some(report) = run_scenario_with("delete-each-caught", "refuse-all", &["--audit-log", audit.to_str().unwrap()]) else { return };
    assert_eq!(report["asked"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["run"]["result"], json!(["NOT_CONFIRMED", "NOT_CONFIRMED", "NOT_CONFIRMED"]), "{report}");
    assert_eq!(outcomes_in(&audit), ["declined", "declined", "declined"]);
}

/// A cancel stops the batch: the script's later calls like it are refused unasked, not
/// asked once each (review 60 M1).
#[test]
fn a_cancel_refuses_the_rest_of_the_scripts_calls_like_it() {
    let Some(report) = run_scenario("delete-each-caught", "cancel") else { return };
    assert_eq!(report["asked"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["run"]["result"], json!(["NOT_CONFIRMED", "NOT_CONFIRMED", "NOT_CONFIRMED"]), "{report}");
}

/// A client that cannot ask a person has such calls refused, saying how to have them
/// run; `--no-confirm` runs them unasked, and the audit log says nobody confirmed them.
#[test]
fn a_client_without_elicitation_is_refused_and_no_confirm_is_not_asked() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("refused.jsonl");
    let Some(report) = confirm_with("none", &["--audit-log", audit.to_str().unwrap()]) else { return };
    assert_eq!(outcomes_in(&audit), ["not_asked"], "nobody said no: nobody could be asked");
    assert_eq!(report["asked"], json!([]), "{report}");
    assert_eq!(report["delete"]["is_error"], true, "{report}");
    let text = report["delete"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("NOT_CONFIRMED") && text.contains("cannot ask one") && text.contains("--no-confirm"), "{text}");
    assert_eq!(report["users_after"], json!(["exists", "exists"]), "{report}");

    let audit = dir.path().join("audit.jsonl");
    let Some(report) = confirm_with("decline", &["--no-confirm", "--audit-log", audit.to_str().unwrap()]) else { return };
    assert_eq!(confirmed_in(&audit), [(json!(false), Value::Null), (json!(false), Value::Null)], "the audit log says nobody confirmed them");
    assert_eq!(report["asked"], json!([]), "{report}");
    assert_eq!(report["delete"]["is_error"], false, "{report}");
    assert_eq!(report["users_after"], json!(["NOT_FOUND", "NOT_FOUND"]), "{report}");
}

#[test]
fn confirmation_works_over_http_too() {
    let mut serve = SERVE[1..].to_vec();
    serve.push("--no-auth");
    let (mut server, url) = common::start_http_server(&serve, &[]);
    let report = run_client("accept", &["http", &url, "unused"]);
    server.kill().unwrap();
    let Some(report) = report else { return };
    assert_eq!(report["asked"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["users_after"], json!(["NOT_FOUND", "NOT_FOUND"]), "{report}");
}

/// A 2025-06-18 client with the elicitation capability on raw stdio.
struct LegacyClient {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl LegacyClient {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pingone-mcp"))
            .args(SERVE)
            .args(extra)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut client = Self { child, lines };
        let capabilities = json!({ "elicitation": {} });
        client.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": capabilities, "clientInfo": { "name": "legacy", "version": "1" } } }));
        assert_eq!(client.receive()["result"]["protocolVersion"], "2025-06-18");
        client.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        client
    }

    fn send(&mut self, message: Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        serde_json::from_str(&self.lines.next().expect("the server answers").unwrap()).unwrap()
    }

    fn send_execute(&mut self, id: u64, code: &str) {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "execute", "arguments": { "code": code } } }));
    }

    /// An `execute` that asks nothing; its response.
    fn execute(&mut self, id: u64, code: &str) -> Value {
        self.send_execute(id, code);
        self.receive()
    }
}

impl Drop for LegacyClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn a_handshake_client_is_asked_mid_call() {
    for (answer, deleted) in [(json!({ "action": "accept", "content": { "confirm": true } }), true), (json!({ "action": "decline" }), false)] {
        let mut client = LegacyClient::start();
        let first = client.execute(2, "const u = (await pingone.list_users({ limit: 1 })).items[0]; return [u.id, u.username]")["result"]["structuredContent"]["result"].clone();
        let (user, username) = (first[0].clone(), first[1].as_str().unwrap().to_owned());
        client.send_execute(3, &format!("await pingone.delete_user({{ userId: {user} }})"));
        let question = client.receive();
        assert_eq!(question["method"], "elicitation/create", "{question}");
        let message = question["params"]["message"].as_str().unwrap();
        assert!(message.contains("delete_user") && message.contains(&format!("Target: userId {} has username \"{username}\"", user.as_str().unwrap())), "{message}");
        client.send(json!({ "jsonrpc": "2.0", "id": question["id"], "result": answer }));
        let reply = client.receive();
        assert_eq!(reply["id"], 3, "{reply}");
        assert_eq!(reply["result"]["isError"].as_bool().unwrap_or(false), !deleted, "{reply}");
        let after = client.execute(4, &format!("try {{ await pingone.get_user({{ userId: {user} }}); return 'exists' }} catch (e) {{ return e.code }}"));
        assert_eq!(after["result"]["structuredContent"]["result"], if deleted { "NOT_FOUND" } else { "exists" }, "{after}");
    }
}

/// The time a person takes to answer is theirs, not the script's: a "yes" given after
/// the script's whole wall time still runs the call, and the script's budget after it
/// is what was left before the question.
#[test]
fn time_spent_answering_does_not_count_against_the_scripts_time() {
    let mut client = LegacyClient::start_with(&["--timeout", "2"]);
    let user = client.execute(2, "return (await pingone.list_users({ limit: 1 })).items[0].id")["result"]["structuredContent"]["result"].clone();
    client.send_execute(3, &format!("await pingone.delete_user({{ userId: {user} }}); return (await pingone.budget()).msLeft"));
    let question = client.receive();
    assert_eq!(question["method"], "elicitation/create", "{question}");
    std::thread::sleep(std::time::Duration::from_secs(3));
    client.send(json!({ "jsonrpc": "2.0", "id": question["id"], "result": { "action": "accept", "content": { "confirm": true } } }));
    let reply = client.receive();
    assert_eq!(reply["result"]["isError"].as_bool(), Some(false), "{reply}");
    let ms_left = reply["result"]["structuredContent"]["result"].as_u64().unwrap();
    assert!(ms_left > 1000, "the question's 3 s are not counted: {ms_left} ms left of 2000");
    let after = client.execute(4, &format!("try {{ await pingone.get_user({{ userId: {user} }}); return 'exists' }} catch (e) {{ return e.code }}"));
    assert_eq!(after["result"]["structuredContent"]["result"], "NOT_FOUND", "{after}");
}

/// A script stopped (here by its call limit) while a person is still being asked about
/// one of its writes: that write was never sent, and the agent and the audit log say
/// so, not that it "may or may not have been applied"; the stop does not wait for the
/// person's answer.
#[test]
fn a_write_still_waiting_for_a_person_when_the_script_stops_is_reported_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    // Room for a dozen reads after the delete: the question, which reads the user's name
    // first, goes out before the limit stops the script even on a loaded machine (with
    // a limit of 3, a full test run once stopped it before the question).
    let mut client = LegacyClient::start_with(&["--max-calls", "12", "--audit-log", audit.to_str().unwrap()]);
    let user = client.execute(2, "return (await pingone.list_users({ limit: 1 })).items[0].id")["result"]["structuredContent"]["result"].clone();
    client.send_execute(3, &format!("const deleting = pingone.delete_user({{ userId: {user} }}); for (let i = 0; i < 20; i++) await pingone.list_users({{ limit: 1 }}); return await deleting"));
    let question = client.receive();
    assert_eq!(question["method"], "elicitation/create", "{question}");
    // Not answered: the call limit stops the script meanwhile. (Notifications may come
    // between; CI once saw a message other than the reply here, not kept.)
    let mut notified = Vec::new();
    let reply = loop {
        let message = client.receive();
        match message["method"].as_str() {
            Some(method) if method.starts_with("notifications/") => notified.push(message),
            _ => break message,
        }
    };
    assert_eq!(reply["id"], 3, "the stopped script answers without waiting for the person: {reply} (after {notified:?})");
    let text = reply["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("call limit"), "{text}");
    assert!(!text.contains("may or may not have been applied: delete_user"), "{text}");
    assert!(text.contains(&format!("delete_user (userId {}): not sent (a person was still being asked)", user.as_str().unwrap())), "{text}");
    let after = client.execute(4, &format!("return (await pingone.get_user({{ userId: {user} }})).id"));
    assert_eq!(after["result"]["structuredContent"]["result"], user, "the user is still there: {after}");
    assert_eq!(outcomes_in(&audit), ["not_sent"]);
}

/// An action called as a tool is one call, not a script: the question says so and
/// offers no box for "the script's other calls".
#[test]
fn a_tool_call_is_asked_about_as_one_call() {
    let Some(report) = confirm_with("accept", &["--mode", "both"]) else { return };
    assert_eq!(report["tool_delete"]["is_error"], false, "{report}");
    let asked = report["asked"].as_array().unwrap();
    assert_eq!(asked.len(), 3, "two for the script, one for the tool call: {report}");
    let (script, tool) = (&asked[0], &asked[2]);
    assert!(script["message"].as_str().unwrap().starts_with("An agent's script wants to run"), "{script}");
    let all = &script["requestedSchema"]["properties"]["confirmAll"]["title"];
    assert!(all.as_str().is_some_and(|t| t.contains("every later delete_user call") && t.contains("as many as it makes")), "the box says it covers every later call: {script}");
    assert!(tool["message"].as_str().unwrap().starts_with("An agent wants to run a destructive PingOne action"), "{tool}");
    assert!(tool["requestedSchema"]["properties"].get("confirmAll").is_none(), "{tool}");
}
