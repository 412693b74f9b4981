//! TypeScript declarations of the actions, generated from the catalog. Compact on
//! purpose: one action's signature is short enough to quote in a search result.

use super::load::Catalog;
use super::model::{Action, Param, ParamType};

const HEADER: &str = "\
/** One page of a list action; pass `cursor` back for the next page of the same list (it carries the first page's filter and limit). count is every match (limit: 1 counts). Called with `{ all: true }`, a list action returns every item as `T[]` instead (in a script, up to about 4 MB; past it, page with `for await (const x of pingone.iterate(id, args))`). */
type Page<T> = { items: T[]; count?: number; cursor?: string };
/** Thrown by every action on failure. message is PingOne's general line; details say what was wrong, and String(e) includes them. */
declare class PingOneError extends Error { status: number; code: string; details: { code: string; target?: string; message: string }[] }
";

/// Every action as a `declare function` with its doc comment.
pub fn declarations(catalog: &Catalog) -> String {
    let mut out = String::from(HEADER);
    out.push_str("declare namespace pingone {\n");
    for action in catalog.actions() {
        let first_sentence = action.summary();
        let writes = if action.may_be_destructive() {
            " Destructive."
        } else if action.writes() {
            " Writes."
        } else {
            ""
        };
        out.push_str(&format!("  /** {first_sentence}.{writes} */\n  function {};\n", action_signature(action)));
    }
    out.push_str("}\n");
    out
}

/// The signature shortened to list many actions in a search result
/// (`action_signature` has it whole): a function type without the name (the hit
/// carries the id) or the `Promise` (every action is async); result fields without
/// their types; optional object arguments as `{…}`; long lists of allowed values cut
/// short; and no `all?: boolean`, which every list action (a `Page<…>`) takes.
pub fn compact_signature(action: &Action) -> String {
    let mut fields: Vec<String> = action.params.iter().map(|p| param_field(p, true)).collect();
    if action.body_open {
        fields.push("[field: string]: unknown".into());
    }
    let args = if fields.is_empty() { String::new() } else { format!("{{ {} }}", fields.join("; ")) };
    format!("({args}) => {}", result(action, true))
}

/// `id(args: {...}): Promise<Result>` for one action.
pub fn action_signature(action: &Action) -> String {
    let mut fields: Vec<String> = action.params.iter().map(|p| param_field(p, false)).collect();
    if action.is_list() {
        fields.push("all?: boolean".into());
    }
    if action.body_open {
        fields.push("[field: string]: unknown".into());
    }
    let optional = action.params.iter().all(|p| !p.required);
    let args = if fields.is_empty() {
        String::new()
    } else {
        format!("args{}: {{ {} }}", if optional { "?" } else { "" }, fields.join("; "))
    };
    format!("{}({args}): Promise<{}>", action.id, result(action, false))
}

/// `Page<Item>` for a list, else the item.
fn result(action: &Action, compact: bool) -> String {
    let item = result_type(action, compact);
    if action.is_list() {
        format!("Page<{item}>")
    } else {
        item
    }
}

fn param_field(p: &Param, compact: bool) -> String {
    let ty = if compact && !p.required && p.ty == ParamType::Object { "{…}".to_owned() } else { param_type(p, compact) };
    // Required for some calls only: the signature says which, so a first try is right.
    let when = p.required_when.as_ref().map(|w| format!(" /* required when {} is {} */", w.field, w.values_text())).unwrap_or_default();
    let alias = p.alias.as_ref().map(|alias| format!(" /* or {alias} */")).unwrap_or_default();
    format!("{}{}: {ty}{alias}{when}", property_name(&p.name), if p.required { "" } else { "?" })
}

/// Allowed values shown in a compact signature before the rest become `…`.
const COMPACT_VALUES: usize = 3;

/// `"A" | "B" | "C"`, cut to `COMPACT_VALUES` and `…` when compact.
fn allowed_values(p: &Param, compact: bool) -> String {
    let mut values: Vec<String> = p.allowed.iter().map(|v| v.to_string()).collect();
    if compact && values.len() > COMPACT_VALUES + 1 {
        values.truncate(COMPACT_VALUES);
        values.push("…".into());
    }
    values.join(" | ")
}

