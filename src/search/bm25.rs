//! Okapi BM25 over weighted fields: each action is one document whose term
//! frequencies count a word once per occurrence times the weight of its field
//! (the id counts more than the description). Postings lists keep a query's cost
//! to the documents that hold its terms.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    /// Term-frequency saturation (usually 1.2); length normalisation `b` is folded
    /// into `norms`.
    k1: f64,
    /// Each term's postings: the documents that hold it, with its weighted frequency.
    postings: HashMap<String, Vec<(usize, f64)>>,
    /// Each document's length normalisation, `k1 * (1 - b + b * length / average)`.
    norms: Vec<f64>,
}

/// A document under construction: terms added field by field.
#[derive(Debug, Default)]
pub struct DocumentBuilder {
    terms: HashMap<String, f64>,
}

impl DocumentBuilder {
    pub fn add(&mut self, terms: impl IntoIterator<Item = String>, weight: f64) {
        for term in terms {
            *self.terms.entry(term).or_insert(0.0) += weight;
        }
    }
}

impl Bm25 {
    pub fn new(builders: Vec<DocumentBuilder>, k1: f64, b: f64) -> Self {
        let lengths: Vec<f64> = builders.iter().map(|d| d.terms.values().sum()).collect();
        let average_length = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
        let norms = lengths.iter().map(|length| k1 * (1.0 - b + b * length / average_length)).collect();
        let mut postings: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
        for (doc, builder) in builders.into_iter().enumerate() {
            for (term, tf) in builder.terms {
                postings.entry(term).or_default().push((doc, tf));
            }
        }
        Self { k1, postings, norms }
    }

    /// Whether any document holds `term`.
    pub fn knows(&self, term: &str) -> bool {
        self.postings.contains_key(term)
    }

    /// The score of every document, in order, for weighted query terms.
    pub fn scores(&self, query: &[(String, f64)]) -> Vec<f64> {
        let n = self.norms.len() as f64;
        let mut scores = vec![0.0; self.norms.len()];
        for (term, weight) in query {
            let Some(postings) = self.postings.get(term) else { continue };
            let df = postings.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in postings {
                scores[doc] += weight * idf * tf * (self.k1 + 1.0) / (tf + self.norms[doc]);
            }
        }
        scores
    }
}
