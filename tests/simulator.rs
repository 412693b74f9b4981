//! The simulator against the real client, over loopback HTTP: every catalog action,
//! filters, pagination, PingOne's referential rules, tokens, and each fault knob.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use pingone_mcp::catalog::{load_builtin, Catalog, ParamLocation};
use pingone_mcp::pingone::{CallOptions, ClientError, PingOneClient, RetryPolicy};
use pingone_mcp::simulator::{EnvironmentType, FaultKind, FaultRule, Faults, Simulator, SimulatorConfig, Trigger, INJECTIONS};
use common::without_server_fields;
use serde_json::{json, Value};

/// The 113 action ids of `../shared/ACTIONS.md`.
const ALL_ACTIONS: [&str; 113] = [
    "import_certificate", "list_certificates", "create_population", "list_populations", "get_population", "update_population", "delete_population",
    "get_population_default_identity_provider", "update_population_default_identity_provider", "create_user", "list_users", "get_user", "update_user", "delete_user",
    "get_user_enabled_status", "update_user_enabled_status", "get_user_population", "update_user_population", "create_user_role_assignment", "list_user_role_assignments",
    "get_user_role_assignment", "delete_user_role_assignment", "get_user_identity_provider", "update_user_identity_provider", "get_user_verify_status", "update_user_verify_status",
    "create_group", "list_groups", "get_group", "update_group", "delete_group", "list_group_nested_groups", "get_group_nested_group", "create_group_role_assignment",
    "list_group_role_assignments", "get_group_role_assignment", "delete_group_role_assignment", "create_application", "list_applications", "get_application", "update_application",
    "delete_application", "get_application_secret", "delete_application_secret", "create_application_grant", "list_application_grants", "get_application_grant",
    "update_application_grant", "delete_application_grant", "create_application_sign_on_policy_assignment", "list_application_sign_on_policy_assignments",
    "get_application_sign_on_policy_assignment", "update_application_sign_on_policy_assignment", "delete_application_sign_on_policy_assignment",
    "create_application_role_assignment", "list_application_role_assignments", "get_application_role_assignment", "delete_application_role_assignment",
    "create_application_attribute", "list_application_attributes", "get_application_attribute", "update_application_attribute", "delete_application_attribute",
    "list_system_roles", "get_system_role", "create_custom_role", "list_custom_roles", "get_custom_role", "update_custom_role", "delete_custom_role", "create_password_policy",
    "get_password_policy", "update_password_policy", "delete_password_policy", "create_identity_provider", "list_identity_providers", "get_identity_provider",
    "update_identity_provider", "delete_identity_provider", "create_identity_provider_attribute", "list_identity_provider_attributes", "get_identity_provider_attribute",
    "update_identity_provider_attribute", "delete_identity_provider_attribute", "create_sign_on_policy", "get_sign_on_policy", "update_sign_on_policy", "delete_sign_on_policy",
    "list_user_mfa_devices", "get_user_mfa_device", "delete_user_mfa_device", "get_user_mfa_enabled", "update_user_mfa_enabled", "create_device_authentication_policy",
    "get_device_authentication_policy", "update_device_authentication_policy", "delete_device_authentication_policy", "add_user_to_group", "add_group_to_group",
    "get_current_user_info", "get_user_password_metadata", "list_user_groups", "get_user_group_membership", "get_user_activities", "list_password_policies",
    "list_sign_on_policies", "list_device_authentication_policies", "set_user_password", "update_user_mfa_device_nickname", "remove_user_from_group",
    "remove_group_from_group", "generate_application_secret", "pair_user_mfa_device",
];

const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUU2ltdWxhdGVkIGNlcnRpZmljYXRlMAoGCCqGSM49BAMC\n-----END CERTIFICATE-----\n";

fn fast_retries() -> RetryPolicy {
    RetryPolicy { max_retries: 4, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40), max_retry_after: Duration::from_secs(5) }
}

struct Harness {
    sim: Simulator,
    client: PingOneClient,
    catalog: Catalog,
    called: BTreeSet<String>,
}

impl Harness {
    async fn new(config: SimulatorConfig) -> Self {
        let sim = Simulator::start(config, 0).await.expect("the simulator starts");
        let client = PingOneClient::new(sim.connection(), fast_retries()).expect("a client");
        let catalog = load_builtin().expect("the built-in catalog loads");
        Self { sim, client, catalog, called: BTreeSet::new() }
    }

    async fn users(n: usize) -> Self {
        Self::new(SimulatorConfig { users: n, ..SimulatorConfig::default() }).await
    }

    async fn try_call(&mut self, id: &str, args: Value) -> Result<Value, ClientError> {
        let action = self.catalog.get(id).unwrap_or_else(|| panic!("action `{id}` is not in the catalog"));
        self.called.insert(id.to_owned());
        self.client.call(action, &args, &CallOptions::default()).await
    }

    /// Calls an action, fails the test on error, and checks the result's shape.
    async fn call(&mut self, id: &str, args: Value) -> Value {
        let value = match self.try_call(id, args.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{id}({args}) failed: {e}"),
        };
        let action = self.catalog.get(id).expect("checked above").clone();
        if action.is_list() && args.get("all") != Some(&json!(true)) {
            assert!(value["items"].is_array(), "{id}: a list result has items: {value}");
            assert!(value["count"].is_u64(), "{id}: a list result has a count: {value}");
        } else if action.method.as_str() == "DELETE" {
            assert_eq!(value, Value::Null, "{id}: a delete answers 204, which is the null its `void` signature declares");
        } else if !action.is_list() {
            let keys: Vec<&String> = action.result.keys().collect();
            let present = keys.iter().filter(|k| value.get(k.as_str()).is_some()).count();
            assert!(keys.is_empty() || present > 0, "{id}: none of the result fields {keys:?} are in {value}");
            if action.result.contains_key("id") && !id.contains("default_identity_provider") {
                assert!(value["id"].is_string(), "{id}: the result has an id: {value}");
            }
        }
        value
    }

    async fn fails(&mut self, id: &str, args: Value) -> (u16, Value) {
        match self.try_call(id, args.clone()).await {
            Ok(v) => panic!("{id}({args}) should fail but returned {v}"),
            Err(e) => {
                let j = e.to_json();
                (e.status().unwrap_or(0), j)
            }
        }
    }

