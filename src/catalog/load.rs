//! Loading and validating action files. Every refusal names the file, the line and
//! the field, and says how to fix it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use include_dir::{include_dir, Dir};

use super::args::check_args;
use super::model::{Action, ActionFile, Host, Method, Param, ParamLocation, ParamType};

static BUILTIN_ACTIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/actions");

/// A validated set of actions, indexed by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    actions: BTreeMap<String, Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for CatalogError {}

/// The actions shipped inside the binary (`actions/*.yaml` at build time).
pub fn load_builtin() -> Result<Catalog, Vec<CatalogError>> {
    let mut files: Vec<(String, String)> = BUILTIN_ACTIONS
        .files()
        .filter(|f| is_action_file(f.path()))
        .map(|f| {
            let name = format!("actions/{}", f.path().display());
            (name, f.contents_utf8().unwrap_or_default().to_owned())
        })
        .collect();
    files.sort();
    let mut catalog = Catalog::default();
    catalog.add_files(&files)?;
    Ok(catalog)
}

/// Reads every `*.yaml` / `*.yml` file of a directory (not recursive).
pub fn load_dir(dir: &Path) -> Result<Vec<(String, String)>, Vec<CatalogError>> {
    let io_error = |message: String| {
        vec![CatalogError { file: dir.display().to_string(), line: None, message }]
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| io_error(format!("cannot read the actions directory: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error(e.to_string()))?.path();
        if !is_action_file(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| io_error(format!("cannot read {}: {e}", path.display())))?;
        files.push((path.display().to_string(), text));
    }
    if files.is_empty() {
        return Err(io_error("no *.yaml action files in this directory".into()));
    }
    files.sort();
    Ok(files)
}

fn is_action_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

impl Catalog {
    /// Parses and validates files, adding their actions. All errors are reported, not
    /// just the first; nothing is added when there is any.
    pub fn add_files(&mut self, files: &[(String, String)]) -> Result<(), Vec<CatalogError>> {
        let mut errors = Vec::new();
        let mut added: BTreeMap<String, Action> = BTreeMap::new();
        // Where each id of these files was first seen, to name both files of a clash.
        let mut first_file: BTreeMap<String, String> = BTreeMap::new();
        for (name, text) in files {
            let parsed = match read_file(name, text) {
                Ok(parsed) => parsed,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            // How many times each id came before in this file: a second definition's
            // errors point at it, not at the first.
            let mut earlier: BTreeMap<String, usize> = BTreeMap::new();
            for (number, entry) in parsed.actions.into_iter().enumerate() {
                let id = entry.get("id").and_then(serde_yaml_ng::Value::as_str).map_or_else(|| format!("number {} in the file (it has no id)", number + 1), str::to_owned);
                let occurrence = earlier.entry(id.clone()).or_default();
                let at = Locator { file: name, text, id: &id, occurrence: *occurrence };
                *occurrence += 1;
                // Each action read on its own, so one action's mistake hides no other's.
                let mut action: Action = match serde_path_to_error::deserialize(entry) {
                    Ok(action) => action,
                    Err(e) => {
                        let field = mistaken_field(&e.path().to_string(), &e.inner().to_string());
                        errors.push(at.error(&field, format!("{}; `pingone-mcp actions format` prints the file format", e.inner())));
                        continue;
                    }
                };
                action.group = parsed.group.clone();
                let first = if self.actions.contains_key(&action.id) {
                    Some("the catalog loaded before this file (the built-in actions or an earlier actions directory)".to_owned())
                } else {
                    first_file.get(&action.id).cloned()
                };
                if let Some(first) = first {
                    errors.push(at.error("id", format!("duplicate action id `{}`, already defined in {first}: ids must be unique across all action files; rename one", action.id)));
                    continue;
                }
                first_file.insert(action.id.clone(), name.clone());
                let mut problems = validate(&action);
                problems.extend(weaker_than_builtin(&action, self.actions.values()));
                if problems.is_empty() {
                    added.insert(action.id.clone(), action);
                } else {
                    errors.extend(problems.into_iter().map(|(field, msg)| at.error(field, msg)));
                }
            }
        }
        // The actions `changed_by` points to exist, here or in what was loaded before, and
        // a record condition has a get action to read the record with.
        for (name, text) in files {
            for action in added.values().filter(|a| first_file.get(&a.id) == Some(name)) {
                let reads_its_record = |a: &Action| a.method == Method::Get && a.path == action.path && !a.is_list();
                if action.grants_access_only_if.is_some() && !added.values().chain(self.actions.values()).any(reads_its_record) {
                    let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                    errors.push(at.error("grants_access_only_if", format!("no get action reads `{}`, so the record cannot be checked; add one or remove the condition", action.path)));
                }
                if action.removes_field.is_some() && !added.values().chain(self.actions.values()).any(reads_its_record) {
                    let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                    errors.push(at.error("removes_field", format!("no get action reads `{}`, so what it removes cannot be checked; add one or remove the field", action.path)));
                }
                if let Some(dependents) = &action.dependents {
                    let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                    if !added.get(&dependents.list).or_else(|| self.actions.get(&dependents.list)).is_some_and(|a| a.is_list() && a.param("filter").is_some()) {
                        errors.push(at.error("dependents", format!("`{}` is not a list action with a filter; name one that lists the dependent records", dependents.list)));
                    }
                    let every_param = serde_json::Value::Object(action.params.iter().map(|p| (p.name.clone(), serde_json::json!("x"))).collect());
                    if dependents.filter_for(&every_param).is_none() {
                        errors.push(at.error("dependents", "each {name} in the filter must be one of this action's parameters, which the call fills in".to_owned()));
                    }
                }
                if let Some(unique) = &action.unique {
                    let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                    if !added.get(&unique.list).or_else(|| self.actions.get(&unique.list)).is_some_and(|a| a.is_list() && a.param("filter").is_some()) {
                        errors.push(at.error("unique", format!("`{}` is not a list action with a filter; name one that lists the records whose `{}` must differ", unique.list, unique.field)));
                    }
                    if action.param(&unique.field).is_none() || unique.lookup(&serde_json::json!({ unique.field.clone(): "x" })).is_none() {
                        errors.push(at.error("unique", format!("`{}` must be a parameter of this action, and the filter may name only it, as {{{}}}", unique.field, unique.field)));
                    }
                }
                for (param, list) in action.params.iter().filter_map(|p| Some((&p.name, p.absent_means_default_of.as_ref()?))) {
                    if !added.get(list).or_else(|| self.actions.get(list)).is_some_and(|a| a.is_list() && a.read_only) {
                        let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                        errors.push(at.error("absent_means_default_of", format!("`{param}` names `{list}`, which is not a list action of the catalog; name the action that lists the records one of which is the default")));
                    }
                }
                for (field, by) in &action.changed_by {
                    if !added.contains_key(by) && !self.actions.contains_key(by) {
                        let at = Locator { file: name, text, id: &action.id, occurrence: 0 };
                        errors.push(at.error("changed_by", format!("`{field}` names `{by}`, which is not an action of the catalog; name the action that changes it")));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.actions.extend(added);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Action> {
        self.actions.get(id)
    }

    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.values()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Ids within a few edits of `unknown`, closest first: what it was likely meant to be
    /// when it is a typo.
    pub fn typo_ids(&self, unknown: &str) -> Vec<&str> {
        let mut typos: Vec<(usize, &str)> = self
            .actions
            .keys()
            .map(|id| (strsim::levenshtein(unknown, id), id.as_str()))
            .filter(|(distance, _)| *distance <= 3.max(unknown.len() / 6))
            .collect();
        typos.sort();
        typos.into_iter().map(|(_, id)| id).collect()
    }
}

/// Where in an action a mistake is, for its line: the path serde gives, and an unknown
/// field's own name, which serde gives only in its message (`unknown field `readonly``).
fn mistaken_field(path: &str, message: &str) -> String {
    let unknown = message.strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
    match (path, unknown) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "id".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

/// A file's group and its actions, each still unread. A YAML syntax error stops the
/// file: nothing past it can be read, so its actions go unchecked until it is fixed.
fn read_file(name: &str, text: &str) -> Result<ActionFile, CatalogError> {
    let refusal = |line: Option<usize>, message: String| CatalogError { file: name.to_owned(), line, message };
    let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        refusal(e.location().map(|l| l.line()), format!("{e}; the file cannot be read past this, so its actions were not checked: fix it and check again"))
    })?;
    serde_yaml_ng::from_value(document).map_err(|e| refusal(None, format!("{e}; `pingone-mcp actions format` prints the file format")))
}

/// Finds the line of an action's field in the file text, for error messages.
struct Locator<'a> {
    file: &'a str,
    text: &'a str,
    id: &'a str,
    /// Which definition of the id in the file (0 for the first).
    occurrence: usize,
}

impl Locator<'_> {
    fn error(&self, field: &str, message: String) -> CatalogError {
        CatalogError {
            file: self.file.to_owned(),
            line: self.line_of(field),
            message: format!("action `{}`: {field}: {message}", self.id),
        }
    }

    fn line_of(&self, field: &str) -> Option<usize> {
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                let l = l.trim_start().trim_start_matches("- ").trim();
                l.strip_prefix("id:").map(|v| v.trim().trim_matches(['"', '\''])) == Some(self.id)
            })
            .nth(self.occurrence)?
            .0;
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with("- id:"))
            .map_or(lines.len(), |n| start + 1 + n);
        // Down a path such as `params[1].in` as far as the text shows it (a flow-style
        // `{ … }` item stops at its own line).
        let mut at = start;
        for step in field.split('.').flat_map(|part| part.split('[')) {
            let found = match step.strip_suffix(']').and_then(|n| n.parse::<usize>().ok()) {
                Some(index) => {
                    let items = lines[at + 1..end].iter().enumerate().filter(|(_, l)| l.trim_start().starts_with("- "));
                    let indent = items.clone().next().map(|(_, l)| l.len() - l.trim_start().len());
                    items.filter(|(_, l)| Some(l.len() - l.trim_start().len()) == indent).nth(index).map(|(n, _)| at + 1 + n)
                }
                None => {
                    let needle = format!("{step}:");
                    lines[at..end].iter().position(|l| l.trim_start().trim_start_matches("- ").starts_with(&needle)).map(|n| at + n)
                }
            };
            match found {
                Some(line) => at = line,
                None => break,
            }
        }
        Some(at + 1)
    }
}

type Problem = (&'static str, String);

/// An action added after the catalog that sends what one of its actions sends (method,
/// host and path, whatever its placeholders are called) must be guarded as strictly:
/// else a copy of `set_user_password` marked not destructive would run without
/// --allow-destructive or anyone being asked.
fn weaker_than_builtin<'a>(action: &Action, loaded: impl Iterator<Item = &'a Action>) -> Vec<Problem> {
    // Compared without case too: a server that reads paths without it would take the copy for the original.
    let shape = |a: &Action| (a.method, a.host, a.path.split('/').map(|s| if s.starts_with('{') { "{}".to_owned() } else { s.to_lowercase() }).collect::<Vec<_>>().join("/"));
    let mut problems = Vec::new();
    for same in loaded.filter(|other| shape(other) == shape(action)) {
        let sends = format!("it sends {} {} as `{}` does", same.method.as_str(), action.path, same.id);
        if same.may_be_destructive() && !action.destructive {
            problems.push(("destructive", format!("{sends}, which is destructive: set `destructive: true` so it needs --allow-destructive and is confirmed, or use `{}`", same.id)));
        }
        if same.may_grant_access() && !action.grants_access && !action.destructive {
            problems.push(("grants_access", format!("{sends}, which can grant access: set `grants_access: true` so a person confirms each call, or use `{}`", same.id)));
        }
    }
    problems
}

fn validate(action: &Action) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |field: &'static str, msg: String| problems.push((field, msg));

    if !is_snake_case(&action.id) {
        problem("id", "must be snake_case (lowercase letters, digits and `_`)".into());
    }
    if action.title.trim().is_empty() {
        problem("title", "must not be empty".into());
    }
    if action.description.trim().len() < 20 {
        problem("description", "must say what the action does and what an agent must know (at least 20 characters)".into());
    }
    check_path(action, &mut problem);
    check_params(&action.params, true, "params", &mut problem);

    let has_body = action.params.iter().any(|p| p.location == Some(ParamLocation::Body));
    let has_form = action.params.iter().any(|p| p.location == Some(ParamLocation::Form));
    let multipart = action.content_type.as_deref() == Some("multipart/form-data");
    if (has_body || action.body_open) && action.content_type.is_none() {
        problem("content_type", "the action sends a body, so it needs a content_type (usually application/json)".into());
    }
    if has_form && !multipart {
        problem("content_type", "`in: form` parameters need content_type multipart/form-data".into());
    }
    if multipart && has_body {
        problem("params", "a multipart/form-data action takes `in: form` parameters, not `in: body`".into());
    }
    if action.method == Method::Get && (has_body || has_form || action.body_open) {
        problem("params", "a GET sends no body: put its parameters `in: query` (or `in: path`), and drop body_open and content_type".into());
    }
    if action.list_key.is_some() && action.method != Method::Get {
        problem("list_key", format!("only GET actions return lists, this one is {}", action.method.as_str()));
    }
    if action.read_only && action.method != Method::Get && action.host == Host::Api {
        problem("read_only", format!("a {} on the management API changes state; set read_only: false", action.method.as_str()));
    }
    if action.method == Method::Delete && !action.destructive {
        problem("destructive", "a DELETE removes something; set destructive: true, so it needs --allow-destructive and is confirmed".into());
    }
    if action.read_only && action.destructive {
        problem("destructive", "an action cannot be both read_only and destructive".into());
    }
    if action.read_only && action.grants_access {
        problem("grants_access", "an action that grants access changes state; set read_only: false".into());
    }
    if let Some(condition) = &action.grants_access_only_if {
        if !action.grants_access {
            problem("grants_access_only_if", "it narrows grants_access, which this action does not set; set grants_access: true or remove it".into());
        }
        if action.params.iter().any(|p| p.grants_access || !p.grants_access_if.is_empty()) {
            problem("grants_access_only_if", "the record's state would decide the whole call, so its access-granting parameters would go unasked; remove the condition or their flags".into());
        }
        if condition.field.split('.').any(str::is_empty) || condition.values.is_empty() {
            problem("grants_access_only_if", "needs `field` (a dotted path into the record, e.g. account.status) and at least one of `values`".into());
        }
    }
    if let Some(field) = &action.removes_field {
        if action.method != Method::Delete || field.is_empty() {
            problem("removes_field", "names the field of its record a DELETE removes (e.g. previous); set method: DELETE or remove it".into());
        }
    }
    for (field, ty) in &action.result {
        if field.is_empty() || ty.trim().is_empty() {
            problem("result", format!("field `{field}` needs a TypeScript type, e.g. `string`"));
        } else if let Some(unknown) = unknown_type_name(ty) {
            problem("result", format!("field `{field}`: `{unknown}` is not a TypeScript type; use string, number, boolean, object, unknown, a `{{ field: type }}` shape, `T[]` or `Record<string, T>`"));
        }
    }
    match check_args(action, &action.example) {
        Ok(()) => {}
        Err(e) => problem("example", format!("{e}")),
    }
    problems
}

/// The first name in a result's type that is no type (`strng`): names before `:` are
/// an inline shape's fields, and quoted text a literal.
fn unknown_type_name(ty: &str) -> Option<String> {
    const TYPES: [&str; 14] = ["string", "number", "boolean", "object", "unknown", "any", "null", "undefined", "never", "true", "false", "Record", "Array", "Date"];
    let mut unquoted = String::new();
    let mut quote = None;
    for c in ty.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"') => quote = Some(c),
            None => unquoted.push(c),
        }
    }
    let chars: Vec<char> = unquoted.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        if !(chars[at].is_ascii_alphabetic() || chars[at] == '_') {
            at += 1;
            continue;
        }
        let start = at;
        while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '_') {
            at += 1;
        }
        let name: String = chars[start..at].iter().collect();
        let rest = chars[at..].iter().collect::<String>();
        let is_field = rest.trim_start().trim_start_matches('?').trim_start().starts_with(':');
        if !is_field && !TYPES.contains(&name.as_str()) {
            return Some(name);
        }
    }
    None
}

