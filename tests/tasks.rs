//! Multi-step administration tasks as agents write them: real scripts, the real
//! sandbox, the real client, against the built-in simulator over loopback HTTP.

mod common;

use std::sync::Arc;

use pingone_mcp::catalog::load_builtin;
use pingone_mcp::dispatch::{Backend, Dispatcher};
use pingone_mcp::pingone::{PingOneClient, RetryPolicy};
use pingone_mcp::policy::Policy;
use pingone_mcp::sandbox::{Execution, Limits};
use pingone_mcp::search::SearchIndex;
use pingone_mcp::simulator::{Simulator, SimulatorConfig};
use serde_json::{json, Value};

async fn simulator(users: usize) -> (Simulator, Arc<Dispatcher>) {
    let sim = Simulator::start(SimulatorConfig { users, ..SimulatorConfig::default() }, 0).await.unwrap();
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let client = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    let dispatcher = Dispatcher::new(catalog, search, Backend::Live(client)).with_policy(Policy::permissive());
    (sim, Arc::new(dispatcher))
}

async fn run(script: &str, host: &Arc<Dispatcher>) -> Execution {
    common::sandbox().await.execute(script, json!({}), host.clone(), &Limits::default()).await
}

fn ok(execution: &Execution) -> Value {
    execution.outcome.clone().unwrap_or_else(|e| panic!("script failed: {e}\nlogs: {:?}", execution.logs))
}

#[tokio::test]
async fn re_enable_the_disabled_users_of_a_population() {
    let (_sim, host) = simulator(300).await;
    let script = r#"
        const populations = await pingone.list_populations({ all: true });
        // The population with the most disabled users.
        const counts = await Promise.all(populations.map(async p => {
          const users = await pingone.list_users({ filter: `population.id eq "${p.id}" and enabled eq false`, all: true });
          return { population: p, users };
        }));
        const target = counts.sort((a, b) => b.users.length - a.users.length)[0];
        await Promise.all(target.users.map(u => pingone.update_user_enabled_status({ userId: u.id, enabled: true })));
        const left = await pingone.list_users({ filter: `population.id eq "${target.population.id}" and enabled eq false`, all: true });
        return { population: target.population.name, reEnabled: target.users.length, stillDisabled: left.length };
    "#;
    let out = ok(&run(script, &host).await);
    assert!(out["reEnabled"].as_u64().unwrap() > 0, "the seed has disabled users: {out}");
    assert_eq!(out["stillDisabled"], 0, "{out}");
}

