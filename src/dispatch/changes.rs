//! What an access-changing call changes, as lines for the person asked to confirm it:
//! `email "a@x" -> "b@y"`, `sms.otp.failure.count 3 -> 100`, a rule a full replace
//! leaves out. A call with no such line is not asked about.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::catalog::{is_read_only_field, Action, Method, ParamLocation};
use crate::secret::is_secret_field;

const LEFT_OUT: &str = "(left out of this full replace, or null: PingOne clears it or puts its default back)";

/// The `grants_access` parameters (a user's email or phone, an application's redirect
/// URIs, a policy's rules) this call gives a value `record` (the one it changes) does
/// not already hold, and those a full replace leaves out while the record holds a
/// value. A settings block is shown by the leaves that differ, settings the record
/// already has first, so keys the call adds cannot push a real change out of sight. A
/// record that could not be read counts as changed: the person is asked rather than not.
/// `absent`: what a record without a field holds, by name (`absent_values`, and the
/// environment's default record for a parameter with `absent_means_default_of`).
pub(super) fn access_changes(action: &Action, args: &Value, record: Option<&Value>, absent: &Map<String, Value>) -> Vec<String> {
    let mut lines = Lines::default();
    for (name, value) in action.access_granting_args(args) {
        let reference = action.param(name).is_some_and(|p| p.properties.iter().any(|q| q.name == "id"));
        let (path, value, current) = match reference_id(value).filter(|_| reference) {
            // A reference (`signOnPolicy: { id }`) compares and reads by its id.
            Some(id) => (format!("{name}.id"), id, record.map(|r| held(r, name, absent).and_then(|v| v.get("id")))),
            None => (name.to_owned(), value, record.map(|r| held(r, name, absent))),
        };
        let secret = is_secret_field(name);
        let unset = record.is_some_and(|r| r.get(name).is_none_or(Value::is_null));
        match current {
            // Not read but implied: the person is told so.
            Some(Some(implied)) if unset && !implied.is_object() && differs(Some(implied), Some(value)) => {
                lines.push(Rank::Changed, format!("{path} (not set, so {}) -> {}", shown(secret, Some(implied)), shown(secret, Some(value))));
            }
            Some(current) => leaf_changes(&path, secret, current, Some(value), &mut lines),
            None if action.method == Method::Post => each_leaf(&path, secret, value, &mut |path, v| lines.push(Rank::Added, format!("{path} {v} (a new record)"))),
            None => each_leaf(&path, secret, value, &mut |path, v| lines.push(Rank::Changed, format!("{path} (current value unread) -> {v}"))),
        }
    }
    for name in action.access_params_left_out(args) {
        let secret = is_secret_field(name);
        // Left out, a field takes the value a record without it holds: a change only
        // from another value. A reference to the environment's default record is
        // another matter: left out, the record follows whatever the default becomes.
        let default_reference = absent.get(name).filter(|d| d.get("id").is_some());
        if let Some(default) = absent.get(name).filter(|_| default_reference.is_none()) {
            match record.map(|r| held(r, name, absent)) {
                Some(current) if !differs(current, Some(default)) => {}
                Some(current) => lines.push(Rank::Changed, format!("{name} {} -> {} {LEFT_OUT}", shown(secret, current), shown(secret, Some(default)))),
                None => lines.push(Rank::Changed, format!("{name} (current value unread) -> {} {LEFT_OUT}", shown(secret, Some(default)))),
            }
            continue;
        }
        let left_out = |current: Option<&Value>| match default_reference {
            Some(default) => {
                let named = default.get("name").map(|n| format!(" {}", shown(false, Some(n)))).unwrap_or_default();
                let today = if current.is_some() && !differs(current, default.get("id")) { "the same today, but from now on it follows" } else { "it follows" };
                format!("(left out of this full replace, or null: {today} the environment's default, at present {}{named}, whatever that becomes)", shown(false, default.get("id")))
            }
            None => LEFT_OUT.to_owned(),
        };
        let left_out_unread = left_out(None);
        match record.map(|r| r.get(name).filter(|v| holds(v))) {
            Some(None) => {}
            // A reference the record holds (`passwordPolicy: { id, … }`) is shown by its id.
            Some(Some(Value::Object(fields))) if fields.contains_key("id") => {
                lines.push(Rank::Removed, format!("{name}.id {} -> {}", shown(secret, fields.get("id")), left_out(fields.get("id"))));
            }
            Some(Some(value @ Value::Object(_))) => {
                lines.push(Rank::Removed, format!("{name} {left_out_unread}"));
                each_leaf(name, secret, value, &mut |path, v| lines.push(Rank::Removed, format!("{path} {v} -> (none)")));
            }
            Some(Some(value)) => lines.push(Rank::Removed, format!("{name} {} -> {left_out_unread}", shown(secret, Some(value)))),
            None => lines.push(Rank::Removed, format!("{name} (current value unread) -> {left_out_unread}")),
        }
    }
    lines.shown()
}

