//! The built-in catalog against PingOne's specs, and the loader's refusals.

mod common;

use std::collections::BTreeSet;

use pingone_mcp::catalog::{load_builtin, Catalog, Host};
use pingone_mcp::policy::{Policy, PolicyConfig};
use serde_json::json;

/// Ids in `ACTIONS.md`'s table: the first back-quoted cell of each row.
fn promised_ids(actions_md: &str) -> BTreeSet<String> {
    actions_md
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// `/environments/{environmentID}/users/{userID}` -> `/environments/{}/users/{}`.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_brace = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_brace = true;
                out.push_str("{}");
            }
            '}' => in_brace = false,
            _ if in_brace => {}
            _ => out.push(c),
        }
    }
    out
}

/// Actions the built-in catalog has beyond ACTIONS.md's 113: common admin jobs that
/// PingOne's API does and the list left out (each is in the specs, see below).
const BEYOND_ACTIONS_MD: [&str; 20] = [
    "unlock_user", "lock_user", "force_user_password_change", "activate_user_mfa_device", "list_user_sessions", "delete_user_session",
    "list_sign_on_policy_actions", "get_sign_on_policy_action", "create_sign_on_policy_action", "update_sign_on_policy_action",
    "delete_sign_on_policy_action", "list_resources", "list_resource_scopes",
    // Review 49: passkey and security-key policies, and the environment's MFA settings.
    "list_fido2_policies", "get_fido2_policy", "create_fido2_policy", "update_fido2_policy", "delete_fido2_policy", "get_mfa_settings", "update_mfa_settings",
];

#[test]
fn builtin_catalog_has_the_promised_actions_and_the_named_extras() {
    let Some(shared) = common::shared_dir("builtin_catalog_has_the_promised_actions_and_the_named_extras") else { return };
    let promised = promised_ids(&std::fs::read_to_string(shared.join("ACTIONS.md")).unwrap());
    assert_eq!(promised.len(), 113, "ACTIONS.md should promise 113 actions");
    let catalog = load_builtin().unwrap_or_else(|e| panic!("built-in catalog invalid: {e:?}"));
    let have: BTreeSet<String> = catalog.actions().map(|a| a.id.clone()).collect();
    let missing: Vec<_> = promised.difference(&have).collect();
    let extra: BTreeSet<&str> = have.difference(&promised).map(String::as_str).collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(extra, BEYOND_ACTIONS_MD.into_iter().collect(), "actions beyond ACTIONS.md are named on purpose");
}

#[test]
fn every_method_and_path_exists_in_the_specs() {
    let Some(shared) = common::shared_dir("every_method_and_path_exists_in_the_specs") else { return };
    let api = shared.join("pingone-api");
    let mut operations = BTreeSet::new();
    for index in ["ops-index-management.txt", "ops-index-mfa.txt", "ops-index-go-client.txt"] {
        let text = std::fs::read_to_string(api.join(index)).unwrap();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some(method), Some(path)) = (words.next(), words.next()) {
                operations.insert(format!("{method} {}", normalise(path)));
            }
        }
    }
    let reference = std::fs::read_to_string(api.join("REFERENCE.md")).unwrap();
    let reference = normalise(&reference);
    let catalog = load_builtin().unwrap();
    let mut unknown = Vec::new();
    for action in catalog.actions() {
        let path = normalise(&action.path);
        let found = match action.host {
            Host::Api => operations.contains(&format!("{} {path}", action.method.as_str())),
            // The auth host's OIDC endpoints are not in the management specs; the
            // reference documents them with their full URL.
            Host::Auth => reference.contains(&format!("`{}` or", action.method.as_str())) && reference.contains(&format!("pingone.{{}}{path}")),
        };
        if !found {
            unknown.push(format!("{} {} {}", action.id, action.method.as_str(), action.path));
        }
    }
    assert!(unknown.is_empty(), "not in the PingOne specs:\n{}", unknown.join("\n"));
}

#[test]
fn facts_that_are_easy_to_get_wrong() {
    let catalog = load_builtin().unwrap();
    let get = |id: &str| catalog.get(id).unwrap_or_else(|| panic!("{id} missing"));
    let set_password = get("set_user_password");
    assert_eq!((set_password.method.as_str(), set_password.content_type.as_deref()), ("PUT", Some("application/vnd.pingidentity.password.set+json")));
    assert!(set_password.path.ends_with("/users/{userId}/password"));
    assert_eq!(get("update_user").method.as_str(), "PATCH");
    let import = get("import_certificate");
    assert_eq!(import.content_type.as_deref(), Some("multipart/form-data"));
    assert_eq!(get("list_system_roles").path, "/roles");
    assert_eq!(get("pair_user_mfa_device").method.as_str(), "POST");
    assert!(get("pair_user_mfa_device").path.ends_with("/users/{userId}/devices"));
    assert_eq!(get("get_current_user_info").host, Host::Auth);
    for action in catalog.actions() {
        assert!(!(action.read_only && action.destructive), "{} is both read-only and destructive", action.id);
        if action.method.as_str() == "DELETE" {
            assert!(action.destructive, "{} deletes but is not marked destructive", action.id);
        }
    }
}