#[tokio::test]
async fn move_every_member_of_a_group_to_another_population() {
    let (_sim, host) = simulator(300).await;
    let script = r#"
        const groups = await pingone.list_groups({ all: true });
        let group, members = [];
        for (const g of groups) {
          members = await pingone.list_users({ filter: `memberOfGroups[id eq "${g.id}"]`, all: true });
          if (members.length > 0) { group = g; break; }
        }
        const target = await pingone.create_population({ name: 'Moved from ' + group.name });
        for (const u of members) await pingone.update_user_population({ userId: u.id, id: target.id });
        const moved = await pingone.list_users({ filter: `population.id eq "${target.id}"`, all: true });
        return { group: group.name, members: members.length, inTarget: moved.length,
                 sameUsers: members.map(m => m.id).sort().join() === moved.map(m => m.id).sort().join() };
    "#;
    let out = ok(&run(script, &host).await);
    assert!(out["members"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(out["members"], out["inTarget"], "{out}");
    assert_eq!(out["sameUsers"], true, "{out}");
}

#[tokio::test]
async fn rotate_an_application_secret_and_retire_the_old_one() {
    let (_sim, host) = simulator(50).await;
    let script = r#"
        const apps = await pingone.list_applications({ all: true });
        const app = apps.find(a => a.protocol === 'OPENID_CONNECT' && a.type !== 'WORKER') ?? apps.find(a => a.protocol === 'OPENID_CONNECT');
        const before = await pingone.get_application_secret({ applicationId: app.id });
        const rotated = await pingone.generate_application_secret({ applicationId: app.id, previous: { expiresAt: new Date(Date.now() + 86400000).toISOString() } });
        const during = await pingone.get_application_secret({ applicationId: app.id });
        await pingone.delete_application_secret({ applicationId: app.id });
        const after = await pingone.get_application_secret({ applicationId: app.id });
        return { changed: rotated.secret !== before.secret, previousKept: !!during.previous, previousGone: !after.previous };
    "#;
    let out = ok(&run(script, &host).await);
    assert_eq!(out, json!({ "changed": true, "previousKept": true, "previousGone": true }));
}

#[tokio::test]
async fn pingone_rules_surface_as_catchable_errors() {
    let (_sim, host) = simulator(50).await;
    let script = r#"
        const [someone] = (await pingone.list_users({ limit: 1 })).items;
        const attempt = async (f) => { try { await f(); return 'ok' } catch (e) { return [e.status, e.code, e.details[0]?.code].filter(Boolean).join(' ') } };
        const populations = await pingone.list_populations({ all: true });
        const busy = populations.find(p => p.userCount > 0) ?? populations[0];
        return {
          duplicate: await attempt(() => pingone.create_user({ username: someone.username, email: 'x@example.com', population: { id: busy.id } })),
          missing: await attempt(() => pingone.get_user({ userId: '00000000-0000-4000-8000-000000000000' })),
          badFilter: await attempt(() => pingone.list_users({ filter: 'username eqq "x"' })),
        };
    "#;
    let out = ok(&run(script, &host).await);
    // PingOne's shape: a top-level code, the specific one in details.
    assert_eq!(out["duplicate"], "400 INVALID_DATA UNIQUENESS_VIOLATION", "{out}");
    assert_eq!(out["missing"], "404 NOT_FOUND", "{out}");
    assert_eq!(out["badFilter"], "400 INVALID_DATA INVALID_FILTER", "{out}");
}

#[tokio::test]
async fn injected_text_in_records_is_withheld_before_it_reaches_the_model() {
    use pingone_mcp::defender::{Defender, Mode, DEFAULT_THRESHOLD};
    let (_sim, host) = simulator(50).await;
    let script = "const groups = await pingone.list_groups({ all: true });
                  console.log('support says: ' + groups.find(g => g.name === 'Support').description);
                  return groups.map(g => ({ name: g.name, description: g.description }));";
    let execution = run(script, &host).await;
    let defender = Arc::new(Defender::load(Mode::Patterns, DEFAULT_THRESHOLD));
    let screened = pingone_mcp::mcp::screen(execution, &defender, Default::default(), pingone_mcp::mcp::Reader::Agent).await;
    let groups = ok(&screened);
    let support = groups.as_array().unwrap().iter().find(|g| g["name"] == "Support").unwrap();
    assert!(support["description"].as_str().unwrap().starts_with("[withheld by pingone-mcp defender"), "{support}");
    let engineering = groups.as_array().unwrap().iter().find(|g| g["name"] == "Engineering").unwrap();
    assert_eq!(engineering["description"], "Engineers and engineering managers", "benign text passes untouched");
    assert!(screened.logs[0].message.contains("[withheld by pingone-mcp defender"), "the console is scanned too: {:?}", screened.logs);
    let notice = screened.logs.iter().find(|l| l.message.contains("2 string(s) withheld")).unwrap_or_else(|| panic!("{:?}", screened.logs));
    assert!(notice.message.contains("$.logs[0]") && notice.message.contains("].description"), "where, in the result and the console: {}", notice.message);
}

/// What an agent writes first for a full-replace update: the record its get
/// returned, spread back with one field changed. The record's read-only fields are
/// dropped; an `id` naming another record is still refused, once, by name.
#[tokio::test]
async fn an_update_takes_back_the_record_its_get_returned() {
    let (_sim, host) = simulator(10).await;
    let script = r#"
        const [policy] = (await pingone.list_password_policies({})).items;
        const current = await pingone.get_password_policy({ passwordPolicyId: policy.id });
        const updated = await pingone.update_password_policy({ ...current, passwordPolicyId: policy.id, length: { ...current.length, min: 14 } });
        let wrongId;
        try {
          await pingone.update_password_policy({ ...current, id: 'another-policy', createdAt: 'x', passwordPolicyId: policy.id });
        } catch (e) { wrongId = e.message }
        // An open-bodied update (custom attributes pass through) spread from another record.
        const [a, b] = (await pingone.list_users({ limit: 2 })).items;
        const userA = await pingone.get_user({ userId: a.id });
        let spread;
        try { await pingone.update_user({ ...userA, userId: b.id }) } catch (e) { spread = e.message }
        // A PATCH takes what changes: fields with their own actions are refused by name.
        let ownActions;
        try { await pingone.update_user({ ...userA, userId: a.id, title: 'Auditor' }) } catch (e) { ownActions = e.message }
        let otherCase;
        try { await pingone.update_user({ userId: a.id, Enabled: false }) } catch (e) { otherCase = e.message }
        let lockState;
        try { await pingone.update_user({ userId: a.id, account: { status: 'OK' } }) } catch (e) { lockState = e.message }
        const sameUser = await pingone.update_user({ userId: a.id, title: 'Auditor' });
        // Two more records whose gets carry fields no update takes (a role's type) or
        // that the update requires in full (every method block of an MFA policy).
        const role = await pingone.create_custom_role({ name: 'Auditor', description: 'reads', applicableTo: ['ENVIRONMENT'], canBeAssignedBy: [{ id: (await pingone.list_system_roles({})).items[0].id }], permissions: [{ id: 'identity:read:user' }] });
        const roleBack = await pingone.update_custom_role({ ...(await pingone.get_custom_role({ customRoleId: role.id })), customRoleId: role.id, description: 'reads users' });
        const [dap] = (await pingone.list_device_authentication_policies({})).items;
        const dapBack = await pingone.update_device_authentication_policy({ ...(await pingone.get_device_authentication_policy({ deviceAuthenticationPolicyId: dap.id })), deviceAuthenticationPolicyId: dap.id, name: 'Renamed MFA' });
        return { links: '_links' in current, min: updated.length.min, name: updated.name === current.name, wrongId, spread, ownActions, otherCase, lockState, title: sameUser.title, role: roleBack.description, dap: dapBack.name };
    "#;
    let out = ok(&run(script, &host).await);
    assert_eq!(out["links"], false, "a single record comes without its navigation links: {out}");
    assert_eq!(out["min"], 14, "{out}");
    assert_eq!(out["name"], true, "{out}");
    let wrong_id = out["wrongId"].as_str().unwrap();
    assert!(wrong_id.contains("unknown argument `id` (expected passwordPolicyId,"), "{wrong_id}");
    assert_eq!(wrong_id.matches("expected").count(), 1, "the expected names are listed once: {wrong_id}");
    let spread = out["spread"].as_str().unwrap_or_else(|| panic!("another user's record was sent as this one's update: {out}"));
    assert!(spread.contains("`id` is") && spread.contains("not the record the path names (`userId`)"), "{spread}");
    let own_actions = out["ownActions"].as_str().unwrap_or_default();
    assert!(own_actions.contains("`enabled` (update_user_enabled_status)") && own_actions.contains("`population` (update_user_population)") && own_actions.contains("pass only the fields to change"), "{own_actions}");
    assert!(out["otherCase"].as_str().unwrap_or_default().contains("`enabled` (update_user_enabled_status)"), "another spelling is the same field: {out}");
    assert!(out["lockState"].as_str().unwrap_or_default().contains("`account` (unlock_user)"), "a lock is not lifted by a PATCH that does nothing: {out}");
    assert_eq!(out["title"], "Auditor", "{out}");
    assert_eq!((&out["role"], &out["dap"]), (&json!("reads users"), &json!("Renamed MFA")), "{out}");
}

/// An uncaught PingOne error says what its details say, not only PingOne's general
/// "validation errors" message: the agent learns which value to change.
#[tokio::test]
async fn an_uncaught_pingone_error_names_what_was_wrong() {
    let (_sim, host) = simulator(5).await;
    let script = "const [a, b] = (await pingone.list_users({ limit: 2 })).items;
                  await pingone.update_user({ userId: b.id, username: a.username })";
    let execution = run(script, &host).await;
    let message = execution.outcome.expect_err("a taken username is refused").to_string();
    assert!(message.contains("update_user failed: 400 INVALID_DATA") && message.contains("(username: a user with username `"), "{message}");
}
