//! The marks a trim leaves where it cut an array or an object, and, for a program
//! reading the reply, the same taken out and listed apart (review 48: an array of
//! users ended with a string, which code that iterates it as users trips over).

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
            let counted = items.last().and_then(Value::as_str).and_then(|last| read_mark(last, "items"));
            if let Some((left_out, total)) = counted.filter(|&(left_out, total)| items.len() - 1 + left_out == total) {
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
            let counted = map.get(FIELDS_NOT_SHOWN_KEY).and_then(Value::as_str).and_then(|mark| read_mark(mark, "fields"));
            if let Some((left_out, total)) = counted.filter(|&(left_out, total)| map.len() - 1 + left_out == total) {
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