/// What a delete of one field of its record (`removes_field`: a previous secret)
/// removes from `record`, as a line: `previous {expiresAt: "…", secret: ****} -> (removed)`;
/// none when the record holds no such field, so there is nothing to remove.
pub(super) fn removal(action: &Action, record: &Value) -> Option<String> {
    let field = action.removes_field.as_deref()?;
    let held = record.get(field).filter(|v| holds(v))?;
    Some(format!("{} {} -> (removed)", segment(field), shown(is_secret_field(field), Some(held))))
}

/// Everything an update that is always asked about (an identity provider's) changes of
/// `record`, leaf by leaf, and on a full replace the fields it leaves out that the record
/// holds: the person sees the one changed endpoint among the fields sent back as read.
pub(super) fn record_changes(action: &Action, args: &Value, record: &Value) -> Vec<String> {
    let mut lines = body_lines(action, args, record);
    for line in cleared_fields(action, args, record) {
        lines.push(Rank::Removed, format!("{line} -> {LEFT_OUT}"));
    }
    lines.shown()
}

/// What an update's body changes in `record`, leaf by leaf (credentials masked), as a
/// dry run shows it beside the request (review 57 M8: the whole body, to diff by eye).
pub(super) fn body_changes(action: &Action, args: &Value, record: &Value) -> Vec<String> {
    body_lines(action, args, record).shown()
}

fn body_lines(action: &Action, args: &Value, record: &Value) -> Lines {
    let mut lines = Lines::default();
    let in_body = |key: &str| action.param(key).is_none_or(|p| p.location == Some(ParamLocation::Body));
    // A credential by its name, or one the catalog marks (a password's `value`).
    let secret = |key: &str| is_secret_field(key) || action.param(key).is_some_and(|p| p.secret);
    // Declared fields first: keys the call adds cannot push a change to one out of sight.
    let (declared, undeclared): (Vec<_>, Vec<_>) = args.as_object().into_iter().flatten().filter(|(key, _)| in_body(key)).partition(|(key, _)| action.param(key).is_some());
    for (key, value) in declared.into_iter().chain(undeclared) {
        leaf_changes(&segment(key), secret(key), record.get(key.as_str()), Some(value), &mut lines);
    }
    lines
}

/// The fields a full replace with `args` clears, each with what `record` holds there
/// (`history {count: 6, …}`; a credential masked): what a person must be told was lost.
pub(super) fn cleared_fields(action: &Action, args: &Value, record: &Value) -> Vec<String> {
    let secret = |key: &str| is_secret_field(key) || action.param(key).is_some_and(|p| p.secret);
    dropped_fields(action, args, record).into_iter().map(|(name, held)| format!("{} {}", segment(name), shown(secret(name), Some(held)))).collect()
}

/// The fields of `record` a full replace (PUT) with `args` clears: each field the
/// record holds that the call does not send, under any spelling, other than those
/// PingOne writes itself and the record's parent, which the path names (a mapping's
/// `identityProvider`, a grant's `application`); declared or not, since PingOne's
/// records are wider than the catalog (a PayPal provider's `clientEnvironment`).
pub(super) fn dropped_fields<'a>(action: &Action, args: &Value, record: &'a Value) -> Vec<(&'a str, &'a Value)> {
    if action.method != Method::Put {
        return vec![];
    }
    let sent = |name: &str| args.as_object().into_iter().flatten().any(|(key, value)| key.eq_ignore_ascii_case(name) && !value.is_null());
    let path = |name: &str| action.param(name).is_some_and(|p| p.location != Some(ParamLocation::Body));
    let path_ids: Vec<&Value> = action.params_in(ParamLocation::Path).filter_map(|p| args.get(&p.name)).collect();
    let parent = |value: &Value| value.get("id").is_some_and(|id| path_ids.contains(&id));
    record
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, value)| holds(value) && !sent(name) && !path(name) && !parent(value) && !is_read_only_field(action, name) && !stays_default(name))
        .map(|(name, value)| (name.as_str(), value))
        .collect()
}

