//! Checking an action's arguments before any request is made.

use std::fmt;

use serde_json::{Map, Value};

use super::model::{Action, Method, Param, ParamLocation, ParamType, TextFormat};

/// Names of the arguments a list action takes besides its declared parameters.
pub const PAGING_ARGS: [&str; 1] = ["all"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgsError {
    pub action: String,
    pub problems: Vec<Problem>,
}

/// One thing wrong with the arguments, in our words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub text: String,
    /// The caller's own text that `text` quotes (an unknown key, a value outside an
    /// enum), which may have come from a record and so is scanned on the way back.
    pub quoted: Option<String>,
}

impl Problem {
    fn ours(text: String) -> Self {
        Problem { text, quoted: None }
    }

    pub(crate) fn quoting(text: String, quoted: String) -> Self {
        Problem { text, quoted: Some(quoted) }
    }
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems: Vec<&str> = self.problems.iter().map(|p| p.text.as_str()).collect();
        write!(f, "invalid arguments for `{}`: {}", self.action, problems.join("; "))
    }
}

impl std::error::Error for ArgsError {}

impl ArgsError {
    /// The same problems and one more of ours: context that explains them.
    pub fn noting(mut self, note: &str) -> Self {
        self.problems.push(Problem::ours(note.to_owned()));
        self
    }
}

/// Fields of PingOne records that the server writes and no update takes: navigation,
/// the environment a record lives in, timestamps, and counts and lists it computes
/// (the specs mark them read-only).
const READ_ONLY_FIELDS: [&str; 19] = [
    "_links",
    "_embedded",
    "environment",
    "createdAt",
    "updatedAt",
    "populationCount",
    "userCount",
    "directMemberCounts",
    "totalMemberCounts",
    "memberOfGroupIDs",
    "memberOfGroupNames",
    "lastSignOn",
    "account",
    "lifecycle",
    // A population's default identity provider, which its own endpoint sets.
    "defaultIdentityProvider",
    // The roles a custom role's holders may assign: derived from the others' canBeAssignedBy.
    "canAssign",
    // A custom role's CUSTOM, a device's kind: set at creation (where it is a parameter,
    // as for users and applications, it is kept).
    "type",
    // An attribute mapping's CORE or CUSTOM, which PingOne sets.
    "mappingType",
    // A device authentication policy's (MFA `DeviceAuthenticationPolicy`: readOnly,
    // deprecated): a full replace neither takes nor clears it (review 49).
    "forSignOnPolicy",
];

/// Whether a record's field is one PingOne writes itself (its id, timestamps, links,
/// counts), which an update neither takes nor clears.
pub fn is_read_only_field(action: &Action, key: &str) -> bool {
    action.param(key).is_none() && (key == "id" || READ_ONLY_FIELDS.contains(&key))
}

/// An update given back the record its get returned (`{ ...current, length: … }`):
/// the record's read-only fields and its own `id` (when it is the id the path names)
/// are dropped, as PingOne takes none of them. Declared parameters are never dropped,
/// and an `id` naming another record stays, to be refused as unknown.
fn drop_read_only_fields(action: &Action, mut args: Value) -> Value {
    if !matches!(action.method, Method::Put | Method::Patch) {
        return args;
    }
    let Some(map) = args.as_object_mut() else { return args };
    let names_path_id = |value: &Value| {
        action.params_in(ParamLocation::Path).any(|p| map.get(&p.name) == Some(value))
    };
    let own_id = action.param("id").is_none() && map.get("id").is_some_and(names_path_id);
    if own_id {
        map.remove("id");
    }
    // A field another action changes stays, to be refused with that action's name.
    for key in READ_ONLY_FIELDS {
        if action.param(key).is_none() && !action.changed_by.contains_key(key) {
            map.remove(key);
        }
    }
    args
}

