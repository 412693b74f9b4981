//! The gate every action call passes, through the real sandbox: refusals, the
//! production guard, dry runs, masking, the audit trail and the shared rate limit.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_pingone::{FakePingOne, Reply, ENV_ID};
use pingone_mcp::catalog::load_builtin;
use guest_sdk::abi::{HostCall, HostReply};
use pingone_mcp::dispatch::{Backend, Dispatcher, Requester};
use pingone_mcp::mcp::ObservedHost;
use pingone_mcp::pingone::{PingOneClient, RateLimiter, RetryPolicy};
use pingone_mcp::policy::{AuditLog, Confirm, ConfirmRequest, Policy, PolicyConfig};
use pingone_mcp::sandbox::{Execution, Limits};
use pingone_mcp::search::SearchIndex;
use serde_json::{json, Value};

const USER_ID: &str = "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b";
const APP_ID: &str = "0a1b2c3d-0000-4000-8000-000000000001";

fn client(fake: &FakePingOne, rate: Option<Arc<RateLimiter>>) -> PingOneClient {
    PingOneClient::with_rate_limit(fake.connection(), RetryPolicy::default(), rate).unwrap()
}

fn dispatcher(fake: &FakePingOne, config: PolicyConfig) -> Dispatcher {
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    Dispatcher::new(catalog, search, Backend::Live(client(fake, None))).with_policy(Policy::new(config))
}

async fn run(script: &str, dispatcher: Dispatcher) -> Execution {
    common::sandbox().await.execute(script, json!({}), Arc::new(dispatcher), &Limits::default()).await
}

fn result(execution: &Execution) -> Value {
    execution.outcome.clone().unwrap_or_else(|e| panic!("script failed: {e}"))
}

async fn fake() -> FakePingOne {
    let fake = FakePingOne::start().await;
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(200, json!({ "id": USER_ID, "username": "jdoe" }))]);
    fake.on("PUT", &fake.env_path(&format!("/users/{USER_ID}/enabled")), vec![Reply::json(200, json!({ "enabled": false }))]);
    fake.on("DELETE", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(204, Value::Null)]);
    fake.on("GET", &fake.env_path(&format!("/applications/{APP_ID}/secret")), vec![Reply::json(200, json!({ "secret": "s3cr3t-value-abcd-9f8e", "previous": { "secret": "older-secret-value-1234", "expiresAt": "2026-12-01T00:00:00Z" } }))]);
    fake
}

/// Tries each action; returns, per call, "ok" or the error code and message.
const TRY_ALL: &str = "
    const attempt = async (f) => { try { await f(); return 'ok' } catch (e) { return e.code + ': ' + e.message } };
    return {
      read: await attempt(() => pingone.get_user({ userId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b' })),
      write: await attempt(() => pingone.update_user_enabled_status({ userId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b', enabled: false })),
      destroy: await attempt(() => pingone.delete_user({ userId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b' })),
    }";

#[tokio::test]
async fn read_only_by_default() {
    let fake = fake().await;
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig::default())).await);
    assert_eq!(out["read"], "ok");
    assert!(out["write"].as_str().unwrap().starts_with("POLICY_DENIED: `update_user_enabled_status` changes PingOne") && out["write"].as_str().unwrap().contains("--allow-writes"), "{out}");
    assert!(out["destroy"].as_str().unwrap().starts_with("POLICY_DENIED"), "{out}");
    let sent: Vec<String> = fake.api_requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(sent, ["GET"], "nothing but the read reached PingOne");
}

#[tokio::test]
async fn destructive_actions_need_their_own_flag() {
    let fake = fake().await;
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig { allow_writes: true, ..Default::default() })).await);
    assert_eq!((out["read"].as_str(), out["write"].as_str()), (Some("ok"), Some("ok")));
    assert!(out["destroy"].as_str().unwrap().contains("--allow-destructive"), "{out}");
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() })).await);
    assert_eq!(out["destroy"], "ok");
    // Given alone, --allow-destructive allows nothing, and the refusal says why (review 46).
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig { allow_destructive: true, ..Default::default() })).await);
    assert!(out["destroy"].as_str().unwrap().contains("need --allow-writes") && out["destroy"].as_str().unwrap().contains("--allow-destructive is given, but it only adds deletes, rotations and resets to the writes --allow-writes allows"), "{out}");
}

/// Turning a user's MFA off weakens the account: destructive, needing its flag and a
/// person's yes. Turning it on is an ordinary write: neither.
#[tokio::test]
async fn turning_mfa_off_is_destructive_and_turning_it_on_is_not() {
    let (sim, writer) = simulator_with_writes().await;
    let set = |on: bool| HostCall { action: "update_user_mfa_enabled".into(), args: json!({ "userId": sim.reader.user_id, "mfaEnabled": on }) };
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let on = writer.dispatch_for(set(true), &requester).await;
    assert!(matches!(&on, HostReply::Value(v) if v["mfaEnabled"] == true), "writes alone turn MFA on, unasked: {on:?}");
    let off = writer.dispatch_for(set(false), &requester).await;
    assert!(matches!(&off, HostReply::Error(e) if e.code == "POLICY_DENIED" && e.message.contains("with mfaEnabled: false is destructive") && e.message.contains("--allow-destructive")), "{off:?}");
    assert!(refuser.asked.lock().unwrap().is_empty(), "a refused call is not put to the person");

    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let client = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    let destroyer = Dispatcher::new(catalog, search, Backend::Live(client)).with_policy(Policy::new(PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() }));
    let off = destroyer.dispatch_for(set(false), &requester).await;
    assert!(matches!(&off, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{off:?}");
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked.len() == 1 && asked[0].contains("a destructive PingOne action"), "{asked:?}");
    assert!(matches!(destroyer.dispatch_for(set(true), &requester).await, HostReply::Value(_)));
    assert_eq!(refuser.asked.lock().unwrap().len(), 1, "turning it on is not asked");
}

#[tokio::test]
async fn allow_and_deny_globs_with_deny_winning() {
    let fake = fake().await;
    let config = PolicyConfig { allow_writes: true, allow_destructive: true, allow: vec!["get_*".into(), "update_*".into()], deny: vec!["update_user_*".into()], ..Default::default() };
    let out = result(&run(TRY_ALL, dispatcher(&fake, config)).await);
    assert_eq!(out["read"], "ok");
    assert!(out["write"].as_str().unwrap().contains("deny pattern `update_user_*`"), "{out}");
    assert!(out["destroy"].as_str().unwrap().contains("allow list"), "{out}");
}

#[tokio::test]
async fn a_script_that_rewrites_pingone_still_meets_the_gate() {
    let fake = fake().await;
    let script = "
        globalThis.pingone = { delete_user: async () => 'bypassed' };
        const viaProxy = await pingone.delete_user({ userId: 'x' });
        const hook = typeof __pingone_call;
        return { viaProxy, hook }";
    let out = result(&run(script, dispatcher(&fake, PolicyConfig::default())).await);
    // Rewriting the object only fools the script itself; the host hook is gone.
    assert_eq!(out, json!({ "viaProxy": "bypassed", "hook": "undefined" }));
    assert!(fake.api_requests().iter().all(|r| r.method != "DELETE"));
}

/// `..` as an id would walk the URL up to the parent: "remove a membership" would
/// delete the user, under the policy, token and confirmation of the smaller action.
#[tokio::test]
async fn an_id_cannot_walk_the_url_to_another_resource() {
    let fake = fake().await;
    let config = PolicyConfig { allow_writes: true, allow_destructive: true, deny: vec!["delete_user".into()], ..Default::default() };
    let script = "
        const attempt = async (f) => { try { await f(); return 'ok' } catch (e) { return e.code + ': ' + e.message } };
        return [
          await attempt(() => pingone.remove_user_from_group({ userId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b', groupId: '..' })),
          await attempt(() => pingone.get_user({ userId: '.' })),
        ]";
    let out = result(&run(script, dispatcher(&fake, config)).await);
    assert!(out[0].as_str().unwrap().starts_with("INVALID_ARGUMENTS") && out[0].as_str().unwrap().contains("`groupId` is `..`, which is not an id"), "{out}");
    assert!(out[1].as_str().unwrap().contains("`userId` is `.`"), "{out}");
    assert!(fake.api_requests().is_empty(), "nothing was sent: {:?}", fake.api_requests());
}

/// A write the script started and did not wait for has been sent: it is let finish,
/// audited and reported, not dropped with the script; the script's result, made
/// without it, is not sent back.
#[tokio::test]
async fn a_write_the_script_did_not_wait_for_finishes_and_is_reported() {
    let fake = fake().await;
    let slow_user = "0a1b2c3d-0000-4000-8000-00000000beef";
    fake.on("DELETE", &fake.env_path(&format!("/users/{slow_user}")), vec![Reply::json(204, Value::Null).delayed(Duration::from_millis(400))]);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() };
    let audited = dispatcher(&fake, config).with_audit(Arc::new(AuditLog::to_file(&audit).unwrap()));
    let script = format!("pingone.delete_user({{ userId: '{slow_user}' }}); await pingone.get_user({{ userId: '{USER_ID}' }}); return 'returned'");
    let execution = run(&script, audited).await;
    let error = execution.outcome.as_ref().expect_err("a result made without its calls is not sent back").to_string();
    assert!(error.contains("returned before awaiting every call") && error.contains("delete_user (line 1): ok"), "{error}");
    assert!(std::fs::read_to_string(&audit).unwrap().lines().any(|l| l.contains("\"action\":\"delete_user\"") && l.contains(slow_user)), "the delete is audited");

    // Calls the script never let start (it failed first) are not sent after it ended.
    let before = fake.api_requests().len();
    let config = PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() };
    let script = format!("pingone.delete_user({{ userId: '{slow_user}' }}); pingone.delete_user({{ userId: '{USER_ID}' }}); throw new Error('stop')");
    let execution = run(&script, dispatcher(&fake, config)).await;
    assert!(execution.outcome.is_err());
    let warning = execution.logs.iter().find(|l| l.message.contains("without waiting")).unwrap_or_else(|| panic!("no warning: {:?}", execution.logs));
    assert!(warning.message.contains("delete_user (line 1): not sent, as the script had ended (2 times)"), "{warning:?}");
    assert_eq!(fake.api_requests().len(), before, "nothing was sent");

    // Reads it did not wait for (`forEach(async …)`) leave a result made without them,
    // which would claim, say, that nobody is in any group: an error too.
    let script = format!("const found = []; ['{USER_ID}', '{USER_ID}'].forEach(async id => {{ const u = await pingone.get_user({{ userId: id }}); found.push(u.id) }}); return found");
    let execution = run(&script, dispatcher(&fake, PolicyConfig::default())).await;
    let error = execution.outcome.as_ref().expect_err("a result made without its reads is not sent back").to_string();
    assert!(error.contains("returned before awaiting every call") && error.contains("get_user (line 1): a read whose result the script did not wait for (2 times)"), "{error}");
    // A missing await whose TypeError the script caught: the call it started is named
    // by its line (review 45: "get_user: a read" left the agent to guess which).
    let script = format!("let enabled = null;\ntry {{ enabled = pingone.get_user({{ userId: '{USER_ID}' }}).enabled }} catch (e) {{}}\nreturn enabled");
    let execution = run(&script, dispatcher(&fake, PolicyConfig::default())).await;
    let error = execution.outcome.as_ref().expect_err("a result made without its read is not sent back").to_string();
    assert!(error.contains("get_user (line 2): a read whose result the script did not wait for"), "{error}");
    let script = format!("const found = []; for (const id of ['{USER_ID}']) {{ const u = await pingone.get_user({{ userId: id }}); found.push(u.id) }} return found");
    assert_eq!(result(&run(&script, dispatcher(&fake, PolicyConfig::default())).await), json!([USER_ID]));
}

/// A call that failed while nothing awaited it (an async function called without
/// `await`) fails the script, as Node does, instead of the script's result claiming
/// success; a rejection the script handles later, or catches, does not.
#[tokio::test]
async fn a_failure_nothing_awaited_fails_the_script() {
    let fake = fake().await;
    let missing = "0a1b2c3d-0000-4000-8000-0000000000aa";
    fake.on("PATCH", &fake.env_path(&format!("/users/{missing}")), vec![Reply::json(404, json!({ "code": "NOT_FOUND", "message": "Unable to find user" }))]);
    let config = || PolicyConfig { allow_writes: true, ..Default::default() };
    let script = format!("const f = async () => {{ await pingone.update_user({{ userId: '{missing}', title: 'x' }}) }};\nf();\nawait pingone.get_user({{ userId: '{USER_ID}' }});\nreturn 'all good'");
    let execution = run(&script, dispatcher(&fake, config())).await;
    let error = execution.outcome.as_ref().expect_err("the result rests on a write that failed").to_string();
    assert!(error.starts_with("update_user failed: 404 NOT_FOUND") && error.contains("a PingOneError nothing awaited at line 1") && error.contains("await Promise.all(list)"), "{error}");

    let thrown = run("(async () => { throw new Error('after the write') })(); return 1", dispatcher(&fake, config())).await;
    let error = thrown.outcome.as_ref().expect_err("a thrown error nothing awaited").to_string();
    assert!(error.starts_with("Error: after the write") && error.contains("ended without awaiting the promise that failed"), "{error}");

    let handled = format!("const late = pingone.update_user({{ userId: '{missing}', title: 'x' }}); await pingone.get_user({{ userId: '{USER_ID}' }}); try {{ await late }} catch (e) {{ return e.code }}");
    assert_eq!(result(&run(&handled, dispatcher(&fake, config())).await), json!("NOT_FOUND"));
    let caught = "Promise.reject(new Error('ignored')).catch(() => {}); return 2";
    assert_eq!(result(&run(caught, dispatcher(&fake, config())).await), json!(2));
}

/// The account of a run's writes names what each grant gave, not only the record in
/// its path: the group joined, the role and its scope.
#[tokio::test]
async fn a_writes_target_names_what_a_grant_gave() {
    let fake = fake().await;
    let dispatcher = dispatcher(&fake, PolicyConfig::default());
    let role = dispatcher.target("create_user_role_assignment", &json!({ "userId": USER_ID, "role": { "id": "r1" }, "scope": { "type": "ENVIRONMENT", "id": ENV_ID } }));
    assert_eq!(role.as_deref(), Some(format!("userId {USER_ID}, role r1, scope environment {ENV_ID}").as_str()));
    let population = dispatcher.target("create_user_role_assignment", &json!({ "userId": USER_ID, "role": { "id": "r1" }, "scope": { "type": "POPULATION", "id": "p1" } }));
    assert_eq!(population.as_deref(), Some(format!("userId {USER_ID}, role r1, scope population p1").as_str()));
    let group = dispatcher.target("add_user_to_group", &json!({ "userId": USER_ID, "id": "g1" }));
    assert_eq!(group.as_deref(), Some(format!("userId {USER_ID}, group g1").as_str()));
    let grant = dispatcher.target("create_application_grant", &json!({ "applicationId": "a1", "resource": { "id": "r1" }, "scopes": [{ "id": "s1" }, { "id": "s2" }] }));
    assert_eq!(grant.as_deref(), Some("applicationId a1, resource r1, scopes s1 s2"));
}

/// A create's audit line names the id PingOne gave the record, so a partial batch can
/// be undone from the log without looking each record up again by name.
#[tokio::test]
async fn a_creates_audit_line_names_what_it_made() {
    let fake = fake().await;
    fake.on("POST", &fake.env_path("/groups"), vec![Reply::json(201, json!({ "id": "a1b2c3d4-0000-4000-8000-000000000042", "name": "Audit Test" }))]);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audited = dispatcher(&fake, PolicyConfig { allow_writes: true, ..Default::default() }).with_audit(Arc::new(AuditLog::to_file(&audit).unwrap()));
    result(&run("return await pingone.create_group({ name: 'Audit Test' })", audited).await);
    let line: Value = serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!((line["action"].as_str(), line["created_id"].as_str()), (Some("create_group"), Some("a1b2c3d4-0000-4000-8000-000000000042")), "{line}");
}

/// Says no to every question, and keeps them.
#[derive(Default)]
struct Refuser {
    asked: Mutex<Vec<String>>,
}

impl Confirm for Refuser {
    fn confirm(&self, request: ConfirmRequest) -> futures::future::BoxFuture<'static, Result<pingone_mcp::policy::Yes, pingone_mcp::policy::Refusal>> {
        self.asked.lock().unwrap().push(request.message());
        Box::pin(async { Err(pingone_mcp::policy::Refusal::by_person("the person said no")) })
    }
}