fn check_path(action: &Action, problem: &mut impl FnMut(&'static str, String)) {
    if !action.path.starts_with('/') {
        problem("path", "must start with `/`".into());
        return;
    }
    // Written as PingOne writes its paths, so that the path sent is the one written, and
    // a copy of a built-in action is known for one (review 45: `…/memberOfGroups/`
    // passed as new and granted with nobody asked; `/{environmentId}/../…` left the
    // configured environment).
    let segments: Vec<&str> = action.path.split('/').collect();
    let written = &segments[1..];
    if written.iter().any(|s| s.is_empty()) {
        problem("path", "has an empty segment (`//`, or a `/` at the end): write each segment once, with no `/` at the end, as PingOne's paths are".into());
    }
    if written.iter().any(|s| *s == "." || *s == "..") {
        problem("path", "may not hold a `.` or `..` segment: it would be resolved to another path than the one written, and could leave the configured environment".into());
    }
    if action.path.contains(['%', '?', '#', '\\', ' ']) {
        problem("path", "may hold only literal segments and `{placeholders}`: no %-encoding, `?`, `#`, `\\` or spaces (a query parameter goes in `params` with `in: query`)".into());
    }
    // The environment is the one configured: a session token, a profile's production
    // check and the audit line are bound to it, so no action may name another.
    if segments.windows(2).any(|w| w[0] == "environments" && w[1] != "{environmentId}") {
        problem("path", "an environment in the path must be `{environmentId}`, which is filled in from the configured environment (`/environments/{environmentId}/…`): an action may not reach another environment".into());
    }
    if action.param("environmentId").is_some() {
        problem("params", "`environmentId` is filled in from the configured environment; remove it from `params` (and from `example`)".into());
    }
    let placeholders = placeholders(&action.path);
    for name in &placeholders {
        if name == "environmentId" {
            continue;
        }
        match action.param(name) {
            Some(p) if p.location == Some(ParamLocation::Path) => {}
            Some(_) => problem("params", format!("`{name}` is in the path, so it must be declared `in: path`")),
            None => problem("path", format!("path parameter `{{{name}}}` is not declared in `params`; add `- name: {name}` with `in: path`")),
        }
    }
    for p in action.params_in(ParamLocation::Path) {
        if !placeholders.contains(&p.name) {
            problem("params", format!("`{}` is declared `in: path` but the path has no `{{{}}}`", p.name, p.name));
        }
        if !p.required {
            problem("params", format!("path parameter `{}` must be `required: true`", p.name));
        }
    }
}

/// The `{name}` placeholders of a path template, in order.
pub(crate) fn placeholders(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        names.push(rest[open + 1..open + close].to_owned());
        rest = &rest[open + close + 1..];
    }
    names
}