/// An argument given by its [`Param::alias`] renamed to its name. Both given are left
/// for [`check_args`] to refuse.
fn rename_aliases(action: &Action, mut args: Value) -> Value {
    let Some(map) = args.as_object_mut() else { return args };
    for p in &action.params {
        if let Some(alias) = p.alias.as_ref().filter(|alias| !map.contains_key(&p.name) && map.contains_key(*alias)) {
            let value = map.remove(alias).unwrap_or_default();
            map.insert(p.name.clone(), value);
        }
    }
    args
}

/// The arguments as sent: [`rename_aliases`], [`drop_read_only_fields`], then, in an open body, a declared
/// field given under another case (`mobilephone`) renamed to the declared spelling, so
/// it changes that field rather than being passed on beside it (and stored as a custom
/// attribute). Both spellings given are left for [`check_args`] to refuse; so is
/// another case of a closed action's argument, as an unknown one.
pub fn normalise_args(action: &Action, args: Value) -> Value {
    let mut args = drop_read_only_fields(action, rename_aliases(action, args));
    if !action.body_open {
        return args;
    }
    let Some(map) = args.as_object_mut() else { return args };
    let renames: Vec<(String, String)> = map
        .keys()
        .filter_map(|key| {
            let p = action.params.iter().find(|p| p.location == Some(ParamLocation::Body) && p.name != *key && p.name.eq_ignore_ascii_case(key))?;
            (!map.contains_key(&p.name) && map.keys().filter(|k| k.eq_ignore_ascii_case(key)).count() == 1).then(|| (key.clone(), p.name.clone()))
        })
        .collect();
    for (written, declared) in renames {
        if let Some(value) = map.remove(&written) {
            map.insert(declared, value);
        }
    }
    args
}

/// Other names people give a user's fields, lowercased, and the field each means.
const FIELD_ALIASES: [(&str, &str); 17] = [
    ("populationid", "population: { id }"),
    ("firstname", "name: { given }"),
    ("givenname", "name: { given }"),
    ("lastname", "name: { family }"),
    ("familyname", "name: { family }"),
    ("surname", "name: { family }"),
    ("middlename", "name: { middle }"),
    ("fullname", "name: { formatted }"),
    ("displayname", "name: { formatted }"),
    ("phone", "mobilePhone or primaryPhone"),
    ("phonenumber", "mobilePhone or primaryPhone"),
    ("mobile", "mobilePhone"),
    ("mobilenumber", "mobilePhone"),
    ("emailaddress", "email"),
    ("mail", "email"),
    ("jobtitle", "title"),
    ("language", "preferredLanguage"),
];