#[test]
fn every_example_is_valid_for_its_action() {
    // The loader checks examples; this keeps that promise from regressing silently.
    let catalog = load_builtin().unwrap();
    for action in catalog.actions() {
        pingone_mcp::catalog::check_args(action, &action.example).unwrap_or_else(|e| panic!("{}: {e}", action.id));
    }
}

const GOOD: &str = r#"group: Widgets
actions:
  - id: get_widget
    title: Get Widget
    description: Retrieve one widget by its id, with every field.
    method: GET
    host: api
    path: /environments/{environmentId}/widgets/{widgetId}
    params:
      - name: widgetId
        in: path
        type: string
        required: true
        description: The widget's id.
    result: { id: string, name: string }
    read_only: true
    destructive: false
    idempotent: true
    example: { widgetId: w1 }
"#;

fn refuse(files: &[(&str, &str)]) -> Vec<String> {
    let files: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    let mut catalog = Catalog::default();
    let errors = catalog.add_files(&files).expect_err("the loader should refuse this");
    assert!(catalog.is_empty(), "nothing is added when a file is refused");
    errors.iter().map(ToString::to_string).collect()
}

fn assert_one(errors: &[String], expected: &[&str]) {
    assert!(
        errors.iter().any(|e| expected.iter().all(|part| e.contains(part))),
        "no error containing {expected:?} in:\n{}",
        errors.join("\n")
    );
}

#[test]
fn a_good_file_loads() {
    let mut catalog = Catalog::default();
    catalog.add_files(&[("w.yaml".into(), GOOD.into())]).unwrap();
    assert_eq!(catalog.get("get_widget").unwrap().group, "Widgets");
}

#[test]
fn unknown_key_is_refused_with_file_and_line() {
    let text = GOOD.replace("    read_only: true\n", "    read_only: true\n    readonly: true\n");
    let errors = refuse(&[("w.yaml", &text)]);
    let line = text.lines().position(|l| l.contains("readonly")).unwrap() + 1;
    assert_one(&errors, &[&format!("w.yaml:{line}:"), "readonly"]);
    // In a parameter too.
    let text = GOOD.replace("        required: true\n", "        required: true\n        requird: true\n");
    let line = text.lines().position(|l| l.contains("requird")).unwrap() + 1;
    assert_one(&refuse(&[("w.yaml", &text)]), &[&format!("w.yaml:{line}:"), "params[0].requird", "requird"]);
}

/// A GET with a body, and a result type nobody can read, are refused.
#[test]
fn a_get_with_a_body_or_a_misspelt_result_type_is_refused() {
    let body = GOOD.replace("        in: path\n", "        in: body\n").replace("    path: /environments/{environmentId}/widgets/{widgetId}\n", "    path: /environments/{environmentId}/widgets\n    content_type: application/json\n");
    assert_one(&refuse(&[("w.yaml", &body)]), &["w.yaml:", "a GET sends no body"]);
    let typo = GOOD.replace("    result: { id: string, name: string }\n", "    result: { id: string, name: strng }\n");
    assert_one(&refuse(&[("w.yaml", &typo)]), &["w.yaml:", "field `name`: `strng` is not a TypeScript type"]);
    let shapes = GOOD.replace("    result: { id: string, name: string }\n", "    result: { id: string, tags: 'string[]', owner: '{ id: string; kind?: \"USER\" | \"GROUP\" }', extra: 'Record<string, unknown>' }\n");
    Catalog::default().add_files(&[("w.yaml".into(), shapes)]).expect("real types pass");
}

#[test]
fn missing_field_is_named() {
    let text = GOOD.replace("    method: GET\n", "");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "method"]);
}

#[test]
fn duplicate_id_across_files_is_refused() {
    let errors = refuse(&[("a.yaml", GOOD), ("b.yaml", GOOD)]);
    assert_one(&errors, &["b.yaml:3", "duplicate action id `get_widget`, already defined in a.yaml"]);
    // Twice in one file: the second definition's line.
    let twice = format!("{GOOD}{}", GOOD.split_once("actions:\n").unwrap().1);
    let second = twice.lines().enumerate().filter(|(_, l)| l.contains("- id: get_widget")).nth(1).unwrap().0 + 1;
    assert_one(&refuse(&[("w.yaml", &twice)]), &[&format!("w.yaml:{second}:"), "duplicate action id `get_widget`, already defined in w.yaml"]);
}

#[test]
fn undeclared_path_parameter_is_refused() {
    let text = GOOD.replace("/widgets/{widgetId}", "/widgets/{widgetId}/parts/{partId}");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "partId"]);
}

#[test]
fn bad_enum_values_are_refused() {
    let text = GOOD.replace("    method: GET\n", "    method: FETCH\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:6", "method", "FETCH"]);
    let text = GOOD.replace("        in: path\n", "        in: header\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "header"]);
}

#[test]
fn a_delete_must_be_destructive_and_environment_id_is_never_a_parameter() {
    let text = GOOD.replace("    method: GET\n", "    method: DELETE\n").replace("    read_only: true\n", "    read_only: false\n").replace("    idempotent: true\n", "    idempotent: false\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "destructive: true"]);
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: environmentId, in: path, type: string, required: true, description: The environment. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "`environmentId` is filled in from the configured environment"]);
    // Review 32: nor may another placeholder stand for the environment, which would
    // reach an environment the token and the production check are not bound to.
    let text = GOOD.replace("/environments/{environmentId}/widgets/{widgetId}", "/environments/{widgetId}/users");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "an environment in the path must be `{environmentId}`"]);
    // Review 45: nor a dot segment, which the URL resolves out of the configured environment.
    let text = GOOD.replace("/environments/{environmentId}/widgets/{widgetId}", "/environments/{environmentId}/../00000000-0000-0000-0000-000000000001/widgets/{widgetId}");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "may not hold a `.` or `..` segment"]);
    let text = GOOD.replace("/widgets/{widgetId}", "/widgets/{widgetId}?expand=all");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "no %-encoding, `?`"]);
}