fn check_params(params: &[Param], top_level: bool, field: &'static str, problem: &mut impl FnMut(&'static str, String)) {
    let mut seen = std::collections::HashSet::new();
    for p in params {
        if !seen.insert(p.name.as_str()) {
            problem(field, format!("parameter `{}` is declared twice", p.name));
        }
        if top_level && p.location.is_none() {
            problem(field, format!("parameter `{}` needs `in:` (path, query, body or form)", p.name));
        }
        if let Some(alias) = &p.alias {
            if !top_level || params.iter().any(|other| other.name == *alias || (other.name != p.name && other.alias.as_ref() == Some(alias))) {
                problem(field, format!("the alias `{alias}` of `{}` must be a top-level parameter's other name, unlike every other parameter's name and alias", p.name));
            }
        }
        if !top_level && p.location.is_some() {
            problem(field, format!("property `{}` of an object takes no `in:`", p.name));
        }
        if p.items.is_some() && p.ty != ParamType::Array {
            problem(field, format!("parameter `{}` has `items` but is not an array", p.name));
        }
        let objects_in_array = p.ty == ParamType::Array && p.items == Some(ParamType::Object);
        if !p.properties.is_empty() && p.ty != ParamType::Object && !objects_in_array {
            problem(field, format!("parameter `{}` has `properties` but is not an object or an array of objects (`items: object`)", p.name));
        }
        if let Some(default) = &p.default {
            if p.location != Some(ParamLocation::Query) {
                problem(field, format!("parameter `{}` has a `default`, which only query parameters take", p.name));
            } else if !p.ty.matches(default) {
                problem(field, format!("the default {default} of `{}` is not of type {}", p.name, p.ty.as_str()));
            }
        }
        let element = if p.ty == ParamType::Array { p.items.unwrap_or(ParamType::String) } else { p.ty };
        if (p.minimum.is_some() || p.maximum.is_some()) && !matches!(element, ParamType::Integer | ParamType::Number) {
            problem(field, format!("parameter `{}` has a `minimum` or `maximum` but is not a number", p.name));
        }
        if let Some((min, max)) = p.minimum.zip(p.maximum).filter(|(min, max)| min > max) {
            problem(field, format!("parameter `{}` has a `minimum` ({min}) above its `maximum` ({max})", p.name));
        }
        for value in &p.allowed {
            if !element.matches(value) {
                problem(field, format!("enum value {value} of `{}` is not of type {}", p.name, element.as_str()));
            }
        }
        // A call's arguments are compared whole, at the top level (`access_granting_args`,
        // `is_destructive_call`).
        if !top_level && (p.grants_access || !p.grants_access_if.is_empty() || !p.destructive_if.is_empty()) {
            problem(field, format!("property `{}` of an object cannot grant access or destroy on its own; mark the top-level parameter that holds it", p.name));
        }
        if p.absent_means_default_of.is_some() && !(top_level && p.location == Some(ParamLocation::Body) && p.properties.iter().any(|q| q.name == "id")) {
            problem(field, format!("`absent_means_default_of` of `{}` stands for a default record's reference, so it goes on a top-level body parameter with an `id`", p.name));
        }
        if let Some(value) = &p.absent_means {
            if !top_level || p.location != Some(ParamLocation::Body) {
                problem(field, format!("`absent_means` of `{}` says what a record without it holds, so it goes on top-level body parameters only", p.name));
            } else if !p.ty.matches(value) || (!p.allowed.is_empty() && !p.allowed.contains(value)) {
                problem(field, format!("`absent_means` {value} of `{}` is not a value it can take", p.name));
            }
        }
        for (flag, values) in [("grants_access_if", &p.grants_access_if), ("destructive_if", &p.destructive_if)] {
            for value in values {
                if !p.ty.matches(value) {
                    problem(field, format!("{flag} value {value} of `{}` is not of type {}, so no call would match it", p.name, p.ty.as_str()));
                } else if !p.allowed.is_empty() && !p.allowed.contains(value) {
                    problem(field, format!("{flag} value {value} of `{}` is not one of its enum values", p.name));
                }
            }
        }
        check_params(&p.properties, false, field, problem);
    }
}

fn is_snake_case(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