/// A policy's `default`, which a replace that leaves it out does not clear: a default
/// policy stays the default until another is made it, and one that is not stays not
/// (review 50: "clears default false" on every full replace of a policy).
fn stays_default(name: &str) -> bool {
    name == "default"
}

/// Whether `new` changes anything of `current`, compared as the question compares them.
pub(super) fn differs(current: Option<&Value>, new: Option<&Value>) -> bool {
    let mut lines = Lines::default();
    leaf_changes("", false, current, new, &mut lines);
    !lines.0.is_empty()
}

/// What a record without each of the action's fields holds, as its parameters'
/// `absent_means` say.
pub(super) fn absent_values(action: &Action) -> Map<String, Value> {
    action.params.iter().filter_map(|p| Some((p.name.clone(), p.absent_means.clone()?))).collect()
}

/// The record's value of a top-level field, or what a record without it holds.
fn held<'a>(record: &'a Value, name: &str, absent: &'a Map<String, Value>) -> Option<&'a Value> {
    record.get(name).filter(|v| !v.is_null()).or_else(|| absent.get(name))
}

/// Whether a field holds a value: empty text, lists and objects count as none.
fn holds(value: &Value) -> bool {
    !(value.is_null() || value.as_str() == Some("") || value.as_array().is_some_and(Vec::is_empty) || value.as_object().is_some_and(|o| o.is_empty()))
}

/// The id of a reference to another record, `{ "id": "…" }`.
fn reference_id(value: &Value) -> Option<&Value> {
    value.as_object().filter(|fields| fields.len() == 1)?.get("id")
}

/// Which lines come first: a setting the record holds, changed or taken away, before
/// one the call adds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Changed,
    Removed,
    Added,
}

#[derive(Default)]
struct Lines(Vec<(Rank, String)>);

impl Lines {
    fn push(&mut self, rank: Rank, line: String) {
        self.0.push((rank, line));
    }

    /// All of them, none hidden (a cap would let harmless changes push a real one out
    /// of sight), those to settings the record holds first.
    fn shown(mut self) -> Vec<String> {
        self.0.sort_by_key(|(rank, _)| *rank);
        self.0.into_iter().map(|(_, line)| line).collect()
    }
}

/// The leaves where `current` (the record's) and `new` (the call's) differ, found by
/// walking objects by key and lists by item (by `id` when every item has one), with
/// null the same as absent. `secret`: a credential's leaves are shown masked.
fn leaf_changes(path: &str, secret: bool, current: Option<&Value>, new: Option<&Value>, lines: &mut Lines) {
    let current = current.filter(|v| !v.is_null());
    let new = new.filter(|v| !v.is_null());
    match (current, new) {
        (Some(Value::Object(was)), Some(Value::Object(now))) => {
            let keys: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
            for key in keys {
                leaf_changes(&format!("{path}.{}", segment(key)), secret || is_secret_field(key), was.get(key), now.get(key), lines);
            }
        }
        (Some(Value::Array(was)), Some(Value::Array(now))) => match (ids(was), ids(now)) {
            (Some(was_ids), Some(now_ids)) => {
                let keys: BTreeSet<&str> = was_ids.iter().chain(&now_ids).copied().collect();
                for id in keys {
                    let was_item = was_ids.iter().position(|i| *i == id).map(|at| &was[at]);
                    let now_item = now_ids.iter().position(|i| *i == id).map(|at| &now[at]);
                    match (was_item, now_item) {
                        // A reference (a grant's scope, `{ id }`) comes or goes whole.
                        (Some(item), None) if reference_id(item).is_some() => lines.push(Rank::Removed, format!("{path} drops {}", super::quoted_label(id))),
                        (None, Some(item)) if reference_id(item).is_some() => lines.push(Rank::Added, format!("{path} adds {}", super::quoted_label(id))),
                        _ => leaf_changes(&format!("{path}[id {}]", super::quoted_label(id)), secret, was_item, now_item, lines),
                    }
                }
            }
            // A list of plain values (redirect URIs, grant types) by the items it gains and loses.
            _ if was.iter().chain(now).all(is_plain) => {
                for item in was.iter().filter(|item| !now.contains(item)) {
                    lines.push(Rank::Removed, format!("{path} drops {}", shown(secret, Some(item))));
                }
                for item in now.iter().filter(|item| !was.contains(item)) {
                    lines.push(Rank::Added, format!("{path} adds {}", shown(secret, Some(item))));
                }
            }
            _ => {
                for at in 0..was.len().max(now.len()) {
                    leaf_changes(&format!("{path}[{at}]"), secret, was.get(at), now.get(at), lines);
                }
            }
        },
        (Some(was), Some(now)) if same_number(was, now) || was == now => {}
        (Some(Value::String(was)), Some(Value::String(now))) if !secret && differs_in_non_ascii(was, now) => {
            // A look-alike or blank-looking letter is the change: both show as codes.
            lines.push(Rank::Changed, format!("{path} {} -> {}", quoted_value(was, true), quoted_value(now, true)));
        }
        (Some(was), Some(now)) => lines.push(Rank::Changed, format!("{path} {} -> {}", shown(secret, Some(was)), shown(secret, Some(now)))),
        (Some(was), None) => each_leaf(path, secret, was, &mut |path, v| lines.push(Rank::Removed, format!("{path} {v} -> (none)"))),
        (None, Some(now)) => each_leaf(path, secret, now, &mut |path, v| lines.push(Rank::Added, format!("{path} (none) -> {v}"))),
        (None, None) => {}
    }
}