/// A custom action that sends what a built-in one sends is guarded as strictly, whatever
/// its placeholders are called: a copy of the password set marked not destructive, or
/// of a role assignment not granting access, would skip the flag and the person.
#[test]
fn a_copy_of_a_guarded_builtin_must_be_as_guarded() {
    let copy = |method: &str, path: &str, flags: &str| {
        format!(
            "group: Helpdesk\nactions:\n  - id: helpdesk_call\n    title: Helpdesk Call\n    description: A helpdesk shortcut for one call.\n    method: {method}\n    host: api\n    path: {path}\n    content_type: application/json\n    params:\n      - {{ name: uid, in: path, type: string, required: true, description: The user. }}\n    body_open: true\n    read_only: false\n{flags}    idempotent: false\n    example: {{ uid: u1 }}\n"
        )
    };
    let add = |text: String| load_builtin().unwrap().add_files(&[("h.yaml".to_owned(), text)]).map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>());
    let password = add(copy("PUT", "/environments/{environmentId}/users/{uid}/password", "    destructive: false\n")).unwrap_err();
    assert_one(&password, &["h.yaml:", "it sends PUT /environments/{environmentId}/users/{uid}/password as `set_user_password` does, which is destructive: set `destructive: true`"]);
    let role = add(copy("POST", "/environments/{environmentId}/users/{uid}/roleAssignments", "    destructive: false\n")).unwrap_err();
    assert_one(&role, &["h.yaml:", "as `create_user_role_assignment` does, which can grant access: set `grants_access: true`"]);
    add(copy("POST", "/environments/{environmentId}/users/{uid}/roleAssignments", "    destructive: false\n    grants_access: true\n")).expect("as guarded as the built-in");
    // Review 45: a slash more, or other capitals, is no other request.
    let slash = add(copy("POST", "/environments/{environmentId}/users/{uid}/memberOfGroups/", "    destructive: false\n")).unwrap_err();
    assert!(slash.iter().any(|e| e.contains("has an empty segment")), "{slash:?}");
    let doubled = add(copy("POST", "/environments/{environmentId}/users/{uid}//memberOfGroups", "    destructive: false\n")).unwrap_err();
    assert!(doubled.iter().any(|e| e.contains("has an empty segment")), "{doubled:?}");
    let capitals = add(copy("POST", "/environments/{environmentId}/Users/{uid}/MemberOfGroups", "    destructive: false\n")).unwrap_err();
    assert_one(&capitals, &["h.yaml:", "as `add_user_to_group` does, which can grant access"]);
    add(copy("POST", "/environments/{environmentId}/users/{uid}/widgets", "    destructive: false\n")).expect("nothing built in sends it");
}

#[test]
fn dependents_are_counted_with_a_filtered_list_and_the_calls_own_arguments() {
    let with = |dependents: &str| GOOD.replace("    idempotent: true\n", &format!("    dependents: {dependents}\n    idempotent: true\n"));
    assert_one(&refuse(&[("w.yaml", &with("{ list: get_widget, filter: 'x eq \"{widgetId}\"', are: parts }"))]), &["w.yaml:", "`get_widget` is not a list action with a filter"]);
    // Over the built-in catalog, which lists users with a filter.
    let mut catalog = load_builtin().unwrap();
    let files = [("w.yaml".to_owned(), with("{ list: list_users, filter: 'x eq \"{groupId}\"', are: parts }"))];
    let errors: Vec<String> = catalog.add_files(&files).expect_err("refused").iter().map(ToString::to_string).collect();
    assert_one(&errors, &["w.yaml:", "each {name} in the filter must be one of this action's parameters"]);
    let files = [("w.yaml".to_owned(), with("{ list: list_users, filter: 'x eq \"{widgetId}\"', are: parts }"))];
    assert!(catalog.add_files(&files).is_ok(), "a filtered list over the call's own argument is taken");
}

#[test]
fn a_default_is_for_query_parameters_and_of_their_type() {
    let text = GOOD.replace("        in: path\n", "        in: path\n        default: w0\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "`widgetId` has a `default`, which only query parameters take"]);
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: limit, in: query, type: integer, default: many, description: Page size. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "the default \"many\" of `limit` is not of type integer"]);
}