/// A property name as TypeScript accepts it: quoted unless it is an identifier.
fn property_name(name: &str) -> String {
    let mut chars = name.chars();
    let is_identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if is_identifier {
        name.to_owned()
    } else {
        serde_json::to_string(name).unwrap_or_default()
    }
}

fn param_type(p: &Param, compact: bool) -> String {
    if !p.allowed.is_empty() && p.ty != ParamType::Array {
        return allowed_values(p, compact);
    }
    match p.ty {
        ParamType::String => "string".into(),
        ParamType::Integer | ParamType::Number => "number".into(),
        ParamType::Boolean => "boolean".into(),
        ParamType::Array if p.items == Some(ParamType::Object) && !p.properties.is_empty() => format!("{}[]", item_shape(p, compact)),
        ParamType::Array => {
            let item = match p.items.unwrap_or(ParamType::String) {
                ParamType::Integer | ParamType::Number => "number",
                ParamType::Object => "object",
                other => other.as_str(),
            };
            if p.allowed.is_empty() {
                format!("{item}[]")
            } else {
                format!("({})[]", allowed_values(p, compact))
            }
        }
        ParamType::Object if p.properties.is_empty() => "object".into(),
        ParamType::Object => {
            let inner: Vec<String> = p.properties.iter().map(|p| param_field(p, compact)).collect();
            format!("{{ {} }}", inner.join("; "))
        }
    }
}

/// The shape of one item of an array of declared objects, for a message: `{ id: string }`.
pub(crate) fn item_shape(p: &Param, compact: bool) -> String {
    let inner: Vec<String> = p.properties.iter().map(|p| param_field(p, compact)).collect();
    format!("{{ {} }}", inner.join("; "))
}

fn result_type(action: &Action, compact: bool) -> String {
    if action.result.is_empty() {
        return "void".into();
    }
    // A field a record may lack is written `name?` in its action's YAML, as in TypeScript.
    let fields: Vec<String> = action
        .result
        .iter()
        .map(|(k, v)| {
            let (name, optional) = k.strip_suffix('?').map_or((k.as_str(), ""), |name| (name, "?"));
            if compact {
                property_name(name)
            } else {
                format!("{}{optional}: {v}", property_name(name))
            }
        })
        .collect();
    format!("{{ {} }}", fields.join(if compact { ", " } else { "; " }))
}

#[cfg(test)]
mod tests {
    use super::{action_signature, compact_signature, property_name};

    /// A field a record may lack is optional in the signature, so a script written from
    /// it counts a user who never signed in (review 55: `Date.parse(u.lastSignOn?.at) <
    /// cutoff` left 29 of them out of the stale accounts).
    #[test]
    fn a_field_a_record_may_lack_is_optional() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let signature = action_signature(catalog.get("list_users").unwrap());
        assert!(signature.contains("lastSignOn?: { at: string; remoteIp: string }") && signature.contains("; username: string }"), "{signature}");
        assert!(compact_signature(catalog.get("list_users").unwrap()).contains("lastSignOn,"));
    }

    #[test]
    fn compact_signatures_cut_long_value_lists_and_result_types() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let app = catalog.get("create_application").unwrap();
        let (full, compact) = (action_signature(app), compact_signature(app));
        assert!(full.contains("\"PORTAL_LINK_APP\"") && !compact.contains("\"PORTAL_LINK_APP\""), "{compact}");
        assert!(compact.contains("type: \"WEB_APP\" | \"NATIVE_APP\" | \"SINGLE_PAGE_APP\" | …;"), "{compact}");
        assert!(compact.len() < full.len(), "{compact}");
        let user = compact_signature(catalog.get("get_user").unwrap());
        assert!(user.starts_with("({ userId: string") && user.contains(" => { account, address,"), "{user}");
        let users = compact_signature(catalog.get("list_users").unwrap());
        assert!(users.starts_with("({ filter?: string; limit?: number; cursor?: string }) => Page<{ account,"), "{users}");
        assert_eq!(compact_signature(catalog.get("list_system_roles").unwrap()).split(" => ").next(), Some("()"));
    }

    #[test]
    fn odd_property_names_are_quoted() {
        assert_eq!(property_name("minCharacters"), "minCharacters");
        assert_eq!(property_name("0123456789"), "\"0123456789\"");
        assert_eq!(property_name("a-b"), "\"a-b\"");
    }
}