    async fn items(&mut self, id: &str, args: Value) -> Vec<Value> {
        self.call(id, args).await["items"].as_array().cloned().unwrap_or_default()
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn named<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items.iter().find(|i| i["name"] == json!(name)).unwrap_or_else(|| panic!("no `{name}` in {items:?}"))
}

fn detail_targets(err: &Value) -> Vec<String> {
    err["details"].as_array().into_iter().flatten().filter_map(|d| d["target"].as_str().map(str::to_owned)).collect()
}

const ENVIRONMENT_ADMIN: &str = "8a4e4c5a-0b7c-4d43-9a31-000000000002";

/// A worker that removed its own roles can do nothing more: PingOne answers 403, as it
/// does a worker never given one (review 51).
#[tokio::test]
async fn a_worker_without_roles_is_refused() {
    let mut h = Harness::users(5).await;
    let worker = h.sim.client_id.clone();
    // Environment Admin last: it assigns (and removes) the others, which assign nothing.
    let mut held = h.items("list_application_role_assignments", json!({ "applicationId": worker })).await;
    held.sort_by_key(|a| a["role"]["id"] == json!(ENVIRONMENT_ADMIN));
    for held in held {
        h.call("delete_application_role_assignment", json!({ "applicationId": worker, "roleAssignmentId": id_of(&held) })).await;
    }
    let (status, err) = h.fails("list_groups", json!({})).await;
    assert!(status == 403 && err.to_string().contains("the application has no administrator role in this environment"), "{status} {err}");
}

#[tokio::test]
async fn every_action_against_the_simulator() {
    let mut h = Harness::users(300).await;
    let catalog_ids: BTreeSet<String> = h.catalog.actions().map(|a| a.id.clone()).collect();
    let missing: Vec<&str> = ALL_ACTIONS.iter().copied().filter(|id| !catalog_ids.contains(*id)).collect();
    assert!(missing.is_empty(), "actions of ACTIONS.md missing from the catalog: {missing:?}");

    // Organisation level.
    let roles = h.items("list_system_roles", json!({})).await;
    let data_admin = id_of(named(&roles, "Identity Data Admin"));
    let env_admin = id_of(named(&roles, "Environment Admin"));
    h.call("get_system_role", json!({ "roleId": data_admin })).await;

    // Policies.
    let pps = h.items("list_password_policies", json!({})).await;
    assert!(pps.iter().any(|p| p["default"] == json!(true)));
    let pp = h.call("create_password_policy", json!({ "name": "Test policy", "excludesCommonlyUsed": true, "excludesProfileData": true, "notSimilarToCurrent": true, "length": { "min": 10, "max": 64 } })).await;
    let pp_id = id_of(&pp);
    h.call("get_password_policy", json!({ "passwordPolicyId": pp_id })).await;
    let pp2 = h.call("update_password_policy", json!({ "passwordPolicyId": pp_id, "name": "Test policy 2", "excludesCommonlyUsed": true, "excludesProfileData": false, "notSimilarToCurrent": true, "length": { "min": 10, "max": 64 } })).await;
    assert_eq!(pp2["name"], "Test policy 2");

    let sops = h.items("list_sign_on_policies", json!({})).await;
    assert!(sops.len() >= 3);
    let sop = h.call("create_sign_on_policy", json!({ "name": "Test SOP", "description": "made by the test" })).await;
    let sop_id = id_of(&sop);
    h.call("get_sign_on_policy", json!({ "policyId": sop_id })).await;
    h.call("update_sign_on_policy", json!({ "policyId": sop_id, "name": "Test SOP 2" })).await;

    let daps = h.items("list_device_authentication_policies", json!({})).await;
    assert!(daps.iter().any(|p| p["default"] == json!(true)));

    // A policy's steps, in order; an MFA step names its device authentication policy,
    // which cannot be deleted while a step uses it.
    let multi_factor = sops.iter().find(|p| p["name"] == "Multi_Factor").expect("the seeded Multi_Factor policy");
    let steps = h.items("list_sign_on_policy_actions", json!({ "policyId": id_of(multi_factor) })).await;
    let types: Vec<&str> = steps.iter().filter_map(|s| s["type"].as_str()).collect();
    assert_eq!(types, ["LOGIN", "MULTI_FACTOR_AUTHENTICATION"]);
    let mfa_step = h.call("get_sign_on_policy_action", json!({ "policyId": id_of(multi_factor), "actionId": id_of(&steps[1]) })).await;
    assert_eq!(mfa_step["priority"], 2);
    assert!(daps.iter().any(|d| d["id"] == mfa_step["deviceAuthenticationPolicy"]["id"]), "{mfa_step}");
    let (status, _) = h.fails("get_sign_on_policy_action", json!({ "policyId": sop_id, "actionId": id_of(&steps[1]) })).await;
    assert_eq!(status, 404, "a step is found only under its own policy");
    assert!(h.items("list_sign_on_policy_actions", json!({ "policyId": sop_id })).await.is_empty(), "a new policy has no steps");
    let strict = daps.iter().find(|p| p["name"] == "Strict MFA").expect("the seeded Strict MFA policy");
    let (status, err) = h.fails("delete_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": id_of(strict) })).await;
    assert!(status == 400 && err.to_string().contains("used by 1 sign-on policy action"), "{status} {err}");
    let otp = json!({ "lifeTime": { "duration": 5, "timeUnit": "MINUTES" }, "failure": { "count": 3, "coolDown": { "duration": 2, "timeUnit": "MINUTES" } } });
    let on = json!({ "enabled": true, "otp": otp });
    let off = json!({ "enabled": false, "otp": otp });
    let dap = h.call("create_device_authentication_policy", json!({ "name": "Test MFA", "default": false, "sms": on, "voice": off, "email": on, "mobile": on, "totp": on })).await;
    let dap_id = id_of(&dap);
    h.call("get_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id })).await;
    h.call("update_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id, "name": "Test MFA 2", "default": false, "sms": on, "voice": on, "email": on, "mobile": on, "totp": on })).await;

    // FIDO2 policies: an MFA policy names one; then it cannot go, nor can the default.
    let fido2s = h.items("list_fido2_policies", json!({})).await;
    let passkeys = fido2s.iter().find(|p| p["default"] == json!(true)).expect("a default FIDO2 policy");
    let mut keys = without_server_fields(&h.call("get_fido2_policy", json!({ "fido2PolicyId": id_of(passkeys) })).await);
    keys["name"] = json!("Test keys");
    keys["default"] = json!(false);
    let made = h.call("create_fido2_policy", keys.clone()).await;
    let fido2_id = id_of(&made);
    keys["fido2PolicyId"] = json!(fido2_id);
    keys["userVerification"] = json!({ "option": "DISCOURAGED", "enforceDuringAuthentication": false });
    assert_eq!(h.call("update_fido2_policy", keys).await["userVerification"]["option"], "DISCOURAGED");
    let (status, err) = h.fails("update_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id, "name": "Test MFA 2", "default": false, "sms": on, "voice": on, "email": on, "mobile": on, "totp": on, "fido2": { "enabled": true, "fido2PolicyId": "no-such-policy" } })).await;
    assert!(status == 400 && err.to_string().contains("no FIDO2 policy has id"), "{status} {err}");
    h.call("update_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id, "name": "Test MFA 2", "default": false, "sms": on, "voice": on, "email": on, "mobile": on, "totp": on, "fido2": { "enabled": true, "fido2PolicyId": fido2_id } })).await;
    let (status, err) = h.fails("delete_fido2_policy", json!({ "fido2PolicyId": fido2_id })).await;
    assert!(status == 400 && err.to_string().contains("used by 1 device authentication policy"), "{status} {err}");
    let (status, err) = h.fails("delete_fido2_policy", json!({ "fido2PolicyId": id_of(passkeys) })).await;
    assert!(status == 400 && err.to_string().contains("default FIDO2 policy cannot be deleted"), "{status} {err}");
    h.call("update_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id, "name": "Test MFA 2", "default": false, "sms": on, "voice": on, "email": on, "mobile": on, "totp": on })).await;
    h.call("delete_fido2_policy", json!({ "fido2PolicyId": fido2_id })).await;
    let mut nameless = without_server_fields(&made);
    nameless["name"] = json!("Named by name");
    nameless["userDisplayNameAttributes"] = json!({ "attributes": [{ "name": "username" }, { "name": "name" }] });
    let (status, err) = h.fails("create_fido2_policy", nameless).await;
    assert!(status == 400 && err.to_string().contains("needs its subAttributes"), "{status} {err}");

    // The environment's MFA settings: read, changed, read back; at most 15 devices a user.
    let mut settings = h.call("get_mfa_settings", json!({})).await;
    assert_eq!(settings["pairing"]["maxAllowedDevices"], 5, "{settings}");
    settings["pairing"]["maxAllowedDevices"] = json!(10);
    let sent = json!({ "pairing": settings["pairing"], "lockout": settings["lockout"], "phoneExtensions": settings["phoneExtensions"], "users": settings["users"] });
    h.call("update_mfa_settings", sent.clone()).await;
    assert_eq!(h.call("get_mfa_settings", json!({})).await["pairing"]["maxAllowedDevices"], 10);
    let mut too_many = sent;
    too_many["pairing"]["maxAllowedDevices"] = json!(20);
    let (status, err) = h.fails("update_mfa_settings", too_many).await;
    assert!(status == 400 && err.to_string().contains("pairing.maxAllowedDevices"), "{status} {err}");

    // Steps are added, replaced and removed; what a step names must exist, and its type
    // cannot change.
    let login = h.call("create_sign_on_policy_action", json!({ "policyId": sop_id, "type": "LOGIN", "priority": 1, "recovery": { "enabled": true } })).await;
    let twelve_hours = json!({ "secondsSince": "${session.lastSignOn.withAuthenticator.mfa.at}", "greater": 43200 });
    let mfa = h.call("create_sign_on_policy_action", json!({ "policyId": sop_id, "type": "MULTI_FACTOR_AUTHENTICATION", "priority": 2, "deviceAuthenticationPolicy": { "id": dap_id }, "noDevicesMode": "BLOCK", "condition": twelve_hours })).await;
    assert_eq!(mfa["signOnPolicy"]["id"], json!(sop_id), "{mfa}");
    let steps = h.items("list_sign_on_policy_actions", json!({ "policyId": sop_id })).await;
    assert_eq!(steps.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(), [login["id"].clone(), mfa["id"].clone()], "in priority order");
    let four_hours = json!({ "secondsSince": "${session.lastSignOn.withAuthenticator.mfa.at}", "greater": 14400 });
    let changed = h.call("update_sign_on_policy_action", json!({ "policyId": sop_id, "actionId": id_of(&mfa), "type": "MULTI_FACTOR_AUTHENTICATION", "priority": 2, "deviceAuthenticationPolicy": { "id": dap_id }, "noDevicesMode": "BLOCK", "condition": four_hours })).await;
    assert_eq!(changed["condition"]["greater"], 14400, "{changed}");
    assert_eq!(changed["createdAt"], mfa["createdAt"], "a replaced step keeps its id and creation time");
    for (args, says) in [
        (json!({ "policyId": sop_id, "actionId": id_of(&mfa), "type": "LOGIN", "priority": 2 }), "cannot change"),
        (json!({ "policyId": sop_id, "type": "MULTI_FACTOR_AUTHENTICATION", "priority": 3, "deviceAuthenticationPolicy": { "id": "no-such-policy" } }), "no device authentication policy"),
        (json!({ "policyId": sop_id, "type": "IDENTITY_PROVIDER", "priority": 3 }), "identityProvider.id"),
        (json!({ "policyId": sop_id, "type": "IDENTITY_PROVIDER", "priority": 3, "identityProvider": { "id": "no-such-idp" } }), "no identity provider"),
    ] {
        let action = if args.get("actionId").is_some() { "update_sign_on_policy_action" } else { "create_sign_on_policy_action" };
        let (status, err) = h.fails(action, args.clone()).await;
        assert!(status == 400 && err.to_string().contains(says), "{args}: {status} {err}");
    }
    h.call("delete_sign_on_policy_action", json!({ "policyId": sop_id, "actionId": id_of(&mfa) })).await;
    let left = h.items("list_sign_on_policy_actions", json!({ "policyId": sop_id })).await;
    assert_eq!(left.len(), 1, "{left:?}");
    let (status, _) = h.fails("get_sign_on_policy_action", json!({ "policyId": sop_id, "actionId": id_of(&mfa) })).await;
    assert_eq!(status, 404);

    // Identity providers.
    let idps = h.items("list_identity_providers", json!({})).await;
    assert!(idps.len() >= 4);
    let idp = h.call("create_identity_provider", json!({ "name": "Test Google", "type": "GOOGLE", "enabled": true, "clientId": "cid", "clientSecret": "csecret" })).await;
    let idp_id = id_of(&idp);
    h.call("get_identity_provider", json!({ "providerId": idp_id })).await;
    h.call("update_identity_provider", json!({ "providerId": idp_id, "name": "Test Google 2", "type": "GOOGLE", "enabled": false, "clientId": "cid", "clientSecret": "csecret" })).await;
    let attr = h.call("create_identity_provider_attribute", json!({ "providerId": idp_id, "name": "email", "value": "${providerAttributes.email}", "update": "EMPTY_ONLY" })).await;
    let attr_id = id_of(&attr);
    assert!(!h.items("list_identity_provider_attributes", json!({ "providerId": idp_id })).await.is_empty());
    h.call("get_identity_provider_attribute", json!({ "providerId": idp_id, "providerAttributeId": attr_id })).await;
    h.call("update_identity_provider_attribute", json!({ "providerId": idp_id, "providerAttributeId": attr_id, "name": "email", "value": "${providerAttributes.mail}", "update": "ALWAYS" })).await;
    h.call("delete_identity_provider_attribute", json!({ "providerId": idp_id, "providerAttributeId": attr_id })).await;
    // A CORE mapping keeps its name and update mode, and stays (review 46).
    let seeded = id_of(&idps[0]);
    let core = h.items("list_identity_provider_attributes", json!({ "providerId": seeded })).await.into_iter().find(|a| a["mappingType"] == "CORE").expect("a seeded IdP maps username as CORE");
    let core_args = |value: &str, update: &str| json!({ "providerId": seeded, "providerAttributeId": id_of(&core), "name": core["name"], "value": value, "update": update });
    let (status, body) = h.fails("update_identity_provider_attribute", core_args("${providerAttributes.given_name}", "ALWAYS")).await;
    assert!(status == 400 && body.to_string().contains("`update` of a CORE mapping cannot be changed"), "{status} {body}");
    h.call("update_identity_provider_attribute", core_args("${providerAttributes.email}", core["update"].as_str().unwrap())).await;
    let (status, body) = h.fails("delete_identity_provider_attribute", json!({ "providerId": seeded, "providerAttributeId": id_of(&core) })).await;
    assert!(status == 400 && body.to_string().contains("cannot be removed"), "{status} {body}");

    // Populations.
    let pops = h.items("list_populations", json!({})).await;
    assert!(pops.len() >= 5);
    let pop = h.call("create_population", json!({ "name": "Test population", "passwordPolicy": { "id": pp_id } })).await;
    let pop_id = id_of(&pop);
    assert_eq!(h.call("get_population", json!({ "populationId": pop_id })).await["userCount"], 0);
    h.call("update_population", json!({ "populationId": pop_id, "name": "Test population 2", "description": "renamed" })).await;
    h.call("get_population_default_identity_provider", json!({ "populationId": pop_id })).await;
    let d = h.call("update_population_default_identity_provider", json!({ "populationId": pop_id, "id": idp_id })).await;
    assert_eq!(d["id"], json!(idp_id));
    // Left out, the population goes back to PingOne's own sign-on.
    let reset = h.call("update_population_default_identity_provider", json!({ "populationId": pop_id })).await;
    assert_eq!(reset["type"], "PING_ONE", "{reset}");
    assert_eq!(h.call("get_population_default_identity_provider", json!({ "populationId": pop_id })).await["type"], "PING_ONE");

    // Users.
    let user = h.call("create_user", json!({ "username": "test.user", "email": "test.user@example.com", "name": { "given": "Test", "family": "User" }, "population": { "id": pop_id } })).await;
    let user_id = id_of(&user);
    let found = h.items("list_users", json!({ "filter": "username eq \"test.user\"" })).await;
    assert_eq!(found.len(), 1);
    h.call("get_user", json!({ "userId": user_id, "include": "memberOfGroupNames" })).await;
    let u = h.call("update_user", json!({ "userId": user_id, "title": "Tester" })).await;
    assert_eq!(u["title"], "Tester");
    assert_eq!(u["username"], "test.user");
    assert_eq!(h.call("get_user_enabled_status", json!({ "userId": user_id })).await["enabled"], true);
    assert_eq!(h.call("update_user_enabled_status", json!({ "userId": user_id, "enabled": false })).await["enabled"], false);
    assert_eq!(h.call("get_user_population", json!({ "userId": user_id })).await["id"], json!(pop_id));
    let default_pop = id_of(pops.iter().find(|p| p["default"] == json!(true)).expect("a default population"));
    h.call("update_user_population", json!({ "userId": user_id, "id": default_pop })).await;
    h.call("update_user_population", json!({ "userId": user_id, "id": pop_id })).await;
    h.call("get_user_identity_provider", json!({ "userId": user_id })).await;
    let linked = h.call("update_user_identity_provider", json!({ "userId": user_id, "identityProvider": { "id": idp_id } })).await;
    assert_eq!(linked["identityProvider"]["id"], json!(idp_id));
    h.call("get_user_verify_status", json!({ "userId": user_id })).await;
    assert_eq!(h.call("update_user_verify_status", json!({ "userId": user_id, "verifyStatus": "ENABLED" })).await["verifyStatus"], "ENABLED");
    assert_eq!(h.call("get_user_password_metadata", json!({ "userId": user_id })).await["status"], "NO_PASSWORD");
    let (status, err) = h.fails("set_user_password", json!({ "userId": user_id, "value": "short" })).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("INVALID_DATA")), "{err}");
    let (status, err) = h.fails("force_user_password_change", json!({ "userId": user_id })).await;
    assert_eq!(status, 400, "no password to force a change of: {err}");
    h.call("set_user_password", json!({ "userId": user_id, "value": "A-much-longer-Passw0rd!" })).await;
    assert_eq!(h.call("get_user_password_metadata", json!({ "userId": user_id })).await["status"], "OK");
    assert_eq!(h.call("force_user_password_change", json!({ "userId": user_id })).await["status"], "MUST_CHANGE_PASSWORD");
    h.call("set_user_password", json!({ "userId": user_id, "value": "A-much-longer-Passw0rd!2", "forceChange": true })).await;
    assert_eq!(h.call("get_user_password_metadata", json!({ "userId": user_id })).await["status"], "MUST_CHANGE_PASSWORD");
    let locked = h.call("lock_user", json!({ "userId": user_id })).await;
    assert_eq!((&locked["account"]["status"], &locked["account"]["canAuthenticate"]), (&json!("LOCKED"), &json!(false)), "{locked}");
    // Sessions: seeded for whoever signed on this month; ending one signs them out of it.
    let users = h.items("list_users", json!({ "limit": 20 })).await;
    let mut signed_on = None;
    for u in &users {
        let sessions = h.items("list_user_sessions", json!({ "userId": id_of(u) })).await;
        if let Some(s) = sessions.first() {
            signed_on = Some((id_of(u), id_of(s), sessions.len()));
            break;
        }
    }
    let (holder, session_id, count) = signed_on.expect("a seeded user with a session");
    h.call("delete_user_session", json!({ "userId": holder, "sessionId": session_id })).await;
    assert_eq!(h.items("list_user_sessions", json!({ "userId": holder })).await.len(), count - 1);
    let (status, _) = h.fails("delete_user_session", json!({ "userId": holder, "sessionId": session_id })).await;
    assert_eq!(status, 404, "an ended session is gone");
    let unlocked = h.call("unlock_user", json!({ "userId": user_id })).await;
    assert_eq!((&unlocked["account"]["status"], &unlocked["account"]["canAuthenticate"]), (&json!("OK"), &unlocked["enabled"]), "unlocked, and able to sign on only if enabled: {unlocked}");

    // Groups and memberships.
    let groups = h.items("list_groups", json!({ "limit": 100 })).await;
    assert!(groups.len() >= 12);
    let g = h.call("create_group", json!({ "name": "Test group", "description": "made by the test" })).await;
    let g_id = id_of(&g);
    let parent = h.call("create_group", json!({ "name": "Test parent" })).await;
    let parent_id = id_of(&parent);
    h.call("get_group", json!({ "groupId": g_id, "include": "totalMemberCounts" })).await;
    h.call("update_group", json!({ "groupId": g_id, "name": "Test group 2", "description": "renamed" })).await;
    let scoped = h.call("create_group", json!({ "name": "Test scoped group", "population": { "id": pop_id } })).await;
    let updated = h.call("update_group", json!({ "groupId": id_of(&scoped), "name": "Test scoped group 2" })).await;
    assert_eq!(updated["population"]["id"], pop_id.as_str(), "a PUT keeps the population, which is set at creation only: {updated}");
    h.call("add_user_to_group", json!({ "userId": user_id, "id": g_id })).await;
    h.call("add_group_to_group", json!({ "groupId": g_id, "id": parent_id })).await;
    let nested = h.items("list_group_nested_groups", json!({ "groupId": g_id })).await;
    assert_eq!(nested.len(), 1);
    h.call("get_group_nested_group", json!({ "groupId": g_id, "parentGroupId": parent_id })).await;
    let mine = h.items("list_user_groups", json!({ "userId": user_id })).await;
    let kinds: Vec<(&str, &str)> = mine.iter().map(|m| (m["id"].as_str().unwrap_or(""), m["type"].as_str().unwrap_or(""))).collect();
    assert!(kinds.contains(&(g_id.as_str(), "DIRECT")) && kinds.contains(&(parent_id.as_str(), "INDIRECT")), "{kinds:?}");
    assert_eq!(h.call("get_user_group_membership", json!({ "userId": user_id, "groupId": parent_id })).await["type"], "INDIRECT");
    h.call("remove_group_from_group", json!({ "groupId": g_id, "parentGroupId": parent_id })).await;
    h.call("remove_user_from_group", json!({ "userId": user_id, "groupId": g_id })).await;

    // Custom roles and role assignments of users, groups and applications.
    let env_admin = env_admin.as_str();
    let role = h.call("create_custom_role", json!({ "name": "Test role", "permissions": [{ "id": "users:read:user" }], "canBeAssignedBy": [{ "id": env_admin }] })).await;
    let role_id = id_of(&role);
    let listed = h.items("list_custom_roles", json!({})).await;
    assert!(listed.iter().any(|r| r["id"] == role_id.as_str()) && listed.iter().all(|r| r["type"] == "CUSTOM"), "custom roles only by default: {listed:?}");
    let built_in = h.items("list_custom_roles", json!({ "filter": "name sw \"Identity Data\"" })).await;
    assert!(!built_in.is_empty() && built_in.iter().all(|r| r["type"] == "PLATFORM"), "a filter replaces the default; the collection holds built-in roles: {built_in:?}");
    // canAssign is derived: the custom roles whose canBeAssignedBy names this one.
    let junior = h.call("create_custom_role", json!({ "name": "Junior helper", "permissions": [{ "id": "users:read:user" }], "canBeAssignedBy": [{ "id": role_id }] })).await;
    assert_eq!(junior["canAssign"], json!([]), "{junior}");
    let senior = h.call("get_custom_role", json!({ "customRoleId": role_id })).await;
    assert_eq!(senior["canAssign"], json!([{ "id": id_of(&junior) }]), "{senior}");
    h.call("delete_custom_role", json!({ "customRoleId": id_of(&junior) })).await;
    h.call("update_custom_role", json!({ "customRoleId": role_id, "name": "Test role 2", "applicableTo": ["ENVIRONMENT", "POPULATION"], "permissions": [{ "id": "users:read:user" }], "canBeAssignedBy": [{ "id": env_admin }] })).await;
    let (status, err) = h.fails("update_custom_role", json!({ "customRoleId": env_admin, "name": "Mine now", "permissions": [{ "id": "users:read:user" }], "canBeAssignedBy": [{ "id": env_admin }] })).await;
    assert!(status == 400 && err["message"].as_str().unwrap().contains("built-in"), "{err}");
    let (status, err) = h.fails("create_custom_role", json!({ "name": "Orphan", "permissions": [{ "id": "users:read:user" }], "canBeAssignedBy": [{ "id": "no-such-role" }] })).await;
    assert!(status == 400 && err["details"].to_string().contains("canBeAssignedBy"), "{err}");
    let env_id = h.sim.environment_id.clone();
    let scope = json!({ "id": env_id, "type": "ENVIRONMENT" });
    let ra = h.call("create_user_role_assignment", json!({ "userId": user_id, "role": { "id": data_admin }, "scope": scope })).await;
    assert!(!h.items("list_user_role_assignments", json!({ "userId": user_id })).await.is_empty());
    h.call("get_user_role_assignment", json!({ "userId": user_id, "roleAssignmentId": id_of(&ra) })).await;
    h.call("delete_user_role_assignment", json!({ "userId": user_id, "roleAssignmentId": id_of(&ra) })).await;
    let ra = h.call("create_group_role_assignment", json!({ "groupId": g_id, "role": { "id": role_id }, "scope": { "id": pop_id, "type": "POPULATION" } })).await;
    assert_eq!(h.items("list_group_role_assignments", json!({ "groupId": g_id })).await.len(), 1);
    h.call("get_group_role_assignment", json!({ "groupId": g_id, "roleAssignmentId": id_of(&ra) })).await;
    h.call("delete_group_role_assignment", json!({ "groupId": g_id, "roleAssignmentId": id_of(&ra) })).await;
    let worker = h.sim.client_id.clone();
    let ra = h.call("create_application_role_assignment", json!({ "applicationId": worker, "role": { "id": data_admin }, "scope": { "id": pop_id, "type": "POPULATION" } })).await;
    assert!(h.items("list_application_role_assignments", json!({ "applicationId": worker })).await.len() >= 2);
    h.call("get_application_role_assignment", json!({ "applicationId": worker, "roleAssignmentId": id_of(&ra) })).await;
    h.call("delete_application_role_assignment", json!({ "applicationId": worker, "roleAssignmentId": id_of(&ra) })).await;

    // An administrator assigns and removes only roles it holds, at its scope or within
    // it (review 51): the worker holds Environment Admin for the environment, not the
    // organisation, and no Organization Admin; the assignments it cannot remove say so.
    let org = json!({ "id": h.sim.organization_id, "type": "ORGANIZATION" });
    let (status, err) = h.fails("create_application_role_assignment", json!({ "applicationId": worker, "role": { "id": env_admin }, "scope": org })).await;
    assert!(status == 403 && err.to_string().contains("cannot assign role `Environment Admin` at ORGANIZATION"), "{status} {err}");
    let org_admin = id_of(named(&roles, "Organization Admin"));
    let (status, err) = h.fails("create_user_role_assignment", json!({ "userId": user_id, "role": { "id": org_admin }, "scope": org })).await;
    assert!(status == 403 && err.to_string().contains("an administrator assigns and removes only the roles its own roles may assign"), "{status} {err}");
    let org_admins = h.items("list_users", json!({ "limit": 3 })).await;
    let held = h.items("list_user_role_assignments", json!({ "userId": id_of(&org_admins[0]) })).await;
    let top = held.iter().find(|a| a["role"]["id"] == org_admin.as_str()).expect("the first seeded user is an Organization Admin");
    assert_eq!(top["readOnly"], true, "{top}");
    let (status, err) = h.fails("delete_user_role_assignment", json!({ "userId": id_of(&org_admins[0]), "roleAssignmentId": id_of(top) })).await;
    assert!(status == 403 && err.to_string().contains("cannot remove role `Organization Admin`"), "{status} {err}");

    // Applications and their secrets, grants, sign-on policy assignments and attributes.
    let apps = h.items("list_applications", json!({})).await;
    let types: BTreeSet<&str> = apps.iter().filter_map(|a| a["type"].as_str()).collect();
    for t in ["WORKER", "WEB_APP", "SINGLE_PAGE_APP", "NATIVE_APP", "PORTAL_LINK_APP", "SERVICE"] {
        assert!(types.contains(t), "no {t} application in {types:?}");
    }
    let portal = id_of(named(&apps, "Customer Portal"));
    let seeded_grants = h.items("list_application_grants", json!({ "applicationId": portal })).await;
    let resource_id = seeded_grants[0]["resource"]["id"].as_str().expect("a resource").to_owned();
    let scopes = seeded_grants[0]["scopes"].clone();
    let app = h.call("create_application", json!({ "name": "Test app", "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": true, "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"], "redirectUris": ["https://test.example.com/cb"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" })).await;
    let app_id = id_of(&app);
    h.call("get_application", json!({ "applicationId": app_id })).await;
    h.call("update_application", json!({ "applicationId": app_id, "name": "Test app 2", "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": true, "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "grantTypes": ["AUTHORIZATION_CODE"], "redirectUris": ["https://test.example.com/cb"] })).await;
    let s1 = h.call("get_application_secret", json!({ "applicationId": app_id })).await;
    let s2 = h.call("generate_application_secret", json!({ "applicationId": app_id, "previous": { "expiresAt": a_day_from_now() } })).await;
    assert_eq!(s2["previous"]["secret"], s1["secret"]);
    assert_ne!(s2["secret"], s1["secret"]);
    h.call("delete_application_secret", json!({ "applicationId": app_id })).await;
    assert!(h.call("get_application_secret", json!({ "applicationId": app_id })).await.get("previous").is_none());
    let grant = h.call("create_application_grant", json!({ "applicationId": app_id, "resource": { "id": resource_id }, "scopes": scopes })).await;
    assert_eq!(h.items("list_application_grants", json!({ "applicationId": app_id })).await.len(), 1);
    // A grant built from scratch: the resources, and a resource's scopes by name.
    let resources = h.items("list_resources", json!({})).await;
    let pingone_api = resources.iter().find(|r| r["type"] == "PINGONE_API").expect("the PingOne API resource");
    assert!(pingone_api.get("scopes").is_none(), "scopes are read from their own path: {pingone_api}");
    let api_scopes = h.items("list_resource_scopes", json!({ "resourceId": id_of(pingone_api) })).await;
    let read_users = api_scopes.iter().find(|s| s["name"] == "p1:read:user").expect("p1:read:user");
    assert_eq!(read_users["resource"]["id"], pingone_api["id"]);
    let built = h.call("create_application_grant", json!({ "applicationId": app_id, "resource": { "id": pingone_api["id"] }, "scopes": [{ "id": read_users["id"] }] })).await;
    h.call("delete_application_grant", json!({ "applicationId": app_id, "grantId": id_of(&built) })).await;
    let (status, _) = h.fails("list_resource_scopes", json!({ "resourceId": "8a5e2f1c-0000-4000-8000-000000000000" })).await;
    assert_eq!(status, 404);
    h.call("get_application_grant", json!({ "applicationId": app_id, "grantId": id_of(&grant) })).await;
    h.call("update_application_grant", json!({ "applicationId": app_id, "grantId": id_of(&grant), "resource": { "id": resource_id }, "scopes": [scopes[0]] })).await;
    h.call("delete_application_grant", json!({ "applicationId": app_id, "grantId": id_of(&grant) })).await;
    let sopa = h.call("create_application_sign_on_policy_assignment", json!({ "applicationId": app_id, "signOnPolicy": { "id": sop_id }, "priority": 1 })).await;
    assert_eq!(h.items("list_application_sign_on_policy_assignments", json!({ "applicationId": app_id })).await.len(), 1);
    h.call("get_application_sign_on_policy_assignment", json!({ "applicationId": app_id, "sopAssignmentId": id_of(&sopa) })).await;
    h.call("update_application_sign_on_policy_assignment", json!({ "applicationId": app_id, "sopAssignmentId": id_of(&sopa), "signOnPolicy": { "id": sop_id }, "priority": 2 })).await;
    h.call("delete_application_sign_on_policy_assignment", json!({ "applicationId": app_id, "sopAssignmentId": id_of(&sopa) })).await;
    let aattr = h.call("create_application_attribute", json!({ "applicationId": app_id, "name": "department", "value": "${user.type}", "required": false })).await;
    assert!(!h.items("list_application_attributes", json!({ "applicationId": app_id })).await.is_empty());
    h.call("get_application_attribute", json!({ "applicationId": app_id, "attrMappingId": id_of(&aattr) })).await;
    h.call("update_application_attribute", json!({ "applicationId": app_id, "attrMappingId": id_of(&aattr), "name": "dept", "value": "${user.type}", "required": true })).await;
    h.call("delete_application_attribute", json!({ "applicationId": app_id, "attrMappingId": id_of(&aattr) })).await;

    // MFA.
    let dev = h.call("pair_user_mfa_device", json!({ "userId": user_id, "type": "EMAIL", "email": "test.user@example.com" })).await;
    let dev_id = id_of(&dev);
    assert_eq!(h.items("list_user_mfa_devices", json!({ "userId": user_id })).await.len(), 1);
    let totp = h.call("pair_user_mfa_device", json!({ "userId": user_id, "type": "TOTP" })).await;
    assert_eq!(totp["status"], "ACTIVATION_REQUIRED", "{totp}");
    let (status, err) = h.fails("activate_user_mfa_device", json!({ "userId": user_id, "deviceId": id_of(&totp), "otp": "12ab" })).await;
    assert_eq!((status, err["details"][0]["target"].as_str()), (400, Some("otp")), "{err}");
    // Only the passcode an authenticator app shows for the device's secret activates it.
    let app = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, totp_rs::Secret::Encoded(totp["secret"].as_str().unwrap().into()).to_bytes().unwrap());
    assert!(totp["keyUri"].as_str().unwrap().contains(&format!("secret={}", totp["secret"].as_str().unwrap())), "{totp}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let shown: Vec<String> = [now - 30, now, now + 30].map(|t| app.generate(t)).to_vec();
    let wrong = (0..10u32).map(|d| format!("{d}{}", &shown[1][1..])).find(|code| !shown.contains(code)).unwrap();
    let (status, err) = h.fails("activate_user_mfa_device", json!({ "userId": user_id, "deviceId": id_of(&totp), "otp": wrong })).await;
    assert_eq!((status, err["details"][0]["code"].as_str()), (400, Some("INVALID_OTP")), "{err}");
    let code = app.generate_current().unwrap();
    assert_eq!(h.call("activate_user_mfa_device", json!({ "userId": user_id, "deviceId": id_of(&totp), "otp": code })).await["status"], "ACTIVE");
    h.call("delete_user_mfa_device", json!({ "userId": user_id, "deviceId": id_of(&totp) })).await;
    h.call("get_user_mfa_device", json!({ "userId": user_id, "deviceId": dev_id })).await;
    assert_eq!(h.call("update_user_mfa_device_nickname", json!({ "userId": user_id, "deviceId": dev_id, "nickname": "Work mail" })).await["nickname"], "Work mail");
    h.call("delete_user_mfa_device", json!({ "userId": user_id, "deviceId": dev_id })).await;
    h.call("get_user_mfa_enabled", json!({ "userId": user_id })).await;
    assert_eq!(h.call("update_user_mfa_enabled", json!({ "userId": user_id, "mfaEnabled": true })).await["mfaEnabled"], true);
    let (_, err) = h.fails("update_user", json!({ "userId": user_id, "mfaEnabled": false })).await;
    assert!(err.to_string().contains("`mfaEnabled` (update_user_mfa_enabled)"), "the agent is sent to the action that does it: {err}");
    assert_eq!(h.call("get_user_mfa_enabled", json!({ "userId": user_id })).await["mfaEnabled"], true, "only its own (destructive) action turns MFA off");

    // Certificates, reports, userinfo.
    let cert = h.call("import_certificate", json!({ "file": PEM, "usageType": "SIGNING" })).await;
    assert_eq!(cert["usageType"], "SIGNING");
    assert!(h.items("list_certificates", json!({})).await.len() >= 3);
    let activities = h.call("get_user_activities", json!({ "filter": "startDate eq \"2026-01-01T00:00:00Z\" and endDate eq \"2026-01-31T00:00:00Z\"" })).await;
    let buckets = activities["_embedded"]["userActivities"].as_array().unwrap();
    assert_eq!(buckets.len(), 30, "one bucket a day: {activities}");
    assert!(buckets[0]["startDate"] == "2026-01-01T00:00:00.000Z" && buckets[0]["userSignOns"]["successes"].is_u64() && buckets[0]["passwordResets"].is_u64(), "the documented shape: {}", buckets[0]);
    let me = h.call("get_current_user_info", json!({})).await;
    assert_eq!(me["sub"], json!(h.sim.demo_user_id));
    assert!(me["updated_at"].as_u64().is_some_and(|at| at > 1_600_000_000), "OpenID Connect's updated_at is seconds since the epoch: {me}");

    // Deletes, last.
    h.call("delete_application", json!({ "applicationId": app_id })).await;
    h.call("delete_group", json!({ "groupId": g_id })).await;
    h.call("delete_group", json!({ "groupId": parent_id })).await;
    h.call("delete_custom_role", json!({ "customRoleId": role_id })).await;
    h.call("delete_user", json!({ "userId": user_id })).await;
    h.call("delete_population", json!({ "populationId": pop_id })).await;
    h.call("delete_identity_provider", json!({ "providerId": idp_id })).await;
    h.call("delete_password_policy", json!({ "passwordPolicyId": pp_id })).await;
    h.call("delete_sign_on_policy", json!({ "policyId": sop_id })).await;
    h.call("delete_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": dap_id })).await;

    let not_called: Vec<&str> = ALL_ACTIONS.iter().copied().filter(|id| !h.called.contains(*id)).collect();
    assert!(not_called.is_empty(), "actions never called: {not_called:?}");
    let extra: Vec<&String> = catalog_ids.iter().filter(|id| !h.called.contains(*id)).collect();
    assert!(extra.is_empty(), "catalog actions never called: {extra:?}");
}

/// Fields a record holds only when it was made so, which no seeded record is.
const OPTIONAL_FIELDS: [&str; 6] = [
    // A group of a population, a dynamic group, a group synced from elsewhere.
    "list_groups.population", "list_groups.userFilter", "list_groups.externalId",
    // Set when an administrator configures them.
    "list_identity_providers.icon", "list_identity_providers.loginButtonIcon", "list_identity_providers.registration",
];

/// Each field a list action declares is in some record the seeded simulator lists: a
/// field under another name (review 24 F4: certificates had `validStart` for the
/// spec's `startsAt`) reads as undefined in every script.
#[tokio::test]
async fn every_declared_field_of_a_top_level_list_is_in_its_records() {
    let mut h = Harness::users(50).await;
    let lists: Vec<_> = h.catalog.actions().filter(|a| a.is_list() && a.params_in(ParamLocation::Path).next().is_none()).cloned().collect();
    let mut missing = Vec::new();
    for action in &lists {
        let items = h.items(&action.id, json!({})).await;
        // A field marked `?` may be missing from a record, not from every one.
        for field in action.result.keys().map(|field| field.trim_end_matches('?')) {
            let optional = OPTIONAL_FIELDS.contains(&format!("{}.{field}", action.id).as_str());
            if !optional && !items.is_empty() && !items.iter().any(|item| item.get(field).is_some()) {
                missing.push(format!("{}.{field}", action.id));
            }
        }
    }
    assert!(lists.len() >= 10, "{}", lists.len());
    assert_eq!(missing, Vec::<String>::new(), "declared, but in no record");
}

#[tokio::test]
async fn filters_each_operator_and_bad_filters() {
    let mut h = Harness::users(400).await;
    let count = |v: &Value| v["count"].as_u64().unwrap_or(0);
    let all = count(&h.call("list_users", json!({ "limit": 1 })).await);
    assert_eq!(all, 400);
    let marys = h.call("list_users", json!({ "filter": "name.given eq \"Mary\"", "limit": 1000 })).await;
    assert!(count(&marys) > 0 && marys["items"].as_array().unwrap().iter().all(|u| u["name"]["given"] == "Mary"));
    let sw = h.call("list_users", json!({ "filter": "username sw \"mary.\"", "limit": 1000 })).await;
    assert_eq!(count(&sw), count(&marys));
    let ew = h.call("list_users", json!({ "filter": "email ew \"7@example.com\"", "limit": 1000 })).await;
    assert_eq!(count(&ew), 40, "users 7, 17, ... 397");
    let co = h.call("list_users", json!({ "filter": "email co \"ary.\"", "limit": 1000 })).await;
    assert!(count(&co) >= count(&marys));
    let disabled = count(&h.call("list_users", json!({ "filter": "enabled eq false" })).await);
    let enabled = count(&h.call("list_users", json!({ "filter": "enabled eq true" })).await);
    assert!(disabled > 0 && disabled + enabled == all, "{disabled} + {enabled} != {all}");
    let either = count(&h.call("list_users", json!({ "filter": "enabled eq false or name.given eq \"Mary\"" })).await);
    let both = count(&h.call("list_users", json!({ "filter": "enabled eq false and name.given eq \"Mary\"" })).await);
    assert_eq!(either, disabled + count(&marys) - both);
    let grouped = count(&h.call("list_users", json!({ "filter": "(name.given eq \"Mary\" or name.given eq \"John\") and enabled eq true" })).await);
    assert!(grouped > 0 && grouped <= either + 100);

    let pops = h.items("list_populations", json!({ "filter": "name sw \"Emp\"" })).await;
    assert_eq!(pops.len(), 1);
    let employees = id_of(&pops[0]);
    let in_pop = count(&h.call("list_users", json!({ "filter": format!("population.id eq \"{employees}\"") })).await);
    let first = h.items("list_users", json!({ "limit": 1 })).await;
    h.call("update_user", json!({ "userId": id_of(&first[0]), "costCenter": "CC-12" })).await;
    let custom = count(&h.call("list_users", json!({ "filter": "costCenter sw \"CC\"" })).await);
    assert_eq!(custom, 1, "a custom attribute a user has may be filtered on");
    let sub_paths = count(&h.call("list_users", json!({ "filter": "name.formatted sw \"Mary\" or address.locality eq \"Sydney\"" })).await);
    assert!(sub_paths > 0, "sub-paths of name and address may be filtered on");
    assert_eq!(in_pop, 160, "users with n % 10 in 0..=3");

    // memberOfGroups: direct members of Engineering's children are indirect members of All Staff.
    let groups = h.items("list_groups", json!({ "filter": "name eq \"All Staff\"" })).await;
    let all_staff = id_of(&groups[0]);
    let staff = h.call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{all_staff}\"]"), "all": true })).await;
    let staff = staff.as_array().cloned().unwrap_or_default();
    assert_eq!(staff.len(), 160, "every employee is in a department under All Staff");
    assert!(staff.iter().all(|u| u["population"]["id"] == json!(employees)));

    // PingOne filters users on some attributes only; the rest are refused, not ignored.
    let bad_attributes = [
        ("mfaEnabled eq false", "`mfaenabled`"),
        ("lastSignOn.at lt \"2026-01-01\"", "`lastsignon.at`"),
        ("account.status eq \"LOCKED\"", "`account.status`"),
        // SCIM's names for what PingOne calls enabled, email and mobilePhone.
        ("active eq true", "`active`"),
        ("phones eq \"+15550000001\"", "`phones`"),
        ("emails eq \"a@example.com\"", "`emails`"),
        // Misspellings no user has, standard or custom, are not taken for new custom attributes.
        ("usrname eq \"mary.1\"", "did you mean `username`?"),
        ("costCentre sw \"CC\"", "did you mean `costcenter`?"),
    ];
    // (`pr`, `ne` and `not` are refused before sending: tests/catalog.rs.)
    for (bad, needle) in [("name.given eqq \"Mary\"", "eqq"), ("name.given eq \"Mary", "string"), ("(enabled eq true", ")")].into_iter().chain(bad_attributes) {
        let (status, err) = h.fails("list_users", json!({ "filter": bad })).await;
        assert_eq!(status, 400, "{bad}: {err}");
        let detail = &err["details"][0];
        assert_eq!(detail["code"], "INVALID_FILTER", "{bad}: {err}");
        let message = detail["message"].as_str().unwrap_or_default().to_lowercase();
        assert!(message.contains(needle), "{bad}: `{message}` should name `{needle}`");
    }
}

/// Each list takes the attributes and operators PingOne documents for it, and refuses
/// the rest as PingOne does: a script that passes here must not fail on a tenant, and a
/// misspelt attribute must not quietly match nothing.
#[tokio::test]
async fn each_list_refuses_filters_pingone_refuses() {
    let mut h = Harness::users(50).await;
    let employees = h.items("list_populations", json!({ "filter": "name sw \"Emp\"" })).await;
    assert_eq!(employees.len(), 1, "{employees:?}");
    let id = id_of(&employees[0]);
    assert_eq!(h.items("list_populations", json!({ "filter": format!("id eq \"{id}\"") })).await.len(), 1);
    assert_eq!(h.items("list_groups", json!({ "filter": "name eq \"All Staff\"" })).await.len(), 1);
    let recent = h.items("list_users", json!({ "filter": "updatedAt ge \"2000-01-01T00:00:00Z\"", "limit": 5 })).await;
    assert!(!recent.is_empty(), "a range on updatedAt is PingOne's");

    let refused = [
        ("list_populations", "name eq \"Employees\"", "`name eq` cannot be used in a populations filter"),
        ("list_populations", "name co \"ploy\"", "`name co`"),
        ("list_populations", "default eq true", "the attribute `default`"),
        ("list_populations", "nmae sw \"Emp\"", "the attribute `nmae`"),
        ("list_groups", "nmae eq \"Admins\"", "the attribute `nmae`"),
        ("list_users", "username ew \"0\"", "`username ew`"),
        ("list_users", "title lt \"B\"", "`title lt`"),
        ("list_users", "updatedAt gt \"2024-02-01T00:00:00Z\"", "`updatedAt gt`"),
        ("list_users", "name.givne eq \"Mary\"", "`name.givne`"),
        ("list_users", "address.localty eq \"Denver\"", "`address.localty`"),
    ];
    for (action, filter, needle) in refused {
        let (status, err) = h.fails(action, json!({ "filter": filter })).await;
        assert_eq!(status, 400, "{action} {filter}: {err}");
        assert_eq!(err["details"][0]["code"], "INVALID_FILTER", "{action} {filter}: {err}");
        let message = err["details"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{action} {filter}: `{message}` should say `{needle}`");
    }
}

/// `eq`/`sw` on username, email and names are answered from an index; the same filter
/// with an `or` branch the index cannot answer (and that never holds) takes the full
/// scan, so the two must agree, in any case of attribute name or value.
#[tokio::test]
async fn indexed_filters_agree_with_a_full_scan_and_follow_updates() {
    let mut h = Harness::users(400).await;
    let ids = |v: &Value| v["items"].as_array().unwrap().iter().map(id_of).collect::<Vec<_>>();
    let both = |filter: String| {
        let scanned = format!("({filter}) or title eq \"no such title, never held\"");
        (json!({ "filter": filter, "limit": 1000 }), json!({ "filter": scanned, "limit": 1000 }))
    };
    let first = h.call("list_users", json!({ "limit": 1 })).await["items"][0].clone();
    let username = first["username"].as_str().unwrap().to_owned();
    let email = first["email"].as_str().unwrap().to_owned();
    let given = first["name"]["given"].as_str().unwrap().to_owned();
    let filters = [
        format!("username eq \"{username}\""),
        format!("USERNAME eq \"{username}\""),
        format!("username eq \"{}\"", username.to_uppercase()),
        format!("email sw \"{}\"", &email[..3]),
        format!("Email SW \"{}\"", email[..3].to_uppercase()),
        format!("name.given eq \"{given}\" and enabled eq true"),
        format!("name.given eq \"{}\"", given.to_lowercase()),
        "name.given eq \"Mary\" or name.family sw \"S\"".to_owned(),
        "username sw \"\"".to_owned(),
    ];
    let mut found_any = false;
    for filter in filters {
        let (indexed, scanned) = both(filter.clone());
        let (indexed, scanned) = (h.call("list_users", indexed).await, h.call("list_users", scanned).await);
        assert_eq!(ids(&indexed), ids(&scanned), "{filter}");
        assert_eq!(indexed["count"], scanned["count"], "{filter}");
        found_any |= indexed["count"].as_u64() > Some(0);
    }
    assert!(found_any, "some filter matched");

    // Updates and deletes keep the index in step with the records.
    let pop = first["population"]["id"].clone();
    let count = |v: Value| v["count"].as_u64().unwrap();
    let created = h.call("create_user", json!({ "username": "Zed.Quux", "email": "zed.quux@example.org", "name": { "given": "Zed" }, "population": { "id": pop } })).await;
    let zed = id_of(&created);
    assert_eq!(count(h.call("list_users", json!({ "filter": "username eq \"Zed.Quux\"" })).await), 1);
    h.call("update_user", json!({ "userId": zed, "username": "Zed.Other", "email": "zed.other@example.org" })).await;
    assert_eq!(count(h.call("list_users", json!({ "filter": "username eq \"Zed.Quux\"" })).await), 0, "the old username is gone from the index");
    assert_eq!(count(h.call("list_users", json!({ "filter": "email sw \"zed.quux\"" })).await), 0, "the old email is gone from the index");
    let renamed = h.call("list_users", json!({ "filter": "username eq \"Zed.Other\" and email sw \"zed.other@\"" })).await;
    assert_eq!(ids(&renamed), vec![zed.clone()]);
    h.call("update_user_enabled_status", json!({ "userId": zed, "enabled": false })).await;
    assert_eq!(count(h.call("list_users", json!({ "filter": "username eq \"Zed.Other\" and enabled eq false" })).await), 1, "changed in place, still indexed");
    h.call("delete_user", json!({ "userId": zed })).await;
    assert_eq!(count(h.call("list_users", json!({ "filter": "username sw \"Zed.\"" })).await), 0);
}

#[tokio::test]
async fn pagination_follows_cursors_across_pages() {
    let mut h = Harness::users(1234).await;
    let first = h.call("list_users", json!({ "limit": 500 })).await;
    assert_eq!(first["count"], 1234);
    assert_eq!(first["items"].as_array().unwrap().len(), 200, "pages stop at 200 whatever the limit");
    let cursor = first["cursor"].as_str().expect("a next cursor").to_owned();
    let second = h.call("list_users", json!({ "limit": 500, "cursor": cursor })).await;
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
    let all = h.call("list_users", json!({ "limit": 150, "all": true })).await;
    let all = all.as_array().expect("all:true gives an array");
    assert_eq!(all.len(), 1234);
    let ids: BTreeSet<&str> = all.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids.len(), 1234, "no user twice");
    let last = h.call("list_users", json!({ "filter": "email ew \"3@example.com\"", "limit": 50, "all": true })).await;
    assert_eq!(last.as_array().unwrap().len(), 124);
    // A cursor no page gave is refused before it is sent.
    let (status, err) = h.fails("list_users", json!({ "cursor": "not-a-cursor" })).await;
    assert_eq!(status, 0, "refused before it is sent: {err}");
    assert!(err.to_string().contains("is not one a page of results gave"), "{err}");
    let (status, err) = h.fails("list_users", json!({ "limit": 0 })).await;
    assert_eq!(status, 0, "refused before it is sent: {err}");
    assert!(err.to_string().contains("must be from 1 to 1000"), "{err}");
    // Without a limit, the client asks for the largest page: 200, not the default 100.
    let first = h.call("list_users", json!({})).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn pingone_rules_are_enforced() {
    let mut h = Harness::users(120).await;
    // Unique usernames, required fields with targets, unknown ids.
    let existing = h.items("list_users", json!({ "limit": 1 })).await[0]["username"].as_str().unwrap().to_owned();
    let (status, err) = h.fails("create_user", json!({ "username": existing.to_uppercase(), "email": "x@example.com" })).await;
    assert_eq!((status, err["details"][0]["code"].as_str()), (400, Some("UNIQUENESS_VIOLATION")), "{err}");
    let (status, err) = Api::new(&h.sim).await.post("/groups", json!({ "name": "" })).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("INVALID_DATA")));
    assert_eq!(detail_targets(&err), vec!["name"]);
    // Texts longer than the user schema allows (review 43: a 100,000-character username was stored).
    // Over raw HTTP: the catalog refuses it before sending too (review 54 M1).
    let (status, err) = Api::new(&h.sim).await.post("/users", json!({ "username": "h".repeat(129), "email": "long@example.com" })).await;
    assert_eq!((status, err["details"][0]["code"].as_str(), detail_targets(&err)), (400, Some("SIZE_LIMIT_EXCEEDED"), vec!["username".to_owned()]), "{err}");
    let (status, err) = Api::new(&h.sim).await.post("/users", json!({ "username": "two.ats", "email": "bob@@example.com" })).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["email".to_owned()]), "{err}");
    let fits = h.call("create_user", json!({ "username": "h".repeat(128), "email": "long@example.com" })).await;
    let (status, err) = h.fails("update_user", json!({ "userId": fits["id"], "address": { "postalCode": "9".repeat(41) } })).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["address.postalCode".to_owned()]), "{err}");
    let (status, err) = h.fails("get_user", json!({ "userId": "00000000-0000-4000-8000-000000000000" })).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("NOT_FOUND")));
    // Over raw HTTP: the catalog refuses this before sending (a field SAML requires).
    let (status, err) = Api::new(&h.sim).await.post("/applications", json!({ "name": "x", "type": "WEB_APP", "protocol": "SAML", "enabled": true })).await;
    assert_eq!(status, 400);
    assert_eq!(detail_targets(&err), vec!["acsUrls", "assertionDuration", "spEntityId"]);

    // A population must be empty; the default one stays.
    let pops = h.items("list_populations", json!({})).await;
    let employees = id_of(named(&pops, "Employees"));
    let (status, err) = h.fails("delete_population", json!({ "populationId": employees })).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("REQUEST_FAILED")), "{err}");
    let default_pop = id_of(pops.iter().find(|p| p["default"] == json!(true)).unwrap());
    let (status, _) = h.fails("delete_population", json!({ "populationId": default_pop })).await;
    assert_eq!(status, 400);

    // Default policies cannot be deleted.
    for (list, del, key) in [
        ("list_password_policies", "delete_password_policy", "passwordPolicyId"),
        ("list_sign_on_policies", "delete_sign_on_policy", "policyId"),
        ("list_device_authentication_policies", "delete_device_authentication_policy", "deviceAuthenticationPolicyId"),
    ] {
        let items = h.items(list, json!({})).await;
        let default = id_of(items.iter().find(|p| p["default"] == json!(true)).unwrap_or_else(|| panic!("{list}: no default")));
        let (status, err) = h.fails(del, json!({ key: default })).await;
        assert_eq!((status, detail_targets(&err)), (400, vec!["default".to_owned()]), "{del}: {err}");
    }

    // Deleting a group drops its memberships and role assignments.
    let g = id_of(&h.call("create_group", json!({ "name": "Doomed" })).await);
    let child = id_of(&h.call("create_group", json!({ "name": "Child" })).await);
    let users = h.items("list_users", json!({ "limit": 3, "filter": format!("population.id eq \"{default_pop}\"") })).await;
    let users: Vec<String> = h.items("list_users", json!({ "limit": 3 })).await.iter().map(id_of).chain(users.iter().map(id_of)).collect();
    for u in &users {
        h.call("add_user_to_group", json!({ "userId": u, "id": child })).await;
    }
    h.call("add_group_to_group", json!({ "groupId": child, "id": g })).await;
    let (status, _) = h.fails("add_group_to_group", json!({ "groupId": g, "id": child })).await;
    assert_eq!(status, 400, "cycles are refused");
    let members = h.call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{g}\"]") })).await;
    assert_eq!(members["count"], json!(users.len()), "members of a nested group are indirect members");
    // Beside other attributes, which the filter reads from the same user.
    let mut populations = Vec::new();
    for u in &users {
        populations.push(h.call("get_user", json!({ "userId": u })).await["population"]["id"].as_str().unwrap().to_owned());
    }
    let in_first = h.call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{g}\"] and population.id eq \"{}\"", populations[0]) })).await;
    assert_eq!(in_first["count"], json!(populations.iter().filter(|p| **p == populations[0]).count()), "{in_first}");
    let roles = h.items("list_system_roles", json!({})).await;
    let data_admin = id_of(named(&roles, "Identity Data Admin"));
    let org_admin = id_of(named(&roles, "Organization Admin"));
    h.call("create_group_role_assignment", json!({ "groupId": g, "role": { "id": data_admin }, "scope": { "id": default_pop, "type": "POPULATION" } })).await;
    let (status, err) = h.fails("create_group_role_assignment", json!({ "groupId": g, "role": { "id": data_admin }, "scope": { "id": default_pop, "type": "POPULATION" } })).await;
    assert_eq!((status, err["details"][0]["code"].as_str()), (400, Some("UNIQUENESS_VIOLATION")));
    h.call("delete_group", json!({ "groupId": g })).await;
    let (status, _) = h.fails("list_group_role_assignments", json!({ "groupId": g })).await;
    assert_eq!(status, 404);
    assert!(h.items("list_group_nested_groups", json!({ "groupId": child })).await.is_empty());
    let groups_of_first = h.items("list_user_groups", json!({ "userId": users[0] })).await;
    assert!(groups_of_first.iter().all(|m| m["id"] != json!(g)));

    // Scope types (the worker, an Environment Admin of the environment, assigns nothing
    // at the organisation's).
    let env = h.sim.environment_id.clone();
    let u = users[2].clone();
    let app = h.sim.client_id.clone();
    let owner = id_of(named(&roles, "Application Owner"));
    for (role, scope_type, scope_id) in [(&data_admin, "ENVIRONMENT", &env), (&data_admin, "POPULATION", &default_pop), (&owner, "APPLICATION", &app)] {
        let ra = h.call("create_user_role_assignment", json!({ "userId": u, "role": { "id": role }, "scope": { "id": scope_id, "type": scope_type } })).await;
        assert_eq!(ra["scope"]["type"], scope_type);
    }
    let (status, err) = h.fails("create_user_role_assignment", json!({ "userId": u, "role": { "id": org_admin }, "scope": { "id": env, "type": "ENVIRONMENT" } })).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["scope.type".to_owned()]), "Organization Admin is organisation-only: {err}");
    // The catalog's enum stops this one in the client (status 0); the simulator answers 400 too.
    let (status, _) = h.fails("create_user_role_assignment", json!({ "userId": u, "role": { "id": data_admin }, "scope": { "id": env, "type": "GALAXY" } })).await;
    assert!(status == 0 || status == 400, "{status}");
}