#[test]
fn a_value_that_grants_access_must_be_one_a_call_can_pass() {
    let flagged = |flag: &str| GOOD.replace("    params:\n", &format!("    params:\n      - {{ name: enabled, in: query, type: boolean, {flag}, description: On or off. }}\n"));
    assert_one(&refuse(&[("w.yaml", &flagged("grants_access_if: [\"true\"]"))]), &["w.yaml:", "grants_access_if value \"true\" of `enabled` is not of type boolean"]);
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: kind, in: query, type: string, enum: [A, B], grants_access_if: [C], description: The kind. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "grants_access_if value \"C\" of `kind` is not one of its enum values"]);
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: owner, in: query, type: object, properties: [{ name: id, type: string, grants_access: true }], description: The owner. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "property `id` of an object cannot grant access or destroy on its own"]);
    assert_one(&refuse(&[("w.yaml", &flagged("destructive_if: [0]"))]), &["w.yaml:", "destructive_if value 0 of `enabled` is not of type boolean"]);
    // A default record is named by a list action, and stands for a body reference.
    let update = GOOD.replace("method: GET", "method: PUT\n    content_type: application/json").replace("read_only: true", "read_only: false");
    let text = update.replace("    params:\n", "    params:\n      - { name: owner, in: body, type: object, absent_means_default_of: get_widget, properties: [{ name: id, type: string }], description: The owner. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "`owner` names `get_widget`, which is not a list action of the catalog"]);
    assert_one(&refuse(&[("w.yaml", &flagged("absent_means_default_of: list_widgets"))]), &["w.yaml:", "`absent_means_default_of` of `enabled` stands for a default record's reference"]);
    // What a record without the field holds is a body value it can take.
    assert_one(&refuse(&[("w.yaml", &flagged("absent_means: true"))]), &["w.yaml:", "`absent_means` of `enabled` says what a record without it holds"]);
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: kind, in: body, type: string, enum: [A, B], absent_means: C, description: The kind. }\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "`absent_means` \"C\" of `kind` is not a value it can take"]);
    for good in ["grants_access_if: [true]", "destructive_if: [false]"] {
        let mut catalog = Catalog::default();
        catalog.add_files(&[("w.yaml".into(), flagged(good))]).unwrap();
    }
    // A listed value matches in any spelling of the name, and as text (a query
    // parameter's `true` is sent as "true").
    let text = GOOD.replace("    params:\n", "    params:\n      - { name: force, in: query, type: string, destructive_if: [\"true\"], grants_access_if: [\"yes\"], description: Force it. }\n");
    let mut catalog = Catalog::default();
    catalog.add_files(&[("w.yaml".into(), text)]).unwrap();
    let action = catalog.get("get_widget").unwrap();
    for destructive in [json!({ "force": "true" }), json!({ "force": true }), json!({ "Force": true })] {
        assert!(action.is_destructive_call(&destructive), "{destructive}");
    }
    for ordinary in [json!({ "force": false }), json!({ "force": null }), json!({ "widgetId": "true" })] {
        assert!(!action.is_destructive_call(&ordinary), "{ordinary}");
    }
    assert_eq!(action.access_granting_args(&json!({ "FORCE": "yes" })).count(), 1);
    // The refusal names the argument as the check matched it.
    let refusal = Policy::new(PolicyConfig::default()).check_call(action, &json!({ "Force": true })).unwrap_err();
    assert!(refusal.contains("with force: true is destructive") && refusal.contains("--allow-destructive"), "{refusal}");
}

#[test]
fn invalid_example_is_refused() {
    let text = GOOD.replace("example: { widgetId: w1 }", "example: { widgetID: w1 }");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:", "example", "widgetID"]);
}

#[test]
fn broken_yaml_names_the_line() {
    let text = GOOD.replace("    title: Get Widget\n", "    title: [Get Widget\n");
    assert_one(&refuse(&[("w.yaml", &text)]), &["w.yaml:5:", "did not find expected", "the file cannot be read past this"]);
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = GOOD.replace("    method: GET\n", "    method: FETCH\n");
    let other = GOOD.replace("get_widget", "get_gadget").replace("{widgetId}", "{gadgetId}");
    let errors = refuse(&[("a.yaml", &text), ("b.yaml", &other)]);
    assert_one(&errors, &["a.yaml", "FETCH"]);
    assert_one(&errors, &["b.yaml", "gadgetId"]);
}

/// Every action of a file is read on its own: a mistake in one hides none in another,
/// and each is named at its own line.
#[test]
fn each_actions_mistakes_are_reported_at_their_lines() {
    let second = GOOD.split_once("actions:\n").unwrap().1.replace("get_widget", "get_gadget").replace("{widgetId}", "{gadgetId}").replace("widgetId", "gadgetId");
    let text = format!("{}{}", GOOD.replace("    method: GET\n", "    method: FETCH\n"), second.replace("        in: path\n", "        in: pathh\n"));
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let errors = refuse(&[("w.yaml", &text)]);
    assert_one(&errors, &[&format!("w.yaml:{}:", line_of("FETCH")), "action `get_widget`: method", "FETCH"]);
    assert_one(&errors, &[&format!("w.yaml:{}:", line_of("pathh")), "action `get_gadget`: params[0].in", "pathh"]);
    // A syntax error stops the file, and says its actions went unchecked.
    let broken = format!("{text}  - id: [get_thing\n");
    assert_one(&refuse(&[("w.yaml", &broken)]), &["w.yaml:", "its actions were not checked: fix it and check again"]);
}

