//! The marks a trim leaves where it cut an array or an object, and, for a program
//! reading the reply, the same taken out and listed apart (review 48: an array of
//! users ended with a string, which code that iterates it as users trips over).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::json_strings::push_key;

/// The key of the entry that stands for an object's fields not shown.
pub const FIELDS_NOT_SHOWN_KEY: &str = "…";

/// The last item of an array cut to `shown` of its `total` items.
pub fn items_mark(shown: usize, total: usize) -> Value {
    json!(format!("… {} more items not shown ({total} in all)", total - shown))
}

/// The value of an object's [`FIELDS_NOT_SHOWN_KEY`] entry, when cut to `shown` of its `total` fields.
pub fn fields_mark(shown: usize, total: usize) -> Value {
    json!(format!("{} more fields not shown ({total} in all)", total - shown))
}

/// `(left out, in all)` of a mark: `… 2989 more items not shown (3000 in all)`.
fn read_mark(text: &str, what: &str) -> Option<(usize, usize)> {
    let text = text.strip_prefix("… ").unwrap_or(text);
    let (left_out, rest) = text.split_once(&format!(" more {what} not shown ("))?;
    let total = rest.strip_suffix(" in all)")?;
    Some((left_out.parse().ok()?, total.parse().ok()?))
}

/// The counts of an array's last item when it is the mark of a cut that left out
/// what the array is short of, not a string that only reads like one.
fn items_mark_of(items: &[Value]) -> Option<(usize, usize)> {
    let counted = items.last().and_then(Value::as_str).and_then(|last| read_mark(last, "items"));
    counted.filter(|&(left_out, total)| items.len() - 1 + left_out == total)
}

/// The counts of an object's [`FIELDS_NOT_SHOWN_KEY`] entry when it is the mark of a cut.
fn fields_mark_of(map: &serde_json::Map<String, Value>) -> Option<(usize, usize)> {
    let counted = map.get(FIELDS_NOT_SHOWN_KEY).and_then(Value::as_str).and_then(|mark| read_mark(mark, "fields"));
    counted.filter(|&(left_out, total)| map.len() - 1 + left_out == total)
}

/// A cut's mark taken out of a value for a while ([`lift_marks`]), with where it was.
#[derive(Debug)]
pub struct LiftedMark {
    /// The JSON pointer of the array or object it was in.
    pointer: String,
    mark: Value,
    /// Whether it was an object's entry under [`FIELDS_NOT_SHOWN_KEY`] (else an array's last item).
    of_object: bool,
}

/// Takes the marks of the cuts out of `value`, to be put back by [`restore_marks`]:
/// a scan judges only what came from outside, and there a text that copies a mark is
/// someone's attempt to make a whole list look cut, or the reverse.
pub fn lift_marks(value: &mut Value) -> Vec<LiftedMark> {
    let mut lifted = Vec::new();
    lift(value, &mut String::new(), &mut lifted);
    lifted
}