/// `10` and `10.0` are the same setting.
fn same_number(a: &Value, b: &Value) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

/// Every leaf of `value` with its path and how it is shown.
fn each_leaf(path: &str, secret: bool, value: &Value, found: &mut impl FnMut(&str, String)) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (key, value) in fields {
                each_leaf(&format!("{path}.{}", segment(key)), secret || is_secret_field(key), value, found);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (at, item) in items.iter().enumerate() {
                each_leaf(&format!("{path}[{at}]"), secret, item, found);
            }
        }
        Value::Null => {}
        leaf => found(path, shown(secret, Some(leaf))),
    }
}

fn is_plain(value: &Value) -> bool {
    !(value.is_object() || value.is_array())
}

/// The ids of a list's items, when every item is an object with a text `id` of its own
/// (with two alike, an item could hide behind its twin: such lists compare by place).
fn ids(items: &[Value]) -> Option<Vec<&str>> {
    let ids: Vec<&str> = items.iter().map(|item| item.get("id").and_then(Value::as_str)).collect::<Option<_>>()?;
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    (distinct.len() == ids.len()).then_some(ids)
}

/// A key in a path: as is when it is a plain name, quoted otherwise, so a key cannot
/// write its own lines or fake a path into the question.
fn segment(key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        key.to_owned()
    } else {
        super::quoted_label(key)
    }
}

/// A value as the person reads it: text quoted, on one line, without direction marks,
/// cut in the middle when long so that both ends show (a URL's host and its path's
/// end); a list or block as one, item by item (not JSON quoted again, which read as
/// noise and as an injection to the defender, review 57); a credential masked.
fn shown(secret: bool, value: Option<&Value>) -> String {
    /// Items of a list or block shown before the rest is counted.
    const ITEMS: usize = 10;
    fn some_of(items: impl ExactSizeIterator<Item = String>) -> String {
        let more = items.len().saturating_sub(ITEMS);
        let shown: Vec<String> = items.take(ITEMS).collect();
        let rest = if more > 0 { format!(", … {more} more") } else { String::new() };
        format!("{}{rest}", shown.join(", "))
    }
    match value {
        Some(Value::Null) | None => "(none)".to_owned(),
        Some(_) if secret => "****".to_owned(),
        Some(Value::String(text)) => quoted_value(text, false),
        Some(plain @ (Value::Bool(_) | Value::Number(_))) => plain.to_string(),
        Some(Value::Array(items)) => format!("[{}]", some_of(items.iter().map(|item| shown(false, Some(item))))),
        Some(Value::Object(fields)) => {
            format!("{{{}}}", some_of(fields.iter().map(|(key, value)| format!("{}: {}", segment(key), shown(is_secret_field(key), Some(value))))))
        }
    }
}