#[test]
fn a_value_of_the_wrong_type_is_named_with_the_type_it_needs() {
    let catalog = load_builtin().unwrap();
    let list = catalog.get("list_users").unwrap();
    let e = pingone_mcp::catalog::check_args(list, &serde_json::json!({ "limit": "ten" })).unwrap_err().to_string();
    assert!(e.contains("`limit` must be an integer, got a string"), "{e}");
    let e = pingone_mcp::catalog::check_args(list, &serde_json::json!({ "all": 1 })).unwrap_err().to_string();
    assert!(e.contains("`all` must be true or false, got a number"), "{e}");
    let enable = catalog.get("update_user_enabled_status").unwrap();
    let e = pingone_mcp::catalog::check_args(enable, &serde_json::json!({ "userId": "u1", "enabled": "yes" })).unwrap_err().to_string();
    assert!(e.contains("`enabled` must be a boolean, got a string"), "{e}");
    // Review 32: an id given as a number is named, not sent as "5".
    let get = catalog.get("get_user").unwrap();
    let e = pingone_mcp::catalog::check_args(get, &serde_json::json!({ "userId": 5 })).unwrap_err().to_string();
    assert!(e.contains("`userId` must be a string, the record's id (a UUID"), "{e}");
}

/// An array of objects of a declared shape (a grant's `scopes`, each `{ id }`) shows
/// the shape in its signature and checks each item like an object (review 24 F2: a
/// scope given as `{ name }` reached PingOne as an empty id).
#[test]
fn items_of_a_declared_shape_are_checked_and_shown() {
    use pingone_mcp::catalog::{action_signature, check_args};
    use serde_json::json;
    let catalog = load_builtin().unwrap();
    let grant = catalog.get("create_application_grant").unwrap();
    assert!(action_signature(grant).contains("scopes: { id: string }[]"), "{}", action_signature(grant));
    let args = |scopes: serde_json::Value| json!({ "applicationId": "a1", "resource": { "id": "r1" }, "scopes": scopes });
    let e = check_args(grant, &args(json!(["s1"]))).unwrap_err().to_string();
    assert!(e.contains("items of `scopes` must be object such as { id: string }, got a string"), "{e}");
    let e = check_args(grant, &args(json!([{ "id": "s1" }, { "name": "p1:read:user" }]))).unwrap_err().to_string();
    assert!(e.contains("missing required `scopes[1].id`"), "{e}");
    let e = check_args(grant, &args(json!([{ "Id": "s1" }]))).unwrap_err().to_string();
    assert!(e.contains("`scopes[0].Id` is not a field of `scopes[0]`: did you mean `scopes[0].id`?"), "{e}");
    check_args(grant, &args(json!([{ "id": "s1" }, { "id": "s2", "name": "extra fields pass" }]))).unwrap();
}

/// `grants_access_only_if` narrows `grants_access` by what the record holds, so it needs
/// both: the flag it narrows, and a get action at the same path to read the record with.
#[test]
fn a_record_condition_needs_grants_access_and_a_get_for_its_record() {
    let unlock = |extra: &str, path: &str| {
        format!(
            "{GOOD}  - id: unlock_widget\n    title: Unlock Widget\n    description: Unlock a widget that PingOne locked after misuse.\n    method: POST\n    host: api\n    path: {path}\n    content_type: application/json\n    params:\n      - {{ name: widgetId, in: path, type: string, required: true, description: The widget's id. }}\n    result: {{}}\n    read_only: false\n    destructive: false\n{extra}    grants_access_only_if: {{ field: account.status, values: [LOCKED] }}\n    idempotent: true\n    example: {{ widgetId: w1 }}\n"
        )
    };
    let widget = "/environments/{environmentId}/widgets/{widgetId}";
    assert_one(&refuse(&[("w.yaml", &unlock("", widget))]), &["w.yaml:", "unlock_widget", "narrows grants_access, which this action does not set"]);
    let gadget = "/environments/{environmentId}/gadgets/{widgetId}";
    assert_one(&refuse(&[("w.yaml", &unlock("    grants_access: true\n", gadget))]), &["w.yaml:", "no get action reads `/environments/{environmentId}/gadgets/{widgetId}`"]);
    let mut catalog = Catalog::default();
    catalog.add_files(&[("w.yaml".into(), unlock("    grants_access: true\n", widget))]).unwrap();
    let condition = catalog.get("unlock_widget").unwrap().grants_access_only_if.clone().unwrap();
    assert!(condition.may_hold(&json!({ "account": { "status": "LOCKED" } })));
    assert!(!condition.may_hold(&json!({ "account": { "status": "OK" } })));
    assert!(condition.may_hold(&json!({ "id": "w1" })), "a record without the field is asked about");
    assert!(condition.may_hold(&json!({ "account": { "status": null } })), "nor can a null tell");
    assert!(condition.may_hold(&json!({ "account": { "status": "Locked" } })), "text matches in any case");
    // The record's state cannot decide for parameters that grant access of their own.
    let with_email = unlock("    grants_access: true\n", widget).replace(
        "      - { name: widgetId, in: path, type: string, required: true, description: The widget's id. }\n",
        "      - { name: widgetId, in: path, type: string, required: true, description: The widget's id. }\n      - { name: email, in: body, type: string, grants_access: true, description: Where codes go. }\n",
    );
    assert_one(&refuse(&[("w.yaml", &with_email)]), &["w.yaml:", "its access-granting parameters would go unasked"]);
}