/// Raw HTTP, for what the client hides: OAuth errors, tokens, content types.
#[tokio::test]
async fn tokens_content_types_and_environment() {
    let sim = Simulator::start(SimulatorConfig { users: 10, environment_type: EnvironmentType::Production, ..SimulatorConfig::default() }, 0).await.unwrap();
    let http = reqwest::Client::new();
    let token_url = format!("{}/{}/as/token", sim.auth_base(), sim.environment_id);
    let wrong = http.post(&token_url).basic_auth(&sim.client_id, Some("wrong")).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());
    // The worker authenticates with client_secret_basic; the Reporting Service with client_secret_post.
    let posted = http.post(&token_url).form(&[("grant_type", "client_credentials"), ("client_id", &sim.client_id), ("client_secret", &sim.client_secret)]).send().await.unwrap();
    assert_eq!(posted.status(), 401, "the worker is configured for client_secret_basic");
    let ok: Value = http.post(&token_url).basic_auth(&sim.client_id, Some(&sim.client_secret)).form(&[("grant_type", "client_credentials")]).send().await.unwrap().json().await.unwrap();
    let token = ok["access_token"].as_str().unwrap().to_owned();
    assert_eq!(ok["token_type"], "Bearer");

    let users_url = format!("{}/environments/{}/users", sim.api_base(), sim.environment_id);
    let no_token = http.get(&users_url).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let bad = http.get(&users_url).bearer_auth("made-up").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(bad.json::<Value>().await.unwrap()["code"], "ACCESS_FAILED");
    let wrong_type = http.post(&users_url).bearer_auth(&token).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(wrong_type.status(), 415);
    assert_eq!(wrong_type.json::<Value>().await.unwrap()["code"], "INVALID_REQUEST");
    let first: Value = http.get(format!("{users_url}?limit=1")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let uid = first["_embedded"]["users"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["size"], 1);
    assert!(first["_links"]["next"]["href"].as_str().unwrap().contains("cursor="));
    let pw = http.put(format!("{users_url}/{uid}/password")).bearer_auth(&token).json(&json!({ "value": "Another-long-Passw0rd!" })).send().await.unwrap();
    assert_eq!(pw.status(), 415, "set password needs application/vnd.pingidentity.password.set+json");

    let env: Value = http.get(format!("{}/environments/{}", sim.api_base(), sim.environment_id)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(env["type"], "PRODUCTION");
    let org_roles: Value = http.get(format!("{}/roles", sim.api_base())).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(org_roles["count"], 8);

    // Expired tokens are refused; the client fetches a new one by itself.
    sim.expire_tokens();
    let expired = http.get(&users_url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(expired.status(), 401);
    let client = PingOneClient::new(sim.connection(), fast_retries()).unwrap();
    let catalog = load_builtin().unwrap();
    let list = catalog.get("list_users").unwrap();
    client.call(list, &json!({ "limit": 1 }), &CallOptions::default()).await.unwrap();
    sim.expire_tokens();
    client.call(list, &json!({ "limit": 1 }), &CallOptions::default()).await.expect("the client refreshes an expired token");
    sim.shutdown().await;
}

#[tokio::test]
async fn secret_rotation_keeps_the_previous_secret_until_retired() {
    let mut h = Harness::users(5).await;
    let apps = h.items("list_applications", json!({})).await;
    let app = id_of(named(&apps, "Orders Backend"));
    let old = h.call("get_application_secret", json!({ "applicationId": app })).await["secret"].as_str().unwrap().to_owned();
    let rotated = h.call("generate_application_secret", json!({ "applicationId": app, "previous": { "expiresAt": a_day_from_now() } })).await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let token_url = format!("{}/{}/as/token", h.sim.auth_base(), h.sim.environment_id);
    let status = |secret: String| {
        let http = http.clone();
        let url = token_url.clone();
        let app = app.clone();
        async move { http.post(url).basic_auth(app, Some(secret)).form(&[("grant_type", "client_credentials")]).send().await.unwrap().status().as_u16() }
    };
    let unused = h.call("get_application_secret", json!({ "applicationId": app })).await;
    assert!(unused["previous"].get("lastUsed").is_none(), "{unused}");
    assert_eq!(status(old.clone()).await, 200, "the previous secret still works");
    assert_eq!(status(new.clone()).await, 200);
    // When it was last used is what an admin checks before retiring it.
    let used = h.call("get_application_secret", json!({ "applicationId": app })).await;
    assert!(used["previous"]["lastUsed"].as_str().is_some_and(|t| t.ends_with('Z')), "{used}");
    h.call("delete_application_secret", json!({ "applicationId": app })).await;
    assert_eq!(status(old).await, 401, "retired");
    assert_eq!(status(new.clone()).await, 200);
    // Without an expiry for it, the old secret stops working at once, as PingOne's does.
    let abrupt = h.call("generate_application_secret", json!({ "applicationId": app })).await;
    assert!(abrupt.get("previous").is_none(), "{abrupt}");
    assert_eq!(status(new).await, 401, "replaced without a grace period");
    assert_eq!(status(abrupt["secret"].as_str().unwrap().to_owned()).await, 200);
    // The spec's range is 1 minute to 30 days.
    let soon = humantime::format_rfc3339_seconds(std::time::SystemTime::now() + std::time::Duration::from_secs(10)).to_string();
    let (code, body) = h.fails("generate_application_secret", json!({ "applicationId": app, "previous": { "expiresAt": soon } })).await;
    assert!(code == 400 && body.to_string().contains("1 minute to 30 days"), "{code} {body}");
    // A worker cannot read its own secret.
    let worker = h.sim.client_id.clone();
    let (code, _) = h.fails("get_application_secret", json!({ "applicationId": worker })).await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn seed_is_deterministic_and_carries_injections() {
    let a = Harness::users(50).await;
    let b = Harness::users(50).await;
    assert_eq!(a.sim.environment_id, b.sim.environment_id);
    assert_eq!(a.sim.client_secret, b.sim.client_secret);
    let mut a = a;
    let mut b = b;
    let ua = a.call("list_users", json!({ "all": true })).await;
    let ub = b.call("list_users", json!({ "all": true })).await;
    let key = |v: &Value| v.as_array().unwrap().iter().map(|u| format!("{} {} {}", u["id"], u["username"], u["population"]["id"])).collect::<Vec<_>>();
    assert_eq!(key(&ua), key(&ub));
    let text = serde_json::to_string(&ua).unwrap() + &serde_json::to_string(&a.call("list_groups", json!({ "all": true })).await).unwrap();
    assert!(INJECTIONS.iter().filter(|i| text.contains(&serde_json::to_string(i).unwrap()[1..20])).count() >= 2, "injection text is seeded");
}

fn with_faults(rule: FaultRule) -> SimulatorConfig {
    SimulatorConfig { users: 20, faults: Faults::none().with(rule), ..SimulatorConfig::default() }
}

#[tokio::test]
async fn fault_429_with_retry_after_is_retried() {
    let mut h = Harness::new(with_faults(FaultRule::new(FaultKind::RateLimit { retry_after_ms: 200 }, Trigger::Every(2)).on_path("/users"))).await;
    let started = Instant::now();
    for _ in 0..3 {
        h.call("list_users", json!({ "limit": 5 })).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(200), "Retry-After was honoured");
    // A POST refused with 429 was not processed, so it is retried too.
    h.call("create_group", json!({ "name": "After throttling" })).await;
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::RateLimit { retry_after_ms: 0 }, Trigger::Always)));
    let (status, err) = h.fails("list_groups", json!({})).await;
    assert_eq!((status, err["code"].as_str()), (429, Some("REQUEST_LIMITED")));
}