/// Whether two texts differ where a character outside ASCII could fool the eye: a
/// letter swapped for a look-alike (`cоntoso` with a Cyrillic о), or something added
/// or taken away that shows as nothing (a mark, U+3164). Added words in any script do
/// not count (`Müller` -> `Müller-Lüdenscheidt`).
fn differs_in_non_ascii(was: &str, now: &str) -> bool {
    // Letters that draw nothing.
    const BLANK_LETTERS: [char; 4] = ['\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}'];
    let (was, now): (Vec<char>, Vec<char>) = (was.chars().collect(), now.chars().collect());
    let head = was.iter().zip(&now).take_while(|(a, b)| a == b).count();
    let tail = was[head..].iter().rev().zip(now[head..].iter().rev()).take_while(|(a, b)| a == b).count();
    let (was, now) = (&was[head..was.len() - tail], &now[head..now.len() - tail]);
    if was.len() == now.len() {
        was.iter().zip(now).any(|(a, b)| a != b && !(a.is_ascii() && b.is_ascii()))
    } else {
        was.iter().chain(now).any(|c| !c.is_ascii() && (!c.is_alphanumeric() || BLANK_LETTERS.contains(c)))
    }
}

/// A value quoted on one line, escaped as Rust writes strings: marks that reorder or
/// hide text show as their codes (`\u{202e}`), so two values that differ never read
/// alike. A URL keeps its host whole, and it and any value whose change lies in letters
/// outside ASCII (`ascii`) show those letters as codes (`<U+0456>`); a long value is cut
/// in the middle, so both ends show.
fn quoted_value(text: &str, ascii: bool) -> String {
    const HEAD: usize = 100;
    const TAIL: usize = 60;
    let chars: Vec<char> = text.chars().collect();
    let scheme = chars.windows(3).position(|w| w == [':', '/', '/']);
    let chars: Vec<char> = if ascii || scheme.is_some() {
        chars.iter().flat_map(|&c| if c.is_ascii() { vec![c] } else { format!("<U+{:04X}>", c as u32).chars().collect() }).collect()
    } else {
        chars
    };
    // Found again: codes put in before it moved it.
    let host_end = chars.windows(3).position(|w| w == [':', '/', '/']).map_or(0, |at| {
        let after = &chars[at + 3..];
        at + 3 + after.iter().position(|c| matches!(c, '/' | '?' | '#')).unwrap_or(after.len())
    });
    let head = HEAD.max(host_end);
    let text: String = if chars.len() > head + TAIL + 1 {
        chars[..head].iter().chain(['…'].iter()).chain(chars[chars.len() - TAIL..].iter()).collect()
    } else {
        chars.into_iter().collect()
    };
    format!("{text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changes(current: Value, new: Value) -> Vec<String> {
        let mut lines = Lines::default();
        leaf_changes("p", false, Some(&current), Some(&new), &mut lines);
        lines.shown()
    }

    #[test]
    fn a_block_is_shown_by_the_leaves_that_differ_with_null_as_absent() {
        let was = json!({ "otp": { "failure": { "count": 3 }, "lifeTime": { "duration": 30 } }, "enabled": true });
        let now = json!({ "otp": { "failure": { "count": 100 }, "lifeTime": { "duration": 30.0 } }, "enabled": true, "pairingDisabled": null });
        assert_eq!(changes(was, now), ["p.otp.failure.count 3 -> 100"]);
    }

    #[test]
    fn a_value_implied_by_its_absence_is_told_as_such_and_a_default_reference_left_out_is_asked() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let mfa = catalog.get("update_device_authentication_policy").unwrap();
        let unset = json!({ "name": "MFA" });
        let off = json!({ "name": "MFA", "newDeviceNotification": "NONE" });
        assert_eq!(access_changes(mfa, &off, Some(&unset), &absent_values(mfa)), ["newDeviceNotification (not set, so \"EMAIL_THEN_SMS\") -> \"NONE\""]);
        assert!(access_changes(mfa, &json!({ "name": "MFA" }), Some(&unset), &absent_values(mfa)).is_empty(), "left out is the default");

        let population = catalog.get("update_population").unwrap();
        let mut absent = absent_values(population);
        absent.insert("passwordPolicy".into(), json!({ "id": "d", "name": "Standard" }));
        let pinned = json!({ "name": "P", "passwordPolicy": { "id": "d" } });
        let following = json!({ "name": "P" });
        assert!(access_changes(population, &pinned, Some(&following), &absent).is_empty(), "pinned to the default it holds now");
        assert_eq!(
            access_changes(population, &following, Some(&pinned), &absent),
            ["passwordPolicy.id \"d\" -> (left out of this full replace, or null: the same today, but from now on it follows the environment's default, at present \"d\" \"Standard\", whatever that becomes)"]
        );
        let other = json!({ "name": "P", "passwordPolicy": { "id": "weak" } });
        assert_eq!(access_changes(population, &other, Some(&following), &absent), ["passwordPolicy.id (not set, so \"d\") -> \"weak\""]);
    }

    #[test]
    fn a_credential_the_catalog_marks_is_masked_and_dropped_fields_are_shown() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let password = catalog.get("set_user_password").unwrap();
        let lines = record_changes(password, &json!({ "userId": "u", "value": "Corr3ct-Horse", "forceChange": true }), &json!({ "status": "OK" }));
        assert!(lines.iter().any(|l| l == "value (none) -> ****") && !lines.concat().contains("Horse"), "{lines:?}");
        let idp = catalog.get("update_identity_provider").unwrap();
        let record = json!({ "id": "p", "name": "PayPal", "clientEnvironment": "live", "createdAt": "2024", "enabled": true });
        let lines = record_changes(idp, &json!({ "providerId": "p", "name": "PayPal", "enabled": true }), &record);
        assert_eq!(lines, ["clientEnvironment \"live\" -> (left out of this full replace, or null: PingOne clears it or puts its default back)"]);
    }

    #[test]
    fn values_that_differ_never_read_alike() {
        let rtl = changes(json!("https://login.example.com/cb"), json!("https://login.example.com/cb\u{202e}"));
        assert_eq!(rtl, ["p \"https://login.example.com/cb\" -> \"https://login.example.com/cb<U+202E>\""]);
        let hidden = changes(json!("admins"), json!("admins\u{200b}"));
        assert_eq!(hidden, ["p \"admins\" -> \"admins<U+200B>\""]);
        let look_alike = changes(json!("https://login.microsoftonline.com/t"), json!("https://login.microsoftonl\u{456}ne.com/t"));
        assert!(look_alike[0].ends_with("-> \"https://login.microsoftonl<U+0456>ne.com/t\""), "{look_alike:?}");
        let tenant = changes(json!("contoso.onmicrosoft.com"), json!("c\u{43e}ntoso.onmicrosoft.com"));
        assert_eq!(tenant, ["p \"contoso.onmicrosoft.com\" -> \"c<U+043E>ntoso.onmicrosoft.com\""]);
        let blank = changes(json!("Admins"), json!("Admins\u{3164}"));
        assert_eq!(blank, ["p \"Admins\" -> \"Admins<U+3164>\""]);
        assert_eq!(changes(json!("Müller"), json!("Müller-Lüdenscheidt")), ["p \"Müller\" -> \"Müller-Lüdenscheidt\""], "letters outside ASCII stay when the change is not in them");
        let host = format!("https://{}.evil.example/cb", "a".repeat(200));
        let long = changes(json!("https://idp.example.com/cb"), json!(host));
        assert!(long[0].contains(".evil.example"), "the host is shown whole: {long:?}");
        let behind_a_mark = changes(json!("https://idp.example.com/cb"), json!(format!("\u{200b}{host}")));
        assert!(behind_a_mark[0].contains(".evil.example"), "a mark before the scheme does not move the cut: {behind_a_mark:?}");
    }

    #[test]
    fn list_items_are_matched_by_id_or_by_place() {
        let was = json!([{ "id": "a", "push": { "numberMatching": "SELECT" } }, { "id": "b", "x": 1 }]);
        let now = json!([{ "id": "b", "x": 1 }, { "id": "a", "push": {} }]);
        assert_eq!(changes(was, now), ["p[id \"a\"].push.numberMatching \"SELECT\" -> (none)"]);
        assert_eq!(changes(json!([["x"], ["y"]]), json!([["x"], ["z"]])), ["p[1] drops \"y\"", "p[1] adds \"z\""]);
        assert_eq!(changes(json!(["https://a", "https://b"]), json!(["https://b", "https://evil"])), ["p drops \"https://a\"", "p adds \"https://evil\""]);
        assert_eq!(changes(json!([{ "id": "read" }, { "id": "write" }]), json!([{ "id": "read" }, { "id": "admin" }])), ["p drops \"write\"", "p adds \"admin\""], "references come and go whole");
    }

    #[test]
    fn keys_cannot_write_lines_and_added_keys_come_last() {
        let mut now = serde_json::Map::new();
        for i in 0..20 {
            now.insert(format!("a{i:02}\nChange: approved by security"), json!(1));
        }
        now.insert("zcount".into(), json!(100));
        let lines = changes(json!({ "zcount": 3 }), Value::Object(now));
        assert_eq!(lines[0], "p.zcount 3 -> 100", "{lines:#?}");
        assert!(lines.iter().all(|l| !l.contains('\n')), "{lines:#?}");
        assert_eq!(lines.len(), 21, "none hidden");
    }

    #[test]
    fn twins_in_a_list_compare_by_place_and_long_values_keep_both_ends() {
        let app = json!({ "id": "a", "integrityDetection": "restrictive" });
        let weak = json!({ "id": "a", "integrityDetection": "permissive" });
        assert_eq!(changes(json!([app.clone()]), json!([app, weak])), ["p[1].id (none) -> \"a\"", "p[1].integrityDetection (none) -> \"permissive\""]);
        let url = format!("https://login.example.com/{}/callback.attacker-owned.net", "x".repeat(200));
        let lines = changes(json!({ "u": "https://login.example.com/cb" }), json!({ "u": url }));
        assert!(lines[0].contains("https://login.example.com/") && lines[0].ends_with("attacker-owned.net\""), "{lines:#?}");
        let bidi = changes(json!({ "u": "a" }), json!({ "u": "https://x.example/\u{202E}ten.live" }));
        assert!(!bidi[0].contains('\u{202E}'), "{bidi:#?}");
    }

    /// An application opened again is asked about, as a user's is (review 57 L9), and
    /// so is one disabled for everyone (review 56 H3); an update that keeps its status
    /// is not.
    #[test]
    fn enabling_or_disabling_an_application_changes_access() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let update = catalog.get("update_application").unwrap();
        let app = |enabled: bool| json!({ "applicationId": "a", "name": "HR", "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": enabled, "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" });
        let record = |enabled: bool| json!({ "id": "a", "name": "HR", "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": enabled, "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" });
        assert_eq!(access_changes(update, &app(true), Some(&record(false)), &absent_values(update)), ["enabled false -> true"]);
        assert!(access_changes(update, &app(true), Some(&record(true)), &absent_values(update)).is_empty());
        assert_eq!(access_changes(update, &app(false), Some(&record(true)), &absent_values(update)), ["enabled true -> false"]);
        assert!(access_changes(update, &app(false), Some(&record(false)), &absent_values(update)).is_empty());
    }

    /// Review 57: `redirectUris "[\"https://admin.example.com/\"]"` read as noise to the
    /// person and as an injection to the defender.
    #[test]
    fn a_list_or_block_is_shown_as_one_not_as_quoted_json() {
        assert_eq!(shown(false, Some(&json!(["https://admin.example.com/", 3]))), "[\"https://admin.example.com/\", 3]");
        assert_eq!(shown(false, Some(&json!({ "count": 6, "a key": ["x"], "clientSecret": "s3cr3t" }))), "{count: 6, \"a key\": [\"x\"], clientSecret: ****}");
        let many: Vec<String> = (0..25).map(|i| format!("https://app{i}.example.com/cb")).collect();
        let long = shown(false, Some(&json!(many)));
        assert!(long.starts_with("[\"https://app0.example.com/cb\", ") && long.ends_with("\"https://app9.example.com/cb\", … 15 more]"), "{long}");
        assert_eq!(shown(false, Some(&json!(["a\nTarget: approved"]))), "[\"a\\nTarget: approved\"]", "an item stays on one line");
    }

    #[test]
    fn a_credential_inside_a_block_is_masked() {
        let lines = changes(json!({}), json!({ "otp": { "clientSecret": "s3cr3t-Value-9f8e" }, "apiKey": "AKIAEXAMPLE" }));
        assert!(lines.iter().all(|l| l.ends_with("-> ****")), "{lines:#?}");
    }
}