/// A field a letter off one an open-bodied action declares is refused with the field
/// meant, not sent on for PingOne to store or ignore (review 57: `pkceEnforcment`,
/// `redirectUri`, `acsUrl`); a field it does not declare and nothing is near passes.
#[test]
fn a_misspelt_field_of_an_open_body_is_refused() {
    use pingone_mcp::catalog::{check_args, normalise_args};
    let catalog = load_builtin().unwrap();
    let create = catalog.get("create_application").unwrap();
    let base = json!({ "name": "Portal", "enabled": true, "type": "WEB_APP", "protocol": "OPENID_CONNECT", "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"], "redirectUris": ["https://portal.example.com/cb"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" });
    for (key, meant) in [("pkceEnforcment", "pkceEnforcement"), ("redirectUri", "redirectUris"), ("acsUrl", "acsUrls")] {
        let mut args = base.clone();
        args[key] = json!("x");
        let e = check_args(create, &normalise_args(create, args)).unwrap_err().to_string();
        assert!(e.contains(&format!("`{key}` is not a field of create_application: did you mean `{meant}`?")), "{key}: {e}");
    }
    let mut args = base;
    args["signOffUrl"] = json!("https://portal.example.com/bye");
    assert!(check_args(create, &normalise_args(create, args)).is_ok());
}

/// A user's undeclared fields are stored as custom attributes, so a slip in a field's
/// name would be kept beside the field meant: one letter off, two swapped, a part of
/// `name` at the top level or a common other name is refused with the field meant; a
/// declared field in another case is sent under its own name; a real custom attribute
/// passes.
#[test]
fn a_misspelt_user_field_is_refused_not_stored_as_a_custom_attribute() {
    use pingone_mcp::catalog::{check_args, normalise_args};
    let catalog = load_builtin().unwrap();
    let update = catalog.get("update_user").unwrap();
    let refused = |args: serde_json::Value| check_args(update, &normalise_args(update, args)).map_err(|e| e.to_string());
    for (key, meant) in [("titel", "`title`"), ("mobilPhone", "`mobilePhone`"), ("firstName", "`name: { given }`"), ("given", "`name: { given }`"), ("surname", "`name: { family }`"), ("emailAddress", "`email`")] {
        let e = refused(json!({ "userId": "u1", key: "x" })).unwrap_err();
        assert!(e.contains(&format!("`{key}` is not a field of update_user: did you mean {meant}?")), "{key}: {e}");
    }
    assert_eq!(normalise_args(update, json!({ "userId": "u1", "mobilephone": "+1" })), json!({ "userId": "u1", "mobilePhone": "+1" }));
    let e = refused(json!({ "userId": "u1", "mobilephone": "+1", "mobilePhone": "+2" })).unwrap_err();
    assert!(e.contains("name the same field, `mobilePhone`: send it once"), "{e}");
    assert!(refused(json!({ "userId": "u1", "costCenter": "CC-12", "badgeNumber": "4411" })).is_ok());
    // Other open bodies pass undeclared fields as before: PingOne's objects are wide.
    let app = catalog.get("update_application").unwrap();
    assert!(app.body_open && !app.custom_attributes);
}

/// A user's state and links are not fields of the record: `active: false`, `groups` or
/// `role` sent to create_user or update_user would be stored as custom attributes and
/// leave the user enabled, ungrouped and without the role; each is refused with the
/// action that does it.
#[test]
fn a_users_state_or_links_named_as_a_field_are_refused_with_the_action_that_sets_them() {
    use pingone_mcp::catalog::{check_args, normalise_args};
    let catalog = load_builtin().unwrap();
    for id in ["create_user", "update_user"] {
        let action = catalog.get(id).unwrap();
        let refused = |key: &str| {
            let args = json!({ "userId": "u1", "username": "nh1", "email": "nh1@example.com", "population": { "id": "p1" }, key: true });
            check_args(action, &normalise_args(action, args)).map_err(|e| e.to_string()).unwrap_err()
        };
        for (key, fix) in [("active", "update_user_enabled_status"), ("Disabled", "update_user_enabled_status"), ("locked", "lock_user"), ("groupIds", "add_user_to_group"), ("memberOfGroups", "add_user_to_group"), ("role", "create_user_role_assignment"), ("is_active", "update_user_enabled_status"), ("accountStatus", "lock_user"), ("memberOf", "add_user_to_group"), ("roleName", "create_user_role_assignment")] {
            let e = refused(key);
            assert!(e.contains(&format!("`{key}` is not a field of {id}: ")) && e.contains(fix) && e.contains("would change nothing"), "{id} {key}: {e}");
        }
        let e = refused("populationId");
        let fix = if id == "create_user" { "did you mean `population: { id }`?" } else { "update_user_population" };
        assert!(e.contains(fix), "{id}: {e}");
    }
    let create = catalog.get("create_user").unwrap();
    let e = check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "enabled": false })).unwrap_err().to_string();
    assert!(e.contains("update_user_enabled_status ({ userId, enabled }); a user starts enabled"), "{e}");
    // `status` or `state` that says whether the user may sign on; another value may be a
    // custom attribute's.
    let e = check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "status": "DISABLED" })).unwrap_err().to_string();
    assert!(e.contains("`status` is not a field of create_user") && e.contains("update_user_enabled_status"), "{e}");
    assert!(check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "population": { "id": "p1" }, "status": "Contractor - EMEA" })).is_ok());
    // A new account given a lock state is refused, not sent without it.
    let e = check_args(create, &normalise_args(create, json!({ "username": "nh1", "email": "a@example.com", "account": { "status": "LOCKED" } }))).unwrap_err().to_string();
    assert!(e.contains("`account` (lock_user)"), "{e}");
    let update = catalog.get("update_user").unwrap();
    let e = check_args(update, &json!({ "userId": "u1", "enabled": false })).unwrap_err().to_string();
    assert_eq!(e.matches("update_user_enabled_status").count(), 1, "said once, by the action's own list: {e}");
}

