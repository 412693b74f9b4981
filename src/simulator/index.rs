//! A value index over some string attributes of a table (username, email, names), so
//! an `eq` or `sw` filter on them reads the few records that can match instead of
//! testing all of them: with 10,000 users a full scan costs milliseconds, mostly in
//! cache misses on each record's keys.
//!
//! The index only narrows: it files each value case-folded, under every key that
//! spells the attribute in any case, so what it returns is a superset of what the
//! filter accepts, and the filter itself still decides (see `Filter::candidates`).
//! Whether values compare case-sensitively stays the filter's business.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::scim_filter::Probe;

#[derive(Debug)]
pub struct ValueIndex {
    /// Dotted attribute paths, e.g. `name.given`, as probes name them.
    paths: &'static [&'static str],
    /// The same paths split at the dots.
    segments: Vec<Vec<&'static str>>,
    /// Per path: (folded value, row) for every string value a row holds there. One
    /// ordered set per path, so filing a record costs one insertion per value.
    entries: Vec<BTreeSet<(String, u64)>>,
}

impl ValueIndex {
    pub fn new(paths: &'static [&'static str]) -> Self {
        let segments = paths.iter().map(|p| p.split('.').collect()).collect();
        Self { paths, segments, entries: vec![BTreeSet::new(); paths.len()] }
    }

    /// An index of `rows` built at once: sorting all values then loading them in order
    /// is several times cheaper than inserting them one by one.
    pub fn build<'a>(paths: &'static [&'static str], rows: impl Iterator<Item = (u64, &'a Value)>) -> Self {
        let mut index = Self::new(paths);
        let mut all: Vec<Vec<(String, u64)>> = vec![Vec::new(); paths.len()];
        for (row, record) in rows {
            for (segments, values) in index.segments.iter().zip(&mut all) {
                for_each_string(record, segments, &mut |value| values.push((fold(value), row)));
            }
        }
        for (entries, mut values) in index.entries.iter_mut().zip(all) {
            values.sort_unstable();
            *entries = values.into_iter().collect();
        }
        index
    }

    /// Files `record`'s values under row `row`.
    pub fn insert(&mut self, row: u64, record: &Value) {
        for (segments, entries) in self.segments.iter().zip(&mut self.entries) {
            for_each_string(record, segments, &mut |value| {
                entries.insert((fold(value), row));
            });
        }
    }

    /// Unfiles row `row`, which held `record` (as filed).
    pub fn remove(&mut self, row: u64, record: &Value) {
        for (segments, entries) in self.segments.iter().zip(&mut self.entries) {
            for_each_string(record, segments, &mut |value| {
                entries.remove(&(fold(value), row));
            });
        }
    }

    /// Rows that may satisfy `probe`, or None when its path is not indexed.
    pub fn lookup(&self, probe: Probe<'_>) -> Option<BTreeSet<u64>> {
        let p = self.paths.iter().position(|path| path.eq_ignore_ascii_case(probe.path))?;
        let wanted = fold(probe.value);
        let from = self.entries[p].range((wanted.clone(), 0)..);
        let rows = if probe.prefix {
            from.take_while(|(value, _)| value.starts_with(&wanted)).map(|(_, row)| *row).collect()
        } else {
            from.take_while(|(value, _)| *value == wanted).map(|(_, row)| *row).collect()
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

/// Calls `found` with every string at `segments`, matching attribute names in any case
/// and looking into arrays, as the filter does: a superset of what any spelling of
/// the path resolves to.
fn for_each_string(value: &Value, segments: &[&str], found: &mut dyn FnMut(&str)) {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    for item in items {
        match (segments.split_first(), item) {
            (None, Value::String(text)) => found(text),
            (None, _) => {}
            (Some((first, rest)), Value::Object(object)) => {
                for (_, child) in object.iter().filter(|(key, _)| key.eq_ignore_ascii_case(first)) {
                    for_each_string(child, rest, found);
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
    fn removing_a_row_unfiles_its_values() {
        let mut index = ValueIndex::new(PATHS);
        let old = json!({ "username": "old", "name": { "given": "Ann" } });
        index.insert(1, &old);
        index.insert(2, &json!({ "username": "older" }));
        index.remove(1, &old);
        assert_eq!(rows(&index, probe("username", true, "old")), vec![2]);
        assert!(rows(&index, probe("name.given", true, "")).is_empty());
        index.remove(2, &json!({ "username": "older" }));
        assert!(index.entries.iter().all(BTreeSet::is_empty), "nothing left behind");
    }

    #[test]
    fn folding_keeps_prefixes() {
        // str::to_lowercase turns a final capital sigma into ς but a medial one into σ.
        assert!(fold("ΟΔΟΣΣ").starts_with(&fold("ΟΔΟΣ")));
    }
}