#[tokio::test]
async fn fault_5xx_retries_gets_and_reports_posts_as_unknown() {
    let mut h = Harness::new(with_faults(FaultRule::new(FaultKind::ServerError { status: 502, applied: false }, Trigger::Every(2)))).await;
    h.call("list_groups", json!({})).await;
    h.call("list_groups", json!({})).await;
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::ServerError { status: 500, applied: false }, Trigger::Always).on_method("POST")));
    let err = h.try_call("create_group", json!({ "name": "Maybe" })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err}");
    assert!(err.to_string().contains("outcome is unknown"), "{err}");
    // A server error may come before the call was carried out, or after (a gateway's
    // timeout on a create that landed): a script's recovery must meet both.
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::ServerError { status: 504, applied: true }, Trigger::Always).on_method("POST")));
    let err = h.try_call("create_group", json!({ "name": "Landed" })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err}");
    h.sim.set_faults(Faults::none());
    assert!(h.items("list_groups", json!({ "filter": "name eq \"Maybe\"" })).await.is_empty(), "not carried out");
    assert_eq!(h.items("list_groups", json!({ "filter": "name eq \"Landed\"" })).await.len(), 1, "carried out, its answer lost");
}

/// Review 40: a delete carried out whose answer was lost (a 5xx after the fact, a cut
/// connection) is retried, as deletes are; the retry's 404 is that delete's own doing,
/// so the call succeeds, where it used to fail NOT_FOUND for a record it had removed.
/// A delete of a record that was never there still fails 404.
#[tokio::test]
async fn a_retried_delete_that_finds_its_record_gone_succeeds() {
    for fault in [FaultKind::ServerError { status: 502, applied: true }, FaultKind::Drop] {
        let mut h = Harness::new(with_faults(FaultRule::new(fault, Trigger::Every(2)).on_method("DELETE"))).await;
        let users = h.items("list_users", json!({})).await;
        let (first, second) = (id_of(&users[0]), id_of(&users[1]));
        assert_eq!(h.call("delete_user", json!({ "userId": first })).await, Value::Null, "{fault:?}: answered");
        assert_eq!(h.call("delete_user", json!({ "userId": second })).await, Value::Null, "{fault:?}: answer lost, retried, found gone");
        h.sim.set_faults(Faults::none());
        for id in [&first, &second] {
            assert_eq!(h.fails("get_user", json!({ "userId": id })).await.0, 404, "{fault:?}: deleted");
        }
        assert_eq!(h.fails("delete_user", json!({ "userId": second })).await.0, 404, "{fault:?}: a delete of what is not there still fails");
    }
}