/// A password under another name (`passwd`, `initialPassword`) would be stored as a
/// readable custom attribute, printed and logged unmasked, and leave the user without
/// a password; `password.forcechange` would be dropped, and the user never asked to
/// change it. Each is refused before sending, saying what to write.
#[test]
fn a_password_under_another_name_or_a_misspelt_password_field_is_refused() {
    use pingone_mcp::catalog::{check_args, normalise_args};
    let catalog = load_builtin().unwrap();
    let create = catalog.get("create_user").unwrap();
    let update = catalog.get("update_user").unwrap();
    for key in ["passwd", "pwd", "pw", "pswd", "pword", "initialPassword", "temp_password", "Password1", "newPassword", "passwort", "contraseña", "mot_de_passe", "senha", "пароль"] {
        let args = json!({ "username": "nh1", "email": "nh1@example.com", key: "Welcome-1" });
        let e = check_args(create, &normalise_args(create, args)).unwrap_err().to_string();
        assert!(e.contains(&format!("`{key}` is not a field of create_user")) && e.contains("password: { value, forceChange: true }") && !e.contains("Welcome-1"), "{key}: {e}");
        let e = check_args(update, &json!({ "userId": "u1", key: "Welcome-1" })).unwrap_err().to_string();
        assert!(e.contains("set_user_password") && !e.contains("Welcome-1"), "{key}: {e}");
    }
    let e = check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "password": { "value": "Welcome-1", "forcechange": true } })).unwrap_err().to_string();
    assert!(e.contains("`password.forcechange` is not a field of `password`: did you mean `password.forceChange`?"), "{e}");
    let e = check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "password": { "value": "Welcome-1", "forceChnge": true } })).unwrap_err().to_string();
    assert!(e.contains("did you mean `password.forceChange`?"), "{e}");
    assert!(check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "password": { "value": "Welcome-1", "forceChange": true } })).is_ok());
    // A custom attribute that only looks like one stays allowed.
    assert!(check_args(create, &json!({ "username": "nh1", "email": "a@example.com", "population": { "id": "p1" }, "costCenter": "CC-1" })).is_ok());
}