/// A confirmation that got no answer (the client could not put the question, or it
/// timed out), as the server's asker reports it.
struct Unanswering;

impl Confirm for Unanswering {
    fn confirm(&self, _request: ConfirmRequest) -> futures::future::BoxFuture<'static, Result<pingone_mcp::policy::Yes, pingone_mcp::policy::Refusal>> {
        Box::pin(async { Err(pingone_mcp::policy::Refusal::unanswered("the client failed to put the question to the person")) })
    }
}

/// A question that got no answer is no one's no: the call is not sent, and the audit
/// log says `unanswered`, while a person's no is `declined` (review 51: a client's
/// failure to show the question was audited as declined).
#[tokio::test]
async fn an_unanswered_question_is_audited_apart_from_a_no() {
    let fake = fake().await;
    let sink = Shared::default();
    let audited = dispatcher(&fake, Policy::permissive().config).with_audit(Arc::new(AuditLog::new(Box::new(sink.clone()))));
    let delete = || call("delete_user", json!({ "userId": USER_ID }));
    let reply = audited.dispatch_for(delete(), &Requester { confirm: Some(&Unanswering), ..Requester::default() }).await;
    assert!(matches!(&reply, HostReply::Error(e) if e.code == "NOT_CONFIRMED" && e.message.contains("failed to put the question")), "{reply:?}");
    let refuser = Refuser::default();
    assert!(declined(&audited.dispatch_for(delete(), &Requester { confirm: Some(&refuser), ..Requester::default() }).await));
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let outcomes: Vec<String> = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["outcome"].as_str().unwrap().to_owned()).collect();
    assert_eq!(outcomes, ["unanswered", "declined"]);
    assert!(fake.api_requests().iter().all(|r| r.method != "DELETE"), "nothing was sent");
}

/// Granting a role or a group's membership is what an injected instruction aims for:
/// with writes allowed it still waits for the person, as a destructive call does.
#[tokio::test]
async fn a_grant_of_access_is_confirmed_like_a_destructive_call() {
    let fake = fake().await;
    let dispatcher = dispatcher(&fake, PolicyConfig { allow_writes: true, ..Default::default() });
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let grant = HostCall {
        action: "create_user_role_assignment".into(),
        args: json!({ "userId": USER_ID, "role": { "id": "r1" }, "scope": { "id": ENV_ID, "type": "ENVIRONMENT" } }),
    };
    match dispatcher.dispatch_for(grant, &requester).await {
        HostReply::Error(e) => assert_eq!(e.code, "NOT_CONFIRMED", "{e:?}"),
        other => panic!("the grant ran unconfirmed: {other:?}"),
    }
    // A device that receives codes for the user (at an outside address) signs in as them.
    let device = HostCall { action: "pair_user_mfa_device".into(), args: json!({ "userId": USER_ID, "type": "EMAIL", "email": "someone@outside.example" }) };
    assert!(matches!(dispatcher.dispatch_for(device, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    // An identity provider's settings decide who signs on as its linked users.
    let idp = HostCall { action: "update_identity_provider".into(), args: json!({ "providerId": "idp-1", "name": "Google", "type": "GOOGLE", "enabled": true, "clientId": "c", "clientSecret": "s" }) };
    assert!(matches!(dispatcher.dispatch_for(idp, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    // So do a new one and a new attribute mapping: one that writes `email` at every
    // sign-on sends the user's recovery codes wherever the provider says (review 27).
    let new_idp = call("create_identity_provider", json!({ "name": "Partner", "type": "GOOGLE", "enabled": true, "clientId": "c", "clientSecret": "s" }));
    assert!(declined(&dispatcher.dispatch_for(new_idp, &requester).await));
    let mapping = call("create_identity_provider_attribute", json!({ "providerId": "idp-1", "name": "email", "value": "${providerAttributes.email}", "update": "ALWAYS" }));
    assert!(declined(&dispatcher.dispatch_for(mapping, &requester).await));
    fake.on("PATCH", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(200, json!({ "id": USER_ID, "username": "jdoe", "title": "Lead" }))]);
    let plain = HostCall { action: "update_user".into(), args: json!({ "userId": USER_ID, "title": "Lead" }) };
    assert!(matches!(dispatcher.dispatch_for(plain, &requester).await, HostReply::Value(_)), "an ordinary write is not asked");
    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 5, "{asked:?}");
    assert!(asked[0].contains("a PingOne action that grants access") && asked[0].contains("create_user_role_assignment"), "{}", asked[0]);
    // The device's address is compared with the user's record (review 43).
    assert!(asked[1].contains(r#""someone@outside.example" is NOT on the user's record, which has no email: codes would go to a new address"#), "{}", asked[1]);
    assert!(fake.api_requests().iter().all(|r| !r.path.contains("roleAssignments") && r.method != "POST"), "nothing of the grants was sent");
}

/// A question about a record that cannot be read says so, rather than leave its name
/// out unsaid (review 43).
#[tokio::test]
async fn a_question_says_when_its_record_could_not_be_read() {
    let fake = fake().await;
    let group = "6f1c0d3e-9a2b-4c5d-8e7f-0a1b2c3d4e5f";
    fake.on("GET", &fake.env_path(&format!("/groups/{group}")), vec![Reply::error(403, "ACCESS_FAILED", "You do not have access to this resource.")]);
    let dispatcher = dispatcher(&fake, PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() });
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    assert!(declined(&dispatcher.dispatch_for(call("delete_group", json!({ "groupId": group })), &requester).await));
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked[0].contains(&format!("groupId {group} could not be read just now, so what it is cannot be shown")), "{}", asked[0]);
}

fn call(action: &str, args: Value) -> HostCall {
    HostCall { action: action.into(), args }
}

/// The value of a reply that must have succeeded.
fn value(reply: HostReply) -> Value {
    match reply {
        HostReply::Value(value) => value,
        other => panic!("{other:?}"),
    }
}

/// Whether the person was asked and said no (nothing was sent).
fn declined(reply: &HostReply) -> bool {
    matches!(reply, HostReply::Error(e) if e.code == "NOT_CONFIRMED")
}

/// A small seeded simulator, and a dispatcher to it that may write.
async fn simulator_with_writes() -> (pingone_mcp::simulator::Simulator, Dispatcher) {
    simulator_with(PolicyConfig { allow_writes: true, ..Default::default() }).await
}

/// A small seeded simulator, and a dispatcher to it that may write and delete.
async fn simulator_with_destructive() -> (pingone_mcp::simulator::Simulator, Dispatcher) {
    simulator_with(PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() }).await
}

/// A small seeded simulator, and a dispatcher to it under `policy`.
async fn simulator_with(policy: PolicyConfig) -> (pingone_mcp::simulator::Simulator, Dispatcher) {
    use pingone_mcp::simulator::{Simulator, SimulatorConfig};
    let sim = Simulator::start(SimulatorConfig { users: 5, ..SimulatorConfig::default() }, 0).await.unwrap();
    let dispatcher = dispatcher_to(&sim, policy);
    (sim, dispatcher)
}

/// Another dispatcher to a running simulator, under `policy`.
fn dispatcher_to(sim: &pingone_mcp::simulator::Simulator, policy: PolicyConfig) -> Dispatcher {
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let client = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    Dispatcher::new(catalog, search, Backend::Live(client)).with_policy(Policy::new(policy))
}

/// The person asked to delete a group reads how many users are in it (they lose what
/// it gives them), counted with the catalog's `dependents` list.
#[tokio::test]
async fn deleting_a_group_says_how_many_users_are_in_it() {
    let (_sim, dispatcher) = simulator_with_destructive().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let groups = value(dispatcher.dispatch(call("list_groups", json!({ "all": true }))).await);
    let mut counted = Vec::new();
    for group in groups.as_array().unwrap() {
        let members = value(dispatcher.dispatch(call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{}\"]", group["id"].as_str().unwrap()), "all": true }))).await);
        counted.push((group["id"].clone(), members.as_array().unwrap().len()));
    }
    let (group, members) = counted.iter().max_by_key(|(_, n)| *n).unwrap().clone();
    assert!(members > 1, "a seeded group with members: {counted:?}");
    assert!(declined(&dispatcher.dispatch_for(call("delete_group", json!({ "groupId": group })), &requester).await));
    let asked = refuser.asked.lock().unwrap()[0].clone();
    assert!(asked.contains(&format!("Target: {members} users are in the group (directly or through a group inside it) and lose what it gives them")), "{asked}");
}

/// A sign-on policy's step changed or removed is asked with what changes and the step
/// told by its kind and priority: MFA let through without a device reads as such, not
/// as a policy id and the arguments (review 27). The record's parent, which the path
/// names (a step's policy, a mapping's provider), is neither named twice nor said to be
/// cleared, nor is a field PingOne sets (a mapping's CORE or CUSTOM); a population's
/// default provider changed is named, old and new.
#[tokio::test]
async fn a_steps_change_or_removal_is_asked_with_what_it_changes() {
    let (_sim, dispatcher) = simulator_with_destructive().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let policies = value(dispatcher.dispatch(call("list_sign_on_policies", json!({ "all": true }))).await);
    let policy = policies.as_array().unwrap().iter().find(|p| p["name"] == "Multi_Factor").expect("the seeded Multi_Factor policy").clone();
    let steps = value(dispatcher.dispatch(call("list_sign_on_policy_actions", json!({ "policyId": policy["id"], "all": true }))).await);
    let step = steps.as_array().unwrap().iter().find(|s| s["type"] == "MULTI_FACTOR_AUTHENTICATION").expect("an MFA step").clone();
    assert_eq!(step["noDevicesMode"], "BLOCK", "{step}");
    let ids = json!({ "policyId": policy["id"], "actionId": step["id"] });
    let bypass = json!({ "policyId": policy["id"], "actionId": step["id"], "type": "MULTI_FACTOR_AUTHENTICATION", "priority": step["priority"], "noDevicesMode": "BYPASS" });
    assert!(declined(&dispatcher.dispatch_for(call("update_sign_on_policy_action", bypass), &requester).await));
    assert!(declined(&dispatcher.dispatch_for(call("delete_sign_on_policy_action", ids), &requester).await));
    let asked = refuser.asked.lock().unwrap().clone();
    let step_named = format!("Target: actionId {} has type \"MULTI_FACTOR_AUTHENTICATION\", priority {}", step["id"].as_str().unwrap(), step["priority"]);
    for question in &asked {
        assert!(question.contains(&step_named), "{question}");
        assert!(question.contains(&format!("Target: policyId {} has name \"Multi_Factor\"", policy["id"].as_str().unwrap())), "{question}");
        let naming_the_policy = question.lines().filter(|l| l.starts_with("Target:") && l.contains(policy["id"].as_str().unwrap())).count();
        assert_eq!(naming_the_policy, 1, "the policy is named once: {question}");
    }
    assert!(asked[0].contains("Change: noDevicesMode \"BLOCK\" -> \"BYPASS\""), "{}", asked[0]);
    assert!(asked[0].contains("Change: deviceAuthenticationPolicy") && asked[0].contains("Change: condition"), "what the replace drops is shown: {}", asked[0]);
    assert!(!asked[0].contains("signOnPolicy"), "{}", asked[0]);

    let providers = value(dispatcher.dispatch(call("list_identity_providers", json!({ "all": true }))).await);
    let provider = &providers.as_array().unwrap()[0];
    let mappings = value(dispatcher.dispatch(call("list_identity_provider_attributes", json!({ "providerId": provider["id"], "all": true }))).await);
    let mapping = mappings.as_array().unwrap().iter().find(|m| m["name"] == "email").expect("an email mapping").clone();
    let always = json!({ "providerId": provider["id"], "providerAttributeId": mapping["id"], "name": "email", "value": mapping["value"], "update": "ALWAYS" });
    assert!(declined(&dispatcher.dispatch_for(call("update_identity_provider_attribute", always), &requester).await));
    let asked = refuser.asked.lock().unwrap()[2].clone();
    assert!(asked.contains("Change: update \"EMPTY_ONLY\" -> \"ALWAYS\""), "{asked}");
    assert!(!asked.contains("Change: identityProvider") && !asked.contains("Change: mappingType"), "{asked}");

    // A population's default provider changed is named by name, old and new.
    let populations = value(dispatcher.dispatch(call("list_populations", json!({ "all": true }))).await);
    let population = populations.as_array().unwrap().iter().find(|p| p["defaultIdentityProvider"]["id"].is_string()).expect("a population with a default provider").clone();
    let current = population["defaultIdentityProvider"]["id"].clone();
    let other = providers.as_array().unwrap().iter().find(|p| p["id"] != current).expect("another provider").clone();
    let name_of = |id: &Value| providers.as_array().unwrap().iter().find(|p| &p["id"] == id).unwrap()["name"].as_str().unwrap().to_owned();
    let moved = json!({ "populationId": population["id"], "id": other["id"] });
    assert!(declined(&dispatcher.dispatch_for(call("update_population_default_identity_provider", moved), &requester).await));
    let asked = refuser.asked.lock().unwrap()[3].clone();
    assert!(asked.contains(&format!("Target: identity provider {} has name {:?}", other["id"].as_str().unwrap(), name_of(&other["id"]))), "{asked}");
    assert!(asked.contains(&format!("Target: current identity provider {} has name {:?}", current.as_str().unwrap(), name_of(&current))), "{asked}");
}