#[tokio::test]
async fn fault_latency_is_added() {
    let mut h = Harness::new(with_faults(FaultRule::new(FaultKind::Latency { ms: 150 }, Trigger::Always).on_path("/groups"))).await;
    h.call("list_users", json!({ "limit": 1 })).await;
    let started = Instant::now();
    h.call("list_users", json!({ "limit": 1 })).await;
    let fast = started.elapsed();
    let started = Instant::now();
    h.call("list_groups", json!({})).await;
    let slow = started.elapsed();
    assert!(slow >= Duration::from_millis(150) && fast < Duration::from_millis(150), "{fast:?} {slow:?}");
}

#[tokio::test]
async fn fault_dropped_connection() {
    let mut h = Harness::new(with_faults(FaultRule::new(FaultKind::Drop, Trigger::Every(2)))).await;
    // GETs are retried past the drop.
    for _ in 0..3 {
        h.call("list_groups", json!({})).await;
    }
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::Drop, Trigger::Always)));
    let err = h.try_call("create_group", json!({ "name": "Dropped" })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err}");
    let err = h.try_call("list_groups", json!({})).await.unwrap_err();
    assert!(matches!(err, ClientError::RetriesExhausted { .. }), "{err}");
    // Cut mid-response: the create was carried out, so creating it again would clash.
    h.sim.set_faults(Faults::none());
    assert_eq!(h.items("list_groups", json!({ "filter": "name eq \"Dropped\"" })).await.len(), 1);
    let (status, err) = h.fails("create_group", json!({ "name": "Dropped" })).await;
    assert_eq!(status, 400, "{err}");
}