fn lift(value: &mut Value, pointer: &mut String, lifted: &mut Vec<LiftedMark>) {
    let len = pointer.len();
    match value {
        Value::Array(items) => {
            if items_mark_of(items).is_some() {
                lifted.push(LiftedMark { pointer: pointer.clone(), mark: items.pop().unwrap_or_default(), of_object: false });
            }
            for (at, item) in items.iter_mut().enumerate() {
                let _ = write!(pointer, "/{at}");
                lift(item, pointer, lifted);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            if fields_mark_of(map).is_some() {
                let mark = map.remove(FIELDS_NOT_SHOWN_KEY).unwrap_or_default();
                lifted.push(LiftedMark { pointer: pointer.clone(), mark, of_object: true });
            }
            for (key, item) in map.iter_mut() {
                // Every scan walks every key: escaped (RFC 6901) only where needed.
                pointer.push('/');
                if key.contains(['~', '/']) {
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                } else {
                    pointer.push_str(key);
                }
                lift(item, pointer, lifted);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Puts back the marks [`lift_marks`] took out of `value`, each at its array's end or
/// as its object's last entry, as the trim wrote them.
pub fn restore_marks(value: &mut Value, lifted: Vec<LiftedMark>) {
    for LiftedMark { pointer, mark, of_object } in lifted {
        match value.pointer_mut(&pointer) {
            Some(Value::Array(items)) if !of_object => items.push(mark),
            Some(Value::Object(map)) if of_object => {
                map.insert(FIELDS_NOT_SHOWN_KEY.to_owned(), mark);
            }
            // Only a scan that renamed the key above it (a withheld key) moves its place.
            _ => tracing::debug!(%pointer, "a cut's mark had no place to go back to"),
        }
    }
}

/// Takes every cut's mark out of `value`, and says where each cut was:
/// `{ path, shown, total }` for an array (`$.result`), `{ path, fieldsShown,
/// fieldsTotal }` for an object, `{ path, charsShown, charsTotal }` for a text.
/// `path` is where `value` is.
pub fn take_cut_marks(value: &mut Value, path: &mut String) -> Vec<Value> {
    let mut cuts = Vec::new();
    take_marks(value, path, &mut cuts);
    cuts
}

fn take_marks(value: &mut Value, path: &mut String, cuts: &mut Vec<Value>) {
    match value {
        Value::Array(items) => {
            if let Some((left_out, total)) = items_mark_of(items) {
                items.pop();
                cuts.push(json!({ "path": path.as_str(), "shown": total - left_out, "total": total }));
            }
            for (at, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{at}]"));
                take_marks(item, path, cuts);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            if let Some((left_out, total)) = fields_mark_of(map) {
                map.remove(FIELDS_NOT_SHOWN_KEY);
                cuts.push(json!({ "path": path.as_str(), "fieldsShown": total - left_out, "fieldsTotal": total }));
            }
            for (key, item) in map.iter_mut() {
                let len = path.len();
                push_key(path, key);
                take_marks(item, path, cuts);
                path.truncate(len);
            }
        }
        Value::String(text) => {
            if let Some((head, total)) = super::cut_text(text) {
                let head = head.to_owned();
                cuts.push(json!({ "path": path.as_str(), "charsShown": head.chars().count(), "charsTotal": total }));
                *text = head;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trim::trim;

    #[test]
    fn a_cut_arrays_and_objects_marks_are_listed_apart() {
        let users: Vec<Value> = (0..3000).map(|i| json!({ "username": format!("user{i}") })).collect();
        let wide: serde_json::Map<String, Value> = (0..500).map(|i| (format!("field{i}"), json!(i))).collect();
        let mut reply = trim(json!({ "result": { "users": users, "wide": wide } }), 2_000).value;
        let cuts = take_cut_marks(&mut reply, &mut "$".to_owned());
        let shown = reply["result"]["users"].as_array().unwrap();
        assert!(shown.iter().all(Value::is_object), "only users are left: {reply}");
        assert!(reply["result"]["wide"].as_object().unwrap().values().all(Value::is_number), "{reply}");
        let users_cut = cuts.iter().find(|c| c["path"] == "$.result.users").unwrap_or_else(|| panic!("{cuts:?}"));
        assert_eq!((users_cut["shown"].as_u64(), users_cut["total"].as_u64()), (Some(shown.len() as u64), Some(3000)));
        let wide_cut = cuts.iter().find(|c| c["path"] == "$.result.wide").unwrap_or_else(|| panic!("{cuts:?}"));
        assert_eq!(wide_cut["fieldsTotal"], 500);
        let mut text = trim(json!({ "bio": "word ".repeat(10_000) }), 300).value;
        let cuts = take_cut_marks(&mut text, &mut "$".to_owned());
        let shown = text["bio"].as_str().unwrap().chars().count();
        assert_eq!(cuts, [json!({ "path": "$.bio", "charsShown": shown, "charsTotal": 50_000 })]);
        assert!(text["bio"].as_str().unwrap().starts_with("word word"), "{text}");
    }

    #[test]
    fn a_string_that_only_looks_like_a_mark_stays() {
        let mut value = json!(["a", "… 5 more items not shown (7 in all)"]);
        assert!(take_cut_marks(&mut value, &mut "$".to_owned()).is_empty());
        assert_eq!(value.as_array().unwrap().len(), 2);
    }
}