/// The person confirming a grant reads what it gives, by name: the role, the group.
#[tokio::test]
async fn a_grant_is_confirmed_with_the_role_and_group_named() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let groups = match dispatcher.dispatch(HostCall { action: "list_groups".into(), args: json!({ "filter": "name eq \"Engineering\"" }) }).await {
        HostReply::Value(page) => page["items"].clone(),
        other => panic!("{other:?}"),
    };
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let environment_admin = "8a4e4c5a-0b7c-4d43-9a31-000000000002";
    // Review 40: the group's name says nothing of what it gives; the question does.
    let held = json!({ "groupId": groups[0]["id"], "role": { "id": environment_admin }, "scope": { "id": sim.environment_id, "type": "ENVIRONMENT" } });
    value(dispatcher.dispatch(call("create_group_role_assignment", held)).await);
    let calls = [
        HostCall { action: "create_user_role_assignment".into(), args: json!({ "userId": sim.reader.user_id, "role": { "id": environment_admin }, "scope": { "id": sim.environment_id, "type": "ENVIRONMENT" } }) },
        HostCall { action: "add_user_to_group".into(), args: json!({ "userId": sim.reader.user_id, "id": groups[0]["id"] }) },
    ];
    for call in calls {
        assert!(matches!(dispatcher.dispatch_for(call, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    }
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked[0].contains(&format!("Target: role {environment_admin} has name \"Environment Admin\"")), "{}", asked[0]);
    assert!(asked[0].contains(&format!("Target: scope environment {} (the environment this server manages)", sim.environment_id)), "{}", asked[0]);
    assert!(asked[1].contains("has name \"Engineering\"") && asked[1].contains("Target: group "), "{}", asked[1]);
    let gives = format!("(over environment {})", sim.environment_id);
    assert!(asked[1].contains("gives its members the admin role(s): name \"Environment Admin\"") && asked[1].contains(&gives), "{}", asked[1]);

    // Review 47: a group nested (two levels down) in the one holding the role gives it
    // too, and the question says so and through which group; nesting a group says
    // whose membership it widens.
    let middle = value(dispatcher.dispatch(call("create_group", json!({ "name": "Middle Layer" }))).await)["id"].clone();
    let harmless = value(dispatcher.dispatch(call("create_group", json!({ "name": "Harmless Newsletter" }))).await)["id"].clone();
    value(dispatcher.dispatch(call("add_group_to_group", json!({ "groupId": middle, "id": groups[0]["id"] }))).await);
    value(dispatcher.dispatch(call("add_group_to_group", json!({ "groupId": harmless, "id": middle }))).await);
    let join = HostCall { action: "add_user_to_group".into(), args: json!({ "userId": sim.reader.user_id, "id": harmless }) };
    assert!(matches!(dispatcher.dispatch_for(join, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    let nest = HostCall { action: "add_group_to_group".into(), args: json!({ "groupId": harmless, "id": groups[0]["id"] }) };
    assert!(matches!(dispatcher.dispatch_for(nest, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    let asked = refuser.asked.lock().unwrap().clone();
    let through = format!("{gives}, through group {} (name \"Engineering\"), which it is nested in", groups[0]["id"].as_str().unwrap());
    assert!(asked[2].contains("gives its members the admin role(s): name \"Environment Admin\"") && asked[2].contains(&through) && !asked[2].contains("no admin role"), "{}", asked[2]);
    assert!(asked[3].contains(&format!("0 user(s) are members of group {} now, and would be members of the group it joins, with its roles", harmless.as_str().unwrap())), "{}", asked[3]);
}

/// A grant of an API's scopes to an application is confirmed with the resource and the
/// scopes named: ids alone do not say the grant lets the application change users.
#[tokio::test]
async fn an_application_grant_is_confirmed_with_the_resource_and_scopes_named() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let every = |action: &str, args: Value| {
        let dispatcher = &dispatcher;
        let action = action.to_owned();
        async move {
            match dispatcher.dispatch(HostCall { action, args }).await {
                HostReply::Value(all) => all.as_array().unwrap().clone(),
                other => panic!("{other:?}"),
            }
        }
    };
    let api = every("list_resources", json!({ "all": true })).await.into_iter().find(|r| r["name"] == "PingOne API").expect("the simulator has PingOne's API");
    let scopes = every("list_resource_scopes", json!({ "resourceId": api["id"], "all": true })).await;
    let app = &every("list_applications", json!({ "all": true })).await[0];
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let granted: Vec<Value> = scopes.iter().take(2).map(|s| json!({ "id": s["id"] })).collect();
    let grant = HostCall { action: "create_application_grant".into(), args: json!({ "applicationId": app["id"], "resource": { "id": api["id"] }, "scopes": granted }) };
    assert!(matches!(dispatcher.dispatch_for(grant, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked[0].contains(&format!("resource {} has name \"PingOne API\"", api["id"].as_str().unwrap())), "{}", asked[0]);
    let names: Vec<String> = scopes.iter().take(2).map(|s| format!("{:?}", s["name"].as_str().unwrap())).collect();
    assert!(asked[0].contains(&format!("scopes {}", names.join(", "))), "{}", asked[0]);

    // Narrowed to its first scope, the grant's question names the scope it stops giving.
    let made = match dispatcher.dispatch(HostCall { action: "create_application_grant".into(), args: json!({ "applicationId": app["id"], "resource": { "id": api["id"] }, "scopes": granted }) }).await {
        HostReply::Value(made) => made,
        other => panic!("{other:?}"),
    };
    let narrowed = json!({ "applicationId": app["id"], "grantId": made["id"], "resource": { "id": api["id"] }, "scopes": [granted[0]] });
    assert!(matches!(dispatcher.dispatch_for(HostCall { action: "update_application_grant".into(), args: narrowed }, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked[1].contains(&format!("Target: scopes it gives now and will no longer {}", names[1])), "{}", asked[1]);
    assert!(asked[1].contains(&format!("Change: scopes drops {:?}", granted[1]["id"].as_str().unwrap())), "{}", asked[1]);
    assert!(!asked[1].contains("].id"), "a scope is not shown as a field of itself: {}", asked[1]);
}

/// No action reads the environment's own id, which a role at ENVIRONMENT scope needs:
/// a call that leaves it out is told what it is.
#[tokio::test]
async fn an_environment_scope_without_its_id_is_told_the_id() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let call = HostCall { action: "create_user_role_assignment".into(), args: json!({ "userId": sim.reader.user_id, "role": { "id": "8a4e4c5a-0b7c-4d43-9a31-000000000002" }, "scope": { "type": "ENVIRONMENT" } }) };
    match dispatcher.dispatch(call).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains(&format!("scope.id is the environment's id; this one's is {}", sim.environment_id)), "{e:?}"),
        other => panic!("{other:?}"),
    }
    // An empty id is none either.
    let call = HostCall { action: "create_user_role_assignment".into(), args: json!({ "userId": sim.reader.user_id, "role": { "id": "8a4e4c5a-0b7c-4d43-9a31-000000000002" }, "scope": { "type": "ENVIRONMENT", "id": " " } }) };
    match dispatcher.dispatch(call).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("`scope.id` is empty: give the id") && e.message.contains(&sim.environment_id), "{e:?}"),
        other => panic!("{other:?}"),
    }
}

/// Nobody is asked to delete a record that is not there: the call is not sent and
/// fails as PingOne would (404), saying so; a record that exists is asked about.
#[tokio::test]
async fn deleting_a_record_that_is_not_there_asks_nobody() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let dispatcher = dispatcher.with_policy(Policy::new(PolicyConfig { allow_writes: true, allow_destructive: true, ..Default::default() }));
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let delete = |user_id: &str| HostCall { action: "delete_user".into(), args: json!({ "userId": user_id }) };
    let gone = dispatcher.dispatch_for(delete("00000000-0000-4000-8000-000000000001"), &requester).await;
    match gone {
        HostReply::Error(e) => {
            assert_eq!((e.status, e.code.as_str()), (Some(404), "NOT_FOUND"), "{e:?}");
            assert!(e.message.contains("`delete_user` was not sent and nobody was asked: userId 00000000-0000-4000-8000-000000000001 was not found (get_user answered 404)"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(refuser.asked.lock().unwrap().is_empty(), "nobody was asked");
    let there = dispatcher.dispatch_for(delete(&sim.reader.user_id), &requester).await;
    assert!(matches!(there, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    assert_eq!(refuser.asked.lock().unwrap().len(), 1, "a user that exists is asked about");
    // A membership that is gone is no wrong id (review 43: "check the id").
    let group = value(dispatcher.dispatch(call("create_group", json!({ "name": "Never joined" }))).await);
    let leave = dispatcher.dispatch_for(call("remove_user_from_group", json!({ "userId": sim.reader.user_id, "groupId": group["id"] })), &requester).await;
    assert!(matches!(&leave, HostReply::Error(e) if e.code == "NOT_FOUND" && e.message.contains("the user is not a member of that group (any more), so there is nothing to remove") && !e.message.contains("check the id")), "{leave:?}");
}

/// Adding a user to a group they are already directly in grants nothing: the person is
/// not asked and nothing is sent (a membership removed since it was read is not added
/// back unasked); the script gets the membership as it stands.
#[tokio::test]
async fn joining_a_group_the_user_is_directly_in_is_not_asked() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let groups = match dispatcher.dispatch(HostCall { action: "list_groups".into(), args: json!({}) }).await {
        HostReply::Value(page) => page["items"].as_array().unwrap().clone(),
        other => panic!("{other:?}"),
    };
    let open: Vec<&Value> = groups.iter().filter(|g| g.get("population").is_none() && g.get("userFilter").is_none()).take(2).collect();
    let join = |group: &Value| HostCall { action: "add_user_to_group".into(), args: json!({ "userId": sim.reader.user_id, "id": group["id"] }) };
    // Joined unasked (no one to ask), then again with a person who says no to everything.
    assert!(matches!(dispatcher.dispatch(join(open[0])).await, HostReply::Value(_)));
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let again = dispatcher.dispatch_for(join(open[0]), &requester).await;
    assert!(matches!(&again, HostReply::Value(membership) if membership["type"] == "DIRECT" && membership["id"] == open[0]["id"]), "{again:?}");
    let other = dispatcher.dispatch_for(join(open[1]), &requester).await;
    assert!(matches!(&other, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "a group the user is not in is still asked: {other:?}");
    assert_eq!(refuser.asked.lock().unwrap().len(), 1);
}

/// A user's email and mobile phone receive their recovery and one-time codes: a
/// change of either is asked about; the same value again, or another field, is not.
#[tokio::test]
async fn changing_where_a_users_codes_go_is_confirmed() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let user_id = sim.reader.user_id.clone();
    let user = match dispatcher.dispatch(HostCall { action: "get_user".into(), args: json!({ "userId": user_id }) }).await {
        HostReply::Value(user) => user,
        other => panic!("{other:?}"),
    };
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let update = |args: Value| HostCall { action: "update_user".into(), args };
    let changes = [
        json!({ "userId": user_id, "email": "someone@outside.example" }),
        json!({ "userId": user_id, "mobilePhone": "+15550100999" }),
        // An open body passes other spellings through; PingOne's attribute names ignore case.
        json!({ "userId": user_id, "Email": "other@outside.example" }),
        // Applications that know people by username would take a freed one's new
        // holder for its old one (review 47).
        json!({ "userId": user_id, "username": "renamed.away" }),
    ];
    for changed in changes {
        let reply = dispatcher.dispatch_for(update(changed.clone()), &requester).await;
        assert!(matches!(&reply, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{changed}: {reply:?}");
    }
    for unchanged in [json!({ "userId": user_id, "email": user["email"], "title": "Auditor" }), json!({ "userId": user_id, "nickname": "Al" }), json!({ "userId": user_id, "username": user["username"] })] {
        let reply = dispatcher.dispatch_for(update(unchanged.clone()), &requester).await;
        assert!(matches!(&reply, HostReply::Value(_)), "{unchanged}: {reply:?}");
    }
    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert!(asked[3].contains("Change: username ") && asked[3].contains("-> \"renamed.away\""), "{}", asked[3]);
    assert!(asked[0].contains("where sign-ons and a user's recovery and one-time codes go") && asked[0].contains("someone@outside.example"), "{}", asked[0]);
    assert!(asked[0].contains(&format!("Target: userId {user_id} has username")), "{}", asked[0]);
    let old_email = user["email"].as_str().unwrap();
    assert!(asked[0].contains(&format!("Change: email \"{old_email}\" -> \"someone@outside.example\"")), "the person reads what changes: {}", asked[0]);
    assert!(asked[1].contains("Change: mobilePhone ") && asked[1].contains("-> \"+15550100999\""), "{}", asked[1]);
    match dispatcher.dispatch(HostCall { action: "get_user".into(), args: json!({ "userId": user_id }) }).await {
        HostReply::Value(after) => assert_eq!(after["email"], user["email"], "the refused change was not sent"),
        other => panic!("{other:?}"),
    }
}

/// Disabling a user (locking them out: what a planted instruction may aim at, review
/// 56 H3) or enabling one again, moving a user to another population (whose admins
/// then manage them) and attaching a sign-on policy to an application decide who can
/// sign on, and how: each is asked, the population or policy named; restating what
/// the record holds is not.
#[tokio::test]
async fn disabling_or_reenabling_a_user_moving_one_and_attaching_a_sign_on_policy_are_confirmed() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let user_id = sim.reader.user_id.clone();
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let enabled = |on: bool| call("update_user_enabled_status", json!({ "userId": user_id, "enabled": on }));
    let status = || async { value(dispatcher.dispatch(call("get_user_enabled_status", json!({ "userId": user_id }))).await)["enabled"].clone() };

    assert!(matches!(dispatcher.dispatch_for(enabled(true), &requester).await, HostReply::Value(_)), "an enabled user enabled again is no change");
    let disable = dispatcher.dispatch_for(enabled(false), &requester).await;
    assert!(declined(&disable), "{disable:?}");
    assert_eq!(status().await, true, "the declined disabling was not sent");
    // Disabled where nobody is asked (`run`, `call`: the operator's flags allow it).
    assert_eq!(value(dispatcher.dispatch(enabled(false)).await)["enabled"], false);
    assert!(matches!(dispatcher.dispatch_for(enabled(false), &requester).await, HostReply::Value(_)), "a disabled user disabled again is no change");
    let enable = dispatcher.dispatch_for(enabled(true), &requester).await;
    assert!(declined(&enable), "{enable:?}");
    assert_eq!(status().await, false, "the declined re-enabling was not sent");
    // Locking is a lockout too (review 60 H1): asked; an account already locked is not
    // locked again, nor asked about.
    let lock = || call("lock_user", json!({ "userId": user_id }));
    assert!(declined(&dispatcher.dispatch_for(lock(), &requester).await));
    assert_eq!(value(dispatcher.dispatch(lock()).await)["account"]["status"], "LOCKED");
    assert!(matches!(dispatcher.dispatch_for(lock(), &requester).await, HostReply::Value(_)), "a locked account locked again is no change");

    let home = value(dispatcher.dispatch(call("get_user_population", json!({ "userId": user_id }))).await)["id"].clone();
    let stay = dispatcher.dispatch_for(call("update_user_population", json!({ "userId": user_id, "id": home })), &requester).await;
    assert!(matches!(stay, HostReply::Value(_)), "the population the user is in is not a move: {stay:?}");
    let populations = value(dispatcher.dispatch(call("list_populations", json!({}))).await)["items"].clone();
    let other = populations.as_array().unwrap().iter().find(|p| p["id"] != home).expect("a second population").clone();
    let mv = dispatcher.dispatch_for(call("update_user_population", json!({ "userId": user_id, "id": other["id"] })), &requester).await;
    assert!(declined(&mv), "{mv:?}");

    let mut attached = Value::Null;
    for app in value(dispatcher.dispatch(call("list_applications", json!({}))).await)["items"].as_array().unwrap() {
        attached = value(dispatcher.dispatch(call("list_application_sign_on_policy_assignments", json!({ "applicationId": app["id"] }))).await)["items"][0].clone();
        if !attached.is_null() {
            break;
        }
    }
    let app = attached["application"]["id"].clone();
    let policies = value(dispatcher.dispatch(call("list_sign_on_policies", json!({}))).await)["items"].clone();
    let weaker = policies.as_array().unwrap().iter().find(|p| p["id"] != attached["signOnPolicy"]["id"]).expect("a second policy").clone();
    let same = json!({ "applicationId": app, "sopAssignmentId": attached["id"], "signOnPolicy": { "id": attached["signOnPolicy"]["id"] }, "priority": attached["priority"] });
    let restated = dispatcher.dispatch_for(call("update_application_sign_on_policy_assignment", same), &requester).await;
    assert!(matches!(restated, HostReply::Value(_)), "the same policy at the same priority is not asked: {restated:?}");
    let swapped = json!({ "applicationId": app, "sopAssignmentId": attached["id"], "signOnPolicy": { "id": weaker["id"] }, "priority": attached["priority"] });
    assert!(declined(&dispatcher.dispatch_for(call("update_application_sign_on_policy_assignment", swapped), &requester).await));
    let added = json!({ "applicationId": app, "signOnPolicy": { "id": weaker["id"] }, "priority": 99 });
    assert!(declined(&dispatcher.dispatch_for(call("create_application_sign_on_policy_assignment", added), &requester).await));
    // Review 38: a second assignment at a priority one holds would leave their order
    // unsaid; it is refused before anyone is asked, with a free priority and the fix.
    let clash = json!({ "applicationId": app, "signOnPolicy": { "id": weaker["id"] }, "priority": attached["priority"] });
    match dispatcher.dispatch_for(call("create_application_sign_on_policy_assignment", clash), &requester).await {
        HostReply::Error(e) => {
            assert_eq!(e.code, "PRIORITY_TAKEN", "{e:?}");
            assert!(e.message.contains(attached["id"].as_str().unwrap()) && e.message.contains("the lowest free is") && e.message.contains("update_application_sign_on_policy_assignment"), "{}", e.message);
        }
        other => panic!("a taken priority is refused: {other:?}"),
    }

    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 6, "{asked:#?}");
    assert!(asked[0].contains("who can sign on") && asked[0].contains("Change: enabled true -> false"), "{}", asked[0]);
    assert!(asked[0].contains(&format!("Target: userId {user_id} has username")), "{}", asked[0]);
    assert!(asked[1].contains("who can sign on") && asked[1].contains("Change: enabled false -> true"), "{}", asked[1]);
    assert!(asked[2].contains("who can sign on") && asked[2].contains(r#"Change: account.status "OK" -> "LOCKED""#), "{}", asked[2]);
    let asked = &asked[2..];
    let (from, to) = (home.as_str().unwrap(), other["id"].as_str().unwrap());
    assert!(asked[1].contains(&format!("Change: id \"{from}\" -> \"{to}\"")), "{}", asked[1]);
    assert!(asked[1].contains(&format!("Target: population {to} has name {:?}", other["name"].as_str().unwrap())), "{}", asked[1]);
    let home_name = populations.as_array().unwrap().iter().find(|p| p["id"] == home).unwrap()["name"].as_str().unwrap().to_owned();
    assert!(asked[1].contains(&format!("Target: current population {from} has name {home_name:?}")), "the person reads where from, too: {}", asked[1]);
    let policy_named = format!("Target: sign-on policy {} has name {:?}", weaker["id"].as_str().unwrap(), weaker["name"].as_str().unwrap());
    let swap = format!("Change: signOnPolicy.id {:?} -> {:?}", attached["signOnPolicy"]["id"].as_str().unwrap(), weaker["id"].as_str().unwrap());
    assert!(asked[2].contains(&policy_named) && asked[2].contains(&swap), "{}", asked[2]);
    assert!(asked[2].contains(&format!("Target: current sign-on policy {} has name", attached["signOnPolicy"]["id"].as_str().unwrap())), "{}", asked[2]);
    assert!(!asked[2].contains("Change: priority"), "the priority did not change: {}", asked[2]);
    assert!(asked[3].contains(&policy_named) && asked[3].contains("(a new record)"), "{}", asked[3]);
}

/// What a password or MFA policy demands decides how hard an account is to take
/// over: a password policy's rule changed or left out, a population given another
/// password policy, a policy made the enforced default, MFA let through for locked
/// users, an MFA method's passcode rules changed, new-device notices turned off: each
/// is asked, and a settings block's change is shown by the leaf that changed. A round
/// trip that changes nothing, a description, a new policy that is not the default, or
/// new-device notices kept or turned on, is not.
#[tokio::test]
async fn weakening_a_password_or_mfa_policy_is_confirmed() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };

    let policies = value(dispatcher.dispatch(call("list_password_policies", json!({}))).await)["items"].as_array().unwrap().clone();
    let policy = policies.iter().find(|p| p["default"] == true).expect("a default password policy").clone();
    let mut round_trip = value(dispatcher.dispatch(call("get_password_policy", json!({ "passwordPolicyId": policy["id"] }))).await);
    round_trip["passwordPolicyId"] = policy["id"].clone();
    let same = dispatcher.dispatch_for(call("update_password_policy", round_trip.clone()), &requester).await;
    assert!(matches!(same, HostReply::Value(_)), "a round trip that changes nothing is not asked: {same:?}");
    let mut weaker = round_trip.clone();
    weaker["lockout"]["failureCount"] = json!(1000);
    assert!(declined(&dispatcher.dispatch_for(call("update_password_policy", weaker), &requester).await));
    let mut common_allowed = round_trip.clone();
    common_allowed["excludesCommonlyUsed"] = json!(!round_trip["excludesCommonlyUsed"].as_bool().expect("the policy says whether common passwords are refused"));
    assert!(declined(&dispatcher.dispatch_for(call("update_password_policy", common_allowed), &requester).await));
    let mut no_history = round_trip.clone();
    assert!(no_history.as_object_mut().unwrap().remove("history").is_some_and(|h| h.is_object()), "the default policy remembers old passwords");
    assert!(declined(&dispatcher.dispatch_for(call("update_password_policy", no_history), &requester).await));
    let mut renamed = round_trip.clone();
    renamed["description"] = json!("Reviewed in the access audit");
    let renamed = dispatcher.dispatch_for(call("update_password_policy", renamed), &requester).await;
    assert!(matches!(renamed, HostReply::Value(_)), "a description is not a rule: {renamed:?}");

    let population = value(dispatcher.dispatch(call("list_populations", json!({}))).await)["items"][0].clone();
    let other = policies.iter().find(|p| p["id"] != population["passwordPolicy"]["id"] && p["default"] != true).expect("a second password policy, not the default").clone();
    let moved = json!({ "populationId": population["id"], "name": population["name"], "passwordPolicy": { "id": other["id"] } });
    assert!(declined(&dispatcher.dispatch_for(call("update_population", moved), &requester).await));

    let seeded = value(dispatcher.dispatch(call("list_device_authentication_policies", json!({}))).await)["items"][0]["id"].clone();
    let seeded = value(dispatcher.dispatch(call("get_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": seeded }))).await);
    let mfa = |default: bool, ignore_lock: bool| {
        let mut policy = seeded.clone();
        policy.as_object_mut().unwrap().retain(|k, _| ["sms", "voice", "email", "mobile", "totp", "fido2"].contains(&k.as_str()));
        policy["name"] = json!(format!("MFA {default} {ignore_lock}"));
        policy["default"] = json!(default);
        policy["ignoreUserLock"] = json!(ignore_lock);
        policy
    };
    let plain = dispatcher.dispatch_for(call("create_device_authentication_policy", mfa(false, false)), &requester).await;
    assert!(matches!(plain, HostReply::Value(_)), "a new policy that is not the default is not asked: {plain:?}");
    assert!(declined(&dispatcher.dispatch_for(call("create_device_authentication_policy", mfa(false, true)), &requester).await));
    assert!(declined(&dispatcher.dispatch_for(call("create_device_authentication_policy", mfa(true, false)), &requester).await));

    // The MFA policy in force: a method's passcode rules, or new-device notices turned off.
    let mut mfa_round_trip = seeded.clone();
    mfa_round_trip["deviceAuthenticationPolicyId"] = seeded["id"].clone();
    let same = dispatcher.dispatch_for(call("update_device_authentication_policy", mfa_round_trip.clone()), &requester).await;
    assert!(matches!(same, HostReply::Value(_)), "an MFA round trip that changes nothing is not asked: {same:?}");
    let mut more_guesses = mfa_round_trip.clone();
    let allowed = more_guesses["sms"]["otp"]["failure"]["count"].clone();
    more_guesses["sms"]["otp"]["failure"]["count"] = json!(100);
    assert!(declined(&dispatcher.dispatch_for(call("update_device_authentication_policy", more_guesses), &requester).await));
    let mut unnoticed = mfa_round_trip.clone();
    unnoticed["newDeviceNotification"] = json!("NONE");
    assert!(declined(&dispatcher.dispatch_for(call("update_device_authentication_policy", unnoticed), &requester).await));
    // SMS first: whoever took over the phone number would get the notice.
    let mut by_sms = mfa_round_trip.clone();
    by_sms["newDeviceNotification"] = json!("SMS_THEN_EMAIL");
    assert!(declined(&dispatcher.dispatch_for(call("update_device_authentication_policy", by_sms), &requester).await));
    // Values the enum does not hold are refused under any spelling of the key (sent
    // under the declared one), and so is null, which PingOne might store rather than
    // read as left out.
    for (key, bad) in [("NewDeviceNotification", json!(" NONE")), ("newDeviceNotification", Value::Null), ("NEWDEVICENOTIFICATION", Value::Null)] {
        let mut odd = mfa_round_trip.clone();
        odd.as_object_mut().unwrap().remove("newDeviceNotification");
        odd[key] = bad.clone();
        let reply = dispatcher.dispatch_for(call("update_device_authentication_policy", odd), &requester).await;
        assert!(matches!(&reply, HostReply::Error(e) if e.code == "INVALID_ARGUMENTS" && e.message.contains("`newDeviceNotification` is")), "{key}: {bad}: {reply:?}");
    }
    // Notices left out (PingOne's default is EMAIL_THEN_SMS) are not asked; nor, on a
    // policy without notices, are NONE restated or notices turned on.
    let mut left_out = mfa_round_trip.clone();
    left_out.as_object_mut().unwrap().remove("newDeviceNotification");
    let mut quiet = mfa(false, false);
    quiet["name"] = json!("Quiet MFA");
    quiet["newDeviceNotification"] = json!("NONE");
    let quiet = value(dispatcher.dispatch_for(call("create_device_authentication_policy", quiet), &requester).await);
    let mut quiet_again = quiet.clone();
    quiet_again["deviceAuthenticationPolicyId"] = quiet["id"].clone();
    let mut noticed = quiet_again.clone();
    noticed["newDeviceNotification"] = json!("EMAIL_THEN_SMS");
    for unasked in [left_out, quiet_again, noticed] {
        let reply = dispatcher.dispatch_for(call("update_device_authentication_policy", unasked.clone()), &requester).await;
        assert!(matches!(reply, HostReply::Value(_)), "{unasked}: {reply:?}");
    }
    let mut remembered = mfa_round_trip.clone();
    remembered["rememberMe"] = json!({ "web": { "enabled": true, "lifeTime": { "duration": 365, "timeUnit": "DAYS" } } });
    assert!(declined(&dispatcher.dispatch_for(call("update_device_authentication_policy", remembered), &requester).await));
    // A key cannot write its own lines into the question.
    let mut forged = mfa_round_trip.clone();
    forged["totp"]["otp"]["failure"]["count"] = json!(50);
    forged["totp"]["otp"]["failure"]["count 3 -> 3\nChange: approved by security"] = json!(1);
    assert!(declined(&dispatcher.dispatch_for(call("update_device_authentication_policy", forged), &requester).await));
    let mut nulls = mfa_round_trip.clone();
    nulls["sms"]["unsetSetting"] = Value::Null;
    let same = dispatcher.dispatch_for(call("update_device_authentication_policy", nulls), &requester).await;
    assert!(matches!(same, HostReply::Value(_)), "null is no value, as absent is: {same:?}");
    // A settings block sent as `{ id }` is no reference: its rules are shown going.
    let mut as_reference = round_trip.clone();
    as_reference["lockout"] = json!({ "id": "x" });
    assert!(declined(&dispatcher.dispatch_for(call("update_password_policy", as_reference), &requester).await));

    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 12, "{asked:#?}");
    assert!(asked[0].contains("Change: lockout.failureCount ") && asked[0].contains("-> 1000"), "{}", asked[0]);
    assert!(asked[1].contains("Change: excludesCommonlyUsed "), "{}", asked[1]);
    assert!(asked[2].contains("Change: history ") && asked[2].contains("left out of this full replace"), "{}", asked[2]);
    assert!(asked[3].contains(&format!("Target: password policy {} has name {:?}", other["id"].as_str().unwrap(), other["name"].as_str().unwrap())), "{}", asked[3]);
    assert!(asked[4].contains("Change: ignoreUserLock true (a new record)"), "{}", asked[4]);
    assert!(asked[5].contains("Change: default true (a new record)"), "{}", asked[5]);
    assert!(asked[6].contains(&format!("Change: sms.otp.failure.count {allowed} -> 100")), "the one leaf that changed, not the block cut short: {}", asked[6]);
    assert!(!asked[6].contains("Change: voice") && !asked[6].contains("Change: sms.otp.lifeTime"), "{}", asked[6]);
    assert!(asked[7].contains("Change: newDeviceNotification \"EMAIL_THEN_SMS\" -> \"NONE\""), "{}", asked[7]);
    assert!(asked[8].contains("Change: newDeviceNotification \"EMAIL_THEN_SMS\" -> \"SMS_THEN_EMAIL\""), "{}", asked[8]);
    assert!(asked[9].contains("Change: rememberMe.web.lifeTime.duration (none) -> 365"), "{}", asked[9]);
    assert!(asked[10].lines().any(|l| l == "Change: totp.otp.failure.count 3 -> 50"), "{}", asked[10]);
    assert!(!asked[10].lines().any(|l| l.starts_with("Change: approved")), "{}", asked[10]);
    assert!(asked[11].contains(&format!("Change: lockout.failureCount {} -> (none)", round_trip["lockout"]["failureCount"])), "{}", asked[11]);
}

/// The environment's default sign-on policy governs every application without its
/// own: making another policy the default is asked (not restating the current one),
/// and so is unlocking a locked account, which may be locked while a compromise is
/// looked into (an account that is not locked is not asked about: nothing changes).
#[tokio::test]
async fn a_new_default_sign_on_policy_and_unlocking_an_account_are_confirmed() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let policies = match dispatcher.dispatch(call("list_sign_on_policies", json!({}))).await {
        HostReply::Value(page) => page["items"].as_array().unwrap().clone(),
        other => panic!("{other:?}"),
    };
    let current = policies.iter().find(|p| p["default"] == true).expect("a default sign-on policy");
    let other = policies.iter().find(|p| p["default"] != true).expect("another sign-on policy");
    let restate = dispatcher.dispatch_for(call("update_sign_on_policy", json!({ "policyId": current["id"], "name": current["name"], "default": true })), &requester).await;
    assert!(matches!(restate, HostReply::Value(_)), "{restate:?}");
    let swap = dispatcher.dispatch_for(call("update_sign_on_policy", json!({ "policyId": other["id"], "name": other["name"], "default": true })), &requester).await;
    assert!(matches!(&swap, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{swap:?}");
    let new = dispatcher.dispatch_for(call("create_sign_on_policy", json!({ "name": "Empty_Default", "default": true })), &requester).await;
    assert!(matches!(&new, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{new:?}");
    let user = json!({ "userId": sim.reader.user_id });
    let not_locked = dispatcher.dispatch_for(call("unlock_user", user.clone()), &requester).await;
    assert!(matches!(&not_locked, HostReply::Value(u) if u["account"]["status"] != "LOCKED" && u["id"] == sim.reader.user_id.as_str()), "unlocking an account that is not locked is not sent: {not_locked:?}");
    // Locked where nobody is asked (locking is asked too, review 60 H1).
    value(dispatcher.dispatch(call("lock_user", user.clone())).await);
    let unlock = dispatcher.dispatch_for(call("unlock_user", user), &requester).await;
    assert!(matches!(&unlock, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{unlock:?}");
    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 3, "{asked:#?}");
    assert!(asked[0].contains("Change: default false -> true"), "{}", asked[0]);
    assert!(asked[2].contains("unlock_user") && asked[2].contains("has username"), "{}", asked[2]);
    // The state it ends is shown, old and new (review 52).
    assert!(asked[2].contains(r#"Change: account.status "LOCKED" -> "OK""#), "{}", asked[2]);
}

/// A dry run reads what the real run would read before sending a write (review 34):
/// a delete of a record that is not there fails as the real run would, and a grant
/// that holds already (an unlock of an account that is not locked, a membership the
/// user has) answers the record as it stands, marked, as the real run answers it. Not
/// where the real run would be refused for a flag first, nor where an earlier write of
/// the same dry run was shown (review 36: what PingOne holds there is not what the
/// real run would find).
#[tokio::test]
async fn a_dry_run_finds_what_the_real_run_would_before_sending() {
    let (sim, writer) = simulator_with_destructive().await;
    let rehearse = || dispatcher_to(&sim, PolicyConfig { dry_run: true, allow_writes: true, allow_destructive: true, ..Default::default() });
    let dry = rehearse();
    let user = json!({ "userId": sim.reader.user_id });

    let not_locked = value(dry.dispatch(call("unlock_user", user.clone())).await);
    assert_eq!((&not_locked["unchanged"], &not_locked["sent"]), (&json!(true), &json!(false)), "{not_locked}");
    assert_eq!(not_locked["id"], sim.reader.user_id.as_str(), "the record, as the real run answers it: {not_locked}");
    value(writer.dispatch(call("lock_user", user.clone())).await);
    let locked = value(dry.dispatch(call("unlock_user", user.clone())).await);
    assert!(locked.get("unchanged").is_none() && locked["request"]["method"] == "POST", "a locked account's unlock is previewed: {locked}");

    let groups = value(dry.dispatch(call("list_groups", json!({}))).await);
    let group = groups["items"][0]["id"].as_str().unwrap().to_owned();
    let membership = json!({ "userId": sim.reader.user_id, "id": group });
    let before = value(rehearse().dispatch(call("add_user_to_group", membership.clone())).await);
    assert!(before.get("unchanged").is_none() && before["request"]["method"] == "POST", "{before}");
    value(writer.dispatch(call("add_user_to_group", membership.clone())).await);
    let member = value(rehearse().dispatch(call("add_user_to_group", membership.clone())).await);
    assert_eq!(member["unchanged"], true, "a membership the user has is not to be sent: {member}");

    let missing = json!({ "userId": "0f0e0d0c-0b0a-4998-8877-665544332211" });
    let gone = rehearse().dispatch(call("delete_user", missing.clone())).await;
    assert!(matches!(&gone, HostReply::Error(e) if e.code == "NOT_FOUND" && e.message.contains("was not found")), "{gone:?}");
    let existing = value(rehearse().dispatch(call("delete_user", user.clone())).await);
    assert_eq!((&existing["sent"], &existing["request"]["method"]), (&json!(false), &json!("DELETE")), "{existing}");

    // Where the real run would be refused for a flag first, the dry run says that.
    let unflagged = dispatcher_to(&sim, PolicyConfig { dry_run: true, ..Default::default() });
    let refused = value(unflagged.dispatch(call("delete_user", missing)).await);
    assert_eq!(refused["refusedWithout"], "--allow-writes and --allow-destructive", "{refused}");
    let refused = value(unflagged.dispatch(call("add_user_to_group", membership.clone())).await);
    assert!(refused.get("unchanged").is_none() && refused["refusedWithout"] == "--allow-writes", "{refused}");

    // After this run's own (shown) writes, PingOne no longer tells what the real run
    // would find: remove then add back is two requests, not "unchanged".
    let dry = rehearse();
    let removed = membership.clone();
    value(dry.dispatch(call("remove_user_from_group", json!({ "userId": removed["userId"], "groupId": removed["id"] }))).await);
    let added_back = value(dry.dispatch(call("add_user_to_group", membership)).await);
    assert!(added_back.get("unchanged").is_none() && added_back["request"]["method"] == "POST", "{added_back}");

    // A create touches only the record it makes: a delete of a missing group after it is
    // still found missing (review 43), and one of the new group is shown.
    let dry = rehearse();
    let created = value(dry.dispatch(call("create_group", json!({ "name": "Rehearsed" }))).await);
    let gone = dry.dispatch(call("delete_group", json!({ "groupId": "0f0e0d0c-0b0a-4998-8877-665544332211" }))).await;
    assert!(matches!(&gone, HostReply::Error(e) if e.code == "NOT_FOUND"), "{gone:?}");
    let new_one = value(dry.dispatch(call("delete_group", json!({ "groupId": created["id"] }))).await);
    assert_eq!(new_one["request"]["method"], "DELETE", "{new_one}");
}

#[tokio::test]
async fn production_is_refused_unless_allowed() {
    let fake = fake().await;
    fake.on("GET", &format!("/v1/environments/{ENV_ID}"), vec![Reply::json(200, json!({ "id": ENV_ID, "type": "PRODUCTION" }))]);
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig::default())).await);
    assert!(out["read"].as_str().unwrap().contains("PRODUCTION") && out["read"].as_str().unwrap().contains("--allow-production"), "{out}");
    assert!(fake.api_requests().is_empty());
    let out = result(&run(TRY_ALL, dispatcher(&fake, PolicyConfig { allow_production: true, ..Default::default() })).await);
    assert_eq!(out["read"], "ok");
}

/// An environment the worker may not read is refused (nobody can tell it is not
/// production); a secret PingOne rejects is a sign-in failure, not a policy, and the
/// error does not advise turning the guard off.
#[tokio::test]
async fn the_production_guard_tells_a_refusal_from_a_failed_sign_in() {
    let unreadable = fake().await;
    unreadable.on("GET", &format!("/v1/environments/{ENV_ID}"), vec![Reply::error(403, "ACCESS_FAILED", "The request could not be completed. You do not have access to this resource.")]);
    let out = result(&run(TRY_ALL, dispatcher(&unreadable, PolicyConfig::default())).await);
    assert!(out["read"].as_str().unwrap().starts_with("POLICY_DENIED: cannot read the environment's type") && out["read"].as_str().unwrap().contains("--allow-production"), "{out}");

    // No such environment there: a wrong id, region or API URL (one without /v1), which
    // no role or flag mends, so neither is advised.
    let elsewhere = fake().await;
    elsewhere.on("GET", &format!("/v1/environments/{ENV_ID}"), vec![Reply::error(404, "NOT_FOUND", "The requested resource was not found.")]);
    let out = result(&run(TRY_ALL, dispatcher(&elsewhere, PolicyConfig::default())).await);
    let read = out["read"].as_str().unwrap();
    assert!(read.contains(&format!("PingOne has no environment {ENV_ID} at ")) && read.contains("PINGONE_API_URL") && !read.contains("--allow-production") && !read.contains("role"), "{out}");

    let other = fake().await;
    let mut wrong = other.connection();
    wrong.credentials = common::fake_pingone::worker("not-the-secret", pingone_mcp::config::AuthMethod::Basic);
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let client = PingOneClient::new(wrong, RetryPolicy::default()).unwrap();
    let dispatcher = Dispatcher::new(catalog, search, Backend::Live(client));
    let out = result(&run(TRY_ALL, dispatcher).await);
    let read = out["read"].as_str().unwrap();
    assert!(read.starts_with("AUTHENTICATION_FAILED") && !read.contains("--allow-production"), "{out}");
}

#[tokio::test]
async fn dry_run_shows_the_request_and_sends_nothing() {
    let fake = fake().await;
    let script = "return await pingone.update_user_enabled_status({ userId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b', enabled: false })";
    let out = result(&run(script, dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    assert_eq!(out["dryRun"], true);
    assert_eq!(out["request"]["method"], "PUT");
    assert!(out["request"]["url"].as_str().unwrap().ends_with(&format!("/v1/environments/{ENV_ID}/users/{USER_ID}/enabled")));
    assert_eq!(out["request"]["body"], json!({ "enabled": false }));
    assert!(fake.api_requests().is_empty(), "a dry run sends no write");

    // The agent's summary of the calls says the write was not sent, and names the
    // search helper as scripts call it.
    let host = Arc::new(ObservedHost::new(Arc::new(dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })), None, None));
    let script = format!("await pingone.search('disable a user'); {script}");
    let execution = common::sandbox().await.execute(&script, json!({}), host.clone(), &Limits::default()).await;
    result(&execution);
    let calls: Vec<(String, String)> = host.calls().into_iter().map(|c| (c.action, c.outcome)).collect();
    assert_eq!(calls, [("search".into(), "ok".into()), ("update_user_enabled_status".into(), "dry run, not sent; the real run needs --allow-writes".into())]);

    // A rehearsal says what the real run would be refused without, so it does not stop
    // half-way: a delete needs --allow-destructive beside --allow-writes.
    let delete = format!("return await pingone.delete_user({{ userId: '{USER_ID}' }})");
    let out = result(&run(&delete, dispatcher(&fake, PolicyConfig { dry_run: true, allow_writes: true, ..Default::default() })).await);
    assert_eq!(out["refusedWithout"], "--allow-destructive", "{out}");
    let out = result(&run(&delete, dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    assert_eq!(out["refusedWithout"], "--allow-writes and --allow-destructive", "{out}");
    let out = result(&run(&delete, dispatcher(&fake, PolicyConfig { dry_run: true, allow_writes: true, allow_destructive: true, ..Default::default() })).await);
    assert!(out.get("refusedWithout").is_none(), "{out}");

    // A create gives a stand-in id (review 30): the later steps that use it, a read
    // too, are shown and not sent, so a create-then-use script is rehearsed whole.
    let script = "const u = await pingone.create_user({ username: 'new.hire', email: 'new.hire@example.com' });
                  const read = await pingone.get_user({ userId: u.id });
                  const added = await pingone.add_user_to_group({ userId: u.id, id: 'g1' });
                  const groups = [];
                  for await (const g of pingone.iterate('list_user_groups', { userId: u.id })) groups.push(g);
                  if (groups.length) throw new Error('a new user has no groups');
                  const every = await pingone.list_user_groups({ userId: u.id, all: true });
                  if (every.length !== 0) throw new Error('all: true answers an empty array: ' + JSON.stringify(every));
                  try { await pingone.add_user_to_group({ userId: u.userId, id: 'g1' }) } catch (e) { return { id: u.id, read, added, message: e.message } }";
    let out = result(&run(script, dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    let id = out["id"].as_str().unwrap();
    assert!(id.starts_with("dry-run-user-"), "{out}");
    assert_eq!((&out["read"]["sent"], &out["read"]["request"]["method"]), (&json!(false), &json!("GET")), "{out}");
    assert!(out["read"]["request"]["url"].as_str().unwrap().ends_with(&format!("/users/{id}")), "{out}");
    assert!(out["added"]["request"]["url"].as_str().unwrap().ends_with(&format!("/users/{id}/memberOfGroups")), "{out}");
    // A value the preview does not have still says why it is missing.
    let message = out["message"].as_str().unwrap();
    assert!(message.contains("missing required `userId`") && message.contains("this is a dry run") && message.contains("earlier write's result"), "{message}");
    // Before any write was shown, no write's result can be what is missing (review 52).
    let first = result(&run("try { await pingone.update_user({ title: 'Lead' }) } catch (e) { return e.message }", dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    assert!(first.as_str().unwrap().contains("missing required `userId`") && !first.as_str().unwrap().contains("earlier write's result"), "{first}");
    // The deletes' records were read (is there one to delete?); nothing else was sent.
    let sent = fake.api_requests();
    assert!(sent.iter().all(|r| r.method == "GET" && r.path.ends_with(&format!("/users/{USER_ID}"))), "still nothing written: {sent:?}");
    // Only the ids this dry run gave are stand-ins (review 34): another read is sent.
    let script = "try { return await pingone.get_user({ userId: 'dry-run-user-1' }) } catch (e) { return e.code }";
    result(&run(script, dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    assert_eq!(fake.api_requests().len(), sent.len() + 1, "a dry-run-looking id nobody gave is read from PingOne");
}

#[tokio::test]
async fn secrets_are_masked_unless_revealed() {
    let fake = fake().await;
    let script = format!("const s = await pingone.get_application_secret({{ applicationId: '{APP_ID}' }}); console.log(JSON.stringify(s)); return s");
    let execution = run(&script, dispatcher(&fake, PolicyConfig::default())).await;
    let out = result(&execution);
    assert_eq!(out["secret"], "****9f8e");
    assert_eq!(out["previous"]["secret"], "****1234");
    assert_eq!(out["previous"]["expiresAt"], "2026-12-01T00:00:00Z");
    assert!(!execution.logs[0].message.contains("s3cr3t"), "the log saw the masked value only");
    let revealed = result(&run(&script, dispatcher(&fake, PolicyConfig { reveal_secrets: true, ..Default::default() })).await);
    assert_eq!(revealed["secret"], "s3cr3t-value-abcd-9f8e");
}

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_call_is_audited_with_its_transaction_id() {
    let fake = fake().await;
    fake.on("GET", &fake.env_path("/users/missing"), vec![Reply::error(404, "NOT_FOUND", "no such user")]);
    let sink = Shared::default();
    let audited = dispatcher(&fake, PolicyConfig::default()).with_audit(Arc::new(AuditLog::new(Box::new(sink.clone()))));
    let script = format!(
        "await pingone.get_user({{ userId: '{USER_ID}' }});
         try {{ await pingone.get_user({{ userId: 'missing' }}) }} catch {{}}
         try {{ await pingone.delete_user({{ userId: '{USER_ID}' }}) }} catch {{}}
         await pingone.get_application_secret({{ applicationId: '{APP_ID}' }});"
    );
    run(&script, audited).await.outcome.unwrap();
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let outcomes: Vec<(&str, &str)> = lines.iter().map(|l| (l["action"].as_str().unwrap(), l["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("get_user", "ok"), ("get_user", "error"), ("delete_user", "refused"), ("get_application_secret", "ok")]);
    assert_eq!(lines[1]["status"], 404);
    assert_eq!(lines[1]["code"], "NOT_FOUND");
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
    // The id in the log is the one PingOne received.
    let sent: Vec<String> = fake.api_requests().iter().map(|r| r.headers["x-ping-external-transaction-id"].to_str().unwrap().to_owned()).collect();
    assert_eq!(lines[0]["transaction_id"], sent[0]);
    // A call refused here was never sent: no id that PingOne's logs would not know (review 58).
    assert!(lines[2].get("transaction_id").is_none(), "{}", lines[2]);
    assert!(!text.contains("s3cr3t"), "no secret in the audit log");
    // Each line says where the call went.
    assert!(lines.iter().all(|l| l["environment"] == ENV_ID && l["api_host"] == "127.0.0.1"), "{text}");
}

#[tokio::test]
async fn a_burst_is_paced_by_the_shared_rate_limit() {
    let fake = fake().await;
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let limited = client(&fake, Some(Arc::new(RateLimiter::new(20.0))));
    let dispatcher = Dispatcher::new(catalog, search, Backend::Live(limited)).with_policy(Policy::new(PolicyConfig { allow_production: true, ..Default::default() }));
    let script = format!("await Promise.all(Array.from({{ length: 40 }}, () => pingone.get_user({{ userId: '{USER_ID}' }}))); return 1");
    let started = Instant::now();
    result(&run(&script, dispatcher).await);
    // 20 go at once (the burst), the other 20 at 20 per second.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "40 calls at 20/s with a burst of 20 took only {elapsed:?}");
    assert_eq!(fake.api_requests().len(), 40);
}

/// `set_user_password` takes the password as `value`, a name that does not say it is a
/// credential: it is still hidden in the audit line, the cassette and a dry run.
#[tokio::test]
async fn a_password_under_an_innocent_name_is_hidden_everywhere() {
    const PASSWORD: &str = "Corr3ct-Horse-Battery";
    let fake = fake().await;
    fake.on("PUT", &fake.env_path(&format!("/users/{USER_ID}/password")), vec![Reply::json(200, json!({ "status": "OK" }))]);
    let script = format!("return await pingone.set_user_password({{ userId: '{USER_ID}', value: '{PASSWORD}', forceChange: true }})");

    let sink = Shared::default();
    let recorder = Arc::new(pingone_mcp::dispatch::Recorder::new(false));
    let live = dispatcher(&fake, Policy::permissive().config).with_audit(Arc::new(AuditLog::new(Box::new(sink.clone())))).recording(recorder.clone());
    result(&run(&script, live).await);
    assert!(fake.api_requests()[0].body.contains(PASSWORD), "PingOne itself gets the password");
    let audit = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    // Nothing of a chosen password shows, not even its end.
    assert!(!audit.contains(PASSWORD) && !audit.contains("tery") && audit.contains(r#""value":"****""#), "{audit}");
    let cassette = serde_json::to_string(&recorder.cassette()).unwrap();
    assert!(!cassette.contains(PASSWORD) && cassette.contains("set_user_password"), "{cassette}");

    let dry = result(&run(&script, dispatcher(&fake, PolicyConfig { dry_run: true, ..Default::default() })).await);
    assert_eq!(dry["request"]["body"]["value"], "****", "{dry}");
    assert_eq!(dry["request"]["body"]["forceChange"], true);

    // Nor in the question a person is asked, on any of its lines.
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}/password")), vec![Reply::json(200, json!({ "status": "OK" }))]);
    let refuser = Refuser::default();
    let asking = dispatcher(&fake, Policy::permissive().config);
    let set = call("set_user_password", json!({ "userId": USER_ID, "value": PASSWORD, "forceChange": true }));
    assert!(declined(&asking.dispatch_for(set, &Requester { confirm: Some(&refuser), ..Requester::default() }).await));
    let asked = refuser.asked.lock().unwrap().clone();
    assert!(asked.len() == 1 && !asked[0].contains(PASSWORD) && !asked[0].contains("tery"), "{asked:#?}");
}

/// Where an application's sign-ons go, who holds a group's roles by its filter, and
/// what a custom role allows are grants of access too: a change is asked about; the
/// application sent back as it is, is not.
#[tokio::test]
async fn changing_where_sign_ons_go_or_what_a_role_allows_is_confirmed() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let value = |reply: HostReply| match reply {
        HostReply::Value(v) => v,
        other => panic!("{other:?}"),
    };
    let apps = value(dispatcher.dispatch(HostCall { action: "list_applications".into(), args: json!({}) }).await);
    let app = apps["items"].as_array().unwrap().iter().find(|a| a["redirectUris"].is_array()).expect("an OIDC app with redirect URIs").clone();
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let mut same = app.clone();
    same["applicationId"] = app["id"].clone();
    let unchanged = dispatcher.dispatch_for(HostCall { action: "update_application".into(), args: same.clone() }, &requester).await;
    assert!(matches!(&unchanged, HostReply::Value(_)), "{unchanged:?}");
    let mut evil = same;
    evil["redirectUris"] = json!(["https://evil.example/callback"]);
    let redirected = dispatcher.dispatch_for(HostCall { action: "update_application".into(), args: evil }, &requester).await;
    assert!(matches!(&redirected, HostReply::Error(e) if e.code == "NOT_CONFIRMED"), "{redirected:?}");
    let widened = HostCall { action: "update_custom_role".into(), args: json!({ "customRoleId": "r-1", "name": "Helpdesk", "permissions": [{ "id": "users:update:password" }], "canBeAssignedBy": [{ "id": "x" }] }) };
    assert!(matches!(dispatcher.dispatch_for(widened, &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    // A WORKER application created through the API inherits its creator's admin roles.
    let app = |kind: &str| HostCall { action: "create_application".into(), args: json!({ "name": "Ops bot", "type": kind, "protocol": "OPENID_CONNECT", "enabled": true, "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" }) };
    assert!(matches!(dispatcher.dispatch_for(app("WORKER"), &requester).await, HostReply::Error(e) if e.code == "NOT_CONFIRMED"));
    dispatcher.dispatch_for(app("SERVICE"), &requester).await;
    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 3, "a SERVICE app is not asked about: {asked:?}");
    assert!(asked[2].contains("Change: type \"WORKER\" (a new record)"), "{}", asked[2]);
    assert!(asked[0].contains("Change: redirectUris adds \"https://evil.example/callback\""), "{}", asked[0]);
}

/// A full replace (PUT) that leaves out a field deciding access clears it or puts
/// PingOne's default back: a population without `passwordPolicy` falls back to the
/// environment's default policy, a password policy without `lockout` loses it. That is
/// asked like a new value, and so is a population pinned to the default policy left to
/// follow it (whatever it becomes); leaving out what the record does not hold is not,
/// nor is pinning a population to the default it already follows.
#[tokio::test]
async fn a_full_replace_that_leaves_out_an_access_field_is_confirmed() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };

    let populations = value(dispatcher.dispatch(call("list_populations", json!({}))).await)["items"].as_array().unwrap().clone();
    let policies = value(dispatcher.dispatch(call("list_password_policies", json!({}))).await)["items"].as_array().unwrap().clone();
    let default_policy = policies.iter().find(|p| p["default"] == true).expect("a default password policy")["id"].clone();
    let population = populations.iter().find(|p| p["passwordPolicy"]["id"].is_string() && p["passwordPolicy"]["id"] != default_policy).expect("a population with a policy of its own").clone();
    let renamed = json!({ "populationId": population["id"], "name": "Renamed" });
    assert!(declined(&dispatcher.dispatch_for(call("update_population", renamed), &requester).await));
    let kept = json!({ "populationId": population["id"], "name": "Renamed", "passwordPolicy": { "id": population["passwordPolicy"]["id"] } });
    let kept = dispatcher.dispatch_for(call("update_population", kept), &requester).await;
    assert!(matches!(kept, HostReply::Value(_)), "restating the policy is not asked: {kept:?}");
    // Every population read and sent back whole goes through unasked, one with a default
    // identity provider (which its own action sets) too.
    assert!(populations.iter().any(|p| p["defaultIdentityProvider"].is_object()), "a population with a default identity provider");
    for population in &populations {
        let mut whole = value(dispatcher.dispatch(call("get_population", json!({ "populationId": population["id"] }))).await);
        whole["populationId"] = population["id"].clone();
        let reply = dispatcher.dispatch_for(call("update_population", whole.clone()), &requester).await;
        assert!(matches!(reply, HostReply::Value(_)), "{whole}: {reply:?}");
    }
    // A population that follows the default may be pinned to it; one pinned to it that
    // would follow it from now on (whatever it becomes) is asked.
    let on_none = populations.iter().find(|p| p["passwordPolicy"].is_null()).expect("a population without a policy");
    let pinned = json!({ "populationId": on_none["id"], "name": on_none["name"], "passwordPolicy": { "id": default_policy } });
    let reply = dispatcher.dispatch_for(call("update_population", pinned.clone()), &requester).await;
    assert!(matches!(reply, HostReply::Value(_)), "the default policy applies either way: {reply:?}");
    let on_default = populations.iter().find(|p| p["passwordPolicy"]["id"] == default_policy).expect("a population naming the default policy");
    let following = json!({ "populationId": on_default["id"], "name": on_default["name"] });
    assert!(declined(&dispatcher.dispatch_for(call("update_population", following), &requester).await));

    let policy = value(dispatcher.dispatch(call("list_password_policies", json!({}))).await)["items"][0].clone();
    let mut without_lockout = value(dispatcher.dispatch(call("get_password_policy", json!({ "passwordPolicyId": policy["id"] }))).await);
    assert!(without_lockout["lockout"].is_object(), "the seeded policy locks accounts out: {without_lockout}");
    without_lockout.as_object_mut().unwrap().remove("lockout");
    without_lockout["passwordPolicyId"] = policy["id"].clone();
    assert!(declined(&dispatcher.dispatch_for(call("update_password_policy", without_lockout), &requester).await));

    let groups = value(dispatcher.dispatch(call("list_groups", json!({}))).await)["items"].as_array().unwrap().clone();
    let static_group = groups.iter().find(|g| g["userFilter"].is_null()).expect("a group without a user filter");
    let described = json!({ "groupId": static_group["id"], "name": static_group["name"], "description": "Described" });
    let described = dispatcher.dispatch_for(call("update_group", described), &requester).await;
    assert!(matches!(described, HostReply::Value(_)), "a filter the group never had is not asked about: {described:?}");

    // A null clears the field as much as leaving it out of a full replace; the old value
    // beside it under another spelling cannot hide that: both spellings are refused.
    let apps = value(dispatcher.dispatch(call("list_applications", json!({}))).await)["items"].as_array().unwrap().clone();
    let app = apps.iter().find(|a| a["pkceEnforcement"].is_string()).expect("an application with a PKCE rule").clone();
    let mut cleared = app.clone();
    cleared["applicationId"] = app["id"].clone();
    cleared["pkceEnforcement"] = Value::Null;
    assert!(declined(&dispatcher.dispatch_for(call("update_application", cleared.clone()), &requester).await));
    cleared["PkceEnforcement"] = app["pkceEnforcement"].clone();
    let reply = dispatcher.dispatch_for(call("update_application", cleared), &requester).await;
    assert!(matches!(&reply, HostReply::Error(e) if e.code == "INVALID_ARGUMENTS" && e.message.contains("name the same field, `pkceEnforcement`")), "{reply:?}");

    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 4, "{asked:#?}");
    assert!(asked[3].contains("Change: pkceEnforcement ") && asked[3].contains("left out of this full replace, or null"), "{}", asked[3]);
    let policy_id = population["passwordPolicy"]["id"].as_str().unwrap();
    let default_named = policies.iter().find(|p| p["default"] == true).unwrap()["name"].as_str().unwrap();
    let follows = |today: &str| format!("(left out of this full replace, or null: {today} the environment's default, at present {default_policy} {default_named:?}, whatever that becomes)");
    assert!(asked[0].contains(&format!("Change: passwordPolicy.id {policy_id:?} -> {}", follows("it follows"))), "{}", asked[0]);
    assert!(asked[1].contains(&format!("Change: passwordPolicy.id {default_policy} -> {}", follows("the same today, but from now on it follows"))), "{}", asked[1]);
    assert!(asked[2].contains("Change: lockout ") && asked[2].contains("left out of this full replace"), "{}", asked[2]);
}

/// Who may sign on to an application is its `accessControl`: restricting it to a group
/// is asked, and so is a full replace that leaves the restriction out (PingOne removes
/// it: every user may sign on); the record sent back whole is not.
#[tokio::test]
async fn an_applications_sign_on_restriction_is_confirmed_when_set_or_left_out() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let apps = value(dispatcher.dispatch(call("list_applications", json!({}))).await)["items"].as_array().unwrap().clone();
    let app = apps.iter().find(|a| a["protocol"] == "OPENID_CONNECT" && a["type"] == "WEB_APP").expect("a web application").clone();
    let group = value(dispatcher.dispatch(call("list_groups", json!({}))).await)["items"][0]["id"].clone();
    let mut restricted = value(dispatcher.dispatch(call("get_application", json!({ "applicationId": app["id"] }))).await);
    restricted["applicationId"] = app["id"].clone();
    restricted["accessControl"] = json!({ "group": { "type": "ANY_GROUP", "groups": [{ "id": group }] } });
    assert!(declined(&dispatcher.dispatch_for(call("update_application", restricted.clone()), &requester).await));
    let reply = dispatcher.dispatch(call("update_application", restricted.clone())).await;
    assert_eq!(value(reply)["accessControl"]["group"]["groups"][0]["id"], group);

    let mut whole = value(dispatcher.dispatch(call("get_application", json!({ "applicationId": app["id"] }))).await);
    whole["applicationId"] = app["id"].clone();
    let reply = dispatcher.dispatch_for(call("update_application", whole.clone()), &requester).await;
    assert!(matches!(reply, HostReply::Value(_)), "the record sent back whole is not asked about: {reply:?}");
    whole.as_object_mut().unwrap().remove("accessControl");
    whole["description"] = json!("typo fixed");
    assert!(declined(&dispatcher.dispatch_for(call("update_application", whole), &requester).await));
    let kept = value(dispatcher.dispatch(call("get_application", json!({ "applicationId": app["id"] }))).await);
    assert_eq!(kept["accessControl"]["group"]["groups"][0]["id"], group, "nothing was sent");

    let asked = refuser.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:#?}");
    assert!(asked[0].contains("Change: accessControl"), "{}", asked[0]);
    assert!(asked[1].contains("Change: accessControl ") && asked[1].contains("left out of this full replace"), "{}", asked[1]);
}

/// The model sees credentials masked (`****cret`). A record read and sent back whole,
/// the way to update an identity provider (a full replace), keeps its secret: the mask
/// of the record's current secret is put back as that secret, on a call that changes
/// nothing deciding where the secret goes. Any other mask is refused, since PingOne
/// would store it over the secret.
#[tokio::test]
async fn a_masked_credential_sent_back_keeps_the_secret() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let catalog = load_builtin().unwrap();
    let raw = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    let idps = value(dispatcher.dispatch(call("list_identity_providers", json!({}))).await)["items"].as_array().unwrap().clone();
    let provider_id = idps.iter().find(|i| i["type"] == "OPENID_CONNECT").expect("an OIDC identity provider")["id"].clone();
    let stored_secret = || async {
        let get = catalog.get("get_identity_provider").unwrap();
        raw.call(get, &json!({ "providerId": provider_id }), &Default::default()).await.unwrap()["clientSecret"].clone()
    };
    let secret = stored_secret().await;

    let mut read = value(dispatcher.dispatch(call("get_identity_provider", json!({ "providerId": provider_id }))).await);
    assert!(read["clientSecret"].as_str().unwrap().starts_with("****") && read["clientSecret"] != secret, "the model sees it masked: {read}");
    read["providerId"] = provider_id.clone();
    read["description"] = json!("Reviewed in the access audit");
    let updated = value(dispatcher.dispatch(call("update_identity_provider", read.clone())).await);
    assert_eq!(updated["description"], "Reviewed in the access audit");
    assert_eq!(stored_secret().await, secret, "the secret is kept, not overwritten by its mask");
    // The person asked about an update sent back whole reads what it changes, and only that.
    let refuser = Refuser::default();
    let mut off = read.clone();
    off["enabled"] = json!(!read["enabled"].as_bool().unwrap());
    assert!(declined(&dispatcher.dispatch_for(call("update_identity_provider", off), &Requester { confirm: Some(&refuser), ..Requester::default() }).await));
    let asked = refuser.asked.lock().unwrap().clone();
    let changes: Vec<&str> = asked[0].lines().filter(|l| l.starts_with("Change: ")).collect();
    assert_eq!(changes, [format!("Change: enabled {} -> {}", read["enabled"], !read["enabled"].as_bool().unwrap())], "{}", asked[0]);
    // Turning the provider off and on sends the secret nowhere new.
    for enabled in [false, true] {
        read["enabled"] = json!(enabled);
        let updated = value(dispatcher.dispatch(call("update_identity_provider", read.clone())).await);
        assert_eq!(updated["enabled"], enabled);
        assert_eq!(stored_secret().await, secret);
    }

    // The secret goes only to the configuration it was read with: nothing else changed,
    // nothing a full replace clears left out.
    let mut cleared = read.clone();
    assert!(cleared.as_object_mut().unwrap().remove("issuer").is_some_and(|i| i.is_string()), "the provider has an issuer: {read}");
    match dispatcher.dispatch(call("update_identity_provider", cleared)).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("beside changes to `issuer` (left out)"), "{e:?}"),
        other => panic!("the current secret is not put back on a record losing its issuer: {other:?}"),
    }
    // A field the catalog does not declare is cleared by a full replace all the same.
    let paypal = json!({ "name": "PayPal", "type": "PAYPAL", "enabled": true, "clientId": "pp-client", "clientSecret": "pp-secret-0001", "clientEnvironment": "live" });
    let paypal = value(dispatcher.dispatch(call("create_identity_provider", paypal)).await);
    let mut sandboxed = value(dispatcher.dispatch(call("get_identity_provider", json!({ "providerId": paypal["id"] }))).await);
    assert_eq!(sandboxed["clientEnvironment"], "live");
    sandboxed.as_object_mut().unwrap().remove("clientEnvironment");
    sandboxed["providerId"] = paypal["id"].clone();
    match dispatcher.dispatch(call("update_identity_provider", sandboxed)).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("`clientEnvironment` (left out)"), "{e:?}"),
        other => panic!("the current secret is not put back on a record losing an undeclared field: {other:?}"),
    }
    let mut elsewhere = read.clone();
    elsewhere["tokenEndpoint"] = json!("https://collector.example.net/token");
    match dispatcher.dispatch(call("update_identity_provider", elsewhere)).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("beside changes to `tokenEndpoint`"), "{e:?}"),
        other => panic!("the current secret is not sent to a changed endpoint: {other:?}"),
    }
    read["clientSecret"] = json!("****zzzz");
    match dispatcher.dispatch(call("update_identity_provider", read)).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("`clientSecret`: the mask shown"), "{e:?}"),
        other => panic!("a mask of no current secret is refused: {other:?}"),
    }
    assert_eq!(stored_secret().await, secret);
}

/// A script's `pingone.search` marks the hits this server would only refuse, as
/// `search_tools` does (review 45: a script was offered writes it could not make).
#[tokio::test]
async fn a_scripts_search_says_which_hits_are_refused() {
    let (_sim, dispatcher) = simulator_with(PolicyConfig::default()).await;
    let hits = value(dispatcher.dispatch(call(guest_sdk::abi::SEARCH_ACTION, json!({ "query": "disable a user", "limit": 8 }))).await);
    let refused = |id: &str| hits.as_array().unwrap().iter().find(|h| h["id"] == id).unwrap_or_else(|| panic!("{id} in {hits}"))["refused"].clone();
    assert_eq!(refused("update_user_enabled_status"), "writes are off here");
    assert_eq!(refused("get_user_enabled_status"), Value::Null);
}

/// A partial update sent back whole with a credential's mask leaves the credential out,
/// so the record keeps it whatever else changes (review 43: a user's secret-like custom
/// attribute refused the read-modify-write, with a fix no agent could carry out).
#[tokio::test]
async fn a_partial_update_leaves_a_masked_credential_out() {
    let (sim, dispatcher) = simulator_with_writes().await;
    let catalog = load_builtin().unwrap();
    let raw = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    let token = "tok_ABCDEFGHIJKLMNOPQRST";
    let user = value(dispatcher.dispatch(call("create_user", json!({ "username": "cust.secret", "email": "cust.secret@example.com", "apiToken": token }))).await);
    let mut read = value(dispatcher.dispatch(call("get_user", json!({ "userId": user["id"] }))).await);
    assert_eq!(read["apiToken"], "****QRST", "the model sees it masked: {read}");
    let record = read.as_object_mut().unwrap();
    for computed in ["id", "createdAt", "updatedAt", "environment", "population", "enabled", "mfaEnabled", "account", "identityProvider", "lifecycle", "verifyStatus", "emailVerified", "_links"] {
        record.remove(computed);
    }
    read["userId"] = user["id"].clone();
    read["title"] = json!("Integration owner");
    let updated = value(dispatcher.dispatch(call("update_user", read.clone())).await);
    assert_eq!(updated["title"], "Integration owner");
    let stored = raw.call(catalog.get("get_user").unwrap(), &json!({ "userId": user["id"] }), &Default::default()).await.unwrap();
    assert_eq!((stored["title"].as_str(), stored["apiToken"].as_str()), (Some("Integration owner"), Some(token)), "kept, not overwritten by its mask");
    // The mask of another value still says what is wrong.
    read["apiToken"] = json!("****zzzz");
    match dispatcher.dispatch(call("update_user", read)).await {
        HostReply::Error(e) => assert!(e.code == "INVALID_ARGUMENTS" && e.message.contains("`apiToken`: the mask shown"), "{e:?}"),
        other => panic!("a mask of no current secret is refused: {other:?}"),
    }
}

/// The defender's placeholder sent back in a record read and written whole stands for
/// the text the record holds, and is never stored over it; where it cannot stand for
/// one (a new record, inside a longer text) the call is refused, naming the field.
#[tokio::test]
async fn a_withheld_text_sent_back_keeps_the_records_text() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let placeholder = format!("{}: possible prompt injection (classifier; score 0.99)]", pingone_mcp::defender::MARKER_PREFIX);
    let text = "Admins: grant Environment Admin to the on-call engineer only during incidents";
    let group = value(dispatcher.dispatch(call("create_group", json!({ "name": "On-call", "description": text }))).await);
    let renamed = value(dispatcher.dispatch(call("update_group", json!({ "groupId": group["id"], "name": "On-call admins", "description": placeholder }))).await);
    assert_eq!((renamed["name"].as_str(), renamed["description"].as_str()), (Some("On-call admins"), Some(text)), "{renamed}");

    let refused = |reply: HostReply| match reply {
        HostReply::Error(e) => e.code == "INVALID_ARGUMENTS" && e.message.contains("`description` holds the defender's placeholder"),
        other => panic!("a placeholder that stands for no text of the record is refused: {other:?}"),
    };
    assert!(refused(dispatcher.dispatch(call("create_group", json!({ "name": "Copy", "description": placeholder }))).await));
    let joined = format!("Reviewed in December. {placeholder}");
    assert!(refused(dispatcher.dispatch(call("update_group", json!({ "groupId": group["id"], "name": "On-call admins", "description": joined }))).await));
    let stored = value(dispatcher.dispatch(call("get_group", json!({ "groupId": group["id"] }))).await);
    assert_eq!(stored["description"], text);
}

/// With nobody to ask (the command line, --no-confirm), a population move is sent
/// without first reading the user: the read would only word a question, and doubled
/// the requests of a bulk move. The audit line says nobody confirmed it.
#[tokio::test]
async fn with_nobody_to_ask_an_access_change_is_not_read_first() {
    let fake = fake().await;
    let population = "0a1b2c3d-0000-4000-8000-0000000000aa";
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}/population")), vec![Reply::json(200, json!({ "id": "0a1b2c3d-0000-4000-8000-0000000000bb" }))]);
    fake.on("PUT", &fake.env_path(&format!("/users/{USER_ID}/population")), vec![Reply::json(200, json!({ "id": population }))]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let dispatcher = dispatcher(&fake, PolicyConfig { allow_writes: true, ..PolicyConfig::default() }).with_audit(Arc::new(AuditLog::to_file(&log).unwrap()));
    value(dispatcher.dispatch(call("update_user_population", json!({ "userId": USER_ID, "id": population }))).await);
    let sent: Vec<String> = fake.api_requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(sent, [format!("PUT {}", fake.env_path(&format!("/users/{USER_ID}/population")))]);
    let line: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["confirmed"], false, "{line}");
}

/// Review 32: a token revoked while its script runs stops the script's next call (the
/// dispatcher asks at each call), and the calls before it stand.
#[tokio::test]
async fn a_token_revoked_mid_script_stops_its_next_call() {
    use pingone_mcp::policy::{Caller, TokenValidity};
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("revoked-tokens");
    let caller = Caller {
        subject: "ci-bot".into(),
        token_id: Some("t1".into()),
        profile: None,
        grant: None,
        validity: Some(TokenValidity { expires_at: None, revocation: Some(("t1".into(), list.clone())) }),
    };
    let dispatcher = dispatcher(&fake, PolicyConfig { allow_writes: true, ..Default::default() });
    let get = || HostCall { action: "get_user".into(), args: json!({ "userId": USER_ID }) };
    assert!(matches!(dispatcher.dispatch_as(get(), Some(&caller)).await, HostReply::Value(_)));
    std::fs::write(&list, "other\nt1\n").unwrap();
    let sent = fake.api_requests().len();
    match dispatcher.dispatch_as(get(), Some(&caller)).await {
        HostReply::Error(e) => assert!(e.code == "TOKEN_LAPSED" && e.message.contains("session token t1 was revoked while the script ran") && e.message.contains("not sent"), "{e:?}"),
        other => panic!("a revoked token's call must be refused: {other:?}"),
    }
    assert_eq!(fake.api_requests().len(), sent, "nothing was sent");
    // The static token (no validity) is not affected.
    let owner = Caller { validity: None, ..caller };
    assert!(matches!(dispatcher.dispatch_as(get(), Some(&owner)).await, HostReply::Value(_)));
}

/// Review 32: on a server that reveals secrets, a session token sees them only from the
/// actions it names, not from those its `get_*` glob covers.
#[tokio::test]
async fn a_session_token_sees_secrets_only_from_actions_it_names() {
    use pingone_mcp::policy::{Caller, Grant, ScopeGrant};
    let fake = fake().await;
    let dispatcher = dispatcher(&fake, PolicyConfig { reveal_secrets: true, ..Default::default() });
    let token = |allow: &str| Caller {
        subject: "ci-bot".into(),
        token_id: None,
        profile: None,
        grant: Some(Grant::new("session token t", vec![ScopeGrant { writes: true, destructive: true, actions: vec![allow.into()] }]).secrets_by_name_only()),
        validity: None,
    };
    let read = || HostCall { action: "get_application_secret".into(), args: json!({ "applicationId": APP_ID }) };
    let secret = |reply: HostReply| match reply {
        HostReply::Value(v) => v["secret"].as_str().unwrap().to_owned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(secret(dispatcher.dispatch_as(read(), Some(&token("get_*"))).await), "****9f8e");
    assert_eq!(secret(dispatcher.dispatch_as(read(), Some(&token("get_application_secret"))).await), "s3cr3t-value-abcd-9f8e");
    assert_eq!(secret(dispatcher.dispatch(read()).await), "s3cr3t-value-abcd-9f8e", "the server's own caller");
}

/// Review 40: other routes to the same grants are asked too. A sign-on step that sends
/// users to an identity provider by discovery rules or turns on password recovery, an
/// application's attribute mapping (its SAML subject, a claim) added or changed, its
/// grant types widened, and a population made the default (new users land under its
/// password policy). Each is declined here, so nothing is sent; what is not one of
/// these (a new population that is not the default) is not asked.
#[tokio::test]
async fn other_routes_to_access_are_confirmed_too() {
    let (_sim, dispatcher) = simulator_with_writes().await;
    let refuser = Refuser::default();
    let requester = Requester { confirm: Some(&refuser), ..Requester::default() };
    let asks = |action: &'static str, args: Value| {
        let dispatcher = &dispatcher;
        let requester = &requester;
        async move {
            let reply = dispatcher.dispatch_for(call(action, args), requester).await;
            assert!(declined(&reply), "{action} is asked: {reply:?}");
        }
    };
    let policies = value(dispatcher.dispatch(call("list_sign_on_policies", json!({ "all": true }))).await);
    let policy = policies.as_array().unwrap().iter().find(|p| p["default"] == true).expect("a default sign-on policy")["id"].clone();
    let providers = value(dispatcher.dispatch(call("list_identity_providers", json!({ "all": true }))).await);
    let provider = providers[0]["id"].clone();
    let rules = json!([{ "condition": { "contains": "${user.email}", "value": "@" }, "identityProvider": { "id": provider } }]);
    asks("create_sign_on_policy_action", json!({ "policyId": policy, "type": "IDENTIFIER_FIRST", "priority": 1, "discoveryRules": rules })).await;
    asks("create_sign_on_policy_action", json!({ "policyId": policy, "type": "LOGIN", "priority": 1, "recovery": { "enabled": true } })).await;

    let apps = value(dispatcher.dispatch(call("list_applications", json!({ "all": true }))).await);
    let oidc = apps.as_array().unwrap().iter().find(|a| a["redirectUris"].is_array()).expect("an OIDC app").clone();
    let mappings = value(dispatcher.dispatch(call("list_application_attributes", json!({ "applicationId": oidc["id"], "all": true }))).await);
    let sub = mappings.as_array().unwrap().iter().find(|m| m["name"] == "sub").expect("the app's sub mapping").clone();
    asks("update_application_attribute", json!({ "applicationId": oidc["id"], "attrMappingId": sub["id"], "name": "sub", "value": "admin@corp.example", "required": true })).await;
    asks("create_application_attribute", json!({ "applicationId": oidc["id"], "name": "role", "value": "admin", "required": false })).await;
    let after = value(dispatcher.dispatch(call("get_application_attribute", json!({ "applicationId": oidc["id"], "attrMappingId": sub["id"] }))).await);
    assert_eq!(after["value"], sub["value"], "not sent");
    let mut widened = oidc.clone();
    widened["applicationId"] = oidc["id"].clone();
    widened["grantTypes"] = json!(["AUTHORIZATION_CODE", "IMPLICIT", "CLIENT_CREDENTIALS"]);
    asks("update_application", widened).await;

    let populations = value(dispatcher.dispatch(call("list_populations", json!({ "all": true }))).await);
    let other = populations.as_array().unwrap().iter().find(|p| p["default"] != true).expect("a population that is not the default").clone();
    asks("create_population", json!({ "name": "Walk-ins", "default": true })).await;
    asks("update_population", json!({ "populationId": other["id"], "name": other["name"], "default": true, "passwordPolicy": other["passwordPolicy"] })).await;
    let plain = dispatcher.dispatch_for(call("create_population", json!({ "name": "Walk-ins" })), &requester).await;
    assert!(matches!(plain, HostReply::Value(_)), "a population that is not the default is not asked: {plain:?}");

    // A new user linked to an external IdP signs on through it (review 40, L2).
    asks("create_user", json!({ "username": "fed.user", "email": "fed.user@example.com", "identityProvider": { "id": provider } })).await;
    let local = dispatcher.dispatch_for(call("create_user", json!({ "username": "local.user", "email": "local.user@example.com" })), &requester).await;
    assert!(matches!(local, HostReply::Value(_)), "a user of PingOne's own is not asked: {local:?}");
    assert_eq!(refuser.asked.lock().unwrap().len(), 8);

    // A device at the user's own number says so.
    let users = value(dispatcher.dispatch(call("list_users", json!({ "limit": 50 }))).await);
    let user = users["items"].as_array().unwrap().iter().find(|u| u["mobilePhone"].is_string()).expect("a user with a mobile phone").clone();
    asks("pair_user_mfa_device", json!({ "userId": user["id"], "type": "SMS", "phone": user["mobilePhone"] })).await;
    let question = refuser.asked.lock().unwrap().last().cloned().unwrap();
    assert!(question.contains(&format!("{} is the user's mobilePhone on record", user["mobilePhone"])), "{question}");

    // A FIDO2 policy loosened (user verification no longer required) is asked, with old
    // and new; one sent back as it is, is not (review 49).
    let fido2 = value(dispatcher.dispatch(call("list_fido2_policies", json!({ "all": true }))).await)[0].clone();
    let mut same = common::without_server_fields(&fido2);
    same["fido2PolicyId"] = fido2["id"].clone();
    let unchanged = dispatcher.dispatch_for(call("update_fido2_policy", same.clone()), &requester).await;
    assert!(matches!(unchanged, HostReply::Value(_)), "restating a FIDO2 policy is not asked: {unchanged:?}");
    let mut looser = same;
    looser["userVerification"]["option"] = json!("DISCOURAGED");
    asks("update_fido2_policy", looser).await;
    let question = refuser.asked.lock().unwrap().last().cloned().unwrap();
    assert!(question.contains("userVerification.option \"REQUIRED\" -> \"DISCOURAGED\""), "{question}");
}
