//! Finding actions for a need: BM25 over each action's id, title, group,
//! description and parameter names, with a few identity-admin synonyms.

use std::collections::HashMap;

use crate::catalog::{Action, Catalog};

/// BM25 constants (the usual defaults).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Words an admin uses for what PingOne names differently.
const SYNONYMS: [(&str, &str); 12] = [
    ("disable", "enabled"),
    ("enable", "enabled"),
    ("deactivate", "enabled"),
    ("remove", "delete"),
    ("add", "create"),
    ("member", "group"),
    ("membership", "group"),
    ("rotate", "secret"),
    ("mfa", "device"),
    ("idp", "identity"),
    ("sso", "sign"),
    ("admin", "role"),
];

#[derive(Debug, Clone)]
struct Document {
    id: String,
    terms: HashMap<String, f64>,
    length: f64,
}

#[derive(Debug, Clone)]
pub struct SearchIndex {
    documents: Vec<Document>,
    document_frequency: HashMap<String, usize>,
    average_length: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

impl SearchIndex {
    pub fn new(catalog: &Catalog) -> Self {
        let documents: Vec<Document> = catalog.actions().map(document).collect();
        let mut document_frequency = HashMap::new();
        for doc in &documents {
            for term in doc.terms.keys() {
                *document_frequency.entry(term.clone()).or_insert(0) += 1;
            }
        }
        let average_length = documents.iter().map(|d| d.length).sum::<f64>() / documents.len().max(1) as f64;
        Self { documents, document_frequency, average_length }
    }

    /// The best `limit` actions for `query`, best first; ties keep catalog order.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let query_terms = expand(tokens(query));
        let n = self.documents.len() as f64;
        let mut hits: Vec<Hit> = self
            .documents
            .iter()
            .filter_map(|doc| {
                let score: f64 = query_terms
                    .iter()
                    .filter_map(|term| {
                        let tf = *doc.terms.get(term)?;
                        let df = *self.document_frequency.get(term)? as f64;
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        Some(idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * doc.length / self.average_length)))
                    })
                    .sum();
                (score > 0.0).then(|| Hit { id: doc.id.clone(), score })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    }
}

fn document(action: &Action) -> Document {
    let mut terms: HashMap<String, f64> = HashMap::new();
    let mut add = |text: &str, weight: f64| {
        for token in tokens(text) {
            *terms.entry(token).or_insert(0.0) += weight;
        }
    };
    add(&action.id, 3.0);
    add(&action.title, 2.0);
    add(&action.group, 2.0);
    add(&action.description, 1.0);
    for param in &action.params {
        add(&param.name, 0.5);
    }
    let length = terms.values().sum();
    Document { id: action.id.clone(), terms, length }
}

fn expand(mut terms: Vec<String>) -> Vec<String> {
    let extra: Vec<String> = terms
        .iter()
        .filter_map(|t| SYNONYMS.iter().find(|(word, _)| stem(word) == *t).map(|(_, target)| stem(target)))
        .collect();
    terms.extend(extra);
    terms.sort();
    terms.dedup();
    terms
}

/// Lower-case words, split on punctuation, snake_case and camelCase, lightly stemmed.
pub fn tokens(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_numeric();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.into_iter().filter(|w| w.len() > 1 && !STOP_WORDS.contains(&w.as_str())).map(|w| stem(&w)).collect()
}

const STOP_WORDS: [&str; 16] = ["the", "an", "and", "or", "of", "to", "in", "for", "on", "with", "by", "is", "it", "be", "as", "at"];

fn stem(word: &str) -> String {
    let word = word.to_lowercase();
    if ["ss", "us", "is"].iter().any(|end| word.ends_with(end)) {
        return word;
    }
    for suffix in ["ies", "es", "s", "ing", "ed"] {
        if word.len() > suffix.len() + 3 && word.ends_with(suffix) {
            let base = &word[..word.len() - suffix.len()];
            return if suffix == "ies" { format!("{base}y") } else { base.to_owned() };
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_ids_and_camel_case() {
        assert_eq!(tokens("update_user_enabled_status"), ["update", "user", "enabl", "status"]);
        assert_eq!(tokens("memberOfGroups"), ["member", "group"]);
    }

    #[test]
    fn finds_the_obvious_action_first() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        for (query, expected) in [
            ("disable a user", "update_user_enabled_status"),
            ("rotate application secret", "generate_application_secret"),
            ("list users", "list_users"),
            ("add user to group", "add_user_to_group"),
        ] {
            let hits = index.search(query, 5);
            assert!(hits.iter().any(|h| h.id == expected), "{query}: {hits:?}");
        }
    }
}