/// A rename and a delete carried out each time while every answer is lost: both end
/// with their outcome unknown, and both were applied (review 43, H1: reported as not).
#[tokio::test]
async fn an_applied_write_whose_answers_are_all_lost_is_not_reported_as_failed() {
    let mut h = Harness::new(SimulatorConfig { users: 20, ..SimulatorConfig::default() }).await;
    let group = h.call("create_group", json!({ "name": "Renamed Later" })).await;
    let id = group["id"].as_str().unwrap().to_owned();
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::Drop, Trigger::Always).on_path("/groups")));
    let err = h.try_call("update_group", json!({ "groupId": id, "name": "Renamed" })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }) && err.to_string().contains("and may have been applied"), "{err}");
    h.sim.set_faults(Faults::none());
    assert_eq!(h.call("get_group", json!({ "groupId": id })).await["name"], "Renamed", "it was applied");
    h.sim.set_faults(Faults::none().with(FaultRule::new(FaultKind::Drop, Trigger::Always).on_path("/groups")));
    let err = h.try_call("delete_group", json!({ "groupId": id })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err}");
    h.sim.set_faults(Faults::none());
    assert_eq!(h.fails("get_group", json!({ "groupId": id })).await.0, 404, "it was applied");
}

#[tokio::test]
async fn fault_malformed_body() {
    let mut h = Harness::new(with_faults(FaultRule::new(FaultKind::Malformed, Trigger::Always).on_path("/populations"))).await;
    let err = h.try_call("list_populations", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
    h.call("list_groups", json!({})).await;
}

/// An expiry for a rotated-out secret, as PingOne takes it (an HTTP date is read too).
fn a_day_from_now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(86_400))
}