/// Names people give a user's state or links that no field of the user's record takes,
/// lowercased without `_` or `-`, and where each is kept. Sent to create_user or
/// update_user, such a name would be stored as a custom attribute and change nothing
/// (`active: false` leaves the user enabled).
const KEPT_ELSEWHERE: [(&str, &str); 32] = [
    ("enabled", ENABLED_ELSEWHERE),
    ("active", ENABLED_ELSEWHERE),
    ("disabled", ENABLED_ELSEWHERE),
    ("suspended", ENABLED_ELSEWHERE),
    ("isactive", ENABLED_ELSEWHERE),
    ("isenabled", ENABLED_ELSEWHERE),
    ("isdisabled", ENABLED_ELSEWHERE),
    ("issuspended", ENABLED_ELSEWHERE),
    ("accountenabled", ENABLED_ELSEWHERE),
    ("enabledstatus", ENABLED_ELSEWHERE),
    ("locked", LOCK_ELSEWHERE),
    ("islocked", LOCK_ELSEWHERE),
    ("lockedout", LOCK_ELSEWHERE),
    ("lockstatus", LOCK_ELSEWHERE),
    ("accountstatus", LOCK_ELSEWHERE),
    ("populationid", "a user's population is changed with update_user_population"),
    ("populationname", "a user's population is given by id, `population: { id }` (list_populations finds it by name); update_user_population changes it"),
    ("group", GROUPS_ELSEWHERE),
    ("groups", GROUPS_ELSEWHERE),
    ("groupid", GROUPS_ELSEWHERE),
    ("groupids", GROUPS_ELSEWHERE),
    ("groupname", GROUPS_ELSEWHERE),
    ("groupnames", GROUPS_ELSEWHERE),
    ("memberof", GROUPS_ELSEWHERE),
    ("memberofgroups", GROUPS_ELSEWHERE),
    ("role", ROLES_ELSEWHERE),
    ("roles", ROLES_ELSEWHERE),
    ("roleid", ROLES_ELSEWHERE),
    ("roleids", ROLES_ELSEWHERE),
    ("rolename", ROLES_ELSEWHERE),
    ("roleassignments", ROLES_ELSEWHERE),
    ("adminroles", ROLES_ELSEWHERE),
];
/// Values of a `status` or `state` that say whether the user may sign on or is locked:
/// other values may be a custom attribute's.
const ACCOUNT_STATES: [&str; 8] = ["enabled", "disabled", "active", "inactive", "suspended", "locked", "unlocked", "deactivated"];
const ENABLED_ELSEWHERE: &str = "whether a user can sign on is set with update_user_enabled_status ({ userId, enabled }); a user starts enabled";
const LOCK_ELSEWHERE: &str = "an account is locked with lock_user and unlocked with unlock_user";
const GROUPS_ELSEWHERE: &str = "a user joins a group with add_user_to_group and leaves it with remove_user_from_group, after the user exists";
const ROLES_ELSEWHERE: &str = "a role is given with create_user_role_assignment, after the user exists";

/// Where a name that `action` would store as a custom attribute is really kept, when
/// it is one of [`KEPT_ELSEWHERE`] and not a field the action itself names otherwise.
fn kept_elsewhere(action: &Action, key: &str, value: &Value) -> Option<&'static str> {
    if action.changed_by.keys().any(|field| field.eq_ignore_ascii_case(key)) {
        return None;
    }
    let name: String = key.chars().filter(|c| !matches!(c, '_' | '-')).collect::<String>().to_ascii_lowercase();
    if matches!(name.as_str(), "status" | "state") {
        let says_sign_on = value.is_boolean() || value.as_str().is_some_and(|v| ACCOUNT_STATES.iter().any(|s| s.eq_ignore_ascii_case(v)));
        return says_sign_on.then_some("whether a user can sign on is set with update_user_enabled_status ({ userId, enabled }), and an account is locked with lock_user and unlocked with unlock_user");
    }
    KEPT_ELSEWHERE.iter().find(|(kept, _)| *kept == name).map(|(_, kept)| *kept)
}

/// A password under a name the action does not know (`passwd`, `initialPassword`,
/// `temp_password`): stored as a custom attribute, it would be readable by whoever can
/// read the user, printed and logged unmasked, and the user would have no password.
fn password_by_another_name(action: &Action, key: &str) -> Option<Problem> {
    if !crate::secret::names_a_password(key) {
        return None;
    }
    let instead = if action.param("password").is_some() {
        "give it as `password: { value, forceChange: true }` (forceChange makes the user choose a new one at next sign-on)".to_owned()
    } else {
        "a user's password is set with set_user_password, and force_user_password_change makes the user choose a new one".to_owned()
    };
    Some(Problem::quoting(
        format!("`{key}` is not a field of {}: {instead}. A name it does not know is stored as a custom attribute, readable by whoever can read the user, and the user would have no password", action.id),
        key.to_owned(),
    ))
}