/// A filter that compares an attribute with a value of another type (`enabled eq
/// "false"`, quoted) would find no records, and a script would conclude there are none:
/// it is refused with the filter as it should be written.
#[test]
fn a_filter_value_of_the_wrong_type_is_refused_with_the_fix() {
    use pingone_mcp::catalog::check_args;
    let catalog = load_builtin().unwrap();
    let users = catalog.get("list_users").unwrap();
    let refused = |filter: &str| check_args(users, &json!({ "filter": filter })).map_err(|e| e.to_string());
    let e = refused(r#"enabled eq "false""#).unwrap_err();
    assert!(e.contains("`enabled` is true or false, not text: write `enabled eq false`, without quotes"), "{e}");
    let e = refused(r#"memberOfGroups[id eq "g1"] and ENABLED eq "True""#).unwrap_err();
    assert!(e.contains("write `ENABLED eq true`"), "{e}");
    let e = refused("username eq 5").unwrap_err();
    assert!(e.contains(r#"`username` is text: put the value in double quotes, `username eq "5"`"#), "{e}");
    for fine in [r#"enabled eq false and username sw "5""#, r#"email ew "@example.com""#, r#"enabled eq"#] {
        assert!(refused(fine).is_ok(), "{fine}: {:?}", refused(fine));
    }
    let groups = catalog.get("list_groups").unwrap();
    assert!(check_args(groups, &json!({ "filter": "name eq 42" })).unwrap_err().to_string().contains("`name` is text"));
    // A name where an id belongs, or words where a date belongs, match nothing: a role
    // review would read "nobody" (review 43).
    let e = refused(r#"memberOfGroups[id eq "All Staff"]"#).unwrap_err();
    assert!(e.contains(r#"`memberOfGroups.id` takes a record's id (a UUID), and `All Staff` is not one: find it with list_groups({ filter: 'name eq "All Staff"' })"#), "{e}");
    let e = refused(r#"population.id eq "Employees" and enabled eq true"#).unwrap_err();
    assert!(e.contains("find it with list_populations"), "{e}");
    let e = refused(r#"updatedAt ge "yesterday""#).unwrap_err();
    assert!(e.contains(r#"`updatedAt` is a date and time, and `yesterday` is not one: write it in ISO 8601, e.g. `updatedAt ge "2026-12-01T00:00:00Z"`"#), "{e}");
    for fine in [r#"memberOfGroups[id eq "6f1c0d3e-9a2b-4c5d-8e7f-0a1b2c3d4e5f"]"#, r#"updatedAt ge "2026-12-01""#, r#"population.id eq "dry-run-population-1""#, r#"username eq "All Staff""#] {
        assert!(refused(fine).is_ok(), "{fine}: {:?}", refused(fine));
    }
    // Operators PingOne lacks are refused before sending, with what to do instead
    // (PingOne's own refusal does not say); review 24b N5.
    for (filter, says) in [
        (r#"enabled eq true and username ne "x""#, r#""ne" is not supported by PingOne's SCIM filters; filter on what the records must match"#),
        (r#"username != "x""#, "PingOne does not support ne"),
        ("title pr", "list without it and keep the records that have `title` in the script"),
        (r#"not (username eq "x")"#, r#""not" is not supported by PingOne's SCIM filters"#),
    ] {
        let e = refused(filter).unwrap_err();
        assert!(e.contains(says), "{filter}: {e}");
    }
}

#[test]
fn a_sign_on_step_that_opens_sign_on_is_asked_and_every_change_of_one_is_destructive() {
    let catalog = load_builtin().unwrap();
    let create = catalog.get("create_sign_on_policy_action").unwrap();
    let mfa = |mode: &str| json!({ "policyId": "p", "type": "MULTI_FACTOR_AUTHENTICATION", "priority": 2, "noDevicesMode": mode });
    assert_eq!(create.access_granting_args(&mfa("BLOCK")).count(), 0, "a step that asks for MFA grants nothing");
    assert_eq!(create.access_granting_args(&mfa("BYPASS")).count(), 1, "MFA let through without a device");
    let idp = json!({ "policyId": "p", "type": "IDENTITY_PROVIDER", "priority": 1, "identityProvider": { "id": "i" } });
    assert_eq!(create.access_granting_args(&idp).count(), 1, "sign-on through another provider");
    assert!(!create.is_destructive_call(&mfa("BLOCK")));
    for id in ["update_sign_on_policy_action", "delete_sign_on_policy_action"] {
        let action = catalog.get(id).unwrap();
        assert!(action.is_destructive_call(&json!({ "policyId": "p", "actionId": "a", "type": "LOGIN", "priority": 1 })), "{id}");
    }
}

/// The counts the README and `--help` give are the catalog's: all of its actions, those
/// beyond PingOne's 113 of ACTIONS.md, and those that only read (what tools mode lists
/// with writes off).
#[test]
fn the_readme_counts_the_catalogs_actions() {
    let catalog = load_builtin().unwrap();
    let all = catalog.actions().count();
    let reading = catalog.actions().filter(|a| !a.writes()).count();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for said in [format!("instead of {all}.**"), format!("and {}\nmore that admins", all - 113), format!("the {reading} that only read")] {
        assert!(readme.contains(&said), "the README should say {said:?}");
    }
    assert!(!env!("CARGO_PKG_DESCRIPTION").chars().any(|c| c.is_ascii_digit()), "the description names no count that could go stale");
}

/// A field only some calls need (an OIDC application's token endpoint method) is
/// refused before sending when missing from such a call, saying when it is needed, and
/// the signature says so too; other calls go without it.
#[test]
fn a_field_required_for_some_calls_is_checked_and_shown() {
    use pingone_mcp::catalog::check_args;
    let catalog = load_builtin().unwrap();
    let create = catalog.get("create_application").unwrap();
    let web = json!({ "name": "Portal", "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": true });
    let e = check_args(create, &web).unwrap_err().to_string();
    assert!(e.contains("missing `tokenEndpointAuthMethod`, required when `protocol` is \"OPENID_CONNECT\""), "{e}");
    let mut complete = web.clone();
    complete["tokenEndpointAuthMethod"] = json!("CLIENT_SECRET_BASIC");
    assert!(check_args(create, &complete).is_ok());
    let saml = json!({ "name": "HR", "type": "WEB_APP", "protocol": "SAML", "enabled": true, "spEntityId": "hr", "acsUrls": ["https://hr.example.com/acs"], "assertionDuration": 60 });
    assert!(check_args(create, &saml).is_ok(), "a SAML app needs no token endpoint method");
    let link = json!({ "name": "Wiki", "type": "PORTAL_LINK_APP", "protocol": "EXTERNAL_LINK", "enabled": true });
    assert!(check_args(create, &link).unwrap_err().to_string().contains("missing `homePageUrl`, required when `protocol` is \"EXTERNAL_LINK\""));
    let signature = pingone_mcp::catalog::action_signature(create);
    assert!(signature.contains(r#"tokenEndpointAuthMethod?: "NONE" | "CLIENT_SECRET_BASIC" | "CLIENT_SECRET_POST" | "PRIVATE_KEY_JWT" | "CLIENT_SECRET_JWT" /* required when protocol is "OPENID_CONNECT" */"#), "{signature}");
}

/// A search hit's or a declaration's one-line summary is the description's first
/// sentence, not cut at "e.g." (review 21: "List the scopes of an API resource (e.g").
#[test]
fn summaries_are_not_cut_at_an_abbreviation() {
    let catalog = load_builtin().unwrap();
    for action in catalog.actions() {
        let summary = action.summary();
        assert!(!summary.is_empty() && !summary.ends_with("e.g") && !summary.ends_with("i.e"), "{}: {summary}", action.id);
        assert_eq!(summary.matches('(').count(), summary.matches(')').count(), "{}: {summary}", action.id);
    }
    let scopes = catalog.get("list_resource_scopes").unwrap().summary();
    assert!(scopes.starts_with("List the scopes of an API resource (e.g. openid"), "{scopes}");
}