/// The management API over raw HTTP, for bodies the catalog's own checks would stop
/// before the simulator sees them.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(sim: &Simulator) -> Self {
        let http = reqwest::Client::new();
        let token_url = format!("{}/{}/as/token", sim.auth_base(), sim.environment_id);
        let reply: Value = http.post(token_url).basic_auth(&sim.client_id, Some(&sim.client_secret)).form(&[("grant_type", "client_credentials")]).send().await.unwrap().json().await.unwrap();
        let token = reply["access_token"].as_str().expect("a worker token").to_owned();
        Self { http, base: format!("{}/environments/{}", sim.api_base(), sim.environment_id), token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(&body)).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POSTs a body that must be accepted; answers the new record.
    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, reply) = self.post(path, body.clone()).await;
        assert_eq!(status, 201, "POST {path} {body}: {reply}");
        reply
    }
}

/// A 400 INVALID_DATA whose details name `target`.
fn assert_refused(reply: &(u16, Value), target: &str, what: &str) {
    let (status, body) = reply;
    assert_eq!((*status, body["code"].as_str()), (400, Some("INVALID_DATA")), "{what}: {body}");
    assert!(detail_targets(body).iter().any(|t| t == target), "{what}: expected a detail for `{target}`: {body}");
}

/// PRIVATE_KEY_JWT needs the client's keys, from jwks or an https:// jwksUrl, as the
/// spec says (review 57 M1: an app with neither was stored).
#[tokio::test]
async fn a_private_key_jwt_client_needs_its_keys() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let app = |keys: Value| {
        let mut app = json!({ "name": "Signer", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "tokenEndpointAuthMethod": "PRIVATE_KEY_JWT", "grantTypes": ["CLIENT_CREDENTIALS"] });
        app.as_object_mut().unwrap().extend(keys.as_object().unwrap().clone());
        app
    };
    assert_refused(&api.post("applications", app(json!({}))).await, "jwks", "no keys");
    assert_refused(&api.post("applications", app(json!({ "jwksUrl": "http://keys.example.com/jwks" }))).await, "jwksUrl", "a plain-http jwksUrl");
    api.created("applications", app(json!({ "jwksUrl": "https://keys.example.com/jwks" }))).await;
    api.created("applications", app(json!({ "jwks": "{\"keys\":[]}" }))).await;
}

fn saml_app(name: &str, entity: &str) -> Value {
    json!({ "name": name, "enabled": true, "protocol": "SAML", "type": "WEB_APP", "acsUrls": ["https://sp.example.com/acs"], "assertionDuration": 60, "spEntityId": entity })
}

#[tokio::test]
async fn saml_and_ws_fed_applications_need_what_the_spec_requires() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    // spEntityId is unique in the environment, on create and on update.
    let first = api.created("applications", saml_app("SP one", "urn:test:sp")).await;
    assert_eq!((&first["assertionSigned"], &first["responseSigned"]), (&json!(true), &json!(false)), "the spec's defaults: {first}");
    assert_refused(&api.post("applications", saml_app("SP two", "urn:test:sp")).await, "spEntityId", "a second app with the same spEntityId");
    let second = api.created("applications", saml_app("SP two", "urn:test:sp2")).await;
    assert_refused(&api.put(&format!("applications/{}", id_of(&second)), saml_app("SP two", "urn:test:sp")).await, "spEntityId", "an update onto a used spEntityId");
    let (status, kept) = api.put(&format!("applications/{}", id_of(&first)), saml_app("SP one renamed", "urn:test:sp")).await;
    assert_eq!(status, 200, "an app keeps its own spEntityId: {kept}");
    // At least one ACS URL.
    let mut no_acs = saml_app("SP three", "urn:test:sp3");
    no_acs["acsUrls"] = json!([]);
    assert_refused(&api.post("applications", no_acs).await, "acsUrls", "an empty acsUrls");
    // An ACS URL is a URL, and an assertion lasts some time (review 57 M2).
    let mut not_a_url = saml_app("SP four", "urn:test:sp4");
    not_a_url["acsUrls"] = json!(["https://sp.example.com/acs", "not a url"]);
    assert_refused(&api.post("applications", not_a_url).await, "acsUrls[1]", "an ACS URL that is not one");
    for duration in [0, -5] {
        let mut none = saml_app("SP five", "urn:test:sp5");
        none["assertionDuration"] = json!(duration);
        assert_refused(&api.post("applications", none).await, "assertionDuration", "an assertion that lasts no time");
    }
    // A new SAML app has its CORE subject mapping, as the seeded ones do.
    let attrs = api.get(&format!("applications/{}/attributes", id_of(&first))).await;
    let core: Vec<&Value> = attrs["_embedded"]["attributes"].as_array().unwrap().iter().filter(|a| a["mappingType"] == "CORE").collect();
    assert_eq!(core.len(), 1, "{attrs}");
    assert_eq!((&core[0]["name"], &core[0]["value"]), (&json!("samlAssertion.subject"), &json!("${user.id}")), "the spec's reserved name");
    // A second subject mapping is refused, pointing at the one to change (review 57 M3).
    let again = api.post(&format!("applications/{}/attributes", id_of(&first)), json!({ "name": "samlassertion.SUBJECT", "value": "${user.email}" })).await;
    assert_refused(&again, "name", "a second subject mapping");
    assert!(again.1.to_string().contains("update_application_attribute"), "{}", again.1);
    let unclosed = api.post(&format!("applications/{}/attributes", id_of(&first)), json!({ "name": "mail", "value": "${user.email" })).await;
    assert_refused(&unclosed, "value", "an expression left open");
    api.created(&format!("applications/{}/attributes", id_of(&first)), json!({ "name": "mail", "value": "${user.email}" })).await;

    // WS_FED needs domainName, idpSigning and replyUrl.
    let bare = json!({ "name": "Office", "enabled": true, "protocol": "WS_FED", "type": "WEB_APP" });
    let (status, err) = api.post("applications", bare.clone()).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["domainName".to_owned(), "idpSigning.algorithm".into(), "idpSigning.key.id".into(), "replyUrl".into()]), "{err}");
    let mut full = bare;
    full["domainName"] = json!("example.com");
    full["replyUrl"] = json!("https://login.microsoftonline.com/login.srf");
    full["idpSigning"] = json!({ "algorithm": "SHA256withRSA", "key": { "id": "a-key-id" } });
    api.created("applications", full.clone()).await;
    full["assertionDuration"] = json!(60);
    assert_refused(&api.post("applications", full).await, "assertionDuration", "a WS_FED assertionDuration under 300");
}