/// The declared field an unknown name most likely meant, on an action whose unknown
/// names are stored as custom attributes: one letter off (or two swapped) from a
/// declared name, a part of a declared object given at the top level (`given`), or a
/// common other name for one (`firstName`).
fn meant_field(action: &Action, key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    if let Some((_, meant)) = FIELD_ALIASES.iter().find(|(alias, meant)| *alias == lower && action.param(meant.split([':', ' ']).next().unwrap_or(meant)).is_some()) {
        return Some((*meant).to_owned());
    }
    let near = |name: &str| one_letter_off(key, name);
    if let Some(p) = action.params.iter().filter(|p| p.location == Some(ParamLocation::Body)).find(|p| near(&p.name)) {
        return Some(p.name.clone());
    }
    action.params.iter().find_map(|p| p.properties.iter().find(|q| q.name.eq_ignore_ascii_case(key) || near(&q.name)).map(|q| format!("{}: {{ {} }}", p.name, q.name)))
}

/// Whether `written` (four letters or more) is `name` with one letter wrong, missing,
/// added, or two swapped, in any case.
fn one_letter_off(written: &str, name: &str) -> bool {
    written.chars().count() >= 4 && strsim::osa_distance(&written.to_ascii_lowercase(), &name.to_ascii_lowercase()) == 1
}

/// An update whose arguments carry an `id` that is none of the ids its path names: a
/// record spread into another's update. Actions with open bodies would send it on.
fn other_records_id(action: &Action, map: &Map<String, Value>) -> Option<Problem> {
    if !action.body_open || !matches!(action.method, Method::Put | Method::Patch) || action.param("id").is_some() {
        return None;
    }
    let id = map.get("id")?;
    let path_ids: Vec<&Param> = action.params_in(ParamLocation::Path).collect();
    if path_ids.iter().any(|p| map.get(&p.name) == Some(id)) {
        return None;
    }
    let names: Vec<String> = path_ids.iter().map(|p| format!("`{}`", p.name)).collect();
    Some(Problem::quoting(
        format!("`id` is {id}, which is not the record the path names ({}): an update changes that record only; leave `id` out, or update the record `id` names", names.join(", ")),
        id.to_string(),
    ))
}

