//! A value index over some string attributes of a table (username, email, names), so
//! an `eq` or `sw` filter on them reads the few records that can match instead of
//! testing all of them: with 10,000 users a full scan costs milliseconds, mostly in
//! cache misses on each record's keys.
//!
//! The index only narrows: it files each value case-folded, under every key that
//! spells the attribute in any case, so what it returns is a superset of what the
//! filter accepts, and the filter itself still decides (see `Filter::candidates`).
//! Whether values compare case-sensitively stays the filter's business.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::filter::Probe;

#[derive(Debug)]
pub struct ValueIndex {
    /// Dotted attribute paths, e.g. `name.given`.
    paths: &'static [&'static str],
    /// Per path: folded value -> rows holding it.
    by_value: Vec<BTreeMap<String, BTreeSet<u64>>>,
    /// Row -> (path, folded value) it is filed under, to unfile it.
    filed: HashMap<u64, Vec<(usize, String)>>,
}

impl ValueIndex {
    pub fn new(paths: &'static [&'static str]) -> Self {
        Self { paths, by_value: vec![BTreeMap::new(); paths.len()], filed: HashMap::new() }
    }

    /// Files `record` as row `row`, replacing what the row was filed under before.
    pub fn insert(&mut self, row: u64, record: &Value) {
        self.remove(row);
        let mut keys = Vec::new();
        for (p, path) in self.paths.iter().enumerate() {
            let mut values = Vec::new();
            strings_at(record, &path.split('.').collect::<Vec<_>>(), &mut values);
            for value in values {
                let folded = fold(value);
                if self.by_value[p].entry(folded.clone()).or_default().insert(row) {
                    keys.push((p, folded));
                }
            }
        }
        if !keys.is_empty() {
            self.filed.insert(row, keys);
        }
    }

    pub fn remove(&mut self, row: u64) {
        for (p, folded) in self.filed.remove(&row).unwrap_or_default() {
            if let Some(rows) = self.by_value[p].get_mut(&folded) {
                rows.remove(&row);
                if rows.is_empty() {
                    self.by_value[p].remove(&folded);
                }
            }
        }
    }

    /// Rows that may satisfy `probe`, or None when its path is not indexed.
    pub fn lookup(&self, probe: Probe<'_>) -> Option<BTreeSet<u64>> {
        let p = self.paths.iter().position(|path| path.eq_ignore_ascii_case(probe.path))?;
        let wanted = fold(probe.value);
        let values = &self.by_value[p];
        let rows = if probe.prefix {
            values.range(wanted.clone()..).take_while(|(value, _)| value.starts_with(&wanted)).flat_map(|(_, rows)| rows).copied().collect()
        } else {
            values.get(&wanted).cloned().unwrap_or_default()
        };
        Some(rows)
    }
}

/// Lower case, character by character: unlike `str::to_lowercase` (whose final sigma
/// depends on what follows), folding a prefix gives a prefix of the folded whole, which
/// `sw` lookups rely on.
fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Every string at `segments`, matching attribute names in any case and looking into
/// arrays, as the filter does; a superset of what any spelling of the path resolves to.
fn strings_at<'a>(value: &'a Value, segments: &[&str], out: &mut Vec<&'a str>) {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    for item in items {
        match (segments.split_first(), item) {
            (None, Value::String(text)) => out.push(text),
            (None, _) => {}
            (Some((first, rest)), Value::Object(object)) => {
                for (_, child) in object.iter().filter(|(key, _)| key.eq_ignore_ascii_case(first)) {
                    strings_at(child, rest, out);
                }
            }
            (Some(_), _) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PATHS: &[&str] = &["username", "name.given"];

    fn probe(path: &'static str, prefix: bool, value: &'static str) -> Probe<'static> {
        Probe { path, prefix, value }
    }

    fn rows(index: &ValueIndex, p: Probe<'_>) -> Vec<u64> {
        index.lookup(p).expect("an indexed path").into_iter().collect()
    }

    #[test]
    fn finds_by_exact_value_and_prefix_in_any_case() {
        let mut index = ValueIndex::new(PATHS);
        index.insert(1, &json!({ "username": "Mary.Smith", "name": { "given": "Mary" } }));
        index.insert(2, &json!({ "username": "mark.jones", "name": { "given": "Mark" } }));
        index.insert(3, &json!({ "username": "ann", "name": [{ "given": "Annie" }, { "given": "Mary" }] }));
        assert_eq!(rows(&index, probe("username", false, "mary.smith")), vec![1]);
        assert_eq!(rows(&index, probe("USERNAME", false, "MARY.SMITH")), vec![1]);
        assert_eq!(rows(&index, probe("username", true, "MAR")), vec![1, 2]);
        assert_eq!(rows(&index, probe("username", true, "")), vec![1, 2, 3]);
        assert_eq!(rows(&index, probe("Name.Given", false, "mary")), vec![1, 3], "array elements are filed too");
        assert_eq!(index.lookup(probe("email", false, "x")), None, "email is not indexed here");
    }

    #[test]
    fn files_every_spelling_of_an_attribute() {
        let mut index = ValueIndex::new(PATHS);
        index.insert(1, &json!({ "username": "a", "UserName": "b" }));
        assert_eq!(rows(&index, probe("username", false, "b")), vec![1]);
        assert_eq!(rows(&index, probe("username", false, "a")), vec![1]);
    }

    #[test]
    fn replacing_and_removing_a_row_unfiles_its_old_values() {
        let mut index = ValueIndex::new(PATHS);
        index.insert(1, &json!({ "username": "old" }));
        index.insert(1, &json!({ "username": "new" }));
        assert!(rows(&index, probe("username", false, "old")).is_empty());
        assert_eq!(rows(&index, probe("username", false, "new")), vec![1]);
        index.remove(1);
        assert!(rows(&index, probe("username", true, "")).is_empty());
        assert!(index.filed.is_empty() && index.by_value.iter().all(BTreeMap::is_empty), "nothing left behind");
    }

    #[test]
    fn folding_keeps_prefixes() {
        // str::to_lowercase turns a final capital sigma into ς but a medial one into σ.
        assert!(fold("ΟΔΟΣΣ").starts_with(&fold("ΟΔΟΣ")));
    }
}