#[tokio::test]
async fn oidc_attribute_mappings_refuse_reserved_names_and_a_mapping_nobody_gets() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let app = api.created("applications", json!({ "name": "Claims", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" })).await;
    let attrs_path = format!("applications/{}/attributes", id_of(&app));
    for reserved in ["sub", "nonce", "aud", "client_id"] {
        assert_refused(&api.post(&attrs_path, json!({ "name": reserved, "value": "${user.email}" })).await, "name", reserved);
    }
    assert_refused(&api.post(&attrs_path, json!({ "name": "dept", "value": "${user.type}", "idToken": false, "userInfo": false })).await, "idToken", "both false");
    let dept = api.created(&attrs_path, json!({ "name": "dept", "value": "${user.type}" })).await;
    assert_eq!((&dept["idToken"], &dept["userInfo"]), (&json!(true), &json!(true)), "the spec's defaults: {dept}");
    let (status, one_way) = api.put(&format!("{attrs_path}/{}", id_of(&dept)), json!({ "name": "dept", "value": "${user.type}", "idToken": false })).await;
    assert_eq!((status, &one_way["userInfo"]), (200, &json!(true)), "{one_way}");

    // The new app has its CORE `sub` mapping; its value can be changed under its reserved name.
    let list = api.get(&attrs_path).await;
    let sub = list["_embedded"]["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "sub").unwrap_or_else(|| panic!("no sub mapping: {list}")).clone();
    assert_eq!(sub["mappingType"], "CORE");
    let (status, updated) = api.put(&format!("{attrs_path}/{}", id_of(&sub)), json!({ "name": "sub", "value": "${user.username}" })).await;
    assert_eq!((status, &updated["value"]), (200, &json!("${user.username}")), "{updated}");
    assert_refused(&api.put(&format!("{attrs_path}/{}", id_of(&dept)), json!({ "name": "iss", "value": "x" })).await, "name", "a custom mapping renamed to a reserved name");
}

#[tokio::test]
async fn an_imported_client_secret_is_the_one_read_back() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let secret = format!("{}ZZ", "0".repeat(62));
    let body = json!({ "name": "Migrated", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "grantTypes": ["CLIENT_CREDENTIALS"], "clientId": "legacy-client-0001", "clientSecret": secret });
    let app = api.created("applications", body.clone()).await;
    assert!(app.get("clientSecret").is_none(), "the secret is write-only: {app}");
    assert!(api.get(&format!("applications/{}", id_of(&app))).await.get("clientSecret").is_none());
    assert_eq!(api.get(&format!("applications/{}/secret", id_of(&app))).await["secret"], json!(secret));
    // Its clients keep signing in with the imported client id and secret.
    let token_url = format!("{}/{}/as/token", h.sim.auth_base(), h.sim.environment_id);
    let http = reqwest::Client::new();
    let token = http.post(&token_url).basic_auth("legacy-client-0001", Some(&secret)).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(token.status(), 200, "{}", token.text().await.unwrap());
    let wrong = http.post(&token_url).basic_auth("legacy-client-0001", Some("wrong")).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // Each needs the other, and the client id is not reused.
    let mut alone = body.clone();
    alone.as_object_mut().unwrap().remove("clientId");
    assert_refused(&api.post("applications", alone).await, "clientId", "a secret without its client id");
    let mut again = body;
    again["name"] = json!("Migrated twice");
    assert_refused(&api.post("applications", again).await, "clientId", "a client id already imported");
}

#[tokio::test]
async fn access_control_takes_the_spec_values_and_existing_groups() {
    let mut h = Harness::users(5).await;
    let group = id_of(&h.items("list_groups", json!({ "limit": 1 })).await[0]);
    let api = Api::new(&h.sim).await;
    let app = |access: Value| json!({ "name": "Restricted", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "accessControl": access });
    assert_refused(&api.post("applications", app(json!({ "role": { "type": "EVERYONE" } }))).await, "accessControl.role.type", "role type EVERYONE");
    assert_refused(&api.post("applications", app(json!({ "group": { "type": "SOME_GROUPS", "groups": [{ "id": group }] } }))).await, "accessControl.group.type", "group type SOME_GROUPS");
    assert_refused(&api.post("applications", app(json!({ "group": { "type": "ANY_GROUP", "groups": [] } }))).await, "accessControl.group.groups", "no groups");
    let unknown = "00000000-0000-4000-8000-00000000dead";
    let (status, err) = api.post("applications", app(json!({ "group": { "type": "ANY_GROUP", "groups": [{ "id": unknown }] } }))).await;
    assert_refused(&(status, err.clone()), "accessControl.group.groups", "an unknown group");
    assert!(err.to_string().contains(unknown), "the message names the group: {err}");
    let made = api.created("applications", app(json!({ "role": { "type": "ADMIN_USERS_ONLY" }, "group": { "type": "ALL_GROUPS", "groups": [{ "id": group }] } }))).await;
    assert_refused(&api.put(&format!("applications/{}", id_of(&made)), app(json!({ "group": { "type": "ANY_GROUP", "groups": [{ "id": unknown }] } }))).await, "accessControl.group.groups", "an update to an unknown group");
}

#[tokio::test]
async fn identity_providers_need_what_their_type_requires() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let idp = |name: &str, kind: &str, fields: Value| {
        let mut body = json!({ "name": name, "type": kind, "enabled": true });
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        body
    };
    // APPLE: a signing key, key id and team id, and no client secret.
    let apple = idp("Apple", "APPLE", json!({ "clientId": "com.example.web", "clientSecretSigningKey": "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----", "keyId": "ABCDE12345", "teamId": "TEAM123456" }));
    api.created("identityProviders", apple.clone()).await;
    let (status, err) = api.post("identityProviders", idp("Apple 2", "APPLE", json!({ "clientId": "com.example.web" }))).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["clientSecretSigningKey".to_owned(), "keyId".into(), "teamId".into()]), "{err}");
    let mut short_key = apple;
    short_key["name"] = json!("Apple 3");
    short_key["keyId"] = json!("ABC");
    assert_refused(&api.post("identityProviders", short_key).await, "keyId", "a key id that is not 10 characters");
    // PAYPAL: clientEnvironment, sandbox or live.
    assert_refused(&api.post("identityProviders", idp("PayPal", "PAYPAL", json!({ "clientId": "c", "clientSecret": "s" }))).await, "clientEnvironment", "PayPal without clientEnvironment");
    assert_refused(&api.post("identityProviders", idp("PayPal", "PAYPAL", json!({ "clientId": "c", "clientSecret": "s", "clientEnvironment": "test" }))).await, "clientEnvironment", "PayPal with another environment");
    api.created("identityProviders", idp("PayPal", "PAYPAL", json!({ "clientId": "c", "clientSecret": "s", "clientEnvironment": "sandbox" }))).await;
    // OPENID_CONNECT endpoints use https.
    let oidc = |auth: &str| idp("Corp OIDC", "OPENID_CONNECT", json!({ "clientId": "c", "clientSecret": "s", "authorizationEndpoint": auth, "tokenEndpoint": "https://idp.example.com/token", "jwksEndpoint": "https://idp.example.com/jwks", "issuer": "https://idp.example.com", "scopes": ["openid"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" }));
    assert_refused(&api.post("identityProviders", oidc("http://idp.example.com/auth")).await, "authorizationEndpoint", "an http endpoint");
    let corp = api.created("identityProviders", oidc("https://idp.example.com/auth")).await;
    // Attributes PingOne owns cannot be mapped.
    let attrs = format!("identityProviders/{}/attributes", id_of(&corp));
    for name in ["enabled", "mfaEnabled", "id", "lifecycle"] {
        assert_refused(&api.post(&attrs, json!({ "name": name, "value": "${providerAttributes.x}", "update": "ALWAYS" })).await, "name", name);
    }
    api.created(&attrs, json!({ "name": "name.given", "value": "${providerAttributes.given_name}", "update": "ALWAYS" })).await;
    // Review 49: a new provider has the CORE username mapping the schema requires, so
    // mapping `username` again is refused; a COMPLEX attribute, one the schema lacks and
    // a value without a placeholder are refused too.
    let mappings = api.get(&attrs).await;
    let core: Vec<&Value> = mappings["_embedded"]["attributes"].as_array().unwrap().iter().filter(|a| a["mappingType"] == "CORE").collect();
    assert_eq!((core.len(), &core[0]["name"], &core[0]["value"]), (1, &json!("username"), &json!("${providerAttributes.sub}")), "{mappings}");
    let (status, err) = api.post(&attrs, json!({ "name": "username", "value": "${providerAttributes.email}", "update": "ALWAYS" })).await;
    assert_eq!((status, detail_targets(&err)), (400, vec!["name".to_owned()]), "{err}");
    for (name, value, target) in [("name", "${providerAttributes.name}", "name"), ("favouriteColour", "${providerAttributes.colour}", "name"), ("title", "providerAttributes.title", "value")] {
        assert_refused(&api.post(&attrs, json!({ "name": name, "value": value, "update": "ALWAYS" })).await, target, name);
    }
    // A provider a sign-on step uses stays until the step changes.
    let policy = api.created("signOnPolicies", json!({ "name": "Partner_Sign_On" })).await;
    let step = json!({ "type": "IDENTITY_PROVIDER", "priority": 1, "identityProvider": { "id": id_of(&corp) } });
    api.created(&format!("signOnPolicies/{}/actions", id_of(&policy)), step).await;
    let (status, err) = api.send(reqwest::Method::DELETE, &format!("identityProviders/{}", id_of(&corp)), None).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("REQUEST_FAILED")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("used by 1 sign-on policy action(s)"), "{err}");
}

/// Review 49: what PingOne refuses in an OIDC application's settings and a sign-on
/// step's condition and fields is refused here too, so a rehearsed change is a test.
#[tokio::test]
async fn oidc_settings_and_sign_on_conditions_pingone_refuses_are_refused() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let web = |extra: Value| {
        let mut body = json!({ "name": "Portal", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"], "redirectUris": ["https://portal.example.com/cb"] });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    assert_refused(&api.post("applications", web(json!({ "redirectUris": ["/callback"] }))).await, "redirectUris[0]", "a relative redirect URI");
    assert_refused(&api.post("applications", web(json!({ "redirectUris": ["https://*.example.com/cb"] }))).await, "redirectUris[0]", "a wildcard without the flag");
    assert_refused(&api.post("applications", web(json!({ "responseTypes": ["TOKEN"] }))).await, "responseTypes", "AUTHORIZATION_CODE without CODE");
    assert_refused(&api.post("applications", web(json!({ "grantTypes": ["REFRESH_TOKEN"], "responseTypes": [] }))).await, "grantTypes", "REFRESH_TOKEN alone");
    api.created("applications", web(json!({ "redirectUris": ["https://portal.example.com/*"], "allowWildcardInRedirectUris": true }))).await;
    // Every seeded application goes back unchanged.
    for a in api.get("applications").await["_embedded"]["applications"].as_array().unwrap() {
        let (status, reply) = api.put(&format!("applications/{}", id_of(a)), a.clone()).await;
        assert_eq!(status, 200, "seeded application {}: {reply}", a["name"]);
    }

    let policy = api.created("signOnPolicies", json!({ "name": "Conditions" })).await;
    let steps = format!("signOnPolicies/{}/actions", id_of(&policy));
    let mfa = |extra: Value| {
        let mut body = json!({ "type": "MULTI_FACTOR_AUTHENTICATION", "priority": 1 });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    assert_refused(&api.post(&steps, mfa(json!({ "condition": { "secondsSince": "${session.lastSignOn.withAuthenticator.mfa.at}", "greater": "12h" } }))).await, "condition", "greater as text");
    assert_refused(&api.post(&steps, mfa(json!({ "condition": { "foo": "bar" } }))).await, "condition", "no condition at all");
    let idp = api.get("identityProviders").await["_embedded"]["identityProviders"][0].clone();
    assert_refused(&api.post(&steps, mfa(json!({ "identityProvider": { "id": id_of(&idp) } }))).await, "identityProvider", "an MFA step with a provider");
    api.created(&steps, mfa(json!({ "condition": { "secondsSince": "${session.lastSignOn.withAuthenticator.mfa.at}", "greater": 43200 } }))).await;

    // An SMS device's number has its country code: `555-1234` can never get a code.
    let user = api.get("users?limit=1").await["_embedded"]["users"][0].clone();
    let devices = format!("users/{}/devices", id_of(&user));
    assert_refused(&api.post(&devices, json!({ "type": "SMS", "phone": "555-1234" })).await, "phone", "a number without its country code");
    api.created(&devices, json!({ "type": "SMS", "phone": "+1.4155550100" })).await;
}

#[tokio::test]
async fn password_policy_limits_are_the_specs() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    let policy = |extra: Value| {
        let mut body = json!({ "name": "Limits", "excludesCommonlyUsed": true, "excludesProfileData": true, "notSimilarToCurrent": true });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (json!({ "length": { "min": 4, "max": 64 } }), "length.min"),
        (json!({ "length": { "min": 40, "max": 64 } }), "length.min"),
        (json!({ "length": { "min": 12, "max": 10 } }), "length.max"),
        (json!({ "maxAgeDays": 10, "minAgeDays": 1 }), "maxAgeDays"),
        (json!({ "maxAgeDays": 21 }), "maxAgeDays"),
        (json!({ "minAgeDays": 0 }), "minAgeDays"),
        (json!({ "qwertySequenceRule": { "maxLength": 2 } }), "qwertySequenceRule.maxLength"),
        (json!({ "shiftedNumberRowSequenceRule": { "maxLength": 4 } }), "shiftedNumberRowSequenceRule.maxLength"),
        (json!({ "alphabetSequenceRule": { "maxLength": 9 } }), "alphabetSequenceRule.maxLength"),
        (json!({ "numberSequenceRule": { "maxLength": 1 } }), "numberSequenceRule.maxLength"),
        (json!({ "minCharacters": { "abc": 1 } }), "minCharacters"),
        (json!({ "lockout": { "failureCount": 0, "durationSeconds": 60 } }), "lockout.failureCount"),
        (json!({ "lockout": { "failureCount": 5, "durationSeconds": 0 } }), "lockout.durationSeconds"),
        (json!({ "history": { "count": 0, "retentionDays": 30 } }), "history.count"),
        (json!({ "history": { "count": 3, "retentionDays": 0 } }), "history.retentionDays"),
    ];
    for (extra, target) in cases {
        let what = extra.to_string();
        assert_refused(&api.post("passwordPolicies", policy(extra)).await, target, &what);
    }
    let at_the_limits = json!({ "length": { "min": 32, "max": 32 }, "maxAgeDays": 23, "minAgeDays": 1, "qwertySequenceRule": { "maxLength": 3 }, "shiftedNumberRowSequenceRule": { "maxLength": 3 }, "alphabetSequenceRule": { "maxLength": 2 }, "numberSequenceRule": { "maxLength": 3 }, "minCharacters": { "0123456789": 1, "~!@#$%^&*()-_=+[]{}|;:,.<>/?": 0 }, "lockout": { "failureCount": 1, "durationSeconds": 1 }, "history": { "count": 1, "retentionDays": 1 } });
    let made = api.created("passwordPolicies", policy(at_the_limits)).await;
    // The seeded policies satisfy the same rules: each goes back unchanged.
    let seeded = api.get("passwordPolicies").await;
    for p in seeded["_embedded"]["passwordPolicies"].as_array().unwrap().iter().filter(|p| p["id"] != made["id"]) {
        let (status, reply) = api.put(&format!("passwordPolicies/{}", id_of(p)), p.clone()).await;
        assert_eq!(status, 200, "seeded policy {}: {reply}", p["name"]);
    }
}

#[tokio::test]
async fn sign_on_policy_names_follow_the_pattern() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    for bad in ["Partner Login (v2)!", "Partner/Login", "Ünïcode"] {
        assert_refused(&api.post("signOnPolicies", json!({ "name": bad })).await, "name", bad);
    }
    for good in ["Partner_Login v2.1-beta", "urn:example:policy:partner"] {
        api.created("signOnPolicies", json!({ "name": good })).await;
    }
    let made = api.created("signOnPolicies", json!({ "name": "Renamed_Later" })).await;
    assert_refused(&api.put(&format!("signOnPolicies/{}", id_of(&made)), json!({ "name": "Renamed (later)" })).await, "name", "an update");
}

fn device_policy(name: &str, default: bool, otp_length: i64) -> Value {
    let otp = json!({ "lifeTime": { "duration": 5, "timeUnit": "MINUTES" }, "failure": { "count": 3, "coolDown": { "duration": 2, "timeUnit": "MINUTES" } }, "otpLength": otp_length });
    let on = json!({ "enabled": true, "otp": otp });
    json!({ "name": name, "default": default, "sms": on, "voice": on, "email": on, "mobile": { "enabled": true, "otp": { "failure": { "count": 3, "coolDown": { "duration": 2, "timeUnit": "MINUTES" } } } }, "totp": { "enabled": true, "otp": { "failure": { "count": 3, "coolDown": { "duration": 2, "timeUnit": "MINUTES" } } } } })
}

#[tokio::test]
async fn device_policies_keep_the_specs_ranges_and_one_default() {
    let h = Harness::users(5).await;
    let api = Api::new(&h.sim).await;
    assert_refused(&api.post("deviceAuthenticationPolicies", device_policy("Short OTP", false, 4)).await, "sms.otp.otpLength", "otpLength 4");
    assert_refused(&api.post("deviceAuthenticationPolicies", device_policy("Long OTP", false, 11)).await, "sms.otp.otpLength", "otpLength 11");
    let mut push = device_policy("Push", false, 6);
    push["mobile"]["applications"] = json!([{ "id": "app-1", "pushTimeout": { "duration": 200, "timeUnit": "SECONDS" } }]);
    assert_refused(&api.post("deviceAuthenticationPolicies", push).await, "mobile.applications[0].pushTimeout.duration", "a push timeout over 150");
    let mut grace = device_policy("Grace", false, 6);
    grace["totp"]["passcodeGracePeriod"] = json!(0);
    assert_refused(&api.post("deviceAuthenticationPolicies", grace).await, "totp.passcodeGracePeriod", "a grace period of 0");
    // Review 49: the FIDO2 failure count and the remember-me period keep their stated bounds.
    let mut fido = device_policy("FIDO failures", false, 6);
    fido["fido2"] = json!({ "enabled": true, "failure": { "count": 20, "coolDown": { "duration": 2, "timeUnit": "MINUTES" } } });
    assert_refused(&api.post("deviceAuthenticationPolicies", fido).await, "fido2.failure.count", "20 FIDO2 failures");
    let mut remember = device_policy("Remember long", false, 6);
    remember["rememberMe"] = json!({ "web": { "enabled": true, "lifeTime": { "duration": 200, "timeUnit": "DAYS" } } });
    assert_refused(&api.post("deviceAuthenticationPolicies", remember).await, "rememberMe.web.lifeTime.duration", "200 days");

    // A new default replaces the old one, which can then be deleted.
    let first = api.created("deviceAuthenticationPolicies", device_policy("First default", true, 10)).await;
    assert_eq!(first["forSignOnPolicy"], json!(false), "required in responses: {first}");
    let second = api.created("deviceAuthenticationPolicies", device_policy("Second default", true, 6)).await;
    let all = api.get("deviceAuthenticationPolicies").await;
    let defaults: Vec<&Value> = all["_embedded"]["deviceAuthenticationPolicies"].as_array().unwrap().iter().filter(|p| p["default"] == json!(true)).map(|p| &p["id"]).collect();
    assert_eq!(defaults, vec![&second["id"]], "{all}");
    let (status, body) = api.send(reqwest::Method::DELETE, &format!("deviceAuthenticationPolicies/{}", id_of(&first)), None).await;
    assert_eq!(status, 204, "the former default can go: {body}");
    // The default is not cleared by saying `default: false` (as with a sign-on policy).
    let mut undefault = device_policy("Second default", false, 6);
    undefault["id"] = second["id"].clone();
    assert_refused(&api.put(&format!("deviceAuthenticationPolicies/{}", id_of(&second)), undefault).await, "default", "the default told it is not");
}
