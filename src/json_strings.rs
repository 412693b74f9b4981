//! Finding strings in a JSON value, with where each one is: for putting back what a
//! caller sent in place of a record's own value (a credential's mask, the defender's
//! placeholder for a withheld text).

use serde_json::Value;

/// A string in a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundString {
    /// Where it is, as a JSON pointer (`/clientSecret`, `/redirectUris/2`).
    pub pointer: String,
    /// Where it is, for people (`clientSecret`, `nested.apiKey`, `redirectUris[2]`).
    pub path: String,
    /// The object key it is held under; empty for an element of an array.
    pub key: String,
}

/// The strings of `value` for which `wanted(key, text)` holds, in document order.
pub fn strings_where(value: &Value, wanted: &dyn Fn(&str, &str) -> bool) -> Vec<FoundString> {
    fn walk(value: &Value, key: &str, pointer: &str, path: &str, wanted: &dyn Fn(&str, &str) -> bool, found: &mut Vec<FoundString>) {
        match value {
            Value::String(text) if wanted(key, text) => found.push(FoundString { pointer: pointer.to_owned(), path: path.to_owned(), key: key.to_owned() }),
            Value::Object(map) => {
                for (name, item) in map {
                    let pointer = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                    let path = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                    walk(item, name, &pointer, &path, wanted, found);
                }
            }
            Value::Array(items) => {
                for (at, item) in items.iter().enumerate() {
                    walk(item, "", &format!("{pointer}/{at}"), &format!("{path}[{at}]"), wanted, found);
                }
            }
            _ => {}
        }
    }
    let mut found = vec![];
    walk(value, "", "", "", wanted, &mut found);
    found
}

/// `path` followed by an object's key: `.name`, or `["a key"]` when it is not a plain word.
pub fn push_key(path: &mut String, key: &str) {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", serde_json::Value::String(key.to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_found_with_their_place() {
        let value = json!({ "a": "x", "b": { "c/d": "x", "e": ["y", "x"] }, "f": 1 });
        let found = strings_where(&value, &|_, text| text == "x");
        let places: Vec<(&str, &str, &str)> = found.iter().map(|f| (f.pointer.as_str(), f.path.as_str(), f.key.as_str())).collect();
        assert_eq!(places, [("/a", "a", "a"), ("/b/c~1d", "b.c/d", "c/d"), ("/b/e/1", "b.e[1]", "")]);
        for f in &found {
            assert_eq!(value.pointer(&f.pointer), Some(&json!("x")), "{}", f.pointer);
        }
    }
}