/// Checks names, required fields, types and enums. Nested objects are checked for
/// their declared properties; undeclared nested fields pass (PingOne objects are wide).
pub fn check_args(action: &Action, args: &Value) -> Result<(), ArgsError> {
    let mut problems = Vec::new();
    let empty = Map::new();
    let map = match args {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            return Err(ArgsError {
                action: action.id.clone(),
                problems: vec![Problem::ours(format!("arguments must be a JSON object, got {}", kind(other)))],
            })
        }
    };
    let mut unknown = Vec::new();
    for key in map.keys() {
        // An alias beside its parameter is refused below, as both named; alone, it is
        // renamed by `normalise_args` before any check.
        let declared = action.param(key).is_some() || action.params.iter().any(|p| p.alias.as_deref() == Some(key) && map.contains_key(&p.name));
        let paging = action.is_list() && PAGING_ARGS.contains(&key.as_str());
        if !declared && !paging && !action.body_open {
            unknown.push(key.as_str());
        }
        if paging && !declared && !map[key].is_boolean() && !map[key].is_null() {
            problems.push(Problem::ours(format!("`{key}` must be true or false, got {}", kind(&map[key]))));
        }
    }
    if let Some(problem) = other_records_id(action, map) {
        problems.push(problem);
    }
    for p in &action.params {
        if let Some(alias) = p.alias.as_ref().filter(|alias| map.contains_key(*alias) && map.contains_key(&p.name)) {
            problems.push(Problem::quoting(format!("`{alias}` and `{}` name the same argument ({}): send it once", p.name, p.description.trim().trim_end_matches('.')), format!("{alias}, {}", p.name)));
        }
        let spellings: Vec<&String> = map.keys().filter(|k| k.eq_ignore_ascii_case(&p.name)).collect();
        if spellings.len() > 1 {
            let names = spellings.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ");
            problems.push(Problem::quoting(format!("{names} name the same field, `{}`: send it once", p.name), spellings.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")));
        }
    }
    if action.custom_attributes {
        for key in map.keys().filter(|k| !action.params.iter().any(|p| p.name.eq_ignore_ascii_case(k))) {
            if let Some(problem) = password_by_another_name(action, key) {
                problems.push(problem);
            } else if let Some(meant) = meant_field(action, key) {
                problems.push(Problem::quoting(
                    format!("`{key}` is not a field of {}: did you mean `{meant}`? A name it does not know is stored as a custom attribute, beside the field you meant, which it would not set", action.id),
                    key.clone(),
                ));
            } else if let Some(kept) = kept_elsewhere(action, key, &map[key]) {
                problems.push(Problem::quoting(
                    format!("`{key}` is not a field of {}: {kept}. A name it does not know is stored as a custom attribute, which would change nothing", action.id),
                    key.clone(),
                ));
            }
        }
    }
    // An open body passes fields it does not declare on to PingOne, so a field a letter
    // off one it declares would be sent instead of it (review 57: `pkceEnforcment` and
    // `redirectUri` created an application without PKCE or redirect URIs, unasked).
    if action.body_open && !action.custom_attributes {
        for key in map.keys().filter(|k| !action.params.iter().any(|p| p.name.eq_ignore_ascii_case(k)) && !PAGING_ARGS.contains(&k.as_str())) {
            if let Some(meant) = meant_field(action, key) {
                problems.push(Problem::quoting(
                    format!("`{key}` is not a field of {}: did you mean `{meant}`? A field it does not declare is sent on as it is, and PingOne would not take it for the one you meant", action.id),
                    key.clone(),
                ));
            }
        }
    }
    // In any case, as PingOne's attribute names match (`Enabled` is `enabled`).
    let given = |field: &str| map.keys().any(|k| k.eq_ignore_ascii_case(field));
    let elsewhere: Vec<String> = action.changed_by.iter().filter(|(field, _)| given(field)).map(|(field, by)| format!("`{field}` ({by})")).collect();
    if !elsewhere.is_empty() {
        problems.push(Problem::ours(format!(
            "{} cannot change {}: {}; pass only the fields to change",
            action.id,
            if elsewhere.len() == 1 { "this field, which has its own action" } else { "these fields, which have their own actions" },
            elsewhere.join(", ")
        )));
    }
    if !unknown.is_empty() {
        // One problem for all of them: a record passed back whole has several.
        let names = unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let plural = if unknown.len() == 1 { "" } else { "s" };
        let hint = unknown.iter().find_map(|key| id_meant(action, map, key)).unwrap_or_default();
        problems.push(Problem::quoting(format!("unknown argument{plural} {names} (expected {}){hint}", expected_names(action)), unknown.join(", ")));
    }
    check_fields(&action.params, map, "", &mut problems);
    problems.extend(super::filter_types::filter_problems(action, map));
    // A declared field under another spelling (as given to `check_args` directly,
    // before `normalise_args` renames it) names the same field, since PingOne's
    // attribute names match in any case: its value is checked all the same.
    for (key, value) in map {
        if let Some(p) = action.params.iter().find(|p| p.name != *key && p.name.eq_ignore_ascii_case(key)) {
            match value {
                Value::Null => problems.extend(null_problem(p, key)),
                value => check_value(p, value, key, &mut problems),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ArgsError { action: action.id.clone(), problems })
    }
}

fn check_fields(params: &[Param], map: &Map<String, Value>, prefix: &str, problems: &mut Vec<Problem>) {
    for p in params {
        let name = format!("{prefix}{}", p.name);
        let missing = map.get(&p.name).is_none_or(Value::is_null);
        let required_here = p.required_when.as_ref().filter(|when| missing && when.holds(&Value::Object(map.clone())));
        match map.get(&p.name) {
            None | Some(Value::Null) if p.required => {
                problems.push(Problem::ours(format!("missing required `{name}` ({}: {})", p.ty.as_str(), p.description.trim())))
            }
            None | Some(Value::Null) if required_here.is_some() => {
                let when = required_here.map(|w| format!("`{}` is {}", w.field, w.values_text())).unwrap_or_default();
                problems.push(Problem::ours(format!("missing `{name}`, required when {when} ({}: {})", p.ty.as_str(), p.description.trim())))
            }
            None => {}
            Some(Value::Null) => problems.extend(null_problem(p, &name)),
            Some(value) => check_value(p, value, &name, problems),
        }
    }
}

/// Null where a record without the field holds a value of its own: whether PingOne
/// reads null as left out, or stores it, is not said, so the caller says which.
fn null_problem(p: &Param, name: &str) -> Option<Problem> {
    let absent = p.absent_means.as_ref()?;
    Some(Problem::ours(format!("`{name}` is null: leave it out (a record without it holds {absent}) or give it a value")))
}

/// A required text left empty, one longer than PingOne takes, or one not of the form
/// the parameter has (an email address).
fn text_problem(p: &Param, text: &str, name: &str) -> Option<Problem> {
    let what = p.description.trim().trim_end_matches('.');
    if p.required && text.trim().is_empty() {
        return Some(Problem::ours(format!("`{name}` is empty: PingOne needs one ({what})")));
    }
    let length = text.chars().count();
    if let Some(max) = p.max_length.filter(|&max| length > max) {
        return Some(Problem::quoting(format!("`{name}` may be at most {max} characters long; it has {length}"), text.to_owned()));
    }
    match p.format {
        Some(TextFormat::Email) if !crate::email::is_address(text) => {
            Some(Problem::quoting(format!("`{name}` `{text}` is not an email address: one @, with a name before it and a domain after it"), text.to_owned()))
        }
        _ => None,
    }
}

fn check_value(p: &Param, value: &Value, name: &str, problems: &mut Vec<Problem>) {
    // Path and query values are sent as text, so numbers and booleans are fine there;
    // but not as an id, which in PingOne is a UUID: `userId: 5` is a mistake to name.
    let textual = matches!(p.location, Some(ParamLocation::Path | ParamLocation::Query));
    let names_an_id = p.name == "id" || p.name.ends_with("Id");
    let type_ok = p.ty.matches(value) || (textual && !names_an_id && (value.is_number() || value.is_boolean()));
    if !type_ok && names_an_id && (value.is_number() || value.is_boolean()) {
        problems.push(Problem::ours(format!("`{name}` must be a string, the record's id (a UUID such as 2f6c4e3a-8b1d-4c2e-9f70-1a2b3c4d5e6f), got {}", kind(value))));
        return;
    }
    if !type_ok {
        let ty = p.ty.as_str();
        let article = if ty.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        problems.push(Problem::ours(format!("`{name}` must be {article} {ty}, got {}", kind(value))));
        return;
    }
    // A required id left empty names no record: PingOne's answer would not say which.
    if let (true, Value::String(text)) = (p.required && names_an_id, value) {
        if text.trim().is_empty() {
            problems.push(Problem::ours(format!("`{name}` is empty: give the id ({})", p.description.trim().trim_end_matches('.'))));
            return;
        }
    }
    // What PingOne refuses in a text, checked before sending, so a dry run shows it too
    // (review 54 M1: an empty username, a 200-character one and `not-an-email` passed a
    // rehearsal of an import).
    if let Value::String(text) = value {
        if let Some(problem) = text_problem(p, text, name) {
            problems.push(problem);
            return;
        }
    }
    if let (Some(ParamLocation::Path), Value::String(text)) = (p.location, value) {
        if let Some(problem) = path_segment_problem(name, text) {
            problems.push(Problem::ours(problem));
            return;
        }
    }
    let elements: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    if let Some(item_ty) = p.items.filter(|_| p.ty == ParamType::Array) {
        for (i, item) in elements.iter().enumerate() {
            match item {
                // Objects of a declared shape (`scopes: { id }[]`) are checked like one.
                Value::Object(inner) if item_ty == ParamType::Object && !p.properties.is_empty() => {
                    let at = format!("{name}[{i}]");
                    check_fields(&p.properties, inner, &format!("{at}."), problems);
                    problems.extend(misspelt_properties(&p.properties, inner, &at));
                }
                _ if !item_ty.matches(item) => {
                    let shape = if p.properties.is_empty() { String::new() } else { format!(" such as {}", crate::catalog::typescript::item_shape(p, false)) };
                    problems.push(Problem::ours(format!("items of `{name}` must be {}{shape}, got {}", item_ty.as_str(), kind(item))));
                }
                _ => {}
            }
        }
    }
    if !p.allowed.is_empty() {
        for item in &elements {
            if !p.allowed.contains(item) {
                let allowed: Vec<String> = p.allowed.iter().map(Value::to_string).collect();
                problems.push(Problem::quoting(format!("`{name}` is {item}, but must be one of {}", allowed.join(", ")), item.to_string()));
            }
        }
    }
    if let Some(problem) = elements.iter().find_map(|item| range_problem(p, item, name)) {
        problems.push(problem);
    }
    if let Value::Object(inner) = value {
        check_fields(&p.properties, inner, &format!("{name}."), problems);
        problems.extend(misspelt_properties(&p.properties, inner, name));
    }
}

/// Fields of a declared object that are one of its declared properties in another case
/// or a letter off (`password.forcechange`): PingOne would drop or store them beside
/// the one meant, which it would not set. Other undeclared fields pass (PingOne's
/// objects are wide).
fn misspelt_properties(properties: &[Param], inner: &Map<String, Value>, name: &str) -> Vec<Problem> {
    inner
        .keys()
        .filter(|key| !properties.iter().any(|q| q.name == **key))
        .filter_map(|key| {
            let meant = properties.iter().find(|q| q.name.eq_ignore_ascii_case(key) || one_letter_off(key, &q.name))?;
            Some(Problem::quoting(format!("`{name}.{key}` is not a field of `{name}`: did you mean `{name}.{}`? It would not be set", meant.name), key.clone()))
        })
        .collect()
}

/// A number outside the parameter's `minimum`..=`maximum`.
fn range_problem(p: &Param, value: &Value, name: &str) -> Option<Problem> {
    let number = value.as_f64()?;
    if !(p.minimum.is_some_and(|min| number < min as f64) || p.maximum.is_some_and(|max| number > max as f64)) {
        return None;
    }
    let range = match (p.minimum, p.maximum) {
        (Some(min), Some(max)) => format!("from {min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (_, Some(max)) => format!("at most {max}"),
        (None, None) => return None,
    };
    Some(Problem::ours(format!("`{name}` is {value}, but must be {range}")))
}

/// A path parameter is one segment naming one resource: empty, `.` and `..` would
/// make the URL name another (`..` as a membership's group id is the user itself).
pub(crate) fn path_segment_problem(name: &str, text: &str) -> Option<String> {
    match text {
        "" => Some(format!("`{name}` must not be empty")),
        "." | ".." => Some(format!("`{name}` is `{text}`, which is not an id: in the URL it would name a different resource")),
        _ => None,
    }
}

/// `groupId` given where the action takes the group as `id` (in the request's body, as
/// PingOne names it): a hint naming the argument meant, with what it is.
fn id_meant(action: &Action, map: &Map<String, Value>, key: &str) -> Option<String> {
    let stem = key.strip_suffix("Id").or_else(|| key.strip_suffix("ID")).filter(|stem| !stem.is_empty())?.to_ascii_lowercase();
    let id = action.param("id").filter(|_| !map.contains_key("id"))?;
    id.description.to_ascii_lowercase().contains(&stem).then(|| format!("; for `{key}`, pass `id` ({})", id.description.trim().trim_end_matches('.')))
}

fn expected_names(action: &Action) -> String {
    let paging = if action.is_list() { &PAGING_ARGS[..] } else { &[] };
    let names: Vec<&str> = action.params.iter().map(|p| p.name.as_str()).chain(paging.iter().copied()).collect();
    if names.is_empty() {
        "no arguments".into()
    } else {
        names.join(", ")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
